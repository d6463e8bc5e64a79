/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl update, stats, top: limits, usage and processes of containers, through their scopes. */
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
#include "ctl-resopts.h"
#include "ctl.h"
#include "util.h"

static void update_help(void) {
        printf("Usage: berthctl update [OPTIONS] CONTAINER...\n"
               "\n"
               "Change the limits of containers; running ones at once (systemd's\n"
               "SetUnitProperties on their scopes), all of them for later starts too.\n"
               "\n"
               "Options:\n"
               "  -m, --memory=SIZE     Memory limit (MemoryMax)\n"
               "      --cpus=DECIMAL    Number of CPUs (CPUQuotaPerSecUSec)\n"
               "      --pids-limit=N    Maximum number of tasks; -1 or 0: unlimited\n"
               "      --memory-swap=SIZE  Memory plus swap (-1: unlimited swap) (MemorySwapMax)\n"
               "      --cpu-shares=N    Relative CPU weight, Docker's unit (2-262144)\n"
               "      --cpu-weight=N    Relative CPU weight, systemd's unit (1-10000)\n"
               "      --cpu-period=USEC CFS period (CPUQuotaPeriodUSec; not with --cpus)\n"
               "      --cpu-quota=USEC  CPU time per period (CPUQuota; not with --cpus)\n"
               "      --memory-reservation=SIZE  Memory protected from reclaim (MemoryLow)\n"
               "      --blkio-weight=N  Block I/O weight, 10-1000 (IOWeight)\n"
               "  -h, --help            Show this help\n");
}

int verb_update(int argc, char *argv[], Ctl *ctl) {
        enum { ARG_CPUS = 0x100, ARG_PIDS_LIMIT, ARG_HELP };
        static const struct option options[] = {
                { "memory", required_argument, NULL, 'm' },
                { "cpus", required_argument, NULL, ARG_CPUS },
                { "pids-limit", required_argument, NULL, ARG_PIDS_LIMIT },
                { "memory-swap", required_argument, NULL, CTL_ARG_MEMORY_SWAP },
                { "cpu-shares", required_argument, NULL, CTL_ARG_CPU_SHARES },
                { "cpu-weight", required_argument, NULL, CTL_ARG_CPU_WEIGHT },
                { "cpu-period", required_argument, NULL, CTL_ARG_CPU_PERIOD },
                { "cpu-quota", required_argument, NULL, CTL_ARG_CPU_QUOTA },
                { "memory-reservation", required_argument, NULL, CTL_ARG_MEMORY_RESERVATION },
                { "blkio-weight", required_argument, NULL, CTL_ARG_BLKIO_WEIGHT },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        uint64_t memory = 0, cpus = 0, pids = 0;
        _cleanup_(ctl_resources_done) CtlResources res = CTL_RESOURCES_INIT;
        int c, r, ret = 0;
        sd_bus *bus;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:m:h", options, NULL)) >= 0)
                switch (c) {
                case 'm':
                        if (parse_size(optarg, &memory) < 0 || memory == 0) {
                                ctl_log_error("invalid memory size \"%s\"", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_CPUS:
                        if (ctl_parse_cpus(optarg, &cpus) < 0) {
                                ctl_log_error("invalid value \"%s\" for --cpus", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_PIDS_LIMIT:
                        if (ctl_parse_pids_limit(optarg, &pids) < 0) {
                                ctl_log_error("invalid value \"%s\" for --pids-limit", optarg);
                                return -EINVAL;
                        }
                        break;
                case CTL_ARG_MEMORY_SWAP:
                case CTL_ARG_CPU_SHARES:
                case CTL_ARG_CPU_WEIGHT:
                case CTL_ARG_CPU_PERIOD:
                case CTL_ARG_CPU_QUOTA:
                case CTL_ARG_MEMORY_RESERVATION:
                case CTL_ARG_BLKIO_WEIGHT:
                        if (ctl_resources_parse(&res, c, optarg) < 0)
                                return -EINVAL;
                        break;
                case 'h':
                case ARG_HELP:
                        update_help();
                        return 0;
                default:
                        return ctl_log_getopt_error("update", c, argv);
                }
        if (optind >= argc ||
            (memory == 0 && cpus == 0 && pids == 0 && res.memory_swap == 0 && res.cpu_shares == 0 &&
             !res.cpu_weight_set && res.cpu_period == 0 && res.cpu_quota == 0 && res.memory_reservation == 0 &&
             res.blkio_weight == 0)) {
                ctl_log_error("\"update\" needs at least one limit and one container (see 'berthctl update --help')");
                return -EINVAL;
        }
        r = ctl_resources_check_cpu(&res, cpus != 0);
        if (r < 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        for (int i = optind; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *path = NULL;
                r = ctl_get_container(bus, argv[i], &error, &path);
                if (r >= 0)
                        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER,
                                                           "Update");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "{sv}");
                if (r >= 0 && memory)
                        r = sd_bus_message_append(m, "{sv}", "MemoryMax", "t", memory);
                if (r >= 0 && cpus)
                        r = sd_bus_message_append(m, "{sv}", "CPUQuotaPerSecUSec", "t", cpus);
                if (r >= 0 && pids)
                        r = sd_bus_message_append(m, "{sv}", "TasksMax", "t", pids);
                if (r >= 0 && res.memory_swap) {
                        /* Docker's total is memory plus swap: without -m, the container's memory. */
                        uint64_t mem = memory;
                        if (mem == 0 && res.memory_swap != UINT64_MAX)
                                r = sd_bus_get_property_trivial(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER,
                                                                "MemoryMax", &error, 't', &mem);
                        if (r >= 0 && (r = ctl_resources_check(&res, mem ?: UINT64_MAX, false)) < 0) {
                                ret = r;
                                continue;
                        }
                        if (r >= 0)
                                r = sd_bus_message_append(m, "{sv}", "MemorySwapMax", "t",
                                                          ctl_memory_swap_max(res.memory_swap, mem ?: UINT64_MAX));
                }
                if (r >= 0 && res.cpu_shares)
                        r = sd_bus_message_append(m, "{sv}", "CPUShares", "t", res.cpu_shares);
                if (r >= 0 && res.cpu_weight_set)
                        r = sd_bus_message_append(m, "{sv}", "CPUWeight", "t", res.cpu_weight);
                if (r >= 0 && (res.cpu_period > 0 || res.cpu_quota > 0)) {
                        /* Docker's quota per period as systemd's per second: without --cpu-period,
                         * the container's period (100 ms when it has none). */
                        uint64_t period = res.cpu_period > 0 ? (uint64_t) res.cpu_period : UINT64_MAX;
                        if (period == UINT64_MAX)
                                r = sd_bus_get_property_trivial(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER,
                                                                "CPUQuotaPeriodUSec", &error, 't', &period);
                        if (period == UINT64_MAX)
                                period = 100000;
                        if (r >= 0)
                                r = sd_bus_message_append(m, "{sv}", "CPUQuotaPeriodUSec", "t", period);
                        if (r >= 0 && res.cpu_quota > 0)
                                r = sd_bus_message_append(m, "{sv}", "CPUQuotaPerSecUSec", "t",
                                                          (uint64_t) res.cpu_quota * 1000000 / period);
                }
                if (r >= 0 && res.memory_reservation)
                        r = sd_bus_message_append(m, "{sv}", "MemoryLow", "t", res.memory_reservation);
                if (r >= 0 && res.blkio_weight)
                        r = sd_bus_message_append(m, "{sv}", "BlkioWeight", "t", res.blkio_weight);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_call(bus, m, CTL_TIMEOUT_DEFAULT, &error, NULL);
                if (r < 0)
                        ret = ctl_log_bus_error(&error, r);
                else
                        printf("%s\n", argv[i]);
        }
        return ret;
}

typedef struct Sample {
        uint64_t memory, memory_max, cpu_nsec, tasks, io_read, io_write;
        uint64_t at_usec;
} Sample;

static int take_sample(sd_bus *bus, const char *path, Sample *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct timespec ts;
        int r = ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "GetStats", CTL_TIMEOUT_DEFAULT, error, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "tttttt", &ret->memory, &ret->memory_max, &ret->cpu_nsec, &ret->tasks,
                                &ret->io_read, &ret->io_write);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ret->at_usec = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
        return r;
}

static const char *size_or_dash(uint64_t v, char buf[static CTL_FORMAT_SIZE_MAX]) {
        return v == UINT64_MAX ? "--" : ctl_format_size(v, buf);
}

static int stats_round(sd_bus *bus, char **names, char **paths, Sample *prev, bool first) {
        _cleanup_(table_freep) Table *t = table_new(6);
        if (!t || table_add_cells(t, "CONTAINER", "CPU %", "MEM USAGE / LIMIT", "MEM %", "BLOCK I/O", "PIDS", NULL) < 0)
                return -ENOMEM;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                char cpu[32] = "--", mem[64], memp[32] = "--", io[64], pids[32] = "--", a[CTL_FORMAT_SIZE_MAX],
                     b[CTL_FORMAT_SIZE_MAX];
                Sample s;
                int r = take_sample(bus, paths[i], &s, &error);
                if (r < 0) {
                        (void) ctl_log_bus_error(&error, r);
                        continue;
                }
                if (!first && s.cpu_nsec != UINT64_MAX && prev[i].cpu_nsec != UINT64_MAX && s.at_usec > prev[i].at_usec)
                        snprintf(cpu, sizeof(cpu), "%.2f%%",
                                 100.0 * (double) (s.cpu_nsec - prev[i].cpu_nsec) /
                                         ((double) (s.at_usec - prev[i].at_usec) * 1000.0));
                snprintf(mem, sizeof(mem), "%s / %s", size_or_dash(s.memory, a), size_or_dash(s.memory_max, b));
                if (s.memory != UINT64_MAX && s.memory_max != UINT64_MAX && s.memory_max > 0)
                        snprintf(memp, sizeof(memp), "%.2f%%", 100.0 * (double) s.memory / (double) s.memory_max);
                snprintf(io, sizeof(io), "%s / %s", size_or_dash(s.io_read, a), size_or_dash(s.io_write, b));
                if (s.tasks != UINT64_MAX)
                        snprintf(pids, sizeof(pids), "%" PRIu64, s.tasks);
                prev[i] = s;
                if (table_add_cells(t, names[i], cpu, mem, memp, io, pids, NULL) < 0)
                        return -ENOMEM;
        }
        return table_print(t, stdout);
}

int verb_stats(int argc, char *argv[], Ctl *ctl) {
        bool no_stream = false;
        int first_name = 1;
        sd_bus *bus;
        int r;

        for (; first_name < argc && argv[first_name][0] == '-'; first_name++) {
                if (streq(argv[first_name], "--no-stream"))
                        no_stream = true;
                else if (streq(argv[first_name], "--help") || streq(argv[first_name], "-h")) {
                        printf("Usage: berthctl stats [--no-stream] CONTAINER...\n"
                               "\n"
                               "Show CPU, memory, block I/O and task use of running containers, from the\n"
                               "accounting of their scopes; refreshed every second until interrupted.\n"
                               "\n"
                               "Options:\n"
                               "      --no-stream   Print one sample and exit\n"
                               "  -h, --help        Show this help\n");
                        return 0;
                } else {
                        ctl_log_error("unknown flag: %s (see 'berthctl stats --help')", argv[first_name]);
                        return -EINVAL;
                }
        }
        if (first_name >= argc) {
                ctl_log_error("\"stats\" requires at least 1 container");
                return -EINVAL;
        }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        size_t n = (size_t) (argc - first_name);
        _cleanup_strv_free_ char **paths = calloc(n + 1, sizeof(char *));
        _cleanup_free_ Sample *prev = calloc(n, sizeof(Sample));
        if (!paths || !prev)
                return ctl_log_errno(-ENOMEM, "%m");
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                r = ctl_get_container(bus, argv[first_name + i], &error, &paths[i]);
                if (r < 0)
                        return ctl_log_bus_error(&error, r);
        }
        /* CPU % needs two samples: take a first one quietly, half a second before the first print. */
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                (void) take_sample(bus, paths[i], &prev[i], &error);
        }
        usleep(500 * 1000);
        bool terminal = isatty(STDOUT_FILENO);
        for (;;) {
                /* A live view on a terminal, as docker stats: each sample replaces the last. In a
                 * pipe or file, samples follow each other, separated by an empty line. */
                if (terminal && !no_stream)
                        fputs("\033[2J\033[H", stdout);
                r = stats_round(bus, argv + first_name, paths, prev, false);
                if (r < 0 || no_stream)
                        return r < 0 ? ctl_log_errno(r, "%m") : 0;
                fflush(stdout);
                sleep(1);
                if (!terminal)
                        printf("\n");
        }
}

int verb_top(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = table_new(3);
        _cleanup_free_ char *path = NULL;
        const char *cmdline;
        uint32_t pid, cpid;
        sd_bus *bus;
        int r;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: berthctl top CONTAINER\n"
                       "\n"
                       "List the processes of a running container: host PID, PID inside the container,\n"
                       "command line (from systemd's view of the container's scope).\n");
                return 0;
        }
        if (argc != 2) {
                ctl_log_error("\"top\" requires exactly 1 container");
                return -EINVAL;
        }
        if (!t)
                return ctl_log_errno(-ENOMEM, "%m");
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = ctl_get_container(bus, argv[1], &error, &path);
        if (r >= 0)
                r = ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "GetProcesses", CTL_TIMEOUT_DEFAULT, &error, &reply,
                                 NULL);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        if (table_add_cells(t, "PID", "CONTAINER PID", "CMD", NULL) < 0)
                return ctl_log_errno(-ENOMEM, "%m");
        r = sd_bus_message_enter_container(reply, 'a', "(uus)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(uus)", &pid, &cpid, &cmdline)) > 0) {
                char a[16], b[16];
                snprintf(a, sizeof(a), "%u", pid);
                snprintf(b, sizeof(b), "%u", cpid);
                if (table_add_cells(t, a, b, cmdline, NULL) < 0)
                        return ctl_log_errno(-ENOMEM, "%m");
        }
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply: %m");
        return table_print(t, stdout);
}
