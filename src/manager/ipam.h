/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IPv4 address management of berth's networks: pure functions (test-ipam). Addresses are kept in
 * host byte order here (uint32_t), so that arithmetic on them is plain. */

typedef struct Ipv4Net {
        uint32_t addr; /* host order; the network address (no host bits) */
        unsigned prefixlen; /* 0..32 */
} Ipv4Net;

/* "a.b.c.d" → host order. -EINVAL if not a dotted quad. */
int ipv4_parse(const char *s, uint32_t *ret);
/* "a.b.c.d/n" with no host bits set (Docker refuses "172.20.0.1/16" the same way): -EINVAL, or
 * -EADDRNOTAVAIL for host bits. */
int ipv4_net_parse(const char *s, Ipv4Net *ret);
/* Into buf (INET_ADDRSTRLEN, or INET_ADDRSTRLEN + 3 with the prefix). */
const char *ipv4_to_string(uint32_t a, char buf[static 16]);
const char *ipv4_net_to_string(const Ipv4Net *n, char buf[static 19]);
uint32_t ipv4_net_mask(unsigned prefixlen);
uint32_t ipv4_net_broadcast(const Ipv4Net *n);
bool ipv4_net_contains(const Ipv4Net *n, uint32_t a);
bool ipv4_net_overlaps(const Ipv4Net *a, const Ipv4Net *b);
/* b lies wholly inside a. */
bool ipv4_net_within(const Ipv4Net *a, const Ipv4Net *b);

/* The subnet of a new network: the first of the pool that overlaps nothing in 'taken' (the host's
 * routes and the other networks). The default bridge's pool is 172.17.0.0/16 alone; user networks
 * take 172.18.0.0/16 ... 172.31.0.0/16, then 192.168.0.0/20 ... 192.168.240.0/20. -ENOSPC when all
 * are taken. */
int ipam_pick_subnet(bool default_bridge, const Ipv4Net *taken, size_t n_taken, Ipv4Net *ret);

/* The first address of 'range' (NULL: the whole subnet) that is neither the subnet's network nor
 * broadcast address, nor the gateway, nor in 'used'. -ENOSPC when none is left. */
int ipam_allocate(const Ipv4Net *subnet, const Ipv4Net *range, uint32_t gateway, const uint32_t *used, size_t n_used,
                  uint32_t *ret);
/* Whether 'a' may be given to a container by hand (--ip): inside the subnet, neither network,
 * broadcast nor gateway address. */
bool ipam_address_is_assignable(const Ipv4Net *subnet, uint32_t gateway, uint32_t a);
/* Docker's MAC for an address: 02:42 followed by the four bytes of the IPv4 address. */
void ipam_mac_for(uint32_t a, uint8_t mac[static 6]);
/* "aa:bb:cc:dd:ee:ff" (or '-' separated); -EINVAL otherwise. A multicast address is refused too. */
int mac_parse(const char *s, uint8_t ret[static 6]);
const char *mac_to_string(const uint8_t mac[static 6], char buf[static 18]);
