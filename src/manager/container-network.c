/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's network configuration: the CreateContainer options, their checks, the record. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "container.h"
#include "container-network.h"
#include "errors.h"
#include "image.h"
#include "ipam.h"
#include "json-util.h"
#include "names.h"
#include "network.h"

static const struct {
        int protocol;
        const char *name;
} protocols[] = { { IPPROTO_TCP, "tcp" }, { IPPROTO_UDP, "udp" }, { IPPROTO_SCTP, "sctp" } };

const char *ip_protocol_to_string(int protocol) {
        for (size_t i = 0; i < ELEMENTSOF(protocols); i++)
                if (protocols[i].protocol == protocol)
                        return protocols[i].name;
        return NULL;
}

int ip_protocol_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(protocols); i++)
                if (streq(protocols[i].name, s))
                        return protocols[i].protocol;
        return -EINVAL;
}

void container_network_init(ContainerNetwork *n) {
        *n = (ContainerNetwork){};
}

void network_endpoint_done(NetworkEndpoint *e) {
        strv_free(e->aliases);
        free(e->static_ip);
        free(e->static_mac);
}

void container_network_done(ContainerNetwork *n) {
        free(n->mode);
        for (size_t i = 0; i < n->n_endpoints; i++)
                network_endpoint_done(&n->endpoints[i]);
        free(n->endpoints);
        strv_free(n->dns);
        strv_free(n->dns_search);
        strv_free(n->dns_options);
        strv_free(n->extra_hosts);
        for (size_t i = 0; i < n->n_ports; i++)
                free(n->ports[i].host_ip);
        free(n->ports);
        free(n->exposed);
        for (size_t i = 0; i < n->n_active; i++)
                safe_close(n->active[i].fd);
        free(n->active);
        *n = (ContainerNetwork){};
}

bool container_network_is_bridged(const ContainerNetwork *n) {
        return n->n_endpoints > 0;
}

NetworkEndpoint *container_network_endpoint(const Container *c, const char *network_id) {
        for (size_t i = 0; i < c->net.n_endpoints; i++)
                if (streq(c->net.endpoints[i].network_id, network_id))
                        return &c->net.endpoints[i];
        return NULL;
}

static int type_error(sd_bus_error *error, const char *key, const char *type) {
        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Container option \"%s\" must have type \"%s\".",
                                 key, type);
}

static bool ip_is_valid(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];
        return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

/* A DNS search domain: labels of letters, digits, '-' and '_', at most 253 characters. */
static bool search_domain_is_valid(const char *s) {
        size_t len = strlen(s), label = 0;
        if (streq(s, "."))
                return true; /* Docker's "no search domains" */
        if (len == 0 || len > 253)
                return false;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        if (label == 0 && p != s + len - 1)
                                return false;
                        label = 0;
                        continue;
                }
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                      *p == '_') ||
                    ++label > 63)
                        return false;
        }
        return true;
}

/* --add-host "name:ip" (or "name=ip"); ip may be "host-gateway". */
static bool extra_host_is_valid(const char *s) {
        size_t n = strcspn(s, ":=");
        if (n == 0 || !s[n] || n > 253)
                return false;
        _cleanup_free_ char *name = strndup(s, n);
        if (!name || !search_domain_is_valid(name) || streq(name, "."))
                return false;
        const char *ip = s + n + 1;
        return streq(ip, "host-gateway") || ip_is_valid(ip);
}

static bool dns_option_is_valid(const char *s) {
        if (isempty(s) || strlen(s) > 255)
                return false;
        for (const char *p = s; *p; p++)
                if (*p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

static int read_strv_option(sd_bus_message *m, const char *key, const char *contents, char ***dst,
                            bool (*valid)(const char *), const char *what, sd_bus_error *error) {
        int r;
        if (!streq(contents, "as"))
                return type_error(error, key, "as");
        strv_free(*dst);
        *dst = NULL;
        if ((r = sd_bus_message_enter_container(m, 'v', "as")) < 0 || (r = bus_read_strv(m, dst)) < 0 ||
            (r = sd_bus_message_exit_container(m)) < 0)
                return r;
        for (char **s = *dst; valid && *s; s++)
                if (!valid(*s))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "\"%s\" is not a valid %s.", *s,
                                                 what);
        return 1;
}

static bool alias_is_valid(const char *s) {
        return search_domain_is_valid(s) && !streq(s, ".");
}

static int parse_port_bindings(sd_bus_message *m, ContainerNetwork *n, sd_bus_error *error) {
        const char *proto, *host_ip;
        uint16_t cport, first, last;
        int r;
        if ((r = sd_bus_message_enter_container(m, 'v', "a(sqsqq)")) < 0 ||
            (r = sd_bus_message_enter_container(m, 'a', "(sqsqq)")) < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(sqsqq)", &proto, &cport, &host_ip, &first, &last)) > 0) {
                int p = ip_protocol_from_string(proto);
                uint32_t a;
                if (p < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "\"%s\" is not a protocol berth publishes: use tcp, udp or sctp.",
                                                 proto);
                if (cport == 0)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "A published container port must be from 1 to 65535.");
                if (!isempty(host_ip) && ipv4_parse(host_ip, &a) < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "\"%s\" is not an IPv4 address of the host to publish on.", host_ip);
                if ((first == 0) != (last == 0) || first > last)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "The host port range %u-%u is not valid.", first, last);
                PortBinding *bigger = realloc(n->ports, (n->n_ports + 1) * sizeof(PortBinding));
                if (!bigger)
                        return -ENOMEM;
                n->ports = bigger;
                n->ports[n->n_ports] = (PortBinding){ .protocol = p,
                                                      .container_port = cport,
                                                      .host_ip = strdup(isempty(host_ip) ? "" : host_ip),
                                                      .host_first = first,
                                                      .host_last = last };
                if (!n->ports[n->n_ports++].host_ip)
                        return -ENOMEM;
        }
        if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                return r;
        return 1;
}

static int add_exposed(ContainerNetwork *n, int protocol, uint16_t port) {
        for (size_t i = 0; i < n->n_exposed; i++)
                if (n->exposed[i].protocol == protocol && n->exposed[i].port == port)
                        return 0;
        ExposedPort *bigger = realloc(n->exposed, (n->n_exposed + 1) * sizeof(ExposedPort));
        if (!bigger)
                return -ENOMEM;
        n->exposed = bigger;
        n->exposed[n->n_exposed++] = (ExposedPort){ .protocol = protocol, .port = port };
        return 0;
}

static int parse_exposed(sd_bus_message *m, ContainerNetwork *n, sd_bus_error *error) {
        const char *proto;
        uint16_t port;
        int r;
        if ((r = sd_bus_message_enter_container(m, 'v', "a(sq)")) < 0 ||
            (r = sd_bus_message_enter_container(m, 'a', "(sq)")) < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(sq)", &proto, &port)) > 0) {
                int p = ip_protocol_from_string(proto);
                if (p < 0 || port == 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "\"%u/%s\" is not a port to expose: give 1-65535 and tcp, udp or "
                                                 "sctp.",
                                                 port, proto);
                if ((r = add_exposed(n, p, port)) < 0)
                        return r;
        }
        if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                return r;
        return 1;
}

/* The endpoint options of the first network, kept aside until the mode is known. */
static NetworkEndpoint *first_endpoint(ContainerNetwork *n) {
        if (n->n_endpoints == 0) {
                n->endpoints = calloc(1, sizeof(NetworkEndpoint));
                if (!n->endpoints)
                        return NULL;
                n->n_endpoints = 1;
        }
        return &n->endpoints[0];
}

int container_network_parse_option(sd_bus_message *m, const char *key, const char *contents, ContainerNetwork *n,
                                   sd_bus_error *error) {
        int r;
        if (streq(key, "NetworkMode") || streq(key, "IPAddress") || streq(key, "MacAddress")) {
                const char *v;
                if (!streq(contents, "s"))
                        return type_error(error, key, "s");
                if ((r = sd_bus_message_read(m, "v", "s", &v)) < 0)
                        return r;
                if (streq(key, "NetworkMode")) {
                        free(n->mode);
                        return (n->mode = strdup(v)) ? 1 : -ENOMEM;
                }
                NetworkEndpoint *e = first_endpoint(n);
                if (!e)
                        return -ENOMEM;
                uint32_t a;
                uint8_t mac[6];
                if (streq(key, "IPAddress")) {
                        if (!isempty(v) && ipv4_parse(v, &a) < 0)
                                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                         "\"%s\" is not a valid IPv4 address.", v);
                        free(e->static_ip);
                        e->static_ip = isempty(v) ? NULL : strdup(v);
                        return !isempty(v) && !e->static_ip ? -ENOMEM : 1;
                }
                if (!isempty(v) && mac_parse(v, mac) < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "\"%s\" is not a valid unicast MAC address (aa:bb:cc:dd:ee:ff).", v);
                free(e->static_mac);
                e->static_mac = isempty(v) ? NULL : strdup(v);
                return !isempty(v) && !e->static_mac ? -ENOMEM : 1;
        }
        if (streq(key, "NetworkAliases")) {
                NetworkEndpoint *e = first_endpoint(n);
                return e ? read_strv_option(m, key, contents, &e->aliases, alias_is_valid, "network alias", error)
                         : -ENOMEM;
        }
        if (streq(key, "Dns"))
                return read_strv_option(m, key, contents, &n->dns, ip_is_valid, "DNS server address", error);
        if (streq(key, "DnsSearch"))
                return read_strv_option(m, key, contents, &n->dns_search, search_domain_is_valid, "DNS search domain",
                                        error);
        if (streq(key, "DnsOptions"))
                return read_strv_option(m, key, contents, &n->dns_options, dns_option_is_valid, "DNS option", error);
        if (streq(key, "ExtraHosts"))
                return read_strv_option(m, key, contents, &n->extra_hosts, extra_host_is_valid,
                                        "extra host: give NAME:IP (IP may be host-gateway)", error);
        if (streq(key, "PortBindings"))
                return streq(contents, "a(sqsqq)") ? parse_port_bindings(m, n, error)
                                                   : type_error(error, key, "a(sqsqq)");
        if (streq(key, "ExposedPorts"))
                return streq(contents, "a(sq)") ? parse_exposed(m, n, error) : type_error(error, key, "a(sq)");
        if (streq(key, "PublishAllPorts")) {
                int b;
                if (!streq(contents, "b"))
                        return type_error(error, key, "b");
                if ((r = sd_bus_message_read(m, "v", "b", &b)) < 0)
                        return r;
                n->publish_all = b;
                return 1;
        }
        return 0;
}

/* The image's EXPOSE entries: "80/tcp", "53/udp", "8080". */
static int add_image_exposed(ContainerNetwork *n, char **exposed) {
        for (char **e = exposed; e && *e; e++) {
                char *end;
                unsigned long port = strtoul(*e, &end, 10);
                int p = *end == '/' ? ip_protocol_from_string(end + 1) : *end ? -EINVAL : IPPROTO_TCP;
                if (p < 0 || port == 0 || port > 65535)
                        continue; /* a port range or junk in an image: not ours to refuse */
                int r = add_exposed(n, p, (uint16_t) port);
                if (r < 0)
                        return r;
        }
        return 0;
}

int container_network_configure(Manager *m, ContainerNetwork *config, const Image *image, ContainerNetwork *dst,
                                sd_bus_error *error) {
        const char *mode = isempty(config->mode) ? NETWORK_DEFAULT_BRIDGE : config->mode;
        NetworkEndpoint *e = config->n_endpoints > 0 ? &config->endpoints[0] : NULL;
        _cleanup_free_ char *normalized = NULL;
        Network *net = NULL;
        int r;

        if (streq(mode, "default"))
                mode = NETWORK_DEFAULT_BRIDGE;
        const char *other = startswith(mode, "container:");
        if (other) {
                bool ambiguous;
                Container *peer = manager_find_container(m, other, &ambiguous);
                if (!peer)
                        return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_CONTAINER,
                                                 "No such container: %s (to share the network namespace of).", other);
                if (config->n_ports > 0 || config->publish_all)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "Conflicting options: ports cannot be published with the network of "
                                                "another container.");
                if (config->dns || config->dns_search || config->dns_options || config->extra_hosts)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "Conflicting options: DNS settings and extra hosts cannot be set "
                                                "with the network of another container.");
                /* Kept as given (Docker's NetworkMode), found again at each start. */
                normalized = strdup(mode);
                if (!normalized)
                        return -ENOMEM;
        } else {
                bool ambiguous;
                net = manager_find_network(m, mode, &ambiguous);
                if (!net)
                        return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_NETWORK, "Network %s not found.", mode);
                normalized = strdup(net->builtin ? net->name : mode);
                if (!normalized)
                        return -ENOMEM;
        }
        bool user_network = net && network_is_bridge(net) && !net->builtin;
        if (e && (e->static_ip || strv_length(e->aliases) > 0) && !user_network)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        e->static_ip ? "A static IP address (--ip) can only be given on a user-defined "
                                                       "network."
                                                     : "Network aliases can only be given on a user-defined "
                                                       "network.");
        if (e && e->static_mac && !(net && network_is_bridge(net)))
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "A MAC address can only be given on a bridge network.");
        if (e && e->static_ip) {
                uint32_t a;
                (void) ipv4_parse(e->static_ip, &a);
                if (!ipam_address_is_assignable(&net->subnet, net->gateway, a)) {
                        char buf[19];
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "The address %s is not a host address of network %s (%s).",
                                                 e->static_ip, net->name, ipv4_net_to_string(&net->subnet, buf));
                }
        }

        *dst = *config;
        *config = (ContainerNetwork){};
        free(dst->mode);
        dst->mode = TAKE_PTR(normalized);
        if (net && network_is_bridge(net)) {
                e = first_endpoint(dst);
                if (!e)
                        return -ENOMEM;
                memcpy(e->network_id, net->id, sizeof(e->network_id));
        } else {
                for (size_t i = 0; i < dst->n_endpoints; i++)
                        network_endpoint_done(&dst->endpoints[i]);
                dst->endpoints = mfree(dst->endpoints);
                dst->n_endpoints = 0;
        }
        if (net && net->driver != NETWORK_DRIVER_BRIDGE) {
                /* Docker discards published ports with host networking, and has none to publish with none. */
                for (size_t i = 0; i < dst->n_ports; i++)
                        free(dst->ports[i].host_ip);
                dst->ports = mfree(dst->ports);
                dst->n_ports = 0;
                dst->publish_all = false;
        }
        r = image ? add_image_exposed(dst, image->exposed_ports) : 0;
        if (r < 0)
                return r;
        for (size_t i = 0; i < dst->n_ports; i++)
                if ((r = add_exposed(dst, dst->ports[i].protocol, dst->ports[i].container_port)) < 0)
                        return r;
        return 0;
}

/* -- the record -------------------------------------------------------------------------------- */

void container_network_to_json(const ContainerNetwork *n, json_object *o) {
        json_object *net = json_object_new_object(), *eps = json_object_new_array(), *ports = json_object_new_array(),
                    *exposed = json_object_new_array();
        json_object_object_add(net, "mode", json_object_new_string(n->mode ?: NETWORK_DEFAULT_BRIDGE));
        for (size_t i = 0; i < n->n_endpoints; i++) {
                const NetworkEndpoint *e = &n->endpoints[i];
                json_object *j = json_object_new_object();
                json_object_object_add(j, "network", json_object_new_string(e->network_id));
                json_object_object_add(j, "aliases", json_strv_new(e->aliases));
                if (e->static_ip)
                        json_object_object_add(j, "ip", json_object_new_string(e->static_ip));
                if (e->static_mac)
                        json_object_object_add(j, "mac", json_object_new_string(e->static_mac));
                json_object_array_add(eps, j);
        }
        json_object_object_add(net, "endpoints", eps);
        json_object_object_add(net, "dns", json_strv_new(n->dns));
        json_object_object_add(net, "dns_search", json_strv_new(n->dns_search));
        json_object_object_add(net, "dns_options", json_strv_new(n->dns_options));
        json_object_object_add(net, "extra_hosts", json_strv_new(n->extra_hosts));
        for (size_t i = 0; i < n->n_ports; i++) {
                const PortBinding *p = &n->ports[i];
                json_object *j = json_object_new_object();
                json_object_object_add(j, "protocol", json_object_new_string(ip_protocol_to_string(p->protocol)));
                json_object_object_add(j, "container_port", json_object_new_int(p->container_port));
                json_object_object_add(j, "host_ip", json_object_new_string(p->host_ip ?: ""));
                json_object_object_add(j, "host_first", json_object_new_int(p->host_first));
                json_object_object_add(j, "host_last", json_object_new_int(p->host_last));
                json_object_array_add(ports, j);
        }
        json_object_object_add(net, "ports", ports);
        for (size_t i = 0; i < n->n_exposed; i++) {
                json_object *j = json_object_new_object();
                json_object_object_add(j, "protocol",
                                       json_object_new_string(ip_protocol_to_string(n->exposed[i].protocol)));
                json_object_object_add(j, "port", json_object_new_int(n->exposed[i].port));
                json_object_array_add(exposed, j);
        }
        json_object_object_add(net, "exposed", exposed);
        json_object_object_add(net, "publish_all", json_object_new_boolean(n->publish_all));
        json_object_object_add(o, "network", net);
}

static int port_from_json(json_object *j, const char *key) {
        int64_t v = json_get_i64(j, key, -1);
        return v < 0 || v > 65535 ? -EBADMSG : (int) v;
}

static char *dup_optional(const char *s) {
        return s ? strdup(s) : NULL;
}

/* A record without "network" (of a berth before networking): the default bridge, as Docker. */
int container_network_from_json(json_object *o, ContainerNetwork *n) {
        json_object *net, *a;
        int r;
        *n = (ContainerNetwork){};
        if (!json_object_object_get_ex(o, "network", &net)) {
                n->mode = strdup("none"); /* what such a container always had: a namespace with lo only */
                return n->mode ? 0 : -ENOMEM;
        }
        const char *mode = json_get_string(net, "mode");
        if (!mode || !(n->mode = strdup(mode)))
                return mode ? -ENOMEM : -EBADMSG;
        if (json_object_object_get_ex(net, "endpoints", &a) && json_object_is_type(a, json_type_array)) {
                size_t len = json_object_array_length(a);
                n->endpoints = calloc(len ?: 1, sizeof(NetworkEndpoint));
                if (!n->endpoints)
                        return -ENOMEM;
                for (size_t i = 0; i < len; i++) {
                        json_object *j = json_object_array_get_idx(a, i);
                        NetworkEndpoint *e = &n->endpoints[n->n_endpoints++];
                        const char *id = json_get_string(j, "network");
                        if (!id || !id_is_valid(id) || json_get_strv(j, "aliases", &e->aliases) < 0)
                                return -EBADMSG;
                        memcpy(e->network_id, id, sizeof(e->network_id));
                        e->static_ip = dup_optional(json_get_string(j, "ip"));
                        e->static_mac = dup_optional(json_get_string(j, "mac"));
                }
        }
        if ((r = json_get_strv(net, "dns", &n->dns)) < 0 ||
            (r = json_get_strv(net, "dns_search", &n->dns_search)) < 0 ||
            (r = json_get_strv(net, "dns_options", &n->dns_options)) < 0 ||
            (r = json_get_strv(net, "extra_hosts", &n->extra_hosts)) < 0)
                return -EBADMSG;
        if (json_object_object_get_ex(net, "ports", &a) && json_object_is_type(a, json_type_array)) {
                size_t len = json_object_array_length(a);
                n->ports = calloc(len ?: 1, sizeof(PortBinding));
                if (!n->ports)
                        return -ENOMEM;
                for (size_t i = 0; i < len; i++) {
                        json_object *j = json_object_array_get_idx(a, i);
                        int p = ip_protocol_from_string(json_get_string(j, "protocol"));
                        int cport = port_from_json(j, "container_port"), first = port_from_json(j, "host_first"),
                            last = port_from_json(j, "host_last");
                        const char *host_ip = json_get_string(j, "host_ip");
                        if (p < 0 || cport <= 0 || first < 0 || last < 0 || !host_ip)
                                return -EBADMSG;
                        n->ports[n->n_ports++] = (PortBinding){ .protocol = p,
                                                                .container_port = (uint16_t) cport,
                                                                .host_ip = strdup(host_ip),
                                                                .host_first = (uint16_t) first,
                                                                .host_last = (uint16_t) last };
                        if (!n->ports[n->n_ports - 1].host_ip)
                                return -ENOMEM;
                }
        }
        if (json_object_object_get_ex(net, "exposed", &a) && json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *j = json_object_array_get_idx(a, i);
                        int p = ip_protocol_from_string(json_get_string(j, "protocol")),
                            port = port_from_json(j, "port");
                        if (p < 0 || port <= 0)
                                return -EBADMSG;
                        if ((r = add_exposed(n, p, (uint16_t) port)) < 0)
                                return r;
                }
        n->publish_all = json_get_bool(net, "publish_all", 0);
        return 0;
}

/* -- properties --------------------------------------------------------------------------------- */

static int append_networks(sd_bus_message *reply, const Container *c) {
        int r = sd_bus_message_open_container(reply, 'a', "(sssusssas)");
        for (size_t i = 0; r >= 0 && i < c->net.n_endpoints; i++) {
                const NetworkEndpoint *e = &c->net.endpoints[i];
                const Network *net = manager_find_network_by_id(c->manager, e->network_id);
                char addr[16] = "", gw[16] = "", mac[18] = "";
                bool up = e->address != 0 && c->state == CONTAINER_RUNNING;
                if (up) {
                        ipv4_to_string(e->address, addr);
                        mac_to_string(e->mac, mac);
                        if (net)
                                ipv4_to_string(net->gateway, gw);
                }
                r = sd_bus_message_open_container(reply, 'r', "sssusssas");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sssusss", net ? net->name : e->network_id, e->network_id,
                                                  addr, up && net ? net->subnet.prefixlen : 0, gw, mac,
                                                  up ? e->endpoint_id : "");
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, e->aliases);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

int container_property_get_network(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        const ContainerNetwork *n = &c->net;
        const NetworkEndpoint *e = n->n_endpoints > 0 ? &n->endpoints[0] : NULL;
        int r;
        if (streq(property, "NetworkMode"))
                return sd_bus_message_append(reply, "s", n->mode ?: NETWORK_DEFAULT_BRIDGE);
        if (streq(property, "NetworkAliases"))
                return sd_bus_message_append_strv(reply, e ? e->aliases : NULL);
        if (streq(property, "IPAddress"))
                return sd_bus_message_append(reply, "s", e && e->static_ip ? e->static_ip : "");
        if (streq(property, "MacAddress"))
                return sd_bus_message_append(reply, "s", e && e->static_mac ? e->static_mac : "");
        if (streq(property, "Dns"))
                return sd_bus_message_append_strv(reply, n->dns);
        if (streq(property, "DnsSearch"))
                return sd_bus_message_append_strv(reply, n->dns_search);
        if (streq(property, "DnsOptions"))
                return sd_bus_message_append_strv(reply, n->dns_options);
        if (streq(property, "ExtraHosts"))
                return sd_bus_message_append_strv(reply, n->extra_hosts);
        if (streq(property, "PublishAllPorts"))
                return sd_bus_message_append(reply, "b", (int) n->publish_all);
        if (streq(property, "PortBindings")) {
                r = sd_bus_message_open_container(reply, 'a', "(sqsqq)");
                for (size_t i = 0; r >= 0 && i < n->n_ports; i++)
                        r = sd_bus_message_append(reply, "(sqsqq)", ip_protocol_to_string(n->ports[i].protocol),
                                                  n->ports[i].container_port, n->ports[i].host_ip ?: "",
                                                  n->ports[i].host_first, n->ports[i].host_last);
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        if (streq(property, "ExposedPorts")) {
                r = sd_bus_message_open_container(reply, 'a', "(sq)");
                for (size_t i = 0; r >= 0 && i < n->n_exposed; i++)
                        r = sd_bus_message_append(reply, "(sq)", ip_protocol_to_string(n->exposed[i].protocol),
                                                  n->exposed[i].port);
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        if (streq(property, "Ports")) {
                char buf[16];
                r = sd_bus_message_open_container(reply, 'a', "(sqsq)");
                for (size_t i = 0; r >= 0 && c->state == CONTAINER_RUNNING && i < n->n_active; i++)
                        r = sd_bus_message_append(reply, "(sqsq)", ip_protocol_to_string(n->active[i].protocol),
                                                  n->active[i].container_port,
                                                  ipv4_to_string(n->active[i].host_ip, buf), n->active[i].host_port);
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        if (streq(property, "Networks"))
                return append_networks(reply, c);
        return -ENOENT;
}
