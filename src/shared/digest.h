/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SHA256_HEX_LEN       64
#define DIGEST_SHA256_PREFIX "sha256:"

/* A streaming sha256 over OpenSSL's EVP interface. After sha256_final_hex() the object may only be freed. */
typedef struct Sha256 Sha256;

int sha256_new(Sha256 **ret);
int sha256_update(Sha256 *s, const void *p, size_t n);
int sha256_final_hex(Sha256 *s, char ret[SHA256_HEX_LEN + 1]);
void sha256_free(Sha256 *s);
static inline void sha256_freep(Sha256 **s) {
        if (*s)
                sha256_free(*s);
}

/* One-shot convenience. */
int sha256_hex_of(const void *p, size_t n, char ret[SHA256_HEX_LEN + 1]);

/* "sha256:" followed by exactly 64 lowercase hex digits, as OCI content addresses are written. */
bool digest_is_valid(const char *s);
