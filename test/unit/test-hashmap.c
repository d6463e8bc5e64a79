/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "tests.h"

static void test_basics(void) {
        Hashmap *h = hashmap_new();
        int a = 1, b = 2;
        CHECK(h);
        CHECK(hashmap_get(h, "x") == NULL);
        CHECK(hashmap_put(h, "x", &a) == 0);
        CHECK(hashmap_put(h, "x", &b) == -EEXIST);
        CHECK(hashmap_get(h, "x") == &a);
        CHECK(hashmap_put(h, "", &b) == 0);
        CHECK(hashmap_get(h, "") == &b);
        CHECK(hashmap_size(h) == 2);
        /* Removal only of the value asked for: another object's entry of the same key stays. */
        CHECK(hashmap_remove(h, "x", &b) == NULL);
        CHECK(hashmap_get(h, "x") == &a);
        CHECK(hashmap_remove(h, "x", &a) == &a);
        CHECK(hashmap_get(h, "x") == NULL);
        CHECK(hashmap_remove(h, "x", NULL) == NULL);
        CHECK(hashmap_remove(h, "", NULL) == &b);
        CHECK(hashmap_size(h) == 0);
        hashmap_free(h);
        hashmap_free(NULL);
}

/* Many keys, through several growths, then half removed: every lookup still right. */
static void test_many(void) {
        enum { N = 20000 };
        static char keys[N][24];
        Hashmap *h = hashmap_new();
        CHECK(h);
        for (int i = 0; i < N; i++) {
                snprintf(keys[i], sizeof(keys[i]), "key-%d", i);
                CHECK(hashmap_put(h, keys[i], keys[i]) == 0);
        }
        CHECK(hashmap_size(h) == N);
        for (int i = 0; i < N; i += 2)
                CHECK(hashmap_remove(h, keys[i], keys[i]) == keys[i]);
        for (int i = 0; i < N; i++)
                CHECK(hashmap_get(h, keys[i]) == (i % 2 ? keys[i] : NULL));
        CHECK(hashmap_size(h) == N / 2);
        hashmap_free(h);
}

int main(void) {
        TEST(test_basics);
        TEST(test_many);
        return tests_exit_status();
}
