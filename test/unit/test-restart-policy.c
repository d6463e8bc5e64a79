/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Restart policies: which exits are restarted, the back-off, and what berthd brings back when it starts. */
#include "container.h"
#include "tests.h"

static void test_policy_names(void) {
        for (int p = 0; p < _RESTART_POLICY_MAX; p++)
                CHECK_INT(restart_policy_from_string(restart_policy_to_string((RestartPolicy) p)), p);
        CHECK_STR(restart_policy_to_string(RESTART_ON_FAILURE), "on-failure");
        CHECK_STR(restart_policy_to_string(RESTART_UNLESS_STOPPED), "unless-stopped");
        CHECK_INT(restart_policy_from_string("on-failure:3"), _RESTART_POLICY_INVALID); /* the count is apart */
        CHECK_INT(restart_policy_from_string(NULL), _RESTART_POLICY_INVALID);
        CHECK(restart_policy_to_string(_RESTART_POLICY_MAX) == NULL);
}

static void test_wanted(void) {
        /* no: never. */
        CHECK(!restart_wanted(RESTART_NO, 0, 0, 1, false));
        CHECK(!restart_wanted(RESTART_NO, 0, 0, 0, false));
        /* always and unless-stopped: whatever the exit code, however often. */
        CHECK(restart_wanted(RESTART_ALWAYS, 0, 0, 0, false));
        CHECK(restart_wanted(RESTART_ALWAYS, 0, 1000, 137, false));
        CHECK(restart_wanted(RESTART_UNLESS_STOPPED, 0, 5, 0, false));
        /* on-failure: only a non-zero exit, and (with :N) at most N times. */
        CHECK(!restart_wanted(RESTART_ON_FAILURE, 0, 0, 0, false));
        CHECK(restart_wanted(RESTART_ON_FAILURE, 0, 0, 1, false));
        CHECK(restart_wanted(RESTART_ON_FAILURE, 0, 99999, -1, false)); /* :0, or no count: unlimited */
        CHECK(restart_wanted(RESTART_ON_FAILURE, 3, 2, 1, false));
        CHECK(!restart_wanted(RESTART_ON_FAILURE, 3, 3, 1, false));
        CHECK(!restart_wanted(RESTART_ON_FAILURE, 3, 4, 1, false));
        /* Stopped by the user, being removed or AutoRemove: no policy restarts it. */
        for (int p = 0; p < _RESTART_POLICY_MAX; p++)
                CHECK(!restart_wanted((RestartPolicy) p, 0, 0, 1, true));
}

static void test_back_off(void) {
        const uint64_t t0 = 1700000000ULL * USEC_PER_SEC;
        /* A quick crash loop: 100 ms, doubling. */
        uint64_t d = restart_next_delay(0, t0, t0 + 1000);
        CHECK_INT(d, RESTART_DELAY_MIN_USEC);
        d = restart_next_delay(d, t0, t0 + 1000);
        CHECK_INT(d, 200 * 1000);
        d = restart_next_delay(d, t0, t0 + 1000);
        CHECK_INT(d, 400 * 1000);
        /* ... up to a minute, and there it stays. */
        for (int i = 0; i < 20; i++)
                d = restart_next_delay(d, t0, t0 + 1000);
        CHECK_INT(d, RESTART_DELAY_MAX_USEC);
        CHECK_INT(restart_next_delay(40 * USEC_PER_SEC, t0, t0), RESTART_DELAY_MAX_USEC); /* 80 s capped */
        /* A run of 10 s or more starts over at 100 ms; 9.999 s does not. */
        CHECK_INT(restart_next_delay(d, t0, t0 + RESTART_RESET_AFTER_USEC), RESTART_DELAY_MIN_USEC);
        CHECK_INT(restart_next_delay(6400 * 1000, t0, t0 + RESTART_RESET_AFTER_USEC - 1), 12800 * 1000);
        /* A failed start (the times are the previous run's) or a clock that went back: no reset. */
        CHECK_INT(restart_next_delay(800 * 1000, t0 + 20 * USEC_PER_SEC, t0), 1600 * 1000);
        CHECK_INT(restart_next_delay(800 * 1000, 0, 0), 1600 * 1000);
}

static void test_at_startup(void) {
        bool stopped;
        /* always: back even after a stop by hand. */
        stopped = true;
        CHECK(restart_at_startup(RESTART_ALWAYS, CONTAINER_EXITED, 0, &stopped));
        CHECK(!stopped);
        CHECK(restart_wanted(RESTART_ALWAYS, 0, 0, 0, stopped));
        /* unless-stopped: the stop is kept, so restart_wanted() says no. */
        stopped = true;
        CHECK(restart_at_startup(RESTART_UNLESS_STOPPED, CONTAINER_EXITED, 0, &stopped));
        CHECK(stopped);
        CHECK(!restart_wanted(RESTART_UNLESS_STOPPED, 0, 0, 0, stopped));
        stopped = false;
        CHECK(restart_at_startup(RESTART_UNLESS_STOPPED, CONTAINER_EXITED, 0, &stopped));
        CHECK(restart_wanted(RESTART_UNLESS_STOPPED, 0, 0, 0, stopped));
        /* Never started: not at all; created with a restart pending (its first start failed): yes. */
        stopped = false;
        CHECK(!restart_at_startup(RESTART_ALWAYS, CONTAINER_CREATED, 0, &stopped));
        CHECK(restart_at_startup(RESTART_ALWAYS, CONTAINER_CREATED, 2, &stopped));
        CHECK(!restart_at_startup(RESTART_ALWAYS, CONTAINER_RUNNING, 2, &stopped));
}

int main(void) {
        TEST(test_policy_names);
        TEST(test_wanted);
        TEST(test_back_off);
        TEST(test_at_startup);
        return tests_exit_status();
}
