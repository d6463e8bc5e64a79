/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Docker's reference normalization on arbitrary bytes: what parses comes back the same from its full
 * and its familiar form. */

#include <string.h>

#include "fuzz.h"
#include "image-ref.h"
#include "macro.h"
#include "registries-conf.h"
#include "util.h"

static void require_same(const ImageRef *a, const char *s) {
        _cleanup_(image_ref_done) ImageRef b = {};

        require(image_ref_parse(s, &b) == 0);
        require(streq(a->domain, b.domain) && streq(a->path, b.path));
        require(streq_ptr(a->tag, b.tag) && streq_ptr(a->digest, b.digest));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = malloc(size + 1), *full = NULL, *familiar = NULL, *name = NULL;
        _cleanup_(image_ref_done) ImageRef r = {};
        ImageRef *candidates = NULL;
        size_t n = 0;

        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;

        (void) registry_is_insecure(NULL, s);
        if (image_ref_parse(s, &r) < 0) {
                require(image_ref_candidates(NULL, s, &candidates, &n) < 0);
                return 0;
        }
        require(!isempty(r.domain) && !isempty(r.path));
        require(r.tag || r.digest);
        require(!streq(r.domain, "index.docker.io"));
        require(!streq(r.domain, IMAGE_REF_DEFAULT_DOMAIN) || strchr(r.path, '/'));
        for (const char *p = r.path; *p; p++)
                require(!(*p >= 'A' && *p <= 'Z'));
        require(image_ref_registry_host(&r));

        full = image_ref_string(&r);
        familiar = image_ref_familiar(&r);
        name = image_ref_familiar_name(&r);
        require(full && familiar && name);
        require(image_ref_is_qualified(full));
        require(startswith(familiar, name));
        require_same(&r, full);
        require_same(&r, familiar);

        /* Without configuration, the one candidate is the reference itself. */
        require(image_ref_candidates(NULL, s, &candidates, &n) == 0);
        require(n == 1);
        require(streq(candidates[0].domain, r.domain) && streq(candidates[0].path, r.path));
        image_ref_array_free(candidates, n);
        return 0;
}
