/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /auth: docker login checks credentials against a registry (Manager.Login). berth-api keeps
 * nothing: the client stores them and sends them with each pull (X-Registry-Auth). The body holds
 * a password: it is wiped once read, and nothing of it is logged. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ctl-bus.h"
#include "errors.h"
#include "json-util.h"
#include "util.h"

/* The registry as Login takes it: HOST[:PORT], "" for Docker Hub, from Docker's serveraddress
 * ("https://index.docker.io/v1/", "registry.example:5000", "http://host:port/path"). */
static char *login_server(const char *address) {
        const char *p = address ?: "";
        if (startswith(p, "https://"))
                p += 8;
        else if (startswith(p, "http://"))
                p += 7;
        size_t n = strcspn(p, "/");
        if ((n == 15 && strncmp(p, "index.docker.io", n) == 0) || (n == 9 && strncmp(p, "docker.io", n) == 0) ||
            (n == 20 && strncmp(p, "registry-1.docker.io", n) == 0))
                n = 0;
        return strndup(p, n);
}

static int on_login_reply(ApiConn *c, sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *status;
        int r;

        if (e) {
                /* Docker answers wrong credentials with 401. */
                if (sd_bus_error_has_name(e, BERTH_ERROR_REGISTRY_AUTH))
                        return api_reply_error(c, 401, "%s", e->message ?: "unauthorized");
                return api_reply_bus_error(c, e, -EIO);
        }
        r = sd_bus_message_read(reply, "s", &status);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "Status", json_object_new_string(status));
        json_object_object_add(o, "IdentityToken", json_object_new_string(""));
        return api_reply_json(c, 200, o);
}

int api_login(ApiConn *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_json_ json_object *body = NULL;
        _cleanup_free_ char *server = NULL;
        const char *user, *password, *token;
        int r = api_body_json(c, &body);
        if (c->body)
                explicit_bzero(c->body, c->body_len);
        if (r <= 0)
                return r;

        user = json_get_string(body, "username");
        password = json_get_string(body, "password");
        token = json_get_string(body, "identitytoken");
        server = login_server(json_get_string(body, "serveraddress"));
        if (!server)
                return -ENOMEM;
        if (isempty(token) && (isempty(user) || isempty(password)))
                r = api_reply_error(c, 400, "username and password (or identitytoken) are required");
        else {
                r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH,
                                                   BERTH_BUS_MANAGER, "Login");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", server);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "{sv}");
                if (r >= 0 && !isempty(user))
                        r = sd_bus_message_append(m, "{sv}", "Username", "s", user);
                if (r >= 0 && !isempty(password))
                        r = sd_bus_message_append(m, "{sv}", "Password", "s", password);
                if (r >= 0 && !isempty(token))
                        r = sd_bus_message_append(m, "{sv}", "IdentityToken", "s", token);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_login_reply);
        }
        /* The parsed copies go too. */
        json_object_object_foreach(body, k, v) {
                (void) k;
                if (v && json_object_is_type(v, json_type_string))
                        explicit_bzero((char *) json_object_get_string(v), (size_t) json_object_get_string_len(v));
        }
        return r;
}
