/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create/run's health check flags (ctl-health.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl-health.h"
#include "ctl-log.h"
#include "go-duration.h"
#include "util.h"

static const char *flag_name(int c) {
        switch (c) {
        case CTL_ARG_HEALTH_INTERVAL:
                return "--health-interval";
        case CTL_ARG_HEALTH_TIMEOUT:
                return "--health-timeout";
        case CTL_ARG_HEALTH_START_PERIOD:
                return "--health-start-period";
        case CTL_ARG_HEALTH_START_INTERVAL:
                return "--health-start-interval";
        default:
                return "--health-retries";
        }
}

int ctl_health_parse(CtlHealth *h, int c, const char *arg) {
        int64_t v;

        switch (c) {
        case CTL_ARG_HEALTH_CMD:
                h->cmd = isempty(arg) ? NULL : arg; /* Docker's: "" is not given */
                return 0;
        case CTL_ARG_NO_HEALTHCHECK:
                h->none = true;
                return 0;
        case CTL_ARG_HEALTH_ON_FAILURE:
                if (!streq(arg, "none") && !streq(arg, "kill") && !streq(arg, "restart") && !streq(arg, "stop")) {
                        /* podman's words */
                        ctl_log_error("invalid on-failure action \"%s\" for health check: supported actions are "
                                      "none,kill,restart,stop",
                                      arg);
                        return -EINVAL;
                }
                h->on_failure = arg;
                return 0;
        case CTL_ARG_HEALTH_RETRIES: {
                char *end;
                errno = 0;
                long long n = strtoll(arg, &end, 10);
                if (isempty(arg) || *end || errno != 0 || n < INT32_MIN || n > INT32_MAX) {
                        ctl_log_error("invalid argument \"%s\" for \"--health-retries\" flag: strconv.ParseInt: "
                                      "parsing \"%s\": %s",
                                      arg, arg,
                                      errno == ERANGE || (n < INT32_MIN || n > INT32_MAX) ? "value out of range"
                                                                                          : "invalid syntax");
                        return -EINVAL;
                }
                h->retries = n;
                return 0;
        }
        default:
                if (go_duration_parse(arg, &v) < 0) {
                        char why[256];
                        go_duration_error(arg, why, sizeof(why));
                        ctl_log_error("invalid argument \"%s\" for \"%s\" flag: %s", arg, flag_name(c), why);
                        return -EINVAL;
                }
                if (c == CTL_ARG_HEALTH_INTERVAL)
                        h->interval = v;
                else if (c == CTL_ARG_HEALTH_TIMEOUT)
                        h->timeout = v;
                else if (c == CTL_ARG_HEALTH_START_PERIOD)
                        h->start_period = v;
                else
                        h->start_interval = v;
                return 0;
        }
}

int ctl_health_check(const CtlHealth *h) {
        bool any = h->cmd || h->interval || h->timeout || h->start_period || h->start_interval || h->retries;
        const struct {
                int64_t v;
                int c;
        } checks[] = {
                { h->interval, CTL_ARG_HEALTH_INTERVAL },
                { h->timeout, CTL_ARG_HEALTH_TIMEOUT },
                { h->retries, CTL_ARG_HEALTH_RETRIES },
                { h->start_period, CTL_ARG_HEALTH_START_PERIOD },
                { h->start_interval, CTL_ARG_HEALTH_START_INTERVAL },
        };
        /* Docker's order and words (cli/command/container/opts.go). */
        if (h->none && any) {
                ctl_log_error("--no-healthcheck conflicts with --health-* options");
                return -EINVAL;
        }
        for (size_t i = 0; i < ELEMENTSOF(checks); i++)
                if (checks[i].v < 0) {
                        ctl_log_error("%s cannot be negative", flag_name(checks[i].c));
                        return -EINVAL;
                }
        return 0;
}

/* Nanoseconds as the option's microseconds; a positive duration below one stays positive, so
 * berthd refuses it (below 1 ms) rather than taking it for "not given". */
static uint64_t to_usec(int64_t ns) {
        return ns > 0 && ns < 1000 ? 1 : (uint64_t) ns / 1000;
}

int ctl_health_append(sd_bus_message *m, const CtlHealth *h) {
        int r = 0;
        if (h->none)
                r = sd_bus_message_append(m, "{sv}", "HealthCmd", "as", 1, "NONE");
        else if (h->cmd)
                r = sd_bus_message_append(m, "{sv}", "HealthCmd", "as", 2, "CMD-SHELL", h->cmd);
        const struct {
                const char *key;
                int64_t ns;
        } durations[] = {
                { "HealthIntervalUSec", h->interval },
                { "HealthTimeoutUSec", h->timeout },
                { "HealthStartPeriodUSec", h->start_period },
                { "HealthStartIntervalUSec", h->start_interval },
        };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(durations); i++)
                if (durations[i].ns > 0)
                        r = sd_bus_message_append(m, "{sv}", durations[i].key, "t", to_usec(durations[i].ns));
        if (r >= 0 && h->retries > 0)
                r = sd_bus_message_append(m, "{sv}", "HealthRetries", "u", (uint32_t) h->retries);
        if (r >= 0 && h->on_failure)
                r = sd_bus_message_append(m, "{sv}", "HealthOnFailure", "s", h->on_failure);
        return r;
}

void ctl_health_help(void) {
        printf("      --health-cmd=CMD     Command to run to check health (with /bin/sh -c)\n"
               "      --health-interval=DURATION  Time between checks (e.g. 30s, 1m30s; default 30s)\n"
               "      --health-timeout=DURATION   Time one check may take (default 30s)\n"
               "      --health-retries=N   Consecutive failures that make it unhealthy (default 3)\n"
               "      --health-start-period=DURATION  Time to start in, failures not counted (default 0s)\n"
               "      --health-start-interval=DURATION  Time between checks in the start period (default 5s)\n"
               "      --no-healthcheck     Disable any health check of the image\n"
               "      --health-on-failure=ACTION  none (default), kill, restart or stop the container once\n"
               "                           it is unhealthy\n");
}
