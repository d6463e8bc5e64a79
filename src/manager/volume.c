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

static json_object *plugin_request(const char *name, const char *container_id) {
        json_object *request = json_object_new_object();
        if (!request)
                return NULL;
        json_object_object_add(request, "Name", json_object_new_string(name));
        if (container_id)
                json_object_object_add(request, "ID", json_object_new_string(container_id));
        return request;
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

static Volume *volume_new(Manager *m, const char *name, const char *driver, bool anonymous, char **labels,
                          char **options) {
        Volume *v = calloc(1, sizeof(*v));
        if (!v)
                return NULL;
        v->manager = m;
        v->anonymous = anonymous;
        v->created_at = now_realtime_usec();
        v->name = strdup(name);
        v->driver = strdup(driver);
        v->labels = strv_copy(labels);
        v->options = strv_copy(options);
        if (!v->name || !v->driver || !v->labels || !v->options)
                return volume_free(v), NULL;
        return v;
}

static void on_orphan_removed(Manager *m, json_object *reply, const sd_bus_error *error, void *userdata) {
        (void) m;
        (void) reply;
        if (error)
                log_warning("Volume plugin could not remove volume %s again: %s", (char *) userdata,
                            error->message ?: "error");
        free(userdata);
}

/* Remove a plugin's volume berth does not keep (a create that failed after the plugin's part). */
static void plugin_remove_orphan(Manager *m, const char *driver, const char *name) {
        _cleanup_json_ json_object *request = plugin_request(name, NULL);
        char *copy = strdup(name);
        if (!request || !copy || volume_plugin_call(m, driver, "Remove", request, on_orphan_removed, copy, NULL) < 0)
                free(copy);
}

/* Checks what volume_create() and volume_create_plugin() share; *ret_existing for a name in use. */
static int create_check(Manager *m, const char *name, bool may_exist, const VolumeSettings *settings,
                        Volume **ret_existing, sd_bus_error *error) {
        const char *driver = settings && settings->driver ? settings->driver : VOLUME_DRIVER_LOCAL;
        *ret_existing = NULL;
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
                *ret_existing = existing;
                return 0;
        }
        if (streq(driver, VOLUME_DRIVER_LOCAL) && settings)
                return local_options_check(settings->options, error);
        return 0;
}

int volume_generate_name(char **ret) {
        char id[BERTH_ID_LEN + 1];
        int r = random_hex_id(id);
        if (r < 0)
                return r;
        *ret = strdup(id);
        return *ret ? 0 : -ENOMEM;
}

int volume_create(Manager *m, const char *name, bool anonymous, bool may_exist, const VolumeSettings *settings,
                  Volume **ret, sd_bus_error *error) {
        _cleanup_free_ char *generated = NULL;
        const char *driver = settings && settings->driver ? settings->driver : VOLUME_DRIVER_LOCAL;
        Volume *existing;
        int r;

        if (isempty(name)) {
                r = volume_generate_name(&generated);
                if (r < 0)
                        return r;
                name = generated;
        }
        r = create_check(m, name, may_exist, settings, &existing, error);
        if (r < 0)
                return r;
        if (existing) {
                *ret = existing;
                return 0;
        }
        if (!streq(driver, VOLUME_DRIVER_LOCAL))
                /* Made through volume_create_plugin() first; gone again meanwhile. */
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Volume \"%s\" was removed meanwhile.", name);
        Volume *v = volume_new(m, name, driver, anonymous, settings ? settings->labels : NULL,
                               settings ? settings->options : NULL);
        if (!v)
                return -ENOMEM;
        r = volume_record(m, v, error);
        if (r < 0) {
                volume_free(v);
                return r;
        }
        volume_link(m, v);
        *ret = v;
        return 0;
}

typedef struct PluginCreate {
        Volume *volume; /* not linked until the plugin made it */
        VolumeDoneFunc done;
        void *userdata;
} PluginCreate;

static void on_plugin_created(Manager *m, json_object *reply, const sd_bus_error *error, void *userdata) {
        PluginCreate *pc = userdata;
        Volume *v = pc->volume, *existing = manager_find_volume(m, v->name);
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        (void) reply;

        if (error)
                (void) sd_bus_error_copy(&e, error);
        else if (existing && streq(existing->driver, v->driver)) {
                /* Made by another call meanwhile: the plugin's Create is idempotent, as in Docker. */
                volume_free(v);
                v = existing;
        } else if (existing) {
                (void) sd_bus_error_setf(&e, BERTH_ERROR_NAME_IN_USE, "Volume \"%s\" already exists.", v->name);
        } else if (volume_record(m, v, &e) < 0) {
                plugin_remove_orphan(m, v->driver, v->name); /* all or nothing: the plugin's volume goes too */
                if (!sd_bus_error_is_set(&e))
                        (void) sd_bus_error_set(&e, BERTH_ERROR_PLUGIN_FAILED, "Failed to record the volume.");
        } else
                volume_link(m, v);
        if (sd_bus_error_is_set(&e)) {
                if (v != existing)
                        volume_free(v);
                v = NULL;
        }
        pc->done(m, v, v ? NULL : &e, pc->userdata);
        free(pc);
}

int volume_create_plugin(Manager *m, const char *name, bool anonymous, const VolumeSettings *settings,
                         VolumeDoneFunc done, void *userdata, sd_bus_error *error) {
        Volume *existing;
        int r = create_check(m, name, false, settings, &existing, error);
        if (r < 0)
                return r;
        PluginCreate *pc = calloc(1, sizeof(*pc));
        _cleanup_json_ json_object *request = plugin_request(name, NULL), *opts = json_object_new_object();
        if (!pc || !request || !opts) {
                free(pc);
                return -ENOMEM;
        }
        pc->volume = volume_new(m, name, settings->driver, anonymous, settings->labels, settings->options);
        if (!pc->volume) {
                free(pc);
                return -ENOMEM;
        }
        for (char **o = pc->volume->options; *o; o++) {
                const char *eq = strchr(*o, '=');
                _cleanup_free_ char *key = strndup(*o, eq ? (size_t) (eq - *o) : strlen(*o));
                if (!key)
                        return -ENOMEM;
                json_object_object_add(opts, key, json_object_new_string(eq ? eq + 1 : ""));
        }
        json_object_object_add(request, "Opts", json_object_get(opts));
        pc->done = done;
        pc->userdata = userdata;
        r = volume_plugin_call(m, settings->driver, "Create", request, on_plugin_created, pc, NULL);
        if (r < 0) {
                volume_free(pc->volume);
                free(pc);
        }
        return r;
}

typedef struct PluginMount {
        char *driver, *name;
        VolumeMountDoneFunc done;
        void *userdata;
} PluginMount;

static void plugin_mount_free(PluginMount *pm) {
        free(pm->driver);
        free(pm->name);
        free(pm);
}

static void on_mounted(Manager *m, json_object *reply, const sd_bus_error *error, void *userdata) {
        PluginMount *pm = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *path = reply ? json_get_string(reply, "Mountpoint") : NULL;
        if (error)
                (void) sd_bus_error_copy(&e, error);
        else if (isempty(path) || path[0] != '/')
                (void) sd_bus_error_setf(&e, BERTH_ERROR_PLUGIN_FAILED,
                                         "Volume plugin \"%s\" mounted volume %s but named no absolute Mountpoint.",
                                         pm->driver, pm->name);
        Volume *v = manager_find_volume(m, pm->name);
        if (!sd_bus_error_is_set(&e) && v && !streq_ptr(v->plugin_mountpoint, path)) {
                free(v->plugin_mountpoint);
                v->plugin_mountpoint = strdup(path);
                (void) volume_save(v);
        }
        pm->done(m, pm->name, sd_bus_error_is_set(&e) ? NULL : path, sd_bus_error_is_set(&e) ? &e : NULL, pm->userdata);
        plugin_mount_free(pm);
}

int volume_mount_plugin(Volume *v, const char *container_id, VolumeMountDoneFunc done, void *userdata,
                        PluginCall **ret) {
        _cleanup_json_ json_object *request = plugin_request(v->name, container_id);
        PluginMount *pm = calloc(1, sizeof(*pm));
        if (!request || !pm || !(pm->driver = strdup(v->driver)) || !(pm->name = strdup(v->name))) {
                if (pm)
                        plugin_mount_free(pm);
                return -ENOMEM;
        }
        pm->done = done;
        pm->userdata = userdata;
        int r = volume_plugin_call(v->manager, v->driver, "Mount", request, on_mounted, pm, ret);
        if (r < 0)
                plugin_mount_free(pm);
        return r;
}

static void on_unmounted(Manager *m, json_object *reply, const sd_bus_error *error, void *userdata) {
        (void) m;
        (void) reply;
        if (error)
                log_warning("Failed to unmount volume %s: %s", (char *) userdata, error->message ?: "error");
        free(userdata);
}

void volumes_unmount(Manager *m, char **names, const char *container_id) {
        for (char **n = names; n && *n; n++) {
                Volume *v = manager_find_volume(m, *n);
                if (!v || !volume_is_plugin(v))
                        continue;
                _cleanup_json_ json_object *request = plugin_request(v->name, container_id);
                char *name = strdup(v->name);
                if (!request || !name ||
                    volume_plugin_call(m, v->driver, "Unmount", request, on_unmounted, name, NULL) < 0) {
                        free(name);
                        log_warning("Failed to unmount volume %s: out of memory", v->name);
                }
        }
}

/* A batch of plugin queries (List, Get, Path) for one caller: 'done' once all have answered. */
typedef struct PluginQueries {
        unsigned pending;
        char *name; /* Get's and Path's volume */
        void (*done)(Manager *m, void *userdata);
        void *userdata;
} PluginQueries;

static PluginQueries *queries_new(const char *name, void (*done)(Manager *m, void *userdata), void *userdata) {
        PluginQueries *q = calloc(1, sizeof(*q));
        if (!q)
                return NULL;
        if (name && !(q->name = strdup(name)))
                return mfree(q);
        q->done = done;
        q->userdata = userdata;
        q->pending = 1; /* until every query is sent */
        return q;
}

static void queries_unref(Manager *m, PluginQueries *q) {
        if (--q->pending > 0)
                return;
        q->done(m, q->userdata);
        free(q->name);
        free(q);
}

typedef struct PluginQuery {
        PluginQueries *batch;
        char *plugin;
} PluginQuery;

static void on_path(Manager *m, json_object *reply, const sd_bus_error *error, void *userdata) {
        PluginQuery *pq = userdata;
        Volume *v = manager_find_volume(m, pq->batch->name);
        const char *path = reply ? json_get_string(reply, "Mountpoint") : NULL;
        if (error)
                log_warning("Volume %s: %s", pq->batch->name, error->message ?: "error");
        else if (v && streq(v->driver, pq->plugin) && !streq_ptr(v->plugin_mountpoint, path)) {
                free(v->plugin_mountpoint);
                v->plugin_mountpoint = isempty(path) ? NULL : strdup(path);
                (void) volume_save(v);
        }
        queries_unref(m, pq->batch);
        free(pq->plugin);
        free(pq);
}

/* A volume the plugin has and berth does not know: recorded without VolumeDriver.Create. */
static void adopt(Manager *m, const char *driver, json_object *entry) {
        const char *name = json_get_string(entry, "Name"), *path = json_get_string(entry, "Mountpoint");
        if (!name || !volume_name_is_valid(name) || manager_find_volume(m, name))
                return;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Volume *v = volume_new(m, name, driver, false, NULL, NULL);
        if (!v)
                return;
        v->plugin_mountpoint = isempty(path) ? NULL : strdup(path);
        if (volume_record(m, v, &e) < 0) {
                volume_free(v);
                return;
        }
        volume_link(m, v);
}

static void on_listed(Manager *m, json_object *reply, const sd_bus_error *error, void *userdata) {
        PluginQuery *pq = userdata;
        json_object *entries;
        if (error && !pq->batch->name)
                log_warning("Skipping volume plugin %s: %s", pq->plugin, error->message ?: "error");
        else if (reply && pq->batch->name && json_object_object_get_ex(reply, "Volume", &entries))
                adopt(m, pq->plugin, entries);
        else if (reply && !pq->batch->name && json_object_object_get_ex(reply, "Volumes", &entries) &&
                 json_object_is_type(entries, json_type_array))
                for (size_t i = 0; i < json_object_array_length(entries); i++)
                        adopt(m, pq->plugin, json_object_array_get_idx(entries, i));
        queries_unref(m, pq->batch);
        free(pq->plugin);
        free(pq);
}

static int query_send(Manager *m, PluginQueries *q, const char *plugin, const char *method, PluginReplyFunc cb) {
        _cleanup_json_ json_object *request = q->name ? plugin_request(q->name, NULL) : json_object_new_object();
        PluginQuery *pq = calloc(1, sizeof(*pq));
        if (!request || !pq || !(pq->plugin = strdup(plugin))) {
                free(pq);
                return -ENOMEM;
        }
        pq->batch = q;
        q->pending++;
        int r = volume_plugin_call(m, plugin, method, request, cb, pq, NULL);
        if (r < 0) {
                q->pending--;
                free(pq->plugin);
                free(pq);
        }
        return r;
}

int volumes_adopt_from_plugins(Manager *m, const char *name, void (*done)(Manager *m, void *userdata), void *userdata) {
        _cleanup_strv_free_ char **plugins = NULL;
        PluginQueries *q = queries_new(name, done, userdata);
        if (!q)
                return -ENOMEM;
        int r = volume_plugins_discover(m, &plugins);
        for (char **p = plugins; r >= 0 && *p; p++)
                r = query_send(m, q, *p, name ? "Get" : "List", on_listed);
        /* Whatever was sent is answered; the batch ends with its last answer. */
        queries_unref(m, q);
        return 0;
}

int volume_refresh_mountpoint(Volume *v, void (*done)(Manager *m, void *userdata), void *userdata) {
        Manager *m = v->manager;
        PluginQueries *q = queries_new(v->name, done, userdata);
        if (!q)
                return -ENOMEM;
        int r = query_send(m, q, v->driver, "Path", on_path);
        queries_unref(m, q);
        return r < 0 ? r : 0;
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

/* Forgets a volume berth recorded: its record, its object, its data (by the removal thread). */
static int volume_forget(Volume *v, sd_bus_error *error) {
        Manager *m = v->manager;
        _cleanup_free_ char *dir = manager_state_path(m, "volumes/%s", v->name),
                            *json = manager_state_path(m, "volumes/%s/volume.json", v->name),
                            *path = volume_object_path(v);
        if (!dir || !json || !path)
                return -ENOMEM;
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

typedef struct PluginRemove {
        Volume *volume; /* kept while 'removing' is set: no other removal frees it */
        bool force;
        VolumeDoneFunc done;
        void *userdata;
} PluginRemove;

static void on_plugin_removed(Manager *m, json_object *reply, const sd_bus_error *error, void *userdata) {
        PluginRemove *pr = userdata;
        Volume *v = pr->volume;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        (void) reply;
        v->removing = false;
        if (error && !pr->force)
                (void) sd_bus_error_copy(&e, error);
        else {
                if (error) /* forced: berth forgets it even though the plugin could not remove it */
                        log_warning("Forgetting volume %s: %s", v->name, error->message ?: "error");
                if (volume_forget(v, &e) < 0 && !sd_bus_error_is_set(&e))
                        (void) sd_bus_error_set(&e, BERTH_ERROR_PLUGIN_FAILED, "Failed to forget the volume.");
        }
        if (pr->done)
                pr->done(m, NULL, sd_bus_error_is_set(&e) ? &e : NULL, pr->userdata);
        else if (sd_bus_error_is_set(&e))
                log_warning("Keeping volume %s: %s", v->name, e.message ?: "error");
        free(pr);
}

int volume_remove(Volume *v, bool force, VolumeDoneFunc done, void *userdata, sd_bus_error *error) {
        Manager *m = v->manager;
        _cleanup_strv_free_ char **users = NULL;
        int r;

        if (v->removing)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Volume %s is being removed.", v->name);
        r = volume_used_by(v, &users);
        if (r < 0)
                return r;
        if (strv_length(users) > 0 && !force)
                return sd_bus_error_setf(error, BERTH_ERROR_VOLUME_IN_USE, "Volume %s is in use by container %.12s.",
                                         v->name, users[0]);
        for (Container *c = m->containers; c; c = c->next)
                if ((c->state == CONTAINER_RUNNING || c->starting) && container_uses_volume(c, v->name))
                        return sd_bus_error_setf(error, BERTH_ERROR_VOLUME_IN_USE,
                                                 "Volume %s is mounted in running container %s.", v->name, c->name);
        if (!volume_is_plugin(v)) {
                r = volume_forget(v, error);
                return r < 0 ? r : 0;
        }
        _cleanup_json_ json_object *request = plugin_request(v->name, NULL);
        PluginRemove *pr = calloc(1, sizeof(*pr));
        if (!request || !pr) {
                free(pr);
                return -ENOMEM;
        }
        *pr = (PluginRemove){ .volume = v, .force = force, .done = done, .userdata = userdata };
        r = volume_plugin_call(m, v->driver, "Remove", request, on_plugin_removed, pr, NULL);
        if (r < 0) {
                free(pr);
                return r;
        }
        v->removing = true;
        return 1;
}
