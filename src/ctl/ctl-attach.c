/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "ctl-attach.h"
#include "ctl-bus.h"
#include "ctl-log.h"
#include "ctl-sdnotify.h"
#include "util.h"

typedef struct Attach {
        sd_bus *bus;
        const char *path;
        sd_event *event;
        sd_bus_slot *wait_slot;
        unsigned n_retries;
        bool done;
        int r;
        int exit_code;
        sd_bus_error error;

        /* Relaying (ctl_attach_container): our ends of the pipes to the supervisor. in_w is
         * non-blocking: input it does not take yet waits in 'pending' (and stdin is not read
         * meanwhile), so a container that does not read cannot stop its output from reaching us. */
        int in_w, out_r, err_r;
        bool drop_out, drop_err; /* read and not shown (run -a without that stream) */
        sd_event_source *input_source, *pending_source;
        char *pending;
        size_t n_pending;
        const char *detach_keys; /* bytes */
        size_t n_detach_keys, matched;
        bool detached;
        int remote[3]; /* the pipes' other ends, closed once berthd has them (-1: not relaying) */
        sd_bus_slot *healthy_slot; /* WaitCondition("healthy") for --sdnotify=healthy */
} Attach;

static int send_wait(Attach *a);

static void attach_finish(Attach *a, int r, const sd_bus_error *error) {
        a->done = true;
        a->r = r;
        if (r < 0 && error && sd_bus_error_is_set(error))
                (void) sd_bus_error_copy(&a->error, error);
}

/* How often Wait() is asked again after berthd went away while waiting. */
#define WAIT_RETRIES_MAX 5

static int on_wait_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Attach *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int32_t code;
        int r;

        a->wait_slot = sd_bus_slot_unref(a->wait_slot);
        if (e && sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) && a->n_retries < WAIT_RETRIES_MAX) {
                /* The bus answers NoReply for berthd when it exits (there is no timeout on our side).
                 * Containers outlive berthd and a new instance re-adopts them: ask again, which also
                 * activates berthd through the bus if it is not running yet. */
                a->n_retries++;
                r = send_wait(a);
                if (r < 0)
                        attach_finish(a, r, NULL);
                return 0;
        }
        if (e) {
                r = -sd_bus_message_get_errno(reply);
                attach_finish(a, r < 0 ? r : -EIO, e);
                return 0;
        }
        r = sd_bus_message_read(reply, "i", &code);
        if (r < 0) {
                attach_finish(a, r, NULL);
                return 0;
        }
        a->exit_code = code;
        attach_finish(a, 0, NULL);
        return 0;
}

static int send_wait(Attach *a) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        a->wait_slot = sd_bus_slot_unref(a->wait_slot);
        r = sd_bus_message_new_method_call(a->bus, &m, BERTH_BUS_SERVICE, a->path, BERTH_BUS_CONTAINER, "Wait");
        if (r < 0)
                return r;
        /* Wait returns only when the container exits: no timeout at all (0 would mean 25 s). */
        return sd_bus_call_async(a->bus, &a->wait_slot, m, on_wait_reply, a, CTL_TIMEOUT_INFINITE);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Attach *a = userdata;

        /* No callback: sent with NO_REPLY_EXPECTED; a container that is gone already is fine. */
        (void) sd_bus_call_method_async(a->bus, NULL, BERTH_BUS_SERVICE, a->path, BERTH_BUS_CONTAINER, "Kill", NULL,
                                        NULL, "i", (int32_t) si->ssi_signo);
        return 0;
}

/* Our terminal changed size: pass it on to the container's (the kernel then sends it SIGWINCH). */
static int on_winch(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Attach *a = userdata;
        struct winsize ws = {};
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                return 0;
        (void) sd_bus_call_method_async(a->bus, NULL, BERTH_BUS_SERVICE, a->path, BERTH_BUS_CONTAINER, "ResizeTerminal",
                                        NULL, NULL, "uu", (uint32_t) ws.ws_row, (uint32_t) ws.ws_col);
        return 0;
}

static int setup_event(Attach *a, AttachFlags flags) {
        static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
        int r;

        r = sd_event_new(&a->event);
        if (r < 0)
                return r;
        /* Blocking the signals now (SD_EVENT_SIGNAL_PROCMASK) means a Ctrl-C during the start is
         * queued and forwarded afterwards, rather than killing berthctl mid-way. */
        if ((flags & ATTACH_TTY) &&
            (r = sd_event_add_signal(a->event, NULL, SIGWINCH | SD_EVENT_SIGNAL_PROCMASK, on_winch, a)) < 0)
                return r;
        if (flags & ATTACH_FORWARD_SIGNALS)
                for (size_t i = 0; i < ELEMENTSOF(forwarded); i++) {
                        r = sd_event_add_signal(a->event, NULL, forwarded[i] | SD_EVENT_SIGNAL_PROCMASK, on_signal, a);
                        if (r < 0)
                                return r;
                }
        return sd_bus_attach_event(a->bus, a->event, SD_EVENT_PRIORITY_NORMAL);
}

/* A service (berth-generator's) whose container runs in a scope of its own: systemctl status of the
 * service says where, and what the payload is, as STATUS= (the container is not in the service's
 * cgroup, see berth.container(5)). Only with a NOTIFY_SOCKET: it costs three property reads. */
static void notify_status(Attach *a) {
        _cleanup_free_ char *name = NULL, *unit = NULL, *status = NULL, *cmdline = NULL;
        _cleanup_strv_free_ char **command = NULL;
        uint32_t pid = 0;
        if (!getenv("NOTIFY_SOCKET") ||
            sd_bus_get_property_string(a->bus, BERTH_BUS_SERVICE, a->path, BERTH_BUS_CONTAINER, "Name", NULL, &name) <
                    0 ||
            sd_bus_get_property_string(a->bus, BERTH_BUS_SERVICE, a->path, BERTH_BUS_CONTAINER, "Unit", NULL, &unit) <
                    0 ||
            sd_bus_get_property_trivial(a->bus, BERTH_BUS_SERVICE, a->path, BERTH_BUS_CONTAINER, "Pid", NULL, 'u',
                                        &pid) < 0 ||
            sd_bus_get_property_strv(a->bus, BERTH_BUS_SERVICE, a->path, BERTH_BUS_CONTAINER, "Command", NULL,
                                     &command) < 0)
                return;
        cmdline = strv_join(command, " ");
        if (cmdline && strlen(cmdline) > 200)
                strcpy(cmdline + 197, "...");
        if (cmdline &&
            asprintf(&status, "STATUS=Container %s runs in %s: PID %" PRIu32 " %s", name, unit, pid, cmdline) >= 0)
                (void) sd_notify(0, status);
}

/* --sdnotify=healthy: ready once the first health check passed. */
static int on_healthy(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Attach *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        a->healthy_slot = sd_bus_slot_unref(a->healthy_slot);
        if (e)
                ctl_log_error("The container will not be reported ready: %s", e->message ?: e->name);
        else
                (void) sd_notify(0, "READY=1");
        return 0;
}

static int on_notify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        (void) notify_proxy_forward(fd);
        return 0;
}

/* remote: the stdin, stdout and stderr the container gets: pipes we relay, never our own. */
static int wait_attached(Attach *a, AttachFlags flags, const int remote[3], sd_bus_error *error) {
        int r;

        if (!(flags & ATTACH_WAIT_AFTER_START) && (r = send_wait(a)) < 0)
                return r;
        if (flags & (ATTACH_START | ATTACH_EXISTING)) {
                /* Whatever berthctl buffered must come before the container's output. */
                fflush(stdout);
                /* Without -i the container gets no input: hand over /dev/null, which reads EOF. */
                _cleanup_close_ int null_fd = (flags & ATTACH_STDIN) ? -1 : open("/dev/null", O_RDONLY | O_CLOEXEC);
                int in = (flags & ATTACH_STDIN) ? remote[0] : null_fd;
                if (flags & ATTACH_EXISTING) {
                        r = ctl_bus_call(a->bus, a->path, BERTH_BUS_CONTAINER, "Attach", CTL_TIMEOUT_DEFAULT, error,
                                         NULL, "hhh", in, remote[1], remote[2]);
                        /* The terminal takes our size, as Docker's attach does. */
                        if (r >= 0 && (flags & ATTACH_TTY) && isatty(STDOUT_FILENO))
                                (void) on_winch(NULL, NULL, a);
                } else if (flags & ATTACH_TTY) {
                        struct winsize ws = {};
                        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                                ws = (struct winsize){ .ws_row = 24, .ws_col = 80 };
                        r = ctl_bus_call(a->bus, a->path, BERTH_BUS_CONTAINER, "StartTerminal", CTL_TIMEOUT_LONG, error,
                                         NULL, "hhuu", in, remote[1], (uint32_t) ws.ws_row, (uint32_t) ws.ws_col);
                } else if (flags & ATTACH_STDIN)
                        r = ctl_bus_call(a->bus, a->path, BERTH_BUS_CONTAINER, "StartAttachedWithInput",
                                         CTL_TIMEOUT_LONG, error, NULL, "hhh", in, remote[1], remote[2]);
                else
                        r = ctl_bus_call(a->bus, a->path, BERTH_BUS_CONTAINER, "StartAttached", CTL_TIMEOUT_LONG, error,
                                         NULL, "hh", remote[1], remote[2]);
                for (int i = 0; i < 3; i++)
                        a->remote[i] = safe_close(a->remote[i]); /* so their EOF tells us the end */
                if (r < 0)
                        return r;
                /* Run by a Type=notify service (berth-generator's): it is up once the payload is
                 * started. Without NOTIFY_SOCKET this does nothing. */
                if (flags & ATTACH_START)
                        notify_status(a);
                if ((flags & ATTACH_START) && !(flags & ATTACH_NO_READY))
                        (void) sd_notify(0, "READY=1");
                if ((flags & ATTACH_START) && (flags & ATTACH_NOTIFY_HEALTHY) &&
                    (r = sd_bus_call_method_async(a->bus, &a->healthy_slot, BERTH_BUS_SERVICE, a->path,
                                                  BERTH_BUS_CONTAINER, "WaitCondition", on_healthy, a, "s",
                                                  "healthy")) < 0)
                        return r;
                if ((flags & ATTACH_WAIT_AFTER_START) && (r = send_wait(a)) < 0)
                        return r;
        }
        /* Not sd_event_loop(): leaving it with sd_event_exit() makes sd-bus close the connection,
         * and "wait" goes on using it for the next container. When relaying, the exit is only the
         * end once all output is read (EOF), or it would race with the last lines. */
        while (!a->done || (a->r >= 0 && !a->detached && (a->out_r >= 0 || a->err_r >= 0))) {
                r = sd_event_run(a->event, UINT64_MAX);
                if (r < 0)
                        return r;
        }
        if (a->detached)
                return 0;
        if (a->r < 0) {
                if (sd_bus_error_is_set(&a->error))
                        (void) sd_bus_error_copy(error, &a->error);
                return a->r;
        }
        return 0;
}

int ctl_parse_detach_keys(const char *s, char *buf, size_t size) {
        size_t n = 0;
        for (const char *p = s; *p;) {
                size_t len = strcspn(p, ",");
                char c;
                if (len == 1)
                        c = *p;
                else if (len == 6 && strncmp(p, "ctrl-", 5) == 0 && p[5] >= 'a' && p[5] <= 'z')
                        c = (char) (p[5] - 'a' + 1);
                else if (len == 6 && strncmp(p, "ctrl-", 5) == 0 && strchr("@[\\]^_", p[5]))
                        c = (char) (p[5] - '@');
                else
                        return -EINVAL;
                if (n >= size)
                        return -EINVAL;
                buf[n++] = c;
                p += len;
                if (*p == ',' && *++p == 0)
                        return -EINVAL;
        }
        return (int) n;
}

static void relay_close(Attach *a, sd_event_source *s, int *fd) {
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        *fd = safe_close(*fd);
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Attach *a = userdata;
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        /* EOF: the supervisor let go of us, the container has ended; Wait() answers next. */
        if (n <= 0)
                relay_close(a, s, fd == a->out_r ? &a->out_r : &a->err_r);
        else if (!(fd == a->out_r ? a->drop_out : a->drop_err))
                (void) loop_write(fd == a->out_r ? STDOUT_FILENO : STDERR_FILENO, buf, (size_t) n);
        return 0;
}

static void input_close(Attach *a) {
        (void) sd_event_source_set_enabled(a->input_source, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(a->pending_source, SD_EVENT_OFF);
        a->pending_source = sd_event_source_unref(a->pending_source); /* before its fd */
        a->in_w = safe_close(a->in_w); /* our input ended, or the container is gone */
        a->n_pending = 0;
}

/* Writes what is pending; stdin is read again only once all of it went. */
static void input_flush(Attach *a) {
        if (a->in_w < 0)
                return;
        while (a->n_pending > 0) {
                ssize_t n = write(a->in_w, a->pending, a->n_pending);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0) {
                        input_close(a);
                        return;
                }
                memmove(a->pending, a->pending + n, a->n_pending - (size_t) n);
                a->n_pending -= (size_t) n;
        }
        (void) sd_event_source_set_enabled(a->pending_source, a->n_pending > 0 ? SD_EVENT_ON : SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(a->input_source, a->n_pending > 0 ? SD_EVENT_OFF : SD_EVENT_ON);
}

static int on_input_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        input_flush(userdata);
        return 0;
}

/* Input goes to the container except the detach sequence; a partial match is held back until it
 * either completes (we leave) or breaks (the held bytes go on after all). */
static int on_input(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Attach *a = userdata;
        char buf[65536]; /* large reads: input can be a stream of any size (run -i < file) */
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0) {
                input_close(a);
                return 0;
        }
        /* Empty when stdin is read: what we add is at most the held-back keys and what was read. */
        char *out = realloc(a->pending, a->n_detach_keys + (size_t) n);
        if (!out) {
                input_close(a);
                return 0;
        }
        a->pending = out;
        size_t k = 0;
        for (ssize_t i = 0; i < n; i++) {
                if (a->n_detach_keys > 0 && buf[i] == a->detach_keys[a->matched]) {
                        if (++a->matched == a->n_detach_keys) {
                                a->detached = true;
                                a->done = true;
                                return 0;
                        }
                        continue;
                }
                memcpy(out + k, a->detach_keys, a->matched);
                k += a->matched;
                a->matched = 0;
                if (a->n_detach_keys > 0 && buf[i] == a->detach_keys[0]) {
                        a->matched = 1;
                        continue;
                }
                out[k++] = buf[i];
        }
        a->n_pending = k;
        input_flush(a);
        return 0;
}

static int on_input_file(sd_event_source *s, void *userdata) {
        return on_input(s, STDIN_FILENO, EPOLLIN, userdata);
}

static void attach_done(Attach *a) {
        a->wait_slot = sd_bus_slot_unref(a->wait_slot);
        a->healthy_slot = sd_bus_slot_unref(a->healthy_slot);
        a->input_source = sd_event_source_unref(a->input_source);
        a->pending_source = sd_event_source_unref(a->pending_source);
        free(a->pending);
        (void) sd_bus_detach_event(a->bus);
        a->event = sd_event_unref(a->event); /* Also unblocks the forwarded signals. */
        sd_bus_error_free(&a->error);
        safe_close(a->in_w);
        safe_close(a->out_r);
        safe_close(a->err_r);
        for (int i = 0; i < 3; i++)
                safe_close(a->remote[i]);
}

int ctl_wait_container(sd_bus *bus, const char *path, AttachFlags flags, sd_bus_error *error, int *ret_exit_code) {
        Attach a = {
                .bus = bus,
                .path = path,
                .error = SD_BUS_ERROR_NULL,
                .in_w = -1,
                .out_r = -1,
                .err_r = -1,
                .remote = { -1, -1, -1 },
        };
        int r;

        assert(!(flags & (ATTACH_START | ATTACH_EXISTING))); /* those relay: ctl_attach_container() */
        r = setup_event(&a, flags);
        if (r >= 0)
                r = wait_attached(&a, flags, a.remote, error);
        if (r >= 0)
                *ret_exit_code = a.exit_code;
        attach_done(&a);
        return r;
}

int ctl_attach_container(sd_bus *bus, const char *path, AttachFlags flags, const char *detach_keys, sd_bus_error *error,
                         int *ret_exit_code, bool *ret_detached) {
        return ctl_attach_container_notify(bus, path, flags, detach_keys, -1, error, ret_exit_code, ret_detached);
}

int ctl_attach_container_notify(sd_bus *bus, const char *path, AttachFlags flags, const char *detach_keys,
                                int notify_fd, sd_bus_error *error, int *ret_exit_code, bool *ret_detached) {
        char keys[16];
        int n_keys = ctl_parse_detach_keys(detach_keys ?: DETACH_KEYS_DEFAULT, keys, sizeof(keys));
        Attach a = {
                .bus = bus,
                .path = path,
                .error = SD_BUS_ERROR_NULL,
                .in_w = -1,
                .out_r = -1,
                .err_r = -1,
                .detach_keys = keys,
                .n_detach_keys = n_keys > 0 ? (size_t) n_keys : 0,
                .drop_out = flags & ATTACH_DROP_STDOUT,
                .drop_err = flags & ATTACH_DROP_STDERR,
                .remote = { -1, -1, -1 },
        };
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, r;

        if (n_keys < 0)
                return -EINVAL;
        r = setup_event(&a, flags);
        if (r >= 0 &&
            ((flags & ATTACH_STDIN && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
             (!(flags & ATTACH_TTY) && pipe2(err, O_CLOEXEC) < 0)))
                r = -errno;
        a.in_w = in[1];
        a.out_r = out[0];
        a.err_r = err[0];
        if (r >= 0 && (flags & ATTACH_STDIN)) {
                r = sd_event_add_io(a.event, &a.input_source, STDIN_FILENO, EPOLLIN, on_input, &a);
                if (r == -EPERM) /* a regular file or /dev/null: always readable, epoll cannot watch it */
                        r = sd_event_add_defer(a.event, &a.input_source, on_input_file, &a);
                if (r >= 0 && fcntl(a.in_w, F_SETFL, O_NONBLOCK) < 0)
                        r = -errno;
                if (r >= 0)
                        r = sd_event_add_io(a.event, &a.pending_source, a.in_w, EPOLLOUT, on_input_writable, &a);
                if (r >= 0 && a.pending_source)
                        r = sd_event_source_set_enabled(a.pending_source, SD_EVENT_OFF);
        }
        if (r >= 0 && notify_fd >= 0)
                r = sd_event_add_io(a.event, NULL, notify_fd, EPOLLIN, on_notify, &a);
        if (r >= 0)
                r = sd_event_add_io(a.event, NULL, a.out_r, EPOLLIN, on_output, &a);
        if (r >= 0 && a.err_r >= 0)
                r = sd_event_add_io(a.event, NULL, a.err_r, EPOLLIN, on_output, &a);
        if (r >= 0) {
                /* A terminal has one stream; the supervisor ignores stderr then. */
                int remote[3] = { in[0], out[1], err[1] >= 0 ? err[1] : out[1] };
                memcpy(a.remote, (int[3]){ in[0], out[1], err[1] }, sizeof(a.remote));
                in[0] = out[1] = err[1] = -1;
                r = wait_attached(&a, flags, remote, error);
        }
        safe_close(in[0]);
        safe_close(out[1]);
        safe_close(err[1]);
        if (r >= 0) {
                *ret_exit_code = a.detached ? 0 : a.exit_code;
                *ret_detached = a.detached;
        }
        attach_done(&a);
        return r;
}

bool ctl_terminal_make_raw(struct termios *saved) {
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, saved) < 0)
                return false;
        struct termios t = *saved;
        cfmakeraw(&t);
        (void) tcsetattr(STDIN_FILENO, TCSANOW, &t);
        return true;
}

void ctl_terminal_restore(bool raw, const struct termios *saved) {
        if (raw)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, saved);
}
