/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Commit: a container's changes become a new layer on top of its image's.
 *
 * The --change instructions are applied to a copy of the image's config before anything else, so a
 * bad one fails at once. A worker then writes the container's changes as an OCI layer tarball (the
 * storage driver's container_write_diff: overlay whiteouts become ".wh." entries) into
 * <driver>/.commit-XXXXXX, and applies that tarball as a new layer on the image's top one with the
 * checked tar_extract() the loads use, which also gives its digest: the
 * layer is stored exactly as a load of the committed image would store it. berthd then renames the
 * layer into place and only after that writes the image record (manager_add_image), so a crash
 * leaves an unreferenced layer at worst, which the next start removes.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "container.h"
#include "digest.h"
#include "errors.h"
#include "image.h"
#include "json-util.h"
#include "names.h"
#include "storage.h"
#include "tar-extract.h"
#include "tar-write.h"
#include "worker.h"

typedef struct CommitOperation {
        Manager *manager;
        sd_bus_message *request;
        json_object *config; /* the new config, without the new layer yet */
        char *reference; /* normalized "name:tag", or NULL */
        char *parent_id;
        char **diffs; /* the image's layers, top first */
        char *cdir; /* the container's state directory */
        char *tmpdir;
        Worker *worker;
        bool skip_empty_layer;
        char *build_cache_key;
} CommitOperation;

static void commit_operation_free(CommitOperation *op) {
        if (!op)
                return;
        worker_free(op->worker);
        if (op->tmpdir)
                (void) storage_remove_work_dir(op->manager, op->tmpdir);
        sd_bus_message_unref(op->request);
        json_object_put(op->config);
        free(op->reference);
        free(op->parent_id);
        strv_free(op->diffs);
        free(op->cdir);
        free(op->tmpdir);
        free(op->build_cache_key);
        free(op);
}

/* ---- the worker and its end ---- */

static int commit_work(void *userdata, char **ret_payload, char **ret_error) {
        CommitOperation *op = userdata;
        const StorageDriver *d = op->manager->storage;
        _cleanup_free_ char *tar = NULL;
        TarExtractResult result = {};
        int r;

        if (asprintf(&tar, "%s/layer.tar", op->tmpdir) < 0)
                return -ENOMEM;
        _cleanup_close_ int tar_fd = open(tar, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (tar_fd < 0)
                return -errno;
        r = d->container_write_diff(op->diffs, op->cdir, tar_fd, ret_error);
        if (r < 0)
                return r;
        if (lseek(tar_fd, 0, SEEK_SET) < 0)
                return -errno;
        r = storage_layer_apply(d, op->diffs[0], op->tmpdir, tar_fd, &result, ret_error);
        if (r < 0)
                return r;
        if (unlink(tar) < 0)
                return -errno;
        if (asprintf(ret_payload, "%s %" PRIu64 " %" PRIu64, result.digest, result.size, result.n_entries) < 0)
                return -ENOMEM;
        return 0;
}

static int commit_finish(CommitOperation *op, const char *payload, sd_bus_error *error) {
        Manager *m = op->manager;
        _cleanup_free_ char *final = NULL, *diff_id = NULL, *created = format_timestamp_rfc3339(now_realtime_usec());
        _cleanup_strv_free_ char **diff_ids = NULL;
        json_object *rootfs, *ids;
        char digest[SHA256_HEX_LEN + 1];
        bool stored = false;
        uint64_t size, n_entries;
        int r;

        if (sscanf(payload, "%64s %" SCNu64 " %" SCNu64, digest, &size, &n_entries) != 3)
                return sd_bus_error_set(error, SD_BUS_ERROR_FAILED, "The commit worker died unexpectedly.");
        Image *parent = manager_find_image(m, op->parent_id, NULL);
        if (!parent)
                return sd_bus_error_set(error, BERTH_ERROR_NO_SUCH_IMAGE, "The container's image was removed.");
        if (!created || asprintf(&diff_id, "sha256:%s", digest) < 0)
                return -ENOMEM;

        /* The config: the new layer's diff id and history entry. */
        json_object_object_add(op->config, "created", json_object_new_string(created));
        if (!json_object_object_get_ex(op->config, "rootfs", &rootfs) ||
            !json_object_object_get_ex(rootfs, "diff_ids", &ids) || !json_object_is_type(ids, json_type_array))
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "The image's config has no rootfs.");
        /* No changes and no layer wanted: the parent's layers, the history entry says so. */
        bool empty = op->skip_empty_layer && n_entries == 0;
        if (empty) {
                json_object *history, *last;
                if (json_object_object_get_ex(op->config, "history", &history) &&
                    json_object_is_type(history, json_type_array) && json_object_array_length(history) > 0 &&
                    (last = json_object_array_get_idx(history, json_object_array_length(history) - 1)))
                        json_object_object_add(last, "empty_layer", json_object_new_boolean(true));
        } else
                json_object_array_add(ids, json_object_new_string(diff_id));
        const char *text = json_object_to_json_string_ext(op->config,
                                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;

        Image *i = image_new(m);
        if (!i)
                return -ENOMEM;
        size_t n = strv_length(parent->layers);
        i->layer_sizes = calloc(n + 2, sizeof(uint64_t));
        i->config_json = strdup(text);
        if (op->build_cache_key && !(i->build_cache_key = strdup(op->build_cache_key))) {
                image_free(i);
                return -ENOMEM;
        }
        if (!i->layer_sizes || !i->config_json || (op->reference && strv_push(&i->repo_tags, op->reference) < 0)) {
                image_free(i);
                return -ENOMEM;
        }
        r = image_config_parse(i, text, strlen(text), &diff_ids);
        if (r < 0 || strv_length(diff_ids) != n + !empty) {
                image_free(i);
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "The committed config is invalid.");
        }
        for (size_t k = 0; k < n; k++)
                i->size += i->layer_sizes[k] = parent->layer_sizes ? parent->layer_sizes[k] : 0;
        if (!empty)
                i->size += i->layer_sizes[n] = size;
        strv_free(i->layers);
        i->layers = TAKE_PTR(diff_ids);
        char key[SHA256_HEX_LEN + 1];
        r = image_compute_id(i);
        /* Without a new layer, the top one is the parent's, stored already: nothing to move. */
        const char *top = r >= 0 ? image_layer_key(i, empty ? n - 1 : n) : NULL;
        if (r >= 0 && (!top || !(final = storage_layer_dir(m, top))))
                r = -ENOMEM;
        if (r >= 0)
                strcpy(key, top); /* for after i is handed over */
        if (r < 0) {
                image_free(i);
                return r;
        }

        /* The layer goes into place before the record that references it. */
        if (access(final, F_OK) < 0) {
                if (rename(op->tmpdir, final) < 0) {
                        r = -errno;
                        image_free(i);
                        return sd_bus_error_set_errnof(error, -r, "Failed to store the layer: %m");
                }
                op->tmpdir = mfree(op->tmpdir);
                stored = true;
        }
        r = storage_layer_stored(m, key);
        if (r >= 0)
                r = manager_add_image(m, i, &i);
        else
                image_free(i);
        if (r < 0) {
                if (stored)
                        (void) storage_layer_remove(m, key); /* nothing references it: a failure leaves nothing */
                return sd_bus_error_set_errnof(error, -r, "Failed to save the image: %m");
        }
        _cleanup_free_ char *path = image_object_path(i);
        if (!path)
                return -ENOMEM;
        return sd_bus_reply_method_return(op->request, "o", path);
}

static void commit_done(void *userdata, int r, const char *text) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        CommitOperation *op = userdata;

        if (r >= 0)
                r = commit_finish(op, text, &error);
        else if (!text)
                r = sd_bus_error_set(&error, SD_BUS_ERROR_FAILED, "The commit worker died unexpectedly.");
        else
                r = sd_bus_error_set_errnof(&error, -r, "Failed to commit: %s", text);
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        sd_bus_error_set_errno(&error, r);
                (void) sd_bus_reply_method_error(op->request, &error);
        }
        commit_operation_free(op);
}

/* The container's health check (its own fields over the image's, as create merged them) becomes the
 * new image's, as Docker's commit keeps the container's Healthcheck. */
static int keep_healthcheck(const Container *c, json_object *blob) {
        json_object *config;
        if (strv_length(c->health_cmd) == 0)
                return 0;
        if (!json_object_object_get_ex(blob, "config", &config) || !json_object_is_type(config, json_type_object)) {
                config = json_object_new_object();
                if (!config || json_object_object_add(blob, "config", config) < 0)
                        return -ENOMEM;
        }
        json_object *hc = container_health_config_json(c);
        if (!hc)
                return -ENOMEM;
        return json_object_object_add(config, "Healthcheck", hc) < 0 ? -ENOMEM : 0;
}

int container_commit(Container *c, const char *reference, char **changes, const char *comment, const char *author,
                     const CommitOptions *options, sd_bus_message *request, sd_bus_error *error) {
        Manager *m = c->manager;
        _cleanup_free_ char *config_text = NULL, *command = NULL, *created = NULL;
        json_object *history, *h;
        CommitOperation *op;
        int r;

        Image *parent = manager_find_image(m, c->image_id, NULL);
        if (!parent)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_IMAGE, "The image of container %s (%.12s) is gone.",
                                         c->name, c->image_id);
        if (strv_length(parent->layers) >= IMAGE_LAYERS_MAX)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_IMAGE,
                                         "The image of container %s has %zu layers already; at most %d are supported.",
                                         c->name, strv_length(parent->layers), IMAGE_LAYERS_MAX);
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        *op = (CommitOperation){ .manager = m, .skip_empty_layer = options && options->skip_empty_layer };
        if (options && options->build_cache_key && !(op->build_cache_key = strdup(options->build_cache_key))) {
                free(op);
                return -ENOMEM;
        }
        if (!isempty(reference)) {
                r = image_reference_normalize(reference, &op->reference, error);
                if (r < 0)
                        goto fail;
        }
        op->parent_id = strdup(parent->id);
        op->cdir = manager_state_path(m, "containers/%s", c->id);
        command = strv_join(c->command, " ");
        if (!op->parent_id || !op->cdir || !command) {
                r = -ENOMEM;
                goto fail;
        }
        if ((r = storage_image_diffs(parent, &op->diffs)) < 0 ||
            (r = image_config_json(parent, &config_text, NULL)) < 0)
                goto fail;
        if (json_parse_buffer(config_text, strlen(config_text), &op->config) < 0 ||
            !json_object_is_type(op->config, json_type_object)) {
                r = sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "The image's config is invalid.");
                goto fail;
        }
        /* The container's check first: a HEALTHCHECK among the changes (commit --change, a build's
         * instruction) wins over it. */
        r = keep_healthcheck(c, op->config);
        if (r < 0)
                goto fail;
        r = image_config_apply_changes(op->config, changes, error);
        if (r < 0)
                goto fail;
        if (!isempty(author))
                json_object_object_add(op->config, "author", json_object_new_string(author));
        json_object_object_add(op->config, "container", json_object_new_string(c->id));
        if (!json_object_object_get_ex(op->config, "history", &history) ||
            !json_object_is_type(history, json_type_array)) {
                history = json_object_new_array();
                json_object_object_add(op->config, "history", history);
        }
        h = json_object_new_object();
        if (!h) {
                r = -ENOMEM;
                goto fail;
        }
        created = format_timestamp_rfc3339(now_realtime_usec());
        json_object_object_add(h, "created", json_object_new_string(created ?: ""));
        json_object_object_add(h, "created_by", json_object_new_string(command));
        if (!isempty(author))
                json_object_object_add(h, "author", json_object_new_string(author));
        if (!isempty(comment))
                json_object_object_add(h, "comment", json_object_new_string(comment));
        json_object_array_add(history, h);

        op->tmpdir = manager_state_path(m, "%s/.commit-XXXXXX", m->storage->name);
        if (!op->tmpdir) {
                r = -ENOMEM;
                goto fail;
        }
        if (!mkdtemp(op->tmpdir)) {
                op->tmpdir = mfree(op->tmpdir);
                r = sd_bus_error_set_errnof(error, errno, "Failed to create a temporary directory: %m");
                goto fail;
        }
        r = worker_start(m, NULL, 0, commit_work, commit_done, op, &op->worker);
        if (r < 0) {
                r = sd_bus_error_set_errnof(error, -r, "Failed to start the commit worker: %m");
                goto fail;
        }
        op->request = sd_bus_message_ref(request);
        return 1;
fail:
        commit_operation_free(op);
        return r;
}
