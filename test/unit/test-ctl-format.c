/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-format.h"
#include "util.h"

static int failures = 0;

#define CHECK(expr)                                                             \
        do {                                                                    \
                if (expr)                                                       \
                        printf("ok   %s\n", #expr);                             \
                else {                                                          \
                        printf("FAIL %s (%s:%d)\n", #expr, __FILE__, __LINE__); \
                        failures++;                                             \
                }                                                               \
        } while (0)

static bool str_is(char *s, const char *expected) {
        bool ok = s && streq(s, expected);
        if (!ok)
                printf("     got \"%s\", expected \"%s\"\n", s ? s : "(null)", expected);
        free(s);
        return ok;
}

static void test_size(void) {
        char buf[CTL_FORMAT_SIZE_MAX];

        CHECK(streq(ctl_format_size(0, buf), "0B"));
        CHECK(streq(ctl_format_size(999, buf), "999B"));
        CHECK(streq(ctl_format_size(1000, buf), "1kB"));
        CHECK(streq(ctl_format_size(1234, buf), "1.23kB"));
        CHECK(streq(ctl_format_size(4194304, buf), "4.19MB"));
        CHECK(streq(ctl_format_size_binary(0, buf), "0B"));
        CHECK(streq(ctl_format_size_binary(1024, buf), "1KiB"));
        CHECK(streq(ctl_format_size_binary(536870912, buf), "512MiB"));
        CHECK(streq(ctl_format_size_binary(16684519424ULL, buf), "15.54GiB"));
        CHECK(streq(ctl_format_size(4200000, buf), "4.2MB"));
        CHECK(streq(ctl_format_size(999999, buf), "1MB"));
        CHECK(streq(ctl_format_size(1230000000, buf), "1.23GB"));
        CHECK(streq(ctl_format_size(UINT64_MAX, buf), "18.4EB"));
}

static void test_status(void) {
        const uint64_t now = 1700000000ULL * USEC_PER_SEC;

        CHECK(str_is(ctl_format_status("created", 0, 0, 0, now), "Created"));
        CHECK(str_is(ctl_format_status("running", 0, now - 5 * USEC_PER_SEC, 0, now), "Up 5 seconds"));
        CHECK(str_is(ctl_format_status("running", 0, now - 90 * USEC_PER_SEC, 0, now), "Up About a minute"));
        CHECK(str_is(ctl_format_status("running", 0, now, 0, now), "Up Less than a second"));
        CHECK(str_is(ctl_format_status("exited", 0, 1, now - 3 * USEC_PER_SEC, now), "Exited (0) 3 seconds ago"));
        CHECK(str_is(ctl_format_status("exited", 137, 1, now - 3 * 3600 * USEC_PER_SEC, now),
                     "Exited (137) 3 hours ago"));
        CHECK(str_is(ctl_format_status("exited", 1, 0, 0, now), "Exited (1)"));
        CHECK(str_is(ctl_format_status("dead", 0, 0, 0, now), "Dead"));
        CHECK(str_is(ctl_format_status("paused", 0, now - 3 * 3600 * USEC_PER_SEC, 0, now), "Up 3 hours (Paused)"));
        CHECK(str_is(ctl_format_status("restarting", 1, 1, now - 2 * USEC_PER_SEC, now),
                     "Restarting (1) 2 seconds ago"));
        CHECK(ctl_state_is_active("running") && ctl_state_is_active("paused") && ctl_state_is_active("restarting"));
        CHECK(!ctl_state_is_active("exited") && !ctl_state_is_active("created") && !ctl_state_is_active(NULL));
        char *labels[] = { (char *) "tier=web", (char *) "empty=", (char *) "tiered=x", NULL };
        CHECK(ctl_labels_match(labels, "tier") && ctl_labels_match(labels, "tier=web") &&
              ctl_labels_match(labels, "empty") && ctl_labels_match(labels, "empty="));
        CHECK(!ctl_labels_match(labels, "tier=db") && !ctl_labels_match(labels, "tie") &&
              !ctl_labels_match(labels, "web") && !ctl_labels_match(NULL, "tier"));
        CHECK(str_is(ctl_format_status(NULL, 0, 0, 0, now), "Unknown"));
        CHECK(str_is(ctl_format_status_health("running", "healthy", 0, now - 5 * USEC_PER_SEC, 0, now),
                     "Up 5 seconds (healthy)"));
        CHECK(str_is(ctl_format_status_health("running", "unhealthy", 0, now - 5 * USEC_PER_SEC, 0, now),
                     "Up 5 seconds (unhealthy)"));
        CHECK(str_is(ctl_format_status_health("running", "starting", 0, now - 5 * USEC_PER_SEC, 0, now),
                     "Up 5 seconds (health: starting)"));
        CHECK(str_is(ctl_format_status_health("running", "", 0, now - 5 * USEC_PER_SEC, 0, now), "Up 5 seconds"));
        CHECK(str_is(ctl_format_status_health("exited", "unhealthy", 1, 0, 0, now), "Exited (1)"));
        CHECK(str_is(ctl_format_ago(now - 5 * USEC_PER_SEC, now), "5 seconds ago"));
        CHECK(str_is(ctl_format_ago(now + 5 * USEC_PER_SEC, now), "Less than a second ago"));
        CHECK(str_is(ctl_format_ago(0, now), "N/A"));
}

static void test_command(void) {
        char *sh[] = { (char *) "sh", (char *) "-c", (char *) "echo hello world; sleep 10", NULL };
        char *quote[] = { (char *) "echo", (char *) "a\"b\\c\n", NULL };
        char *none[] = { NULL };

        CHECK(str_is(ctl_format_command(sh, true), "\"sh -c echo hello wo…\""));
        CHECK(str_is(ctl_format_command(sh, false), "\"sh -c echo hello world; sleep 10\""));
        CHECK(str_is(ctl_format_command(quote, false), "\"echo a\\\"b\\\\c\\n\""));
        CHECK(str_is(ctl_format_command(none, true), "\"\""));
        CHECK(ctl_utf8_width("a…b") == 3);
        CHECK(ctl_utf8_width("") == 0);
}

static void test_signal(void) {
        int s = 0;

        CHECK(ctl_parse_signal("KILL", &s) == 0 && s == SIGKILL);
        CHECK(ctl_parse_signal("SIGTERM", &s) == 0 && s == SIGTERM);
        CHECK(ctl_parse_signal("term", &s) == 0 && s == SIGTERM);
        CHECK(ctl_parse_signal("sigusr1", &s) == 0 && s == SIGUSR1);
        CHECK(ctl_parse_signal("9", &s) == 0 && s == 9);
        CHECK(ctl_parse_signal("15", &s) == 0 && s == 15);
        CHECK(ctl_parse_signal("RTMIN", &s) == 0 && s == SIGRTMIN);
        CHECK(ctl_parse_signal("RTMIN+3", &s) == 0 && s == SIGRTMIN + 3);
        CHECK(ctl_parse_signal("SIGRTMAX-1", &s) == 0 && s == SIGRTMAX - 1);
        CHECK(ctl_parse_signal("0", &s) == -EINVAL);
        CHECK(ctl_parse_signal("65", &s) == -EINVAL);
        CHECK(ctl_parse_signal("-9", &s) == -EINVAL);
        CHECK(ctl_parse_signal("FOO", &s) == -EINVAL);
        CHECK(ctl_parse_signal("SIG", &s) == -EINVAL);
        CHECK(ctl_parse_signal("RTMIN+100", &s) == -EINVAL);
        CHECK(ctl_parse_signal("9x", &s) == -EINVAL);
        CHECK(ctl_parse_signal("", &s) == -EINVAL);
}

static void test_cpus(void) {
        uint64_t u = 0;

        CHECK(ctl_parse_cpus("1.5", &u) == 0 && u == 1500000);
        CHECK(ctl_parse_cpus("1", &u) == 0 && u == 1000000);
        CHECK(ctl_parse_cpus("0.5", &u) == 0 && u == 500000);
        CHECK(ctl_parse_cpus(".25", &u) == 0 && u == 250000);
        CHECK(ctl_parse_cpus("2.", &u) == 0 && u == 2000000);
        CHECK(ctl_parse_cpus("0.01", &u) == 0 && u == 10000);
        CHECK(ctl_parse_cpus("1024", &u) == 0 && u == 1024000000);
        CHECK(ctl_parse_cpus("abc", &u) == -EINVAL);
        CHECK(ctl_parse_cpus("", &u) == -EINVAL);
        CHECK(ctl_parse_cpus(".", &u) == -EINVAL);
        CHECK(ctl_parse_cpus("1.5x", &u) == -EINVAL);
        CHECK(ctl_parse_cpus("1e3", &u) == -EINVAL);
        CHECK(ctl_parse_cpus("0.0000000001", &u) == -EINVAL);
        CHECK(ctl_parse_cpus("-1", &u) == -ERANGE);
        CHECK(ctl_parse_cpus("0", &u) == -ERANGE);
        CHECK(ctl_parse_cpus("0.009", &u) == -ERANGE);
        CHECK(ctl_parse_cpus("1025", &u) == -ERANGE);
        CHECK(ctl_parse_cpus("99999999999999999999999", &u) == -ERANGE);
}

static void test_pids_tail(void) {
        uint64_t v = 0;

        CHECK(ctl_parse_pids_limit("100", &v) == 0 && v == 100);
        CHECK(ctl_parse_pids_limit("-1", &v) == 0 && v == UINT64_MAX);
        CHECK(ctl_parse_pids_limit("0", &v) == 0 && v == UINT64_MAX);
        CHECK(ctl_parse_pids_limit("-2", &v) == -ERANGE);
        CHECK(ctl_parse_pids_limit("ten", &v) == -EINVAL);
        CHECK(ctl_parse_pids_limit("10k", &v) == -EINVAL);
        CHECK(ctl_parse_pids_limit("", &v) == -EINVAL);

        CHECK(ctl_parse_tail("all", &v) == 0 && v == UINT64_MAX);
        CHECK(ctl_parse_tail("10", &v) == 0 && v == 10);
        CHECK(ctl_parse_tail("0", &v) == 0 && v == 0);
        CHECK(ctl_parse_tail("-1", &v) == 0 && v == UINT64_MAX);
        CHECK(ctl_parse_tail("x", &v) < 0);
}

static void test_durations(void) {
        uint64_t u = 0;

        CHECK(ctl_parse_duration("30s", &u) == 0 && u == 30 * USEC_PER_SEC);
        CHECK(ctl_parse_duration("10m", &u) == 0 && u == 600 * USEC_PER_SEC);
        CHECK(ctl_parse_duration("2h", &u) == 0 && u == 7200 * USEC_PER_SEC);
        CHECK(ctl_parse_duration("1h30m", &u) == 0 && u == 5400 * USEC_PER_SEC);
        CHECK(ctl_parse_duration("1.5h", &u) == 0 && u == 5400 * USEC_PER_SEC);
        CHECK(ctl_parse_duration("500ms", &u) == 0 && u == 500000);
        CHECK(ctl_parse_duration("1d", &u) == 0 && u == 86400 * USEC_PER_SEC);
        CHECK(ctl_parse_duration("10", &u) == -EINVAL);
        CHECK(ctl_parse_duration("10x", &u) == -EINVAL);
        CHECK(ctl_parse_duration("m", &u) == -EINVAL);
        CHECK(ctl_parse_duration("1..5s", &u) == -EINVAL);
        CHECK(ctl_parse_duration("", &u) == -EINVAL);
}

static void test_timestamps(void) {
        const uint64_t now = 1714557600ULL * USEC_PER_SEC; /* 2024-05-01T10:00:00Z */
        uint64_t u = 0;

        CHECK(ctl_parse_timestamp("2024-05-01T10:00:00Z", now, &u) == 0 && u == now);
        CHECK(ctl_parse_timestamp("2024-05-01T10:00:00.5Z", now, &u) == 0 && u == now + 500000);
        CHECK(ctl_parse_timestamp("2024-05-01T12:00:00+02:00", now, &u) == 0 && u == now);
        CHECK(ctl_parse_timestamp("2024-05-01T05:30:00-0430", now, &u) == 0 && u == now);
        CHECK(ctl_parse_timestamp("2024-05-01 10:00:00", now, &u) == 0 && u == now);
        CHECK(ctl_parse_timestamp("2024-05-01 10:00", now, &u) == 0 && u == now);
        CHECK(ctl_parse_timestamp("2024-05-01", now, &u) == 0 && u == now - 10 * 3600 * USEC_PER_SEC);
        CHECK(ctl_parse_timestamp("1714557600", now, &u) == 0 && u == now);
        CHECK(ctl_parse_timestamp("1714557600.25", now, &u) == 0 && u == now + 250000);
        CHECK(ctl_parse_timestamp("10m", now, &u) == 0 && u == now - 600 * USEC_PER_SEC);
        CHECK(ctl_parse_timestamp("2h", now, &u) == 0 && u == now - 7200 * USEC_PER_SEC);
        CHECK(ctl_parse_timestamp("30s", now, &u) == 0 && u == now - 30 * USEC_PER_SEC);
        /* Docker's formats: RFC 3339 with nanoseconds, with and without a zone, a date with a zone,
         * unix time with a fraction to the nanosecond, compound durations. */
        CHECK(ctl_parse_timestamp("2024-05-01T10:00:00.123456789Z", now, &u) == 0 && u == now + 123456);
        CHECK(ctl_parse_timestamp("2024-05-01T12:00:00.000001+02:00", now, &u) == 0 && u == now + 1);
        CHECK(ctl_parse_timestamp("2024-05-01T10:00Z", now, &u) == 0 && u == now);
        CHECK(ctl_parse_timestamp("2024-05-01Z", now, &u) == 0 && u == now - 10 * 3600 * USEC_PER_SEC);
        CHECK(ctl_parse_timestamp("2024-05-01+02:00", now, &u) == 0 && u == now - 12 * 3600 * USEC_PER_SEC);
        CHECK(ctl_parse_timestamp("1714557600.123456789", now, &u) == 0 && u == now + 123456);
        CHECK(ctl_parse_timestamp("1h30m", now, &u) == 0 && u == now - 5400 * USEC_PER_SEC);
        CHECK(ctl_parse_timestamp("1m30.5s", now, &u) == 0 && u == now - 90500000);
        CHECK(ctl_parse_timestamp("1.5h", now, &u) == 0 && u == now - 5400 * USEC_PER_SEC);
        CHECK(ctl_parse_timestamp("2024-05-01T10:00:00.Z", now, &u) == -EINVAL);
        CHECK(ctl_parse_timestamp("10m5", now, &u) == -EINVAL);
        CHECK(ctl_parse_timestamp("yesterday", now, &u) == -EINVAL);
        CHECK(ctl_parse_timestamp("2024-13-01", now, &u) == -EINVAL);
        CHECK(ctl_parse_timestamp("2024-05-01T10:00:00+25:00", now, &u) == -EINVAL);
        CHECK(ctl_parse_timestamp("2024-05-01X", now, &u) == -EINVAL);
        CHECK(ctl_parse_timestamp("", now, &u) == -EINVAL);
        CHECK(ctl_parse_timestamp("1000000h", now, &u) == -ERANGE);
}

static bool policy_is(const char *s, const char *policy, uint32_t retries) {
        char *p = NULL;
        uint32_t n = 99;
        bool ok = ctl_parse_restart_policy(s, &p, &n) == 0 && streq(p, policy) && n == retries;
        free(p);
        return ok;
}

static void test_restart_policy(void) {
        char *p = NULL;
        uint32_t n;

        CHECK(policy_is("no", "no", 0));
        CHECK(policy_is("always", "always", 0));
        CHECK(policy_is("unless-stopped", "unless-stopped", 0));
        CHECK(policy_is("on-failure", "on-failure", 0));
        CHECK(policy_is("on-failure:5", "on-failure", 5));
        CHECK(ctl_parse_restart_policy("always:3", &p, &n) == -EINVAL);
        CHECK(ctl_parse_restart_policy("on-failure:", &p, &n) == -EINVAL);
        CHECK(ctl_parse_restart_policy("on-failure:-1", &p, &n) == -EINVAL);
        CHECK(ctl_parse_restart_policy("sometimes", &p, &n) == -EINVAL);
        CHECK(ctl_parse_restart_policy("on", &p, &n) == -EINVAL);
        CHECK(ctl_parse_restart_policy("", &p, &n) == -EINVAL);
}

static void test_exit_codes(void) {
        CHECK(ctl_exec_failed_exit_code("Executable \"foo\" not found in $PATH") == 127);
        CHECK(ctl_exec_failed_exit_code("exec /bin/foo: No such file or directory") == 127);
        CHECK(ctl_exec_failed_exit_code("exec /etc/passwd: Permission denied") == 126);
        CHECK(ctl_exec_failed_exit_code(NULL) == 126);
        CHECK(ctl_exit_status(0) == 0);
        CHECK(ctl_exit_status(137) == 137);
        CHECK(ctl_exit_status(256 + 3) == 3);
        CHECK(ctl_exit_status(-1) == 255);
}

static char *ports_cell(char **ports, char **exposed) {
        _cleanup_free_ CtlPort *l = NULL;
        size_t n;
        if (ctl_ports_collect(ports, exposed, &l, &n) < 0)
                return NULL;
        return ctl_format_ports(l, n);
}

static void test_ports(void) {
        char *published[] = { "tcp\t80\t\t8080", "udp\t53\t127.0.0.1\t5353", NULL };
        char *exposed[] = { "tcp\t80", "tcp\t443", "tcp\t444", "udp\t53", "tcp\t9000", NULL };
        char *same[] = { "tcp\t9000\t\t9000", "tcp\t9001\t\t9001", NULL };
        char *none[] = { NULL };
        CtlPort *l = NULL;
        size_t n = 0;

        CHECK(str_is(ports_cell(published, exposed),
                     "443-444/tcp, 9000/tcp, 127.0.0.1:5353->53/udp, 0.0.0.0:8080->80/tcp"));
        CHECK(str_is(ports_cell(same, NULL), "0.0.0.0:9000-9001->9000-9001/tcp"));
        CHECK(str_is(ports_cell(none, none), ""));
        CHECK(str_is(ports_cell(published, NULL), "127.0.0.1:5353->53/udp, 0.0.0.0:8080->80/tcp"));
        CHECK(ctl_ports_collect(published, exposed, &l, &n) == 0);
        CHECK(n == 5);
        CHECK(l && l[0].port == 53 && streq(l[0].host_ip, "127.0.0.1"));
        CHECK(l && l[1].port == 80 && streq(l[1].host_ip, "0.0.0.0") && l[1].host_port == 8080);
        CHECK(l && l[4].port == 9000 && l[4].host_port == 0);
        free(l);
}

int main(void) {
        /* Local-time cases ("YYYY-MM-DD HH:MM") are written for UTC. */
        setenv("TZ", "UTC", 1);

        test_size();
        test_status();
        test_command();
        test_signal();
        test_cpus();
        test_pids_tail();
        test_durations();
        test_timestamps();
        test_restart_policy();
        test_exit_codes();
        test_ports();

        if (failures > 0) {
                printf("%d check(s) FAILED\n", failures);
                return EXIT_FAILURE;
        }
        printf("all checks passed\n");
        return EXIT_SUCCESS;
}
