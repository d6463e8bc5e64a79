/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The contract between berthd and the per-container supervisor berth-nspawn, in one place: the
 * descriptors berthd hands over, the status line the helper answers with, the runtime files it
 * leaves under /run/berth/containers/<id>/, and the keys of the JSON spec. Both sides use these
 * definitions and functions; nothing of the protocol is printf'd or scanned anywhere else. Pure C
 * (no libsystemd, no json-c): the statically linked helper carries it too. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Descriptors of a freshly spawned berth-nspawn (0, 1, 2: the caller's stdio in exec mode, else
 * berthd's). A slot berthd has nothing for stays closed, as does everything above HELPER_FD_EXE. */
typedef enum HelperFd {
        HELPER_FD_SPEC = 3, /* memfd with the JSON spec (SPEC_KEY_*) */
        HELPER_FD_GO = 4, /* berthd writes one byte once the helper is in the container's scope; EOF: abort */
        HELPER_FD_STATUS = 5, /* socket: the helper writes one status line (helper_status_format()) */
        HELPER_FD_ATTACH_STDOUT = 6, /* the starting client's stdout, or none */
        HELPER_FD_ATTACH_STDERR = 7, /* its stderr, or none */
        HELPER_FD_SECCOMP = 8, /* the container's seccomp filter as BPF (sealed memfd), if it has one */
        HELPER_FD_ATTACH_STDIN = 9, /* the client's stdin (run -i); exec -t: the terminal size pipe */
        HELPER_FD_EXE = 10, /* the sealed copy of berth-nspawn it runs from (helper-exe.h); closed at once */
        _HELPER_FD_MAX,
} HelperFd;

/* Socket activation (SPEC_KEY_LISTEN_FDS): the listening descriptors follow the fixed ones, from
 * here; the payload gets them as 3.., as systemd hands them over. */
#define HELPER_FD_LISTEN_FIRST _HELPER_FD_MAX

/* The path the helper is executed by: its own descriptor HELPER_FD_EXE (checked by the unit test). */
#define HELPER_EXE_PATH "/proc/self/fd/10"

/* Files the helper keeps in its run directory (the spec's SPEC_KEY_RUNDIR). */
#define HELPER_RUNNING_FILE     "running" /* helper_running_format() */
#define HELPER_EXIT_FILE        "exit" /* helper_exit_format() */
#define HELPER_ATTACH_SOCKET    "attach.sock" /* later clients attach through it */
#define HELPER_LOG_DROPPED_FILE "log-dropped" /* helper_log_dropped_format() */

/* Status line, one per helper, then the helper closes HELPER_FD_STATUS:
 *   "OK <payload pid> <started usec>\n"
 *   "ERR <errno> <setup|exec> <message>\n"
 * The message is a full sentence naming what failed, "Failed to <what>: <reason>." (built by
 * helper_status_failure()), except for Docker's own wording, kept as it is because scripts and
 * berthctl match it: exec failures ('exec: "x": executable file not found in $PATH', which makes
 * berthctl exit 127) and unknown users and groups. */
typedef enum HelperFailureKind {
        HELPER_FAILURE_SETUP, /* berth could not set up the container or process: StartFailed */
        HELPER_FAILURE_EXEC, /* the command could not be executed: ExecFailed */
        _HELPER_FAILURE_KIND_MAX,
} HelperFailureKind;

#define HELPER_STATUS_MESSAGE_MAX 1000 /* bytes of a message, its NUL included */
#define HELPER_STATUS_LINE_MAX    1024 /* bytes of any status line, newline and NUL included */
#define HELPER_ERRNO_MAX          4095 /* errors are 1..HELPER_ERRNO_MAX, as the kernel's */

typedef struct HelperStatus {
        bool ok;
        /* ok: */
        pid_t pid; /* the payload (or the exec'd process), as the helper sees it: > 0 */
        uint64_t usec; /* when it started, CLOCK_REALTIME */
        /* !ok: */
        int error; /* positive errno */
        HelperFailureKind kind;
        char message[HELPER_STATUS_MESSAGE_MAX]; /* no newline, not empty */
} HelperStatus;

const char *helper_failure_kind_to_string(HelperFailureKind kind);

/* Fill *s (all of it) as a success. */
void helper_status_ok(HelperStatus *s, pid_t pid, uint64_t usec);
/* Fill *s as a failure with the message "Failed to <what>: <strerror(error)>.", what being the
 * printf-expanded what_format (a verb phrase: "mount /proc"). An error out of range becomes EIO;
 * newlines become spaces and an overlong message is cut, so the result always formats. */
void helper_status_failure(HelperStatus *s, HelperFailureKind kind, int error, const char *what_format, ...)
        __attribute__((format(printf, 4, 5)));
void helper_status_failurev(HelperStatus *s, HelperFailureKind kind, int error, const char *what_format, va_list ap)
        __attribute__((format(printf, 4, 0)));
/* The same with the whole message given (a sentence already, or Docker's wording). */
void helper_status_failure_message(HelperStatus *s, HelperFailureKind kind, int error, const char *format, ...)
        __attribute__((format(printf, 4, 5)));
void helper_status_failure_messagev(HelperStatus *s, HelperFailureKind kind, int error, const char *format, va_list ap)
        __attribute__((format(printf, 4, 0)));

/* Write the status line, NUL-terminated, into buf. Returns its length (without the NUL), -EINVAL
 * for a status that does not satisfy the rules above, -ENOBUFS when size is too small
 * (HELPER_STATUS_LINE_MAX always suffices). */
int helper_status_format(const HelperStatus *s, char *buf, size_t size);
/* Parse exactly one status line, its newline included, from the len bytes at data (which need
 * not be NUL-terminated). Strict: canonical decimal numbers (no sign, no leading zeros) in range,
 * single spaces, a known kind, a non-empty message, nothing after the newline. -EBADMSG
 * otherwise; *ret is written only on success. */
int helper_status_parse(const char *data, size_t len, HelperStatus *ret);

/* HELPER_RUNNING_FILE: "<helper pid> <payload pid> <started usec>\n", written once the payload
 * runs. */
typedef struct HelperRunning {
        pid_t helper_pid; /* > 0 */
        pid_t payload_pid; /* > 0, the host's PID of the container's PID 1 */
        uint64_t started_usec; /* CLOCK_REALTIME */
} HelperRunning;

/* HELPER_EXIT_FILE: "<exit code> <finished usec> <OOM kills>\n", written when the payload has
 * exited. Files of older helpers lack the third field; it parses as 0. */
typedef struct HelperExit {
        int exit_code; /* 0..255; killed by a signal: 128 + its number */
        uint64_t finished_usec; /* CLOCK_REALTIME */
        uint64_t oom_kills; /* processes of the scope the kernel's OOM killer killed */
} HelperExit;

/* Big enough for either file's line, newline and NUL included. */
#define HELPER_RUNTIME_LINE_MAX 64

/* Both like helper_status_format() and helper_status_parse(). */
int helper_running_format(const HelperRunning *running, char *buf, size_t size);
int helper_running_parse(const char *data, size_t len, HelperRunning *ret);
int helper_exit_format(const HelperExit *exit_info, char *buf, size_t size);
int helper_exit_parse(const char *data, size_t len, HelperExit *ret);
/* HELPER_LOG_DROPPED_FILE: "<lines>\n", the output lines the helper dropped (a full log buffer, the
 * rate limit) and reported in the container's log so far; rewritten at each report. */
int helper_log_dropped_format(uint64_t lines, char *buf, size_t size);
int helper_log_dropped_parse(const char *data, size_t len, uint64_t *ret);

/* Keys of the JSON spec berthd writes to HELPER_FD_SPEC. Missing optional keys take the default
 * the helper documents in nspawn-spec.c. */
#define SPEC_KEY_ID            "id" /* string, 64 hex digits */
#define SPEC_KEY_NAME          "name"
#define SPEC_KEY_IMAGE         "image"
#define SPEC_KEY_HOSTNAME      "hostname"
#define SPEC_KEY_ROOTFS        "rootfs" /* the merged root's mount point (btrfs: the subvolume) */
#define SPEC_KEY_LOWERDIRS     "lowerdirs" /* array: overlay lower dirs, top first; empty: no overlay */
#define SPEC_KEY_LOWERDIR      "lowerdir" /* the same as short links, relative to storedir */
#define SPEC_KEY_STOREDIR      "storedir"
#define SPEC_KEY_UPPERDIR      "upperdir"
#define SPEC_KEY_WORKDIR       "workdir"
#define SPEC_KEY_RUNDIR        "rundir" /* HELPER_RUNNING_FILE, HELPER_EXIT_FILE, HELPER_ATTACH_SOCKET */
#define SPEC_KEY_CWD           "cwd"
#define SPEC_KEY_USER          "user" /* "user[:group]", empty: root */
#define SPEC_KEY_ARGV          "argv" /* array */
#define SPEC_KEY_ENV           "env" /* array of NAME=value */
#define SPEC_KEY_ATTACHED      "attached" /* HELPER_FD_ATTACH_STDOUT/STDERR are given */
#define SPEC_KEY_INPUT         "input" /* HELPER_FD_ATTACH_STDIN is given */
#define SPEC_KEY_TTY           "tty"
#define SPEC_KEY_ROWS          "rows"
#define SPEC_KEY_COLS          "cols"
#define SPEC_KEY_INIT          "init"
#define SPEC_KEY_READ_ONLY     "read_only"
#define SPEC_KEY_EXEC_PID      "exec_pid" /* exec mode: join this process's namespaces */
#define SPEC_KEY_RESIZE        "resize" /* exec -t: sizes arrive on HELPER_FD_ATTACH_STDIN */
#define SPEC_KEY_CAPS          "caps" /* bit N: capability N */
#define SPEC_KEY_PRIVILEGED    "privileged"
#define SPEC_KEY_NO_NEW_PRIVS  "no_new_privs"
#define SPEC_KEY_SECCOMP       "seccomp" /* HELPER_FD_SECCOMP holds a filter */
#define SPEC_KEY_USERNS_BASE   "userns_base"
#define SPEC_KEY_SHM_SIZE      "shm_size"
#define SPEC_KEY_MOUNTS        "mounts" /* array of objects, SPEC_MOUNT_KEY_* */
#define SPEC_KEY_ULIMITS       "ulimits" /* array of objects, SPEC_ULIMIT_KEY_* */
#define SPEC_KEY_DEVICES       "devices" /* array of objects, SPEC_DEVICE_KEY_* */
#define SPEC_KEY_PID_MODE      "pid_mode" /* "host": the host's PID namespace; else one of its own */
#define SPEC_KEY_IPC_MODE      "ipc_mode" /* "host", "none" (no /dev/shm); else one of its own */
#define SPEC_KEY_CGROUPNS_MODE "cgroupns_mode" /* "host": the host's cgroup namespace; else one of its own */
#define SPEC_KEY_UTS_MODE      "uts_mode" /* "host": the host's (no host or domain name set) */
#define SPEC_KEY_DOMAINNAME    "domainname" /* setdomainname(); "" or missing: none */
#define SPEC_KEY_SYSCTLS       "sysctls" /* array of "key=value", written in the container's namespaces */
#define SPEC_KEY_GROUP_ADD     "group_add" /* array: supplementary groups, names or numbers */
#define SPEC_KEY_OOM_ADJ       "oom_score_adj" /* the payload's and exec'd processes' (-1000..1000) */
/* Logging (docs/LOGGING.md) */
#define SPEC_KEY_LOG_DRIVER              "log_driver" /* "none": the output goes nowhere; else journald */
#define SPEC_KEY_LOG_MODE                "log_mode" /* "non-blocking": a bounded buffer that drops; else blocking */
#define SPEC_KEY_LOG_MAX_BUFFER_SIZE     "log_max_buffer_size" /* non-blocking: bytes; 0: 1 MiB */
#define SPEC_KEY_LOG_RATE_LIMIT_INTERVAL "log_rate_limit_interval_usec" /* 0: no rate limit */
#define SPEC_KEY_LOG_RATE_LIMIT_BURST    "log_rate_limit_burst" /* lines per interval; 0: no rate limit */
#define SPEC_KEY_LOG_FIELDS              "log_fields" /* array of "FIELD=value": labels=, env= */
#define SPEC_KEY_LISTEN_FDS              "listen_fds" /* how many descriptors from HELPER_FD_LISTEN_FIRST on (LISTEN_FDS) */
#define SPEC_KEY_LISTEN_FDNAMES          "listen_fdnames" /* LISTEN_FDNAMES for the payload, or missing */
#define SPEC_KEY_NET_MODE                "net_mode" /* SPEC_NET_MODE_*; missing: SPEC_NET_MODE_NONE */
#define SPEC_KEY_NET_JOIN_PID            "net_join_pid" /* SPEC_NET_MODE_CONTAINER: the process whose netns is joined */
#define SPEC_KEY_PID_JOIN_PID            "pid_join_pid" /* --pid container: the process whose PID namespace is joined */
#define SPEC_KEY_IPC_JOIN_PID \
        "ipc_join_pid" /* --ipc container: the process whose IPC namespace (and /dev/shm) is joined */
#define SPEC_KEY_INTERFACES "interfaces" /* SPEC_NET_MODE_PRIVATE: array of objects, SPEC_IFACE_KEY_* */

/* Not with a user namespace (userns_base), host and container: like Docker, berth-nspawn refuses. */
#define SPEC_NET_MODE_NONE      "none" /* a network namespace of its own with "lo" only */
#define SPEC_NET_MODE_PRIVATE   "private" /* one of its own with "lo" and the interfaces */
#define SPEC_NET_MODE_HOST      "host" /* the host's */
#define SPEC_NET_MODE_CONTAINER "container" /* that of the process net_join_pid (a berth container's) */

/* One veth pair each: the host end created by berth-nspawn, attached to the bridge and up, the
 * peer created in the container's network namespace and set up there. */
#define SPEC_IFACE_KEY_HOST_IFNAME "host_ifname" /* the host's end, "vb…0" (names: 1..15 bytes) */
#define SPEC_IFACE_KEY_IFNAME      "ifname" /* the container's end, "eth0" */
#define SPEC_IFACE_KEY_BRIDGE      "bridge" /* berthd's bridge the host end joins; "": none */
#define SPEC_IFACE_KEY_ADDRESS     "address" /* IPv4 with prefix length, "172.17.0.2/16"; "": none */
#define SPEC_IFACE_KEY_GATEWAY     "gateway" /* the default route's, "172.17.0.1"; "": no default route */
#define SPEC_IFACE_KEY_MAC         "mac" /* "02:42:ac:11:00:02"; "": the kernel's random one */
#define SPEC_IFACE_KEY_MTU         "mtu" /* of both ends; 0 or missing: the kernel's default */

#define SPEC_MOUNT_KEY_TYPE      "type" /* SPEC_MOUNT_TYPE_* */
#define SPEC_MOUNT_KEY_SOURCE    "source"
#define SPEC_MOUNT_KEY_TARGET    "target"
#define SPEC_MOUNT_KEY_READ_ONLY "read_only"
#define SPEC_MOUNT_KEY_COPY_UP   "copy_up"
#define SPEC_MOUNT_KEY_FSTYPE    "fstype" /* SPEC_MOUNT_TYPE_FS only */
#define SPEC_MOUNT_KEY_OPTIONS   "options" /* SPEC_MOUNT_TYPE_FS only */
#define SPEC_MOUNT_TYPE_BIND     "bind"
#define SPEC_MOUNT_TYPE_TMPFS    "tmpfs"
#define SPEC_MOUNT_TYPE_FS       "fs" /* a local volume with options: source is the device */

#define SPEC_ULIMIT_KEY_NAME     "name"
#define SPEC_ULIMIT_KEY_RESOURCE "resource"
#define SPEC_ULIMIT_KEY_SOFT     "soft"
#define SPEC_ULIMIT_KEY_HARD     "hard"

#define SPEC_DEVICE_KEY_HOST      "host"
#define SPEC_DEVICE_KEY_CONTAINER "container"
