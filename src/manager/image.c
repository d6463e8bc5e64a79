/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "container.h"
#include "digest.h"
#include "errors.h"
#include "image.h"
#include "image-ref.h"
#include "storage.h"
#include "json-util.h"
#include "names.h"

Image *image_new(Manager *m) {
        Image *i = calloc(1, sizeof(*i));
        if (!i)
                return NULL;
        i->manager = m;
        i->repo_tags = calloc(1, sizeof(char *));
        i->layers = calloc(1, sizeof(char *));
        i->cmd = calloc(1, sizeof(char *));
        i->entrypoint = calloc(1, sizeof(char *));
        i->env = calloc(1, sizeof(char *));
        i->labels = calloc(1, sizeof(char *));
        i->exposed_ports = calloc(1, sizeof(char *));
        i->volumes = calloc(1, sizeof(char *));
        if (!i->repo_tags || !i->layers || !i->cmd || !i->entrypoint || !i->env || !i->labels || !i->exposed_ports ||
            !i->volumes) {
                image_free(i);
                return NULL;
        }
        return i;
}

void image_free(Image *i) {
        if (!i)
                return;
        strv_free(i->repo_tags);
        strv_free(i->layers);
        free(i->layer_sizes);
        strv_free(i->layer_keys);
        strv_free(i->cmd);
        strv_free(i->entrypoint);
        strv_free(i->env);
        free(i->working_dir);
        free(i->user);
        free(i->stop_signal);
        strv_free(i->labels);
        strv_free(i->exposed_ports);
        strv_free(i->volumes);
        free(i->architecture);
        free(i->os);
        free(i->config_json);
        free(i->manifest_digest);
        free(i->registry_manifest);
        free(i->registry_manifest_type);
        free(i->registry_source);
        free(i->build_cache_key);
        free(i);
}

char *image_object_path(const Image *i) {
        char *p;
        return asprintf(&p, "/org/berth1/image/%s", i->id) < 0 ? NULL : p;
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
        /* Tags are kept in the familiar form (docker.io/library/busybox:latest is busybox:latest), and a
         * NAME@DIGEST names the image pulled by that manifest digest. */
        _cleanup_(image_ref_done) ImageRef normalized = {};
        if (image_ref_parse(ref, &normalized) >= 0) {
                _cleanup_free_ char *familiar = normalized.digest ? NULL : image_ref_familiar(&normalized);
                for (Image *i = m->images; i; i = i->next)
                        if (normalized.digest ? streq_ptr(i->manifest_digest, normalized.digest)
                                              : familiar && strv_contains(i->repo_tags, familiar))
                                return i;
        }

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

static json_object *json_string_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

/* images/<id>.json: berth's record of an image. The config blob travels as a string so that it is
 * written back byte for byte; the parsed fields beside it are what berthd uses. */
static json_object *image_to_json(const Image *i) {
        json_object *o = json_object_new_object(), *config = json_object_new_object(), *sizes = json_object_new_array();
        if (!o || !config || !sizes) {
                json_object_put(o);
                json_object_put(config);
                json_object_put(sizes);
                return NULL;
        }
        json_object_object_add(config, "Cmd", json_strv_new(i->cmd));
        json_object_object_add(config, "Entrypoint", json_strv_new(i->entrypoint));
        json_object_object_add(config, "Env", json_strv_new(i->env));
        json_object_object_add(config, "WorkingDir", json_string_or_null(i->working_dir));
        json_object_object_add(config, "User", json_string_or_null(i->user));
        json_object_object_add(config, "StopSignal", json_string_or_null(i->stop_signal));
        json_object_object_add(config, "Labels", json_strv_new(i->labels));
        json_object_object_add(config, "ExposedPorts", json_strv_new(i->exposed_ports));
        json_object_object_add(config, "Volumes", json_strv_new(i->volumes));
        for (size_t k = 0; k < strv_length(i->layers); k++)
                json_object_array_add(sizes, json_object_new_uint64(i->layer_sizes ? i->layer_sizes[k] : 0));
        json_object_object_add(o, "id", json_object_new_string(i->id));
        json_object_object_add(o, "repo_tags", json_strv_new(i->repo_tags));
        json_object_object_add(o, "created", json_object_new_uint64(i->created));
        json_object_object_add(o, "size", json_object_new_uint64(i->size));
        json_object_object_add(o, "layers", json_strv_new(i->layers));
        json_object_object_add(o, "layer_sizes", sizes);
        json_object_object_add(o, "architecture", json_string_or_null(i->architecture));
        json_object_object_add(o, "os", json_string_or_null(i->os));
        json_object_object_add(o, "config", config);
        json_object_object_add(o, "oci_config", json_string_or_null(i->config_json));
        json_object_object_add(o, "manifest_digest", json_string_or_null(i->manifest_digest));
        if (i->build_cache_key)
                json_object_object_add(o, "build_cache_key", json_object_new_string(i->build_cache_key));
        if (i->registry_manifest) {
                json_object_object_add(o, "registry_manifest", json_object_new_string(i->registry_manifest));
                json_object_object_add(o, "registry_manifest_type", json_string_or_null(i->registry_manifest_type));
                json_object_object_add(o, "registry_source", json_string_or_null(i->registry_source));
        }
        return o;
}

int image_save(Image *i) {
        _cleanup_free_ char *path = manager_state_path(i->manager, "images/%s.json", i->id);
        _cleanup_json_ json_object *o = image_to_json(i);
        if (!path || !o)
                return -ENOMEM;
        return json_write_file_atomic(path, o);
}

static int dup_optional(json_object *o, const char *key, char **ret) {
        const char *v = json_get_string(o, key);
        *ret = v ? strdup(v) : NULL;
        return !v || *ret ? 0 : -ENOMEM;
}

static int image_load_one(Manager *m, json_object *o, Image **ret) {
        json_object *config = NULL, *sizes = NULL;
        Image *i;
        int r = 0;

        i = calloc(1, sizeof(*i));
        if (!i)
                return -ENOMEM;
        i->manager = m;
        json_object_object_get_ex(o, "config", &config);
        const char *id = json_get_string(o, "id");
        if (!id || !id_is_valid(id) || (r = json_get_strv(o, "repo_tags", &i->repo_tags)) < 0 ||
            (r = json_get_strv(o, "layers", &i->layers)) < 0 || (r = json_get_strv(config, "Cmd", &i->cmd)) < 0 ||
            (r = json_get_strv(config, "Entrypoint", &i->entrypoint)) < 0 ||
            (r = json_get_strv(config, "Env", &i->env)) < 0 || (r = json_get_strv(config, "Labels", &i->labels)) < 0 ||
            (r = json_get_strv(config, "ExposedPorts", &i->exposed_ports)) < 0 ||
            (r = json_get_strv(config, "Volumes", &i->volumes)) < 0 ||
            (r = dup_optional(config, "WorkingDir", &i->working_dir)) < 0 ||
            (r = dup_optional(config, "User", &i->user)) < 0 ||
            (r = dup_optional(config, "StopSignal", &i->stop_signal)) < 0 ||
            (r = dup_optional(o, "architecture", &i->architecture)) < 0 || (r = dup_optional(o, "os", &i->os)) < 0 ||
            (r = dup_optional(o, "oci_config", &i->config_json)) < 0 ||
            (r = dup_optional(o, "manifest_digest", &i->manifest_digest)) < 0 ||
            (r = dup_optional(o, "registry_manifest", &i->registry_manifest)) < 0 ||
            (r = dup_optional(o, "registry_manifest_type", &i->registry_manifest_type)) < 0 ||
            (r = dup_optional(o, "registry_source", &i->registry_source)) < 0 ||
            (r = dup_optional(o, "build_cache_key", &i->build_cache_key)) < 0) {
                image_free(i);
                return r < 0 ? r : -EBADMSG;
        }
        for (char **l = i->layers; *l; l++)
                if (!digest_is_valid(*l)) {
                        image_free(i);
                        return -EBADMSG;
                }
        size_t n = strv_length(i->layers);
        i->layer_sizes = calloc(n + 1, sizeof(uint64_t));
        if (!i->layer_sizes) {
                image_free(i);
                return -ENOMEM;
        }
        if (json_object_object_get_ex(o, "layer_sizes", &sizes) && json_object_is_type(sizes, json_type_array))
                for (size_t k = 0; k < n && k < json_object_array_length(sizes); k++)
                        i->layer_sizes[k] = json_object_get_uint64(json_object_array_get_idx(sizes, k));
        memcpy(i->id, id, sizeof(i->id));
        i->created = json_get_u64(o, "created", 0);
        i->size = json_get_u64(o, "size", 0);
        *ret = i;
        return 0;
}

static int image_load(Manager *m, const char *name, const char *path, json_object *o, int r, void *userdata) {
        bool *complete = userdata;
        Image *i;
        if (r >= 0)
                r = image_load_one(m, o, &i);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_error("Failed to load image %s, ignoring.", path);
                *complete = false;
                return 0;
        }
        i->next = m->images;
        m->images = i;
        return 0;
}

int manager_load_images(Manager *m) {
        static const RecordDir images = {
                .dir = "images", .suffix = ".json", .name_is_valid = id_is_valid, .load = image_load
        };
        bool complete = true;
        int r = manager_load_records(m, &images, &complete);
        if (r < 0)
                return r;
        /* Only when every image is known can a layer be called unreferenced. */
        if (complete)
                (void) manager_gc_layers(m);
        else
                log_warning("Not all images could be loaded, keeping unreferenced layers.");
        return 0;
}

const char *image_layer_key(Image *i, size_t k) {
        /* Computed once: a btrfs chain id costs a hash for every layer below. */
        if (!i->layer_keys && storage_layer_keys(i->manager, i->layers, &i->layer_keys) < 0)
                return NULL;
        return k < strv_length(i->layer_keys) ? i->layer_keys[k] : NULL;
}

/* Whether an image other than 'except' has the layer stored under key (when in doubt: yes). */
static bool layer_is_used(Manager *m, const Image *except, const char *key) {
        for (Image *i = m->images; i; i = i->next) {
                if (i == except)
                        continue;
                for (size_t k = 0; i->layers && i->layers[k]; k++) {
                        const char *other = image_layer_key(i, k);
                        if (!other || streq(other, key))
                                return true;
                }
        }
        return false;
}

/* Layers are removed after the image records that used them, so a crash in between (or while a layer
 * was being renamed into place by an import) leaves only unreferenced entries, dropped here at
 * startup. Only called before any import can run. */
int manager_gc_layers(Manager *m) {
        _cleanup_free_ char *dir = manager_state_path(m, "%s", m->storage->name);
        DIR *d;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                if (streq(de->d_name, ".") || streq(de->d_name, "..") || streq(de->d_name, "l"))
                        continue;
                if (id_is_valid(de->d_name) && layer_is_used(m, NULL, de->d_name))
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        break;
                int r = storage_remove_work_dir(m, path);
                if (r < 0)
                        log_warning("Failed to remove unreferenced layer %s, ignoring: %s", path, strerror(-r));
                else
                        log_info("Removed unreferenced layer %s.", path);
        }
        closedir(d);
        storage_gc(m);
        /* Layers stored before the driver kept more than the layer (overlay's short links) get it now. */
        for (Image *i = m->images; i; i = i->next)
                for (size_t k = 0; i->layers && i->layers[k]; k++) {
                        const char *key = image_layer_key(i, k);
                        if (key)
                                (void) storage_layer_link(m, key);
                }
        return 0;
}

static int fsync_directory(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

unsigned image_count_users(Image *i, bool *ret_active) {
        unsigned n = 0;
        bool active = false;

        for (Container *c = i->manager->containers; c; c = c->next) {
                if (!c->image_id || !streq(c->image_id, i->id))
                        continue;
                n++;
                if (c->state == CONTAINER_RUNNING || c->starting || c->restart_timer || c->paused)
                        active = true;
        }
        if (ret_active)
                *ret_active = active;
        return n;
}

uint64_t image_unique_size(Image *i) {
        uint64_t size = 0;
        for (size_t k = 0; i->layers && i->layers[k]; k++) {
                const char *key = image_layer_key(i, k);
                bool earlier = false; /* a layer stored once counts once */
                for (size_t j = 0; key && j < k && !earlier; j++)
                        earlier = streq(image_layer_key(i, j), key);
                if (key && !earlier && !layer_is_used(i->manager, i, key))
                        size += i->layer_sizes ? i->layer_sizes[k] : 0;
        }
        return size;
}

int image_remove(Image *i) {
        Manager *m = i->manager;
        _cleanup_free_ char *json = manager_state_path(m, "images/%s.json", i->id),
                            *images_dir = manager_state_path(m, "images"), *path = image_object_path(i);
        int r;

        if (!json || !images_dir || !path)
                return -ENOMEM;
        /* The record goes first (and durably): from then on its layers are unreferenced. */
        if (unlink(json) < 0 && errno != ENOENT)
                return -errno;
        r = fsync_directory(images_dir);
        if (r < 0)
                log_warning("Failed to sync %s, ignoring: %s", images_dir, strerror(-r));

        (void) sd_bus_emit_object_removed(m->bus, path);
        for (Image **p = &m->images; *p; p = &(*p)->next)
                if (*p == i) {
                        *p = i->next;
                        break;
                }

        for (size_t k = 0; i->layers && i->layers[k]; k++) {
                const char *key = image_layer_key(i, k);
                if (!key || layer_is_used(m, NULL, key))
                        continue; /* left for the startup sweep, or shared */
                r = storage_layer_remove(m, key);
                if (r < 0)
                        log_warning("Failed to remove layer %s, ignoring: %s", key, strerror(-r));
        }
        image_free(i);
        return 0;
}

bool image_has_tag(const Image *i, const char *tag) {
        return strv_contains(i->repo_tags, tag);
}

void image_remove_tag(Image *i, const char *tag) {
        strv_remove(i->repo_tags, tag);
}

int manager_add_image(Manager *m, Image *i, Image **ret) {
        _cleanup_free_ char *path = NULL;
        int r;

        for (Image *e = m->images; e; e = e->next) {
                if (!streq(e->id, i->id))
                        continue;
                /* The same image again (a second load of one archive): it only gains the tags. */
                bool changed = false;
                for (char **t = i->repo_tags; *t; t++)
                        if (!image_has_tag(e, *t)) {
                                image_move_tag(m, e, *t);
                                r = strv_push(&e->repo_tags, *t);
                                if (r < 0) {
                                        image_free(i);
                                        return r;
                                }
                                changed = true;
                        }
                if (!e->manifest_digest && i->manifest_digest) {
                        e->manifest_digest = TAKE_PTR(i->manifest_digest);
                        changed = true;
                }
                image_free(i);
                if (changed) {
                        r = image_save(e);
                        if (r < 0)
                                return r;
                        path = image_object_path(e);
                        if (path)
                                (void) sd_bus_emit_properties_changed(m->bus, path, "org.berth1.Image", "RepoTags",
                                                                      "RepoDigests", NULL);
                }
                if (ret)
                        *ret = e;
                return 0;
        }

        r = image_save(i);
        if (r < 0) {
                image_free(i);
                return r;
        }
        for (char **t = i->repo_tags; *t; t++)
                image_move_tag(m, i, *t);
        i->next = m->images;
        m->images = i;
        path = image_object_path(i);
        if (path)
                (void) sd_bus_emit_object_added(m->bus, path);
        if (ret)
                *ret = i;
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
                        (void) sd_bus_emit_properties_changed(m->bus, path, "org.berth1.Image", "RepoTags",
                                                              "RepoDigests", NULL);
        }
}

int image_reference_normalize(const char *reference, char **ret, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL, *tag = NULL;
        _cleanup_(image_ref_done) ImageRef r = {};
        if (image_reference_parse(reference, &name, &tag) < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME,
                                         "Invalid image reference \"%s\": expected NAME[:TAG] with a lowercase name.",
                                         reference);
        /* Kept as docker shows it: docker.io/library/busybox:latest is busybox:latest. A name the
         * grammar takes but no registry could serve (a_b.c/x) stays as it is. */
        if (image_ref_parse(reference, &r) >= 0)
                *ret = image_ref_familiar(&r);
        else if (asprintf(ret, "%s:%s", name, tag) < 0)
                *ret = NULL;
        return *ret ? 0 : -ENOMEM;
}
