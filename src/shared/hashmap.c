/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

typedef struct Entry {
        struct Entry *next;
        const char *key;
        void *value;
        uint64_t hash;
} Entry;

struct Hashmap {
        Entry **buckets;
        size_t n_buckets; /* a power of two */
        size_t size;
};

/* FNV-1a: keys are ids and names berth chose or validated, not hash-flooding material. */
static uint64_t hash_string(const char *s) {
        uint64_t h = 0xcbf29ce484222325ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 0x100000001b3ULL;
        return h;
}

Hashmap *hashmap_new(void) {
        Hashmap *h = calloc(1, sizeof(*h));
        if (!h)
                return NULL;
        h->n_buckets = 64;
        h->buckets = calloc(h->n_buckets, sizeof(Entry *));
        if (!h->buckets) {
                free(h);
                return NULL;
        }
        return h;
}

void hashmap_free(Hashmap *h) {
        if (!h)
                return;
        for (size_t i = 0; i < h->n_buckets; i++)
                for (Entry *e = h->buckets[i], *next; e; e = next) {
                        next = e->next;
                        free(e);
                }
        free(h->buckets);
        free(h);
}

static Entry **find(const Hashmap *h, const char *key, uint64_t hash) {
        Entry **p = &h->buckets[hash & (h->n_buckets - 1)];
        for (; *p; p = &(*p)->next)
                if ((*p)->hash == hash && strcmp((*p)->key, key) == 0)
                        return p;
        return p;
}

static void grow(Hashmap *h) {
        size_t n = h->n_buckets * 2;
        Entry **b = calloc(n, sizeof(Entry *));
        if (!b)
                return; /* longer chains, still correct */
        for (size_t i = 0; i < h->n_buckets; i++)
                for (Entry *e = h->buckets[i], *next; e; e = next) {
                        next = e->next;
                        e->next = b[e->hash & (n - 1)];
                        b[e->hash & (n - 1)] = e;
                }
        free(h->buckets);
        h->buckets = b;
        h->n_buckets = n;
}

int hashmap_put(Hashmap *h, const char *key, void *value) {
        uint64_t hash = hash_string(key);
        Entry **p = find(h, key, hash);
        if (*p)
                return -EEXIST;
        Entry *e = malloc(sizeof(*e));
        if (!e)
                return -ENOMEM;
        *e = (Entry){ .key = key, .value = value, .hash = hash };
        *p = e;
        if (++h->size > h->n_buckets)
                grow(h);
        return 0;
}

void *hashmap_get(const Hashmap *h, const char *key) {
        Entry *e = *find(h, key, hash_string(key));
        return e ? e->value : NULL;
}

void *hashmap_remove(Hashmap *h, const char *key, void *value) {
        Entry **p = find(h, key, hash_string(key)), *e = *p;
        if (!e || (value && e->value != value))
                return NULL;
        *p = e->next;
        void *v = e->value;
        free(e);
        h->size--;
        return v;
}

size_t hashmap_size(const Hashmap *h) {
        return h->size;
}
