/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container mounts: named, anonymous and bind volumes, tmpfs, and --volumes-from. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "helper-protocol.h"
#include "log.h"
#include "container.h"
#include "errors.h"
#include "json-util.h"
#include "volume.h"
#include "volume-plugin.h"

static const char *const mount_type_table[_MOUNT_TYPE_MAX] = {
        [MOUNT_VOLUME] = "volume",
        [MOUNT_BIND] = "bind",
        [MOUNT_TMPFS] = "tmpfs",
};

const char *mount_type_to_string(MountType t) {
        return t >= 0 && t < _MOUNT_TYPE_MAX ? mount_type_table[t] : NULL;
}

MountType mount_type_from_string(const char *s) {
        for (int i = 0; s && i < _MOUNT_TYPE_MAX; i++)
                if (streq(mount_type_table[i], s))
                        return (MountType) i;
        return _MOUNT_TYPE_INVALID;
}

void container_mounts_free(ContainerMount *mounts, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(mounts[i].source);
                free(mounts[i].target);
        }
        free(mounts);
}

/* Absolute, no "." or ".." components, no empty components, not "/" itself. */
static bool container_path_is_valid(const char *p) {
        if (isempty(p) || p[0] != '/' || streq(p, "/") || strlen(p) > 4096)
                return false;
        for (const char *c = p + 1; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += n;
                if (*c == '/')
                        c++;
                if (*c == 0 && c[-1] == '/')
                        return false;
        }
        return true;
}

/* tmpfs options reach mount(2): only known keys with plain values, so nothing else can be injected. */
static bool tmpfs_options_are_valid(const char *opts) {
        static const char *const keys[] = { "size", "mode", "nr_inodes", "uid", "gid" };
        if (isempty(opts))
                return true;
        _cleanup_free_ char *copy = strdup(opts);
        if (!copy)
                return false;
        char *save = NULL;
        for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(o, '=');
                if (!eq || eq[1] == 0)
                        return false;
                *eq = 0;
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        known = known || streq(o, keys[i]);
                if (!known)
                        return false;
                for (char *v = eq + 1; *v; v++)
                        if (!isalnum((unsigned char) *v) && *v != '%')
                                return false;
        }
        return true;
}

static int volumes_from_parse(const char *spec, char **ret_name, bool *ret_ro) {
        const char *colon = strrchr(spec, ':');
        bool ro = false;
        size_t n = strlen(spec);
        if (colon) {
                if (streq(colon + 1, "ro"))
                        ro = true;
                else if (!streq(colon + 1, "rw"))
                        return -EINVAL;
                n = (size_t) (colon - spec);
        }
        if (n == 0)
                return -EINVAL;
        *ret_name = strndup(spec, n);
        if (!*ret_name)
                return -ENOMEM;
        *ret_ro = ro;
        return 0;
}

void container_undo_volumes(Manager *m, char **created) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        for (char **n = created; n && *n; n++) {
                Volume *v = manager_find_volume(m, *n);
                if (v)
                        (void) volume_remove(v, true, NULL, NULL, &e); /* a plugin's answer is not waited for */
        }
}

static bool mounts_have_target(const ContainerMount *mounts, size_t n, const char *target) {
        for (size_t k = 0; k < n; k++)
                if (streq(mounts[k].target, target))
                        return true;
        return false;
}

int container_plan_plugin_volumes(Manager *m, ContainerConfig *config, char **image_volumes, char ***ret_named,
                                  char ***ret_anonymous) {
        _cleanup_strv_free_ char **named = calloc(1, sizeof(char *)), **anonymous = calloc(1, sizeof(char *));
        int r;
        if (!named || !anonymous)
                return -ENOMEM;
        if (!isempty(config->volume_driver) && !streq(config->volume_driver, VOLUME_DRIVER_LOCAL)) {
                for (size_t i = 0; i < config->n_mounts; i++) {
                        ContainerMount *mnt = &config->mounts[i];
                        if (mnt->type != MOUNT_VOLUME)
                                continue;
                        if (isempty(mnt->source)) {
                                free(mnt->source);
                                if ((r = volume_generate_name(&mnt->source)) < 0 ||
                                    (r = strv_push(&anonymous, mnt->source)) < 0)
                                        return r;
                                mnt->anonymous = true;
                        } else if (volume_name_is_valid(mnt->source) && !manager_find_volume(m, mnt->source) &&
                                   !strv_contains(named, mnt->source) && (r = strv_push(&named, mnt->source)) < 0)
                                return r;
                }
                /* The image's VOLUMEs the user does not mount, as mounts of their own now. */
                for (char **p = image_volumes; p && *p; p++) {
                        _cleanup_free_ char *target = path_simplify_dup(*p), *name = NULL;
                        if (!target)
                                return -ENOMEM;
                        if (!container_path_is_valid(target) ||
                            mounts_have_target(config->mounts, config->n_mounts, target))
                                continue;
                        ContainerMount *a = realloc(config->mounts, (config->n_mounts + 1) * sizeof(ContainerMount));
                        if (!a)
                                return -ENOMEM;
                        config->mounts = a;
                        if ((r = volume_generate_name(&name)) < 0 || (r = strv_push(&anonymous, name)) < 0)
                                return r;
                        a[config->n_mounts++] = (ContainerMount){ .type = MOUNT_VOLUME,
                                                                  .source = TAKE_PTR(name),
                                                                  .target = TAKE_PTR(target),
                                                                  .anonymous = true,
                                                                  .from_image = true };
                }
        }
        *ret_named = TAKE_PTR(named);
        *ret_anonymous = TAKE_PTR(anonymous);
        return 0;
}

int container_prepare_mounts(Manager *m, ContainerConfig *config, char **image_volumes, ContainerMount **ret,
                             size_t *ret_n, sd_bus_error *error) {
        _cleanup_strv_free_ char **created = calloc(1, sizeof(char *));
        ContainerMount *out = calloc(config->n_mounts + strv_length(image_volumes) + 1, sizeof(ContainerMount));
        const VolumeSettings settings = { .driver = config->volume_driver };
        size_t n = 0;
        int r = 0;

        if (!out || !created) {
                free(out);
                return -ENOMEM;
        }
        for (char **f = config->volumes_from; f && *f; f++) {
                _cleanup_free_ char *name = NULL;
                bool ro;
                if (volumes_from_parse(*f, &name, &ro) < 0) {
                        r = sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                              "Invalid --volumes-from \"%s\": expected CONTAINER[:ro|:rw].", *f);
                        goto fail;
                }
                /* The containers themselves are looked up at each start, not now (Docker's rule). */
        }
        for (size_t i = 0; i < config->n_mounts; i++) {
                ContainerMount *in = &config->mounts[i];
                if (!container_path_is_valid(in->target)) {
                        r = sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                              "Invalid mount target \"%s\": expected an absolute path other than /.",
                                              in->target);
                        goto fail;
                }
                if (mounts_have_target(out, n, in->target)) {
                        r = sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Duplicate mount target %s.",
                                              in->target);
                        goto fail;
                }
                ContainerMount mnt = { .type = in->type, .read_only = in->read_only };
                struct stat st;
                switch (in->type) {
                case MOUNT_BIND:
                        if (isempty(in->source) || in->source[0] != '/') {
                                r = sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                      "Bind mount source \"%s\" is not an absolute path.",
                                                      in->source ?: "");
                                goto fail;
                        }
                        if (stat(in->source, &st) < 0) {
                                r = sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                      "Bind mount source path %s does not exist.", in->source);
                                goto fail;
                        }
                        break;
                case MOUNT_TMPFS:
                        if (!tmpfs_options_are_valid(in->source)) {
                                r = sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                      "Invalid tmpfs options \"%s\": only size, mode, nr_inodes, uid "
                                                      "and gid are allowed.",
                                                      in->source);
                                goto fail;
                        }
                        break;
                case MOUNT_VOLUME: {
                        Volume *v;
                        bool existed = !isempty(in->source) && manager_find_volume(m, in->source);
                        r = volume_create(m, in->source, isempty(in->source), true, &settings, &v, error);
                        if (r < 0)
                                goto fail;
                        if (!existed && strv_push(&created, v->name) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        mnt.anonymous = in->anonymous || isempty(in->source);
                        mnt.from_image = in->from_image;
                        mnt.source = strdup(v->name);
                        break;
                }
                default:
                        r = sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT, "Unknown mount type.");
                        goto fail;
                }
                if (!mnt.source)
                        mnt.source = strdup(in->source ?: "");
                mnt.target = strdup(in->target);
                if (!mnt.source || !mnt.target) {
                        free(mnt.source);
                        free(mnt.target);
                        r = -ENOMEM;
                        goto fail;
                }
                out[n++] = mnt;
        }
        /* The image's VOLUMEs not mounted by the user get anonymous volumes, as in Docker. */
        for (char **p = image_volumes; p && *p; p++) {
                _cleanup_free_ char *target = path_simplify_dup(*p);
                Volume *v;
                if (!target)
                        goto oom;
                if (!container_path_is_valid(target) || mounts_have_target(out, n, target))
                        continue;
                r = volume_create(m, NULL, true, false, &settings, &v, error);
                if (r < 0)
                        goto fail;
                if (strv_push(&created, v->name) < 0)
                        goto oom;
                out[n] = (ContainerMount){ .type = MOUNT_VOLUME, .anonymous = true, .from_image = true };
                out[n].source = strdup(v->name);
                out[n].target = TAKE_PTR(target);
                n++;
                if (!out[n - 1].source)
                        goto oom;
        }
        *ret = out;
        *ret_n = n;
        return 0;
oom:
        r = -ENOMEM;
fail:
        container_undo_volumes(m, created);
        container_mounts_free(out, n);
        return r < 0 ? r : -EINVAL;
}

/* How deep --volumes-from chains are followed (A takes from B, which takes from C, ...). */
#define VOLUMES_FROM_DEPTH_MAX 16

static int inherited_add(InheritedMounts *l, const ContainerMount *m, bool read_only) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].mount->target, m->target))
                        return 0; /* the nearer container's mount of that target wins */
        InheritedMount *a = reallocarray(l->items, l->n + 1, sizeof(InheritedMount));
        if (!a)
                return -ENOMEM;
        l->items = a;
        l->items[l->n++] = (InheritedMount){ .mount = m, .read_only = read_only || m->read_only };
        return 0;
}

static int inherited_collect(const Container *c, bool read_only, unsigned depth, const Container **seen,
                             InheritedMounts *l, char **ret_missing) {
        if (depth >= VOLUMES_FROM_DEPTH_MAX)
                return 0;
        seen[depth] = c;
        for (char **f = c->volumes_from; f && *f; f++) {
                _cleanup_free_ char *name = NULL;
                bool ro;
                if (volumes_from_parse(*f, &name, &ro) < 0)
                        continue;
                const Container *from = manager_find_container(c->manager, name, NULL);
                bool cycle = false;
                for (unsigned i = 0; from && i <= depth; i++)
                        cycle = cycle || seen[i] == from;
                if (!from || cycle) {
                        /* Only the container's own --volumes-from must exist; further down the
                         * chain what is gone is skipped. */
                        if (!from && depth == 0 && ret_missing && !*ret_missing)
                                *ret_missing = TAKE_PTR(name);
                        continue;
                }
                for (size_t i = 0; i < from->n_mounts; i++) {
                        if (from->mounts[i].type == MOUNT_TMPFS)
                                continue;
                        int r = inherited_add(l, &from->mounts[i], read_only || ro);
                        if (r < 0)
                                return r;
                }
                int r = inherited_collect(from, read_only || ro, depth + 1, seen, l, ret_missing);
                if (r < 0)
                        return r;
        }
        return 0;
}

int container_inherited_mounts(const Container *c, InheritedMounts *ret, char **ret_missing) {
        const Container *seen[VOLUMES_FROM_DEPTH_MAX] = {};
        InheritedMounts l = {};
        if (ret_missing)
                *ret_missing = NULL;
        int r = inherited_collect(c, false, 0, seen, &l, ret_missing);
        if (r < 0) {
                free(l.items);
                if (ret_missing)
                        *ret_missing = mfree(*ret_missing);
                return r;
        }
        *ret = l;
        return 0;
}

static bool mounts_use_volume(const Container *c, const char *name) {
        for (size_t i = 0; i < c->n_mounts; i++)
                if (c->mounts[i].type == MOUNT_VOLUME && streq(c->mounts[i].source, name))
                        return true;
        return false;
}

/* Its own mounts, and those it takes with --volumes-from (transitively, as they are resolved). */
bool container_uses_volume(const Container *c, const char *name) {
        if (mounts_use_volume(c, name))
                return true;
        /* What the current run mounted, whatever happened to the --volumes-from containers since. */
        if (c->state == CONTAINER_RUNNING)
                for (char **v = c->run_volumes; v && *v; v++)
                        if (streq(*v, name))
                                return true;
        _cleanup_(inherited_mounts_done) InheritedMounts l = {};
        if (container_inherited_mounts(c, &l, NULL) < 0)
                return true; /* out of memory: rather keep a volume than remove one in use */
        for (size_t i = 0; i < l.n; i++)
                if (l.items[i].mount->type == MOUNT_VOLUME && streq(l.items[i].mount->source, name))
                        return true;
        return false;
}

json_object *container_mounts_to_json(const Container *c) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < c->n_mounts; i++) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "type", json_object_new_string(mount_type_to_string(c->mounts[i].type)));
                json_object_object_add(o, "source", json_object_new_string(c->mounts[i].source));
                json_object_object_add(o, "target", json_object_new_string(c->mounts[i].target));
                json_object_object_add(o, "read_only", json_object_new_boolean(c->mounts[i].read_only));
                json_object_object_add(o, "anonymous", json_object_new_boolean(c->mounts[i].anonymous));
                if (c->mounts[i].from_image)
                        json_object_object_add(o, "from_image", json_object_new_boolean(true));
                json_object_array_add(a, o);
        }
        return a;
}

int container_mounts_from_json(json_object *o, ContainerMount **ret, size_t *ret_n) {
        json_object *a = NULL;
        size_t n = 0;

        if (!json_object_object_get_ex(o, "mounts", &a) || !json_object_is_type(a, json_type_array)) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        size_t len = json_object_array_length(a);
        ContainerMount *mounts = calloc(len + 1, sizeof(ContainerMount));
        if (!mounts)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                const char *type = json_get_string(e, "type"), *source = json_get_string(e, "source"),
                           *target = json_get_string(e, "target");
                MountType t = mount_type_from_string(type);
                if (t < 0 || !source || !target) {
                        container_mounts_free(mounts, n);
                        return -EBADMSG;
                }
                mounts[n] = (ContainerMount){
                        .type = t,
                        .source = strdup(source),
                        .target = strdup(target),
                        .read_only = json_get_bool(e, "read_only", 0),
                        .anonymous = json_get_bool(e, "anonymous", 0),
                        .from_image = json_get_bool(e, "from_image", 0),
                };
                n++;
                if (!mounts[n - 1].source || !mounts[n - 1].target) {
                        container_mounts_free(mounts, n);
                        return -ENOMEM;
                }
        }
        *ret = mounts;
        *ret_n = n;
        return 0;
}

static bool mount_options_have(const char *options, const char *word) {
        for (const char *p = options; *p;) {
                size_t n = strcspn(p, ",");
                if (n == strlen(word) && strncmp(p, word, n) == 0)
                        return true;
                p += n + (p[n] == ',');
        }
        return false;
}

/* The host path a plugin's Mount gave volume 'name' for this start ("NAME=PATH" in 'paths'). */
static const char *plugin_path(char **paths, const char *name) {
        for (char **p = paths; p && *p; p++) {
                const char *rest = startswith(*p, name);
                if (rest && rest[0] == '=')
                        return rest + 1;
        }
        return NULL;
}

static int add_resolved(Container *c, json_object *a, char ***volumes, const ContainerMount *mnt, bool force_ro,
                        char **plugin_paths, sd_bus_error *error) {
        Manager *m = c->manager;
        _cleanup_free_ char *source = NULL;

        /* A mount of the container itself wins over one of the same target from --volumes-from. */
        for (size_t i = 0; i < json_object_array_length(a); i++)
                if (streq(json_get_string(json_object_array_get_idx(a, i), "target"), mnt->target))
                        return 0;
        const char *fstype = NULL, *fsoptions = NULL;
        bool local_options = false, bind_device = false;
        if (mnt->type == MOUNT_VOLUME) {
                Volume *v = manager_find_volume(m, mnt->source);
                if (!v)
                        return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_VOLUME, "Volume %s no longer exists.",
                                                 mnt->source);
                local_options = !volume_is_plugin(v) && strv_length(v->options) > 0;
                if (local_options) {
                        const char *device = NULL;
                        for (char **o = v->options; *o; o++) {
                                fstype = startswith(*o, "type=") ?: fstype;
                                device = startswith(*o, "device=") ?: device;
                                fsoptions = startswith(*o, "o=") ?: fsoptions;
                        }
                        /* Docker's idiom for a named bind mount: type=none, o=bind, device=/path. */
                        bind_device = streq_ptr(fstype, "none");
                        source = strdup(device ?: "");
                        if (!source)
                                return -ENOMEM;
                        if (strv_push(volumes, v->name) < 0)
                                return -ENOMEM;
                        goto add;
                }
                const char *path = volume_is_plugin(v) ? plugin_path(plugin_paths, v->name) : NULL;
                if (volume_is_plugin(v) && !path)
                        return sd_bus_error_setf(error, BERTH_ERROR_BUSY,
                                                 "Volume %s was not mounted by its plugin for this start.", v->name);
                source = path ? strdup(path) : volume_mountpoint(v);
                if (!source || strv_push(volumes, v->name) < 0)
                        return -ENOMEM;
        } else
                source = strdup(mnt->source);
        if (!source)
                return -ENOMEM;
add:;
        json_object *o = json_object_new_object();
        if (local_options && !bind_device) {
                /* A local volume with type/device/o: that file system, mounted in the container. */
                json_object_object_add(o, SPEC_MOUNT_KEY_TYPE, json_object_new_string(SPEC_MOUNT_TYPE_FS));
                json_object_object_add(o, SPEC_MOUNT_KEY_FSTYPE, json_object_new_string(fstype));
                json_object_object_add(o, SPEC_MOUNT_KEY_OPTIONS, json_object_new_string(fsoptions ?: ""));
        } else
                json_object_object_add(o, SPEC_MOUNT_KEY_TYPE,
                                       json_object_new_string(mnt->type == MOUNT_TMPFS ? SPEC_MOUNT_TYPE_TMPFS
                                                                                       : SPEC_MOUNT_TYPE_BIND));
        json_object_object_add(o, SPEC_MOUNT_KEY_SOURCE, json_object_new_string(source));
        json_object_object_add(o, SPEC_MOUNT_KEY_TARGET, json_object_new_string(mnt->target));
        /* A named bind (type=none) made read-only by its o= options stays so, as Docker remounts it. */
        bool options_ro = bind_device && fsoptions && mount_options_have(fsoptions, "ro");
        json_object_object_add(o, SPEC_MOUNT_KEY_READ_ONLY,
                               json_object_new_boolean(mnt->read_only || force_ro || options_ro));
        /* Docker fills an empty volume with what the image has at its path, at every start. */
        if (mnt->type == MOUNT_VOLUME && !local_options)
                json_object_object_add(o, SPEC_MOUNT_KEY_COPY_UP, json_object_new_boolean(true));
        json_object_array_add(a, o);
        return 0;
}

static int resolve_mounts(Container *c, json_object *a, char ***volumes, char **plugin_paths, sd_bus_error *error) {
        int r;

        /* All of them or none: a missing container fails the start before anything is set up (or
         * mounted by a volume plugin). */
        for (char **f = c->volumes_from; f && *f; f++) {
                _cleanup_free_ char *name = NULL;
                bool ro;
                r = volumes_from_parse(*f, &name, &ro);
                if (r < 0)
                        return r;
                if (!manager_find_container(c->manager, name, NULL))
                        return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_CONTAINER,
                                                 "Cannot start container %s: --volumes-from %s: no such container.",
                                                 c->name, name);
        }

        for (size_t i = 0; i < c->n_mounts; i++) {
                if (c->mounts[i].from_image)
                        continue;
                r = add_resolved(c, a, volumes, &c->mounts[i], false, plugin_paths, error);
                if (r < 0)
                        return r;
        }
        _cleanup_(inherited_mounts_done) InheritedMounts inherited = {};
        r = container_inherited_mounts(c, &inherited, NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < inherited.n; i++) {
                r = add_resolved(c, a, volumes, inherited.items[i].mount, inherited.items[i].read_only, plugin_paths,
                                 error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_mounts; i++) {
                if (!c->mounts[i].from_image)
                        continue;
                r = add_resolved(c, a, volumes, &c->mounts[i], false, plugin_paths, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static size_t path_depth(const char *p) {
        size_t n = 0;
        for (; p && *p; p++)
                n += *p == '/';
        return n;
}

typedef struct MountOrder {
        json_object *mount;
        size_t depth, index;
} MountOrder;

static int compare_mount_order(const void *a, const void *b) {
        const MountOrder *x = a, *y = b;
        if (x->depth != y->depth)
                return x->depth < y->depth ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Parents before what is mounted inside them (/data before /data/conf), else as given, as Docker
 * sorts mounts: a mount inside another must not end up hidden under it. */
static int sort_mounts_by_depth(json_object **a) {
        size_t n = json_object_array_length(*a);
        _cleanup_free_ MountOrder *order = calloc(n + 1, sizeof(MountOrder));
        json_object *sorted = json_object_new_array();
        if (!order || !sorted) {
                json_object_put(sorted);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                json_object *m = json_object_array_get_idx(*a, i);
                order[i] = (MountOrder){ .mount = m, .depth = path_depth(json_get_string(m, "target")), .index = i };
        }
        qsort(order, n, sizeof(MountOrder), compare_mount_order);
        for (size_t i = 0; i < n; i++)
                json_object_array_add(sorted, json_object_get(order[i].mount));
        json_object_put(*a);
        *a = sorted;
        return 0;
}

/* Whether the mount is a volume of a plugin, which needs a Mount call first. */
static bool mount_is_plugin_volume(Manager *m, const ContainerMount *mnt) {
        Volume *v = mnt->type == MOUNT_VOLUME ? manager_find_volume(m, mnt->source) : NULL;
        return v && volume_is_plugin(v);
}

int container_plugin_volumes(Container *c, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_(inherited_mounts_done) InheritedMounts inherited = {};
        if (!l)
                return -ENOMEM;
        int r = container_inherited_mounts(c, &inherited, NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_mounts + inherited.n; i++) {
                const ContainerMount *mnt = i < c->n_mounts ? &c->mounts[i] : inherited.items[i - c->n_mounts].mount;
                if (mount_is_plugin_volume(c->manager, mnt) && !strv_contains(l, mnt->source) &&
                    strv_push(&l, mnt->source) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int container_resolve_mounts(Container *c, char **plugin_paths, json_object **ret, char ***ret_volumes,
                             sd_bus_error *error) {
        _cleanup_json_ json_object *a = json_object_new_array();
        _cleanup_strv_free_ char **volumes = calloc(1, sizeof(char *));
        if (!a || !volumes)
                return -ENOMEM;
        int r = resolve_mounts(c, a, &volumes, plugin_paths, error);
        if (r >= 0)
                r = sort_mounts_by_depth(&a);
        if (r < 0)
                return r; /* the caller unmounts what the plugins mounted */
        *ret = TAKE_PTR(a);
        *ret_volumes = TAKE_PTR(volumes);
        return 0;
}

void container_remove_anonymous_volumes(Container *c) {
        for (size_t i = 0; i < c->n_mounts; i++) {
                if (c->mounts[i].type != MOUNT_VOLUME || !c->mounts[i].anonymous)
                        continue;
                Volume *v = manager_find_volume(c->manager, c->mounts[i].source);
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                /* Another container may use it too (-v NAME with an anonymous volume's name): keep it then. */
                if (v && volume_remove(v, false, NULL, NULL, &e) < 0)
                        log_warning("Keeping volume %s: %s", v->name, e.message ?: "in use");
        }
}
