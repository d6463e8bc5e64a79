/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* -p/--publish and --expose as Docker takes them (its nat.ParsePortSpec), into what CreateContainer's
 * PortBindings a(sqsqq) and ExposedPorts a(sq) hold (docs/NETWORKING.md). Pure: no I/O, no logging. */

#include <stddef.h>
#include <stdint.h>

#define PORT_SPEC_HOST_IP_MAX 16 /* "255.255.255.255" and its NUL */

typedef struct PortBinding {
        const char *protocol; /* "tcp", "udp" or "sctp" (static strings) */
        uint16_t container_port;
        char host_ip[PORT_SPEC_HOST_IP_MAX]; /* "" = every address */
        uint16_t host_port_first, host_port_last; /* 0, 0: a random free port; first < last: one of them */
} PortBinding;

typedef struct ExposedPort {
        const char *protocol;
        uint16_t port;
} ExposedPort;

/* The forms of -p: CPORT, HPORT:CPORT, IP:HPORT:CPORT, IP::CPORT, each port may be a range
 * (FIRST-LAST) and each spec may end in /tcp, /udp or /sctp (default tcp). A container port range
 * gets one binding per port: with a host range of the same length port by port, with one host port
 * only when the range has one port, with none each a random port. A host range with one container
 * port means "one free port of that range". Host addresses are IPv4 ("[IPv6]" is refused: berth's
 * networking is IPv4 only); 0.0.0.0 is the same as none.
 * Returns the number of bindings (>= 1) in a new array *ret; -EINVAL with *ret_error (a sentence
 * for the user) for a bad spec; -ENOMEM. Outputs are set only on success, except ret_error. */
int port_spec_parse(const char *spec, PortBinding **ret, char **ret_error);

/* --expose: PORT or FIRST-LAST, with /PROTO. The same results as port_spec_parse(). */
int port_spec_parse_expose(const char *spec, ExposedPort **ret, char **ret_error);

/* "tcp", "udp", "sctp" → the static string; NULL for anything else. */
const char *port_protocol_from_string(const char *s);
