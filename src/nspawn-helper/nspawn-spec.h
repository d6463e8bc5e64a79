/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "helper-protocol.h"
#include "netlink.h"

/* A resolved mount: host source (or tmpfs options) onto a path inside the container. */
typedef struct SpecMount {
        bool tmpfs; /* else a bind mount of 'source' (or, with fstype, a mount of that file system) */
        char *fstype; /* a local volume with options: file system type, 'source' the device */
        char *fsoptions; /* its "o=" options, comma-separated */
        char *source;
        char *target;
        bool read_only;
        bool copy_up; /* a volume: fill it with the image's content at target when empty */
        int source_fd; /* runtime: 'source' opened (O_PATH) before entering a user namespace, or -1 */
} SpecMount;

typedef struct SpecUlimit {
        char name[16]; /* Docker's name, for messages */
        int resource;
        uint64_t soft, hard; /* UINT64_MAX: unlimited (RLIM_INFINITY) */
} SpecUlimit;

/* --device: mknod a node like the host's 'host' at 'container' (under /dev). */
typedef struct SpecDevice {
        char *host;
        char *container;
} SpecDevice;

/* SPEC_KEY_NET_MODE */
typedef enum NetMode {
        NET_MODE_NONE,
        NET_MODE_PRIVATE,
        NET_MODE_HOST,
        NET_MODE_CONTAINER,
        _NET_MODE_MAX,
        _NET_MODE_INVALID = -EINVAL,
} NetMode;

const char *net_mode_to_string(NetMode m);
NetMode net_mode_from_string(const char *s);

/* SPEC_KEY_INTERFACES: one veth pair. */
typedef struct SpecInterface {
        char host_ifname[IFNAMSIZ]; /* the host's end */
        char ifname[IFNAMSIZ]; /* the container's end */
        char bridge[IFNAMSIZ]; /* "": the host end joins no bridge */
        bool has_address;
        struct in_addr address;
        unsigned prefixlen;
        bool has_gateway; /* a default route via gateway */
        struct in_addr gateway;
        bool has_mac; /* else the kernel's random one */
        uint8_t mac[NETLINK_ETHER_ADDR_LEN];
        uint32_t mtu; /* 0: the kernel's default */
} SpecInterface;

/* What berthd tells berth-nspawn to run; berthd writes it as JSON (keys: SPEC_KEY_* in
 * helper-protocol.h) into a memfd passed as HELPER_FD_SPEC. */
typedef struct ContainerSpec {
        char *id;
        char *name;
        char *image;
        char *hostname;
        char *domainname; /* "": leave the kernel's */
        bool pid_host, ipc_host, ipc_none, uts_host; /* --pid, --ipc, --uts */
        bool cgroupns_host; /* --cgroupns host */
        char *rootfs; /* mount point of the merged root (host path); btrfs: the container's subvolume */
        char **lowerdirs; /* overlay lower dirs (host paths), top layer first; empty: no overlay (btrfs) */
        char *lowerdir; /* the same as short links, "l/A:l/B", relative to storedir (lowerdir= option) */
        char *storedir; /* the overlay driver's directory */
        char *upperdir;
        char *workdir;
        char *rundir; /* /run/berth/containers/<id>: HELPER_RUNNING_FILE, HELPER_EXIT_FILE */
        char *cwd;
        char *user; /* "user[:group]", empty: root */
        char **argv;
        char **env;
        char **group_add;
        char **sysctls; /* "key=value" (berthd checked the keys) */ /* --group-add: names in the container's /etc/group
                                                                       or numbers */
        bool attached; /* HELPER_FD_ATTACH_STDOUT/STDERR receive a copy of stdout/stderr */
        bool input; /* HELPER_FD_ATTACH_STDIN is the payload's stdin (else /dev/null) */
        bool tty; /* the payload gets a pseudo-terminal of the container's devpts */
        unsigned rows, cols; /* its initial size */
        bool init; /* PID 1 is a minimal init that reaps and forwards signals (--init) */
        bool read_only; /* the root file system is mounted read-only (--read-only) */
        int exec_pid; /* exec mode: join the namespaces of this process (the payload) */
        bool exec_resize; /* exec -t: new terminal sizes arrive on HELPER_FD_ATTACH_STDIN */
        uint64_t caps; /* the capability set (bit N = capability N) */
        bool privileged; /* no masked /proc paths, writable /sys */
        bool no_new_privs; /* PR_SET_NO_NEW_PRIVS before exec */
        bool seccomp_filter; /* HELPER_FD_SECCOMP holds a filter to load (else none: unconfined, privileged) */
        uint32_t userns_base; /* --userns=auto: host id of the container's id 0; 0: the host's user namespace */
        SpecMount *mounts;
        size_t n_mounts;
        uint64_t shm_size; /* bytes of the /dev/shm tmpfs */
        bool oom_score_adj_set; /* else the process keeps the helper's (berthd's) */
        int oom_score_adj; /* -1000..1000 */
        SpecUlimit *ulimits;
        size_t n_ulimits;
        SpecDevice *devices;
        size_t n_devices;
        struct sock_fprog seccomp; /* read from HELPER_FD_SECCOMP */
        NetMode net_mode;
        int net_join_pid; /* NET_MODE_CONTAINER */
        unsigned n_listen_fds; /* socket activation: at HELPER_FD_LISTEN_FIRST.., the payload's 3.. */
        char *listen_fdnames; /* LISTEN_FDNAMES, or NULL */
        int pid_join_pid, ipc_join_pid; /* --pid/--ipc container: a process of the peer (not in exec mode) */
        SpecInterface *interfaces; /* NET_MODE_PRIVATE */
        size_t n_interfaces;
        char *log_driver; /* "none", or journald */
        char *log_mode; /* "non-blocking", or blocking */
        uint64_t log_max_buffer_size; /* 0: the default */
        uint64_t log_rate_limit_interval_usec, log_rate_limit_burst; /* either 0: no limit */
        char **log_fields; /* "FIELD=value", added to every entry (--log-opt labels=, env=) */
} ContainerSpec;

/* A network namespace of the container's own (none, private): created with it, "lo" brought up. */
static inline bool container_spec_own_netns(const ContainerSpec *s) {
        return s->net_mode == NET_MODE_NONE || s->net_mode == NET_MODE_PRIVATE;
}

/* The payload is not PID 1 of a namespace of its own: --pid host or container. */
static inline bool container_spec_pid_shared(const ContainerSpec *s) {
        return s->pid_host || s->pid_join_pid > 0;
}

/* -EBADMSG for a spec that is not what helper-protocol.h describes. Where a sentence can say what
 * is wrong with it (the network keys), it is written into error (error_size bytes; may be NULL),
 * else error is left empty. */
int container_spec_parse(const char *json, size_t len, ContainerSpec **ret, char *error, size_t error_size);
void container_spec_free(ContainerSpec *s);
static inline void container_spec_freep(ContainerSpec **s) {
        if (*s)
                container_spec_free(*s);
}
