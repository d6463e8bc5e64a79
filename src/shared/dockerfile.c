/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Dockerfile parser and Docker's word expansion (see dockerfile.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerfile.h"
#include "json-util.h"
#include "util.h"

static const char *const keywords[] = {
        "add",        "arg",     "cmd", "copy",  "entrypoint", "env",  "expose", "from",    "healthcheck", "label",
        "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir", NULL,
};

/* The instructions whose argument may be a JSON array (Docker's parseMaybeJSON and friends). */
static const char *const json_keywords[] = {
        "add", "cmd", "copy", "entrypoint", "run", "shell", "volume", NULL,
};

static bool in_list(const char *const *l, const char *s) {
        for (; *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

bool dockerfile_keyword_takes_flags(const char *keyword) {
        return streq(keyword, "from") || streq(keyword, "run") || streq(keyword, "copy") || streq(keyword, "add") ||
                streq(keyword, "healthcheck");
}

/* The flags each instruction takes (Docker's classic builder's, which berth implements). */
static bool flag_known(const char *keyword, const char *flag) {
        static const char *const known[][2] = {
                { "from", "platform" },
                { "copy", "from" },
                { "copy", "chown" },
                { "copy", "chmod" },
                { "add", "chown" },
                { "add", "chmod" },
                { "healthcheck", "interval" },
                { "healthcheck", "timeout" },
                { "healthcheck", "start-period" },
                { "healthcheck", "start-interval" },
                { "healthcheck", "retries" },
        };
        size_t n = strcspn(flag, "=");
        for (size_t k = 0; k < ELEMENTSOF(known); k++)
                if (streq(known[k][0], keyword) && strlen(known[k][1]) == n && strncmp(known[k][1], flag, n) == 0)
                        return true;
        return false;
}

static int fail(char **ret_error, unsigned line, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_error, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (ret_error) {
                free(*ret_error);
                if (line > 0 ? asprintf(ret_error, "line %u: %s", line, msg) < 0 : !(*ret_error = strdup(msg)))
                        return -ENOMEM;
        }
        return -EINVAL;
}

static void instruction_done(DockerfileInstruction *i) {
        free(i->keyword);
        free(i->original);
        free(i->rest);
        strv_free(i->flags);
        strv_free(i->json);
}

Dockerfile *dockerfile_free(Dockerfile *d) {
        if (!d)
                return NULL;
        for (size_t k = 0; k < d->n_instructions; k++)
                instruction_done(&d->instructions[k]);
        free(d->instructions);
        free(d->syntax);
        free(d);
        return NULL;
}

const char *dockerfile_flag(const DockerfileInstruction *i, const char *name) {
        size_t n = strlen(name);
        const char *found = NULL;
        for (char **f = i->flags; f && *f; f++)
                if (strncmp(*f + 2, name, n) == 0) {
                        if ((*f)[2 + n] == '=')
                                found = *f + 2 + n + 1;
                        else if ((*f)[2 + n] == 0)
                                found = "true";
                }
        return found;
}

static bool is_blank(const char *s, size_t n) {
        for (size_t k = 0; k < n; k++)
                if (!isspace((unsigned char) s[k]))
                        return false;
        return true;
}

static bool is_comment(const char *s, size_t n) {
        size_t k = 0;
        while (k < n && isspace((unsigned char) s[k]))
                k++;
        return k < n && s[k] == '#';
}

/* "# name=value" → 1 with name and value; 0 when the line is no directive. */
static int parse_directive(const char *s, size_t n, char **ret_name, char **ret_value) {
        size_t k = 0, a, b;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
                k++;
        if (k >= n || s[k] != '#')
                return 0;
        k++;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
                k++;
        for (a = k; k < n && (isalnum((unsigned char) s[k]) || s[k] == '_'); k++)
                ;
        if (k == a || !isalpha((unsigned char) s[a]))
                return 0;
        b = k;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
                k++;
        if (k >= n || s[k] != '=')
                return 0;
        k++;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
                k++;
        while (n > k && isspace((unsigned char) s[n - 1]))
                n--;
        *ret_name = strndup(s + a, b - a);
        *ret_value = strndup(s + k, n - k);
        if (!*ret_name || !*ret_value) {
                *ret_name = mfree(*ret_name);
                *ret_value = mfree(*ret_value);
                return -ENOMEM;
        }
        for (char *p = *ret_name; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        return 1;
}

/* Strip "ESC[ \t]*" at the end: returns true when the line continues. */
static bool trim_continuation(const char *s, size_t *n, char escape) {
        size_t m = *n;
        while (m > 0 && (s[m - 1] == ' ' || s[m - 1] == '\t'))
                m--;
        if (m > 0 && s[m - 1] == escape) {
                *n = m - 1;
                return true;
        }
        return false;
}

static int append(char **buf, size_t *len, const char *s, size_t n) {
        char *b = realloc(*buf, *len + n + 1);
        if (!b)
                return -ENOMEM;
        memcpy(b + *len, s, n);
        *len += n;
        b[*len] = 0;
        *buf = b;
        return 0;
}

/* A JSON array of strings → 1 and its strings; anything else → 0 (the shell form). */
static int parse_json_form(const char *s, char ***ret) {
        _cleanup_json_ json_object *a = NULL;
        _cleanup_strv_free_ char **l = NULL;

        if (*s != '[' || json_parse_buffer(s, strlen(s), &a) < 0 || !json_object_is_type(a, json_type_array))
                return 0;
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t k = 0; k < json_object_array_length(a); k++) {
                json_object *e = json_object_array_get_idx(a, k);
                if (!json_object_is_type(e, json_type_string))
                        return 0;
                if (strv_push(&l, json_object_get_string(e)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 1;
}

/* The raw word at *p (quotes kept, escapes kept), advancing *p past it. */
static char *raw_word(const char **p, char escape) {
        const char *s = *p, *start = s;
        char quote = 0;
        for (; *s; s++) {
                if (*s == escape && s[1] && quote != '\'') {
                        s++;
                        continue;
                }
                if (quote) {
                        if (*s == quote)
                                quote = 0;
                } else if (*s == '\'' || *s == '"')
                        quote = *s;
                else if (isspace((unsigned char) *s))
                        break;
        }
        *p = s;
        return strndup(start, (size_t) (s - start));
}

int dockerfile_split_raw(const char *text, char escape, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (const char *p = text;;) {
                while (isspace((unsigned char) *p))
                        p++;
                if (!*p)
                        break;
                _cleanup_free_ char *w = raw_word(&p, escape);
                if (!w || strv_push(&l, w) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int add_instruction(Dockerfile *d, const char *line, unsigned lineno, char **ret_error) {
        _cleanup_(instruction_done) DockerfileInstruction i = { .line = lineno };
        const char *p = line;
        size_t n;
        int r;

        while (isspace((unsigned char) *p))
                p++;
        n = strcspn(p, " \t\r\n\v\f");
        i.keyword = strndup(p, n);
        i.original = strdup(p);
        if (!i.keyword || !i.original)
                return -ENOMEM;
        for (char *k = i.keyword; *k; k++)
                *k = (char) tolower((unsigned char) *k);
        if (!in_list(keywords, i.keyword))
                return fail(ret_error, lineno, "unknown instruction: %.*s", (int) n, p);
        p += n;
        while (isspace((unsigned char) *p))
                p++;
        if (dockerfile_keyword_takes_flags(i.keyword))
                while (p[0] == '-' && p[1] == '-') {
                        _cleanup_free_ char *w = raw_word(&p, d->escape);
                        if (!w)
                                return -ENOMEM;
                        while (isspace((unsigned char) *p))
                                p++;
                        if (streq(w, "--"))
                                break;
                        if (!flag_known(i.keyword, w + 2))
                                return fail(ret_error, lineno,
                                            "unknown flag %.*s for %s (berth's builder does not support it)",
                                            (int) strcspn(w, "="), w, i.keyword);
                        if (strv_push(&i.flags, w) < 0)
                                return -ENOMEM;
                }
        n = strlen(p);
        while (n > 0 && isspace((unsigned char) p[n - 1]))
                n--;
        i.rest = strndup(p, n);
        if (!i.rest)
                return -ENOMEM;
        if (in_list(json_keywords, i.keyword) || streq(i.keyword, "healthcheck")) {
                const char *j = i.rest;
                if (streq(i.keyword, "healthcheck") && strncasecmp(j, "CMD", 3) == 0 && isspace((unsigned char) j[3]))
                        j += 3 + strspn(j + 3, " \t");
                if (streq(i.keyword, "healthcheck") && j == i.rest)
                        j = "";
                r = parse_json_form(j, &i.json);
                if (r < 0)
                        return r;
        }
        /* A heredoc's lines would read as instructions: say what it is instead. */
        if ((streq(i.keyword, "run") || streq(i.keyword, "copy") || streq(i.keyword, "add")) && !i.json) {
                const char *h = strstr(i.rest, "<<");
                if (h && (h == i.rest || isspace((unsigned char) h[-1]))) {
                        h += 2 + (h[2] == '-');
                        h += (*h == '"' || *h == '\'');
                        if (isalpha((unsigned char) *h) || *h == '_')
                                return fail(
                                        ret_error, lineno, "heredocs (<<%.*s) are not supported by berth's builder",
                                        (int) strspn(h,
                                                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"),
                                        h);
                }
        }
        if (streq(i.keyword, "shell") && !i.json)
                return fail(ret_error, lineno, "SHELL requires the arguments to be in JSON form");
        if (!i.rest[0] && !streq(i.keyword, "healthcheck") && !streq(i.keyword, "cmd") &&
            !streq(i.keyword, "entrypoint") && !streq(i.keyword, "run"))
                return fail(ret_error, lineno, "%s requires at least one argument", i.keyword);
        if (!i.rest[0] && (streq(i.keyword, "run") || streq(i.keyword, "healthcheck")))
                return fail(ret_error, lineno, "%s requires at least one argument", i.keyword);
        if ((streq(i.keyword, "copy") || streq(i.keyword, "add")) && !i.json) {
                _cleanup_strv_free_ char **w = NULL;
                if (dockerfile_split_raw(i.rest, d->escape, &w) < 0)
                        return -ENOMEM;
                if (strv_length(w) < 2)
                        return fail(ret_error, lineno,
                                    "%s requires at least two arguments, but only one was provided. Destination could "
                                    "not be determined.",
                                    i.keyword);
        }
        DockerfileInstruction *a = realloc(d->instructions, (d->n_instructions + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        d->instructions = a;
        a[d->n_instructions++] = i;
        i = (DockerfileInstruction){};
        return 0;
}

/* The parser directives before the first comment, blank line or instruction. */
static int parse_directives(Dockerfile *d, const char *text, size_t len, size_t *pos, unsigned *lineno,
                            char **ret_error) {
        bool seen_escape = false;
        while (*pos < len) {
                const char *s = text + *pos, *e = memchr(s, '\n', len - *pos);
                size_t n = e ? (size_t) (e - s) : len - *pos;
                _cleanup_free_ char *name = NULL, *value = NULL;
                int r = parse_directive(s, n, &name, &value);
                if (r < 0)
                        return r;
                if (r == 0 || !(streq(name, "escape") || streq(name, "syntax") || streq(name, "check")))
                        return 0;
                if (streq(name, "escape")) {
                        if (seen_escape)
                                return fail(ret_error, *lineno + 1, "only one escape parser directive can be used");
                        if (!streq(value, "\\") && !streq(value, "`"))
                                return fail(ret_error, *lineno + 1, "invalid escape token '%s' does not match ` or \\",
                                            value);
                        d->escape = value[0];
                        seen_escape = true;
                } else if (streq(name, "syntax")) {
                        if (d->syntax)
                                return fail(ret_error, *lineno + 1, "only one syntax parser directive can be used");
                        d->syntax = TAKE_PTR(value);
                }
                *pos += n + (e ? 1 : 0);
                (*lineno)++;
        }
        return 0;
}

int dockerfile_parse(const char *text, size_t len, Dockerfile **ret, char **ret_error) {
        _cleanup_(dockerfile_freep) Dockerfile *d = calloc(1, sizeof(Dockerfile));
        size_t pos = 0;
        unsigned lineno = 0;
        int r;

        if (!d)
                return -ENOMEM;
        d->escape = '\\';
        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) /* a BOM, as Docker discards it */
                pos = 3;
        if (memchr(text, 0, len))
                return fail(ret_error, 0, "The Dockerfile contains a NUL byte.");
        r = parse_directives(d, text, len, &pos, &lineno, ret_error);
        if (r < 0)
                return r;
        while (pos < len) {
                _cleanup_free_ char *logical = NULL;
                size_t llen = 0;
                unsigned start = 0;
                bool more = true, first = true;

                while (more && pos < len) {
                        const char *s = text + pos, *e = memchr(s, '\n', len - pos);
                        size_t n = e ? (size_t) (e - s) : len - pos;
                        pos += n + (e ? 1 : 0);
                        lineno++;
                        if (n > 0 && s[n - 1] == '\r')
                                n--;
                        if (is_comment(s, n) || (first && is_blank(s, n)))
                                continue;
                        if (!first && is_blank(s, n))
                                continue; /* an empty continuation line: Docker warns, we drop it alike */
                        if (first) {
                                start = lineno;
                                while (n > 0 && isspace((unsigned char) *s))
                                        s++, n--;
                        }
                        first = false;
                        more = trim_continuation(s, &n, d->escape);
                        if (append(&logical, &llen, s, n) < 0)
                                return -ENOMEM;
                }
                if (!logical || is_blank(logical, llen))
                        continue;
                r = add_instruction(d, logical, start, ret_error);
                if (r < 0)
                        return r;
        }
        if (d->n_instructions == 0)
                return fail(ret_error, 0, "The Dockerfile has no instructions (file with no instructions).");
        *ret = TAKE_PTR(d);
        return 0;
}

/* ---- variables and word expansion ---- */

const char *dockerfile_vars_get(const DockerfileVars *v, const char *name) {
        size_t n = strlen(name);
        const char *found = NULL;
        for (char **e = v ? v->env : NULL; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        found = *e + n + 1;
        return found;
}

int dockerfile_vars_set(DockerfileVars *v, const char *name, const char *value) {
        _cleanup_free_ char *entry = NULL;
        size_t n = strlen(name);
        if (asprintf(&entry, "%s=%s", name, value) < 0)
                return -ENOMEM;
        for (char **e = v->env; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
                        free(*e);
                        *e = TAKE_PTR(entry);
                        return 0;
                }
        return strv_push(&v->env, entry);
}

typedef struct Lexer {
        const char *p;
        char escape;
        const DockerfileVars *vars;
        bool split; /* ProcessWords: white space outside quotes separates words */
        char *word; /* the word being built */
        size_t len;
        bool have_word; /* a word has started (even an empty quoted one) */
        char **words;
        char **error;
} Lexer;

static int lex_char(Lexer *l, char c) {
        l->have_word = true;
        return append(&l->word, &l->len, &c, 1);
}

static int lex_end_word(Lexer *l) {
        if (!l->have_word)
                return 0;
        if (strv_push(&l->words, l->word ?: "") < 0)
                return -ENOMEM;
        l->word = mfree(l->word);
        l->len = 0;
        l->have_word = false;
        return 0;
}

/* A variable's value outside quotes: split at white space when splitting words. */
static int lex_value(Lexer *l, const char *v, bool quoted) {
        for (; *v; v++) {
                int r;
                if (l->split && !quoted && isspace((unsigned char) *v))
                        r = lex_end_word(l);
                else
                        r = lex_char(l, *v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int lex_until(Lexer *l, const char *stop, bool quoted, char **ret);

/* After "$": a name, or "{...}". Appends the value. */
static int lex_dollar(Lexer *l, bool quoted) {
        _cleanup_free_ char *name = NULL, *word = NULL;
        const char *p = l->p;
        int r;

        if (*p == '{') {
                p++;
                size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
                if (n == 0)
                        return fail(l->error, 0, "bad substitution in \"%s\"", l->p - 1);
                name = strndup(p, n);
                if (!name)
                        return -ENOMEM;
                p += n;
                if (*p == '}') {
                        l->p = p + 1;
                        const char *v = dockerfile_vars_get(l->vars, name);
                        return lex_value(l, v ?: "", quoted);
                }
                bool colon = *p == ':';
                if (colon)
                        p++;
                char op = *p;
                if (op != '-' && op != '+' && op != '?')
                        return fail(l->error, 0, "unsupported modifier (%c) in substitution", op ? op : ' ');
                l->p = p + 1;
                /* The word is lexed (quotes, nested $) as Docker does, up to the closing brace. */
                r = lex_until(l, "}", quoted, &word);
                if (r < 0)
                        return r;
                if (*l->p != '}')
                        return fail(l->error, 0, "missing '}' in substitution");
                l->p++;
                const char *v = dockerfile_vars_get(l->vars, name);
                bool set = v && (!colon || *v);
                if (op == '-')
                        return lex_value(l, set ? v : word, quoted);
                if (op == '+')
                        return lex_value(l, set ? word : "", quoted);
                if (!set)
                        return fail(l->error, 0, "%s: %s", name, *word ? word : "is not allowed to be unset");
                return lex_value(l, v, quoted);
        }
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        if (n == 0)
                return lex_char(l, '$'); /* a lone "$" stays */
        name = strndup(p, n);
        if (!name)
                return -ENOMEM;
        l->p = p + n;
        const char *v = dockerfile_vars_get(l->vars, name);
        return lex_value(l, v ?: "", quoted);
}

static int lex_single_quote(Lexer *l) {
        l->have_word = true;
        for (;; l->p++) {
                if (!*l->p)
                        return fail(l->error, 0, "unexpected end of statement while looking for matching single-quote");
                if (*l->p == '\'') {
                        l->p++;
                        return 0;
                }
                int r = lex_char(l, *l->p);
                if (r < 0)
                        return r;
        }
}

static int lex_double_quote(Lexer *l) {
        l->have_word = true;
        for (;;) {
                char c = *l->p;
                int r;
                if (!c)
                        return fail(l->error, 0, "unexpected end of statement while looking for matching double-quote");
                l->p++;
                if (c == '"')
                        return 0;
                if (c == '$')
                        r = lex_dollar(l, true);
                else if (c == l->escape && (*l->p == '"' || *l->p == '$' || *l->p == l->escape))
                        r = lex_char(l, *l->p++);
                else
                        r = lex_char(l, c);
                if (r < 0)
                        return r;
        }
}

/* Lex into the current word until a character of stop (outside quotes) or the end. With ret, the
 * text is collected into a fresh buffer instead (the word of ${VAR:-word}). */
static int lex_until(Lexer *l, const char *stop, bool quoted, char **ret) {
        char *saved_word = NULL;
        size_t saved_len = 0;
        bool saved_have = false, saved_split = l->split;
        int r = 0;

        if (ret) {
                saved_word = l->word, saved_len = l->len, saved_have = l->have_word;
                l->word = NULL, l->len = 0, l->have_word = false, l->split = false;
        }
        while (*l->p && !strchr(stop, *l->p)) {
                char c = *l->p++;
                if (c == l->escape) {
                        if (!*l->p)
                                break; /* a trailing escape is dropped, as Docker's lexer does */
                        r = lex_char(l, *l->p++);
                } else if (c == '\'' && !quoted)
                        r = lex_single_quote(l);
                else if (c == '"' && !quoted)
                        r = lex_double_quote(l);
                else if (c == '$')
                        r = lex_dollar(l, quoted);
                else if (l->split && isspace((unsigned char) c))
                        r = lex_end_word(l);
                else
                        r = lex_char(l, c);
                if (r < 0)
                        break;
        }
        if (ret) {
                if (r >= 0 && !(*ret = l->word ? l->word : strdup("")))
                        r = -ENOMEM;
                else if (r < 0)
                        free(l->word);
                l->word = saved_word, l->len = saved_len, l->have_word = saved_have, l->split = saved_split;
        }
        return r;
}

static int expand(const char *text, char escape, const DockerfileVars *vars, bool split, char ***ret_words,
                  char **ret_word, char **ret_error) {
        Lexer l = { .p = text, .escape = escape, .vars = vars, .split = split, .error = ret_error };
        int r = lex_until(&l, "", false, NULL);
        if (r >= 0 && ret_word) {
                *ret_word = l.word ? l.word : strdup("");
                l.word = NULL;
                if (!*ret_word)
                        r = -ENOMEM;
        }
        if (r >= 0 && ret_words) {
                r = lex_end_word(&l);
                if (r >= 0 && !l.words && !(l.words = calloc(1, sizeof(char *))))
                        r = -ENOMEM;
                if (r >= 0)
                        *ret_words = TAKE_PTR(l.words);
        }
        free(l.word);
        strv_free(l.words);
        return r;
}

int dockerfile_expand_word(const char *word, char escape, const DockerfileVars *vars, char **ret, char **ret_error) {
        return expand(word, escape, vars, false, NULL, ret, ret_error);
}

int dockerfile_expand_words(const char *text, char escape, const DockerfileVars *vars, char ***ret, char **ret_error) {
        return expand(text, escape, vars, true, ret, NULL, ret_error);
}

/* ---- ENV, LABEL and ARG ---- */

int dockerfile_parse_pairs(const char *rest, char escape, const DockerfileVars *vars, char ***ret, char **ret_error) {
        _cleanup_strv_free_ char **raw = NULL, **pairs = calloc(1, sizeof(char *));
        int r;

        if (!pairs || dockerfile_split_raw(rest, escape, &raw) < 0)
                return -ENOMEM;
        if (!raw[0])
                return fail(ret_error, 0, "requires at least one argument");
        if (!strchr(raw[0], '=')) {
                /* "ENV KEY some value": the value is the rest of the line, one word. */
                const char *value = rest + strspn(rest, " \t") + strlen(raw[0]);
                _cleanup_free_ char *key = NULL, *v = NULL, *pair = NULL;
                if (!raw[1])
                        return fail(ret_error, 0, "requires two arguments in the form NAME VALUE, or NAME=VALUE ...");
                if ((r = dockerfile_expand_word(raw[0], escape, vars, &key, ret_error)) < 0 ||
                    (r = dockerfile_expand_word(value + strspn(value, " \t"), escape, vars, &v, ret_error)) < 0)
                        return r;
                if (!*key)
                        return fail(ret_error, 0, "names can not be blank");
                pair = strjoin(key, "=", v);
                if (!pair || strv_push(&pairs, pair) < 0)
                        return -ENOMEM;
        } else
                for (char **w = raw; *w; w++) {
                        _cleanup_free_ char *e = NULL;
                        r = dockerfile_expand_word(*w, escape, vars, &e, ret_error);
                        if (r < 0)
                                return r;
                        if (!strchr(e, '=') || e[0] == '=')
                                return fail(ret_error, 0,
                                            "syntax error - can't find = in \"%s\". Must be of the form: name=value",
                                            *w);
                        if (strv_push(&pairs, e) < 0)
                                return -ENOMEM;
                }
        *ret = TAKE_PTR(pairs);
        return 0;
}

int dockerfile_apply_arg(const char *rest, char escape, const DockerfileVars *vars, char **build_args,
                         const DockerfileVars *global, DockerfileVars *scope, char ***used, char **ret_error) {
        _cleanup_strv_free_ char **raw = NULL;
        int r = dockerfile_split_raw(rest, escape, &raw);
        if (r < 0)
                return r;
        for (char **w = raw; *w; w++) {
                _cleanup_free_ char *e = NULL;
                r = dockerfile_expand_word(*w, escape, vars, &e, ret_error);
                if (r < 0)
                        return r;
                char *eq = strchr(e, '=');
                if (eq)
                        *eq = 0;
                if (!*e)
                        return fail(ret_error, 0, "ARG names can not be blank");
                const char *value = eq ? eq + 1 : NULL, *given = NULL;
                size_t n = strlen(e);
                /* The last --build-arg of the name wins; "NAME" alone takes the environment's value. */
                for (char **a = build_args; a && *a; a++)
                        if (strncmp(*a, e, n) == 0 && ((*a)[n] == '=' || (*a)[n] == 0))
                                given = (*a)[n] == '=' ? *a + n + 1 : getenv(e);
                if (given && used && !strv_contains(*used, e) && strv_push(used, e) < 0)
                        return -ENOMEM;
                /* In a stage, an ARG without a default takes the global ARG's value. */
                if (!given && !value && global)
                        value = dockerfile_vars_get(global, e);
                if ((given || value) && (r = dockerfile_vars_set(scope, e, given ?: value)) < 0)
                        return r;
        }
        return 0;
}
