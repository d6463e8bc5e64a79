/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>

#include "helper-protocol.h"
#include "macro.h"
#include "util.h"
#include "tests.h"

static bool status_eq(const HelperStatus *a, const HelperStatus *b) {
        if (a->ok != b->ok)
                return false;
        if (a->ok)
                return a->pid == b->pid && a->usec == b->usec;
        return a->error == b->error && a->kind == b->kind && streq(a->message, b->message);
}

/* Parse 's' (without its NUL), expecting success, and check it formats back to the same bytes. */
static void check_status_canonical(const char *s) {
        HelperStatus st, again;
        char buf[HELPER_STATUS_LINE_MAX];

        CHECK_INT(helper_status_parse(s, strlen(s), &st), 0);
        int n = helper_status_format(&st, buf, sizeof(buf));
        CHECK_INT(n, (int) strlen(s));
        CHECK_STR(buf, s);
        CHECK_INT(helper_status_parse(buf, (size_t) n, &again), 0);
        CHECK(status_eq(&st, &again));
}

static void check_status_invalid(const char *s, size_t len) {
        HelperStatus st = { .pid = 4711 };

        CHECK_INT(helper_status_parse(s, len, &st), -EBADMSG);
        CHECK_INT(st.pid, 4711); /* untouched */
}
#define STATUS_INVALID(s) check_status_invalid((s), sizeof(s) - 1)

static void test_descriptors(void) {
        char path[32];

        CHECK_INT(HELPER_FD_SPEC, 3);
        CHECK_INT(HELPER_FD_GO, 4);
        CHECK_INT(HELPER_FD_STATUS, 5);
        CHECK_INT(HELPER_FD_ATTACH_STDOUT, 6);
        CHECK_INT(HELPER_FD_ATTACH_STDERR, 7);
        CHECK_INT(HELPER_FD_SECCOMP, 8);
        CHECK_INT(HELPER_FD_ATTACH_STDIN, 9);
        CHECK_INT(HELPER_FD_EXE, 10);
        CHECK_INT(_HELPER_FD_MAX, 11);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", HELPER_FD_EXE);
        CHECK_STR(HELPER_EXE_PATH, path);
}

static void test_status_ok_round_trip(void) {
        HelperStatus st, parsed;
        char buf[HELPER_STATUS_LINE_MAX];
        const struct {
                pid_t pid;
                uint64_t usec;
        } cases[] = { { 1, 0 }, { 4711, 1700000000123456 }, { INT_MAX, UINT64_MAX } };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                helper_status_ok(&st, cases[i].pid, cases[i].usec);
                int n = helper_status_format(&st, buf, sizeof(buf));
                CHECK(n > 0);
                CHECK_INT(helper_status_parse(buf, (size_t) n, &parsed), 0);
                CHECK(parsed.ok);
                CHECK_INT(parsed.pid, cases[i].pid);
                CHECK(parsed.usec == cases[i].usec);
        }
        helper_status_ok(&st, 12, 345);
        CHECK_INT(helper_status_format(&st, buf, sizeof(buf)), 10);
        CHECK_STR(buf, "OK 12 345\n");
        check_status_canonical("OK 1 0\n");
        check_status_canonical("OK 2147483647 18446744073709551615\n");
}

static void test_status_failure_round_trip(void) {
        HelperStatus st, parsed;
        char buf[HELPER_STATUS_LINE_MAX];

        helper_status_failure(&st, HELPER_FAILURE_SETUP, EPERM, "mount %s", "/proc");
        CHECK(!st.ok);
        CHECK_INT(st.error, EPERM);
        CHECK_INT(st.kind, HELPER_FAILURE_SETUP);
        CHECK_STR(st.message, "Failed to mount /proc: Operation not permitted.");
        int n = helper_status_format(&st, buf, sizeof(buf));
        CHECK_STR(buf, "ERR 1 setup Failed to mount /proc: Operation not permitted.\n");
        CHECK_INT(helper_status_parse(buf, (size_t) n, &parsed), 0);
        CHECK(status_eq(&st, &parsed));

        /* Docker's wording for exec failures stays as it is: berthctl and scripts match it. */
        helper_status_failure_message(&st, HELPER_FAILURE_EXEC, ENOENT,
                                      "exec: \"%s\": executable file not found in $PATH", "x");
        CHECK_STR(st.message, "exec: \"x\": executable file not found in $PATH");
        n = helper_status_format(&st, buf, sizeof(buf));
        CHECK_STR(buf, "ERR 2 exec exec: \"x\": executable file not found in $PATH\n");
        CHECK_INT(helper_status_parse(buf, (size_t) n, &parsed), 0);
        CHECK(status_eq(&st, &parsed));
        CHECK_INT(parsed.kind, HELPER_FAILURE_EXEC);

        /* The message is the rest of the line, spaces and all. */
        check_status_canonical("ERR 4095 setup a  b c \r\t\n");
        check_status_canonical("ERR 13 exec  leading space\n");
        check_status_canonical("ERR 5 setup .\n");
        CHECK_STR(helper_failure_kind_to_string(HELPER_FAILURE_SETUP), "setup");
        CHECK_STR(helper_failure_kind_to_string(HELPER_FAILURE_EXEC), "exec");
        CHECK(!helper_failure_kind_to_string(_HELPER_FAILURE_KIND_MAX));
        CHECK(!helper_failure_kind_to_string((HelperFailureKind) -1));
}

/* Whatever goes in, the constructors make a status that formats and parses back. */
static void test_status_failure_sanitized(void) {
        HelperStatus st, parsed;
        char buf[HELPER_STATUS_LINE_MAX], big[3 * HELPER_STATUS_MESSAGE_MAX];

        helper_status_failure(&st, HELPER_FAILURE_SETUP, 0, "mount %s", "/a\nb");
        CHECK_INT(st.error, EIO); /* no error: EIO */
        CHECK_STR(st.message, "Failed to mount /a b: Input/output error.");
        helper_status_failure(&st, HELPER_FAILURE_SETUP, -EPERM, "x");
        CHECK_INT(st.error, EIO);
        helper_status_failure(&st, HELPER_FAILURE_SETUP, HELPER_ERRNO_MAX + 1, "x");
        CHECK_INT(st.error, EIO);
        helper_status_failure(&st, (HelperFailureKind) 7, EPERM, "x");
        CHECK_INT(st.kind, HELPER_FAILURE_SETUP);
        helper_status_failure_message(&st, HELPER_FAILURE_EXEC, EACCES, "%s", "");
        CHECK_STR(st.message, "Failed: Permission denied.");
        helper_status_failure_message(&st, HELPER_FAILURE_EXEC, EACCES, "\n");
        CHECK_STR(st.message, " ");

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        helper_status_failure(&st, HELPER_FAILURE_SETUP, ENOSPC, "%s", big);
        CHECK(strlen(st.message) < HELPER_STATUS_MESSAGE_MAX);
        CHECK(endswith(st.message, "a: No space left on device.")); /* what is cut, not the reason */
        int n = helper_status_format(&st, buf, sizeof(buf));
        CHECK(n > 0 && n < HELPER_STATUS_LINE_MAX);
        CHECK_INT(helper_status_parse(buf, (size_t) n, &parsed), 0);
        CHECK(status_eq(&st, &parsed));
        helper_status_failure_message(&st, HELPER_FAILURE_EXEC, ENOSPC, "%s", big);
        CHECK_INT((int) strlen(st.message), HELPER_STATUS_MESSAGE_MAX - 1);
        n = helper_status_format(&st, buf, sizeof(buf));
        CHECK_INT(helper_status_parse(buf, (size_t) n, &parsed), 0);
        CHECK(status_eq(&st, &parsed));
}

static void test_status_format_refuses(void) {
        HelperStatus st;
        char buf[HELPER_STATUS_LINE_MAX];

        helper_status_ok(&st, 0, 1);
        CHECK_INT(helper_status_format(&st, buf, sizeof(buf)), -EINVAL);
        helper_status_ok(&st, -5, 1);
        CHECK_INT(helper_status_format(&st, buf, sizeof(buf)), -EINVAL);
        helper_status_ok(&st, 5, 1);
        CHECK_INT(helper_status_format(&st, buf, 8), 7); /* "OK 5 1\n" and its NUL */
        CHECK_INT(helper_status_format(&st, buf, 7), -ENOBUFS);

        helper_status_failure(&st, HELPER_FAILURE_SETUP, EPERM, "x");
        st.error = 0;
        CHECK_INT(helper_status_format(&st, buf, sizeof(buf)), -EINVAL);
        st.error = HELPER_ERRNO_MAX + 1;
        CHECK_INT(helper_status_format(&st, buf, sizeof(buf)), -EINVAL);
        st.error = EPERM;
        st.kind = _HELPER_FAILURE_KIND_MAX;
        CHECK_INT(helper_status_format(&st, buf, sizeof(buf)), -EINVAL);
        st.kind = HELPER_FAILURE_EXEC;
        strcpy(st.message, "two\nlines");
        CHECK_INT(helper_status_format(&st, buf, sizeof(buf)), -EINVAL);
        st.message[0] = 0;
        CHECK_INT(helper_status_format(&st, buf, sizeof(buf)), -EINVAL);
        memset(st.message, 'm', sizeof(st.message)); /* not terminated */
        CHECK_INT(helper_status_format(&st, buf, sizeof(buf)), -EINVAL);
}

static void test_status_parse_rejects(void) {
        char big[HELPER_STATUS_LINE_MAX + 16];

        check_status_invalid(NULL, 0);
        STATUS_INVALID("");
        STATUS_INVALID("\n");
        STATUS_INVALID("OK");
        STATUS_INVALID("OK\n");
        STATUS_INVALID("OK 12 345"); /* truncated: no newline */
        STATUS_INVALID("OK 12\n");
        STATUS_INVALID("OK 12 \n");
        STATUS_INVALID("OK 12 345 6\n"); /* extra field */
        STATUS_INVALID("OK 12 345 \n");
        STATUS_INVALID("OK 12 345\n\n");
        STATUS_INVALID("OK 12 345\nOK 12 345\n");
        STATUS_INVALID("OK 0 345\n"); /* no such pid */
        STATUS_INVALID("OK -12 345\n");
        STATUS_INVALID("OK +12 345\n");
        STATUS_INVALID("OK 12 -345\n");
        STATUS_INVALID("OK 012 345\n"); /* not canonical */
        STATUS_INVALID("OK 12 0345\n");
        STATUS_INVALID("OK 2147483648 345\n"); /* overflow */
        STATUS_INVALID("OK 12 18446744073709551616\n");
        STATUS_INVALID("OK 12 99999999999999999999999\n");
        STATUS_INVALID("OK  12 345\n");
        STATUS_INVALID("OK 12  345\n");
        STATUS_INVALID(" OK 12 345\n");
        STATUS_INVALID("ok 12 345\n");
        STATUS_INVALID("OK 0x12 345\n");
        STATUS_INVALID("OK 12 345\r\n");
        STATUS_INVALID("OK 1\0002 345\n");
        STATUS_INVALID("ERR\n");
        STATUS_INVALID("ERR 1\n");
        STATUS_INVALID("ERR 1 setup\n"); /* missing message */
        STATUS_INVALID("ERR 1 setup \n"); /* empty message */
        STATUS_INVALID("ERR 1 setup x"); /* truncated */
        STATUS_INVALID("ERR 0 setup x\n");
        STATUS_INVALID("ERR -1 setup x\n");
        STATUS_INVALID("ERR 4096 setup x\n");
        STATUS_INVALID("ERR 01 setup x\n");
        STATUS_INVALID("ERR 1 boot x\n"); /* unknown kind */
        STATUS_INVALID("ERR 1 Setup x\n");
        STATUS_INVALID("ERR 1 setupx y\n");
        STATUS_INVALID("ERR 1  setup x\n");
        STATUS_INVALID("ERR 1 setup x\ny\n");
        STATUS_INVALID("ERR 1 setup x\0y\n");
        STATUS_INVALID("ERROR 1 setup x\n");
        STATUS_INVALID("\x01\xff garbage \x7f\n");

        /* A message longer than any the helper can write. */
        memcpy(big, "ERR 1 setup ", 12);
        memset(big + 12, 'm', sizeof(big) - 13);
        big[sizeof(big) - 1] = '\n';
        check_status_invalid(big, sizeof(big));
        size_t len = 12 + HELPER_STATUS_MESSAGE_MAX - 1; /* the longest message: accepted */
        big[len] = '\n';
        HelperStatus st;
        CHECK_INT(helper_status_parse(big, len + 1, &st), 0);
        CHECK_INT((int) strlen(st.message), HELPER_STATUS_MESSAGE_MAX - 1);
        big[len + 1] = '\n'; /* one byte more */
        big[len] = 'm';
        check_status_invalid(big, len + 2);
}

static void test_running_file(void) {
        HelperRunning r = { .helper_pid = 100, .payload_pid = 101, .started_usec = 1700000000000000 }, parsed;
        char buf[HELPER_RUNTIME_LINE_MAX];

        int n = helper_running_format(&r, buf, sizeof(buf));
        CHECK_STR(buf, "100 101 1700000000000000\n");
        CHECK_INT(helper_running_parse(buf, (size_t) n, &parsed), 0);
        CHECK_INT(parsed.helper_pid, 100);
        CHECK_INT(parsed.payload_pid, 101);
        CHECK(parsed.started_usec == 1700000000000000);

        r = (HelperRunning){ .helper_pid = INT_MAX, .payload_pid = INT_MAX, .started_usec = UINT64_MAX };
        n = helper_running_format(&r, buf, sizeof(buf));
        CHECK(n > 0);
        CHECK_INT(helper_running_parse(buf, (size_t) n, &parsed), 0);
        CHECK(parsed.helper_pid == INT_MAX && parsed.payload_pid == INT_MAX && parsed.started_usec == UINT64_MAX);

        r.helper_pid = 0;
        CHECK_INT(helper_running_format(&r, buf, sizeof(buf)), -EINVAL);
        r.helper_pid = 1;
        r.payload_pid = -1;
        CHECK_INT(helper_running_format(&r, buf, sizeof(buf)), -EINVAL);
        r.payload_pid = 1;
        CHECK_INT(helper_running_format(&r, buf, 4), -ENOBUFS);

        const char *bad[] = {
                "",
                "\n",
                "100 101\n",
                "100 101 5",
                "100 101 5 6\n",
                "100 101 5 \n",
                "0 101 5\n",
                "100 0 5\n",
                "-100 101 5\n",
                "100 -101 5\n",
                "100 101 -5\n",
                "2147483648 101 5\n",
                "100 101 18446744073709551616\n",
                "0100 101 5\n",
                "100  101 5\n",
                "100 101 5\n\n",
                "x y z\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                parsed = (HelperRunning){ .helper_pid = 7 };
                CHECK_INT(helper_running_parse(bad[i], strlen(bad[i]), &parsed), -EBADMSG);
                CHECK_INT(parsed.helper_pid, 7);
        }
        CHECK_INT(helper_running_parse("1 2\0003\n", 6, &parsed), -EBADMSG);
}

static void test_exit_file(void) {
        HelperExit e = { .exit_code = 137, .finished_usec = 1700000000000001, .oom_kills = 2 }, parsed;
        char buf[HELPER_RUNTIME_LINE_MAX];

        int n = helper_exit_format(&e, buf, sizeof(buf));
        CHECK_STR(buf, "137 1700000000000001 2\n");
        CHECK_INT(helper_exit_parse(buf, (size_t) n, &parsed), 0);
        CHECK_INT(parsed.exit_code, 137);
        CHECK(parsed.finished_usec == 1700000000000001 && parsed.oom_kills == 2);

        e = (HelperExit){ .exit_code = 255, .finished_usec = UINT64_MAX, .oom_kills = UINT64_MAX };
        n = helper_exit_format(&e, buf, sizeof(buf));
        CHECK(n > 0);
        CHECK_INT(helper_exit_parse(buf, (size_t) n, &parsed), 0);
        CHECK(parsed.exit_code == 255 && parsed.finished_usec == UINT64_MAX && parsed.oom_kills == UINT64_MAX);
        e = (HelperExit){ .exit_code = 0 };
        n = helper_exit_format(&e, buf, sizeof(buf));
        CHECK_STR(buf, "0 0 0\n");

        /* Files of helpers before the OOM count: two fields, none killed. */
        parsed = (HelperExit){ .oom_kills = 9 };
        CHECK_INT(helper_exit_parse("3 1700000000000002\n", 19, &parsed), 0);
        CHECK_INT(parsed.exit_code, 3);
        CHECK(parsed.finished_usec == 1700000000000002 && parsed.oom_kills == 0);

        e.exit_code = -1;
        CHECK_INT(helper_exit_format(&e, buf, sizeof(buf)), -EINVAL);
        e.exit_code = 256;
        CHECK_INT(helper_exit_format(&e, buf, sizeof(buf)), -EINVAL);
        e.exit_code = 1;
        CHECK_INT(helper_exit_format(&e, buf, 6), -ENOBUFS);
        CHECK_INT(helper_exit_format(&e, buf, 7), 6);

        const char *bad[] = {
                "",
                "\n",
                "3\n",
                "3 \n",
                "3 5",
                "3 5 1",
                "3 5 \n",
                "3 5 1 1\n",
                "-1 5 0\n",
                "256 5 0\n",
                "03 5 0\n",
                "3 -5 0\n",
                "3 5 -1\n",
                "3 18446744073709551616 0\n",
                "3 5 18446744073709551616\n",
                "3  5 0\n",
                "3 5 0\n\n",
                "exit 3\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                parsed = (HelperExit){ .exit_code = 77 };
                CHECK_INT(helper_exit_parse(bad[i], strlen(bad[i]), &parsed), -EBADMSG);
                CHECK_INT(parsed.exit_code, 77);
        }
        CHECK_INT(helper_exit_parse("3 5\0000\n", 6, &parsed), -EBADMSG);
}

static void test_log_dropped_file(void) {
        char buf[HELPER_RUNTIME_LINE_MAX];
        uint64_t v = 0;

        int n = helper_log_dropped_format(1234, buf, sizeof(buf));
        CHECK_INT(n, 5);
        CHECK(!memcmp(buf, "1234\n", 5));
        CHECK_INT(helper_log_dropped_parse(buf, (size_t) n, &v), 0);
        CHECK(v == 1234);
        CHECK_INT(helper_log_dropped_parse("18446744073709551615\n", 21, &v), 0);
        CHECK(v == UINT64_MAX);
        static const char *const bad[] = { "",       "\n",   "12",
                                           "-1\n",   "01\n", "1 2\n",
                                           "12\n\n", "x\n",  "18446744073709551616\n" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                v = 77;
                CHECK_INT(helper_log_dropped_parse(bad[i], strlen(bad[i]), &v), -EBADMSG);
                CHECK(v == 77);
        }
}

int main(void) {
        TEST(test_descriptors);
        TEST(test_status_ok_round_trip);
        TEST(test_status_failure_round_trip);
        TEST(test_status_failure_sanitized);
        TEST(test_status_format_refuses);
        TEST(test_status_parse_rejects);
        TEST(test_running_file);
        TEST(test_exit_file);
        TEST(test_log_dropped_file);
        return tests_exit_status();
}
