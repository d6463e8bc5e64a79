/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /containers/{id}/stats: samples of Container.GetStats in Docker's shape, one (stream=0) or
 * one a second (Docker's default) until the container is removed or the client goes. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "errors.h"
#include "json-util.h"
#include "util.h"

/* The host's CPU time in ns (the first line of /proc/stat, in USER_HZ ticks), as Docker's
 * system_cpu_usage; 0 when unreadable. */
static uint64_t system_cpu_usage(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/stat", "re");
        unsigned long long v[8] = {};
        uint64_t sum = 0;
        long hz = sysconf(_SC_CLK_TCK);
        if (!f || hz <= 0 ||
            fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7]) != 8)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                sum += v[i];
        return sum * (1000000000ULL / (uint64_t) hz);
}

static json_object *cpu_stats_json(uint64_t usage, uint64_t system, long cpus) {
        json_object *o = json_object_new_object(), *u = json_object_new_object(), *t = json_object_new_object();
        if (!o || !u || !t) {
                json_object_put(o);
                json_object_put(u);
                json_object_put(t);
                return NULL;
        }
        json_object_object_add(u, "total_usage", json_object_new_int64((int64_t) usage));
        json_object_object_add(u, "usage_in_kernelmode", json_object_new_int64(0));
        json_object_object_add(u, "usage_in_usermode", json_object_new_int64(0));
        json_object_object_add(o, "cpu_usage", u);
        json_object_object_add(o, "system_cpu_usage", json_object_new_int64((int64_t) system));
        json_object_object_add(o, "online_cpus", json_object_new_int64(cpus));
        json_object_object_add(t, "periods", json_object_new_int64(0));
        json_object_object_add(t, "throttled_periods", json_object_new_int64(0));
        json_object_object_add(t, "throttled_time", json_object_new_int64(0));
        json_object_object_add(o, "throttling_data", t);
        return o;
}

static json_object *blkio_entry(const char *op, uint64_t value) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "major", json_object_new_int(0));
        json_object_object_add(o, "minor", json_object_new_int(0));
        json_object_object_add(o, "op", json_object_new_string(op));
        json_object_object_add(o, "value", json_object_new_int64((int64_t) value));
        return o;
}

static uint64_t known(uint64_t v) {
        return v == UINT64_MAX ? 0 : v;
}

typedef struct Sample {
        uint64_t cpu, system; /* ns */
} Sample;

/* One sample of the container at path; zeros for a container that does not run, as Docker's.
 * prev: the sample before (precpu_stats), or NULL for an empty one. -ENOENT when the container
 * is gone. */
static int stats_json(ApiConn *c, const char *path, const char *id, const char *name, const Sample *prev,
                      Sample *ret_sample, json_object **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint64_t mem = 0, mem_max = UINT64_MAX, cpu = 0, tasks = 0, io_r = 0, io_w = 0;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        int r;

        r = ctl_bus_call(c->server->bus, path, BERTH_BUS_CONTAINER, "GetStats", CTL_TIMEOUT_DEFAULT, &error, &reply,
                         NULL);
        if (r >= 0)
                r = sd_bus_message_read(reply, "tttttt", &mem, &mem_max, &cpu, &tasks, &io_r, &io_w);
        else if (sd_bus_error_has_name(&error, BERTH_ERROR_CONTAINER_NOT_RUNNING))
                r = 0;
        else if (ctl_bus_error_is_not_found(&error) || sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return -ENOENT;
        if (r < 0)
                return r;
        if (mem_max == UINT64_MAX || mem_max == 0) {
                long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
                mem_max = pages > 0 && size > 0 ? (uint64_t) pages * (uint64_t) size : 0;
        }
        Sample now = { known(cpu), system_cpu_usage() };

        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *pids = json_object_new_object(), *memory = json_object_new_object(),
                    *blkio = json_object_new_object(), *io = json_object_new_array();
        _cleanup_free_ char *read_at = format_timestamp_rfc3339(now_realtime_usec()), *slash_name = strjoin("/", name);
        if (!o || !pids || !memory || !blkio || !io || !read_at || !slash_name) {
                json_object_put(pids);
                json_object_put(memory);
                json_object_put(blkio);
                json_object_put(io);
                return -ENOMEM;
        }
        json_object_object_add(o, "read", json_object_new_string(read_at));
        json_object_object_add(o, "preread", json_object_new_string("0001-01-01T00:00:00Z"));
        json_object_object_add(pids, "current", json_object_new_int64((int64_t) known(tasks)));
        json_object_object_add(o, "pids_stats", pids);
        json_object_array_add(io, blkio_entry("read", known(io_r)));
        json_object_array_add(io, blkio_entry("write", known(io_w)));
        json_object_object_add(blkio, "io_service_bytes_recursive", io);
        json_object_object_add(o, "blkio_stats", blkio);
        json_object_object_add(o, "num_procs", json_object_new_int(0));
        json_object_object_add(o, "storage_stats", json_object_new_object());
        json_object_object_add(o, "cpu_stats", cpu_stats_json(now.cpu, now.system, cpus));
        /* Without an earlier sample precpu_stats is empty, as in Docker's first one. */
        json_object_object_add(o, "precpu_stats", cpu_stats_json(prev ? prev->cpu : 0, prev ? prev->system : 0, cpus));
        json_object_object_add(memory, "usage", json_object_new_int64((int64_t) known(mem)));
        json_object_object_add(memory, "limit", json_object_new_int64((int64_t) mem_max));
        json_object_object_add(memory, "stats", json_object_new_object());
        json_object_object_add(o, "memory_stats", memory);
        json_object_object_add(o, "name", json_object_new_string(slash_name));
        json_object_object_add(o, "id", json_object_new_string(id));
        *ret_sample = now;
        *ret = TAKE_PTR(o);
        return 0;
}

typedef struct StatsStream {
        ApiConn *conn;
        char *path, *id, *name;
        Sample prev;
        sd_event_source *timer;
} StatsStream;

static void stats_stream_free(void *p) {
        StatsStream *s = p;
        if (!s)
                return;
        sd_event_source_disable_unref(s->timer);
        free(s->path);
        free(s->id);
        free(s->name);
        free(s);
}

/* The next sample, a second after the last; the stream ends when the container is gone. */
static int on_stats_timer(sd_event_source *t, uint64_t usec, void *userdata) {
        StatsStream *s = userdata;
        ApiConn *c = s->conn;
        _cleanup_json_ json_object *o = NULL;
        Sample now;
        int r = stats_json(c, s->path, s->id, s->name, &s->prev, &now, &o);
        if (r == -ENOENT)
                r = api_stream_end(c);
        else if (r >= 0) {
                s->prev = now;
                r = api_stream_json(c, o);
                if (r >= 0)
                        r = sd_event_source_set_time_relative(t, USEC_PER_SEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(t, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                api_conn_abort(c);
        /* May free c, s and t with it (allowed in t's own callback); nothing is touched after. */
        (void) api_conn_kick(c);
        return 0;
}

int api_container_stats(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *id = NULL, *cname = NULL;
        _cleanup_json_ json_object *o = NULL;
        const char *stream = api_query(c, "stream");
        Sample first;
        int r;

        r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        r = sd_bus_get_property_string(c->server->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Id", &error, &id);
        if (r >= 0)
                r = sd_bus_get_property_string(c->server->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Name",
                                               &error, &cname);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        r = stats_json(c, path, id, cname, NULL, &first, &o);
        if (r == -ENOENT)
                return api_reply_error(c, 404, "No such container: %s", name);
        if (r < 0)
                return r;
        /* Docker streams unless stream is false. */
        if (stream && !api_query_bool(c, "stream"))
                return api_reply_json(c, 200, o);

        StatsStream *s = calloc(1, sizeof(StatsStream));
        if (!s)
                return -ENOMEM;
        *s = (StatsStream){
                .conn = c, .path = TAKE_PTR(path), .id = TAKE_PTR(id), .name = TAKE_PTR(cname), .prev = first
        };
        c->userdata = s;
        c->userdata_free = stats_stream_free;
        r = sd_event_add_time_relative(c->server->event, &s->timer, CLOCK_MONOTONIC, USEC_PER_SEC, 0, on_stats_timer,
                                       s);
        if (r >= 0)
                r = api_stream_begin(c, 200, "application/json");
        if (r >= 0)
                r = api_stream_json(c, o);
        return r;
}
