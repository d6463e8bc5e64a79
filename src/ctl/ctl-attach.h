/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

typedef enum AttachFlags {
        /* StartAttached(stdout, stderr) with berthctl's own descriptors after Wait() is queued. */
        ATTACH_START = 1 << 0,
        /* Forward SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 to the container with Kill()
         * while waiting, as Docker's sig-proxy does. */
        ATTACH_FORWARD_SIGNALS = 1 << 1,
        /* With ATTACH_START: also give the container berthctl's stdin (run -i). */
        ATTACH_STDIN = 1 << 2,
        /* With ATTACH_START: the container has a terminal (StartTerminal); our terminal, if stdin
         * is one, is put in raw mode meanwhile so keys reach the container as typed. */
        ATTACH_TTY = 1 << 3,
} AttachFlags;

/* Wait (with no timeout) until the container at path has exited and return its exit code.
 * Wait() is issued asynchronously first, so with ATTACH_START it is registered with berthd
 * before the container starts. If berthd exits meanwhile (the bus then answers NoReply), Wait()
 * is issued again, reaching the restarted (or bus-activated) berthd. On failure returns negative errno and fills error
 * (a failed start included). */
int ctl_wait_container(sd_bus *bus, const char *path, AttachFlags flags, sd_bus_error *error, int *ret_exit_code);
