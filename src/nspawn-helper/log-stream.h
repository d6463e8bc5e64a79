/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Docker's journald driver splits lines longer than 16 KiB and marks all but the last piece. */
#define LOG_LINE_MAX 16384

/* Called once per line (without its newline); partial=true for a piece of a longer line. */
typedef int (*log_line_fn)(const char *line, size_t len, bool partial, void *userdata);

/* As Docker's copier: a line is cut into pieces of LOG_LINE_MAX bytes, each one partial, and
 * always ends with a closing piece that is not: the rest of the line, which is empty when the
 * line's length is a multiple of LOG_LINE_MAX. The pieces do not depend on how the bytes were
 * split into reads. */
typedef struct LogStream {
        char buf[LOG_LINE_MAX];
        size_t len;
        bool partial; /* partial pieces of the current line went out: its closing piece is due */
        log_line_fn emit;
        void *userdata;
} LogStream;

void log_stream_init(LogStream *s, log_line_fn emit, void *userdata);
/* Feed bytes as they come from the pipe; complete lines are emitted right away. */
int log_stream_feed(LogStream *s, const char *data, size_t n);
/* End of stream: a last line without newline is emitted as a complete line, and a line cut into
 * pieces gets its closing piece (an empty one if nothing is left), so that nothing written later
 * (the next run's output) continues it. */
int log_stream_flush(LogStream *s);
