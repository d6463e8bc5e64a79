/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The streaming decompressor: gzip (one member and several), zstd (one frame and several) and plain
 * data, fed whole, byte by byte and in odd chunks, give back the original; bad data is -EBADMSG. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "decompress.h"
#include "tests.h"

typedef struct Sink {
        unsigned char *data;
        size_t len;
} Sink;

static int collect(const void *p, size_t n, void *userdata) {
        Sink *s = userdata;
        unsigned char *p2 = realloc(s->data, s->len + n);
        if (!p2)
                return -ENOMEM;
        s->data = p2;
        memcpy(s->data + s->len, p, n);
        s->len += n;
        return 0;
}

static size_t gzip_of(const unsigned char *in, size_t n, unsigned char *out, size_t cap) {
        z_stream z = {};
        CHECK(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
        z.next_in = (Bytef *) in;
        z.avail_in = (uInt) n;
        z.next_out = out;
        z.avail_out = (uInt) cap;
        CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
        size_t len = cap - z.avail_out;
        deflateEnd(&z);
        return len;
}

static void check(DecompressFormat f, const unsigned char *in, size_t n, const unsigned char *want, size_t want_len,
                  size_t step) {
        Sink s = {};
        Decompressor *d;
        CHECK(decompressor_new(f, collect, &s, &d) == 0);
        for (size_t k = 0; k < n; k += step)
                CHECK(decompressor_feed(d, in + k, n - k < step ? n - k : step) == 0);
        CHECK(decompressor_finish(d) == 0);
        CHECK(s.len == want_len && memcmp(s.data, want, want_len) == 0);
        /* Again after a reset: the same. */
        free(s.data);
        s = (Sink){};
        CHECK(decompressor_reset(d) == 0);
        CHECK(decompressor_feed(d, in, n) == 0);
        CHECK(decompressor_finish(d) == 0 && s.len == want_len);
        free(s.data);
        decompressor_free(d);
}

int main(void) {
        size_t n = 1 << 20;
        unsigned char *plain = malloc(2 * n), *gz = malloc(4 * n), *zs = malloc(4 * n);
        CHECK(plain && gz && zs);
        srand(1);
        for (size_t k = 0; k < 2 * n; k++) /* compressible, not trivially */
                plain[k] = (unsigned char) ((k % 251 < 200) ? (int) ('a' + k % 7) : rand());

        size_t steps[] = { 1, 7, 4096, 100000, 4 * n };
        /* gzip: one member, then two members of the two halves */
        size_t g1 = gzip_of(plain, 2 * n, gz, 4 * n);
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
                if (steps[i] != 1 || g1 < 300000)
                        check(DECOMPRESS_GZIP, gz, g1, plain, 2 * n, steps[i]);
        size_t a = gzip_of(plain, n, gz, 4 * n), b = gzip_of(plain + n, n, gz + a, 4 * n - a);
        check(DECOMPRESS_GZIP, gz, a + b, plain, 2 * n, 4096);

        /* zstd: one frame, then two frames */
        size_t z1 = ZSTD_compress(zs, 4 * n, plain, 2 * n, 3);
        CHECK(!ZSTD_isError(z1));
        check(DECOMPRESS_ZSTD, zs, z1, plain, 2 * n, 1000);
        check(DECOMPRESS_ZSTD, zs, z1, plain, 2 * n, 4 * n);
        size_t za = ZSTD_compress(zs, 4 * n, plain, n, 3), zb = ZSTD_compress(zs + za, 4 * n - za, plain + n, n, 3);
        check(DECOMPRESS_ZSTD, zs, za + zb, plain, 2 * n, 65536);

        /* plain data passes through */
        check(DECOMPRESS_NONE, plain, 2 * n, plain, 2 * n, 12345);

        /* garbage and truncation */
        Sink s = {};
        Decompressor *d;
        CHECK(decompressor_new(DECOMPRESS_GZIP, collect, &s, &d) == 0);
        CHECK(decompressor_feed(d, "not gzip at all", 15) == -EBADMSG);
        decompressor_free(d);
        CHECK(decompressor_new(DECOMPRESS_GZIP, collect, &s, &d) == 0);
        CHECK(decompressor_feed(d, gz, g1 / 2) == 0);
        CHECK(decompressor_finish(d) == -EBADMSG); /* cut off */
        decompressor_free(d);
        CHECK(decompressor_new(DECOMPRESS_ZSTD, collect, &s, &d) == 0);
        CHECK(decompressor_feed(d, "\x28\xb5\x2f\xfd garbage after a magic", 26) == -EBADMSG);
        decompressor_free(d);
        free(s.data);
        free(plain);
        free(gz);
        free(zs);
        return tests_exit_status();
}
