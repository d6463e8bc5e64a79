/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-log.h"
#include "ctl-netopts.h"
#include "names.h"
#include "util.h"

void ctl_network_done(CtlNetwork *n) {
        strv_free(n->aliases);
        strv_free(n->dns);
        strv_free(n->dns_search);
        strv_free(n->dns_options);
        strv_free(n->extra_hosts);
        free(n->ports);
        free(n->expose);
        *n = (CtlNetwork){};
}

void ctl_network_help(void) {
        printf("      --network=MODE       bridge (default), none, host, container:NAME|ID, or a network's\n"
               "                           name or id (alias --net)\n"
               "      --network-alias=NAME Another name the container answers to on a user network\n"
               "                           (repeatable; alias --net-alias)\n"
               "      --ip=ADDRESS         A fixed IPv4 address on the (user) network\n"
               "      --mac-address=MAC    The MAC address of eth0, e.g. 02:42:ac:11:00:02\n"
               "      --dns=ADDRESS        A name server for /etc/resolv.conf (repeatable)\n"
               "      --dns-search=DOMAIN  A search domain for /etc/resolv.conf (repeatable)\n"
               "      --dns-option=OPT     An options line entry for /etc/resolv.conf (repeatable; alias\n"
               "                           --dns-opt)\n"
               "      --add-host=NAME:IP   An /etc/hosts entry (also NAME=IP; IP \"host-gateway\" is the\n"
               "                           network's gateway; repeatable)\n"
               "  -p, --publish=SPEC       Publish a container port on the host: [IP:][HOSTPORT:]PORT[/PROTO],\n"
               "                           e.g. 8080:80, 127.0.0.1:8080:80, 127.0.0.1::80, 8080:80/udp, 80\n"
               "                           (a random host port), 8080-8081:80-81, 8000-8010:80 (one free\n"
               "                           port of the range); PROTO: tcp (default), udp, sctp; repeatable\n"
               "  -P, --publish-all        Publish every exposed port on a random host port\n"
               "      --expose=PORT[/PROTO]  Expose a port or a range (FIRST-LAST) without publishing it\n"
               "                           (repeatable)\n");
}

bool ctl_network_mode_is_user(const char *mode) {
        return !isempty(mode) && !streq(mode, "default") && !streq(mode, "bridge") && !streq(mode, "host") &&
                !streq(mode, "none") && !startswith(mode, "container:");
}

bool ctl_mac_address_is_valid(const char *s) {
        if (!s || strlen(s) != 17)
                return false;
        for (size_t i = 0; i < 17; i++) {
                char c = s[i];
                if (i % 3 == 2) {
                        if (c != ':' && c != '-')
                                return false;
                } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                        return false;
        }
        return true;
}

static bool ip_is_valid(const char *s, bool v6_too) {
        unsigned char buf[sizeof(struct in6_addr)];
        return inet_pton(AF_INET, s, buf) == 1 || (v6_too && inet_pton(AF_INET6, s, buf) == 1);
}

/* Docker's ValidateDNSSearch: "." (no search domains), or a domain of at most 255 characters that
 * does not start with '-' or '.'. */
static bool dns_search_is_valid(const char *s) {
        if (streq(s, "."))
                return true;
        size_t n = strlen(s);
        if (n > 1 && s[n - 1] == '.')
                n--;
        if (n == 0 || n > 255 || s[0] == '-' || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                      s[i] == '-' || s[i] == '.' || s[i] == '_'))
                        return false;
        return true;
}

/* --add-host NAME:IP or NAME=IP (Docker's ValidateExtraHost); IP may be IPv6 or "host-gateway". */
static int check_extra_host(const char *arg) {
        size_t n = strcspn(arg, ":=");
        _cleanup_free_ char *name = strndup(arg, n);
        if (!name)
                return ctl_log_errno(-ENOMEM, "%m");
        const char *ip = arg[n] ? arg + n + 1 : NULL;
        if (isempty(name) || strchr(name, ' ') || !ip) {
                ctl_log_error("invalid argument \"%s\" for \"--add-host\" flag: expected HOST:IP or HOST=IP", arg);
                return -EINVAL;
        }
        /* Docker writes IPv6 in brackets too. */
        _cleanup_free_ char *bare = ip[0] == '[' && ip[strlen(ip) - 1] == ']' ? strndup(ip + 1, strlen(ip) - 2)
                                                                              : strdup(ip);
        if (!bare)
                return ctl_log_errno(-ENOMEM, "%m");
        if (!streq(bare, "host-gateway") && !ip_is_valid(bare, true)) {
                ctl_log_error("invalid argument \"%s\" for \"--add-host\" flag: invalid IP address \"%s\"", arg, ip);
                return -EINVAL;
        }
        return 0;
}

static int push(char ***l, const char *arg) {
        int r = strv_push(l, arg);
        return r < 0 ? ctl_log_errno(r, "%m") : 0;
}

/* Appends the k items a parser returned (or logs its error) to *array, *n items of size bytes long. */
static int add_parsed(void **array, size_t *n, size_t size, int k, const void *items, const char *error) {
        if (k == -ENOMEM)
                return ctl_log_errno(k, "%m");
        if (k < 0) {
                ctl_log_error("%s", error ?: "Invalid port format.");
                return -EINVAL;
        }
        void *all = reallocarray(*array, *n + (size_t) k, size);
        if (!all)
                return ctl_log_errno(-ENOMEM, "%m");
        memcpy((char *) all + *n * size, items, (size_t) k * size);
        *array = all;
        *n += (size_t) k;
        return 0;
}

int ctl_network_parse(CtlNetwork *n, int c, const char *arg) {
        switch (c) {
        case CTL_ARG_NETWORK:
                if (isempty(arg)) {
                        ctl_log_error("invalid argument \"\" for \"--network\" flag: expected a network name or id, "
                                      "bridge, host, none or container:NAME|ID");
                        return -EINVAL;
                }
                if (streq(arg, "container:")) {
                        ctl_log_error("invalid --network \"%s\": expected container:NAME|ID", arg);
                        return -EINVAL;
                }
                if (n->mode && !streq(n->mode, arg)) {
                        ctl_log_error("--network was given twice (\"%s\" and \"%s\"): berth attaches a new container "
                                      "to one network; use \"berthctl network connect\" for more",
                                      n->mode, arg);
                        return -EINVAL;
                }
                n->mode = arg;
                return 0;
        case CTL_ARG_NETWORK_ALIAS:
                if (!hostname_is_valid(arg)) {
                        ctl_log_error("invalid network alias \"%s\": expected a host name", arg);
                        return -EINVAL;
                }
                return push(&n->aliases, arg);
        case CTL_ARG_IP:
                if (!ip_is_valid(arg, false)) {
                        ctl_log_error("invalid IPv4 address \"%s\" for --ip%s", arg,
                                      ip_is_valid(arg, true) ? ": berth's container networking is IPv4 only" : "");
                        return -EINVAL;
                }
                n->ip = arg;
                return 0;
        case CTL_ARG_MAC_ADDRESS:
                if (!ctl_mac_address_is_valid(arg)) {
                        ctl_log_error("invalid MAC address \"%s\": expected six hex pairs, e.g. 02:42:ac:11:00:02",
                                      arg);
                        return -EINVAL;
                }
                n->mac = arg;
                return 0;
        case CTL_ARG_DNS:
                if (!ip_is_valid(arg, true)) {
                        ctl_log_error("invalid argument \"%s\" for \"--dns\" flag: not an IP address", arg);
                        return -EINVAL;
                }
                return push(&n->dns, arg);
        case CTL_ARG_DNS_SEARCH:
                if (!dns_search_is_valid(arg)) {
                        ctl_log_error("invalid argument \"%s\" for \"--dns-search\" flag: not a valid domain", arg);
                        return -EINVAL;
                }
                return push(&n->dns_search, arg);
        case CTL_ARG_DNS_OPTION:
                if (isempty(arg) || strpbrk(arg, " \t\n")) {
                        ctl_log_error("invalid argument \"%s\" for \"--dns-option\" flag: expected one option, e.g. "
                                      "ndots:2",
                                      arg);
                        return -EINVAL;
                }
                return push(&n->dns_options, arg);
        case CTL_ARG_ADD_HOST: {
                int r = check_extra_host(arg);
                return r < 0 ? r : push(&n->extra_hosts, arg);
        }
        case CTL_ARG_PUBLISH: {
                _cleanup_free_ PortBinding *b = NULL;
                _cleanup_free_ char *error = NULL;
                int k = port_spec_parse(arg, &b, &error);
                return add_parsed((void **) &n->ports, &n->n_ports, sizeof(PortBinding), k, b, error);
        }
        case CTL_ARG_PUBLISH_ALL:
                n->publish_all = true;
                return 0;
        case CTL_ARG_EXPOSE: {
                _cleanup_free_ ExposedPort *e = NULL;
                _cleanup_free_ char *error = NULL;
                int k = port_spec_parse_expose(arg, &e, &error);
                return add_parsed((void **) &n->expose, &n->n_expose, sizeof(ExposedPort), k, e, error);
        }
        default:
                return -EINVAL;
        }
}

int ctl_network_check(const CtlNetwork *n) {
        const char *mode = n->mode;
        bool user = ctl_network_mode_is_user(mode),
             own_netns = !mode || (!streq(mode, "host") && !startswith(mode, "container:") && !streq(mode, "none"));
        /* Docker's checks and words (runconfig/errors.go, daemon/container_operations.go). */
        if (n->aliases && !user) {
                ctl_log_error("network-scoped aliases are only supported for user-defined networks (not with "
                              "--network %s)",
                              mode ?: "bridge");
                return -EINVAL;
        }
        if (n->ip && !user) {
                ctl_log_error("user specified IP address is supported on user defined networks only (not with "
                              "--network %s)",
                              mode ?: "bridge");
                return -EINVAL;
        }
        if (own_netns)
                return 0;
        if (n->mac) {
                ctl_log_error("conflicting options: mac-address and the network mode \"%s\"", mode);
                return -EINVAL;
        }
        if ((n->n_ports > 0 || n->publish_all) && !streq(mode, "host")) {
                ctl_log_error("conflicting options: port publishing and the container type network mode \"%s\"", mode);
                return -EINVAL;
        }
        if (startswith(mode, "container:") && (n->dns || n->dns_search || n->dns_options || n->extra_hosts)) {
                ctl_log_error("conflicting options: dns and the network mode \"%s\"", mode);
                return -EINVAL;
        }
        if (n->n_ports > 0 || n->publish_all)
                ctl_log_warning("Published ports are discarded when using host network mode");
        return 0;
}

/* Opens {key: a<element>} in an open a{sv}, up to the array; close_array_option() closes it. */
static int open_array_option(sd_bus_message *m, const char *key, const char *element) {
        char signature[16];
        snprintf(signature, sizeof(signature), "a%s", element);
        int r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', signature);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', element);
        return r;
}

static int close_array_option(sd_bus_message *m) {
        int r = 0;
        for (int k = 0; r >= 0 && k < 3; k++)
                r = sd_bus_message_close_container(m);
        return r;
}

int ctl_network_append(sd_bus_message *m, const CtlNetwork *n) {
        /* Discarded with host, as Docker's daemon does (ctl_network_check() warned). */
        bool publish = !streq_ptr(n->mode, "host");
        int r = 0;

        if (n->mode)
                r = sd_bus_message_append(m, "{sv}", "NetworkMode", "s", n->mode);
        if (r >= 0 && n->aliases)
                r = ctl_bus_append_strv_option(m, "NetworkAliases", n->aliases);
        if (r >= 0 && n->ip)
                r = sd_bus_message_append(m, "{sv}", "IPAddress", "s", n->ip);
        if (r >= 0 && n->mac)
                r = sd_bus_message_append(m, "{sv}", "MacAddress", "s", n->mac);
        if (r >= 0 && n->dns)
                r = ctl_bus_append_strv_option(m, "Dns", n->dns);
        if (r >= 0 && n->dns_search)
                r = ctl_bus_append_strv_option(m, "DnsSearch", n->dns_search);
        if (r >= 0 && n->dns_options)
                r = ctl_bus_append_strv_option(m, "DnsOptions", n->dns_options);
        if (r >= 0 && n->extra_hosts)
                r = ctl_bus_append_strv_option(m, "ExtraHosts", n->extra_hosts);
        if (r >= 0 && publish && n->n_ports > 0) {
                r = open_array_option(m, "PortBindings", "(sqsqq)");
                for (size_t i = 0; r >= 0 && i < n->n_ports; i++)
                        r = sd_bus_message_append(m, "(sqsqq)", n->ports[i].protocol, n->ports[i].container_port,
                                                  n->ports[i].host_ip, n->ports[i].host_port_first,
                                                  n->ports[i].host_port_last);
                if (r >= 0)
                        r = close_array_option(m);
        }
        if (r >= 0 && publish && n->publish_all)
                r = sd_bus_message_append(m, "{sv}", "PublishAllPorts", "b", 1);
        if (r >= 0 && n->n_expose > 0) {
                r = open_array_option(m, "ExposedPorts", "(sq)");
                for (size_t i = 0; r >= 0 && i < n->n_expose; i++)
                        r = sd_bus_message_append(m, "(sq)", n->expose[i].protocol, n->expose[i].port);
                if (r >= 0)
                        r = close_array_option(m);
        }
        return r;
}
