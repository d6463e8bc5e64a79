/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Streaming gunzip / zstd decompression fed as data arrives: what comes out goes to a callback.
 * Used to hash a layer's uncompressed tar (its diff id) while its blob downloads. */
typedef struct Decompressor Decompressor;
typedef enum DecompressFormat {
        DECOMPRESS_UNKNOWN = -1,
        DECOMPRESS_NONE, /* the data is the output */
        DECOMPRESS_GZIP,
        DECOMPRESS_ZSTD,
} DecompressFormat;
typedef int (*DecompressOutputFunc)(const void *p, size_t n, void *userdata);

int decompressor_new(DecompressFormat format, DecompressOutputFunc out, void *userdata, Decompressor **ret);
Decompressor *decompressor_free(Decompressor *d);
/* Feed input; -EBADMSG for data that is no stream of that format (the output callback's errors
 * are returned as they are). */
int decompressor_feed(Decompressor *d, const void *p, size_t n);
/* Start over (a download that begins again). */
int decompressor_reset(Decompressor *d);
/* Whether the input so far ended a complete stream. */
int decompressor_finish(Decompressor *d);
