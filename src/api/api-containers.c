/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /containers/...: list, inspect, create, start/stop/..., wait, remove. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-inspect.h"
#include "ctl-objects.h"
#include "errors.h"
#include "json-util.h"
#include "util.h"

int api_lookup_container(ApiConn *c, const char *name, char **ret_path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = ctl_get_container(c->server->bus, name, &error, ret_path);
        if (r >= 0)
                return 1;
        if (ctl_bus_error_is_not_found(&error)) {
                r = api_reply_error(c, 404, "No such container: %s", name);
                return r < 0 ? r : 0;
        }
        r = api_reply_bus_error(c, &error, r);
        return r < 0 ? r : 0;
}

int api_body_json(ApiConn *c, json_object **ret) {
        json_object *o = NULL;
        int r;

        if (c->body_len == 0)
                o = json_object_new_object();
        else if (json_parse_buffer(c->body, c->body_len, &o) < 0 || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                r = api_reply_error(c, 400, "invalid JSON in the request body");
                return r < 0 ? r : 0;
        }
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 1;
}

/* "a,b" → labels object from "key=value" strings. */
static json_object *labels_json(char **labels) {
        json_object *o = json_object_new_object();
        for (char **l = labels; o && l && *l; l++) {
                const char *eq = strchr(*l, '=');
                _cleanup_free_ char *k = eq ? strndup(*l, (size_t) (eq - *l)) : strdup(*l);
                if (k)
                        json_object_object_add(o, k, json_object_new_string(eq ? eq + 1 : ""));
        }
        return o;
}

static json_object *ports_json(char **ports) {
        json_object *a = json_object_new_array();
        for (char **p = ports; a && p && *p; p++) {
                char proto[16], ip[64];
                unsigned port, host_port;
                if (sscanf(*p, "%15[^\t]\t%u\t%63[^\t]\t%u", proto, &port, ip, &host_port) != 4)
                        continue;
                json_object *o = json_object_new_object();
                if (!o)
                        break;
                json_object_object_add(o, "IP", json_object_new_string(ip));
                json_object_object_add(o, "PrivatePort", json_object_new_int((int32_t) port));
                json_object_object_add(o, "PublicPort", json_object_new_int((int32_t) host_port));
                json_object_object_add(o, "Type", json_object_new_string(proto));
                json_object_array_add(a, o);
        }
        return a;
}

/* The networks part of a list entry: name → {NetworkID, IPAddress, ...}. */
static json_object *list_networks_json(char **networks) {
        json_object *o = json_object_new_object();
        for (char **n = networks; o && n && *n; n++) {
                _cleanup_strv_free_ char **f = NULL;
                const char *s = *n;
                for (;;) {
                        const char *tab = strchr(s, '\t');
                        _cleanup_free_ char *x = tab ? strndup(s, (size_t) (tab - s)) : strdup(s);
                        if (!x || strv_push(&f, x) < 0)
                                break;
                        if (!tab)
                                break;
                        s = tab + 1;
                }
                if (strv_length(f) < 6)
                        continue;
                json_object *e = json_object_new_object();
                if (!e)
                        break;
                json_object_object_add(e, "NetworkID", json_object_new_string(f[1]));
                json_object_object_add(e, "EndpointID", json_object_new_string(strv_length(f) > 6 ? f[6] : ""));
                json_object_object_add(e, "Gateway", json_object_new_string(f[4]));
                json_object_object_add(e, "IPAddress", json_object_new_string(f[2]));
                json_object_object_add(e, "IPPrefixLen", json_object_new_int(atoi(f[3])));
                json_object_object_add(e, "MacAddress", json_object_new_string(f[5]));
                json_object_object_add(o, f[0], e);
        }
        return o;
}

json_object *api_container_summary_json(const ContainerInfo *ci, uint64_t now) {
        json_object *o = json_object_new_object(), *names = json_object_new_array(), *host = json_object_new_object(),
                    *settings = json_object_new_object();
        _cleanup_free_ char *name = strjoin("/", ci->name ?: ""), *command = strv_join(ci->command, " "),
                            *status = ctl_format_status_health(ci->state ?: "", ci->health_status, ci->exit_code,
                                                               ci->started_at, ci->finished_at, now),
                            *image_id = strjoin("sha256:", image_id_strip(ci->image_id ?: ""));
        if (!o || !names || !host || !settings || !name || !command || !status || !image_id) {
                json_object_put(o);
                json_object_put(names);
                json_object_put(host);
                json_object_put(settings);
                return NULL;
        }
        json_object_array_add(names, json_object_new_string(name));
        json_object_object_add(o, "Id", json_object_new_string(ci->id ?: ""));
        json_object_object_add(o, "Names", names);
        json_object_object_add(o, "Image", json_object_new_string(ci->image ?: ""));
        json_object_object_add(o, "ImageID", json_object_new_string(image_id));
        json_object_object_add(o, "Command", json_object_new_string(command));
        json_object_object_add(o, "Created", json_object_new_int64((int64_t) (ci->created_at / USEC_PER_SEC)));
        json_object_object_add(o, "Ports", ports_json(ci->ports));
        json_object_object_add(o, "Labels", labels_json(ci->labels));
        json_object_object_add(o, "State", json_object_new_string(ci->state ?: ""));
        json_object_object_add(o, "Status", json_object_new_string(status));
        json_object_object_add(host, "NetworkMode", json_object_new_string(ci->network_mode ?: "default"));
        json_object_object_add(o, "HostConfig", host);
        json_object_object_add(settings, "Networks", list_networks_json(ci->networks));
        json_object_object_add(o, "NetworkSettings", settings);
        json_object_object_add(o, "Mounts", json_object_new_array());
        return o;
}

static bool state_is_running(const char *state) {
        return state && (streq(state, "running") || streq(state, "paused") || streq(state, "restarting"));
}

/* Docker's filters: {"key": ["value", ...]} (or the old {"key": {"value": true}}). Returns whether
 * ci passes all of them; -EINVAL for a filter we do not know. */
static int filters_match(json_object *filters, const ContainerInfo *ci) {
        json_object_object_foreach(filters, key, values) {
                bool any = false;
                size_t n;
                _cleanup_strv_free_ char **list = NULL;

                if (json_object_is_type(values, json_type_array)) {
                        n = json_object_array_length(values);
                        for (size_t i = 0; i < n; i++)
                                if (strv_push(&list, json_object_get_string(json_object_array_get_idx(values, i))) < 0)
                                        return -ENOMEM;
                } else if (json_object_is_type(values, json_type_object)) {
                        json_object_object_foreach(values, k, v) {
                                (void) v;
                                if (strv_push(&list, k) < 0)
                                        return -ENOMEM;
                        }
                } else
                        return -EINVAL;
                if (!list)
                        continue;
                /* Docker: every label filter must match, of the other keys any value. */
                if (streq(key, "label")) {
                        for (char **v = list; *v; v++)
                                if (!labels_match(ci->labels, *v))
                                        return 0;
                        continue;
                }
                for (char **v = list; *v && !any; v++) {
                        if (streq(key, "id"))
                                any = ci->id && startswith(ci->id, *v);
                        else if (streq(key, "name"))
                                any = ci->name && (strstr(ci->name, startswith(*v, "/") ?: *v) != NULL);
                        else if (streq(key, "status"))
                                any = streq_ptr(ci->state, *v);
                        else if (streq(key, "health"))
                                any = streq(isempty(ci->health_status) ? "none" : ci->health_status, *v);
                        else if (streq(key, "label"))
                                any = labels_match(ci->labels, *v);
                        else if (streq(key, "ancestor"))
                                any = streq_ptr(ci->image, *v) ||
                                        (ci->image_id && startswith(image_id_strip(ci->image_id), image_id_strip(*v)));
                        else
                                return -EINVAL;
                }
                if (!any)
                        return 0;
        }
        return 1;
}

/* Newest first, as docker ps lists them. */
static int compare_created(const void *x, const void *y) {
        json_object *a = *(json_object *const *) x, *b = *(json_object *const *) y, *ca = NULL, *cb = NULL;
        (void) json_object_object_get_ex(a, "Created", &ca);
        (void) json_object_object_get_ex(b, "Created", &cb);
        int64_t ta = json_object_get_int64(ca), tb = json_object_get_int64(cb);
        return ta < tb ? 1 : ta > tb ? -1 : 0;
}

static bool filters_known(json_object *filters) {
        static const char *const known[] = { "id", "name", "status", "label", "ancestor", "health" };
        json_object_object_foreach(filters, key, values) {
                bool found = false;
                (void) values;
                for (size_t i = 0; i < ELEMENTSOF(known); i++)
                        found = found || streq(key, known[i]);
                if (!found)
                        return false;
        }
        return true;
}

int api_containers_list(ApiConn *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList list = {};
        _cleanup_json_ json_object *filters = NULL;
        const char *f = api_query(c, "filters"), *limit_s = api_query(c, "limit");
        bool all = api_query_bool(c, "all");
        int limit = -1, r;

        if (f && !isempty(f) &&
            (json_parse_buffer(f, strlen(f), &filters) < 0 || !json_object_is_type(filters, json_type_object)))
                return api_reply_error(c, 400, "invalid filters: %s", f);
        if (filters && !filters_known(filters))
                return api_reply_error(c, 400, "invalid filter in %s", f);
        if (limit_s && !isempty(limit_s) && parse_int(limit_s, &limit) < 0)
                return api_reply_error(c, 400, "invalid limit: %s", limit_s);
        if (limit > 0)
                all = true;

        r = object_list_fetch(c->server->bus, &error, &list);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);

        _cleanup_json_ json_object *a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        uint64_t now = now_realtime_usec();
        for (size_t i = 0; i < list.n_containers; i++) {
                const ContainerInfo *ci = &list.containers[i];
                if (!all && !state_is_running(ci->state))
                        continue;
                if (filters) {
                        r = filters_match(filters, ci);
                        if (r == -EINVAL)
                                return api_reply_error(c, 400, "invalid filter in %s", f);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                continue;
                }
                json_object *o = api_container_summary_json(ci, now);
                if (!o)
                        return -ENOMEM;
                json_object_array_add(a, o);
        }
        json_object_array_sort(a, compare_created);
        while (limit > 0 && json_object_array_length(a) > (size_t) limit)
                json_object_array_del_idx(a, json_object_array_length(a) - 1, 1);
        return api_reply_json(c, 200, a);
}

/* Docker before API 1.44 lists a container's short id among its aliases on user networks (it
 * answers to it in DNS, as with berthd); docker-compose 1.29 looks for it there to tell a container
 * connected with its aliases at create from one it must disconnect and connect again. */
static int add_short_id_aliases(json_object *o, const char *id) {
        json_object *settings = NULL, *networks = NULL;
        char short_id[13];

        if (!id || !json_object_object_get_ex(o, "NetworkSettings", &settings) ||
            !json_object_object_get_ex(settings, "Networks", &networks) ||
            !json_object_is_type(networks, json_type_object))
                return 0;
        snprintf(short_id, sizeof short_id, "%s", id);
        json_object_object_foreach(networks, name, e) {
                json_object *aliases = NULL;
                bool found = false;
                if (streq(name, "bridge") || streq(name, "host") || streq(name, "none") ||
                    !json_object_is_type(e, json_type_object))
                        continue;
                if (!json_object_object_get_ex(e, "Aliases", &aliases) ||
                    !json_object_is_type(aliases, json_type_array)) {
                        aliases = json_object_new_array();
                        if (!aliases || json_object_object_add(e, "Aliases", aliases) < 0) {
                                json_object_put(aliases);
                                return -ENOMEM;
                        }
                }
                for (size_t i = 0; i < json_object_array_length(aliases); i++) {
                        const char *a = json_object_get_string(json_object_array_get_idx(aliases, i));
                        found = found || (a && streq(a, short_id));
                }
                if (!found && json_object_array_add(aliases, json_object_new_string(short_id)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* HostConfig.LogConfig: what berth-api's logs read is the journal. docker-compose shows the logs
 * only of containers whose log driver it knows to be readable (journald is one). */
static int add_log_config(json_object *o) {
        json_object *host = NULL, *lc;
        if (!json_object_object_get_ex(o, "HostConfig", &host) || !json_object_is_type(host, json_type_object) ||
            json_object_object_get_ex(host, "LogConfig", NULL))
                return 0;
        lc = json_object_new_object();
        if (!lc || json_object_object_add(host, "LogConfig", lc) < 0) {
                json_object_put(lc);
                return -ENOMEM;
        }
        if (json_object_object_add(lc, "Type", json_object_new_string("journald")) < 0 ||
            json_object_object_add(lc, "Config", json_object_new_object()) < 0)
                return -ENOMEM;
        return 0;
}

int api_container_inspect(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(container_info_done) ContainerInfo ci = {};
        _cleanup_free_ char *path = NULL;
        _cleanup_json_ json_object *o = NULL;
        int r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        container_info_init(&ci);
        r = container_info_get(c->server->bus, path, &error, &ci);
        if (r >= 0)
                r = container_info_get_secrets(c->server->bus, &ci, &error);
        if (r < 0) {
                if (ctl_bus_error_is_not_found(&error) || sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_OBJECT))
                        return api_reply_error(c, 404, "No such container: %s", name);
                return api_reply_bus_error(c, &error, r);
        }
        r = ctl_container_json(&ci, &o);
        if (r >= 0)
                r = add_short_id_aliases(o, ci.id);
        if (r >= 0)
                r = add_log_config(o);
        if (r < 0)
                return r;
        return api_reply_json(c, 200, o);
}

/* Docker's strslice: a string or an array of strings; null or absent leaves *ret NULL and
 * returns 0, 1 when present. -EINVAL for another type. */
static int get_strslice(json_object *o, const char *key, char ***ret) {
        json_object *v;
        _cleanup_strv_free_ char **l = NULL;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        if (json_object_is_type(v, json_type_string)) {
                if (strv_push(&l, json_object_get_string(v)) < 0)
                        return -ENOMEM;
        } else if (json_object_is_type(v, json_type_array)) {
                size_t n = json_object_array_length(v);
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        json_object *x = json_object_array_get_idx(v, i);
                        if (!json_object_is_type(x, json_type_string))
                                return -EINVAL;
                        if (strv_push(&l, json_object_get_string(x)) < 0)
                                return -ENOMEM;
                }
        } else
                return -EINVAL;
        *ret = TAKE_PTR(l);
        return 1;
}

/* A member of type t, or NULL when absent or null; -EINVAL (and NULL) when of another type. */
static int get_typed(json_object *o, const char *key, json_type t, json_object **ret) {
        json_object *v = NULL;
        *ret = NULL;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, t) && !(t == json_type_double && json_object_is_type(v, json_type_int)))
                return -EINVAL;
        *ret = v;
        return 1;
}

static int append_string_option(sd_bus_message *m, json_object *o, const char *key, const char *option) {
        json_object *v;
        int r = get_typed(o, key, json_type_string, &v);
        if (r <= 0 || isempty(json_object_get_string(v)))
                return r;
        return sd_bus_message_append(m, "{sv}", option, "s", json_object_get_string(v));
}

static int append_bool_option(sd_bus_message *m, json_object *o, const char *key, const char *option) {
        json_object *v;
        int r = get_typed(o, key, json_type_boolean, &v);
        if (r <= 0 || !json_object_get_boolean(v))
                return r;
        return sd_bus_message_append(m, "{sv}", option, "b", 1);
}

/* A positive integer as a t option (0 means "not set" in Docker's fields). */
static int append_u64_option(sd_bus_message *m, json_object *o, const char *key, const char *option, uint64_t div) {
        json_object *v;
        int r = get_typed(o, key, json_type_int, &v);
        if (r <= 0)
                return r;
        int64_t x = json_object_get_int64(v);
        if (x < 0 && x != -1)
                return -EINVAL;
        if (x <= 0)
                return 0;
        return sd_bus_message_append(m, "{sv}", option, "t", (uint64_t) x / div);
}

static int append_strv_option(sd_bus_message *m, json_object *o, const char *key, const char *option) {
        _cleanup_strv_free_ char **l = NULL;
        int r = get_strslice(o, key, &l);
        if (r <= 0 || strv_length(l) == 0)
                return r;
        return ctl_bus_append_strv_option(m, option, l);
}

static int open_array_option(sd_bus_message *m, const char *key, const char *element) {
        char v[32], a[32];
        snprintf(a, sizeof a, "%s", element);
        snprintf(v, sizeof v, "a%s", element);
        int r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', v);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', a);
        return r;
}

static int close_array_option(sd_bus_message *m) {
        int r = 0;
        for (int i = 0; r >= 0 && i < 3; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

/* One of HostConfig.Binds: "source:destination[:options]"; a source that is no absolute path
 * names a volume. */
static int append_bind(sd_bus_message *m, const char *bind) {
        _cleanup_free_ char *copy = strdup(bind);
        if (!copy)
                return -ENOMEM;
        char *src = copy, *dst = strchr(copy, ':'), *opts = NULL;
        if (!dst || dst == src)
                return -EINVAL;
        *dst++ = 0;
        opts = strchr(dst, ':');
        if (opts)
                *opts++ = 0;
        if (dst[0] != '/')
                return -EINVAL;
        bool ro = false;
        for (char *o = opts, *save = NULL, *t; o && (t = strtok_r(o, ",", &save)); o = NULL)
                if (streq(t, "ro"))
                        ro = true;
                else if (!streq(t, "rw") && !streq(t, "z") && !streq(t, "Z") && !streq(t, "rprivate") &&
                         !streq(t, "private") && !streq(t, "nocopy"))
                        return -EINVAL;
        return sd_bus_message_append(m, "(sssb)", src[0] == '/' ? "bind" : "volume", src, dst, ro);
}

/* One of HostConfig.Mounts (the long syntax): {Type bind|volume|tmpfs, Source, Target, ReadOnly}.
 * Options berthd has no field for (BindOptions, VolumeOptions, TmpfsOptions) are ignored, as
 * unknown fields are. */
static int append_mount(sd_bus_message *m, json_object *mount) {
        const char *type = json_get_string(mount, "Type") ?: "volume", *src = json_get_string(mount, "Source") ?: "",
                   *dst = json_get_string(mount, "Target");
        if (!json_object_is_type(mount, json_type_object) || isempty(dst) || dst[0] != '/' ||
            (!streq(type, "bind") && !streq(type, "volume") && !streq(type, "tmpfs")) ||
            (streq(type, "bind") && src[0] != '/'))
                return -EINVAL;
        return sd_bus_message_append(m, "(sssb)", type, src, dst, json_get_bool(mount, "ReadOnly", 0) > 0);
}

/* One of HostConfig.Tmpfs: path → mount options; of these only "ro" has a berthd field (berthd
 * sizes its tmpfs mounts itself), the others are ignored. */
static int append_tmpfs(sd_bus_message *m, const char *path, json_object *options) {
        bool ro = false;
        if (path[0] != '/' || (options && !json_object_is_type(options, json_type_string)))
                return -EINVAL;
        _cleanup_free_ char *copy = strdup(options ? json_object_get_string(options) : "");
        if (!copy)
                return -ENOMEM;
        for (char *o = copy, *save = NULL, *t; (t = strtok_r(o, ",", &save)); o = NULL)
                ro = ro || streq(t, "ro");
        return sd_bus_message_append(m, "(sssb)", "tmpfs", "", path, ro);
}

/* HostConfig.Binds, Mounts and Tmpfs, as one Mounts option. */
static int append_mounts(sd_bus_message *m, json_object *host) {
        _cleanup_strv_free_ char **binds = NULL;
        json_object *mounts = NULL, *tmpfs = NULL;
        int r = get_strslice(host, "Binds", &binds);
        if (r >= 0)
                r = get_typed(host, "Mounts", json_type_array, &mounts);
        if (r >= 0)
                r = get_typed(host, "Tmpfs", json_type_object, &tmpfs);
        if (r < 0)
                return r;
        if (strv_length(binds) == 0 && (!mounts || json_object_array_length(mounts) == 0) &&
            (!tmpfs || json_object_object_length(tmpfs) == 0))
                return 0;
        r = open_array_option(m, "Mounts", "(sssb)");
        for (char **b = binds; r >= 0 && b && *b; b++)
                r = append_bind(m, *b);
        for (size_t i = 0; r >= 0 && mounts && i < json_object_array_length(mounts); i++)
                r = append_mount(m, json_object_array_get_idx(mounts, i));
        if (tmpfs) {
                json_object_object_foreach(tmpfs, path, options) {
                        if (r < 0)
                                break;
                        r = append_tmpfs(m, path, options);
                }
        }
        return r < 0 ? r : close_array_option(m);
}

/* "80/tcp" → port and protocol. */
static int parse_port_key(const char *key, unsigned *ret_port, char ret_proto[static 8]) {
        unsigned port;
        char proto[8] = "tcp";
        int n = 0;
        if (sscanf(key, "%u%n", &port, &n) != 1 || port == 0 || port > 65535)
                return -EINVAL;
        if (key[n] == '/') {
                if (strlen(key + n + 1) >= sizeof proto)
                        return -EINVAL;
                strcpy(proto, key + n + 1);
        } else if (key[n] != 0)
                return -EINVAL;
        if (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp"))
                return -EINVAL;
        *ret_port = port;
        memcpy(ret_proto, proto, 8);
        return 0;
}

static int append_port_bindings(sd_bus_message *m, json_object *host) {
        json_object *pb;
        int r = get_typed(host, "PortBindings", json_type_object, &pb);
        if (r <= 0 || json_object_object_length(pb) == 0)
                return r;
        r = open_array_option(m, "PortBindings", "(sqsqq)");
        json_object_object_foreach(pb, key, list) {
                unsigned port;
                char proto[8];
                if (r < 0)
                        return r;
                if (parse_port_key(key, &port, proto) < 0)
                        return -EINVAL;
                if (!list)
                        continue;
                if (!json_object_is_type(list, json_type_array))
                        return -EINVAL;
                for (size_t i = 0; r >= 0 && i < json_object_array_length(list); i++) {
                        json_object *b = json_object_array_get_idx(list, i);
                        const char *ip = json_get_string(b, "HostIp") ?: "", *hp = json_get_string(b, "HostPort") ?: "";
                        unsigned first = 0, last = 0;
                        int n = 0;
                        if (!isempty(hp)) {
                                if (sscanf(hp, "%u%n", &first, &n) != 1 || first == 0 || first > 65535)
                                        return -EINVAL;
                                last = first;
                                if (hp[n] == '-' &&
                                    (sscanf(hp + n + 1, "%u", &last) != 1 || last < first || last > 65535))
                                        return -EINVAL;
                                if (hp[n] != 0 && hp[n] != '-')
                                        return -EINVAL;
                        }
                        r = sd_bus_message_append(m, "(sqsqq)", proto, (uint16_t) port, ip, (uint16_t) first,
                                                  (uint16_t) last);
                }
        }
        return r < 0 ? r : close_array_option(m);
}

static int append_exposed_ports(sd_bus_message *m, json_object *config) {
        json_object *ep;
        int r = get_typed(config, "ExposedPorts", json_type_object, &ep);
        if (r <= 0 || json_object_object_length(ep) == 0)
                return r;
        r = open_array_option(m, "ExposedPorts", "(sq)");
        json_object_object_foreach(ep, key, v) {
                unsigned port;
                char proto[8];
                (void) v;
                if (r < 0)
                        return r;
                if (parse_port_key(key, &port, proto) < 0)
                        return -EINVAL;
                r = sd_bus_message_append(m, "(sq)", proto, (uint16_t) port);
        }
        return r < 0 ? r : close_array_option(m);
}

static int append_restart_policy(sd_bus_message *m, json_object *host) {
        json_object *rp;
        int r = get_typed(host, "RestartPolicy", json_type_object, &rp);
        if (r <= 0)
                return r;
        const char *name = json_get_string(rp, "Name");
        if (isempty(name))
                return 0;
        r = sd_bus_message_append(m, "{sv}", "RestartPolicy", "s", name);
        int64_t max = json_get_i64(rp, "MaximumRetryCount", 0);
        if (r >= 0 && max > 0)
                r = sd_bus_message_append(m, "{sv}", "RestartMaxRetries", "u", (uint32_t) max);
        return r;
}

/* Docker's Healthcheck {Test, Interval, Timeout, StartPeriod, StartInterval (nanoseconds), Retries}. */
static int append_healthcheck(sd_bus_message *m, json_object *body) {
        _cleanup_strv_free_ char **test = NULL;
        json_object *hc;
        int r = get_typed(body, "Healthcheck", json_type_object, &hc);
        if (r <= 0)
                return r;
        r = get_strslice(hc, "Test", &test);
        if (r > 0 && strv_length(test) > 0) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "HealthCmd");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, test);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = append_u64_option(m, hc, "Interval", "HealthIntervalUSec", 1000);
        if (r >= 0)
                r = append_u64_option(m, hc, "Timeout", "HealthTimeoutUSec", 1000);
        if (r >= 0)
                r = append_u64_option(m, hc, "StartPeriod", "HealthStartPeriodUSec", 1000);
        if (r >= 0)
                r = append_u64_option(m, hc, "StartInterval", "HealthStartIntervalUSec", 1000);
        int64_t retries = json_get_i64(hc, "Retries", 0);
        if (r >= 0 && retries > 0 && retries <= UINT32_MAX)
                r = sd_bus_message_append(m, "{sv}", "HealthRetries", "u", (uint32_t) retries);
        return r;
}

/* HostConfig.LogConfig: Type (--log-driver) and Config (--log-opt, all values strings), as
berthctl's flags (docs/LOGGING.md); berthd checks the driver, the mode and the names. A value or key
berth does not take: -EINVAL with Docker's sentence in *ret_message. */
static int append_log_config(sd_bus_message *m, json_object *host, char **ret_message) {
        json_object *lc, *config = NULL;
        int r = get_typed(host, "LogConfig", json_type_object, &lc);
        if (r <= 0)
                return r;
        if ((r = append_string_option(m, lc, "Type", "LogDriver")) < 0 ||
            (r = get_typed(lc, "Config", json_type_object, &config)) <= 0)
                return r;
        json_object_object_foreach(config, key, value) {
                const char *v = json_object_is_type(value, json_type_string) ? json_object_get_string(value) : NULL;
                uint64_t n = 0;
                if (!v)
                        r = -EINVAL;
                else if (streq(key, "mode"))
                        r = sd_bus_message_append(m, "{sv}", "LogMode", "s", v);
                else if (streq(key, "labels") || streq(key, "env"))
                        r = sd_bus_message_append(m, "{sv}", streq(key, "labels") ? "LogLabels" : "LogEnv", "s", v);
                else if (streq(key, "max-buffer-size"))
                        r = parse_size(v, &n) < 0 || n == 0
                                ? -EINVAL
                                : sd_bus_message_append(m, "{sv}", "LogMaxBufferSize", "t", n);
                else if (streq(key, "rate-limit-interval"))
                        r = ctl_parse_duration(v, &n) < 0 || n == 0
                                ? -EINVAL
                                : sd_bus_message_append(m, "{sv}", "LogRateLimitIntervalUSec", "t", n);
                else if (streq(key, "rate-limit-burst"))
                        r = parse_uint64(v, &n) < 0 || n == 0 || n > UINT32_MAX
                                ? -EINVAL
                                : sd_bus_message_append(m, "{sv}", "LogRateLimitBurst", "u", (uint32_t) n);
                else {
                        /* Docker's words */
                        if (asprintf(ret_message, "unknown log opt '%s' for %s log driver", key,
                                     json_get_string(lc, "Type") ?: "journald") < 0)
                                return -ENOMEM;
                        return -EINVAL;
                }
                if (r == -EINVAL && asprintf(ret_message, "invalid log opt %s: \"%s\"", key, v ?: "") < 0)
                        return -ENOMEM;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int append_create_options(sd_bus_message *m, json_object *body, char **ret_message) {
        json_object *host = NULL;
        _cleanup_strv_free_ char **entrypoint = NULL;
        int r = get_typed(body, "HostConfig", json_type_object, &host);

        if (r >= 0)
                r = append_string_option(m, body, "Hostname", "Hostname");
        if (r >= 0)
                r = append_string_option(m, body, "Domainname", "Domainname");
        if (r >= 0)
                r = append_string_option(m, body, "User", "User");
        if (r >= 0)
                r = append_string_option(m, body, "WorkingDir", "WorkingDir");
        if (r >= 0)
                r = append_string_option(m, body, "StopSignal", "StopSignal");
        if (r >= 0)
                r = append_bool_option(m, body, "Tty", "Tty");
        if (r >= 0)
                r = api_append_kv_option(m, body, "Labels", "Labels");
        if (r >= 0)
                r = append_exposed_ports(m, body);
        if (r >= 0)
                r = append_healthcheck(m, body);
        if (r >= 0)
                r = get_strslice(body, "Entrypoint", &entrypoint);
        if (r > 0) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "Entrypoint");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, entrypoint);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r < 0 || !host)
                return r;
        r = append_bool_option(m, host, "AutoRemove", "AutoRemove");
        if (r >= 0)
                r = append_bool_option(m, host, "Privileged", "Privileged");
        if (r >= 0)
                r = append_bool_option(m, host, "ReadonlyRootfs", "ReadOnly");
        if (r >= 0)
                r = append_bool_option(m, host, "Init", "Init");
        if (r >= 0)
                r = append_bool_option(m, host, "PublishAllPorts", "PublishAllPorts");
        if (r >= 0)
                r = append_u64_option(m, host, "Memory", "MemoryMax", 1);
        if (r >= 0)
                r = append_u64_option(m, host, "PidsLimit", "TasksMax", 1);
        if (r >= 0)
                r = append_u64_option(m, host, "NanoCpus", "CPUQuotaPerSecUSec", 1000);
        if (r >= 0)
                r = append_strv_option(m, host, "CapAdd", "CapAdd");
        if (r >= 0)
                r = append_strv_option(m, host, "CapDrop", "CapDrop");
        if (r >= 0)
                r = append_strv_option(m, host, "Dns", "Dns");
        if (r >= 0)
                r = append_strv_option(m, host, "ExtraHosts", "ExtraHosts");
        if (r >= 0)
                r = append_strv_option(m, host, "VolumesFrom", "VolumesFrom");
        if (r >= 0)
                r = append_mounts(m, host);
        if (r >= 0)
                r = append_port_bindings(m, host);
        if (r >= 0)
                r = append_restart_policy(m, host);
        if (r >= 0)
                r = append_log_config(m, host, ret_message);
        return r;
}

/* HostConfig.NetworkMode and, of NetworkingConfig.EndpointsConfig, the endpoint on that network
 * (or the only one named when NetworkMode is not set, as Docker takes it): Aliases,
 * IPAMConfig.IPv4Address, MacAddress. Docker before API 1.44 connects a new container to one
 * network only; compose connects it to the others afterwards. */
static int append_network_options(sd_bus_message *m, json_object *body) {
        json_object *host = NULL, *nm = NULL, *nc = NULL, *eps = NULL, *ep = NULL, *ipam = NULL;
        _cleanup_strv_free_ char **aliases = NULL;
        const char *mode = NULL;
        int r = get_typed(body, "HostConfig", json_type_object, &host);
        if (r >= 0)
                r = get_typed(host, "NetworkMode", json_type_string, &nm);
        if (r >= 0)
                r = get_typed(body, "NetworkingConfig", json_type_object, &nc);
        if (r >= 0)
                r = get_typed(nc, "EndpointsConfig", json_type_object, &eps);
        if (r < 0)
                return r;
        mode = nm ? json_object_get_string(nm) : NULL;
        if (isempty(mode) || streq(mode, "default"))
                mode = NULL;
        if (eps) {
                json_object_object_foreach(eps, key, v) {
                        if (!mode && json_object_object_length(eps) == 1)
                                mode = key;
                        if (streq_ptr(mode, key))
                                ep = v;
                }
        }
        if (!mode)
                return 0;
        r = sd_bus_message_append(m, "{sv}", "NetworkMode", "s", mode);
        if (r < 0 || !ep)
                return r;
        if (!json_object_is_type(ep, json_type_object) || get_strslice(ep, "Aliases", &aliases) < 0 ||
            get_typed(ep, "IPAMConfig", json_type_object, &ipam) < 0)
                return -EINVAL;
        if (strv_length(aliases) > 0)
                r = ctl_bus_append_strv_option(m, "NetworkAliases", aliases);
        if (r >= 0)
                r = append_string_option(m, ipam, "IPv4Address", "IPAddress");
        if (r >= 0)
                r = append_string_option(m, ep, "MacAddress", "MacAddress");
        return r;
}

int api_container_create(ApiConn *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_json_ json_object *body = NULL;
        _cleanup_strv_free_ char **cmd = NULL, **env = NULL;
        const char *name = api_query(c, "name") ?: "", *image, *path;
        _cleanup_free_ char *id = NULL;
        int r = api_body_json(c, &body);
        if (r <= 0)
                return r;

        image = json_get_string(body, "Image");
        if (isempty(image))
                return api_reply_error(c, 400, "config cannot be empty in order to create a container");
        if (get_strslice(body, "Cmd", &cmd) < 0 || get_strslice(body, "Env", &env) < 0)
                return api_reply_error(c, 400, "Cmd and Env must be arrays of strings");

        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "CreateContainer");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", image, name);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, cmd);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, env);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0) {
                _cleanup_free_ char *message = NULL;
                r = append_create_options(m, body, &message);
                if (r >= 0)
                        r = append_network_options(m, body);
                if (r == -EINVAL)
                        return api_reply_error(c, 400, "%s", message ?: "invalid container configuration");
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_call(c->server->bus, m, CTL_TIMEOUT_LONG, &error, &reply);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, BERTH_ERROR_NO_SUCH_IMAGE))
                        return api_reply_error(c, 404, "No such image: %s", image);
                return api_reply_bus_error(c, &error, r);
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        r = ctl_object_path_id(path, &id);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "Id", json_object_new_string(id));
        json_object_object_add(o, "Warnings", json_object_new_array());
        return api_reply_json(c, 201, o);
}

typedef struct ActionRequest {
        const char *action;
        char *name;
} ActionRequest;

static void action_request_free(void *p) {
        ActionRequest *a = p;
        if (a)
                free(a->name);
        free(a);
}

static int action_set_userdata(ApiConn *c, const char *action, const char *name) {
        ActionRequest *a = calloc(1, sizeof(ActionRequest));
        if (!a || !(a->name = strdup(name))) {
                free(a);
                return -ENOMEM;
        }
        a->action = action;
        c->userdata = a;
        c->userdata_free = action_request_free;
        return 0;
}

static int on_action_reply(ApiConn *c, sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        ActionRequest *a = c->userdata;

        if (!e)
                return api_reply(c, 204, NULL, NULL, 0);
        /* Docker's "nothing to do" answers. */
        if ((streq(a->action, "start") && sd_bus_error_has_name(e, BERTH_ERROR_CONTAINER_RUNNING)) ||
            (streq(a->action, "stop") && sd_bus_error_has_name(e, BERTH_ERROR_CONTAINER_NOT_RUNNING)))
                return api_reply(c, 304, NULL, NULL, 0);
        if (sd_bus_error_has_name(e, BERTH_ERROR_NO_SUCH_CONTAINER) ||
            sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return api_reply_error(c, 404, "No such container: %s", a->name);
        if (streq(a->action, "kill") && sd_bus_error_has_name(e, BERTH_ERROR_CONTAINER_NOT_RUNNING))
                return api_reply_error(c, 409, "Container %s is not running", a->name);
        return api_reply_bus_error(c, e, -EIO);
}

/* A signal by number, or by name with or without "SIG" in any case. -1 when it is none. */
static int parse_signal(const char *s) {
        int n;
        if (parse_int(s, &n) >= 0)
                return n > 0 && n < NSIG ? n : -1;
        const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (int i = 1; i < NSIG; i++) {
                const char *abbrev = sigabbrev_np(i);
                if (abbrev && strcasecmp(abbrev, name) == 0)
                        return i;
        }
        return -1;
}

/* ?t= as a stop timeout: UINT32_MAX (the container's own) when absent, -1 for none (Docker waits
 * forever; berthd's longest is a day). -EINVAL when it is no number. */
static int parse_stop_timeout(ApiConn *c, uint32_t *ret) {
        const char *t = api_query(c, "t");
        int n;
        *ret = UINT32_MAX;
        if (isempty(t))
                return 0;
        if (parse_int(t, &n) < 0 || n < -1)
                return -EINVAL;
        *ret = n == -1 ? 86400 : (uint32_t) n;
        return 0;
}

int api_container_action(ApiConn *c, const char *name, const char *action) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL;
        const char *member;
        uint32_t timeout = UINT32_MAX;
        int sig = 0, r;

        if (streq(action, "stop") || streq(action, "restart")) {
                const char *s = api_query(c, "signal");
                if (parse_stop_timeout(c, &timeout) < 0)
                        return api_reply_error(c, 400, "invalid value for t: %s", api_query(c, "t"));
                if (!isempty(s) && (sig = parse_signal(s)) < 0)
                        return api_reply_error(c, 400, "invalid signal: %s", s);
                member = streq(action, "stop") ? "StopWithSignal" : "RestartWithSignal";
        } else if (streq(action, "kill")) {
                const char *s = api_query(c, "signal");
                sig = isempty(s) ? SIGKILL : parse_signal(s);
                if (sig < 0)
                        return api_reply_error(c, 400, "invalid signal: %s", s);
                member = "Kill";
        } else if (streq(action, "start"))
                member = "Start";
        else if (streq(action, "pause"))
                member = "Pause";
        else if (streq(action, "unpause"))
                member = "Unpause";
        else
                return api_reply_error(c, 404, "page not found");

        r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        if (streq(action, "start") || streq(action, "stop")) {
                /* Docker's "nothing to do": 304. berthd's Stop of a stopped container succeeds. */
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *state = NULL;
                r = sd_bus_get_property_string(c->server->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "State",
                                               &error, &state);
                if (r < 0)
                        return api_reply_bus_error(c, &error, r);
                if (streq(action, "start") ? streq(state, "running") : !state_is_running(state))
                        return api_reply(c, 304, NULL, NULL, 0);
        }
        r = streq(action, "start") ? api_attach_start_message(c, path, &m) : 0;
        if (r == 0)
                r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER,
                                                   member);
        if (r >= 0 && (streq(action, "stop") || streq(action, "restart")))
                r = sd_bus_message_append(m, "ui", timeout, sig);
        else if (r >= 0 && streq(action, "kill"))
                r = sd_bus_message_append(m, "i", sig);
        if (r >= 0)
                r = action_set_userdata(c, action, name);
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_action_reply);
        return r;
}

int api_container_remove(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL;
        int r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER,
                                           api_query_bool(c, "v") ? "RemoveWithVolumes" : "Remove");
        if (r >= 0)
                r = sd_bus_message_append(m, "b", api_query_bool(c, "force"));
        if (r >= 0)
                r = action_set_userdata(c, "remove", name);
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_LONG, on_action_reply);
        return r;
}

static int on_wait_reply(ApiConn *c, sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        _cleanup_json_ json_object *o = json_object_new_object();
        int32_t code = -1;
        int r;

        if (!o)
                return -ENOMEM;
        if (!e && sd_bus_message_read(reply, "i", &code) < 0)
                code = -1;
        json_object_object_add(o, "StatusCode", json_object_new_int64(code));
        if (e) {
                json_object *err = json_object_new_object();
                if (!err)
                        return -ENOMEM;
                json_object_object_add(err, "Message", json_object_new_string(e->message ?: e->name));
                json_object_object_add(o, "Error", err);
        } else
                json_object_object_add(o, "Error", NULL);
        r = api_stream_json(c, o);
        if (r < 0)
                return r;
        return api_stream_end(c);
}

int api_container_wait(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL;
        const char *condition = api_query(c, "condition") ?: "not-running";
        int r;

        if (!streq(condition, "not-running") && !streq(condition, "next-exit") && !streq(condition, "removed"))
                return api_reply_error(c, 400, "invalid condition: \"%s\"", condition);
        r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER,
                                           "WaitCondition");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", condition);
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_wait_reply);
        if (r < 0)
                return r;
        /* The headers now: the docker CLI waits for them before it starts the container. */
        return api_stream_begin(c, 200, "application/json");
}

int api_container_rename(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        const char *new_name = api_query(c, "name");
        int r;

        if (isempty(new_name))
                return api_reply_error(c, 400, "the new name (name) is required");
        r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        r = ctl_bus_call(c->server->bus, path, BERTH_BUS_CONTAINER, "Rename", CTL_TIMEOUT_DEFAULT, &error, NULL, "s",
                         startswith(new_name, "/") ?: new_name);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        return api_reply(c, 204, NULL, NULL, 0);
}

/* GET /containers/{id}/top: the scope's processes (ps_args is not taken). */
int api_container_top(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL, *state = NULL;
        uint32_t pid, inner;
        const char *cmdline;
        int r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        r = sd_bus_get_property_string(c->server->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "State", &error,
                                       &state);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        if (!state_is_running(state))
                return api_reply_error(c, 409, "Container %s is not running", name);
        r = ctl_bus_call(c->server->bus, path, BERTH_BUS_CONTAINER, "GetProcesses", CTL_TIMEOUT_DEFAULT, &error, &reply,
                         NULL);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);

        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *titles = json_object_new_array(), *procs = json_object_new_array();
        if (!o || !titles || !procs) {
                json_object_put(titles);
                json_object_put(procs);
                return -ENOMEM;
        }
        json_object_array_add(titles, json_object_new_string("PID"));
        json_object_array_add(titles, json_object_new_string("CMD"));
        json_object_object_add(o, "Titles", titles);
        json_object_object_add(o, "Processes", procs);
        r = sd_bus_message_enter_container(reply, 'a', "(uus)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(uus)", &pid, &inner, &cmdline)) > 0) {
                char buf[16];
                json_object *row = json_object_new_array();
                if (!row)
                        return -ENOMEM;
                snprintf(buf, sizeof buf, "%" PRIu32, pid);
                json_object_array_add(row, json_object_new_string(buf));
                json_object_array_add(row, json_object_new_string(cmdline));
                json_object_array_add(procs, row);
        }
        if (r < 0)
                return r;
        return api_reply_json(c, 200, o);
}
