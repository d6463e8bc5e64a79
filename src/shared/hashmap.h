/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* A map from strings to pointers, for the daemon's indexes (containers by id and by name, starts
 * by job path). Keys are borrowed: they must live, unchanged, as long as their entry (they are the
 * objects' own id, name, ... fields). Lookups, inserts and removals take O(1) on average. */
typedef struct Hashmap Hashmap;

Hashmap *hashmap_new(void);
void hashmap_free(Hashmap *h);
/* -EEXIST when the key is there already, -ENOMEM. */
int hashmap_put(Hashmap *h, const char *key, void *value);
void *hashmap_get(const Hashmap *h, const char *key);
/* Removes the key's entry when its value is value (NULL: whatever it is); returns the value removed
 * or NULL. */
void *hashmap_remove(Hashmap *h, const char *key, void *value);
size_t hashmap_size(const Hashmap *h);
