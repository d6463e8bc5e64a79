/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registries.conf's TOML subset and daemon.json's "insecure-registries" on arbitrary bytes: a
 * failure leaves the configuration as it was and explains itself; a success parses again the same. */

#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "registries-conf.h"

static const char *const names[] = {
        "busybox",
        "user/app:1",
        "quay.io/a/b",
        "x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
};
static const char *const hosts[] = { "localhost:5000", "example.com", "10.0.0.1:5000", "[::1]", "a.b.internal" };

static void use(const RegistriesConf *c) {
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                ImageRef *a = NULL;
                size_t n = 0;

                require(image_ref_candidates(c, names[i], &a, &n) == 0);
                require(n >= 1);
                for (size_t k = 0; k < n; k++) {
                        ImageRef src = {};
                        require(a[k].domain && a[k].path && (a[k].tag || a[k].digest));
                        if (registries_conf_pull_source(c, &a[k], &src) == 0)
                                require(src.domain && src.path);
                        image_ref_done(&src);
                }
                image_ref_array_free(a, n);
        }
        for (size_t i = 0; i < ELEMENTSOF(hosts); i++)
                (void) registry_is_insecure(c, hosts[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = registries_conf_new();
        _cleanup_free_ char *error = NULL;
        int r;

        if (!c)
                return 0;
        r = registries_conf_parse(c, (const char *) data, size, &error);
        if (r < 0) {
                require(r == -EBADMSG || r == -ENOMEM);
                require(r == -ENOMEM || error);
                use(c);
        } else {
                require(!error);
                use(c);
                /* A second time, as a drop-in over itself: the same content parses the same way. */
                require(registries_conf_parse(c, (const char *) data, size, NULL) == 0);
                use(c);
        }

        error = mfree(error);
        r = registries_conf_parse_daemon_json(c, (const char *) data, size, &error);
        require(r == 0 || r == -ENOMEM || (r == -EBADMSG && error));
        use(c);
        return 0;
}
