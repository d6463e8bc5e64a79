/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "port-spec.h"

/* create/run: --network, --network-alias, --ip, --mac-address, --dns, --dns-search, --dns-option,
 * --add-host, -p/--publish, -P/--publish-all, --expose, in Docker's syntax. berthctl checks the syntax
 * and the combinations Docker's CLI refuses; berthd checks the rest (the network exists, an address
 * is free, a port is free). */
typedef struct CtlNetwork {
        const char *mode; /* --network; NULL: not given (the default bridge) */
        char **aliases;
        const char *ip;
        const char *mac;
        char **dns, **dns_search, **dns_options;
        char **extra_hosts;
        PortBinding *ports;
        size_t n_ports;
        bool publish_all;
        ExposedPort *expose;
        size_t n_expose;
} CtlNetwork;

enum {
        CTL_ARG_NETWORK = 0x400, /* above ctl-security.h's options */
        CTL_ARG_NETWORK_ALIAS,
        CTL_ARG_IP,
        CTL_ARG_MAC_ADDRESS,
        CTL_ARG_DNS,
        CTL_ARG_DNS_SEARCH,
        CTL_ARG_DNS_OPTION,
        CTL_ARG_ADD_HOST,
        CTL_ARG_PUBLISH, /* -p */
        CTL_ARG_PUBLISH_ALL, /* -P */
        CTL_ARG_EXPOSE,
};

/* The long options; -p and -P are short options of the verb that map to CTL_ARG_PUBLISH{,_ALL}. */
#define CTL_NETWORK_OPTIONS                                                                                           \
        { "network", required_argument, NULL, CTL_ARG_NETWORK }, { "net", required_argument, NULL, CTL_ARG_NETWORK }, \
                { "network-alias", required_argument, NULL, CTL_ARG_NETWORK_ALIAS },                                  \
                { "net-alias", required_argument, NULL, CTL_ARG_NETWORK_ALIAS },                                      \
                { "ip", required_argument, NULL, CTL_ARG_IP },                                                        \
                { "mac-address", required_argument, NULL, CTL_ARG_MAC_ADDRESS },                                      \
                { "dns", required_argument, NULL, CTL_ARG_DNS },                                                      \
                { "dns-search", required_argument, NULL, CTL_ARG_DNS_SEARCH },                                        \
                { "dns-option", required_argument, NULL, CTL_ARG_DNS_OPTION },                                        \
                { "dns-opt", required_argument, NULL, CTL_ARG_DNS_OPTION },                                           \
                { "add-host", required_argument, NULL, CTL_ARG_ADD_HOST },                                            \
                { "publish", required_argument, NULL, CTL_ARG_PUBLISH },                                              \
                { "publish-all", no_argument, NULL, CTL_ARG_PUBLISH_ALL }, {                                          \
                "expose", required_argument, NULL, CTL_ARG_EXPOSE                                                     \
        }

void ctl_network_done(CtlNetwork *n);
void ctl_network_help(void);
/* One of the options above (c as getopt_long() returned it, -p/-P mapped); logs and returns -EINVAL on
 * bad input. */
int ctl_network_parse(CtlNetwork *n, int c, const char *arg);
/* The combinations of the options, once all are parsed (Docker's "conflicting options"). Logs. */
int ctl_network_check(const CtlNetwork *n);
/* The CreateContainer options (NetworkMode, NetworkAliases, IPAddress, MacAddress, Dns, DnsSearch,
 * DnsOptions, ExtraHosts, PortBindings, PublishAllPorts, ExposedPorts) that were given. */
int ctl_network_append(sd_bus_message *m, const CtlNetwork *n);

/* The network modes that are not a network of their own: "" / "default" / "bridge" (the default
 * bridge), "host", "none", "container:X". What Docker allows on user networks only (aliases, --ip)
 * needs none of them. */
bool ctl_network_mode_is_user(const char *mode);
/* "02:42:ac:11:00:02": six hex pairs separated by ':' (or '-'). */
bool ctl_mac_address_is_valid(const char *s);
