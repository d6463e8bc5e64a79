/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's networking while it runs: leases, published ports, firewall elements, its
 * /etc/hosts and /etc/resolv.conf, and what berthd puts right after a restart. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>

#include "container.h"
#include "container-network.h"
#include "dns-server.h"
#include "errors.h"
#include "firewall.h"
#include "helper-protocol.h"
#include "ipam.h"
#include "json-util.h"
#include "log.h"
#include "netlink.h"
#include "network.h"
#include "resolv-conf.h"

static bool container_holds_leases(const Container *c) {
        return c->state == CONTAINER_RUNNING || c->starting;
}

/* Addresses on the network that running (or starting) containers hold, but c's own. */
static int used_addresses(Manager *m, const Container *self, const char *network_id, uint32_t **ret, size_t *ret_n) {
        uint32_t *l = NULL;
        size_t n = 0;
        for (Container *c = m->containers; c; c = c->next) {
                if (c == self || !container_holds_leases(c))
                        continue;
                NetworkEndpoint *e = container_network_endpoint(c, network_id);
                if (!e || e->address == 0)
                        continue;
                uint32_t *bigger = realloc(l, (n + 1) * sizeof(uint32_t));
                if (!bigger) {
                        free(l);
                        return -ENOMEM;
                }
                l = bigger;
                l[n++] = e->address;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

static Container *address_holder(Manager *m, const Container *self, const char *network_id, uint32_t a) {
        for (Container *c = m->containers; c; c = c->next) {
                if (c == self || !container_holds_leases(c))
                        continue;
                NetworkEndpoint *e = container_network_endpoint(c, network_id);
                if (e && e->address == a)
                        return c;
        }
        return NULL;
}

static int endpoint_lease(Container *c, NetworkEndpoint *e, Network *net, sd_bus_error *error) {
        uint32_t a;
        int r;
        if (e->static_ip) {
                if (ipv4_parse(e->static_ip, &a) < 0 || !ipam_address_is_assignable(&net->subnet, net->gateway, a))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "The address %s is not a host address of network %s.", e->static_ip,
                                                 net->name);
                Container *holder = address_holder(c->manager, c, net->id, a);
                if (holder)
                        return sd_bus_error_setf(error, BERTH_ERROR_ADDRESS_IN_USE,
                                                 "The address %s on network %s is in use by container %s.",
                                                 e->static_ip, net->name, holder->name);
        } else {
                _cleanup_free_ uint32_t *used = NULL;
                size_t n_used = 0;
                r = used_addresses(c->manager, c, net->id, &used, &n_used);
                if (r < 0)
                        return r;
                r = ipam_allocate(&net->subnet, net->ip_range.prefixlen ? &net->ip_range : NULL, net->gateway, used,
                                  n_used, &a);
                if (r < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_ADDRESS_IN_USE,
                                                 "Network %s has no free address left.", net->name);
        }
        if (!e->static_mac || mac_parse(e->static_mac, e->mac) < 0)
                ipam_mac_for(a, e->mac);
        r = random_hex_id(e->endpoint_id);
        if (r < 0)
                return r;
        e->address = a;
        return 0;
}

static void endpoint_release(NetworkEndpoint *e) {
        e->address = 0;
        memset(e->mac, 0, sizeof(e->mac));
        e->endpoint_id[0] = 0;
}

/* Binding the host's port keeps it ours for the run: nothing else can take it, and a port another
 * program has is refused here, before anything is set up. The socket never listens: the packets
 * are NATed to the container before they would reach it. */
static int bind_host_port(int protocol, uint32_t host_ip, uint16_t port, int *ret_fd, uint16_t *ret_port) {
        int type = protocol == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
        _cleanup_close_ int fd = socket(AF_INET, type | SOCK_CLOEXEC, protocol);
        if (fd < 0)
                return -errno;
        /* TCP: SO_REUSEADDR (connections of an earlier program in TIME_WAIT do not block the port)
         * and listening, so that a second bind of the port fails as for any server. Nothing is
         * ever accepted: IPv4 packets for the port are NATed before they would reach it. */
        if (protocol == IPPROTO_TCP)
                (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(host_ip) };
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (type == SOCK_STREAM && listen(fd, 0) < 0)
                return -errno;
        socklen_t len = sizeof(sa);
        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        *ret_port = ntohs(sa.sin_port);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int add_active(ContainerNetwork *n, const ActivePort *p) {
        ActivePort *bigger = realloc(n->active, (n->n_active + 1) * sizeof(ActivePort));
        if (!bigger)
                return -ENOMEM;
        n->active = bigger;
        n->active[n->n_active++] = *p;
        return 0;
}

static bool port_is_published(const ContainerNetwork *n, int protocol, uint16_t container_port) {
        for (size_t i = 0; i < n->n_ports; i++)
                if (n->ports[i].protocol == protocol && n->ports[i].container_port == container_port)
                        return true;
        return false;
}

static int publish_one(Container *c, const PortBinding *b, uint32_t container_ip, sd_bus_error *error) {
        uint32_t host_ip = 0;
        int r = -EADDRINUSE, fd = -1;
        uint16_t port = 0;
        if (!isempty(b->host_ip))
                (void) ipv4_parse(b->host_ip, &host_ip);
        if (b->host_first == 0)
                r = bind_host_port(b->protocol, host_ip, 0, &fd, &port);
        else
                for (uint32_t p = b->host_first; p <= b->host_last && r == -EADDRINUSE; p++)
                        r = bind_host_port(b->protocol, host_ip, (uint16_t) p, &fd, &port);
        if (r < 0) {
                char range[16];
                if (b->host_first == b->host_last)
                        snprintf(range, sizeof(range), "%u", b->host_first);
                else
                        snprintf(range, sizeof(range), "%u-%u", b->host_first, b->host_last);
                if (r == -EADDRINUSE)
                        return sd_bus_error_setf(error, BERTH_ERROR_PORT_IN_USE, "Port %s/%s on %s is already in use.",
                                                 range, ip_protocol_to_string(b->protocol),
                                                 isempty(b->host_ip) ? "0.0.0.0" : b->host_ip);
                return sd_bus_error_set_errnof(error, -r, "Failed to publish port %u/%s on the host port %s: %m",
                                               b->container_port, ip_protocol_to_string(b->protocol), range);
        }
        r = add_active(&c->net,
                       &(ActivePort){ .protocol = b->protocol,
                                      .container_port = b->container_port,
                                      .host_ip = host_ip,
                                      .host_port = port,
                                      .container_ip = container_ip,
                                      .fd = fd });
        if (r < 0)
                safe_close(fd);
        return r;
}

static FirewallPort firewall_port(const ActivePort *p) {
        return (FirewallPort){ .protocol = p->protocol,
                               .host_ip.s_addr = htonl(p->host_ip),
                               .host_port = p->host_port,
                               .container_ip.s_addr = htonl(p->container_ip),
                               .container_port = p->container_port };
}

/* What the table holds: the networks whose bridge is up (with nl: whose bridge exists) and the
 * ports of running containers. */
static int firewall_state(Manager *m, NetlinkSocket *nl, FirewallNetwork **ret_nets, size_t *ret_n_nets,
                          FirewallPort **ret_ports, size_t *ret_n_ports) {
        _cleanup_free_ FirewallNetwork *nets = NULL;
        _cleanup_free_ FirewallPort *ports = NULL;
        size_t n_nets = 0, n_ports = 0;
        for (Network *n = m->networks; n; n = n->next) {
                int index;
                if (!network_is_bridge(n) || !(n->bridge_up || (nl && netlink_link_index(nl, n->bridge, &index) >= 0)))
                        continue;
                FirewallNetwork *bigger = realloc(nets, (n_nets + 1) * sizeof(FirewallNetwork));
                if (!bigger)
                        return -ENOMEM;
                nets = bigger;
                nets[n_nets++] = network_firewall_entry(n);
        }
        for (Container *c = m->containers; c; c = c->next) {
                if (c->state != CONTAINER_RUNNING || c->net.n_active == 0)
                        continue;
                FirewallPort *bigger = realloc(ports, (n_ports + c->net.n_active) * sizeof(FirewallPort));
                if (!bigger)
                        return -ENOMEM;
                ports = bigger;
                for (size_t i = 0; i < c->net.n_active; i++)
                        ports[n_ports++] = firewall_port(&c->net.active[i]);
        }
        *ret_nets = TAKE_PTR(nets);
        *ret_n_nets = n_nets;
        *ret_ports = TAKE_PTR(ports);
        *ret_n_ports = n_ports;
        return 0;
}

/* The whole table again, in one transaction, from what berthd knows; then a warning when another
 * table would drop what berth forwards (Docker's FORWARD DROP, firewalld). */
static int firewall_rebuild_from(Manager *m, NetlinkSocket *nl, sd_bus_error *error) {
        _cleanup_free_ FirewallNetwork *nets = NULL;
        _cleanup_free_ FirewallPort *ports = NULL;
        _cleanup_free_ char *message = NULL, *warning = NULL;
        size_t n_nets = 0, n_ports = 0;
        int r = firewall_state(m, nl, &nets, &n_nets, &ports, &n_ports);
        if (r < 0)
                return r;
        r = firewall_rebuild(m->firewall, nets, n_nets, ports, n_ports, &message);
        if (r < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_START_FAILED, "Failed to build berth's nftables table: %s",
                                         message ?: strerror(-r));
        if (firewall_check_conflicts(m->firewall, &warning) >= 0 && warning)
                log_warning("%s", warning);
        return 0;
}

int manager_firewall(Manager *m, sd_bus_error *error) {
        if (m->firewall)
                return 0;
        int r = firewall_new(&m->firewall);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to open nftables: %m");
        r = firewall_rebuild_from(m, NULL, error);
        if (r < 0)
                m->firewall = firewall_free(m->firewall);
        return r;
}

static int ports_to_firewall(Container *c, bool add, sd_bus_error *error) {
        Manager *m = c->manager;
        if (c->net.n_active == 0)
                return 0;
        _cleanup_free_ FirewallPort *l = calloc(c->net.n_active, sizeof(FirewallPort));
        _cleanup_free_ char *message = NULL;
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < c->net.n_active; i++)
                l[i] = firewall_port(&c->net.active[i]);
        int r = manager_firewall(m, error);
        if (r < 0)
                return r;
        r = add ? firewall_add_ports(m->firewall, l, c->net.n_active, &message)
                : firewall_remove_ports(m->firewall, l, c->net.n_active, &message);
        if (r == -EEXIST)
                return sd_bus_error_set(error, BERTH_ERROR_PORT_IN_USE,
                                        "A port to publish is already published by another container.");
        if (r < 0) {
                if (add)
                        return sd_bus_error_setf(error, BERTH_ERROR_START_FAILED,
                                                 "Failed to add the published ports to the firewall: %s",
                                                 message ?: strerror(-r));
                log_warning("Container %s: failed to remove its published ports from the firewall: %s", c->name,
                            message ?: strerror(-r));
        }
        return r;
}

/* The ports of -p, then (-P) each exposed port not published otherwise, on a random host port. */
static int publish_ports(Container *c, uint32_t container_ip, sd_bus_error *error) {
        int r;
        for (size_t i = 0; i < c->net.n_ports; i++)
                if ((r = publish_one(c, &c->net.ports[i], container_ip, error)) < 0)
                        return r;
        for (size_t i = 0; c->net.publish_all && i < c->net.n_exposed; i++) {
                const ExposedPort *e = &c->net.exposed[i];
                if (port_is_published(&c->net, e->protocol, e->port))
                        continue;
                PortBinding b = { .protocol = e->protocol, .container_port = e->port, .host_ip = (char *) "" };
                if ((r = publish_one(c, &b, container_ip, error)) < 0)
                        return r;
        }
        return ports_to_firewall(c, true, error);
}

static void close_ports(ContainerNetwork *n) {
        for (size_t i = 0; i < n->n_active; i++)
                safe_close(n->active[i].fd);
        n->active = mfree(n->active);
        n->n_active = 0;
}

void container_network_release(Container *c) {
        Manager *m = c->manager;
        if (c->net.n_active > 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                (void) ports_to_firewall(c, false, &error);
        }
        close_ports(&c->net);
        for (size_t i = 0; i < c->net.n_endpoints; i++) {
                NetworkEndpoint *e = &c->net.endpoints[i];
                if (e->address && m->dns && c->net.dns) {
                        Network *net = manager_find_network_by_id(m, e->network_id);
                        if (net)
                                (void) dns_server_set_client_upstreams(
                                        m->dns, net->id, (struct in_addr){ .s_addr = htonl(e->address) }, NULL);
                }
                endpoint_release(e);
        }
}

/* -- files ------------------------------------------------------------------------------------- */

static int add_file_mount(json_object *mounts, const char *source, const char *target) {
        /* A mount of the user's at the same place wins (Docker: -v /my/hosts:/etc/hosts). */
        for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                const char *t = json_get_string(json_object_array_get_idx(mounts, i), SPEC_MOUNT_KEY_TARGET);
                if (t && streq(t, target))
                        return 0;
        }
        json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, SPEC_MOUNT_KEY_TYPE, json_object_new_string(SPEC_MOUNT_TYPE_BIND));
        json_object_object_add(o, SPEC_MOUNT_KEY_SOURCE, json_object_new_string(source));
        json_object_object_add(o, SPEC_MOUNT_KEY_TARGET, json_object_new_string(target));
        json_object_object_add(o, SPEC_MOUNT_KEY_READ_ONLY, json_object_new_boolean(false));
        return json_object_array_add(mounts, o);
}

static int write_run_file(Container *c, const char *name, const char *content, json_object *mounts,
                          const char *target) {
        _cleanup_free_ char *path = manager_run_path(c->manager, "containers/%s/%s", c->id, name);
        if (!path)
                return -ENOMEM;
        int r = write_file_atomic(path, content, strlen(content), 0644);
        if (r < 0)
                return r;
        return add_file_mount(mounts, path, target);
}

/* The host's resolver configuration, read at most once a second. */
static int host_resolv_conf(Manager *m, ResolvConf *ret) {
        bool fallback = false;
        int r = resolv_conf_load_host("", ret, &fallback);
        if (r >= 0 && fallback && !m->dns_fallback_warned) {
                log_warning("The host has no nameserver a container can reach: containers use 8.8.8.8 and 8.8.4.4.");
                m->dns_fallback_warned = true;
        }
        return r;
}

static int write_resolv_conf(Container *c, const Network *user_net, json_object *mounts) {
        _cleanup_(resolv_conf_done) ResolvConf host = {}, base = {}, mine = {};
        _cleanup_free_ char *text = NULL;
        int r = host_resolv_conf(c->manager, &host);
        if (r < 0)
                return r;
        /* The host's nameservers may have changed (DHCP, a VPN): the DNS of the networks follows,
         * as Docker reads them again at each start. */
        if (user_net && c->manager->dns && dns_server_set_upstreams(c->manager->dns, host.nameservers) < 0)
                log_warning("Failed to take the host's nameservers for the networks' DNS.");
        if (user_net) {
                /* The network's own DNS answers container names and forwards the rest. */
                char gw[16];
                base.nameservers = calloc(2, sizeof(char *));
                if (!base.nameservers || !(base.nameservers[0] = strdup(ipv4_to_string(user_net->gateway, gw))))
                        return -ENOMEM;
                base.search = strv_copy(host.search);
                base.options = strv_copy(host.options);
                if (!base.nameservers || !base.search || !base.options)
                        return -ENOMEM;
        }
        /* On a user network --dns names the upstreams of the network's DNS for this container (as
         * Docker's embedded DNS does); resolv.conf keeps pointing at the gateway. */
        r = resolv_conf_for_container(user_net ? &base : &host, user_net ? NULL : c->net.dns, c->net.dns_search,
                                      c->net.dns_options, &mine);
        if (r < 0)
                return r;
        text = resolv_conf_format(&mine);
        if (!text)
                return -ENOMEM;
        return write_run_file(c, "resolv.conf", text, mounts, "/etc/resolv.conf");
}

static int write_hosts(Container *c, const NetworkEndpoint *e, const Network *net, json_object *mounts) {
        _cleanup_free_ char *text = NULL;
        char addr[16], gw[16];
        const char *names[4] = {};
        size_t n = 0;
        HostsLine own = { .names = (char *const *) names };
        names[n++] = c->hostname;
        if (!streq(c->hostname, c->name) && net && !net->builtin)
                names[n++] = c->name;
        if (e)
                own.address = ipv4_to_string(e->address, addr);
        int r = etc_hosts_format(&own, e ? 1 : 0, c->net.extra_hosts, net ? ipv4_to_string(net->gateway, gw) : NULL,
                                 &text);
        if (r < 0)
                return r;
        return write_run_file(c, "hosts", text, mounts, "/etc/hosts");
}

/* -- the start ---------------------------------------------------------------------------------- */

static int prepare_bridged(Container *c, json_object *spec, json_object *mounts, sd_bus_error *error) {
        Manager *m = c->manager;
        _cleanup_json_ json_object *ifaces = json_object_new_array();
        int r;
        if (!ifaces)
                return -ENOMEM;
        Network *first = NULL;
        for (size_t i = 0; i < c->net.n_endpoints; i++) {
                NetworkEndpoint *e = &c->net.endpoints[i];
                Network *net = manager_find_network_by_id(m, e->network_id);
                if (!net)
                        return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_NETWORK,
                                                 "Network %.12s of container %s no longer exists.", e->network_id,
                                                 c->name);
                if (i == 0)
                        first = net;
                if ((r = network_setup_bridge(net, error)) < 0 || (r = endpoint_lease(c, e, net, error)) < 0)
                        return r;
                char host_ifname[IFNAMSIZ], ifname[IFNAMSIZ], addr[19], gw[16], mac[18];
                e->slot = (unsigned) i;
                snprintf(host_ifname, sizeof(host_ifname), "vb%.10s%x", c->id, e->slot);
                snprintf(ifname, sizeof(ifname), "eth%u", e->slot);
                Ipv4Net a = { .addr = e->address, .prefixlen = net->subnet.prefixlen };
                snprintf(addr, sizeof(addr), "%s/%u", ipv4_to_string(e->address, gw), a.prefixlen);
                json_object *o = json_object_new_object();
                json_object_object_add(o, SPEC_IFACE_KEY_HOST_IFNAME, json_object_new_string(host_ifname));
                json_object_object_add(o, SPEC_IFACE_KEY_IFNAME, json_object_new_string(ifname));
                json_object_object_add(o, SPEC_IFACE_KEY_BRIDGE, json_object_new_string(net->bridge));
                json_object_object_add(o, SPEC_IFACE_KEY_ADDRESS, json_object_new_string(addr));
                json_object_object_add(
                        o, SPEC_IFACE_KEY_GATEWAY,
                        json_object_new_string(i == 0 && !net->internal ? ipv4_to_string(net->gateway, gw) : ""));
                json_object_object_add(o, SPEC_IFACE_KEY_MAC, json_object_new_string(mac_to_string(e->mac, mac)));
                json_object_object_add(o, SPEC_IFACE_KEY_MTU, json_object_new_int((int) net->mtu));
                json_object_array_add(ifaces, o);
                if (c->net.dns && m->dns && !net->builtin)
                        (void) dns_server_set_client_upstreams(
                                m->dns, net->id, (struct in_addr){ .s_addr = htonl(e->address) }, c->net.dns);
        }
        if ((r = publish_ports(c, c->net.endpoints[0].address, error)) < 0)
                return r;
        if ((r = write_hosts(c, &c->net.endpoints[0], first, mounts)) < 0 ||
            (r = write_resolv_conf(c, first->builtin ? NULL : first, mounts)) < 0)
                return sd_bus_error_set_errnof(error, -r,
                                               "Failed to write the container's /etc/hosts or "
                                               "/etc/resolv.conf: %m");
        json_object_object_add(spec, SPEC_KEY_NET_MODE, json_object_new_string(SPEC_NET_MODE_PRIVATE));
        json_object_object_add(spec, SPEC_KEY_INTERFACES, TAKE_PTR(ifaces));
        return 0;
}

static int prepare_shared(Container *c, json_object *spec, json_object *mounts, sd_bus_error *error) {
        const char *peer_id = startswith(c->net.mode, "container:");
        Container *peer = manager_find_container(c->manager, peer_id, NULL);
        if (!peer || peer->state != CONTAINER_RUNNING || peer->pid <= 0)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING,
                                         "Container %s, whose network container %s shares, is not running.",
                                         peer ? peer->name : peer_id, c->name);
        json_object_object_add(spec, SPEC_KEY_NET_MODE, json_object_new_string(SPEC_NET_MODE_CONTAINER));
        json_object_object_add(spec, SPEC_KEY_NET_JOIN_PID, json_object_new_int(peer->pid));
        /* The same /etc/hosts and /etc/resolv.conf as the container whose network it is. */
        static const char *const files[] = { "hosts", "resolv.conf" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *path = manager_run_path(c->manager, "containers/%s/%s", peer->id, files[i]),
                                    *target = strjoin("/etc/", files[i]);
                if (!path || !target)
                        return -ENOMEM;
                if (access(path, F_OK) >= 0) {
                        int r = add_file_mount(mounts, path, target);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int container_network_prepare(Container *c, json_object *spec, json_object *mounts, sd_bus_error *error) {
        int r;
        container_network_release(c); /* nothing of an earlier run */
        if (startswith(c->net.mode ?: "", "container:"))
                r = prepare_shared(c, spec, mounts, error);
        else if (container_network_is_bridged(&c->net))
                r = prepare_bridged(c, spec, mounts, error);
        else {
                bool host = streq_ptr(c->net.mode, "host");
                json_object_object_add(spec, SPEC_KEY_NET_MODE,
                                       json_object_new_string(host ? SPEC_NET_MODE_HOST : SPEC_NET_MODE_NONE));
                r = write_hosts(c, NULL, NULL, mounts);
                if (r >= 0)
                        r = write_resolv_conf(c, NULL, mounts);
                if (r < 0)
                        r = sd_bus_error_set_errnof(error, -r,
                                                    "Failed to write the container's /etc/hosts or "
                                                    "/etc/resolv.conf: %m");
        }
        if (r < 0)
                container_network_release(c);
        return r;
}

/* -- the runtime state ------------------------------------------------------------------------- */

void container_network_state_to_json(const ContainerNetwork *n, json_object *o) {
        json_object *eps = json_object_new_array(), *ports = json_object_new_array();
        char buf[18];
        for (size_t i = 0; i < n->n_endpoints; i++) {
                const NetworkEndpoint *e = &n->endpoints[i];
                json_object *j = json_object_new_object();
                json_object_object_add(j, "network", json_object_new_string(e->network_id));
                json_object_object_add(j, "address",
                                       json_object_new_string(e->address ? ipv4_to_string(e->address, buf) : ""));
                json_object_object_add(j, "mac", json_object_new_string(mac_to_string(e->mac, buf)));
                json_object_object_add(j, "endpoint_id", json_object_new_string(e->endpoint_id));
                json_object_object_add(j, "slot", json_object_new_int((int) e->slot));
                json_object_array_add(eps, j);
        }
        for (size_t i = 0; i < n->n_active; i++) {
                const ActivePort *p = &n->active[i];
                json_object *j = json_object_new_object();
                json_object_object_add(j, "protocol", json_object_new_string(ip_protocol_to_string(p->protocol)));
                json_object_object_add(j, "container_port", json_object_new_int(p->container_port));
                json_object_object_add(j, "host_ip", json_object_new_string(ipv4_to_string(p->host_ip, buf)));
                json_object_object_add(j, "host_port", json_object_new_int(p->host_port));
                json_object_object_add(j, "container_ip", json_object_new_string(ipv4_to_string(p->container_ip, buf)));
                json_object_array_add(ports, j);
        }
        json_object_object_add(o, "net_endpoints", eps);
        json_object_object_add(o, "net_ports", ports);
}

int container_network_state_from_json(json_object *o, ContainerNetwork *n) {
        json_object *a;
        if (json_object_object_get_ex(o, "net_endpoints", &a) && json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *j = json_object_array_get_idx(a, i);
                        const char *id = json_get_string(j, "network"), *addr = json_get_string(j, "address"),
                                   *mac = json_get_string(j, "mac"), *eid = json_get_string(j, "endpoint_id");
                        for (size_t k = 0; id && k < n->n_endpoints; k++) {
                                NetworkEndpoint *e = &n->endpoints[k];
                                if (!streq(e->network_id, id))
                                        continue;
                                if (isempty(addr) || ipv4_parse(addr, &e->address) < 0 || !mac ||
                                    mac_parse(mac, e->mac) < 0 || !eid || !id_is_valid(eid)) {
                                        endpoint_release(e);
                                        continue;
                                }
                                memcpy(e->endpoint_id, eid, sizeof(e->endpoint_id));
                                e->slot = (unsigned) json_get_i64(j, "slot", (int64_t) k) & 15;
                        }
                }
        close_ports(n);
        if (json_object_object_get_ex(o, "net_ports", &a) && json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *j = json_object_array_get_idx(a, i);
                        ActivePort p = { .fd = -1 };
                        int proto = ip_protocol_from_string(json_get_string(j, "protocol"));
                        int64_t cport = json_get_i64(j, "container_port", 0), hport = json_get_i64(j, "host_port", 0);
                        if (proto < 0 || cport <= 0 || cport > 65535 || hport <= 0 || hport > 65535 ||
                            ipv4_parse(json_get_string(j, "host_ip"), &p.host_ip) < 0 ||
                            ipv4_parse(json_get_string(j, "container_ip"), &p.container_ip) < 0)
                                continue;
                        p.protocol = proto;
                        p.container_port = (uint16_t) cport;
                        p.host_port = (uint16_t) hport;
                        if (add_active(n, &p) < 0)
                                return -ENOMEM;
                }
        return 0;
}

/* -- after a restart ---------------------------------------------------------------------------- */

static void rebind_ports(Container *c) {
        for (size_t i = 0; i < c->net.n_active; i++) {
                ActivePort *p = &c->net.active[i];
                uint16_t port;
                if (p->fd >= 0)
                        continue;
                int r = bind_host_port(p->protocol, p->host_ip, p->host_port, &p->fd, &port);
                if (r < 0)
                        log_warning("Container %s: failed to hold host port %u/%s again: %s", c->name, p->host_port,
                                    ip_protocol_to_string(p->protocol), strerror(-r));
        }
}

/* Links named vb<id:10><n> whose container does not run: their containers died with berthd away
 * (the kernel normally removes both ends with the namespace; a helper killed halfway may not). */
static void remove_orphan_links(Manager *m, NetlinkSocket *nl) {
        _cleanup_strv_free_ char **links = NULL;
        if (netlink_link_list_prefix(nl, "vb", &links) < 0)
                return;
        for (char **l = links; *l; l++) {
                bool ours = false;
                if (strlen(*l) != 13)
                        continue;
                for (Container *c = m->containers; c && !ours; c = c->next)
                        ours = container_holds_leases(c) && strncmp(c->id, *l + 2, 10) == 0;
                if (!ours && netlink_link_delete(nl, *l) >= 0)
                        log_info("Removed the orphaned network interface %s.", *l);
        }
}

static int lookup_callback(void *userdata, const char *network_id, const char *name, struct in_addr *addrs,
                           size_t max) {
        uint32_t found[16];
        int n = manager_network_lookup(userdata, network_id, name, found,
                                       max < ELEMENTSOF(found) ? max : ELEMENTSOF(found));
        for (int i = 0; i < n; i++)
                addrs[i].s_addr = htonl(found[i]);
        return n;
}

int manager_network_dns(Manager *m) {
        if (m->dns)
                return 0;
        _cleanup_(resolv_conf_done) ResolvConf host = {};
        int r = dns_server_new(m->event, lookup_callback, m, &m->dns);
        if (r < 0)
                return r;
        r = host_resolv_conf(m, &host);
        if (r >= 0)
                r = dns_server_set_upstreams(m->dns, host.nameservers);
        if (r < 0)
                log_warning("Failed to read the host's nameservers for the networks' DNS: %s", strerror(-r));
        return 0;
}

int manager_network_startup(Manager *m) {
        _cleanup_(netlink_closep) NetlinkSocket *nl = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = netlink_open(&nl);
        if (r < 0) {
                log_error("Failed to open rtnetlink: %s", strerror(-r));
                return r;
        }
        for (Container *c = m->containers; c; c = c->next) {
                if (c->state == CONTAINER_RUNNING) {
                        rebind_ports(c);
                        continue;
                }
                close_ports(&c->net);
                for (size_t i = 0; i < c->net.n_endpoints; i++)
                        endpoint_release(&c->net.endpoints[i]);
        }
        remove_orphan_links(m, nl);
        /* The whole table again, in one transaction, whatever a crash left: the networks whose
         * bridge exists and the ports of the running containers. (The exits settled while the
         * containers were loaded may have opened the firewall already.) */
        r = m->firewall ? 0 : firewall_new(&m->firewall);
        if (r >= 0)
                r = firewall_rebuild_from(m, nl, &error);
        if (r < 0) {
                log_error("%s", error.message ?: strerror(-r));
                m->firewall = firewall_free(m->firewall);
                return r;
        }
        /* Then every network's bridge, as Docker makes them when it starts: made if missing, its
         * sysctls and DNS again. */
        for (Network *n = m->networks; n; n = n->next)
                if (network_is_bridge(n) && network_setup_bridge(n, &error) < 0) {
                        log_error("%s", error.message);
                        sd_bus_error_free(&error);
                }
        return 0;
}

/* -- names -------------------------------------------------------------------------------------- */

static bool name_matches(const Container *c, const NetworkEndpoint *e, const char *name) {
        if (!strcasecmp(c->name, name) ||
            (strlen(name) == BERTH_SHORT_ID_LEN && strncmp(c->id, name, BERTH_SHORT_ID_LEN) == 0))
                return true;
        if (c->hostname && !strcasecmp(c->hostname, name))
                return true;
        for (char **a = e->aliases; a && *a; a++)
                if (!strcasecmp(*a, name))
                        return true;
        return false;
}

int manager_network_lookup(Manager *m, const char *network_id, const char *name, uint32_t *addrs, size_t max) {
        _cleanup_free_ char *short_name = NULL;
        Network *net = manager_find_network_by_id(m, network_id);
        size_t n = 0, len = strlen(name), suffix = net ? strlen(net->name) : 0;
        /* "web.mynet" too, as Docker answers a container's name qualified by its network's. */
        if (net && len > suffix + 1 && name[len - suffix - 1] == '.' && !strcasecmp(name + len - suffix, net->name)) {
                short_name = strndup(name, len - suffix - 1);
                if (!short_name)
                        return -ENOMEM;
                name = short_name;
        }
        for (Container *c = m->containers; c && n < max; c = c->next) {
                if (c->state != CONTAINER_RUNNING)
                        continue;
                NetworkEndpoint *e = container_network_endpoint(c, network_id);
                if (e && e->address && name_matches(c, e, name))
                        addrs[n++] = e->address;
        }
        return (int) n;
}

/* -- connect and disconnect ---------------------------------------------------------------------- */

/* The inside of a new interface of a running container: address, MAC, up. In a thread of its own,
 * which alone enters the container's network namespace. */
typedef struct InsideSetup {
        int netns_fd;
        const char *ifname;
        struct in_addr address;
        unsigned prefixlen;
        const uint8_t *mac;
        uint32_t mtu;
        int result;
} InsideSetup;

static void *inside_setup_thread(void *userdata) {
        InsideSetup *s = userdata;
        NetlinkSocket *nl = NULL;
        if (setns(s->netns_fd, CLONE_NEWNET) < 0) {
                s->result = -errno;
                return NULL;
        }
        s->result = netlink_open(&nl);
        if (s->result >= 0)
                s->result = netlink_link_set_mac(nl, s->ifname, s->mac);
        if (s->result >= 0 && s->mtu > 0)
                s->result = netlink_link_set_mtu(nl, s->ifname, s->mtu);
        if (s->result >= 0)
                s->result = netlink_address_add_ipv4(nl, s->ifname, s->address, s->prefixlen);
        if (s->result >= 0)
                s->result = netlink_link_set_up(nl, s->ifname);
        netlink_close(nl);
        return NULL;
}

static int attach_running(Container *c, NetworkEndpoint *e, Network *net, sd_bus_error *error) {
        _cleanup_(netlink_closep) NetlinkSocket *nl = NULL;
        _cleanup_free_ char *ns_path = NULL;
        _cleanup_close_ int ns_fd = -1;
        char host_ifname[IFNAMSIZ], ifname[IFNAMSIZ];
        pthread_t thread;
        int r;

        /* The first slot no other endpoint of the container has. */
        for (e->slot = 0; e->slot < 16; e->slot++) {
                bool taken = false;
                for (size_t i = 0; i < c->net.n_endpoints; i++)
                        taken = taken ||
                                (&c->net.endpoints[i] != e && c->net.endpoints[i].address &&
                                 c->net.endpoints[i].slot == e->slot);
                if (!taken)
                        break;
        }
        if (e->slot >= 16)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Container %s is connected to too many networks.", c->name);
        snprintf(host_ifname, sizeof(host_ifname), "vb%.10s%x", c->id, e->slot);
        snprintf(ifname, sizeof(ifname), "eth%u", e->slot);
        if (asprintf(&ns_path, "/proc/%d/ns/net", c->pid) < 0)
                return -ENOMEM;
        /* The pidfd pins the payload: its PID cannot name another process here. */
        ns_fd = c->payload_pidfd >= 0 ? open(ns_path, O_RDONLY | O_CLOEXEC) : -1;
        if (ns_fd < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING, "Container %s is not running.",
                                         c->name);
        r = netlink_open(&nl);
        if (r >= 0)
                r = netlink_veth_create(nl, host_ifname, ifname, ns_fd, net->mtu);
        if (r >= 0)
                r = netlink_link_set_master(nl, host_ifname, net->bridge);
        if (r >= 0)
                r = netlink_link_set_hairpin(nl, host_ifname);
        if (r >= 0)
                r = netlink_link_set_up(nl, host_ifname);
        if (r >= 0) {
                InsideSetup s = { .netns_fd = ns_fd,
                                  .ifname = ifname,
                                  .address.s_addr = htonl(e->address),
                                  .prefixlen = net->subnet.prefixlen,
                                  .mac = e->mac,
                                  .mtu = net->mtu };
                r = -pthread_create(&thread, NULL, inside_setup_thread, &s);
                if (r >= 0) {
                        (void) pthread_join(thread, NULL);
                        r = s.result;
                }
        }
        if (r < 0) {
                if (nl)
                        (void) netlink_link_delete(nl, host_ifname);
                return sd_bus_error_set_errnof(error, -r, "Failed to connect container %s to network %s: %m", c->name,
                                               net->name);
        }
        return 0;
}

int container_network_connect(Container *c, const char *network_id, char **aliases, const char *ip, const char *mac,
                              sd_bus_error *error) {
        Network *net = manager_find_network_by_id(c->manager, network_id);
        uint32_t a;
        uint8_t m[6];
        int r;
        if (!net || !network_is_bridge(net))
                return sd_bus_error_setf(
                        error, BERTH_ERROR_INVALID_ARGUMENT, "Only bridge networks can be connected to; %s is \"%s\".",
                        net ? net->name : network_id, net ? network_driver_to_string(net->driver) : "?");
        if (!container_network_is_bridged(&c->net) && !streq_ptr(c->net.mode, NETWORK_DEFAULT_BRIDGE))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Container %s uses the network mode \"%s\" and cannot be connected to other "
                                         "networks.",
                                         c->name, c->net.mode);
        if (container_network_endpoint(c, network_id))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Container %s is already connected to network %s.", c->name, net->name);
        if (c->starting)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Container %s is being started.", c->name);
        if (!isempty(ip) &&
            (ipv4_parse(ip, &a) < 0 || net->builtin || !ipam_address_is_assignable(&net->subnet, net->gateway, a)))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         net->builtin ? "A static IP address can only be given on a user-defined "
                                                        "network, not on %s (%s)."
                                                      : "%s is not a host address of network %s.",
                                         net->builtin ? net->name : ip, net->builtin ? ip : net->name);
        if (!isempty(mac) && mac_parse(mac, m) < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "\"%s\" is not a valid MAC address.",
                                         mac);
        if (net->builtin && strv_length(aliases) > 0)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "Network aliases can only be given on a user-defined network.");

        NetworkEndpoint *bigger = realloc(c->net.endpoints, (c->net.n_endpoints + 1) * sizeof(NetworkEndpoint));
        if (!bigger)
                return -ENOMEM;
        c->net.endpoints = bigger;
        NetworkEndpoint *e = &c->net.endpoints[c->net.n_endpoints];
        *e = (NetworkEndpoint){};
        memcpy(e->network_id, net->id, sizeof(e->network_id));
        e->aliases = strv_copy(aliases ?: (char *[]){ NULL });
        e->static_ip = isempty(ip) ? NULL : strdup(ip);
        e->static_mac = isempty(mac) ? NULL : strdup(mac);
        if (!e->aliases || (!isempty(ip) && !e->static_ip) || (!isempty(mac) && !e->static_mac)) {
                network_endpoint_done(e);
                return -ENOMEM;
        }
        c->net.n_endpoints++;
        if (c->state == CONTAINER_RUNNING) {
                r = network_setup_bridge(net, error);
                if (r >= 0)
                        r = endpoint_lease(c, e, net, error);
                if (r >= 0)
                        r = attach_running(c, e, net, error);
                if (r < 0) {
                        network_endpoint_done(&c->net.endpoints[--c->net.n_endpoints]);
                        return r;
                }
        }
        (void) container_save(c);
        container_emit_changed(c, "Networks", NULL);
        return 0;
}

int container_network_disconnect(Container *c, const char *network_id, bool force, sd_bus_error *error) {
        Network *net = manager_find_network_by_id(c->manager, network_id);
        NetworkEndpoint *e = container_network_endpoint(c, network_id);
        (void) force;
        if (!e)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Container %s is not connected to network %s.", c->name,
                                         net ? net->name : network_id);
        if (c->starting)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Container %s is being started.", c->name);
        size_t index = (size_t) (e - c->net.endpoints);
        if (c->state == CONTAINER_RUNNING && e->address) {
                _cleanup_(netlink_closep) NetlinkSocket *nl = NULL;
                char host_ifname[IFNAMSIZ];
                snprintf(host_ifname, sizeof(host_ifname), "vb%.10s%x", c->id, e->slot);
                int r = netlink_open(&nl);
                if (r >= 0)
                        r = netlink_link_delete(nl, host_ifname);
                if (r < 0 && r != -ENODEV)
                        return sd_bus_error_set_errnof(error, -r,
                                                       "Failed to disconnect container %s from network %s: %m", c->name,
                                                       net ? net->name : network_id);
                if (index == 0 && c->net.n_active > 0) {
                        /* Its published ports went to this address. */
                        _cleanup_(sd_bus_error_free) sd_bus_error e2 = SD_BUS_ERROR_NULL;
                        (void) ports_to_firewall(c, false, &e2);
                        close_ports(&c->net);
                }
        }
        network_endpoint_done(e);
        memmove(e, e + 1, (c->net.n_endpoints - index - 1) * sizeof(NetworkEndpoint));
        c->net.n_endpoints--;
        (void) container_save(c);
        container_emit_changed(c, "Networks", "Ports", NULL);
        return 0;
}
