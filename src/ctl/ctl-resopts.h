/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The resource flags of create/run (and some of update): --shm-size, --ulimit, --memory-swap,
 * --cpu-shares, --cpu-weight, --device, --stop-timeout, in Docker's syntax. */

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
        { "stop-timeout", required_argument, NULL, CTL_ARG_STOP_TIMEOUT }
/* clang-format on */

#define CTL_RESOURCES_HELP                                                                             \
        "      --memory-swap=SIZE   Memory plus swap (needs -m; -1: unlimited swap) (MemorySwapMax)\n" \
        "      --cpu-shares=N       Relative CPU weight as Docker counts it (2-262144; CPUWeight)\n"   \
        "      --cpu-weight=N       Relative CPU weight as systemd counts it (1-10000; CPUWeight)\n"   \
        "      --shm-size=SIZE      Size of /dev/shm (default 64m)\n"                                  \
        "      --ulimit=NAME=SOFT[:HARD]  Resource limit, e.g. nofile=1024:2048 (repeatable;\n"        \
        "                           -1 or unlimited for no limit)\n"                                   \
        "      --device=HOST[:CONTAINER][:PERMS]  Give the container a host device (repeatable;\n"     \
        "                           PERMS of r, w, m, default rwm)\n"                                  \
        "      --stop-timeout=SECONDS  Default grace period of stop and restart (default 10)\n"

/* One of the CTL_ARG_* options. Logs and returns -EINVAL on bad input. */
int ctl_resources_parse(CtlResources *r, int option, const char *arg);
/* Cross-checks with -m (memory_max: UINT64_MAX when not given). Logs. */
int ctl_resources_check(const CtlResources *r, uint64_t memory_max);
/* The CreateContainer options; memory_max as for ctl_resources_check. */
int ctl_resources_append(sd_bus_message *m, const CtlResources *r, uint64_t memory_max);
void ctl_resources_done(CtlResources *r);

/* Docker's --memory-swap total into MemorySwapMax (what may be swapped beyond memory_max). */
uint64_t ctl_memory_swap_max(uint64_t memory_swap, uint64_t memory_max);
