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

int ctl_resources_parse(CtlResources *r, int option, const char *arg) {
        uint64_t v;

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
        case CTL_ARG_ULIMIT:
                return parse_ulimit(r, arg);
        case CTL_ARG_DEVICE:
                return parse_device(r, arg);
        default:
                return -EINVAL;
        }
}

int ctl_resources_check(const CtlResources *r, uint64_t memory_max) {
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
