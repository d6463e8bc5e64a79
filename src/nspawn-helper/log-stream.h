/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Docker's journald driver splits lines longer than 16 KiB and marks all but the last piece. */
#define LOG_LINE_MAX 16384

/* Called once per line (without its newline); partial=true for a piece of a longer line. */
typedef int (*log_line_fn)(const char *line, size_t len, bool partial, void *userdata);

typedef struct LogStream {
        char buf[LOG_LINE_MAX];
        size_t len;
        log_line_fn emit;
        void *userdata;
} LogStream;

void log_stream_init(LogStream *s, log_line_fn emit, void *userdata);
/* Feed bytes as they come from the pipe; complete lines are emitted right away. */
int log_stream_feed(LogStream *s, const char *data, size_t n);
/* End of stream: a last line without newline is emitted as a complete line. */
int log_stream_flush(LogStream *s);
