/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gen-unit-file.h"
#include "util.h"

#define WHITESPACE " \t\r"

void unit_file_done(UnitFile *f) {
        for (size_t i = 0; i < f->n_entries; i++) {
                free(f->entries[i].section);
                free(f->entries[i].key);
                free(f->entries[i].value);
        }
        f->entries = mfree(f->entries);
        f->n_entries = 0;
        strv_free(f->sections);
        f->sections = NULL;
        f->n_sections = 0;
}

/* s without leading and trailing whitespace, in place. */
static char *strip(char *s) {
        size_t n;
        s += strspn(s, WHITESPACE);
        n = strlen(s);
        while (n > 0 && strchr(WHITESPACE, s[n - 1]))
                s[--n] = 0;
        return s;
}

static int add_entry(UnitFile *f, const char *section, char *assignment, unsigned line) {
        char *eq = strchr(assignment, '=');
        UnitEntry *e;

        if (!eq)
                return -EINVAL;
        *eq = 0;
        const char *key = strip(assignment), *value = strip(eq + 1);
        if (isempty(key))
                return -EINVAL;
        e = realloc(f->entries, (f->n_entries + 1) * sizeof(UnitEntry));
        if (!e)
                return -ENOMEM;
        f->entries = e;
        e = &f->entries[f->n_entries];
        *e = (UnitEntry){ .section = strdup(section), .key = strdup(key), .value = strdup(value), .line = line };
        f->n_entries++;
        if (!e->section || !e->key || !e->value)
                return -ENOMEM;
        return 0;
}

int unit_file_parse(const char *text, UnitFile *ret, unsigned *ret_error_line) {
        UnitFile f = {};
        _cleanup_free_ char *section = NULL, *pending = NULL;
        size_t n_pending = 0;
        unsigned line = 0, pending_line = 0;
        int r = 0;

        for (const char *p = text; *p || pending;) {
                size_t len = strcspn(p, "\n");
                _cleanup_free_ char *raw = strndup(p, len);
                bool last = p[len] == 0;
                char *l;

                if (!raw) {
                        r = -ENOMEM;
                        goto fail;
                }
                p += len + (p[len] == '\n');
                line++;
                l = strip(raw);
                if (pending && (*l == '#' || *l == ';') && !last)
                        continue; /* a comment line inside a continuation */
                if (!pending && (*l == 0 || *l == '#' || *l == ';'))
                        goto next;

                size_t n = strlen(l);
                bool continued = n > 0 && l[n - 1] == '\\' && !last;
                if (continued)
                        l[--n] = 0;
                char *joined = realloc(pending, n_pending + n + 2);
                if (!joined) {
                        r = -ENOMEM;
                        goto fail;
                }
                if (!pending)
                        pending_line = line;
                pending = joined;
                memcpy(pending + n_pending, l, n);
                n_pending += n;
                if (continued) {
                        pending[n_pending++] = ' ';
                        pending[n_pending] = 0;
                        goto next;
                }
                pending[n_pending] = 0;

                l = strip(pending);
                n = strlen(l);
                if (*l == '[') {
                        if (n < 3 || l[n - 1] != ']' || memchr(l + 1, '[', n - 2) || memchr(l + 1, ']', n - 2)) {
                                r = -EINVAL;
                                goto fail_at;
                        }
                        free(section);
                        section = strndup(l + 1, n - 2);
                        if (!section ||
                            (!strv_contains(f.sections, section) &&
                             strv_push_counted(&f.sections, &f.n_sections, section) < 0)) {
                                r = -ENOMEM;
                                goto fail;
                        }
                } else if (!section) {
                        r = -EINVAL; /* an assignment before the first section */
                        goto fail_at;
                } else if (*l) {
                        r = add_entry(&f, section, l, pending_line);
                        if (r == -EINVAL)
                                goto fail_at;
                        if (r < 0)
                                goto fail;
                }
                pending = mfree(pending);
                n_pending = 0;
        next:
                if (last)
                        break;
        }
        *ret = f;
        return 0;

fail_at:
        if (ret_error_line)
                *ret_error_line = pending_line;
fail:
        unit_file_done(&f);
        return r;
}
