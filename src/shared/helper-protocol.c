/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "helper-protocol.h"

/* The longest error line: "ERR 4095 setup " + message + "\n" + NUL. */
_Static_assert(sizeof("ERR 4095 setup \n") + HELPER_STATUS_MESSAGE_MAX - 1 <= HELPER_STATUS_LINE_MAX,
               "a status line must fit HELPER_STATUS_LINE_MAX");
_Static_assert(sizeof("OK 2147483647 18446744073709551615\n") <= HELPER_STATUS_LINE_MAX,
               "a status line must fit HELPER_STATUS_LINE_MAX");
_Static_assert(sizeof("2147483647 2147483647 18446744073709551615\n") <= HELPER_RUNTIME_LINE_MAX,
               "a running file must fit HELPER_RUNTIME_LINE_MAX");
_Static_assert(sizeof("255 18446744073709551615 18446744073709551615\n") <= HELPER_RUNTIME_LINE_MAX,
               "an exit file must fit HELPER_RUNTIME_LINE_MAX");
_Static_assert(HELPER_FD_EXE == 10, "HELPER_EXE_PATH names descriptor 10");

static const char *const failure_kinds[_HELPER_FAILURE_KIND_MAX] = {
        [HELPER_FAILURE_SETUP] = "setup",
        [HELPER_FAILURE_EXEC] = "exec",
};

const char *helper_failure_kind_to_string(HelperFailureKind kind) {
        if ((unsigned) kind >= _HELPER_FAILURE_KIND_MAX)
                return NULL;
        return failure_kinds[kind];
}

/* A cursor over bytes that are not NUL-terminated. */
typedef struct Cursor {
        const char *p, *end;
} Cursor;

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* A canonical decimal number at most max: digits only, no leading zero unless it is "0". */
static int take_number(Cursor *c, uint64_t max, uint64_t *ret) {
        const char *p = c->p;
        uint64_t v = 0;

        if (p >= c->end || !is_digit(*p))
                return -EBADMSG;
        if (*p == '0' && p + 1 < c->end && is_digit(p[1]))
                return -EBADMSG;
        for (; p < c->end && is_digit(*p); p++) {
                unsigned d = (unsigned) (*p - '0');
                if (v > (max - d) / 10)
                        return -EBADMSG;
                v = v * 10 + d;
        }
        c->p = p;
        *ret = v;
        return 0;
}

static int take_pid(Cursor *c, pid_t *ret) {
        uint64_t v;
        int r = take_number(c, INT_MAX, &v);
        if (r < 0)
                return r;
        if (v == 0)
                return -EBADMSG;
        *ret = (pid_t) v;
        return 0;
}

static int take_literal(Cursor *c, const char *s) {
        size_t n = strlen(s);
        if ((size_t) (c->end - c->p) < n || memcmp(c->p, s, n) != 0)
                return -EBADMSG;
        c->p += n;
        return 0;
}

/* Exactly one line, its newline last: a cursor over it without the newline. */
static int line_cursor(const char *data, size_t len, Cursor *ret) {
        if (!data || len == 0 || data[len - 1] != '\n' || memchr(data, '\n', len - 1) || memchr(data, 0, len))
                return -EBADMSG;
        *ret = (Cursor){ .p = data, .end = data + len - 1 };
        return 0;
}

static bool message_is_valid(const char *m) {
        const char *nul = memchr(m, 0, HELPER_STATUS_MESSAGE_MAX);
        return nul && nul != m && !memchr(m, '\n', (size_t) (nul - m));
}

static bool status_is_valid(const HelperStatus *s) {
        if (s->ok)
                return s->pid > 0;
        return s->error > 0 && s->error <= HELPER_ERRNO_MAX && helper_failure_kind_to_string(s->kind) &&
                message_is_valid(s->message);
}

/* snprintf()'s result as ours: the length, or -ENOBUFS when cut. */
static int formatted(int n, size_t size) {
        if (n < 0)
                return -EINVAL;
        if ((size_t) n >= size)
                return -ENOBUFS;
        return n;
}

void helper_status_ok(HelperStatus *s, pid_t pid, uint64_t usec) {
        *s = (HelperStatus){ .ok = true, .pid = pid, .usec = usec };
}

static void failure_init(HelperStatus *s, HelperFailureKind kind, int error) {
        *s = (HelperStatus){
                .kind = helper_failure_kind_to_string(kind) ? kind : HELPER_FAILURE_SETUP,
                .error = error > 0 && error <= HELPER_ERRNO_MAX ? error : EIO,
        };
}

/* Whatever a message was built from (a path may hold a newline), it must stay one line. */
static void failure_finish(HelperStatus *s) {
        for (char *p = s->message; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        if (!s->message[0])
                snprintf(s->message, sizeof(s->message), "Failed: %s.", strerror(s->error));
}

void helper_status_failurev(HelperStatus *s, HelperFailureKind kind, int error, const char *what_format, va_list ap) {
        /* Room left for the rest of the sentence and the error's text; a longer one is cut. */
        char what[HELPER_STATUS_MESSAGE_MAX - 64];

        failure_init(s, kind, error);
        (void) vsnprintf(what, sizeof(what), what_format, ap);
        (void) snprintf(s->message, sizeof(s->message), "Failed to %s: %s.", what, strerror(s->error));
        failure_finish(s);
}

void helper_status_failure(HelperStatus *s, HelperFailureKind kind, int error, const char *what_format, ...) {
        va_list ap;

        va_start(ap, what_format);
        helper_status_failurev(s, kind, error, what_format, ap);
        va_end(ap);
}

void helper_status_failure_messagev(HelperStatus *s, HelperFailureKind kind, int error, const char *format,
                                    va_list ap) {
        failure_init(s, kind, error);
        (void) vsnprintf(s->message, sizeof(s->message), format, ap);
        failure_finish(s);
}

void helper_status_failure_message(HelperStatus *s, HelperFailureKind kind, int error, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        helper_status_failure_messagev(s, kind, error, format, ap);
        va_end(ap);
}

int helper_status_format(const HelperStatus *s, char *buf, size_t size) {
        if (!status_is_valid(s))
                return -EINVAL;
        if (s->ok)
                return formatted(snprintf(buf, size, "OK %d %" PRIu64 "\n", (int) s->pid, s->usec), size);
        return formatted(
                snprintf(buf, size, "ERR %d %s %s\n", s->error, helper_failure_kind_to_string(s->kind), s->message),
                size);
}

static int parse_failure(Cursor *c, HelperStatus *s) {
        uint64_t error;
        int r;

        if ((r = take_number(c, HELPER_ERRNO_MAX, &error)) < 0 || (r = take_literal(c, " ")) < 0)
                return r;
        if (error == 0)
                return -EBADMSG;
        s->error = (int) error;
        const char *space = memchr(c->p, ' ', (size_t) (c->end - c->p));
        if (!space)
                return -EBADMSG;
        s->kind = _HELPER_FAILURE_KIND_MAX;
        for (HelperFailureKind k = 0; k < _HELPER_FAILURE_KIND_MAX; k++)
                if ((size_t) (space - c->p) == strlen(failure_kinds[k]) &&
                    !memcmp(c->p, failure_kinds[k], (size_t) (space - c->p)))
                        s->kind = k;
        if (s->kind == _HELPER_FAILURE_KIND_MAX)
                return -EBADMSG;
        /* The message: the rest of the line, not empty. */
        size_t n = (size_t) (c->end - (space + 1));
        if (n == 0 || n >= sizeof(s->message))
                return -EBADMSG;
        memcpy(s->message, space + 1, n);
        s->message[n] = 0;
        c->p = c->end;
        return 0;
}

int helper_status_parse(const char *data, size_t len, HelperStatus *ret) {
        HelperStatus s = {};
        uint64_t usec;
        Cursor c;
        int r;

        if ((r = line_cursor(data, len, &c)) < 0)
                return r;
        if (take_literal(&c, "OK ") >= 0) {
                if ((r = take_pid(&c, &s.pid)) < 0 || (r = take_literal(&c, " ")) < 0 ||
                    (r = take_number(&c, UINT64_MAX, &usec)) < 0)
                        return r;
                s.ok = true;
                s.usec = usec;
        } else if (take_literal(&c, "ERR ") >= 0) {
                r = parse_failure(&c, &s);
                if (r < 0)
                        return r;
        } else
                return -EBADMSG;
        if (c.p != c.end)
                return -EBADMSG;
        *ret = s;
        return 0;
}

int helper_running_format(const HelperRunning *running, char *buf, size_t size) {
        if (running->helper_pid <= 0 || running->payload_pid <= 0)
                return -EINVAL;
        return formatted(snprintf(buf, size, "%d %d %" PRIu64 "\n", (int) running->helper_pid,
                                  (int) running->payload_pid, running->started_usec),
                         size);
}

int helper_running_parse(const char *data, size_t len, HelperRunning *ret) {
        HelperRunning running;
        Cursor c;
        int r;

        if ((r = line_cursor(data, len, &c)) < 0 || (r = take_pid(&c, &running.helper_pid)) < 0 ||
            (r = take_literal(&c, " ")) < 0 || (r = take_pid(&c, &running.payload_pid)) < 0 ||
            (r = take_literal(&c, " ")) < 0 || (r = take_number(&c, UINT64_MAX, &running.started_usec)) < 0)
                return r;
        if (c.p != c.end)
                return -EBADMSG;
        *ret = running;
        return 0;
}

int helper_exit_format(const HelperExit *exit_info, char *buf, size_t size) {
        if (exit_info->exit_code < 0 || exit_info->exit_code > 255)
                return -EINVAL;
        return formatted(snprintf(buf, size, "%d %" PRIu64 " %" PRIu64 "\n", exit_info->exit_code,
                                  exit_info->finished_usec, exit_info->oom_kills),
                         size);
}

int helper_exit_parse(const char *data, size_t len, HelperExit *ret) {
        HelperExit exit_info = {};
        uint64_t code;
        Cursor c;
        int r;

        if ((r = line_cursor(data, len, &c)) < 0 || (r = take_number(&c, 255, &code)) < 0 ||
            (r = take_literal(&c, " ")) < 0 || (r = take_number(&c, UINT64_MAX, &exit_info.finished_usec)) < 0)
                return r;
        /* Helpers before the OOM count wrote two fields. */
        if (c.p != c.end &&
            ((r = take_literal(&c, " ")) < 0 || (r = take_number(&c, UINT64_MAX, &exit_info.oom_kills)) < 0))
                return r;
        if (c.p != c.end)
                return -EBADMSG;
        exit_info.exit_code = (int) code;
        *ret = exit_info;
        return 0;
}

int helper_log_dropped_format(uint64_t lines, char *buf, size_t size) {
        return formatted(snprintf(buf, size, "%" PRIu64 "\n", lines), size);
}

int helper_log_dropped_parse(const char *data, size_t len, uint64_t *ret) {
        uint64_t lines;
        Cursor c;
        int r;

        if ((r = line_cursor(data, len, &c)) < 0 || (r = take_number(&c, UINT64_MAX, &lines)) < 0)
                return r;
        if (c.p != c.end)
                return -EBADMSG;
        *ret = lines;
        return 0;
}
