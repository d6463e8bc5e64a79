/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small rtnetlink client (plain linux/rtnetlink.h messages, no libmnl: berth-nspawn links
 * statically): the links, IPv4 addresses and routes container networking needs. Every function
 * returns 0 or a negative errno (the kernel's answer: -EEXIST, -ENODEV, ...) and works in the
 * network namespace its socket was opened in. Nothing here logs. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define NETLINK_ETHER_ADDR_LEN 6

typedef struct NetlinkSocket NetlinkSocket;

/* A NETLINK_ROUTE socket of the calling thread's current network namespace. */
int netlink_open(NetlinkSocket **ret);
NetlinkSocket *netlink_close(NetlinkSocket *nl); /* NULL is fine; returns NULL */
static inline void netlink_closep(NetlinkSocket **nl) {
        *nl = netlink_close(*nl);
}

/* The index of the link called name; -ENODEV when there is none. */
int netlink_link_index(NetlinkSocket *nl, const char *name, int *ret_index);

/* A Linux bridge. An existing link of that name is -EEXIST, or 0 with may_exist. */
int netlink_bridge_create(NetlinkSocket *nl, const char *name, bool may_exist);
/* A veth pair: 'name' here, its peer 'peer_name' created directly in the network namespace
 * peer_netns_fd (an open /proc/PID/ns/net; -1: here too). mtu > 0 is given to 'name' (the peer
 * keeps the default: its side sets its own). Both ends start down. */
int netlink_veth_create(NetlinkSocket *nl, const char *name, const char *peer_name, int peer_netns_fd, uint32_t mtu);
int netlink_link_delete(NetlinkSocket *nl, const char *name);

int netlink_link_set_up(NetlinkSocket *nl, const char *name);
int netlink_link_set_mtu(NetlinkSocket *nl, const char *name, uint32_t mtu);
int netlink_link_set_mac(NetlinkSocket *nl, const char *name, const uint8_t mac[NETLINK_ETHER_ADDR_LEN]);
/* Attach name to the bridge 'master'. */
int netlink_link_set_master(NetlinkSocket *nl, const char *name, const char *master);

/* Hairpin mode on a bridge port: frames may go back out of the port they came in by (a container
 * reaching its own published port through the host, with br_netfilter). */
int netlink_link_set_hairpin(NetlinkSocket *nl, const char *name);
/* address/prefixlen on the link, with the subnet's broadcast address (none for /31 and /32). */
int netlink_address_add_ipv4(NetlinkSocket *nl, const char *name, struct in_addr address, unsigned prefixlen);
/* The default route of the main table via gateway, out of the link 'name'. */
int netlink_route_add_ipv4_default(NetlinkSocket *nl, const char *name, struct in_addr gateway);

/* The names of all links starting with prefix ("" for all), a NULL-terminated list (strv_free()),
 * never NULL on success. */
int netlink_link_list_prefix(NetlinkSocket *nl, const char *prefix, char ***ret_names);

/* Parsers for the values above, strict: "a.b.c.d/n" (n 0..32), "aa:bb:cc:dd:ee:ff" (hex digits,
 * either case). -EINVAL otherwise; ret_* written only on success. */
int ipv4_prefix_parse(const char *s, struct in_addr *ret_address, unsigned *ret_prefixlen);
int ether_addr_parse(const char *s, uint8_t ret[NETLINK_ETHER_ADDR_LEN]);
/* A name the kernel takes for a network interface: 1..15 bytes, no '/', ':' or whitespace, not
 * "." or "..". */
bool ifname_is_valid(const char *s);
