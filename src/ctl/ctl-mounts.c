/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Docker's mount flags, parsed into CreateContainer's (type, source, target, read-only) tuples.
 * Only syntax is checked here; berthd validates names, paths and options. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-mounts.h"
#include "macro.h"

void ctl_mount_done(CtlMount *m) {
        free(m->type);
        free(m->source);
        free(m->target);
        *m = (CtlMount){};
}

static int mount_new(const char *type, const char *source, size_t source_len, const char *target, size_t target_len,
                     bool ro, CtlMount *ret) {
        CtlMount m = {
                .type = strdup(type),
                .source = strndup(source, source_len),
                .target = strndup(target, target_len),
                .read_only = ro,
        };
        if (!m.type || !m.source || !m.target) {
                ctl_mount_done(&m);
                return -ENOMEM;
        }
        if (m.target[0] != '/') {
                ctl_mount_done(&m);
                return -EINVAL;
        }
        *ret = m;
        return 0;
}

static int parse_mode(const char *s, bool *ro) {
        if (streq(s, "ro"))
                *ro = true;
        else if (streq(s, "rw"))
                *ro = false;
        else
                return -EINVAL;
        return 0;
}

int ctl_parse_volume_spec(const char *spec, CtlMount *ret) {
        const char *parts[3];
        size_t lens[3], n = 0;
        bool ro = false;

        if (isempty(spec))
                return -EINVAL;
        for (const char *p = spec;; p++) {
                const char *colon = strchr(p, ':');
                if (n == 3)
                        return -EINVAL;
                parts[n] = p;
                lens[n] = colon ? (size_t) (colon - p) : strlen(p);
                if (lens[n] == 0)
                        return -EINVAL;
                n++;
                if (!colon)
                        break;
                p = colon;
        }
        if (n == 3 || (n == 2 && parts[1][0] != '/')) {
                /* The last part is the mode. */
                _cleanup_free_ char *mode = strndup(parts[n - 1], lens[n - 1]);
                if (!mode || parse_mode(mode, &ro) < 0)
                        return -EINVAL;
                n--;
        }
        if (n == 1)
                return mount_new("volume", "", 0, parts[0], lens[0], ro, ret);
        return mount_new(parts[0][0] == '/' ? "bind" : "volume", parts[0], lens[0], parts[1], lens[1], ro, ret);
}

int ctl_parse_mount_spec(const char *spec, CtlMount *ret) {
        _cleanup_free_ char *copy = strdup(spec ?: ""), *type = NULL, *source = NULL, *target = NULL, *tmpfs = NULL;
        bool ro = false;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(kv, '=');
                const char *value = eq ? eq + 1 : NULL;
                if (eq)
                        *eq = 0;
                char **dest = NULL;
                if (streq(kv, "type"))
                        dest = &type;
                else if (streq(kv, "source") || streq(kv, "src"))
                        dest = &source;
                else if (streq(kv, "target") || streq(kv, "destination") || streq(kv, "dst"))
                        dest = &target;
                else if (streq(kv, "readonly") || streq(kv, "ro")) {
                        if (!value || streq(value, "true") || streq(value, "1"))
                                ro = true;
                        else if (streq(value, "false") || streq(value, "0"))
                                ro = false;
                        else
                                return -EINVAL;
                        continue;
                } else if (streq(kv, "tmpfs-size") || streq(kv, "tmpfs-mode")) {
                        if (!value)
                                return -EINVAL;
                        char *joined = NULL;
                        if (asprintf(&joined, "%s%s%s=%s", tmpfs ?: "", tmpfs ? "," : "",
                                     streq(kv, "tmpfs-size") ? "size" : "mode", value) < 0)
                                return -ENOMEM;
                        free(tmpfs);
                        tmpfs = joined;
                        continue;
                } else
                        return -EINVAL;
                if (!value || *dest)
                        return -EINVAL;
                *dest = strdup(value);
                if (!*dest)
                        return -ENOMEM;
        }
        if (!type || !target)
                return -EINVAL;
        if (streq(type, "tmpfs")) {
                if (source)
                        return -EINVAL;
                return mount_new("tmpfs", tmpfs ?: "", tmpfs ? strlen(tmpfs) : 0, target, strlen(target), ro, ret);
        }
        if (tmpfs || (!streq(type, "volume") && !streq(type, "bind")) || (streq(type, "bind") && !source))
                return -EINVAL;
        return mount_new(type, source ?: "", source ? strlen(source) : 0, target, strlen(target), ro, ret);
}

int ctl_parse_tmpfs_spec(const char *spec, CtlMount *ret) {
        if (isempty(spec))
                return -EINVAL;
        const char *colon = strchr(spec, ':');
        size_t n = colon ? (size_t) (colon - spec) : strlen(spec);
        const char *options = colon ? colon + 1 : "";
        return mount_new("tmpfs", options, strlen(options), spec, n, false, ret);
}
