/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The berthd <-> berth-nspawn parsers on arbitrary bytes: whatever parses formats again, and that
 * parses to the same value (the same bytes, except an old two-field exit file). */

#include <string.h>

#include "fuzz.h"
#include "helper-protocol.h"
#include "macro.h"

static void check_status(const char *data, size_t size) {
        HelperStatus s, again;
        char buf[HELPER_STATUS_LINE_MAX];

        if (helper_status_parse(data, size, &s) < 0)
                return;
        int n = helper_status_format(&s, buf, sizeof(buf));
        require(n > 0 && (size_t) n == size && !memcmp(buf, data, size));
        require(helper_status_parse(buf, (size_t) n, &again) == 0);
        require(again.ok == s.ok);
        if (s.ok)
                require(s.pid > 0 && again.pid == s.pid && again.usec == s.usec);
        else {
                require(s.error > 0 && s.error <= HELPER_ERRNO_MAX && helper_failure_kind_to_string(s.kind));
                require(s.message[0] && !strchr(s.message, '\n'));
                require(again.error == s.error && again.kind == s.kind && streq(again.message, s.message));
        }
}

static void check_running(const char *data, size_t size) {
        HelperRunning r, again;
        char buf[HELPER_RUNTIME_LINE_MAX];

        if (helper_running_parse(data, size, &r) < 0)
                return;
        require(r.helper_pid > 0 && r.payload_pid > 0);
        int n = helper_running_format(&r, buf, sizeof(buf));
        require(n > 0 && (size_t) n == size && !memcmp(buf, data, size));
        require(helper_running_parse(buf, (size_t) n, &again) == 0);
        require(again.helper_pid == r.helper_pid && again.payload_pid == r.payload_pid &&
                again.started_usec == r.started_usec);
}

static void check_exit(const char *data, size_t size) {
        HelperExit e, again;
        char buf[HELPER_RUNTIME_LINE_MAX];

        if (helper_exit_parse(data, size, &e) < 0)
                return;
        require(e.exit_code >= 0 && e.exit_code <= 255);
        int n = helper_exit_format(&e, buf, sizeof(buf));
        require(n > 0);
        /* The same bytes, or the old two-field form of the same values. */
        require(((size_t) n == size && !memcmp(buf, data, size)) || (e.oom_kills == 0 && (size_t) n == size + 2));
        require(helper_exit_parse(buf, (size_t) n, &again) == 0);
        require(again.exit_code == e.exit_code && again.finished_usec == e.finished_usec &&
                again.oom_kills == e.oom_kills);
}

static void check_log_dropped(const char *data, size_t size) {
        uint64_t lines, again;
        char buf[HELPER_RUNTIME_LINE_MAX];

        if (helper_log_dropped_parse(data, size, &lines) < 0)
                return;
        int n = helper_log_dropped_format(lines, buf, sizeof(buf));
        require(n > 0 && (size_t) n == size && !memcmp(buf, data, size));
        require(helper_log_dropped_parse(buf, (size_t) n, &again) == 0 && again == lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* A copy of exactly the input's size: reading past it is a finding under ASan. */
        _cleanup_free_ char *s = malloc(size ?: 1);

        if (!s)
                return 0;
        if (size > 0)
                memcpy(s, data, size);
        check_status(s, size);
        check_running(s, size);
        check_exit(s, size);
        check_log_dropped(s, size);
        return 0;
}
