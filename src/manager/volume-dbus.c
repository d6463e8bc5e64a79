/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "bus-polkit.h"
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
        return bus_reply_object_path(message, volume_object_path(v));
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

/* A call answered once a volume plugin has: the message, kept until then. */
typedef struct PendingCall {
        sd_bus_message *message;
        char **removed; /* PruneVolumes: the names removed so far */
        unsigned pending; /* PruneVolumes: the plugin removals not answered yet, +1 while sending */
} PendingCall;

static PendingCall *pending_new(sd_bus_message *message) {
        PendingCall *p = calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        p->removed = calloc(1, sizeof(char *));
        if (!p->removed)
                return mfree(p);
        p->message = sd_bus_message_ref(message);
        return p;
}

static void pending_free(PendingCall *p) {
        sd_bus_message_unref(p->message);
        strv_free(p->removed);
        free(p);
}

/* Answers with the error, or with 'r' as an errno when there is none. */
static void reply_error(sd_bus_message *message, const sd_bus_error *error, int r) {
        if (error && sd_bus_error_is_set(error))
                (void) sd_bus_reply_method_error(message, error);
        else
                (void) sd_bus_reply_method_errno(message, r < 0 ? r : -EIO, NULL);
}

static void on_volume_created(Manager *m, Volume *v, const sd_bus_error *error, void *userdata) {
        PendingCall *p = userdata;
        (void) m;
        if (!v || reply_volume_path(p->message, v) < 0)
                reply_error(p->message, error, -ENOMEM);
        pending_free(p);
}

int method_create_volume(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name, *driver = NULL;
        _cleanup_strv_free_ char **labels = calloc(1, sizeof(char *)), **options = calloc(1, sizeof(char *));
        _cleanup_free_ char *generated = NULL;
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
        /* Options of the local driver mount any device or host path: privileged. */
        bool local = !driver || streq(driver, VOLUME_DRIVER_LOCAL);
        r = bus_verify_action(message,
                              local && strv_length(options) > 0 ? BERTH_ACTION_PRIVILEGED : BERTH_ACTION_MANAGE_IMAGES,
                              error);
        if (r != 0)
                return r;
        if (driver && !volume_driver_name_is_valid(driver))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME, "Invalid volume driver name \"%s\".", driver);
        const VolumeSettings settings = { .driver = driver, .labels = labels, .options = options };
        if (driver && !streq(driver, VOLUME_DRIVER_LOCAL)) {
                if (isempty(name)) {
                        r = volume_generate_name(&generated);
                        if (r < 0)
                                return r;
                        name = generated;
                }
                PendingCall *p = pending_new(message);
                if (!p)
                        return -ENOMEM;
                r = volume_create_plugin(m, name, false, &settings, on_volume_created, p, error);
                if (r < 0) {
                        pending_free(p);
                        return r;
                }
                return 1;
        }
        r = volume_create(m, name, false, false, &settings, &v, error);
        if (r < 0)
                return r;
        return reply_volume_path(message, v);
}

static void *next_volume(void *v) {
        return ((Volume *) v)->next;
}

static int append_volume(sd_bus_message *reply, void *object) {
        Volume *v = object;
        _cleanup_free_ char *path = volume_object_path(v);
        if (!path)
                return -ENOMEM;
        return sd_bus_message_append(reply, "(sso)", v->name, v->driver, path);
}

static int reply_volume_list(Manager *m, sd_bus_message *message) {
        return bus_reply_list(message, "(sso)", m->volumes, next_volume, append_volume);
}

static void on_plugins_listed(Manager *m, void *userdata) {
        PendingCall *p = userdata;
        int r = reply_volume_list(m, p->message);
        if (r < 0)
                reply_error(p->message, NULL, r);
        pending_free(p);
}

int method_list_volumes(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        /* Volumes made through a plugin behind berth's back; recording them changes state, and plugin
         * calls can be slow: for root only, like every call that changes something. */
        if (!caller_is_root(message))
                return reply_volume_list(m, message);
        PendingCall *p = pending_new(message);
        if (!p)
                return -ENOMEM;
        int r = volumes_adopt_from_plugins(m, NULL, on_plugins_listed, p);
        if (r < 0) {
                pending_free(p);
                return r;
        }
        return 1;
}

static void reply_found_volume(Manager *m, sd_bus_message *message, const char *name) {
        Volume *v = manager_find_volume(m, name);
        if (!v)
                (void) sd_bus_reply_method_errorf(message, BERTH_ERROR_NO_SUCH_VOLUME, "No such volume: %s", name);
        else if (reply_volume_path(message, v) < 0)
                reply_error(message, NULL, -ENOMEM);
}

static void on_volume_refreshed(Manager *m, void *userdata) {
        PendingCall *p = userdata;
        const char *name = NULL;
        (void) sd_bus_message_rewind(p->message, true);
        if (sd_bus_message_read(p->message, "s", &name) < 0)
                reply_error(p->message, NULL, -EBADMSG);
        else
                reply_found_volume(m, p->message, name);
        pending_free(p);
}

static void on_volume_adopted(Manager *m, void *userdata) {
        PendingCall *p = userdata;
        const char *name = NULL;
        (void) sd_bus_message_rewind(p->message, true);
        if (sd_bus_message_read(p->message, "s", &name) < 0) {
                reply_error(p->message, NULL, -EBADMSG);
                return pending_free(p);
        }
        Volume *v = manager_find_volume(m, name);
        if (v && volume_is_plugin(v) && volume_refresh_mountpoint(v, on_volume_refreshed, p) >= 0)
                return;
        reply_found_volume(m, p->message, name);
        pending_free(p);
}

int method_get_volume(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        int r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        Volume *v = manager_find_volume(m, name);
        /* Unknown names are asked of the plugins, and a plugin volume's path of its plugin (else the
         * last known path): for root, as above. */
        if (caller_is_root(message) && ((!v && volume_name_is_valid(name)) || (v && volume_is_plugin(v)))) {
                PendingCall *p = pending_new(message);
                if (!p)
                        return -ENOMEM;
                r = v ? volume_refresh_mountpoint(v, on_volume_refreshed, p)
                      : volumes_adopt_from_plugins(m, name, on_volume_adopted, p);
                if (r < 0) {
                        pending_free(p);
                        return r;
                }
                return 1;
        }
        if (!v)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_VOLUME, "No such volume: %s", name);
        return reply_volume_path(message, v);
}

static void on_volume_removed(Manager *m, Volume *v, const sd_bus_error *error, void *userdata) {
        PendingCall *p = userdata;
        (void) m;
        (void) v;
        if (error)
                reply_error(p->message, error, -EIO);
        else
                (void) sd_bus_reply_method_return(p->message, NULL);
        pending_free(p);
}

int method_remove_volume(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        int force;
        int r = sd_bus_message_read(message, "sb", &name, &force);
        if (r < 0)
                return r;
        r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        Volume *v = manager_find_volume(userdata, name);
        if (!v)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_VOLUME, "No such volume: %s", name);
        PendingCall *p = pending_new(message);
        if (!p)
                return -ENOMEM;
        r = volume_remove(v, force, on_volume_removed, p, error);
        if (r != 1)
                pending_free(p);
        if (r < 0)
                return r;
        return r == 1 ? 1 : sd_bus_reply_method_return(message, NULL);
}

static void prune_reply_if_done(PendingCall *p) {
        if (--p->pending > 0)
                return;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(p->message, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, p->removed);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                reply_error(p->message, NULL, r);
        pending_free(p);
}

typedef struct PruneItem {
        PendingCall *prune;
        char *name;
} PruneItem;

static void on_pruned(Manager *m, Volume *v, const sd_bus_error *error, void *userdata) {
        PruneItem *item = userdata;
        (void) m;
        (void) v;
        if (!error && strv_push(&item->prune->removed, item->name) < 0)
                log_warning("Out of memory listing pruned volume %s.", item->name);
        prune_reply_if_done(item->prune);
        free(item->name);
        free(item);
}

/* PruneVolumesWithFilters: whether named volumes go too, then the label filters. */
static int read_volume_prune_filters(sd_bus_message *message, int *all, BusPruneFilters *f, sd_bus_error *error) {
        int r = sd_bus_message_read(message, "b", all);
        return r < 0 ? r : bus_read_prune_filters(message, false, f, error);
}

static bool volume_prunable(Volume *v, bool all, const BusPruneFilters *f) {
        _cleanup_strv_free_ char **users = NULL;
        if ((!all && !v->anonymous) || v->removing || volume_used_by(v, &users) < 0 || strv_length(users) > 0)
                return false;
        return bus_prune_filters_match(f, v->labels, 0);
}

/* Docker's default prune: anonymous volumes that no container uses; PruneVolumesWithFilters (b all,
 * a{sv} filters): with 'all' named ones too, and only those the label filters select. */
int method_prune_volumes(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(bus_prune_filters_done) BusPruneFilters f = BUS_PRUNE_FILTERS_INIT;
        Manager *m = userdata;
        int all = false, r = 0;
        if (streq(sd_bus_message_get_member(message), "PruneVolumesWithFilters"))
                r = read_volume_prune_filters(message, &all, &f, error);
        if (r >= 0)
                r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        PendingCall *p = pending_new(message);
        if (!p)
                return -ENOMEM;
        p->pending = 1; /* until every removal is asked for */
        for (Volume *v = m->volumes, *next; v; v = next) {
                next = v->next;
                if (!volume_prunable(v, all, &f))
                        continue;
                PruneItem *item = calloc(1, sizeof(*item));
                if (!item || !(item->name = strdup(v->name))) {
                        free(item);
                        break;
                }
                item->prune = p;
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                r = volume_remove(v, false, on_pruned, item, &e);
                if (r == 1) {
                        p->pending++;
                        continue;
                }
                if (r == 0 && strv_push(&p->removed, item->name) < 0) /* strv_push() copies */
                        log_warning("Out of memory listing pruned volume %s.", item->name);
                free(item->name);
                free(item);
        }
        prune_reply_if_done(p);
        return 1;
}
