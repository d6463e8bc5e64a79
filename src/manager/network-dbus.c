/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.berth1.Network objects and the Manager's network methods. */
#include <string.h>

#include "bus-polkit.h"
#include "container.h"
#include "errors.h"
#include "log.h"
#include "network.h"

int network_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *id = NULL;
        if (sd_bus_path_decode(path, "/org/berth1/network", &id) <= 0)
                return 0;
        Network *n = manager_find_network_by_id(m, id);
        if (!n)
                return 0;
        *found = n;
        return 1;
}

int network_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (Network *n = m->networks; n; n = n->next) {
                _cleanup_free_ char *p = network_object_path(n);
                if (!p || strv_push(&l, p) < 0)
                        return -ENOMEM;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Network *n = userdata;
        char buf[19];
        bool bridge = network_is_bridge(n);
        if (streq(property, "Id"))
                return sd_bus_message_append(reply, "s", n->id);
        if (streq(property, "Name"))
                return sd_bus_message_append(reply, "s", n->name);
        if (streq(property, "Driver"))
                return sd_bus_message_append(reply, "s", network_driver_to_string(n->driver));
        if (streq(property, "Scope"))
                return sd_bus_message_append(reply, "s", "local");
        if (streq(property, "Subnet"))
                return sd_bus_message_append(reply, "s", bridge ? ipv4_net_to_string(&n->subnet, buf) : "");
        if (streq(property, "Gateway"))
                return sd_bus_message_append(reply, "s", bridge ? ipv4_to_string(n->gateway, buf) : "");
        if (streq(property, "IPRange"))
                return sd_bus_message_append(reply, "s",
                                             n->ip_range.prefixlen ? ipv4_net_to_string(&n->ip_range, buf) : "");
        if (streq(property, "Internal"))
                return sd_bus_message_append(reply, "b", (int) n->internal);
        if (streq(property, "IPv6"))
                return sd_bus_message_append(reply, "b", 0);
        if (streq(property, "Labels"))
                return bus_append_labels(reply, n->labels);
        if (streq(property, "Options"))
                return bus_append_labels(reply, n->options);
        if (streq(property, "BridgeName"))
                return sd_bus_message_append(reply, "s", n->bridge ?: "");
        if (streq(property, "Containers")) {
                int r = sd_bus_message_open_container(reply, 'a', "(ssss)");
                for (Container *c = n->manager->containers; r >= 0 && c; c = c->next) {
                        NetworkEndpoint *e = container_network_endpoint(c, n->id);
                        char addr[19], ip[16], mac[18];
                        if (!e || !e->address || c->state != CONTAINER_RUNNING)
                                continue;
                        snprintf(addr, sizeof(addr), "%s/%u", ipv4_to_string(e->address, ip), n->subnet.prefixlen);
                        r = sd_bus_message_append(reply, "(ssss)", c->id, c->name, addr, mac_to_string(e->mac, mac));
                }
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        return -ENOENT;
}

static int method_connect(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Network *n = userdata;
        const char *name, *ip = NULL, *mac = NULL;
        _cleanup_strv_free_ char **aliases = NULL;
        int r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        const BusOption opts[] = { BUS_OPTION("Aliases", "as", &aliases), BUS_OPTION("IPAddress", "s", &ip),
                                   BUS_OPTION("MacAddress", "s", &mac) };
        r = bus_read_options(message, opts, ELEMENTSOF(opts), "connect option", error);
        if (r >= 0)
                r = bus_verify_action(message, BERTH_ACTION_MANAGE_CONTAINERS, error);
        if (r != 0)
                return r;
        Container *c = manager_get_container(n->manager, name, error);
        if (!c)
                return -ENOENT;
        r = container_network_connect(c, n->id, aliases, ip, mac, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, NULL);
}

static int method_disconnect(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Network *n = userdata;
        const char *name;
        int force;
        int r = sd_bus_message_read(message, "sb", &name, &force);
        if (r >= 0)
                r = bus_verify_action(message, BERTH_ACTION_MANAGE_CONTAINERS, error);
        if (r != 0)
                return r;
        Container *c = manager_get_container(n->manager, name, error);
        if (!c)
                return -ENOENT;
        r = container_network_disconnect(c, n->id, force, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, NULL);
}

const sd_bus_vtable network_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Driver", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Scope", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Subnet", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Gateway", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IPRange", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Internal", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IPv6", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Labels", "a{ss}", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Options", "a{ss}", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CreatedAt", "t", NULL, offsetof(Network, created_at), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("BridgeName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Containers", "a(ssss)", property_get, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("Connect", SD_BUS_ARGS("s", container, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_connect, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Disconnect", SD_BUS_ARGS("s", container, "b", force), SD_BUS_NO_RESULT,
                                method_disconnect, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* CreateNetwork(s name, a{sv} options) → o. */
int method_create_network(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        NetworkSettings s = {};
        _cleanup_strv_free_ char **labels = NULL, **options = NULL;
        Network *n;
        int ipv6 = false, internal = false;
        int r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        const BusOption opts[] = {
                BUS_OPTION("Driver", "s", &s.driver),   BUS_OPTION("Subnet", "s", &s.subnet),
                BUS_OPTION("Gateway", "s", &s.gateway), BUS_OPTION("IPRange", "s", &s.ip_range),
                BUS_OPTION("Internal", "b", &internal), BUS_OPTION("IPv6", "b", &ipv6),
                BUS_OPTION("Labels", "a{ss}", &labels), BUS_OPTION("Options", "a{ss}", &options),
        };
        r = bus_read_options(message, opts, ELEMENTSOF(opts), "network option", error);
        if (r >= 0)
                r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        s.internal = internal;
        s.ipv6 = ipv6;
        s.labels = labels;
        s.options = options;
        r = network_create_and_setup(m, name, &s, &n, error);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = network_object_path(n);
        if (path && m->bus)
                (void) sd_bus_emit_object_added(m->bus, path);
        return bus_reply_object_path(message, TAKE_PTR(path));
}

int method_get_network(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        int r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        Network *n = manager_get_network(userdata, name, error);
        if (!n)
                return -ENOENT;
        return bus_reply_object_path(message, network_object_path(n));
}

static void *next_network(void *n) {
        return ((Network *) n)->next;
}

static int append_network(sd_bus_message *reply, void *object) {
        Network *n = object;
        _cleanup_free_ char *path = network_object_path(n);
        if (!path)
                return -ENOMEM;
        return sd_bus_message_append(reply, "(sso)", n->id, n->name, path);
}

int method_list_networks(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return bus_reply_list(message, "(sso)", m->networks, next_network, append_network);
}

static int remove_network(Network *n, sd_bus_error *error) {
        Manager *m = n->manager;
        _cleanup_free_ char *path = network_object_path(n);
        int r = network_remove(n, error);
        if (r >= 0 && path && m->bus)
                (void) sd_bus_emit_object_removed(m->bus, path);
        return r;
}

int method_remove_network(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        int r = sd_bus_message_read(message, "s", &name);
        if (r >= 0)
                r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        Network *n = manager_get_network(userdata, name, error);
        if (!n)
                return -ENOENT;
        r = remove_network(n, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, NULL);
}

/* PruneNetworks(a{sv} filters) → as: user networks no container refers to (Docker: none attached). */
int method_prune_networks(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(bus_prune_filters_done) BusPruneFilters f = BUS_PRUNE_FILTERS_INIT;
        _cleanup_strv_free_ char **removed = calloc(1, sizeof(char *));
        int r = bus_read_prune_filters(message, true, &f, error);
        if (r >= 0)
                r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        if (!removed)
                return -ENOMEM;
        for (Network *n = m->networks, *next; n; n = next) {
                next = n->next;
                bool used = false;
                for (Container *c = m->containers; c && !used; c = c->next)
                        used = container_network_endpoint(c, n->id) != NULL;
                if (n->builtin || used || !bus_prune_filters_match(&f, n->labels, n->created_at))
                        continue;
                _cleanup_free_ char *name = strdup(n->name);
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                if (!name)
                        return -ENOMEM;
                if (remove_network(n, &e) >= 0 && strv_push(&removed, name) < 0)
                        return -ENOMEM;
        }
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, removed);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}
