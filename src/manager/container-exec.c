/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Exec: one more process in a running container. berthd spawns berth-nspawn in exec mode with the
 * caller's stdin/stdout/stderr, moves it into the container's (delegated) scope with
 * AttachProcessesToUnit, then says "go"; the helper joins the payload's namespaces, forks, applies
 * the same seccomp filter and capability set, and execs. Its exit status is the exit code.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "capability-names.h"
#include "container.h"
#include "errors.h"
#include "helper-protocol.h"
#include "json-util.h"

struct ExecOperation {
        Manager *manager;
        ExecOperation *next;
        sd_bus_message *request; /* Exec's, or NULL with done: its caller's */
        ExecDoneFn done;
        void *userdata;
        ExecOperation **ref; /* the caller's pointer to us, cleared when we go */
        char *unit;
        HelperProcess helper;
        sd_event_source *exit_source;
        UnitCall *attach_call; /* AttachProcessesToUnit */
        sd_event_source *status_source; /* Detach: the helper's status line, read as soon as it comes */
        bool answered; /* Detach: the caller has its answer; the exit is only reaped */
};

static void exec_operation_free(ExecOperation *op) {
        if (!op)
                return;
        for (ExecOperation **p = &op->manager->execs; *p; p = &(*p)->next)
                if (*p == op) {
                        *p = op->next;
                        break;
                }
        if (op->ref)
                *op->ref = NULL;
        helper_process_kill(&op->helper);
        sd_bus_message_unref(op->request);
        free(op->unit);
        sd_event_source_disable_unref(op->exit_source); /* before its fd: see worker.h */
        sd_event_source_disable_unref(op->status_source);
        helper_process_close(&op->helper);
        units_call_cancel(op->manager, op->attach_call);
        free(op);
}

void manager_free_execs(Manager *m) {
        while (m->execs)
                exec_operation_free(m->execs);
}

void exec_operation_cancel(ExecOperation *op) {
        exec_operation_free(op);
}

/* The end: the exit code (name NULL), or a D-Bus error's name and sentence. */
static void exec_finish(ExecOperation *op, int code, const char *name, const char *message) {
        if (op->ref) /* the caller's pointer is stale from here on, also during its callback */
                *op->ref = NULL;
        op->ref = NULL;
        if (op->answered)
                ; /* a detached exec: its caller went on when it started */
        else if (op->done)
                op->done(code, name, message, op->userdata);
        else if (name)
                (void) sd_bus_reply_method_errorf(op->request, name, "%s", message);
        else
                (void) sd_bus_reply_method_return(op->request, "i", code);
        exec_operation_free(op);
}

static void exec_fail(ExecOperation *op, const char *name, const char *message) {
        exec_finish(op, -1, name, message);
}

/* The helper has exited: its status line (helper-protocol.h) is in the socket, whole (one send). */
static int on_helper_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ExecOperation *op = userdata;
        char line[HELPER_STATUS_LINE_MAX];
        HelperStatus status;
        int wstatus = 0;

        if (waitpid(op->helper.pid, &wstatus, 0) < 0)
                wstatus = 255 << 8;
        op->helper.pid = 0;
        ssize_t n = read(op->helper.status_fd, line, sizeof(line));

        if (helper_status_parse(line, n > 0 ? (size_t) n : 0, &status) < 0)
                exec_fail(op, BERTH_ERROR_START_FAILED, "The exec helper exited before running the command.");
        else if (status.ok) {
                int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
                exec_finish(op, code, NULL, NULL);
        } else
                exec_fail(op, status.kind == HELPER_FAILURE_EXEC ? BERTH_ERROR_EXEC_FAILED : BERTH_ERROR_START_FAILED,
                          status.message);
        return 0;
}

/* Detach: the helper says "OK" once the process runs (or why it could not start): the caller's
 * answer; the exit is still waited for, to reap the helper. */
static int on_helper_status(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ExecOperation *op = userdata;
        char line[HELPER_STATUS_LINE_MAX];
        HelperStatus status;
        ssize_t n = recv(fd, line, sizeof(line), MSG_PEEK | MSG_DONTWAIT);
        op->status_source = sd_event_source_disable_unref(op->status_source);
        if (n <= 0 || helper_status_parse(line, (size_t) n, &status) < 0 || !status.ok)
                return 0; /* a failure: on_helper_exit() reads it and answers */
        (void) sd_bus_reply_method_return(op->request, "i", 0);
        op->answered = true;
        return 0;
}

static void on_attached(int r, const char *value, const char *message, void *userdata) {
        ExecOperation *op = userdata;

        op->attach_call = NULL;
        if (r < 0) {
                char msg[512];
                snprintf(msg, sizeof(msg), "Failed to move the process into %s: %s", op->unit, message ?: strerror(-r));
                exec_fail(op, BERTH_ERROR_START_FAILED, msg);
                return;
        }
        if (loop_write(op->helper.go_fd, "g", 1) < 0) {
                exec_fail(op, BERTH_ERROR_START_FAILED, "Failed to hand over to the exec helper.");
                return;
        }
        op->helper.go_fd = safe_close(op->helper.go_fd);
}

static int build_exec_spec(Container *c, char **argv, char **env, const ExecOptions *options, int *ret_fd) {
        const char *cwd = options->workdir;
        _cleanup_json_ json_object *o = json_object_new_object();
        _cleanup_strv_free_ char **merged = strv_copy(c->env);
        int r;

        if (!o || !merged)
                return -ENOMEM;
        for (char **e = env; e && *e; e++) {
                size_t keylen = strcspn(*e, "=");
                bool replaced = false;
                for (char **x = merged; *x; x++)
                        if (!strncmp(*x, *e, keylen) && (*x)[keylen] == '=') {
                                char *copy = strdup(*e);
                                if (!copy)
                                        return -ENOMEM;
                                free(*x);
                                *x = copy;
                                replaced = true;
                        }
                if (!replaced && (r = strv_push(&merged, *e)) < 0)
                        return r;
        }
        json_object_object_add(o, SPEC_KEY_ID, json_object_new_string(c->id));
        json_object_object_add(o, SPEC_KEY_NAME, json_object_new_string(c->name));
        json_object_object_add(o, SPEC_KEY_EXEC_PID, json_object_new_int(c->pid));
        /* exec'd processes get the payload's --oom-score-adj, as in Docker. */
        json_object_object_add(o, SPEC_KEY_OOM_ADJ, json_object_new_int(c->oom_score_adj));
        json_object_object_add(o, SPEC_KEY_GROUP_ADD, json_strv_new(c->group_add));
        /* The namespaces to join: not those the container shares with the host. */
        json_object_object_add(o, SPEC_KEY_PID_MODE, json_object_new_string(c->pid_mode ?: ""));
        json_object_object_add(o, SPEC_KEY_IPC_MODE, json_object_new_string(c->ipc_mode ?: ""));
        json_object_object_add(o, SPEC_KEY_UTS_MODE, json_object_new_string(c->uts_mode ?: ""));
        json_object_object_add(o, SPEC_KEY_CGROUPNS_MODE, json_object_new_string(c->cgroupns_mode ?: ""));
        json_object_object_add(
                o, SPEC_KEY_NET_MODE,
                json_object_new_string(streq_ptr(c->net.mode, "host") ? SPEC_NET_MODE_HOST : SPEC_NET_MODE_NONE));
        /* As docker exec: the container's working directory and user unless told otherwise. */
        json_object_object_add(o, SPEC_KEY_CWD, json_object_new_string(!isempty(cwd) ? cwd : c->working_dir ?: "/"));
        json_object_object_add(o, SPEC_KEY_USER, json_object_new_string(options->user ?: c->user ?: ""));
        json_object_object_add(o, SPEC_KEY_TTY, json_object_new_boolean(options->tty));
        json_object_object_add(o, SPEC_KEY_ROWS, json_object_new_int((int) (options->rows ?: 24)));
        json_object_object_add(o, SPEC_KEY_COLS, json_object_new_int((int) (options->cols ?: 80)));
        json_object_object_add(o, SPEC_KEY_RESIZE, json_object_new_boolean(options->tty && options->resize_fd >= 0));
        json_object_object_add(o, SPEC_KEY_ARGV, json_strv_new(argv));
        json_object_object_add(o, SPEC_KEY_ENV, json_strv_new(merged));
        container_resources_to_spec(&c->res, o); /* the ulimits apply to exec'd processes too */
        /* No more privileged than the payload: the same capabilities, filter and no_new_privs
         * (exec --privileged: every capability, as Docker's; the filter stays). */
        container_security_to_spec(&c->security, o);
        if (options->privileged)
                json_object_object_add(o, SPEC_KEY_CAPS,
                                       json_object_new_uint64(capabilities_effective(NULL, NULL, true)));
        return container_write_spec_json(o, ret_fd);
}

static int exec_start(Container *c, char **argv, char **env, const ExecOptions *options, const int stdio[3],
                      sd_bus_message *request, ExecDoneFn done, void *userdata, ExecOperation **ret,
                      sd_bus_error *error) {
        const char *cwd = options->workdir;
        Manager *m = c->manager;
        _cleanup_close_ int spec_fd = -1;
        int r;

        if (c->state != CONTAINER_RUNNING || c->starting || c->pid <= 0)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING, "Container %s is not running.",
                                         c->name);
        if (c->paused)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_PAUSED,
                                         "Container %s is paused: unpause it first.", c->name);
        if (strv_length(argv) == 0 || isempty(argv[0]))
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT, "No command given.");
        if (!isempty(cwd) && cwd[0] != '/')
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "The working directory \"%s\" is not an absolute path.", cwd);
        r = container_security_prepare(c, error);
        if (r < 0)
                return r;

        ExecOperation *op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->manager = m;
        op->helper = HELPER_PROCESS_NULL;
        op->next = m->execs;
        m->execs = op;

        r = -ENOMEM;
        if (!(op->unit = container_unit_name(c)) || (r = build_exec_spec(c, argv, env, options, &spec_fd)) < 0)
                goto fail;
        /* The resize pipe travels in the slot a started container's stdin uses (HELPER_FD_ATTACH_STDIN). */
        r = helper_launch(m, c, spec_fd, stdio, (const int[3]){ options->tty ? options->resize_fd : -1, -1, -1 }, NULL,
                          &op->helper);
        if (r < 0)
                goto fail;
        r = sd_event_add_io(m->event, &op->exit_source, op->helper.pidfd, EPOLLIN, on_helper_exit, op);
        if (r >= 0 && options->detach && request)
                r = sd_event_add_io(m->event, &op->status_source, op->helper.status_fd, EPOLLIN, on_helper_status, op);
        if (r < 0)
                goto fail;
        r = m->units->attach_process(m, op->unit, op->helper.pid, on_attached, op, &op->attach_call);
        if (r < 0)
                goto fail;
        op->request = sd_bus_message_ref(request);
        op->done = done;
        op->userdata = userdata;
        if (ret) {
                op->ref = ret;
                *ret = op;
        }
        return 1;

fail:
        exec_operation_free(op);
        return sd_bus_error_set_errnof(error, -r, "Failed to exec in container %s: %m", c->name);
}

int container_exec(Container *c, char **argv, char **env, const ExecOptions *options, const int stdio[3],
                   sd_bus_message *request, sd_bus_error *error) {
        return exec_start(c, argv, env, options, stdio, request, NULL, NULL, NULL, error);
}

int container_exec_start(Container *c, char **argv, const int stdio[3], ExecDoneFn done, void *userdata,
                         ExecOperation **ret, sd_bus_error *error) {
        const ExecOptions options = { .resize_fd = -1 };
        return exec_start(c, argv, NULL, &options, stdio, NULL, done, userdata, ret, error);
}
