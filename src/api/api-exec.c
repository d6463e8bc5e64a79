/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /containers/{id}/exec, /exec/{id}/start, /exec/{id}/json: Docker's exec instances. They live
 * in this process only (berthd's Exec runs a process, it keeps no instance), from create until
 * berth-api exits; at most EXEC_MAX, the oldest finished ones make room. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "ctl-bus.h"
#include "errors.h"
#include "json-util.h"
#include "util.h"

#define EXEC_MAX 1024

typedef struct Exec Exec;
struct Exec {
        char id[BERTH_ID_LEN + 1];
        char *container_id, *path;
        char **cmd, **env;
        char *user, *workdir;
        bool attach_in, attach_out, attach_err;
        bool tty;
        int resize_w; /* with a TTY while it runs: the pipe berthd reads new sizes from */
        bool running, started;
        int exit_code;
        Exec *next;
};

static Exec *execs = NULL;
static unsigned n_execs = 0;

static void exec_free(Exec *e) {
        safe_close(e->resize_w);
        free(e->container_id);
        free(e->path);
        strv_free(e->cmd);
        strv_free(e->env);
        free(e->user);
        free(e->workdir);
        free(e);
}

static Exec *exec_find(const char *id) {
        for (Exec *e = execs; e; e = e->next)
                if (streq(e->id, id))
                        return e;
        return NULL;
}

/* Makes room: drops the oldest instance that is not running. */
static bool exec_make_room(void) {
        Exec **victim = NULL;
        if (n_execs < EXEC_MAX)
                return true;
        for (Exec **i = &execs; *i; i = &(*i)->next)
                if (!(*i)->running)
                        victim = i; /* the list is newest first: the last match is the oldest */
        if (!victim)
                return false;
        Exec *e = *victim;
        *victim = e->next;
        exec_free(e);
        n_execs--;
        return true;
}

static int get_bool(json_object *o, const char *key) {
        return json_get_bool(o, key, 0) > 0;
}

int api_exec_create(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *body = NULL;
        _cleanup_free_ char *path = NULL, *state = NULL;
        int r = api_body_json(c, &body);
        if (r <= 0)
                return r;
        r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;

        Exec *e = calloc(1, sizeof(Exec));
        if (!e)
                return -ENOMEM;
        if (json_get_strv(body, "Cmd", &e->cmd) < 0 || json_get_strv(body, "Env", &e->env) < 0) {
                exec_free(e);
                return api_reply_error(c, 400, "Cmd and Env must be arrays of strings");
        }
        if (strv_length(e->cmd) == 0) {
                exec_free(e);
                return api_reply_error(c, 400, "No exec command specified");
        }
        e->resize_w = -1;
        e->tty = get_bool(body, "Tty");
        e->attach_in = get_bool(body, "AttachStdin");
        e->attach_out = get_bool(body, "AttachStdout");
        e->attach_err = get_bool(body, "AttachStderr");
        e->user = strdup(json_get_string(body, "User") ?: "");
        e->workdir = strdup(json_get_string(body, "WorkingDir") ?: "");
        e->path = TAKE_PTR(path);
        r = ctl_object_path_id(e->path, &e->container_id);
        if (r >= 0)
                r = random_hex_id(e->id);
        if (r < 0 || !e->user || !e->workdir) {
                exec_free(e);
                return r < 0 ? r : -ENOMEM;
        }
        r = sd_bus_get_property_string(c->server->bus, BERTH_BUS_SERVICE, e->path, BERTH_BUS_CONTAINER, "State", &error,
                                       &state);
        if (r < 0) {
                exec_free(e);
                return api_reply_bus_error(c, &error, r);
        }
        if (!streq(state, "running")) {
                exec_free(e);
                return api_reply_error(c, 409, "Container %s is not running", name);
        }
        if (!exec_make_room()) {
                exec_free(e);
                return api_reply_error(c, 503, "too many exec instances running");
        }
        e->next = execs;
        execs = e;
        n_execs++;

        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "Id", json_object_new_string(e->id));
        return api_reply_json(c, 201, o);
}

static void exec_finished(Exec *e, sd_bus_message *reply) {
        int32_t code = 126;
        if (!sd_bus_message_is_method_error(reply, NULL))
                (void) sd_bus_message_read(reply, "i", &code);
        else if (sd_bus_error_has_name(sd_bus_message_get_error(reply), BERTH_ERROR_EXEC_FAILED))
                code = 127;
        e->exit_code = code;
        e->running = false;
        e->resize_w = safe_close(e->resize_w);
}

static int on_exec_reply(ApiConn *c, sd_bus_message *reply) {
        Attach *a = c->userdata;
        Exec *e = api_attach_owner(a);

        exec_finished(e, reply);
        if (e->tty) {
                /* The socket was the terminal: the client's unread input goes (closing a socket with
                 * unread input would reset the connection). */
                char buf[4096];
                while (recv(c->fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
                        ;
        }
        api_attach_release(a);
        return 0;
}

static int on_exec_detached_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        exec_finished(userdata, reply);
        return 0;
}

/* With a TTY, the read end of the pipe for /exec/{id}/resize goes along (ResizeFd); e keeps the
 * write end while the process runs. */
static int exec_message(ApiConn *c, Exec *e, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int resize_r = -1, resize_w = -1;
        if (e->tty) {
                int p[2];
                if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                        return -errno;
                resize_r = p[0];
                resize_w = p[1];
        }
        int r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, e->path, BERTH_BUS_CONTAINER,
                                               "ExecWithOptions");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, e->cmd);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, e->env);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && !isempty(e->workdir))
                r = sd_bus_message_append(m, "{sv}", "WorkingDir", "s", e->workdir);
        if (r >= 0 && !isempty(e->user))
                r = sd_bus_message_append(m, "{sv}", "User", "s", e->user);
        if (r >= 0 && e->tty)
                r = sd_bus_message_append(m, "{sv}{sv}", "Tty", "b", 1, "ResizeFd", "h", resize_r);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        safe_close(e->resize_w);
        e->resize_w = TAKE_FD(resize_w);
        *ret = TAKE_PTR(m);
        return 0;
}

int api_exec_start(ApiConn *c, const char *id) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_json_ json_object *body = NULL;
        Exec *e = exec_find(id);
        int r = api_body_json(c, &body);
        if (r <= 0)
                return r;
        if (!e)
                return api_reply_error(c, 404, "No such exec instance: %s", id);
        if (e->started)
                return api_reply_error(c, 409, "Exec %s has already run", id);
        /* Docker takes the TTY from the create; one asked for only at the start counts too. */
        e->tty = e->tty || get_bool(body, "Tty");
        r = exec_message(c, e, &m);
        if (r < 0)
                return r;

        if (get_bool(body, "Detach")) {
                _cleanup_close_ int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC),
                                    null_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null_in < 0 || null_out < 0)
                        return -errno;
                r = sd_bus_message_append(m, "hhh", null_in, null_out, null_out);
                if (r >= 0) /* Floating: it answers into e, which outlives it (never freed while running). */
                        r = sd_bus_call_async(c->server->bus, NULL, m, on_exec_detached_reply, e, CTL_TIMEOUT_INFINITE);
                if (r < 0)
                        return r;
                e->started = e->running = true;
                return api_reply(c, 200, NULL, NULL, 0);
        }

        Attach *a;
        r = api_attach_setup(c, e->tty, e->attach_in, e->attach_out, e->attach_err, &a);
        if (r >= 0)
                r = api_attach_append_fds(a, m, e);
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_exec_reply);
        if (r < 0)
                return r;
        e->started = e->running = true;
        return 0;
}

int api_exec_inspect(ApiConn *c, const char *id) {
        Exec *e = exec_find(id);
        if (!e)
                return api_reply_error(c, 404, "No such exec instance: %s", id);

        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *pc = json_object_new_object();
        if (!o || !pc) {
                json_object_put(pc);
                return -ENOMEM;
        }
        json_object_object_add(o, "ID", json_object_new_string(e->id));
        json_object_object_add(o, "Running", json_object_new_boolean(e->running));
        if (e->started && !e->running)
                json_object_object_add(o, "ExitCode", json_object_new_int(e->exit_code));
        else
                json_object_object_add(o, "ExitCode", NULL);
        json_object_object_add(pc, "tty", json_object_new_boolean(e->tty));
        json_object_object_add(pc, "entrypoint", json_object_new_string(e->cmd[0]));
        json_object_object_add(pc, "arguments", json_strv_new(e->cmd + 1));
        json_object_object_add(pc, "privileged", json_object_new_boolean(false));
        json_object_object_add(pc, "user", json_object_new_string(e->user));
        json_object_object_add(o, "ProcessConfig", pc);
        json_object_object_add(o, "OpenStdin", json_object_new_boolean(e->attach_in));
        json_object_object_add(o, "OpenStdout", json_object_new_boolean(e->attach_out));
        json_object_object_add(o, "OpenStderr", json_object_new_boolean(e->attach_err));
        json_object_object_add(o, "CanRemove", json_object_new_boolean(false));
        json_object_object_add(o, "ContainerID", json_object_new_string(e->container_id));
        json_object_object_add(o, "DetachKeys", json_object_new_string(""));
        json_object_object_add(o, "Pid", json_object_new_int(0));
        return api_reply_json(c, 200, o);
}

/* POST /exec/{id}/resize?h=&w=: the new size down the pipe berthd reads (two native-endian
 * uint16, rows then cols). */
int api_exec_resize(ApiConn *c, const char *id) {
        Exec *e = exec_find(id);
        uint64_t h, w;

        if (parse_uint64(api_query(c, "h") ?: "", &h) < 0 || parse_uint64(api_query(c, "w") ?: "", &w) < 0 || h == 0 ||
            w == 0 || h > UINT16_MAX || w > UINT16_MAX)
                return api_reply_error(c, 400, "invalid terminal size: h and w must be numbers from 1 to 65535");
        if (!e)
                return api_reply_error(c, 404, "No such exec instance: %s", id);
        if (!e->tty)
                return api_reply_error(c, 400, "exec %s has no TTY to resize", id);
        if (!e->running || e->resize_w < 0)
                return api_reply_error(c, 409, "exec %s is not running", id);
        uint16_t size[2] = { (uint16_t) h, (uint16_t) w };
        /* A full pipe means berthd has sizes it has not read: the newest is dropped, not waited for. */
        if (write(e->resize_w, size, sizeof size) < 0 && errno != EAGAIN)
                return api_reply_error(c, 409, "exec %s is not running", id);
        return api_reply(c, 200, "text/plain", "", 0);
}
