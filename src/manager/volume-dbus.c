/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "errors.h"
#include "volume.h"
#include "volume-plugin.h"

int volume_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *name = NULL;
        if (sd_bus_path_decode(path, "/org/berth1/volume", &name) <= 0)
                return 0;
        Volume *v = manager_find_volume(m, name);
        if (!v)
                return 0;
        *found = v;
        return 1;
}

int volume_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (Volume *v = m->volumes; v; v = v->next) {
                _cleanup_free_ char *p = volume_object_path(v);
                if (!p || strv_push(&l, p) < 0)
                        return -ENOMEM;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static int property_get_name(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Volume *v = userdata;
        return sd_bus_message_append(reply, "s", v->name);
}

static int property_get_driver(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Volume *v = userdata;
        return sd_bus_message_append(reply, "s", v->driver);
}

static int property_get_labels(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Volume *v = userdata;
        if (streq(property, "Labels"))
                return bus_append_labels(reply, v->labels);
        /* A driver's options may hold credentials (CIFS's password=...). */
        int r = bus_property_check_privileged(bus, "the options of a volume", error);
        if (r < 0)
                return r;
        return bus_append_labels(reply, v->options);
}

static int property_get_mountpoint(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *p = volume_mountpoint(userdata);
        if (!p)
                return -ENOMEM;
        return sd_bus_message_append(reply, "s", p);
}

static int property_get_anonymous(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Volume *v = userdata;
        return sd_bus_message_append(reply, "b", (int) v->anonymous);
}

static int property_get_used_by(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        int r = volume_used_by(userdata, &l);
        if (r < 0)
                return r;
        return sd_bus_message_append_strv(reply, l);
}

const sd_bus_vtable volume_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Driver", "s", property_get_driver, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Mountpoint", "s", property_get_mountpoint, 0, 0),
        SD_BUS_PROPERTY("CreatedAt", "t", NULL, offsetof(Volume, created_at), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Anonymous", "b", property_get_anonymous, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Labels", "a{ss}", property_get_labels, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Options", "a{ss}", property_get_labels, 0, SD_BUS_VTABLE_PROPERTY_EXPLICIT),
        SD_BUS_PROPERTY("UsedBy", "as", property_get_used_by, 0, 0),
        SD_BUS_VTABLE_END,
};

static int reply_volume_path(sd_bus_message *message, Volume *v) {
        _cleanup_free_ char *path = volume_object_path(v);
        if (!path)
                return -ENOMEM;
        return sd_bus_reply_method_return(message, "o", path);
}

/* CreateVolume's a{sv}: Driver (s), Labels (a{ss}), Options (a{ss}, the driver's options). */
static int parse_volume_options(sd_bus_message *message, const char **driver, char ***labels, char ***options,
                                sd_bus_error *error) {
        const BusOption opts[] = { BUS_OPTION("Driver", "s", driver), BUS_OPTION("Labels", "a{ss}", labels),
                                   BUS_OPTION("Options", "a{ss}", options) };
        return bus_read_options(message, opts, ELEMENTSOF(opts), "volume option", error);
}

static bool caller_is_root(sd_bus_message *message) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        return bus_check_privileged(message, &e) >= 0;
}

int method_create_volume(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name, *driver = NULL;
        _cleanup_strv_free_ char **labels = calloc(1, sizeof(char *)), **options = calloc(1, sizeof(char *));
        Volume *v;
        int r;

        if (!labels || !options)
                return -ENOMEM;
        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = parse_volume_options(message, &driver, &labels, &options, error);
        if (r < 0)
                return r;
        r = bus_check_privileged(message, error);
        if (r < 0)
                return r;
        if (driver && !volume_driver_name_is_valid(driver))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME, "Invalid volume driver name \"%s\".", driver);
        r = volume_create(m, name, false, false,
                          &(const VolumeSettings){ .driver = driver, .labels = labels, .options = options }, &v, error);
        if (r < 0)
                return r;
        return reply_volume_path(message, v);
}

int method_list_volumes(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sso)");
        if (r < 0)
                return r;
        /* Volumes made through a plugin behind berth's back; recording them changes state, and plugin
         * calls can be slow: for root only, like every call that changes something. */
        if (caller_is_root(message))
                volumes_adopt_from_plugins(m, NULL);
        for (Volume *v = m->volumes; v; v = v->next) {
                _cleanup_free_ char *path = volume_object_path(v);
                if (!path)
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "(sso)", v->name, v->driver, path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int method_get_volume(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        int r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        Volume *v = manager_find_volume(userdata, name);
        if (!v && volume_name_is_valid(name) && caller_is_root(message)) {
                volumes_adopt_from_plugins(userdata, name);
                v = manager_find_volume(userdata, name);
        }
        if (!v)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_VOLUME, "No such volume: %s", name);
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        if (caller_is_root(message) && volume_refresh_mountpoint(v, &e) < 0) /* else the last known path */
                log_warning("Volume %s: %s", v->name, e.message ?: "error");
        return reply_volume_path(message, v);
}

int method_remove_volume(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        int force;
        int r = sd_bus_message_read(message, "sb", &name, &force);
        if (r < 0)
                return r;
        r = bus_check_privileged(message, error);
        if (r < 0)
                return r;
        Volume *v = manager_find_volume(userdata, name);
        if (!v)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_VOLUME, "No such volume: %s", name);
        r = volume_remove(v, force, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, NULL);
}

/* Docker's default prune: anonymous volumes that no container uses. */
int method_prune_volumes(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **removed = calloc(1, sizeof(char *));
        int r;

        if (!removed)
                return -ENOMEM;
        r = bus_check_privileged(message, error);
        if (r < 0)
                return r;
        for (Volume *v = m->volumes, *next; v; v = next) {
                next = v->next;
                _cleanup_strv_free_ char **users = NULL;
                if (!v->anonymous || volume_used_by(v, &users) < 0 || strv_length(users) > 0)
                        continue;
                _cleanup_free_ char *name = strdup(v->name);
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                if (name && volume_remove(v, false, &e) >= 0 && strv_push(&removed, name) < 0)
                        return -ENOMEM;
        }
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, removed);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
