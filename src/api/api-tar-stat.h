/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Docker's X-Docker-Container-Path-Stat: what "docker cp" learns of a path in a container, read
 * from the first entry of the tar stream Container.CopyFrom writes (berthd has no stat method; the
 * first header says the same). */
typedef struct TarStat {
        char *name; /* the entry's last component */
        char *path; /* the entry's whole name, without trailing slashes */
        uint64_t size;
        uint32_t mode; /* Go's os.FileMode: permission bits plus its type bits */
        int64_t mtime; /* seconds since the epoch */
        char *link_target; /* "" unless a symlink or hard link */
} TarStat;

#define TAR_GO_MODE_DIR (UINT32_C(1) << 31)

/* Headers before the first entry (pax, GNU long names) larger than this are refused. */
#define TAR_STAT_MAX_HEAD (1024U * 1024U)

/* Parses the first entry of the tar stream starting in buf[0..len): 0 when more bytes are needed,
 * 1 with *ret set, -EBADMSG when this is no tar stream or it has no entry. */
int api_tar_stat_parse(const void *buf, size_t len, TarStat *ret);
void tar_stat_done(TarStat *s);

/* Go's os.FileMode of a tar type flag and permission bits. */
uint32_t api_tar_go_mode(char typeflag, uint32_t perm);

/* The header's value: base64 of {"name","size","mode","mtime" (RFC 3339),"linkTarget"}. */
int api_tar_stat_header(const TarStat *s, char **ret);
