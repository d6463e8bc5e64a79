/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting a container, entirely event driven:
 *   spawn berth-nspawn (it blocks on the "go" pipe) → StartTransientUnit(berth-<id>.scope, PIDs=[helper])
 *   → JobRemoved for that unit → write "go" → the helper reports "OK <pid> <usec>" or "ERR ..." on the
 *   status socket (helper-protocol.h) → reply to the D-Bus caller.
 * Any failure undoes it all: the helper is killed (its scope then empties and is collected), the
 * runtime dir is removed, and the container stays "created"/"exited" with Error set.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "log.h"
#include "container.h"
#include "hashmap.h"
#include "helper-exe.h"
#include "helper-protocol.h"
#include "storage.h"
#include "volume.h"
#include "volume-plugin.h"
#include "errors.h"
#include "image.h"
#include "json-util.h"

#define START_TIMEOUT_USEC (90 * USEC_PER_SEC)

struct StartOperation {
        Container *container;
        sd_bus_message *request;
        char *unit;
        HelperProcess helper;
        char status[HELPER_STATUS_LINE_MAX];
        size_t status_len;
        sd_event_source *status_source;
        sd_event_source *timeout_source;
        UnitCall *unit_call; /* StartTransientUnit */
        UnitCall *get_unit_call;
        char *job; /* the StartTransientUnit job we wait for */
        int tty_master;
        char **run_volumes;
        /* Before anything else: the Mount calls of plugin volumes (which may take a while). */
        char **plugin_volumes; /* to mount, one after the other (as Docker does) */
        size_t n_mounted;
        PluginCall *mount_call; /* the one under way */
        char **plugin_paths; /* the answers, "NAME=PATH" */
        int stdio[3]; /* the caller's, kept until the start proper */
        bool scope_ready;
        bool waiting_for_old_unit; /* the previous run's scope is still going away */
        char *machine; /* waiting for machined to drop the previous run's machine */
        sd_bus_slot *get_machine_call;
        sd_event_source *machine_timer;
        unsigned unit_retries;
};

static void start_operation_free(StartOperation *op) {
        if (!op)
                return;
        Manager *m = op->container->manager;
        if (op->job)
                hashmap_remove(m->starts_by_job, op->job, op);
        if (op->unit)
                hashmap_remove(m->starts_by_unit, op->unit, op);
        /* Sources before their fds: see worker.h. */
        sd_event_source_disable_unref(op->status_source);
        sd_event_source_disable_unref(op->timeout_source);
        sd_bus_message_unref(op->request);
        free(op->unit);
        helper_process_close(&op->helper);
        units_call_cancel(m, op->unit_call);
        units_call_cancel(m, op->get_unit_call);
        sd_bus_slot_unref(op->get_machine_call);
        sd_event_source_disable_unref(op->machine_timer);
        free(op->machine);
        free(op->job);
        safe_close(op->tty_master);
        strv_free(op->run_volumes);
        volume_plugin_call_cancel(op->mount_call);
        strv_free(op->plugin_volumes);
        strv_free(op->plugin_paths);
        for (size_t i = 0; i < 3; i++)
                safe_close(op->stdio[i]);
        free(op);
}

void helper_process_kill(HelperProcess *h) {
        h->go_fd = safe_close(h->go_fd); /* a helper still waiting for "go" exits on EOF */
        if (h->pid <= 0)
                return;
        /* Our unreaped child, so its PID cannot have been reused: plain kill() is safe too. */
        if (h->pidfd < 0 || syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0) < 0)
                (void) kill(h->pid, SIGKILL);
        (void) waitpid(h->pid, NULL, 0);
        h->pid = 0;
}

void helper_process_close(HelperProcess *h) {
        h->pidfd = safe_close(h->pidfd);
        h->go_fd = safe_close(h->go_fd);
        h->status_fd = safe_close(h->status_fd);
}

void start_operation_abort(StartOperation *op, const char *error_name, const char *message) {
        Container *c = op->container;
        _cleanup_free_ char *run = manager_run_path(c->manager, "containers/%s", c->id);

        helper_process_kill(&op->helper);
        container_network_release(c);
        if (run)
                (void) rm_rf(run);
        volumes_unmount(c->manager, op->run_volumes, c->id); /* what this attempt had a plugin mount */
        free(c->error);
        c->error = strdup(message);
        (void) container_save(c);
        container_emit_changed(c, "Error", NULL);
        bool automatic = !op->request;
        if (op->request)
                (void) sd_bus_reply_method_errorf(op->request, error_name, "%s", message);
        c->starting = NULL;
        start_operation_free(op);
        if (automatic)
                container_maybe_schedule_restart(c); /* a failed automatic restart is retried with back-off */
        else
                container_remove_after_failed_start(c);
}

/* The run has begun whatever the save says (a failure is logged): Start succeeded. */
static void reply_started(int r, void *userdata) {
        sd_bus_message *request = userdata;
        if (request)
                (void) sd_bus_reply_method_return(request, NULL);
        sd_bus_message_unref(request);
}

static void start_operation_succeed(StartOperation *op, pid_t payload, uint64_t started) {
        Container *c = op->container;

        c->state = CONTAINER_RUNNING;
        c->pid = payload;
        c->helper_pid = op->helper.pid;
        c->helper_pidfd = TAKE_FD(op->helper.pidfd);
        c->payload_pidfd = container_open_pidfd(c, payload); /* -1 if it already exited: fine */
        strv_free(c->run_volumes);
        c->run_volumes = TAKE_PTR(op->run_volumes);
        safe_close(c->tty_master);
        c->tty_master = TAKE_FD(op->tty_master);
        c->paused = false;
        c->started_at = started;
        c->exit_code = 0;
        c->oom_killed = false;
        c->log_lines_dropped = 0;
        free(c->error);
        c->error = NULL;
        /* Answered once the record says "running" on disk, as before, but that write shares its
         * journal commits with those of the other containers started meanwhile. */
        container_save_soon(c, reply_started, op->request ? sd_bus_message_ref(op->request) : NULL);
        if (container_watch_helper(c) < 0)
                log_error("Failed to watch the supervisor of container %s.", c->name);
        if (container_register_machine(c) < 0)
                log_warning("Failed to register container %s with systemd-machined, ignoring.", c->name);
        container_emit_changed(c, "State", "Pid", "StartedAt", "ExitCode", "OOMKilled", "Error", "Ports", "Networks",
                               NULL);
        container_health_started(c);
        c->starting = NULL;
        start_operation_free(op);
}

static void handle_status(StartOperation *op) {
        HelperStatus status;

        if (helper_status_parse(op->status, op->status_len, &status) < 0)
                start_operation_abort(op, BERTH_ERROR_START_FAILED,
                                      "The container's supervisor (berth-nspawn) exited before the container started.");
        else if (status.ok)
                start_operation_succeed(op, status.pid, status.usec);
        else
                start_operation_abort(
                        op, status.kind == HELPER_FAILURE_EXEC ? BERTH_ERROR_EXEC_FAILED : BERTH_ERROR_START_FAILED,
                        status.message);
}

static int on_status(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        StartOperation *op = userdata;
        union {
                struct cmsghdr header;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = op->status + op->status_len, .iov_len = sizeof(op->status) - op->status_len };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)
        };
        ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        struct cmsghdr *cmsg = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
        if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
            cmsg->cmsg_len == CMSG_LEN(sizeof(int))) {
                safe_close(op->tty_master);
                memcpy(&op->tty_master, CMSG_DATA(cmsg), sizeof(int)); /* the terminal, for ResizeTerminal */
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        /* Until EOF (the helper closes the socket after its line) or a buffer too full for any
         * valid line. */
        if (n > 0) {
                op->status_len += (size_t) n;
                if (op->status_len < sizeof(op->status))
                        return 0;
        }
        handle_status(op);
        return 0;
}

static int on_start_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        start_operation_abort(userdata, BERTH_ERROR_START_FAILED, "Timed out waiting for the container to start.");
        return 0;
}

static void scope_ready(StartOperation *op) {
        int r;

        op->scope_ready = true;
        r = sd_event_add_io(op->container->manager->event, &op->status_source, op->helper.status_fd, EPOLLIN, on_status,
                            op);
        if (r < 0 || loop_write(op->helper.go_fd, "g", 1) < 0) {
                start_operation_abort(op, BERTH_ERROR_START_FAILED,
                                      "Failed to hand over to the container's supervisor.");
                return;
        }
        op->helper.go_fd = safe_close(op->helper.go_fd);
}

void manager_job_removed(Manager *m, const char *job, const char *unit, const char *result) {
        /* By job, not by unit name: the previous run's scope (same name) may still be finishing
         * its stop job, and that must not be taken for our start. */
        StartOperation *op = hashmap_get(m->starts_by_job, job);
        if (op && !op->scope_ready) {
                if (streq(result, "done"))
                        scope_ready(op);
                else {
                        char msg[256];
                        snprintf(msg, sizeof(msg), "Failed to start the container's scope unit %s (job result: %s).",
                                 unit, result);
                        start_operation_abort(op, BERTH_ERROR_START_FAILED, msg);
                }
        }
}

static int call_start_transient_unit(StartOperation *op);

/* machined drops a machine some time after its scope went away, and stops the machine's unit by
 * name when it does: were the next run's scope (same name) already there, machined would stop
 * it. So a new scope is only created once the previous run's machine is gone. */
/* (Again) ask systemd for the scope; a failure ends the start. */
static void retry_start_transient_unit(StartOperation *op) {
        op->waiting_for_old_unit = false;
        int r = call_start_transient_unit(op);
        if (r < 0) {
                char msg[256];
                snprintf(msg, sizeof(msg), "Failed to create the container's scope unit %s: %s.", op->unit,
                         strerror(-r));
                start_operation_abort(op, BERTH_ERROR_START_FAILED, msg);
        }
}

static void machine_gone(StartOperation *op) {
        op->machine = mfree(op->machine);
        op->get_machine_call = sd_bus_slot_unref(op->get_machine_call);
        op->machine_timer = sd_event_source_disable_unref(op->machine_timer);
        retry_start_transient_unit(op);
}

static int on_get_machine(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        StartOperation *op = userdata;
        op->get_machine_call = sd_bus_slot_unref(op->get_machine_call);
        /* NoSuchMachine, or machined not running: nothing to wait for. Else MachineRemoved. */
        if (op->machine && sd_bus_message_is_method_error(reply, NULL))
                machine_gone(op);
        return 0;
}

/* A machine of that name that does not go away is not our previous run's (another tool's
 * container, say): go on without waiting; only our registration will fail. */
static int on_machine_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        machine_gone(userdata);
        return 0;
}

int manager_machine_removed(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name, *path;

        if (sd_bus_message_read(message, "so", &name, &path) < 0)
                return 0;
        for (Container *c = m->containers; c; c = c->next) {
                if (c->starting && c->starting->machine && streq(c->starting->machine, name)) {
                        c->machine_registered = false;
                        machine_gone(c->starting);
                        break;
                }
                _cleanup_free_ char *mine = c->starting ? NULL : container_machine_name(c);
                if (mine && streq(mine, name) && c->state != CONTAINER_RUNNING)
                        c->machine_registered = false;
        }
        return 0;
}

static int wait_for_old_machine(StartOperation *op) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Manager *manager = op->container->manager;
        int r;

        /* A container that never registered one (a first start, as every run --rm) has nothing to
         * wait for: save the round trip. */
        if (!op->container->machine_registered)
                return call_start_transient_unit(op);

        op->machine = container_machine_name(op->container);
        if (!op->machine)
                return -ENOMEM;
        r = sd_bus_message_new_method_call(manager->bus, &m, "org.freedesktop.machine1", "/org/freedesktop/machine1",
                                           "org.freedesktop.machine1.Manager", "GetMachine");
        if (r < 0)
                return r;
        /* Do not start machined just to learn that it knows nothing. */
        r = sd_bus_message_set_auto_start(m, false);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", op->machine);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(manager->event, &op->machine_timer, CLOCK_MONOTONIC, 5 * USEC_PER_SEC, 0,
                                       on_machine_timeout, op);
        if (r < 0)
                return r;
        return sd_bus_call_async(manager->bus, &op->get_machine_call, m, on_get_machine, op, 0);
}

static void on_get_old_unit(int r, const char *path, const char *message, void *userdata) {
        StartOperation *op = userdata;
        op->get_unit_call = NULL;
        /* Gone already (NoSuchUnit): go on. Otherwise UnitRemoved will tell us. */
        if (op->waiting_for_old_unit && r < 0)
                retry_start_transient_unit(op);
}

void manager_unit_removed(Manager *m, const char *unit) {
        StartOperation *op = hashmap_get(m->starts_by_unit, unit);
        if (op && op->waiting_for_old_unit)
                retry_start_transient_unit(op);
}

static void on_unit_started(int r, const char *job, const char *message, void *userdata) {
        StartOperation *op = userdata;
        Manager *m = op->container->manager;

        op->unit_call = NULL;
        /* The previous run's scope can outlive its last process by a moment (systemd has not yet
         * noticed it is empty): wait until it is gone, then create ours. */
        if (r == -EEXIST && op->unit_retries++ < 5) {
                op->waiting_for_old_unit = true;
                op->get_unit_call = units_call_cancel(m, op->get_unit_call);
                if (m->units->get_unit(m, op->unit, on_get_old_unit, op, &op->get_unit_call) >= 0)
                        return;
        }
        if (r < 0) {
                char msg[512];
                snprintf(msg, sizeof(msg), "Failed to create the container's scope unit %s: %s", op->unit,
                         message ?: strerror(-r));
                start_operation_abort(op, BERTH_ERROR_START_FAILED, msg);
                return;
        }
        /* Success: the job runs; JobRemoved for this job tells us when it is done. systemd answers
         * the call before it runs the job, so the signal cannot have come already. */
        if (op->job) /* an earlier attempt's */
                hashmap_remove(m->starts_by_job, op->job, op);
        free(op->job);
        if (!job || !(op->job = strdup(job)) || hashmap_put(m->starts_by_job, op->job, op) < 0)
                start_operation_abort(op, BERTH_ERROR_START_FAILED, "Failed to read the scope's job.");
}

static int append_limit(sd_bus_message *m, const char *property, uint64_t value) {
        if (value == UINT64_MAX)
                return 0;
        return sd_bus_message_append(m, "(sv)", property, "t", value);
}

/* The scope's properties (UnitPropertiesAppend). */
static int append_scope_properties(sd_bus_message *m, void *userdata) {
        StartOperation *op = userdata;
        Container *c = op->container;
        _cleanup_free_ char *description = NULL;
        int r;

        if (asprintf(&description, "berth container %s", c->name) < 0)
                return -ENOMEM;
        if ((r = sd_bus_message_append(m, "(sv)", "Description", "s", description)) < 0 ||
            /* --cgroup-parent: another slice (systemd makes it if missing). */
            (r = sd_bus_message_append(m, "(sv)", "Slice", "s", !isempty(c->slice) ? c->slice : "machine.slice")) < 0 ||
            (r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t) op->helper.pid)) < 0 ||
            (r = sd_bus_message_append(m, "(sv)", "CollectMode", "s", "inactive-or-failed")) < 0 ||
            /* Only the standard pseudo devices (null, zero, full, random, urandom, tty, ptmx) and
             * the container's own ptys: a device node made with CAP_MKNOD cannot be opened. */
            /* systemctl stop / machinectl terminate: SIGTERM, then SIGKILL after the stop timeout
             * (Docker's default 10 s, or --stop-timeout). */
            (r = sd_bus_message_append(m, "(sv)", "TimeoutStopUSec", "t",
                                       (uint64_t) container_stop_timeout(c) * USEC_PER_SEC)) < 0 ||
            /* --privileged: every device, as Docker's privileged mode allows. */
            (r = sd_bus_message_append(m, "(sv)", "DevicePolicy", "s", c->security.privileged ? "auto" : "closed")) <
                    0 ||
            /* Delegated, so systemd lets berth attach exec'd processes (AttachProcessesToUnit). */
            (r = sd_bus_message_append(m, "(sv)", "Delegate", "b", 1)) < 0 ||
            /* What GetStats reports; cheap, and off by default on some distributions. */
            (r = sd_bus_message_append(m, "(sv)", "MemoryAccounting", "b", 1)) < 0 ||
            (r = sd_bus_message_append(m, "(sv)", "CPUAccounting", "b", 1)) < 0 ||
            (r = sd_bus_message_append(m, "(sv)", "TasksAccounting", "b", 1)) < 0 ||
            (r = sd_bus_message_append(m, "(sv)", "IOAccounting", "b", 1)) < 0 ||
            (!c->security.privileged &&
             (r = sd_bus_message_append(m, "(sv)", "DeviceAllow", "a(ss)", 1, "char-pts", "rw")) < 0) ||
            (r = append_limit(m, "MemoryMax", c->memory_max)) < 0 ||
            (r = append_limit(m, "TasksMax", c->tasks_max)) < 0 ||
            (r = append_limit(m, "CPUQuotaPerSecUSec", c->cpu_quota_per_sec_usec)) < 0 ||
            (r = append_limit(m, "CPUQuotaPeriodUSec", c->cpu_quota_period_usec)) < 0 ||
            (r = append_limit(m, "MemoryLow", c->memory_low)) < 0 ||
            (r = append_limit(m, "IOWeight", container_blkio_to_io_weight(c->blkio_weight))) < 0 ||
            (r = container_cpuset_append(m, "AllowedCPUs", c->cpuset_cpus)) < 0 ||
            (r = container_cpuset_append(m, "AllowedMemoryNodes", c->cpuset_mems)) < 0 ||
            (r = container_resources_append_unit(&c->res, m)) < 0 ||
            /* --privileged with --device: an empty DeviceAllow= drops the list again, which would
             * otherwise make DevicePolicy=auto an allowlist of the pseudo devices and those. */
            (c->security.privileged && (r = sd_bus_message_append(m, "(sv)", "DeviceAllow", "a(ss)", 0)) < 0))
                return r;
        return 0;
}

static int call_start_transient_unit(StartOperation *op) {
        Manager *m = op->container->manager;
        return m->units->start_transient_scope(m, op->unit, append_scope_properties, op, on_unit_started, op,
                                               &op->unit_call);
}

static int write_spec(Container *c, Image *image, bool attached, bool input, json_object *mounts, json_object *net,
                      int *ret_fd) {
        _cleanup_json_ json_object *o = json_object_new_object();
        _cleanup_free_ char *rootfs = manager_state_path(c->manager, "containers/%s/rootfs", c->id),
                            *run = manager_run_path(c->manager, "containers/%s", c->id);
        int r;

        if (!o || !rootfs || !run)
                return -ENOMEM;
        r = storage_container_spec(c->manager, image, c->id, o);
        if (r < 0)
                return r;
        json_object_object_add(o, SPEC_KEY_ID, json_object_new_string(c->id));
        json_object_object_add(o, SPEC_KEY_NAME, json_object_new_string(c->name));
        json_object_object_add(o, SPEC_KEY_IMAGE, json_object_new_string(c->image_ref));
        json_object_object_add(o, SPEC_KEY_ROOTFS, json_object_new_string(rootfs));
        json_object_object_add(o, SPEC_KEY_RUNDIR, json_object_new_string(run));
        container_settings_to_spec(c, o); /* hostname, cwd, user, init, read_only, tty, log settings */
        r = container_log_to_spec(c, o); /* the journal fields of --log-opt labels=, env= */
        if (r < 0)
                return r;
        json_object_object_add(o, SPEC_KEY_ROWS, json_object_new_int((int) (c->tty_rows ?: 24)));
        json_object_object_add(o, SPEC_KEY_COLS, json_object_new_int((int) (c->tty_cols ?: 80)));
        json_object_object_add(o, SPEC_KEY_ARGV, json_strv_new(c->command));
        json_object_object_add(o, SPEC_KEY_ENV, json_strv_new(c->env));
        json_object_object_add(o, SPEC_KEY_GROUP_ADD, json_strv_new(c->group_add));
        json_object_object_add(o, SPEC_KEY_SYSCTLS, json_strv_new(c->sysctls));
        json_object_object_add(o, SPEC_KEY_ATTACHED, json_object_new_boolean(attached));
        json_object_object_add(o, SPEC_KEY_INPUT, json_object_new_boolean(input));
        json_object_object_add(o, SPEC_KEY_MOUNTS, json_object_get(mounts));
        container_resources_to_spec(&c->res, o);
        container_security_to_spec(&c->security, o);
        json_object_object_foreach(net, key, value) json_object_object_add(o, key, json_object_get(value));
        container_listen_to_spec(&c->listen, o);

        return container_write_spec_json(o, ret_fd);
}

/* The helper reads its spec from a memfd: no size limit, nothing on disk, nothing on argv. */
int container_write_spec_json(json_object *o, int *ret_fd) {
        size_t len;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        _cleanup_close_ int fd = memfd_create("berth-spec", MFD_CLOEXEC);
        int r;

        if (!s)
                return -ENOMEM;
        if (fd < 0)
                return -errno;
        r = loop_write(fd, s, len);
        if (r < 0)
                return r;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* fds[n] becomes the helper's descriptor n (-1: none, then it stays closed), the listening ones
 * HELPER_FD_LISTEN_FIRST and on; sources are moved above them first so no dup2 clobbers another. */
static int helper_spawn(const Container *c, const int fds[_HELPER_FD_MAX], const ContainerListen *listen,
                        pid_t *ret_pid) {
        enum { N_SLOTS = _HELPER_FD_MAX + CONTAINER_LISTEN_FDS_MAX };
        posix_spawn_file_actions_t actions;
        posix_spawnattr_t attr;
        sigset_t none, all;
        size_t n_listen = listen ? listen->n : 0;
        int high[N_SLOTS], r = 0;
        char short_id[BERTH_SHORT_ID_LEN + 1];
        char *argv[] = { (char *) "berth-nspawn", short_id, NULL };
        char *envp[] = { NULL };

        snprintf(short_id, sizeof(short_id), "%.12s", c->id);
        for (int i = 0; i < N_SLOTS; i++)
                high[i] = -1;
        for (int i = 0; i < N_SLOTS; i++) {
                int src = i < _HELPER_FD_MAX                       ? fds[i]
                        : (size_t) (i - _HELPER_FD_MAX) < n_listen ? listen->fds[i - _HELPER_FD_MAX]
                                                                   : -1;
                if (src >= 0 && (high[i] = fcntl(src, F_DUPFD_CLOEXEC, N_SLOTS + 3)) < 0) {
                        r = -errno;
                        goto finish;
                }
        }
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        /* Its own session: nothing in a container can signal berthd's process group. */
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
        for (int i = 0; i < N_SLOTS; i++)
                if (high[i] >= 0)
                        posix_spawn_file_actions_adddup2(&actions, high[i], i);
        posix_spawn_file_actions_addclosefrom_np(&actions, HELPER_FD_LISTEN_FIRST + (int) n_listen);
        /* The sealed copy of the helper (helper-exe.h), executed through its descriptor. */
        r = -posix_spawn(ret_pid, HELPER_EXE_PATH, &actions, &attr, argv, envp);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
finish:
        for (int i = 0; i < N_SLOTS; i++)
                safe_close(high[i]);
        return r;
}

/* Spawn berth-nspawn with its spec, the "go" pipe and the status socket (helper-protocol.h); it
 * waits for "go" before it does anything. Our status end is non-blocking, the helper's blocks.
 * stdio: the helper's 0, 1, 2 (exec mode), or NULL to leave it berthd's; attach: its
 * HELPER_FD_ATTACH_STDIN, _STDOUT and _STDERR, or -1. */
int helper_launch(Manager *m, const Container *c, int spec_fd, const int stdio[3], const int attach[3],
                  const ContainerListen *listen, HelperProcess *ret) {
        _cleanup_close_ int go_r = -1, go_w = -1, status_r = -1, status_w = -1, pidfd = -1;
        int pipes[2], r;
        pid_t pid;

        if (pipe2(pipes, O_CLOEXEC) < 0)
                return -errno;
        go_r = pipes[0], go_w = pipes[1];
        /* A socket, not a pipe: the helper may pass a terminal's master along with its status. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pipes) < 0)
                return -errno;
        status_r = pipes[0], status_w = pipes[1];
        if (fcntl(status_r, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        /* Every slot named: one left out would be 0, our stdin. */
        _Static_assert(_HELPER_FD_MAX == 11, "a new helper descriptor needs its slot below");
        const int fds[_HELPER_FD_MAX] = {
                [STDIN_FILENO] = stdio ? stdio[0] : -1,
                [STDOUT_FILENO] = stdio ? stdio[1] : -1,
                [STDERR_FILENO] = stdio ? stdio[2] : -1,
                [HELPER_FD_SPEC] = spec_fd,
                [HELPER_FD_GO] = go_r,
                [HELPER_FD_STATUS] = status_w,
                [HELPER_FD_ATTACH_STDOUT] = attach[1],
                [HELPER_FD_ATTACH_STDERR] = attach[2],
                [HELPER_FD_SECCOMP] = container_security_seccomp_fd(c),
                [HELPER_FD_ATTACH_STDIN] = attach[0],
                [HELPER_FD_EXE] = m->helper_exe_fd,
        };
        r = helper_spawn(c, fds, listen, &pid);
        if (r < 0)
                return r;
        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) {
                r = -errno;
                (void) kill(pid, SIGKILL); /* our unreaped child: the PID cannot have been reused */
                (void) waitpid(pid, NULL, 0);
                return r;
        }
        *ret = (HelperProcess){
                .pid = pid, .pidfd = TAKE_FD(pidfd), .go_fd = TAKE_FD(go_w), .status_fd = TAKE_FD(status_r)
        };
        return 0;
}

static StartOperation *start_operation_new(Container *c, sd_bus_message *request) {
        StartOperation *op = calloc(1, sizeof(*op));
        if (!op)
                return NULL;
        op->container = c;
        op->helper = HELPER_PROCESS_NULL;
        op->tty_master = -1;
        op->stdio[0] = op->stdio[1] = op->stdio[2] = -1;
        op->request = sd_bus_message_ref(request);
        op->run_volumes = calloc(1, sizeof(char *));
        op->plugin_paths = calloc(1, sizeof(char *));
        if (!op->run_volumes || !op->plugin_paths) {
                strv_free(op->run_volumes);
                strv_free(op->plugin_paths);
                sd_bus_message_unref(op->request);
                return mfree(op);
        }
        return op;
}

/* A start that failed before anything ran: what the plugins mounted is unmounted, the operation
 * goes, the reason stays in the Error property. */
static void start_operation_discard(StartOperation *op, const sd_bus_error *error) {
        Container *c = op->container;
        volumes_unmount(c->manager, op->run_volumes, c->id);
        c->starting = NULL;
        start_operation_free(op);
        if (error && sd_bus_error_is_set(error)) {
                free(c->error);
                c->error = strdup(error->message);
                (void) container_save(c);
                container_emit_changed(c, "Error", NULL);
        }
}

static int start_checked(StartOperation *op, int stdin_fd, int stdout_fd, int stderr_fd, sd_bus_error *error);

/* The plugins have answered every Mount (or one failed): the start proper, whose result is this
 * start's answer. */
static void mounts_done(StartOperation *op, const sd_bus_error *mount_error) {
        Container *c = op->container;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = sd_bus_message_ref(op->request);
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (mount_error) {
                (void) sd_bus_error_copy(&error, mount_error);
                start_operation_discard(op, &error);
                r = -EIO;
        } else {
                int in = TAKE_FD(op->stdio[0]), out = TAKE_FD(op->stdio[1]), err = TAKE_FD(op->stdio[2]);
                r = start_checked(op, in, out, err, &error);
                safe_close(in);
                safe_close(out);
                safe_close(err);
        }
        if (r >= 0)
                return;
        if (!sd_bus_error_is_set(&error))
                (void) sd_bus_error_set_errnof(&error, -r, "Failed to start container %s: %m", c->name);
        if (request) {
                (void) sd_bus_reply_method_error(request, &error);
                container_remove_after_failed_start(c);
        } else {
                log_error("Failed to restart container %s: %s", c->name, error.message);
                container_maybe_schedule_restart(c); /* try again, later */
        }
}

static void mount_next(StartOperation *op);

static void on_volume_mounted(Manager *m, const char *name, const char *path, const sd_bus_error *error,
                              void *userdata) {
        StartOperation *op = userdata;
        _cleanup_free_ char *entry = path ? strjoin(name, "=", path) : NULL;
        (void) m;
        op->mount_call = NULL; /* gone once this returns */
        if (error)
                return mounts_done(op, error);
        /* Mounted: unmounted again whatever happens next, until the start hands it to the run. */
        if (!entry || strv_push(&op->plugin_paths, entry) < 0 || strv_push(&op->run_volumes, name) < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                (void) sd_bus_error_set_errno(&e, ENOMEM);
                return mounts_done(op, &e);
        }
        op->n_mounted++;
        mount_next(op);
}

static void mount_next(StartOperation *op) {
        Container *c = op->container;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *name = op->plugin_volumes[op->n_mounted];
        if (!name)
                return mounts_done(op, NULL);
        Volume *v = manager_find_volume(c->manager, name);
        int r = v ? volume_mount_plugin(v, c->id, on_volume_mounted, op, &op->mount_call) : 0;
        if (!v)
                (void) sd_bus_error_setf(&e, BERTH_ERROR_NO_SUCH_VOLUME, "Volume %s no longer exists.", name);
        else if (r < 0)
                (void) sd_bus_error_set_errno(&e, r);
        if (sd_bus_error_is_set(&e))
                mounts_done(op, &e);
}

/* Asks the plugins to mount the volumes, one by one; the start goes on in mounts_done(). */
static int mount_plugin_volumes(StartOperation *op, char **names, const int stdio[3]) {
        for (size_t i = 0; i < 3; i++)
                if (stdio[i] >= 0 && (op->stdio[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 3)) < 0)
                        return -errno;
        op->plugin_volumes = strv_copy(names);
        if (!op->plugin_volumes)
                return -ENOMEM;
        mount_next(op);
        return 0;
}

int container_start(Container *c, sd_bus_message *request, int stdin_fd, int stdout_fd, int stderr_fd,
                    sd_bus_error *error) {
        if (c->starting)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Container %s is already being started.", c->name);
        if (c->creating)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Container %s is still being created.", c->name);
        if (c->state == CONTAINER_RUNNING)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_RUNNING, "Container %s is already running.",
                                         c->name);
        if (c->remove_on_exit)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Container %s is being removed.", c->name);
        if (c->record_lost)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Container %s cannot be started: its configuration could not be read.",
                                         c->name);
        _cleanup_strv_free_ char **plugin_volumes = NULL;
        StartOperation *op = start_operation_new(c, request);
        int r = op ? container_plugin_volumes(c, &plugin_volumes) : -ENOMEM;
        if (r < 0) {
                if (op)
                        start_operation_free(op);
                return r;
        }
        c->starting = op;
        if (strv_length(plugin_volumes) > 0) {
                r = mount_plugin_volumes(op, plugin_volumes, (const int[3]){ stdin_fd, stdout_fd, stderr_fd });
                if (r >= 0)
                        return 1; /* answered once the plugins have */
                start_operation_discard(op, NULL);
        } else
                r = start_checked(op, stdin_fd, stdout_fd, stderr_fd, error);
        if (r < 0)
                container_remove_after_failed_start(c);
        return r;
}

/* The start proper. On failure the operation is gone and its request not answered (the caller does). */
static int start_checked(StartOperation *op, int stdin_fd, int stdout_fd, int stderr_fd, sd_bus_error *error) {
        Container *c = op->container;
        Manager *m = c->manager;
        _cleanup_close_ int spec_fd = -1;
        _cleanup_free_ char *run = manager_run_path(m, "containers/%s", c->id);
        int r;

        Image *image = manager_find_image(m, c->image_id, NULL);
        if (!image) {
                r = sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_IMAGE, "The image of container %s (%.12s) is gone.",
                                      c->name, c->image_id);
                start_operation_discard(op, NULL);
                return r;
        }
        if (!run) {
                start_operation_discard(op, NULL);
                return -ENOMEM;
        }
        /* Everything that can be refused is checked before anything is set up. */
        _cleanup_json_ json_object *mounts = NULL;
        _cleanup_strv_free_ char **run_volumes = NULL;
        r = container_security_prepare(c, error);
        if (r >= 0)
                r = container_resolve_mounts(c, op->plugin_paths, &mounts, &run_volumes, error);
        if (r < 0) {
                start_operation_discard(op, error);
                return r;
        }
        /* Plugin volumes mounted for nothing (shadowed by another mount at their path) are unmounted. */
        for (char **n = op->run_volumes; *n; n++)
                if (!strv_contains(run_volumes, *n))
                        volumes_unmount(m, STRV_MAKE(*n), c->id);
        strv_free(op->run_volumes);
        op->run_volumes = TAKE_PTR(run_volumes);
        (void) rm_rf(run); /* the previous run's files */
        r = mkdir_p(run, 0755);
        if (r < 0) {
                r = sd_bus_error_set_errnof(error, -r, "Failed to create %s: %m", run);
                start_operation_discard(op, NULL);
                return r;
        }

        _cleanup_json_ json_object *net = json_object_new_object();
        r = net ? container_network_prepare(c, net, mounts, error) : -ENOMEM;
        if (r >= 0)
                r = container_namespaces_prepare(c, net, error);
        if (r < 0) {
                start_operation_discard(op, error);
                return r;
        }

        container_cancel_restart(c);
        if (op->request) {
                /* A start by hand: automatic restarts count from here. */
                c->stopped_by_user = false;
                c->restart_count = 0;
                c->restart_delay_usec = 0;
        }

        r = -ENOMEM;
        if ((op->unit = container_unit_name(c)) == NULL || (r = hashmap_put(m->starts_by_unit, op->unit, op)) < 0 ||
            (r = write_spec(c, image, stdout_fd >= 0, stdin_fd >= 0, mounts, net, &spec_fd)) < 0)
                goto fail;
        r = helper_launch(m, c, spec_fd, NULL, (const int[3]){ stdin_fd, stdout_fd, stderr_fd }, &c->listen,
                          &op->helper);
        if (r < 0)
                goto fail;

        r = wait_for_old_machine(op); /* then call_start_transient_unit() */
        if (r < 0)
                goto fail;
        r = sd_event_add_time_relative(m->event, &op->timeout_source, CLOCK_MONOTONIC, START_TIMEOUT_USEC, 0,
                                       on_start_timeout, op);
        if (r < 0)
                goto fail;
        return 1; /* answered later */

fail:
        op->request = sd_bus_message_unref(op->request); /* the caller's error reply answers it */
        {
                char msg[256];
                snprintf(msg, sizeof(msg), "Failed to start container %s: %s.", c->name, strerror(-r));
                start_operation_abort(op, BERTH_ERROR_START_FAILED, msg);
                return sd_bus_error_set(error, BERTH_ERROR_START_FAILED, msg);
        }
}
