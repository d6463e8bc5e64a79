/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A deliberately tiny test harness: CHECK() prints a FAIL line and counts, TEST() prints "ok"/"FAIL"
 * per test function, and main() returns tests_exit_status(). */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned tests_failed;

#define CHECK(expr)                                                            \
        do {                                                                   \
                if (!(expr)) {                                                 \
                        printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #expr); \
                        tests_failed++;                                        \
                }                                                              \
        } while (0)

#define CHECK_INT(a, b)                                                                                      \
        do {                                                                                                 \
                long long _a = (long long) (a), _b = (long long) (b);                                        \
                if (_a != _b) {                                                                              \
                        printf("FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, _a, _b); \
                        tests_failed++;                                                                      \
                }                                                                                            \
        } while (0)

#define CHECK_STR(a, b)                                                                                 \
        do {                                                                                            \
                const char *_a = (a), *_b = (b);                                                        \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                                \
                        printf("FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", __FILE__, __LINE__, #a, #b, \
                               _a ?: "(null)", _b ?: "(null)");                                         \
                        tests_failed++;                                                                 \
                }                                                                                       \
        } while (0)

/* For setup steps without which the rest of the test is meaningless. */
#define ASSERT(expr)                                                                   \
        do {                                                                           \
                if (!(expr)) {                                                         \
                        printf("FAIL %s:%d: %s (fatal)\n", __FILE__, __LINE__, #expr); \
                        exit(EXIT_FAILURE);                                            \
                }                                                                      \
        } while (0)

#define TEST(fn)                                                                 \
        do {                                                                     \
                unsigned _before = tests_failed;                                 \
                fn();                                                            \
                printf("%s %s\n", tests_failed == _before ? "ok" : "FAIL", #fn); \
                fflush(stdout);                                                  \
        } while (0)

static inline int tests_exit_status(void) {
        if (tests_failed > 0)
                printf("%u check(s) failed\n", tests_failed);
        return tests_failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
