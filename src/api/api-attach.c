/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /containers/{id}/attach: the connection hijacked (101 UPGRADED). The socket itself goes to
 * berthd as the container's stdin; its stdout and stderr come through pipes, framed here with
 * Docker's 8-byte headers, since a raw socket cannot tell the two streams apart. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "ctl-bus.h"
#include "util.h"

#define ATTACH_QUEUE_MAX (1024U * 1024U)

struct Attach {
        ApiConn *conn;
        char *path;
        int in_fd; /* a dup of the socket when stdin is attached, else -1 */
        int out_w, err_w;
        sd_event_source *out_io, *err_io;
        bool want_out, want_err;
        bool tty; /* the socket itself is the terminal's output: nothing to frame */
        bool started;
        bool held; /* a call whose answer the stream waits for (exec's exit code) */
        void *owner;
        Attach *next;
};

/* Attachments waiting for their container's start. One process serves all connections. */
static Attach *pending = NULL;

static void attach_free(void *p) {
        Attach *a = p;
        if (!a)
                return;
        for (Attach **i = &pending; *i; i = &(*i)->next)
                if (*i == a) {
                        *i = a->next;
                        break;
                }
        sd_event_source_disable_unref(a->out_io);
        sd_event_source_disable_unref(a->err_io);
        safe_close(a->in_fd);
        safe_close(a->out_w);
        safe_close(a->err_w);
        free(a->path);
        free(a);
}

static void attach_maybe_end(Attach *a) {
        if (!a->out_io && !a->err_io && !a->held)
                api_hijack_end(a->conn);
}

void api_attach_release(Attach *a) {
        a->held = false;
        attach_maybe_end(a);
}

void *api_attach_owner(Attach *a) {
        return a->owner;
}

static int on_pipe(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Attach *a = userdata;
        ApiConn *c = a->conn;
        bool is_err = s == a->err_io;
        char buf[8 + 32768];
        ssize_t k = read(fd, buf + 8, sizeof buf - 8);

        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (k <= 0) {
                if (is_err)
                        a->err_io = sd_event_source_disable_unref(a->err_io);
                else
                        a->out_io = sd_event_source_disable_unref(a->out_io);
                attach_maybe_end(a);
        } else if ((is_err && a->want_err) || (!is_err && a->want_out)) {
                buf[0] = is_err ? 2 : 1;
                buf[1] = buf[2] = buf[3] = 0;
                buf[4] = (char) ((k >> 24) & 0xff);
                buf[5] = (char) ((k >> 16) & 0xff);
                buf[6] = (char) ((k >> 8) & 0xff);
                buf[7] = (char) (k & 0xff);
                if (api_raw_write(c, buf, 8 + (size_t) k) < 0)
                        api_hijack_end(c);
                else if (c->out_len - c->out_off >= ATTACH_QUEUE_MAX) {
                        /* The client reads slowly: stop reading until it has caught up. */
                        (void) sd_event_source_set_enabled(a->out_io, SD_EVENT_OFF);
                        (void) sd_event_source_set_enabled(a->err_io, SD_EVENT_OFF);
                }
        }
        (void) api_conn_kick(c);
        return 0;
}

static int attach_drained(ApiConn *c) {
        Attach *a = c->userdata;
        (void) sd_event_source_set_enabled(a->out_io, SD_EVENT_ON);
        (void) sd_event_source_set_enabled(a->err_io, SD_EVENT_ON);
        return 0;
}

static int make_pipe(ApiConn *c, Attach *a, int *ret_w, sd_event_source **ret_io) {
        int p[2];
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        int r = sd_event_add_io(c->server->event, ret_io, p[0], EPOLLIN, on_pipe, a);
        if (r < 0) {
                safe_close(p[0]);
                safe_close(p[1]);
                return r;
        }
        (void) sd_event_source_set_io_fd_own(*ret_io, true);
        *ret_w = p[1];
        return 0;
}

/* The descriptors are in the message (sd-bus copied them): ours go, so that the pipes end when
 * the container's side closes them. */
static void attach_handed_over(Attach *a) {
        a->in_fd = safe_close(a->in_fd);
        a->out_w = safe_close(a->out_w);
        a->err_w = safe_close(a->err_w);
        a->started = true;
}

/* The container with a TTY exited: the client's unread input goes (closing a socket with unread
 * input would reset the connection), then the connection closes. */
static int on_tty_exit(ApiConn *c, sd_bus_message *reply) {
        char buf[4096];
        while (recv(c->fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
                ;
        api_hijack_end(c);
        return 0;
}

static int on_attach_reply(ApiConn *c, sd_bus_message *reply) {
        Attach *a = c->userdata;
        if (sd_bus_message_is_method_error(reply, NULL))
                api_hijack_end(c);
        else if (a->tty) {
                /* Attached to a running one: it ends at its exit. */
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *wait = NULL;
                int r = sd_bus_message_new_method_call(c->server->bus, &wait, BERTH_BUS_SERVICE, a->path,
                                                       BERTH_BUS_CONTAINER, "WaitCondition");
                if (r >= 0)
                        r = sd_bus_message_append(wait, "s", "not-running");
                if (r >= 0)
                        r = api_call_async(c, wait, CTL_TIMEOUT_INFINITE, on_tty_exit);
                if (r < 0)
                        api_hijack_end(c);
        } else
                api_attach_release(a);
        return 0;
}

int api_attach_setup(ApiConn *c, bool tty, bool want_in, bool want_out, bool want_err, Attach **ret) {
        int r = 0;
        Attach *a = calloc(1, sizeof(Attach));
        if (!a)
                return -ENOMEM;
        *a = (Attach){
                .conn = c, .in_fd = -1, .out_w = -1, .err_w = -1, .want_out = want_out, .want_err = want_err, .tty = tty
        };
        c->userdata = a;
        c->userdata_free = attach_free;
        if (tty) {
                a->out_w = fcntl(c->fd, F_DUPFD_CLOEXEC, 3);
                a->err_w = fcntl(c->fd, F_DUPFD_CLOEXEC, 3);
                if (a->out_w < 0 || a->err_w < 0)
                        r = -errno;
        } else {
                r = make_pipe(c, a, &a->out_w, &a->out_io);
                if (r >= 0)
                        r = make_pipe(c, a, &a->err_w, &a->err_io);
        }
        if (r >= 0 && want_in) {
                a->in_fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 3);
                if (a->in_fd < 0)
                        r = -errno;
                c->input_passed = true;
        }
        if (r < 0)
                return r;
        if (!tty)
                c->on_drained = attach_drained;
        r = api_hijack(c, "application/vnd.docker.raw-stream");
        if (r < 0)
                return r;
        *ret = a;
        return 0;
}

int api_attach_append_fds(Attach *a, sd_bus_message *m, void *owner) {
        _cleanup_close_ int null_fd = -1;
        if (a->in_fd < 0) {
                null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null_fd < 0)
                        return -errno;
        }
        int r = sd_bus_message_append(m, "hhh", a->in_fd >= 0 ? a->in_fd : null_fd, a->out_w, a->err_w);
        if (r < 0)
                return r;
        attach_handed_over(a);
        a->held = !a->tty;
        a->owner = owner;
        return 0;
}

/* The start of a container with a waiting attach: StartAttached with its descriptors. Returns
 * 0 when there is none (an ordinary Start), 1 when m was made. */
int api_attach_start_message(ApiConn *c, const char *path, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *wait = NULL;
        Attach *a = pending;
        int r;

        while (a && (a->started || !streq(a->path, path)))
                a = a->next;
        if (!a)
                return 0;
        if (a->tty) {
                _cleanup_close_ int null_fd = -1;
                if (a->in_fd < 0 && (null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
                        return -errno;
                /* Docker's size comes with the resize after the start. */
                r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER,
                                                   "StartTerminal");
                if (r >= 0)
                        r = sd_bus_message_append(m, "hhuu", a->in_fd >= 0 ? a->in_fd : null_fd, a->out_w, 24, 80);
                if (r < 0)
                        return r;
                /* The stream ends at the container's exit: asked for before the start goes out. */
                r = sd_bus_message_new_method_call(c->server->bus, &wait, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER,
                                                   "WaitCondition");
                if (r >= 0)
                        r = sd_bus_message_append(wait, "s", "next-exit");
                if (r >= 0)
                        r = api_call_async(a->conn, wait, CTL_TIMEOUT_INFINITE, on_tty_exit);
                if (r < 0)
                        return r;
                attach_handed_over(a);
                *ret = TAKE_PTR(m);
                return 1;
        }
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER,
                                           a->in_fd >= 0 ? "StartAttachedWithInput" : "StartAttached");
        if (r >= 0 && a->in_fd >= 0)
                r = sd_bus_message_append(m, "h", a->in_fd);
        if (r >= 0)
                r = sd_bus_message_append(m, "hh", a->out_w, a->err_w);
        if (r < 0)
                return r;
        attach_handed_over(a);
        *ret = TAKE_PTR(m);
        return 1;
}

int api_container_attach(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *state = NULL;
        int tty = 0, r;

        if (!api_query_bool(c, "stream") || api_query_bool(c, "logs"))
                return api_reply_error(c, 501, "attach with past output (logs) is not implemented; use logs");
        r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        r = sd_bus_get_property_trivial(c->server->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Tty", &error,
                                        'b', &tty);
        if (r >= 0)
                r = sd_bus_get_property_string(c->server->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "State",
                                               &error, &state);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        if (!streq(state, "running") && !streq(state, "paused"))
                for (Attach *p = pending; p; p = p->next)
                        if (!p->started && streq(p->path, path))
                                return api_reply_error(c, 409, "another attach already waits for the start of %s",
                                                       name);

        Attach *a;
        r = api_attach_setup(c, tty, api_query_bool(c, "stdin"), api_query_bool(c, "stdout"),
                             api_query_bool(c, "stderr"), &a);
        if (r < 0)
                return r;
        a->path = TAKE_PTR(path);

        if (!streq(state, "running") && !streq(state, "paused")) {
                /* Until its start (docker run: create, attach, wait, start). */
                a->next = pending;
                pending = a;
                return 0;
        }
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, a->path, BERTH_BUS_CONTAINER,
                                           "Attach");
        if (r >= 0)
                r = api_attach_append_fds(a, m, NULL);
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_DEFAULT, on_attach_reply);
        return r;
}

int api_container_resize(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        uint64_t h, w;
        int r;

        if (parse_uint64(api_query(c, "h") ?: "", &h) < 0 || parse_uint64(api_query(c, "w") ?: "", &w) < 0 || h == 0 ||
            w == 0 || h > UINT16_MAX || w > UINT16_MAX)
                return api_reply_error(c, 400, "invalid terminal size: h and w must be numbers from 1 to 65535");
        r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        r = ctl_bus_call(c->server->bus, path, BERTH_BUS_CONTAINER, "ResizeTerminal", CTL_TIMEOUT_DEFAULT, &error, NULL,
                         "uu", (uint32_t) h, (uint32_t) w);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        return api_reply(c, 200, "text/plain", "", 0);
}
