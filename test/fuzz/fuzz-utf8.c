/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* utf8_sanitize() on arbitrary bytes: always valid for D-Bus, and valid text is left as it is. */

#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 65536)
                return 0;
        _cleanup_free_ char *out = utf8_sanitize((const char *) data, size);
        if (!out)
                return 0;
        require(utf8_is_valid_dbus(out, strlen(out)));
        if (utf8_is_valid_dbus((const char *) data, size))
                require(strlen(out) == size && memcmp(out, data, size) == 0);
        else
                require(strlen(out) > 0);
        return 0;
}
