/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LoadImage's worker (runs in a child of berthd): read a docker-archive or an OCI image layout
 * archive, check every layer against the diff ids of its image's config, and extract the layers into
 * the load's temporary directory. berthd then moves the layers into place and records the images.
 *
 * The outer tar is read as a stream (it may come from a pipe), so every file in it is first spilled
 * into <tmpdir>/files/<n>, hashed on the way; which file is a config, a manifest or a layer is only
 * known once the metadata, which may come last, has been read. Layer blobs may be compressed (gzip,
 * zstd, ...): their diff id is the sha256 of the uncompressed tar, hashed while the layer is extracted
 * (decompressed once) into the load's temporary directory, and refused when it does not match the
 * config: nothing in that directory is visible before berthd moves it into place, and a failed load
 * has it removed. A layer not extracted (stored already) is hashed in a pass of its own.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "image.h"
#include "storage.h"
#include "json-util.h"
#include "tar-extract.h"

#define MAX_FILES       100000U
#define MAX_METADATA    (16U * 1024U * 1024U)
#define MAX_LINK_DEPTH  8
#define COPY_BUFFER     (128U * 1024U)
#define MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_DOCKER_ML "application/vnd.docker.distribution.manifest.list.v2+json"

typedef struct ArchiveFile {
        char *path; /* normalized: "a/b" */
        char *link; /* normalized target of a symlink or hard link, else NULL */
        uint64_t size;
        char sha256[SHA256_HEX_LEN + 1];
        /* Filled on demand for layers: */
        bool have_diff;
        char diff_id[SHA256_HEX_LEN + 1];
        uint64_t diff_size;
} ArchiveFile;

typedef struct LoadedImage {
        ArchiveFile *config;
        char **repo_tags;
        ArchiveFile **layers;
        size_t n_layers;
        char **diff_ids;
        char *manifest_digest; /* OCI: the digest of the image's manifest; NULL for docker-archive */
} LoadedImage;

typedef struct Loader {
        Manager *manager;
        const char *tmpdir;
        ArchiveFile *files;
        size_t n_files;
        LoadedImage *images;
        size_t n_images;
        char *error;
} Loader;

_printf_(3, 4) static int failf(Loader *l, int r, const char *fmt, ...) {
        va_list ap;
        if (l->error)
                return r;
        va_start(ap, fmt);
        if (vasprintf(&l->error, fmt, ap) < 0)
                l->error = NULL;
        va_end(ap);
        return r;
}

static char *spill_path(Loader *l, const ArchiveFile *f) {
        char *p;
        return asprintf(&p, "%s/files/%zu", l->tmpdir, (size_t) (f - l->files)) < 0 ? NULL : p;
}

/* Resolve target (relative to the directory of path unless absolute) into a normalized archive path;
 * ".." may not climb above the archive's root. */
static int resolve_link(const char *path, const char *target, bool relative, char **ret) {
        _cleanup_free_ char *joined = NULL, *out = NULL;
        size_t n = 0;

        if (relative && target[0] != '/') {
                const char *slash = strrchr(path, '/');
                if (asprintf(&joined, "%.*s/%s", slash ? (int) (slash - path) : 0, path, target) < 0)
                        return -ENOMEM;
        } else if (!(joined = strdup(target)))
                return -ENOMEM;
        out = malloc(strlen(joined) + 1);
        if (!out)
                return -ENOMEM;
        for (char *p = joined; *p;) {
                size_t len = strcspn(p, "/");
                if (len == 2 && p[0] == '.' && p[1] == '.') {
                        if (n == 0)
                                return -EINVAL;
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--; /* the slash */
                } else if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                p += len;
                if (*p == '/')
                        p++;
        }
        if (n == 0)
                return -EINVAL;
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int spill_entry(Loader *l, struct archive *a, ArchiveFile *f) {
        _cleanup_(sha256_freep) Sha256 *hash = NULL;
        _cleanup_free_ char *path = spill_path(l, f);
        _cleanup_close_ int fd = -1;
        int r;

        if (!path)
                return -ENOMEM;
        r = sha256_new(&hash);
        if (r < 0)
                return r;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return failf(l, -errno, "Failed to store archive member %s: %m", f->path);
        for (;;) {
                const void *buf;
                size_t n;
                la_int64_t offset;
                r = archive_read_data_block(a, &buf, &n, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return failf(l, -EBADMSG, "Corrupt archive in %s: %s", f->path, archive_error_string(a));
                /* docker save / OCI writers never make sparse members; a hole would let a few bytes
                 * of archive expand to any size on disk, so refuse instead of filling it. */
                if (offset < 0 || (uint64_t) offset != f->size)
                        return failf(l, -EBADMSG, "Refusing sparse archive member %s", f->path);
                r = loop_write(fd, buf, n);
                if (r >= 0)
                        r = sha256_update(hash, buf, n);
                if (r < 0)
                        return failf(l, r, "Failed to store archive member %s: %s", f->path, strerror(-r));
                f->size += n;
        }
        if (close(TAKE_FD(fd)) < 0)
                return failf(l, -errno, "Failed to store archive member %s: %m", f->path);
        return sha256_final_hex(hash, f->sha256);
}

static int spill_archive(Loader *l, int input_fd) {
        struct archive *a = archive_read_new();
        struct archive_entry *entry;
        int r;

        if (!a)
                return -ENOMEM;
        if (archive_read_support_format_tar(a) != ARCHIVE_OK || archive_read_support_filter_gzip(a) == ARCHIVE_FATAL ||
            archive_read_support_filter_zstd(a) == ARCHIVE_FATAL ||
            archive_read_support_filter_xz(a) == ARCHIVE_FATAL ||
            archive_read_support_filter_bzip2(a) == ARCHIVE_FATAL) {
                archive_read_free(a);
                return -ENOMEM;
        }
        if (archive_read_open_fd(a, input_fd, COPY_BUFFER) != ARCHIVE_OK) {
                r = failf(l, -EBADMSG, "Not an image archive: %s", archive_error_string(a));
                archive_read_free(a);
                return r;
        }
        for (;;) {
                r = archive_read_next_header(a, &entry);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                        r = failf(l, -EBADMSG, "Corrupt image archive: %s", archive_error_string(a));
                        break;
                }
                const char *name = archive_entry_pathname(entry);
                const char *symlink = archive_entry_symlink(entry), *hardlink = archive_entry_hardlink(entry);
                mode_t type = archive_entry_filetype(entry);
                _cleanup_free_ char *path = NULL, *link = NULL;
                if (!name || tar_path_normalize(name, &path) < 0 || streq(path, ".")) {
                        r = 0;
                        continue; /* nothing we would ever look up */
                }
                if (hardlink)
                        r = resolve_link(path, hardlink, false, &link);
                else if (type == AE_IFLNK && symlink)
                        r = resolve_link(path, symlink, true, &link);
                else if (type != AE_IFREG)
                        continue;
                if (r == -ENOMEM)
                        break;
                if (r < 0) {
                        r = 0;
                        continue; /* a link out of the archive: ignore it, lookups through it fail */
                }
                if (l->n_files >= MAX_FILES) {
                        r = failf(l, -E2BIG, "Image archive has more than %u members.", MAX_FILES);
                        break;
                }
                ArchiveFile *files = reallocarray(l->files, l->n_files + 1, sizeof(ArchiveFile));
                if (!files) {
                        r = -ENOMEM;
                        break;
                }
                l->files = files;
                ArchiveFile *f = &l->files[l->n_files++];
                *f = (ArchiveFile){ .path = TAKE_PTR(path), .link = TAKE_PTR(link) };
                if (!f->link) {
                        r = spill_entry(l, a, f);
                        if (r < 0)
                                break;
                }
        }
        archive_read_free(a);
        return r < 0 ? r : 0;
}

/* The last member with that path wins, as when extracting; links are followed. */
static ArchiveFile *find_file(Loader *l, const char *path) {
        _cleanup_free_ char *norm = NULL;
        if (tar_path_normalize(path, &norm) < 0)
                return NULL;
        const char *want = norm;
        for (int depth = 0; depth < MAX_LINK_DEPTH; depth++) {
                ArchiveFile *found = NULL;
                for (size_t k = l->n_files; k > 0 && !found; k--)
                        if (streq(l->files[k - 1].path, want))
                                found = &l->files[k - 1];
                if (!found || !found->link)
                        return found;
                want = found->link;
        }
        return NULL;
}

static int read_member(Loader *l, ArchiveFile *f, char **ret, size_t *ret_len) {
        _cleanup_free_ char *path = spill_path(l, f);
        if (!path)
                return -ENOMEM;
        if (f->size > MAX_METADATA)
                return failf(l, -EFBIG, "Archive member %s is too large for metadata.", f->path);
        return read_full_file(path, ret, ret_len);
}

static int read_json_member(Loader *l, const char *name, json_object **ret, ArchiveFile **ret_file) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        ArchiveFile *f = find_file(l, name);
        int r;

        if (!f)
                return failf(l, -ENOENT, "The image archive has no %s.", name);
        r = read_member(l, f, &buf, &len);
        if (r < 0)
                return failf(l, r, "Failed to read %s from the image archive: %s", name, strerror(-r));
        r = json_parse_buffer(buf, len, ret);
        if (r < 0)
                return failf(l, -EBADMSG, "%s in the image archive is no valid JSON.", name);
        if (ret_file)
                *ret_file = f;
        return 0;
}

static int add_image(Loader *l, ArchiveFile *config, char **tags, ArchiveFile **layers, size_t n_layers,
                     const char *manifest_digest) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_strv_free_ char **diff_ids = NULL;
        Image *scratch;
        size_t len;
        int r;

        r = read_member(l, config, &buf, &len);
        if (r < 0)
                return failf(l, r, "Failed to read the image config %s: %s", config->path, strerror(-r));
        scratch = image_new(NULL);
        if (!scratch)
                return -ENOMEM;
        r = image_config_parse(scratch, buf, len, &diff_ids);
        image_free(scratch);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return failf(l, -EBADMSG, "The image config %s is invalid.", config->path);
        if (strv_length(diff_ids) != n_layers)
                return failf(l, -EBADMSG, "The image config %s lists %zu layers, the manifest %zu.", config->path,
                             strv_length(diff_ids), n_layers);
        if (n_layers == 0) /* nothing to make a root file system of */
                return failf(l, -EBADMSG, "The image of config %s has no layers.", config->path);
        if (n_layers > IMAGE_LAYERS_MAX)
                return failf(l, -EBADMSG, "The image of config %s has %zu layers; at most %d are supported.",
                             config->path, n_layers, IMAGE_LAYERS_MAX);

        LoadedImage *images = reallocarray(l->images, l->n_images + 1, sizeof(LoadedImage));
        if (!images)
                return -ENOMEM;
        l->images = images;
        LoadedImage *i = &l->images[l->n_images];
        *i = (LoadedImage){ .config = config, .n_layers = n_layers };
        i->repo_tags = strv_copy(tags);
        i->layers = calloc(n_layers + 1, sizeof(ArchiveFile *));
        i->manifest_digest = manifest_digest ? strdup(manifest_digest) : NULL;
        if (!i->repo_tags || !i->layers || (manifest_digest && !i->manifest_digest)) {
                strv_free(i->repo_tags);
                free(i->layers);
                free(i->manifest_digest);
                return -ENOMEM;
        }
        memcpy(i->layers, layers, n_layers * sizeof(ArchiveFile *));
        i->diff_ids = TAKE_PTR(diff_ids);
        l->n_images++;
        return 0;
}

static int parse_docker_archive(Loader *l) {
        _cleanup_json_ json_object *manifest = NULL;
        int r;

        r = read_json_member(l, "manifest.json", &manifest, NULL);
        if (r < 0)
                return r;
        if (!json_object_is_type(manifest, json_type_array) || json_object_array_length(manifest) == 0)
                return failf(l, -EBADMSG, "manifest.json in the image archive lists no images.");
        for (size_t k = 0; k < json_object_array_length(manifest); k++) {
                json_object *e = json_object_array_get_idx(manifest, k);
                _cleanup_strv_free_ char **tags = NULL, **layer_paths = NULL;
                _cleanup_free_ ArchiveFile **layers = NULL;
                const char *config_path = json_get_string(e, "Config");
                if (!config_path || json_get_strv(e, "RepoTags", &tags) < 0 ||
                    json_get_strv(e, "Layers", &layer_paths) < 0)
                        return failf(l, -EBADMSG, "manifest.json in the image archive is malformed.");
                ArchiveFile *config = find_file(l, config_path);
                if (!config)
                        return failf(l, -EBADMSG, "The image archive lacks the config %s.", config_path);
                size_t n = strv_length(layer_paths);
                layers = calloc(n + 1, sizeof(ArchiveFile *));
                if (!layers)
                        return -ENOMEM;
                for (size_t j = 0; j < n; j++)
                        if (!(layers[j] = find_file(l, layer_paths[j])))
                                return failf(l, -EBADMSG, "The image archive lacks the layer %s.", layer_paths[j]);
                r = add_image(l, config, tags, layers, n, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* An OCI descriptor's blob, checked against its digest (and size, when given). */
static int find_blob(Loader *l, json_object *descriptor, ArchiveFile **ret) {
        const char *digest = json_get_string(descriptor, "digest");
        _cleanup_free_ char *path = NULL;

        if (!digest || !digest_is_valid(digest))
                return failf(l, -EBADMSG, "The image archive has a descriptor without a valid sha256 digest.");
        if (asprintf(&path, "blobs/sha256/%s", digest + strlen(DIGEST_SHA256_PREFIX)) < 0)
                return -ENOMEM;
        ArchiveFile *f = find_file(l, path);
        if (!f)
                return failf(l, -EBADMSG, "The image archive lacks the blob %s.", digest);
        if (!streq(f->sha256, digest + strlen(DIGEST_SHA256_PREFIX)))
                return failf(l, -EBADMSG, "The blob %s in the image archive does not match its digest.", digest);
        int64_t size = json_get_i64(descriptor, "size", -1);
        if (size >= 0 && (uint64_t) size != f->size)
                return failf(l, -EBADMSG, "The blob %s in the image archive does not have its stated size.", digest);
        *ret = f;
        return 0;
}

/* top_digest: the digest index.json names for this image (of a manifest or a nested index), the one a
 * registry knows the image by; it becomes the image's RepoDigests. */
static int oci_manifest(Loader *l, json_object *descriptor, const char *tag, const char *top_digest, int depth) {
        _cleanup_json_ json_object *m = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ ArchiveFile **layers = NULL;
        json_object *layer_list = NULL, *config_desc = NULL, *manifests = NULL;
        char *tags[2] = { (char *) tag, NULL };
        ArchiveFile *f, *config;
        size_t len;
        int r;

        if (depth > 2)
                return failf(l, -EBADMSG, "The image archive nests image indexes too deeply.");
        r = find_blob(l, descriptor, &f);
        if (r < 0)
                return r;
        r = read_member(l, f, &buf, &len);
        if (r < 0)
                return failf(l, r, "Failed to read a manifest from the image archive: %s", strerror(-r));
        if (json_parse_buffer(buf, len, &m) < 0)
                return failf(l, -EBADMSG, "A manifest in the image archive is no valid JSON.");

        /* An index inside: take the entries for this host (all of them when none names a platform). */
        const char *media = json_get_string(m, "mediaType") ?: json_get_string(descriptor, "mediaType");
        if ((media && (streq(media, MEDIA_OCI_INDEX) || streq(media, MEDIA_DOCKER_ML))) ||
            (json_object_object_get_ex(m, "manifests", &manifests) && !json_object_object_get_ex(m, "layers", NULL))) {
                if (!json_object_object_get_ex(m, "manifests", &manifests) ||
                    !json_object_is_type(manifests, json_type_array))
                        return failf(l, -EBADMSG, "An image index in the archive is malformed.");
                for (size_t k = 0; k < json_object_array_length(manifests); k++) {
                        json_object *d = json_object_array_get_idx(manifests, k), *platform = NULL;
                        if (json_object_object_get_ex(d, "platform", &platform)) {
                                const char *arch = json_get_string(platform, "architecture");
                                if (arch && !streq(arch, image_host_architecture()))
                                        continue;
                        }
                        r = oci_manifest(l, d, tag, top_digest, depth + 1);
                        if (r < 0)
                                return r;
                        tags[0] = NULL, tag = NULL; /* a tag names one image */
                }
                return 0;
        }

        if (!json_object_object_get_ex(m, "config", &config_desc) ||
            !json_object_object_get_ex(m, "layers", &layer_list) || !json_object_is_type(layer_list, json_type_array))
                return failf(l, -EBADMSG, "An image manifest in the archive is malformed.");
        r = find_blob(l, config_desc, &config);
        if (r < 0)
                return r;
        size_t n = json_object_array_length(layer_list);
        layers = calloc(n + 1, sizeof(ArchiveFile *));
        if (!layers)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                r = find_blob(l, json_object_array_get_idx(layer_list, k), &layers[k]);
                if (r < 0)
                        return r;
        }
        return add_image(l, config, tag ? tags : tags + 1, layers, n, top_digest);
}

static int parse_oci_archive(Loader *l) {
        _cleanup_json_ json_object *index = NULL, *layout = NULL;
        json_object *manifests;
        int r;

        r = read_json_member(l, "oci-layout", &layout, NULL);
        if (r < 0)
                return r;
        r = read_json_member(l, "index.json", &index, NULL);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(index, "manifests", &manifests) ||
            !json_object_is_type(manifests, json_type_array) || json_object_array_length(manifests) == 0)
                return failf(l, -EBADMSG, "index.json in the image archive lists no images.");
        for (size_t k = 0; k < json_object_array_length(manifests); k++) {
                json_object *d = json_object_array_get_idx(manifests, k), *annotations = NULL;
                json_object_object_get_ex(d, "annotations", &annotations);
                /* containerd's full name first; ref.name may be a bare tag, which names nothing here. */
                const char *tag = json_get_string(annotations, "io.containerd.image.name");
                const char *ref = json_get_string(annotations, "org.opencontainers.image.ref.name");
                if (!tag && ref && (strchr(ref, ':') || strchr(ref, '/')))
                        tag = ref;
                r = oci_manifest(l, d, tag, json_get_string(d, "digest"), 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The sha256 and size of the layer blob uncompressed: its diff id. */
static int layer_diff_id(Loader *l, ArchiveFile *f) {
        _cleanup_(sha256_freep) Sha256 *hash = NULL;
        _cleanup_free_ char *path = spill_path(l, f);
        _cleanup_close_ int fd = -1;
        unsigned char magic[6] = {};
        int r;

        if (f->have_diff)
                return 0;
        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = pread(fd, magic, sizeof(magic), 0);
        if (n < 0)
                return -errno;
        bool compressed = (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) ||
                (n >= 4 && !memcmp(magic, "\x28\xb5\x2f\xfd", 4)) ||
                (n >= 6 &&
                 !memcmp(magic,
                         "\xfd"
                         "7zXZ\0",
                         6)) ||
                (n >= 3 && !memcmp(magic, "BZh", 3));
        if (!compressed) {
                memcpy(f->diff_id, f->sha256, sizeof(f->diff_id));
                f->diff_size = f->size;
                f->have_diff = true;
                return 0;
        }

        struct archive *a = archive_read_new();
        if (!a)
                return -ENOMEM;
        r = sha256_new(&hash);
        if (r >= 0 &&
            (archive_read_support_format_raw(a) != ARCHIVE_OK || archive_read_support_filter_gzip(a) == ARCHIVE_FATAL ||
             archive_read_support_filter_zstd(a) == ARCHIVE_FATAL ||
             archive_read_support_filter_xz(a) == ARCHIVE_FATAL ||
             archive_read_support_filter_bzip2(a) == ARCHIVE_FATAL))
                r = -ENOMEM;
        struct archive_entry *entry;
        if (r >= 0 &&
            (archive_read_open_fd(a, fd, COPY_BUFFER) != ARCHIVE_OK ||
             archive_read_next_header(a, &entry) != ARCHIVE_OK))
                r = failf(l, -EBADMSG, "Corrupt layer %s: %s", f->path, archive_error_string(a));
        f->diff_size = 0;
        while (r >= 0) {
                static char buf[COPY_BUFFER];
                la_ssize_t k = archive_read_data(a, buf, sizeof(buf));
                if (k == 0)
                        break;
                if (k < 0)
                        r = failf(l, -EBADMSG, "Corrupt layer %s: %s", f->path, archive_error_string(a));
                else {
                        r = sha256_update(hash, buf, (size_t) k);
                        f->diff_size += (uint64_t) k;
                }
        }
        archive_read_free(a);
        if (r < 0)
                return r;
        r = sha256_final_hex(hash, f->diff_id);
        if (r < 0)
                return r;
        f->have_diff = true;
        return 0;
}

/* Layer k of image 'i' into <tmpdir>/layers/<key>, on its parent (made by this load or stored), its diff
 * id hashed on the way. A layer already stored or made for an earlier image is not made again. */
static int extract_layer(Loader *l, LoadedImage *i, char **keys, size_t k) {
        Manager *m = l->manager;
        const char *key = keys[k], *parent_key = k > 0 ? keys[k - 1] : NULL;
        _cleanup_free_ char *src = spill_path(l, i->layers[k]), *dir = NULL, *stored = NULL, *parent = NULL,
                            *message = NULL;
        int r;

        if (!src)
                return -ENOMEM;
        if (asprintf(&dir, "%s/layers/%s", l->tmpdir, key) < 0 || !(stored = storage_layer_dir(m, key)))
                return -ENOMEM;
        if (access(dir, F_OK) == 0 || access(stored, F_OK) == 0)
                return 0;
        if (k > 0) {
                if (asprintf(&parent, "%s/layers/%s/diff", l->tmpdir, parent_key) < 0)
                        return -ENOMEM;
                if (access(parent, F_OK) < 0) {
                        free(parent);
                        parent = manager_state_path(m, "%s/%s/diff", m->storage->name, parent_key);
                        if (!parent)
                                return -ENOMEM;
                }
        }
        if (mkdir(dir, 0700) < 0)
                return failf(l, -errno, "Failed to create a layer directory: %m");
        _cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return failf(l, -errno, "Failed to open layer %s: %m", i->layers[k]->path);
        TarExtractResult result = {};
        r = storage_layer_apply(m->storage, parent, dir, fd, &result, &message);
        if (r < 0)
                return failf(l, r, "Layer %.19s: %s", i->diff_ids[k], message ?: strerror(-r));
        ArchiveFile *f = i->layers[k];
        if (f->have_diff && !streq(f->diff_id, result.diff_digest))
                /* Known beforehand (a pull that hashed it as it came): what was extracted must be it. */
                return failf(l, -EBADMSG,
                             "Layer %s does not match the diff id %s of its image: its content has sha256:%s.", f->path,
                             i->diff_ids[k], result.diff_digest);
        memcpy(f->diff_id, result.diff_digest, sizeof(f->diff_id));
        f->diff_size = result.diff_size;
        f->have_diff = true;
        return 0;
}

/* Layer k of image 'i' extracted (or found stored), and checked against the config's diff id. */
static int make_layer(Loader *l, LoadedImage *i, char **keys, size_t k) {
        ArchiveFile *f = i->layers[k];
        const char *want = i->diff_ids[k] + strlen(DIGEST_SHA256_PREFIX);
        int r = extract_layer(l, i, keys, k);
        if (r >= 0)
                r = layer_diff_id(l, f); /* nothing when extracted: a layer skipped is hashed here */
        if (r >= 0 && !streq(f->diff_id, want))
                r = failf(l, -EBADMSG,
                          "Layer %s does not match the diff id %s of its image: its content has sha256:%s.", f->path,
                          i->diff_ids[k], f->diff_id);
        return r;
}

static int write_result(Loader *l) {
        _cleanup_json_ json_object *o = json_object_new_object();
        _cleanup_free_ char *path = NULL;
        json_object *images = json_object_new_array();

        if (!o || !images || asprintf(&path, "%s/result.json", l->tmpdir) < 0) {
                json_object_put(images);
                return -ENOMEM;
        }
        json_object_object_add(o, "images", images);
        for (size_t k = 0; k < l->n_images; k++) {
                LoadedImage *i = &l->images[k];
                json_object *e = json_object_new_object(), *sizes = json_object_new_array();
                _cleanup_free_ char *config = spill_path(l, i->config);
                if (!e || !sizes || !config) {
                        json_object_put(e);
                        json_object_put(sizes);
                        return -ENOMEM;
                }
                for (size_t j = 0; j < i->n_layers; j++)
                        json_object_array_add(sizes, json_object_new_uint64(i->layers[j]->diff_size));
                json_object_object_add(e, "config", json_object_new_string(config));
                json_object_object_add(e, "repo_tags", json_strv_new(i->repo_tags));
                json_object_object_add(e, "diff_ids", json_strv_new(i->diff_ids));
                json_object_object_add(e, "layer_sizes", sizes);
                if (i->manifest_digest)
                        json_object_object_add(e, "manifest_digest", json_object_new_string(i->manifest_digest));
                json_object_array_add(images, e);
        }
        return json_write_file_atomic(path, o);
}

static void loader_done(Loader *l) {
        for (size_t k = 0; k < l->n_files; k++) {
                free(l->files[k].path);
                free(l->files[k].link);
        }
        free(l->files);
        for (size_t k = 0; k < l->n_images; k++) {
                strv_free(l->images[k].repo_tags);
                strv_free(l->images[k].diff_ids);
                free(l->images[k].manifest_digest);
                free(l->images[k].layers);
        }
        free(l->images);
}

/* Extracts every layer into the temporary directory, checking each against its diff id as it goes
 * (any failure fails the load, and the directory goes with it), then writes the result. */
static int load_images(Loader *l) {
        Manager *m = l->manager;
        int r = 0;
        for (size_t k = 0; r >= 0 && k < l->n_images; k++) {
                _cleanup_strv_free_ char **keys = NULL;
                r = storage_layer_keys(m, l->images[k].diff_ids, &keys);
                for (size_t j = 0; r >= 0 && j < l->images[k].n_layers; j++)
                        r = make_layer(l, &l->images[k], keys, j);
        }
        if (r >= 0)
                r = write_result(l);
        return r;
}

/* The end of a load: the error sentence to the caller, the loader freed. */
static int loader_finish(Loader *l, int r, char **ret_error) {
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(l->error);
        free(l->error);
        loader_done(l);
        return r;
}

static int make_work_dirs(const char *tmpdir) {
        _cleanup_free_ char *files = NULL, *layers = NULL;
        if (asprintf(&files, "%s/files", tmpdir) < 0 || asprintf(&layers, "%s/layers", tmpdir) < 0)
                return -ENOMEM;
        if ((mkdir(files, 0700) < 0 && errno != EEXIST) || mkdir(layers, 0700) < 0)
                return -errno;
        return 0;
}

int image_load_worker(Manager *m, int input_fd, const char *format, const char *tmpdir, char **ret_error) {
        Loader l = { .manager = m, .tmpdir = tmpdir };
        int r = make_work_dirs(tmpdir);
        if (r < 0)
                return r;

        r = spill_archive(&l, input_fd);
        if (r >= 0) {
                bool docker = find_file(&l, "manifest.json") != NULL;
                bool oci = find_file(&l, "oci-layout") != NULL && find_file(&l, "index.json") != NULL;
                if (streq(format, "docker-archive") || (isempty(format) && docker))
                        r = parse_docker_archive(&l);
                else if (streq(format, "oci-archive") || (isempty(format) && oci))
                        r = parse_oci_archive(&l);
                else
                        r = failf(&l, -EBADMSG,
                                  "Not an image archive: neither manifest.json (docker-archive) nor oci-layout and "
                                  "index.json (OCI image layout) are in it.");
        }
        return loader_finish(&l, r >= 0 ? load_images(&l) : r, ret_error);
}

int image_load_layout_worker(Manager *m, const LayoutFile *files, size_t n_files, const char *tmpdir,
                             char **ret_error) {
        Loader l = { .manager = m, .tmpdir = tmpdir };
        int r = make_work_dirs(tmpdir);
        if (r < 0)
                return r;
        l.files = calloc(n_files + 1, sizeof(ArchiveFile));
        if (!l.files)
                return -ENOMEM;
        for (size_t k = 0; k < n_files; k++, l.n_files++) {
                ArchiveFile *f = &l.files[k];
                f->path = strdup(files[k].path);
                f->size = files[k].size;
                if (!f->path) {
                        loader_done(&l);
                        return -ENOMEM;
                }
                memcpy(f->sha256, files[k].sha256, sizeof(f->sha256));
                if (files[k].present) {
                        f->have_diff = true;
                        memcpy(f->diff_id, files[k].diff_id, sizeof(f->diff_id));
                        f->diff_size = files[k].diff_size;
                }
        }
        r = parse_oci_archive(&l);
        return loader_finish(&l, r >= 0 ? load_images(&l) : r, ret_error);
}
