/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-api's stat of a tar stream's first entry (docker cp's X-Docker-Container-Path-Stat) on
 * arbitrary bytes, checking its contract. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api-tar-stat.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        TarStat s = {};
        char *v = NULL;
        int r;

        if (size > 4 * TAR_STAT_MAX_HEAD)
                return 0;
        r = api_tar_stat_parse(data, size, &s);
        require(r == 0 || r == 1 || r == -EBADMSG || r == -ENOMEM);
        if (r != 1) {
                require(!s.name && !s.path && !s.link_target);
                return 0;
        }
        require(s.name && s.path && s.link_target);
        require(strcmp(s.name, "/") == 0 || !strchr(s.name, '/'));
        require(api_tar_stat_header(&s, &v) == 0 && v);
        free(v);
        tar_stat_done(&s);
        return 0;
}
