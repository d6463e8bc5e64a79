/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The btrfs storage driver: a layer's "diff" is a subvolume, a snapshot of the layer below with the
 * layer's tarball applied (whiteouts as deletions), made read-only once complete; a container's
 * rootfs is a writable snapshot of its image's top layer. Snapshots share extents, so neither a
 * layer nor a container copies anything. What a layer or a container changed is found by comparing
 * two trees (tree-diff.c), as Docker's btrfs driver does.
 */
#include <btrfsutil.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/stat.h>

#include "helper-protocol.h"
#include "log.h"
#include "storage.h"
#include "util.h"

static int btrfs_error(enum btrfs_util_error e) {
        if (e == BTRFS_UTIL_OK)
                return 0;
        return errno > 0 ? -errno : -EIO;
}

static int btrfs_layer_create(const char *parent_diff, const char *dir) {
        _cleanup_free_ char *diff = NULL;
        if (asprintf(&diff, "%s/diff", dir) < 0)
                return -ENOMEM;
        errno = 0;
        if (!parent_diff)
                return btrfs_error(btrfs_util_create_subvolume(diff, 0, NULL, NULL));
        return btrfs_error(btrfs_util_create_snapshot(parent_diff, diff, 0, NULL, NULL));
}

static int btrfs_layer_seal(const char *dir) {
        _cleanup_free_ char *diff = NULL;
        if (asprintf(&diff, "%s/diff", dir) < 0)
                return -ENOMEM;
        errno = 0;
        return btrfs_error(btrfs_util_set_subvolume_read_only(diff, true));
}

/* A subvolume goes at once (no walk); anything else (a temporary directory, a failed layer) file by file. */
static int remove_subvolume_or_tree(const char *path) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        errno = 0;
        if (S_ISDIR(st.st_mode) && btrfs_util_is_subvolume(path) == BTRFS_UTIL_OK) {
                int r = btrfs_error(btrfs_util_delete_subvolume(path, BTRFS_UTIL_DELETE_SUBVOLUME_RECURSIVE));
                if (r >= 0)
                        return 0;
                log_warning("Failed to delete subvolume %s, removing its files: %s", path, strerror(-r));
                (void) btrfs_util_set_subvolume_read_only(path, false);
        }
        return rm_rf(path);
}

/* dir with its subvolume 'sub' (a layer's diff, a container's rootfs) and whatever else is in it. */
static int remove_dir_with_subvolume(const char *dir, const char *sub) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, sub) < 0)
                return -ENOMEM;
        int r = remove_subvolume_or_tree(path);
        if (r < 0)
                return r;
        return rm_rf(dir);
}

static int btrfs_layer_remove(const char *dir) {
        return remove_dir_with_subvolume(dir, "diff");
}

static int open_tree(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int btrfs_layer_write(char **diffs, size_t k, int output_fd, char **ret_error) {
        _cleanup_close_ int upper = open_tree(diffs[k]), lower = diffs[k + 1] ? open_tree(diffs[k + 1]) : -1;
        if (upper < 0)
                return upper;
        if (diffs[k + 1] && lower < 0)
                return lower;
        return tree_diff_write(lower, upper, output_fd, ret_error);
}

static int btrfs_container_create(char **diffs, const char *cdir) {
        _cleanup_free_ char *rootfs = NULL;
        if (asprintf(&rootfs, "%s/rootfs", cdir) < 0)
                return -ENOMEM;
        errno = 0;
        return btrfs_error(btrfs_util_create_snapshot(diffs[0], rootfs, 0, NULL, NULL));
}

static int btrfs_container_remove(const char *cdir) {
        return remove_dir_with_subvolume(cdir, "rootfs");
}

/* The container's rootfs and its image's top layer. */
static int open_container(char **diffs, const char *cdir, int *ret_lower, int *ret_upper) {
        _cleanup_free_ char *rootfs = NULL;
        if (asprintf(&rootfs, "%s/rootfs", cdir) < 0)
                return -ENOMEM;
        _cleanup_close_ int lower = open_tree(diffs[0]), upper = open_tree(rootfs);
        if (lower < 0)
                return lower;
        if (upper < 0)
                return upper;
        *ret_lower = TAKE_FD(lower);
        *ret_upper = TAKE_FD(upper);
        return 0;
}

static int btrfs_container_changes(char **diffs, const char *cdir, TreeChange **ret, size_t *ret_n) {
        _cleanup_close_ int lower = -1, upper = -1;
        int r = open_container(diffs, cdir, &lower, &upper);
        if (r < 0)
                return r;
        return tree_changes(lower, upper, ret, ret_n);
}

static int btrfs_container_write_diff(char **diffs, const char *cdir, int output_fd, char **ret_error) {
        _cleanup_close_ int lower = -1, upper = -1;
        int r = open_container(diffs, cdir, &lower, &upper);
        if (r < 0)
                return r;
        return tree_diff_write(lower, upper, output_fd, ret_error);
}

static int btrfs_container_size(char **diffs, const char *cdir, uint64_t *ret) {
        _cleanup_close_ int lower = -1, upper = -1;
        int r = open_container(diffs, cdir, &lower, &upper);
        if (r < 0)
                return r;
        return tree_diff_size(lower, upper, ret);
}

/* Snapshots need btrfs under the driver's directory, not only under the state directory. */
static int btrfs_store_setup(const char *store) {
        struct statfs sfs;
        if (statfs(store, &sfs) < 0)
                return -errno;
        if (sfs.f_type != BTRFS_SUPER_MAGIC) {
                log_error("The btrfs storage driver needs %s on a btrfs file system.", store);
                return -EOPNOTSUPP;
        }
        return 0;
}

/* A container's rootfs is its own snapshot, used as it is: no lower directories. */
static int btrfs_container_spec(const char *store, char **diffs, const char *cdir, json_object *o) {
        json_object_object_add(o, SPEC_KEY_LOWERDIRS, json_object_new_array());
        return 0;
}

const StorageDriver storage_btrfs = {
        .name = "btrfs",
        .layers_are_snapshots = true,
        .apply_flags = TAR_EXTRACT_APPLY_WHITEOUTS,
        .layer_create = btrfs_layer_create,
        .layer_seal = btrfs_layer_seal,
        .layer_remove = btrfs_layer_remove,
        .layer_write = btrfs_layer_write,
        .container_create = btrfs_container_create,
        .container_remove = btrfs_container_remove,
        .container_changes = btrfs_container_changes,
        .container_write_diff = btrfs_container_write_diff,
        .container_size = btrfs_container_size,
        .store_setup = btrfs_store_setup,
        .container_spec = btrfs_container_spec,
};
