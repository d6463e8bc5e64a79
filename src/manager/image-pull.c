/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PullImage: an image from a registry (Docker Registry HTTP API v2 / OCI distribution).
 *
 * The manifest by tag or digest (an index or manifest list: the entry for the platform, attestation
 * entries skipped), then the config and the layers, several at once, each written into an OCI image
 * layout under <driver>/.pull-XXXXXX and checked against its digest and size as it streams in. The
 * layout is then loaded as `load` loads an OCI archive (image-load.c): each layer decompressed once,
 * extracted through the checked tar code into the load's work directory while its diff id is hashed,
 * and checked against the config's diff_ids. Nothing becomes visible before all of it checked out; a
 * failed pull leaves only the work directory, removed with it (and by the next start after a crash). An image whose
 * config is already here costs the manifest requests only. */
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

#define MANIFEST_MAX     (4U << 20)
#define CONFIG_MAX       (8U << 20)
#define BLOBS_IN_FLIGHT  4
#define MEDIA_OCI_INDEX  "application/vnd.oci.image.index.v1+json"
#define MEDIA_OCI_MANIF  "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_DOCKER_ML  "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_DOCKER_V2  "application/vnd.docker.distribution.manifest.v2+json"
#define MANIFEST_ACCEPTS MEDIA_OCI_INDEX ", " MEDIA_OCI_MANIF ", " MEDIA_DOCKER_ML ", " MEDIA_DOCKER_V2

typedef struct PullOperation PullOperation;

typedef struct Blob Blob;
struct Blob {
        PullOperation *op;
        char *digest;
        uint64_t size;
        size_t file; /* its index in op->files */
        int fd;
        Sha256 *hash;
        uint64_t written;
        RegistryRequest *request;
        bool skip; /* its layer is stored already */
        /* Two pulls of the same blob from the same registry share one download: the first one's
         * (in m->pulling_blobs, keyed "host/digest") is linked into the others' layouts. */
        char *key;
        Blob *next_pulling;
        Blob *owner; /* the download this one waits for */
        Blob *waiters, *next_waiter;
};

struct PullOperation {
        Manager *manager;
        sd_bus_message *request;
        RegistriesConf *conf;
        RegistryCredentials creds; /* strings of the request message */
        char *os, *arch, *variant; /* the platform wanted */
        ImageRef *candidates; /* where to look, in order */
        size_t n_candidates, k; /* k: the one being tried */
        ImageRef source; /* where it is fetched from (registries.conf may say another place) */
        RegistryClient *client;
        char *scope;
        RegistryRequest *manifest_request;
        char *top_digest; /* what the reference resolved to: the digest of the index or the manifest */
        char *manifest_digest, *manifest_body, *manifest_type; /* the platform's manifest */
        size_t manifest_len;
        char *tmpdir;
        LayoutFile *files;
        size_t n_files;
        Blob *blobs; /* the config first, then the layers */
        size_t n_blobs, next_blob, blobs_left;
        Transfer *transfer;
        bool config_here; /* the config is in: which layers are stored already is known */
};

static int blob_start(PullOperation *op, Blob *b);
static void blob_complete(Blob *b, const char hex[SHA256_HEX_LEN + 1]);
static void pull_fail(PullOperation *op, const char *error_name, const char *fmt, ...) _printf_(3, 4);

static void blob_unlist(Blob *b) {
        Manager *m = b->op->manager;
        if (b->owner) { /* a waiter: out of its owner's list */
                for (Blob **p = &b->owner->waiters; *p; p = &(*p)->next_waiter)
                        if (*p == b) {
                                *p = b->next_waiter;
                                break;
                        }
                b->owner = NULL;
        }
        for (Blob **p = &m->pulling_blobs; *p; p = &(*p)->next_pulling)
                if (*p == b) {
                        *p = b->next_pulling;
                        break;
                }
}

/* The download of b ended without a blob for the others: they download it themselves. */
static void blob_release_waiters(Blob *b) {
        Blob *w = b->waiters;
        b->waiters = NULL;
        while (w) {
                Blob *next = w->next_waiter;
                w->owner = NULL;
                w->next_waiter = NULL;
                int r = blob_start(w->op, w);
                if (r < 0)
                        pull_fail(w->op, BERTH_ERROR_REGISTRY_FAILED, "Failed to start pulling a blob: %s",
                                  strerror(-r));
                w = next;
        }
}

static void blob_done(Blob *b) {
        registry_request_cancel(b->request);
        b->request = NULL;
        blob_unlist(b);
        blob_release_waiters(b);
        b->fd = safe_close(b->fd);
        if (b->hash)
                sha256_free(b->hash);
        b->hash = NULL;
}

static void pull_free_result(PullOperation *op, const char *result);

static void pull_free(PullOperation *op) {
        pull_free_result(op, "failed");
}

static void pull_free_result(PullOperation *op, const char *result) {
        transfer_free(op->transfer, result);
        for (size_t k = 0; k < op->n_blobs; k++) {
                blob_done(&op->blobs[k]);
                free(op->blobs[k].digest);
                free(op->blobs[k].key);
        }
        free(op->blobs);
        registry_request_cancel(op->manifest_request);
        registry_client_unref(op->client);
        for (size_t k = 0; k < op->n_candidates; k++)
                image_ref_done(&op->candidates[k]);
        image_ref_done(&op->source);
        free(op->candidates);
        registries_conf_free(op->conf);
        if (op->tmpdir)
                (void) storage_remove_work_dir(op->manager, op->tmpdir);
        free(op->tmpdir);
        for (size_t k = 0; k < op->n_files; k++)
                free(op->files[k].path);
        free(op->files);
        free(op->os);
        free(op->arch);
        free(op->variant);
        free(op->scope);
        free(op->top_digest);
        free(op->manifest_digest);
        free(op->manifest_body);
        free(op->manifest_type);
        sd_bus_message_unref(op->request);
        free(op);
}

static const ImageRef *current(PullOperation *op) {
        return &op->candidates[op->k];
}

static void pull_fail(PullOperation *op, const char *error_name, const char *fmt, ...) _printf_(3, 4);
static void pull_fail(PullOperation *op, const char *error_name, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        transfer_flush(op->transfer);
        (void) sd_bus_reply_method_errorfv(op->request, error_name, fmt, ap);
        va_end(ap);
        pull_free(op);
}

/* "library/busybox:latest" or "...@sha256:..." of the registry, for messages. */
static char *ref_for_message(const ImageRef *r) {
        return image_ref_familiar(r);
}

static void reply_image(PullOperation *op, Image *i) {
        _cleanup_free_ char *path = image_object_path(i);
        transfer_flush(op->transfer);
        if (!path)
                (void) sd_bus_reply_method_errno(op->request, ENOMEM, NULL);
        else
                (void) sd_bus_reply_method_return(op->request, "os", path, op->top_digest);
        pull_free_result(op, path ? "done" : "failed");
}

/* The tag the pulled image gets ("busybox:latest"), NULL for a pull by digest alone. */
static char *pulled_tag(const ImageRef *r) {
        if (!r->tag)
                return NULL;
        ImageRef t = *r;
        t.digest = NULL;
        return image_ref_familiar(&t);
}

/* The image is here (pulled now or before): its tag moves to it, the digest is recorded. */
static int adopt_image(PullOperation *op, Image *i) {
        _cleanup_free_ char *tag = pulled_tag(current(op));
        if (current(op)->tag && !tag)
                return -ENOMEM;
        if (tag) {
                image_move_tag(op->manager, i, tag);
                if (!image_has_tag(i, tag) && strv_push(&i->repo_tags, tag) < 0)
                        return -ENOMEM;
        }
        if (!streq_ptr(i->manifest_digest, op->top_digest)) {
                char *d = strdup(op->top_digest);
                if (!d)
                        return -ENOMEM;
                free(i->manifest_digest);
                i->manifest_digest = d;
        }
        /* What a push to this registry sends again (mounting the blobs from here). */
        char *manifest = strndup(op->manifest_body, op->manifest_len), *type = strdup(op->manifest_type),
             *source = strjoin(image_ref_registry_host(&op->source), "/", op->source.path);
        if (!manifest || !type || !source) {
                free(manifest);
                free(type);
                free(source);
                return -ENOMEM;
        }
        free(i->registry_manifest);
        free(i->registry_manifest_type);
        free(i->registry_source);
        i->registry_manifest = manifest;
        i->registry_manifest_type = type;
        i->registry_source = source;
        _cleanup_free_ char *path = image_object_path(i);
        if (path)
                (void) sd_bus_emit_properties_changed(op->manager->bus, path, "org.berth1.Image", "RepoTags",
                                                      "RepoDigests", NULL);
        return image_save(i);
}

static void on_loaded(Manager *m, Image *i, const sd_bus_error *error, void *userdata) {
        PullOperation *op = userdata;
        (void) m;
        op->tmpdir = mfree(op->tmpdir); /* the load's now, and gone with it */
        op->files = NULL;
        op->n_files = 0;
        if (!i)
                return pull_fail(op, error && error->name ? error->name : BERTH_ERROR_INVALID_IMAGE, "%s",
                                 error && error->message ? error->message : "The pulled image did not load.");
        int r = adopt_image(op, i);
        if (r < 0)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to record the pulled image: %s",
                                 strerror(-r));
        for (size_t k = 1; k < op->n_blobs; k++)
                if (!op->blobs[k].skip)
                        transfer_update(op->transfer, op->blobs[k].digest, "Pull complete", op->blobs[k].size);
        reply_image(op, i);
}

static int add_file(PullOperation *op, const char *path, const char *hex, uint64_t size, size_t *ret) {
        LayoutFile *f = reallocarray(op->files, op->n_files + 1, sizeof(LayoutFile));
        if (!f)
                return -ENOMEM;
        op->files = f;
        f[op->n_files] = (LayoutFile){ .path = strdup(path), .size = size };
        if (!f[op->n_files].path)
                return -ENOMEM;
        snprintf(f[op->n_files].sha256, sizeof(f[op->n_files].sha256), "%s", hex ?: "");
        if (ret)
                *ret = op->n_files;
        op->n_files++;
        return 0;
}

static char *file_path(PullOperation *op, size_t k) {
        char *p;
        return asprintf(&p, "%s/files/%zu", op->tmpdir, k) < 0 ? NULL : p;
}

/* A small file of the layout, written whole. */
static int write_layout_file(PullOperation *op, const char *path, const char *data, size_t len) {
        char hex[SHA256_HEX_LEN + 1];
        size_t k;
        int r = sha256_hex_of(data, len, hex);
        if (r >= 0)
                r = add_file(op, path, hex, len, &k);
        if (r < 0)
                return r;
        _cleanup_free_ char *p = file_path(op, k);
        return p ? write_file_replace(p, data, len, 0600) : -ENOMEM;
}

static void all_blobs_here(PullOperation *op) {
        _cleanup_free_ char *index = NULL, *tag = pulled_tag(current(op));
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        /* index.json names the platform's manifest (with the tag to give), so the load takes just that
         * one; the digest of an index the reference resolved to is recorded afterwards. */
        _cleanup_json_ json_object *o = json_object_new_object(), *manifests = json_object_new_array(),
                                   *d = json_object_new_object(), *annotations = json_object_new_object();
        if (!o || !manifests || !d || !annotations || (current(op)->tag && !tag))
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        json_object_object_add(d, "mediaType", json_object_new_string(MEDIA_OCI_MANIF));
        json_object_object_add(d, "digest", json_object_new_string(op->manifest_digest));
        json_object_object_add(d, "size", json_object_new_uint64(op->manifest_len));
        if (tag)
                json_object_object_add(annotations, "io.containerd.image.name", json_object_new_string(tag));
        json_object_object_add(d, "annotations", TAKE_PTR(annotations));
        json_object_array_add(manifests, TAKE_PTR(d));
        json_object_object_add(o, "schemaVersion", json_object_new_int(2));
        json_object_object_add(o, "manifests", TAKE_PTR(manifests));
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        int r = write_layout_file(op, "index.json", text, strlen(text));
        if (r >= 0)
                r = write_layout_file(op, "oci-layout", layout, strlen(layout));
        if (r < 0)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to write the pulled image: %s", strerror(-r));
        for (size_t k = 1; k < op->n_blobs; k++) /* the layers (the config is blobs[0]) */
                if (!op->blobs[k].skip)
                        transfer_update(op->transfer, op->blobs[k].digest, "Extracting", op->blobs[k].size);
        transfer_set_cancellable(op->transfer, false);
        char *tmpdir = TAKE_PTR(op->tmpdir);
        LayoutFile *files = TAKE_PTR(op->files);
        size_t n = op->n_files;
        op->n_files = 0;
        r = image_load_layout(op->manager, tmpdir, files, n, on_loaded, op, &error);
        if (r < 0)
                return pull_fail(op, error.name ?: BERTH_ERROR_REGISTRY_FAILED, "%s",
                                 error.message ?: "Failed to load the pulled image.");
}

static void start_blobs(PullOperation *op);
static void skip_stored_layers(PullOperation *op);

static int blob_data(const void *p, size_t n, void *userdata) {
        Blob *b = userdata;
        if (b->written + n > b->size)
                return -EFBIG;
        int r = loop_write(b->fd, p, n);
        if (r < 0)
                return r;
        b->written += n;
        transfer_update(b->op->transfer, b->digest, NULL, b->written);
        return sha256_update(b->hash, p, n);
}

static void blob_reset(void *userdata) {
        Blob *b = userdata;
        b->written = 0;
        transfer_update(b->op->transfer, b->digest, "Downloading", 0);
        if (ftruncate(b->fd, 0) < 0 || lseek(b->fd, 0, SEEK_SET) < 0)
                log_warning("Failed to truncate a blob being pulled again: %m");
        sha256_free(b->hash);
        b->hash = NULL;
        (void) sha256_new(&b->hash);
}

static void on_blob(RegistryRequest *req, int r, long status, const char *message, void *userdata) {
        Blob *b = userdata;
        PullOperation *op = b->op;
        _cleanup_free_ char *what = ref_for_message(current(op));
        char hex[SHA256_HEX_LEN + 1];

        b->request = NULL;
        if (r < 0)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Pulling blob %s of %s: %s", b->digest, what ?: "",
                                 message);
        if (status != 200 && status != 206) /* 206: the rest of a body cut off */
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Registry %s answered HTTP %ld for blob %s of %s.",
                                 registry_client_host(op->client), status, b->digest, what ?: "");
        if (b->written != b->size || sha256_final_hex(b->hash, hex) < 0 ||
            !streq(hex, b->digest + strlen(DIGEST_SHA256_PREFIX)))
                return pull_fail(op, BERTH_ERROR_INVALID_IMAGE,
                                 "Blob %s of %s from registry %s does not match its digest or size: refused.",
                                 b->digest, what ?: "", registry_client_host(op->client));
        /* The pulls waiting for this blob get it too: linked into their layouts. */
        Blob *w = b->waiters;
        b->waiters = NULL;
        _cleanup_free_ char *from = file_path(op, b->file);
        while (w) {
                Blob *next = w->next_waiter;
                _cleanup_free_ char *to = file_path(w->op, w->file);
                w->owner = NULL;
                w->next_waiter = NULL;
                if (from && to && link(from, to) >= 0) {
                        w->written = b->written;
                        blob_complete(w, hex);
                } else {
                        int k = blob_start(w->op, w); /* could not share: its own download */
                        if (k < 0)
                                pull_fail(w->op, BERTH_ERROR_REGISTRY_FAILED, "Failed to start pulling a blob: %s",
                                          strerror(-k));
                }
                w = next;
        }
        blob_complete(b, hex);
}

/* A blob checked out: into the layout, and on with the pull. */
static void blob_complete(Blob *b, const char hex[SHA256_HEX_LEN + 1]) {
        PullOperation *op = b->op;
        memcpy(op->files[b->file].sha256, hex, SHA256_HEX_LEN + 1);
        transfer_update(op->transfer, b->digest, "Download complete", b->size);
        blob_done(b);
        op->blobs_left--;
        if (b == &op->blobs[0]) {
                op->config_here = true;
                skip_stored_layers(op);
        }
        if (op->blobs_left == 0)
                return all_blobs_here(op);
        start_blobs(op);
}

/* The uncompressed size of a stored layer, from an image that has it; 0 when none says. */
static bool stored_layer_size(Manager *m, const char *diff_id, uint64_t *ret) {
        for (Image *i = m->images; i; i = i->next)
                for (size_t k = 0; i->layers && i->layers[k]; k++)
                        if (streq(i->layers[k], diff_id) && i->layer_sizes) {
                                *ret = i->layer_sizes[k];
                                return true;
                        }
        return false;
}

/* Layers berth has stored already (the same diff ids on the same parents) are not downloaded
 * again: Docker's "Already exists". Decided once the config names the diff ids. */
static void skip_stored_layers(PullOperation *op) {
        Manager *m = op->manager;
        _cleanup_free_ char *path = file_path(op, op->blobs[0].file), *text = NULL;
        _cleanup_json_ json_object *config = NULL, *manifest = NULL;
        _cleanup_strv_free_ char **diff_ids = NULL, **keys = NULL;
        json_object *rootfs, *layers;
        if (!path || read_full_file(path, &text, NULL) < 0 || json_parse_buffer(text, strlen(text), &config) < 0 ||
            !json_object_object_get_ex(config, "rootfs", &rootfs) || json_get_strv(rootfs, "diff_ids", &diff_ids) < 0 ||
            json_parse_buffer(op->manifest_body, op->manifest_len, &manifest) < 0 ||
            !json_object_object_get_ex(manifest, "layers", &layers) ||
            json_object_array_length(layers) != strv_length(diff_ids) || storage_layer_keys(m, diff_ids, &keys) < 0)
                return; /* the load finds out what is wrong */
        for (size_t j = 1; j < op->n_blobs; j++) {
                Blob *b = &op->blobs[j];
                LayoutFile *f = &op->files[b->file];
                bool stored = true;
                for (size_t k = 0; stored && k < strv_length(diff_ids); k++) {
                        if (!streq_ptr(json_get_string(json_object_array_get_idx(layers, k), "digest"), b->digest))
                                continue;
                        _cleanup_free_ char *dir = storage_layer_dir(m, keys[k]);
                        stored = dir && access(dir, F_OK) >= 0 && digest_is_valid(diff_ids[k]) &&
                                stored_layer_size(m, diff_ids[k], &f->diff_size);
                        if (stored)
                                snprintf(f->diff_id, sizeof(f->diff_id), "%s",
                                         diff_ids[k] + strlen(DIGEST_SHA256_PREFIX));
                }
                if (!stored)
                        continue;
                b->skip = f->present = true;
                snprintf(f->sha256, sizeof(f->sha256), "%s", b->digest + strlen(DIGEST_SHA256_PREFIX));
                op->blobs_left--;
                transfer_update(op->transfer, b->digest, "Already exists", b->size);
        }
}

static int blob_start(PullOperation *op, Blob *b) {
        Manager *m = op->manager;
        _cleanup_free_ char *path = file_path(op, b->file), *url = NULL;
        if (!path)
                return -ENOMEM;
        if (!b->key && !(b->key = strjoin(registry_client_host(op->client), "/", b->digest)))
                return -ENOMEM;
        for (Blob *o = m->pulling_blobs; o; o = o->next_pulling)
                if (o != b && streq(o->key, b->key)) {
                        /* Under way for another pull: this one waits for it. */
                        b->owner = o;
                        b->next_waiter = o->waiters;
                        o->waiters = b;
                        transfer_update(op->transfer, b->digest, "Waiting", 0);
                        return 0;
                }
        b->next_pulling = m->pulling_blobs;
        m->pulling_blobs = b;
        b->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (b->fd < 0)
                return -errno;
        int r = sha256_new(&b->hash);
        if (r < 0)
                return r;
        if (asprintf(&url, "/v2/%s/blobs/%s", op->source.path, b->digest) < 0)
                return -ENOMEM;
        const RegistryRequestArgs args = { .path = url, .scope = op->scope, .max_body = b->size };
        const RegistrySink sink = { .data = blob_data, .reset = blob_reset };
        transfer_update(op->transfer, b->digest, "Downloading", 0);
        return registry_request(op->client, &args, &sink, on_blob, b, &b->request);
}

static void start_blobs(PullOperation *op) {
        size_t running = 0;
        for (size_t k = 0; k < op->next_blob; k++)
                running += op->blobs[k].request || op->blobs[k].owner;
        /* The config first, alone: it says which layers berth has already. */
        while (running < BLOBS_IN_FLIGHT && op->next_blob < op->n_blobs && (op->config_here || op->next_blob == 0)) {
                if (op->blobs[op->next_blob].skip) {
                        op->next_blob++;
                        continue;
                }
                int r = blob_start(op, &op->blobs[op->next_blob++]);
                if (r < 0)
                        return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to start pulling a blob: %s",
                                         strerror(-r));
                running++;
        }
}

static int add_blob(PullOperation *op, json_object *descriptor, uint64_t max, const char *what) {
        const char *digest = json_get_string(descriptor, "digest");
        int64_t size = json_get_i64(descriptor, "size", -1);
        if (!digest || !digest_is_valid(digest) || size < 0 || (max > 0 && (uint64_t) size > max))
                return -EBADMSG;
        _cleanup_free_ char *path = NULL;
        for (size_t k = 0; k < op->n_blobs; k++)
                if (streq(op->blobs[k].digest, digest))
                        return 0; /* the same layer twice: once is enough */
        Blob *b = reallocarray(op->blobs, op->n_blobs + 1, sizeof(Blob));
        if (!b)
                return -ENOMEM;
        op->blobs = b;
        b = &op->blobs[op->n_blobs];
        *b = (Blob){ .op = op, .size = (uint64_t) size, .fd = -1, .digest = strdup(digest) };
        if (!b->digest)
                return -ENOMEM;
        op->n_blobs++;
        if (asprintf(&path, "blobs/sha256/%s", digest + strlen(DIGEST_SHA256_PREFIX)) < 0)
                return -ENOMEM;
        if (streq(what, "layer") && transfer_add_layer(op->transfer, digest, (uint64_t) size) < 0)
                return -ENOMEM;
        return add_file(op, path, NULL, (uint64_t) size, &b->file);
}

static bool layer_media_type_ok(const char *t) {
        static const char *const types[] = {
                "application/vnd.oci.image.layer.v1.tar",       "application/vnd.oci.image.layer.v1.tar+gzip",
                "application/vnd.oci.image.layer.v1.tar+zstd",  "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "application/vnd.docker.image.rootfs.diff.tar",
        };
        if (!t)
                return true; /* the load finds out what it is */
        for (size_t k = 0; k < ELEMENTSOF(types); k++)
                if (streq(t, types[k]))
                        return true;
        return false;
}

/* The platform's manifest is here: the image, if it is not here already. */
static void pull_manifest(PullOperation *op, json_object *m) {
        _cleanup_free_ char *what = ref_for_message(current(op));
        json_object *config, *layers;
        int r;

        if (!json_object_object_get_ex(m, "config", &config) || !json_object_object_get_ex(m, "layers", &layers) ||
            !json_object_is_type(layers, json_type_array))
                return pull_fail(op, BERTH_ERROR_INVALID_IMAGE, "The manifest of %s is malformed.", what ?: "");
        const char *config_digest = json_get_string(config, "digest");
        if (!config_digest || !digest_is_valid(config_digest))
                return pull_fail(op, BERTH_ERROR_INVALID_IMAGE, "The manifest of %s names no valid config digest.",
                                 what ?: "");
        Image *i = manager_find_image(op->manager, config_digest + strlen(DIGEST_SHA256_PREFIX), NULL);
        if (i && streq(i->id, config_digest + strlen(DIGEST_SHA256_PREFIX))) {
                for (size_t k = 0; k < json_object_array_length(layers); k++) {
                        json_object *l = json_object_array_get_idx(layers, k);
                        const char *d = json_get_string(l, "digest");
                        if (d && transfer_add_layer(op->transfer, d, (uint64_t) json_get_i64(l, "size", 0)) >= 0)
                                transfer_update(op->transfer, d, "Already exists",
                                                (uint64_t) json_get_i64(l, "size", 0));
                }
                r = adopt_image(op, i); /* here already: a re-pull costs the manifest */
                if (r < 0)
                        return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to record the image: %s",
                                         strerror(-r));
                return reply_image(op, i);
        }

        op->tmpdir = manager_state_path(op->manager, "%s/.pull-XXXXXX", op->manager->storage->name);
        if (!op->tmpdir || !mkdtemp(op->tmpdir)) {
                op->tmpdir = mfree(op->tmpdir);
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to create a work directory: %m");
        }
        _cleanup_free_ char *files = strjoin(op->tmpdir, "/files"), *mpath = NULL;
        if (!files || mkdir(files, 0700) < 0)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to create a work directory: %m");
        if (asprintf(&mpath, "blobs/sha256/%s", op->manifest_digest + strlen(DIGEST_SHA256_PREFIX)) < 0)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        r = write_layout_file(op, mpath, op->manifest_body, op->manifest_len);
        if (r < 0)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to write the manifest: %s", strerror(-r));
        r = add_blob(op, config, CONFIG_MAX, "config");
        for (size_t k = 0; r >= 0 && k < json_object_array_length(layers); k++) {
                json_object *l = json_object_array_get_idx(layers, k);
                if (!layer_media_type_ok(json_get_string(l, "mediaType")))
                        return pull_fail(op, BERTH_ERROR_INVALID_IMAGE,
                                         "Layer %zu of %s has media type %s, which berth cannot unpack.", k, what ?: "",
                                         json_get_string(l, "mediaType"));
                r = add_blob(op, l, 0, "layer");
        }
        if (r == -EBADMSG)
                return pull_fail(op, BERTH_ERROR_INVALID_IMAGE,
                                 "The manifest of %s has a descriptor without a valid sha256 digest and size.",
                                 what ?: "");
        if (r < 0)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        op->blobs_left = op->n_blobs;
        start_blobs(op);
}

static bool platform_matches(PullOperation *op, json_object *platform, bool exact_variant) {
        const char *os = json_get_string(platform, "os"), *arch = json_get_string(platform, "architecture"),
                   *variant = json_get_string(platform, "variant");
        if (!streq_ptr(os, op->os) || !streq_ptr(arch, op->arch))
                return false;
        return !exact_variant || !op->variant || streq_ptr(variant, op->variant);
}

static void fetch_manifest(PullOperation *op, const char *reference);

/* An index: the entry for the platform (an exact variant first, then any), skipping attestations. */
static void pull_index(PullOperation *op, json_object *index) {
        _cleanup_free_ char *what = ref_for_message(current(op));
        json_object *manifests;
        if (!json_object_object_get_ex(index, "manifests", &manifests) ||
            !json_object_is_type(manifests, json_type_array))
                return pull_fail(op, BERTH_ERROR_INVALID_IMAGE, "The image index of %s is malformed.", what ?: "");
        for (int exact = 1; exact >= 0; exact--)
                for (size_t k = 0; k < json_object_array_length(manifests); k++) {
                        json_object *d = json_object_array_get_idx(manifests, k), *platform = NULL;
                        const char *digest = json_get_string(d, "digest");
                        if (!json_object_object_get_ex(d, "platform", &platform) ||
                            !platform_matches(op, platform, exact))
                                continue;
                        if (!digest || !digest_is_valid(digest))
                                return pull_fail(op, BERTH_ERROR_INVALID_IMAGE,
                                                 "The image index of %s has an entry without a valid digest.",
                                                 what ?: "");
                        return fetch_manifest(op, digest);
                }
        pull_fail(op, BERTH_ERROR_NO_SUCH_IMAGE,
                  "No matching manifest for %s/%s%s%s in the manifest list entries of %s.", op->os, op->arch,
                  op->variant ? "/" : "", op->variant ?: "", what ?: "");
}

static void try_next_candidate(PullOperation *op);

static void on_manifest(RegistryRequest *req, int r, long status, const char *message, void *userdata) {
        PullOperation *op = userdata;
        const char *host = registry_client_host(op->client);
        _cleanup_free_ char *what = ref_for_message(current(op));
        char hex[SHA256_HEX_LEN + 1], digest[SHA256_HEX_LEN + 8];
        size_t len;
        const char *body = registry_request_body(req, &len);

        op->manifest_request = NULL;
        if (r < 0)
                return pull_fail(op, r == -EACCES ? BERTH_ERROR_REGISTRY_AUTH : BERTH_ERROR_REGISTRY_FAILED,
                                 "Pulling %s: %s", what ?: "", message);
        if ((status == 404 || status == 401 || status == 403) && op->k + 1 < op->n_candidates) {
                op->k++; /* a short name: the next registry it may be in */
                return try_next_candidate(op);
        }
        if (status == 401 || status == 403)
                return pull_fail(op, BERTH_ERROR_REGISTRY_AUTH,
                                 "Pull access denied for %s: the repository does not exist or needs a login "
                                 "(registry %s answered HTTP %ld).",
                                 what ?: "", host, status);
        if (status == 404)
                return pull_fail(op, BERTH_ERROR_NO_SUCH_IMAGE, "Manifest for %s not found in registry %s.", what ?: "",
                                 host);
        if (status != 200)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED,
                                 "Registry %s answered HTTP %ld for the manifest of %s.", host, status, what ?: "");
        if (sha256_hex_of(body, len, hex) < 0)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        snprintf(digest, sizeof(digest), "sha256:%s", hex);
        /* What was asked by digest must be what came. */
        const char *wanted = op->top_digest ? op->manifest_digest : current(op)->digest;
        if (wanted && !streq(wanted, digest))
                return pull_fail(op, BERTH_ERROR_INVALID_IMAGE,
                                 "The manifest of %s from registry %s does not match the digest %s: refused.",
                                 what ?: "", host, wanted);
        _cleanup_json_ json_object *o = NULL;
        if (json_parse_buffer(body, len, &o) < 0 || !json_object_is_type(o, json_type_object))
                return pull_fail(op, BERTH_ERROR_INVALID_IMAGE, "The manifest of %s is not a JSON object.", what ?: "");
        const char *media = json_get_string(o, "mediaType") ?: registry_request_header(req, "content-type");
        if (json_get_i64(o, "schemaVersion", 0) != 2)
                return pull_fail(op, BERTH_ERROR_INVALID_IMAGE,
                                 "The manifest of %s has schema version 1 (or none): berth pulls schema 2 and OCI "
                                 "images only.",
                                 what ?: "");
        bool index = (media && (startswith(media, MEDIA_OCI_INDEX) || startswith(media, MEDIA_DOCKER_ML))) ||
                (json_object_object_get_ex(o, "manifests", NULL) && !json_object_object_get_ex(o, "layers", NULL));
        if (!op->top_digest && !(op->top_digest = strdup(digest)))
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        if (index) {
                if (op->manifest_digest) /* an index in an index */
                        return pull_fail(op, BERTH_ERROR_INVALID_IMAGE, "The image index of %s nests another.",
                                         what ?: "");
                return pull_index(op, o);
        }
        free(op->manifest_digest);
        free(op->manifest_body);
        free(op->manifest_type);
        op->manifest_digest = strdup(digest);
        op->manifest_body = strndup(body, len);
        op->manifest_type = strdup(media ?: MEDIA_OCI_MANIF);
        op->manifest_len = len;
        if (!op->manifest_digest || !op->manifest_body || !op->manifest_type)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        pull_manifest(op, o);
}

static void fetch_manifest(PullOperation *op, const char *reference) {
        _cleanup_free_ char *path = NULL;
        if (op->top_digest && !(op->manifest_digest = strdup(reference)))
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        if (asprintf(&path, "/v2/%s/manifests/%s", op->source.path, reference) < 0)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        const RegistryRequestArgs args = {
                .path = path, .scope = op->scope, .accept = MANIFEST_ACCEPTS, .max_body = MANIFEST_MAX
        };
        int r = registry_request(op->client, &args, NULL, on_manifest, op, &op->manifest_request);
        if (r < 0)
                pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to ask for the manifest: %s", strerror(-r));
}

static void try_next_candidate(PullOperation *op) {
        ImageRef source = {};
        /* registries.conf may move a repository (location) or forbid its registry (blocked). */
        int r = registries_conf_pull_source(op->conf, current(op), &source);
        if (r == -EACCES) {
                _cleanup_free_ char *what = ref_for_message(current(op));
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED,
                                 "Pulling %s: its registry is blocked in /etc/containers/registries.conf.", what ?: "");
        }
        if (r < 0)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Out of memory.");
        image_ref_done(&op->source);
        op->source = source;
        const ImageRef *ref = &op->source;
        const char *host = image_ref_registry_host(ref);
        op->client = registry_client_unref(op->client);
        op->top_digest = mfree(op->top_digest);
        op->manifest_digest = mfree(op->manifest_digest);
        free(op->scope);
        op->scope = strjoin("repository:", ref->path, ":pull");
        r = op->scope
                ? registry_client_new(op->manager, host, registry_is_insecure(op->conf, host), &op->creds, &op->client)
                : -ENOMEM;
        if (r < 0)
                return pull_fail(op, BERTH_ERROR_REGISTRY_FAILED, "Failed to set up a client for registry %s: %s", host,
                                 strerror(-r));
        fetch_manifest(op, ref->digest ?: ref->tag);
}

static void pull_cancel(void *userdata) {
        PullOperation *op = userdata;
        _cleanup_free_ char *what = op->n_candidates > 0 ? ref_for_message(current(op)) : NULL;
        (void) sd_bus_reply_method_errorf(op->request, BERTH_ERROR_CANCELLED, "The pull of %s was cancelled.",
                                          what ?: "the image");
        pull_free_result(op, "canceled");
}

/* "os/arch[/variant]"; the host's by default. */
static int parse_platform(PullOperation *op, const char *platform, sd_bus_error *error) {
        if (isempty(platform)) {
                op->os = strdup("linux");
                op->arch = strdup(image_host_architecture());
                return op->os && op->arch ? 0 : -ENOMEM;
        }
        const char *a = strchr(platform, '/'), *b = a ? strchr(a + 1, '/') : NULL;
        size_t n = !a ? 1 : !b ? 2 : strchr(b + 1, '/') ? 4 : 3;
        char *parts[3] = {};
        if (a) {
                parts[0] = strndup(platform, (size_t) (a - platform));
                parts[1] = b ? strndup(a + 1, (size_t) (b - a - 1)) : strdup(a + 1);
                parts[2] = b ? strdup(b + 1) : NULL;
        }
        _cleanup_free_ char *p0 = parts[0], *p1 = parts[1], *p2 = parts[2];
        if (a && (!p0 || !p1 || (b && !p2)))
                return -ENOMEM;
        if (n < 2 || n > 3 || isempty(parts[0]) || isempty(parts[1]) || (n == 3 && isempty(parts[2])))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Invalid platform \"%s\": expected OS/ARCH[/VARIANT], e.g. linux/arm64.",
                                         platform);
        op->os = strdup(parts[0]);
        op->arch = strdup(parts[1]);
        op->variant = n == 3 ? strdup(parts[2]) : NULL;
        return op->os && op->arch && (n < 3 || op->variant) ? 0 : -ENOMEM;
}

/* PullImage(s reference, a{sv} options) → (o image, s digest). Options: Platform (s),
 * Username, Password, IdentityToken (s): the caller's credentials for this registry, for this call
 * only (berthctl reads them where docker and podman keep them). */
int method_pull_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *reference, *platform = NULL;
        int r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;

        PullOperation *op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->manager = m;
        op->request = sd_bus_message_ref(message);
        const BusOption options[] = {
                BUS_OPTION("Platform", "s", &platform),
                BUS_OPTION("Username", "s", &op->creds.username),
                BUS_OPTION("Password", "s", &op->creds.password),
                BUS_OPTION("IdentityToken", "s", &op->creds.identity_token),
        };
        r = sd_bus_message_read(message, "s", &reference);
        if (r >= 0)
                r = bus_read_options(message, options, ELEMENTSOF(options), "pull option", error);
        if (r >= 0)
                r = parse_platform(op, platform, error);
        if (r >= 0)
                r = registries_conf_load("", &op->conf);
        if (r >= 0) {
                r = image_ref_candidates(op->conf, reference, &op->candidates, &op->n_candidates);
                if (r == -EINVAL || (r >= 0 && op->n_candidates == 0))
                        r = sd_bus_error_setf(
                                error, BERTH_ERROR_INVALID_NAME,
                                "Invalid reference format \"%s\": expected [REGISTRY/]NAME[:TAG][@DIGEST] "
                                "with a lowercase name.",
                                reference);
        }
        if (r >= 0)
                r = transfer_new(m, message, "pull", reference, pull_cancel, op, &op->transfer);
        if (r < 0) {
                pull_free(op);
                return r;
        }
        try_next_candidate(op);
        return 1;
}
