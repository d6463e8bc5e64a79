/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "digest.h"
#include "tar-extract.h"
#include "tar-write.h"

/* The tar code berthctl's "cp" and "build" use, from the berth-tar module (loaded only for them:
 * linking libarchive into berthctl made every other command start slower). */
typedef struct CtlTar {
        int (*write_entry)(int parent_fd, const char *name, const char *as, TarWriteFlags flags, int output_fd,
                           char **ret_error);
        int (*extract)(int input_fd, int dest_dirfd, TarExtractFlags flags, TarExtractResult *result, char **ret_error);
        /* build: COPY's streams, entry by entry, and the digests of its cache keys. */
        int (*write_tree)(int dir_fd, int output_fd, char **ret_error);
        int (*writer_new)(int output_fd, TarWriteFlags flags, TarWriter **ret, char **ret_error);
        int (*writer_add)(TarWriter *w, int parent_fd, const char *name, const char *as, bool recursive);
        int (*writer_finish)(TarWriter *w);
        char *(*writer_take_error)(TarWriter *w);
        TarWriter *(*writer_free)(TarWriter *w);
        int (*sha256_hex_of)(const void *p, size_t n, char ret[SHA256_HEX_LEN + 1]);
        /* The stream again with every entry's owner set (and its permission bits, mode >= 0). */
        int (*rewrite_owner)(int input_fd, int output_fd, unsigned uid, unsigned gid, int mode, char **ret_error);
        /* The sha256 of a tar stream's entries without their mtimes, and of extra: COPY's cache key. */
        int (*content_digest)(int fd, const char *extra, char ret[SHA256_HEX_LEN + 1]);
} CtlTar;

/* The module's table, as exported under this name. */
#define CTL_TAR_SYMBOL "berth_ctl_tar"

/* Load the module (once); logs on failure. $BERTH_TAR_MODULE overrides its path. */
int ctl_tar_load(const CtlTar **ret);
