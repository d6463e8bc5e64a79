/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Path checks, pure. A tar entry name is safe when, after dropping empty and "." components (so leading
 * "./", trailing "/" and "a//b" are fine), it is relative, has no ".." component and is not empty.
 * A name that consists only of "." components ("." or "./") is safe and stands for the root.
 * tar_path_normalize() returns that cleaned form ("a/b/c", or "." for the root) via ret (may be NULL),
 * and -EINVAL when the name is unsafe. */
bool tar_path_is_safe(const char *path);
int tar_path_normalize(const char *path, char **ret);
