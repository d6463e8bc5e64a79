/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "macro.h"
#include "tests.h"
#include "utf8.h"

static void check(const char *in, size_t len, const char *want) {
        _cleanup_free_ char *out = utf8_sanitize(in, len);
        CHECK_STR(out, want);
        CHECK(out && utf8_is_valid_dbus(out, strlen(out)));
}

#define R "\xef\xbf\xbd" /* U+FFFD */

static void test_sanitize(void) {
        check("", 0, "");
        check("ok\n", 3, "ok\n");
        check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
        check("a\0b", 3, "a" R "b");
        check("\xff", 1, R);
        check("\xc3", 1, R); /* cut short */
        check("\xe2\x82", 2, R R);
        check("\xc0\xaf", 2, R R); /* overlong '/' */
        check("\xed\xa0\x80", 3, R R R); /* a surrogate */
        check("\xf4\x90\x80\x80", 4, R R R R); /* beyond U+10FFFF */
        check("\xef\xbf\xbe", 3, R R R); /* U+FFFE */
        check("\xef\xb7\x90", 3, R R R); /* U+FDD0 */
        check("\x80x", 2, R "x");
}

static void test_valid(void) {
        CHECK(utf8_is_valid_dbus("abc", 3));
        CHECK(utf8_is_valid_dbus("\xc3\xa9", 2));
        CHECK(!utf8_is_valid_dbus("\xc3", 1));
        CHECK(!utf8_is_valid_dbus("a\0", 2));
        CHECK(!utf8_is_valid_dbus("\xef\xbf\xbf", 3));
}

int main(void) {
        TEST(test_sanitize);
        TEST(test_valid);
        return tests_exit_status();
}
