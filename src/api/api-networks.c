/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /networks/{id}/connect, /networks/{id}/disconnect, /networks/prune: Network.Connect and
 * Disconnect, Manager.PruneNetworks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ctl-bus.h"
#include "errors.h"
#include "json-util.h"
#include "util.h"

/* The array of strings o[key] into *ret (NULL when absent or null); -EINVAL for another type. */
static int get_string_array(json_object *o, const char *key, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *v;

        *ret = NULL;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return -EINVAL;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *s = json_object_array_get_idx(v, i);
                if (!json_object_is_type(s, json_type_string))
                        return -EINVAL;
                if (strv_push(&l, json_object_get_string(s)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 1;
}

static int lookup_network(ApiConn *c, const char *name, char **ret_path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r = ctl_bus_call_manager(c->server->bus, "GetNetwork", CTL_TIMEOUT_DEFAULT, &error, &reply, "s", name);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                if (ctl_bus_error_is_not_found(&error))
                        r = api_reply_error(c, 404, "network %s not found", name);
                else
                        r = api_reply_bus_error(c, &error, r);
                return r < 0 ? r : 0;
        }
        *ret_path = strdup(path);
        return *ret_path ? 1 : -ENOMEM;
}

static int reply_connect_error(ApiConn *c, const sd_bus_error *error, int r, const char *container) {
        if (sd_bus_error_has_name(error, BERTH_ERROR_NO_SUCH_CONTAINER))
                return api_reply_error(c, 404, "No such container: %s", container);
        return api_reply_bus_error(c, error, r);
}

/* POST /networks/{id}/connect: {"Container", "EndpointConfig": {"Aliases", "IPAMConfig":
 * {"IPv4Address"}, "MacAddress"}}. */
int api_network_connect(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_json_ json_object *body = NULL;
        _cleanup_strv_free_ char **aliases = NULL;
        _cleanup_free_ char *path = NULL;
        json_object *endpoint = NULL, *ipam = NULL;
        const char *container, *ip = NULL, *mac = NULL;
        int r = api_body_json(c, &body);
        if (r <= 0)
                return r;

        container = json_get_string(body, "Container");
        if (isempty(container))
                return api_reply_error(c, 400, "the container to connect (Container) is required");
        if (json_object_object_get_ex(body, "EndpointConfig", &endpoint) && endpoint) {
                if (!json_object_is_type(endpoint, json_type_object) ||
                    get_string_array(endpoint, "Aliases", &aliases) < 0)
                        return api_reply_error(c, 400, "EndpointConfig must be an object, its Aliases strings");
                if (json_object_object_get_ex(endpoint, "IPAMConfig", &ipam) && ipam)
                        ip = json_get_string(ipam, "IPv4Address");
                mac = json_get_string(endpoint, "MacAddress");
        }
        r = lookup_network(c, name, &path);
        if (r <= 0)
                return r;

        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_NETWORK, "Connect");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", container);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && aliases)
                r = ctl_bus_append_strv_option(m, "Aliases", aliases);
        if (r >= 0 && !isempty(ip))
                r = sd_bus_message_append(m, "{sv}", "IPAddress", "s", ip);
        if (r >= 0 && !isempty(mac))
                r = sd_bus_message_append(m, "{sv}", "MacAddress", "s", mac);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_call(c->server->bus, m, CTL_TIMEOUT_LONG, &error, NULL);
        if (r < 0)
                return reply_connect_error(c, &error, r, container);
        return api_reply(c, 200, NULL, NULL, 0);
}

/* POST /networks/{id}/disconnect: {"Container", "Force"}. */
int api_network_disconnect(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *body = NULL;
        _cleanup_free_ char *path = NULL;
        const char *container;
        int r = api_body_json(c, &body);
        if (r <= 0)
                return r;

        container = json_get_string(body, "Container");
        if (isempty(container))
                return api_reply_error(c, 400, "the container to disconnect (Container) is required");
        r = lookup_network(c, name, &path);
        if (r <= 0)
                return r;
        r = ctl_bus_call(c->server->bus, path, BERTH_BUS_NETWORK, "Disconnect", CTL_TIMEOUT_LONG, &error, NULL, "sb",
                         container, json_get_bool(body, "Force", 0) > 0);
        if (r < 0)
                return reply_connect_error(c, &error, r, container);
        return api_reply(c, 200, NULL, NULL, 0);
}
