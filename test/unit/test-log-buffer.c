/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The non-blocking mode's ring buffer and the rate limit of berth-nspawn (log-buffer.h). */
#include <errno.h>

#include "log-buffer.h"
#include "tests.h"

static bool pop_is(LogRing *r, int priority, bool partial, const char *line) {
        char buf[256];
        int p = -1;
        bool part = !partial;
        size_t len = 0;
        if (log_ring_pop(r, &p, &part, buf, sizeof(buf), &len) != 1)
                return false;
        return p == priority && part == partial && len == strlen(line) && memcmp(buf, line, len) == 0;
}

static void test_ring_fifo(void) {
        LogRing r;
        char buf[16];
        int p;
        bool partial;
        size_t len;

        CHECK_INT(log_ring_init(&r, 64), 0);
        CHECK_INT(log_ring_pop(&r, &p, &partial, buf, sizeof(buf), &len), 0);
        CHECK_INT(log_ring_push(&r, 6, false, "one", 3, false), 0);
        CHECK_INT(log_ring_push(&r, 3, true, "two", 3, false), 0);
        CHECK_INT(log_ring_push(&r, 6, false, "", 0, false), 0);
        CHECK_INT(r.used, 3 * LOG_RING_HEADER_SIZE + 6);
        CHECK(pop_is(&r, 6, false, "one"));
        CHECK(pop_is(&r, 3, true, "two"));
        CHECK(pop_is(&r, 6, false, ""));
        CHECK_INT(r.used, 0);
        CHECK_INT(log_ring_pop(&r, &p, &partial, buf, sizeof(buf), &len), 0);
        log_ring_done(&r);
}

/* Full means full: an entry that does not fit is refused whole and the ring stays as it was; the
 * reserve takes only what is pushed as reserved. */
static void test_ring_full(void) {
        LogRing r;
        CHECK_INT(log_ring_init(&r, 32), 0);
        CHECK_INT(log_ring_push(&r, 6, false, "0123456789abcdef", 16, false), 0); /* 24 bytes */
        CHECK_INT(log_ring_push(&r, 6, false, "0123456789", 10, false), -ENOBUFS); /* 18 more: no */
        CHECK_INT(r.used, 24);
        CHECK_INT(log_ring_push(&r, 6, false, "", 0, false), 0); /* exactly 32 */
        CHECK_INT(log_ring_push(&r, 6, false, "", 0, false), -ENOBUFS);
        CHECK_INT(log_ring_push(&r, 3, false, "berth: 2 lines dropped", 22, true), 0);
        CHECK_INT(log_ring_push(&r, 6, false, "x", 1, false), -ENOBUFS); /* beyond the size: still full */
        /* A line longer than the whole ring never fits. */
        LogRing tiny;
        CHECK_INT(log_ring_init(&tiny, 8), 0);
        CHECK_INT(log_ring_push(&tiny, 6, false, "a", 1, false), -ENOBUFS);
        log_ring_done(&tiny);
        CHECK(pop_is(&r, 6, false, "0123456789abcdef"));
        CHECK(pop_is(&r, 6, false, ""));
        CHECK(pop_is(&r, 3, false, "berth: 2 lines dropped"));
        CHECK_INT(r.used, 0);
        log_ring_done(&r);
}

/* Entries wrap around the end of the buffer, headers included, and come back whole. */
static void test_ring_wraps(void) {
        LogRing r;
        char line[40];
        CHECK_INT(log_ring_init(&r, 50), 0);
        r.reserve = 0; /* a capacity of exactly 50 bytes: wrapping at every offset */
        for (unsigned round = 0; round < 200; round++) {
                size_t len = round % 23;
                for (size_t i = 0; i < len; i++)
                        line[i] = (char) ('a' + (round + i) % 26);
                line[len] = 0;
                CHECK_INT(log_ring_push(&r, round % 2 ? 3 : 6, round % 3 == 0, line, len, false), 0);
                if (round % 2 == 1)
                        CHECK_INT(log_ring_push(&r, 6, false, "z", 1, false), 0);
                CHECK(pop_is(&r, round % 2 ? 3 : 6, round % 3 == 0, line));
                if (round % 2 == 1)
                        CHECK(pop_is(&r, 6, false, "z"));
                CHECK_INT(r.used, 0);
                /* Leave one entry in, so the next round starts at another offset. */
                if (round % 5 == 0) {
                        CHECK_INT(log_ring_push(&r, 6, false, "keep", 4, false), 0);
                        CHECK(pop_is(&r, 6, false, "keep"));
                }
        }
        /* Too small a buffer for the popped line: refused, nothing taken. */
        CHECK_INT(log_ring_push(&r, 6, false, "0123456789", 10, false), 0);
        char small[4];
        int p;
        bool partial;
        size_t len;
        CHECK_INT(log_ring_pop(&r, &p, &partial, small, sizeof(small), &len), -ENOBUFS);
        CHECK(pop_is(&r, 6, false, "0123456789"));
        log_ring_done(&r);
}

static void test_ratelimit(void) {
        const uint64_t s = 1000000;
        LogRateLimit off = {};
        for (int i = 0; i < 100000; i++)
                CHECK(log_ratelimit_test(&off, (uint64_t) i));
        LogRateLimit only_burst = { .burst = 1 };
        CHECK(log_ratelimit_test(&only_burst, 0) && log_ratelimit_test(&only_burst, 0));

        LogRateLimit rl = { .interval_usec = 10 * s, .burst = 3 };
        uint64_t t0 = 5 * s;
        CHECK(log_ratelimit_test(&rl, t0));
        CHECK(log_ratelimit_test(&rl, t0 + 1));
        CHECK(log_ratelimit_test(&rl, t0 + 9 * s));
        CHECK(!log_ratelimit_test(&rl, t0 + 9 * s));
        CHECK(!log_ratelimit_test(&rl, t0 + 10 * s - 1));
        /* A new window from the first line after the last one ended. */
        CHECK(log_ratelimit_test(&rl, t0 + 10 * s));
        CHECK(log_ratelimit_test(&rl, t0 + 11 * s));
        CHECK(log_ratelimit_test(&rl, t0 + 12 * s));
        CHECK(!log_ratelimit_test(&rl, t0 + 12 * s));
        CHECK(log_ratelimit_test(&rl, t0 + 100 * s));
        /* The very first window may start at 0 too. */
        LogRateLimit zero = { .interval_usec = s, .burst = 1 };
        CHECK(log_ratelimit_test(&zero, 0));
        CHECK(!log_ratelimit_test(&zero, s - 1));
        CHECK(log_ratelimit_test(&zero, s));
}

int main(void) {
        TEST(test_ring_fifo);
        TEST(test_ring_full);
        TEST(test_ring_wraps);
        TEST(test_ratelimit);
        return tests_exit_status();
}
