/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

#include "netlink.h"
#include "nspawn-net.h"
#include "util.h"

static int create_interface(NetlinkSocket *nl, const SpecInterface *i, int netns, char *what, size_t size) {
        int r = netlink_veth_create(nl, i->host_ifname, i->ifname, netns, i->mtu);
        if (r == -EEXIST && netlink_link_delete(nl, i->host_ifname) >= 0)
                r = netlink_veth_create(nl, i->host_ifname, i->ifname, netns, i->mtu);
        if (r < 0) {
                snprintf(what, size, "create the network interface %s", i->ifname);
                return r;
        }
        if (i->bridge[0] && (r = netlink_link_set_master(nl, i->host_ifname, i->bridge)) < 0) {
                snprintf(what, size, "attach the network interface %s to the bridge %s", i->ifname, i->bridge);
                return r;
        }
        if (i->bridge[0] && (r = netlink_link_set_hairpin(nl, i->host_ifname)) < 0) {
                snprintf(what, size, "set hairpin mode on %s, the host's end of %s", i->host_ifname, i->ifname);
                return r;
        }
        if ((r = netlink_link_set_up(nl, i->host_ifname)) < 0) {
                snprintf(what, size, "bring up %s, the host's end of the network interface %s", i->host_ifname,
                         i->ifname);
                return r;
        }
        return 0;
}

int net_create_interfaces(const ContainerSpec *spec, pid_t pid, char *what, size_t size) {
        _cleanup_(netlink_closep) NetlinkSocket *nl = NULL;
        char path[64];
        int r;

        /* Our child, not reaped yet: its PID cannot name another process. */
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        _cleanup_close_ int netns = open(path, O_RDONLY | O_CLOEXEC);
        if (netns < 0) {
                snprintf(what, size, "open the container's network namespace");
                return -errno;
        }
        r = netlink_open(&nl);
        if (r < 0) {
                snprintf(what, size, "open a netlink socket");
                return r;
        }
        for (size_t i = 0; i < spec->n_interfaces; i++) {
                r = create_interface(nl, &spec->interfaces[i], netns, what, size);
                if (r < 0) {
                        net_remove_interfaces(spec);
                        return r;
                }
        }
        return 0;
}

void net_remove_interfaces(const ContainerSpec *spec) {
        _cleanup_(netlink_closep) NetlinkSocket *nl = NULL;
        if (spec->net_mode != NET_MODE_PRIVATE || spec->n_interfaces == 0 || netlink_open(&nl) < 0)
                return;
        for (size_t i = 0; i < spec->n_interfaces; i++)
                (void) netlink_link_delete(nl, spec->interfaces[i].host_ifname);
}

static int configure_interface(NetlinkSocket *nl, const SpecInterface *i, HelperStatus *failure) {
        char address[INET_ADDRSTRLEN];
        int r;
        if (i->has_mac && (r = netlink_link_set_mac(nl, i->ifname, i->mac)) < 0) {
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r,
                                      "set the MAC address of the network interface %s", i->ifname);
                return r;
        }
        if (i->mtu > 0 && (r = netlink_link_set_mtu(nl, i->ifname, i->mtu)) < 0) {
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r,
                                      "set the MTU of the network interface %s to %u", i->ifname, (unsigned) i->mtu);
                return r;
        }
        if (i->has_address && (r = netlink_address_add_ipv4(nl, i->ifname, i->address, i->prefixlen)) < 0) {
                (void) inet_ntop(AF_INET, &i->address, address, sizeof(address));
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r,
                                      "add the address %s/%u to the network interface %s", address, i->prefixlen,
                                      i->ifname);
                return r;
        }
        if ((r = netlink_link_set_up(nl, i->ifname)) < 0) {
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r, "bring up the network interface %s",
                                      i->ifname);
                return r;
        }
        if (i->has_gateway && (r = netlink_route_add_ipv4_default(nl, i->ifname, i->gateway)) < 0) {
                (void) inet_ntop(AF_INET, &i->gateway, address, sizeof(address));
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r, "add the default route via %s on %s", address,
                                      i->ifname);
                return r;
        }
        return 0;
}

int net_configure_interfaces(const ContainerSpec *spec, HelperStatus *failure) {
        _cleanup_(netlink_closep) NetlinkSocket *nl = NULL;
        int r = netlink_open(&nl);
        if (r < 0) {
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r, "open a netlink socket in the container");
                return r;
        }
        for (size_t i = 0; i < spec->n_interfaces; i++) {
                r = configure_interface(nl, &spec->interfaces[i], failure);
                if (r < 0)
                        return r;
        }
        return 0;
}
