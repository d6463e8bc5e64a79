/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "errors.h"
#include "ctl-objects.h"
#include "util.h"

/* Which property lands where. Properties not in the map, or with another signature than the
 * map expects (a newer daemon), are skipped. */
typedef struct PropertyMap {
        const char *name;
        const char *signature; /* "s", "o", "as", "a{ss}" (as "key=value"), arrays of structs of basic types and "as"
                                * such as "a(stt)" (as tab-separated fields, read_struct_joined()), "t", "u",
                                * "i" or "b" */
        size_t offset;
        bool secret; /* root only, and only by name (Get, not GetAll): may hold passwords */
} PropertyMap;

#define CTL_SETTING_SIG_HOSTNAME     "s"
#define CTL_SETTING_SIG_PATH         "s"
#define CTL_SETTING_SIG_USER         "s"
#define CTL_SETTING_SIG_BOOL         "b"
#define CTL_SETTING_SIG_LIMIT        "t"
#define CTL_SETTING_SIG_SIGNAL       "i"
#define CTL_SETTING_SIG_RESTART      "s"
#define CTL_SETTING_SIG_U32          "u"
#define CTL_SETTING_SIG_CPUSET       "s"
#define CTL_SETTING_SIG_SLICE        "s"
#define CTL_SETTING_SIG_I32          "i"
#define CTL_SETTING_SIG_DOMAIN       "s"
#define CTL_SETTING_SIG_NSMODE       "s"
#define CTL_SETTING_SIG_LOGOPT       "s"
#define CTL_SETTING_SIG_U64          "t"
#define CTL_SETTING_SIG_HEALTHCMD    "as"
#define CTL_SETTING_SIG_DURATION     "t"
#define CTL_SETTING_SIG_HEALTHACTION "s"
#define CTL_SETTING_MAP(field, key, record, spec, kind, flags) \
        { key, CTL_SETTING_SIG_##kind, offsetof(ContainerInfo, field), false },

static const PropertyMap container_map[] = {
        CONTAINER_SETTINGS(CTL_SETTING_MAP){ "Id", "s", offsetof(ContainerInfo, id), false },
        { "Name", "s", offsetof(ContainerInfo, name), false },
        { "Image", "s", offsetof(ContainerInfo, image), false },
        { "ImageId", "s", offsetof(ContainerInfo, image_id), false },
        { "Command", "as", offsetof(ContainerInfo, command), false },
        { "Env", "as", offsetof(ContainerInfo, env), true },
        { "State", "s", offsetof(ContainerInfo, state), false },
        { "ExitCode", "i", offsetof(ContainerInfo, exit_code), false },
        { "Pid", "u", offsetof(ContainerInfo, pid), false },
        { "Unit", "s", offsetof(ContainerInfo, unit), false },
        { "CreatedAt", "t", offsetof(ContainerInfo, created_at), false },
        { "StartedAt", "t", offsetof(ContainerInfo, started_at), false },
        { "FinishedAt", "t", offsetof(ContainerInfo, finished_at), false },
        { "Error", "s", offsetof(ContainerInfo, error), false },
        { "Labels", "a{ss}", offsetof(ContainerInfo, labels), false },
        { "ShmSize", "t", offsetof(ContainerInfo, shm_size), false },
        { "MemorySwapMax", "t", offsetof(ContainerInfo, memory_swap_max), false },
        { "CPUWeight", "t", offsetof(ContainerInfo, cpu_weight), false },
        { "CPUShares", "t", offsetof(ContainerInfo, cpu_shares), false },
        { "StopTimeout", "u", offsetof(ContainerInfo, stop_timeout), false },
        { "OOMKilled", "b", offsetof(ContainerInfo, oom_killed), false },
        { "LogLinesDropped", "t", offsetof(ContainerInfo, log_lines_dropped), false },
        { "Ulimits", "a(stt)", offsetof(ContainerInfo, ulimits), false },
        { "Devices", "a(sss)", offsetof(ContainerInfo, devices), false },
        { "IODeviceLimits", "a(sst)", offsetof(ContainerInfo, io_limits), false },
        { "CapAdd", "as", offsetof(ContainerInfo, cap_add), false },
        { "CapDrop", "as", offsetof(ContainerInfo, cap_drop), false },
        { "Privileged", "b", offsetof(ContainerInfo, privileged), false },
        { "NoNewPrivileges", "b", offsetof(ContainerInfo, no_new_privileges), false },
        { "SeccompProfile", "s", offsetof(ContainerInfo, seccomp_profile), false },
        { "UsernsMode", "s", offsetof(ContainerInfo, userns_mode), false },
        { "UidMapBase", "u", offsetof(ContainerInfo, uid_map_base), false },
        { "Entrypoint", "as", offsetof(ContainerInfo, entrypoint), false },
        { "RestartCount", "u", offsetof(ContainerInfo, restart_count), false },
        { "VolumesFrom", "as", offsetof(ContainerInfo, volumes_from), false },
        { "GroupAdd", "as", offsetof(ContainerInfo, group_add), false },
        { "Sysctls", "a{ss}", offsetof(ContainerInfo, sysctls), false },
        { "MountPoints", "a(ssssssb)", offsetof(ContainerInfo, mount_points), false },
        { "NetworkMode", "s", offsetof(ContainerInfo, network_mode), false },
        { "NetworkAliases", "as", offsetof(ContainerInfo, network_aliases), false },
        { "IPAddress", "s", offsetof(ContainerInfo, ip_address), false },
        { "MacAddress", "s", offsetof(ContainerInfo, mac_address), false },
        { "Dns", "as", offsetof(ContainerInfo, dns), false },
        { "DnsSearch", "as", offsetof(ContainerInfo, dns_search), false },
        { "DnsOptions", "as", offsetof(ContainerInfo, dns_options), false },
        { "ExtraHosts", "as", offsetof(ContainerInfo, extra_hosts), false },
        { "PortBindings", "a(sqsqq)", offsetof(ContainerInfo, port_bindings), false },
        { "ExposedPorts", "a(sq)", offsetof(ContainerInfo, exposed_ports), false },
        { "PublishAllPorts", "b", offsetof(ContainerInfo, publish_all_ports), false },
        { "Ports", "a(sqsq)", offsetof(ContainerInfo, ports), false },
        { "Networks", "a(sssusssas)", offsetof(ContainerInfo, networks), false },
        { "HealthStatus", "s", offsetof(ContainerInfo, health_status), false },
        { "HealthFailingStreak", "u", offsetof(ContainerInfo, health_failing_streak), false },
        { "HealthLog", "a(ttis)", offsetof(ContainerInfo, health_log), false },
        {},
};

static const PropertyMap image_map[] = {
        { "Id", "s", offsetof(ImageInfo, id), false },
        { "RepoTags", "as", offsetof(ImageInfo, repo_tags), false },
        { "Created", "t", offsetof(ImageInfo, created), false },
        { "Size", "t", offsetof(ImageInfo, size), false },
        { "Layers", "as", offsetof(ImageInfo, layers), false },
        { "Cmd", "as", offsetof(ImageInfo, cmd), false },
        { "Env", "as", offsetof(ImageInfo, env), false },
        { "Labels", "a{ss}", offsetof(ImageInfo, labels), false },
        { "RepoDigests", "as", offsetof(ImageInfo, repo_digests), false },
        { "Architecture", "s", offsetof(ImageInfo, architecture), false },
        { "Os", "s", offsetof(ImageInfo, os), false },
        {},
};

static const PropertyMap volume_map[] = {
        { "Name", "s", offsetof(VolumeInfo, name), false },
        { "Driver", "s", offsetof(VolumeInfo, driver), false },
        { "Mountpoint", "s", offsetof(VolumeInfo, mountpoint), false },
        { "CreatedAt", "t", offsetof(VolumeInfo, created_at), false },
        { "Labels", "a{ss}", offsetof(VolumeInfo, labels), false },
        { "Options", "a{ss}", offsetof(VolumeInfo, options), true },
        { "UsedBy", "as", offsetof(VolumeInfo, used_by), false },
        {},
};

/* One struct of an array, whose members are basic types or "as": the members joined with tabs, an
 * "as" member joined with ',', booleans as "true"/"false". 0 at the end of the array. */
static const PropertyMap network_map[] = {
        { "Id", "s", offsetof(NetworkInfo, id), false },
        { "Name", "s", offsetof(NetworkInfo, name), false },
        { "Driver", "s", offsetof(NetworkInfo, driver), false },
        { "Scope", "s", offsetof(NetworkInfo, scope), false },
        { "Subnet", "s", offsetof(NetworkInfo, subnet), false },
        { "Gateway", "s", offsetof(NetworkInfo, gateway), false },
        { "IPRange", "s", offsetof(NetworkInfo, ip_range), false },
        { "Internal", "b", offsetof(NetworkInfo, internal), false },
        { "IPv6", "b", offsetof(NetworkInfo, ipv6), false },
        { "Labels", "a{ss}", offsetof(NetworkInfo, labels), false },
        { "Options", "a{ss}", offsetof(NetworkInfo, options), false },
        { "CreatedAt", "t", offsetof(NetworkInfo, created_at), false },
        { "BridgeName", "s", offsetof(NetworkInfo, bridge_name), false },
        { "Containers", "a(ssss)", offsetof(NetworkInfo, containers), false },
        {},
};

static int read_struct_joined(sd_bus_message *m, const char *members, char **ret) {
        _cleanup_free_ char *out = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t len = 0;
        int r = sd_bus_message_enter_container(m, 'r', members);
        if (r <= 0)
                return r;
        f = open_memstream(&out, &len);
        if (!f)
                return -ENOMEM;
        for (const char *t = members; *t; t++) {
                union {
                        const char *s;
                        uint64_t t;
                        int64_t x;
                        uint32_t u;
                        int32_t i;
                        uint16_t q;
                        int16_t n;
                        uint8_t y;
                        int b;
                } v = {};
                if (t != members)
                        fputc('\t', f);
                if (*t == 'a') {
                        _cleanup_strv_free_ char **l = NULL;
                        if (t[1] != 's')
                                return -EBADMSG;
                        t++;
                        if ((r = sd_bus_message_read_strv(m, &l)) < 0)
                                return r;
                        for (char **e = l; e && *e; e++)
                                fprintf(f, "%s%s", e == l ? "" : ",", *e);
                        continue;
                }
                if ((r = sd_bus_message_read_basic(m, *t, &v)) < 0)
                        return r;
                switch (*t) {
                case 's':
                case 'o':
                        fputs(v.s, f);
                        break;
                case 't':
                        fprintf(f, "%" PRIu64, v.t);
                        break;
                case 'x':
                        fprintf(f, "%" PRIi64, v.x);
                        break;
                case 'u':
                        fprintf(f, "%" PRIu32, v.u);
                        break;
                case 'i':
                        fprintf(f, "%" PRIi32, v.i);
                        break;
                case 'q':
                        fprintf(f, "%u", (unsigned) v.q);
                        break;
                case 'n':
                        fprintf(f, "%d", (int) v.n);
                        break;
                case 'y':
                        fprintf(f, "%u", (unsigned) v.y);
                        break;
                case 'b':
                        fputs(v.b ? "true" : "false", f);
                        break;
                default:
                        return -EBADMSG;
                }
        }
        if (fclose(TAKE_PTR(f)) != 0)
                return -ENOMEM;
        if ((r = sd_bus_message_exit_container(m)) < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 1;
}

static int read_one_property(sd_bus_message *m, const PropertyMap *p, void *userdata) {
        void *dest = (uint8_t *) userdata + p->offset;
        int r;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, p->signature);
        if (r < 0)
                return r;
        if (streq(p->signature, "a{ss}")) {
                _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
                const char *k, *v;
                if (!l)
                        return -ENOMEM;
                r = sd_bus_message_enter_container(m, 'a', "{ss}");
                while (r >= 0 && (r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0) {
                        _cleanup_free_ char *kv = NULL;
                        if (asprintf(&kv, "%s=%s", k, v) < 0 || strv_push(&l, kv) < 0)
                                return -ENOMEM;
                }
                if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                        return r;
                strv_free(*(char ***) dest);
                *(char ***) dest = TAKE_PTR(l);
        } else if (startswith(p->signature, "a(")) {
                _cleanup_strv_free_ char **l = NULL;
                _cleanup_free_ char *members = strndup(p->signature + 2, strlen(p->signature) - 3);
                size_t n = 0;
                if (!members)
                        return -ENOMEM;
                r = sd_bus_message_enter_container(m, 'a', p->signature + 1);
                while (r >= 0) {
                        _cleanup_free_ char *joined = NULL;
                        r = read_struct_joined(m, members, &joined);
                        if (r <= 0)
                                break;
                        if (strv_push_counted(&l, &n, joined) < 0)
                                return -ENOMEM;
                }
                if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                        return r;
                strv_free(*(char ***) dest);
                *(char ***) dest = l ? TAKE_PTR(l) : calloc(1, sizeof(char *));
                if (!*(char ***) dest)
                        return -ENOMEM;
        } else if (streq(p->signature, "as")) {
                char **l = NULL;
                r = sd_bus_message_read_strv(m, &l);
                if (r < 0)
                        return r;
                strv_free(*(char ***) dest);
                *(char ***) dest = l;
        } else if (streq(p->signature, "s") || streq(p->signature, "o")) {
                const char *s;
                char *copy;
                r = sd_bus_message_read_basic(m, p->signature[0], &s);
                if (r < 0)
                        return r;
                copy = strdup(s);
                if (!copy)
                        return -ENOMEM;
                free(*(char **) dest);
                *(char **) dest = copy;
        } else {
                r = sd_bus_message_read_basic(m, p->signature[0], dest);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(m);
}

static int read_properties(sd_bus_message *m, const PropertyMap *map, void *userdata) {
        int r;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
                const PropertyMap *p = NULL;
                const char *name;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                for (const PropertyMap *i = map; i->name; i++)
                        if (streq(i->name, name)) {
                                p = i;
                                break;
                        }
                if (p && sd_bus_message_verify_type(m, SD_BUS_TYPE_VARIANT, p->signature) > 0)
                        r = read_one_property(m, p, userdata);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

void container_info_init(ContainerInfo *c) {
        *c = (ContainerInfo){
                .memory_max = UINT64_MAX,
                .cpu_quota_per_sec_usec = UINT64_MAX,
                .tasks_max = UINT64_MAX,
                .memory_swap_max = UINT64_MAX,
                .cpu_weight = UINT64_MAX,
                .stop_timeout = UINT32_MAX,
                .cpu_quota_period_usec = UINT64_MAX,
                .memory_low = UINT64_MAX,
                .blkio_weight = UINT64_MAX,
        };
}

/* How each kind of setting is freed in a ContainerInfo (see CTL_SETTING_CTYPE_*). */
#define CTL_SETTING_FREE_HOSTNAME(p)                            free(p)
#define CTL_SETTING_FREE_PATH(p)                                free(p)
#define CTL_SETTING_FREE_USER(p)                                free(p)
#define CTL_SETTING_FREE_BOOL(p)                                (void) (p)
#define CTL_SETTING_FREE_LIMIT(p)                               (void) (p)
#define CTL_SETTING_FREE_SIGNAL(p)                              (void) (p)
#define CTL_SETTING_FREE_RESTART(p)                             free(p)
#define CTL_SETTING_FREE_U32(p)                                 (void) (p)
#define CTL_SETTING_FREE_CPUSET(p)                              free(p)
#define CTL_SETTING_FREE_SLICE(p)                               free(p)
#define CTL_SETTING_FREE_I32(p)                                 (void) (p)
#define CTL_SETTING_FREE_DOMAIN(p)                              free(p)
#define CTL_SETTING_FREE_NSMODE(p)                              free(p)
#define CTL_SETTING_FREE_LOGOPT(p)                              free(p)
#define CTL_SETTING_FREE_U64(p)                                 (void) (p)
#define CTL_SETTING_FREE_HEALTHCMD(p)                           strv_free(p)
#define CTL_SETTING_FREE_DURATION(p)                            (void) (p)
#define CTL_SETTING_FREE_HEALTHACTION(p)                        free(p)
#define CTL_FREE_SETTING(field, key, record, spec, kind, flags) CTL_SETTING_FREE_##kind(c->field);

void container_info_done(ContainerInfo *c) {
        free(c->object_path);
        free(c->id);
        free(c->name);
        free(c->image);
        free(c->image_id);
        strv_free(c->command);
        strv_free(c->env);
        strv_free(c->labels);
        strv_free(c->ulimits);
        strv_free(c->devices);
        strv_free(c->io_limits);
        /* The settings' own fields, by kind (container-settings-list.h). */
        CONTAINER_SETTINGS(CTL_FREE_SETTING)
        free(c->health_status);
        strv_free(c->health_log);
        free(c->state);
        free(c->unit);
        free(c->error);
        strv_free(c->cap_add);
        strv_free(c->cap_drop);
        free(c->seccomp_profile);
        free(c->userns_mode);
        strv_free(c->entrypoint);
        strv_free(c->volumes_from);
        strv_free(c->group_add);
        strv_free(c->sysctls);
        strv_free(c->mount_points);
        free(c->network_mode);
        strv_free(c->network_aliases);
        free(c->ip_address);
        free(c->mac_address);
        strv_free(c->dns);
        strv_free(c->dns_search);
        strv_free(c->dns_options);
        strv_free(c->extra_hosts);
        strv_free(c->port_bindings);
        strv_free(c->exposed_ports);
        strv_free(c->ports);
        strv_free(c->networks);
        container_info_init(c);
}

void image_info_init(ImageInfo *i) {
        *i = (ImageInfo){};
}

void image_info_done(ImageInfo *i) {
        free(i->object_path);
        free(i->id);
        strv_free(i->repo_tags);
        strv_free(i->layers);
        strv_free(i->cmd);
        strv_free(i->env);
        strv_free(i->labels);
        strv_free(i->repo_digests);
        free(i->architecture);
        free(i->os);
        image_info_init(i);
}

void object_list_done(ObjectList *l) {
        for (size_t i = 0; i < l->n_containers; i++)
                container_info_done(&l->containers[i]);
        for (size_t i = 0; i < l->n_images; i++)
                image_info_done(&l->images[i]);
        free(l->containers);
        free(l->images);
        *l = (ObjectList){};
}

int container_info_read(sd_bus_message *m, ContainerInfo *c) {
        return read_properties(m, container_map, c);
}

int image_info_read(sd_bus_message *m, ImageInfo *i) {
        return read_properties(m, image_map, i);
}

static int get_all(sd_bus *bus, const char *path, const char *interface, sd_bus_error *error,
                   sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, path, "org.freedesktop.DBus.Properties",
                                           "GetAll");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", interface);
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, CTL_TIMEOUT_DEFAULT, error, ret_reply);
}

/* What berthd gives root only is asked for by name; for anybody else it stays unset (NULL). */
static int info_get_secrets(sd_bus *bus, const char *path, const char *interface, const PropertyMap *map, void *info,
                            sd_bus_error *error) {
        for (const PropertyMap *p = map; p->name; p++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *value = NULL;
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                if (!p->secret)
                        continue;
                int r = sd_bus_call_method(bus, BERTH_BUS_SERVICE, path, "org.freedesktop.DBus.Properties", "Get", &e,
                                           &value, "ss", interface, p->name);
                if (r < 0 && sd_bus_error_has_name(&e, BERTH_ERROR_ACCESS_DENIED))
                        continue;
                if (r < 0)
                        return sd_bus_error_copy(error, &e), r;
                r = read_one_property(value, p, info);
                if (r < 0)
                        return r;
        }
        return 0;
}

int container_info_get_secrets(sd_bus *bus, ContainerInfo *c, sd_bus_error *error) {
        return info_get_secrets(bus, c->object_path, BERTH_BUS_CONTAINER, container_map, c, error);
}

/* Properties.GetAll of one object into a struct whose first member is the object path. */
static int info_get(sd_bus *bus, const char *path, const char *interface, const PropertyMap *map, void *info,
                    sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = get_all(bus, path, interface, error, &reply);
        if (r < 0)
                return r;
        char **object_path = info;
        *object_path = strdup(path);
        if (!*object_path)
                return -ENOMEM;
        r = read_properties(reply, map, info);
        if (r < 0)
                return r;
        return info_get_secrets(bus, path, interface, map, info, error);
}

int container_info_get(sd_bus *bus, const char *path, sd_bus_error *error, ContainerInfo *ret) {
        ContainerInfo c;
        container_info_init(&c);
        int r = info_get(bus, path, BERTH_BUS_CONTAINER, container_map, &c, error);
        if (r < 0) {
                container_info_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

int image_info_get(sd_bus *bus, const char *path, sd_bus_error *error, ImageInfo *ret) {
        ImageInfo i;
        image_info_init(&i);
        int r = info_get(bus, path, BERTH_BUS_IMAGE, image_map, &i, error);
        if (r < 0) {
                image_info_done(&i);
                return r;
        }
        *ret = i;
        return 0;
}

int volume_info_get(sd_bus *bus, const char *path, sd_bus_error *error, VolumeInfo *ret) {
        VolumeInfo v = {};
        int r = info_get(bus, path, "org.berth1.Volume", volume_map, &v, error);
        if (r < 0) {
                volume_info_done(&v);
                return r;
        }
        *ret = v;
        return 0;
}

void volume_info_done(VolumeInfo *v) {
        free(v->object_path);
        free(v->name);
        free(v->driver);
        free(v->mountpoint);
        strv_free(v->labels);
        strv_free(v->options);
        strv_free(v->used_by);
        *v = (VolumeInfo){};
}

int network_info_get(sd_bus *bus, const char *path, sd_bus_error *error, NetworkInfo *ret) {
        NetworkInfo n = {};
        int r = info_get(bus, path, "org.berth1.Network", network_map, &n, error);
        if (r < 0) {
                network_info_done(&n);
                return r;
        }
        *ret = n;
        return 0;
}

void network_info_done(NetworkInfo *n) {
        free(n->object_path);
        free(n->id);
        free(n->name);
        free(n->driver);
        free(n->scope);
        free(n->subnet);
        free(n->gateway);
        free(n->ip_range);
        strv_free(n->labels);
        strv_free(n->options);
        free(n->bridge_name);
        strv_free(n->containers);
        *n = (NetworkInfo){};
}

static void volume_info_done_void(void *v) {
        volume_info_done(v);
}

static void network_info_done_void(void *n) {
        network_info_done(n);
}

/* Manager.<method>() (an a(sso), the object path last), then each object's properties into an array of
 * structs of size bytes; objects removed in between are left out. */
static int list_fetch(sd_bus *bus, const char *method, const char *interface, const PropertyMap *map, size_t size,
                      void (*done)(void *), sd_bus_error *error, void **ret, size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint8_t *list = NULL;
        const char *a, *b, *path;
        size_t n = 0;
        int r = ctl_bus_call_manager(bus, method, CTL_TIMEOUT_DEFAULT, error, &reply, NULL);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(sso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sso)", &a, &b, &path)) > 0) {
                uint8_t *l = reallocarray(list, n + 1, size);
                if (!l) {
                        r = -ENOMEM;
                        break;
                }
                list = l;
                memset(list + n * size, 0, size);
                r = info_get(bus, path, interface, map, list + n * size, error);
                if (r >= 0) {
                        n++;
                        continue;
                }
                done(list + n * size);
                if (!ctl_bus_error_is_not_found(error))
                        break;
                sd_bus_error_free(error); /* removed in the meantime */
                r = 0;
        }
        if (r < 0) {
                for (size_t k = 0; k < n; k++)
                        done(list + k * size);
                free(list);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

int volume_list_fetch(sd_bus *bus, sd_bus_error *error, VolumeInfo **ret, size_t *ret_n) {
        return list_fetch(bus, "ListVolumes", "org.berth1.Volume", volume_map, sizeof(VolumeInfo),
                          volume_info_done_void, error, (void **) ret, ret_n);
}

int network_list_fetch(sd_bus *bus, sd_bus_error *error, NetworkInfo **ret, size_t *ret_n) {
        return list_fetch(bus, "ListNetworks", "org.berth1.Network", network_map, sizeof(NetworkInfo),
                          network_info_done_void, error, (void **) ret, ret_n);
}

static int grow(void **array, size_t n, size_t size) {
        /* Room for element n. The lists are short (what one host holds), realloc is enough. */
        void *p = realloc(*array, (n + 1) * size);
        if (!p)
                return -ENOMEM;
        *array = p;
        return 0;
}

/* One "{oa{sa{sv}}}" entry: the interfaces of one object. */
static int read_object(sd_bus_message *m, ObjectList *l) {
        const char *path;
        int r;

        r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sa{sv}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sa{sv}")) > 0) {
                const char *interface;

                r = sd_bus_message_read(m, "s", &interface);
                if (r < 0)
                        return r;
                if (streq(interface, BERTH_BUS_CONTAINER)) {
                        if (grow((void **) &l->containers, l->n_containers, sizeof(ContainerInfo)) < 0)
                                return -ENOMEM;
                        ContainerInfo *c = &l->containers[l->n_containers++];
                        container_info_init(c);
                        c->object_path = strdup(path);
                        r = c->object_path ? container_info_read(m, c) : -ENOMEM;
                } else if (streq(interface, BERTH_BUS_IMAGE)) {
                        if (grow((void **) &l->images, l->n_images, sizeof(ImageInfo)) < 0)
                                return -ENOMEM;
                        ImageInfo *i = &l->images[l->n_images++];
                        image_info_init(i);
                        i->object_path = strdup(path);
                        r = i->object_path ? image_info_read(m, i) : -ENOMEM;
                } else
                        r = sd_bus_message_skip(m, "a{sv}");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int object_list_fetch(sd_bus *bus, sd_bus_error *error, ObjectList *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        ObjectList l = {};
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH,
                                           "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, CTL_TIMEOUT_DEFAULT, error, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "{oa{sa{sv}}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_DICT_ENTRY, "oa{sa{sv}}")) > 0) {
                r = read_object(reply, &l);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                object_list_done(&l);
                return r;
        }
        *ret = l;
        return 0;
}

const ContainerInfo *object_list_find_container(const ObjectList *l, const char *path) {
        for (size_t i = 0; i < l->n_containers; i++)
                if (streq(l->containers[i].object_path, path))
                        return &l->containers[i];
        return NULL;
}

const ImageInfo *object_list_find_image(const ObjectList *l, const char *path) {
        for (size_t i = 0; i < l->n_images; i++)
                if (streq(l->images[i].object_path, path))
                        return &l->images[i];
        return NULL;
}

const char *image_id_strip(const char *id) {
        if (id && strncmp(id, "sha256:", 7) == 0)
                return id + 7;
        return id;
}

const ImageInfo *object_list_find_image_by_id(const ObjectList *l, const char *id) {
        if (isempty(id))
                return NULL;
        for (size_t i = 0; i < l->n_images; i++)
                if (l->images[i].id && streq(image_id_strip(l->images[i].id), image_id_strip(id)))
                        return &l->images[i];
        return NULL;
}
