/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* port: a container's published ports, as docker port prints them. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-objects.h"
#include "ctl.h"
#include "port-spec.h"
#include "util.h"

int verb_port(int argc, char *argv[], Ctl *ctl) {
        enum { ARG_HELP = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(container_info_done) ContainerInfo c = {};
        _cleanup_free_ char *path = NULL, *want_proto = NULL;
        _cleanup_free_ CtlPort *ports = NULL;
        unsigned want_port = 0;
        size_t n = 0, shown = 0;
        sd_bus *bus;
        int ch, r;

        container_info_init(&c);
        optind = 0;
        opterr = 0;
        while ((ch = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (ch) {
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl port CONTAINER [PORT[/PROTO]]\n"
                               "\n"
                               "List the container's published ports (\"80/tcp -> 0.0.0.0:8080\"), or the\n"
                               "host addresses of one of them (PROTO: tcp, the default, udp or sctp).\n"
                               "\n"
                               "Options:\n"
                               "  -h, --help   Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("port", ch, argv);
                }
        if (argc - optind < 1 || argc - optind > 2) {
                ctl_log_error("\"berthctl port\" requires 1 or 2 arguments (see 'berthctl port --help')");
                return -EINVAL;
        }
        if (argc - optind == 2) {
                const char *spec = argv[optind + 1], *slash = strchr(spec, '/');
                _cleanup_free_ char *number = strndup(spec, slash ? (size_t) (slash - spec) : strlen(spec));
                uint64_t v;
                want_proto = strdup(slash ? slash + 1 : "tcp");
                if (!number || !want_proto)
                        return ctl_log_errno(-ENOMEM, "%m");
                if (parse_uint64(number, &v) < 0 || v == 0 || v > 65535 || !port_protocol_from_string(want_proto)) {
                        ctl_log_error("invalid port \"%s\": expected PORT[/PROTO], e.g. 80 or 53/udp", spec);
                        return -EINVAL;
                }
                want_port = (unsigned) v;
        }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = ctl_get_container(bus, argv[optind], &error, &path);
        if (r >= 0)
                r = container_info_get(bus, path, &error, &c);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = ctl_ports_collect(c.ports, NULL, &ports, &n);
        if (r < 0)
                return ctl_log_errno(r, "%m");
        for (size_t i = 0; i < n; i++) {
                const CtlPort *p = &ports[i];
                if (!want_port)
                        printf("%u/%s -> %s:%u\n", p->port, p->protocol, p->host_ip, p->host_port);
                else if (p->port == want_port && streq(p->protocol, want_proto))
                        printf("%s:%u\n", p->host_ip, p->host_port);
                else
                        continue;
                shown++;
        }
        if (want_port && shown == 0) {
                fprintf(stderr, "Error: No public port '%u/%s' published for %s\n", want_port, want_proto,
                        argv[optind]);
                return 1;
        }
        return 0;
}
