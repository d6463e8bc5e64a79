/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

typedef struct ContainerUser {
        uid_t uid;
        gid_t gid;
        gid_t groups[64]; /* supplementary groups from the image's /etc/group */
        size_t n_groups;
} ContainerUser;

/* Resolve "user[:group]" (names or numbers) against /etc/passwd and /etc/group of the current root
 * (the container's, after pivot_root), as Docker does. A number not in /etc/passwd is used as is,
 * with group 0. Writes a sentence into 'message' on failure. */
int resolve_container_user(const char *spec, ContainerUser *ret, char *message, size_t size);
/* --group-add: each group (a name in /etc/group of the current root, or a number) joins u's
 * supplementary groups. Writes Docker's sentence into 'message' for a name not found. */
int add_container_groups(char **groups, ContainerUser *u, char *message, size_t size);
/* setgroups + setgid + setuid. */
int switch_to_user(const ContainerUser *u);
