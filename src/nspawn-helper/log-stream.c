/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "log-stream.h"

void log_stream_init(LogStream *s, log_line_fn emit, void *userdata) {
        s->len = 0;
        s->partial = false;
        s->emit = emit;
        s->userdata = userdata;
}

static int emit_piece(LogStream *s, const char *line, size_t len, bool partial) {
        s->partial = partial;
        return s->emit(line, len, partial, s->userdata);
}

int log_stream_feed(LogStream *s, const char *data, size_t n) {
        int r;

        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t take = nl ? (size_t) (nl - data) : n;
                size_t room = LOG_LINE_MAX - s->len;

                if (take >= room) {
                        /* The buffer fills up: a partial piece, even if the newline follows right
                         * after it (then the closing piece is empty, as Docker's). Straight from the
                         * input when nothing is buffered. */
                        if (s->len == 0)
                                r = emit_piece(s, data, LOG_LINE_MAX, true);
                        else {
                                memcpy(s->buf + s->len, data, room);
                                r = emit_piece(s, s->buf, LOG_LINE_MAX, true);
                        }
                        s->len = 0;
                        data += room;
                        n -= room;
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!nl) {
                        memcpy(s->buf + s->len, data, take);
                        s->len += take;
                        return 0;
                }
                /* A line ends. Emitted straight from the input when nothing is buffered: no copy in
                 * the common case. */
                if (s->len == 0)
                        r = emit_piece(s, data, take, false);
                else {
                        memcpy(s->buf + s->len, data, take);
                        r = emit_piece(s, s->buf, s->len + take, false);
                }
                s->len = 0;
                data += take + 1;
                n -= take + 1;
                if (r < 0)
                        return r;
        }
        return 0;
}

int log_stream_flush(LogStream *s) {
        int r = 0;
        if (s->len > 0 || s->partial)
                r = emit_piece(s, s->buf, s->len, false);
        s->len = 0;
        s->partial = false;
        return r;
}
