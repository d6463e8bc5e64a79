/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log-stream.h"

#define PIECES_MAX 16

typedef struct Collected {
        char lines[PIECES_MAX][LOG_LINE_MAX + 1];
        size_t lens[PIECES_MAX];
        bool partial[PIECES_MAX];
        size_t n;
} Collected;

static int collect(const char *line, size_t len, bool partial, void *userdata) {
        Collected *c = userdata;
        if (c->n >= PIECES_MAX)
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

/* How the input is cut into reads. */
enum { ONE_READ = 0, BYTE_BY_BYTE = 1, RANDOM_READS = -1 };

static unsigned rand_state = 12345;
static size_t next_random(size_t max) {
        rand_state = rand_state * 1103515245u + 12345u;
        return 1 + (rand_state >> 8) % max;
}

static void feed_in_reads(LogStream *s, const char *data, size_t n, long chunk) {
        for (size_t off = 0; off < n;) {
                size_t k = chunk == ONE_READ ? n - off : chunk == RANDOM_READS ? next_random(20000) : (size_t) chunk;
                if (k > n - off)
                        k = n - off;
                CHECK(log_stream_feed(s, data + off, k) == 0);
                off += k;
        }
}

/* The pieces that came out, as "<length><P if partial>" joined by spaces: "16384P 0 4". */
static void describe(const Collected *c, char *buf, size_t size) {
        size_t used = 0;
        buf[0] = 0;
        for (size_t i = 0; i < c->n && used < size; i++)
                used += (size_t) snprintf(buf + used, size - used, "%s%zu%s", i ? " " : "", c->lens[i],
                                          c->partial[i] ? "P" : "");
}

/* Feed data in reads of the given size (then flush if asked), expect these pieces, and check that
 * the pieces with newlines after the complete ones give back the input. */
static bool check_pieces(const char *what, const char *data, size_t n, long chunk, bool flush, const char *expected) {
        static LogStream s;
        char got[512];
        Collected *c = fresh(&s);
        int failures_before = failures;

        feed_in_reads(&s, data, n, chunk);
        if (flush)
                CHECK(log_stream_flush(&s) == 0);
        describe(c, got, sizeof(got));
        if (strcmp(got, expected) != 0) {
                fprintf(stderr, "FAIL %s (reads of %ld%s): pieces \"%s\", expected \"%s\"\n", what, chunk,
                        flush ? ", flushed" : "", got, expected);
                failures++;
        }
        size_t off = 0;
        for (size_t i = 0; i < c->n; i++) {
                if (off + c->lens[i] > n || memcmp(data + off, c->lines[i], c->lens[i]) != 0) {
                        fprintf(stderr, "FAIL %s (reads of %ld): piece %zu does not match the input\n", what, chunk, i);
                        failures++;
                        break;
                }
                off += c->lens[i];
                if (!c->partial[i] && off < n)
                        off++; /* the newline */
        }
        free(c);
        return failures == failures_before;
}

/* A line of len bytes (letters), then newline if asked, then "next\n" if asked. */
static char *make_input(size_t len, bool newline, bool next, size_t *ret_n) {
        char *p = malloc(len + 6);
        for (size_t i = 0; i < len; i++)
                p[i] = (char) ('a' + i % 26);
        size_t n = len;
        if (newline)
                p[n++] = '\n';
        if (next) {
                memcpy(p + n, "next\n", 5);
                n += 5;
        }
        *ret_n = n;
        return p;
}

static const long chunkings[] = { ONE_READ,         BYTE_BY_BYTE,     1000,        LOG_LINE_MAX,
                                  LOG_LINE_MAX - 1, LOG_LINE_MAX + 1, RANDOM_READS };

static void check_all_reads(const char *what, size_t len, bool newline, bool next, bool flush, const char *expected) {
        size_t n;
        char *input = make_input(len, newline, next, &n);
        for (size_t i = 0; i < sizeof(chunkings) / sizeof(chunkings[0]); i++)
                for (int round = 0; round < (chunkings[i] == RANDOM_READS ? 20 : 1); round++)
                        if (!check_pieces(what, input, n, chunkings[i], flush, expected))
                                break; /* one report per way of reading is enough */
        free(input);
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
        free(line);

        /* Whatever the reads: a line is cut into 16 KiB partial pieces and always ends with a
         * closing piece that is not partial, an empty one when its length is a multiple of 16 KiB
         * (as Docker's copier). Nothing glues the next line onto it. */
        check_all_reads("40000-byte line", 40000, true, true, false, "16384P 16384P 7232 4");
        check_all_reads("16383-byte line", LOG_LINE_MAX - 1, true, true, false, "16383 4");
        check_all_reads("16384-byte line", LOG_LINE_MAX, true, true, false, "16384P 0 4");
        check_all_reads("16385-byte line", LOG_LINE_MAX + 1, true, true, false, "16384P 1 4");
        check_all_reads("32768-byte line", 2 * LOG_LINE_MAX, true, true, false, "16384P 16384P 0 4");
        check_all_reads("16384-byte line, flushed", LOG_LINE_MAX, true, false, true, "16384P 0");

        /* End of stream in the middle of a line: flushing closes it, with what is left, or with an
         * empty piece when nothing is (the next run's output must not continue it). */
        check_all_reads("16384 bytes at EOF", LOG_LINE_MAX, false, false, true, "16384P 0");
        check_all_reads("32768 bytes at EOF", 2 * LOG_LINE_MAX, false, false, true, "16384P 16384P 0");
        check_all_reads("20000 bytes at EOF", 20000, false, false, true, "16384P 3616");
        check_all_reads("5 bytes at EOF", 5, false, false, true, "5");
        /* Not flushed (the stream goes on): the line stays open. */
        check_all_reads("16384 bytes, open", LOG_LINE_MAX, false, false, false, "16384P");

        /* After the flush, the stream starts a new line; a second flush adds nothing. */
        c = fresh(&s);
        line = make_input(LOG_LINE_MAX, false, false, &big);
        CHECK(log_stream_feed(&s, line, big) == 0);
        CHECK(log_stream_flush(&s) == 0);
        CHECK(log_stream_flush(&s) == 0);
        CHECK(log_stream_feed(&s, "next\n", 5) == 0);
        CHECK(log_stream_flush(&s) == 0);
        CHECK(c->n == 3);
        CHECK(c->lens[0] == LOG_LINE_MAX && c->partial[0]);
        CHECK(c->lens[1] == 0 && !c->partial[1]);
        CHECK(strcmp(c->lines[2], "next") == 0 && !c->partial[2]);
        free(c);
        free(line);

        /* Nothing pending: a flush emits nothing, not even after a complete line. */
        c = fresh(&s);
        CHECK(log_stream_flush(&s) == 0);
        CHECK(log_stream_feed(&s, "done\n", 5) == 0);
        CHECK(log_stream_flush(&s) == 0);
        CHECK(c->n == 1 && strcmp(c->lines[0], "done") == 0);
        free(c);

        if (failures == 0)
                printf("ok: log-stream\n");
        return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
