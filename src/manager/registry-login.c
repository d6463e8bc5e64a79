/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Login: whether a registry takes the caller's credentials (GET /v2/ with them, through whatever
 * challenge it makes), as dockerd's /auth checks them for `docker login`. berthctl stores them. */
#include <errno.h>
#include <string.h>

#include "bus-polkit.h"
#include "errors.h"
#include "image-ref.h"
#include "image.h"
#include "registries-conf.h"
#include "registry-client.h"
#include "util.h"

typedef struct LoginOperation {
        sd_bus_message *request;
        RegistryClient *client;
} LoginOperation;

static void login_free(LoginOperation *op) {
        registry_client_unref(op->client);
        sd_bus_message_unref(op->request);
        free(op);
}

static void on_checked(RegistryRequest *req, int r, long status, const char *message, void *userdata) {
        LoginOperation *op = userdata;
        const char *host = registry_client_host(op->client);
        if (r < 0)
                (void) sd_bus_reply_method_errorf(
                        op->request, r == -EACCES ? BERTH_ERROR_REGISTRY_AUTH : BERTH_ERROR_REGISTRY_FAILED,
                        "Login to registry %s failed: %s", host, message);
        else if (status == 401 || status == 403)
                (void) sd_bus_reply_method_errorf(op->request, BERTH_ERROR_REGISTRY_AUTH,
                                                  "Login to registry %s failed: unauthorized (HTTP %ld): wrong user "
                                                  "name or password.",
                                                  host, status);
        else if (status != 200)
                (void) sd_bus_reply_method_errorf(op->request, BERTH_ERROR_REGISTRY_FAILED,
                                                  "Login to registry %s failed: it answered HTTP %ld.", host, status);
        else
                (void) sd_bus_reply_method_return(op->request, "s", "Login Succeeded");
        login_free(op);
}

/* Login(s server, a{sv} options) → (s status). Options: Username, Password, IdentityToken (s). */
int method_registry_login(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *server;
        RegistryCredentials creds = {};
        _cleanup_(registries_conf_freep) RegistriesConf *conf = NULL;
        _cleanup_(image_ref_done) ImageRef ref = {};
        _cleanup_free_ char *probe = NULL;
        const BusOption options[] = {
                BUS_OPTION("Username", "s", &creds.username),
                BUS_OPTION("Password", "s", &creds.password),
                BUS_OPTION("IdentityToken", "s", &creds.identity_token),
        };
        int r = sd_bus_message_read(message, "s", &server);
        if (r >= 0)
                r = bus_read_options(message, options, ELEMENTSOF(options), "login option", error);
        if (r >= 0)
                r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        /* A server is a registry host ("docker.io" by default); checked as the domain of a name. */
        if (isempty(server))
                server = "docker.io";
        if (!(probe = strjoin(server, "/x")))
                return -ENOMEM;
        if (strchr(server, '/') || image_ref_parse(probe, &ref) < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Invalid registry \"%s\": expected HOST[:PORT].", server);
        r = registries_conf_load("", &conf);
        if (r < 0)
                return r;
        LoginOperation *op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->request = sd_bus_message_ref(message);
        const char *host = image_ref_registry_host(&ref);
        r = registry_client_new(m, host, registry_is_insecure(conf, host), &creds, &op->client);
        const RegistryRequestArgs args = { .path = "/v2/" };
        if (r >= 0)
                r = registry_request(op->client, &args, NULL, on_checked, op, NULL);
        if (r < 0) {
                login_free(op);
                return r;
        }
        return 1;
}
