/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus-errors.h"
#include "util.h"

int ctl_object_gone_message(const sd_bus_error *error, char **ret) {
        static const struct {
                const char *prefix, *what;
                int max; /* characters of the id shown, 0: all */
        } kinds[] = {
                { "/org/berth1/container", "container", 12 },
                { "/org/berth1/image", "image", 12 },
                { "/org/berth1/volume", "volume", 0 },
                { "/org/berth1/network", "network", 12 },
        };
        if (!sd_bus_error_has_names(error, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_INTERFACE,
                                    SD_BUS_ERROR_UNKNOWN_METHOD, SD_BUS_ERROR_UNKNOWN_PROPERTY) ||
            isempty(error->message))
                return 0;
        const char *quoted = strstr(error->message, "'/org/berth1/");
        if (!quoted)
                return 0;
        _cleanup_free_ char *path = strndup(quoted + 1, strcspn(quoted + 1, "'"));
        if (!path)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                _cleanup_free_ char *id = NULL;
                int r = sd_bus_path_decode(path, kinds[i].prefix, &id);
                if (r < 0)
                        return r;
                if (r == 0 || isempty(id))
                        continue;
                int n = kinds[i].max > 0 ? kinds[i].max : (int) strlen(id);
                return asprintf(ret, "No such %s: %.*s", kinds[i].what, n, id) < 0 ? -ENOMEM : 1;
        }
        return 0;
}
