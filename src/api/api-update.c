/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker update: POST /containers/{id}/update as Container.Update, with berthctl update's
 * conversions (src/ctl/ctl-resources.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ctl-bus.h"
#include "json-util.h"
#include "util.h"

/* An integer member; 0 when absent or null, -EINVAL when no integer. */
static int get_int(json_object *body, const char *key, int64_t *ret) {
        json_object *v;
        *ret = 0;
        if (!json_object_object_get_ex(body, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return -EINVAL;
        *ret = json_object_get_int64(v);
        return 1;
}

typedef struct UpdateBody {
        int64_t memory, nano_cpus, cpu_shares, cpu_period, cpu_quota, blkio_weight, memory_reservation, memory_swap;
        int64_t pids_limit;
        bool has_pids_limit;
        const char *cpuset_cpus, *cpuset_mems, *restart;
        int64_t restart_retries;
} UpdateBody;

static int get_str(json_object *body, const char *key, const char **ret) {
        json_object *v;
        *ret = NULL;
        if (!json_object_object_get_ex(body, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return -EINVAL;
        *ret = json_object_get_string(v);
        return 0;
}

/* Docker's fields; a bad type or a negative value where none may be is -EINVAL with *ret_key. */
static int parse_body(json_object *body, UpdateBody *u, const char **ret_key) {
        const struct {
                const char *key;
                int64_t *field;
                int64_t min;
        } ints[] = {
                { "Memory", &u->memory, 0 },
                { "NanoCpus", &u->nano_cpus, 0 },
                { "CpuShares", &u->cpu_shares, 0 },
                { "CpuPeriod", &u->cpu_period, 0 },
                { "CpuQuota", &u->cpu_quota, -1 },
                { "BlkioWeight", &u->blkio_weight, 0 },
                { "MemoryReservation", &u->memory_reservation, 0 },
                { "MemorySwap", &u->memory_swap, -1 },
                { "PidsLimit", &u->pids_limit, INT64_MIN },
        };
        json_object *rp;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(ints); i++) {
                *ret_key = ints[i].key;
                r = get_int(body, ints[i].key, ints[i].field);
                if (r < 0 || *ints[i].field < ints[i].min)
                        return -EINVAL;
                if (r > 0 && ints[i].field == &u->pids_limit)
                        u->has_pids_limit = true;
        }
        *ret_key = "CpusetCpus";
        if (get_str(body, "CpusetCpus", &u->cpuset_cpus) < 0)
                return -EINVAL;
        *ret_key = "CpusetMems";
        if (get_str(body, "CpusetMems", &u->cpuset_mems) < 0)
                return -EINVAL;
        *ret_key = "RestartPolicy";
        if (json_object_object_get_ex(body, "RestartPolicy", &rp) && rp) {
                if (!json_object_is_type(rp, json_type_object) || get_str(rp, "Name", &u->restart) < 0 ||
                    get_int(rp, "MaximumRetryCount", &u->restart_retries) < 0 || u->restart_retries < 0 ||
                    u->restart_retries > UINT32_MAX)
                        return -EINVAL;
        }
        *ret_key = NULL;
        return 0;
}

/* The container's property, for what Docker gives relative to another limit. */
static int get_u64_property(ApiConn *c, const char *path, const char *name, uint64_t *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        return sd_bus_get_property_trivial(c->server->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, name, &error,
                                           't', ret);
}

/* Appends the limits; a 400 answered (and 0 returned) for an impossible combination. */
static int append_limits(ApiConn *c, const char *path, const UpdateBody *u, sd_bus_message *m) {
        int r = 0;
#define ADD(name, type, value)                                                   \
        do {                                                                     \
                if (r >= 0)                                                      \
                        r = sd_bus_message_append(m, "{sv}", name, type, value); \
        } while (0)

        if (u->nano_cpus > 0 && (u->cpu_period > 0 || u->cpu_quota > 0)) {
                r = api_reply_error(c, 400, "Conflicting options: Nano CPUs and CPU Period/Quota cannot both be set");
                return r < 0 ? r : 0;
        }
        if (u->memory > 0)
                ADD("MemoryMax", "t", (uint64_t) u->memory);
        if (u->nano_cpus > 0)
                ADD("CPUQuotaPerSecUSec", "t", (uint64_t) u->nano_cpus / 1000);
        if (u->has_pids_limit)
                ADD("TasksMax", "t", u->pids_limit <= 0 ? UINT64_MAX : (uint64_t) u->pids_limit);
        if (u->memory_swap != 0) {
                /* Docker's total is memory plus swap: without Memory, the container's. */
                uint64_t mem = (uint64_t) u->memory;
                if (mem == 0 && r >= 0)
                        r = get_u64_property(c, path, "MemoryMax", &mem);
                if (r >= 0 && u->memory_swap > 0 && (mem == 0 || mem == UINT64_MAX)) {
                        r = api_reply_error(c, 400,
                                            "You should always set the Memory limit when using Memoryswap limit");
                        return r < 0 ? r : 0;
                }
                if (r >= 0 && u->memory_swap > 0 && (uint64_t) u->memory_swap < mem) {
                        r = api_reply_error(c, 400, "Minimum memoryswap limit should be larger than memory limit");
                        return r < 0 ? r : 0;
                }
                ADD("MemorySwapMax", "t", u->memory_swap < 0 ? UINT64_MAX : (uint64_t) u->memory_swap - mem);
        }
        if (u->cpu_shares > 0)
                ADD("CPUShares", "t", (uint64_t) u->cpu_shares);
        if (u->cpu_period > 0 || u->cpu_quota > 0) {
                /* Docker's quota per period as systemd's per second. */
                uint64_t period = u->cpu_period > 0 ? (uint64_t) u->cpu_period : UINT64_MAX;
                if (period == UINT64_MAX && r >= 0)
                        r = get_u64_property(c, path, "CPUQuotaPeriodUSec", &period);
                if (period == UINT64_MAX || period == 0)
                        period = 100000;
                ADD("CPUQuotaPeriodUSec", "t", period);
                if (u->cpu_quota > 0)
                        ADD("CPUQuotaPerSecUSec", "t", (uint64_t) u->cpu_quota * 1000000 / period);
        }
        if (u->memory_reservation > 0)
                ADD("MemoryLow", "t", (uint64_t) u->memory_reservation);
        if (u->blkio_weight > 0)
                ADD("BlkioWeight", "t", (uint64_t) u->blkio_weight);
        if (!isempty(u->cpuset_cpus))
                ADD("AllowedCPUs", "s", u->cpuset_cpus);
        if (!isempty(u->cpuset_mems))
                ADD("AllowedMemoryNodes", "s", u->cpuset_mems);
        if (!isempty(u->restart)) {
                ADD("RestartPolicy", "s", u->restart);
                ADD("RestartMaxRetries", "u", (uint32_t) u->restart_retries);
        }
#undef ADD
        return r < 0 ? r : 1;
}

int api_container_update(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_json_ json_object *body = NULL;
        _cleanup_free_ char *path = NULL;
        UpdateBody u = {};
        const char *bad;
        int r = api_body_json(c, &body);
        if (r <= 0)
                return r;
        if (parse_body(body, &u, &bad) < 0)
                return api_reply_error(c, 400, "invalid value for %s", bad);
        r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Update");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = append_limits(c, path, &u, m);
        if (r <= 0)
                return r;
        r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(c->server->bus, m, CTL_TIMEOUT_DEFAULT, &error, NULL);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *w = json_object_new_array();
        if (!o || !w) {
                json_object_put(w);
                return -ENOMEM;
        }
        json_object_object_add(o, "Warnings", w);
        return api_reply_json(c, 200, o);
}
