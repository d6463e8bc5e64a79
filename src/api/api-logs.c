/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /containers/{id}/logs: the container's output read back from the journal. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "api.h"
#include "ctl-bus.h"
#include "ctl-objects.h"
#include "util.h"

/* A time as Docker takes since/until: seconds since the epoch, with an optional fraction. 0 when
 * absent; -EINVAL when malformed. */
static int parse_time(const char *s, uint64_t *ret) {
        char *end;
        *ret = 0;
        if (isempty(s))
                return 0;
        errno = 0;
        double d = strtod(s, &end);
        if (errno != 0 || *end != 0 || !isfinite(d) || d < 0)
                return -EINVAL;
        *ret = (uint64_t) (d * (double) USEC_PER_SEC);
        return 0;
}

static bool field_is(sd_journal *j, const char *field, const char *value) {
        const void *data;
        size_t len, n = strlen(field);
        if (sd_journal_get_data(j, field, &data, &len) < 0 || len <= n + 1)
                return false;
        return len - n - 1 == strlen(value) && memcmp((const char *) data + n + 1, value, len - n - 1) == 0;
}

/* A piece of a longer line: berth's pieces of 16 KiB, or journald's own split of a stream line
 * longer than its LineMax (set below 16 KiB). */
static bool entry_is_partial(sd_journal *j) {
        return field_is(j, "CONTAINER_PARTIAL_MESSAGE", "true") || field_is(j, "_LINE_BREAK", "line-max");
}

/* One journal entry as Docker's frame: [stream, 0, 0, 0, size (big endian)] and the payload
 * (without the frame for a TTY). *line_max_err: the stream of the line journald split last (its
 * pieces after the first have the stream's default priority, not the line's), else -1. */
static int write_entry(ApiConn *c, sd_journal *j, bool tty, bool want_out, bool want_err, bool timestamps,
                       int *line_max_err) {
        const void *data;
        size_t len;
        bool is_err = field_is(j, "PRIORITY", "3"), partial = entry_is_partial(j);
        if (*line_max_err >= 0)
                is_err = *line_max_err;
        *line_max_err = field_is(j, "_LINE_BREAK", "line-max") ? is_err : -1;
        _cleanup_free_ char *payload = NULL, *stamp = NULL;
        size_t n;

        if ((is_err && !want_err) || (!is_err && !want_out))
                return 0;
        if (sd_journal_get_data(j, "MESSAGE", &data, &len) < 0 || len < 8)
                return 0;
        data = (const char *) data + 8;
        len -= 8;
        if (timestamps) {
                uint64_t usec;
                if (sd_journal_get_realtime_usec(j, &usec) < 0)
                        usec = 0;
                char *t = format_timestamp_rfc3339(usec);
                stamp = t ? strjoin(t, " ") : NULL;
                free(t);
                if (!stamp)
                        return -ENOMEM;
        }
        n = (stamp ? strlen(stamp) : 0) + len + !partial;
        payload = malloc(8 + n);
        if (!payload)
                return -ENOMEM;
        char *p = payload + 8;
        if (stamp)
                p = mempcpy(p, stamp, strlen(stamp));
        p = mempcpy(p, data, len);
        if (!partial)
                *p = '\n';
        payload[0] = is_err ? 2 : 1;
        payload[1] = payload[2] = payload[3] = 0;
        payload[4] = (char) ((n >> 24) & 0xff);
        payload[5] = (char) ((n >> 16) & 0xff);
        payload[6] = (char) ((n >> 8) & 0xff);
        payload[7] = (char) (n & 0xff);
        return tty ? api_stream_write(c, payload + 8, n) : api_stream_write(c, payload, 8 + n);
}

/* How long the journal is still read after the container stopped, for lines journald had not
 * written yet (as berthctl logs -f does), and how much output is queued before waiting for the
 * client to read. */
#define LOGS_SETTLE_USEC (500ULL * 1000ULL)
#define LOGS_QUEUE_MAX   (256U * 1024U)

typedef struct LogsStream {
        ApiConn *conn;
        sd_journal *journal;
        sd_event_source *journal_io, *settle;
        bool tty, want_out, want_err, timestamps, follow, done;
        int line_max_err; /* see write_entry() */
        uint64_t since, until;
} LogsStream;

static void logs_stream_free(void *p) {
        LogsStream *l = p;
        if (!l)
                return;
        sd_event_source_disable_unref(l->journal_io);
        sd_event_source_disable_unref(l->settle);
        sd_journal_close(l->journal);
        free(l);
}

/* Queues entries until the queue is full (on_drained goes on), the journal has no more (the
 * journal's events go on, when following) or the stream ends. */
static int logs_pump(ApiConn *c) {
        LogsStream *l = c->userdata;
        int r;

        if (c->finished)
                return 0;
        while (c->out_len - c->out_off < LOGS_QUEUE_MAX) {
                uint64_t usec;
                r = sd_journal_next(l->journal);
                if (r < 0)
                        return r;
                if (r == 0)
                        return l->follow && !l->done ? 0 : api_stream_end(c);
                if (sd_journal_get_realtime_usec(l->journal, &usec) >= 0) {
                        if (usec < l->since)
                                continue;
                        if (l->until > 0 && usec > l->until)
                                return api_stream_end(c);
                }
                r = write_entry(c, l->journal, l->tty, l->want_out, l->want_err, l->timestamps, &l->line_max_err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void logs_go_on(LogsStream *l) {
        ApiConn *c = l->conn;
        if (logs_pump(c) < 0)
                api_conn_abort(c);
        (void) api_conn_kick(c);
}

static int on_journal(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        LogsStream *l = userdata;
        (void) sd_journal_process(l->journal);
        logs_go_on(l);
        return 0;
}

static int on_settled(sd_event_source *s, uint64_t usec, void *userdata) {
        LogsStream *l = userdata;
        l->done = true;
        (void) sd_journal_process(l->journal);
        logs_go_on(l);
        return 0;
}

/* WaitCondition("not-running") answered: the container stopped (or is gone). */
static int on_logs_container_stopped(ApiConn *c, sd_bus_message *reply) {
        LogsStream *l = c->userdata;
        int r = sd_event_add_time_relative(c->server->event, &l->settle, CLOCK_MONOTONIC, LOGS_SETTLE_USEC,
                                           10 * USEC_PER_MSEC, on_settled, l);
        if (r < 0) {
                l->done = true;
                return logs_pump(c);
        }
        return 0;
}

int api_container_logs(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_free_ char *path = NULL, *id = NULL, *match = NULL;
        bool want_out = api_query_bool(c, "stdout"), want_err = api_query_bool(c, "stderr");
        const char *tail_s = api_query(c, "tail");
        uint64_t since, until, tail = UINT64_MAX;
        int tty = 0, r;

        if (!want_out && !want_err)
                return api_reply_error(c, 400, "Bad parameters: you must choose at least one stream");
        if (parse_time(api_query(c, "since"), &since) < 0 || parse_time(api_query(c, "until"), &until) < 0)
                return api_reply_error(c, 400, "invalid since or until");
        if (!isempty(tail_s) && !streq(tail_s, "all") && parse_uint64(tail_s, &tail) < 0)
                return api_reply_error(c, 400, "invalid tail: %s", tail_s);

        r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        r = ctl_object_path_id(path, &id);
        if (r < 0)
                return r;
        r = sd_bus_get_property_trivial(c->server->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Tty", &error,
                                        'b', &tty);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);

        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r < 0)
                return api_reply_error(c, 500, "cannot open the journal: %s", strerror(-r));
        match = strjoin("CONTAINER_ID_FULL=", id);
        if (!match)
                return -ENOMEM;
        r = sd_journal_add_match(j, match, 0);
        if (r < 0)
                return r;

        if (tail != UINT64_MAX) {
                /* Back from the end over tail whole lines (pieces of a split line count once). */
                uint64_t lines = 0;
                r = sd_journal_seek_tail(j);
                while (r >= 0 && lines < tail && (r = sd_journal_previous(j)) > 0)
                        if (!entry_is_partial(j))
                                lines++;
                if (r >= 0 && lines == tail) {
                        /* We stand on the first line's last piece; the pieces before it belong to it. */
                        while ((r = sd_journal_previous(j)) > 0)
                                if (!entry_is_partial(j))
                                        break;
                        if (r == 0)
                                r = sd_journal_seek_head(j);
                } else if (r >= 0)
                        r = sd_journal_seek_head(j);
        } else if (since > 0)
                r = sd_journal_seek_realtime_usec(j, since);
        else
                r = sd_journal_seek_head(j);
        if (r < 0)
                return api_reply_error(c, 500, "cannot read the journal: %s", strerror(-r));

        LogsStream *l = calloc(1, sizeof(LogsStream));
        if (!l)
                return -ENOMEM;
        *l = (LogsStream){
                .conn = c,
                .journal = TAKE_PTR(j),
                .tty = tty,
                .want_out = want_out,
                .want_err = want_err,
                .timestamps = api_query_bool(c, "timestamps"),
                .follow = api_query_bool(c, "follow"),
                .line_max_err = -1,
                .since = since,
                .until = until,
        };
        c->userdata = l;
        c->userdata_free = logs_stream_free;
        c->on_drained = logs_pump;
        if (until > 0 && until <= now_realtime_usec())
                l->follow = false;
        if (l->follow) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                r = sd_event_add_io(c->server->event, &l->journal_io, sd_journal_get_fd(l->journal),
                                    (uint32_t) sd_journal_get_events(l->journal), on_journal, l);
                if (r >= 0)
                        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, path,
                                                           BERTH_BUS_CONTAINER, "WaitCondition");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "not-running");
                if (r >= 0)
                        r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_logs_container_stopped);
                if (r < 0)
                        return r;
        }
        r = api_stream_begin(c, 200, "application/vnd.docker.raw-stream");
        if (r < 0)
                return r;
        if (tail == 0 && !l->follow)
                return api_stream_end(c);
        return logs_pump(c);
}
