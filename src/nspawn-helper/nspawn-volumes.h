/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "nspawn-spec.h"

/* Mount the container's volumes, bind mounts and tmpfs mounts. Runs in the container's mount
 * namespace with the new root as the working directory, before pivot_root. Targets are resolved
 * inside the container's root (symlinks in the image cannot point them at the host), missing
 * ones are created. On failure writes a sentence into 'message'. */
int setup_user_mounts(const ContainerSpec *spec, char *message, size_t size);
