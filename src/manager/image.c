/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "digest.h"
#include "errors.h"
#include "image.h"
#include "json-util.h"
#include "names.h"
#include "tar-extract.h"

static const char *const default_env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        NULL,
};

void image_free(Image *i) {
        if (!i)
                return;
        strv_free(i->repo_tags);
        strv_free(i->layers);
        strv_free(i->cmd);
        strv_free(i->env);
        free(i);
}

char *image_object_path(const Image *i) {
        char *p;
        return asprintf(&p, "/org/berth1/image/%s", i->id) < 0 ? NULL : p;
}

static bool strv_contains(char **l, const char *s) {
        for (char **i = l; i && *i; i++)
                if (streq(*i, s))
                        return true;
        return false;
}

static void strv_remove(char **l, const char *s) {
        char **w = l;
        for (char **i = l; i && *i; i++) {
                if (streq(*i, s))
                        free(*i);
                else
                        *w++ = *i;
        }
        if (w)
                *w = NULL;
}

Image *manager_find_image(Manager *m, const char *ref, bool *ret_ambiguous) {
        _cleanup_free_ char *name = NULL, *tag = NULL, *full = NULL;
        Image *found = NULL;

        if (ret_ambiguous)
                *ret_ambiguous = false;
        if (isempty(ref))
                return NULL;
        if (image_reference_parse(ref, &name, &tag) >= 0 && asprintf(&full, "%s:%s", name, tag) >= 0)
                for (Image *i = m->images; i; i = i->next)
                        if (strv_contains(i->repo_tags, full))
                                return i;

        const char *hex = !strncmp(ref, "sha256:", 7) ? ref + 7 : ref;
        if (!hex_prefix_is_valid(hex))
                return NULL;
        for (Image *i = m->images; i; i = i->next)
                if (!strncmp(i->id, hex, strlen(hex))) {
                        if (found) {
                                if (ret_ambiguous)
                                        *ret_ambiguous = true;
                                return NULL;
                        }
                        found = i;
                }
        return found;
}

static json_object *image_to_json(const Image *i) {
        json_object *o = json_object_new_object(), *config = json_object_new_object();
        json_object_object_add(config, "Cmd", json_strv_new(i->cmd));
        json_object_object_add(config, "Env", json_strv_new(i->env));
        json_object_object_add(o, "created", json_object_new_uint64(i->created));
        json_object_object_add(o, "size", json_object_new_uint64(i->size));
        json_object_object_add(o, "layers", json_strv_new(i->layers));
        json_object_object_add(o, "config", config);
        return o;
}

/* The id covers what makes the image (layers, config, creation time), not its tags. */
static int image_compute_id(Image *i) {
        _cleanup_json_ json_object *o = image_to_json(i);
        size_t len;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        if (!s)
                return -ENOMEM;
        return sha256_hex_of(s, len, i->id);
}

static int image_save(Image *i) {
        _cleanup_free_ char *path = manager_state_path(i->manager, "images/%s.json", i->id);
        _cleanup_json_ json_object *o = image_to_json(i);
        if (!path || !o)
                return -ENOMEM;
        json_object_object_add(o, "id", json_object_new_string(i->id));
        json_object_object_add(o, "repo_tags", json_strv_new(i->repo_tags));
        return json_write_file_atomic(path, o);
}

static int image_load_one(Manager *m, const char *path, Image **ret) {
        _cleanup_json_ json_object *o = NULL;
        Image *i;
        int r;

        r = json_read_file(path, &o);
        if (r < 0)
                return r;
        i = calloc(1, sizeof(*i));
        if (!i)
                return -ENOMEM;
        i->manager = m;
        json_object *config = NULL;
        json_object_object_get_ex(o, "config", &config);
        const char *id = json_get_string(o, "id");
        if (!id || !id_is_valid(id) || (r = json_get_strv(o, "repo_tags", &i->repo_tags)) < 0 ||
            (r = json_get_strv(o, "layers", &i->layers)) < 0 || (r = json_get_strv(config, "Cmd", &i->cmd)) < 0 ||
            (r = json_get_strv(config, "Env", &i->env)) < 0) {
                image_free(i);
                return r < 0 ? r : -EBADMSG;
        }
        memcpy(i->id, id, sizeof(i->id));
        i->created = json_get_u64(o, "created", 0);
        i->size = json_get_u64(o, "size", 0);
        *ret = i;
        return 0;
}

int manager_load_images(Manager *m) {
        _cleanup_free_ char *dir = manager_state_path(m, "images");
        DIR *d;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n != BERTH_ID_LEN + 5 || strcmp(de->d_name + BERTH_ID_LEN, ".json"))
                        continue; /* also skips *.tmp.* left by a crash mid-write */
                _cleanup_free_ char *path = NULL;
                Image *i;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        break;
                if (image_load_one(m, path, &i) < 0) {
                        fprintf(stderr, "Failed to load image %s, ignoring.\n", path);
                        continue;
                }
                i->next = m->images;
                m->images = i;
        }
        closedir(d);
        return 0;
}

int image_lower_dirs(Image *i, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t n = strv_length(i->layers);
        if (!l)
                return -ENOMEM;
        for (size_t k = n; k > 0; k--) {
                const char *layer = i->layers[k - 1];
                _cleanup_free_ char *p = manager_state_path(i->manager, "overlay/%s/diff", layer + 7);
                if (!p || strv_push(&l, p) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Extract into a fresh temp dir and rename it to its digest, so the store only ever holds
 * complete layers; a crash leaves a .import-* dir that the next start removes. */
static int layer_import(Manager *m, int tar_fd, char ret_digest[65], uint64_t *ret_size, sd_bus_error *error) {
        _cleanup_free_ char *tmpl = manager_state_path(m, "overlay/.import-XXXXXX"), *diff = NULL, *final = NULL,
                            *message = NULL;
        TarExtractResult result = {};
        _cleanup_close_ int dirfd = -1;
        int r;

        if (!tmpl)
                return -ENOMEM;
        if (!mkdtemp(tmpl))
                return sd_bus_error_set_errnof(error, errno, "Failed to create a temporary layer directory: %m");
        if (asprintf(&diff, "%s/diff", tmpl) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        if (mkdir(diff, 0755) < 0) {
                r = sd_bus_error_set_errnof(error, errno, "Failed to create layer directory: %m");
                goto fail;
        }
        dirfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0) {
                r = sd_bus_error_set_errnof(error, errno, "Failed to open layer directory: %m");
                goto fail;
        }
        r = tar_extract(tar_fd, dirfd, &result, &message);
        if (r < 0) {
                if (r == -ENOSPC || r == -EDQUOT || r == -EIO)
                        sd_bus_error_set_errnof(error, -r, "Failed to import layer: %s", message ?: strerror(-r));
                else
                        sd_bus_error_setf(error, BERTH_ERROR_INVALID_IMAGE, "Invalid image archive: %s",
                                          message ?: strerror(-r));
                goto fail;
        }
        if (result.n_entries == 0) {
                r = sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "Invalid image archive: it contains no files.");
                goto fail;
        }
        final = manager_state_path(m, "overlay/%s", result.digest);
        if (!final) {
                r = -ENOMEM;
                goto fail;
        }
        if (access(final, F_OK) == 0)
                (void) rm_rf(tmpl); /* the same layer is already stored: share it */
        else if (rename(tmpl, final) < 0) {
                r = sd_bus_error_set_errnof(error, errno, "Failed to store layer: %m");
                goto fail;
        }
        memcpy(ret_digest, result.digest, 65);
        *ret_size = result.size;
        return 0;
fail:
        (void) rm_rf(tmpl);
        return r < 0 ? r : -EIO;
}

static int move_tag(Manager *m, Image *target, const char *tag) {
        for (Image *i = m->images; i; i = i->next) {
                if (i == target || !strv_contains(i->repo_tags, tag))
                        continue;
                strv_remove(i->repo_tags, tag);
                (void) image_save(i);
                _cleanup_free_ char *path = image_object_path(i);
                if (path)
                        (void) sd_bus_emit_properties_changed(m->bus, path, "org.berth1.Image", "RepoTags", NULL);
        }
        return 0;
}

int image_import(Manager *m, int tar_fd, const char *reference, Image **ret, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL, *tag = NULL, *full = NULL, *layer = NULL;
        char digest[65];
        uint64_t size = 0;
        int r;

        if (image_reference_parse(reference, &name, &tag) < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME,
                                         "Invalid image reference \"%s\": expected NAME[:TAG] with a lowercase name.",
                                         reference);
        if (asprintf(&full, "%s:%s", name, tag) < 0)
                return -ENOMEM;

        r = layer_import(m, tar_fd, digest, &size, error);
        if (r < 0)
                return r;
        if (asprintf(&layer, "sha256:%s", digest) < 0)
                return -ENOMEM;

        Image *i = calloc(1, sizeof(*i));
        if (!i)
                return -ENOMEM;
        i->manager = m;
        i->created = now_realtime_usec();
        i->size = size;
        i->repo_tags = calloc(1, sizeof(char *));
        i->layers = calloc(1, sizeof(char *));
        i->cmd = calloc(1, sizeof(char *));
        i->env = strv_copy((char **) default_env);
        if (!i->repo_tags || !i->layers || !i->cmd || !i->env || strv_push(&i->repo_tags, full) < 0 ||
            strv_push(&i->layers, layer) < 0 || image_compute_id(i) < 0) {
                image_free(i);
                return -ENOMEM;
        }
        r = image_save(i);
        if (r < 0) {
                image_free(i);
                return sd_bus_error_set_errnof(error, -r, "Failed to save image: %m");
        }
        move_tag(m, i, full);
        i->next = m->images;
        m->images = i;

        _cleanup_free_ char *path = image_object_path(i);
        if (path)
                (void) sd_bus_emit_object_added(m->bus, path);
        *ret = i;
        return 0;
}
