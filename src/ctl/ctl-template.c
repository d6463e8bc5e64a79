/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-template.h"
#include "macro.h"

static int lookup(json_object *o, const char *path, size_t len, json_object **ret) {
        /* path is ".", or ".A.B" */
        if (len == 0 || path[0] != '.')
                return -EINVAL;
        if (len == 1) {
                *ret = o;
                return 0;
        }
        const char *p = path + 1, *end = path + len;
        while (p < end) {
                const char *dot = memchr(p, '.', (size_t) (end - p));
                size_t n = dot ? (size_t) (dot - p) : (size_t) (end - p);
                _cleanup_free_ char *key = strndup(p, n);
                if (!key)
                        return -ENOMEM;
                if (n == 0 || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &o))
                        return -ENOENT;
                p += n + (dot ? 1 : 0);
                if (dot && p == end)
                        return -EINVAL;
        }
        *ret = o;
        return 0;
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

int ctl_render_template(const char *tmpl, json_object *o, char **ret, char **ret_error) {
        _cleanup_free_ char *out = calloc(1, 1);
        size_t len = 0;
        int r;

        if (!out)
                return -ENOMEM;
        for (const char *p = tmpl; *p;) {
                const char *open = strstr(p, "{{");
                if (!open)
                        return append(&out, &len, p, strlen(p)) < 0 ? -ENOMEM : (*ret = TAKE_PTR(out), 0);
                if ((r = append(&out, &len, p, (size_t) (open - p))) < 0)
                        return r;
                const char *close = strstr(open + 2, "}}");
                if (!close) {
                        *ret_error = strdup("unclosed action");
                        return -EINVAL;
                }
                /* Trim the action; Go's {{- and -}} trimming markers are accepted and ignored. */
                const char *a = open + 2, *b = close;
                if (*a == '-')
                        a++;
                if (b > a && b[-1] == '-')
                        b--;
                while (a < b && *a == ' ')
                        a++;
                while (b > a && b[-1] == ' ')
                        b--;
                bool as_json = false;
                if ((size_t) (b - a) > 5 && !strncmp(a, "json ", 5)) {
                        as_json = true;
                        a += 5;
                        while (a < b && *a == ' ')
                                a++;
                }
                json_object *v = NULL;
                r = lookup(o, a, (size_t) (b - a), &v);
                if (r < 0) {
                        if (asprintf(ret_error, r == -ENOENT ? "no field \"%.*s\"" : "unsupported action \"%.*s\"",
                                     (int) (b - a), a) < 0)
                                *ret_error = NULL;
                        return r == -ENOMEM ? r : -EINVAL;
                }
                const char *s;
                if (!as_json && json_object_is_type(v, json_type_string))
                        s = json_object_get_string(v);
                else if (!v)
                        s = as_json ? "null" : "<no value>";
                else
                        s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                if ((r = append(&out, &len, s, strlen(s))) < 0)
                        return r;
                p = close + 2;
        }
        *ret = TAKE_PTR(out);
        return 0;
}
