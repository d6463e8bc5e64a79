/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "log-stream.h"
#include "nspawn-spec.h"

/* berth's own eight, and the log fields of --log-opt labels=, env= */
enum { JOURNAL_LOG_FIELDS_MAX = 56, JOURNAL_FIELDS_MAX = 8 + JOURNAL_LOG_FIELDS_MAX };

/* The journal fields of one container, formatted once; each line reuses them.
 *
 * Lines go over journald's stdout stream protocol (one connection, "<N>" level prefix per line):
 * journald reads a stream in large chunks, where the native protocol costs it one datagram, one
 * event loop iteration and one recvmsg() per line, twice the time per entry in a flood. A stream
 * cannot carry fields of its own, so the container's fields are the scope unit's log extra fields
 * (the file through which journald gets a unit's LogExtraFields=), which journald adds to every
 * entry from the scope. Pieces of long lines (CONTAINER_PARTIAL_MESSAGE), the closing piece of
 * such a line, and lines with NUL bytes go as native datagrams; around them journald is
 * synchronized, so entries keep their order. The closing piece goes native because it may be
 * empty (the line's length a multiple of 16 KiB), and journald's stream drops empty lines: the
 * line would be glued to the next one. */
typedef struct JournalWriter {
        struct iovec fields[JOURNAL_FIELDS_MAX]; /* for native datagrams */
        size_t n_fields;
        char *owned[JOURNAL_FIELDS_MAX];
        size_t n_owned;
        unsigned long long n_sent;
        int native_fd; /* connected to journald's native socket, -1: not yet */
        int stream_fd; /* journald's stdout stream, -1: everything goes native */
        bool native_last; /* the last line went native: synchronize before the stream again */
        bool line_open[2]; /* stdout (6), stderr (3): a partial piece went out, the closing one is due */
        bool opened; /* the stream (or the decision to go native) is set up */
        char unit[64];
        char *extra_fields_path; /* written by us, removed by journal_writer_done() */
        char *rate_limit_paths[2]; /* the scope's journald rate limit (off), removed likewise */
        size_t n_buffered;
        char buffer[65536]; /* stream data not written yet */
} JournalWriter;

/* With an empty unit, no stream: every field goes into every native datagram. */
int journal_writer_init(JournalWriter *w, const ContainerSpec *spec, const char *unit);
/* Write what is buffered for the stream (after each read of the payload's output). */
int journal_writer_flush(JournalWriter *w);
/* Close a line left open (partial pieces without their closing piece) with an empty piece, flush,
 * close the stream, wait until journald has processed every entry, remove the extra fields file. */
void journal_writer_done(JournalWriter *w);
/* priority is 6 (stdout) or 3 (stderr) */
int journal_writer_line(JournalWriter *w, int priority, const char *line, size_t len, bool partial);
/* Wait until journald has processed every entry this process sent. */
int journal_synchronize(int timeout_ms);
