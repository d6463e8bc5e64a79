/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "nspawn-journal.h"
#include "util.h"

/* Not libsystemd's sd_journal_sendv(): the supervisor stays small (no libsystemd and what it
 * pulls in), and journald's protocols are simple. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define JOURNAL_STDOUT "/run/systemd/journal/stdout"
/* Where journald looks up a unit's extra fields (systemd writes it for LogExtraFields=, which
 * scopes do not have): "<le64 length><FIELD=value>" for each field. */
#define EXTRA_FIELDS_DIR "/run/systemd/units/log-extra-fields:"
/* Where journald looks up a unit's LogRateLimitIntervalSec= and LogRateLimitBurst= (symlinks whose
 * target is the number, as PID 1 writes them; journald 252: client_context_read_log_ratelimit_*()
 * in journald-context.c), which replace its global RateLimitIntervalSec=/RateLimitBurst= for the
 * unit's entries. 0 turns its rate limit off. */
#define RATE_LIMIT_INTERVAL_PREFIX "/run/systemd/units/log-rate-limit-interval:"
#define RATE_LIMIT_BURST_PREFIX    "/run/systemd/units/log-rate-limit-burst:"

static int add_field(JournalWriter *w, const char *key, const char *value) {
        char *s;
        if (asprintf(&s, "%s=%s", key, value) < 0)
                return -ENOMEM;
        w->owned[w->n_owned++] = s;
        w->fields[w->n_fields++] = (struct iovec){ .iov_base = s, .iov_len = strlen(s) };
        return 0;
}

static int connect_unix(int type, const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
        int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        return fd;
}

/* The container's fields for every entry from its scope; the first ones (MESSAGE, PRIORITY,
 * SYSLOG_IDENTIFIER) are per line or per stream. */
static int write_extra_fields(JournalWriter *w, const char *unit, size_t first) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        for (size_t i = first; i < w->n_fields; i++)
                size += sizeof(uint64_t) + w->fields[i].iov_len;
        data = malloc(size);
        if (!data)
                return -ENOMEM;
        char *p = data;
        for (size_t i = first; i < w->n_fields; i++) {
                uint64_t n = htole64(w->fields[i].iov_len);
                memcpy(p, &n, sizeof(n));
                memcpy(p + sizeof(n), w->fields[i].iov_base, w->fields[i].iov_len);
                p += sizeof(n) + w->fields[i].iov_len;
        }
        _cleanup_free_ char *path = strjoin(EXTRA_FIELDS_DIR, unit);
        if (!path)
                return -ENOMEM;
        int r = write_file_atomic(path, data, size, 0644);
        if (r < 0)
                return r;
        w->extra_fields_path = TAKE_PTR(path);
        return 0;
}

/* journald's own rate limit is off for the container's scope: under its defaults (10,000 entries
 * per 30 s, scaled up with the free disk space) a burst of output lost most of its lines without a
 * word in the container's log. Whatever berth drops (--log-opt mode=non-blocking, rate-limit-*) it
 * counts and reports itself (nspawn-log.c). */
static void write_rate_limits(JournalWriter *w, const char *unit) {
        const char *const prefixes[2] = { RATE_LIMIT_INTERVAL_PREFIX, RATE_LIMIT_BURST_PREFIX };
        for (size_t i = 0; i < 2; i++) {
                _cleanup_free_ char *path = strjoin(prefixes[i], unit), *tmp = NULL;
                if (!path || asprintf(&tmp, "%s.berth-%d", path, (int) getpid()) < 0)
                        return;
                (void) unlink(tmp);
                if (symlink("0", tmp) < 0)
                        continue;
                if (rename(tmp, path) < 0) {
                        (void) unlink(tmp);
                        continue;
                }
                w->rate_limit_paths[i] = TAKE_PTR(path);
        }
}

/* The stream's header: identifier, unit (unused), priority, level prefix, and no forwarding to
 * syslog, kmsg or the console (journald's own settings apply). */
static int open_stream(const char *identifier) {
        _cleanup_free_ char *header = NULL;
        int n = asprintf(&header, "%s\n\n6\n1\n0\n0\n0\n", identifier);
        if (n < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = connect_unix(SOCK_STREAM, JOURNAL_STDOUT);
        if (fd < 0)
                return fd;
        (void) shutdown(fd, SHUT_RD);
        int r = loop_write(fd, header, (size_t) n);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

int journal_writer_init(JournalWriter *w, const ContainerSpec *spec, const char *unit) {
        char short_id[BERTH_SHORT_ID_LEN + 1];
        int r;

        w->n_fields = w->n_owned = w->n_buffered = 0;
        w->n_sent = 0;
        w->native_fd = w->stream_fd = -1;
        w->native_last = false;
        w->line_open[0] = w->line_open[1] = false;
        w->extra_fields_path = NULL;
        w->rate_limit_paths[0] = w->rate_limit_paths[1] = NULL;
        snprintf(short_id, sizeof(short_id), "%.12s", spec->id);
        /* Slot 0 is MESSAGE, slot 1 PRIORITY; both change per line. Fields as Docker's journald driver. */
        w->n_fields = 2;
        if ((r = add_field(w, "SYSLOG_IDENTIFIER", spec->name)) < 0 ||
            (r = add_field(w, "CONTAINER_ID", short_id)) < 0 || (r = add_field(w, "CONTAINER_ID_FULL", spec->id)) < 0 ||
            (r = add_field(w, "CONTAINER_NAME", spec->name)) < 0 || (r = add_field(w, "CONTAINER_TAG", short_id)) < 0 ||
            (r = add_field(w, "IMAGE_NAME", spec->image)) < 0)
                return r;
        /* --log-opt labels=, env= (berthd made the names; nspawn-spec.c checked them) */
        for (char **f = spec->log_fields; f && *f && w->n_fields < JOURNAL_FIELDS_MAX; f++) {
                char *s = strdup(*f);
                if (!s)
                        return -ENOMEM;
                w->owned[w->n_owned++] = s;
                w->fields[w->n_fields++] = (struct iovec){ .iov_base = s, .iov_len = strlen(s) };
        }
        w->opened = isempty(unit);
        if (!w->opened)
                snprintf(w->unit, sizeof(w->unit), "%s", unit);
        return 0;
}

/* At the first line, not at start: most containers' starts are not slowed by it, and those that
 * print nothing never cost journald a stream. */
static void journal_writer_open(JournalWriter *w) {
        w->opened = true;
        write_rate_limits(w, w->unit);
        /* Either both, or every field in every datagram. */
        if (write_extra_fields(w, w->unit, 3) < 0)
                return;
        /* Field 2 is SYSLOG_IDENTIFIER=<name>. */
        w->stream_fd = open_stream((const char *) w->fields[2].iov_base + strlen("SYSLOG_IDENTIFIER="));
        if (w->stream_fd < 0) {
                (void) unlink(w->extra_fields_path);
                w->extra_fields_path = mfree(w->extra_fields_path);
                return;
        }
        w->n_fields = 3; /* journald adds the rest from the extra fields file */
}

int journal_writer_flush(JournalWriter *w) {
        if (w->n_buffered == 0 || w->stream_fd < 0)
                return 0;
        int r = loop_write(w->stream_fd, w->buffer, w->n_buffered);
        w->n_buffered = 0;
        if (r < 0)
                /* The stream broke (journald restarts keep it, so this is rare): the next lines go
                 * native, still with the fields of the scope's file. */
                w->stream_fd = safe_close(w->stream_fd);
        return r;
}

static int send_native(JournalWriter *w, int priority, const char *line, size_t len, bool partial) {
        static const char partial_field[] = "CONTAINER_PARTIAL_MESSAGE=true\n";
        struct iovec iov[2 * JOURNAL_FIELDS_MAX + 4];
        size_t n = 0;

        if (w->native_fd < 0) {
                w->native_fd = connect_unix(SOCK_DGRAM, JOURNAL_SOCKET);
                if (w->native_fd < 0)
                        return w->native_fd;
        }
        /* MESSAGE in the binary form ("MESSAGE\n", little-endian length, data): any byte may be in it. */
        uint64_t le = htole64(len);
        iov[n++] = (struct iovec){ .iov_base = (char *) "MESSAGE\n", .iov_len = 8 };
        iov[n++] = (struct iovec){ .iov_base = &le, .iov_len = sizeof(le) };
        iov[n++] = (struct iovec){ .iov_base = (char *) line, .iov_len = len };
        iov[n++] = (struct iovec){ .iov_base = (char *) "\n", .iov_len = 1 };
        iov[n++] = (struct iovec){ .iov_base = priority == 3 ? "PRIORITY=3\n" : "PRIORITY=6\n", .iov_len = 11 };
        for (size_t i = 2; i < w->n_fields; i++) {
                iov[n++] = w->fields[i];
                iov[n++] = (struct iovec){ .iov_base = (char *) "\n", .iov_len = 1 };
        }
        if (partial)
                iov[n++] = (struct iovec){ .iov_base = (char *) partial_field, .iov_len = sizeof(partial_field) - 1 };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n };
        for (;;) {
                if (sendmsg(w->native_fd, &mh, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int journal_writer_line(JournalWriter *w, int priority, const char *line, size_t len, bool partial) {
        if (len > LOG_LINE_MAX)
                return -EINVAL;
        if (!w->opened)
                journal_writer_open(w);
        w->n_sent++;
        /* The closing piece of a split line goes native as its other pieces: journald's stream
         * drops an empty line, and the closing piece is empty when the line's length is a multiple
         * of 16 KiB. A stream would also end a line at a NUL byte. */
        bool *open = &w->line_open[priority == 3];
        bool native = w->stream_fd < 0 || partial || *open || memchr(line, 0, len);
        *open = partial;
        if (native) {
                if (w->stream_fd >= 0 && !w->native_last) {
                        (void) journal_writer_flush(w);
                        (void) journal_synchronize(5000);
                }
                w->native_last = w->stream_fd >= 0;
                return send_native(w, priority, line, len, partial);
        }
        if (w->native_last) {
                (void) journal_synchronize(5000);
                w->native_last = false;
        }
        if (w->n_buffered + len + 4 > sizeof(w->buffer)) {
                int r = journal_writer_flush(w);
                if (r < 0)
                        return r;
        }
        char *p = w->buffer + w->n_buffered;
        memcpy(p, priority == 3 ? "<3>" : "<6>", 3);
        memcpy(p + 3, line, len);
        p[3 + len] = '\n';
        w->n_buffered += len + 4;
        return 0;
}

void journal_writer_done(JournalWriter *w) {
        /* Normally the end of the payload's output closed every line; if the supervisor stopped
         * reading before, whatever a later run prints must not continue the line. */
        for (int i = 0; i < 2; i++)
                if (w->line_open[i])
                        (void) journal_writer_line(w, i == 1 ? 3 : 6, "", 0, false);
        (void) journal_writer_flush(w);
        w->stream_fd = safe_close(w->stream_fd);
        w->native_fd = safe_close(w->native_fd);
        /* The entries are stored, and so is what journald read from the extra fields file (it
         * reads it again when its cache of this process gets old). */
        if (w->n_sent > 0)
                (void) journal_synchronize(5000);
        if (w->extra_fields_path) {
                (void) unlink(w->extra_fields_path);
                w->extra_fields_path = mfree(w->extra_fields_path);
        }
        for (size_t i = 0; i < 2; i++)
                if (w->rate_limit_paths[i]) {
                        (void) unlink(w->rate_limit_paths[i]);
                        w->rate_limit_paths[i] = mfree(w->rate_limit_paths[i]);
                }
        for (size_t i = 0; i < w->n_owned; i++)
                free(w->owned[i]);
        w->n_owned = 0;
}
/* journald reads a sender's cgroup from /proc when it processes a datagram; if the sender has
 * exited by then, the entry loses _SYSTEMD_UNIT. So before the supervisor exits, it asks journald
 * to process everything queued (io.systemd.Journal.Synchronize over varlink; libsystemd 252 has no
 * public varlink client, and this one call is a single NUL-terminated JSON message each way). */
int journal_synchronize(int timeout_ms) {
        static const char request[] = "{\"method\":\"io.systemd.Journal.Synchronize\",\"parameters\":{}}";
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/io.systemd.journal" };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        char buf[512];

        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (loop_write(fd, request, sizeof(request)) < 0) /* sizeof includes the terminating NUL */
                return -errno;
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int k = poll(&p, 1, timeout_ms);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -ETIMEDOUT;
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : 0;
                if (memchr(buf, 0, (size_t) n))
                        return 0;
        }
}
