/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Storage drivers (Docker's graphdriver, reduced to what berth needs): where image layers and a
 * container's writable file system live, and how they are made, compared and written out.
 *
 * Both drivers keep a layer in <state>/<driver>/<key>/, whose "diff" holds its files:
 *   overlay: key = the layer's diff id; "diff" holds only the layer's own changes (whiteouts as
 *            overlay ones), l/<short> links to it (short lower dirs for the mount options);
 *            a container is an upper and a work directory, mounted with the layers below.
 *   btrfs:   key = the layer's chain id (it depends on the layers below); "diff" is a subvolume
 *            snapshot of the layer below with the layer applied (whiteouts as deletions);
 *            a container's rootfs is a writable snapshot of its image's top layer.
 * Layer directories are made under a temporary name in the driver's directory and renamed into
 * place; removal renames them out of the way first (storage_layer_remove).
 */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "digest.h"
#include "manager.h"
#include "tar-extract.h"
#include "tree-diff.h"

struct StorageDriver {
        const char *name; /* "overlay", "btrfs": also its directory under the state directory */
        /* Whether a layer holds the whole file system up to it (its key is then the chain id). */
        bool layers_are_snapshots;
        TarExtractFlags apply_flags; /* how a layer tarball is extracted into a new layer */

        /* Make <dir>/diff (dir exists): an empty layer on top of the layer whose diff is parent_diff
         * (NULL: a base layer). Runs in berthd or a worker. */
        int (*layer_create)(const char *parent_diff, const char *dir);
        /* After the layer's tarball was applied: make it read-only where the driver can (or NULL). */
        int (*layer_seal)(const char *dir);
        /* Remove a layer directory (or a temporary one a worker left). */
        int (*layer_remove)(const char *dir);
        /* The layer (diffs[k]) as an OCI layer tarball; diffs are the image's "diff" paths, top first. */
        int (*layer_write)(char **diffs, size_t k, int output_fd, char **ret_error);

        /* A container's file system in cdir (containers/<id>, which exists) on the image's layers. */
        int (*container_create)(char **diffs, const char *cdir);
        int (*container_remove)(const char *cdir);
        /* Its changes against the image, sorted by path (diff). */
        int (*container_changes)(char **diffs, const char *cdir, TreeChange **ret, size_t *ret_n);
        /* Its changes as an OCI layer tarball (commit). */
        int (*container_write_diff)(char **diffs, const char *cdir, int output_fd, char **ret_error);
        /* Bytes it added or changed (system df, SizeRw). */
        int (*container_size)(char **diffs, const char *cdir, uint64_t *ret);

        /* The driver's own special cases, each optional but container_spec; store is
         * <state>/<driver>, which exists. */
        /* Check that the driver can work there and make what it keeps beside the layers. */
        int (*store_setup)(const char *store);
        /* A layer was stored under key (or found so at startup): what the driver keeps for it
         * (overlay: its short link). Idempotent. */
        int (*layer_stored)(const char *store, const char *key);
        /* The layer under key is being removed: drop what the driver keeps for it. */
        void (*layer_forget)(const char *store, const char *key);
        /* Drop what is left of layers no longer there. */
        void (*gc)(const char *store);
        /* The root file system part of the helper's spec, for a container (cdir) on diffs. */
        int (*container_spec)(const char *store, char **diffs, const char *cdir, json_object *o);
        /* The mount option naming diffs as lower directories, relative to store, when the driver
         * mounts its layers (overlay); NULL when a container's rootfs is used as it is. */
        int (*lower_option)(char **diffs, char **ret);
};

extern const StorageDriver storage_overlay;
extern const StorageDriver storage_btrfs;

/* Choose the driver (berthd.conf's [Storage] Driver=, else the one the state directory was used
 * with, else btrfs when the state directory is on btrfs, else overlay), create its directories and
 * record the choice. Refuses (a message on stderr) a driver that cannot work here, or one other than
 * the images and containers already stored were made with. */
int storage_setup(Manager *m);

/* <state>/<driver>/<key>, and its "diff". */
char *storage_layer_dir(Manager *m, const char *key);
/* The "diff" paths of an image's layers, top first. */
int storage_image_diffs(Image *i, char ***ret);
/* After a layer directory was renamed into place: the driver's directory synced (the rename is
 * durable before an image record references the layer), and what else the driver keeps for it
 * (overlay: its short link). Idempotent. The layer's file data is not synced (as tar -x or podman
 * do not): a power cut right after an import can leave files of it empty. */
int storage_layer_stored(Manager *m, const char *key);
/* Only the second part: what the driver keeps beside a stored layer (startup repair). */
int storage_layer_link(Manager *m, const char *key);
/* Remove a stored layer: renamed out of the way first (.rm-<key>, swept at startup), so a removal that
 * fails or crashes halfway never leaves a partial layer under its key to be taken for a stored one;
 * the files go in berthd's removal thread (removal.h). */
int storage_layer_remove(Manager *m, const char *key);
/* The keys of all layers of an image with these diff ids ("sha256:<hex>", bottom first), in one pass:
 * the diff id's hex (overlay), the OCI chain id's (btrfs). Image.layer_keys caches them. */
int storage_layer_keys(Manager *m, char **diff_ids, char ***ret);
/* Drop what is left of layers no longer there (overlay: dangling short links). */
void storage_gc(Manager *m);

/* Make a new layer in dir (a fresh directory of the driver's) on parent_diff (NULL: a base layer) from
 * the tarball on tar_fd, with the driver's extraction rules, and its tar-split file (dir/tar-split,
 * when the tarball is one it can reproduce); sealed once complete. For workers. */
int storage_layer_apply(const StorageDriver *d, const char *parent_diff, const char *dir, int tar_fd,
                        TarExtractResult *result, char **ret_error);

/* Remove a worker's temporary directory in the driver's directory: one layer (.import-*, .commit-*)
 * or one with layers/<key> inside (.load-*), or anything else. */
int storage_remove_work_dir(Manager *m, const char *path);

/* The root file system part of the helper's spec (rootfs aside): lowerdirs, lowerdir, storedir,
 * upperdir, workdir for overlay; an empty lowerdirs for a rootfs used as it is (btrfs). */
int storage_container_spec(Manager *m, Image *image, const char *id, json_object *o);

/* Bytes the container (by id) added or changed; in workers (system df). */
int container_storage_size(Manager *m, const char *id, uint64_t *ret);

/* overlay: the short link of a layer key, "l/<26 characters>", relative to the driver's directory. */
int overlay_short_link(const char *key, char ret[29]);
