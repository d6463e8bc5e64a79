/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The health check flags of create/run, Docker's (--health-*, --no-healthcheck) and podman's
 * --health-on-failure, with Docker's parsing (Go durations) and words. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct CtlHealth {
        const char *cmd; /* --health-cmd: CMD-SHELL; NULL: not given */
        int64_t interval, timeout, start_period, start_interval; /* nanoseconds; 0: not given */
        int64_t retries; /* 0: not given */
        bool none; /* --no-healthcheck */
        const char *on_failure; /* NULL: not given */
} CtlHealth;

enum {
        CTL_ARG_HEALTH_CMD = 0x600, /* above ctl-logopts.h's options */
        CTL_ARG_HEALTH_INTERVAL,
        CTL_ARG_HEALTH_TIMEOUT,
        CTL_ARG_HEALTH_RETRIES,
        CTL_ARG_HEALTH_START_PERIOD,
        CTL_ARG_HEALTH_START_INTERVAL,
        CTL_ARG_NO_HEALTHCHECK,
        CTL_ARG_HEALTH_ON_FAILURE,
};

/* clang-format off */
#define CTL_HEALTH_OPTIONS                                                              \
        { "health-cmd", required_argument, NULL, CTL_ARG_HEALTH_CMD },                  \
        { "health-interval", required_argument, NULL, CTL_ARG_HEALTH_INTERVAL },        \
        { "health-timeout", required_argument, NULL, CTL_ARG_HEALTH_TIMEOUT },          \
        { "health-retries", required_argument, NULL, CTL_ARG_HEALTH_RETRIES },          \
        { "health-start-period", required_argument, NULL, CTL_ARG_HEALTH_START_PERIOD }, \
        { "health-start-interval", required_argument, NULL, CTL_ARG_HEALTH_START_INTERVAL }, \
        { "no-healthcheck", no_argument, NULL, CTL_ARG_NO_HEALTHCHECK },                \
        { "health-on-failure", required_argument, NULL, CTL_ARG_HEALTH_ON_FAILURE }
/* clang-format on */

/* One flag (logs and returns -EINVAL when its value does not parse). */
int ctl_health_parse(CtlHealth *h, int c, const char *arg);
/* Docker's checks of the flags together (the conflict, negative values); logs. */
int ctl_health_check(const CtlHealth *h);
/* The CreateContainer options: HealthCmd, HealthIntervalUSec, ... (nothing for what is not given). */
int ctl_health_append(sd_bus_message *m, const CtlHealth *h);
void ctl_health_help(void);
