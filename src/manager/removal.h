/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Directories of what is gone (a container's file system, a layer, a volume's data) can be large:
 * removing them must not stop berthd's loop. The caller first renames the directory to a name of
 * its kind that startup sweeps (".rm-*"), so a crash at any point leaves nothing that looks alive,
 * then hands it here: berthd's removal thread removes it with 'remove' (a storage driver's, or
 * rm_rf), in order. What a crash cut short, the next startup's sweep does. */
int removal_start(Manager *m, const char *path, int (*remove)(const char *path));

/* Rename path to <parent>/.rm-<basename> (replacing a leftover of that name) and start its
 * removal. -ENOENT when path does not exist. */
int removal_rename_and_start(Manager *m, const char *path, int (*remove)(const char *path));

/* Remove, in workers, every ".rm-*" entry of dir (what crashed removals left). */
void removal_sweep(Manager *m, const char *dir, int (*remove)(const char *path));

/* Finish what is queued and stop the thread (berthd's exit). */
void manager_free_removals(Manager *m);
