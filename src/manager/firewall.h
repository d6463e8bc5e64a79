/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* berth's own nftables table, "inet berth" (docs/NETWORKING.md, section Firewall): rebuilt whole
 * at berthd start, then only its set and map elements change as networks come and go and
 * containers publish ports.
 *
 * Every call returns 0 or a negative errno. Where libnftables refuses, the optional ret_error gets
 * its sentence on one line ("Could not process rule: File exists: create element inet berth
 * dnat_any { tcp . 8080 : 172.17.0.2 . 80 }"), free()d by the caller, for berthd's log; nothing
 * here logs. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

typedef struct FirewallNetwork {
        const char *bridge; /* "berth0", "br-0123456789ab" */
        struct in_addr subnet; /* host bits are ignored */
        unsigned prefixlen; /* 1…32 */
        bool internal; /* --internal: no traffic in or out of the bridge's network */
} FirewallNetwork;

typedef struct FirewallPort {
        int protocol; /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
        struct in_addr host_ip; /* INADDR_ANY: every local address */
        uint16_t host_port; /* in host byte order, like container_port */
        struct in_addr container_ip;
        uint16_t container_port;
} FirewallPort;

typedef struct Firewall Firewall;

int firewall_new(Firewall **ret);
Firewall *firewall_free(Firewall *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(Firewall *, firewall_free);

/* The whole table, replaced in one transaction (works whether it exists or not); on failure
 * (a duplicate port, overlapping subnets) the table stays as it was. Connections already NATed
 * keep their mapping: conntrack holds it, not the table. */
int firewall_rebuild(Firewall *f, const FirewallNetwork *nets, size_t n_nets, const FirewallPort *ports, size_t n_ports,
                     char **ret_error);
/* Adding what is there already is no error; removing what is not there neither. A subnet that
 * overlaps another network's gives -EEXIST. */
int firewall_add_network(Firewall *f, const FirewallNetwork *n, char **ret_error);
int firewall_remove_network(Firewall *f, const FirewallNetwork *n, char **ret_error);
/* All or none, in one transaction: -EEXIST when any (protocol, host address, host port) is
 * published already, and then nothing was added. A port on one address and the same port on
 * every address are different keys (the one address wins); berthd's bind() finds that clash. */
int firewall_add_ports(Firewall *f, const FirewallPort *p, size_t n, char **ret_error);
/* Missing elements are skipped. */
int firewall_remove_ports(Firewall *f, const FirewallPort *p, size_t n, char **ret_error);
/* -ENOENT is no error here either. */
int firewall_remove_table(Firewall *f, char **ret_error);
/* A sentence for berthd's log when a forward hook of another table drops what berth forwards
 * (iptables' FORWARD policy DROP as Docker sets it, firewalld's final reject), else NULL. A packet
 * passes only if every table lets it pass; berth's own table cannot overrule another one. */
int firewall_check_conflicts(Firewall *f, char **ret_warning);

/* The pure part: the nft scripts the calls above run, one command a line. */
int firewall_ruleset_text(const FirewallNetwork *nets, size_t n_nets, const FirewallPort *ports, size_t n_ports,
                          char **ret);
int firewall_network_text(const FirewallNetwork *n, bool add, char **ret);
/* add: "create element" (fails on a key that exists); else "delete element". */
int firewall_ports_text(const FirewallPort *p, size_t n, bool add, char **ret);
/* The errno behind a libnftables error message, -EIO when it names none. */
int firewall_errno_from_message(const char *message);
/* firewall_check_conflicts() on the output of "nft -j list ruleset". */
int firewall_conflicts_from_json(const char *json, char **ret_warning);
