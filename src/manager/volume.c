/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "removal.h"
#include "container.h"
#include "errors.h"
#include "json-util.h"
#include "names.h"
#include "volume.h"
#include "volume-plugin.h"

/* Docker's rule for volume names is the container name rule. */
bool volume_name_is_valid(const char *name) {
        return container_name_is_valid(name);
}

char *volume_object_path(const Volume *v) {
        char *p = NULL;
        return sd_bus_path_encode("/org/berth1/volume", v->name, &p) < 0 ? NULL : p;
}

bool volume_is_plugin(const Volume *v) {
        return v->driver && !streq(v->driver, VOLUME_DRIVER_LOCAL);
}

char *volume_mountpoint(const Volume *v) {
        if (volume_is_plugin(v))
                return strdup(v->plugin_mountpoint ?: "");
        return manager_state_path(v->manager, "volumes/%s/_data", v->name);
}

void volume_free(Volume *v) {
        if (!v)
                return;
        free(v->name);
        free(v->driver);
        strv_free(v->labels);
        strv_free(v->options);
        free(v->plugin_mountpoint);
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
        json_object_object_add(o, "driver", json_object_new_string(v->driver));
        json_object_object_add(o, "anonymous", json_object_new_boolean(v->anonymous));
        json_object_object_add(o, "created_at", json_object_new_uint64(v->created_at));
        json_object_object_add(o, "labels", json_strv_new(v->labels));
        json_object_object_add(o, "options", json_strv_new(v->options));
        if (v->plugin_mountpoint)
                json_object_object_add(o, "mountpoint", json_object_new_string(v->plugin_mountpoint));
        return json_write_file_atomic(path, o);
}

static int volume_load(Manager *m, const char *name, const char *path, json_object *o, int r, void *userdata) {
        if (r < 0)
                /* Unreadable, but the data may matter: keep it, with default metadata. */
                log_warning("Failed to read %s, keeping the volume with defaults: %s", path, strerror(-r));
        Volume *v = calloc(1, sizeof(*v));
        if (!v || !(v->name = strdup(name))) {
                free(v);
                return -ENOMEM;
        }
        v->manager = m;
        v->anonymous = json_get_bool(o, "anonymous", 0);
        v->created_at = json_get_u64(o, "created_at", 0);
        const char *driver = json_get_string(o, "driver"), *mountpoint = json_get_string(o, "mountpoint");
        v->driver = strdup(driver && volume_driver_name_is_valid(driver) ? driver : VOLUME_DRIVER_LOCAL);
        v->plugin_mountpoint = mountpoint ? strdup(mountpoint) : NULL;
        int q = -ENOMEM;
        if (!v->driver || (q = json_get_strv(o, "labels", &v->labels)) < 0 ||
            (q = json_get_strv(o, "options", &v->options)) < 0) {
                volume_free(v);
                if (q != -EBADMSG)
                        return -ENOMEM;
                log_error("Failed to load volume %s: %s is malformed, ignoring.", name, path);
                return 0;
        }
        v->next = m->volumes;
        m->volumes = v;
        return 0;
}

int manager_load_volumes(Manager *m) {
        /* volume.json is written last and removed first: a directory without it is removed. */
        static const RecordDir volumes = { .dir = "volumes",
                                           .record = "volume.json",
                                           .name_is_valid = volume_name_is_valid,
                                           .remove = rm_rf,
                                           .load = volume_load };
        return manager_load_records(m, &volumes, NULL);
}

/* The local driver's options are Docker's: type, device and o (mount(8)'s -t, device and -o). */
static int local_options_check(char **options, sd_bus_error *error) {
        const char *type = NULL, *device = NULL;
        for (char **o = options; o && *o; o++) {
                const char *v;
                if ((v = startswith(*o, "type=")))
                        type = v;
                else if ((v = startswith(*o, "device=")))
                        device = v;
                else if (!startswith(*o, "o="))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Invalid option \"%s\" for the local volume driver: only type, "
                                                 "device and o are known.",
                                                 *o);
        }
        if (strv_length(options) > 0 && (isempty(type) || isempty(device)))
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "The local volume driver needs both type= and device= when options are given.");
        if (type && streq(type, "none") && device[0] != '/')
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "A bind volume (type=none) needs an absolute device path, not \"%s\".",
                                         device);
        for (const char *p = type; p && *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_'))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Invalid file system type \"%s\".", type);
        return 0;
}

static int plugin_create(Manager *m, Volume *v, sd_bus_error *error) {
        _cleanup_json_ json_object *request = json_object_new_object(), *opts = json_object_new_object();
        if (!request || !opts)
                return -ENOMEM;
        for (char **o = v->options; o && *o; o++) {
                const char *eq = strchr(*o, '=');
                _cleanup_free_ char *key = strndup(*o, eq ? (size_t) (eq - *o) : strlen(*o));
                if (!key)
                        return -ENOMEM;
                json_object_object_add(opts, key, json_object_new_string(eq ? eq + 1 : ""));
        }
        json_object_object_add(request, "Name", json_object_new_string(v->name));
        json_object_object_add(request, "Opts", json_object_get(opts));
        return volume_plugin_call(m, v->driver, "Create", request, NULL, error);
}

static int plugin_remove(Volume *v, sd_bus_error *error) {
        _cleanup_json_ json_object *request = json_object_new_object();
        if (!request)
                return -ENOMEM;
        json_object_object_add(request, "Name", json_object_new_string(v->name));
        return volume_plugin_call(v->manager, v->driver, "Remove", request, NULL, error);
}

static void volume_link(Manager *m, Volume *v) {
        v->next = m->volumes;
        m->volumes = v;
        _cleanup_free_ char *path = volume_object_path(v);
        if (path)
                (void) sd_bus_emit_object_added(m->bus, path);
}

/* Records a volume; volume.json last: a directory without it is a half-made volume, removed at startup. */
static int volume_record(Manager *m, Volume *v, sd_bus_error *error) {
        _cleanup_free_ char *data = volume_is_plugin(v) ? NULL : volume_mountpoint(v),
                            *dir = manager_state_path(m, "volumes/%s", v->name);
        if (!dir || (!volume_is_plugin(v) && !data))
                return -ENOMEM;
        int r = mkdir_p(data ?: dir, 0755);
        if (r >= 0)
                r = volume_save(v);
        if (r < 0) {
                (void) rm_rf(dir);
                return sd_bus_error_set_errnof(error, -r, "Failed to create volume %s: %m", v->name);
        }
        return 0;
}

int volume_create(Manager *m, const char *name, bool anonymous, bool may_exist, const VolumeSettings *settings,
                  Volume **ret, sd_bus_error *error) {
        _cleanup_free_ char *generated = NULL;
        const char *driver = settings && settings->driver ? settings->driver : VOLUME_DRIVER_LOCAL;
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
        if (!volume_driver_name_is_valid(driver))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME, "Invalid volume driver name \"%s\".", driver);
        Volume *existing = manager_find_volume(m, name);
        if (existing) {
                if (!may_exist)
                        return sd_bus_error_setf(error, BERTH_ERROR_NAME_IN_USE, "Volume \"%s\" already exists.", name);
                if (settings && settings->driver && !streq(settings->driver, existing->driver))
                        return sd_bus_error_setf(error, BERTH_ERROR_NAME_IN_USE,
                                                 "Volume \"%s\" already exists with driver %s, not %s.", name,
                                                 existing->driver, settings->driver);
                *ret = existing;
                return 0;
        }
        if (streq(driver, VOLUME_DRIVER_LOCAL) && settings) {
                r = local_options_check(settings->options, error);
                if (r < 0)
                        return r;
        }

        Volume *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->manager = m;
        v->anonymous = anonymous;
        v->created_at = now_realtime_usec();
        v->name = strdup(name);
        v->driver = strdup(driver);
        v->labels = strv_copy(settings ? settings->labels : NULL);
        v->options = strv_copy(settings ? settings->options : NULL);
        if (!v->name || !v->driver || !v->labels || !v->options) {
                volume_free(v);
                return -ENOMEM;
        }
        if (volume_is_plugin(v)) {
                r = plugin_create(m, v, error);
                if (r < 0) {
                        volume_free(v);
                        return r;
                }
        }
        r = volume_record(m, v, error);
        if (r < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                if (volume_is_plugin(v))
                        (void) plugin_remove(v, &e); /* all or nothing: the plugin's volume goes too */
                volume_free(v);
                return r;
        }
        volume_link(m, v);
        *ret = v;
        return 0;
}

int volume_mount(Volume *v, const char *container_id, char **ret_path, sd_bus_error *error) {
        if (!volume_is_plugin(v)) {
                *ret_path = volume_mountpoint(v);
                return *ret_path ? 0 : -ENOMEM;
        }
        _cleanup_json_ json_object *request = json_object_new_object(), *reply = NULL;
        if (!request)
                return -ENOMEM;
        json_object_object_add(request, "Name", json_object_new_string(v->name));
        json_object_object_add(request, "ID", json_object_new_string(container_id));
        int r = volume_plugin_call(v->manager, v->driver, "Mount", request, &reply, error);
        if (r < 0)
                return r;
        const char *path = json_get_string(reply, "Mountpoint");
        if (isempty(path) || path[0] != '/') {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                (void) volume_plugin_call(v->manager, v->driver, "Unmount", request, NULL, &e);
                return sd_bus_error_setf(error, BERTH_ERROR_PLUGIN_FAILED,
                                         "Volume plugin \"%s\" mounted volume %s but named no absolute Mountpoint.",
                                         v->driver, v->name);
        }
        if (!streq_ptr(v->plugin_mountpoint, path)) {
                free(v->plugin_mountpoint);
                v->plugin_mountpoint = strdup(path);
                (void) volume_save(v);
        }
        *ret_path = strdup(path);
        return *ret_path ? 0 : -ENOMEM;
}

void volumes_unmount(Manager *m, char **names, const char *container_id) {
        for (char **n = names; n && *n; n++) {
                Volume *v = manager_find_volume(m, *n);
                if (!v || !volume_is_plugin(v))
                        continue;
                _cleanup_json_ json_object *request = json_object_new_object();
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                if (!request)
                        return;
                json_object_object_add(request, "Name", json_object_new_string(v->name));
                json_object_object_add(request, "ID", json_object_new_string(container_id));
                if (volume_plugin_call(m, v->driver, "Unmount", request, NULL, &e) < 0)
                        log_warning("Failed to unmount volume %s: %s", v->name, e.message ?: "error");
        }
}

int volume_refresh_mountpoint(Volume *v, sd_bus_error *error) {
        if (!volume_is_plugin(v))
                return 0;
        _cleanup_json_ json_object *request = json_object_new_object(), *reply = NULL;
        if (!request)
                return -ENOMEM;
        json_object_object_add(request, "Name", json_object_new_string(v->name));
        int r = volume_plugin_call(v->manager, v->driver, "Path", request, &reply, error);
        if (r < 0)
                return r;
        const char *path = json_get_string(reply, "Mountpoint");
        if (!streq_ptr(v->plugin_mountpoint, path)) {
                free(v->plugin_mountpoint);
                v->plugin_mountpoint = isempty(path) ? NULL : strdup(path);
                (void) volume_save(v);
        }
        return 0;
}

/* A volume the plugin has and berth does not know: recorded without VolumeDriver.Create. */
static void adopt(Manager *m, const char *driver, json_object *entry) {
        const char *name = json_get_string(entry, "Name"), *path = json_get_string(entry, "Mountpoint");
        if (!name || !volume_name_is_valid(name) || manager_find_volume(m, name))
                return;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Volume *v = calloc(1, sizeof(*v));
        if (!v)
                return;
        v->manager = m;
        v->created_at = now_realtime_usec();
        v->name = strdup(name);
        v->driver = strdup(driver);
        v->labels = strv_copy(NULL);
        v->options = strv_copy(NULL);
        v->plugin_mountpoint = isempty(path) ? NULL : strdup(path);
        if (!v->name || !v->driver || !v->labels || !v->options || volume_record(m, v, &e) < 0) {
                volume_free(v);
                return;
        }
        volume_link(m, v);
}

void volumes_adopt_from_plugins(Manager *m, const char *name) {
        _cleanup_strv_free_ char **plugins = NULL;
        if (volume_plugins_discover(m, &plugins) < 0)
                return;
        for (char **p = plugins; *p; p++) {
                _cleanup_json_ json_object *request = json_object_new_object(), *reply = NULL;
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                json_object *entries;
                if (!request)
                        return;
                if (name) {
                        json_object_object_add(request, "Name", json_object_new_string(name));
                        if (volume_plugin_call(m, *p, "Get", request, &reply, &e) < 0 ||
                            !json_object_object_get_ex(reply, "Volume", &entries))
                                continue;
                        adopt(m, *p, entries);
                        return;
                }
                if (volume_plugin_call(m, *p, "List", request, &reply, &e) < 0) {
                        log_warning("Skipping volume plugin %s: %s", *p, e.message ?: "error");
                        continue;
                }
                if (!json_object_object_get_ex(reply, "Volumes", &entries) ||
                    !json_object_is_type(entries, json_type_array))
                        continue;
                for (size_t i = 0; i < json_object_array_length(entries); i++)
                        adopt(m, *p, json_object_array_get_idx(entries, i));
        }
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
        if (volume_is_plugin(v)) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                r = plugin_remove(v, force ? &e : error);
                if (r < 0 && !force)
                        return r;
                if (r < 0) /* forced: berth forgets it even though the plugin could not remove it */
                        log_warning("Forgetting volume %s: %s", v->name, e.message ?: "error");
        }
        if (unlink(json) < 0 && errno != ENOENT)
                return sd_bus_error_set_errnof(error, errno, "Failed to remove volume %s: %m", v->name);
        /* Its data can be large: removed by the removal thread, after a rename startup's sweep knows. */
        if (removal_rename_and_start(m, dir, rm_rf) < 0)
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
