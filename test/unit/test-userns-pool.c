/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "container.h"

static int failures;

#define CHECK(x)                                                             \
        do {                                                                 \
                if (!(x)) {                                                  \
                        fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #x); \
                        failures++;                                          \
                }                                                            \
        } while (0)

int main(void) {
        uint32_t start = 0, end = 0, base = 0;

        /* The pool: the overlap of user berth's first entries in both files. */
        CHECK(userns_pool_from_subid("alice:100000:65536\nberth:200000:655360\n", "berth:262144:1000000\n", "berth",
                                     &start, &end) == 0);
        CHECK(start == 262144 && end == 855360);
        CHECK(userns_pool_from_subid("berthd:1:2\n", "berth:1:2\n", "berth", &start, &end) == -ENOENT);
        CHECK(userns_pool_from_subid("berth:100000:65536\n", NULL, "berth", &start, &end) == -ENOENT);
        CHECK(userns_pool_from_subid("berth:x:65536\n", "berth:100000:65536\n", "berth", &start, &end) == -EINVAL);
        CHECK(userns_pool_from_subid("berth:0:131072\n", "berth:0:131072\n", "berth", &start, &end) == 0);
        CHECK(start == 1 && end == 131072); /* never id 0 */

        /* Ranges: the lowest free one, never overlapping a used one, even an unaligned one. */
        CHECK(userns_pick_base(USERNS_POOL_START, USERNS_POOL_END, NULL, 0, &base) == 0 && base == USERNS_POOL_START);
        uint32_t used[] = { USERNS_POOL_START, USERNS_POOL_START + 2 * USERNS_RANGE + 5 };
        CHECK(userns_pick_base(USERNS_POOL_START, USERNS_POOL_END, used, 2, &base) == 0 &&
              base == USERNS_POOL_START + USERNS_RANGE);
        uint32_t used2[] = { USERNS_POOL_START, USERNS_POOL_START + USERNS_RANGE,
                             USERNS_POOL_START + 2 * USERNS_RANGE + 5 };
        CHECK(userns_pick_base(USERNS_POOL_START, USERNS_POOL_END, used2, 3, &base) == 0 &&
              base == USERNS_POOL_START + 4 * USERNS_RANGE);
        CHECK(userns_pick_base(100000, 100000 + USERNS_RANGE - 1, NULL, 0, &base) == -ENOSPC);
        CHECK(userns_pick_base(UINT32_MAX - USERNS_RANGE, UINT32_MAX, NULL, 0, &base) == 0);
        return failures ? 1 : 0;
}
