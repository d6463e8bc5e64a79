/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "digest.h"

/* tar-split: what it takes, besides the extracted files, to make the exact tar stream a layer came
 * from again, so a saved image keeps its diff ids and id. Every byte of the uncompressed stream that
 * is not regular file content (headers, extension records, padding, end-of-archive blocks, trailing
 * bytes) is kept verbatim; file content only as its length and the path it was extracted to.
 *
 * The file (gzip compressed): "berth-tar-split 1\n", then records 'V' <u32 len> <bytes> (verbatim)
 * and 'F' <u64 size> (the content of the next file of the path table), 'E' ending them; then
 * <u64 n> and n times <u32 len> <path>; then the sha256 (64 hex digits) and the <u64 size> of the
 * stream. Integers are little endian. */

#define TAR_SPLIT_FILE "tar-split"

typedef struct TarSplitRecorder TarSplitRecorder;

/* Records into output_fd (owned by the caller, written from its current position). */
int tar_split_recorder_new(int output_fd, TarSplitRecorder **ret);
void tar_split_recorder_free(TarSplitRecorder *r);

/* The uncompressed stream, in order, every byte of it. */
void tar_split_feed(TarSplitRecorder *r, const void *buf, size_t n);
/* The stream is the input itself (it was not compressed), which is hashed anyway: don't hash it
 * again. Call with NULL as soon as that is known, and with the digest at the end. */
void tar_split_set_digest(TarSplitRecorder *r, const char hex[SHA256_HEX_LEN + 1]);
/* The sha256 (hex) of the whole stream fed, the layer's diff id, and its size (may be NULL); ends
 * the feeding. */
int tar_split_stream_digest(TarSplitRecorder *r, char ret[SHA256_HEX_LEN + 1], uint64_t *ret_size);
/* An entry other than a whiteout was extracted to path, in archive order: a regular file with content
 * with its size, inode and device, anything else with size 0. */
void tar_split_add_file(TarSplitRecorder *r, const char *path, uint64_t size, dev_t dev, ino_t ino);
/* Something the recorder cannot follow happened: write nothing. */
void tar_split_give_up(TarSplitRecorder *r);

/* After extraction into root_fd of n_entries entries: checks that the stream and the extracted
 * files agree (every file still there, same inode and size) and writes the rest of the file.
 * Returns 1 when written, 0 when the stream can't be reproduced (the output is then garbage: remove
 * it), or a negative errno. */
int tar_split_finish(TarSplitRecorder *r, int root_fd, uint64_t n_entries);

/* Write the original stream to output_fd, reading file content below root_fd (never following
 * symlinks). -ESTALE with *ret_error set when a file or the result does not match what was
 * recorded, -EBADMSG when the split file is corrupt. ret_digest (may be NULL) gets the sha256 (hex)
 * and ret_size the size of what was written. */
int tar_split_replay(int split_fd, int root_fd, int output_fd, char ret_digest[SHA256_HEX_LEN + 1], uint64_t *ret_size,
                     char **ret_error);
