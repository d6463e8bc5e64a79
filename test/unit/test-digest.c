/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "digest.h"
#include "macro.h"
#include "tests.h"

#define SHA256_EMPTY  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_ABC    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define MSG448        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define SHA256_MSG448 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

static void test_known_vectors(void) {
        char hex[SHA256_HEX_LEN + 1];

        CHECK_INT(sha256_hex_of("", 0, hex), 0);
        CHECK_STR(hex, SHA256_EMPTY);
        CHECK_INT(sha256_hex_of(NULL, 0, hex), 0);
        CHECK_STR(hex, SHA256_EMPTY);
        CHECK_INT(sha256_hex_of("abc", 3, hex), 0);
        CHECK_STR(hex, SHA256_ABC);
        CHECK_INT(sha256_hex_of(MSG448, strlen(MSG448), hex), 0);
        CHECK_STR(hex, SHA256_MSG448);
}

static void test_streaming(void) {
        _cleanup_(sha256_freep) Sha256 *s = NULL;
        char one[SHA256_HEX_LEN + 1], streamed[SHA256_HEX_LEN + 1];
        static const char msg[] = MSG448;
        const size_t n = strlen(msg);

        /* Every split point must give the one-shot result. */
        CHECK_INT(sha256_hex_of(msg, n, one), 0);
        for (size_t split = 0; split <= n; split++) {
                _cleanup_(sha256_freep) Sha256 *t = NULL;

                ASSERT(sha256_new(&t) == 0);
                CHECK_INT(sha256_update(t, msg, split), 0);
                CHECK_INT(sha256_update(t, msg + split, 0), 0);
                CHECK_INT(sha256_update(t, msg + split, n - split), 0);
                CHECK_INT(sha256_final_hex(t, streamed), 0);
                CHECK_STR(streamed, one);
        }

        /* Byte by byte over a larger buffer. */
        uint8_t big[10000];
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (uint8_t) (i * 7 + 3);
        CHECK_INT(sha256_hex_of(big, sizeof(big), one), 0);
        ASSERT(sha256_new(&s) == 0);
        for (size_t i = 0; i < sizeof(big); i++)
                CHECK_INT(sha256_update(s, big + i, 1), 0);
        CHECK_INT(sha256_final_hex(s, streamed), 0);
        CHECK_STR(streamed, one);

        /* A finalized context is spent. */
        CHECK_INT(sha256_update(s, "x", 1), -ESTALE);
        CHECK_INT(sha256_final_hex(s, streamed), -ESTALE);
        sha256_free(NULL);
}

static void test_digest_is_valid(void) {
        CHECK(digest_is_valid("sha256:" SHA256_EMPTY));
        CHECK(digest_is_valid("sha256:" SHA256_ABC));
        CHECK(!digest_is_valid(NULL));
        CHECK(!digest_is_valid(""));
        CHECK(!digest_is_valid("sha256:"));
        CHECK(!digest_is_valid(SHA256_EMPTY));
        CHECK(!digest_is_valid("sha512:" SHA256_EMPTY));
        CHECK(!digest_is_valid("SHA256:" SHA256_EMPTY));
        CHECK(!digest_is_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
        CHECK(!digest_is_valid("sha256:" SHA256_EMPTY "0"));
        CHECK(!digest_is_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"));
        CHECK(!digest_is_valid("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        CHECK(!digest_is_valid("sha256: " SHA256_EMPTY));
}

int main(void) {
        TEST(test_known_vectors);
        TEST(test_streaming);
        TEST(test_digest_is_valid);
        return tests_exit_status();
}
