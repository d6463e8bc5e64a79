/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl stats: docker stats over the accounting of the containers' scopes (GetStats) and the
 * network counters of their namespaces (/proc/PID/net/dev). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-output.h"
#include "ctl.h"
#include "util.h"

typedef struct Sample {
        uint64_t memory, memory_max, cpu_nsec, tasks, io_read, io_write, net_rx, net_tx;
        uint64_t at_usec;
        bool valid;
} Sample;

typedef struct StatsTarget {
        char *path; /* object path */
        char *id;
        char *name;
        char *given; /* as named on the command line, else the id (Docker's .Container) */
        Sample prev;
        bool seen; /* still there in this round */
} StatsTarget;

typedef struct Stats {
        StatsTarget *targets;
        size_t n_targets;
        bool all, no_trunc, named;
} Stats;

static void stats_done(Stats *s) {
        for (size_t i = 0; i < s->n_targets; i++) {
                free(s->targets[i].path);
                free(s->targets[i].id);
                free(s->targets[i].name);
                free(s->targets[i].given);
        }
        free(s->targets);
}

static const char *const stats_headers[][2] = {
        { "Container", "CONTAINER" },
        { "ID", "CONTAINER ID" },
        { "Name", "NAME" },
        { "CPUPerc", "CPU %" },
        { "MemUsage", "MEM USAGE / LIMIT" },
        { "MemPerc", "MEM %" },
        { "NetIO", "NET I/O" },
        { "BlockIO", "BLOCK I/O" },
        { "PIDs", "PIDS" },
};
#define STATS_DEFAULT_TABLE \
        "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

/* Bytes received and sent on the interfaces of the namespace of pid, lo left out (Docker's NET
 * I/O); UINT64_MAX when unreadable (no payload, another host). */
static void net_counters(uint32_t pid, uint64_t *rx, uint64_t *tx) {
        char path[64], line[512];
        *rx = *tx = UINT64_MAX;
        if (pid == 0)
                return;
        snprintf(path, sizeof(path), "/proc/%" PRIu32 "/net/dev", pid);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return;
        *rx = *tx = 0;
        while (fgets(line, sizeof(line), f)) {
                char *colon = strchr(line, ':'), *name = line;
                unsigned long long r, t, skip;
                if (!colon)
                        continue;
                *colon = 0;
                name += strspn(name, " ");
                if (streq(name, "lo"))
                        continue;
                if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &r, &skip, &skip, &skip, &skip,
                           &skip, &skip, &skip, &t) == 9) {
                        *rx += r;
                        *tx += t;
                }
        }
}

static int take_sample(sd_bus *bus, const char *path, Sample *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct timespec ts;
        uint32_t pid = 0;
        int r = ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "GetStats", CTL_TIMEOUT_DEFAULT, error, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "tttttt", &ret->memory, &ret->memory_max, &ret->cpu_nsec, &ret->tasks,
                                &ret->io_read, &ret->io_write);
        if (r < 0)
                return r;
        (void) sd_bus_get_property_trivial(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Pid", NULL, 'u', &pid);
        net_counters(pid, &ret->net_rx, &ret->net_tx);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ret->at_usec = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
        ret->valid = true;
        return 0;
}

static const char *size_or_dash(uint64_t v, char buf[static CTL_FORMAT_SIZE_MAX]) {
        return v == UINT64_MAX ? "--" : ctl_format_size(v, buf);
}

static StatsTarget *find_target(Stats *s, const char *id) {
        for (size_t i = 0; i < s->n_targets; i++)
                if (streq(s->targets[i].id, id))
                        return &s->targets[i];
        return NULL;
}

static int add_target(Stats *s, const char *path, const char *id, const char *name, const char *given) {
        StatsTarget *t = reallocarray(s->targets, s->n_targets + 1, sizeof(StatsTarget));
        if (!t)
                return -ENOMEM;
        s->targets = t;
        t = &s->targets[s->n_targets];
        *t = (StatsTarget){
                .path = strdup(path), .id = strdup(id), .name = strdup(name), .given = strdup(given ?: id), .seen = true
        };
        s->n_targets++;
        return t->path && t->id && t->name && t->given ? 0 : -ENOMEM;
}

/* Without names: the running containers (-a: all) as they are now; new ones join, removed ones go. */
static int refresh_targets(sd_bus *bus, Stats *s) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id, *name, *image, *state, *path;
        int r = ctl_bus_call_manager(bus, "ListContainers", CTL_TIMEOUT_DEFAULT, &error, &reply, NULL);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        for (size_t i = 0; i < s->n_targets; i++)
                s->targets[i].seen = false;
        r = sd_bus_message_enter_container(reply, 'a', "(sssso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sssso)", &id, &name, &image, &state, &path)) > 0) {
                if (!s->all && !streq(state, "running") && !streq(state, "paused"))
                        continue;
                StatsTarget *t = find_target(s, id);
                if (t)
                        t->seen = true;
                else
                        r = add_target(s, path, id, name, NULL);
        }
        if (r < 0)
                return ctl_log_errno(r, "Failed to list the containers: %m");
        size_t k = 0;
        for (size_t i = 0; i < s->n_targets; i++) {
                if (s->targets[i].seen) {
                        s->targets[k++] = s->targets[i];
                        continue;
                }
                free(s->targets[i].path);
                free(s->targets[i].id);
                free(s->targets[i].name);
                free(s->targets[i].given);
        }
        s->n_targets = k;
        return 0;
}

static json_object *sample_row(const StatsTarget *t, const Sample *now, const Sample *prev, bool no_trunc) {
        char cpu[32] = "--", mem[64], memp[32] = "--", io[64], net[64], pids[32] = "--", a[CTL_FORMAT_SIZE_MAX],
             b[CTL_FORMAT_SIZE_MAX];
        if (now->valid && prev->valid && now->cpu_nsec != UINT64_MAX && prev->cpu_nsec != UINT64_MAX &&
            now->at_usec > prev->at_usec && now->cpu_nsec >= prev->cpu_nsec)
                snprintf(cpu, sizeof(cpu), "%.2f%%",
                         100.0 * (double) (now->cpu_nsec - prev->cpu_nsec) /
                                 ((double) (now->at_usec - prev->at_usec) * 1000.0));
        if (!now->valid) {
                snprintf(mem, sizeof(mem), "0B / 0B");
                snprintf(io, sizeof(io), "0B / 0B");
                snprintf(net, sizeof(net), "0B / 0B");
                snprintf(pids, sizeof(pids), "0");
                snprintf(cpu, sizeof(cpu), "0.00%%");
                snprintf(memp, sizeof(memp), "0.00%%");
        } else {
                snprintf(mem, sizeof(mem), "%s / %s", size_or_dash(now->memory, a), size_or_dash(now->memory_max, b));
                if (now->memory != UINT64_MAX && now->memory_max != UINT64_MAX && now->memory_max > 0)
                        snprintf(memp, sizeof(memp), "%.2f%%", 100.0 * (double) now->memory / (double) now->memory_max);
                snprintf(io, sizeof(io), "%s / %s", size_or_dash(now->io_read, a), size_or_dash(now->io_write, b));
                snprintf(net, sizeof(net), "%s / %s", size_or_dash(now->net_rx, a), size_or_dash(now->net_tx, b));
                if (now->tasks != UINT64_MAX)
                        snprintf(pids, sizeof(pids), "%" PRIu64, now->tasks);
        }
        json_object *row = json_object_new_object();
        if (!row)
                return NULL;
        char id[13];
        snprintf(id, sizeof(id), "%.12s", t->id);
        if (json_add(row, "Container", json_object_new_string(t->given)) < 0 ||
            json_add(row, "ID", json_object_new_string(no_trunc ? t->id : id)) < 0 ||
            json_add(row, "Name", json_object_new_string(t->name)) < 0 ||
            json_add(row, "CPUPerc", json_object_new_string(cpu)) < 0 ||
            json_add(row, "MemUsage", json_object_new_string(mem)) < 0 ||
            json_add(row, "MemPerc", json_object_new_string(memp)) < 0 ||
            json_add(row, "NetIO", json_object_new_string(net)) < 0 ||
            json_add(row, "BlockIO", json_object_new_string(io)) < 0 ||
            json_add(row, "PIDs", json_object_new_string(pids)) < 0) {
                json_object_put(row);
                return NULL;
        }
        return row;
}

/* One sample of every target, printed; prev samples replaced. */
static int stats_round(sd_bus *bus, Stats *s, const char *format) {
        _cleanup_free_ json_object **rows = calloc(s->n_targets ?: 1, sizeof(json_object *));
        size_t n = 0;
        if (!rows)
                return ctl_log_errno(-ENOMEM, "%m");
        for (size_t i = 0; i < s->n_targets; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                StatsTarget *t = &s->targets[i];
                Sample now = {};
                int r = take_sample(bus, t->path, &now, &error);
                if (r < 0 && !ctl_bus_error_is_not_found(&error) && !s->all)
                        (void) ctl_log_bus_error(&error, r);
                if (r < 0 && ctl_bus_error_is_not_found(&error))
                        continue; /* removed meanwhile */
                rows[n] = sample_row(t, &now, &t->prev, s->no_trunc);
                if (!rows[n]) {
                        for (size_t k = 0; k < n; k++)
                                json_object_put(rows[k]);
                        return ctl_log_errno(-ENOMEM, "%m");
                }
                n++;
                t->prev = now;
        }
        return ctl_print_list(format, STATS_DEFAULT_TABLE, stats_headers, ELEMENTSOF(stats_headers), rows, n,
                              "statistics");
}

static void stats_help(void) {
        printf("Usage: berthctl stats [OPTIONS] [CONTAINER...]\n"
               "\n"
               "Show CPU, memory, network, block I/O and task use of containers (all running\n"
               "ones when none is named), from the accounting of their scopes; refreshed\n"
               "every second until interrupted, in place on a terminal.\n"
               "\n"
               "Options:\n"
               "  -a, --all           All containers, not only running ones\n"
               "      --format=TMPL   A Go template over Container, ID, Name, CPUPerc, MemUsage,\n"
               "                      MemPerc, NetIO, BlockIO, PIDs; 'table TMPL', 'json'\n"
               "      --no-stream     Print one sample and exit\n"
               "      --no-trunc      Do not shorten ids\n"
               "  -h, --help          Show this help\n");
}

int verb_stats(int argc, char *argv[], Ctl *ctl) {
        enum { ARG_NO_STREAM = 0x100, ARG_NO_TRUNC, ARG_FORMAT, ARG_HELP };
        static const struct option options[] = {
                { "all", no_argument, NULL, 'a' },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "no-stream", no_argument, NULL, ARG_NO_STREAM },
                { "no-trunc", no_argument, NULL, ARG_NO_TRUNC },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(stats_done) Stats s = {};
        const char *format = NULL;
        bool no_stream = false;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:ah", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        s.all = true;
                        break;
                case ARG_FORMAT:
                        format = optarg;
                        break;
                case ARG_NO_STREAM:
                        no_stream = true;
                        break;
                case ARG_NO_TRUNC:
                        s.no_trunc = true;
                        break;
                case 'h':
                case ARG_HELP:
                        stats_help();
                        return 0;
                default:
                        return ctl_log_getopt_error("stats", c, argv);
                }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        s.named = optind < argc;
        for (int i = optind; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *path = NULL, *id = NULL, *name = NULL;
                r = ctl_get_container(bus, argv[i], &error, &path);
                if (r >= 0)
                        r = sd_bus_get_property_string(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Id", &error,
                                                       &id);
                if (r >= 0)
                        r = sd_bus_get_property_string(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Name",
                                                       &error, &name);
                if (r < 0)
                        return ctl_log_bus_error(&error, r);
                r = add_target(&s, path, id, name, argv[i]);
                if (r < 0)
                        return ctl_log_errno(r, "%m");
        }
        if (!s.named && (r = refresh_targets(bus, &s)) < 0)
                return r;

        /* CPU % needs two samples: a first one quietly, half a second before the first print. */
        for (size_t i = 0; i < s.n_targets; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                (void) take_sample(bus, s.targets[i].path, &s.targets[i].prev, &error);
        }
        usleep(500 * 1000);
        bool terminal = isatty(STDOUT_FILENO);
        for (;;) {
                /* A live view on a terminal, as docker stats: each sample replaces the last. In a
                 * pipe or file, samples follow each other. */
                if (terminal && !no_stream)
                        fputs("\033[2J\033[H", stdout);
                r = stats_round(bus, &s, format);
                if (r < 0 || no_stream)
                        return r;
                /* In a pipe, tables follow each other with an empty line between them. */
                if (!terminal && (!format || startswith(format, "table")))
                        fputc('\n', stdout);
                fflush(stdout);
                sleep(1);
                if (!s.named && (r = refresh_targets(bus, &s)) < 0)
                        return r;
        }
}
