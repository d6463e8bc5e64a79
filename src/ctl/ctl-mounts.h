/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* One mount as CreateContainer's "Mounts" option takes it: (type, source, target, read-only). */
typedef struct CtlMount {
        char *type; /* "volume", "bind", "tmpfs" */
        char *source; /* volume name ("" = anonymous), host path, or tmpfs options */
        char *target;
        bool read_only;
} CtlMount;

void ctl_mount_done(CtlMount *m);

/* -v/--volume: "/ctr" (anonymous), "NAME:/ctr[:ro|rw]" (named), "/host:/ctr[:ro|rw]" (bind). */
int ctl_parse_volume_spec(const char *spec, CtlMount *ret);
/* --mount type=volume|bind|tmpfs,source=...,target=...[,readonly][,tmpfs-size=...][,tmpfs-mode=...] */
int ctl_parse_mount_spec(const char *spec, CtlMount *ret);
/* --tmpfs /ctr[:size=64m,mode=1777] */
int ctl_parse_tmpfs_spec(const char *spec, CtlMount *ret);
