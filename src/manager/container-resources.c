/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resources of a running container, all through its scope unit: live limit changes (Update),
 * usage (GetStats) and processes (GetProcesses). berth reads nothing from cgroupfs here, so the
 * same code serves hybrid and unified hosts. */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "container.h"
#include "errors.h"

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
        } else
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Unknown limit \"%s\".", key);
        return 0;
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
        uint64_t limits[3]; /* MemoryMax, CPUQuotaPerSecUSec, TasksMax; 0 = not given */
} UpdateCall;

static const char *const limit_names[3] = { "MemoryMax", "CPUQuotaPerSecUSec", "TasksMax" };

static uint64_t *limit_field(Container *c, size_t i) {
        return i == 0 ? &c->memory_max : i == 1 ? &c->cpu_quota_per_sec_usec : &c->tasks_max;
}

static int update_settle(Container *c, const uint64_t limits[3]) {
        uint64_t saved[3];
        for (size_t i = 0; i < 3; i++) {
                saved[i] = *limit_field(c, i);
                if (limits[i] != 0)
                        *limit_field(c, i) = limits[i];
        }
        int r = container_save(c);
        if (r < 0) {
                for (size_t i = 0; i < 3; i++)
                        *limit_field(c, i) = saved[i];
                return r;
        }
        container_emit_changed(c, "MemoryMax", "CPUQuotaPerSecUSec", "TasksMax", NULL);
        return 0;
}

static int on_set_unit_properties(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UpdateCall *call = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Container *c = manager_find_container(call->manager, call->id, NULL);

        if (e)
                (void) sd_bus_reply_method_errorf(call->request, BERTH_ERROR_INVALID_ARGUMENT,
                                                  "systemd refused the new limits: %s", e->message ?: e->name);
        else if (!c)
                (void) sd_bus_reply_method_errorf(call->request, BERTH_ERROR_NO_SUCH_CONTAINER,
                                                  "The container was removed meanwhile.");
        else {
                int r = update_settle(c, call->limits);
                if (r < 0)
                        (void) sd_bus_reply_method_errnof(call->request, -r, "Failed to save the limits: %m");
                else
                        (void) sd_bus_reply_method_return(call->request, NULL);
        }
        sd_bus_message_unref(call->request);
        free(call);
        return 0;
}

int container_update(Container *c, const uint64_t limits[3], sd_bus_message *request, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *unit = container_unit_name(c);
        int r;

        if (!unit)
                return -ENOMEM;
        if (c->state != CONTAINER_RUNNING || c->starting) {
                /* Takes effect at the next start. */
                r = update_settle(c, limits);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Failed to save the limits: %m");
                return sd_bus_reply_method_return(request, NULL);
        }
        r = sd_bus_message_new_method_call(c->manager->bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "SetUnitProperties");
        if (r < 0)
                return r;
        if ((r = sd_bus_message_append(m, "sb", unit, 1)) < 0 ||
            (r = sd_bus_message_open_container(m, 'a', "(sv)")) < 0)
                return r;
        for (size_t i = 0; i < 3; i++)
                if (limits[i] != 0 && (r = sd_bus_message_append(m, "(sv)", limit_names[i], "t", limits[i])) < 0)
                        return r;
        if ((r = sd_bus_message_close_container(m)) < 0)
                return r;
        UpdateCall *call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        call->manager = c->manager;
        memcpy(call->id, c->id, sizeof(call->id));
        memcpy(call->limits, limits, sizeof(call->limits));
        call->request = sd_bus_message_ref(request);
        r = sd_bus_call_async(c->manager->bus, NULL, m, on_set_unit_properties, call, 0);
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
        if (c->tty_master < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         c->tty ? "The terminal of container %s is not known since berthd restarted."
                                                : "Container %s has no terminal.",
                                         c->name);
        if (rows == 0 || cols == 0 || rows > 10000 || cols > 10000)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid terminal size.");
        /* The kernel sends SIGWINCH to the terminal's foreground process group. */
        struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
        if (ioctl(c->tty_master, TIOCSWINSZ, &ws) < 0)
                return sd_bus_error_set_errnof(error, errno, "Failed to resize the terminal: %m");
        return 0;
}
