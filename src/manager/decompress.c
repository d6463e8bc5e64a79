/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "decompress.h"

#define OUT_BUFFER (128U * 1024U)

struct Decompressor {
        DecompressFormat format;
        DecompressOutputFunc out;
        void *userdata;
        z_stream z;
        bool z_ready, ended; /* ended: the last stream ended and no input came after it */
        ZSTD_DStream *zs;
        unsigned char buffer[OUT_BUFFER];
};

Decompressor *decompressor_free(Decompressor *d) {
        if (!d)
                return NULL;
        if (d->z_ready)
                inflateEnd(&d->z);
        ZSTD_freeDStream(d->zs);
        free(d);
        return NULL;
}

int decompressor_reset(Decompressor *d) {
        d->ended = false;
        if (d->format == DECOMPRESS_GZIP) {
                if (d->z_ready)
                        return inflateReset(&d->z) == Z_OK ? 0 : -ENOMEM;
                /* 16 + MAX_WBITS: gzip framing. */
                if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK)
                        return -ENOMEM;
                d->z_ready = true;
        } else if (d->format == DECOMPRESS_ZSTD) {
                if (!d->zs && !(d->zs = ZSTD_createDStream()))
                        return -ENOMEM;
                if (ZSTD_isError(ZSTD_initDStream(d->zs)))
                        return -ENOMEM;
        }
        return 0;
}

int decompressor_new(DecompressFormat format, DecompressOutputFunc out, void *userdata, Decompressor **ret) {
        if (format == DECOMPRESS_UNKNOWN)
                return -EINVAL;
        Decompressor *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        *d = (Decompressor){ .format = format, .out = out, .userdata = userdata };
        int r = decompressor_reset(d);
        if (r < 0) {
                decompressor_free(d);
                return r;
        }
        *ret = d;
        return 0;
}

static int feed_gzip(Decompressor *d, const void *p, size_t n) {
        d->z.next_in = (Bytef *) p;
        d->z.avail_in = (uInt) n;
        for (;;) {
                if (d->ended) {
                        if (d->z.avail_in == 0)
                                return 0;
                        if (inflateReset(&d->z) != Z_OK) /* another gzip member after the last one */
                                return -ENOMEM;
                        d->ended = false;
                }
                d->z.next_out = d->buffer;
                d->z.avail_out = sizeof(d->buffer);
                int z = inflate(&d->z, Z_NO_FLUSH);
                if (z != Z_OK && z != Z_STREAM_END && z != Z_BUF_ERROR)
                        return -EBADMSG;
                size_t have = sizeof(d->buffer) - d->z.avail_out;
                if (have > 0) {
                        int r = d->out(d->buffer, have, d->userdata);
                        if (r < 0)
                                return r;
                }
                if (z == Z_STREAM_END)
                        d->ended = true;
                else if (d->z.avail_out > 0) /* all input taken, all output given: more input wanted */
                        return 0;
        }
}

static int feed_zstd(Decompressor *d, const void *p, size_t n) {
        ZSTD_inBuffer in = { .src = p, .size = n, .pos = 0 };
        for (;;) {
                ZSTD_outBuffer o = { .dst = d->buffer, .size = sizeof(d->buffer), .pos = 0 };
                size_t before = in.pos, k = ZSTD_decompressStream(d->zs, &o, &in);
                if (ZSTD_isError(k))
                        return -EBADMSG;
                if (o.pos > 0) {
                        int r = d->out(d->buffer, o.pos, d->userdata);
                        if (r < 0)
                                return r;
                }
                /* 0: a frame ended and is flushed; asked again then, zstd hints at the next frame. */
                if (k == 0)
                        d->ended = true;
                else if (in.pos > before || o.pos > 0)
                        d->ended = false;
                if (in.pos == in.size && (k == 0 || o.pos < o.size))
                        return 0;
        }
}

int decompressor_feed(Decompressor *d, const void *p, size_t n) {
        switch (d->format) {
        case DECOMPRESS_GZIP:
                return feed_gzip(d, p, n);
        case DECOMPRESS_ZSTD:
                return feed_zstd(d, p, n);
        default:
                d->ended = true;
                return n > 0 ? d->out(p, n, d->userdata) : 0;
        }
}

int decompressor_finish(Decompressor *d) {
        /* zstd may hold the end of a frame until it is asked once more, with no input. */
        for (unsigned i = 0; d->format == DECOMPRESS_ZSTD && !d->ended && i < 16; i++) {
                ZSTD_inBuffer in = { .src = NULL, .size = 0, .pos = 0 };
                ZSTD_outBuffer o = { .dst = d->buffer, .size = sizeof(d->buffer), .pos = 0 };
                size_t k = ZSTD_decompressStream(d->zs, &o, &in);
                if (ZSTD_isError(k))
                        return -EBADMSG;
                if (o.pos > 0) {
                        int r = d->out(d->buffer, o.pos, d->userdata);
                        if (r < 0)
                                return r;
                }
                d->ended = k == 0;
                if (o.pos == 0)
                        break;
        }
        return d->ended ? 0 : -EBADMSG;
}
