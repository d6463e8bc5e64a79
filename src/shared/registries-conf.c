/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "json-util.h"
#include "macro.h"
#include "names.h"
#include "registries-conf.h"
#include "util.h"

/* ---- A strict parser for the TOML that registries.conf files use ---------------------------- */

typedef enum TomlType {
        TOML_STRING,
        TOML_BOOL,
        TOML_ARRAY, /* of strings */
        TOML_TABLE, /* keys[i] = items[i] */
        TOML_TABLE_ARRAY, /* [[name]]: items are tables */
} TomlType;

typedef struct Toml Toml;
struct Toml {
        TomlType type;
        bool boolean;
        bool defined; /* a table that had its own [header] */
        char *string;
        char **keys;
        Toml **items;
        size_t n;
};

static Toml *toml_free(Toml *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n; i++) {
                if (t->keys)
                        free(t->keys[i]);
                toml_free(t->items[i]);
        }
        free(t->keys);
        free(t->items);
        free(t->string);
        free(t);
        return NULL;
}

static void toml_freep(Toml **t) {
        toml_free(*t);
}

static Toml *toml_new(TomlType type) {
        Toml *t = calloc(1, sizeof(Toml));
        if (t)
                t->type = type;
        return t;
}

static Toml *toml_get(const Toml *table, const char *key) {
        for (size_t i = 0; table && i < table->n; i++)
                if (streq(table->keys[i], key))
                        return table->items[i];
        return NULL;
}

/* Appends item (and key, for a table), taking both on success. */
static int toml_append(Toml *t, char *key, Toml *item);

/* A new empty table (or array of tables) under *key of t; takes the key. */
static int toml_add_child(Toml *t, char **key, TomlType type, Toml **ret) {
        Toml *child = toml_new(type);
        if (!child)
                return -ENOMEM;
        int r = toml_append(t, *key, child);
        if (r < 0) {
                toml_free(child);
                return r;
        }
        *key = NULL;
        *ret = child;
        return 0;
}

static int toml_append(Toml *t, char *key, Toml *item) {
        Toml **items = reallocarray(t->items, t->n + 1, sizeof(Toml *));
        if (!items)
                return -ENOMEM;
        t->items = items;
        if (t->type == TOML_TABLE) {
                char **keys = reallocarray(t->keys, t->n + 1, sizeof(char *));
                if (!keys)
                        return -ENOMEM;
                t->keys = keys;
                t->keys[t->n] = key;
        }
        t->items[t->n++] = item;
        return 0;
}

typedef struct TomlParser {
        const char *p, *end;
        unsigned line;
        const char *error; /* a static sentence */
} TomlParser;

static int toml_fail(TomlParser *tp, const char *what) {
        if (!tp->error)
                tp->error = what;
        return -EBADMSG;
}

static bool toml_eof(const TomlParser *tp) {
        return tp->p >= tp->end;
}

static void toml_skip_ws(TomlParser *tp) {
        while (!toml_eof(tp) && (*tp->p == ' ' || *tp->p == '\t'))
                tp->p++;
}

/* Whitespace, then a comment, then the end of the line (or of the input). */
static int toml_end_of_line(TomlParser *tp) {
        toml_skip_ws(tp);
        if (!toml_eof(tp) && *tp->p == '#')
                while (!toml_eof(tp) && *tp->p != '\n') {
                        unsigned char c = (unsigned char) *tp->p;
                        if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
                                return toml_fail(tp, "control character in a comment");
                        if (c == '\r' && (tp->p + 1 >= tp->end || tp->p[1] != '\n'))
                                return toml_fail(tp, "control character in a comment");
                        tp->p++;
                }
        if (toml_eof(tp))
                return 0;
        if (*tp->p == '\r')
                tp->p++;
        if (toml_eof(tp) || *tp->p != '\n')
                return toml_fail(tp, "expected the end of the line");
        tp->p++;
        tp->line++;
        return 0;
}

/* Whitespace, newlines and comments, as arrays may have between their elements. */
static int toml_skip_ws_nl(TomlParser *tp) {
        for (;;) {
                toml_skip_ws(tp);
                if (toml_eof(tp) || !strchr("#\r\n", *tp->p))
                        return 0;
                int r = toml_end_of_line(tp);
                if (r < 0)
                        return r;
        }
}

static int utf8_put(char *buf, size_t *n, uint32_t cp) {
        if (cp < 0x80)
                buf[(*n)++] = (char) cp;
        else if (cp < 0x800) {
                buf[(*n)++] = (char) (0xc0 | (cp >> 6));
                buf[(*n)++] = (char) (0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
                buf[(*n)++] = (char) (0xe0 | (cp >> 12));
                buf[(*n)++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                buf[(*n)++] = (char) (0x80 | (cp & 0x3f));
        } else {
                buf[(*n)++] = (char) (0xf0 | (cp >> 18));
                buf[(*n)++] = (char) (0x80 | ((cp >> 12) & 0x3f));
                buf[(*n)++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                buf[(*n)++] = (char) (0x80 | (cp & 0x3f));
        }
        return 0;
}

/* A single-line basic ("...") or literal ('...') string, at its opening quote. */
static int toml_parse_string(TomlParser *tp, char **ret) {
        char quote = *tp->p;
        const char *start = ++tp->p;
        size_t n = 0;

        if (tp->end - start >= 2 && start[0] == quote && start[1] == quote)
                return toml_fail(tp, "multi-line strings are not supported");
        /* The result is never longer than the source. */
        const char *close = start;
        while (close < tp->end && *close != quote && *close != '\n') {
                if (quote == '"' && *close == '\\' && close + 1 < tp->end && close[1] != '\n')
                        close++;
                close++;
        }
        if (close >= tp->end || *close != quote)
                return toml_fail(tp, "unterminated string");

        _cleanup_free_ char *buf = malloc((size_t) (close - start) + 1);
        if (!buf)
                return -ENOMEM;
        while (tp->p < close) {
                unsigned char c = (unsigned char) *tp->p;
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return toml_fail(tp, "control character in a string");
                if (c != '\\' || quote == '\'') {
                        buf[n++] = (char) c;
                        tp->p++;
                        continue;
                }
                char e = tp->p[1];
                tp->p += 2;
                static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
                const char *k = e ? strchr(from, e) : NULL;
                if (k) {
                        buf[n++] = to[k - from];
                        continue;
                }
                size_t digits = e == 'u' ? 4 : e == 'U' ? 8 : 0;
                if (digits == 0 || (size_t) (close - tp->p) < digits)
                        return toml_fail(tp, "invalid escape sequence in a string");
                uint32_t cp = 0;
                for (size_t i = 0; i < digits; i++) {
                        int v = unhexchar(tp->p[i]);
                        if (v < 0)
                                return toml_fail(tp, "invalid escape sequence in a string");
                        cp = cp << 4 | (uint32_t) v;
                }
                tp->p += digits;
                /* A \u escape is at most 6 source bytes for at most 3 output bytes, \U 10 for 4. */
                if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return toml_fail(tp, "invalid escape sequence in a string");
                utf8_put(buf, &n, cp);
        }
        buf[n] = 0;
        tp->p = close + 1;
        *ret = TAKE_PTR(buf);
        return 0;
}

static bool is_bare_key_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int toml_parse_key(TomlParser *tp, char **ret) {
        if (toml_eof(tp))
                return toml_fail(tp, "expected a key");
        if (*tp->p == '"' || *tp->p == '\'')
                return toml_parse_string(tp, ret);
        const char *start = tp->p;
        while (!toml_eof(tp) && is_bare_key_char(*tp->p))
                tp->p++;
        if (tp->p == start)
                return toml_fail(tp, "expected a key");
        *ret = strndup(start, (size_t) (tp->p - start));
        return *ret ? 0 : -ENOMEM;
}

static int toml_parse_value(TomlParser *tp, Toml **ret) {
        _cleanup_(toml_freep) Toml *v = NULL;
        int r;

        if (toml_eof(tp))
                return toml_fail(tp, "expected a value");
        if (*tp->p == '"' || *tp->p == '\'') {
                if (!(v = toml_new(TOML_STRING)))
                        return -ENOMEM;
                r = toml_parse_string(tp, &v->string);
                if (r < 0)
                        return r;
        } else if (tp->end - tp->p >= 4 && strncmp(tp->p, "true", 4) == 0) {
                if (!(v = toml_new(TOML_BOOL)))
                        return -ENOMEM;
                v->boolean = true;
                tp->p += 4;
        } else if (tp->end - tp->p >= 5 && strncmp(tp->p, "false", 5) == 0) {
                if (!(v = toml_new(TOML_BOOL)))
                        return -ENOMEM;
                tp->p += 5;
        } else if (*tp->p == '[') {
                if (!(v = toml_new(TOML_ARRAY)))
                        return -ENOMEM;
                tp->p++;
                for (;;) {
                        r = toml_skip_ws_nl(tp);
                        if (r < 0)
                                return r;
                        if (!toml_eof(tp) && *tp->p == ']')
                                break;
                        if (toml_eof(tp) || (*tp->p != '"' && *tp->p != '\''))
                                return toml_fail(tp, "arrays may only hold strings");
                        _cleanup_(toml_freep) Toml *s = toml_new(TOML_STRING);
                        if (!s)
                                return -ENOMEM;
                        r = toml_parse_string(tp, &s->string);
                        if (r < 0)
                                return r;
                        r = toml_append(v, NULL, s);
                        if (r < 0)
                                return r;
                        TAKE_PTR(s);
                        r = toml_skip_ws_nl(tp);
                        if (r < 0)
                                return r;
                        if (!toml_eof(tp) && *tp->p == ',') {
                                tp->p++;
                                continue;
                        }
                        if (toml_eof(tp) || *tp->p != ']')
                                return toml_fail(tp, "expected ',' or ']' in an array");
                        break;
                }
                tp->p++;
        } else
                return toml_fail(tp, "unsupported value (only strings, booleans and arrays of strings)");
        /* "trueish" is no boolean. */
        if (!toml_eof(tp) && is_bare_key_char(*tp->p))
                return toml_fail(tp, "unsupported value (only strings, booleans and arrays of strings)");
        *ret = TAKE_PTR(v);
        return 0;
}

/* [a.b.c] or [[a.b.c]], at the first '['; *current becomes the table that key/values go to. */
static int toml_parse_header(TomlParser *tp, Toml *root, Toml **current) {
        bool array = tp->end - tp->p >= 2 && tp->p[1] == '[';
        Toml *t = root;
        int r;

        tp->p += array ? 2 : 1;
        for (;;) {
                _cleanup_free_ char *key = NULL;

                toml_skip_ws(tp);
                r = toml_parse_key(tp, &key);
                if (r < 0)
                        return r;
                toml_skip_ws(tp);
                bool last = toml_eof(tp) || *tp->p != '.';
                Toml *next = toml_get(t, key);

                if (!last) {
                        tp->p++;
                        if (!next && (r = toml_add_child(t, &key, TOML_TABLE, &next)) < 0)
                                return r;
                        else if (next->type == TOML_TABLE_ARRAY)
                                next = next->items[next->n - 1];
                        else if (next->type != TOML_TABLE)
                                return toml_fail(tp, "a table header names a key that is no table");
                        t = next;
                        continue;
                }

                if (array) {
                        if (next && next->type != TOML_TABLE_ARRAY)
                                return toml_fail(tp, "an array of tables reuses the name of another key");
                        if (!next && (r = toml_add_child(t, &key, TOML_TABLE_ARRAY, &next)) < 0)
                                return r;
                        Toml *element = toml_new(TOML_TABLE);
                        if (!element)
                                return -ENOMEM;
                        element->defined = true;
                        r = toml_append(next, NULL, element);
                        if (r < 0) {
                                toml_free(element);
                                return r;
                        }
                        t = element;
                } else {
                        if (next && next->type == TOML_TABLE_ARRAY)
                                return toml_fail(tp, "a table is defined twice");
                        if (next && next->type != TOML_TABLE)
                                return toml_fail(tp, "a table header names a key that is no table");
                        if (next && next->defined)
                                return toml_fail(tp, "a table is defined twice");
                        if (!next && (r = toml_add_child(t, &key, TOML_TABLE, &next)) < 0)
                                return r;
                        next->defined = true;
                        t = next;
                }
                break;
        }
        if (toml_eof(tp) || *tp->p != ']' || (array && (tp->end - tp->p < 2 || tp->p[1] != ']')))
                return toml_fail(tp, "expected the end of a table header");
        tp->p += array ? 2 : 1;
        *current = t;
        return toml_end_of_line(tp);
}

static int toml_parse_line(TomlParser *tp, Toml *root, Toml **current) {
        _cleanup_free_ char *key = NULL;
        _cleanup_(toml_freep) Toml *v = NULL;
        int r;

        toml_skip_ws(tp);
        if (toml_eof(tp) || strchr("#\r\n", *tp->p))
                return toml_end_of_line(tp);
        if (*tp->p == '[')
                return toml_parse_header(tp, root, current);

        r = toml_parse_key(tp, &key);
        if (r < 0)
                return r;
        toml_skip_ws(tp);
        if (!toml_eof(tp) && *tp->p == '.')
                return toml_fail(tp, "dotted keys are not supported");
        if (toml_eof(tp) || *tp->p != '=')
                return toml_fail(tp, "expected '=' after a key");
        tp->p++;
        toml_skip_ws(tp);
        r = toml_parse_value(tp, &v);
        if (r < 0)
                return r;
        if (toml_get(*current, key))
                return toml_fail(tp, "a key is defined twice");
        r = toml_append(*current, key, v);
        if (r < 0)
                return r;
        TAKE_PTR(key);
        TAKE_PTR(v);
        return toml_end_of_line(tp);
}

static bool utf8_is_valid(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s, *end = p + len;

        while (p < end) {
                size_t n;
                uint32_t cp, min;
                if (*p < 0x80) {
                        if (*p == 0)
                                return false;
                        p++;
                        continue;
                }
                if ((*p & 0xe0) == 0xc0)
                        n = 1, cp = *p & 0x1f, min = 0x80;
                else if ((*p & 0xf0) == 0xe0)
                        n = 2, cp = *p & 0x0f, min = 0x800;
                else if ((*p & 0xf8) == 0xf0)
                        n = 3, cp = *p & 0x07, min = 0x10000;
                else
                        return false;
                if ((size_t) (end - p) <= n)
                        return false;
                for (size_t i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                p += n + 1;
        }
        return true;
}

static int toml_parse(const char *text, size_t len, Toml **ret, unsigned *ret_line, const char **ret_error) {
        _cleanup_(toml_freep) Toml *root = toml_new(TOML_TABLE);
        TomlParser tp = { .p = text, .end = text + len, .line = 1 };
        Toml *current;
        int r = 0;

        if (!root)
                return -ENOMEM;
        current = root;
        if (!utf8_is_valid(text, len))
                r = toml_fail(&tp, "not UTF-8 text");
        while (r >= 0 && !toml_eof(&tp))
                r = toml_parse_line(&tp, root, &current);
        if (r < 0) {
                *ret_line = tp.line;
                *ret_error = tp.error ?: "out of memory";
                return r;
        }
        *ret = TAKE_PTR(root);
        return 0;
}

/* ---- registries.conf ------------------------------------------------------------------------- */

typedef struct Registry {
        char *prefix; /* never empty: the location when the file had none */
        char *location; /* "" for a wildcard prefix without one */
        bool insecure, blocked;
} Registry;

typedef struct Alias {
        char *name, *value; /* value "" in a drop-in: removes an earlier alias */
} Alias;

typedef struct Cidr {
        int family;
        uint8_t addr[16];
        unsigned prefixlen;
} Cidr;

struct RegistriesConf {
        char **search;
        bool search_set;
        Alias *aliases;
        size_t n_aliases;
        Registry *registries;
        size_t n_registries;
        char *short_name_mode;
        char **insecure_hosts; /* daemon.json */
        Cidr *insecure_cidrs;
        size_t n_insecure_cidrs;
};

RegistriesConf *registries_conf_new(void) {
        return calloc(1, sizeof(RegistriesConf));
}

static void registry_done(Registry *r) {
        free(r->prefix);
        free(r->location);
}

static void alias_done(Alias *a) {
        free(a->name);
        free(a->value);
}

RegistriesConf *registries_conf_free(RegistriesConf *c) {
        if (!c)
                return NULL;
        strv_free(c->search);
        for (size_t i = 0; i < c->n_aliases; i++)
                alias_done(&c->aliases[i]);
        free(c->aliases);
        for (size_t i = 0; i < c->n_registries; i++)
                registry_done(&c->registries[i]);
        free(c->registries);
        free(c->short_name_mode);
        strv_free(c->insecure_hosts);
        free(c->insecure_cidrs);
        free(c);
        return NULL;
}

typedef struct ConfError {
        const char *key; /* the key the sentence is about, or NULL */
        const char *what;
} ConfError;

static int conf_fail(ConfError *e, const char *what) {
        e->what = what;
        return -EBADMSG;
}

static int conf_fail_key(ConfError *e, const char *key, const char *what) {
        e->key = key;
        return conf_fail(e, what);
}

/* A short name as an alias key: a reference without domain, tag or digest. */
static bool short_name_is_valid(const char *s) {
        _cleanup_(image_ref_done) ImageRef r = {};

        return !image_ref_is_qualified(s) && !strpbrk(s, ":@") && image_ref_parse(s, &r) == 0;
}

/* An alias' value: a fully qualified reference without tag or digest. */
static bool alias_value_is_valid(const char *s) {
        _cleanup_(image_ref_done) ImageRef r = {};

        if (!image_ref_is_qualified(s) || strchr(s, '@') || image_ref_parse(s, &r) < 0)
                return false;
        /* A ':' after the first '/' starts a tag (before it, a port). */
        const char *slash = strchr(s, '/');
        return !strchr(slash, ':');
}

/* "host[/path]" as registries.conf wants a prefix or location: no scheme, no tag or digest. */
static bool location_is_valid(const char *s) {
        return !isempty(s) && !strstr(s, "://") && !strpbrk(s, "@ \t") && s[strlen(s) - 1] != '/';
}

static int conf_get_string(const Toml *t, const char *key, const char **ret, ConfError *e) {
        Toml *v = toml_get(t, key);
        if (v && v->type != TOML_STRING)
                return conf_fail_key(e, key, "must be a string");
        *ret = v ? v->string : NULL;
        return 0;
}

static int conf_get_bool(const Toml *t, const char *key, bool *ret, ConfError *e) {
        Toml *v = toml_get(t, key);
        if (v && v->type != TOML_BOOL)
                return conf_fail_key(e, key, "must be a boolean");
        *ret = v && v->boolean;
        return 0;
}

static int conf_read_registry(const Toml *t, Registry *ret, ConfError *e) {
        const char *prefix, *location, *s;
        bool insecure, blocked, b;
        int r;

        if ((r = conf_get_string(t, "prefix", &prefix, e)) < 0 ||
            (r = conf_get_string(t, "location", &location, e)) < 0 ||
            (r = conf_get_bool(t, "insecure", &insecure, e)) < 0 ||
            (r = conf_get_bool(t, "blocked", &blocked, e)) < 0 ||
            (r = conf_get_bool(t, "mirror-by-digest-only", &b, e)) < 0)
                return r;
        if (isempty(prefix) && isempty(location))
                return conf_fail(e, "a [[registry]] has neither prefix nor location");
        bool wildcard = prefix && startswith(prefix, "*.");
        if (wildcard ? strchr(prefix, '/') || prefix[2] == 0 : !isempty(prefix) && !location_is_valid(prefix))
                return conf_fail(e, "a [[registry]] has an invalid prefix");
        if (!isempty(location) && !location_is_valid(location))
                return conf_fail(e, "a [[registry]] has an invalid location");
        if (wildcard && !isempty(location))
                return conf_fail(e, "a [[registry]] with a wildcard prefix has a location");

        /* Mirrors are checked, not used: berth pulls from the location. */
        Toml *mirrors = toml_get(t, "mirror");
        if (mirrors && mirrors->type != TOML_TABLE_ARRAY)
                return conf_fail(e, "\"mirror\" must be an array of tables");
        for (size_t i = 0; mirrors && i < mirrors->n; i++) {
                if ((r = conf_get_string(mirrors->items[i], "location", &s, e)) < 0 ||
                    (r = conf_get_bool(mirrors->items[i], "insecure", &b, e)) < 0 ||
                    (r = conf_get_string(mirrors->items[i], "pull-from-mirror", &s, e)) < 0)
                        return r;
                if ((r = conf_get_string(mirrors->items[i], "location", &s, e)) < 0)
                        return r;
                if (!location_is_valid(s))
                        return conf_fail(e, "a [[registry.mirror]] has no valid location");
        }

        *ret = (Registry){
                .prefix = strdup(isempty(prefix) ? location : prefix),
                .location = strdup(location ?: (wildcard ? "" : prefix)),
                .insecure = insecure,
                .blocked = blocked,
        };
        if (!ret->prefix || !ret->location) {
                registry_done(ret);
                return -ENOMEM;
        }
        return 0;
}

static ssize_t alias_find(const RegistriesConf *c, const char *name) {
        for (size_t i = 0; i < c->n_aliases; i++)
                if (streq(c->aliases[i].name, name))
                        return (ssize_t) i;
        return -1;
}

static ssize_t registry_find(const RegistriesConf *c, const char *prefix) {
        for (size_t i = 0; i < c->n_registries; i++)
                if (streq(c->registries[i].prefix, prefix))
                        return (ssize_t) i;
        return -1;
}

/* One file's content as a configuration of its own (aliases with "" kept, to remove on merging). */
static int conf_from_toml(const Toml *root, RegistriesConf *c, ConfError *e) {
        const char *mode;
        int r;

        Toml *search = toml_get(root, "unqualified-search-registries");
        if (search) {
                if (search->type != TOML_ARRAY)
                        return conf_fail(e, "\"unqualified-search-registries\" must be an array of strings");
                for (size_t i = 0; i < search->n; i++) {
                        if (!location_is_valid(search->items[i]->string))
                                return conf_fail(e, "\"unqualified-search-registries\" has an invalid registry");
                        r = strv_push(&c->search, search->items[i]->string);
                        if (r < 0)
                                return r;
                }
                c->search_set = true;
        }

        r = conf_get_string(root, "short-name-mode", &mode, e);
        if (r < 0)
                return r;
        if (mode) {
                if (!strv_contains(STRV_MAKE("enforcing", "permissive", "disabled"), mode))
                        return conf_fail(e,
                                         "\"short-name-mode\" must be \"enforcing\", \"permissive\" or \"disabled\"");
                if (!(c->short_name_mode = strdup(mode)))
                        return -ENOMEM;
        }

        Toml *aliases = toml_get(root, "aliases");
        if (aliases && aliases->type != TOML_TABLE)
                return conf_fail(e, "\"aliases\" must be a table");
        for (size_t i = 0; aliases && i < aliases->n; i++) {
                Toml *v = aliases->items[i];
                if (v->type != TOML_STRING)
                        return conf_fail_key(e, aliases->keys[i], "an alias must be a string");
                if (!short_name_is_valid(aliases->keys[i]))
                        return conf_fail_key(e, aliases->keys[i],
                                             "an alias must be a short name (no registry, tag or digest)");
                if (!isempty(v->string) && !alias_value_is_valid(v->string))
                        return conf_fail_key(e, aliases->keys[i],
                                             "an alias must name a fully qualified repository without tag or digest");
                Alias *a = reallocarray(c->aliases, c->n_aliases + 1, sizeof(Alias));
                if (!a)
                        return -ENOMEM;
                c->aliases = a;
                a[c->n_aliases] = (Alias){ .name = strdup(aliases->keys[i]), .value = strdup(v->string) };
                if (!a[c->n_aliases].name || !a[c->n_aliases].value) {
                        alias_done(&a[c->n_aliases]);
                        return -ENOMEM;
                }
                c->n_aliases++;
        }

        Toml *registries = toml_get(root, "registry");
        if (registries && registries->type != TOML_TABLE_ARRAY)
                return conf_fail(e, "\"registry\" must be an array of tables ([[registry]])");
        for (size_t i = 0; registries && i < registries->n; i++) {
                Registry reg;
                r = conf_read_registry(registries->items[i], &reg, e);
                if (r < 0)
                        return r;
                if (registry_find(c, reg.prefix) >= 0) {
                        registry_done(&reg);
                        return conf_fail(e, "two [[registry]] have the same prefix");
                }
                Registry *a = reallocarray(c->registries, c->n_registries + 1, sizeof(Registry));
                if (!a) {
                        registry_done(&reg);
                        return -ENOMEM;
                }
                c->registries = a;
                a[c->n_registries++] = reg;
        }
        return 0;
}

/* Moves what f sets over c. */
static void conf_merge(RegistriesConf *c, RegistriesConf *f) {
        if (f->search_set) {
                strv_free(c->search);
                c->search = TAKE_PTR(f->search);
                c->search_set = true;
        }
        if (f->short_name_mode) {
                free(c->short_name_mode);
                c->short_name_mode = TAKE_PTR(f->short_name_mode);
        }
        /* c's arrays can take f's elements without growing beyond the sum, reserved by the caller. */
        for (size_t i = 0; i < f->n_aliases; i++) {
                Alias *a = &f->aliases[i];
                ssize_t k = alias_find(c, a->name);
                if (k >= 0) {
                        alias_done(&c->aliases[k]);
                        c->aliases[k] = c->aliases[--c->n_aliases];
                }
                if (isempty(a->value))
                        alias_done(a);
                else
                        c->aliases[c->n_aliases++] = *a;
        }
        f->n_aliases = 0;
        for (size_t i = 0; i < f->n_registries; i++) {
                ssize_t k = registry_find(c, f->registries[i].prefix);
                if (k >= 0) {
                        registry_done(&c->registries[k]);
                        c->registries[k] = f->registries[i];
                } else
                        c->registries[c->n_registries++] = f->registries[i];
        }
        f->n_registries = 0;
}

static int conf_reserve(RegistriesConf *c, const RegistriesConf *f) {
        Alias *a = reallocarray(c->aliases, c->n_aliases + f->n_aliases + 1, sizeof(Alias));
        if (!a)
                return -ENOMEM;
        c->aliases = a;
        Registry *r = reallocarray(c->registries, c->n_registries + f->n_registries + 1, sizeof(Registry));
        if (!r)
                return -ENOMEM;
        c->registries = r;
        return 0;
}

static int set_error(char **ret_error, const char *format, ...) _printf_(2, 3);
static int set_error(char **ret_error, const char *format, ...) {
        va_list ap;
        char *s;

        if (!ret_error)
                return 0;
        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0)
                s = NULL;
        va_end(ap);
        free(*ret_error);
        *ret_error = s;
        return 0;
}

int registries_conf_parse(RegistriesConf *c, const char *text, size_t len, char **ret_error) {
        _cleanup_(toml_freep) Toml *root = NULL;
        _cleanup_(registries_conf_freep) RegistriesConf *f = NULL;
        ConfError e = {};
        const char *what;
        unsigned line;
        int r;

        r = toml_parse(text, len, &root, &line, &what);
        if (r == -EBADMSG)
                set_error(ret_error, "line %u: %s", line, what);
        if (r < 0)
                return r;
        f = registries_conf_new();
        if (!f)
                return -ENOMEM;
        r = conf_from_toml(root, f, &e);
        if (r == -EBADMSG && e.key)
                set_error(ret_error, "\"%s\": %s", e.key, e.what);
        else if (r == -EBADMSG)
                set_error(ret_error, "%s", e.what);
        if (r < 0)
                return r;
        r = conf_reserve(c, f);
        if (r < 0)
                return r;
        conf_merge(c, f);
        return 0;
}

/* ---- Docker's daemon.json -------------------------------------------------------------------- */

/* An IP address literal, IPv4-mapped IPv6 addresses as IPv4 (as Go's net.IP compares them). */
static bool parse_ip(const char *s, int *ret_family, uint8_t ret_addr[16]) {
        uint8_t a[16];

        if (inet_pton(AF_INET, s, a) == 1) {
                *ret_family = AF_INET;
                memcpy(ret_addr, a, 4);
                return true;
        }
        if (inet_pton(AF_INET6, s, a) != 1)
                return false;
        static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
        if (memcmp(a, mapped, sizeof(mapped)) == 0) {
                *ret_family = AF_INET;
                memcpy(ret_addr, a + 12, 4);
        } else {
                *ret_family = AF_INET6;
                memcpy(ret_addr, a, 16);
        }
        return true;
}

static int parse_cidr(const char *s, Cidr *ret) {
        _cleanup_free_ char *addr = NULL;
        const char *slash = strchr(s, '/');
        unsigned len = 0;

        if (!slash || !slash[1] || strlen(slash + 1) > 3)
                return -EINVAL;
        for (const char *p = slash + 1; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                len = len * 10 + (unsigned) (*p - '0');
        }
        addr = strndup(s, (size_t) (slash - s));
        if (!addr)
                return -ENOMEM;
        /* Go's ParseCIDR takes an IPv4-mapped address with an IPv6 prefix length; so does this. */
        uint8_t a[16];
        int family = inet_pton(AF_INET, addr, a) == 1 ? AF_INET : inet_pton(AF_INET6, addr, a) == 1 ? AF_INET6 : 0;
        if (family == 0 || len > (family == AF_INET ? 32u : 128u))
                return -EINVAL;
        *ret = (Cidr){ .family = family, .prefixlen = len };
        memcpy(ret->addr, a, family == AF_INET ? 4 : 16);
        if (family == AF_INET6 && parse_ip(addr, &family, a) && family == AF_INET) {
                if (len < 96)
                        return -EINVAL;
                *ret = (Cidr){ .family = AF_INET, .prefixlen = len - 96 };
                memcpy(ret->addr, a, 4);
        }
        return 0;
}

static bool cidr_contains(const Cidr *c, int family, const uint8_t addr[16]) {
        if (c->family != family)
                return false;
        unsigned bytes = c->prefixlen / 8, bits = c->prefixlen % 8;
        if (memcmp(c->addr, addr, bytes) != 0)
                return false;
        if (bits == 0)
                return true;
        uint8_t mask = (uint8_t) (0xff << (8 - bits));
        return (c->addr[bytes] & mask) == (addr[bytes] & mask);
}

/* "host[:port]" → its host (brackets removed), with a valid port if any. */
static int split_host_port(const char *s, char **ret_host) {
        const char *port = NULL, *host = s;
        size_t n;

        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || (close[1] && close[1] != ':'))
                        return -EINVAL;
                host = s + 1;
                n = (size_t) (close - host);
                port = close[1] ? close + 2 : NULL;
        } else {
                const char *colon = strchr(s, ':');
                if (colon && !strchr(colon + 1, ':')) {
                        n = (size_t) (colon - s);
                        port = colon + 1;
                } else
                        n = strlen(s); /* no port, or an IPv6 address alone */
        }
        if (port) {
                unsigned v = 0;
                if (!*port || strlen(port) > 5)
                        return -EINVAL;
                for (const char *p = port; *p; p++) {
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        v = v * 10 + (unsigned) (*p - '0');
                }
                if (v > 65535)
                        return -EINVAL;
        }
        if (n == 0)
                return -EINVAL;
        *ret_host = strndup(host, n);
        return *ret_host ? 0 : -ENOMEM;
}

/* Docker's validateHostPort, roughly: a host name (the reference grammar's), or an IP address, and
 * an optional port. */
static bool host_port_is_valid(const char *s) {
        _cleanup_free_ char *host = NULL;
        int family;
        uint8_t a[16];

        if (split_host_port(s, &host) < 0)
                return false;
        if (parse_ip(host, &family, a))
                return true;
        if (s[0] == '[')
                return false;
        for (const char *p = host; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                      *p == '.'))
                        return false;
        return host[0] != '.' && host[0] != '-' && !strstr(host, "..");
}

int registries_conf_parse_daemon_json(RegistriesConf *c, const char *text, size_t len, char **ret_error) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_strv_free_ char **hosts = NULL;
        _cleanup_free_ Cidr *cidrs = NULL;
        size_t n_cidrs = 0;
        int r;

        r = json_parse_buffer(text, len, &o);
        if (r < 0 || !json_object_is_type(o, json_type_object)) {
                set_error(ret_error, "not a JSON object");
                return -EBADMSG;
        }
        json_object *list = NULL;
        if (!json_object_object_get_ex(o, "insecure-registries", &list) || !list)
                return 0;
        if (!json_object_is_type(list, json_type_array)) {
                set_error(ret_error, "\"insecure-registries\" must be an array of strings");
                return -EBADMSG;
        }
        size_t n = json_object_array_length(list);
        cidrs = calloc(n + 1, sizeof(Cidr));
        if (!cidrs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(list, i);
                const char *s = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;
                if (!s) {
                        set_error(ret_error, "\"insecure-registries\" must be an array of strings");
                        return -EBADMSG;
                }
                if (strncasecmp(s, "http://", 7) == 0)
                        s += 7;
                else if (strncasecmp(s, "https://", 8) == 0)
                        s += 8;
                r = parse_cidr(s, &cidrs[n_cidrs]);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0) {
                        n_cidrs++;
                        continue;
                }
                if (strstr(s, "://") || !host_port_is_valid(s)) {
                        set_error(ret_error, "\"insecure-registries\" has an invalid entry, %zu", i + 1);
                        return -EBADMSG;
                }
                r = strv_push(&hosts, s);
                if (r < 0)
                        return r;
        }

        strv_free(c->insecure_hosts);
        c->insecure_hosts = TAKE_PTR(hosts);
        free(c->insecure_cidrs);
        c->insecure_cidrs = TAKE_PTR(cidrs);
        c->n_insecure_cidrs = n_cidrs;
        return 0;
}

/* ---- Loading --------------------------------------------------------------------------------- */

typedef int (*ParseFunc)(RegistriesConf *c, const char *text, size_t len, char **ret_error);

static int load_file(RegistriesConf *c, const char *path, ParseFunc parse, char **ret_error) {
        _cleanup_free_ char *text = NULL, *what = NULL;
        size_t len;
        int r;

        r = read_full_file(path, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                set_error(ret_error, "%s: %s", path, strerror(-r));
                return r;
        }
        r = parse(c, text, len, ret_error ? &what : NULL);
        if (r < 0 && ret_error)
                set_error(ret_error, "%s: %s", path, what ?: strerror(-r));
        return r;
}

static int conf_filter(const struct dirent *de) {
        return de->d_name[0] != '.' && endswith(de->d_name, ".conf");
}

static int bytewise_sort(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

int registries_conf_load_full(const char *root, RegistriesConf **ret, char **ret_error) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = registries_conf_new();
        _cleanup_free_ char *path = NULL, *dir = NULL, *daemon = NULL;
        struct dirent **names = NULL;
        int n, r;

        if (!c)
                return -ENOMEM;
        root = root ?: "";
        path = strjoin(root, "/etc/containers/registries.conf");
        dir = strjoin(root, "/etc/containers/registries.conf.d");
        daemon = strjoin(root, "/etc/docker/daemon.json");
        if (!path || !dir || !daemon)
                return -ENOMEM;

        r = load_file(c, path, registries_conf_parse, ret_error);
        if (r < 0)
                return r;

        n = scandir(dir, &names, conf_filter, bytewise_sort);
        if (n < 0 && errno != ENOENT && errno != ENOTDIR) {
                r = -errno;
                set_error(ret_error, "%s: %s", dir, strerror(errno));
                return r;
        }
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *p = strjoin(dir, "/", names[i]->d_name);
                struct stat st;

                if (!p)
                        r = -ENOMEM;
                else if (r >= 0 && stat(p, &st) == 0 && S_ISREG(st.st_mode))
                        r = load_file(c, p, registries_conf_parse, ret_error);
                free(names[i]);
        }
        free(names);
        if (r < 0)
                return r;

        r = load_file(c, daemon, registries_conf_parse_daemon_json, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- Using it -------------------------------------------------------------------------------- */

void image_ref_array_free(ImageRef *a, size_t n) {
        for (size_t i = 0; a && i < n; i++)
                image_ref_done(&a[i]);
        free(a);
}

static int push_candidate(ImageRef **a, size_t *n, const char *s) {
        ImageRef r;
        int k;

        k = image_ref_parse(s, &r);
        if (k == -EINVAL)
                return 0; /* a search registry that makes no valid reference of this name */
        if (k < 0)
                return k;
        ImageRef *b = reallocarray(*a, *n + 1, sizeof(ImageRef));
        if (!b) {
                image_ref_done(&r);
                return -ENOMEM;
        }
        *a = b;
        b[(*n)++] = r;
        return 0;
}

int image_ref_candidates(const RegistriesConf *c, const char *s, ImageRef **ret, size_t *ret_n) {
        _cleanup_free_ char *name = NULL;
        ImageRef *a = NULL;
        size_t n = 0;
        int r;

        r = image_reference_parse_full(s, &name, NULL, NULL);
        if (r < 0)
                return r;
        /* What follows the name as given: ":tag", "@digest" or both. */
        const char *suffix = s + strlen(name);

        if (image_ref_is_qualified(s))
                r = push_candidate(&a, &n, s);
        else {
                ssize_t k = c ? alias_find(c, name) : -1;
                if (k >= 0) {
                        _cleanup_free_ char *t = strjoin(c->aliases[k].value, suffix);
                        r = t ? push_candidate(&a, &n, t) : -ENOMEM;
                } else
                        for (char **reg = c ? c->search : NULL; reg && *reg && r >= 0; reg++) {
                                _cleanup_free_ char *t = strjoin(*reg, "/", s);
                                if (!t)
                                        r = -ENOMEM;
                                else if (image_ref_is_qualified(t))
                                        r = push_candidate(&a, &n, t);
                        }
                if (r >= 0 && n == 0)
                        r = push_candidate(&a, &n, s);
        }
        if (r >= 0 && n == 0)
                r = -EINVAL;
        if (r < 0) {
                image_ref_array_free(a, n);
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

/* containers/image's refMatchesPrefix, without its "example.com:5000" matching "example.com". */
static bool name_matches_prefix(const char *name, const char *prefix) {
        if (startswith(prefix, "*.")) {
                size_t n = strcspn(name, "/"), p = strlen(prefix + 1);
                return n > p && strncmp(name + n - p, prefix + 1, p) == 0;
        }
        const char *rest = startswith(name, prefix);
        return rest && (*rest == 0 || *rest == '/');
}

/* The [[registry]] with the longest prefix matching "domain[/path]". */
static const Registry *registry_for(const RegistriesConf *c, const char *name) {
        const Registry *best = NULL;

        for (size_t i = 0; c && i < c->n_registries; i++)
                if (name_matches_prefix(name, c->registries[i].prefix) &&
                    (!best || strlen(c->registries[i].prefix) > strlen(best->prefix)))
                        best = &c->registries[i];
        return best;
}

int registries_conf_pull_source(const RegistriesConf *c, const ImageRef *r, ImageRef *ret) {
        _cleanup_free_ char *name = image_ref_name(r), *s = NULL;

        if (!name)
                return -ENOMEM;
        const Registry *reg = registry_for(c, name);
        if (reg && reg->blocked)
                return -EACCES;
        if (!reg || isempty(reg->location) || streq(reg->location, reg->prefix))
                return image_ref_copy(r, ret);
        s = strjoin(reg->location, name + strlen(reg->prefix), r->tag ? ":" : "", r->tag ?: "", r->digest ? "@" : "",
                    r->digest ?: "");
        if (!s)
                return -ENOMEM;
        return image_ref_parse(s, ret);
}

static bool host_is_loopback(const char *host) {
        int family;
        uint8_t a[16];
        static const uint8_t v6_loopback[16] = { [15] = 1 };

        if (strcasecmp(host, "localhost") == 0)
                return true;
        if (!parse_ip(host, &family, a))
                return false;
        return family == AF_INET ? a[0] == 127 : memcmp(a, v6_loopback, 16) == 0;
}

bool registry_is_insecure(const RegistriesConf *c, const char *host) {
        _cleanup_free_ char *h = NULL;

        if (isempty(host) || split_host_port(host, &h) < 0)
                return false;
        if (streq(host, IMAGE_REF_DEFAULT_DOMAIN) || streq(host, IMAGE_REF_DEFAULT_HOST) ||
            streq(host, "index.docker.io"))
                return false;
        if (host_is_loopback(h))
                return true;
        if (!c)
                return false;

        const Registry *reg = registry_for(c, host);
        if (reg && reg->insecure)
                return true;
        for (size_t i = 0; i < c->n_registries; i++) {
                const char *loc = c->registries[i].location;
                size_t n = strcspn(loc, "/");
                if (c->registries[i].insecure && strlen(host) == n && strncmp(loc, host, n) == 0)
                        return true;
        }

        if (strv_contains(c->insecure_hosts, host))
                return true;
        int family;
        uint8_t a[16];
        if (parse_ip(h, &family, a))
                for (size_t i = 0; i < c->n_insecure_cidrs; i++)
                        if (cidr_contains(&c->insecure_cidrs[i], family, a))
                                return true;
        return false;
}
