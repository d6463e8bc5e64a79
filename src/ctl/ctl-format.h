/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pure formatting and parsing logic of berthctl, free of any bus, so it can be unit tested. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_FORMAT_SIZE_MAX 32

/* The smallest and largest accepted --cpus, in CPUQuotaPerSecUSec (1 CPU = 1000000). */
#define CTL_CPUS_MIN_USEC 10000ULL
#define CTL_CPUS_MAX      1024ULL

/* Decimal units as Docker prints sizes: "512B", "4.19MB", "1.23GB". Returns buf. */
const char *ctl_format_size(uint64_t bytes, char buf[static CTL_FORMAT_SIZE_MAX]);

/* Binary units as Docker's info prints memory: "15.54GiB", "512MiB", "1KiB". Returns buf. */
const char *ctl_format_size_binary(uint64_t bytes, char buf[static CTL_FORMAT_SIZE_MAX]);

/* Time as Go's time.Time.String() prints it (Docker's CreatedAt): "2024-05-01 12:00:00 +0200 CEST". */
char *ctl_format_go_time(uint64_t usec);

/* "5 seconds ago", relative to now; "N/A" for 0 (never). */
char *ctl_format_ago(uint64_t usec, uint64_t now);

/* docker ps STATUS: "Created", "Up 5 seconds", "Up 2 hours (Paused)", "Restarting (1) 2 seconds
 * ago", "Exited (0) 3 seconds ago". */
char *ctl_format_status(const char *state, int exit_code, uint64_t started_at, uint64_t finished_at, uint64_t now);
/* The same, with Docker's health suffix for a running container with a health check (health
 * "starting", "healthy", "unhealthy"; NULL or ""): "Up 3 minutes (healthy)", "(health: starting)". */
char *ctl_format_status_health(const char *state, const char *health, int exit_code, uint64_t started_at,
                               uint64_t finished_at, uint64_t now);

/* docker ps COMMAND: the argv joined with spaces, shortened to 20 characters with "…" when
 * truncate is set, then quoted like Go's strconv.Quote. */
char *ctl_format_command(char *const *argv, bool truncate);

/* One port of a container as docker ps and docker port see it: published (host_port > 0, host_ip
 * "0.0.0.0" for every address) or only exposed (host_port 0, host_ip ""). */
typedef struct CtlPort {
        char protocol[8];
        unsigned port;
        char host_ip[64];
        unsigned host_port;
} CtlPort;

/* The container's ports from its Ports property ("protocol\tport\thost ip\thost port", "" host ip:
 * every address) and, when exposed is given, its ExposedPorts ("protocol\tport") that are not
 * published; sorted as Docker sorts them (port, host address, host port, protocol). *ret_n of them. */
int ctl_ports_collect(char *const *ports, char *const *exposed, CtlPort **ret, size_t *ret_n);

/* docker ps PORTS: "0.0.0.0:8080->80/tcp, 443/tcp", with Docker's grouping of consecutive ports
 * ("8000-8001/tcp", "0.0.0.0:9000-9001->9000-9001/tcp" where host and container port are equal). */
char *ctl_format_ports(const CtlPort *ports, size_t n);

/* Number of characters (UTF-8 code points) in s: the width of a table cell. */
size_t ctl_utf8_width(const char *s);

/* Signals as Docker takes them: "KILL", "SIGKILL", "kill", "9", "RTMIN+3". */
int ctl_parse_signal(const char *s, int *ret);

/* --cpus: a positive decimal ("1.5") into CPUQuotaPerSecUSec (1500000). -EINVAL when it is not
 * a number, -ERANGE outside CTL_CPUS_MIN_USEC..CTL_CPUS_MAX CPUs. */
int ctl_parse_cpus(const char *s, uint64_t *ret_usec);

/* --pids-limit: a positive count, or -1/0 for unlimited (UINT64_MAX). */
int ctl_parse_pids_limit(const char *s, uint64_t *ret);

/* --tail: a count, "all" or a negative number (UINT64_MAX: everything). */
int ctl_parse_tail(const char *s, uint64_t *ret);

/* Go-style durations: "30s", "10m", "2h", "1h30m", "1.5h", "500ms" (also "d" for days). */
int ctl_parse_duration(const char *s, uint64_t *ret_usec);

/* --since/--until: RFC 3339 ("2024-05-01T10:00:00Z", with fraction and offset), "YYYY-MM-DD
 * HH:MM[:SS]" and "YYYY-MM-DD" (local time when no zone is given), unix seconds ("1714557600",
 * "1714557600.5") or a duration back from now ("10m"). Result in usec since the epoch. */
int ctl_parse_timestamp(const char *s, uint64_t now, uint64_t *ret_usec);

/* Docker's label filter: "KEY" matches a label KEY with any value, "KEY=VALUE" only that value.
 * labels are "key=value" strings. */
bool ctl_labels_match(char *const *labels, const char *filter);

/* An extended regular expression matches (somewhere in) s; false for a NULL s or a bad pattern. */
bool ctl_regex_matches(const char *pattern, const char *s);

/* Docker's rule for --filter KEY=VALUE of the list commands: the values of one key are alternatives,
 * different keys must all match; keys not in keys[] are not looked at. match() decides one value. */
typedef bool (*CtlFilterMatchFunc)(const char *key, const char *value, const void *userdata);
bool ctl_filters_match(char *const *filters, const char *const *keys, size_t n_keys, CtlFilterMatchFunc match,
                       const void *userdata);

/* Running in Docker's sense: "running", "paused" or "restarting" (shown by ps without -a,
 * followed by logs -f). */
bool ctl_state_is_active(const char *state);

/* --restart: "no", "on-failure[:N]", "always", "unless-stopped" into the policy name and the
 * maximum retries (0: unlimited; only with on-failure). */
int ctl_parse_restart_policy(const char *s, char **ret_policy, uint32_t *ret_max_retries);

/* The exit code for org.berth1.Error.ExecFailed: 127 when the message says the executable was
 * not found, 126 otherwise (it exists but cannot be executed). */
int ctl_exec_failed_exit_code(const char *message);

/* A container exit code as a process exit status (as the shell would see it). */
int ctl_exit_status(int exit_code);
