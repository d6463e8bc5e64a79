/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* Tar streams of directory trees (layers, container file systems, berthctl cp), written
 * deterministically: names sorted, numeric owners, no atimes, pax format. Overlay whiteouts (the
 * character device 0/0) become ".wh.NAME" entries and opaque directories get ".wh..wh..opq", so a
 * layer's upper directory turns into an OCI layer; a merged file system has neither. Hard links
 * within the stream are kept; sockets and device nodes are left out. Extended attributes are not
 * written. On failure a negative errno is returned and *ret_error (if not NULL) says what failed. */

/* Every entry below dir_fd, with names relative to it. */
int tar_write_tree(int dir_fd, int output_fd, char **ret_error);
/* tar_write_tree() of a container's overlay upper directory, as a layer: without the empty files
 * its /etc/hosts, /etc/resolv.conf and /etc/hostname were mounted on. */
int tar_write_upper(int dir_fd, int output_fd, char **ret_error);
/* The entry 'name' of parent_fd (recursively when it is a directory), named 'as' in the stream. */
int tar_write_entry(int parent_fd, const char *name, const char *as, int output_fd, char **ret_error);

/* The same, entry by entry, for streams that are not one tree (a diff of two trees). The functions
 * return a negative errno on failure, with a sentence kept for tar_writer_take_error(); the first
 * failure's sentence wins. Hard links are recognized across all entries of one writer. */
typedef struct TarWriter TarWriter;

typedef enum TarWriteFlags {
        /* The entries are an overlay upper directory: a 0/0 character device is written as a ".wh."
         * entry, a directory with trusted.overlay.opaque=y gets ".wh..wh..opq" after its header. */
        TAR_WRITE_OVERLAY_WHITEOUTS = 1 << 0,
        TAR_WRITE_SKIP_MOUNT_PLACEHOLDERS = 1 << 1, /* tree_entry_is_mount_placeholder() */
        TAR_WRITE_OWNER_ROOT = 1 << 2, /* every entry owned by 0:0 (docker cp into a container without -a) */
} TarWriteFlags;

/* tar_write_entry() with flags (besides the overlay whiteouts it always has). */
int tar_write_entry_flags(int parent_fd, const char *name, const char *as, TarWriteFlags flags, int output_fd,
                          char **ret_error);

int tar_writer_new(int output_fd, TarWriteFlags flags, TarWriter **ret, char **ret_error);
/* The entry 'name' of parent_fd as 'as' (relative, no trailing "/"); a directory with everything below
 * it if recursive, else its header only. */
int tar_writer_add(TarWriter *w, int parent_fd, const char *name, const char *as, bool recursive);
/* Every entry below dir_fd, with names relative to it (tar_write_tree()'s entries). */
int tar_writer_add_tree(TarWriter *w, int dir_fd);
/* ".wh.NAME" beside 'as' (an OCI whiteout: 'as' was deleted). */
int tar_writer_add_whiteout(TarWriter *w, const char *as);
/* The end-of-archive marker; the writer must still be freed. */
int tar_writer_finish(TarWriter *w);
char *tar_writer_take_error(TarWriter *w);
TarWriter *tar_writer_free(TarWriter *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(TarWriter *, tar_writer_free);
