/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"
#include "nspawn-spec.h"

/* The container's PID 1 before exec: sets up the namespaces' contents and execs the payload.
 * On failure writes "<errno> <kind> <message>" to error_fd (kind "setup" or "exec") and exits. */
_noreturn_ void container_child(const ContainerSpec *spec, int stdout_fd, int stderr_fd, int error_fd);
