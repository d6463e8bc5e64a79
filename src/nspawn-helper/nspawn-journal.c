/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* CODE_FILE/LINE/FUNC of the relay are noise in every container line, and journald charges per field. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "nspawn-journal.h"
#include "util.h"

static int add_field(JournalWriter *w, const char *key, const char *value) {
        char *s;
        if (asprintf(&s, "%s=%s", key, value) < 0)
                return -ENOMEM;
        w->owned[w->n_owned++] = s;
        w->fields[w->n_fields++] = (struct iovec){ .iov_base = s, .iov_len = strlen(s) };
        return 0;
}

int journal_writer_init(JournalWriter *w, const ContainerSpec *spec) {
        char short_id[BERTH_SHORT_ID_LEN + 1];
        int r;

        *w = (JournalWriter){};
        memcpy(w->message, "MESSAGE=", 8);
        snprintf(short_id, sizeof(short_id), "%.12s", spec->id);
        /* Slot 0 is MESSAGE, slot 1 PRIORITY; both change per line. Fields as Docker's journald driver. */
        w->n_fields = 2;
        if ((r = add_field(w, "CONTAINER_ID", short_id)) < 0 || (r = add_field(w, "CONTAINER_ID_FULL", spec->id)) < 0 ||
            (r = add_field(w, "CONTAINER_NAME", spec->name)) < 0 || (r = add_field(w, "CONTAINER_TAG", short_id)) < 0 ||
            (r = add_field(w, "IMAGE_NAME", spec->image)) < 0 ||
            (r = add_field(w, "SYSLOG_IDENTIFIER", spec->name)) < 0)
                return r;
        return 0;
}

void journal_writer_done(JournalWriter *w) {
        for (size_t i = 0; i < w->n_owned; i++)
                free(w->owned[i]);
        w->n_owned = 0;
}

int journal_writer_line(JournalWriter *w, int priority, const char *line, size_t len, bool partial) {
        static const struct iovec partial_field = { .iov_base = (char *) "CONTAINER_PARTIAL_MESSAGE=true",
                                                    .iov_len = sizeof("CONTAINER_PARTIAL_MESSAGE=true") - 1 };
        struct iovec iov[JOURNAL_FIELDS_MAX + 1];
        size_t n = w->n_fields;

        if (len > LOG_LINE_MAX)
                return -EINVAL;
        memcpy(w->message + 8, line, len);
        memcpy(iov, w->fields, n * sizeof(struct iovec));
        iov[0] = (struct iovec){ .iov_base = w->message, .iov_len = 8 + len };
        iov[1] = priority == 3 ? (struct iovec){ .iov_base = (char *) "PRIORITY=3", .iov_len = 10 }
                               : (struct iovec){ .iov_base = (char *) "PRIORITY=6", .iov_len = 10 };
        if (partial)
                iov[n++] = partial_field;
        w->n_sent++;
        return sd_journal_sendv(iov, (int) n);
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
