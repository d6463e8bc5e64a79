/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The resource flags of create/run (and some of update): --shm-size, --ulimit, --memory-swap,
 * --cpu-shares, --cpu-weight, --device, --stop-timeout, the cpuset, CFS, memory reservation, OOM,
 * block I/O and --cgroup-parent flags, in Docker's syntax. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct CtlUlimit {
        char *name;
        uint64_t soft, hard; /* UINT64_MAX: unlimited */
} CtlUlimit;

typedef struct CtlDevice {
        char *host, *container, *permissions;
} CtlDevice;

/* --blkio-weight-device, --device-{read,write}-{bps,iops}: (option of CreateContainer, device, value). */
typedef struct CtlIOLimit {
        const char *option;
        char *path;
        uint64_t value;
} CtlIOLimit;

typedef struct CtlResources {
        uint64_t shm_size; /* 0: not given */
        uint64_t memory_swap; /* Docker's memory+swap total; 0: not given; UINT64_MAX: -1 (unlimited) */
        uint64_t cpu_shares; /* 0: not given (Docker's default) */
        uint64_t cpu_weight;
        bool cpu_weight_set;
        int64_t stop_timeout; /* -1: not given */
        CtlUlimit *ulimits;
        size_t n_ulimits;
        CtlDevice *devices;
        size_t n_devices;
        const char *cpuset_cpus, *cpuset_mems; /* NULL: not given */
        int64_t cpu_period, cpu_quota; /* µs; 0: not given (a negative quota: none, as Docker's -1) */
        uint64_t memory_reservation; /* 0: not given */
        bool oom_score_adj_set;
        int oom_score_adj;
        uint64_t blkio_weight; /* 0: not given */
        const char *cgroup_parent;
        bool memory_swappiness, kernel_memory, oom_kill_disable; /* given: discarded with Docker's warning */
        CtlIOLimit *io_limits;
        size_t n_io_limits;
} CtlResources;

#define CTL_RESOURCES_INIT \
        { .stop_timeout = -1 }

enum {
        CTL_ARG_SHM_SIZE = 0x200,
        CTL_ARG_ULIMIT,
        CTL_ARG_MEMORY_SWAP,
        CTL_ARG_CPU_SHARES,
        CTL_ARG_CPU_WEIGHT,
        CTL_ARG_DEVICE,
        CTL_ARG_STOP_TIMEOUT,
        CTL_ARG_CPUSET_CPUS,
        CTL_ARG_CPUSET_MEMS,
        CTL_ARG_CPU_PERIOD,
        CTL_ARG_CPU_QUOTA,
        CTL_ARG_MEMORY_RESERVATION,
        CTL_ARG_MEMORY_SWAPPINESS,
        CTL_ARG_KERNEL_MEMORY,
        CTL_ARG_OOM_KILL_DISABLE,
        CTL_ARG_OOM_SCORE_ADJ,
        CTL_ARG_BLKIO_WEIGHT,
        CTL_ARG_BLKIO_WEIGHT_DEVICE,
        CTL_ARG_DEVICE_READ_BPS,
        CTL_ARG_DEVICE_WRITE_BPS,
        CTL_ARG_DEVICE_READ_IOPS,
        CTL_ARG_DEVICE_WRITE_IOPS,
        CTL_ARG_CGROUP_PARENT,
};

/* getopt_long entries of the create/run flags. */
/* clang-format off */
#define CTL_RESOURCES_OPTIONS                                            \
        { "shm-size", required_argument, NULL, CTL_ARG_SHM_SIZE },       \
        { "ulimit", required_argument, NULL, CTL_ARG_ULIMIT },           \
        { "memory-swap", required_argument, NULL, CTL_ARG_MEMORY_SWAP }, \
        { "cpu-shares", required_argument, NULL, CTL_ARG_CPU_SHARES },   \
        { "cpu-weight", required_argument, NULL, CTL_ARG_CPU_WEIGHT },   \
        { "device", required_argument, NULL, CTL_ARG_DEVICE },           \
        { "stop-timeout", required_argument, NULL, CTL_ARG_STOP_TIMEOUT }, \
        { "cpuset-cpus", required_argument, NULL, CTL_ARG_CPUSET_CPUS }, \
        { "cpuset-mems", required_argument, NULL, CTL_ARG_CPUSET_MEMS }, \
        { "cpu-period", required_argument, NULL, CTL_ARG_CPU_PERIOD }, \
        { "cpu-quota", required_argument, NULL, CTL_ARG_CPU_QUOTA }, \
        { "memory-reservation", required_argument, NULL, CTL_ARG_MEMORY_RESERVATION }, \
        { "memory-swappiness", required_argument, NULL, CTL_ARG_MEMORY_SWAPPINESS }, \
        { "kernel-memory", required_argument, NULL, CTL_ARG_KERNEL_MEMORY }, \
        { "oom-kill-disable", no_argument, NULL, CTL_ARG_OOM_KILL_DISABLE }, \
        { "oom-score-adj", required_argument, NULL, CTL_ARG_OOM_SCORE_ADJ }, \
        { "blkio-weight", required_argument, NULL, CTL_ARG_BLKIO_WEIGHT }, \
        { "blkio-weight-device", required_argument, NULL, CTL_ARG_BLKIO_WEIGHT_DEVICE }, \
        { "device-read-bps", required_argument, NULL, CTL_ARG_DEVICE_READ_BPS }, \
        { "device-write-bps", required_argument, NULL, CTL_ARG_DEVICE_WRITE_BPS }, \
        { "device-read-iops", required_argument, NULL, CTL_ARG_DEVICE_READ_IOPS }, \
        { "device-write-iops", required_argument, NULL, CTL_ARG_DEVICE_WRITE_IOPS }, \
        { "cgroup-parent", required_argument, NULL, CTL_ARG_CGROUP_PARENT }
/* clang-format on */

#define CTL_RESOURCES_HELP                                                                              \
        "      --memory-swap=SIZE   Memory plus swap (needs -m; -1: unlimited swap) (MemorySwapMax)\n"  \
        "  -c, --cpu-shares=N       Relative CPU weight as Docker counts it (2-262144; CPUWeight)\n"    \
        "      --cpu-weight=N       Relative CPU weight as systemd counts it (1-10000; CPUWeight)\n"    \
        "      --cpu-period=USEC    CFS period, 1000-1000000 (CPUQuotaPeriodUSec; not with --cpus)\n"   \
        "      --cpu-quota=USEC     CPU time per period, at least 1000 (CPUQuota; not with --cpus)\n"   \
        "      --cpuset-cpus=LIST   CPUs the container may use, e.g. 0-3,6 (AllowedCPUs)\n"             \
        "      --cpuset-mems=LIST   Memory nodes it may use (AllowedMemoryNodes)\n"                     \
        "      --memory-reservation=SIZE  Memory protected from reclaim (MemoryLow)\n"                  \
        "      --oom-score-adj=N    OOM score adjustment of its processes (-1000 to 1000)\n"            \
        "      --blkio-weight=N     Block I/O weight, 10-1000 (IOWeight)\n"                             \
        "      --blkio-weight-device=DEV:N  Weight for one block device (IODeviceWeight; repeatable)\n" \
        "      --device-read-bps=DEV:RATE  Read rate limit, e.g. /dev/sda:1mb (IOReadBandwidthMax)\n"   \
        "      --device-write-bps=DEV:RATE  Write rate limit (IOWriteBandwidthMax)\n"                   \
        "      --device-read-iops=DEV:N  Read operations per second (IOReadIOPSMax)\n"                  \
        "      --device-write-iops=DEV:N  Write operations per second (IOWriteIOPSMax)\n"               \
        "      --cgroup-parent=SLICE  Slice of the container's scope (default machine.slice)\n"         \
        "      --memory-swappiness, --kernel-memory, --oom-kill-disable  Accepted and discarded\n"      \
        "                           with Docker's warning (no cgroup v1 knobs)\n"                       \
        "      --shm-size=SIZE      Size of /dev/shm (default 64m)\n"                                   \
        "      --ulimit=NAME=SOFT[:HARD]  Resource limit, e.g. nofile=1024:2048 (repeatable;\n"         \
        "                           -1 or unlimited for no limit)\n"                                    \
        "      --device=HOST[:CONTAINER][:PERMS]  Give the container a host device (repeatable;\n"      \
        "                           PERMS of r, w, m, default rwm)\n"                                   \
        "      --stop-timeout=SECONDS  Default grace period of stop and restart (default 10)\n"

/* One of the CTL_ARG_* options. Logs and returns -EINVAL on bad input. */
int ctl_resources_parse(CtlResources *r, int option, const char *arg);
/* --cpu-period and --cpu-quota: their ranges, and not with --cpus. Logs. */
int ctl_resources_check_cpu(const CtlResources *r, bool cpus);
/* Cross-checks with -m (memory_max: UINT64_MAX when not given) and --cpus; warns of what is
 * discarded. Logs. */
int ctl_resources_check(const CtlResources *r, uint64_t memory_max, bool cpus);
/* The CreateContainer options; memory_max as for ctl_resources_check. */
int ctl_resources_append(sd_bus_message *m, const CtlResources *r, uint64_t memory_max);
void ctl_resources_done(CtlResources *r);

/* Docker's --memory-swap total into MemorySwapMax (what may be swapped beyond memory_max). */
uint64_t ctl_memory_swap_max(uint64_t memory_swap, uint64_t memory_max);
