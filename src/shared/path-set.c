/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A set of paths: open addressing, FNV-1a. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "path-set.h"
#include "util.h"

void path_set_done(PathSet *s) {
        for (size_t i = 0; i < s->n_slots; i++)
                free(s->slots[i]);
        free(s->slots);
        *s = (PathSet){};
}

static uint64_t path_hash(const char *p) {
        uint64_t h = 14695981039346656037ULL; /* FNV-1a */
        for (; *p; p++)
                h = (h ^ (uint8_t) *p) * 1099511628211ULL;
        return h;
}

bool path_set_contains(const PathSet *s, const char *p) {
        if (s->n_slots == 0)
                return false;
        for (size_t i = path_hash(p) & (s->n_slots - 1);; i = (i + 1) & (s->n_slots - 1)) {
                if (!s->slots[i])
                        return false;
                if (streq(s->slots[i], p))
                        return true;
        }
}

/* Takes p over; 0 when it was there already (p is freed), 1 when added. */
int path_set_put(PathSet *s, char *p) {
        if ((s->n + 1) * 4 > s->n_slots * 3) {
                size_t k = s->n_slots ? s->n_slots * 2 : 256;
                char **slots = calloc(k, sizeof(char *));
                if (!slots) {
                        free(p);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < s->n_slots; i++) {
                        if (!s->slots[i])
                                continue;
                        size_t j = path_hash(s->slots[i]) & (k - 1);
                        while (slots[j])
                                j = (j + 1) & (k - 1);
                        slots[j] = s->slots[i];
                }
                free(s->slots);
                s->slots = slots;
                s->n_slots = k;
        }
        size_t i = path_hash(p) & (s->n_slots - 1);
        for (; s->slots[i]; i = (i + 1) & (s->n_slots - 1))
                if (streq(s->slots[i], p)) {
                        free(p);
                        return 0;
                }
        s->slots[i] = p;
        s->n++;
        return 1;
}

/* The path and its parents: a parent the archive did not list was still created (or used) by it, so
 * an opaque marker above must keep it. Parents of a path in the set are always in it too. */
int path_set_add_with_parents(PathSet *s, const char *path) {
        _cleanup_free_ char *buf = strdup(path);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                char *copy = strdup(buf), *slash;
                if (!copy)
                        return -ENOMEM;
                int r = path_set_put(s, copy);
                if (r <= 0)
                        return r;
                slash = strrchr(buf, '/');
                if (!slash)
                        return 0;
                *slash = 0;
        }
}
