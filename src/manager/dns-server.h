/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The DNS responder of user networks (docs/NETWORKING.md, "DNS"), on berthd's sd-event loop. Each
 * network has a listener (UDP and TCP on its gateway address, port 53). A query for a name the
 * lookup function knows is answered here; every other one is forwarded, as it came, to the
 * upstreams over UDP and the answer relayed back. Nothing ever blocks, and nothing is logged: the
 * caller logs what the functions return. */

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct DnsServer DnsServer;

/* TTL of the answers from lookup(): short, since a container's address changes when it restarts
 * (Docker's 600 s keeps a caching client on an old address for ten minutes). */
#define DNS_SERVER_TTL 60
/* How long one upstream gets to answer before the next one is asked; after the last, SERVFAIL. */
#define DNS_SERVER_UPSTREAM_TIMEOUT_USEC (5 * 1000000ULL)
/* Forwarded queries waiting for an upstream (each holds a socket); more get SERVFAIL. */
#define DNS_SERVER_PENDING_MAX 128
/* TCP connections open at once (more are closed at once), and how long one may stay idle or take
 * to send a query. */
#define DNS_SERVER_TCP_MAX          32
#define DNS_SERVER_TCP_TIMEOUT_USEC (10 * 1000000ULL)
/* Upstreams in one list, as resolv.conf's MAXNS but a little more. */
#define DNS_SERVER_UPSTREAMS_MAX 8

/* Fills up to max addresses for name (lowercase, no trailing dot) asked on the network
 * network_id; returns how many (0: not a name of that network, so the query is forwarded), or a
 * negative errno (the client gets SERVFAIL). Called from the server's handlers: it must not change
 * the server (add or remove listeners, free it). */
typedef int (*DnsLookupFn)(void *userdata, const char *network_id, const char *name, struct in_addr *addrs, size_t max);

/* A query for a name lookup() knows is answered with lookup()'s addresses for type A and ANY, and
 * with NOERROR and no records (NODATA) for every other type (AAAA: containers have no IPv6
 * address), so that no container name leaks to the upstreams. Other names: forwarded; without
 * upstreams, REFUSED. */
int dns_server_new(sd_event *e, DnsLookupFn lookup, void *userdata, DnsServer **ret);
DnsServer *dns_server_free(DnsServer *s);
static inline void dns_server_freep(DnsServer **s) {
        dns_server_free(*s);
}

/* Listen on address:53, UDP and TCP, for network_id (one listener per network: -EEXIST). The
 * sockets have IP_FREEBIND: the address need not be configured yet (a bridge being set up).
 * dns_server_add_listener_port() takes another port (tests). */
int dns_server_add_listener(DnsServer *s, const char *network_id, struct in_addr address);
int dns_server_add_listener_port(DnsServer *s, const char *network_id, struct in_addr address, uint16_t port);
/* Closes the network's listener, its TCP connections, and drops its queries under way. */
void dns_server_remove_listener(DnsServer *s, const char *network_id);

/* The upstreams, IPv4 or IPv6 literals (with an optional ":port" after an IPv4 one or "[v6]:port",
 * for tests; an IPv6 one may have a %scope), asked in order; NULL or empty: none. Queries under way
 * keep the list they started with. -EINVAL for a bad entry (nothing changes then). An upstream
 * that is one of the listeners' own address and port is skipped when forwarding. */
int dns_server_set_upstreams(DnsServer *s, char *const *servers);
/* Upstreams of one container (its --dns), for queries from client on network_id, instead of
 * the common ones; servers NULL or empty removes them. */
int dns_server_set_client_upstreams(DnsServer *s, const char *network_id, struct in_addr client, char *const *servers);
/* Per upstream (the default is DNS_SERVER_UPSTREAM_TIMEOUT_USEC); for tests. */
void dns_server_set_timeout(DnsServer *s, uint64_t usec);
