/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "tar-path.h"

typedef struct TarExtractResult {
        char digest[SHA256_HEX_LEN + 1]; /* sha256 (hex, no "sha256:" prefix) of every raw byte of input_fd */
        uint64_t size; /* number of raw bytes read from input_fd */
        uint64_t n_entries;
        /* tar_extract_split() only: sha256 (hex) of the uncompressed tar stream, what a diff id names;
         * the same as digest when the input was not compressed. */
        char diff_digest[SHA256_HEX_LEN + 1];
        uint64_t diff_size; /* and its size */
} TarExtractResult;

/* Read a tar archive (plain or gzip/bzip2/xz/lzma/zstd compressed) from input_fd until EOF and create its
 * entries below dest_dirfd, never writing outside of it. OCI whiteouts become overlayfs ones: ".wh.NAME"
 * creates the character device 0/0 NAME, ".wh..wh..opq" sets trusted.overlay.opaque=y on its directory
 * (both need root). As the OCI image spec says, a whiteout hides only what the layers below have, not an
 * entry of the same archive, before or after it: with ".wh.NAME" and NAME in one archive, NAME stays (no
 * 0/0 device), and a directory NAME (listed or made as a parent) is marked opaque, as the lower directory's
 * entries stay hidden. The digest covers the whole input, including
 * bytes after the end-of-archive marker, so it matches the digest of the blob the input came from.
 *
 * Returns 0 and fills *result (may be NULL) on success. On failure returns a negative errno and, when
 * ret_error is not NULL, stores a malloc'd sentence naming the offending entry:
 *   -EPERM    the archive holds something we refuse: an unsafe path ("..", absolute, empty), a path
 *             through a symlink or a non-directory, device nodes or sockets, hard links to anything but
 *             a regular file already extracted, unknown entry types, owners out of range;
 *   -EBADMSG  the archive is corrupt, truncated or not a tar archive;
 *   other     the errno of a failed system call (-ENOSPC, -EIO, -ENOMEM, ...).
 * Partial output is left behind on failure; the caller is expected to extract into a fresh temporary
 * directory and remove it. dest_dirfd must be a directory fd (O_PATH is fine). */
int tar_extract(int input_fd, int dest_dirfd, TarExtractResult *result, char **ret_error);

typedef enum TarExtractFlags {
        /* Files, not a layer (berthctl cp): ".wh." names are ordinary names, no whiteouts are made. */
        TAR_EXTRACT_LITERAL_NAMES = 1 << 0,
        /* A layer applied to the full tree of the layers below (a btrfs snapshot of its parent), not
         * extracted on its own: ".wh.NAME" deletes NAME (recursively, never following symlinks;
         * nothing there is fine), ".wh..wh..opq" deletes every entry below its directory that this
         * archive did not create (its own entries stay, before or after the marker), as Docker's
         * applyLayer. Unlike Docker, ".wh.NAME" never deletes an entry of this archive either (before
         * or after it, as the OCI image spec says): it only deletes what the layers below have at
         * NAME, and when this archive's NAME is a directory, what they have below it (the opaque
         * rule). Existing entries are replaced as tar -x does (a directory over a directory keeps its
         * contents and takes the new metadata); hard links may name files of the layers below. A
         * symlink or file of the layers below in the path of an entry whose parent the archive does
         * not list is replaced by a directory, as on an overlay, instead of refusing the entry.
         * Ignored with LITERAL_NAMES. */
        TAR_EXTRACT_APPLY_WHITEOUTS = 1 << 1,
        /* Every entry owned by the caller's effective uid and gid, not the archive's (docker cp to
         * the host without -a: files belong to whoever copied them). */
        TAR_EXTRACT_OWNER_CALLER = 1 << 2,
} TarExtractFlags;

int tar_extract_full(int input_fd, int dest_dirfd, TarExtractFlags flags, TarExtractResult *result, char **ret_error);

/* As tar_extract_full(), and records a tar-split file (see tar-split.h) of the uncompressed stream as
 * split_name below split_dirfd. That file is removed again when the stream is not one it can
 * reproduce (or on failure): the split is an optimization, its absence is no error. */
int tar_extract_split(int input_fd, int dest_dirfd, TarExtractFlags flags, int split_dirfd, const char *split_name,
                      TarExtractResult *result, char **ret_error);
