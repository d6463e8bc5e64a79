/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "image-ref.h"
#include "macro.h"
#include "tests.h"

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Parses s and compares with Docker's normalized and familiar forms (tag/digest NULL when absent). */
static void check(const char *s, const char *domain, const char *path, const char *tag, const char *digest,
                  const char *familiar) {
        _cleanup_(image_ref_done) ImageRef r = {}, again = {};
        _cleanup_free_ char *f = NULL, *full = NULL;

        CHECK_INT(image_ref_parse(s, &r), 0);
        if (!r.domain) {
                printf("FAIL cannot parse %s\n", s);
                tests_failed++;
                return;
        }
        CHECK_STR(r.domain, domain);
        CHECK_STR(r.path, path);
        CHECK(streq_ptr(r.tag, tag));
        CHECK(streq_ptr(r.digest, digest));
        f = image_ref_familiar(&r);
        CHECK_STR(f, familiar);
        /* The familiar and the full form both parse back to the same reference. */
        full = image_ref_string(&r);
        CHECK_INT(image_ref_parse(full, &again), 0);
        CHECK_STR(again.domain, r.domain);
        CHECK_STR(again.path, r.path);
        image_ref_done(&again);
        CHECK_INT(image_ref_parse(f, &again), 0);
        CHECK_STR(again.domain, r.domain);
        CHECK_STR(again.path, r.path);
        CHECK(streq_ptr(again.tag, r.tag));
        CHECK(streq_ptr(again.digest, r.digest));
}

static void check_invalid(const char *s) {
        ImageRef r = { .domain = (char *) 0x1 };

        CHECK_INT(image_ref_parse(s, &r), -EINVAL);
        CHECK(r.domain == (char *) 0x1 && !r.path); /* untouched */
}

static void check_ok_only(const char *s) {
        _cleanup_(image_ref_done) ImageRef r = {};
        CHECK_INT(image_ref_parse(s, &r), 0);
}

static void test_normalize(void) {
        /* distribution/reference's TestParseNormalizedNamed and friends. */
        check("busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest");
        check("busybox:1.36", "docker.io", "library/busybox", "1.36", NULL, "busybox:1.36");
        check("library/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest");
        check("docker.io/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest");
        check("docker.io/library/busybox:musl", "docker.io", "library/busybox", "musl", NULL, "busybox:musl");
        check("index.docker.io/library/busybox:1", "docker.io", "library/busybox", "1", NULL, "busybox:1");
        check("index.docker.io/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest");
        check("user/x", "docker.io", "user/x", "latest", NULL, "user/x:latest");
        check("docker.io/user/x:2", "docker.io", "user/x", "2", NULL, "user/x:2");
        check("library/a/b", "docker.io", "library/a/b", "latest", NULL, "library/a/b:latest");
        check("localhost/x", "localhost", "x", "latest", NULL, "localhost/x:latest");
        check("localhost:5000/x:tag", "localhost:5000", "x", "tag", NULL, "localhost:5000/x:tag");
        check("Host.Example/x", "Host.Example", "x", "latest", NULL, "Host.Example/x:latest");
        check("UPPER/x", "UPPER", "x", "latest", NULL, "UPPER/x:latest");
        check("quay.io/a/b@" D64, "quay.io", "a/b", NULL, D64, "quay.io/a/b@" D64);
        check("127.0.0.1:5000/a/b@" D64, "127.0.0.1:5000", "a/b", NULL, D64, "127.0.0.1:5000/a/b@" D64);
        check("[::1]:5000/a", "[::1]:5000", "a", "latest", NULL, "[::1]:5000/a:latest");
        check("x@" D64, "docker.io", "library/x", NULL, D64, "x@" D64);
        check("x:1@" D64, "docker.io", "library/x", "1", D64, "x:1@" D64);
        check("example.com/a/b/c:v1.2", "example.com", "a/b/c", "v1.2", NULL, "example.com/a/b/c:v1.2");
        check("docker.io/example.com/x", "docker.io", "example.com/x", "latest", NULL,
              "docker.io/example.com/x:latest");
        check("index.docker.io/localhost/x", "docker.io", "localhost/x", "latest", NULL,
              "docker.io/localhost/x:latest");
        /* A single component with a colon is a name and a tag, never a domain. */
        check("localhost:5000", "docker.io", "library/localhost", "5000", NULL, "localhost:5000");

        check_invalid("");
        check_invalid("Busybox");
        check_invalid("docker.io/Busybox");
        check_invalid("user/X");
        check_invalid("busybox:");
        check_invalid("busybox:-x");
        check_invalid("busybox@sha256:0123");
        check_invalid("busybox@md5:0123456789abcdef0123456789abcdef");
        check_invalid("/busybox");
        check_invalid("busybox/");
        check_invalid("a//b");
        check_invalid("http://example.com/x");
        check_invalid("example.com:port/x");
        check_invalid("-host.com/x");
        check_invalid("a_b.c/x"); /* a domain by Docker's split, but an invalid one */
        check_invalid("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        check_invalid("busybox latest");

        /* 255 characters normalized: the most; one more is too many. */
        char name[300];
        memset(name, 'a', sizeof(name));
        strcpy(name + 255 - strlen("docker.io/library/"), ":t");
        check_ok_only(name);
        strcpy(name + 256 - strlen("docker.io/library/"), ":t");
        check_invalid(name);
}

static void test_qualified(void) {
        CHECK(!image_ref_is_qualified("busybox"));
        CHECK(!image_ref_is_qualified("user/x"));
        CHECK(!image_ref_is_qualified("localhost:5000"));
        CHECK(image_ref_is_qualified("localhost/x"));
        CHECK(image_ref_is_qualified("docker.io/x"));
        CHECK(image_ref_is_qualified("Host/x"));
        CHECK(image_ref_is_qualified("host:1/x"));
        CHECK(!image_ref_is_qualified(NULL));
}

static void test_forms(void) {
        _cleanup_(image_ref_done) ImageRef r = {}, copy = {};
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        ASSERT(image_ref_parse("busybox", &r) == 0);
        CHECK_STR(image_ref_registry_host(&r), "registry-1.docker.io");
        a = image_ref_familiar_name(&r);
        CHECK_STR(a, "busybox");
        b = image_ref_name(&r);
        CHECK_STR(b, "docker.io/library/busybox");
        c = image_ref_string(&r);
        CHECK_STR(c, "docker.io/library/busybox:latest");
        CHECK_INT(image_ref_copy(&r, &copy), 0);
        CHECK_STR(copy.path, "library/busybox");
        image_ref_done(&r);
        image_ref_done(&r); /* idempotent */
        free(a);

        ASSERT(image_ref_parse("localhost:5000/x:tag", &r) == 0);
        CHECK_STR(image_ref_registry_host(&r), "localhost:5000");
        a = image_ref_familiar_name(&r);
        CHECK_STR(a, "localhost:5000/x");
        image_ref_done(&r);
        free(a);

        ASSERT(image_ref_parse("quay.io/a/b@" D64, &r) == 0);
        CHECK_STR(image_ref_registry_host(&r), "quay.io");
        a = image_ref_familiar_name(&r);
        CHECK_STR(a, "quay.io/a/b");
}

int main(void) {
        TEST(test_normalize);
        TEST(test_qualified);
        TEST(test_forms);
        return tests_exit_status();
}
