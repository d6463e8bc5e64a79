/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "nspawn-spec.h"

/* --userns=auto: container ids 0..USERNS_RANGE-1 are host ids base..base+USERNS_RANGE-1. */
#define USERNS_RANGE 65536U

/* In the helper (host root), after the child was cloned into its new user namespace: write its
 * uid_map and gid_map. */
int userns_write_maps(pid_t pid, uint32_t base);

/* In the helper: mount the container's root file system in the mount namespace of 'pid' (the
 * child, waiting): an overlay whose layers and upper/work directories are idmapped into the
 * child's user namespace (so files that are root's on disk are the container root's). Made with
 * host privilege, which the child lacks. On failure 'message' says which step failed. */
int userns_mount_rootfs(const ContainerSpec *spec, pid_t pid, char *message, size_t size);

/* In the helper, before the clone: give empty volumes that are still host root's to the container's
 * root, so its root can fill them (copy-up) and write to them. */
int userns_chown_volumes(const ContainerSpec *spec);

/* After entering a user namespace (clone or setns): become its root. Until then the process keeps
 * host uid 0, which is unmapped there (it would show as nobody, but create files as host root). */
int userns_become_root(void);
