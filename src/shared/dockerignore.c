/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* .dockerignore patterns (see dockerignore.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dockerignore.h"
#include "util.h"

typedef struct Pattern {
        char *text;
        bool exclusion; /* "!pattern" */
} Pattern;

struct DockerIgnore {
        Pattern *patterns;
        size_t n;
};

DockerIgnore *dockerignore_free(DockerIgnore *d) {
        if (!d)
                return NULL;
        for (size_t k = 0; k < d->n; k++)
                free(d->patterns[k].text);
        free(d->patterns);
        free(d);
        return NULL;
}

/* Go's filepath.Clean for slash paths, without a leading "/" (Docker drops it). */
static char *clean(const char *s) {
        _cleanup_strv_free_ char **parts = NULL; /* strv_push_counted() allocates it */
        size_t n = 0;
        for (const char *p = s; *p;) {
                size_t k = strcspn(p, "/");
                if (k == 0 || (k == 1 && p[0] == '.')) {
                } else if (k == 2 && p[0] == '.' && p[1] == '.') {
                        if (n > 0 && !streq(parts[n - 1], "..")) {
                                free(parts[--n]);
                                parts[n] = NULL;
                        } else if (s[0] != '/' && strv_push_counted(&parts, &n, "..") < 0)
                                return NULL;
                } else {
                        _cleanup_free_ char *c = strndup(p, k);
                        if (!c || strv_push_counted(&parts, &n, c) < 0)
                                return NULL;
                }
                p += k;
                p += strspn(p, "/");
        }
        return n == 0 ? strdup(".") : strv_join(parts, "/");
}

int dockerignore_parse(const char *text, DockerIgnore **ret) {
        _cleanup_(dockerignore_freep) DockerIgnore *d = calloc(1, sizeof(DockerIgnore));
        if (!d)
                return -ENOMEM;
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");
                const char *s = p, *e = p + n;
                p = *e ? e + 1 : e;
                if (n > 0 && *s == '#')
                        continue;
                while (s < e && isspace((unsigned char) *s))
                        s++;
                while (e > s && isspace((unsigned char) e[-1]))
                        e--;
                bool exclusion = s < e && *s == '!';
                if (exclusion) {
                        s++;
                        while (s < e && isspace((unsigned char) *s))
                                s++;
                }
                if (s == e)
                        continue;
                _cleanup_free_ char *raw = strndup(s, (size_t) (e - s));
                if (!raw)
                        return -ENOMEM;
                char *c = clean(raw);
                if (!c)
                        return -ENOMEM;
                Pattern *a = realloc(d->patterns, (d->n + 1) * sizeof(Pattern));
                if (!a) {
                        free(c);
                        return -ENOMEM;
                }
                d->patterns = a;
                a[d->n++] = (Pattern){ .text = c, .exclusion = exclusion };
        }
        *ret = TAKE_PTR(d);
        return 0;
}

/* "[...]" at p (after the "["): whether c is in the class; *end is set past "]", NULL when malformed. */
static bool match_class(const char *p, char c, const char **end) {
        bool negate = false, hit = false, first = true;
        if (*p == '^' || *p == '!') {
                negate = true;
                p++;
        }
        for (; *p && (first || *p != ']'); first = false) {
                char lo = *p++;
                if (lo == '\\' && *p)
                        lo = *p++;
                char hi = lo;
                if (*p == '-' && p[1] && p[1] != ']') {
                        p++;
                        hi = *p++;
                        if (hi == '\\' && *p)
                                hi = *p++;
                }
                if (lo <= c && c <= hi)
                        hit = true;
        }
        *end = *p == ']' ? p + 1 : NULL;
        return hit != negate;
}

static bool match(const char *p, const char *s) {
        for (; *p; p++) {
                if (p[0] == '*' && p[1] == '*') {
                        /* "**" crosses directories; "**" + "/" may also match nothing. */
                        const char *rest = p + 2;
                        if (*rest == '/' && match(rest + 1, s))
                                return true;
                        for (const char *t = s;; t++) {
                                if (match(rest, t))
                                        return true;
                                if (!*t)
                                        return false;
                        }
                }
                if (*p == '*') {
                        for (const char *t = s;; t++) {
                                if (match(p + 1, t))
                                        return true;
                                if (!*t || *t == '/')
                                        return false;
                        }
                }
                if (!*s)
                        return false;
                if (*p == '?') {
                        if (*s == '/')
                                return false;
                } else if (*p == '[') {
                        const char *end;
                        if (*s == '/' || !match_class(p + 1, *s, &end) || !end)
                                return false;
                        p = end - 1;
                } else {
                        if (*p == '\\' && p[1])
                                p++;
                        if (*p != *s)
                                return false;
                }
                s++;
        }
        return !*s;
}

bool dockerignore_pattern_match(const char *pattern, const char *path) {
        if (match(pattern, path))
                return true;
        /* A pattern that matches a parent directory matches everything below it. */
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return false;
        for (char *slash = strrchr(copy, '/'); slash; slash = strrchr(copy, '/')) {
                *slash = 0;
                if (match(pattern, copy))
                        return true;
        }
        return false;
}

bool dockerignore_excludes(const DockerIgnore *d, const char *path) {
        bool excluded = false;
        for (size_t k = 0; d && k < d->n; k++)
                if (excluded == d->patterns[k].exclusion && dockerignore_pattern_match(d->patterns[k].text, path))
                        excluded = !d->patterns[k].exclusion;
        return excluded;
}

bool dockerignore_has_exceptions(const DockerIgnore *d) {
        for (size_t k = 0; d && k < d->n; k++)
                if (d->patterns[k].exclusion)
                        return true;
        return false;
}
