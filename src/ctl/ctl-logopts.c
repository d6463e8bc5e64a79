/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-logopts.h"
#include "util.h"

static int parse_log_opt(CtlLogConfig *cfg, const char *arg) {
        const char *eq = strchr(arg, '=');
        if (!eq) {
                ctl_log_error("invalid key value pair format in driver options: \"%s\"", arg);
                return -EINVAL;
        }
        _cleanup_free_ char *key = strndup(arg, (size_t) (eq - arg));
        const char *value = eq + 1;
        uint64_t v;
        if (!key)
                return ctl_log_errno(-ENOMEM, "%m");
        if (streq(key, "mode")) {
                cfg->mode = value; /* berthd checks it, in Docker's words */
                return 0;
        }
        if (streq(key, "max-buffer-size")) {
                if (parse_size(value, &v) < 0 || v == 0) {
                        ctl_log_error("invalid max-buffer-size \"%s\": expected a size such as 64k or 4m", value);
                        return -EINVAL;
                }
                cfg->max_buffer_size = v;
                return 0;
        }
        if (streq(key, "rate-limit-interval")) {
                if (ctl_parse_duration(value, &v) < 0 || v == 0) {
                        ctl_log_error("invalid rate-limit-interval \"%s\": expected a duration such as 30s or 1m",
                                      value);
                        return -EINVAL;
                }
                cfg->rate_limit_interval_usec = v;
                return 0;
        }
        if (streq(key, "rate-limit-burst")) {
                if (parse_uint64(value, &v) < 0 || v == 0 || v > UINT32_MAX) {
                        ctl_log_error("invalid rate-limit-burst \"%s\": expected a number of lines, 1 to %u", value,
                                      UINT32_MAX);
                        return -EINVAL;
                }
                cfg->rate_limit_burst = v;
                return 0;
        }
        if (streq(key, "labels") || streq(key, "env")) {
                *(streq(key, "labels") ? &cfg->labels : &cfg->env) = value; /* berthd checks the names */
                return 0;
        }
        if (streq(key, "tag") || streq(key, "labels-regex") || streq(key, "env-regex")) {
                ctl_log_error("log opt '%s' of Docker's journald driver is not supported by berth", key);
                return -EOPNOTSUPP;
        }
        /* Docker's words */
        ctl_log_error("unknown log opt '%s' for %s log driver", key, cfg->driver ?: "journald");
        return -EINVAL;
}

int ctl_log_config_parse(CtlLogConfig *cfg, int c, const char *arg) {
        if (c == CTL_ARG_LOG_DRIVER) {
                cfg->driver = arg; /* berthd checks it, in Docker's words */
                return 0;
        }
        return parse_log_opt(cfg, arg);
}

int ctl_log_config_append(sd_bus_message *m, const CtlLogConfig *cfg) {
        int r = 0;
        if (cfg->driver && (r = sd_bus_message_append(m, "{sv}", "LogDriver", "s", cfg->driver)) < 0)
                return r;
        if (cfg->mode && (r = sd_bus_message_append(m, "{sv}", "LogMode", "s", cfg->mode)) < 0)
                return r;
        if (cfg->max_buffer_size &&
            (r = sd_bus_message_append(m, "{sv}", "LogMaxBufferSize", "t", cfg->max_buffer_size)) < 0)
                return r;
        if (cfg->rate_limit_interval_usec &&
            (r = sd_bus_message_append(m, "{sv}", "LogRateLimitIntervalUSec", "t", cfg->rate_limit_interval_usec)) < 0)
                return r;
        if (cfg->rate_limit_burst &&
            (r = sd_bus_message_append(m, "{sv}", "LogRateLimitBurst", "u", (uint32_t) cfg->rate_limit_burst)) < 0)
                return r;
        if (cfg->labels && (r = sd_bus_message_append(m, "{sv}", "LogLabels", "s", cfg->labels)) < 0)
                return r;
        if (cfg->env && (r = sd_bus_message_append(m, "{sv}", "LogEnv", "s", cfg->env)) < 0)
                return r;
        return 0;
}
