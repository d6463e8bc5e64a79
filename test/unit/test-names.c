/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "macro.h"
#include "names.h"
#include "tests.h"

static void test_container_name_is_valid(void) {
        char name[CONTAINER_NAME_MAX + 2];

        CHECK(container_name_is_valid("ab"));
        CHECK(container_name_is_valid("web1"));
        CHECK(container_name_is_valid("my_app.v2-blue"));
        CHECK(container_name_is_valid("A9"));
        CHECK(container_name_is_valid("0-"));
        CHECK(!container_name_is_valid(NULL));
        CHECK(!container_name_is_valid(""));
        CHECK(!container_name_is_valid("a"));
        CHECK(!container_name_is_valid("-ab"));
        CHECK(!container_name_is_valid("_ab"));
        CHECK(!container_name_is_valid(".ab"));
        CHECK(!container_name_is_valid("a/b"));
        CHECK(!container_name_is_valid("../x"));
        CHECK(!container_name_is_valid(".."));
        CHECK(!container_name_is_valid("a b"));
        CHECK(!container_name_is_valid("a:b"));
        CHECK(!container_name_is_valid("ab\n"));
        CHECK(!container_name_is_valid("caf\xc3\xa9"));

        memset(name, 'a', sizeof(name));
        name[CONTAINER_NAME_MAX] = 0; /* 128 characters: the limit */
        CHECK(container_name_is_valid(name));
        name[CONTAINER_NAME_MAX] = 'a';
        name[CONTAINER_NAME_MAX + 1] = 0; /* 129 */
        CHECK(!container_name_is_valid(name));
}

static void check_ref(const char *ref, const char *name, const char *tag) {
        _cleanup_free_ char *n = NULL, *t = NULL;

        CHECK_INT(image_reference_parse(ref, &n, &t), 0);
        CHECK_STR(n, name);
        CHECK_STR(t, tag);
}

static void check_ref_invalid(const char *ref) {
        char *n = (char *) 0x1, *t = (char *) 0x1;

        CHECK_INT(image_reference_parse(ref, &n, &t), -EINVAL);
        /* Outputs are written only on success. */
        CHECK(n == (char *) 0x1 && t == (char *) 0x1);
}

static void test_image_reference_parse(void) {
        check_ref("busybox", "busybox", "latest");
        check_ref("busybox:1.36", "busybox", "1.36");
        check_ref("library/busybox:musl", "library/busybox", "musl");
        check_ref("localhost:5000/x/y:tag", "localhost:5000/x/y", "tag");
        check_ref("localhost:5000/x", "localhost:5000/x", "latest");
        check_ref("localhost/x", "localhost/x", "latest");
        check_ref("registry.example.com/team/app:v1.2_3-rc", "registry.example.com/team/app", "v1.2_3-rc");
        check_ref("a__b/c--d/e.f:_x", "a__b/c--d/e.f", "_x");

        check_ref_invalid("");
        check_ref_invalid(NULL);
        check_ref_invalid("Busybox");
        check_ref_invalid("busybox:");
        check_ref_invalid(":tag");
        check_ref_invalid("a:b:c");
        check_ref_invalid("busybox:-x");
        check_ref_invalid("busybox:.x");
        check_ref_invalid("/busybox");
        check_ref_invalid("busybox/");
        check_ref_invalid("a//b");
        check_ref_invalid("a/../b");
        check_ref_invalid("-a");
        check_ref_invalid("a-");
        check_ref_invalid("a___b");
        check_ref_invalid("a..b");
        check_ref_invalid("busy box");
        check_ref_invalid("localhost:/x");
        check_ref_invalid("localhost:123456/x");
        check_ref_invalid("localhost:50a0/x");

        /* NULL outputs are allowed. */
        CHECK_INT(image_reference_parse("busybox:1", NULL, NULL), 0);

        char tag[IMAGE_TAG_MAX + 2];
        char ref[IMAGE_TAG_MAX + 16];
        memset(tag, 'x', sizeof(tag));
        tag[IMAGE_TAG_MAX] = 0;
        snprintf(ref, sizeof(ref), "a:%s", tag);
        CHECK_INT(image_reference_parse(ref, NULL, NULL), 0);
        tag[IMAGE_TAG_MAX] = 'x';
        tag[IMAGE_TAG_MAX + 1] = 0;
        snprintf(ref, sizeof(ref), "a:%s", tag);
        CHECK_INT(image_reference_parse(ref, NULL, NULL), -EINVAL);

        CHECK(image_repository_is_valid("busybox"));
        CHECK(!image_repository_is_valid("Busybox"));
        CHECK(image_tag_is_valid("latest"));
        CHECK(!image_tag_is_valid("la/test"));
}

static void test_hostname_is_valid(void) {
        char name[66];

        CHECK(hostname_is_valid("a"));
        CHECK(hostname_is_valid("web"));
        CHECK(hostname_is_valid("my-host"));
        CHECK(hostname_is_valid("Host1.example.com"));
        CHECK(hostname_is_valid("0abc"));
        CHECK(!hostname_is_valid(NULL));
        CHECK(!hostname_is_valid(""));
        CHECK(!hostname_is_valid("-a"));
        CHECK(!hostname_is_valid("a-"));
        CHECK(!hostname_is_valid("a.-b"));
        CHECK(!hostname_is_valid("a-.b"));
        CHECK(!hostname_is_valid("a..b"));
        CHECK(!hostname_is_valid(".a"));
        CHECK(!hostname_is_valid("a."));
        CHECK(!hostname_is_valid("a_b"));
        CHECK(!hostname_is_valid("a b"));
        CHECK(!hostname_is_valid("a/b"));

        memset(name, 'a', sizeof(name));
        name[63] = 0;
        CHECK(hostname_is_valid(name));
        name[63] = 'a';
        name[64] = 0;
        CHECK(!hostname_is_valid(name));
}

static void test_env_assignment_is_valid(void) {
        CHECK(env_assignment_is_valid("A=b"));
        CHECK(env_assignment_is_valid("A="));
        CHECK(env_assignment_is_valid("PATH=/usr/bin:/bin"));
        CHECK(env_assignment_is_valid("A=b=c"));
        CHECK(env_assignment_is_valid("lower_case1=x y"));
        CHECK(!env_assignment_is_valid(NULL));
        CHECK(!env_assignment_is_valid(""));
        CHECK(!env_assignment_is_valid("A"));
        CHECK(!env_assignment_is_valid("=b"));
        CHECK(!env_assignment_is_valid("="));
        CHECK(!env_assignment_is_valid("A B=c"));
        CHECK(!env_assignment_is_valid("A\t=c"));
}

int main(void) {
        TEST(test_container_name_is_valid);
        TEST(test_image_reference_parse);
        TEST(test_hostname_is_valid);
        TEST(test_env_assignment_is_valid);
        return tests_exit_status();
}
