/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A set of paths (open addressing), for the opaque whiteouts of TAR_EXTRACT_APPLY_WHITEOUTS. */
typedef struct PathSet {
        char **slots;
        size_t n, n_slots; /* n_slots: 0 or a power of two */
} PathSet;

void path_set_done(PathSet *s);
bool path_set_contains(const PathSet *s, const char *p);
/* Takes p over; 0 when it was there already (p is freed), 1 when added, -ENOMEM. */
int path_set_put(PathSet *s, char *p);
/* The path and its parents ("a/b/c", "a/b", "a"). */
int path_set_add_with_parents(PathSet *s, const char *path);
