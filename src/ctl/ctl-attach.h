/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <termios.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

typedef enum AttachFlags {
        /* StartAttached(stdout, stderr) with pipes berthctl relays, after Wait() is queued. */
        ATTACH_START = 1 << 0,
        /* Forward SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 to the container with Kill()
         * while waiting, as Docker's sig-proxy does. */
        ATTACH_FORWARD_SIGNALS = 1 << 1,
        /* With ATTACH_START: also relay berthctl's stdin to the container (run -i). */
        ATTACH_STDIN = 1 << 2,
        /* With ATTACH_START: the container has a terminal (StartTerminal); our terminal, if stdin
         * is one, is put in raw mode meanwhile so keys reach the container as typed. */
        ATTACH_TTY = 1 << 3,
        /* Attach() to the running container instead of starting it (berthctl attach). */
        ATTACH_EXISTING = 1 << 4,
        /* With ATTACH_START: ask Wait() only once the start is done. For a container that ran
         * before, an earlier Wait() would answer at once with the previous run's exit code. */
        ATTACH_WAIT_AFTER_START = 1 << 5,
        /* run -a without stdout (or stderr): what the container writes there is not shown (it
         * still goes to the journal). */
        ATTACH_DROP_STDOUT = 1 << 6,
        ATTACH_DROP_STDERR = 1 << 7,
        /* With ATTACH_START: no READY=1 to our NOTIFY_SOCKET once started (run --sdnotify other than
         * conmon); with ATTACH_NOTIFY_HEALTHY, READY=1 once WaitCondition("healthy") answers. */
        ATTACH_NO_READY = 1 << 8,
        ATTACH_NOTIFY_HEALTHY = 1 << 9,
} AttachFlags;

/* The default detach sequence (Docker's): ctrl-p ctrl-q. */
#define DETACH_KEYS_DEFAULT "ctrl-p,ctrl-q"

/* Docker's --detach-keys syntax: comma-separated "ctrl-<c>" (c in a-z @ [ \ ] ^ _) or single
 * characters. Writes at most size bytes; returns the length or -EINVAL. "" gives 0 (no detaching). */
int ctl_parse_detach_keys(const char *s, char *buf, size_t size);

/* Wait (with no timeout) until the container at path has exited and return its exit code (flags:
 * ATTACH_FORWARD_SIGNALS at most). If berthd exits meanwhile (the bus then answers NoReply),
 * Wait() is issued again, reaching the restarted (or bus-activated) berthd. On failure returns
 * negative errno and fills error. */
int ctl_wait_container(sd_bus *bus, const char *path, AttachFlags flags, sd_bus_error *error, int *ret_exit_code);

/* Start (ATTACH_START) or attach to (ATTACH_EXISTING) the container and wait for its exit, with
 * output and input relayed through pipes by berthctl: the container never holds our own
 * descriptors, so nothing of our terminal (or of a file we were given) stays with it after we are
 * gone. Wait() is issued asynchronously first, so with ATTACH_START it is registered with berthd
 * before the container starts. Typing the detach sequence (detach_keys as parsed above, NULL for
 * the default, "" for none) leaves the container running; *ret_detached says so and the exit code
 * is 0. On failure returns negative errno and fills error (a failed start included). */
int ctl_attach_container(sd_bus *bus, const char *path, AttachFlags flags, const char *detach_keys, sd_bus_error *error,
                         int *ret_exit_code, bool *ret_detached);
/* The same, passing what arrives on notify_fd (run --sdnotify=container's socket, or -1) to our
 * NOTIFY_SOCKET meanwhile. */
int ctl_attach_container_notify(sd_bus *bus, const char *path, AttachFlags flags, const char *detach_keys,
                                int notify_fd, sd_bus_error *error, int *ret_exit_code, bool *ret_detached);

/* Put our terminal (stdin, if it is one) in raw mode, so keys such as ^C reach the container as
 * bytes; returns whether it did, to pass on to ctl_terminal_restore(). */
bool ctl_terminal_make_raw(struct termios *saved);
void ctl_terminal_restore(bool raw, const struct termios *saved);
