/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "nspawn-spec.h"

/* Runs in the container's fresh mount namespace: mounts the overlay root (with a user namespace
 * the supervisor did), /proc, /dev, /sys and pivots into it. On failure returns negative errno and
 * points *ret_what at a static description. */
int setup_rootfs(const ContainerSpec *spec, const char **ret_what, char *message, size_t size);
