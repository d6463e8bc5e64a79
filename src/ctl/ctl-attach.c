/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "ctl-attach.h"
#include "ctl-bus.h"
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

static int wait_attached(Attach *a, AttachFlags flags, sd_bus_error *error) {
        int r;

        r = send_wait(a);
        if (r < 0)
                return r;
        if (flags & ATTACH_START) {
                /* Whatever berthctl buffered must come before the container's output. */
                fflush(stdout);
                if (flags & ATTACH_TTY) {
                        struct winsize ws = {};
                        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                                ws = (struct winsize){ .ws_row = 24, .ws_col = 80 };
                        /* Without -i the terminal gets no input: hand over /dev/null, which reads EOF. */
                        _cleanup_close_ int null_fd = (flags & ATTACH_STDIN) ? -1
                                                                             : open("/dev/null", O_RDONLY | O_CLOEXEC);
                        r = ctl_bus_call(a->bus, a->path, BERTH_BUS_CONTAINER, "StartTerminal", CTL_TIMEOUT_LONG, error,
                                         NULL, "hhuu", (flags & ATTACH_STDIN) ? STDIN_FILENO : null_fd, STDOUT_FILENO,
                                         (uint32_t) ws.ws_row, (uint32_t) ws.ws_col);
                } else if (flags & ATTACH_STDIN)
                        r = ctl_bus_call(a->bus, a->path, BERTH_BUS_CONTAINER, "StartAttachedWithInput",
                                         CTL_TIMEOUT_LONG, error, NULL, "hhh", STDIN_FILENO, STDOUT_FILENO,
                                         STDERR_FILENO);
                else
                        r = ctl_bus_call(a->bus, a->path, BERTH_BUS_CONTAINER, "StartAttached", CTL_TIMEOUT_LONG, error,
                                         NULL, "hh", STDOUT_FILENO, STDERR_FILENO);
                if (r < 0)
                        return r;
        }
        /* Not sd_event_loop(): leaving it with sd_event_exit() makes sd-bus close the connection,
         * and "wait" goes on using it for the next container. */
        while (!a->done) {
                r = sd_event_run(a->event, UINT64_MAX);
                if (r < 0)
                        return r;
        }
        if (a->r < 0) {
                if (sd_bus_error_is_set(&a->error))
                        (void) sd_bus_error_copy(error, &a->error);
                return a->r;
        }
        return 0;
}

int ctl_wait_container(sd_bus *bus, const char *path, AttachFlags flags, sd_bus_error *error, int *ret_exit_code) {
        Attach a = {
                .bus = bus,
                .path = path,
                .error = SD_BUS_ERROR_NULL,
        };
        int r;

        r = setup_event(&a, flags);
        if (r >= 0)
                r = wait_attached(&a, flags, error);
        if (r >= 0)
                *ret_exit_code = a.exit_code;

        a.wait_slot = sd_bus_slot_unref(a.wait_slot);
        (void) sd_bus_detach_event(bus);
        sd_event_unref(a.event); /* Also unblocks the forwarded signals. */
        sd_bus_error_free(&a.error);
        return r;
}
