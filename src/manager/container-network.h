/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "util.h"

/* A container's networking (docs/NETWORKING.md): its configuration (the CreateContainer options
 * NetworkMode ... PublishAllPorts) and, while it runs, its leases and published ports. */

typedef struct Container Container;
typedef struct Manager Manager;
typedef struct Image Image;

/* -p: a container port published on the host, as asked. host_first == host_last == 0: a random
 * free port; host_first < host_last: one free port of that range. */
typedef struct PortBinding {
        int protocol; /* IPPROTO_TCP, _UDP, _SCTP */
        uint16_t container_port;
        char *host_ip; /* "" : every address */
        uint16_t host_first, host_last;
} PortBinding;

typedef struct ExposedPort {
        int protocol;
        uint16_t port;
} ExposedPort;

/* A published port in force (while the container runs). The bound socket keeps the port ours. */
typedef struct ActivePort {
        int protocol;
        uint16_t container_port;
        uint32_t host_ip; /* host order; 0: every address */
        uint16_t host_port;
        uint32_t container_ip;
        int fd;
} ActivePort;

/* The container on one network. */
typedef struct NetworkEndpoint {
        char network_id[BERTH_ID_LEN + 1];
        char **aliases; /* --network-alias (the first network) or Connect's Aliases */
        char *static_ip; /* --ip, Connect's IPAddress; NULL: allocated */
        char *static_mac; /* --mac-address; NULL: derived from the address */
        /* While it runs. */
        uint32_t address; /* host order; 0: none */
        uint8_t mac[6];
        char endpoint_id[BERTH_ID_LEN + 1];
        unsigned slot; /* its interface: eth<slot>, and vb<id:10><slot> on the host */
} NetworkEndpoint;

typedef struct ContainerNetwork {
        char *mode; /* "bridge", "none", "host", "container:<id>", or a user network's name */
        NetworkEndpoint *endpoints; /* for the bridge modes; the first is the NetworkMode's */
        size_t n_endpoints;
        char **dns, **dns_search, **dns_options, **extra_hosts;
        PortBinding *ports;
        size_t n_ports;
        ExposedPort *exposed; /* --expose and the image's EXPOSE */
        size_t n_exposed;
        bool publish_all;
        ActivePort *active; /* while it runs */
        size_t n_active;
} ContainerNetwork;

const char *ip_protocol_to_string(int protocol);
int ip_protocol_from_string(const char *s);

void network_endpoint_done(NetworkEndpoint *e);
void container_network_init(ContainerNetwork *n);
void container_network_done(ContainerNetwork *n);
/* A CreateContainer option of ours: 1 when 'key' was one (its variant read and checked), 0 if not. */
int container_network_parse_option(sd_bus_message *m, const char *key, const char *contents, ContainerNetwork *n,
                                   sd_bus_error *error);
/* At create: the mode checked against what exists (networks, containers), the endpoints made,
 * the image's EXPOSE added. Moves the configuration into *dst. */
int container_network_configure(Manager *m, ContainerNetwork *config, const Image *image, ContainerNetwork *dst,
                                sd_bus_error *error);
NetworkEndpoint *container_network_endpoint(const Container *c, const char *network_id);
bool container_network_is_bridged(const ContainerNetwork *n);

/* The record's part and the runtime state's part. */
void container_network_to_json(const ContainerNetwork *n, json_object *o);
int container_network_from_json(json_object *o, ContainerNetwork *n);
void container_network_state_to_json(const ContainerNetwork *n, json_object *o);
int container_network_state_from_json(json_object *o, ContainerNetwork *n);

/* At start, after the run directory is made: leases, ports, bridges, firewall elements, the
 * container's /etc/hosts and /etc/resolv.conf (added to 'mounts'), and the spec's net_mode and
 * interfaces. All or nothing: a failure releases what was taken. */
int container_network_prepare(Container *c, json_object *spec, json_object *mounts, sd_bus_error *error);
/* At the end of a run (or a failed start): firewall elements, ports and leases go. */
void container_network_release(Container *c);
/* After berthd restarted: the running containers' ports bound again and the firewall rebuilt. */
int manager_network_startup(Manager *m);
/* The embedded DNS's answer: addresses of running containers on 'network_id' named 'name' (name,
 * alias, short id). */
int manager_network_lookup(Manager *m, const char *network_id, const char *name, uint32_t *addrs, size_t max);

/* Connect, Disconnect (Network methods). */
int container_network_connect(Container *c, const char *network_id, char **aliases, const char *ip, const char *mac,
                              sd_bus_error *error);
int container_network_disconnect(Container *c, const char *network_id, bool force, sd_bus_error *error);

/* Properties of org.berth1.Container. */
int container_property_get_network(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error);
