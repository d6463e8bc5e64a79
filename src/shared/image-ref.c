/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image-ref.h"
#include "macro.h"
#include "names.h"
#include "util.h"

#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_REPO_PREFIX  "library/"

void image_ref_done(ImageRef *r) {
        if (!r)
                return;
        r->domain = mfree(r->domain);
        r->path = mfree(r->path);
        r->tag = mfree(r->tag);
        r->digest = mfree(r->digest);
}

bool image_ref_is_qualified(const char *s) {
        const char *slash = s ? strchr(s, '/') : NULL;
        return slash && image_domain_is_likely(s, (size_t) (slash - s));
}

int image_ref_parse(const char *s, ImageRef *ret) {
        _cleanup_free_ char *name = NULL, *tag = NULL, *digest = NULL, *domain = NULL, *path = NULL;
        int r;

        r = image_reference_parse_full(s, &name, &tag, &digest);
        if (r < 0)
                return r;

        const char *slash = strchr(name, '/');
        if (slash && image_domain_is_likely(name, (size_t) (slash - name))) {
                /* names.c took the whole name for a remote name when it is one; then this first
                 * component is a lowercase path component, which is a domain unless it has an '_'.
                 * Docker would go on with an empty domain: no registry to ask, so refuse. */
                if (memchr(name, '_', (size_t) (slash - name)))
                        return -EINVAL;
                domain = strndup(name, (size_t) (slash - name));
                path = strdup(slash + 1);
        } else {
                domain = strdup(IMAGE_REF_DEFAULT_DOMAIN);
                path = strdup(name);
        }
        if (!domain || !path)
                return -ENOMEM;
        if (streq(domain, LEGACY_DEFAULT_DOMAIN)) {
                free(domain);
                domain = strdup(IMAGE_REF_DEFAULT_DOMAIN);
                if (!domain)
                        return -ENOMEM;
        }
        if (streq(domain, IMAGE_REF_DEFAULT_DOMAIN) && !strchr(path, '/')) {
                char *p = strjoin(OFFICIAL_REPO_PREFIX, path);
                if (!p)
                        return -ENOMEM;
                free(path);
                path = p;
        }
        /* names.c counts a domain in a name's length: the normalized name must fit, too, so that
         * image_ref_string() and image_ref_familiar() always give valid references. */
        if (strlen(domain) + 1 + strlen(path) > IMAGE_NAME_MAX)
                return -EINVAL;
        if (!tag && !digest && !(tag = strdup("latest")))
                return -ENOMEM;

        *ret = (ImageRef){
                .domain = TAKE_PTR(domain),
                .path = TAKE_PTR(path),
                .tag = TAKE_PTR(tag),
                .digest = TAKE_PTR(digest),
        };
        return 0;
}

static char *with_tag_digest(const ImageRef *r, char *name) {
        char *s;

        if (!name)
                return NULL;
        s = strjoin(name, r->tag ? ":" : "", r->tag ?: "", r->digest ? "@" : "", r->digest ?: "");
        free(name);
        return s;
}

char *image_ref_name(const ImageRef *r) {
        return strjoin(r->domain, "/", r->path);
}

char *image_ref_string(const ImageRef *r) {
        return with_tag_digest(r, image_ref_name(r));
}

char *image_ref_familiar_name(const ImageRef *r) {
        /* Unlike Docker, docker.io stays when the path would read as a domain without it
         * ("docker.io/example.com/x"; Docker Hub has no such namespaces): familiar names parse back
         * to what they name. */
        if (!streq(r->domain, IMAGE_REF_DEFAULT_DOMAIN) || image_ref_is_qualified(r->path))
                return image_ref_name(r);
        /* Docker's familiarizeName: library/NAME is NAME, but only with a single component after it. */
        const char *rest = startswith(r->path, OFFICIAL_REPO_PREFIX);
        return strdup(rest && !strchr(rest, '/') ? rest : r->path);
}

char *image_ref_familiar(const ImageRef *r) {
        return with_tag_digest(r, image_ref_familiar_name(r));
}

const char *image_ref_registry_host(const ImageRef *r) {
        return streq(r->domain, IMAGE_REF_DEFAULT_DOMAIN) ? IMAGE_REF_DEFAULT_HOST : r->domain;
}

int image_ref_copy(const ImageRef *r, ImageRef *ret) {
        ImageRef c = {
                .domain = strdup(r->domain),
                .path = strdup(r->path),
                .tag = r->tag ? strdup(r->tag) : NULL,
                .digest = r->digest ? strdup(r->digest) : NULL,
        };
        if (!c.domain || !c.path || (r->tag && !c.tag) || (r->digest && !c.digest)) {
                image_ref_done(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}
