/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-api's X-Registry-Auth parser on arbitrary bytes, checking its contract. */

#include <errno.h>
#include <string.h>

#include "api-registry-auth.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        RegistryAuth a = { (char *) "x", NULL, NULL };
        int r;

        if (size > 64 * 1024)
                return 0;
        r = api_registry_auth_parse((const char *) data, size, &a);
        if (r < 0) {
                require(r == -EBADMSG || r == -ENOMEM);
                require(!a.username && !a.password && !a.identity_token);
                return 0;
        }
        require(r == 0);
        /* What is set is a non-empty C string. */
        require(!a.username || a.username[0]);
        require(!a.password || a.password[0]);
        require(!a.identity_token || a.identity_token[0]);
        registry_auth_done(&a);
        return 0;
}
