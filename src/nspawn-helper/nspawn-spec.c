/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <inttypes.h>

#include "capability-names.h"
#include "json-util.h"
#include "log-fields.h"
#include "nspawn-spec.h"
#include "util.h"

void container_spec_free(ContainerSpec *s) {
        if (!s)
                return;
        free(s->id);
        free(s->name);
        free(s->image);
        free(s->hostname);
        free(s->domainname);
        free(s->listen_fdnames);
        free(s->log_driver);
        free(s->log_mode);
        strv_free(s->log_fields);
        free(s->rootfs);
        strv_free(s->lowerdirs);
        free(s->lowerdir);
        free(s->storedir);
        free(s->upperdir);
        free(s->workdir);
        free(s->rundir);
        free(s->cwd);
        free(s->user);
        strv_free(s->argv);
        strv_free(s->env);
        strv_free(s->group_add);
        strv_free(s->sysctls);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].source);
                free(s->mounts[i].target);
                free(s->mounts[i].fstype);
                free(s->mounts[i].fsoptions);
        }
        free(s->mounts);
        free(s->ulimits);
        for (size_t i = 0; i < s->n_devices; i++) {
                free(s->devices[i].host);
                free(s->devices[i].container);
        }
        free(s->devices);
        free(s->seccomp.filter);
        free(s->interfaces);
        free(s);
}

static int dup_string(json_object *o, const char *key, bool required, char **ret) {
        const char *v = json_get_string(o, key);
        if (!v) {
                if (required)
                        return -EBADMSG;
                v = "";
        }
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static int parse_mounts(json_object *o, ContainerSpec *s) {
        json_object *a;
        if (!json_object_object_get_ex(o, SPEC_KEY_MOUNTS, &a) || json_object_is_type(a, json_type_null))
                return 0;
        if (!json_object_is_type(a, json_type_array))
                return -EBADMSG;
        size_t n = json_object_array_length(a);
        s->mounts = calloc(n + 1, sizeof(SpecMount));
        if (!s->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                const char *type = json_get_string(e, SPEC_MOUNT_KEY_TYPE),
                           *source = json_get_string(e, SPEC_MOUNT_KEY_SOURCE),
                           *target = json_get_string(e, SPEC_MOUNT_KEY_TARGET);
                if (!type || !source || !target || target[0] != '/')
                        return -EBADMSG;
                SpecMount *m = &s->mounts[s->n_mounts++];
                m->source_fd = -1;
                m->tmpfs = streq(type, SPEC_MOUNT_TYPE_TMPFS);
                m->read_only = json_get_bool(e, SPEC_MOUNT_KEY_READ_ONLY, 0);
                m->copy_up = json_get_bool(e, SPEC_MOUNT_KEY_COPY_UP, 0);
                if (streq(type, SPEC_MOUNT_TYPE_FS)) {
                        const char *fstype = json_get_string(e, SPEC_MOUNT_KEY_FSTYPE),
                                   *options = json_get_string(e, SPEC_MOUNT_KEY_OPTIONS);
                        if (!fstype || !(m->fstype = strdup(fstype)) || !(m->fsoptions = strdup(options ?: "")))
                                return fstype ? -ENOMEM : -EBADMSG;
                }
                m->source = strdup(source);
                m->target = strdup(target);
                if (!m->source || !m->target)
                        return -ENOMEM;
        }
        return 0;
}

/* --ulimit and --device (berthd checked them; a malformed spec is refused, not half-applied). */
static int parse_resources(json_object *o, ContainerSpec *s) {
        json_object *a;
        s->shm_size = json_get_u64(o, SPEC_KEY_SHM_SIZE, 64ULL << 20);
        if (json_object_object_get_ex(o, SPEC_KEY_OOM_ADJ, &a)) {
                int64_t v = json_get_i64(o, SPEC_KEY_OOM_ADJ, 0);
                if (v < -1000 || v > 1000)
                        return -EBADMSG;
                s->oom_score_adj_set = true;
                s->oom_score_adj = (int) v;
        }
        if (json_object_object_get_ex(o, SPEC_KEY_ULIMITS, &a) && json_object_is_type(a, json_type_array)) {
                size_t n = json_object_array_length(a);
                s->ulimits = calloc(n + 1, sizeof(SpecUlimit));
                if (!s->ulimits)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(a, i);
                        s->ulimits[s->n_ulimits++] = (SpecUlimit){
                                .resource = (int) json_get_i64(e, SPEC_ULIMIT_KEY_RESOURCE, -1),
                                .soft = json_get_u64(e, SPEC_ULIMIT_KEY_SOFT, UINT64_MAX),
                                .hard = json_get_u64(e, SPEC_ULIMIT_KEY_HARD, UINT64_MAX),
                        };
                        if (s->ulimits[i].resource < 0)
                                return -EBADMSG;
                        snprintf(s->ulimits[i].name, sizeof(s->ulimits[i].name), "%s",
                                 json_get_string(e, SPEC_ULIMIT_KEY_NAME) ?: "?");
                }
        }
        if (json_object_object_get_ex(o, SPEC_KEY_DEVICES, &a) && json_object_is_type(a, json_type_array)) {
                size_t n = json_object_array_length(a);
                s->devices = calloc(n + 1, sizeof(SpecDevice));
                if (!s->devices)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(a, i);
                        const char *host = json_get_string(e, SPEC_DEVICE_KEY_HOST),
                                   *container = json_get_string(e, SPEC_DEVICE_KEY_CONTAINER);
                        if (!host || !container || host[0] != '/' || strncmp(container, "/dev/", 5))
                                return -EBADMSG;
                        SpecDevice *d = &s->devices[s->n_devices++];
                        d->host = strdup(host);
                        d->container = strdup(container);
                        if (!d->host || !d->container)
                                return -ENOMEM;
                }
        }
        return 0;
}

static const char *const net_mode_table[_NET_MODE_MAX] = {
        [NET_MODE_NONE] = SPEC_NET_MODE_NONE,
        [NET_MODE_PRIVATE] = SPEC_NET_MODE_PRIVATE,
        [NET_MODE_HOST] = SPEC_NET_MODE_HOST,
        [NET_MODE_CONTAINER] = SPEC_NET_MODE_CONTAINER,
};

const char *net_mode_to_string(NetMode m) {
        return m >= 0 && m < _NET_MODE_MAX ? net_mode_table[m] : NULL;
}

NetMode net_mode_from_string(const char *s) {
        for (NetMode m = 0; s && m < _NET_MODE_MAX; m++)
                if (streq(s, net_mode_table[m]))
                        return m;
        return _NET_MODE_INVALID;
}

/* The sentence saying what is wrong with the spec; returns -EBADMSG. */
static int spec_error(char *error, size_t size, const char *format, ...) _printf_(3, 4);
static int spec_error(char *error, size_t size, const char *format, ...) {
        va_list ap;
        if (error && size > 0) {
                va_start(ap, format);
                vsnprintf(error, size, format, ap);
                va_end(ap);
        }
        return -EBADMSG;
}

/* An interface name (required unless may_be_empty) into dest (IFNAMSIZ bytes). */
static int parse_ifname(json_object *e, const char *key, bool may_be_empty, char *dest, char *error, size_t size) {
        const char *v = json_get_string(e, key);
        if (!v || (!ifname_is_valid(v) && !(may_be_empty && v[0] == 0)))
                return spec_error(error, size,
                                  "The container's spec has an invalid network interface: %s \"%.64s\" is not an "
                                  "interface name (1 to 15 characters, no '/', ':' or white space).",
                                  key, v ?: "(missing)");
        snprintf(dest, IFNAMSIZ, "%s", v);
        return 0;
}

static int parse_interface(json_object *e, SpecInterface *i, char *error, size_t size) {
        const char *v;
        int r;
        if (!json_object_is_type(e, json_type_object))
                return spec_error(error, size, "The container's spec has a network interface that is not an object.");
        if ((r = parse_ifname(e, SPEC_IFACE_KEY_HOST_IFNAME, false, i->host_ifname, error, size)) < 0 ||
            (r = parse_ifname(e, SPEC_IFACE_KEY_IFNAME, false, i->ifname, error, size)) < 0 ||
            (r = parse_ifname(e, SPEC_IFACE_KEY_BRIDGE, true, i->bridge, error, size)) < 0)
                return r;
        v = json_get_string(e, SPEC_IFACE_KEY_ADDRESS);
        if (!isempty(v)) {
                if (ipv4_prefix_parse(v, &i->address, &i->prefixlen) < 0)
                        return spec_error(error, size,
                                          "The container's spec has an invalid address for network interface %s: "
                                          "\"%.64s\" is not an IPv4 address with a prefix length (a.b.c.d/n).",
                                          i->ifname, v);
                i->has_address = true;
        }
        v = json_get_string(e, SPEC_IFACE_KEY_GATEWAY);
        if (!isempty(v)) {
                if (inet_pton(AF_INET, v, &i->gateway) != 1)
                        return spec_error(error, size,
                                          "The container's spec has an invalid gateway for network interface %s: "
                                          "\"%.64s\" is not an IPv4 address.",
                                          i->ifname, v);
                i->has_gateway = true;
        }
        v = json_get_string(e, SPEC_IFACE_KEY_MAC);
        if (!isempty(v)) {
                if (ether_addr_parse(v, i->mac) < 0)
                        return spec_error(error, size,
                                          "The container's spec has an invalid MAC address for network interface "
                                          "%s: \"%.64s\" is not of the form aa:bb:cc:dd:ee:ff.",
                                          i->ifname, v);
                i->has_mac = true;
        }
        int64_t mtu = json_get_i64(e, SPEC_IFACE_KEY_MTU, 0);
        if (mtu != 0 && (mtu < 68 || mtu > 65535))
                return spec_error(error, size,
                                  "The container's spec has an invalid MTU for network interface %s: %" PRId64
                                  " is not between 68 and 65535.",
                                  i->ifname, mtu);
        i->mtu = (uint32_t) mtu;
        return 0;
}

/* net_mode, net_join_pid, interfaces. */
static int parse_network(json_object *o, ContainerSpec *s, char *error, size_t size) {
        json_object *a;
        const char *mode = json_get_string(o, SPEC_KEY_NET_MODE);
        s->net_mode = mode ? net_mode_from_string(mode) : NET_MODE_NONE;
        if (s->net_mode < 0 || (json_object_object_get_ex(o, SPEC_KEY_NET_MODE, &a) && !mode))
                return spec_error(error, size,
                                  "The container's spec has an invalid network mode \"%.64s\" (none, private, "
                                  "host or container).",
                                  mode ?: "(not a string)");
        /* An exec joins the namespaces of the container's process, its network's too. */
        if (s->net_mode == NET_MODE_CONTAINER && s->exec_pid <= 0) {
                int64_t pid = json_get_i64(o, SPEC_KEY_NET_JOIN_PID, 0);
                if (pid <= 0 || pid > INT32_MAX)
                        return spec_error(error, size,
                                          "The container's spec joins another container's network but names no "
                                          "process of it.");
                s->net_join_pid = (int) pid;
        }
        /* Docker's rule: a user namespace owns the network namespace it uses. */
        if (s->userns_base > 0 && s->net_mode == NET_MODE_HOST)
                return spec_error(error, size,
                                  "Cannot share the host's network namespace when user namespaces are enabled.");
        if (s->userns_base > 0 && s->net_mode == NET_MODE_CONTAINER)
                return spec_error(error, size,
                                  "Cannot share the network namespace of another container when user namespaces "
                                  "are enabled.");
        if (!json_object_object_get_ex(o, SPEC_KEY_INTERFACES, &a) || json_object_is_type(a, json_type_null))
                return 0;
        if (!json_object_is_type(a, json_type_array))
                return spec_error(error, size, "The container's spec has network interfaces that are not an array.");
        size_t n = json_object_array_length(a);
        if (n > 0 && s->net_mode != NET_MODE_PRIVATE)
                return spec_error(error, size,
                                  "The container's spec has network interfaces, but its network mode is %s, not "
                                  "private.",
                                  net_mode_to_string(s->net_mode));
        s->interfaces = calloc(n + 1, sizeof(SpecInterface));
        if (!s->interfaces)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = parse_interface(json_object_array_get_idx(a, i), &s->interfaces[i], error, size);
                if (r < 0)
                        return r;
                s->n_interfaces++;
        }
        return 0;
}

int container_spec_parse(const char *json, size_t len, ContainerSpec **ret, char *error, size_t error_size) {
        _cleanup_(container_spec_freep) ContainerSpec *s = NULL;
        _cleanup_json_ json_object *o = NULL;
        int r;

        if (error && error_size > 0)
                error[0] = 0;
        r = json_parse_buffer(json, len, &o);
        if (r < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;

        /* An exec only joins a running container: it needs no root file system description. */
        s->exec_pid = (int) json_get_i64(o, SPEC_KEY_EXEC_PID, 0);
        s->exec_resize = json_get_bool(o, SPEC_KEY_RESIZE, 0);
        bool full = s->exec_pid <= 0;
        struct {
                const char *key;
                char **dest;
                bool required;
        } strings[] = {
                { SPEC_KEY_ID, &s->id, true },
                { SPEC_KEY_NAME, &s->name, true },
                { SPEC_KEY_IMAGE, &s->image, false },
                { SPEC_KEY_HOSTNAME, &s->hostname, full },
                { SPEC_KEY_DOMAINNAME, &s->domainname, false },
                { SPEC_KEY_ROOTFS, &s->rootfs, full },
                { SPEC_KEY_UPPERDIR, &s->upperdir, false },
                { SPEC_KEY_WORKDIR, &s->workdir, false },
                { SPEC_KEY_RUNDIR, &s->rundir, full },
                { SPEC_KEY_CWD, &s->cwd, false },
                { SPEC_KEY_USER, &s->user, false },
                { SPEC_KEY_LOWERDIR, &s->lowerdir, false },
                { SPEC_KEY_STOREDIR, &s->storedir, false },
                { SPEC_KEY_LOG_DRIVER, &s->log_driver, false },
                { SPEC_KEY_LOG_MODE, &s->log_mode, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                r = dup_string(o, strings[i].key, strings[i].required, strings[i].dest);
                if (r < 0)
                        return r;
        }
        if ((r = json_get_strv(o, SPEC_KEY_LOWERDIRS, &s->lowerdirs)) < 0 ||
            (r = json_get_strv(o, SPEC_KEY_ARGV, &s->argv)) < 0 || (r = json_get_strv(o, SPEC_KEY_ENV, &s->env)) < 0 ||
            (r = json_get_strv(o, SPEC_KEY_GROUP_ADD, &s->group_add)) < 0 ||
            (r = json_get_strv(o, SPEC_KEY_SYSCTLS, &s->sysctls)) < 0 ||
            (r = json_get_strv(o, SPEC_KEY_LOG_FIELDS, &s->log_fields)) < 0)
                return r;
        if (!id_is_valid(s->id) || strv_length(s->argv) == 0)
                return -EBADMSG;
        /* An overlay root needs all of its parts; without lower dirs the rootfs is used as it is. */
        if (full && strv_length(s->lowerdirs) > 0 && (!s->lowerdir || !s->storedir || !s->upperdir || !s->workdir))
                return -EBADMSG;
        s->attached = json_get_bool(o, SPEC_KEY_ATTACHED, 0);
        s->input = json_get_bool(o, SPEC_KEY_INPUT, 0);
        s->tty = json_get_bool(o, SPEC_KEY_TTY, 0);
        s->rows = (unsigned) json_get_i64(o, SPEC_KEY_ROWS, 24);
        s->cols = (unsigned) json_get_i64(o, SPEC_KEY_COLS, 80);
        s->init = json_get_bool(o, SPEC_KEY_INIT, 0);
        s->read_only = json_get_bool(o, SPEC_KEY_READ_ONLY, 0);
        s->pid_host = streq_ptr(json_get_string(o, SPEC_KEY_PID_MODE), "host");
        s->ipc_host = streq_ptr(json_get_string(o, SPEC_KEY_IPC_MODE), "host");
        s->ipc_none = streq_ptr(json_get_string(o, SPEC_KEY_IPC_MODE), "none");
        s->uts_host = streq_ptr(json_get_string(o, SPEC_KEY_UTS_MODE), "host");
        s->cgroupns_host = streq_ptr(json_get_string(o, SPEC_KEY_CGROUPNS_MODE), "host");
        int64_t n_listen = json_get_i64(o, SPEC_KEY_LISTEN_FDS, 0);
        if (n_listen < 0 || n_listen > 32 || (n_listen > 0 && s->exec_pid > 0))
                return -EBADMSG;
        s->n_listen_fds = (unsigned) n_listen;
        const char *fdnames = json_get_string(o, SPEC_KEY_LISTEN_FDNAMES);
        if (fdnames && !(s->listen_fdnames = strdup(fdnames)))
                return -ENOMEM;
        /* --pid/--ipc container: (an exec joins the container's process's namespaces anyway). */
        if (s->exec_pid <= 0) {
                int64_t pid_join = json_get_i64(o, SPEC_KEY_PID_JOIN_PID, 0),
                        ipc_join = json_get_i64(o, SPEC_KEY_IPC_JOIN_PID, 0);
                if (pid_join < 0 || pid_join > INT32_MAX || ipc_join < 0 || ipc_join > INT32_MAX ||
                    ((pid_join > 0 || ipc_join > 0) && json_get_u64(o, SPEC_KEY_USERNS_BASE, 0) > 0))
                        return -EBADMSG;
                s->pid_join_pid = (int) pid_join;
                s->ipc_join_pid = (int) ipc_join;
        }
        s->caps = json_get_u64(o, SPEC_KEY_CAPS, capabilities_default);
        s->privileged = json_get_bool(o, SPEC_KEY_PRIVILEGED, 0);
        s->no_new_privs = json_get_bool(o, SPEC_KEY_NO_NEW_PRIVS, 0);
        s->seccomp_filter = json_get_bool(o, SPEC_KEY_SECCOMP, 1);
        uint64_t base = json_get_u64(o, SPEC_KEY_USERNS_BASE, 0);
        if (base > UINT32_MAX - 65536)
                return -EBADMSG;
        s->userns_base = (uint32_t) base;
        s->log_max_buffer_size = json_get_u64(o, SPEC_KEY_LOG_MAX_BUFFER_SIZE, 0);
        s->log_rate_limit_interval_usec = json_get_u64(o, SPEC_KEY_LOG_RATE_LIMIT_INTERVAL, 0);
        s->log_rate_limit_burst = json_get_u64(o, SPEC_KEY_LOG_RATE_LIMIT_BURST, 0);
        /* Fields of the journal's own (MESSAGE, _PID, ...) or berth's cannot be set this way. */
        if (strv_length(s->log_fields) > 56) /* JOURNAL_LOG_FIELDS_MAX */
                return -EBADMSG;
        for (char **f = s->log_fields; f && *f; f++)
                if (!log_field_is_valid(*f))
                        return -EBADMSG;
        r = parse_mounts(o, s);
        if (r < 0)
                return r;
        r = parse_resources(o, s);
        if (r < 0)
                return r;
        r = parse_network(o, s, error, error_size);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}
