/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* -p/--publish and --expose specifications on arbitrary bytes, checking their contracts. */

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "port-spec.h"

static void check_publish(const char *s) {
        _cleanup_free_ PortBinding *b = NULL;
        _cleanup_free_ char *error = NULL;
        struct in_addr a;
        int n = port_spec_parse(s, &b, &error);

        if (n < 0) {
                require(n == -EINVAL || n == -ENOMEM);
                require(!b);
                require(n == -ENOMEM || (error && error[0] && error[strlen(error) - 1] == '.'));
                return;
        }
        require(n >= 1 && n <= 65535 && b);
        for (int i = 0; i < n; i++) {
                require(port_protocol_from_string(b[i].protocol) == b[i].protocol);
                require(b[i].container_port > 0);
                require(i == 0 || b[i].container_port == b[i - 1].container_port + 1);
                require(b[i].host_port_first <= b[i].host_port_last);
                require(b[i].host_port_first > 0 || b[i].host_port_last == 0);
                require(memchr(b[i].host_ip, 0, sizeof(b[i].host_ip)));
                require(!b[i].host_ip[0] || inet_pton(AF_INET, b[i].host_ip, &a) == 1);
                require(!streq(b[i].host_ip, "0.0.0.0"));
                /* A range of container ports never shares one host range among them. */
                require(n == 1 || b[i].host_port_first == b[i].host_port_last);
        }
}

static void check_expose(const char *s) {
        _cleanup_free_ ExposedPort *e = NULL;
        _cleanup_free_ char *error = NULL;
        int n = port_spec_parse_expose(s, &e, &error);

        if (n < 0) {
                require(!e);
                require(n == -ENOMEM || error);
                return;
        }
        require(n >= 1 && e);
        for (int i = 0; i < n; i++)
                require(e[i].port > 0 && port_protocol_from_string(e[i].protocol) == e[i].protocol);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = malloc(size + 1);

        if (!s || size > 256)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        check_publish(s);
        check_expose(s);
        return 0;
}
