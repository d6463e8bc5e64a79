/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inspect: Docker-shaped JSON for containers and images. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-inspect.h"
#include "ctl-log.h"
#include "ctl-networks.h"
#include "ctl-objects.h"
#include "ctl-output.h"
#include "ctl-template.h"
#include "ctl.h"
#include "util.h"

typedef enum InspectType {
        INSPECT_ANY,
        INSPECT_CONTAINER,
        INSPECT_IMAGE,
        INSPECT_NETWORK,
} InspectType;

static json_object *json_timestamp(uint64_t usec) {
        _cleanup_free_ char *s = format_timestamp_rfc3339(usec);
        return s ? json_object_new_string(s) : NULL;
}

static json_object *json_string_or_empty(const char *s) {
        return json_object_new_string(s ? s : "");
}

static json_object *json_sha256(const char *id) {
        _cleanup_free_ char *s = NULL;

        if (asprintf(&s, "sha256:%s", image_id_strip(id ? id : "")) < 0)
                return NULL;
        return json_object_new_string(s);
}

/* Docker's State.Health: the status, the failing streak and the last results (oldest first). */
static int container_health_json(const ContainerInfo *c, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *log = json_object_new_array();
        int r = o && log ? 0 : -ENOMEM;

        if (r >= 0)
                r = json_add(o, "Status", json_string_or_empty(c->health_status));
        if (r >= 0)
                r = json_add(o, "FailingStreak", json_object_new_int64(c->health_failing_streak));
        for (char **l = c->health_log; r >= 0 && l && *l; l++) {
                unsigned long long start, end;
                int code, off = 0;
                json_object *e = json_object_new_object();
                if (!e || sscanf(*l, "%llu\t%llu\t%d\t%n", &start, &end, &code, &off) != 3 || off == 0) {
                        json_object_put(e);
                        continue;
                }
                if ((r = json_add(e, "Start", json_timestamp(start))) < 0 ||
                    (r = json_add(e, "End", json_timestamp(end))) < 0 ||
                    (r = json_add(e, "ExitCode", json_object_new_int(code))) < 0 ||
                    (r = json_add(e, "Output", json_object_new_string(*l + off))) < 0 ||
                    (r = json_object_array_add(log, e) < 0 ? -ENOMEM : 0) < 0) {
                        json_object_put(e);
                        break;
                }
        }
        if (r >= 0)
                r = json_add(o, "Log", TAKE_PTR(log));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int container_state_json(const ContainerInfo *c, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        int r = o ? 0 : -ENOMEM;

        if (r >= 0)
                r = json_add(o, "Status", json_string_or_empty(c->state));
        /* Docker's flags: a paused or restarting container is still "Running". */
        if (r >= 0)
                r = json_add(o, "Running", json_object_new_boolean(ctl_state_is_active(c->state)));
        if (r >= 0)
                r = json_add(o, "Paused", json_object_new_boolean(c->state && streq(c->state, "paused")));
        if (r >= 0)
                r = json_add(o, "Restarting", json_object_new_boolean(c->state && streq(c->state, "restarting")));
        if (r >= 0)
                r = json_add(o, "OOMKilled", json_object_new_boolean(c->oom_killed));
        if (r >= 0) /* berth's: output lines dropped and reported (docs/LOGGING.md) */
                r = json_add(o, "LogLinesDropped", json_object_new_uint64(c->log_lines_dropped));
        if (r >= 0)
                r = json_add(o, "ExitCode", json_object_new_int(c->exit_code));
        if (r >= 0)
                r = json_add(o, "Pid", json_object_new_int64(c->pid));
        if (r >= 0)
                r = json_add(o, "StartedAt", json_timestamp(c->started_at));
        if (r >= 0)
                r = json_add(o, "FinishedAt", json_timestamp(c->finished_at));
        if (r >= 0)
                r = json_add(o, "Error", json_string_or_empty(c->error));
        if (r >= 0 && !isempty(c->health_status)) {
                json_object *health = NULL;
                r = container_health_json(c, &health);
                if (r >= 0)
                        r = json_add(o, "Health", health);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* Docker's HostConfig.LogConfig: the driver and the options given, as strings. */
static json_object *log_config_json(const ContainerInfo *c) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *config = json_object_new_object();
        char buf[32];
        if (!o || !config)
                return NULL;
        json_object_object_add(o, "Type", json_object_new_string(!isempty(c->log_driver) ? c->log_driver : "journald"));
        if (!isempty(c->log_mode))
                json_object_object_add(config, "mode", json_object_new_string(c->log_mode));
        if (c->log_max_buffer_size > 0) {
                snprintf(buf, sizeof(buf), "%" PRIu64, c->log_max_buffer_size);
                json_object_object_add(config, "max-buffer-size", json_object_new_string(buf));
        }
        if (c->log_rate_limit_interval_usec > 0) {
                uint64_t u = c->log_rate_limit_interval_usec;
                if (u % USEC_PER_SEC == 0)
                        snprintf(buf, sizeof(buf), "%" PRIu64 "s", (uint64_t) (u / USEC_PER_SEC));
                else if (u % USEC_PER_MSEC == 0)
                        snprintf(buf, sizeof(buf), "%" PRIu64 "ms", (uint64_t) (u / USEC_PER_MSEC));
                else
                        snprintf(buf, sizeof(buf), "%" PRIu64 "us", u);
                json_object_object_add(config, "rate-limit-interval", json_object_new_string(buf));
        }
        if (c->log_rate_limit_burst > 0) {
                snprintf(buf, sizeof(buf), "%" PRIu32, c->log_rate_limit_burst);
                json_object_object_add(config, "rate-limit-burst", json_object_new_string(buf));
        }
        if (!isempty(c->log_labels))
                json_object_object_add(config, "labels", json_object_new_string(c->log_labels));
        if (!isempty(c->log_env))
                json_object_object_add(config, "env", json_object_new_string(c->log_env));
        json_object_object_add(o, "Config", TAKE_PTR(config));
        return TAKE_PTR(o);
}

/* Docker's MemorySwap: memory plus swap; -1 for unlimited swap under a memory limit, 0 for none. */
static int64_t docker_memory_swap(const ContainerInfo *c) {
        if (c->memory_max == UINT64_MAX)
                return c->memory_swap_max == UINT64_MAX ? 0 : -1;
        return c->memory_swap_max == UINT64_MAX ? -1 : (int64_t) (c->memory_max + c->memory_swap_max);
}

/* The --shm-size, --ulimit, --device, --memory-swap, --cpu-shares and --stop-timeout fields. */
static int container_resources_json(const ContainerInfo *c, json_object *config, json_object *host) {
        _cleanup_(json_object_putp) json_object *ulimits = json_object_new_array(), *devices = json_object_new_array();
        int r = ulimits && devices ? 0 : -ENOMEM;

        for (char **u = c->ulimits; r >= 0 && u && *u; u++) {
                char name[32];
                unsigned long long soft, hard;
                json_object *e = json_object_new_object();
                if (!e || sscanf(*u, "%31[^\t]\t%llu\t%llu", name, &soft, &hard) != 3) {
                        json_object_put(e);
                        return -EBADMSG;
                }
                /* Docker's -1 for unlimited. */
                json_object_object_add(e, "Name", json_object_new_string(name));
                json_object_object_add(e, "Hard", json_object_new_int64(hard == UINT64_MAX ? -1 : (int64_t) hard));
                json_object_object_add(e, "Soft", json_object_new_int64(soft == UINT64_MAX ? -1 : (int64_t) soft));
                r = json_object_array_add(ulimits, e) < 0 ? -ENOMEM : 0;
        }
        for (char **d = c->devices; r >= 0 && d && *d; d++) {
                _cleanup_free_ char *copy = strdup(*d);
                char *container = copy ? strchr(copy, '\t') : NULL,
                     *permissions = container ? strchr(container + 1, '\t') : NULL;
                if (!permissions)
                        return copy ? -EBADMSG : -ENOMEM;
                *container++ = 0;
                *permissions++ = 0;
                json_object *e = json_object_new_object();
                if (!e)
                        return -ENOMEM;
                json_object_object_add(e, "PathOnHost", json_object_new_string(copy));
                json_object_object_add(e, "PathInContainer", json_object_new_string(container));
                json_object_object_add(e, "CgroupPermissions", json_object_new_string(permissions));
                r = json_object_array_add(devices, e) < 0 ? -ENOMEM : 0;
        }
        if (r >= 0)
                r = json_add(host, "MemorySwap", json_object_new_int64(docker_memory_swap(c)));
        if (r >= 0)
                r = json_add(host, "CpuShares", json_object_new_int64((int64_t) c->cpu_shares));
        if (r >= 0)
                r = c->cpu_weight == UINT64_MAX
                        ? json_add_null(host, "CpuWeight")
                        : json_add(host, "CpuWeight", json_object_new_int64((int64_t) c->cpu_weight));
        if (r >= 0)
                r = json_add(host, "ShmSize", json_object_new_int64((int64_t) c->shm_size));
        if (r >= 0)
                r = json_add(host, "Ulimits", TAKE_PTR(ulimits));
        if (r >= 0)
                r = json_add(host, "Devices", TAKE_PTR(devices));
        /* As Docker: only when it was set. */
        if (r >= 0 && c->stop_timeout != UINT32_MAX)
                r = json_add(config, "StopTimeout", json_object_new_int64(c->stop_timeout));
        return r;
}

/* Docker's BlkioWeightDevice ({Path, Weight}) and BlkioDevice{Read,Write}{Bps,IOps} ({Path, Rate}). */
static int io_limits_json(const ContainerInfo *c, json_object *host) {
        static const struct {
                const char *option, *field, *value;
        } kinds[] = {
                { "BlkioWeightDevice", "BlkioWeightDevice", "Weight" },
                { "IOReadBandwidthMax", "BlkioDeviceReadBps", "Rate" },
                { "IOWriteBandwidthMax", "BlkioDeviceWriteBps", "Rate" },
                { "IOReadIOPSMax", "BlkioDeviceReadIOps", "Rate" },
                { "IOWriteIOPSMax", "BlkioDeviceWriteIOps", "Rate" },
        };
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                json_object *a = json_object_new_array();
                if (!a)
                        return -ENOMEM;
                for (char **l = c->io_limits; l && *l; l++) {
                        char option[32], path[256];
                        unsigned long long value;
                        if (sscanf(*l, "%31[^\t]\t%255[^\t]\t%llu", option, path, &value) != 3) {
                                json_object_put(a);
                                return -EBADMSG;
                        }
                        if (!streq(option, kinds[k].option))
                                continue;
                        json_object *e = json_object_new_object();
                        if (!e) {
                                json_object_put(a);
                                return -ENOMEM;
                        }
                        json_object_object_add(e, "Path", json_object_new_string(path));
                        json_object_object_add(e, kinds[k].value, json_object_new_int64((int64_t) value));
                        json_object_array_add(a, e);
                }
                int r = json_add(host, kinds[k].field, a);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The cpuset, CFS, memory reservation, OOM, block I/O and cgroup parent fields, in Docker's units
 * (0 or "" when not set). */
static int cgroup_json(const ContainerInfo *c, json_object *host) {
        bool period = c->cpu_quota_period_usec != UINT64_MAX;
        int r = json_add(host, "CpusetCpus", json_string_or_empty(c->cpuset_cpus));
        if (r >= 0)
                r = json_add(host, "CpusetMems", json_string_or_empty(c->cpuset_mems));
        if (r >= 0)
                r = json_add(host, "CpuPeriod", json_object_new_int64(period ? (int64_t) c->cpu_quota_period_usec : 0));
        /* --cpu-quota is kept as the quota per second with its period. */
        if (r >= 0)
                r = json_add(host, "CpuQuota",
                             json_object_new_int64(period && c->cpu_quota_per_sec_usec != UINT64_MAX
                                                           ? (int64_t) (c->cpu_quota_per_sec_usec *
                                                                        c->cpu_quota_period_usec / 1000000)
                                                           : 0));
        if (r >= 0)
                r = json_add(host, "MemoryReservation",
                             json_object_new_int64(c->memory_low == UINT64_MAX ? 0 : (int64_t) c->memory_low));
        /* Discarded, as Docker on cgroup v2. */
        if (r >= 0)
                r = json_add_null(host, "MemorySwappiness");
        if (r >= 0)
                r = json_add_null(host, "OomKillDisable");
        if (r >= 0)
                r = json_add(host, "OomScoreAdj", json_object_new_int(c->oom_score_adj));
        if (r >= 0)
                r = json_add(host, "BlkioWeight",
                             json_object_new_int64(c->blkio_weight == UINT64_MAX ? 0 : (int64_t) c->blkio_weight));
        if (r >= 0)
                r = io_limits_json(c, host);
        if (r >= 0)
                r = json_add(host, "CgroupParent", json_string_or_empty(c->slice));
        if (r >= 0)
                r = json_add(host, "PidMode", json_string_or_empty(c->pid_mode));
        if (r >= 0) /* Docker's default mode is "private" */
                r = json_add(host, "IpcMode", json_object_new_string(!isempty(c->ipc_mode) ? c->ipc_mode : "private"));
        if (r >= 0)
                r = json_add(host, "UTSMode", json_string_or_empty(c->uts_mode));
        if (r >= 0) /* private: berth's only default, whatever the cgroup layout */
                r = json_add(host, "CgroupnsMode",
                             json_object_new_string(!isempty(c->cgroupns_mode) ? c->cgroupns_mode : "private"));
        if (r >= 0)
                r = json_add(host, "LogConfig", log_config_json(c));
        if (r >= 0 && strv_length(c->sysctls) > 0) { /* left out when empty, as Docker's */
                json_object *o = json_object_new_object();
                for (char **l = c->sysctls; o && *l; l++) {
                        _cleanup_free_ char *key = strndup(*l, strcspn(*l, "="));
                        if (!key) {
                                json_object_put(o);
                                o = NULL;
                                break;
                        }
                        json_object_object_add(o, key, json_object_new_string(*l + strlen(key) + 1));
                }
                r = json_add(host, "Sysctls", o);
        }
        if (r >= 0) /* null when empty, as Docker's */
                r = strv_length(c->group_add) > 0 ? json_add(host, "GroupAdd", json_strv_new(c->group_add))
                                                  : json_add_null(host, "GroupAdd");
        return r;
}

/* As Docker's HostConfig: CapAdd, CapDrop and SecurityOpt are null when empty; SecurityOpt holds
 * "no-new-privileges" and "seccomp=unconfined" or "seccomp=<the profile's text>". */
static int security_json(const ContainerInfo *c, json_object *host) {
        _cleanup_strv_free_ char **opts = NULL;
        _cleanup_free_ char *seccomp = NULL;
        int r;

        if (c->no_new_privileges && (r = strv_push(&opts, "no-new-privileges")) < 0)
                return r;
        if (!isempty(c->seccomp_profile) &&
            (asprintf(&seccomp, "seccomp=%s", c->seccomp_profile) < 0 || (r = strv_push(&opts, seccomp)) < 0))
                return -ENOMEM;
        if ((r = strv_length(c->cap_add) > 0 ? json_add(host, "CapAdd", json_strv_new(c->cap_add))
                                             : json_add_null(host, "CapAdd")) < 0 ||
            (r = strv_length(c->cap_drop) > 0 ? json_add(host, "CapDrop", json_strv_new(c->cap_drop))
                                              : json_add_null(host, "CapDrop")) < 0 ||
            (r = json_add(host, "Privileged", json_object_new_boolean(c->privileged))) < 0 ||
            (r = json_add(host, "UsernsMode", json_string_or_empty(c->userns_mode))) < 0)
                return r;
        return opts ? json_add(host, "SecurityOpt", json_strv_new(opts)) : json_add_null(host, "SecurityOpt");
}

/* "80/tcp" */
static char *port_key(const char *protocol, const char *port) {
        char *k = NULL;
        return asprintf(&k, "%s/%s", port, protocol) < 0 ? NULL : k;
}

/* Splits a tab-joined property entry into exactly n fields (in place in *copy); false when it has fewer. */
static bool split_fields(const char *entry, size_t n, char **ret_copy, char **f) {
        char *copy = strdup(entry), *p = copy;
        size_t k = 0;
        for (; copy && p && k < n; k++)
                f[k] = strsep(&p, "\t");
        *ret_copy = copy;
        return copy && k == n;
}

/* HostConfig's NetworkMode, PortBindings, PublishAllPorts, Dns, DnsOptions, DnsSearch, ExtraHosts and
 * Config's ExposedPorts (also the published ports, as Docker lists them), all empty when berthd
 * does not have the properties. */
static int network_config_json(const ContainerInfo *c, json_object *config, json_object *host) {
        _cleanup_(json_object_putp) json_object *bindings = json_object_new_object(),
                                                *exposed = json_object_new_object();
        int r = bindings && exposed ? 0 : -ENOMEM;

        for (char **b = c->port_bindings; r >= 0 && b && *b; b++) {
                _cleanup_free_ char *copy = NULL, *key = NULL, *hp = NULL;
                char *f[5];
                if (!split_fields(*b, 5, &copy, f))
                        return copy ? -EBADMSG : -ENOMEM;
                key = port_key(f[0], f[1]);
                if (!key ||
                    (streq(f[3], "0")            ? !(hp = strdup(""))
                             : streq(f[3], f[4]) ? !(hp = strdup(f[3]))
                                                 : asprintf(&hp, "%s-%s", f[3], f[4]) < 0))
                        return -ENOMEM;
                json_object *list, *e = json_object_new_object();
                if (!e)
                        return -ENOMEM;
                json_object_object_add(e, "HostIp", json_object_new_string(f[2]));
                json_object_object_add(e, "HostPort", json_object_new_string(hp));
                if (!json_object_object_get_ex(bindings, key, &list)) {
                        list = json_object_new_array();
                        if (!list || json_add(bindings, key, list) < 0) {
                                json_object_put(e);
                                return -ENOMEM;
                        }
                }
                json_object_array_add(list, e);
                if (!json_object_object_get_ex(exposed, key, NULL))
                        r = json_add(exposed, key, json_object_new_object());
        }
        for (char **x = c->exposed_ports; r >= 0 && x && *x; x++) {
                _cleanup_free_ char *copy = NULL, *key = NULL;
                char *f[2];
                if (!split_fields(*x, 2, &copy, f))
                        return copy ? -EBADMSG : -ENOMEM;
                if (!(key = port_key(f[0], f[1])))
                        return -ENOMEM;
                if (!json_object_object_get_ex(exposed, key, NULL))
                        r = json_add(exposed, key, json_object_new_object());
        }
        if (r >= 0)
                r = json_add(host, "NetworkMode",
                             json_object_new_string(!isempty(c->network_mode) ? c->network_mode : "bridge"));
        if (r >= 0)
                r = json_add(host, "PortBindings", TAKE_PTR(bindings));
        if (r >= 0)
                r = json_add(host, "PublishAllPorts", json_object_new_boolean(c->publish_all_ports));
        /* Docker's: [] for the DNS lists, null for ExtraHosts when empty; ExposedPorts only when any. */
        if (r >= 0)
                r = json_add(host, "Dns", json_strv_new(c->dns));
        if (r >= 0)
                r = json_add(host, "DnsOptions", json_strv_new(c->dns_options));
        if (r >= 0)
                r = json_add(host, "DnsSearch", json_strv_new(c->dns_search));
        if (r >= 0)
                r = strv_length(c->extra_hosts) > 0 ? json_add(host, "ExtraHosts", json_strv_new(c->extra_hosts))
                                                    : json_add_null(host, "ExtraHosts");
        if (r >= 0 && json_object_object_length(exposed) > 0)
                r = json_add(config, "ExposedPorts", TAKE_PTR(exposed));
        return r;
}

/* NetworkSettings.Ports: each binding in force as {HostIp, HostPort}; an exposed port without one
 * null while the container runs. */
static json_object *settings_ports_json(const ContainerInfo *c) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        for (char **p = c->ports; p && *p; p++) {
                _cleanup_free_ char *copy = NULL, *key = NULL;
                char *f[4];
                json_object *list, *e;
                if (!split_fields(*p, 4, &copy, f) || !(key = port_key(f[0], f[1])) || !(e = json_object_new_object()))
                        return NULL;
                json_object_object_add(e, "HostIp", json_object_new_string(isempty(f[2]) ? "0.0.0.0" : f[2]));
                json_object_object_add(e, "HostPort", json_object_new_string(f[3]));
                if (!json_object_object_get_ex(o, key, &list) || !list) {
                        list = json_object_new_array();
                        if (!list || json_add(o, key, list) < 0) {
                                json_object_put(e);
                                return NULL;
                        }
                }
                json_object_array_add(list, e);
        }
        for (char **x = c->exposed_ports; ctl_state_is_active(c->state) && x && *x; x++) {
                _cleanup_free_ char *copy = NULL, *key = NULL;
                char *f[2];
                if (!split_fields(*x, 2, &copy, f) || !(key = port_key(f[0], f[1])))
                        return NULL;
                if (!json_object_object_get_ex(o, key, NULL) && json_add_null(o, key) < 0)
                        return NULL;
        }
        return TAKE_PTR(o);
}

/* One entry of NetworkSettings.Networks from "name\tid\taddress\tprefix\tgateway\tmac\tendpoint\taliases". */
static json_object *endpoint_json(const ContainerInfo *c, char *const f[static 8]) {
        _cleanup_(json_object_putp) json_object *e = json_object_new_object();
        _cleanup_strv_free_ char **aliases = NULL;
        int prefix = 0;
        if (!e)
                return NULL;
        for (char *p = f[7], *a; p && (a = strsep(&p, ","));)
                if (!isempty(a) && strv_push(&aliases, a) < 0)
                        return NULL;
        (void) parse_int(f[3], &prefix);
        /* --ip is the fixed address on the network it names. */
        if (!isempty(c->ip_address) && streq_ptr(c->network_mode, f[0])) {
                json_object *ipam = json_object_new_object();
                if (!ipam || json_add(ipam, "IPv4Address", json_object_new_string(c->ip_address)) < 0 ||
                    json_add(e, "IPAMConfig", ipam) < 0)
                        return NULL;
        } else if (json_add_null(e, "IPAMConfig") < 0)
                return NULL;
        if (json_add_null(e, "Links") < 0 ||
            (aliases ? json_add(e, "Aliases", json_strv_new(aliases)) : json_add_null(e, "Aliases")) < 0 ||
            json_add(e, "MacAddress", json_object_new_string(f[5])) < 0 ||
            json_add(e, "NetworkID", json_object_new_string(f[1])) < 0 ||
            json_add(e, "EndpointID", json_object_new_string(f[6])) < 0 ||
            json_add(e, "Gateway", json_object_new_string(f[4])) < 0 ||
            json_add(e, "IPAddress", json_object_new_string(f[2])) < 0 ||
            json_add(e, "IPPrefixLen", json_object_new_int(prefix)) < 0 ||
            json_add(e, "IPv6Gateway", json_object_new_string("")) < 0 ||
            json_add(e, "GlobalIPv6Address", json_object_new_string("")) < 0 ||
            json_add(e, "GlobalIPv6PrefixLen", json_object_new_int(0)) < 0 || json_add_null(e, "DriverOpts") < 0)
                return NULL;
        return TAKE_PTR(e);
}

/* Docker's NetworkSettings: Ports, Networks, and at the top the default bridge's endpoint. */
static int network_settings_json(const ContainerInfo *c, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *networks = json_object_new_object();
        const char *endpoint = "", *gateway = "", *address = "", *mac = "";
        int prefix = 0, r = o && networks ? 0 : -ENOMEM;
        _cleanup_free_ char *bridge = NULL;

        for (char **n = c->networks; r >= 0 && n && *n; n++) {
                _cleanup_free_ char *copy = NULL;
                char *f[8];
                if (!split_fields(*n, 8, &copy, f))
                        return copy ? -EBADMSG : -ENOMEM;
                r = json_add(networks, f[0], endpoint_json(c, f));
                if (r >= 0 && streq(f[0], "bridge")) {
                        free(bridge);
                        bridge = TAKE_PTR(copy); /* the fields point into it */
                        endpoint = f[6], gateway = f[4], address = f[2], mac = f[5];
                        (void) parse_int(f[3], &prefix);
                }
        }
        if (r >= 0)
                r = json_add(o, "Bridge", json_object_new_string(""));
        if (r >= 0)
                r = json_add(o, "SandboxID", json_object_new_string(""));
        if (r >= 0)
                r = json_add(o, "SandboxKey", json_object_new_string(""));
        if (r >= 0)
                r = json_add(o, "Ports", settings_ports_json(c));
        if (r >= 0)
                r = json_add(o, "EndpointID", json_object_new_string(endpoint));
        if (r >= 0)
                r = json_add(o, "Gateway", json_object_new_string(gateway));
        if (r >= 0)
                r = json_add(o, "IPAddress", json_object_new_string(address));
        if (r >= 0)
                r = json_add(o, "IPPrefixLen", json_object_new_int(prefix));
        if (r >= 0)
                r = json_add(o, "MacAddress", json_object_new_string(mac));
        if (r >= 0)
                r = json_add(o, "Networks", TAKE_PTR(networks));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int container_config_json(const ContainerInfo *c, json_object **ret_config, json_object **ret_host) {
        _cleanup_(json_object_putp) json_object *config = json_object_new_object(), *host = json_object_new_object();
        int r = config && host ? 0 : -ENOMEM;

        if (r >= 0)
                r = json_add(config, "Hostname", json_string_or_empty(c->hostname));
        if (r >= 0)
                r = json_add(config, "Domainname", json_string_or_empty(c->domainname));
        if (r >= 0)
                r = c->env ? json_add(config, "Env", json_strv_new(c->env))
                           : json_add_null(config, "Env"); /* root only */
        /* Docker's split: the entrypoint, then the command that is its arguments; null when empty. */
        size_t n_entry = strv_length(c->entrypoint), n_cmd = strv_length(c->command);
        if (n_entry > n_cmd)
                n_entry = 0; /* not a prefix: cannot be */
        if (r >= 0)
                r = n_cmd > n_entry ? json_add(config, "Cmd", json_strv_new(c->command + n_entry))
                                    : json_add_null(config, "Cmd");
        if (r >= 0)
                r = n_entry > 0 ? json_add(config, "Entrypoint", json_strv_new(c->entrypoint))
                                : json_add_null(config, "Entrypoint");
        if (r >= 0)
                r = json_add(config, "User", json_string_or_empty(c->user));
        if (r >= 0)
                r = json_add(config, "WorkingDir", json_string_or_empty(c->working_dir));
        if (r >= 0)
                r = json_add(config, "Tty", json_object_new_boolean(c->tty));
        if (r >= 0 && c->stop_signal > 0) {
                char sig[32];
                const char *abbrev = sigabbrev_np(c->stop_signal);
                if (abbrev)
                        snprintf(sig, sizeof(sig), "SIG%s", abbrev);
                else
                        snprintf(sig, sizeof(sig), "SIGRTMIN+%d", c->stop_signal - SIGRTMIN);
                r = json_add(config, "StopSignal", json_object_new_string(sig));
        }
        if (r >= 0 && strv_length(c->health_cmd) > 0) {
                /* Docker's Healthcheck: what is set, durations in nanoseconds. */
                json_object *hc = json_object_new_object();
                r = hc ? json_add(hc, "Test", json_strv_new(c->health_cmd)) : -ENOMEM;
                const struct {
                        const char *key;
                        uint64_t usec;
                } durations[] = {
                        { "Interval", c->health_interval_usec },
                        { "Timeout", c->health_timeout_usec },
                        { "StartPeriod", c->health_start_period_usec },
                        { "StartInterval", c->health_start_interval_usec },
                };
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(durations); i++)
                        if (durations[i].usec > 0)
                                r = json_add(hc, durations[i].key,
                                             json_object_new_int64((int64_t) durations[i].usec * 1000));
                if (r >= 0 && c->health_retries > 0)
                        r = json_add(hc, "Retries", json_object_new_int64(c->health_retries));
                if (r < 0)
                        json_object_put(hc);
                else
                        r = json_add(config, "Healthcheck", hc);
                /* podman's name for --health-on-failure. */
                if (r >= 0)
                        r = json_add(config, "HealthcheckOnFailureAction", json_string_or_empty(c->health_on_failure));
        }
        if (r >= 0)
                r = json_add(config, "Image", json_string_or_empty(c->image));
        if (r >= 0) {
                json_object *labels = json_object_new_object();
                for (char **l = c->labels; labels && l && *l; l++) {
                        _cleanup_free_ char *key = strndup(*l, strcspn(*l, "="));
                        if (!key) {
                                json_object_put(labels);
                                labels = NULL;
                                break;
                        }
                        json_object_object_add(labels, key, json_object_new_string(*l + strlen(key) + 1));
                }
                r = json_add(config, "Labels", labels);
        }

        /* Docker's units: 0 is "no limit" for Memory and NanoCpus, null for PidsLimit. */
        if (r >= 0)
                r = json_add(host, "Memory",
                             json_object_new_int64(c->memory_max == UINT64_MAX ? 0 : (int64_t) c->memory_max));
        if (r >= 0)
                r = json_add(host, "NanoCpus",
                             json_object_new_int64(c->cpu_quota_per_sec_usec == UINT64_MAX ||
                                                                   c->cpu_quota_period_usec != UINT64_MAX
                                                           ? 0
                                                           : (int64_t) c->cpu_quota_per_sec_usec * 1000));
        if (r >= 0)
                r = c->tasks_max == UINT64_MAX
                        ? json_add_null(host, "PidsLimit")
                        : json_add(host, "PidsLimit", json_object_new_int64((int64_t) c->tasks_max));
        if (r >= 0)
                r = json_add(host, "AutoRemove", json_object_new_boolean(c->auto_remove));
        if (r >= 0) {
                json_object *policy = json_object_new_object();
                if (policy) {
                        json_object_object_add(policy, "Name", json_object_new_string(c->restart_policy ?: "no"));
                        json_object_object_add(policy, "MaximumRetryCount",
                                               json_object_new_int64(c->restart_max_retries));
                }
                r = json_add(host, "RestartPolicy", policy);
        }
        if (r >= 0)
                r = strv_length(c->volumes_from) > 0 ? json_add(host, "VolumesFrom", json_strv_new(c->volumes_from))
                                                     : json_add_null(host, "VolumesFrom");
        if (r >= 0)
                r = c->init ? json_add(host, "Init", json_object_new_boolean(true)) : json_add_null(host, "Init");
        if (r >= 0)
                r = json_add(host, "ReadonlyRootfs", json_object_new_boolean(c->read_only));
        if (r >= 0)
                r = container_resources_json(c, config, host);
        if (r >= 0)
                r = cgroup_json(c, host);
        if (r >= 0)
                r = security_json(c, host);
        if (r >= 0)
                r = network_config_json(c, config, host);
        if (r < 0)
                return r;
        *ret_config = TAKE_PTR(config);
        *ret_host = TAKE_PTR(host);
        return 0;
}

/* Docker's MountPoint: Type, Name and Driver (volumes), Source (the host path), Destination, Mode,
 * RW, Propagation (binds: rprivate). */
static json_object *mounts_json(char **mount_points) {
        json_object *a = json_object_new_array();
        for (char **l = mount_points; a && l && *l; l++) {
                _cleanup_free_ char *copy = strdup(*l);
                char *f[7] = {}, *p = copy;
                for (size_t i = 0; p && i < 7; i++)
                        f[i] = strsep(&p, "\t");
                json_object *o = json_object_new_object();
                if (!copy || !f[6] || !o) {
                        json_object_put(o);
                        json_object_put(a);
                        return NULL;
                }
                bool volume = streq(f[0], "volume");
                json_object_object_add(o, "Type", json_object_new_string(f[0]));
                if (volume)
                        json_object_object_add(o, "Name", json_object_new_string(f[1]));
                json_object_object_add(o, "Source", json_object_new_string(f[2]));
                json_object_object_add(o, "Destination", json_object_new_string(f[3]));
                if (volume)
                        json_object_object_add(o, "Driver", json_object_new_string(f[4]));
                json_object_object_add(o, "Mode", json_object_new_string(f[5]));
                json_object_object_add(o, "RW", json_object_new_boolean(streq(f[6], "true")));
                json_object_object_add(o, "Propagation", json_object_new_string(streq(f[0], "bind") ? "rprivate" : ""));
                json_object_array_add(a, o);
        }
        return a;
}

int ctl_container_json(const ContainerInfo *c, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *berth = json_object_new_object();
        json_object *state = NULL, *config = NULL, *host = NULL, *settings = NULL;
        _cleanup_free_ char *name = NULL;
        size_t n = strv_length(c->command);
        int r = o && berth ? 0 : -ENOMEM;

        if (r >= 0 && asprintf(&name, "/%s", c->name ? c->name : "") < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = json_add(o, "Id", json_string_or_empty(c->id));
        if (r >= 0)
                r = json_add(o, "Created", json_timestamp(c->created_at));
        if (r >= 0)
                r = json_add(o, "Path", json_string_or_empty(n > 0 ? c->command[0] : ""));
        if (r >= 0)
                r = json_add(o, "Args", json_strv_new(n > 0 ? c->command + 1 : NULL));
        if (r >= 0)
                r = container_state_json(c, &state);
        if (r >= 0)
                r = json_add(o, "State", state);
        if (r >= 0)
                r = json_add(o, "Image", json_sha256(c->image_id));
        if (r >= 0)
                r = json_add(o, "Name", json_object_new_string(name));
        if (r >= 0)
                r = container_config_json(c, &config, &host);
        if (r >= 0)
                r = json_add(o, "Config", config);
        if (r >= 0)
                r = json_add(o, "HostConfig", host);
        if (r >= 0)
                r = json_add(o, "RestartCount", json_object_new_int64(c->restart_count));
        if (r >= 0)
                r = json_add(o, "Mounts", mounts_json(c->mount_points));
        if (r >= 0)
                r = network_settings_json(c, &settings);
        if (r >= 0)
                r = json_add(o, "NetworkSettings", settings);
        if (r >= 0)
                r = json_add(berth, "Unit", json_string_or_empty(c->unit));
        if (r >= 0)
                r = json_add(berth, "ObjectPath", json_string_or_empty(c->object_path));
        if (r >= 0)
                r = json_add(berth, "UidMapBase", json_object_new_int64(c->uid_map_base));
        if (r >= 0)
                r = json_add(o, "Berth", TAKE_PTR(berth));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

int ctl_image_json(const ImageInfo *i, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *rootfs = json_object_new_object(),
                                                *config = json_object_new_object();
        int r = o && rootfs && config ? 0 : -ENOMEM;

        if (r >= 0)
                r = json_add(o, "Id", json_sha256(i->id));
        if (r >= 0)
                r = json_add(o, "RepoTags", json_strv_new(i->repo_tags));
        if (r >= 0)
                r = json_add(o, "RepoDigests", json_strv_new(i->repo_digests));
        if (r >= 0)
                r = json_add(o, "Created", json_timestamp(i->created));
        if (r >= 0)
                r = json_add(o, "Architecture", json_object_new_string(i->architecture ?: ""));
        if (r >= 0)
                r = json_add(o, "Os", json_object_new_string(i->os ?: ""));
        if (r >= 0)
                r = json_add(o, "Size", json_object_new_int64((int64_t) i->size));
        if (r >= 0) /* Docker's: the same as Size */
                r = json_add(o, "VirtualSize", json_object_new_int64((int64_t) i->size));
        if (r >= 0)
                r = json_add(rootfs, "Type", json_object_new_string("layers"));
        if (r >= 0)
                r = json_add(rootfs, "Layers", json_strv_new(i->layers));
        if (r >= 0)
                r = json_add(o, "RootFS", TAKE_PTR(rootfs));
        if (r >= 0)
                r = json_add(config, "Cmd", json_strv_new(i->cmd));
        if (r >= 0)
                r = json_add(config, "Env", json_strv_new(i->env));
        if (r >= 0)
                r = json_add(o, "Config", TAKE_PTR(config));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* Finds name as a container, then as an image. Returns 1 and the JSON when found, 0 when there
 * is no such object, negative errno (error filled) on other failures. */
static int inspect_one(sd_bus *bus, const ObjectList *objects, const char *name, InspectType type, sd_bus_error *error,
                       json_object **ret) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (type == INSPECT_ANY || type == INSPECT_CONTAINER) {
                r = ctl_get_container(bus, name, error, &path);
                if (r >= 0) {
                        ContainerInfo *c = (ContainerInfo *) object_list_find_container(objects, path);
                        if (!c) /* Created after we listed; not worth a second round trip. */
                                return 0;
                        r = container_info_get_secrets(bus, c, error);
                        if (r < 0)
                                return r;
                        r = ctl_container_json(c, ret);
                        return r < 0 ? r : 1;
                }
                if (!ctl_bus_error_is_not_found(error))
                        return r;
                sd_bus_error_free(error);
        }
        if (type == INSPECT_ANY || type == INSPECT_IMAGE) {
                r = ctl_get_image(bus, name, error, &path);
                if (r >= 0) {
                        const ImageInfo *i = object_list_find_image(objects, path);
                        if (!i)
                                return 0;
                        r = ctl_image_json(i, ret);
                        return r < 0 ? r : 1;
                }
                if (!ctl_bus_error_is_not_found(error))
                        return r;
                sd_bus_error_free(error);
        }
        if (type == INSPECT_ANY || type == INSPECT_NETWORK) {
                _cleanup_(network_info_done) NetworkInfo n = {};
                r = ctl_get_network(bus, name, error, &n);
                if (r >= 0) {
                        *ret = ctl_network_json(&n, objects);
                        return *ret ? 1 : -ENOMEM;
                }
                /* A berthd without networks does not know the method: no such network either. */
                if (!ctl_bus_error_is_not_found(error) && !sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_METHOD))
                        return r;
                sd_bus_error_free(error);
        }
        return 0;
}

/* inspect -s: Docker's SizeRw (the writable layer's bytes) and SizeRootFs (with the image under it)
 * on each container of array, from GetDiskUsage. */
static int add_container_sizes(sd_bus *bus, const ObjectList *objects, json_object *array) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id;
        uint64_t size;
        uint32_t volumes;
        int r = ctl_bus_call_manager(bus, "GetDiskUsage", CTL_TIMEOUT_LONG, &error, &reply, NULL);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_skip(reply, "tta(sttu)");
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(stu)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(stu)", &id, &size, &volumes)) > 0)
                for (size_t k = 0; k < json_object_array_length(array); k++) {
                        json_object *o = json_object_array_get_idx(array, k), *v;
                        if (!json_object_object_get_ex(o, "State", NULL) || !json_object_object_get_ex(o, "Id", &v) ||
                            !streq(json_object_get_string(v), id))
                                continue;
                        _cleanup_free_ char *path = strjoin(BERTH_BUS_CONTAINER_PREFIX "/", id);
                        const ContainerInfo *c = path ? object_list_find_container(objects, path) : NULL;
                        const ImageInfo *i = c ? object_list_find_image_by_id(objects, c->image_id ?: "") : NULL;
                        if (json_add(o, "SizeRw", json_object_new_int64((int64_t) size)) < 0 ||
                            json_add(o, "SizeRootFs", json_object_new_int64((int64_t) (size + (i ? i->size : 0)))) < 0)
                                return ctl_log_errno(-ENOMEM, "%m");
                }
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of GetDiskUsage: %m");
        return 0;
}

static int parse_inspect_argv(int argc, char *argv[], InspectType *ret_type, const char **ret_format, bool *ret_size) {
        enum { ARG_TYPE = 0x100, ARG_HELP };
        static const struct option options[] = {
                { "type", required_argument, NULL, ARG_TYPE },
                { "format", required_argument, NULL, 'f' },
                { "size", no_argument, NULL, 's' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int c;

        *ret_type = INSPECT_ANY;
        *ret_format = NULL;
        *ret_size = false;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:hf:s", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        *ret_format = optarg;
                        break;
                case 's':
                        *ret_size = true;
                        break;
                case ARG_TYPE:
                        if (streq(optarg, "container"))
                                *ret_type = INSPECT_CONTAINER;
                        else if (streq(optarg, "image"))
                                *ret_type = INSPECT_IMAGE;
                        else if (streq(optarg, "network"))
                                *ret_type = INSPECT_NETWORK;
                        else {
                                ctl_log_error("invalid --type \"%s\": expected \"container\", \"image\" or \"network\"",
                                              optarg);
                                return -EINVAL;
                        }
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl inspect [OPTIONS] CONTAINER|IMAGE|NETWORK...\n"
                               "\n"
                               "Print a JSON array describing containers, images and networks. A name is\n"
                               "looked up as a container first, then as an image, then as a network.\n"
                               "\n"
                               "Options:\n"
                               "      --type=TYPE   Only look for a \"container\", an \"image\" or a \"network\"\n"
                               "  -f, --format=TMPL Print TMPL per object: {{.State.Status}}, {{json .Config}}\n"
                               "  -s, --size        Add SizeRw and SizeRootFs to containers\n"
                               "  -h, --help        Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("inspect", c, argv);
                }
        if (optind >= argc) {
                ctl_log_error("\"berthctl inspect\" requires at least 1 argument (see 'berthctl inspect --help')");
                return -EINVAL;
        }
        return 1;
}

int verb_inspect(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList objects = {};
        _cleanup_(json_object_putp) json_object *array = NULL;
        bool missing = false, failed = false;
        InspectType type;
        const char *format;
        bool size;
        sd_bus *bus;
        int r;

        r = parse_inspect_argv(argc, argv, &type, &format, &size);
        if (r <= 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        /* One round trip for all properties of everything; names are resolved by berthd. */
        r = object_list_fetch(bus, &error, &objects);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        array = json_object_new_array();
        if (!array)
                return ctl_log_errno(-ENOMEM, "%m");

        for (int i = optind; i < argc; i++) {
                json_object *o = NULL;

                sd_bus_error_free(&error);
                r = inspect_one(bus, &objects, argv[i], type, &error, &o);
                if (r < 0) {
                        ctl_log_bus_error(&error, r);
                        failed = true;
                } else if (r == 0) {
                        /* Docker's wording (container inspect, image inspect), and its exit code 1. */
                        fprintf(stderr, "Error: No such %s: %s\n",
                                type == INSPECT_CONTAINER         ? "container"
                                        : type == INSPECT_IMAGE   ? "image"
                                        : type == INSPECT_NETWORK ? "network"
                                                                  : "object",
                                argv[i]);
                        missing = true;
                } else if (json_object_array_add(array, o) < 0) {
                        json_object_put(o);
                        return ctl_log_errno(-ENOMEM, "%m");
                }
        }
        if (size && json_object_array_length(array) > 0) {
                r = add_container_sizes(bus, &objects, array);
                if (r < 0)
                        return r;
        }
        r = ctl_print_inspect(array, format);
        if (r == -EINVAL)
                return r;
        if (r < 0)
                return ctl_log_errno(r, "Failed to write the output: %m");
        if (failed)
                return CTL_EXIT_ENGINE;
        return missing ? 1 : 0;
}
