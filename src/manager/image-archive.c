/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Image archives: docker-archive (docker save) and OCI image layout archives, in (LoadImage) and out
 * (SaveImages), and plain rootfs tarballs in (ImportImage). All run in a forked worker so the bus
 * never blocks; the worker reports one line on a pipe ("OK [result]" or "ERR <errno> <message>").
 * They work in <driver>/.<verb>-XXXXXX (storage.h); what a crash leaves there is unreferenced and
 * dropped at the next startup.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bus-polkit.h"
#include "digest.h"
#include "errors.h"
#include "image.h"
#include "storage.h"
#include "json-util.h"
#include "names.h"
#include "tar-extract.h"
#include "worker.h"

typedef struct ArchiveOperation ArchiveOperation;
/* In the worker: do the work; a result for the parent goes into *ret_payload ("OK <payload>"). */
typedef int (*ArchiveWorkFunc)(ArchiveOperation *op, char **ret_payload, char **ret_error);
/* In berthd, once the worker said "OK": payload is what followed it, "" if nothing. */
typedef int (*ArchiveFinishFunc)(ArchiveOperation *op, const char *payload, sd_bus_error *error);

struct ArchiveOperation {
        Manager *manager;
        sd_bus_message *request;
        const char *verb; /* "load", "save", "import" */
        char *tmpdir;
        int fd; /* the caller's archive (borrowed from request) */
        char *format;
        char *compression; /* save: of OCI layers, "gzip", "zstd" or "none" */
        SaveItem *items; /* save: what to write */
        size_t n_items;
        char *reference; /* import: normalized "name:tag" */
        char **changes; /* import: --change instructions */
        char *message; /* import: -m, the history entry's comment */
        LayoutFile *layout; /* pull: the OCI layout in tmpdir */
        size_t n_layout;
        ImageLoadedFunc loaded; /* pull: told instead of answering a request */
        ImageLayoutSavedFunc saved; /* push: the same */
        void *loaded_userdata;
        ArchiveWorkFunc work;
        ArchiveFinishFunc finish;
        Worker *worker;
};

static void archive_operation_free(ArchiveOperation *op) {
        if (!op)
                return;
        /* The worker first: it may still write into tmpdir. */
        worker_free(op->worker);
        if (op->tmpdir)
                (void) storage_remove_work_dir(op->manager, op->tmpdir);
        sd_bus_message_unref(op->request);
        free(op->tmpdir);
        free(op->format);
        free(op->compression);
        save_items_free(op->items, op->n_items);
        free(op->reference);
        strv_free(op->changes);
        free(op->message);
        for (size_t k = 0; k < op->n_layout; k++)
                free(op->layout[k].path);
        free(op->layout);
        free(op);
}

static void archive_done(void *userdata, int err, const char *text) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        ArchiveOperation *op = userdata;
        int r;

        if (err >= 0)
                r = op->finish(op, text, &error);
        else if (!text)
                r = sd_bus_error_setf(&error, BERTH_ERROR_INVALID_IMAGE, "The %s worker died unexpectedly.", op->verb);
        else if (err == -ENOSPC || err == -EDQUOT || err == -EIO || err == -ENOMEM || err == -EPIPE)
                r = sd_bus_error_set_errnof(&error, -err, "Failed to %s %s: %s", op->verb,
                                            streq(op->verb, "import") ? "image" : "images", text);
        else
                r = sd_bus_error_setf(&error, BERTH_ERROR_INVALID_IMAGE, "Invalid image archive: %s", text);

        if (r < 0 && !sd_bus_error_is_set(&error))
                sd_bus_error_set_errno(&error, r);
        /* The work directory goes before the answer: once a failed load answers, nothing of it is
         * left in the store. */
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = sd_bus_message_ref(op->request);
        ImageLoadedFunc loaded = op->loaded;
        ImageLayoutSavedFunc saved = op->saved;
        void *loaded_userdata = op->loaded_userdata;
        Manager *m = op->manager;
        archive_operation_free(op);
        if (r < 0 && loaded)
                loaded(m, NULL, &error, loaded_userdata);
        else if (r < 0 && saved)
                saved(m, NULL, &error, loaded_userdata);
        else if (r < 0)
                (void) sd_bus_reply_method_error(request, &error);
}

static int archive_work(void *userdata, char **ret_payload, char **ret_error) {
        ArchiveOperation *op = userdata;
        return op->work(op, ret_payload, ret_error);
}

/* Fork the worker; on success the operation belongs to the event loop and 1 is returned. */
static int archive_operation_start(ArchiveOperation *op, ArchiveWorkFunc work, sd_bus_message *request,
                                   sd_bus_error *error) {
        Manager *m = op->manager;
        int r;

        op->work = work;
        if (!op->tmpdir)
                op->tmpdir = manager_state_path(m, "%s/.%s-XXXXXX", m->storage->name, op->verb);
        if (!op->tmpdir) {
                r = -ENOMEM;
                goto fail;
        }
        if (!op->layout && !mkdtemp(op->tmpdir)) {
                op->tmpdir = mfree(op->tmpdir);
                r = sd_bus_error_set_errnof(error, errno, "Failed to create a temporary directory: %m");
                goto fail;
        }
        r = worker_start(m, &op->fd, op->fd >= 0 ? 1 : 0, archive_work, archive_done, op, &op->worker);
        if (r < 0) {
                r = sd_bus_error_set_errnof(error, -r, "Failed to start the %s worker: %m", op->verb);
                goto fail;
        }
        op->request = sd_bus_message_ref(request);
        return 1;
fail:
        archive_operation_free(op);
        return r;
}

/* ---- LoadImage ---- */

static int load_work(ArchiveOperation *op, char **ret_payload, char **ret_error) {
        return image_load_worker(op->manager, op->fd, op->format, op->tmpdir, ret_error);
}

static int load_one(ArchiveOperation *op, json_object *e, Image **ret, sd_bus_error *error) {
        Manager *m = op->manager;
        _cleanup_free_ char *config = NULL;
        _cleanup_strv_free_ char **tags = NULL, **diff_ids = NULL;
        json_object *sizes = NULL;
        const char *config_path = json_get_string(e, "config");
        size_t len;
        int r;

        if (!config_path || json_get_strv(e, "repo_tags", &tags) < 0 ||
            !json_object_object_get_ex(e, "layer_sizes", &sizes))
                return -EBADMSG;
        r = read_full_file(config_path, &config, &len);
        if (r < 0)
                return r;
        if (strlen(config) != len)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "Invalid image archive: a config holds NUL.");

        Image *i = image_new(m);
        if (!i)
                return -ENOMEM;
        r = image_config_parse(i, config, len, &diff_ids);
        if (r < 0) {
                image_free(i);
                return r;
        }
        size_t n = strv_length(diff_ids);
        i->layer_sizes = calloc(n + 1, sizeof(uint64_t));
        if (!i->layer_sizes) {
                image_free(i);
                return -ENOMEM;
        }
        for (size_t k = 0; k < n; k++) {
                i->layer_sizes[k] = json_object_get_uint64(json_object_array_get_idx(sizes, k));
                i->size += i->layer_sizes[k];
        }
        strv_free(i->layers);
        i->layers = TAKE_PTR(diff_ids);
        i->config_json = TAKE_PTR(config);
        const char *digest = json_get_string(e, "manifest_digest");
        if (digest && digest_is_valid(digest) && !(i->manifest_digest = strdup(digest))) {
                image_free(i);
                return -ENOMEM;
        }
        if (i->created == 0)
                i->created = now_realtime_usec();
        for (char **t = tags; *t; t++) {
                _cleanup_free_ char *name = NULL, *tag = NULL, *full = NULL;
                if (image_reference_parse(*t, &name, &tag) < 0 || asprintf(&full, "%s:%s", name, tag) < 0)
                        continue; /* a name berth cannot use: the image loads without it */
                if (!image_has_tag(i, full) && strv_push(&i->repo_tags, full) < 0) {
                        image_free(i);
                        return -ENOMEM;
                }
        }
        r = image_compute_id(i);
        if (r < 0) {
                image_free(i);
                return r;
        }

        /* Layers go into place before the record that references them. */
        for (size_t k = 0; i->layers[k]; k++) {
                const char *key = image_layer_key(i, k);
                _cleanup_free_ char *final = NULL, *tmp = NULL;
                if (!key || !(final = storage_layer_dir(m, key)) ||
                    asprintf(&tmp, "%s/layers/%s", op->tmpdir, key) < 0) {
                        image_free(i);
                        return -ENOMEM;
                }
                if (access(final, F_OK) < 0 && rename(tmp, final) < 0) {
                        /* Stored already (shared) when it is there, else made by this load. */
                        r = -errno;
                        image_free(i);
                        if (r == -ENOENT)
                                return sd_bus_error_setf(error, BERTH_ERROR_BUSY,
                                                         "Layer %s was removed while the image loaded; try again.",
                                                         i->layers[k]);
                        return sd_bus_error_set_errnof(error, -r, "Failed to store layer %s: %m", i->layers[k]);
                }
                r = storage_layer_stored(m, key);
                if (r < 0) {
                        image_free(i);
                        return sd_bus_error_set_errnof(error, -r, "Failed to store layer %s: %m", i->layers[k]);
                }
        }
        r = manager_add_image(m, i, ret);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to save image: %m");
        return 0;
}

static int load_finish(ArchiveOperation *op, const char *payload, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *result = NULL;
        _cleanup_free_ char *path = NULL;
        json_object *images;
        int r;

        if (asprintf(&path, "%s/result.json", op->tmpdir) < 0)
                return -ENOMEM;
        r = json_read_file(path, &result);
        if (r < 0 || !json_object_object_get_ex(result, "images", &images) ||
            !json_object_is_type(images, json_type_array))
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "The load worker left no usable result.");
        r = sd_bus_message_new_method_return(op->request, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t k = 0; r >= 0 && k < json_object_array_length(images); k++) {
                _cleanup_free_ char *object = NULL;
                Image *i;
                r = load_one(op, json_object_array_get_idx(images, k), &i, error);
                if (r == -EBADMSG && !sd_bus_error_is_set(error))
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "Invalid image archive: bad config.");
                if (r < 0)
                        return r;
                object = image_object_path(i);
                if (!object)
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "o", object);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int layout_work(ArchiveOperation *op, char **ret_payload, char **ret_error) {
        return image_load_layout_worker(op->manager, op->layout, op->n_layout, op->tmpdir, ret_error);
}

static int layout_finish(ArchiveOperation *op, const char *payload, sd_bus_error *error) {
        _cleanup_json_ json_object *result = NULL;
        _cleanup_free_ char *path = NULL;
        json_object *images;
        Image *i = NULL;
        int r;

        if (asprintf(&path, "%s/result.json", op->tmpdir) < 0)
                return -ENOMEM;
        r = json_read_file(path, &result);
        if (r < 0 || !json_object_object_get_ex(result, "images", &images) ||
            !json_object_is_type(images, json_type_array) || json_object_array_length(images) != 1)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "The pull's worker left no usable result.");
        r = load_one(op, json_object_array_get_idx(images, 0), &i, error);
        if (r == -EBADMSG && !sd_bus_error_is_set(error))
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "The image's config is invalid.");
        if (r < 0)
                return r;
        op->loaded(op->manager, i, NULL, op->loaded_userdata);
        op->loaded = NULL;
        return 0;
}

int image_load_layout(Manager *m, char *tmpdir, LayoutFile *files, size_t n_files, ImageLoadedFunc done, void *userdata,
                      sd_bus_error *error) {
        ArchiveOperation *op = calloc(1, sizeof(*op));
        if (!op) {
                (void) storage_remove_work_dir(m, tmpdir);
                free(tmpdir);
                for (size_t k = 0; k < n_files; k++)
                        free(files[k].path);
                free(files);
                return -ENOMEM;
        }
        *op = (ArchiveOperation){ .manager = m,
                                  .verb = "pull",
                                  .fd = -1,
                                  .tmpdir = tmpdir,
                                  .layout = files,
                                  .n_layout = n_files,
                                  .loaded = done,
                                  .loaded_userdata = userdata,
                                  .finish = layout_finish };
        return archive_operation_start(op, layout_work, NULL, error);
}

static int layout_save_work(ArchiveOperation *op, char **ret_payload, char **ret_error) {
        _cleanup_free_ char *out = strjoin(op->tmpdir, "/layout");
        if (!out)
                return -ENOMEM;
        return image_save_layout_worker(op->manager->storage, op->items, op->n_items, "gzip", op->tmpdir, out,
                                        ret_error);
}

static int layout_saved(ArchiveOperation *op, const char *payload, sd_bus_error *error) {
        op->saved(op->manager, TAKE_PTR(op->tmpdir), NULL, op->loaded_userdata);
        op->saved = NULL;
        return 0;
}

int image_save_layout(Manager *m, SaveItem *items, size_t n_items, ImageLayoutSavedFunc done, void *userdata,
                      sd_bus_error *error) {
        ArchiveOperation *op = calloc(1, sizeof(*op));
        if (!op) {
                save_items_free(items, n_items);
                return -ENOMEM;
        }
        *op = (ArchiveOperation){ .manager = m,
                                  .verb = "push",
                                  .fd = -1,
                                  .items = items,
                                  .n_items = n_items,
                                  .saved = done,
                                  .loaded_userdata = userdata,
                                  .finish = layout_saved };
        return archive_operation_start(op, layout_save_work, NULL, error);
}

static int check_format(const char *format, bool allow_auto, sd_bus_error *error) {
        if ((allow_auto && isempty(format)) || streq(format, "docker-archive") || streq(format, "oci-archive"))
                return 0;
        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                 "Unknown archive format \"%s\": expected docker-archive or oci-archive%s.", format,
                                 allow_auto ? " (or \"\" to detect it)" : "");
}

int method_load_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ArchiveOperation *op;
        const char *format;
        int fd, r;

        r = sd_bus_message_read(message, "hs", &fd, &format);
        if (r < 0)
                return r;
        r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        r = check_format(format, true, error);
        if (r < 0)
                return r;
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        *op = (ArchiveOperation){ .manager = m, .verb = "load", .fd = fd, .finish = load_finish };
        op->format = strdup(format);
        if (!op->format) {
                free(op);
                return -ENOMEM;
        }
        return archive_operation_start(op, load_work, message, error);
}

/* ---- SaveImages ---- */

static int save_work(ArchiveOperation *op, char **ret_payload, char **ret_error) {
        return image_save_worker(op->manager->storage, op->items, op->n_items, op->format, op->compression, op->fd,
                                 op->tmpdir, ret_error);
}

static int save_finish(ArchiveOperation *op, const char *payload, sd_bus_error *error) {
        return sd_bus_reply_method_return(op->request, NULL);
}

/* OCI archives carry layers gzip (the default), zstd or not compressed; docker-archive only plain. */
static int check_compression(const char *format, const char **compression, sd_bus_error *error) {
        bool oci = streq(format, "oci-archive");

        if (isempty(*compression))
                *compression = oci ? "gzip" : "none";
        if (!streq(*compression, "gzip") && !streq(*compression, "zstd") && !streq(*compression, "none"))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Unknown compression \"%s\": expected gzip, zstd or none.", *compression);
        if (!oci && !streq(*compression, "none"))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "A docker-archive holds uncompressed layers: compression \"%s\" needs "
                                         "--format oci-archive.",
                                         *compression);
        return 0;
}

/* SaveImages(as, s, h) and SaveImagesWithOptions(as, s, h, a{sv}). */
int method_save_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **refs = NULL;
        ArchiveOperation *op;
        const char *format, *compression = NULL;
        int fd, r;

        r = bus_read_strv(message, &refs);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "sh", &format, &fd);
        if (r < 0)
                return r;
        if (streq(sd_bus_message_get_member(message), "SaveImagesWithOptions")) {
                const BusOption options[] = { BUS_OPTION("Compression", "s", &compression) };
                r = bus_read_options(message, options, ELEMENTSOF(options), "save option", error);
                if (r < 0)
                        return r;
        }
        r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        if (isempty(format))
                format = "docker-archive";
        r = check_format(format, false, error);
        if (r < 0)
                return r;
        r = check_compression(format, &compression, error);
        if (r < 0)
                return r;
        if (strv_length(refs) == 0)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT, "No images to save.");

        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        *op = (ArchiveOperation){ .manager = m, .verb = "save", .fd = fd, .finish = save_finish };
        op->format = strdup(format);
        op->compression = strdup(compression);
        if (!op->format || !op->compression) {
                free(op->format);
                free(op->compression);
                free(op);
                return -ENOMEM;
        }
        r = save_items_prepare(m, refs, &op->items, &op->n_items, error);
        if (r < 0) {
                archive_operation_free(op);
                return r;
        }
        return archive_operation_start(op, save_work, message, error);
}

/* ---- ImportImage: a rootfs tarball as a one-layer image ---- */

static const char *const default_env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        NULL,
};

/* Extract into <tmpdir>/diff; tmpdir is renamed to <driver>/<digest> only once complete. */
static int import_work(ArchiveOperation *op, char **ret_payload, char **ret_error) {
        TarExtractResult result = {};
        int r = storage_layer_apply(op->manager->storage, NULL, op->tmpdir, op->fd, &result, ret_error);
        if (r < 0)
                return r;
        /* The layer is named by its diff id, the digest of the uncompressed tarball, as docker import does; a
         * compressed tarball's own digest would not survive a save. */
        if (asprintf(ret_payload, "%s %" PRIu64 " %" PRIu64, result.diff_digest, result.diff_size, result.n_entries) <
            0)
                return -ENOMEM;
        return 0;
}

/* --change and -m: on the generated config blob, which then is the image's (and gives its id). */
static int import_apply_options(ArchiveOperation *op, Image *i, sd_bus_error *error) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_object *blob = NULL;
        _cleanup_strv_free_ char **diff_ids = NULL;
        json_object *history;
        int r = image_config_json(i, &text, NULL);
        if (r < 0)
                return r;
        if (json_parse_buffer(text, strlen(text), &blob) < 0)
                return -EBADMSG;
        r = image_config_apply_changes(blob, op->changes, error);
        if (r < 0)
                return r;
        if (!isempty(op->message) && json_object_object_get_ex(blob, "history", &history) &&
            json_object_array_length(history) > 0)
                json_object_object_add(json_object_array_get_idx(history, json_object_array_length(history) - 1),
                                       "comment", json_object_new_string(op->message));
        const char *out = json_object_to_json_string_ext(blob, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        free(i->config_json);
        i->config_json = out ? strdup(out) : NULL;
        if (!i->config_json)
                return -ENOMEM;
        r = image_config_parse(i, i->config_json, strlen(i->config_json), &diff_ids);
        if (r < 0)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "The changed config is invalid.");
        return image_compute_id(i); /* the sha256 of the new blob */
}

static int import_finish(ArchiveOperation *op, const char *payload, sd_bus_error *error) {
        Manager *m = op->manager;
        _cleanup_free_ char *final = NULL, *layer = NULL;
        char digest[65];
        uint64_t size, entries;
        int r;

        if (sscanf(payload, "%64s %" SCNu64 " %" SCNu64, digest, &size, &entries) != 3)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "The import worker died unexpectedly.");
        if (entries == 0)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE,
                                        "Invalid image archive: it contains no files.");
        /* A base layer: its key is its diff id with either driver. */
        final = storage_layer_dir(m, digest);
        if (!final || asprintf(&layer, "sha256:%s", digest) < 0)
                return -ENOMEM;
        if (access(final, F_OK) < 0) {
                if (rename(op->tmpdir, final) < 0)
                        return sd_bus_error_set_errnof(error, errno, "Failed to store layer: %m");
                op->tmpdir = mfree(op->tmpdir);
        } /* else the same layer is stored already: share it (tmpdir goes with op) */
        r = storage_layer_stored(m, digest);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to store layer: %m");

        Image *i = image_new(m);
        if (!i)
                return -ENOMEM;
        i->created = now_realtime_usec();
        i->size = size;
        strv_free(i->env);
        i->env = strv_copy((char **) default_env);
        i->layer_sizes = calloc(2, sizeof(uint64_t));
        i->architecture = strdup(image_host_architecture());
        i->os = strdup("linux");
        if (!i->env || !i->layer_sizes || !i->architecture || !i->os || strv_push(&i->repo_tags, op->reference) < 0 ||
            strv_push(&i->layers, layer) < 0 || image_compute_id(i) < 0) {
                image_free(i);
                return -ENOMEM;
        }
        i->layer_sizes[0] = size;
        if (strv_length(op->changes) > 0 || !isempty(op->message)) {
                r = import_apply_options(op, i, error);
                if (r < 0) {
                        image_free(i);
                        return r;
                }
        }
        r = manager_add_image(m, i, &i);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to save image: %m");

        _cleanup_free_ char *path = image_object_path(i);
        if (!path)
                return -ENOMEM;
        return sd_bus_reply_method_return(op->request, "o", path);
}

int image_import(Manager *m, int tar_fd, const char *reference, char **changes, const char *message,
                 sd_bus_message *request, sd_bus_error *error) {
        _cleanup_free_ char *normalized = NULL;
        ArchiveOperation *op;
        int r;

        r = image_reference_normalize(reference, &normalized, error);
        if (r < 0)
                return r;
        if (message && strlen(message) > 65536)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT, "The message is too long.");
        {
                /* Bad changes are refused before the tarball is read. */
                _cleanup_json_ json_object *scratch = json_object_new_object();
                if (!scratch)
                        return -ENOMEM;
                r = image_config_apply_changes(scratch, changes, error);
                if (r < 0)
                        return r;
        }
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        *op = (ArchiveOperation){
                .manager = m, .verb = "import", .fd = tar_fd, .finish = import_finish, .reference = TAKE_PTR(normalized)
        };
        op->changes = strv_copy(changes);
        op->message = message ? strdup(message) : NULL;
        if (!op->changes || (message && !op->message)) {
                archive_operation_free(op);
                return -ENOMEM;
        }
        return archive_operation_start(op, import_work, request, error);
}
