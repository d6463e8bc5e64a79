/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ListRegistryTags: the tags of a repository in its registry (GET /v2/NAME/tags/list, following the
 * Link header's next pages), for `pull --all-tags`. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bus-polkit.h"
#include "errors.h"
#include "image-ref.h"
#include "image.h"
#include "json-util.h"
#include "names.h"
#include "registries-conf.h"
#include "registry-client.h"
#include "util.h"

#define TAGS_MAX 10000

typedef struct TagsOperation {
        sd_bus_message *request;
        RegistryClient *client;
        ImageRef ref;
        char *scope;
        char **tags;
        size_t pages;
} TagsOperation;

static void tags_free(TagsOperation *op) {
        registry_client_unref(op->client);
        image_ref_done(&op->ref);
        free(op->scope);
        strv_free(op->tags);
        sd_bus_message_unref(op->request);
        free(op);
}

static int tags_fetch(TagsOperation *op, const char *path);

/* The next page, from a Link header: </v2/x/tags/list?last=y&n=z>; rel="next". */
static char *next_page(const char *link) {
        const char *start = link ? strchr(link, '<') : NULL, *end = start ? strchr(start, '>') : NULL;
        if (!end || !strstr(end, "rel=\"next\""))
                return NULL;
        return strndup(start + 1, (size_t) (end - start - 1));
}

static void on_tags(RegistryRequest *req, int r, long status, const char *message, void *userdata) {
        TagsOperation *op = userdata;
        const char *host = registry_client_host(op->client);
        _cleanup_json_ json_object *o = NULL;
        json_object *tags;
        size_t len;
        const char *body = registry_request_body(req, &len);

        if (r < 0) {
                (void) sd_bus_reply_method_errorf(
                        op->request, r == -EACCES ? BERTH_ERROR_REGISTRY_AUTH : BERTH_ERROR_REGISTRY_FAILED,
                        "Listing the tags of %s: %s", op->ref.path, message);
                return tags_free(op);
        }
        if (status == 401 || status == 403 || status == 404) {
                (void) sd_bus_reply_method_errorf(
                        op->request, status == 404 ? BERTH_ERROR_NO_SUCH_IMAGE : BERTH_ERROR_REGISTRY_AUTH,
                        "Repository %s not found in registry %s, or access denied (HTTP %ld).", op->ref.path, host,
                        status);
                return tags_free(op);
        }
        if (status != 200 || json_parse_buffer(body, len, &o) < 0 || !json_object_object_get_ex(o, "tags", &tags)) {
                (void) sd_bus_reply_method_errorf(op->request, BERTH_ERROR_REGISTRY_FAILED,
                                                  "Registry %s answered HTTP %ld without a tag list for %s.", host,
                                                  status, op->ref.path);
                return tags_free(op);
        }
        for (size_t k = 0; json_object_is_type(tags, json_type_array) && k < json_object_array_length(tags); k++) {
                const char *t = json_object_get_string(json_object_array_get_idx(tags, k));
                if (t && image_tag_is_valid(t) && !strv_contains(op->tags, t) && strv_length(op->tags) < TAGS_MAX &&
                    strv_push(&op->tags, t) < 0) {
                        (void) sd_bus_reply_method_errno(op->request, ENOMEM, NULL);
                        return tags_free(op);
                }
        }
        _cleanup_free_ char *next = next_page(registry_request_header(req, "link"));
        if (next && ++op->pages < 100 && strv_length(op->tags) < TAGS_MAX && tags_fetch(op, next) >= 0)
                return;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        if (sd_bus_message_new_method_return(op->request, &reply) < 0 ||
            sd_bus_message_append_strv(reply, op->tags) < 0 || sd_bus_send(NULL, reply, NULL) < 0)
                (void) sd_bus_reply_method_errno(op->request, ENOMEM, NULL);
        tags_free(op);
}

static int tags_fetch(TagsOperation *op, const char *path) {
        const RegistryRequestArgs args = { .path = path, .scope = op->scope, .max_body = 8U << 20 };
        return registry_request(op->client, &args, NULL, on_tags, op, NULL);
}

/* ListRegistryTags(s repository, a{sv} options) → (as tags). Options: Username, Password, IdentityToken. */
int method_list_registry_tags(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *repository;
        RegistryCredentials creds = {};
        _cleanup_(registries_conf_freep) RegistriesConf *conf = NULL;
        _cleanup_free_ char *path = NULL;
        const BusOption options[] = {
                BUS_OPTION("Username", "s", &creds.username),
                BUS_OPTION("Password", "s", &creds.password),
                BUS_OPTION("IdentityToken", "s", &creds.identity_token),
        };
        int r = sd_bus_message_read(message, "s", &repository);
        if (r >= 0)
                r = bus_read_options(message, options, ELEMENTSOF(options), "tag list option", error);
        if (r >= 0)
                r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        TagsOperation *op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->request = sd_bus_message_ref(message);
        if (image_ref_parse(repository, &op->ref) < 0) {
                tags_free(op);
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME,
                                         "Invalid repository \"%s\": expected [REGISTRY/]NAME.", repository);
        }
        const char *host = image_ref_registry_host(&op->ref);
        r = registries_conf_load("", &conf);
        if (r >= 0 &&
            (!(op->scope = strjoin("repository:", op->ref.path, ":pull")) || !(op->tags = calloc(1, sizeof(char *))) ||
             asprintf(&path, "/v2/%s/tags/list?n=1000", op->ref.path) < 0))
                r = -ENOMEM;
        if (r >= 0)
                r = registry_client_new(m, host, registry_is_insecure(conf, host), &creds, &op->client);
        if (r >= 0)
                r = tags_fetch(op, path);
        if (r < 0) {
                tags_free(op);
                return r;
        }
        return 1;
}
