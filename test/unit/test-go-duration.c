/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "go-duration.h"
#include "tests.h"

static void check_parse(const char *s, int64_t want) {
        int64_t v = -42;
        CHECK_INT(go_duration_parse(s, &v), 0);
        CHECK_INT(v, want);
        if (v != want)
                printf("  for \"%s\"\n", s);
}

static void check_invalid(const char *s, const char *error) {
        int64_t v;
        char buf[256];
        CHECK_INT(go_duration_parse(s, &v), -EINVAL);
        go_duration_error(s, buf, sizeof(buf));
        CHECK_STR(buf, error);
}

static void check_format(int64_t nsec, const char *want) {
        char buf[GO_DURATION_MAX];
        CHECK_STR(go_duration_format(nsec, buf), want);
}

static void test_parse(void) {
        check_parse("0", 0);
        check_parse("-0", 0);
        check_parse("0s", 0);
        check_parse("30s", 30000000000LL);
        check_parse("1m30s", 90000000000LL);
        check_parse("1.5h", 5400000000000LL);
        check_parse("500ms", 500000000LL);
        check_parse("10us", 10000);
        check_parse("10\xc2\xb5s", 10000);
        check_parse("10\xce\xbcs", 10000);
        check_parse("7ns", 7);
        check_parse(".5s", 500000000LL);
        check_parse("1.s", 1000000000LL);
        check_parse("-5s", -5000000000LL);
        check_parse("+5s", 5000000000LL);
        check_parse("1h1m1s1ms1us1ns", 3661001001001LL);
        check_parse("2562047h47m16.854775807s", INT64_MAX);
        check_parse("-2562047h47m16.854775808s", INT64_MIN);
}

static void test_invalid(void) {
        check_invalid("", "time: invalid duration \"\"");
        check_invalid("-", "time: invalid duration \"-\"");
        check_invalid("abc", "time: invalid duration \"abc\"");
        check_invalid("1", "time: missing unit in duration \"1\"");
        check_invalid("1d", "time: unknown unit \"d\" in duration \"1d\"");
        check_invalid("1s2", "time: missing unit in duration \"1s2\"");
        check_invalid(".s", "time: invalid duration \".s\"");
        check_invalid("s", "time: invalid duration \"s\"");
        check_invalid("1 s", "time: unknown unit \" s\" in duration \"1 s\"");
        check_invalid("2562047h47m16.854775808s", "time: invalid duration \"2562047h47m16.854775808s\"");
        check_invalid("99999999999999999999s", "time: invalid duration \"99999999999999999999s\"");
}

static void test_format(void) {
        check_format(0, "0s");
        check_format(1, "1ns");
        check_format(1500, "1.5\xc2\xb5s");
        check_format(1000000, "1ms");
        check_format(1500000, "1.5ms");
        check_format(1000000000LL, "1s");
        check_format(1500000000LL, "1.5s");
        check_format(30000000000LL, "30s");
        check_format(90000000000LL, "1m30s");
        check_format(3600000000000LL, "1h0m0s");
        check_format(-5000000000LL, "-5s");
        check_format(INT64_MAX, "2562047h47m16.854775807s");
        check_format(INT64_MIN, "-2562047h47m16.854775808s");
}

int main(void) {
        TEST(test_parse);
        TEST(test_invalid);
        TEST(test_format);
        return tests_exit_status();
}
