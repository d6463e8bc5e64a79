/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "port-spec.h"
#include "util.h"

const char *port_protocol_from_string(const char *s) {
        static const char *const protocols[] = { "tcp", "udp", "sctp" };
        for (size_t i = 0; i < ELEMENTSOF(protocols); i++)
                if (streq(s, protocols[i]))
                        return protocols[i];
        return NULL;
}

_printf_(2, 3) static int fail(char **ret_error, const char *format, ...) {
        va_list ap;
        if (ret_error) {
                va_start(ap, format);
                if (vasprintf(ret_error, format, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

/* A decimal port, 0..65535, digits only (no sign, no blanks); n bytes of s. */
static int parse_port(const char *s, size_t n, uint16_t *ret) {
        unsigned v = 0;
        if (n == 0 || n > 5)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        if (v > 65535)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

/* "P" or "FIRST-LAST" with FIRST <= LAST. */
static int parse_range(const char *s, uint16_t *ret_first, uint16_t *ret_last) {
        const char *dash = strchr(s, '-');
        uint16_t a, b;
        if (!dash) {
                if (parse_port(s, strlen(s), &a) < 0)
                        return -EINVAL;
                *ret_first = *ret_last = a;
                return 0;
        }
        if (parse_port(s, (size_t) (dash - s), &a) < 0 || parse_port(dash + 1, strlen(dash + 1), &b) < 0)
                return -EINVAL;
        if (a > b)
                return -ERANGE;
        *ret_first = a;
        *ret_last = b;
        return 0;
}

/* Splits "SPEC/PROTO" in place: returns the protocol, or NULL (with the error) when it is not one. */
static const char *split_protocol(char *s, const char *spec, char **ret_error) {
        char *slash = strrchr(s, '/');
        if (!slash)
                return "tcp";
        *slash = 0;
        const char *p = port_protocol_from_string(slash + 1);
        if (!p)
                fail(ret_error, "Invalid protocol \"%s\" in port specification \"%s\": expected tcp, udp or sctp.",
                     slash + 1, spec);
        return p;
}

/* [IP:][HOST:]CONTAINER, in place; *ret_ip and *ret_host are NULL when not given. */
static int split_parts(char *s, const char *spec, char **ret_ip, char **ret_host, char **ret_container,
                       char **ret_error) {
        char *ip = NULL, *host = NULL, *container;
        if (s[0] == '[') {
                char *end = strchr(s, ']');
                if (!end || end[1] != ':')
                        return fail(ret_error,
                                    "Invalid port format \"%s\": an address in brackets must be followed "
                                    "by \":HOSTPORT:CONTAINERPORT\".",
                                    spec);
                return fail(ret_error,
                            "Invalid IP address \"%.*s\" in port specification \"%s\": IPv6 is not "
                            "supported, berth's container networking is IPv4 only.",
                            (int) (end - s - 1), s + 1, spec);
        }
        char *last = strrchr(s, ':');
        if (!last)
                container = s;
        else {
                *last = 0;
                container = last + 1;
                char *mid = strrchr(s, ':');
                if (!mid)
                        host = s;
                else {
                        *mid = 0;
                        host = mid + 1;
                        ip = s;
                        if (strchr(ip, ':') && strchr(ip, '.'))
                                return fail(ret_error,
                                            "Invalid port format \"%s\": expected [IP:][HOSTPORT:]CONTAINERPORT"
                                            "[/PROTO], with at most two colons.",
                                            spec);
                        if (strchr(ip, ':'))
                                return fail(ret_error,
                                            "Invalid IP address \"%s\" in port specification \"%s\": IPv6 is "
                                            "not supported, berth's container networking is IPv4 only.",
                                            ip, spec);
                }
        }
        *ret_ip = ip;
        *ret_host = host;
        *ret_container = container;
        return 0;
}

int port_spec_parse(const char *spec, PortBinding **ret, char **ret_error) {
        _cleanup_free_ char *s = strdup(spec ?: "");
        char *ip = NULL, *host = NULL, *container = NULL;
        uint16_t cfirst, clast, hfirst = 0, hlast = 0;
        struct in_addr addr;
        int r;

        if (!s)
                return -ENOMEM;
        if (isempty(s))
                return fail(ret_error, "Invalid port format \"\": no port given.");
        const char *protocol = split_protocol(s, spec, ret_error);
        if (!protocol)
                return -EINVAL;
        r = split_parts(s, spec, &ip, &host, &container, ret_error);
        if (r < 0)
                return r;
        if (ip && !isempty(ip) && inet_pton(AF_INET, ip, &addr) != 1)
                return fail(ret_error, "Invalid IP address \"%s\" in port specification \"%s\".", ip, spec);
        if (isempty(container))
                return fail(ret_error, "No container port specified in \"%s\".", spec);
        r = parse_range(container, &cfirst, &clast);
        if (r == -ERANGE)
                return fail(ret_error,
                            "Invalid range specified for the container port in \"%s\": the first port is "
                            "above the last.",
                            spec);
        if (r < 0 || cfirst == 0)
                return fail(ret_error,
                            "Invalid containerPort \"%s\" in \"%s\": expected a port (1-65535) or a range of "
                            "them (FIRST-LAST).",
                            container, spec);
        if (!isempty(host)) {
                r = parse_range(host, &hfirst, &hlast);
                if (r == -ERANGE)
                        return fail(ret_error,
                                    "Invalid range specified for the host port in \"%s\": the first port is "
                                    "above the last.",
                                    spec);
                if (r < 0)
                        return fail(ret_error,
                                    "Invalid hostPort \"%s\" in \"%s\": expected a port (0-65535) or a range "
                                    "of them (FIRST-LAST).",
                                    host, spec);
                if (hfirst == 0 && hlast != 0)
                        return fail(ret_error, "Invalid hostPort \"%s\" in \"%s\": a range cannot start at 0.", host,
                                    spec);
                if (clast != cfirst && hlast - hfirst != clast - cfirst)
                        return fail(ret_error,
                                    "Invalid ranges specified for container and host ports in \"%s\": %s "
                                    "and %s are not of the same length.",
                                    spec, container, host);
        }

        size_t n = (size_t) (clast - cfirst) + 1;
        PortBinding *b = calloc(n, sizeof(PortBinding));
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                b[i].protocol = protocol;
                b[i].container_port = (uint16_t) (cfirst + i);
                if (ip && !streq(ip, "0.0.0.0"))
                        strncpy(b[i].host_ip, ip, sizeof(b[i].host_ip) - 1);
                if (n > 1 && hfirst != 0) /* port by port */
                        b[i].host_port_first = b[i].host_port_last = (uint16_t) (hfirst + i);
                else {
                        b[i].host_port_first = hfirst;
                        b[i].host_port_last = hlast;
                }
        }
        *ret = b;
        return (int) n;
}

int port_spec_parse_expose(const char *spec, ExposedPort **ret, char **ret_error) {
        _cleanup_free_ char *s = strdup(spec ?: "");
        uint16_t first, last;

        if (!s)
                return -ENOMEM;
        const char *protocol = split_protocol(s, spec, ret_error);
        if (!protocol)
                return -EINVAL;
        int r = parse_range(s, &first, &last);
        if (r == -ERANGE)
                return fail(ret_error, "Invalid range format for --expose \"%s\": the first port is above the last.",
                            spec);
        if (r < 0 || first == 0)
                return fail(ret_error,
                            "Invalid range format for --expose \"%s\": expected PORT[/PROTO] or "
                            "FIRST-LAST[/PROTO] with ports 1-65535.",
                            spec);
        size_t n = (size_t) (last - first) + 1;
        ExposedPort *e = calloc(n, sizeof(ExposedPort));
        if (!e)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                e[i] = (ExposedPort){ .protocol = protocol, .port = (uint16_t) (first + i) };
        *ret = e;
        return (int) n;
}
