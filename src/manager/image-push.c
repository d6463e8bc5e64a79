/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PushImage: an image to a registry. The image is written as an OCI image layout (image-save.c, in a
 * worker: the layer tarballs, gzip'd, and an OCI manifest), then each blob the registry does not have
 * (HEAD) is uploaded (POST for an upload session, then one PUT with the digest: the Location the
 * registry gives is used as it is), and the manifest is PUT under the tag. Its digest becomes the
 * image's repository digest. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-polkit.h"
#include "digest.h"
#include "errors.h"
#include "image-ref.h"
#include "image.h"
#include "json-util.h"
#include "log.h"
#include "registries-conf.h"
#include "registry-client.h"
#include "storage.h"
#include "transfer.h"
#include "util.h"

#define MEDIA_OCI_MANIF    "application/vnd.oci.image.manifest.v1+json"
#define PUSH_CHUNK_DEFAULT (64ULL << 20)

typedef struct PushOperation PushOperation;

typedef struct PushBlob {
        PushOperation *op;
        char *digest;
        uint64_t size;
        uint64_t sent; /* the bytes a chunked upload has sent */
        int fd; /* its data; -1 when it is mounted from another repository of the registry */
        RegistryRequest *request;
} PushBlob;

struct PushOperation {
        Manager *manager;
        sd_bus_message *request;
        RegistriesConf *conf;
        RegistryCredentials creds; /* strings of the request message */
        ImageRef ref;
        char *image_id;
        RegistryClient *client;
        char *scope;
        char *workdir; /* the saved layout: <workdir>/layout */
        char *manifest, *manifest_type;
        size_t manifest_len;
        char *familiar; /* the local tag pushed */
        char *mount_from; /* the repository the blobs are mounted from, when the image came from there */
        uint64_t chunk_size; /* blobs larger than this go up in PATCH chunks (0: always one PUT) */
        PushBlob *blobs;
        size_t n_blobs, next, left;
        RegistryRequest *manifest_request;
        Transfer *transfer;
};

static void push_free_result(PushOperation *op, const char *result);
static void push_cancel(void *userdata);
static void send_next(PushBlob *b, const char *location);
static void on_chunk_sent(RegistryRequest *req, int r, long status, const char *message, void *userdata);

static void push_free(PushOperation *op) {
        push_free_result(op, "failed");
}

static void push_free_result(PushOperation *op, const char *result) {
        transfer_free(op->transfer, result);
        for (size_t k = 0; k < op->n_blobs; k++) {
                registry_request_cancel(op->blobs[k].request);
                safe_close(op->blobs[k].fd);
                free(op->blobs[k].digest);
        }
        free(op->blobs);
        registry_request_cancel(op->manifest_request);
        registry_client_unref(op->client);
        registries_conf_free(op->conf);
        image_ref_done(&op->ref);
        if (op->workdir)
                (void) storage_remove_work_dir(op->manager, op->workdir);
        free(op->workdir);
        free(op->image_id);
        free(op->scope);
        free(op->manifest);
        free(op->manifest_type);
        free(op->familiar);
        free(op->mount_from);
        sd_bus_message_unref(op->request);
        free(op);
}

static void push_fail(PushOperation *op, const char *error_name, const char *fmt, ...) _printf_(3, 4);
static void push_fail(PushOperation *op, const char *error_name, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        transfer_flush(op->transfer);
        (void) sd_bus_reply_method_errorfv(op->request, error_name, fmt, ap);
        va_end(ap);
        push_free(op);
}

/* The registry's answer to a failed call, as a person reads it: its errors[].message, or the status. */
static char *describe(RegistryRequest *req, long status) {
        size_t len;
        const char *body = registry_request_body(req, &len);
        _cleanup_json_ json_object *o = NULL;
        json_object *errors;
        char *s;
        if (json_parse_buffer(body, len, &o) >= 0 && json_object_object_get_ex(o, "errors", &errors) &&
            json_object_is_type(errors, json_type_array) && json_object_array_length(errors) > 0) {
                json_object *e = json_object_array_get_idx(errors, 0);
                if (asprintf(&s, "HTTP %ld, %s: %s", status, json_get_string(e, "code") ?: "error",
                             json_get_string(e, "message") ?: "") >= 0)
                        return s;
        }
        return asprintf(&s, "HTTP %ld", status) < 0 ? NULL : s;
}

static void on_manifest_put(RegistryRequest *req, int r, long status, const char *message, void *userdata) {
        PushOperation *op = userdata;
        char hex[SHA256_HEX_LEN + 1], digest[SHA256_HEX_LEN + 8];
        op->manifest_request = NULL;
        if (r < 0)
                return push_fail(op, r == -EACCES ? BERTH_ERROR_REGISTRY_AUTH : BERTH_ERROR_REGISTRY_FAILED,
                                 "Pushing the manifest to registry %s: %s", registry_client_host(op->client), message);
        if (status != 201 && status != 200) {
                _cleanup_free_ char *why = describe(req, status);
                return push_fail(
                        op, status == 401 || status == 403 ? BERTH_ERROR_REGISTRY_AUTH : BERTH_ERROR_REGISTRY_FAILED,
                        "Registry %s refused the manifest of %s: %s", registry_client_host(op->client), op->ref.path,
                        why ?: "");
        }
        if (sha256_hex_of(op->manifest, op->manifest_len, hex) < 0)
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        snprintf(digest, sizeof(digest), "sha256:%s", hex);
        /* The image is known by this digest now (images --digests, RepoDigests). */
        Image *i = manager_find_image(op->manager, op->image_id, NULL);
        char *d = strdup(digest), *manifest = strndup(op->manifest, op->manifest_len),
             *type = strdup(op->manifest_type ?: MEDIA_OCI_MANIF),
             *source = strjoin(registry_client_host(op->client), "/", op->ref.path);
        if (i && d && manifest && type && source) {
                /* The next push to this registry mounts the blobs from here. */
                free(i->manifest_digest);
                free(i->registry_manifest);
                free(i->registry_manifest_type);
                free(i->registry_source);
                i->manifest_digest = TAKE_PTR(d);
                i->registry_manifest = TAKE_PTR(manifest);
                i->registry_manifest_type = TAKE_PTR(type);
                i->registry_source = TAKE_PTR(source);
                (void) image_save(i);
        }
        free(d);
        free(manifest);
        free(type);
        free(source);
        transfer_flush(op->transfer);
        (void) sd_bus_reply_method_return(op->request, "s", digest);
        push_free_result(op, "done");
}

static void put_manifest(PushOperation *op) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "/v2/%s/manifests/%s", op->ref.path, op->ref.tag ?: "latest") < 0)
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        const RegistryRequestArgs args = { .method = "PUT",
                                           .path = path,
                                           .scope = op->scope,
                                           .content_type = op->manifest_type ?: MEDIA_OCI_MANIF,
                                           .body = op->manifest,
                                           .body_len = op->manifest_len };
        int r = registry_request(op->client, &args, NULL, on_manifest_put, op, &op->manifest_request);
        if (r < 0)
                push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to push the manifest: %s", strerror(-r));
}

static void next_blobs(PushOperation *op);
static void push_written(PushOperation *op);
static void on_blob_head(RegistryRequest *req, int r, long status, const char *message, void *userdata);

static void blob_finished(PushBlob *b) {
        PushOperation *op = b->op;
        b->fd = safe_close(b->fd);
        if (--op->left == 0)
                return put_manifest(op);
        next_blobs(op);
}

static void on_blob_put(RegistryRequest *req, int r, long status, const char *message, void *userdata) {
        PushBlob *b = userdata;
        PushOperation *op = b->op;
        b->request = NULL;
        if (r < 0)
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Uploading blob %s to registry %s: %s", b->digest,
                                 registry_client_host(op->client), message);
        if (status != 201 && status != 204 && status != 200) {
                _cleanup_free_ char *why = describe(req, status);
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Registry %s refused blob %s: %s",
                                 registry_client_host(op->client), b->digest, why ?: "");
        }
        transfer_update(op->transfer, b->digest, "Pushed", b->size);
        blob_finished(b);
}

/* An upload session is open: its Location (relative or absolute, with a query or without, as the
 * registry likes) gets the whole blob and the digest. */
static void on_upload_started(RegistryRequest *req, int r, long status, const char *message, void *userdata) {
        PushBlob *b = userdata;
        PushOperation *op = b->op;
        const char *location = registry_request_header(req, "location");
        _cleanup_free_ char *url = NULL;
        b->request = NULL;
        if (r < 0)
                return push_fail(op, r == -EACCES ? BERTH_ERROR_REGISTRY_AUTH : BERTH_ERROR_REGISTRY_FAILED,
                                 "Starting the upload of blob %s to registry %s: %s", b->digest,
                                 registry_client_host(op->client), message);
        if (status == 201) { /* mounted from another repository: nothing to send */
                _cleanup_free_ char *state = strjoin("Mounted from ", op->mount_from ?: "another repository");
                transfer_update(op->transfer, b->digest, state ?: "Pushed", b->size);
                return blob_finished(b);
        }
        if (b->fd < 0 && status == 202) /* the registry would not mount it: the layers are written */
                return push_written(op);
        if (status != 202 || isempty(location)) {
                _cleanup_free_ char *why = describe(req, status);
                return push_fail(
                        op, status == 401 || status == 403 ? BERTH_ERROR_REGISTRY_AUTH : BERTH_ERROR_REGISTRY_FAILED,
                        "Registry %s refused to start an upload to %s: %s", registry_client_host(op->client),
                        op->ref.path, why ?: "");
        }
        b->sent = 0;
        transfer_update(op->transfer, b->digest, "Pushing", 0);
        send_next(b, location);
}

/* The next part of a blob to the upload's Location (taken as the registry gives it): a PATCH
 * chunk while the blob is larger than a chunk, then the PUT with the digest and what is left. */
static void send_next(PushBlob *b, const char *location) {
        PushOperation *op = b->op;
        _cleanup_free_ char *url = NULL, *range = NULL;
        uint64_t left = b->size - b->sent;
        bool chunk = op->chunk_size > 0 && left > op->chunk_size;
        int r;
        if (chunk ? !(url = strdup(location))
                  : asprintf(&url, "%s%sdigest=%s", location, strchr(location, '?') ? "&" : "?", b->digest) < 0)
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        const RegistryRequestArgs args = { .method = chunk ? "PATCH" : "PUT",
                                           .path = url,
                                           .scope = op->scope,
                                           .content_type = "application/octet-stream",
                                           .body_fd = b->fd,
                                           .body_offset = b->sent,
                                           .body_len = chunk ? op->chunk_size : left };
        r = registry_request(op->client, &args, NULL, chunk ? on_chunk_sent : on_blob_put, b, &b->request);
        if (r < 0)
                push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to upload blob %s: %s", b->digest, strerror(-r));
}

static void on_chunk_sent(RegistryRequest *req, int r, long status, const char *message, void *userdata) {
        PushBlob *b = userdata;
        PushOperation *op = b->op;
        const char *location = registry_request_header(req, "location");
        b->request = NULL;
        if (r < 0)
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Uploading blob %s to registry %s: %s", b->digest,
                                 registry_client_host(op->client), message);
        if (status != 202 || isempty(location)) {
                _cleanup_free_ char *why = describe(req, status);
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Registry %s refused a chunk of blob %s: %s",
                                 registry_client_host(op->client), b->digest, why ?: "");
        }
        b->sent += op->chunk_size;
        transfer_update(op->transfer, b->digest, "Pushing", b->sent);
        _cleanup_free_ char *next = strdup(location);
        if (!next)
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        send_next(b, next);
}

static void on_blob_head(RegistryRequest *req, int r, long status, const char *message, void *userdata) {
        PushBlob *b = userdata;
        PushOperation *op = b->op;
        _cleanup_free_ char *path = NULL;
        b->request = NULL;
        if (r < 0)
                return push_fail(op, r == -EACCES ? BERTH_ERROR_REGISTRY_AUTH : BERTH_ERROR_REGISTRY_FAILED,
                                 "Pushing to registry %s: %s", registry_client_host(op->client), message);
        if (status == 200) { /* there already */
                transfer_update(op->transfer, b->digest, "Layer already exists", b->size);
                return blob_finished(b);
        }
        if (status == 401 || status == 403)
                return push_fail(
                        op, BERTH_ERROR_REGISTRY_AUTH,
                        "Push access to %s denied by registry %s (HTTP %ld): log in first (berthctl login %s).",
                        op->ref.path, registry_client_host(op->client), status, registry_client_host(op->client));
        if (b->fd < 0 ? asprintf(&path, "/v2/%s/blobs/uploads/?mount=%s&from=%s", op->ref.path, b->digest,
                                 op->mount_from) < 0
                      : asprintf(&path, "/v2/%s/blobs/uploads/", op->ref.path) < 0)
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        const RegistryRequestArgs args = { .method = "POST", .path = path, .scope = op->scope };
        r = registry_request(op->client, &args, NULL, on_upload_started, b, &b->request);
        if (r < 0)
                push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to start an upload: %s", strerror(-r));
}

static void next_blobs(PushOperation *op) {
        size_t running = 0;
        for (size_t k = 0; k < op->next; k++)
                running += op->blobs[k].request != NULL;
        while (running < 3 && op->next < op->n_blobs) {
                PushBlob *b = &op->blobs[op->next++];
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "/v2/%s/blobs/%s", op->ref.path, b->digest) < 0)
                        return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
                const RegistryRequestArgs args = { .method = "HEAD", .path = path, .scope = op->scope };
                transfer_update(op->transfer, b->digest, "Preparing", 0);
                int r = registry_request(op->client, &args, NULL, on_blob_head, b, &b->request);
                if (r < 0)
                        return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to ask for a blob: %s", strerror(-r));
                running++;
        }
}

static int add_blob(PushOperation *op, json_object *descriptor, bool layer) {
        const char *digest = json_get_string(descriptor, "digest");
        int64_t size = json_get_i64(descriptor, "size", -1);
        _cleanup_free_ char *path = NULL;
        if (!digest || !digest_is_valid(digest) || size < 0)
                return -EBADMSG;
        if (asprintf(&path, "%s/layout/blobs/sha256/%s", op->workdir, digest + strlen(DIGEST_SHA256_PREFIX)) < 0)
                return -ENOMEM;
        PushBlob *b = reallocarray(op->blobs, op->n_blobs + 1, sizeof(PushBlob));
        if (!b)
                return -ENOMEM;
        op->blobs = b;
        b = &op->blobs[op->n_blobs];
        *b = (PushBlob){ .op = op, .size = (uint64_t) size, .fd = open(path, O_RDONLY | O_CLOEXEC) };
        if (b->fd < 0)
                return -errno;
        op->n_blobs++;
        b->digest = strdup(digest);
        if (!b->digest || (layer && transfer_add_layer(op->transfer, digest, (uint64_t) size) < 0))
                return -ENOMEM;
        return 0;
}

/* The layout is written: its manifest and blobs go up. */
static void on_saved(Manager *m, char *workdir, const sd_bus_error *error, void *userdata) {
        PushOperation *op = userdata;
        _cleanup_free_ char *index_path = NULL, *index_text = NULL, *manifest_path = NULL;
        _cleanup_json_ json_object *index = NULL, *manifest = NULL;
        json_object *manifests, *layers, *config;
        int r;

        (void) m;
        op->workdir = workdir;
        if (!workdir)
                return push_fail(op, error && error->name ? error->name : BERTH_ERROR_REGISTRY_FAILED, "%s",
                                 error && error->message ? error->message : "Failed to write the image for the push.");
        if (asprintf(&index_path, "%s/layout/index.json", workdir) < 0 || json_read_file(index_path, &index) < 0 ||
            !json_object_object_get_ex(index, "manifests", &manifests) || json_object_array_length(manifests) < 1)
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "The written image has no usable index.json.");
        const char *digest = json_get_string(json_object_array_get_idx(manifests, 0), "digest");
        if (!digest || !digest_is_valid(digest) ||
            asprintf(&manifest_path, "%s/layout/blobs/sha256/%s", workdir, digest + strlen(DIGEST_SHA256_PREFIX)) < 0 ||
            read_full_file(manifest_path, &op->manifest, &op->manifest_len) < 0 ||
            json_parse_buffer(op->manifest, op->manifest_len, &manifest) < 0 ||
            !json_object_object_get_ex(manifest, "layers", &layers) ||
            !json_object_object_get_ex(manifest, "config", &config))
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "The written image has no usable manifest.");
        r = 0;
        for (size_t k = 0; r >= 0 && k < json_object_array_length(layers); k++)
                r = add_blob(op, json_object_array_get_idx(layers, k), true);
        if (r >= 0)
                r = add_blob(op, config, false); /* the config last: a registry may check the layers it names */
        if (r < 0)
                return push_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to read the written image: %s", strerror(-r));
        op->left = op->n_blobs;
        transfer_set_cancellable(op->transfer, true);
        next_blobs(op);
}

/* Back to nothing sent and nothing planned. */
static void push_reset(PushOperation *op) {
        for (size_t k = 0; k < op->n_blobs; k++) {
                registry_request_cancel(op->blobs[k].request);
                safe_close(op->blobs[k].fd);
                free(op->blobs[k].digest);
        }
        op->blobs = mfree(op->blobs);
        op->n_blobs = op->next = op->left = 0;
        op->manifest = mfree(op->manifest);
        op->manifest_type = mfree(op->manifest_type);
        op->mount_from = mfree(op->mount_from);
        transfer_clear_layers(op->transfer);
}

/* An image that came from (or went to) this registry: its manifest goes again as it is, and its
 * blobs are mounted from the repository it is in. 1 when started, 0 when that does not apply. */
static int push_as_pulled(PushOperation *op, Image *i) {
        _cleanup_json_ json_object *manifest = NULL;
        json_object *layers, *config;
        const char *slash = i && i->registry_source ? strchr(i->registry_source, '/') : NULL;
        if (!slash || !i->registry_manifest ||
            strncmp(i->registry_source, registry_client_host(op->client), (size_t) (slash - i->registry_source)) ||
            registry_client_host(op->client)[slash - i->registry_source] != 0)
                return 0;
        if (json_parse_buffer(i->registry_manifest, strlen(i->registry_manifest), &manifest) < 0 ||
            !json_object_object_get_ex(manifest, "layers", &layers) ||
            !json_object_object_get_ex(manifest, "config", &config) || !json_object_is_type(layers, json_type_array))
                return 0;
        op->mount_from = strdup(slash + 1);
        op->manifest = strdup(i->registry_manifest);
        op->manifest_len = strlen(i->registry_manifest);
        op->manifest_type = strdup(i->registry_manifest_type ?: MEDIA_OCI_MANIF);
        if (!op->mount_from || !op->manifest || !op->manifest_type)
                return -ENOMEM;
        int r = 0;
        for (size_t k = 0; r >= 0 && k <= json_object_array_length(layers); k++) {
                json_object *d = k < json_object_array_length(layers) ? json_object_array_get_idx(layers, k) : config;
                const char *digest = json_get_string(d, "digest");
                PushBlob *b = reallocarray(op->blobs, op->n_blobs + 1, sizeof(PushBlob));
                if (!b)
                        return -ENOMEM;
                op->blobs = b;
                if (!digest || !digest_is_valid(digest)) {
                        push_reset(op);
                        return 0;
                }
                op->blobs[op->n_blobs] = (PushBlob){
                        .op = op, .fd = -1, .digest = strdup(digest), .size = (uint64_t) json_get_i64(d, "size", 0)
                };
                if (!op->blobs[op->n_blobs++].digest)
                        r = -ENOMEM;
                else if (d != config)
                        r = transfer_add_layer(op->transfer, digest, (uint64_t) json_get_i64(d, "size", 0));
        }
        if (r < 0)
                return r;
        op->left = op->n_blobs;
        transfer_set_cancellable(op->transfer, true);
        next_blobs(op);
        return 1;
}

/* The mounts did not work out: the layers are written and sent after all. */
static void push_written(PushOperation *op) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        SaveItem *items = NULL;
        size_t n_items = 0;
        push_reset(op);
        transfer_set_cancellable(op->transfer, false);
        int r = save_items_prepare(op->manager, STRV_MAKE(op->familiar), &items, &n_items, &error);
        if (r >= 0)
                r = image_save_layout(op->manager, items, n_items, on_saved, op, &error);
        if (r < 0)
                push_fail(op, error.name ?: BERTH_ERROR_REGISTRY_FAILED, "%s",
                          error.message ?: "Failed to write the image for the push.");
}

/* Cancel(): only while blobs go up (the worker writing the layers cannot be stopped halfway). */
static void push_cancel(void *userdata) {
        PushOperation *op = userdata;
        transfer_flush(op->transfer);
        (void) sd_bus_reply_method_errorf(op->request, BERTH_ERROR_CANCELLED, "The push of %s was cancelled.",
                                          op->familiar ?: "the image");
        push_free_result(op, "canceled");
}

/* PushImage(s reference, a{sv} options) → (s digest): the image tagged REFERENCE to its registry.
 * Options: Username, Password, IdentityToken (s), as PullImage's. */
int method_push_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *reference;
        _cleanup_free_ char *familiar = NULL;
        SaveItem *items = NULL;
        size_t n_items = 0;
        int r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;

        PushOperation *op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->manager = m;
        op->request = sd_bus_message_ref(message);
        op->chunk_size = PUSH_CHUNK_DEFAULT;
        const BusOption options[] = {
                BUS_OPTION("Username", "s", &op->creds.username),
                BUS_OPTION("Password", "s", &op->creds.password),
                BUS_OPTION("IdentityToken", "s", &op->creds.identity_token),
                BUS_OPTION("ChunkSize", "t", &op->chunk_size),
        };
        r = sd_bus_message_read(message, "s", &reference);
        if (r >= 0)
                r = bus_read_options(message, options, ELEMENTSOF(options), "push option", error);
        if (r >= 0 && op->chunk_size > 0 && op->chunk_size < 1024)
                r = sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                     "ChunkSize must be 0 (one PUT) or at least 1024 bytes.");
        if (r >= 0 && (image_ref_parse(reference, &op->ref) < 0 || op->ref.digest))
                r = sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME,
                                      "Invalid reference format \"%s\": expected [REGISTRY/]NAME[:TAG].", reference);
        if (r >= 0 && !(familiar = image_ref_familiar(&op->ref)))
                r = -ENOMEM;
        if (r >= 0) {
                Image *i = manager_find_image(m, familiar, NULL);
                if (!i || !image_has_tag(i, familiar))
                        r = sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_IMAGE,
                                              "An image does not exist locally with the tag: %s", familiar);
                else if (!(op->image_id = strdup(i->id)))
                        r = -ENOMEM;
        }
        const char *host = r >= 0 ? image_ref_registry_host(&op->ref) : NULL;
        if (r >= 0)
                r = registries_conf_load("", &op->conf);
        if (r >= 0 && !(op->scope = strjoin("repository:", op->ref.path, ":pull,push")))
                r = -ENOMEM;
        if (r >= 0)
                r = registry_client_new(m, host, registry_is_insecure(op->conf, host), &op->creds, &op->client);
        if (r >= 0 && !(op->familiar = strdup(familiar)))
                r = -ENOMEM;
        if (r >= 0)
                r = transfer_new(m, message, "push", reference, push_cancel, op, &op->transfer);
        if (r >= 0)
                transfer_set_cancellable(op->transfer, false); /* until the blobs go up */
        if (r >= 0) {
                Image *i = manager_find_image(m, op->image_id, NULL);
                r = push_as_pulled(op, i);
                if (r == 0) /* not from this registry */
                        r = save_items_prepare(m, STRV_MAKE(familiar), &items, &n_items, error);
                if (r == 0)
                        r = image_save_layout(m, items, n_items, on_saved, op, error);
        }
        if (r < 0) {
                push_free(op);
                return r;
        }
        return 1;
}
