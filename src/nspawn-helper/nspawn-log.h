/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log-buffer.h"
#include "nspawn-journal.h"
#include "nspawn-spec.h"

/* What happens to each line of the payload's output between the line splitter (log-stream.h) and
 * the journal (nspawn-journal.h): --log-driver none, the rate limit, and the mode. Blocking (the
 * default) writes each line before the next is read, so a payload that outpaces journald waits
 * and nothing is lost. Non-blocking hands lines to a writer thread through a ring buffer of
 * max-buffer-size bytes and drops what does not fit. Every dropped line is counted: the count is
 * reported in the container's own log ("berth: N lines dropped (...)", on stderr) before the next
 * line that passes (at most one report a second) and at the end, and in
 * <rundir>/HELPER_LOG_DROPPED_FILE for berthd. */
typedef enum LogDropReason {
        LOG_DROP_BUFFER_FULL,
        LOG_DROP_RATE_LIMIT,
        _LOG_DROP_REASON_MAX,
} LogDropReason;

typedef enum LogLineState {
        LOG_LINE_START, /* no piece of the current line seen yet */
        LOG_LINE_SENDING, /* pieces of it went out: the rest must follow, or a closing piece */
        LOG_LINE_DROPPING, /* it is being dropped */
} LogLineState;

typedef struct LogSink {
        JournalWriter *journal;
        bool none; /* --log-driver none */
        bool nonblocking;
        LogRateLimit ratelimit;
        char *dropped_path;
        uint64_t pending[_LOG_DROP_REASON_MAX]; /* dropped, not reported yet */
        uint64_t reported;
        uint64_t last_report_usec; /* CLOCK_MONOTONIC; 0: none yet */
        LogLineState state[2]; /* stdout, stderr */
        LogDropReason dropping[2]; /* why, in LOG_LINE_DROPPING */
        /* non-blocking */
        LogRing ring;
        pthread_t writer;
        bool writer_started;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        bool closing;
} LogSink;

#define LOG_REPORT_INTERVAL_USEC (1000ULL * 1000ULL)

/* The default max-buffer-size, Docker's. */
#define LOG_BUFFER_SIZE_DEFAULT (1024 * 1024)

int log_sink_init(LogSink *s, const ContainerSpec *spec, JournalWriter *journal);
/* One piece of a line (log_line_fn's arguments); priority 6 is stdout, 3 stderr. */
int log_sink_line(LogSink *s, int priority, const char *line, size_t len, bool partial);
/* After each read: blocking mode writes what the journal writer buffered. */
void log_sink_flush(LogSink *s);
/* The output ended: every line buffered goes out, the last drops are reported, the writer thread
 * ends. Before journal_writer_done(). */
void log_sink_done(LogSink *s);
/* Only for tests and the report: "berth: N lines dropped (reason)". */
int log_drop_notice(char *buf, size_t size, uint64_t lines, LogDropReason reason);
