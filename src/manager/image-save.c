/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SaveImages: what to save is collected in berthd (save_items_prepare), the archive is written by a
 * forked worker (image_save_worker).
 *
 * Layers are stored extracted. A layer with a tar-split file beside its diff directory (recorded when it was
 * extracted) gets its original tarball back, byte for byte: same diff ids, the config unchanged, the image keeps its
 * id. Layers stored without one have their tarballs made again from the layer directories (tar_write_tree:
 * deterministic, overlay whiteouts written back as OCI ones); such a tarball rarely has the bytes of the one the
 * layer came from, then the config's rootfs.diff_ids are rewritten to the new digests, which gives the saved image
 * a new id (the sha256 of its config), as with any rebuilt image.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "digest.h"
#include "errors.h"
#include "image.h"
#include "storage.h"
#include "json-util.h"
#include "names.h"
#include "tar-split.h"
#include "tar-write.h"

#define COPY_BUFFER (128U * 1024U)

void save_items_free(SaveItem *items, size_t n) {
        for (size_t k = 0; k < n; k++) {
                free(items[k].config_json);
                strv_free(items[k].repo_tags);
                strv_free(items[k].layer_dirs);
                strv_free(items[k].diff_ids);
        }
        free(items);
}

int save_items_prepare(Manager *m, char **refs, SaveItem **ret, size_t *ret_n, sd_bus_error *error) {
        SaveItem *items = calloc(strv_length(refs) + 1, sizeof(SaveItem));
        Image **images = calloc(strv_length(refs) + 1, sizeof(Image *));
        size_t n = 0;
        int r = 0;

        if (!items || !images) {
                free(items);
                free(images);
                return -ENOMEM;
        }
        for (char **ref = refs; *ref; ref++) {
                _cleanup_free_ char *name = NULL, *tag = NULL, *full = NULL;
                bool ambiguous;
                Image *i = manager_find_image(m, *ref, &ambiguous);
                if (!i) {
                        r = sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_IMAGE,
                                              ambiguous ? "Image id prefix \"%s\" matches more than one image."
                                                        : "No such image: %s",
                                              *ref);
                        goto fail;
                }
                /* Named by a tag, the archive carries that tag; named by id, none (as docker save). */
                if (image_reference_parse(*ref, &name, &tag) >= 0 && asprintf(&full, "%s:%s", name, tag) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                if (full && !image_has_tag(i, full))
                        full = mfree(full);

                size_t k;
                for (k = 0; k < n && images[k] != i; k++)
                        ;
                if (k == n) {
                        images[n] = i;
                        SaveItem *s = &items[n++];
                        s->repo_tags = calloc(1, sizeof(char *));
                        s->diff_ids = strv_copy(i->layers);
                        if (!s->repo_tags || !s->diff_ids || image_config_json(i, &s->config_json, NULL) < 0 ||
                            storage_image_diffs(i, &s->layer_dirs) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
                bool have = false;
                for (char **t = items[k].repo_tags; full && *t; t++)
                        have = have || streq(*t, full);
                if (full && !have && strv_push(&items[k].repo_tags, full) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        free(images);
        *ret = items;
        *ret_n = n;
        return 0;
fail:
        free(images);
        save_items_free(items, n);
        return r;
}

/* ---- in the worker ---- */

typedef struct Saver {
        const StorageDriver *driver;
        const char *tmpdir;
        const char *compression; /* "gzip", "zstd" or "none" */
        struct archive *out; /* the archive written, or NULL: */
        const char *out_dir; /* the layout's files written into this directory */
        char *error;
        /* Layer tarballs made so far: <tmpdir>/layer-<k>.tar for layer_dirs[k]. */
        char **made_dirs;
        char **made_digests;
        uint64_t *made_sizes;
        size_t n_made;
} Saver;

_printf_(3, 4) static int failf(Saver *s, int r, const char *fmt, ...) {
        va_list ap;
        if (s->error)
                return r;
        va_start(ap, fmt);
        if (vasprintf(&s->error, fmt, ap) < 0)
                s->error = NULL;
        va_end(ap);
        return r;
}

static int copy_file_data(struct archive *a, int fd, Saver *s, const char *what) {
        static char buf[COPY_BUFFER];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return failf(s, -errno, "Failed to read %s: %m", what);
                if (n == 0)
                        return 0;
                if (archive_write_data(a, buf, (size_t) n) != n) {
                        int err = archive_errno(a) > 0 ? archive_errno(a) : EIO;
                        return failf(s, -err, "Failed to write %s: %s", what, archive_error_string(a));
                }
        }
}

static int file_sha256(const char *path, char hex[SHA256_HEX_LEN + 1], uint64_t *ret_size) {
        _cleanup_(sha256_freep) Sha256 *hash = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        static char buf[COPY_BUFFER];
        uint64_t size = 0;
        int r;

        if (fd < 0)
                return -errno;
        r = sha256_new(&hash);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                r = sha256_update(hash, buf, (size_t) n);
                if (r < 0)
                        return r;
                size += (uint64_t) n;
        }
        *ret_size = size;
        return sha256_final_hex(hash, hex);
}

/* The layer's original tarball from its tar-split file beside the diff directory: returns 1 when
 * made, 0 when there is no split file (layers stored before berth kept them). A split file that
 * doesn't reproduce the tarball fails the save rather than giving it other bytes. */
static int replay_layer(Saver *s, const char *dir, int fd, char hex[SHA256_HEX_LEN + 1], uint64_t *ret_size) {
        _cleanup_free_ char *split = NULL, *message = NULL;
        const char *slash = strrchr(dir, '/');
        int r;

        if (!slash || asprintf(&split, "%.*s/%s", (int) (slash - dir), dir, TAR_SPLIT_FILE) < 0)
                return -ENOMEM;
        _cleanup_close_ int split_fd = open(split, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (split_fd < 0)
                return errno == ENOENT ? 0 : failf(s, -errno, "Failed to open %s: %m", split);
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return failf(s, -errno, "Failed to open layer %s: %m", dir);
        r = tar_split_replay(split_fd, dirfd, fd, hex, ret_size, &message);
        if (r == -EBADMSG) {
                /* The split file itself is damaged (a crash while it was written): make the tarball
                 * again instead, as for a layer without one. Changed layer files still fail. */
                log_warning("Ignoring the tar-split of layer %s: %s", dir, message ?: strerror(-r));
                if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                        return failf(s, -errno, "Failed to start layer %s again: %m", dir);
                return 0;
        }
        if (r < 0)
                return failf(s, r, "Layer %s: %s", dir, message ?: strerror(-r));
        return 1;
}

/* The tarball of layer dirs[k] (made once per directory), its digest and size. */
static int make_layer(Saver *s, char **dirs, size_t k_dir, const char **ret_path, const char **ret_digest,
                      uint64_t *ret_size) {
        const char *dir = dirs[k_dir];
        for (size_t k = 0; k < s->n_made; k++)
                if (streq(s->made_dirs[k], dir)) {
                        *ret_digest = s->made_digests[k];
                        *ret_size = s->made_sizes[k];
                        return asprintf((char **) ret_path, "%s/layer-%zu.tar", s->tmpdir, k) < 0 ? -ENOMEM : 0;
                }

        _cleanup_free_ char *path = NULL;
        char hex[SHA256_HEX_LEN + 1];
        uint64_t size = 0;
        int r;

        if (asprintf(&path, "%s/layer-%zu.tar", s->tmpdir, s->n_made) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return failf(s, -errno, "Failed to create a layer tarball: %m");
        r = replay_layer(s, dir, fd, hex, &size);
        if (r < 0)
                return r;
        if (r == 0) {
                r = s->driver->layer_write(dirs, k_dir, fd, &s->error);
                if (r < 0)
                        return failf(s, r, "Failed to write layer %s: %s", dir, strerror(-r));
                r = file_sha256(path, hex, &size);
                if (r < 0)
                        return failf(s, r, "Failed to hash a layer tarball: %s", strerror(-r));
        }

        char **d = reallocarray(s->made_dirs, s->n_made + 1, sizeof(char *));
        if (d)
                s->made_dirs = d;
        char **g = reallocarray(s->made_digests, s->n_made + 1, sizeof(char *));
        if (g)
                s->made_digests = g;
        uint64_t *z = reallocarray(s->made_sizes, s->n_made + 1, sizeof(uint64_t));
        if (z)
                s->made_sizes = z;
        if (!d || !g || !z || asprintf(&s->made_digests[s->n_made], "sha256:%s", hex) < 0)
                return -ENOMEM;
        s->made_dirs[s->n_made] = strdup(dir);
        if (!s->made_dirs[s->n_made]) {
                free(s->made_digests[s->n_made]);
                return -ENOMEM;
        }
        s->made_sizes[s->n_made] = size;
        *ret_digest = s->made_digests[s->n_made];
        *ret_size = size;
        s->n_made++;
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* The compressed copy of a layer tarball (OCI archives carry layers compressed, as registries
 * and podman do: gzip by default, or zstd), beside it as <tarball>.gz or .zst, with its digest and
 * size: the blob's identity; the uncompressed digest stays the diff id in the config.
 * Deterministic: no timestamp, no name in the gzip header, zstd single-threaded at its default
 * level. Made once per layer. */
static int compress_layer(Saver *s, const char *tar_path, char **ret_path, char ret_digest[SHA256_HEX_LEN + 8],
                          uint64_t *ret_size) {
        _cleanup_free_ char *gz = NULL;
        char hex[SHA256_HEX_LEN + 1];
        bool zstd = streq(s->compression, "zstd");
        int r;

        if (asprintf(&gz, "%s.%s", tar_path, zstd ? "zst" : "gz") < 0)
                return -ENOMEM;
        if (access(gz, F_OK) < 0) {
                _cleanup_close_ int in = open(tar_path, O_RDONLY | O_CLOEXEC);
                _cleanup_close_ int out = open(gz, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (in < 0 || out < 0)
                        return failf(s, -errno, "Failed to compress a layer: %m");
                struct archive *a = archive_write_new();
                struct archive_entry *e = archive_entry_new();
                if (!a || !e) {
                        archive_write_free(a);
                        archive_entry_free(e);
                        return -ENOMEM;
                }
                archive_entry_set_pathname(e, "layer.tar");
                archive_entry_set_filetype(e, AE_IFREG);
                if ((zstd ? archive_write_add_filter_zstd(a) != ARCHIVE_OK
                          : archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
                                     archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK) ||
                    archive_write_set_format_raw(a) != ARCHIVE_OK ||
                    /* Unblocked: padding after the gzip stream would be read as a next member. */
                    archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
                    archive_write_open_fd(a, out) != ARCHIVE_OK || archive_write_header(a, e) != ARCHIVE_OK)
                        r = failf(s, -EIO, "Failed to compress a layer: %s", archive_error_string(a));
                else
                        r = copy_file_data(a, in, s, "a layer");
                if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
                        r = failf(s, -EIO, "Failed to compress a layer: %s", archive_error_string(a));
                archive_entry_free(e);
                archive_write_free(a);
                if (r < 0)
                        return r;
        }
        r = file_sha256(gz, hex, ret_size);
        if (r < 0)
                return failf(s, r, "Failed to hash a layer: %s", strerror(-r));
        snprintf(ret_digest, SHA256_HEX_LEN + 8, "sha256:%s", hex);
        *ret_path = TAKE_PTR(gz);
        return 0;
}

static char *out_path(Saver *s, const char *path) {
        return strjoin(s->out_dir, "/", path);
}

static int out_header(Saver *s, const char *path, mode_t type, int64_t size) {
        if (s->out_dir) {
                _cleanup_free_ char *p = out_path(s, path);
                if (!p)
                        return -ENOMEM;
                if (type == AE_IFDIR && mkdir(p, 0755) < 0 && errno != EEXIST)
                        return failf(s, -errno, "Failed to create %s: %m", p);
                return 0;
        }
        struct archive_entry *e = archive_entry_new();
        int r;

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
        archive_entry_set_mtime(e, 0, 0);
        r = archive_write_header(s->out, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                int err = archive_errno(s->out) > 0 ? archive_errno(s->out) : EIO;
                return failf(s, -err, "Failed to write the archive: %s", archive_error_string(s->out));
        }
        return 0;
}

static int out_buffer(Saver *s, const char *path, const char *data, size_t len) {
        if (s->out_dir) {
                _cleanup_free_ char *p = out_path(s, path);
                int r = p ? write_file_replace(p, data, len, 0644) : -ENOMEM;
                return r < 0 ? failf(s, r, "Failed to write %s: %s", path, strerror(-r)) : 0;
        }
        int r = out_header(s, path, AE_IFREG, (int64_t) len);
        if (r < 0)
                return r;
        if (len > 0 && archive_write_data(s->out, data, len) != (la_ssize_t) len) {
                int err = archive_errno(s->out) > 0 ? archive_errno(s->out) : EIO;
                return failf(s, -err, "Failed to write the archive: %s", archive_error_string(s->out));
        }
        return 0;
}

static int out_file(Saver *s, const char *path, const char *file, uint64_t size) {
        if (s->out_dir) { /* a layer tarball of tmpdir, beside it: linked, not copied */
                _cleanup_free_ char *p = out_path(s, path);
                if (!p)
                        return -ENOMEM;
                if (link(file, p) < 0 && errno != EEXIST)
                        return failf(s, -errno, "Failed to place %s: %m", path);
                return 0;
        }
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return failf(s, -errno, "Failed to open %s: %m", file);
        int r = out_header(s, path, AE_IFREG, (int64_t) size);
        if (r < 0)
                return r;
        return copy_file_data(s->out, fd, s, "the archive");
}

static int out_json(Saver *s, const char *path, json_object *o, char hex[SHA256_HEX_LEN + 1], size_t *ret_len) {
        size_t len;
        const char *text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                             &len);
        if (!text)
                return -ENOMEM;
        if (hex) {
                int r = sha256_hex_of(text, len, hex);
                if (r < 0)
                        return r;
        }
        if (ret_len)
                *ret_len = len;
        if (!path)
                return 0;
        return out_buffer(s, path, text, len);
}

static json_object *descriptor(const char *media_type, const char *digest, uint64_t size) {
        json_object *d = json_object_new_object();
        if (!d)
                return NULL;
        json_object_object_add(d, "mediaType", json_object_new_string(media_type));
        json_object_object_add(d, "digest", json_object_new_string(digest));
        json_object_object_add(d, "size", json_object_new_int64((int64_t) size));
        return d;
}

/* The config with the diff ids of the tarballs we wrote (unchanged when they are the same). */
static int final_config(Saver *s, SaveItem *item, char **digests, char **ret) {
        _cleanup_json_ json_object *o = NULL;
        json_object *rootfs;
        bool same = true;

        for (size_t k = 0; digests[k]; k++)
                same = same && item->diff_ids[k] && streq(item->diff_ids[k], digests[k]);
        if (same) {
                *ret = strdup(item->config_json);
                return *ret ? 0 : -ENOMEM;
        }
        if (json_parse_buffer(item->config_json, strlen(item->config_json), &o) < 0 ||
            !json_object_object_get_ex(o, "rootfs", &rootfs))
                return failf(s, -EBADMSG, "An image's config is invalid.");
        json_object_object_add(rootfs, "diff_ids", json_strv_new(digests));
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        *ret = text ? strdup(text) : NULL;
        return *ret ? 0 : -ENOMEM;
}

/* One image's layers as written: bottom first, their tar digests and sizes and their blobs'. */
typedef struct SavedLayers {
        size_t n;
        char **digests, **blob_digests;
        uint64_t *sizes, *blob_sizes;
} SavedLayers;

static void saved_layers_done(SavedLayers *l) {
        strv_free(l->digests);
        strv_free(l->blob_digests);
        free(l->sizes);
        free(l->blob_sizes);
}

/* Writes the item's layer blobs not written yet ('written': blob digests). */
static int save_layers(Saver *s, SaveItem *item, bool oci, char ***written, SavedLayers *ret) {
        size_t n = strv_length(item->layer_dirs);
        int r;
        *ret = (SavedLayers){ .n = n,
                              .digests = calloc(n + 1, sizeof(char *)),
                              .blob_digests = calloc(n + 1, sizeof(char *)),
                              .sizes = calloc(n + 1, sizeof(uint64_t)),
                              .blob_sizes = calloc(n + 1, sizeof(uint64_t)) };
        if (!ret->digests || !ret->sizes || !ret->blob_digests || !ret->blob_sizes)
                return -ENOMEM;
        /* layer_dirs are top first; archives list layers bottom first. */
        for (size_t j = 0; j < n; j++) {
                _cleanup_free_ char *file = NULL; /* make_layer() gives a path of our own */
                const char *digest = NULL;
                r = make_layer(s, item->layer_dirs, n - 1 - j, (const char **) &file, &digest, &ret->sizes[j]);
                if (r < 0)
                        return r;
                if (!(ret->digests[j] = strdup(digest)))
                        return -ENOMEM;
                /* The blob: the tarball itself (docker-archive, uncompressed OCI), or compressed. */
                _cleanup_free_ char *blob = NULL, *name = NULL;
                char blob_digest[SHA256_HEX_LEN + 8];
                bool compress = oci && !streq(s->compression, "none");
                ret->blob_sizes[j] = ret->sizes[j];
                if (compress) {
                        r = compress_layer(s, file, &blob, blob_digest, &ret->blob_sizes[j]);
                        if (r < 0)
                                return r;
                }
                if (!(ret->blob_digests[j] = strdup(compress ? blob_digest : digest)))
                        return -ENOMEM;
                if (strv_contains(*written, ret->blob_digests[j]))
                        continue;
                if (asprintf(&name, oci ? "blobs/sha256/%s" : "%s.tar",
                             ret->blob_digests[j] + strlen(DIGEST_SHA256_PREFIX)) < 0)
                        return -ENOMEM;
                r = out_file(s, name, blob ?: file, ret->blob_sizes[j]);
                if (r < 0)
                        return r;
                if (strv_push(written, ret->blob_digests[j]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* docker-archive: the image's entry of manifest.json. */
static int docker_manifest_entry(SaveItem *item, const SavedLayers *l, const char *config_path, json_object *manifest) {
        _cleanup_json_ json_object *e = json_object_new_object(), *layers = json_object_new_array();
        if (!e || !layers)
                return -ENOMEM;
        for (size_t j = 0; j < l->n; j++) {
                _cleanup_free_ char *name = NULL;
                if (asprintf(&name, "%s.tar", l->digests[j] + strlen(DIGEST_SHA256_PREFIX)) < 0)
                        return -ENOMEM;
                json_object_array_add(layers, json_object_new_string(name));
        }
        json_object_object_add(e, "Config", json_object_new_string(config_path));
        json_object_object_add(e, "RepoTags", json_strv_new(item->repo_tags));
        json_object_object_add(e, "Layers", TAKE_PTR(layers));
        json_object_array_add(manifest, TAKE_PTR(e));
        return 0;
}

/* OCI: the image's manifest blob and its entries of index.json, one per tag. */
static int oci_manifest(Saver *s, SaveItem *item, const SavedLayers *l, const char *config_hex, size_t config_len,
                        json_object *index_list) {
        _cleanup_json_ json_object *m = json_object_new_object();
        _cleanup_free_ char *config_digest = NULL, *manifest_path = NULL, *manifest_digest = NULL;
        json_object *layers = json_object_new_array();
        char manifest_hex[SHA256_HEX_LEN + 1];
        size_t manifest_len;
        int r;
        if (!m || !layers || asprintf(&config_digest, "sha256:%s", config_hex) < 0) {
                json_object_put(layers);
                return -ENOMEM;
        }
        json_object_object_add(m, "schemaVersion", json_object_new_int(2));
        json_object_object_add(m, "mediaType", json_object_new_string("application/vnd.oci.image.manifest.v1+json"));
        json_object_object_add(m, "config",
                               descriptor("application/vnd.oci.image.config.v1+json", config_digest, config_len));
        const char *media_type = streq(s->compression, "zstd") ? "application/vnd.oci.image.layer.v1.tar+zstd"
                : streq(s->compression, "gzip")                ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                                               : "application/vnd.oci.image.layer.v1.tar";
        for (size_t j = 0; j < l->n; j++)
                json_object_array_add(layers, descriptor(media_type, l->blob_digests[j], l->blob_sizes[j]));
        json_object_object_add(m, "layers", layers);
        r = out_json(s, NULL, m, manifest_hex, &manifest_len);
        if (r < 0)
                return r;
        if (asprintf(&manifest_path, "blobs/sha256/%s", manifest_hex) < 0 ||
            asprintf(&manifest_digest, "sha256:%s", manifest_hex) < 0)
                return -ENOMEM;
        r = out_json(s, manifest_path, m, NULL, NULL);
        if (r < 0)
                return r;
        /* One index entry per tag (podman and skopeo read the name from ref.name). */
        size_t n_tags = strv_length(item->repo_tags);
        for (size_t t = 0; t < (n_tags > 0 ? n_tags : 1); t++) {
                json_object *d = descriptor("application/vnd.oci.image.manifest.v1+json", manifest_digest,
                                            manifest_len);
                if (!d)
                        return -ENOMEM;
                if (n_tags > 0) {
                        json_object *a = json_object_new_object();
                        json_object_object_add(a, "org.opencontainers.image.ref.name",
                                               json_object_new_string(item->repo_tags[t]));
                        json_object_object_add(d, "annotations", a);
                }
                json_object_array_add(index_list, d);
        }
        return 0;
}

/* One image: its layers, its config, its manifest (entry). */
static int save_item(Saver *s, SaveItem *item, bool oci, char ***written, json_object *manifest,
                     json_object *index_list) {
        _cleanup_(saved_layers_done) SavedLayers layers = {};
        _cleanup_free_ char *config = NULL, *config_path = NULL;
        char config_hex[SHA256_HEX_LEN + 1];
        int r = save_layers(s, item, oci, written, &layers);
        if (r >= 0)
                r = final_config(s, item, layers.digests, &config);
        if (r >= 0)
                r = sha256_hex_of(config, strlen(config), config_hex);
        if (r < 0)
                return r;
        if (asprintf(&config_path, oci ? "blobs/sha256/%s" : "%s.json", config_hex) < 0)
                return -ENOMEM;
        r = out_buffer(s, config_path, config, strlen(config));
        if (r < 0)
                return r;
        return oci ? oci_manifest(s, item, &layers, config_hex, strlen(config), index_list)
                   : docker_manifest_entry(item, &layers, config_path, manifest);
}

static int save_all(Saver *s, SaveItem *items, size_t n_items, bool oci) {
        _cleanup_json_ json_object *manifest = json_object_new_array(), *index_list = json_object_new_array();
        _cleanup_strv_free_ char **written = calloc(1, sizeof(char *));
        int r;

        if (!manifest || !index_list || !written)
                return -ENOMEM;
        if (oci) {
                r = out_header(s, "blobs/", AE_IFDIR, 0);
                if (r >= 0)
                        r = out_header(s, "blobs/sha256/", AE_IFDIR, 0);
                if (r >= 0)
                        r = out_buffer(s, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
                if (r < 0)
                        return r;
        }
        for (size_t k = 0; k < n_items; k++) {
                r = save_item(s, &items[k], oci, &written, manifest, index_list);
                if (r < 0)
                        return r;
        }
        if (!oci)
                return out_json(s, "manifest.json", manifest, NULL, NULL);

        _cleanup_json_ json_object *index = json_object_new_object();
        if (!index)
                return -ENOMEM;
        json_object_object_add(index, "schemaVersion", json_object_new_int(2));
        json_object_object_add(index, "manifests", json_object_get(index_list));
        return out_json(s, "index.json", index, NULL, NULL);
}

static void saver_done(Saver *s) {
        for (size_t k = 0; k < s->n_made; k++) {
                free(s->made_dirs[k]);
                free(s->made_digests[k]);
        }
        free(s->made_dirs);
        free(s->made_digests);
        free(s->made_sizes);
        free(s->error);
}

int image_save_layout_worker(const StorageDriver *driver, SaveItem *items, size_t n_items, const char *compression,
                             const char *tmpdir, const char *out_dir, char **ret_error) {
        Saver s = { .driver = driver, .tmpdir = tmpdir, .compression = compression ?: "gzip", .out_dir = out_dir };
        int r = mkdir(out_dir, 0755) < 0 ? failf(&s, -errno, "Failed to create %s: %m", out_dir)
                                         : save_all(&s, items, n_items, true);
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(s.error);
        saver_done(&s);
        return r;
}

int image_save_worker(const StorageDriver *driver, SaveItem *items, size_t n_items, const char *format,
                      const char *compression, int output_fd, const char *tmpdir, char **ret_error) {
        Saver s = { .driver = driver, .tmpdir = tmpdir, .compression = compression ?: "gzip" };
        int r;

        s.out = archive_write_new();
        if (!s.out)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(s.out) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(s.out, 1) != ARCHIVE_OK ||
            archive_write_open_fd(s.out, output_fd) != ARCHIVE_OK)
                r = failf(&s, -EIO, "Failed to start the archive: %s", archive_error_string(s.out));
        else
                r = save_all(&s, items, n_items, streq(format, "oci-archive"));
        if (r >= 0 && archive_write_close(s.out) != ARCHIVE_OK) {
                int err = archive_errno(s.out) > 0 ? archive_errno(s.out) : EIO;
                r = failf(&s, -err, "Failed to finish the archive: %s", archive_error_string(s.out));
        }
        archive_write_free(s.out);
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(s.error);
        saver_done(&s);
        return r;
}
