/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Docker's "naive diff" (moby pkg/archive ChangesDirs) of two full directory trees, for storage
 * drivers whose layers are complete trees (btrfs snapshots) rather than overlay upper directories.
 *
 * Both trees are walked by descriptors, never following a symlink and never crossing into another
 * file system (an entry whose st_dev differs from its tree root's is left out, on either side). An
 * entry only in upper is 'A', as is everything below it; one only in lower is 'D' (only the top of a
 * deleted subtree); one in both is 'C' when its type, mode, owner, rdev, size or mtime (seconds and
 * nanoseconds) differ, the symlink target or the security.capability attribute differs. As Docker,
 * directories are not compared by size or mtime (creating a file changes both). A type change is 'C'
 * and whatever is below the new directory is 'A'. Every directory above a change is 'C'; the root
 * itself is never listed. The very same inode in both trees (same st_dev and st_ino) is unchanged
 * without looking further. Paths are relative ("a/b"); a path of PATH_MAX bytes or more fails the
 * walk with -ENAMETOOLONG, which bounds the recursion on directory depth. */

struct stat;
/* The files a container's /etc/hosts, /etc/resolv.conf and /etc/hostname are bind-mounted on:
 * empty files berth-nspawn made where the image had none. Docker keeps them in an "init" layer
 * under the container's own; berth leaves them out of diff and commit instead. path is relative. */
bool tree_entry_is_mount_placeholder(const char *path, const struct stat *st);

typedef struct TreeChange {
        char *path; /* relative, no leading "/" */
        char kind; /* 'A', 'C', 'D' */
} TreeChange;

/* Changes of the tree at upper_fd against the tree at lower_fd (lower_fd < 0: an empty tree), sorted
 * by path (strcmp). */
int tree_changes(int lower_fd, int upper_fd, TreeChange **ret, size_t *ret_n);
void tree_changes_free(TreeChange *c, size_t n);

/* An OCI layer tarball of upper's changes against lower written to output_fd: added and changed
 * entries (a changed directory as its header only, its unchanged children not included), ".wh.NAME"
 * for deleted ones; deterministic like tar_write_tree() (depth first, names sorted, numeric owners,
 * no atimes, pax; mtimes in whole seconds, no extended attributes). On failure a negative errno and,
 * if ret_error is not NULL, a sentence in *ret_error. */
int tree_diff_write(int lower_fd, int upper_fd, int output_fd, char **ret_error);

/* Apparent bytes of added/changed non-directory entries, a hard-linked inode counted once (Docker's
 * SizeRw for the btrfs/vfs drivers). */
int tree_diff_size(int lower_fd, int upper_fd, uint64_t *ret);
