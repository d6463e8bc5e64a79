/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resources of a running container, all through its scope unit: live limit changes (Update),
 * usage (GetStats) and processes (GetProcesses). berth reads nothing from cgroupfs here, so the
 * same code serves hybrid and unified hosts. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper-protocol.h"
#include "container.h"
#include "errors.h"
#include "json-util.h"
#include "names.h"

int container_limit_validate(const char *key, uint64_t v, sd_bus_error *error) {
        long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
        if (v == UINT64_MAX)
                return 0; /* no limit */
        if (streq(key, "MemoryMax")) {
                /* Docker's minimum; less cannot even start a shell. */
                if (v < 6 * 1024 * 1024)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "MemoryMax must be at least 6 MiB.");
        } else if (streq(key, "CPUQuotaPerSecUSec")) {
                if (v < 10000 || v > (uint64_t) (ncpus > 0 ? ncpus : 1) * USEC_PER_SEC)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "CPU quota must be between 0.01 and %ld CPUs.", ncpus);
        } else if (streq(key, "TasksMax")) {
                if (v == 0)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT, "TasksMax must be at least 1.");
        } else if (streq(key, "MemorySwapMax")) {
                /* Any amount of swap, 0 (none) included. */
        } else if (streq(key, "MemoryLow")) {
                if (v < 6 * 1024 * 1024)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "Minimum memory reservation allowed is 6MB");
        } else if (streq(key, "CPUQuotaPeriodUSec")) {
                if (v < 1000 || v > USEC_PER_SEC)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
                                                "(i.e. 1000000)");
        } else if (streq(key, "BlkioWeight")) {
                if (v < 10 || v > 1000)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "Range of blkio weight is from 10 to 1000");
        } else if (streq(key, "CPUWeight")) {
                if (v < 1 || v > 10000)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "CPUWeight must be between 1 and 10000.");
        } else if (streq(key, "CPUShares")) {
                if (v < 2 || v > 262144)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "CPUShares must be between 2 and 262144.");
        } else
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Unknown limit \"%s\".", key);
        return 0;
}

uint64_t container_blkio_to_io_weight(uint64_t weight) {
        if (weight == UINT64_MAX)
                return UINT64_MAX;
        return 1 + (weight - 10) * 9999 / 990;
}

/* The CPUs or memory nodes the host has online ("0-7"), as the kernel lists them. */
static char *online_list(bool cpus) {
        char *text = NULL;
        if (read_full_file(cpus ? "/sys/devices/system/cpu/online" : "/sys/devices/system/node/online", &text, NULL) <
            0)
                return strdup("0"); /* no NUMA: one node */
        text[strcspn(text, "\n")] = 0;
        return text;
}

int container_cpuset_validate(const char *key, const char *v, sd_bus_error *error) {
        static unsigned char want[CPU_LIST_MAX / 8], have[CPU_LIST_MAX / 8];
        bool cpus = streq(key, "AllowedCPUs");
        if (isempty(v))
                return 0; /* all of them */
        if (cpu_list_parse(v, CPU_LIST_MAX, want) < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Invalid value %s for cpuset %s: invalid format: %s", v,
                                         cpus ? "cpus" : "mems", v);
        _cleanup_free_ char *online = online_list(cpus);
        if (!online)
                return -ENOMEM;
        if (cpu_list_parse(online, CPU_LIST_MAX, have) < 0)
                return 0; /* the kernel's list unreadable: systemd decides */
        for (size_t i = 0; i < sizeof(want); i++)
                if (want[i] & ~have[i])
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 cpus ? "Requested CPUs are not available - requested %s, available: %s"
                                                      : "Requested memory nodes are not available - requested %s, "
                                                        "available: %s",
                                                 v, online);
        return 0;
}

/* The bitmask systemd's AllowedCPUs= and AllowedMemoryNodes= take (ay: bit N of byte N/8). */
int container_cpuset_append(sd_bus_message *m, const char *property, const char *list) {
        static unsigned char mask[CPU_LIST_MAX / 8];
        size_t n = 0;
        if (isempty(list))
                return 0;
        if (cpu_list_parse(list, CPU_LIST_MAX, mask) < 0)
                return -EINVAL;
        for (size_t i = 0; i < sizeof(mask); i++)
                if (mask[i])
                        n = i + 1;
        int r;
        if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
            (r = sd_bus_message_append(m, "s", property)) < 0 ||
            (r = sd_bus_message_open_container(m, 'v', "ay")) < 0 ||
            (r = sd_bus_message_append_array(m, 'y', mask, n)) < 0 || (r = sd_bus_message_close_container(m)) < 0)
                return r;
        return sd_bus_message_close_container(m);
}

static char *unit_object_path(const Container *c) {
        _cleanup_free_ char *unit = container_unit_name(c);
        char *path = NULL;
        if (!unit || sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path) < 0)
                return NULL;
        return path;
}

typedef struct UpdateCall {
        Manager *manager;
        char id[BERTH_ID_LEN + 1];
        sd_bus_message *request;
        LimitUpdate update;
} UpdateCall;

static const char *const limit_names[_UPDATE_LIMIT_MAX] = {
        "MemoryMax", "CPUQuotaPerSecUSec", "TasksMax",  "MemorySwapMax",
        "CPUWeight", "CPUQuotaPeriodUSec", "MemoryLow", "BlkioWeight",
};
enum { LIMIT_BLKIO_WEIGHT = 7 }; /* sent to systemd as IOWeight */

static uint64_t *limit_field(Container *c, size_t i) {
        uint64_t *fields[_UPDATE_LIMIT_MAX] = {
                &c->memory_max,     &c->cpu_quota_per_sec_usec, &c->tasks_max,  &c->res.memory_swap_max,
                &c->res.cpu_weight, &c->cpu_quota_period_usec,  &c->memory_low, &c->blkio_weight,
        };
        return fields[i];
}

/* Docker's --cpu-shares in systemd's CPUWeight, as crun and podman convert it (1024 → 39). */
static uint64_t cpu_shares_to_weight(uint64_t shares) {
        return 1 + ((shares - 2) * 9999) / 262142;
}

int container_update_parse(sd_bus_message *message, LimitUpdate *ret, sd_bus_error *error) {
        LimitUpdate u = { .restart_policy = -1 };
        uint64_t shares = 0;
        const char *restart = NULL;
        bool shares_seen = false;
        /* The limits, then the settings that take no uint64 (not checked by the loop below). */
        enum { N_LIMIT_OPTS = _UPDATE_LIMIT_MAX + 1 };
        BusOption opts[N_LIMIT_OPTS + 4];
        int r;

        for (size_t i = 0; i < _UPDATE_LIMIT_MAX; i++)
                opts[i] = (BusOption){ limit_names[i], "t", &u.value[i], &u.set[i] };
        opts[_UPDATE_LIMIT_MAX] = (BusOption){ "CPUShares", "t", &shares, &shares_seen };
        opts[N_LIMIT_OPTS] = (BusOption) BUS_OPTION("AllowedCPUs", "s", &u.cpuset_cpus);
        opts[N_LIMIT_OPTS + 1] = (BusOption) BUS_OPTION("AllowedMemoryNodes", "s", &u.cpuset_mems);
        opts[N_LIMIT_OPTS + 2] = (BusOption) BUS_OPTION("RestartPolicy", "s", &restart);
        opts[N_LIMIT_OPTS + 3] = (BusOption){ "RestartMaxRetries", "u", &u.restart_max_retries,
                                              &u.restart_max_retries_set };
        r = bus_read_options(message, opts, ELEMENTSOF(opts), "limit", error);
        if (r < 0)
                return r;
        if (u.cpuset_cpus && (r = container_cpuset_validate("AllowedCPUs", u.cpuset_cpus, error)) < 0)
                return r;
        if (u.cpuset_mems && (r = container_cpuset_validate("AllowedMemoryNodes", u.cpuset_mems, error)) < 0)
                return r;
        if (restart && (u.restart_policy = restart_policy_from_string(restart)) < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Invalid restart policy \"%s\": expected no, on-failure, always or "
                                         "unless-stopped.",
                                         restart);
        if (shares_seen && u.set[4])
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "CPUShares and CPUWeight set the same limit: give one of them.");
        for (size_t i = 0; i < N_LIMIT_OPTS; i++)
                if (*opts[i].seen && (r = container_limit_validate(opts[i].key, *(uint64_t *) opts[i].dest, error)) < 0)
                        return r;
        if (shares_seen) {
                u.value[4] = shares != UINT64_MAX ? cpu_shares_to_weight(shares) : UINT64_MAX;
                u.cpu_shares = shares != UINT64_MAX ? shares : 0;
                u.set[4] = true;
        }
        *ret = u;
        return 0;
}

/* A string setting replaced by a copy of v (NULL: unchanged); the old one in *saved. */
static int swap_string(char **field, const char *v, char **saved) {
        *saved = NULL;
        if (!v)
                return 0;
        char *copy = strdup(v);
        if (!copy)
                return -ENOMEM;
        *saved = *field;
        *field = copy;
        return 1;
}

static int update_settle(Container *c, const LimitUpdate *u) {
        uint64_t saved[_UPDATE_LIMIT_MAX], saved_shares = c->res.cpu_shares;
        int saved_policy = c->restart_policy;
        uint32_t saved_retries = c->restart_max_retries;
        _cleanup_free_ char *old_cpus = NULL, *old_mems = NULL;
        int swapped_cpus = swap_string(&c->cpuset_cpus, u->cpuset_cpus, &old_cpus);
        int swapped_mems = swap_string(&c->cpuset_mems, u->cpuset_mems, &old_mems);
        int r = swapped_cpus < 0 || swapped_mems < 0 ? -ENOMEM : 0;
        for (size_t i = 0; i < _UPDATE_LIMIT_MAX; i++) {
                saved[i] = *limit_field(c, i);
                if (u->set[i])
                        *limit_field(c, i) = u->value[i];
        }
        if (u->set[4])
                c->res.cpu_shares = u->cpu_shares;
        if (u->restart_policy >= 0)
                c->restart_policy = u->restart_policy;
        if (u->restart_max_retries_set)
                c->restart_max_retries = u->restart_max_retries;
        if (r >= 0)
                r = container_save(c);
        if (r < 0) {
                for (size_t i = 0; i < _UPDATE_LIMIT_MAX; i++)
                        *limit_field(c, i) = saved[i];
                c->res.cpu_shares = saved_shares;
                c->restart_policy = saved_policy;
                c->restart_max_retries = saved_retries;
                /* The new strings go with the _cleanup_ of the old ones. */
                char *t;
                if (swapped_cpus > 0)
                        t = c->cpuset_cpus, c->cpuset_cpus = old_cpus, old_cpus = t;
                if (swapped_mems > 0)
                        t = c->cpuset_mems, c->cpuset_mems = old_mems, old_mems = t;
                return r;
        }
        container_emit_changed(c, "MemoryMax", "CPUQuotaPerSecUSec", "TasksMax", "MemorySwapMax", "CPUWeight",
                               "CPUShares", "CPUQuotaPeriodUSec", "MemoryLow", "BlkioWeight", "AllowedCPUs",
                               "AllowedMemoryNodes", "RestartPolicy", "RestartMaxRetries", NULL);
        return 0;
}

static void on_set_unit_properties(int r, const char *value, const char *message, void *userdata) {
        UpdateCall *call = userdata;
        Container *c = manager_find_container(call->manager, call->id, NULL);

        if (r < 0)
                (void) sd_bus_reply_method_errorf(call->request, BERTH_ERROR_INVALID_ARGUMENT,
                                                  "systemd refused the new limits: %s", message ?: strerror(-r));
        else if (!c)
                (void) sd_bus_reply_method_errorf(call->request, BERTH_ERROR_NO_SUCH_CONTAINER,
                                                  "The container was removed meanwhile.");
        else {
                r = update_settle(c, &call->update);
                if (r < 0)
                        (void) sd_bus_reply_method_errnof(call->request, -r, "Failed to save the limits: %m");
                else
                        (void) container_reply_when_saved(c, call->request);
        }
        sd_bus_message_unref(call->request);
        free(call);
}

/* Update's limits as unit properties (UnitPropertiesAppend). */
static int append_limits(sd_bus_message *m, void *userdata) {
        const LimitUpdate *u = userdata;
        int r = container_cpuset_append(m, "AllowedCPUs", u->cpuset_cpus);
        if (r >= 0)
                r = container_cpuset_append(m, "AllowedMemoryNodes", u->cpuset_mems);
        if (r < 0)
                return r;
        for (size_t i = 0; i < _UPDATE_LIMIT_MAX; i++)
                if (u->set[i]) {
                        r = i == LIMIT_BLKIO_WEIGHT
                                ? sd_bus_message_append(m, "(sv)", "IOWeight", "t",
                                                        container_blkio_to_io_weight(u->value[i]))
                                : sd_bus_message_append(m, "(sv)", limit_names[i], "t", u->value[i]);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int container_update(Container *c, const LimitUpdate *u, sd_bus_message *request, sd_bus_error *error) {
        _cleanup_free_ char *unit = container_unit_name(c);
        int r;

        if (!unit)
                return -ENOMEM;
        if (u->restart_policy > RESTART_NO && c->auto_remove)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "Restart policy cannot be updated because AutoRemove is enabled for the "
                                        "container");
        if (c->state != CONTAINER_RUNNING || c->starting) {
                /* Takes effect at the next start. */
                r = update_settle(c, u);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Failed to save the limits: %m");
                return container_reply_when_saved(c, request);
        }
        UpdateCall *call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        call->manager = c->manager;
        memcpy(call->id, c->id, sizeof(call->id));
        call->update = *u;
        call->request = sd_bus_message_ref(request);
        /* Not cancelled: the reply finds the container by id, if it is still there. */
        r = c->manager->units->set_unit_properties(c->manager, unit, true, append_limits, &call->update,
                                                   on_set_unit_properties, call, NULL);
        if (r < 0) {
                sd_bus_message_unref(call->request);
                free(call);
                return r;
        }
        return 1;
}

/* GetStats: (memory current, memory max, cpu usage ns, tasks current, io read bytes, io write bytes);
 * UINT64_MAX where systemd does not know. */
static int on_stats(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        sd_bus_message *request = userdata;
        uint64_t v[6] = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
        static const char *const names[6] = { "MemoryCurrent", "MemoryMax",   "CPUUsageNSec",
                                              "TasksCurrent",  "IOReadBytes", "IOWriteBytes" };
        const char *name;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                (void) sd_bus_reply_method_errorf(request, BERTH_ERROR_CONTAINER_NOT_RUNNING,
                                                  "The container's scope is gone.");
                goto finish;
        }
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *contents;
                bool found = false;
                if ((r = sd_bus_message_read(reply, "s", &name)) < 0 ||
                    (r = sd_bus_message_peek_type(reply, NULL, &contents)) < 0)
                        break;
                for (size_t i = 0; i < 6; i++)
                        if (streq(name, names[i]) && streq(contents, "t")) {
                                r = sd_bus_message_read(reply, "v", "t", &v[i]);
                                found = true;
                        }
                if (!found)
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
                        break;
        }
        if (r < 0)
                (void) sd_bus_reply_method_errnof(request, -r, "Failed to read the scope's accounting: %m");
        else
                (void) sd_bus_reply_method_return(request, "tttttt", v[0], v[1], v[2], v[3], v[4], v[5]);
finish:
        sd_bus_message_unref(request);
        return 0;
}

int container_get_stats(Container *c, sd_bus_message *request, sd_bus_error *error) {
        _cleanup_free_ char *path = unit_object_path(c);
        if (!path)
                return -ENOMEM;
        if (c->state != CONTAINER_RUNNING || c->starting)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING, "Container %s is not running.",
                                         c->name);
        int r = sd_bus_call_method_async(c->manager->bus, NULL, "org.freedesktop.systemd1", path,
                                         "org.freedesktop.DBus.Properties", "GetAll", on_stats,
                                         sd_bus_message_ref(request), "s", "org.freedesktop.systemd1.Scope");
        if (r < 0) {
                sd_bus_message_unref(request);
                return r;
        }
        return 1;
}

/* The PID a host process has in the innermost PID namespace it is in (NSpid's last field). */
static uint32_t container_pid_of(uint32_t pid) {
        _cleanup_free_ char *path = NULL, *status = NULL;
        if (asprintf(&path, "/proc/%u/status", pid) < 0 || read_full_file(path, &status, NULL) < 0)
                return 0;
        char *line = strstr(status, "\nNSpid:");
        if (!line)
                return 0;
        line += 7;
        line[strcspn(line, "\n")] = 0;
        char *last = strrchr(line, '\t');
        unsigned v = 0;
        return sscanf(last ? last + 1 : line, "%u", &v) == 1 ? v : 0;
}

static int on_processes(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        sd_bus_message *request = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *answer = NULL;
        const char *cgroup, *cmdline;
        uint32_t pid;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                (void) sd_bus_reply_method_errorf(request, BERTH_ERROR_CONTAINER_NOT_RUNNING,
                                                  "The container's scope is gone.");
                goto finish;
        }
        if ((r = sd_bus_message_new_method_return(request, &answer)) < 0 ||
            (r = sd_bus_message_open_container(answer, 'a', "(uus)")) < 0 ||
            (r = sd_bus_message_enter_container(reply, 'a', "(sus)")) < 0)
                goto fail;
        while ((r = sd_bus_message_read(reply, "(sus)", &cgroup, &pid, &cmdline)) > 0)
                if ((r = sd_bus_message_append(answer, "(uus)", pid, container_pid_of(pid), cmdline)) < 0)
                        goto fail;
        if (r < 0 || (r = sd_bus_message_close_container(answer)) < 0)
                goto fail;
        (void) sd_bus_send(NULL, answer, NULL);
        goto finish;
fail:
        (void) sd_bus_reply_method_errnof(request, -r, "Failed to list the container's processes: %m");
finish:
        sd_bus_message_unref(request);
        return 0;
}

int container_get_processes(Container *c, sd_bus_message *request, sd_bus_error *error) {
        _cleanup_free_ char *unit = container_unit_name(c);
        if (!unit)
                return -ENOMEM;
        if (c->state != CONTAINER_RUNNING || c->starting)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING, "Container %s is not running.",
                                         c->name);
        int r = sd_bus_call_method_async(c->manager->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                         "org.freedesktop.systemd1.Manager", "GetUnitProcesses", on_processes,
                                         sd_bus_message_ref(request), "s", unit);
        if (r < 0) {
                sd_bus_message_unref(request);
                return r;
        }
        return 1;
}

int container_resize_terminal(Container *c, unsigned rows, unsigned cols, sd_bus_error *error) {
        if (c->state != CONTAINER_RUNNING)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING, "Container %s is not running.",
                                         c->name);
        if (!c->tty)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Container %s has no terminal.", c->name);
        if (c->tty_master < 0) {
                /* berthd restarted since the start: the supervisor hands the terminal over again. */
                int r = container_supervisor_request(c, 'T', NULL, 0, &c->tty_master, error);
                if (r < 0)
                        return r;
        }
        if (rows == 0 || cols == 0 || rows > 10000 || cols > 10000)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid terminal size.");
        /* The kernel sends SIGWINCH to the terminal's foreground process group. */
        struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
        if (ioctl(c->tty_master, TIOCSWINSZ, &ws) < 0)
                return sd_bus_error_set_errnof(error, errno, "Failed to resize the terminal: %m");
        return 0;
}

/* --shm-size, --ulimit, --device, --memory-swap, --cpu-shares/--cpu-weight, --stop-timeout. */

#define SHM_SIZE_DEFAULT     (64ULL << 20) /* Docker's */
#define STOP_TIMEOUT_DEFAULT 10U

/* Docker's --ulimit names (go-units). */
static const struct {
        const char *name;
        int resource;
} rlimit_names[] = {
        { "as", RLIMIT_AS },           { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
        { "data", RLIMIT_DATA },       { "fsize", RLIMIT_FSIZE },       { "locks", RLIMIT_LOCKS },
        { "memlock", RLIMIT_MEMLOCK }, { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
        { "nofile", RLIMIT_NOFILE },   { "nproc", RLIMIT_NPROC },       { "rss", RLIMIT_RSS },
        { "rtprio", RLIMIT_RTPRIO },   { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
        { "stack", RLIMIT_STACK },
};

static int rlimit_from_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(rlimit_names); i++)
                if (streq(rlimit_names[i].name, name))
                        return rlimit_names[i].resource;
        return -EINVAL;
}

static const char *rlimit_to_name(int resource) {
        for (size_t i = 0; i < ELEMENTSOF(rlimit_names); i++)
                if (rlimit_names[i].resource == resource)
                        return rlimit_names[i].name;
        return NULL;
}

void container_resources_init(ContainerResources *r) {
        *r = (ContainerResources){
                .shm_size = SHM_SIZE_DEFAULT,
                .memory_swap_max = UINT64_MAX,
                .cpu_weight = UINT64_MAX,
                .stop_timeout = UINT32_MAX,
        };
}

static void devices_free(ContainerDevice *d, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(d[i].host);
                free(d[i].container);
                free(d[i].permissions);
        }
        free(d);
}

static void io_limits_free(ContainerIOLimit *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i].path);
        free(l);
}

void container_resources_done(ContainerResources *r) {
        free(r->ulimits);
        devices_free(r->devices, r->n_devices);
        io_limits_free(r->io_limits, r->n_io_limits);
        container_resources_init(r);
}

static int add_ulimit(ContainerResources *r, int resource, uint64_t soft, uint64_t hard) {
        for (size_t i = 0; i < r->n_ulimits; i++)
                if (r->ulimits[i].resource == resource) {
                        /* As Docker: a later --ulimit of the same name wins. */
                        r->ulimits[i].soft = soft;
                        r->ulimits[i].hard = hard;
                        return 0;
                }
        ContainerUlimit *a = realloc(r->ulimits, (r->n_ulimits + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        r->ulimits = a;
        a[r->n_ulimits++] = (ContainerUlimit){ .resource = resource, .soft = soft, .hard = hard };
        return 0;
}

static int add_device(ContainerResources *r, const char *host, const char *container, const char *permissions) {
        ContainerDevice *a = realloc(r->devices, (r->n_devices + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        r->devices = a;
        a[r->n_devices] = (ContainerDevice){ .host = strdup(host),
                                             .container = strdup(container),
                                             .permissions = strdup(permissions) };
        r->n_devices++;
        if (!a[r->n_devices - 1].host || !a[r->n_devices - 1].container || !a[r->n_devices - 1].permissions)
                return -ENOMEM;
        return 0;
}

/* The option names (D-Bus and record) of the kinds; the scope's properties. */
static const char *const io_limit_options[_IO_LIMIT_MAX] = {
        "BlkioWeightDevice", "IOReadBandwidthMax", "IOWriteBandwidthMax", "IOReadIOPSMax", "IOWriteIOPSMax",
};
static const char *const io_limit_properties[_IO_LIMIT_MAX] = {
        "IODeviceWeight", "IOReadBandwidthMax", "IOWriteBandwidthMax", "IOReadIOPSMax", "IOWriteIOPSMax",
};

static int io_limit_from_name(const char *name) {
        for (int i = 0; i < _IO_LIMIT_MAX; i++)
                if (streq(io_limit_options[i], name))
                        return i;
        return -EINVAL;
}

static int add_io_limit(ContainerResources *r, IOLimitKind kind, const char *path, uint64_t value) {
        for (size_t i = 0; i < r->n_io_limits; i++)
                if (r->io_limits[i].kind == kind && streq(r->io_limits[i].path, path)) {
                        r->io_limits[i].value = value; /* a later one for the same device wins */
                        return 0;
                }
        ContainerIOLimit *a = realloc(r->io_limits, (r->n_io_limits + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        r->io_limits = a;
        char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        a[r->n_io_limits++] = (ContainerIOLimit){ .kind = kind, .path = p, .value = value };
        return 0;
}

int container_resources_copy(const ContainerResources *src, ContainerResources *dst) {
        int r;
        *dst = *src;
        dst->io_limits = NULL;
        dst->n_io_limits = 0;
        for (size_t i = 0; i < src->n_io_limits; i++)
                if ((r = add_io_limit(dst, src->io_limits[i].kind, src->io_limits[i].path, src->io_limits[i].value)) <
                    0)
                        return r;
        dst->ulimits = NULL;
        dst->n_ulimits = 0;
        dst->devices = NULL;
        dst->n_devices = 0;
        for (size_t i = 0; i < src->n_ulimits; i++)
                if ((r = add_ulimit(dst, src->ulimits[i].resource, src->ulimits[i].soft, src->ulimits[i].hard)) < 0)
                        return r;
        for (size_t i = 0; i < src->n_devices; i++)
                if ((r = add_device(dst, src->devices[i].host, src->devices[i].container,
                                    src->devices[i].permissions)) < 0)
                        return r;
        return 0;
}

/* A path in the container's /dev (a tmpfs berth fills), normalized; not in the file systems
 * mounted there (pts, shm, mqueue). */
static bool device_target_is_valid(const char *p) {
        if (strncmp(p, "/dev/", 5) || strlen(p) > 255 || p[strlen(p) - 1] == '/' || strstr(p, "//") ||
            strstr(p, "/./") || strstr(p, "/../") || (strlen(p) >= 3 && streq(p + strlen(p) - 3, "/..")) ||
            (strlen(p) >= 2 && streq(p + strlen(p) - 2, "/.")))
                return false;
        static const char *const mounted[] = { "/dev/pts", "/dev/shm", "/dev/mqueue" };
        for (size_t i = 0; i < ELEMENTSOF(mounted); i++) {
                size_t n = strlen(mounted[i]);
                if (!strncmp(p, mounted[i], n) && (p[n] == 0 || p[n] == '/'))
                        return false;
        }
        return true;
}

static bool device_permissions_are_valid(const char *s) {
        if (isempty(s) || strlen(s) > 3)
                return false;
        for (const char *c = s; *c; c++)
                if (!strchr("rwm", *c) || strchr(c + 1, *c))
                        return false;
        return true;
}

static int check_device(const char *host, const char *container, const char *permissions, sd_bus_error *error) {
        if (host[0] != '/')
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Cannot add device \"%s\": not an absolute path.", host);
        if (!device_target_is_valid(container))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Invalid device path \"%s\" in the container: expected a normalized path "
                                         "under /dev (not in /dev/pts, /dev/shm or /dev/mqueue).",
                                         container);
        if (!device_permissions_are_valid(permissions))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Invalid device permissions \"%s\": expected a combination of r, w and m.",
                                         permissions);
        return 0;
}

static int option_type_error(sd_bus_error *error, const char *key, const char *want) {
        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Container option \"%s\" must have type \"%s\".",
                                 key, want);
}

/* The host side of --device, only for a privileged caller: berthd's stat() must not tell anyone
 * else what exists on the host. */
int container_resources_check_devices(const ContainerResources *r, sd_bus_error *error) {
        for (size_t i = 0; i < r->n_devices; i++) {
                struct stat st;
                const char *host = r->devices[i].host;
                if (stat(host, &st) < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Cannot add device \"%s\": no such device on the host.", host);
                if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Cannot add device \"%s\": not a device node.", host);
        }
        for (size_t i = 0; i < r->n_io_limits; i++) {
                struct stat st;
                const char *path = r->io_limits[i].path;
                if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Cannot limit the I/O of \"%s\": not a block device on the host.",
                                                 path);
        }
        return 0;
}

int container_resources_parse_option(sd_bus_message *m, const char *key, const char *contents, ContainerResources *res,
                                     sd_bus_error *error) {
        int r;

        if (streq(key, "ShmSize") || streq(key, "MemorySwapMax") || streq(key, "CPUWeight") ||
            streq(key, "CPUShares")) {
                uint64_t v;
                if (!streq(contents, "t"))
                        return option_type_error(error, key, "t");
                if ((r = sd_bus_message_read(m, "v", "t", &v)) < 0)
                        return r;
                if (streq(key, "ShmSize")) {
                        if (v == 0 || v == UINT64_MAX)
                                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                        "ShmSize must be a size greater than 0.");
                        res->shm_size = v;
                        return 1;
                }
                if ((r = container_limit_validate(key, v, error)) < 0)
                        return r;
                if (streq(key, "MemorySwapMax"))
                        res->memory_swap_max = v;
                else if (streq(key, "CPUWeight")) {
                        res->cpu_weight = v;
                        res->cpu_shares = 0;
                } else if (v != UINT64_MAX) {
                        res->cpu_weight = cpu_shares_to_weight(v);
                        res->cpu_shares = v;
                }
                return 1;
        }
        if (streq(key, "StopTimeout")) {
                uint32_t v;
                if (!streq(contents, "u"))
                        return option_type_error(error, key, "u");
                if ((r = sd_bus_message_read(m, "v", "u", &v)) < 0)
                        return r;
                if (v > 24 * 3600)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "StopTimeout must be at most one day (86400 seconds).");
                res->stop_timeout = v;
                return 1;
        }
        if (streq(key, "Ulimits")) {
                const char *name;
                uint64_t soft, hard;
                if (!streq(contents, "a(stt)"))
                        return option_type_error(error, key, "a(stt)");
                if ((r = sd_bus_message_enter_container(m, 'v', "a(stt)")) < 0 ||
                    (r = sd_bus_message_enter_container(m, 'a', "(stt)")) < 0)
                        return r;
                while ((r = sd_bus_message_read(m, "(stt)", &name, &soft, &hard)) > 0) {
                        int resource = rlimit_from_name(name);
                        if (resource < 0)
                                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                         "Unknown ulimit \"%s\": expected one of as, core, cpu, data, "
                                                         "fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, "
                                                         "rtprio, rttime, sigpending, stack.",
                                                         name);
                        if (soft > hard)
                                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                         "Ulimit \"%s\": the soft limit is above the hard limit.",
                                                         name);
                        if ((r = add_ulimit(res, resource, soft, hard)) < 0)
                                return r;
                }
                if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                        return r;
                return 1;
        }
        int kind = io_limit_from_name(key);
        if (kind >= 0) {
                const char *path;
                uint64_t value;
                if (!streq(contents, "a(st)"))
                        return option_type_error(error, key, "a(st)");
                if ((r = sd_bus_message_enter_container(m, 'v', "a(st)")) < 0 ||
                    (r = sd_bus_message_enter_container(m, 'a', "(st)")) < 0)
                        return r;
                while ((r = sd_bus_message_read(m, "(st)", &path, &value)) > 0) {
                        /* Docker's rules: a path under /dev; a weight of 10..1000, a positive rate. */
                        if (!startswith(path, "/dev/") || strlen(path) > 255)
                                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                         "bad format for device path: %s", path);
                        if (kind == IO_LIMIT_WEIGHT ? value < 10 || value > 1000 : value == 0 || value == UINT64_MAX)
                                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                         kind == IO_LIMIT_WEIGHT
                                                                 ? "invalid weight for device: %s:%" PRIu64
                                                                 : "invalid rate for device: %s:%" PRIu64,
                                                         path, value);
                        if ((r = add_io_limit(res, kind, path, value)) < 0)
                                return r;
                }
                if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                        return r;
                return 1;
        }
        if (streq(key, "Devices")) {
                const char *host, *container, *permissions;
                if (!streq(contents, "a(sss)"))
                        return option_type_error(error, key, "a(sss)");
                if ((r = sd_bus_message_enter_container(m, 'v', "a(sss)")) < 0 ||
                    (r = sd_bus_message_enter_container(m, 'a', "(sss)")) < 0)
                        return r;
                while ((r = sd_bus_message_read(m, "(sss)", &host, &container, &permissions)) > 0) {
                        /* As Docker: the container path defaults to the host's, the permissions to rwm. */
                        if (isempty(container))
                                container = host;
                        if (isempty(permissions))
                                permissions = "rwm";
                        if ((r = check_device(host, container, permissions, error)) < 0 ||
                            (r = add_device(res, host, container, permissions)) < 0)
                                return r;
                }
                if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                        return r;
                return 1;
        }
        return 0;
}

static json_object *ulimits_to_json(const ContainerResources *r, bool names) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < r->n_ulimits; i++) {
                json_object *u = json_object_new_object();
                json_object_object_add(u, SPEC_ULIMIT_KEY_NAME,
                                       json_object_new_string(rlimit_to_name(r->ulimits[i].resource) ?: ""));
                if (!names) /* the helper's: it needs no table of its own */
                        json_object_object_add(u, SPEC_ULIMIT_KEY_RESOURCE,
                                               json_object_new_int(r->ulimits[i].resource));
                json_object_object_add(u, SPEC_ULIMIT_KEY_SOFT, json_object_new_uint64(r->ulimits[i].soft));
                json_object_object_add(u, SPEC_ULIMIT_KEY_HARD, json_object_new_uint64(r->ulimits[i].hard));
                json_object_array_add(a, u);
        }
        return a;
}

static json_object *devices_to_json(const ContainerResources *r) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < r->n_devices; i++) {
                json_object *d = json_object_new_object();
                json_object_object_add(d, "host", json_object_new_string(r->devices[i].host));
                json_object_object_add(d, "container", json_object_new_string(r->devices[i].container));
                json_object_object_add(d, "permissions", json_object_new_string(r->devices[i].permissions));
                json_object_array_add(a, d);
        }
        return a;
}

void container_resources_to_json(const ContainerResources *r, json_object *o) {
        json_object_object_add(o, "shm_size", json_object_new_uint64(r->shm_size));
        json_object_object_add(o, "memory_swap_max", json_object_new_uint64(r->memory_swap_max));
        json_object_object_add(o, "cpu_weight", json_object_new_uint64(r->cpu_weight));
        json_object_object_add(o, "cpu_shares", json_object_new_uint64(r->cpu_shares));
        json_object_object_add(o, "stop_timeout", json_object_new_uint64(r->stop_timeout));
        /* By name: RLIMIT_* numbers are the kernel's, the names are what users wrote. */
        json_object_object_add(o, "ulimits", ulimits_to_json(r, true));
        json_object_object_add(o, "devices", devices_to_json(r));
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < r->n_io_limits; i++) {
                json_object *e = json_object_new_object();
                json_object_object_add(e, "kind", json_object_new_string(io_limit_options[r->io_limits[i].kind]));
                json_object_object_add(e, "path", json_object_new_string(r->io_limits[i].path));
                json_object_object_add(e, "value", json_object_new_uint64(r->io_limits[i].value));
                json_object_array_add(a, e);
        }
        json_object_object_add(o, "io_limits", a);
}

int container_resources_from_json(json_object *o, ContainerResources *res) {
        json_object *a;
        int r;

        container_resources_init(res);
        res->shm_size = json_get_u64(o, "shm_size", SHM_SIZE_DEFAULT);
        res->memory_swap_max = json_get_u64(o, "memory_swap_max", UINT64_MAX);
        res->cpu_weight = json_get_u64(o, "cpu_weight", UINT64_MAX);
        res->cpu_shares = json_get_u64(o, "cpu_shares", 0);
        res->stop_timeout = (uint32_t) json_get_u64(o, "stop_timeout", UINT32_MAX);
        if (json_object_object_get_ex(o, "ulimits", &a) && json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *u = json_object_array_get_idx(a, i);
                        int resource = rlimit_from_name(json_get_string(u, "name") ?: "");
                        if (resource < 0)
                                return -EBADMSG;
                        r = add_ulimit(res, resource, json_get_u64(u, "soft", UINT64_MAX),
                                       json_get_u64(u, "hard", UINT64_MAX));
                        if (r < 0)
                                return r;
                }
        if (json_object_object_get_ex(o, "devices", &a) && json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *d = json_object_array_get_idx(a, i);
                        const char *host = json_get_string(d, "host"), *container = json_get_string(d, "container"),
                                   *permissions = json_get_string(d, "permissions");
                        if (!host || !container || !permissions)
                                return -EBADMSG;
                        r = add_device(res, host, container, permissions);
                        if (r < 0)
                                return r;
                }
        if (json_object_object_get_ex(o, "io_limits", &a) && json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *e = json_object_array_get_idx(a, i);
                        int kind = io_limit_from_name(json_get_string(e, "kind") ?: "");
                        const char *path = json_get_string(e, "path");
                        if (kind < 0 || !path)
                                return -EBADMSG;
                        r = add_io_limit(res, kind, path, json_get_u64(e, "value", 0));
                        if (r < 0)
                                return r;
                }
        return 0;
}

int container_resources_append_unit(const ContainerResources *res, sd_bus_message *m) {
        int r;

        if (res->memory_swap_max != UINT64_MAX &&
            (r = sd_bus_message_append(m, "(sv)", "MemorySwapMax", "t", res->memory_swap_max)) < 0)
                return r;
        if (res->cpu_weight != UINT64_MAX &&
            (r = sd_bus_message_append(m, "(sv)", "CPUWeight", "t", res->cpu_weight)) < 0)
                return r;
        for (int kind = 0; kind < _IO_LIMIT_MAX; kind++) {
                bool any = false;
                for (size_t i = 0; i < res->n_io_limits; i++)
                        any = any || res->io_limits[i].kind == (IOLimitKind) kind;
                if (!any)
                        continue;
                /* systemd resolves each path to its block device when the scope starts. */
                if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
                    (r = sd_bus_message_append(m, "s", io_limit_properties[kind])) < 0 ||
                    (r = sd_bus_message_open_container(m, 'v', "a(st)")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'a', "(st)")) < 0)
                        return r;
                for (size_t i = 0; i < res->n_io_limits; i++)
                        if (res->io_limits[i].kind == (IOLimitKind) kind &&
                            (r = sd_bus_message_append(m, "(st)", res->io_limits[i].path,
                                                       kind == IO_LIMIT_WEIGHT
                                                               ? container_blkio_to_io_weight(res->io_limits[i].value)
                                                               : res->io_limits[i].value)) < 0)
                                return r;
                if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
                    (r = sd_bus_message_close_container(m)) < 0)
                        return r;
        }
        if (res->n_devices == 0)
                return 0;
        /* Added to the DeviceAllow= list (char-pts) the scope already has: systemd resolves the
         * path to its major/minor when the scope starts. */
        if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
            (r = sd_bus_message_append(m, "s", "DeviceAllow")) < 0 ||
            (r = sd_bus_message_open_container(m, 'v', "a(ss)")) < 0 ||
            (r = sd_bus_message_open_container(m, 'a', "(ss)")) < 0)
                return r;
        for (size_t i = 0; i < res->n_devices; i++) {
                /* Always with "m": the helper makes the node from inside the scope. Docker allows
                 * mknod of every device (c *:* m), so this is still less than Docker grants. */
                char permissions[4];
                snprintf(permissions, sizeof(permissions), "%s%s", res->devices[i].permissions,
                         strchr(res->devices[i].permissions, 'm') ? "" : "m");
                if ((r = sd_bus_message_append(m, "(ss)", res->devices[i].host, permissions)) < 0)
                        return r;
        }
        if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0)
                return r;
        return sd_bus_message_close_container(m);
}

void container_resources_to_spec(const ContainerResources *r, json_object *o) {
        json_object_object_add(o, SPEC_KEY_SHM_SIZE, json_object_new_uint64(r->shm_size));
        json_object_object_add(o, SPEC_KEY_ULIMITS, ulimits_to_json(r, false));
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < r->n_devices; i++) {
                json_object *d = json_object_new_object();
                json_object_object_add(d, SPEC_DEVICE_KEY_HOST, json_object_new_string(r->devices[i].host));
                json_object_object_add(d, SPEC_DEVICE_KEY_CONTAINER, json_object_new_string(r->devices[i].container));
                json_object_array_add(a, d);
        }
        json_object_object_add(o, SPEC_KEY_DEVICES, a);
}

unsigned container_stop_timeout(const Container *c) {
        return c->res.stop_timeout == UINT32_MAX ? STOP_TIMEOUT_DEFAULT : c->res.stop_timeout;
}

int container_property_get_ulimits(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "(stt)");
        for (size_t i = 0; r >= 0 && i < c->res.n_ulimits; i++)
                r = sd_bus_message_append(reply, "(stt)", rlimit_to_name(c->res.ulimits[i].resource) ?: "",
                                          c->res.ulimits[i].soft, c->res.ulimits[i].hard);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

int container_property_get_io_limits(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "(sst)");
        for (size_t i = 0; r >= 0 && i < c->res.n_io_limits; i++)
                r = sd_bus_message_append(reply, "(sst)", io_limit_options[c->res.io_limits[i].kind],
                                          c->res.io_limits[i].path, c->res.io_limits[i].value);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

int container_property_get_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "(sss)");
        for (size_t i = 0; r >= 0 && i < c->res.n_devices; i++)
                r = sd_bus_message_append(reply, "(sss)", c->res.devices[i].host, c->res.devices[i].container,
                                          c->res.devices[i].permissions);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}
