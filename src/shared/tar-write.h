/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Tar streams of directory trees (layers, container file systems, berthctl cp), written
 * deterministically: names sorted, numeric owners, no atimes, pax format. Overlay whiteouts (the
 * character device 0/0) become ".wh.NAME" entries and opaque directories get ".wh..wh..opq", so a
 * layer's upper directory turns into an OCI layer; a merged file system has neither. Hard links
 * within the stream are kept; sockets and device nodes are left out. Extended attributes are not
 * written. On failure a negative errno is returned and *ret_error (if not NULL) says what failed. */

/* Every entry below dir_fd, with names relative to it. */
int tar_write_tree(int dir_fd, int output_fd, char **ret_error);
/* The entry 'name' of parent_fd (recursively when it is a directory), named 'as' in the stream. */
int tar_write_entry(int parent_fd, const char *name, const char *as, int output_fd, char **ret_error);
