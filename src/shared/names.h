/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#define CONTAINER_NAME_MAX 128
#define IMAGE_TAG_MAX      128
#define IMAGE_NAME_MAX     255

/* Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ ; we also cap the length. */
bool container_name_is_valid(const char *name);
/* Image references as Docker parses them (github.com/distribution/reference; the grammar is in
 * names.c): NAME[:TAG][@DIGEST], NAME being [DOMAIN/]PATH with DOMAIN a host name (any case, '.'
 * separated alphanumeric labels with inner hyphens), an IPv4 address or a [IPv6 address], with an
 * optional :PORT, and PATH lowercase components of [a-z0-9]+ separated by '.', '_', '__' or '-'+,
 * joined by '/'. At most 255 characters, 247 for a single component (Docker's library/NAME). */
bool image_repository_is_valid(const char *name);
/* Whether Docker takes the first component of a name, s (n bytes), for a domain rather than the
 * start of the path (splitDockerDomain): a '.' or ':', "localhost", or an uppercase letter. */
bool image_domain_is_likely(const char *s, size_t n);
/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
bool image_tag_is_valid(const char *tag);
/* "name[:tag]" → name and tag ("latest" when none), the name as given (nothing like docker.io/library/
 * is added or removed). -EINVAL when either part is bad, the reference has a digest (a tag cannot
 * have one) or is 64 hex digits alone (an image id, as Docker refuses). Outputs are set on success only. */
int image_reference_parse(const char *ref, char **ret_name, char **ret_tag);
/* The whole grammar, "name[:tag][@digest]": the tag or the digest is NULL when the reference has none.
 * Digests are sha256:, sha384: or sha512: with the lowercase hex of that size. */
int image_reference_parse_full(const char *ref, char **ret_name, char **ret_tag, char **ret_digest);
/* RFC 1123 host name label(s), at most 63 characters, as sethostname in a container wants. */
bool hostname_is_valid(const char *s);
/* A sysctl --sysctl may set: one Docker lets a container have in its own namespaces (IPC:
 * kernel.msgmax, msgmnb, msgmni, sem, shmall, shmmax, shmmni, shm_rmid_forced, fs.mqueue.*; network:
 * net.*), with '.' separated components of [A-Za-z0-9_-] (no path tricks). */
bool sysctl_is_namespaced(const char *key);
/* A group name as /etc/group may hold one (portable characters, no ':') or a number: --group-add. */
bool group_name_is_valid(const char *s);
/* A slice unit name as --cgroup-parent takes it: "x.slice" (Docker: more than ".slice"), of systemd's
 * unit name characters, dash-separated parts without empty ones (systemd's slice hierarchy). */
bool slice_name_is_valid(const char *s);
/* A cpuset list, "0-3,6" (Docker's ParseUintList): numbers and ascending ranges below max. Sets
 * the listed bits in mask (max bits, zeroed first) when mask is not NULL; -EINVAL if malformed,
 * -ERANGE if a number is max or more. */
#define CPU_LIST_MAX 8192
int cpu_list_parse(const char *s, unsigned max, unsigned char *mask);
/* "NAME=value" with a non-empty NAME free of '=' and NUL. */
bool env_assignment_is_valid(const char *s);
