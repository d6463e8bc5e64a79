/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "api-registry-auth.h"
#include "macro.h"
#include "tests.h"

static int parse(const char *header, RegistryAuth *a) {
        return api_registry_auth_parse(header, header ? strlen(header) : 0, a);
}

static void test_forms(void) {
        RegistryAuth a;

        /* {"username":"u","password":"p?>","serveraddress":"r"}: base64url, padded (its '_' is the
         * standard alphabet's '/'). */
        CHECK_INT(parse("eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InA_PiIsInNlcnZlcmFkZHJlc3MiOiJyIn0=", &a), 0);
        CHECK_STR(a.username, "u");
        CHECK_STR(a.password, "p?>");
        CHECK(!a.identity_token);
        registry_auth_done(&a);
        /* The same without padding and in the standard alphabet. */
        CHECK_INT(parse("eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InA/PiIsInNlcnZlcmFkZHJlc3MiOiJyIn0", &a), 0);
        CHECK_STR(a.password, "p?>");
        registry_auth_done(&a);
        /* {"identitytoken":"tok"} */
        CHECK_INT(parse("eyJpZGVudGl0eXRva2VuIjoidG9rIn0=", &a), 0);
        CHECK(!a.username && !a.password);
        CHECK_STR(a.identity_token, "tok");
        registry_auth_done(&a);
        /* Anonymous: no header, {}, null, empty strings. */
        CHECK_INT(parse(NULL, &a), 0);
        CHECK(!a.username && !a.password && !a.identity_token);
        CHECK_INT(parse("e30=", &a), 0);
        CHECK(!a.username && !a.password && !a.identity_token);
        CHECK_INT(parse("bnVsbA", &a), 0);
        CHECK(!a.username);
        CHECK_INT(parse("eyJ1c2VybmFtZSI6IiJ9", &a), 0); /* {"username":""} */
        CHECK(!a.username);
}

static void test_bad(void) {
        RegistryAuth a;
        CHECK_INT(parse("not base64!", &a), -EBADMSG);
        CHECK_INT(parse("e", &a), -EBADMSG);
        CHECK_INT(parse("e25vdCBqc29u", &a), -EBADMSG); /* "{not json" */
        CHECK_INT(parse("WyJ1Il0", &a), -EBADMSG); /* ["u"] */
        CHECK_INT(parse("eyJ1c2VybmFtZSI6NX0", &a), -EBADMSG); /* {"username":5} */
        CHECK_INT(parse("e30AAA", &a), -EBADMSG); /* "{}" and NULs */
        CHECK(!a.username && !a.password && !a.identity_token);
}

int main(void) {
        TEST(test_forms);
        TEST(test_bad);
        return tests_exit_status();
}
