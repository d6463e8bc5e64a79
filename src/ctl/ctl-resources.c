/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl update, top: limits and processes of containers, through their scopes (stats: ctl-stats.c). */
#include <getopt.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <fcntl.h>
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
               "      --cpuset-cpus=LIST  CPUs the container may use, 0-3 or 0,1 (AllowedCPUs)\n"
               "      --cpuset-mems=LIST  Memory nodes it may use (AllowedMemoryNodes)\n"
               "      --restart=POLICY  no, on-failure[:MAX-RETRIES], always, unless-stopped\n"
               "  -h, --help            Show this help\n");
}

typedef struct UpdateArgs {
        uint64_t memory, cpus, pids;
        const char *cpuset_cpus, *cpuset_mems;
        char *restart; /* the policy's name; NULL: not given */
        uint32_t restart_max_retries;
        CtlResources res;
} UpdateArgs;

static void update_args_done(UpdateArgs *a) {
        free(a->restart);
        ctl_resources_done(&a->res);
}

/* Update() of one container with the limits given; logs on failure. */
static int update_one(sd_bus *bus, const char *name, const UpdateArgs *a) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL;
        int r = ctl_get_container(bus, name, &error, &path);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Update");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && a->memory)
                r = sd_bus_message_append(m, "{sv}", "MemoryMax", "t", a->memory);
        if (r >= 0 && a->cpus)
                r = sd_bus_message_append(m, "{sv}", "CPUQuotaPerSecUSec", "t", a->cpus);
        if (r >= 0 && a->pids)
                r = sd_bus_message_append(m, "{sv}", "TasksMax", "t", a->pids);
        if (r >= 0 && a->res.memory_swap) {
                /* Docker's total is memory plus swap: without -m, the container's memory. */
                uint64_t mem = a->memory;
                if (mem == 0 && a->res.memory_swap != UINT64_MAX)
                        r = sd_bus_get_property_trivial(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "MemoryMax",
                                                        &error, 't', &mem);
                if (r >= 0 && (r = ctl_resources_check(&a->res, mem ?: UINT64_MAX, false)) < 0)
                        return r; /* logged */
                if (r >= 0)
                        r = sd_bus_message_append(m, "{sv}", "MemorySwapMax", "t",
                                                  ctl_memory_swap_max(a->res.memory_swap, mem ?: UINT64_MAX));
        }
        if (r >= 0 && a->res.cpu_shares)
                r = sd_bus_message_append(m, "{sv}", "CPUShares", "t", a->res.cpu_shares);
        if (r >= 0 && a->res.cpu_weight_set)
                r = sd_bus_message_append(m, "{sv}", "CPUWeight", "t", a->res.cpu_weight);
        if (r >= 0 && (a->res.cpu_period > 0 || a->res.cpu_quota > 0)) {
                /* Docker's quota per period as systemd's per second: without --cpu-period,
                 * the container's period (100 ms when it has none). */
                uint64_t period = a->res.cpu_period > 0 ? (uint64_t) a->res.cpu_period : UINT64_MAX;
                if (period == UINT64_MAX)
                        r = sd_bus_get_property_trivial(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER,
                                                        "CPUQuotaPeriodUSec", &error, 't', &period);
                if (period == UINT64_MAX)
                        period = 100000;
                if (r >= 0)
                        r = sd_bus_message_append(m, "{sv}", "CPUQuotaPeriodUSec", "t", period);
                if (r >= 0 && a->res.cpu_quota > 0)
                        r = sd_bus_message_append(m, "{sv}", "CPUQuotaPerSecUSec", "t",
                                                  (uint64_t) a->res.cpu_quota * 1000000 / period);
        }
        if (r >= 0 && a->res.memory_reservation)
                r = sd_bus_message_append(m, "{sv}", "MemoryLow", "t", a->res.memory_reservation);
        if (r >= 0 && a->res.blkio_weight)
                r = sd_bus_message_append(m, "{sv}", "BlkioWeight", "t", a->res.blkio_weight);
        if (r >= 0 && a->cpuset_cpus)
                r = sd_bus_message_append(m, "{sv}", "AllowedCPUs", "s", a->cpuset_cpus);
        if (r >= 0 && a->cpuset_mems)
                r = sd_bus_message_append(m, "{sv}", "AllowedMemoryNodes", "s", a->cpuset_mems);
        if (r >= 0 && a->restart)
                r = sd_bus_message_append(m, "{sv}{sv}", "RestartPolicy", "s", a->restart, "RestartMaxRetries", "u",
                                          a->restart_max_retries);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(bus, m, CTL_TIMEOUT_DEFAULT, &error, NULL);
        return r < 0 ? ctl_log_bus_error(&error, r) : 0;
}

int verb_update(int argc, char *argv[], Ctl *ctl) {
        enum { ARG_CPUS = 0x100, ARG_PIDS_LIMIT, ARG_CPUSET_CPUS, ARG_CPUSET_MEMS, ARG_RESTART, ARG_HELP };
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
                { "cpuset-cpus", required_argument, NULL, ARG_CPUSET_CPUS },
                { "cpuset-mems", required_argument, NULL, ARG_CPUSET_MEMS },
                { "restart", required_argument, NULL, ARG_RESTART },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(update_args_done) UpdateArgs a = { .res = CTL_RESOURCES_INIT };
        uint64_t *memory = &a.memory, *cpus = &a.cpus, *pids = &a.pids;
        CtlResources *res = &a.res;
        int c, r, ret = 0;
        sd_bus *bus;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:m:h", options, NULL)) >= 0)
                switch (c) {
                case 'm':
                        if (parse_size(optarg, memory) < 0 || *memory == 0) {
                                ctl_log_error("invalid memory size \"%s\"", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_CPUS:
                        if (ctl_parse_cpus(optarg, cpus) < 0) {
                                ctl_log_error("invalid value \"%s\" for --cpus", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_PIDS_LIMIT:
                        if (ctl_parse_pids_limit(optarg, pids) < 0) {
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
                        if (ctl_resources_parse(res, c, optarg) < 0)
                                return -EINVAL;
                        break;
                case ARG_CPUSET_CPUS:
                        a.cpuset_cpus = optarg;
                        break;
                case ARG_CPUSET_MEMS:
                        a.cpuset_mems = optarg;
                        break;
                case ARG_RESTART:
                        a.restart = mfree(a.restart);
                        if (ctl_parse_restart_policy(optarg, &a.restart, &a.restart_max_retries) < 0) {
                                ctl_log_error("invalid restart policy \"%s\": expected no, on-failure[:N], always or "
                                              "unless-stopped",
                                              optarg);
                                return -EINVAL;
                        }
                        break;
                case 'h':
                case ARG_HELP:
                        update_help();
                        return 0;
                default:
                        return ctl_log_getopt_error("update", c, argv);
                }
        if (optind >= argc ||
            (a.memory == 0 && a.cpus == 0 && a.pids == 0 && res->memory_swap == 0 && res->cpu_shares == 0 &&
             !res->cpu_weight_set && res->cpu_period == 0 && res->cpu_quota == 0 && res->memory_reservation == 0 &&
             res->blkio_weight == 0 && !a.cpuset_cpus && !a.cpuset_mems && !a.restart)) {
                ctl_log_error("\"update\" needs at least one limit and one container (see 'berthctl update --help')");
                return -EINVAL;
        }
        r = ctl_resources_check_cpu(res, a.cpus != 0);
        if (r < 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        for (int i = optind; i < argc; i++) {
                r = update_one(bus, argv[i], &a);
                if (r < 0)
                        ret = r;
                else
                        printf("%s\n", argv[i]);
        }
        return ret;
}

/* docker top CONTAINER PS_OPTIONS: the host's ps with those options, its header and the rows whose
 * PID column is one of the container's processes (pids, host PIDs). */
static int top_with_ps(char **ps_args, const uint32_t *pids, size_t n_pids) {
        int pipes[2];
        if (pipe2(pipes, O_CLOEXEC) < 0)
                return ctl_log_errno(-errno, "Failed to run ps: %m");
        pid_t child = fork();
        if (child < 0)
                return ctl_log_errno(-errno, "Failed to run ps: %m");
        if (child == 0) {
                size_t n = strv_length(ps_args);
                char **argv = calloc(n + 2, sizeof(char *));
                if (!argv || dup2(pipes[1], STDOUT_FILENO) < 0)
                        _exit(127);
                argv[0] = (char *) "ps";
                memcpy(argv + 1, ps_args, n * sizeof(char *));
                execvp("ps", argv);
                _exit(127);
        }
        close(pipes[1]);
        _cleanup_fclose_ FILE *f = fdopen(pipes[0], "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        int pid_column = -1, status = 0;
        bool header = true;
        while (f && getline(&line, &cap, f) > 0) {
                _cleanup_free_ char *copy = strdup(line);
                char *save = NULL, *field;
                int k = 0, match = 0;
                if (!copy)
                        return ctl_log_errno(-ENOMEM, "%m");
                for (field = strtok_r(copy, " \t\n", &save); field; field = strtok_r(NULL, " \t\n", &save), k++) {
                        if (header && streq(field, "PID"))
                                pid_column = k;
                        else if (!header && k == pid_column)
                                for (size_t i = 0; i < n_pids; i++)
                                        match = match || (uint32_t) strtoul(field, NULL, 10) == pids[i];
                }
                if (header && pid_column < 0)
                        break;
                if (header || match)
                        fputs(line, stdout);
                header = false;
        }
        if (!f)
                close(pipes[0]);
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                ctl_log_error("ps failed (exit status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                return -EIO;
        }
        if (pid_column < 0) { /* Docker's words */
                ctl_log_error("Couldn't find PID field in ps output");
                return -EINVAL;
        }
        return 0;
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
                printf("Usage: berthctl top CONTAINER [ps OPTIONS]\n"
                       "\n"
                       "List the processes of a running container: host PID, PID inside the container,\n"
                       "command line (from systemd's view of the container's scope). With ps options\n"
                       "(as docker top): the host's ps output with them, only the container's rows.\n");
                return 0;
        }
        if (argc < 2) {
                ctl_log_error("\"top\" requires at least 1 argument");
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
        if (argc > 2) {
                _cleanup_free_ uint32_t *pids = NULL;
                size_t n = 0;
                r = sd_bus_message_enter_container(reply, 'a', "(uus)");
                while (r >= 0 && (r = sd_bus_message_read(reply, "(uus)", &pid, &cpid, &cmdline)) > 0) {
                        uint32_t *p = reallocarray(pids, n + 1, sizeof(uint32_t));
                        if (!p)
                                return ctl_log_errno(-ENOMEM, "%m");
                        pids = p;
                        pids[n++] = pid;
                }
                if (r < 0)
                        return ctl_log_errno(r, "Failed to parse the reply: %m");
                return top_with_ps(argv + 2, pids, n);
        }
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
