/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /containers/prune, /images/prune, /volumes/prune, /networks/prune: berthctl's prunes
 * (Manager.PruneImages, PruneVolumesWithFilters, PruneNetworks; stopped containers removed one by
 * one), answered in Docker's shapes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-objects.h"
#include "ctl.h"
#include "json-util.h"
#include "util.h"

/* The query's filters ({"key": ["value", ...]} or the old {"key": {"value": true}}) as berthctl's
 * "key=value" list; "dangling" is taken out into *ret_dangling (-1 when absent). Replies 400 and
 * returns 0 for a filter other than until, label, label! (and dangling when dangling_ok). */
static int prune_filters(ApiConn *c, bool dangling_ok, char ***ret, int *ret_dangling) {
        _cleanup_json_ json_object *filters = NULL;
        _cleanup_strv_free_ char **l = NULL;
        const char *f = api_query(c, "filters");
        int dangling = -1, r;

        if (!isempty(f) &&
            (json_parse_buffer(f, strlen(f), &filters) < 0 || !json_object_is_type(filters, json_type_object))) {
                r = api_reply_error(c, 400, "invalid filters: %s", f);
                return r < 0 ? r : 0;
        }
        if (!filters) {
                *ret = NULL;
                if (ret_dangling)
                        *ret_dangling = -1;
                return 1;
        }
        json_object_object_foreach(filters, key, values) {
                bool is_dangling = dangling_ok && streq(key, "dangling");
                if (!streq(key, "until") && !streq(key, "label") && !streq(key, "label!") && !is_dangling) {
                        r = api_reply_error(c, 400, "invalid filter '%s'", key);
                        return r < 0 ? r : 0;
                }
                _cleanup_strv_free_ char **vals = NULL;
                if (json_object_is_type(values, json_type_array)) {
                        for (size_t i = 0; i < json_object_array_length(values); i++)
                                if (strv_push(&vals,
                                              json_object_get_string(json_object_array_get_idx(values, i)) ?: "") < 0)
                                        return -ENOMEM;
                } else if (json_object_is_type(values, json_type_object)) {
                        json_object_object_foreach(values, k, v) {
                                (void) v;
                                if (strv_push(&vals, k) < 0)
                                        return -ENOMEM;
                        }
                } else {
                        r = api_reply_error(c, 400, "invalid filters: %s", f);
                        return r < 0 ? r : 0;
                }
                for (char **v = vals; v && *v; v++) {
                        if (is_dangling) {
                                dangling = streq(*v, "true") || streq(*v, "1");
                                continue;
                        }
                        _cleanup_free_ char *kv = strjoin(key, "=", *v);
                        if (!kv || strv_push(&l, kv) < 0)
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(l);
        if (ret_dangling)
                *ret_dangling = dangling;
        return 1;
}

/* PruneX(filters) with the filters appended by berthctl's code (400 when it refuses them). */
static int prune_message(ApiConn *c, const char *method, int all, char **filters, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                               method);
        if (r >= 0 && all >= 0)
                r = sd_bus_message_append(m, "b", all);
        if (r < 0)
                return r;
        if (ctl_append_prune_filters(m, filters) < 0) {
                r = api_reply_error(c, 400, "invalid filters: expected until=, label= or label!=");
                return r < 0 ? r : 0;
        }
        *ret = TAKE_PTR(m);
        return 1;
}

int api_images_prune(ApiConn *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_strv_free_ char **filters = NULL;
        _cleanup_json_ json_object *o = json_object_new_object(), *deleted = json_object_new_array();
        uint64_t bytes = 0;
        int dangling, r;

        if (!o || !deleted)
                return -ENOMEM;
        r = prune_filters(c, true, &filters, &dangling);
        if (r > 0)
                /* dangling=false: unused tagged images too (docker image prune -a). */
                r = prune_message(c, "PruneImages", dangling == 0, filters, &m);
        if (r <= 0)
                return r;
        r = sd_bus_call(c->server->bus, m, CTL_TIMEOUT_LONG, &error, &reply);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        r = sd_bus_message_enter_container(reply, 'a', "(sas)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sas")) > 0) {
                _cleanup_strv_free_ char **tags = NULL;
                _cleanup_free_ char *id = NULL;
                const char *digest;
                if ((r = sd_bus_message_read(reply, "s", &digest)) < 0 ||
                    (r = sd_bus_message_read_strv(reply, &tags)) < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
                        break;
                for (char **t = tags; t && *t; t++) {
                        json_object *e = json_object_new_object();
                        if (!e || json_object_array_add(deleted, e) < 0 ||
                            json_object_object_add(e, "Untagged", json_object_new_string(*t)) < 0)
                                return -ENOMEM;
                }
                id = strjoin("sha256:", image_id_strip(digest));
                json_object *e = json_object_new_object();
                if (!id || !e || json_object_array_add(deleted, e) < 0 ||
                    json_object_object_add(e, "Deleted", json_object_new_string(id)) < 0)
                        return -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "t", &bytes);
        if (r < 0)
                return r;
        json_object_object_add(o, "ImagesDeleted",
                               json_object_array_length(deleted) > 0 ? json_object_get(deleted) : NULL);
        json_object_object_add(o, "SpaceReclaimed", json_object_new_int64((int64_t) bytes));
        return api_reply_json(c, 200, o);
}

/* Volumes and networks: an array of names removed. */
static int prune_names(ApiConn *c, const char *method, int all, const char *key) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_strv_free_ char **filters = NULL, **removed = NULL;
        int r = prune_filters(c, false, &filters, NULL);
        if (r > 0)
                r = prune_message(c, method, all, filters, &m);
        if (r <= 0)
                return r;
        r = sd_bus_call(c->server->bus, m, CTL_TIMEOUT_LONG, &error, &reply);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        r = sd_bus_message_read_strv(reply, &removed);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, key, removed ? json_strv_new(removed) : NULL);
        if (streq(key, "VolumesDeleted"))
                json_object_object_add(o, "SpaceReclaimed", json_object_new_int64(0));
        return api_reply_json(c, 200, o);
}

int api_volumes_prune(ApiConn *c) {
        /* API 1.41 prunes every unused local volume, named ones too (1.42 made that "all"). */
        return prune_names(c, "PruneVolumesWithFilters", true, "VolumesDeleted");
}

int api_networks_prune(ApiConn *c) {
        return prune_names(c, "PruneNetworks", -1, "NetworksDeleted");
}

/* Stopped containers, removed one by one as berthctl container prune does. */
int api_containers_prune(ApiConn *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList list = {};
        _cleanup_strv_free_ char **filters = NULL;
        uint64_t now = now_realtime_usec();
        int r = prune_filters(c, false, &filters, NULL);
        if (r <= 0)
                return r;
        r = object_list_fetch(c->server->bus, &error, &list);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);

        _cleanup_json_ json_object *o = json_object_new_object(), *deleted = json_object_new_array();
        if (!o || !deleted)
                return -ENOMEM;
        for (size_t i = 0; i < list.n_containers; i++) {
                const ContainerInfo *ci = &list.containers[i];
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                bool prunable = !ctl_state_is_active(ci->state);
                for (char **f = filters; prunable && f && *f; f++) {
                        uint64_t until;
                        if (startswith(*f, "until=")) {
                                if (ctl_parse_timestamp(*f + 6, now, &until) < 0)
                                        return api_reply_error(c, 400, "invalid filter '%s'", *f);
                                prunable = ci->created_at < until;
                        } else {
                                bool negate = startswith(*f, "label!=");
                                prunable = ctl_labels_match(ci->labels, strchr(*f, '=') + 1) != negate;
                        }
                }
                if (!prunable)
                        continue;
                /* Started or removed meanwhile: not ours to remove any more. */
                if (ctl_bus_call(c->server->bus, ci->object_path, BERTH_BUS_CONTAINER, "Remove", CTL_TIMEOUT_LONG, &e,
                                 NULL, "b", false) < 0)
                        continue;
                if (json_object_array_add(deleted, json_object_new_string(ci->id)) < 0)
                        return -ENOMEM;
        }
        json_object_object_add(o, "ContainersDeleted",
                               json_object_array_length(deleted) > 0 ? json_object_get(deleted) : NULL);
        json_object_object_add(o, "SpaceReclaimed", json_object_new_int64(0));
        return api_reply_json(c, 200, o);
}
