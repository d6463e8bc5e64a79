/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"
#include "nspawn-spec.h"

/* The container's PID 1 before exec: sets up the namespaces' contents and execs the payload.
 * On failure writes its status line, "ERR <errno> <setup|exec> <message>\n" (helper-protocol.h), to
 * error_fd, which the supervisor passes on, and exits.
 * With a user namespace, the supervisor writes a byte to userns_pipe once it wrote the id maps and
 * mounted the root file system. stdin_fd: the payload's stdin (-1: /dev/null; unused with a terminal).
 * --network private with interfaces: the supervisor writes a byte to net_pipe once it made them
 * (else -1). --network container: net_join_fd is a pidfd of the process whose network namespace
 * the child joins (else -1). */
_noreturn_ void container_child(const ContainerSpec *spec, int stdin_fd, int stdout_fd, int stderr_fd, int tty_socket,
                                int userns_pipe, int net_pipe, int net_join_fd, int error_fd);

/* Apply the payload's confinement (seccomp filter, capabilities), switch to 'env' and exec 'argv'.
 * Shared by the container's PID 1 and by processes exec'd into it later. */
_noreturn_ void confine_and_exec(const ContainerSpec *spec, const char *cwd, int error_fd);
/* A process exec'd into a running container, after the caller joined its namespaces and forked.
 * Its stdin, stdout and stderr: a terminal received over tty_socket (exec -t), else stdio[]. */
_noreturn_ void exec_child(const ContainerSpec *spec, const char *cwd, int tty_socket, const int stdio[3],
                           int error_fd);
