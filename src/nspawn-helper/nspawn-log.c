/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nspawn-log.h"
#include "util.h"

static uint64_t now_monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

int log_drop_notice(char *buf, size_t size, uint64_t lines, LogDropReason reason) {
        int n = snprintf(buf, size, "berth: %" PRIu64 " line%s dropped (%s)", lines, lines == 1 ? "" : "s",
                         reason == LOG_DROP_RATE_LIMIT ? "rate limit" : "log buffer full");
        return n < 0 || (size_t) n >= size ? -ENOBUFS : n;
}

/* The writer thread of non-blocking mode: the only one that touches the journal writer then. */
static void *writer_main(void *userdata) {
        static char line[LOG_LINE_MAX]; /* one writer per supervisor */
        LogSink *s = userdata;

        pthread_mutex_lock(&s->lock);
        for (;;) {
                int priority;
                bool partial;
                size_t len;
                int r = log_ring_pop(&s->ring, &priority, &partial, line, sizeof(line), &len);
                if (r > 0) {
                        pthread_mutex_unlock(&s->lock);
                        (void) journal_writer_line(s->journal, priority, line, len, partial);
                        pthread_mutex_lock(&s->lock);
                        continue;
                }
                /* Nothing waits: what the journal writer buffered goes out now, not with the next burst. */
                pthread_mutex_unlock(&s->lock);
                (void) journal_writer_flush(s->journal);
                pthread_mutex_lock(&s->lock);
                if (s->ring.used > 0)
                        continue;
                if (s->closing)
                        break;
                pthread_cond_wait(&s->wake, &s->lock);
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

int log_sink_init(LogSink *s, const ContainerSpec *spec, JournalWriter *journal) {
        *s = (LogSink){
                .journal = journal,
                .none = streq_ptr(spec->log_driver, "none"),
                .nonblocking = streq_ptr(spec->log_mode, "non-blocking"),
                .ratelimit = { .interval_usec = spec->log_rate_limit_interval_usec,
                               .burst = spec->log_rate_limit_burst },
        };
        if (asprintf(&s->dropped_path, "%s/%s", spec->rundir, HELPER_LOG_DROPPED_FILE) < 0)
                return -ENOMEM;
        (void) unlink(s->dropped_path); /* a previous run's */
        if (!s->nonblocking || s->none)
                return 0;
        int r = log_ring_init(&s->ring, spec->log_max_buffer_size ?: LOG_BUFFER_SIZE_DEFAULT);
        if (r < 0)
                return r;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->wake, NULL);
        r = -pthread_create(&s->writer, NULL, writer_main, s);
        if (r < 0)
                return r;
        s->writer_started = true;
        return 0;
}

/* Hand a piece on: to the journal (blocking) or into the ring (non-blocking). reserved: may use the
 * ring's reserve (closing pieces and reports). -ENOBUFS: the ring is full. */
static int deliver(LogSink *s, int priority, const char *line, size_t len, bool partial, bool reserved) {
        if (!s->nonblocking)
                return journal_writer_line(s->journal, priority, line, len, partial);
        pthread_mutex_lock(&s->lock);
        int r = log_ring_push(&s->ring, priority, partial, line, len, reserved);
        if (r >= 0)
                pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static void write_dropped_file(LogSink *s) {
        char line[HELPER_RUNTIME_LINE_MAX];
        int n = helper_log_dropped_format(s->reported, line, sizeof(line));
        if (n > 0)
                (void) write_file_atomic(s->dropped_path, line, (size_t) n, 0644);
}

/* Report the drops not reported yet, each reason as one stderr line of the container's log.
 * Only between stderr's lines: a report must not cut one in two. At most one report a second
 * (unless forced, at the end): a buffer that stays nearly full would otherwise alternate a
 * dropped line and a report of it. */
static void report_drops(LogSink *s, bool force) {
        bool any = false;
        if (s->pending[LOG_DROP_BUFFER_FULL] == 0 && s->pending[LOG_DROP_RATE_LIMIT] == 0)
                return; /* the common case, before any clock is read */
        uint64_t now = now_monotonic_usec();
        if (s->state[1] != LOG_LINE_START)
                return;
        if (!force && s->last_report_usec > 0 && now - s->last_report_usec < LOG_REPORT_INTERVAL_USEC)
                return;
        for (int reason = 0; reason < _LOG_DROP_REASON_MAX; reason++) {
                char notice[128];
                int n;
                if (s->pending[reason] == 0)
                        continue;
                n = log_drop_notice(notice, sizeof(notice), s->pending[reason], reason);
                if (n < 0 || deliver(s, 3, notice, (size_t) n, false, true) < 0)
                        continue; /* later */
                s->reported += s->pending[reason];
                s->pending[reason] = 0;
                any = true;
        }
        if (any) {
                s->last_report_usec = now;
                write_dropped_file(s);
        }
}

static void count_drop(LogSink *s, int stream, LogDropReason reason, bool partial) {
        /* A line is counted once, with its last piece. */
        if (partial) {
                s->state[stream] = LOG_LINE_DROPPING;
                s->dropping[stream] = reason;
        } else {
                s->pending[reason]++;
                s->state[stream] = LOG_LINE_START;
        }
}

int log_sink_line(LogSink *s, int priority, const char *line, size_t len, bool partial) {
        int stream = priority == 3;
        int r = 0;

        if (s->none)
                return 0;
        switch (s->state[stream]) {
        case LOG_LINE_DROPPING:
                count_drop(s, stream, s->dropping[stream], partial);
                return 0;
        case LOG_LINE_START:
                if (s->ratelimit.burst > 0 && !log_ratelimit_test(&s->ratelimit, now_monotonic_usec())) {
                        count_drop(s, stream, LOG_DROP_RATE_LIMIT, partial);
                        return 0;
                }
                report_drops(s, false);
                r = deliver(s, priority, line, len, partial, false);
                if (r == -ENOBUFS) {
                        count_drop(s, stream, LOG_DROP_BUFFER_FULL, partial);
                        return 0;
                }
                break;
        case LOG_LINE_SENDING:
                r = deliver(s, priority, line, len, partial, false);
                if (r == -ENOBUFS) {
                        /* Its first pieces went out: close it (from the reserve), drop the rest. */
                        (void) deliver(s, priority, "", 0, false, true);
                        count_drop(s, stream, LOG_DROP_BUFFER_FULL, partial);
                        return 0;
                }
                break;
        }
        s->state[stream] = partial ? LOG_LINE_SENDING : LOG_LINE_START;
        return r;
}

void log_sink_flush(LogSink *s) {
        if (!s->nonblocking)
                (void) journal_writer_flush(s->journal);
}

void log_sink_done(LogSink *s) {
        if (s->writer_started) {
                pthread_mutex_lock(&s->lock);
                s->closing = true;
                pthread_cond_signal(&s->wake);
                pthread_mutex_unlock(&s->lock);
                (void) pthread_join(s->writer, NULL);
                s->writer_started = false;
                s->nonblocking = false; /* the ring is empty: the last report goes straight out */
        }
        /* The output ended, so every line is complete. */
        s->state[0] = s->state[1] = LOG_LINE_START;
        report_drops(s, true);
        /* Counted even when the journal took no report of them. */
        for (int reason = 0; reason < _LOG_DROP_REASON_MAX; reason++)
                s->reported += s->pending[reason];
        if (s->reported > 0)
                write_dropped_file(s);
        (void) journal_writer_flush(s->journal);
        if (s->ring.data) {
                log_ring_done(&s->ring);
                pthread_mutex_destroy(&s->lock);
                pthread_cond_destroy(&s->wake);
        }
        s->dropped_path = mfree(s->dropped_path);
}
