/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"
#include "macro.h"

struct Sha256 {
        EVP_MD_CTX *ctx;
        bool finalized;
};

void sha256_free(Sha256 *s) {
        if (!s)
                return;
        EVP_MD_CTX_free(s->ctx);
        free(s);
}

int sha256_new(Sha256 **ret) {
        _cleanup_(sha256_freep) Sha256 *s = NULL;

        if (!ret)
                return -EINVAL;
        s = calloc(1, sizeof(Sha256));
        if (!s)
                return -ENOMEM;
        s->ctx = EVP_MD_CTX_new();
        if (!s->ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1)
                return -EIO;
        *ret = TAKE_PTR(s);
        return 0;
}

int sha256_update(Sha256 *s, const void *p, size_t n) {
        if (!s || (!p && n > 0))
                return -EINVAL;
        if (s->finalized)
                return -ESTALE;
        if (n == 0)
                return 0;
        if (EVP_DigestUpdate(s->ctx, p, n) != 1)
                return -EIO;
        return 0;
}

static void hex_encode(const uint8_t *p, size_t n, char *ret) {
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                ret[2 * i] = hex[p[i] >> 4];
                ret[2 * i + 1] = hex[p[i] & 0xf];
        }
        ret[2 * n] = 0;
}

int sha256_final_hex(Sha256 *s, char ret[SHA256_HEX_LEN + 1]) {
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        if (!s || !ret)
                return -EINVAL;
        if (s->finalized)
                return -ESTALE;
        /* Whatever happens, the context is spent now. */
        s->finalized = true;
        if (EVP_DigestFinal_ex(s->ctx, md, &n) != 1 || n != SHA256_HEX_LEN / 2)
                return -EIO;
        hex_encode(md, n, ret);
        return 0;
}

int sha256_hex_of(const void *p, size_t n, char ret[SHA256_HEX_LEN + 1]) {
        _cleanup_(sha256_freep) Sha256 *s = NULL;
        int r;

        r = sha256_new(&s);
        if (r < 0)
                return r;
        r = sha256_update(s, p, n);
        if (r < 0)
                return r;
        return sha256_final_hex(s, ret);
}

bool digest_is_valid(const char *s) {
        size_t k = strlen(DIGEST_SHA256_PREFIX);

        if (!s || strncmp(s, DIGEST_SHA256_PREFIX, k) != 0)
                return false;
        s += k;
        for (size_t i = 0; i < SHA256_HEX_LEN; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false; /* also catches a short string: its NUL is not hex */
        return s[SHA256_HEX_LEN] == 0;
}
