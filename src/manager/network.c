/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "container.h"
#include "digest.h"
#include "errors.h"
#include "json-util.h"
#include "log.h"
#include "names.h"
#include "netlink.h"
#include "dns-server.h"
#include "firewall.h"
#include "network.h"

static const char *const network_driver_table[_NETWORK_DRIVER_MAX] = {
        [NETWORK_DRIVER_BRIDGE] = "bridge",
        [NETWORK_DRIVER_HOST] = "host",
        [NETWORK_DRIVER_NULL] = "null",
};

const char *network_driver_to_string(NetworkDriver d) {
        return d >= 0 && d < _NETWORK_DRIVER_MAX ? network_driver_table[d] : NULL;
}

NetworkDriver network_driver_from_string(const char *s) {
        for (int i = 0; s && i < _NETWORK_DRIVER_MAX; i++)
                if (streq(network_driver_table[i], s))
                        return (NetworkDriver) i;
        return _NETWORK_DRIVER_INVALID;
}

bool network_is_bridge(const Network *n) {
        return n->driver == NETWORK_DRIVER_BRIDGE;
}

char *network_object_path(const Network *n) {
        char *p = NULL;
        return sd_bus_path_encode("/org/berth1/network", n->id, &p) < 0 ? NULL : p;
}

void network_free(Network *n) {
        if (!n)
                return;
        free(n->name);
        strv_free(n->labels);
        strv_free(n->options);
        free(n->bridge);
        free(n);
}

Network *manager_find_network_by_id(Manager *m, const char *id) {
        for (Network *n = m->networks; n; n = n->next)
                if (streq(n->id, id))
                        return n;
        return NULL;
}

Network *manager_find_network(Manager *m, const char *name_or_id, bool *ret_ambiguous) {
        Network *found = NULL;
        size_t len = strlen(name_or_id);
        if (ret_ambiguous)
                *ret_ambiguous = false;
        if (len == 0)
                return NULL;
        for (Network *n = m->networks; n; n = n->next)
                if (streq(n->name, name_or_id) || streq(n->id, name_or_id))
                        return n;
        for (Network *n = m->networks; n; n = n->next)
                if (len <= BERTH_ID_LEN && strncmp(n->id, name_or_id, len) == 0) {
                        if (found) {
                                if (ret_ambiguous)
                                        *ret_ambiguous = true;
                                return NULL;
                        }
                        found = n;
                }
        return found;
}

Network *manager_get_network(Manager *m, const char *name_or_id, sd_bus_error *error) {
        bool ambiguous;
        Network *n = manager_find_network(m, name_or_id, &ambiguous);
        if (!n)
                (void) sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_NETWORK,
                                         ambiguous ? "Network id prefix \"%s\" matches more than one network."
                                                   : "Network %s not found.",
                                         name_or_id);
        return n;
}

static const char *option_value(char **options, const char *key) {
        size_t len = strlen(key);
        for (char **o = options; o && *o; o++)
                if (strncmp(*o, key, len) == 0 && (*o)[len] == '=')
                        return *o + len + 1;
        return NULL;
}

static int network_save(Network *n) {
        _cleanup_free_ char *path = manager_state_path(n->manager, "networks/%s.json", n->id);
        _cleanup_json_ json_object *o = json_object_new_object();
        char subnet[19], range[19], gateway[16];
        if (!path || !o)
                return -ENOMEM;
        json_object_object_add(o, "id", json_object_new_string(n->id));
        json_object_object_add(o, "name", json_object_new_string(n->name));
        json_object_object_add(o, "driver", json_object_new_string(network_driver_to_string(n->driver)));
        json_object_object_add(o, "subnet", json_object_new_string(ipv4_net_to_string(&n->subnet, subnet)));
        json_object_object_add(o, "gateway", json_object_new_string(ipv4_to_string(n->gateway, gateway)));
        if (n->ip_range.prefixlen > 0)
                json_object_object_add(o, "ip_range", json_object_new_string(ipv4_net_to_string(&n->ip_range, range)));
        json_object_object_add(o, "internal", json_object_new_boolean(n->internal));
        json_object_object_add(o, "labels", json_strv_new(n->labels));
        json_object_object_add(o, "options", json_strv_new(n->options));
        json_object_object_add(o, "created_at", json_object_new_uint64(n->created_at));
        json_object_object_add(o, "bridge", json_object_new_string(n->bridge));
        json_object_object_add(o, "mtu", json_object_new_int64(n->mtu));
        return json_write_file_atomic(path, o);
}

static void network_freep(Network **n) {
        network_free(*n);
}

static Network *network_alloc(Manager *m, const char *name, NetworkDriver driver) {
        Network *n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->manager = m;
        n->driver = driver;
        n->name = strdup(name);
        n->labels = calloc(1, sizeof(char *));
        n->options = calloc(1, sizeof(char *));
        if (!n->name || !n->labels || !n->options) {
                network_free(n);
                return NULL;
        }
        return n;
}

static void network_link(Network *n) {
        n->next = n->manager->networks;
        n->manager->networks = n;
}

static void network_unlink(Network *n) {
        for (Network **p = &n->manager->networks; *p; p = &(*p)->next)
                if (*p == n) {
                        *p = n->next;
                        return;
                }
}

static int subnets_add(Ipv4Net **l, size_t *n, Ipv4Net v) {
        Ipv4Net *bigger = realloc(*l, (*n + 1) * sizeof(Ipv4Net));
        if (!bigger)
                return -ENOMEM;
        *l = bigger;
        (*l)[(*n)++] = v;
        return 0;
}

/* The host's IPv4 routes (/proc/net/route): subnets a new network must not overlap. */
static int read_host_routes(Ipv4Net **ret, size_t *ret_n) {
        _cleanup_free_ char *content = NULL;
        int r = read_full_file("/proc/net/route", &content, NULL);
        if (r < 0)
                return r;
        Ipv4Net *l = NULL;
        size_t n = 0;
        char *save = NULL;
        for (char *line = strtok_r(content, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char ifname[IFNAMSIZ + 1];
                unsigned dest, gateway, flags, refcnt, use, metric, mask;
                /* Iface Destination Gateway Flags RefCnt Use Metric Mask ...; little-endian hex. */
                if (sscanf(line, "%16s %x %x %x %u %u %u %x", ifname, &dest, &gateway, &flags, &refcnt, &use, &metric,
                           &mask) != 8)
                        continue;
                uint32_t m = __builtin_bswap32(mask);
                if (subnets_add(&l, &n,
                                (Ipv4Net){ .addr = __builtin_bswap32(dest) & m,
                                           .prefixlen = (unsigned) __builtin_popcount(m) }) < 0) {
                        free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* The host's routes and the subnets of the networks there are: what a new subnet must avoid. */
static int taken_subnets(Manager *m, Ipv4Net **ret, size_t *ret_n) {
        Ipv4Net *l = NULL;
        size_t n = 0;
        int r = read_host_routes(&l, &n);
        if (r < 0)
                log_warning("Failed to read the host's routes, ignoring: %s", strerror(-r));
        for (Network *net = m->networks; net; net = net->next) {
                if (network_is_bridge(net) && subnets_add(&l, &n, net->subnet) < 0) {
                        free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

static int check_options(Manager *m, char **options, const char **ret_bridge, uint32_t *ret_mtu, sd_bus_error *error) {
        const char *bridge = option_value(options, "com.docker.network.bridge.name");
        const char *mtu = option_value(options, "com.docker.network.driver.mtu");
        if (bridge) {
                if (!ifname_is_valid(bridge))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "\"%s\" is not a valid bridge name: 1 to 15 characters, "
                                                 "without '/', ':' or spaces.",
                                                 bridge);
                for (Network *n = m->networks; n; n = n->next)
                        if (n->bridge && streq(n->bridge, bridge))
                                return sd_bus_error_setf(error, BERTH_ERROR_NETWORK_EXISTS,
                                                         "Network %s already uses the bridge %s.", n->name, bridge);
        }
        *ret_mtu = 0;
        if (mtu) {
                char *end;
                unsigned long v = strtoul(mtu, &end, 10);
                if (!*mtu || *end || v < 68 || v > 65535)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "The MTU \"%s\" is not valid: give a number from 68 to 65535.", mtu);
                *ret_mtu = (uint32_t) v;
        }
        *ret_bridge = bridge;
        return 0;
}

/* The subnet, gateway and range of a new bridge network: as given (checked), or picked. */
static int plan_addresses(Manager *m, Network *n, const NetworkSettings *s, sd_bus_error *error) {
        int r;
        if (isempty(s->subnet)) {
                if (!isempty(s->gateway) || !isempty(s->ip_range))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "A gateway or IP range needs a subnet (--subnet).");
                _cleanup_free_ Ipv4Net *taken = NULL;
                size_t n_taken = 0;
                r = taken_subnets(m, &taken, &n_taken);
                if (r < 0)
                        return r;
                r = ipam_pick_subnet(streq(n->name, NETWORK_DEFAULT_BRIDGE), taken, n_taken, &n->subnet);
                if (r < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "No free subnet is left in berth's pools (172.17-31.0.0/16, "
                                                 "192.168.0-240.0/20): give one with --subnet.");
                n->gateway = n->subnet.addr + 1;
                return 0;
        }
        r = ipv4_net_parse(s->subnet, &n->subnet);
        if (r == -EADDRNOTAVAIL)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "The subnet \"%s\" has host bits set: give the network's address, e.g. "
                                         "172.20.0.0/16.",
                                         s->subnet);
        if (r < 0 || n->subnet.prefixlen > 30 || n->subnet.prefixlen < 8)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "\"%s\" is not a valid IPv4 subnet: give one such as 172.20.0.0/16 "
                                         "(prefix length 8 to 30).",
                                         s->subnet);
        for (Network *other = m->networks; other; other = other->next)
                if (network_is_bridge(other) && ipv4_net_overlaps(&other->subnet, &n->subnet)) {
                        char buf[19];
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "The subnet %s overlaps with network %s (%s).", s->subnet, other->name,
                                                 ipv4_net_to_string(&other->subnet, buf));
                }
        if (!isempty(s->ip_range)) {
                if (ipv4_net_parse(s->ip_range, &n->ip_range) < 0 || !ipv4_net_within(&n->subnet, &n->ip_range))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "The IP range \"%s\" is not a subnet of %s.", s->ip_range, s->subnet);
        }
        if (!isempty(s->gateway)) {
                if (ipv4_parse(s->gateway, &n->gateway) < 0 || !ipv4_net_contains(&n->subnet, n->gateway) ||
                    n->gateway == n->subnet.addr || n->gateway == ipv4_net_broadcast(&n->subnet))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "The gateway \"%s\" is not a host address of the subnet %s.",
                                                 s->gateway, s->subnet);
        } else
                n->gateway = n->subnet.addr + 1;
        return 0;
}

int network_create(Manager *m, const char *name, const NetworkSettings *s, Network **ret, sd_bus_error *error) {
        const char *bridge = NULL;
        uint32_t mtu = 0;
        int r;

        if (!container_name_is_valid(name))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME,
                                         "\"%s\" is not a valid network name: use letters, digits, '_', '.' and "
                                         "'-', starting with a letter or digit.",
                                         name);
        for (Network *other = m->networks; other; other = other->next)
                if (streq(other->name, name))
                        return sd_bus_error_setf(error, BERTH_ERROR_NETWORK_EXISTS, "Network %s already exists.", name);
        if (s->driver && !isempty(s->driver) && !streq(s->driver, "bridge"))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Network driver \"%s\" is not supported: berth makes \"bridge\" networks.",
                                         s->driver);
        if (s->ipv6)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "IPv6 networks are not supported by berth yet.");
        r = check_options(m, s->options, &bridge, &mtu, error);
        if (r < 0)
                return r;

        _cleanup_(network_freep) Network *n = network_alloc(m, name, NETWORK_DRIVER_BRIDGE);
        if (!n)
                return -ENOMEM;
        r = plan_addresses(m, n, s, error);
        if (r < 0)
                return r;
        r = random_hex_id(n->id);
        if (r < 0)
                return r;
        n->internal = s->internal;
        n->mtu = mtu;
        n->created_at = now_realtime_usec();
        if (bridge)
                n->bridge = strdup(bridge);
        else if (streq(name, NETWORK_DEFAULT_BRIDGE))
                n->bridge = strdup(NETWORK_DEFAULT_BRIDGE_IFNAME);
        else
                (void) asprintf(&n->bridge, "br-%.12s", n->id);
        if (s->labels) {
                strv_free(n->labels);
                n->labels = strv_copy(s->labels);
        }
        if (s->options) {
                strv_free(n->options);
                n->options = strv_copy(s->options);
        }
        if (!n->bridge || !n->labels || !n->options)
                return -ENOMEM;
        r = network_save(n);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to record network %s: %m", name);
        network_link(n);
        log_info("Created network %s (%s, bridge %s).", n->name, n->id, n->bridge);
        if (ret)
                *ret = n;
        TAKE_PTR(n);
        return 0;
}

/* A new network's bridge is made at once (as Docker's); a failure takes the network back. */
int network_create_and_setup(Manager *m, const char *name, const NetworkSettings *s, Network **ret,
                             sd_bus_error *error) {
        Network *n;
        int r = network_create(m, name, s, &n, error);
        if (r < 0)
                return r;
        r = network_setup_bridge(n, error);
        if (r < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error ignored = SD_BUS_ERROR_NULL;
                (void) network_remove(n, &ignored);
                return r;
        }
        *ret = n;
        return 0;
}

int network_attached(const Network *n, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (Container *c = n->manager->containers; c; c = c->next)
                if (container_network_endpoint(c, n->id) && c->state == CONTAINER_RUNNING && strv_push(&l, c->id) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

int network_remove(Network *n, sd_bus_error *error) {
        Manager *m = n->manager;
        if (n->builtin)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Network %s is predefined and cannot be removed.", n->name);
        for (Container *c = m->containers; c; c = c->next)
                if (c->state == CONTAINER_RUNNING && container_network_endpoint(c, n->id))
                        return sd_bus_error_setf(error, BERTH_ERROR_NETWORK_IN_USE,
                                                 "Network %s is in use by running container %s: stop it or "
                                                 "disconnect it first.",
                                                 n->name, c->name);
        _cleanup_free_ char *path = manager_state_path(m, "networks/%s.json", n->id);
        if (!path)
                return -ENOMEM;
        if (unlink(path) < 0 && errno != ENOENT)
                return sd_bus_error_set_errnof(error, errno, "Failed to remove the record of network %s: %m", n->name);
        network_teardown_bridge(n);
        log_info("Removed network %s (%s).", n->name, n->id);
        network_unlink(n);
        network_free(n);
        return 0;
}

static int network_load(Manager *m, const char *name, const char *path, json_object *o, int r, void *userdata) {
        if (r < 0) {
                log_error("Failed to read network record %s, ignoring it: %s", path, strerror(-r));
                return 0;
        }
        const char *nname = json_get_string(o, "name"), *id = json_get_string(o, "id"),
                   *subnet = json_get_string(o, "subnet"), *gateway = json_get_string(o, "gateway"),
                   *range = json_get_string(o, "ip_range"), *bridge = json_get_string(o, "bridge");
        _cleanup_(network_freep) Network *n = nname ? network_alloc(m, nname, NETWORK_DRIVER_BRIDGE) : NULL;
        if (nname && !n)
                return -ENOMEM;
        if (n) { /* json_get_strv() fills them */
                strv_free(n->labels);
                strv_free(n->options);
                n->labels = n->options = NULL;
        }
        if (!n || !id || !streq(id, name) || strlen(id) != BERTH_ID_LEN || !subnet ||
            ipv4_net_parse(subnet, &n->subnet) < 0 || !gateway || ipv4_parse(gateway, &n->gateway) < 0 ||
            (range && ipv4_net_parse(range, &n->ip_range) < 0) || !bridge || !ifname_is_valid(bridge) ||
            json_get_strv(o, "labels", &n->labels) < 0 || json_get_strv(o, "options", &n->options) < 0 ||
            manager_find_network(m, nname, NULL)) {
                log_error("Network record %s is not valid, ignoring it.", path);
                return 0;
        }
        memcpy(n->id, id, BERTH_ID_LEN + 1);
        n->internal = json_get_bool(o, "internal", 0);
        n->created_at = json_get_u64(o, "created_at", 0);
        n->mtu = (uint32_t) json_get_u64(o, "mtu", 0);
        n->builtin = streq(n->name, NETWORK_DEFAULT_BRIDGE);
        n->bridge = strdup(bridge);
        if (!n->bridge || !n->labels || !n->options)
                return -ENOMEM;
        network_link(TAKE_PTR(n));
        return 0;
}

/* host and none are not stored; their ids are derived from their names, so they stay the same. */
static int add_builtin(Manager *m, const char *name, NetworkDriver driver) {
        Network *n = network_alloc(m, name, driver);
        if (!n)
                return -ENOMEM;
        n->builtin = true;
        int r = sha256_hex_of(name, strlen(name), n->id);
        if (r < 0) {
                network_free(n);
                return r;
        }
        network_link(n);
        return 0;
}

int manager_load_networks(Manager *m) {
        static const RecordDir networks = {
                .dir = "networks", .suffix = ".json", .name_is_valid = id_is_valid, .load = network_load
        };
        _cleanup_free_ char *dir = manager_state_path(m, "networks");
        int r;
        if (!dir)
                return -ENOMEM;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        r = manager_load_records(m, &networks, NULL);
        if (r < 0)
                return r;
        r = add_builtin(m, "host", NETWORK_DRIVER_HOST);
        if (r >= 0)
                r = add_builtin(m, "none", NETWORK_DRIVER_NULL);
        if (r < 0)
                return r;
        Network *bridge = manager_find_network(m, NETWORK_DEFAULT_BRIDGE, NULL);
        if (!bridge) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                r = network_create(m, NETWORK_DEFAULT_BRIDGE, &(NetworkSettings){}, &bridge, &error);
                if (r < 0) {
                        log_error("Failed to create the default network: %s", error.message ?: strerror(-r));
                        return 0; /* berthd runs on: containers with --network none or host still work */
                }
                bridge->builtin = true;
        }
        return 0;
}

static int write_sysctl(const char *path, const char *value) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return loop_write(fd, value, strlen(value));
}

FirewallNetwork network_firewall_entry(const Network *n) {
        return (FirewallNetwork){ .bridge = n->bridge,
                                  .subnet.s_addr = htonl(n->subnet.addr),
                                  .prefixlen = n->subnet.prefixlen,
                                  .internal = n->internal };
}

int network_setup_bridge(Network *n, sd_bus_error *error) {
        Manager *m = n->manager;
        _cleanup_(netlink_closep) NetlinkSocket *nl = NULL;
        _cleanup_free_ char *route_localnet = NULL, *message = NULL;
        const char *what = "open rtnetlink";
        int r;

        if (n->bridge_up)
                return 0;
        r = netlink_open(&nl);
        if (r >= 0) {
                what = "create the bridge";
                r = netlink_bridge_create(nl, n->bridge, true);
        }
        if (r >= 0 && n->mtu > 0) {
                what = "set the bridge's MTU";
                r = netlink_link_set_mtu(nl, n->bridge, n->mtu);
        }
        if (r >= 0) {
                what = "give the bridge its address";
                r = netlink_address_add_ipv4(nl, n->bridge, (struct in_addr){ .s_addr = htonl(n->gateway) },
                                             n->subnet.prefixlen);
                if (r == -EEXIST)
                        r = 0;
        }
        if (r >= 0) {
                what = "bring the bridge up";
                r = netlink_link_set_up(nl, n->bridge);
        }
        /* Forwarding for traffic to and from containers; route_localnet so that 127.0.0.1 can be
         * NATed to a container's published port (the output chain's DNAT). */
        if (r >= 0) {
                what = "enable IPv4 forwarding";
                r = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
        }
        if (r >= 0 && asprintf(&route_localnet, "/proc/sys/net/ipv4/conf/%s/route_localnet", n->bridge) < 0)
                r = -ENOMEM;
        if (r >= 0) {
                what = "enable route_localnet on the bridge";
                r = write_sysctl(route_localnet, "1");
        }
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to %s %s of network %s: %m", what, n->bridge,
                                               n->name);
        r = manager_firewall(m, error);
        if (r < 0)
                return r;
        FirewallNetwork fn = network_firewall_entry(n);
        r = firewall_add_network(m->firewall, &fn, &message);
        if (r < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_START_FAILED,
                                         "Failed to add network %s to berth's nftables table: %s", n->name,
                                         message ?: strerror(-r));
        if (!n->builtin) {
                /* Names of containers resolve on user networks (Docker's embedded DNS). */
                r = manager_network_dns(m);
                if (r >= 0) {
                        dns_server_remove_listener(m->dns, n->id);
                        r = dns_server_add_listener(m->dns, n->id, (struct in_addr){ .s_addr = htonl(n->gateway) });
                }
                if (r < 0)
                        log_warning("Network %s: failed to start its DNS on %s:53: %s", n->name, n->bridge,
                                    strerror(-r));
        }
        n->bridge_up = true;
        return 0;
}

void network_teardown_bridge(Network *n) {
        Manager *m = n->manager;
        _cleanup_(netlink_closep) NetlinkSocket *nl = NULL;
        _cleanup_free_ char *message = NULL;
        if (!network_is_bridge(n))
                return;
        if (m->dns)
                dns_server_remove_listener(m->dns, n->id);
        if (m->firewall) {
                FirewallNetwork fn = network_firewall_entry(n);
                if (firewall_remove_network(m->firewall, &fn, &message) < 0)
                        log_warning("Network %s: failed to remove it from berth's nftables table: %s", n->name,
                                    message ?: "");
        }
        int r = netlink_open(&nl);
        if (r >= 0)
                r = netlink_link_delete(nl, n->bridge);
        if (r < 0 && r != -ENODEV)
                log_warning("Network %s: failed to remove the bridge %s: %s", n->name, n->bridge, strerror(-r));
        n->bridge_up = false;
}
