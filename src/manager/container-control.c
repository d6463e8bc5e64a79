/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pause/unpause, restart and rename of containers. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>

#include "event-journal.h"
#include "helper-protocol.h"
#include "container.h"
#include "errors.h"
#include "names.h"

/* The container's cgroup v2 directory. systemd freezes units itself only on all-unified hosts
 * (FreezeUnit); on hybrid hosts the unified hierarchy still has cgroup.freeze, so berth uses it
 * directly there — the one place berth touches cgroupfs. */
static int container_cgroup_v2_path(Container *c, const char *file, char **ret) {
        _cleanup_free_ char *proc = NULL, *content = NULL;
        const char *mount;
        struct stat st;
        int r;

        if (c->helper_pid <= 0)
                return -ESRCH;
        if (asprintf(&proc, "/proc/%d/cgroup", c->helper_pid) < 0)
                return -ENOMEM;
        r = read_full_file(proc, &content, NULL);
        if (r < 0)
                return r;
        char *line = strstr(content, "0::");
        if (!line || (line != content && line[-1] != '\n'))
                return -EOPNOTSUPP;
        line += 3;
        line[strcspn(line, "\n")] = 0;
        mount = stat("/sys/fs/cgroup/unified/cgroup.controllers", &st) == 0 ? "/sys/fs/cgroup/unified"
                                                                            : "/sys/fs/cgroup";
        if (asprintf(ret, "%s%s/%s", mount, line, file) < 0)
                return -ENOMEM;
        return 0;
}

int container_read_frozen(Container *c) {
        _cleanup_free_ char *path = NULL, *content = NULL;
        int r = container_cgroup_v2_path(c, "cgroup.freeze", &path);
        if (r < 0)
                return r;
        r = read_full_file(path, &content, NULL);
        if (r < 0)
                return r;
        return content[0] == '1';
}

static int freeze_cgroup(Container *c, bool freeze) {
        _cleanup_free_ char *path = NULL;
        int r = container_cgroup_v2_path(c, "cgroup.freeze", &path);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return loop_write(fd, freeze ? "1" : "0", 1);
}

static void pause_settle(Container *c, bool pause, sd_bus_message *request) {
        c->paused = pause;
        container_health_paused(c, pause);
        (void) container_save(c);
        container_emit_changed(c, "State", NULL);
        if (request)
                (void) sd_bus_reply_method_return(request, NULL);
}

/* The container may be removed before systemd answers: keep its id, not a pointer. */
typedef struct PauseCall {
        Manager *manager;
        char id[BERTH_ID_LEN + 1];
        sd_bus_message *request;
        bool pause;
} PauseCall;

static void on_freeze_unit_reply(int r, const char *value, const char *message, void *userdata) {
        PauseCall *call = userdata;
        Container *c = manager_find_container(call->manager, call->id, NULL);

        if (!call->request) {
                /* An internal thaw (stop or kill of a paused container) that cgroup.freeze could
                 * not do: settled when systemd did it, unless the run is over. */
                if (r >= 0 && c && c->state == CONTAINER_RUNNING && c->paused != call->pause)
                        pause_settle(c, call->pause, NULL);
        } else if (!c || c->state != CONTAINER_RUNNING)
                (void) sd_bus_reply_method_errorf(call->request, BERTH_ERROR_CONTAINER_NOT_RUNNING,
                                                  "The container exited or was removed meanwhile.");
        else {
                if (r < 0)
                        r = freeze_cgroup(c, call->pause); /* systemd cannot freeze here: do it ourselves */
                if (r < 0)
                        (void) sd_bus_reply_method_errorf(call->request, BERTH_ERROR_START_FAILED,
                                                          "Failed to %s container %s: %s",
                                                          call->pause ? "pause" : "unpause", c->name, strerror(-r));
                else
                        pause_settle(c, call->pause, call->request);
        }
        sd_bus_message_unref(call->request);
        free(call);
}

int container_pause(Container *c, bool pause, sd_bus_message *request, sd_bus_error *error) {
        _cleanup_free_ char *unit = container_unit_name(c);
        int r;

        if (!unit)
                return -ENOMEM;
        if (c->state != CONTAINER_RUNNING || c->starting)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING, "Container %s is not running.",
                                         c->name);
        if (c->paused == pause)
                return sd_bus_error_setf(error, pause ? BERTH_ERROR_CONTAINER_PAUSED : BERTH_ERROR_CONTAINER_NOT_PAUSED,
                                         pause ? "Container %s is already paused." : "Container %s is not paused.",
                                         c->name);
        if (!request) {
                /* Internal (stop/kill of a paused container): direct where cgroup.freeze can do it,
                 * else systemd's, answered later (the signal waits in the frozen process till then). */
                r = freeze_cgroup(c, pause);
                if (r >= 0) {
                        pause_settle(c, pause, NULL);
                        return 0;
                }
        }
        PauseCall *call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        call->manager = c->manager;
        memcpy(call->id, c->id, sizeof(call->id));
        call->pause = pause;
        call->request = sd_bus_message_ref(request);
        /* Not cancelled: the reply finds the container by id, if it is still there. */
        r = c->manager->units->freeze_unit(c->manager, unit, pause, on_freeze_unit_reply, call, NULL);
        if (r < 0) {
                sd_bus_message_unref(call->request);
                free(call);
                return r;
        }
        return 1;
}

int container_restart(Container *c, unsigned timeout_sec, sd_bus_message *request, sd_bus_error *error) {
        return container_restart_with_signal(c, timeout_sec, 0, request, error);
}

int container_restart_with_signal(Container *c, unsigned timeout_sec, int sig, sd_bus_message *request,
                                  sd_bus_error *error) {
        int r;

        if (c->starting || c->restart_request || c->remove_on_exit || c->n_stoppers > 0)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Container %s is being started or stopped.", c->name);
        if (c->state != CONTAINER_RUNNING)
                return container_start(c, request, -1, -1, -1, error);
        r = container_arm_stop_timer(c, timeout_sec);
        if (r < 0)
                return r;
        r = container_stop_signal(c, timeout_sec == 0 ? SIGKILL : sig > 0 ? sig : c->stop_signal);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to signal container %s: %m", c->name);
        c->restart_request = sd_bus_message_ref(request);
        return 1; /* started again, and answered, when the exit is seen */
}

int container_rename(Container *c, const char *name, sd_bus_error *error) {
        if (!container_name_is_valid(name))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME, "Invalid container name \"%s\".", name);
        if (streq(c->name, name))
                return 0;
        if (manager_find_container_by_name(c->manager, name))
                return sd_bus_error_setf(error, BERTH_ERROR_NAME_IN_USE, "The container name \"%s\" is already in use.",
                                         name);
        char *copy = strdup(name), *old = c->name;
        if (!copy)
                return -ENOMEM;
        int r = container_index_rename(c, copy);
        if (r < 0) {
                free(copy);
                return r;
        }
        r = container_save(c);
        if (r < 0) {
                (void) container_index_rename(c, old);
                free(copy);
                return sd_bus_error_set_errnof(error, -r, "Failed to save container: %m");
        }
        _cleanup_free_ char *old_attr = strjoin("oldName=", old);
        free(old);
        container_emit_changed(c, "Name", NULL);
        container_journal_event(c, "rename", old_attr);
        return 0;
}

/* One request to the running container's supervisor on its attach socket: 'cmd' with fds, and
 * its one-byte answer (with a descriptor, if ret_fd). */
int container_supervisor_request(Container *c, char cmd, const int *fds, size_t n_fds, int *ret_fd,
                                 sd_bus_error *error) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *path = manager_run_path(c->manager, "containers/%s/" HELPER_ATTACH_SOCKET, c->id);
        char ack = 0;
        int got = -1;
        size_t n_got = 0;

        if (!path)
                return -ENOMEM;
        /* A frozen supervisor cannot answer. */
        if (c->paused)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_PAUSED,
                                         "Container %s is paused: unpause it first.", c->name);
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* The supervisor answers at once; bound every wait (connect waits on the send timeout when
         * its listen queue is full) so a wedged or frozen one cannot stall berthd. */
        struct timeval tv = { .tv_sec = 2 };
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING,
                                         "The supervisor of container %s does not answer (%s).", c->name,
                                         strerror(errno));
        ssize_t n = send_with_fds(fd, &cmd, 1, fds, n_fds);
        if (n >= 0)
                n = receive_with_fds(fd, &ack, 1, &got, 1, &n_got);
        if (n <= 0 || ack != (cmd == 'A' ? '1' : cmd) || (ret_fd && n_got != 1)) {
                if (n_got > 0)
                        safe_close(got);
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY,
                                         "The supervisor of container %s refused the request (too many clients, or "
                                         "exiting).",
                                         c->name);
        }
        if (ret_fd)
                *ret_fd = got;
        else if (n_got > 0)
                safe_close(got);
        return 0;
}

int container_attach(Container *c, const int fds[3], sd_bus_error *error) {
        if (c->state != CONTAINER_RUNNING)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING,
                                         "You cannot attach to a stopped container, start it first (%s).", c->name);
        return container_supervisor_request(c, 'A', fds, 3, NULL, error);
}
