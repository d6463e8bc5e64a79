/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go durations on arbitrary bytes: what parses prints back as a duration that parses to the same. */

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "go-duration.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = malloc(size + 1);
        char buf[GO_DURATION_MAX], error[512];
        int64_t v, again;

        if (!s || size > 128)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        go_duration_error(s, error, sizeof(error));
        require(strncmp(error, "time: ", 6) == 0);
        if (go_duration_parse(s, &v) < 0)
                return 0;
        go_duration_format(v, buf);
        require(strlen(buf) < GO_DURATION_MAX);
        require(go_duration_parse(buf, &again) == 0);
        require(again == v);
        return 0;
}
