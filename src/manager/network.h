/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "firewall.h"
#include "ipam.h"
#include "manager.h"
#include "util.h"

/* A network (docs/NETWORKING.md): the three built-in ones (bridge, host, none) and the user's
 * bridges. Records: <state>/networks/<id>.json. */
typedef enum NetworkDriver {
        NETWORK_DRIVER_BRIDGE,
        NETWORK_DRIVER_HOST,
        NETWORK_DRIVER_NULL,
        _NETWORK_DRIVER_MAX,
        _NETWORK_DRIVER_INVALID = -1,
} NetworkDriver;

const char *network_driver_to_string(NetworkDriver d);
NetworkDriver network_driver_from_string(const char *s);

typedef struct Network {
        Manager *manager;
        Network *next;
        char id[BERTH_ID_LEN + 1];
        char *name;
        NetworkDriver driver;
        Ipv4Net subnet; /* bridge only */
        uint32_t gateway;
        Ipv4Net ip_range; /* prefixlen 0: the whole subnet */
        bool internal;
        char **labels; /* "key=value" */
        char **options; /* "key=value", the driver's (-o) */
        uint64_t created_at;
        char *bridge; /* the Linux bridge (bridge driver) */
        uint32_t mtu; /* 0: the kernel's default */
        bool builtin; /* bridge, host, none: never removed */
        bool bridge_up; /* made and addressed in this berthd's life */
} Network;

#define NETWORK_DEFAULT_BRIDGE        "bridge"
#define NETWORK_DEFAULT_BRIDGE_IFNAME "berth0"

/* What a new network is made with (CreateNetwork's options). */
typedef struct NetworkSettings {
        const char *driver; /* NULL or "bridge" */
        const char *subnet, *gateway, *ip_range; /* NULL: picked */
        bool internal;
        bool ipv6;
        char **labels;
        char **options;
} NetworkSettings;

char *network_object_path(const Network *n);
/* By name, full id or unique id prefix; *ret_ambiguous (may be NULL) when a prefix names several. */
Network *manager_find_network(Manager *m, const char *name_or_id, bool *ret_ambiguous);
Network *manager_find_network_by_id(Manager *m, const char *id);
/* manager_find_network(), or NULL with NoSuchNetwork set on error. */
Network *manager_get_network(Manager *m, const char *name_or_id, sd_bus_error *error);
int manager_load_networks(Manager *m);
int network_create(Manager *m, const char *name, const NetworkSettings *settings, Network **ret, sd_bus_error *error);
/* network_create(), then its bridge made (network_setup_bridge()); all or nothing. */
int network_create_and_setup(Manager *m, const char *name, const NetworkSettings *s, Network **ret,
                             sd_bus_error *error);
/* Refused (NetworkInUse) while a running container is attached; for built-in ones always. */
int network_remove(Network *n, sd_bus_error *error);
bool network_is_bridge(const Network *n);
/* Makes the network's Linux bridge (if missing), its gateway address, brings it up, enables
 * forwarding and route_localnet on it and adds it to the firewall. Idempotent. */
int network_setup_bridge(Network *n, sd_bus_error *error);
/* Removes what network_setup_bridge() made: the bridge, its firewall elements, its DNS listener. */
void network_teardown_bridge(Network *n);
/* Its entry of the firewall's table. */
FirewallNetwork network_firewall_entry(const Network *n);
/* The firewall, opened (and its table built from what berthd knows) at the first use. */
int manager_firewall(Manager *m, sd_bus_error *error);
/* The DNS of user networks, started at the first use. */
int manager_network_dns(Manager *m);
/* The ids of the running containers attached. */
int network_attached(const Network *n, char ***ret);
void network_free(Network *n);

extern const sd_bus_vtable network_vtable[];
int network_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error);
int network_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
/* Manager methods (network-dbus.c). */
int method_create_network(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_get_network(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_networks(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_remove_network(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_prune_networks(sd_bus_message *message, void *userdata, sd_bus_error *error);
