/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "container.h"
#include "errors.h"
#include "json-util.h"
#include "names.h"
#include "volume.h"

/* Docker's rule for volume names is the container name rule. */
bool volume_name_is_valid(const char *name) {
        return container_name_is_valid(name);
}

char *volume_object_path(const Volume *v) {
        char *p = NULL;
        return sd_bus_path_encode("/org/berth1/volume", v->name, &p) < 0 ? NULL : p;
}

char *volume_mountpoint(const Volume *v) {
        return manager_state_path(v->manager, "volumes/%s/_data", v->name);
}

void volume_free(Volume *v) {
        if (!v)
                return;
        free(v->name);
        free(v);
}

Volume *manager_find_volume(Manager *m, const char *name) {
        for (Volume *v = m->volumes; v; v = v->next)
                if (streq(v->name, name))
                        return v;
        return NULL;
}

static int volume_save(Volume *v) {
        _cleanup_free_ char *path = manager_state_path(v->manager, "volumes/%s/volume.json", v->name);
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!path || !o)
                return -ENOMEM;
        json_object_object_add(o, "name", json_object_new_string(v->name));
        json_object_object_add(o, "driver", json_object_new_string("local"));
        json_object_object_add(o, "anonymous", json_object_new_boolean(v->anonymous));
        json_object_object_add(o, "created_at", json_object_new_uint64(v->created_at));
        return json_write_file_atomic(path, o);
}

int manager_load_volumes(Manager *m) {
        _cleanup_free_ char *dir = manager_state_path(m, "volumes");
        DIR *d;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!volume_name_is_valid(de->d_name))
                        continue;
                _cleanup_free_ char *path = NULL;
                _cleanup_json_ json_object *o = NULL;
                if (asprintf(&path, "%s/%s/volume.json", dir, de->d_name) < 0)
                        break;
                int r = json_read_file(path, &o);
                if (r == -ENOENT) {
                        /* volume.json is written last and removed first: a create or remove that
                         * crashed halfway. Finish removing it. */
                        (void) rm_rf_at(dirfd(d), de->d_name);
                        continue;
                }
                if (r < 0)
                        /* Unreadable, but the data may matter: keep it, with default metadata. */
                        fprintf(stderr, "Failed to read %s, keeping the volume with defaults: %s\n", path,
                                strerror(-r));
                Volume *v = calloc(1, sizeof(*v));
                if (!v || !(v->name = strdup(de->d_name))) {
                        free(v);
                        break;
                }
                v->manager = m;
                v->anonymous = json_get_bool(o, "anonymous", 0);
                v->created_at = json_get_u64(o, "created_at", 0);
                v->next = m->volumes;
                m->volumes = v;
        }
        closedir(d);
        return 0;
}

int volume_create(Manager *m, const char *name, bool anonymous, bool may_exist, Volume **ret, sd_bus_error *error) {
        _cleanup_free_ char *generated = NULL;
        int r;

        if (isempty(name)) {
                char id[BERTH_ID_LEN + 1];
                r = random_hex_id(id);
                if (r < 0)
                        return r;
                generated = strdup(id);
                if (!generated)
                        return -ENOMEM;
                name = generated;
        }
        if (!volume_name_is_valid(name))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME,
                                         "Invalid volume name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, "
                                         "2 to %d characters.",
                                         name, CONTAINER_NAME_MAX);
        Volume *existing = manager_find_volume(m, name);
        if (existing) {
                if (!may_exist)
                        return sd_bus_error_setf(error, BERTH_ERROR_NAME_IN_USE, "Volume \"%s\" already exists.", name);
                *ret = existing;
                return 0;
        }

        Volume *v = calloc(1, sizeof(*v));
        if (!v || !(v->name = strdup(name))) {
                free(v);
                return -ENOMEM;
        }
        v->manager = m;
        v->anonymous = anonymous;
        v->created_at = now_realtime_usec();
        _cleanup_free_ char *data = volume_mountpoint(v), *dir = manager_state_path(m, "volumes/%s", name);
        if (!data || !dir) {
                volume_free(v);
                return -ENOMEM;
        }
        /* volume.json last: a directory without it is a half-made volume, removed at startup. */
        r = mkdir_p(data, 0755);
        if (r >= 0)
                r = volume_save(v);
        if (r < 0) {
                (void) rm_rf(dir);
                volume_free(v);
                return sd_bus_error_set_errnof(error, -r, "Failed to create volume %s: %m", name);
        }
        v->next = m->volumes;
        m->volumes = v;
        _cleanup_free_ char *path = volume_object_path(v);
        if (path)
                (void) sd_bus_emit_object_added(m->bus, path);
        *ret = v;
        return 0;
}

int volume_used_by(const Volume *v, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (Container *c = v->manager->containers; c; c = c->next)
                if (container_uses_volume(c, v->name) && strv_push(&l, c->id) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

int volume_remove(Volume *v, bool force, sd_bus_error *error) {
        Manager *m = v->manager;
        _cleanup_strv_free_ char **users = NULL;
        int r;

        r = volume_used_by(v, &users);
        if (r < 0)
                return r;
        if (strv_length(users) > 0 && !force)
                return sd_bus_error_setf(error, BERTH_ERROR_VOLUME_IN_USE, "Volume %s is in use by container %.12s.",
                                         v->name, users[0]);
        for (Container *c = m->containers; c; c = c->next)
                if (c->state == CONTAINER_RUNNING && container_uses_volume(c, v->name))
                        return sd_bus_error_setf(error, BERTH_ERROR_VOLUME_IN_USE,
                                                 "Volume %s is mounted in running container %s.", v->name, c->name);

        _cleanup_free_ char *dir = manager_state_path(m, "volumes/%s", v->name),
                            *json = manager_state_path(m, "volumes/%s/volume.json", v->name),
                            *path = volume_object_path(v);
        if (!dir || !json || !path)
                return -ENOMEM;
        if (unlink(json) < 0 && errno != ENOENT)
                return sd_bus_error_set_errnof(error, errno, "Failed to remove volume %s: %m", v->name);
        (void) rm_rf(dir);
        for (Volume **p = &m->volumes; *p; p = &(*p)->next)
                if (*p == v) {
                        *p = v->next;
                        break;
                }
        (void) sd_bus_emit_object_removed(m->bus, path);
        volume_free(v);
        return 0;
}
