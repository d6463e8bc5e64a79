/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Docker's events, made from berthd's signals (objects added and removed, properties changed,
 * transfers) as they arrive; berthctl events prints them, berth-api's GET /events streams them.
 * berthd keeps no past events. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "ctl-bus.h"
#include "ctl-event-source.h"
#include "ctl-format.h"
#include "ctl-objects.h"
#include "ctl-output.h"
#include "util.h"

/* What an event names and what is known of the objects, to tell what changed. */
typedef struct Tracked {
        char *path;
        const char *type; /* "container", "image", "volume" */
        char *id, *name, *image, *state;
        char *health; /* HealthStatus */
        char **labels, **tags;
} Tracked;

struct EventSource {
        Tracked *objects;
        size_t n_objects;
        char **filters;
        uint64_t since;
        uint32_t transfer_ids[64]; /* TransferNew: id → "pull"/"push" and the reference */
        char *transfer_refs[64];
        bool transfer_push[64];
        int error;
        sd_bus_slot *slots[5];
        event_sink_t sink;
        void *userdata;
};

static void tracked_done(Tracked *t) {
        free(t->path);
        free(t->id);
        free(t->name);
        free(t->image);
        free(t->state);
        free(t->health);
        strv_free(t->labels);
        strv_free(t->tags);
}

EventSource *event_source_free(EventSource *e) {
        if (!e)
                return NULL;
        for (size_t k = 0; k < ELEMENTSOF(e->slots); k++)
                sd_bus_slot_unref(e->slots[k]);
        for (size_t k = 0; k < e->n_objects; k++)
                tracked_done(&e->objects[k]);
        free(e->objects);
        strv_free(e->filters);
        for (size_t k = 0; k < ELEMENTSOF(e->transfer_refs); k++)
                free(e->transfer_refs[k]);
        free(e);
        return NULL;
}

static Tracked *find_tracked(EventSource *e, const char *path) {
        for (size_t k = 0; k < e->n_objects; k++)
                if (streq(e->objects[k].path, path))
                        return &e->objects[k];
        return NULL;
}

static Tracked *add_tracked(EventSource *e, const char *path, const char *type) {
        Tracked *t = find_tracked(e, path);
        if (t)
                return t;
        t = reallocarray(e->objects, e->n_objects + 1, sizeof(Tracked));
        if (!t)
                return NULL;
        e->objects = t;
        t = &e->objects[e->n_objects];
        *t = (Tracked){ .path = strdup(path), .type = type };
        if (!t->path)
                return NULL;
        e->n_objects++;
        return t;
}

static void drop_tracked(EventSource *e, Tracked *t) {
        tracked_done(t);
        *t = e->objects[--e->n_objects];
}

static int set_str(char **p, const char *v) {
        char *c = strdup(v ?: "");
        if (!c)
                return -ENOMEM;
        free(*p);
        *p = c;
        return 0;
}

static int track_container(Tracked *t, const ContainerInfo *c) {
        strv_free(t->labels);
        t->labels = strv_copy(c->labels);
        if ((c->labels && !t->labels) || set_str(&t->id, c->id) < 0 || set_str(&t->name, c->name) < 0 ||
            set_str(&t->image, c->image) < 0 || set_str(&t->state, c->state) < 0 ||
            set_str(&t->health, c->health_status) < 0)
                return -ENOMEM;
        return 0;
}

static int track_image(Tracked *t, const ImageInfo *i) {
        strv_free(t->labels);
        strv_free(t->tags);
        t->labels = strv_copy(i->labels);
        t->tags = strv_copy(i->repo_tags);
        if ((i->labels && !t->labels) || (i->repo_tags && !t->tags) || set_str(&t->id, i->id) < 0)
                return -ENOMEM;
        return 0;
}

/* Docker's filters: container=, image=, volume=, event=, type=, label=; the values of one key are
 * alternatives, different keys must all match. */
static bool event_matches(const EventSource *e, const char *type, const char *action, const Tracked *t,
                          const char *actor) {
        static const char *const keys[] = { "container", "event", "image", "label", "type", "volume" };
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                size_t n = strlen(keys[k]);
                bool seen = false, matched = false;
                for (char **f = e->filters; f && *f && !matched; f++) {
                        if (strncmp(*f, keys[k], n) || (*f)[n] != '=')
                                continue;
                        const char *v = *f + n + 1;
                        seen = true;
                        if (k == 0)
                                matched = streq(type, "container") && t &&
                                        (streq_ptr(t->name, v) || (t->id && startswith(t->id, v)));
                        else if (k == 1)
                                /* Docker's: "health_status" alone matches each status */
                                matched = streq(action, v) ||
                                        (streq(v, "health_status") && startswith(action, "health_status: "));
                        else if (k == 2)
                                matched = (streq(type, "container") && t && streq_ptr(t->image, v)) ||
                                        (streq(type, "image") &&
                                         (streq(actor, v) ||
                                          (t &&
                                           (strv_contains(t->tags, v) || streq_ptr(image_id_strip(t->id ?: ""), v)))));
                        else if (k == 3)
                                matched = t && ctl_labels_match(t->labels, v);
                        else if (k == 4)
                                matched = streq(type, v);
                        else
                                matched = streq(type, "volume") && streq(actor, v);
                }
                if (seen && !matched)
                        return false;
        }
        return true;
}

json_object *event_json(const char *type, const char *action, const char *actor, char **attrs, uint64_t usec) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *a = json_object_new_object(),
                                                *at = json_object_new_object();
        if (!o || !a || !at)
                return NULL;
        for (char **kv = attrs; kv && *kv; kv++) {
                const char *eq = strchr(*kv, '=');
                _cleanup_free_ char *k = strndup(*kv, eq ? (size_t) (eq - *kv) : strlen(*kv));
                if (!k || json_add(at, k, json_object_new_string(eq ? eq + 1 : "")) < 0)
                        return NULL;
        }
        if (json_add(a, "ID", json_object_new_string(actor)) < 0 || json_add(a, "Attributes", TAKE_PTR(at)) < 0 ||
            json_add(o, "Type", json_object_new_string(type)) < 0 ||
            json_add(o, "Action", json_object_new_string(action)) < 0 || json_add(o, "Actor", TAKE_PTR(a)) < 0 ||
            json_add(o, "Scope", json_object_new_string("local")) < 0 ||
            json_add(o, "Time", json_object_new_int64((int64_t) (usec / USEC_PER_SEC))) < 0 ||
            json_add(o, "TimeNano", json_object_new_int64((int64_t) usec * 1000)) < 0 ||
            json_add(o, "status", json_object_new_string(action)) < 0 ||
            json_add(o, "id", json_object_new_string(actor)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* One event, its attributes sorted, to the sink. */
static void emit(EventSource *e, const char *type, const char *action, const char *actor, const Tracked *t,
                 char **extra) {
        _cleanup_strv_free_ char **attrs = NULL;
        uint64_t now = now_realtime_usec();

        if (e->error < 0 || now < e->since || !event_matches(e, type, action, t, actor))
                return;
        if (t && streq(type, "container")) {
                for (char **l = t->labels; l && *l; l++)
                        if (strv_push(&attrs, *l) < 0)
                                goto oom;
                _cleanup_free_ char *image = strjoin("image=", t->image ?: ""), *name = strjoin("name=", t->name ?: "");
                if (!image || !name || strv_push(&attrs, image) < 0 || strv_push(&attrs, name) < 0)
                        goto oom;
        }
        for (char **x = extra; x && *x; x++)
                if (strv_push(&attrs, *x) < 0)
                        goto oom;
        if (attrs)
                qsort(attrs, strv_length(attrs), sizeof(char *), compare_strings);

        e->sink(e, type, action, actor, attrs, now, e->userdata);
        return;
oom:
        e->error = -ENOMEM;
}

static const char *type_of(const char *path) {
        if (startswith(path, "/org/berth1/container/"))
                return "container";
        if (startswith(path, "/org/berth1/image/"))
                return "image";
        if (startswith(path, "/org/berth1/volume/"))
                return "volume";
        return NULL;
}

static int on_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        EventSource *e = userdata;
        const char *path, *interface;
        int r = sd_bus_message_read(m, "o", &path);
        const char *type = r >= 0 ? type_of(path) : NULL;
        if (!type)
                return 0;
        Tracked *t = add_tracked(e, path, type);
        if (!t)
                return e->error = -ENOMEM, 0;
        r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                if ((r = sd_bus_message_read(m, "s", &interface)) < 0)
                        break;
                if (streq(interface, BERTH_BUS_CONTAINER)) {
                        _cleanup_(container_info_done) ContainerInfo c = {};
                        container_info_init(&c);
                        r = container_info_read(m, &c);
                        if (r >= 0)
                                r = track_container(t, &c);
                } else if (streq(interface, BERTH_BUS_IMAGE)) {
                        _cleanup_(image_info_done) ImageInfo i = {};
                        image_info_init(&i);
                        r = image_info_read(m, &i);
                        if (r >= 0)
                                r = track_image(t, &i);
                } else
                        r = sd_bus_message_skip(m, "a{sv}");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                return 0; /* not berthd's or not understood: no event */
        if (streq(type, "container"))
                emit(e, type, "create", t->id ?: "", t, NULL);
        else if (streq(type, "volume")) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(volume_info_done) VolumeInfo v = {};
                if (volume_info_get(sd_bus_message_get_bus(m), path, &error, &v) >= 0) {
                        (void) set_str(&t->name, v.name);
                        strv_free(t->labels);
                        t->labels = strv_copy(v.labels);
                }
                _cleanup_free_ char *driver = strjoin("driver=", v.driver ?: "local");
                char *extra[] = { driver, NULL };
                emit(e, type, "create", t->name ?: strrchr(path, '/') + 1, t, driver ? extra : NULL);
        }
        return 0;
}

static int on_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        EventSource *e = userdata;
        const char *path;
        if (sd_bus_message_read(m, "o", &path) < 0)
                return 0;
        Tracked *t = find_tracked(e, path);
        if (!t)
                return 0;
        if (streq(t->type, "container"))
                emit(e, t->type, "destroy", t->id ?: "", t, NULL);
        else if (streq(t->type, "image")) {
                _cleanup_free_ char *id = strjoin("sha256:", image_id_strip(t->id ?: ""));
                if (id)
                        emit(e, t->type, "delete", id, t, NULL);
        } else
                emit(e, t->type, "destroy", t->name ?: strrchr(path, '/') + 1, t, NULL);
        drop_tracked(e, t);
        return 0;
}

static void container_changed(EventSource *e, Tracked *t, const char *state, const char *name, int32_t exit_code) {
        if (name && !streq_ptr(t->name, name)) {
                _cleanup_free_ char *old = strjoin("oldName=", t->name ?: "");
                char *extra[] = { old, NULL };
                (void) set_str(&t->name, name);
                emit(e, "container", "rename", t->id ?: "", t, old ? extra : NULL);
        }
        if (!state || streq_ptr(t->state, state))
                return;
        _cleanup_free_ char *before = TAKE_PTR(t->state);
        (void) set_str(&t->state, state);
        if (!before)
                return;
        if (streq(state, "running"))
                emit(e, "container", streq(before, "paused") ? "unpause" : "start", t->id ?: "", t, NULL);
        else if (streq(state, "paused"))
                emit(e, "container", "pause", t->id ?: "", t, NULL);
        else if (streq(state, "exited") && !streq(before, "created")) {
                _cleanup_free_ char *code = NULL;
                char *extra[] = { NULL, NULL };
                if (asprintf(&code, "exitCode=%" PRIi32, exit_code) >= 0)
                        extra[0] = code;
                emit(e, "container", "die", t->id ?: "", t, extra);
        }
}

/* Docker's "health_status: healthy" (or unhealthy) when a probe changed the status of a running
 * container; not for "starting" at a start, nor the "unhealthy" a stopped container's checks end
 * with (berthd signals that after the exit). */
static void health_changed(EventSource *e, Tracked *t, const char *health) {
        if (!health || streq_ptr(t->health, health))
                return;
        (void) set_str(&t->health, health);
        if (!streq_ptr(t->state, "running") || !(streq(health, "healthy") || streq(health, "unhealthy")))
                return;
        _cleanup_free_ char *action = strjoin("health_status: ", health);
        if (action)
                emit(e, "container", action, t->id ?: "", t, NULL);
}

static void image_tags_changed(EventSource *e, Tracked *t, char **tags) {
        for (char **n = tags; n && *n; n++)
                if (!strv_contains(t->tags, *n)) {
                        _cleanup_free_ char *a = strjoin("name=", *n);
                        char *extra[] = { a, NULL };
                        emit(e, "image", "tag", *n, t, a ? extra : NULL);
                }
        for (char **o = t->tags; o && *o; o++)
                if (!strv_contains(tags, *o)) {
                        _cleanup_free_ char *a = strjoin("name=", *o);
                        char *extra[] = { a, NULL };
                        emit(e, "image", "untag", *o, t, a ? extra : NULL);
                }
        strv_free(t->tags);
        t->tags = strv_copy(tags);
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        EventSource *e = userdata;
        const char *interface, *key, *state = NULL, *name = NULL, *health = NULL;
        _cleanup_strv_free_ char **tags = NULL;
        bool have_tags = false;
        int32_t exit_code = 0;
        Tracked *t = find_tracked(e, sd_bus_message_get_path(m) ?: "");
        int r = sd_bus_message_read(m, "s", &interface);
        if (!t || r < 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                if ((r = sd_bus_message_read(m, "s", &key)) < 0)
                        break;
                if (streq(key, "State"))
                        r = sd_bus_message_read(m, "v", "s", &state);
                else if (streq(key, "Name"))
                        r = sd_bus_message_read(m, "v", "s", &name);
                else if (streq(key, "ExitCode"))
                        r = sd_bus_message_read(m, "v", "i", &exit_code);
                else if (streq(key, "HealthStatus"))
                        r = sd_bus_message_read(m, "v", "s", &health);
                else if (streq(key, "RepoTags")) {
                        r = sd_bus_message_enter_container(m, 'v', "as");
                        if (r >= 0)
                                r = sd_bus_message_read_strv(m, &tags);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        have_tags = true;
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                return 0;
        if (streq(interface, BERTH_BUS_CONTAINER) && streq(t->type, "container")) {
                container_changed(e, t, state, name, exit_code);
                health_changed(e, t, health);
        } else if (streq(interface, BERTH_BUS_IMAGE) && streq(t->type, "image") && have_tags)
                image_tags_changed(e, t, tags);
        return 0;
}

static int on_transfer_new(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        EventSource *e = userdata;
        const char *path, *type, *reference;
        uint32_t id;
        if (sd_bus_message_read(m, "uoss", &id, &path, &type, &reference) < 0)
                return 0;
        size_t k = id % ELEMENTSOF(e->transfer_ids);
        e->transfer_ids[k] = id;
        e->transfer_push[k] = streq(type, "push");
        (void) set_str(&e->transfer_refs[k], reference);
        return 0;
}

static int on_transfer_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        EventSource *e = userdata;
        const char *path, *result;
        uint32_t id;
        if (sd_bus_message_read(m, "uos", &id, &path, &result) < 0)
                return 0;
        size_t k = id % ELEMENTSOF(e->transfer_ids);
        if (e->transfer_ids[k] != id || !e->transfer_refs[k] || !streq(result, "done"))
                return 0;
        _cleanup_free_ char *a = strjoin("name=", e->transfer_refs[k]);
        char *extra[] = { a, NULL };
        emit(e, "image", e->transfer_push[k] ? "push" : "pull", e->transfer_refs[k], NULL, a ? extra : NULL);
        return 0;
}

/* Every object known now, so that later changes can be told apart. */
static int track_existing(sd_bus *bus, EventSource *e, sd_bus_error *error) {
        _cleanup_(object_list_done) ObjectList objects = {};
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *driver, *path;
        int r = object_list_fetch(bus, error, &objects);
        if (r < 0)
                return r;
        for (size_t k = 0; k < objects.n_containers; k++) {
                Tracked *t = add_tracked(e, objects.containers[k].object_path, "container");
                if (!t || track_container(t, &objects.containers[k]) < 0)
                        return -ENOMEM;
        }
        for (size_t k = 0; k < objects.n_images; k++) {
                Tracked *t = add_tracked(e, objects.images[k].object_path, "image");
                if (!t || track_image(t, &objects.images[k]) < 0)
                        return -ENOMEM;
        }
        r = ctl_bus_call_manager(bus, "ListVolumes", CTL_TIMEOUT_DEFAULT, error, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sso)", &name, &driver, &path)) > 0) {
                Tracked *t = add_tracked(e, path, "volume");
                if (!t || set_str(&t->name, name) < 0)
                        return -ENOMEM;
        }
        return r < 0 ? r : 0;
}

static int subscribe(sd_bus *bus, EventSource *e) {
        static const struct {
                const char *interface, *member;
                sd_bus_message_handler_t handler;
        } matches[] = {
                { "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", on_added },
                { "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved", on_removed },
                { "org.freedesktop.DBus.Properties", "PropertiesChanged", on_changed },
                { BERTH_BUS_MANAGER, "TransferNew", on_transfer_new },
                { BERTH_BUS_MANAGER, "TransferRemoved", on_transfer_removed },
        };
        for (size_t k = 0; k < ELEMENTSOF(matches); k++) {
                int r = sd_bus_match_signal(bus, &e->slots[k], BERTH_BUS_SERVICE, NULL, matches[k].interface,
                                            matches[k].member, matches[k].handler, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

int event_source_new(sd_bus *bus, char **filters, uint64_t since, event_sink_t sink, void *userdata,
                     sd_bus_error *error, EventSource **ret) {
        EventSource *e = calloc(1, sizeof(EventSource));
        int r;
        if (!e)
                return -ENOMEM;
        e->since = since;
        e->sink = sink;
        e->userdata = userdata;
        e->filters = strv_copy(filters);
        if (filters && !e->filters) {
                event_source_free(e);
                return -ENOMEM;
        }
        r = subscribe(bus, e);
        if (r >= 0)
                r = track_existing(bus, e, error);
        if (r < 0) {
                event_source_free(e);
                return r;
        }
        *ret = e;
        return 0;
}

int event_source_error(const EventSource *e) {
        return e->error;
}

/* ---- The past: what berthd journaled (src/manager/event-journal.c) ---- */

/* Matched only from berthd's own unit: _SYSTEMD_UNIT is journald's, so nobody can write events
 * there with logger. */
#define EVENT_JOURNAL_MATCH_ID   "MESSAGE_ID=8b6a2f4c1e3d4f7a9c0b5d6e7f8a9b01"
#define EVENT_JOURNAL_MATCH_UNIT "_SYSTEMD_UNIT=berthd.service"

static int replay_entry(sd_journal *j, char **filters, event_sink_t sink, void *userdata, uint64_t usec) {
        _cleanup_free_ char *type = NULL, *action = NULL, *actor = NULL;
        _cleanup_strv_free_ char **attrs = NULL;
        Tracked t = {};
        const void *data;
        size_t len;
        int r = 0;

        SD_JOURNAL_FOREACH_DATA(j, data, len) {
                const char *d = data, *v;
                _cleanup_free_ char *field = strndup(d, len);
                if (!field)
                        return -ENOMEM;
                if ((v = startswith(field, "BERTH_EVENT_TYPE=")))
                        r = set_str(&type, v);
                else if ((v = startswith(field, "BERTH_EVENT_ACTION=")))
                        r = set_str(&action, v);
                else if ((v = startswith(field, "BERTH_EVENT_ACTOR=")))
                        r = set_str(&actor, v);
                else if ((v = startswith(field, "BERTH_EVENT_ATTRIBUTE=")))
                        r = strv_push(&attrs, v);
                if (r < 0)
                        return r;
        }
        if (!type || !action || !actor)
                return 0;
        /* What the filters look at, as the live stream tracks it. */
        t.type = streq(type, "container") ? "container" : streq(type, "image") ? "image" : "volume";
        t.id = actor;
        for (char **a = attrs; a && *a; a++) {
                const char *v;
                if ((v = startswith(*a, "name=")))
                        t.name = (char *) v;
                else if ((v = startswith(*a, "image=")))
                        t.image = (char *) v;
                else if (!startswith(*a, "exitCode=") && !startswith(*a, "oldName=") && strv_push(&t.labels, *a) < 0) {
                        strv_free(t.labels);
                        return -ENOMEM;
                }
        }
        EventSource filter = { .filters = filters };
        bool match = event_matches(&filter, type, action, &t, actor);
        strv_free(t.labels);
        if (!match)
                return 0;
        if (attrs)
                qsort(attrs, strv_length(attrs), sizeof(char *), compare_strings);
        sink(NULL, type, action, actor, attrs, usec, userdata);
        return 0;
}

int event_source_replay_journal(char **filters, uint64_t since, uint64_t until, event_sink_t sink, void *userdata) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        int r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r >= 0)
                r = sd_journal_add_match(j, EVENT_JOURNAL_MATCH_ID, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, EVENT_JOURNAL_MATCH_UNIT, 0);
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, since);
        while (r >= 0 && (r = sd_journal_next(j)) > 0) {
                uint64_t usec;
                r = sd_journal_get_realtime_usec(j, &usec);
                if (r < 0 || usec < since)
                        continue;
                if (until > 0 && usec > until)
                        break;
                r = replay_entry(j, filters, sink, userdata, usec);
        }
        return r < 0 ? r : 0;
}
