/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tar entry names, checked and normalized without touching the file system (see tar-path.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "tar-path.h"
#include "util.h"

/* Walk path's components; fill buf (at least strlen(path) + 2 bytes) with the normalized form if non-NULL. */
static int path_check(const char *path, char *buf) {
        size_t n = 0;

        if (isempty(path) || path[0] == '/')
                return -EINVAL;

        for (const char *p = path; *p;) {
                size_t len = strcspn(p, "/");

                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (buf) {
                                if (n > 0)
                                        buf[n] = '/';
                                memcpy(buf + n + (n > 0), p, len);
                        }
                        n += len + (n > 0);
                }
                p += len;
                if (*p == '/')
                        p++;
        }

        if (buf) {
                if (n == 0)
                        buf[n++] = '.'; /* only "." components: the root itself */
                buf[n] = 0;
        }
        return 0;
}

bool tar_path_is_safe(const char *path) {
        return path_check(path, NULL) >= 0;
}

int tar_path_normalize(const char *path, char **ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = path_check(path, NULL);
        if (r < 0)
                return r;
        if (!ret)
                return 0;
        buf = malloc(strlen(path) + 2);
        if (!buf)
                return -ENOMEM;
        r = path_check(path, buf);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}
