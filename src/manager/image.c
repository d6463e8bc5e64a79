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
int image_compute_id(Image *i) {
        _cleanup_json_ json_object *o = image_to_json(i);
        size_t len;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        if (!s)
                return -ENOMEM;
        return sha256_hex_of(s, len, i->id);
}

int image_save(Image *i) {
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

/* A tag names one image: tagging another image takes it away from the old one. */
void image_move_tag(Manager *m, Image *target, const char *tag) {
        for (Image *i = m->images; i; i = i->next) {
                if (i == target || !strv_contains(i->repo_tags, tag))
                        continue;
                strv_remove(i->repo_tags, tag);
                (void) image_save(i);
                _cleanup_free_ char *path = image_object_path(i);
                if (path)
                        (void) sd_bus_emit_properties_changed(m->bus, path, "org.berth1.Image", "RepoTags", NULL);
        }
}
