/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One definition of a container's scalar settings. Each row drives, in berthd, the CreateContainer
 * option (its D-Bus type, validation and error sentence), the org.berth1.Container property, the
 * record (container.json) and the helper's spec; in berthctl, the property it reads for inspect.
 *
 *   X(field, Key, record key, spec key or NULL, kind, flags)
 *
 * field: the C member (of Container, ContainerConfig and berthctl's ContainerInfo); Key: the option
 * and property name; kind: how it is typed, read, checked and stored (below); flags:
 * SETTING_LIVE (changes while the container exists: PropertiesChanged) or 0.
 * A new setting is one row here, its berthctl flag, and its effect (in berth-nspawn, or in the
 * scope's properties): docs/DESIGN.md shows it worked through.
 */

#include "helper-protocol.h" /* SPEC_KEY_* */

#define CONTAINER_SETTINGS(X)                                                                                       \
        X(hostname, "Hostname", "hostname", SPEC_KEY_HOSTNAME, HOSTNAME, 0)                                         \
        X(working_dir, "WorkingDir", "working_dir", SPEC_KEY_CWD, PATH, 0)                                          \
        X(user, "User", "user", SPEC_KEY_USER, USER, 0)                                                             \
        X(stop_signal, "StopSignal", "stop_signal", NULL, SIGNAL, 0)                                                \
        X(init, "Init", "init", SPEC_KEY_INIT, BOOL, 0)                                                             \
        X(read_only, "ReadOnly", "read_only", SPEC_KEY_READ_ONLY, BOOL, 0)                                          \
        X(tty, "Tty", "tty", SPEC_KEY_TTY, BOOL, 0)                                                                 \
        X(auto_remove, "AutoRemove", "auto_remove", NULL, BOOL, 0)                                                  \
        X(memory_max, "MemoryMax", "memory_max", NULL, LIMIT, SETTING_LIVE)                                         \
        X(cpu_quota_per_sec_usec, "CPUQuotaPerSecUSec", "cpu_quota_per_sec_usec", NULL, LIMIT, SETTING_LIVE)        \
        X(tasks_max, "TasksMax", "tasks_max", NULL, LIMIT, SETTING_LIVE)                                            \
        X(restart_policy, "RestartPolicy", "restart_policy", NULL, RESTART, SETTING_LIVE)                           \
        X(restart_max_retries, "RestartMaxRetries", "restart_max_retries", NULL, U32, SETTING_LIVE)                 \
        X(cpuset_cpus, "AllowedCPUs", "cpuset_cpus", NULL, CPUSET, SETTING_LIVE)                                    \
        X(cpuset_mems, "AllowedMemoryNodes", "cpuset_mems", NULL, CPUSET, SETTING_LIVE)                             \
        X(cpu_quota_period_usec, "CPUQuotaPeriodUSec", "cpu_quota_period_usec", NULL, LIMIT, SETTING_LIVE)          \
        X(memory_low, "MemoryLow", "memory_low", NULL, LIMIT, SETTING_LIVE)                                         \
        X(blkio_weight, "BlkioWeight", "blkio_weight", NULL, LIMIT, SETTING_LIVE)                                   \
        X(oom_score_adj, "OOMScoreAdjust", "oom_score_adj", SPEC_KEY_OOM_ADJ, I32, 0)                               \
        X(slice, "Slice", "slice", NULL, SLICE, 0)                                                                  \
        X(domainname, "Domainname", "domainname", SPEC_KEY_DOMAINNAME, DOMAIN, 0)                                   \
        X(pid_mode, "PidMode", "pid_mode", SPEC_KEY_PID_MODE, NSMODE, 0)                                            \
        X(ipc_mode, "IpcMode", "ipc_mode", SPEC_KEY_IPC_MODE, NSMODE, 0)                                            \
        X(uts_mode, "UtsMode", "uts_mode", SPEC_KEY_UTS_MODE, NSMODE, 0)                                            \
        X(cgroupns_mode, "CgroupnsMode", "cgroupns_mode", SPEC_KEY_CGROUPNS_MODE, NSMODE, 0)                        \
        X(log_driver, "LogDriver", "log_driver", SPEC_KEY_LOG_DRIVER, LOGOPT, 0)                                    \
        X(log_mode, "LogMode", "log_mode", SPEC_KEY_LOG_MODE, LOGOPT, 0)                                            \
        X(log_max_buffer_size, "LogMaxBufferSize", "log_max_buffer_size", SPEC_KEY_LOG_MAX_BUFFER_SIZE, U64, 0)     \
        X(log_rate_limit_interval_usec, "LogRateLimitIntervalUSec", "log_rate_limit_interval_usec",                 \
          SPEC_KEY_LOG_RATE_LIMIT_INTERVAL, U64, 0)                                                                 \
        X(log_rate_limit_burst, "LogRateLimitBurst", "log_rate_limit_burst", SPEC_KEY_LOG_RATE_LIMIT_BURST, U32, 0) \
        X(log_labels, "LogLabels", "log_labels", NULL, LOGOPT, 0)                                                   \
        X(log_env, "LogEnv", "log_env", NULL, LOGOPT, 0)                                                            \
        X(health_cmd, "HealthCmd", "health_cmd", NULL, HEALTHCMD, 0)                                                \
        X(health_interval_usec, "HealthIntervalUSec", "health_interval", NULL, DURATION, 0)                         \
        X(health_timeout_usec, "HealthTimeoutUSec", "health_timeout", NULL, DURATION, 0)                            \
        X(health_start_period_usec, "HealthStartPeriodUSec", "health_start_period", NULL, DURATION, 0)              \
        X(health_start_interval_usec, "HealthStartIntervalUSec", "health_start_interval", NULL, DURATION, 0)        \
        X(health_retries, "HealthRetries", "health_retries", NULL, U32, 0)                                          \
        X(health_on_failure, "HealthOnFailure", "health_on_failure", NULL, HEALTHACTION, 0)

#define SETTING_LIVE 1

/* The kinds: the option's D-Bus type, the property's, and the C type berthd keeps.
 *   HOSTNAME, PATH, USER: s, s, char * (a host name; an absolute path; "user[:group]")
 *   BOOL:                 b, b, bool
 *   LIMIT:                t, t, uint64_t (UINT64_MAX: no limit; checked as systemd takes it)
 *   SIGNAL:               s (a name or number), i, int
 *   RESTART:              s, s, int (RestartPolicy: no, on-failure, always, unless-stopped)
 *   U32:                  u, u, uint32_t
 *   CPUSET:               s, s, char * (a list of CPUs or memory nodes, "0-3,6"; empty: all)
 *   SLICE:                s, s, char * (a slice unit, "x.slice"; empty: machine.slice)
 *   I32:                  i, i, int32_t
 *   DOMAIN:               s, s, char * (the NIS domain name, setdomainname(); empty: the kernel's)
 *   NSMODE:               s, s, char * (Docker's namespace mode: "" (private), "host", ...)
 *   LOGOPT:               s, s, char * (a --log-driver or --log-opt value, checked per key; "": default)
 *   U64:                  t, t, uint64_t (0: the default)
 *   HEALTHCMD:            as, as, char ** (Docker's Healthcheck.Test: [] (not set: the image's),
 *                         ["NONE"], ["CMD", argv...], ["CMD-SHELL", "command"])
 *   DURATION:             t, t, uint64_t (microseconds; 0: not set, the image's or Docker's default;
 *                         else at least 1 ms)
 *   HEALTHACTION:         s, s, int (HealthOnFailure: none, kill, restart, stop) */
#define SETTING_OPTION_TYPE_HOSTNAME     "s"
#define SETTING_OPTION_TYPE_PATH         "s"
#define SETTING_OPTION_TYPE_USER         "s"
#define SETTING_OPTION_TYPE_BOOL         "b"
#define SETTING_OPTION_TYPE_LIMIT        "t"
#define SETTING_OPTION_TYPE_SIGNAL       "s"
#define SETTING_OPTION_TYPE_RESTART      "s"
#define SETTING_OPTION_TYPE_U32          "u"
#define SETTING_OPTION_TYPE_CPUSET       "s"
#define SETTING_OPTION_TYPE_SLICE        "s"
#define SETTING_OPTION_TYPE_I32          "i"
#define SETTING_OPTION_TYPE_DOMAIN       "s"
#define SETTING_OPTION_TYPE_NSMODE       "s"
#define SETTING_OPTION_TYPE_LOGOPT       "s"
#define SETTING_OPTION_TYPE_U64          "t"
#define SETTING_OPTION_TYPE_HEALTHCMD    "as"
#define SETTING_OPTION_TYPE_DURATION     "t"
#define SETTING_OPTION_TYPE_HEALTHACTION "s"

#define SETTING_PROPERTY_TYPE_HOSTNAME     "s"
#define SETTING_PROPERTY_TYPE_PATH         "s"
#define SETTING_PROPERTY_TYPE_USER         "s"
#define SETTING_PROPERTY_TYPE_BOOL         "b"
#define SETTING_PROPERTY_TYPE_LIMIT        "t"
#define SETTING_PROPERTY_TYPE_SIGNAL       "i"
#define SETTING_PROPERTY_TYPE_RESTART      "s"
#define SETTING_PROPERTY_TYPE_U32          "u"
#define SETTING_PROPERTY_TYPE_CPUSET       "s"
#define SETTING_PROPERTY_TYPE_SLICE        "s"
#define SETTING_PROPERTY_TYPE_I32          "i"
#define SETTING_PROPERTY_TYPE_DOMAIN       "s"
#define SETTING_PROPERTY_TYPE_NSMODE       "s"
#define SETTING_PROPERTY_TYPE_LOGOPT       "s"
#define SETTING_PROPERTY_TYPE_U64          "t"
#define SETTING_PROPERTY_TYPE_HEALTHCMD    "as"
#define SETTING_PROPERTY_TYPE_DURATION     "t"
#define SETTING_PROPERTY_TYPE_HEALTHACTION "s"
