/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "tar-extract.h"
#include "tar-write.h"

/* The tar code berthctl's "cp" uses, from the berth-tar module (loaded only for cp: linking
 * libarchive into berthctl made every other command start slower). */
typedef struct CtlTar {
        int (*write_entry)(int parent_fd, const char *name, const char *as, TarWriteFlags flags, int output_fd,
                           char **ret_error);
        int (*extract)(int input_fd, int dest_dirfd, TarExtractFlags flags, TarExtractResult *result, char **ret_error);
} CtlTar;

/* The module's table, as exported under this name. */
#define CTL_TAR_SYMBOL "berth_ctl_tar"

/* Load the module (once); logs on failure. $BERTH_TAR_MODULE overrides its path. */
int ctl_tar_load(const CtlTar **ret);
