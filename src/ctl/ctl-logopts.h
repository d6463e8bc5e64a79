/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* --log-driver and --log-opt of create/run (docs/LOGGING.md). */

#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct CtlLogConfig {
        const char *driver; /* NULL: not given (journald) */
        const char *mode; /* NULL: not given (blocking) */
        uint64_t max_buffer_size; /* 0: not given */
        uint64_t rate_limit_interval_usec; /* 0: not given */
        uint64_t rate_limit_burst; /* 0: not given */
        const char *labels, *env; /* NULL: not given */
} CtlLogConfig;

enum {
        CTL_ARG_LOG_DRIVER = 0x500, /* above ctl-netopts.h's options */
        CTL_ARG_LOG_OPT,
};

/* clang-format off */
#define CTL_LOG_OPTIONS                                                  \
        { "log-driver", required_argument, NULL, CTL_ARG_LOG_DRIVER },   \
        { "log-opt", required_argument, NULL, CTL_ARG_LOG_OPT }

#define CTL_LOG_HELP                                                                              \
        "      --log-driver=DRIVER  journald (default) or none (the output is not kept)\n"      \
        "      --log-opt=KEY=VALUE  Logging option (repeatable): mode=blocking|non-blocking,\n" \
        "                           max-buffer-size=SIZE (non-blocking; default 1m),\n"         \
        "                           rate-limit-interval=DURATION, rate-limit-burst=LINES,\n"    \
        "                           labels=KEY[,KEY...], env=NAME[,NAME...]\n"
/* clang-format on */

/* One --log-driver or --log-opt; c as getopt_long() returned it. Refuses what berth does not have,
 * in Docker's words where Docker has some ("unknown log opt 'x' for journald log driver"). */
int ctl_log_config_parse(CtlLogConfig *cfg, int c, const char *arg);
/* The CreateContainer options of what was given. */
int ctl_log_config_append(sd_bus_message *m, const CtlLogConfig *cfg);
