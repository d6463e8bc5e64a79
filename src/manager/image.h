/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "manager.h"
#include "util.h"

/* Docker's limit: overlay takes at most one page of mount options (the short links make 125 layers
 * take 3.6 KiB of it), and fsconfig()-built overlays a bounded stack of lower dirs. */
#define IMAGE_LAYERS_MAX 125

typedef struct Image {
        Manager *manager;
        Image *next;
        char id[BERTH_ID_LEN + 1]; /* sha256 of the OCI config for loaded images, else of berth's description */
        char **repo_tags; /* "name:tag" */
        char **layers; /* diff ids "sha256:<hex>", bottom first */
        uint64_t *layer_sizes; /* bytes of each layer's uncompressed tar, parallel to layers */
        char **layer_keys; /* the storage driver's names of the layers, made on first use (image_layer_key) */
        uint64_t created;
        uint64_t size;

        /* The image config (OCI image-spec "config", Docker's Config): container defaults. */
        char **cmd;
        char **entrypoint;
        char **env;
        char *working_dir; /* NULL: unset */
        char *user;
        char *stop_signal;
        char **labels; /* "key=value" */
        char **exposed_ports; /* "80/tcp" */
        char **volumes; /* absolute paths */
        char *architecture; /* GOARCH names: "amd64", "arm64", ... */
        char *os;

        /* The config blob exactly as loaded (LoadImage), so SaveImages writes it back byte for byte and
         * the image keeps its id across hosts. NULL for imported images; a config is generated then. */
        char *config_json;
        /* "sha256:<hex>" of the manifest the image was loaded with (OCI archives), else NULL. */
        char *manifest_digest;
        /* The manifest a registry has it under, byte for byte, its media type and where
         * ("host/repository"): what a push to that registry sends again, mounting the blobs from
         * there instead of writing the layers anew. NULL when it came from no registry. */
        char *registry_manifest, *registry_manifest_type, *registry_source;
        /* The build step this image is the result of (CommitWithOptions' BuildCacheKey, 64 hex), or
         * NULL. Only berthd's record holds it: a loaded or pulled image never has one. */
        char *build_cache_key;
} Image;

/* A new image with empty vectors, not linked anywhere yet. */
Image *image_new(Manager *m);
char *image_object_path(const Image *i);
/* By "name[:tag]", id, "sha256:<id>" or unique id prefix. */
Image *manager_find_image(Manager *m, const char *ref, bool *ret_ambiguous);
/* "name[:tag]" → "name:tag"; InvalidName (a sentence on 'error') when it is not a valid reference. */
int image_reference_normalize(const char *reference, char **ret, sd_bus_error *error);
int manager_load_images(Manager *m);
/* Import a tarball as a one-layer image tagged 'reference'. The extraction runs in a worker
 * process; 'request' is answered when it is done. Returns 1 when the answer is pending. */
int image_import(Manager *m, int tar_fd, const char *reference, char **changes, const char *message,
                 sd_bus_message *request, sd_bus_error *error);
int image_save(Image *i);
int image_compute_id(Image *i);
void image_move_tag(Manager *m, Image *target, const char *tag);
/* Save a new image, move its tags to it, link it and announce it on the bus. Takes ownership of i
 * (freed on failure). An image with the same id already present gets i's tags instead, and is returned. */
int manager_add_image(Manager *m, Image *i, Image **ret);
bool image_has_tag(const Image *i, const char *tag);
void image_remove_tag(Image *i, const char *tag);
/* Containers (any state) using the image; *ret_active is set when one runs or is about to. */
unsigned image_count_users(Image *i, bool *ret_active);
/* The name the storage driver keeps layer k (0 = bottom) under; NULL only when out of memory. */
const char *image_layer_key(Image *i, size_t k);
/* Bytes of the image's layers that no other image uses (image_remove would free them). */
uint64_t image_unique_size(Image *i);
/* Drop the image: its JSON first, then the layers no other image uses. Frees i. */
int image_remove(Image *i);
/* Remove every layer that no image references (leftovers of a crash). */
int manager_gc_layers(Manager *m);
/* The image config as OCI/Docker config JSON: config_json if there is one, else generated. */
int image_config_json(Image *i, char **ret, size_t *ret_len);

/* image-config.c: the OCI config blob. */
typedef struct ImageHistory {
        uint64_t created;
        char *created_by;
        char *comment;
        bool empty_layer;
} ImageHistory;

/* "amd64"-style name of the host's architecture. */
const char *image_host_architecture(void);
uint64_t image_parse_rfc3339(const char *s);
/* Fill i's config fields, created, architecture and os from a config blob; return its rootfs.diff_ids.
 * -EBADMSG when it is no config. */
int image_config_parse(Image *i, const char *json, size_t len, char ***ret_diff_ids);
/* Apply Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME,
 * WORKDIR) to the "config" of an image config blob; a bad one is InvalidArgument (image-changes.c). */
int image_config_apply_changes(json_object *blob, char **changes, sd_bus_error *error);
int image_history(Image *i, ImageHistory **ret, size_t *ret_n);
void image_history_free(ImageHistory *h, size_t n);
void image_free(Image *i);

/* image-load.c, image-save.c: the workers of LoadImage and SaveImages (run in a forked child). */
int image_load_worker(Manager *m, int input_fd, const char *format, const char *tmpdir, char **ret_error);
/* An OCI image layout already on disk (a pull's): files[k] is <tmpdir>/files/<k>, with its path in
 * the layout ("index.json", "blobs/sha256/HEX") and its sha256, checked as it was written. The rest
 * is image_load_worker()'s. */
typedef struct LayoutFile {
        char *path;
        char sha256[64 + 1];
        uint64_t size;
        /* A layer blob not downloaded because its layer is stored already: no file, its diff id and
         * uncompressed size known (the load neither checks nor extracts it). */
        bool present;
        /* present: the stored layer's diff id and uncompressed size. */
        char diff_id[64 + 1];
        uint64_t diff_size;
} LayoutFile;
int image_load_layout_worker(Manager *m, const LayoutFile *files, size_t n_files, const char *tmpdir, char **ret_error);
/* Loads such a layout in a forked worker; takes tmpdir (removed when done) and files. 'done' gets
 * the image, or NULL and the error, from the loop (unless this fails and returns the error). */
typedef void (*ImageLoadedFunc)(Manager *m, Image *image, const sd_bus_error *error, void *userdata);
int image_load_layout(Manager *m, char *tmpdir, LayoutFile *files, size_t n_files, ImageLoadedFunc done, void *userdata,
                      sd_bus_error *error);
typedef struct SaveItem {
        char *config_json;
        char **repo_tags; /* the tags to write */
        char **layer_dirs; /* the layers' "diff" paths, top first (storage_image_diffs) */
        char **diff_ids; /* bottom first */
} SaveItem;
int save_items_prepare(Manager *m, char **refs, SaveItem **ret, size_t *ret_n, sd_bus_error *error);
void save_items_free(SaveItem *items, size_t n);
/* The same as an OCI image layout directory, out_dir (made; under tmpdir), for a push. */
int image_save_layout_worker(const StorageDriver *driver, SaveItem *items, size_t n_items, const char *compression,
                             const char *tmpdir, const char *out_dir, char **ret_error);
/* Runs it in a forked worker into <driver>/.push-XXXXXX/layout; takes the items. 'done' gets the
 * work directory (the caller's to remove with storage_remove_work_dir()) or NULL and the error. */
typedef void (*ImageLayoutSavedFunc)(Manager *m, char *workdir, const sd_bus_error *error, void *userdata);
int image_save_layout(Manager *m, SaveItem *items, size_t n_items, ImageLayoutSavedFunc done, void *userdata,
                      sd_bus_error *error);
/* compression: of the layers of an OCI archive, "gzip", "zstd" or "none" (docker-archive: "none"). */
int image_save_worker(const StorageDriver *driver, SaveItem *items, size_t n_items, const char *format,
                      const char *compression, int output_fd, const char *tmpdir, char **ret_error);

/* Manager.PruneImages (image-dbus.c). */
int method_prune_images(sd_bus_message *message, void *userdata, sd_bus_error *error);

/* docker-archive / OCI archive in and out (image-archive.c): Manager.LoadImage, Manager.SaveImages. */
int method_load_image(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_pull_image(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_push_image(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_registry_login(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_registry_tags(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_save_images(sd_bus_message *message, void *userdata, sd_bus_error *error);
