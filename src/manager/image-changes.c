/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --change: Dockerfile instructions applied to an image config (commit and import). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "container.h"
#include "errors.h"
#include "image.h"
#include "json-util.h"
#include "names.h"

/* Words separated by white space; double quotes group, a backslash escapes the next character. */
static int split_words(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *word = malloc(strlen(s) + 1);
        if (!l || !word)
                return -ENOMEM;
        for (const char *p = s;;) {
                size_t n = 0;
                bool quoted = false, any = false;
                p += strspn(p, " \t");
                for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++) {
                        any = true;
                        if (*p == '"')
                                quoted = !quoted;
                        else if (*p == '\\' && p[1])
                                word[n++] = *++p;
                        else
                                word[n++] = *p;
                }
                if (quoted)
                        return -EINVAL;
                if (!any)
                        break;
                word[n] = 0;
                if (strv_push(&l, word) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* A JSON array of strings, or the shell form (["/bin/sh", "-c", s]) for CMD and ENTRYPOINT. */
static json_object *command_from(const char *s, bool shell_form) {
        _cleanup_json_ json_object *a = NULL;
        if (*s == '[') {
                if (json_parse_buffer(s, strlen(s), &a) < 0 || !json_object_is_type(a, json_type_array))
                        return NULL;
                for (size_t k = 0; k < json_object_array_length(a); k++)
                        if (!json_object_is_type(json_object_array_get_idx(a, k), json_type_string))
                                return NULL;
                return TAKE_PTR(a);
        }
        if (!shell_form)
                return NULL;
        a = json_object_new_array();
        if (!a)
                return NULL;
        json_object_array_add(a, json_object_new_string("/bin/sh"));
        json_object_array_add(a, json_object_new_string("-c"));
        json_object_array_add(a, json_object_new_string(s));
        return TAKE_PTR(a);
}

static json_object *object_member(json_object *o, const char *key) {
        json_object *v;
        if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_object))
                return v;
        v = json_object_new_object();
        json_object_object_add(o, key, v);
        return v;
}

/* Set KEY=VALUE in Env, replacing an earlier value of KEY. */
static int env_set(json_object *config, const char *key, const char *value) {
        json_object *env, *n = json_object_new_array();
        _cleanup_free_ char *entry = NULL;
        size_t klen = strlen(key);

        if (!n || asprintf(&entry, "%s=%s", key, value) < 0 || !env_assignment_is_valid(entry)) {
                json_object_put(n);
                return -EINVAL;
        }
        if (json_object_object_get_ex(config, "Env", &env) && json_object_is_type(env, json_type_array))
                for (size_t k = 0; k < json_object_array_length(env); k++) {
                        const char *e = json_object_get_string(json_object_array_get_idx(env, k));
                        if (e && !(strncmp(e, key, klen) == 0 && e[klen] == '='))
                                json_object_array_add(n, json_object_new_string(e));
                }
        json_object_array_add(n, json_object_new_string(entry));
        json_object_object_add(config, "Env", n);
        return 0;
}

/* KEY=VALUE ... (or the old "KEY VALUE" form when allowed) into Env or Labels. */
static int apply_pairs(json_object *config, const char *what, const char *rest, bool env) {
        _cleanup_strv_free_ char **words = NULL;
        int r = split_words(rest, &words);
        if (r < 0 || strv_length(words) == 0)
                return -EINVAL;
        if (!strchr(words[0], '=')) {
                /* "ENV KEY some value": everything after the first word, as written. */
                const char *value = rest + strspn(rest, " \t");
                value += strcspn(value, " \t");
                value += strspn(value, " \t");
                if (!*value)
                        return -EINVAL;
                return env
                        ? env_set(config, words[0], value)
                        : (json_object_object_add(object_member(config, what), words[0], json_object_new_string(value)),
                           0);
        }
        for (char **w = words; *w; w++) {
                char *eq = strchr(*w, '=');
                if (!eq || eq == *w)
                        return -EINVAL;
                *eq = 0;
                if (env)
                        r = env_set(config, *w, eq + 1);
                else
                        json_object_object_add(object_member(config, what), *w, json_object_new_string(eq + 1));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "80" or "53/udp" → "80/tcp", "53/udp". */
static int port_key(const char *s, char **ret) {
        char *end;
        errno = 0;
        unsigned long port = strtoul(s, &end, 10);
        const char *proto = *end == '/' ? end + 1 : *end ? NULL : "tcp";

        if (errno != 0 || end == s || *s == '-' || *s == '+' || port == 0 || port > 65535 || !proto ||
            !(streq(proto, "tcp") || streq(proto, "udp") || streq(proto, "sctp")))
                return -EINVAL;
        return asprintf(ret, "%lu/%s", port, proto) < 0 ? -ENOMEM : 0;
}

/* A Go duration ("30s", "1m30s", "1.5h", "500ms") in nanoseconds, as HEALTHCHECK's flags take it. */
static int parse_go_duration(const char *s, int64_t *ret) {
        static const struct {
                const char *unit;
                double ns;
        } units[] = { { "ns", 1 },  { "us", 1e3 }, { "\u00b5s", 1e3 }, { "ms", 1e6 },
                      { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 } };
        double total = 0;
        if (!*s)
                return -EINVAL;
        if (streq(s, "0")) {
                *ret = 0;
                return 0;
        }
        while (*s) {
                char *end;
                if (!(*s >= '0' && *s <= '9') && *s != '.')
                        return -EINVAL;
                errno = 0;
                double v = strtod(s, &end);
                if (errno != 0 || end == s)
                        return -EINVAL;
                s = end;
                size_t best = 0, k = ELEMENTSOF(units);
                for (size_t j = 0; j < ELEMENTSOF(units); j++) {
                        size_t n = strlen(units[j].unit);
                        if (strncmp(s, units[j].unit, n) == 0 && n > best)
                                best = n, k = j;
                }
                if (k == ELEMENTSOF(units))
                        return -EINVAL;
                total += v * units[k].ns;
                s += best;
        }
        if (total > 9.2e18)
                return -ERANGE;
        *ret = (int64_t) total;
        return 0;
}

/* HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D] [--retries=N]
 * CMD ... | NONE, into Docker's Healthcheck: Test ["CMD", ...], ["CMD-SHELL", s] or ["NONE"],
 * durations in nanoseconds, zero ones left out as Docker does. */
static int apply_healthcheck(json_object *config, const char *rest) {
        _cleanup_json_ json_object *h = json_object_new_object();
        const char *p = rest;
        if (!h)
                return -ENOMEM;
        while (p[0] == '-' && p[1] == '-') {
                size_t n = strcspn(p, " \t");
                _cleanup_free_ char *flag = strndup(p + 2, n - 2);
                if (!flag)
                        return -ENOMEM;
                p += n + strspn(p + n, " \t");
                char *eq = strchr(flag, '=');
                if (!eq)
                        return -EINVAL;
                *eq++ = 0;
                static const char *const keys[][2] = { { "interval", "Interval" },
                                                       { "timeout", "Timeout" },
                                                       { "start-period", "StartPeriod" },
                                                       { "start-interval", "StartInterval" } };
                bool known = false;
                for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                        if (streq(flag, keys[k][0])) {
                                int64_t ns;
                                if (parse_go_duration(eq, &ns) < 0 || ns < 0)
                                        return -EINVAL;
                                if (ns > 0)
                                        json_object_object_add(h, keys[k][1], json_object_new_int64(ns));
                                known = true;
                        }
                if (streq(flag, "retries")) {
                        int n_retries;
                        if (parse_int(eq, &n_retries) < 0 || n_retries < 0)
                                return -EINVAL;
                        if (n_retries > 0)
                                json_object_object_add(h, "Retries", json_object_new_int(n_retries));
                        known = true;
                }
                if (!known)
                        return -EINVAL;
        }
        json_object *test = json_object_new_array();
        json_object_object_add(h, "Test", test);
        if (strcasecmp(p, "NONE") == 0) {
                if (json_object_object_length(h) > 1)
                        return -EINVAL; /* NONE takes no options, as Docker says */
                json_object_array_add(test, json_object_new_string("NONE"));
        } else if (strncasecmp(p, "CMD", 3) == 0 && (p[3] == ' ' || p[3] == '\t')) {
                p += 3 + strspn(p + 3, " \t");
                _cleanup_json_ json_object *a = *p == '[' ? command_from(p, false) : NULL;
                if (!*p)
                        return -EINVAL;
                json_object_array_add(test, json_object_new_string(a ? "CMD" : "CMD-SHELL"));
                if (a)
                        for (size_t k = 0; k < json_object_array_length(a); k++)
                                json_object_array_add(test, json_object_get(json_object_array_get_idx(a, k)));
                else
                        json_object_array_add(test, json_object_new_string(p));
        } else
                return -EINVAL;
        json_object_object_add(config, "Healthcheck", TAKE_PTR(h));
        return 0;
}

static int apply_change(json_object *config, const char *change) {
        size_t n = strcspn(change, " \t");
        _cleanup_free_ char *instruction = strndup(change, n);
        const char *rest = change + n + strspn(change + n, " \t");
        json_object *v;

        if (!instruction)
                return -ENOMEM;
        if (!*rest && !strcasecmp(instruction, "ONBUILD")) {
                /* berth's own: no triggers (a build's first step after FROM, as Docker's builder
                 * does not pass a base image's triggers on to grandchildren). */
                json_object_object_del(config, "OnBuild");
                return 0;
        }
        if (!*rest)
                return -EINVAL;
        if (!strcasecmp(instruction, "CMD") || !strcasecmp(instruction, "ENTRYPOINT")) {
                if (!(v = command_from(rest, true)))
                        return -EINVAL;
                json_object_object_add(config, !strcasecmp(instruction, "CMD") ? "Cmd" : "Entrypoint", v);
        } else if (!strcasecmp(instruction, "ENV"))
                return apply_pairs(config, "Env", rest, true);
        else if (!strcasecmp(instruction, "LABEL"))
                return apply_pairs(config, "Labels", rest, false);
        else if (!strcasecmp(instruction, "WORKDIR")) {
                /* Relative to the one before, as in a Dockerfile. */
                const char *old = json_get_string(config, "WorkingDir");
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s%s%s", rest[0] == '/' ? "" : (old && *old ? old : "/"),
                             rest[0] == '/' || (old && old[strlen(old) - 1] == '/') || !old || !*old ? "" : "/",
                             rest) < 0)
                        return -ENOMEM;
                json_object_object_add(config, "WorkingDir", json_object_new_string(dir));
        } else if (!strcasecmp(instruction, "USER"))
                json_object_object_add(config, "User", json_object_new_string(rest));
        else if (!strcasecmp(instruction, "STOPSIGNAL")) {
                if (signal_from_string(rest) <= 0)
                        return -EINVAL;
                json_object_object_add(config, "StopSignal", json_object_new_string(rest));
        } else if (!strcasecmp(instruction, "EXPOSE") || !strcasecmp(instruction, "VOLUME")) {
                bool expose = !strcasecmp(instruction, "EXPOSE");
                _cleanup_strv_free_ char **words = NULL;
                _cleanup_json_ json_object *a = expose ? NULL : command_from(rest, false);
                if (a) {
                        words = calloc(1, sizeof(char *));
                        for (size_t k = 0; words && k < json_object_array_length(a); k++)
                                if (strv_push(&words, json_object_get_string(json_object_array_get_idx(a, k))) < 0)
                                        return -ENOMEM;
                        if (!words)
                                return -ENOMEM;
                } else if (split_words(rest, &words) < 0)
                        return -EINVAL;
                json_object *set = object_member(config, expose ? "ExposedPorts" : "Volumes");
                for (char **w = words; *w; w++) {
                        _cleanup_free_ char *key = NULL;
                        if (expose) {
                                int r = port_key(*w, &key);
                                if (r < 0)
                                        return r;
                        } else if ((*w)[0] != '/')
                                return -EINVAL;
                        json_object_object_add(set, key ?: *w, json_object_new_object());
                }
        } else if (!strcasecmp(instruction, "HEALTHCHECK"))
                return apply_healthcheck(config, rest);
        else if (!strcasecmp(instruction, "SHELL")) {
                if (!(v = command_from(rest, false)) || json_object_array_length(v) == 0) {
                        json_object_put(v);
                        return -EINVAL;
                }
                json_object_object_add(config, "Shell", v);
        } else if (!strcasecmp(instruction, "ONBUILD")) {
                /* A trigger for builds FROM this image; Docker refuses these three as triggers. */
                size_t k = strcspn(rest, " \t");
                if ((k == 7 && !strncasecmp(rest, "ONBUILD", 7)) || (k == 4 && !strncasecmp(rest, "FROM", 4)) ||
                    (k == 10 && !strncasecmp(rest, "MAINTAINER", 10)))
                        return -EINVAL;
                json_object *a;
                if (!json_object_object_get_ex(config, "OnBuild", &a) || !json_object_is_type(a, json_type_array)) {
                        a = json_object_new_array();
                        json_object_object_add(config, "OnBuild", a);
                }
                json_object_array_add(a, json_object_new_string(rest));
        } else
                return -EINVAL;
        return 0;
}

int image_config_apply_changes(json_object *blob, char **changes, sd_bus_error *error) {
        json_object *config = object_member(blob, "config");
        if (!config)
                return -ENOMEM;
        for (char **ch = changes; ch && *ch; ch++) {
                int r = apply_change(config, *ch);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Invalid change \"%s\": expected a Dockerfile instruction CMD, "
                                                 "ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, SHELL, "
                                                 "STOPSIGNAL, USER, VOLUME or WORKDIR with its argument.",
                                                 *ch);
        }
        return 0;
}
