/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log-stream.h"

typedef struct Collected {
        char lines[16][LOG_LINE_MAX + 1];
        size_t lens[16];
        bool partial[16];
        size_t n;
} Collected;

static int collect(const char *line, size_t len, bool partial, void *userdata) {
        Collected *c = userdata;
        if (c->n >= 16)
                return -1;
        memcpy(c->lines[c->n], line, len);
        c->lines[c->n][len] = 0;
        c->lens[c->n] = len;
        c->partial[c->n] = partial;
        c->n++;
        return 0;
}

static int failures;
#define CHECK(expr)                                                                     \
        do {                                                                            \
                if (!(expr)) {                                                          \
                        fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #expr); \
                        failures++;                                                     \
                }                                                                       \
        } while (0)

static Collected *fresh(LogStream *s) {
        Collected *c = calloc(1, sizeof(Collected));
        log_stream_init(s, collect, c);
        return c;
}

int main(void) {
        static LogStream s;
        Collected *c;

        /* lines split across reads, several lines per read */
        c = fresh(&s);
        log_stream_feed(&s, "hel", 3);
        log_stream_feed(&s, "lo\nwor", 6);
        log_stream_feed(&s, "ld\n\nlast", 8);
        log_stream_flush(&s);
        CHECK(c->n == 4);
        CHECK(strcmp(c->lines[0], "hello") == 0 && !c->partial[0]);
        CHECK(strcmp(c->lines[1], "world") == 0);
        CHECK(c->lens[2] == 0);
        CHECK(strcmp(c->lines[3], "last") == 0 && !c->partial[3]);
        free(c);

        /* a 40000-byte line: two partial 16 KiB pieces and a final complete piece */
        size_t big = 40000;
        char *line = malloc(big + 1);
        for (size_t i = 0; i < big; i++)
                line[i] = (char) ('a' + i % 26);
        line[big] = '\n';
        c = fresh(&s);
        for (size_t off = 0; off < big + 1; off += 1000)
                log_stream_feed(&s, line + off, big + 1 - off < 1000 ? big + 1 - off : 1000);
        CHECK(c->n == 3);
        CHECK(c->lens[0] == LOG_LINE_MAX && c->partial[0]);
        CHECK(c->lens[1] == LOG_LINE_MAX && c->partial[1]);
        CHECK(c->lens[2] == big - 2 * LOG_LINE_MAX && !c->partial[2]);
        CHECK(memcmp(c->lines[1], line + LOG_LINE_MAX, LOG_LINE_MAX) == 0);
        free(c);

        /* exactly LOG_LINE_MAX bytes and a newline, in one read: one complete line */
        c = fresh(&s);
        log_stream_feed(&s, line, LOG_LINE_MAX);
        log_stream_feed(&s, "\n", 1);
        CHECK(c->n >= 1 && c->lens[0] == LOG_LINE_MAX);
        free(c);
        c = fresh(&s);
        memcpy(line + LOG_LINE_MAX, "\n", 1);
        log_stream_feed(&s, line, LOG_LINE_MAX + 1);
        CHECK(c->n == 1 && c->lens[0] == LOG_LINE_MAX && !c->partial[0]);
        free(c);
        free(line);

        if (failures == 0)
                printf("ok: log-stream\n");
        return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
