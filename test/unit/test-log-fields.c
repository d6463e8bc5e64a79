/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --log-opt labels=, env=: names into journal fields as Docker's journald driver makes them. */
#include <errno.h>

#include "log-fields.h"
#include "tests.h"

static bool name_is(const char *key, const char *want) {
        char *field = NULL;
        bool ok = log_field_name_from_key(key, &field) == 0 && strcmp(field, want) == 0;
        free(field);
        return ok;
}

static void test_names(void) {
        char *field = NULL;
        CHECK(name_is("tier", "TIER"));
        CHECK(name_is("com.example.tier", "COM_EXAMPLE_TIER"));
        CHECK(name_is("_private", "PRIVATE"));
        CHECK(name_is("a-b c9", "A_B_C9"));
        CHECK(name_is("x_", "X_"));
        CHECK(name_is("._x", "X")); /* mapped first, then the leading underscores dropped */
        CHECK_INT(log_field_name_from_key("", &field), -EINVAL);
        CHECK_INT(log_field_name_from_key("___", &field), -EINVAL);
        CHECK_INT(log_field_name_from_key("\xc3\xa9.", &field), -EINVAL); /* only underscores once mapped */
        /* berth's own fields cannot be overwritten this way */
        CHECK_INT(log_field_name_from_key("message", &field), -EINVAL);
        CHECK_INT(log_field_name_from_key("priority", &field), -EINVAL);
        CHECK_INT(log_field_name_from_key("container.name", &field), -EINVAL);
        CHECK_INT(log_field_name_from_key("image_name", &field), -EINVAL);
        CHECK_INT(log_field_name_from_key("syslog.identifier", &field), -EINVAL);
        CHECK(name_is("containers", "CONTAINERS")); /* not CONTAINER_ */
        char long_key[80];
        memset(long_key, 'a', sizeof(long_key) - 1);
        long_key[sizeof(long_key) - 1] = 0;
        CHECK_INT(log_field_name_from_key(long_key, &field), -EINVAL);
        long_key[64] = 0;
        CHECK_INT(log_field_name_from_key(long_key, &field), 0);
        free(field);
}

static void test_fields(void) {
        CHECK(log_field_is_valid("TIER=web"));
        CHECK(log_field_is_valid("TIER="));
        CHECK(log_field_is_valid("A_1=x=y"));
        CHECK(!log_field_is_valid("tier=web"));
        CHECK(!log_field_is_valid("_PID=1"));
        CHECK(!log_field_is_valid("=x"));
        CHECK(!log_field_is_valid("TIER"));
        CHECK(!log_field_is_valid("MESSAGE=x"));
        CHECK(!log_field_is_valid("CONTAINER_NAME=x"));
        CHECK(!log_field_is_valid("A.B=x"));
        CHECK(!log_field_is_valid("A=x\nPRIORITY=0"));
}

static void test_key_lists(void) {
        CHECK(log_key_list_is_valid("a"));
        CHECK(log_key_list_is_valid("a,b.c,d"));
        CHECK(!log_key_list_is_valid(""));
        CHECK(!log_key_list_is_valid(","));
        CHECK(!log_key_list_is_valid("a,"));
        CHECK(!log_key_list_is_valid(",a"));
        CHECK(!log_key_list_is_valid("a,,b"));
}

int main(void) {
        TEST(test_names);
        TEST(test_fields);
        TEST(test_key_lists);
        return tests_exit_status();
}
