/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "nspawn-relay.h"
#include "util.h"

static uint64_t now_monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* Output of the process to the caller. False at EOF (a terminal's master says EIO once nothing
 * holds its slave any more) or when the caller is gone. */
static bool relay_output(int from, int to) {
        char buf[65536];
        ssize_t n = read(from, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        return n > 0 && loop_write(to, buf, (size_t) n) >= 0;
}

static void close_input(ExecRelay *relay) {
        relay->caller_in = safe_close(relay->caller_in);
        /* A pipe's EOF tells the process its input ended; a terminal stays open for its output. */
        if (!relay->tty)
                relay->in = safe_close(relay->in);
}

int exec_relay_run(ExecRelay *relay) {
        char pending[65536];
        size_t n_pending = 0;
        uint64_t deadline = 0;
        int code = -ECHILD;

        /* Non-blocking towards the process: a process that does not read its input must not stop
         * its output from being relayed. */
        if (relay->in >= 0)
                (void) fcntl(relay->in, F_SETFL, fcntl(relay->in, F_GETFL) | O_NONBLOCK);
        while (relay->pidfd >= 0 || relay->out >= 0 || relay->err >= 0) {
                int timeout = -1;
                if (relay->pidfd < 0) {
                        uint64_t now = now_monotonic_usec();
                        if (now >= deadline)
                                break;
                        timeout = (int) ((deadline - now + 999) / 1000);
                }
                struct pollfd p[6] = {
                        { .fd = relay->pidfd, .events = POLLIN },
                        { .fd = relay->out, .events = POLLIN },
                        { .fd = relay->err, .events = POLLIN },
                        { .fd = n_pending == 0 ? relay->caller_in : -1, .events = POLLIN },
                        { .fd = n_pending > 0 ? relay->in : -1, .events = POLLOUT },
                        { .fd = relay->resize, .events = POLLIN },
                };
                int k = poll(p, 6, timeout);
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k <= 0)
                        continue;
                if (p[1].revents && !relay_output(relay->out, relay->caller_out))
                        relay->out = safe_close(relay->out);
                if (p[2].revents && !relay_output(relay->err, relay->caller_err))
                        relay->err = safe_close(relay->err);
                if (p[3].revents) {
                        ssize_t n = read(relay->caller_in, pending, sizeof(pending));
                        if (n > 0)
                                n_pending = (size_t) n;
                        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                                close_input(relay);
                }
                if (n_pending > 0 && relay->in >= 0) {
                        ssize_t n = write(relay->in, pending, n_pending);
                        if (n > 0) {
                                memmove(pending, pending + n, n_pending - (size_t) n);
                                n_pending -= (size_t) n;
                        } else if (n < 0 && errno != EAGAIN && errno != EINTR)
                                n_pending = 0, close_input(relay); /* the process closed its input */
                }
                if (p[5].revents) {
                        uint16_t size[2];
                        ssize_t n = read(relay->resize, size, sizeof(size));
                        if (n == (ssize_t) sizeof(size) && size[0] > 0 && size[1] > 0 && relay->in >= 0)
                                (void) ioctl(relay->in, TIOCSWINSZ,
                                             &(struct winsize){ .ws_row = size[0], .ws_col = size[1] });
                        else if (n >= 0 || (errno != EINTR && errno != EAGAIN))
                                relay->resize = safe_close(relay->resize); /* the client is gone */
                }
                if (p[0].revents) {
                        siginfo_t si = {};
                        if (waitid(P_PIDFD, (id_t) relay->pidfd, &si, WEXITED) < 0)
                                return -errno;
                        code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
                        relay->pidfd = safe_close(relay->pidfd);
                        /* Its input ends with it; what it wrote before exiting is in the pipes, what
                         * leftovers write is relayed for a short while more. */
                        close_input(relay);
                        n_pending = 0;
                        deadline = now_monotonic_usec() + EXEC_DRAIN_USEC;
                }
        }
        relay->out = safe_close(relay->out);
        relay->err = safe_close(relay->err);
        relay->caller_in = safe_close(relay->caller_in);
        relay->caller_out = safe_close(relay->caller_out);
        relay->caller_err = safe_close(relay->caller_err);
        relay->in = safe_close(relay->in);
        relay->resize = safe_close(relay->resize);
        return code;
}
