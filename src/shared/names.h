/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#define CONTAINER_NAME_MAX 128
#define IMAGE_TAG_MAX      128
#define IMAGE_NAME_MAX     255

/* Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ ; we also cap the length. */
bool container_name_is_valid(const char *name);
/* Repository names as in the OCI distribution spec: lowercase path components of
 * [a-z0-9]+ separated by '.', '_', '__' or '-'+, joined by '/', optionally a registry host[:port]. */
bool image_repository_is_valid(const char *name);
bool image_tag_is_valid(const char *tag);
/* "name[:tag]" → name and tag ("latest" when none). -EINVAL when either part is bad. */
int image_reference_parse(const char *ref, char **ret_name, char **ret_tag);
/* RFC 1123 host name label(s), at most 63 characters, as sethostname in a container wants. */
bool hostname_is_valid(const char *s);
/* "NAME=value" with a non-empty NAME free of '=' and NUL. */
bool env_assignment_is_valid(const char *s);
