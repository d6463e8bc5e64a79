/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-log.h"
#include "ctl-resopts.h"
#include "util.h"

void ctl_resources_done(CtlResources *r) {
        for (size_t i = 0; i < r->n_ulimits; i++)
                free(r->ulimits[i].name);
        free(r->ulimits);
        for (size_t i = 0; i < r->n_devices; i++) {
                free(r->devices[i].host);
                free(r->devices[i].container);
                free(r->devices[i].permissions);
        }
        free(r->devices);
        for (size_t i = 0; i < r->n_io_limits; i++)
                free(r->io_limits[i].path);
        free(r->io_limits);
        *r = (CtlResources) CTL_RESOURCES_INIT;
}

/* A ulimit value: a count, or -1 / "unlimited". */
static int parse_rlimit_value(const char *s, uint64_t *ret) {
        if (streq(s, "-1") || streq(s, "unlimited")) {
                *ret = UINT64_MAX;
                return 0;
        }
        return parse_uint64(s, ret) < 0 || *ret == UINT64_MAX ? -EINVAL : 0;
}

/* "name=soft[:hard]"; the hard limit defaults to the soft one, as in Docker. */
static int parse_ulimit(CtlResources *r, const char *arg) {
        const char *eq = strchr(arg, '=');
        uint64_t soft, hard;
        if (!eq || eq == arg) {
                ctl_log_error("invalid ulimit argument \"%s\": expected NAME=SOFT[:HARD]", arg);
                return -EINVAL;
        }
        _cleanup_free_ char *name = strndup(arg, (size_t) (eq - arg)), *value = strdup(eq + 1);
        if (!name || !value)
                return ctl_log_errno(-ENOMEM, "%m");
        char *colon = strchr(value, ':');
        if (colon)
                *colon = 0;
        if (parse_rlimit_value(value, &soft) < 0 || (colon && parse_rlimit_value(colon + 1, &hard) < 0)) {
                ctl_log_error("invalid ulimit argument \"%s\": expected NAME=SOFT[:HARD] with numbers", arg);
                return -EINVAL;
        }
        if (!colon)
                hard = soft;
        if (soft > hard) {
                ctl_log_error("ulimit soft limit must be less than or equal to hard limit: %s", arg);
                return -EINVAL;
        }
        CtlUlimit *a = realloc(r->ulimits, (r->n_ulimits + 1) * sizeof(*a));
        if (!a)
                return ctl_log_errno(-ENOMEM, "%m");
        r->ulimits = a;
        a[r->n_ulimits++] = (CtlUlimit){ .name = TAKE_PTR(name), .soft = soft, .hard = hard };
        return 0;
}

static bool is_permissions(const char *s) {
        return !isempty(s) && strspn(s, "rwm") == strlen(s) && strlen(s) <= 3;
}

/* Docker's forms: HOST, HOST:CONTAINER, HOST:PERMS, HOST:CONTAINER:PERMS. */
static int parse_device(CtlResources *r, const char *arg) {
        _cleanup_free_ char *copy = strdup(arg);
        if (!copy)
                return ctl_log_errno(-ENOMEM, "%m");
        char *host = copy, *container = NULL, *permissions = NULL, *p = strchr(copy, ':');
        if (p) {
                *p++ = 0;
                char *q = strchr(p, ':');
                if (q) {
                        *q++ = 0;
                        container = p;
                        permissions = q;
                } else if (is_permissions(p))
                        permissions = p;
                else
                        container = p;
        }
        if (host[0] != '/' || (container && container[0] != '/') || (permissions && !is_permissions(permissions))) {
                ctl_log_error("invalid device \"%s\": expected /HOST/PATH[:/CONTAINER/PATH][:PERMISSIONS]", arg);
                return -EINVAL;
        }
        CtlDevice *a = realloc(r->devices, (r->n_devices + 1) * sizeof(*a));
        if (!a)
                return ctl_log_errno(-ENOMEM, "%m");
        r->devices = a;
        CtlDevice *d = &a[r->n_devices++];
        *d = (CtlDevice){ .host = strdup(host),
                          .container = strdup(container ?: host),
                          .permissions = strdup(permissions ?: "rwm") };
        if (!d->host || !d->container || !d->permissions)
                return ctl_log_errno(-ENOMEM, "%m");
        return 0;
}

/* Docker's DEVICE:VALUE forms (opts/throttledevice.go, weightdevice.go) and their words. */
static int parse_io_limit(CtlResources *r, int option, const char *arg) {
        static const struct {
                int option;
                const char *flag, *key;
        } kinds[] = {
                { CTL_ARG_BLKIO_WEIGHT_DEVICE, "blkio-weight-device", "BlkioWeightDevice" },
                { CTL_ARG_DEVICE_READ_BPS, "device-read-bps", "IOReadBandwidthMax" },
                { CTL_ARG_DEVICE_WRITE_BPS, "device-write-bps", "IOWriteBandwidthMax" },
                { CTL_ARG_DEVICE_READ_IOPS, "device-read-iops", "IOReadIOPSMax" },
                { CTL_ARG_DEVICE_WRITE_IOPS, "device-write-iops", "IOWriteIOPSMax" },
        };
        size_t k = 0;
        while (kinds[k].option != option)
                k++;
        const char *colon = strrchr(arg, ':');
        bool weight = option == CTL_ARG_BLKIO_WEIGHT_DEVICE,
             bps = option == CTL_ARG_DEVICE_READ_BPS || option == CTL_ARG_DEVICE_WRITE_BPS;
        uint64_t v;
        if (!colon || colon == arg) {
                ctl_log_error("invalid argument \"%s\" for \"--%s\" flag: bad format: %s", arg, kinds[k].flag, arg);
                return -EINVAL;
        }
        _cleanup_free_ char *path = strndup(arg, (size_t) (colon - arg));
        if (!path)
                return ctl_log_errno(-ENOMEM, "%m");
        if (!startswith(path, "/dev/")) {
                ctl_log_error("invalid argument \"%s\" for \"--%s\" flag: bad format for device path: %s", arg,
                              kinds[k].flag, arg);
                return -EINVAL;
        }
        if ((bps ? parse_size(colon + 1, &v) : parse_uint64(colon + 1, &v)) < 0 || (weight && (v < 10 || v > 1000))) {
                if (weight)
                        ctl_log_error("invalid argument \"%s\" for \"--%s\" flag: invalid weight for device: %s", arg,
                                      kinds[k].flag, arg);
                else
                        ctl_log_error("invalid argument \"%s\" for \"--%s\" flag: invalid rate for device: %s. The "
                                      "correct format is <device-path>:<number>%s. Number must be a positive "
                                      "integer%s",
                                      arg, kinds[k].flag, arg, bps ? "[<unit>]" : "",
                                      bps ? ". Unit is optional and can be kb, mb, or gb" : "");
                return -EINVAL;
        }
        if (v == 0)
                return 0; /* no limit, as Docker's 0 */
        CtlIOLimit *a = realloc(r->io_limits, (r->n_io_limits + 1) * sizeof(*a));
        if (!a)
                return ctl_log_errno(-ENOMEM, "%m");
        r->io_limits = a;
        a[r->n_io_limits++] = (CtlIOLimit){ .option = kinds[k].key, .path = TAKE_PTR(path), .value = v };
        return 0;
}

static int parse_int64(const char *s, int64_t *ret) {
        char *end;
        if (isempty(s))
                return -EINVAL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno != 0 || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int ctl_resources_parse(CtlResources *r, int option, const char *arg) {
        uint64_t v;
        int64_t i;

        switch (option) {
        case CTL_ARG_SHM_SIZE:
                if (parse_size(arg, &v) < 0) {
                        ctl_log_error("invalid size \"%s\" for --shm-size", arg);
                        return -EINVAL;
                }
                r->shm_size = v; /* 0: the default, as in Docker */
                return 0;
        case CTL_ARG_MEMORY_SWAP:
                if (streq(arg, "-1"))
                        v = UINT64_MAX;
                else if (parse_size(arg, &v) < 0) {
                        ctl_log_error("invalid size \"%s\" for --memory-swap", arg);
                        return -EINVAL;
                }
                r->memory_swap = v;
                return 0;
        case CTL_ARG_CPU_SHARES:
        case CTL_ARG_CPU_WEIGHT:
                /* The range is berthd's to check (one place, one message). */
                if (parse_uint64(arg, &v) < 0 || v == UINT64_MAX) {
                        ctl_log_error("invalid value \"%s\" for --%s", arg,
                                      option == CTL_ARG_CPU_SHARES ? "cpu-shares" : "cpu-weight");
                        return -EINVAL;
                }
                if (option == CTL_ARG_CPU_SHARES)
                        r->cpu_shares = v; /* 0: the default, as in Docker */
                else {
                        r->cpu_weight = v;
                        r->cpu_weight_set = true;
                }
                return 0;
        case CTL_ARG_STOP_TIMEOUT:
                if (parse_uint64(arg, &v) < 0 || v > UINT32_MAX - 1) {
                        ctl_log_error("invalid value \"%s\" for --stop-timeout: expected seconds", arg);
                        return -EINVAL;
                }
                r->stop_timeout = (int64_t) v;
                return 0;
        case CTL_ARG_CPUSET_CPUS:
        case CTL_ARG_CPUSET_MEMS:
                /* The syntax and what the host has are berthd's to check (Docker's words). */
                if (option == CTL_ARG_CPUSET_CPUS)
                        r->cpuset_cpus = arg;
                else
                        r->cpuset_mems = arg;
                return 0;
        case CTL_ARG_CPU_PERIOD:
        case CTL_ARG_CPU_QUOTA:
        case CTL_ARG_OOM_SCORE_ADJ:
        case CTL_ARG_MEMORY_SWAPPINESS: {
                static const char *const flags[] = { "cpu-period", "cpu-quota", "oom-score-adj", "memory-swappiness" };
                size_t k = option == CTL_ARG_CPU_PERIOD   ? 0
                        : option == CTL_ARG_CPU_QUOTA     ? 1
                        : option == CTL_ARG_OOM_SCORE_ADJ ? 2
                                                          : 3;
                if (parse_int64(arg, &i) < 0 || (option == CTL_ARG_OOM_SCORE_ADJ && (i < INT32_MIN || i > INT32_MAX))) {
                        ctl_log_error("invalid argument \"%s\" for \"--%s\" flag: expected an integer", arg, flags[k]);
                        return -EINVAL;
                }
                if (option == CTL_ARG_CPU_PERIOD)
                        r->cpu_period = i;
                else if (option == CTL_ARG_CPU_QUOTA)
                        r->cpu_quota = i;
                else if (option == CTL_ARG_OOM_SCORE_ADJ) {
                        r->oom_score_adj = (int) i; /* the range is berthd's to check */
                        r->oom_score_adj_set = true;
                } else
                        r->memory_swappiness = i != -1; /* -1: Docker's "not set" */
                return 0;
        }
        case CTL_ARG_MEMORY_RESERVATION:
        case CTL_ARG_KERNEL_MEMORY:
                if (parse_size(arg, &v) < 0) {
                        ctl_log_error("invalid size \"%s\" for --%s", arg,
                                      option == CTL_ARG_MEMORY_RESERVATION ? "memory-reservation" : "kernel-memory");
                        return -EINVAL;
                }
                if (option == CTL_ARG_MEMORY_RESERVATION)
                        r->memory_reservation = v; /* 0: none, as Docker */
                else
                        r->kernel_memory = v > 0;
                return 0;
        case CTL_ARG_OOM_KILL_DISABLE:
                r->oom_kill_disable = true;
                return 0;
        case CTL_ARG_BLKIO_WEIGHT:
                if (parse_uint64(arg, &v) < 0 || v > UINT16_MAX) {
                        ctl_log_error("invalid argument \"%s\" for \"--blkio-weight\" flag: expected an integer", arg);
                        return -EINVAL;
                }
                r->blkio_weight = v; /* 0: not set; the range is berthd's to check */
                return 0;
        case CTL_ARG_BLKIO_WEIGHT_DEVICE:
        case CTL_ARG_DEVICE_READ_BPS:
        case CTL_ARG_DEVICE_WRITE_BPS:
        case CTL_ARG_DEVICE_READ_IOPS:
        case CTL_ARG_DEVICE_WRITE_IOPS:
                return parse_io_limit(r, option, arg);
        case CTL_ARG_CGROUP_PARENT:
                r->cgroup_parent = arg;
                return 0;
        case CTL_ARG_ULIMIT:
                return parse_ulimit(r, arg);
        case CTL_ARG_DEVICE:
                return parse_device(r, arg);
        default:
                return -EINVAL;
        }
}

int ctl_resources_check_cpu(const CtlResources *r, bool cpus) {
        /* Docker's rules and words (its daemon's; the first two are about --cpus). */
        if (cpus && r->cpu_period > 0) {
                ctl_log_error("Conflicting options: Nano CPUs and CPU Period cannot both be set");
                return -EINVAL;
        }
        if (cpus && r->cpu_quota > 0) {
                ctl_log_error("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
                return -EINVAL;
        }
        if (r->cpu_period != 0 && (r->cpu_period < 1000 || r->cpu_period > 1000000)) {
                ctl_log_error("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
                return -EINVAL;
        }
        if (r->cpu_quota > 0 && r->cpu_quota < 1000) {
                ctl_log_error("CPU cfs quota can not be less than 1ms (i.e. 1000)");
                return -EINVAL;
        }
        return 0;
}

int ctl_resources_check(const CtlResources *r, uint64_t memory_max, bool cpus) {
        int e = ctl_resources_check_cpu(r, cpus);
        if (e < 0)
                return e;
        /* What systemd has no property for, discarded as Docker does on cgroup v2. */
        if (r->memory_swappiness)
                ctl_log_warning("Your kernel does not support memory swappiness capabilities or the cgroup is not "
                                "mounted. Memory swappiness discarded.");
        if (r->kernel_memory)
                ctl_log_warning("Your kernel does not support kernel memory limit capabilities or the cgroup is not "
                                "mounted. Limitation discarded.");
        if (r->oom_kill_disable)
                ctl_log_warning("Your kernel does not support OomKillDisable. OomKillDisable discarded.");
        if (r->memory_swap == 0 || r->memory_swap == UINT64_MAX)
                return 0;
        /* Docker's rules and words. */
        if (memory_max == UINT64_MAX) {
                ctl_log_error("you should always set the memory limit when using the memoryswap limit, see usage");
                return -EINVAL;
        }
        if (r->memory_swap < memory_max) {
                ctl_log_error("minimum memoryswap limit should be larger than memory limit, see usage");
                return -EINVAL;
        }
        return 0;
}

uint64_t ctl_memory_swap_max(uint64_t memory_swap, uint64_t memory_max) {
        if (memory_swap == UINT64_MAX || memory_max == UINT64_MAX)
                return UINT64_MAX;
        return memory_swap - memory_max;
}

int ctl_resources_append(sd_bus_message *m, const CtlResources *res, uint64_t memory_max) {
        int r;

        if (res->shm_size > 0 && (r = sd_bus_message_append(m, "{sv}", "ShmSize", "t", res->shm_size)) < 0)
                return r;
        if (res->memory_swap > 0 &&
            (r = sd_bus_message_append(m, "{sv}", "MemorySwapMax", "t",
                                       ctl_memory_swap_max(res->memory_swap, memory_max))) < 0)
                return r;
        if (res->cpu_shares > 0 && (r = sd_bus_message_append(m, "{sv}", "CPUShares", "t", res->cpu_shares)) < 0)
                return r;
        if (res->cpu_weight_set && (r = sd_bus_message_append(m, "{sv}", "CPUWeight", "t", res->cpu_weight)) < 0)
                return r;
        if (res->cpuset_cpus && (r = sd_bus_message_append(m, "{sv}", "AllowedCPUs", "s", res->cpuset_cpus)) < 0)
                return r;
        if (res->cpuset_mems && (r = sd_bus_message_append(m, "{sv}", "AllowedMemoryNodes", "s", res->cpuset_mems)) < 0)
                return r;
        /* Docker's quota per period as systemd's quota per second, with the period (default 100 ms). */
        uint64_t period = res->cpu_period > 0 ? (uint64_t) res->cpu_period : 100000;
        if ((res->cpu_period > 0 || res->cpu_quota > 0) &&
            (r = sd_bus_message_append(m, "{sv}", "CPUQuotaPeriodUSec", "t", period)) < 0)
                return r;
        if (res->cpu_quota > 0 &&
            (r = sd_bus_message_append(m, "{sv}", "CPUQuotaPerSecUSec", "t",
                                       (uint64_t) res->cpu_quota * 1000000 / period)) < 0)
                return r;
        if (res->memory_reservation > 0 &&
            (r = sd_bus_message_append(m, "{sv}", "MemoryLow", "t", res->memory_reservation)) < 0)
                return r;
        if (res->oom_score_adj_set &&
            (r = sd_bus_message_append(m, "{sv}", "OOMScoreAdjust", "i", (int32_t) res->oom_score_adj)) < 0)
                return r;
        if (res->blkio_weight > 0 && (r = sd_bus_message_append(m, "{sv}", "BlkioWeight", "t", res->blkio_weight)) < 0)
                return r;
        if (res->cgroup_parent && (r = sd_bus_message_append(m, "{sv}", "Slice", "s", res->cgroup_parent)) < 0)
                return r;
        static const char *const io_options[] = { "BlkioWeightDevice", "IOReadBandwidthMax", "IOWriteBandwidthMax",
                                                  "IOReadIOPSMax", "IOWriteIOPSMax" };
        for (size_t k = 0; k < ELEMENTSOF(io_options); k++) {
                bool open = false;
                for (size_t i = 0; i < res->n_io_limits; i++) {
                        if (!streq(res->io_limits[i].option, io_options[k]))
                                continue;
                        if (!open &&
                            ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
                             (r = sd_bus_message_append(m, "s", io_options[k])) < 0 ||
                             (r = sd_bus_message_open_container(m, 'v', "a(st)")) < 0 ||
                             (r = sd_bus_message_open_container(m, 'a', "(st)")) < 0))
                                return r;
                        open = true;
                        if ((r = sd_bus_message_append(m, "(st)", res->io_limits[i].path, res->io_limits[i].value)) < 0)
                                return r;
                }
                if (open &&
                    ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
                     (r = sd_bus_message_close_container(m)) < 0))
                        return r;
        }
        if (res->stop_timeout >= 0 &&
            (r = sd_bus_message_append(m, "{sv}", "StopTimeout", "u", (uint32_t) res->stop_timeout)) < 0)
                return r;
        if (res->n_ulimits > 0) {
                if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
                    (r = sd_bus_message_append(m, "s", "Ulimits")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'v', "a(stt)")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'a', "(stt)")) < 0)
                        return r;
                for (size_t i = 0; i < res->n_ulimits; i++)
                        if ((r = sd_bus_message_append(m, "(stt)", res->ulimits[i].name, res->ulimits[i].soft,
                                                       res->ulimits[i].hard)) < 0)
                                return r;
                if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
                    (r = sd_bus_message_close_container(m)) < 0)
                        return r;
        }
        if (res->n_devices > 0) {
                if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
                    (r = sd_bus_message_append(m, "s", "Devices")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'v', "a(sss)")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'a', "(sss)")) < 0)
                        return r;
                for (size_t i = 0; i < res->n_devices; i++)
                        if ((r = sd_bus_message_append(m, "(sss)", res->devices[i].host, res->devices[i].container,
                                                       res->devices[i].permissions)) < 0)
                                return r;
                if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
                    (r = sd_bus_message_close_container(m)) < 0)
                        return r;
        }
        return 0;
}
