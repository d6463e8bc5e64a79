/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "log-stream.h"

void log_stream_init(LogStream *s, log_line_fn emit, void *userdata) {
        s->len = 0;
        s->emit = emit;
        s->userdata = userdata;
}

int log_stream_feed(LogStream *s, const char *data, size_t n) {
        int r;

        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t take = nl ? (size_t) (nl - data) : n;

                /* Emit straight from the input when nothing is buffered: no copy in the common case. */
                if (nl && s->len == 0 && take <= LOG_LINE_MAX) {
                        r = s->emit(data, take, false, s->userdata);
                        if (r < 0)
                                return r;
                        data += take + 1;
                        n -= take + 1;
                        continue;
                }

                size_t room = LOG_LINE_MAX - s->len;
                size_t copy = take < room ? take : room;
                memcpy(s->buf + s->len, data, copy);
                s->len += copy;
                data += copy;
                n -= copy;

                if (s->len == LOG_LINE_MAX && (copy < take || !nl)) {
                        /* A full buffer with the line still going on: a partial piece. But if the
                         * newline directly follows, the line is exactly LOG_LINE_MAX long: complete. */
                        if (n > 0 && data[0] == '\n') {
                                r = s->emit(s->buf, s->len, false, s->userdata);
                                data++;
                                n--;
                        } else
                                r = s->emit(s->buf, s->len, true, s->userdata);
                        s->len = 0;
                        if (r < 0)
                                return r;
                        continue;
                }
                if (nl && copy == take) {
                        r = s->emit(s->buf, s->len, false, s->userdata);
                        s->len = 0;
                        data++;
                        n--;
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int log_stream_flush(LogStream *s) {
        int r = 0;
        if (s->len > 0)
                r = s->emit(s->buf, s->len, false, s->userdata);
        s->len = 0;
        return r;
}
