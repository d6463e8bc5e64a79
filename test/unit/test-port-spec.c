/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "macro.h"
#include "port-spec.h"
#include "tests.h"

/* One spec into its bindings, each as "proto cport ip first-last". */
static char *bindings(const char *spec) {
        _cleanup_free_ PortBinding *b = NULL;
        _cleanup_free_ char *error = NULL;
        char *out = NULL;
        size_t len = 0;
        FILE *f;
        int n = port_spec_parse(spec, &b, &error);
        if (n < 0)
                return NULL;
        f = open_memstream(&out, &len);
        ASSERT(f);
        for (int i = 0; i < n; i++)
                fprintf(f, "%s%s %u %s %u-%u", i ? "," : "", b[i].protocol, b[i].container_port, b[i].host_ip,
                        b[i].host_port_first, b[i].host_port_last);
        fclose(f);
        return out;
}

static void check_binding(const char *spec, const char *expected) {
        _cleanup_free_ char *got = bindings(spec);
        CHECK_STR(got, expected);
}

/* The error for spec, which must fail with -EINVAL, contains want. */
static void check_error(const char *spec, const char *want) {
        _cleanup_free_ PortBinding *b = NULL;
        _cleanup_free_ char *error = NULL;
        CHECK_INT(port_spec_parse(spec, &b, &error), -EINVAL);
        CHECK(b == NULL);
        CHECK(error && strstr(error, want));
        if (error && !strstr(error, want))
                printf("  error for \"%s\": %s\n", spec, error);
        /* Sentences: a capital first, a full stop last. */
        CHECK(error && error[0] >= 'A' && error[0] <= 'Z' && error[strlen(error) - 1] == '.');
}

static void test_forms(void) {
        check_binding("80", "tcp 80  0-0");
        check_binding("8080:80", "tcp 80  8080-8080");
        check_binding("127.0.0.1:8080:80", "tcp 80 127.0.0.1 8080-8080");
        check_binding("127.0.0.1::80", "tcp 80 127.0.0.1 0-0");
        check_binding("0.0.0.0:8080:80", "tcp 80  8080-8080");
        check_binding("8080:80/udp", "udp 80  8080-8080");
        check_binding("80/sctp", "sctp 80  0-0");
        check_binding(":80", "tcp 80  0-0");
        check_binding("0:80", "tcp 80  0-0");
        check_binding("127.0.0.1:8080:80/udp", "udp 80 127.0.0.1 8080-8080");
}

static void test_ranges(void) {
        check_binding("8080-8081:80-81", "tcp 80  8080-8080,tcp 81  8081-8081");
        check_binding("8000-8010:80", "tcp 80  8000-8010");
        check_binding("80-82", "tcp 80  0-0,tcp 81  0-0,tcp 82  0-0");
        check_binding("10.0.0.1:9000-9001:90-91/udp", "udp 90 10.0.0.1 9000-9000,udp 91 10.0.0.1 9001-9001");
        check_binding("1.2.3.4::80-81", "tcp 80 1.2.3.4 0-0,tcp 81 1.2.3.4 0-0");
        check_binding("8080-8080:80", "tcp 80  8080-8080");
        check_binding("65535", "tcp 65535  0-0");
}

static void test_errors(void) {
        check_error("", "no port given");
        check_error("abc", "Invalid containerPort \"abc\"");
        check_error("8080:abc", "Invalid containerPort");
        check_error("8080:0", "Invalid containerPort");
        check_error("8080:65536", "Invalid containerPort");
        check_error("abc:80", "Invalid hostPort \"abc\"");
        check_error("-1:80", "Invalid hostPort");
        check_error("8080:", "No container port specified");
        check_error("80/xyz", "Invalid protocol \"xyz\"");
        check_error("80/", "Invalid protocol");
        check_error("1.2.3:8080:80", "Invalid IP address \"1.2.3\"");
        check_error("localhost:8080:80", "Invalid IP address");
        check_error("[::1]:8080:80", "IPv6 is not supported");
        check_error("::1:8080:80", "IPv6 is not supported");
        check_error("1.2.3.4:5:8080:80", "at most two colons");
        check_error("8080-8082:80-81", "not of the same length");
        check_error("81-80", "first port is above the last");
        check_error("8081-8080:80", "first port is above the last");
        check_error("0-10:80", "cannot start at 0");
        check_error("80-", "Invalid containerPort");
        check_error(" 80", "Invalid containerPort");
        check_error("+80", "Invalid containerPort");
}

static void test_expose(void) {
        _cleanup_free_ ExposedPort *e = NULL, *e2 = NULL, *e3 = NULL;
        _cleanup_free_ char *error = NULL, *error2 = NULL;
        CHECK_INT(port_spec_parse_expose("80", &e, NULL), 1);
        CHECK_STR(e[0].protocol, "tcp");
        CHECK_INT(e[0].port, 80);
        CHECK_INT(port_spec_parse_expose("8000-8002/udp", &e2, NULL), 3);
        CHECK_STR(e2[2].protocol, "udp");
        CHECK_INT(e2[2].port, 8002);
        CHECK_INT(port_spec_parse_expose("80/quic", &e3, &error), -EINVAL);
        CHECK(error && strstr(error, "Invalid protocol"));
        CHECK_INT(port_spec_parse_expose("8080:80", &e3, &error2), -EINVAL);
        CHECK(error2 && strstr(error2, "Invalid range format for --expose"));
        CHECK(e3 == NULL);
}

static void test_protocols(void) {
        CHECK_STR(port_protocol_from_string("udp"), "udp");
        CHECK(port_protocol_from_string("UDP") == NULL);
        CHECK(port_protocol_from_string("") == NULL);
}

int main(void) {
        TEST(test_forms);
        TEST(test_ranges);
        TEST(test_errors);
        TEST(test_expose);
        TEST(test_protocols);
        return tests_exit_status();
}
