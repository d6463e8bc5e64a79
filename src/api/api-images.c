/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /images/..., /volumes/..., /networks/... */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api-registry-auth.h"
#include "ctl-bus.h"
#include "ctl-inspect.h"
#include "ctl-networks.h"
#include "ctl-objects.h"
#include "errors.h"
#include "json-util.h"
#include "names.h"
#include "util.h"

static json_object *kv_json(char **l) {
        json_object *o = json_object_new_object();
        for (; o && l && *l; l++) {
                const char *eq = strchr(*l, '=');
                _cleanup_free_ char *k = eq ? strndup(*l, (size_t) (eq - *l)) : strdup(*l);
                if (k)
                        json_object_object_add(o, k, json_object_new_string(eq ? eq + 1 : ""));
        }
        return o;
}

int api_images_list(ApiConn *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList list = {};
        int r = object_list_fetch(c->server->bus, &error, &list);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);

        _cleanup_json_ json_object *a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < list.n_images; i++) {
                const ImageInfo *img = &list.images[i];
                _cleanup_free_ char *id = strjoin("sha256:", image_id_strip(img->id ?: ""));
                json_object *o = json_object_new_object();
                if (!o || !id) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                json_object_object_add(o, "Id", json_object_new_string(id));
                json_object_object_add(o, "ParentId", json_object_new_string(""));
                json_object_object_add(o, "RepoTags", json_strv_new(img->repo_tags));
                json_object_object_add(o, "RepoDigests", json_strv_new(img->repo_digests));
                json_object_object_add(o, "Created", json_object_new_int64((int64_t) (img->created / USEC_PER_SEC)));
                json_object_object_add(o, "Size", json_object_new_int64((int64_t) img->size));
                json_object_object_add(o, "VirtualSize", json_object_new_int64((int64_t) img->size));
                json_object_object_add(o, "SharedSize", json_object_new_int64(-1));
                json_object_object_add(o, "Labels", kv_json(img->labels));
                json_object_object_add(o, "Containers", json_object_new_int64(-1));
                json_object_array_add(a, o);
        }
        return api_reply_json(c, 200, a);
}

int api_image_inspect(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(image_info_done) ImageInfo img = {};
        _cleanup_free_ char *path = NULL;
        _cleanup_json_ json_object *o = NULL;
        int r;

        image_info_init(&img);
        r = ctl_get_image(c->server->bus, name, &error, &path);
        if (r >= 0)
                r = image_info_get(c->server->bus, path, &error, &img);
        if (r < 0) {
                if (ctl_bus_error_is_not_found(&error) || sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_OBJECT))
                        return api_reply_error(c, 404, "No such image: %s", name);
                return api_reply_bus_error(c, &error, r);
        }
        r = ctl_image_json(&img, &o);
        if (r < 0)
                return r;
        /* API 1.41 still has ContainerConfig, the config of the container the image was committed
         * from; compose 1.29 reads its Volumes when it recreates a container. berth's images come
         * from registries and imports, not commits: the image's own config stands in for it. */
        json_object *config = NULL, *copy = NULL;
        if (!json_object_object_get_ex(o, "ContainerConfig", NULL) && json_object_object_get_ex(o, "Config", &config) &&
            (json_object_deep_copy(config, &copy, NULL) < 0 ||
             json_object_object_add(o, "ContainerConfig", copy) < 0)) {
                json_object_put(copy);
                return -ENOMEM;
        }
        return api_reply_json(c, 200, o);
}

static int stream_status(ApiConn *c, const char *status, const char *id) {
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "status", json_object_new_string(status));
        if (id)
                json_object_object_add(o, "id", json_object_new_string(id));
        return api_stream_json(c, o);
}

int api_stream_end_with_error(ApiConn *c, const sd_bus_error *e) {
        _cleanup_json_ json_object *o = json_object_new_object(), *detail = json_object_new_object();
        if (!o || !detail)
                return -ENOMEM;
        json_object_object_add(detail, "message", json_object_new_string(e->message ?: e->name));
        json_object_object_add(o, "errorDetail", TAKE_PTR(detail));
        json_object_object_add(o, "error", json_object_new_string(e->message ?: e->name));
        int r = api_stream_json(c, o);
        return r < 0 ? r : api_stream_end(c);
}

int api_reply_image_id(ApiConn *c, sd_bus_message *reply, const char *key, int status) {
        _cleanup_free_ char *id = NULL, *full = NULL;
        const char *path;

        if (sd_bus_message_is_method_error(reply, NULL))
                return api_reply_bus_error(c, sd_bus_message_get_error(reply), -EIO);
        int r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = ctl_object_path_id(path, &id);
        if (r < 0)
                return r;
        full = strjoin("sha256:", id);
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!full || !o)
                return -ENOMEM;
        json_object_object_add(o, key, json_object_new_string(full));
        return api_reply_json(c, status, o);
}

static int on_pull_reply(ApiConn *c, sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *reference = c->userdata, *path, *digest;
        int r;

        if (e)
                return api_stream_end_with_error(c, e);
        r = sd_bus_message_read(reply, "os", &path, &digest);
        if (r < 0)
                return r;
        _cleanup_free_ char *d = strjoin("Digest: ", digest),
                            *s = strjoin("Status: Image is up to date for ", reference);
        if (!d || !s)
                return -ENOMEM;
        r = stream_status(c, d, NULL);
        if (r >= 0)
                r = stream_status(c, s, NULL);
        return r < 0 ? r : api_stream_end(c);
}

int api_image_pull(ApiConn *c) {
        _cleanup_(registry_auth_done) RegistryAuth auth = {};
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        const char *from = api_query(c, "fromImage"), *tag = api_query(c, "tag");
        _cleanup_free_ char *reference = NULL;
        int r;

        if (api_query(c, "fromSrc"))
                return api_image_import(c);
        if (isempty(from))
                return api_reply_error(c, 400, "fromImage is required");
        if (isempty(tag))
                reference = strdup(from);
        else
                reference = strjoin(from, startswith(tag, "sha256:") ? "@" : ":", tag);
        if (!reference)
                return -ENOMEM;

        /* The client's credentials go to berthd for this pull only, as berthctl's do. */
        r = api_registry_auth_parse(c->registry_auth, c->registry_auth_len, &auth);
        if (r == -EBADMSG)
                return api_reply_error(c, 400, "invalid X-Registry-Auth header: expected base64url-encoded JSON");
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "PullImage");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", reference);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && auth.username)
                r = sd_bus_message_append(m, "{sv}", "Username", "s", auth.username);
        if (r >= 0 && auth.password)
                r = sd_bus_message_append(m, "{sv}", "Password", "s", auth.password);
        if (r >= 0 && auth.identity_token)
                r = sd_bus_message_append(m, "{sv}", "IdentityToken", "s", auth.identity_token);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_pull_reply);
        if (r < 0)
                return r;
        c->userdata = TAKE_PTR(reference);
        c->userdata_free = free;
        r = api_stream_begin(c, 200, "application/json");
        reference = NULL;
        if (r >= 0) {
                _cleanup_free_ char *msg = strjoin("Pulling ", (const char *) c->userdata);
                r = msg ? stream_status(c, msg, NULL) : -ENOMEM;
        }
        return r;
}

json_object *api_volume_json(const VolumeInfo *v) {
        json_object *o = json_object_new_object();
        _cleanup_free_ char *created = format_timestamp_rfc3339(v->created_at);
        if (!o)
                return NULL;
        json_object_object_add(o, "Name", json_object_new_string(v->name ?: ""));
        json_object_object_add(o, "Driver", json_object_new_string(v->driver ?: "local"));
        json_object_object_add(o, "Mountpoint", json_object_new_string(v->mountpoint ?: ""));
        json_object_object_add(o, "CreatedAt", json_object_new_string(created ?: ""));
        json_object_object_add(o, "Labels", kv_json(v->labels));
        json_object_object_add(o, "Options", kv_json(v->options));
        json_object_object_add(o, "Scope", json_object_new_string("local"));
        return o;
}

int api_volumes_list(ApiConn *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        VolumeInfo *v = NULL;
        size_t n = 0;
        int r = volume_list_fetch(c->server->bus, &error, &v, &n);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);

        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
                json_object *x = a ? api_volume_json(&v[i]) : NULL;
                if (x)
                        json_object_array_add(a, x);
                else
                        r = -ENOMEM;
                volume_info_done(&v[i]);
        }
        free(v);
        if (r < 0 || !o || !a) {
                json_object_put(a);
                return -ENOMEM;
        }
        json_object_object_add(o, "Volumes", a);
        json_object_object_add(o, "Warnings", json_object_new_array());
        return api_reply_json(c, 200, o);
}

static int reply_volume(ApiConn *c, int status, const char *path, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(volume_info_done) VolumeInfo v = {};
        int r = volume_info_get(c->server->bus, path, &error, &v);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_OBJECT))
                        return api_reply_error(c, 404, "get %s: no such volume", name);
                return api_reply_bus_error(c, &error, r);
        }
        _cleanup_json_ json_object *o = api_volume_json(&v);
        return o ? api_reply_json(c, status, o) : -ENOMEM;
}

int api_append_kv_option(sd_bus_message *m, json_object *body, const char *key, const char *option) {
        json_object *o;
        if (!json_object_object_get_ex(body, key, &o) || !o)
                return 0;
        if (!json_object_is_type(o, json_type_object))
                return -EINVAL;
        int r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", option);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a{ss}");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{ss}");
        json_object_object_foreach(o, k, v) {
                if (r < 0)
                        break;
                if (!json_object_is_type(v, json_type_string))
                        return -EINVAL;
                r = sd_bus_message_append(m, "{ss}", k, json_object_get_string(v));
        }
        for (int i = 0; r >= 0 && i < 3; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

/* The end of CreateVolume and CreateNetwork: the Labels and the driver's options (from the body's
 * key 'options_key') appended to the open a{sv} of m, the call made, the new object's path read.
 * 1 with the reply (which holds the path), 0 when the client got an error answer, or <0. */
static int create_call(ApiConn *c, sd_bus_message *m, json_object *body, const char *options_key,
                       sd_bus_message **ret_reply, const char **ret_path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = api_append_kv_option(m, body, "Labels", "Labels");
        if (r >= 0)
                r = api_append_kv_option(m, body, options_key, "Options");
        if (r == -EINVAL)
                return api_reply_error(c, 400, "Labels and %s must map strings to strings", options_key);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_call(c->server->bus, m, CTL_TIMEOUT_LONG, &error, ret_reply);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        r = sd_bus_message_read(*ret_reply, "o", ret_path);
        return r < 0 ? r : 1;
}

int api_volume_create(ApiConn *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_json_ json_object *body = NULL;
        char generated[BERTH_ID_LEN + 1];
        const char *name, *driver, *path;
        int r = api_body_json(c, &body);
        if (r <= 0)
                return r;

        name = json_get_string(body, "Name");
        driver = json_get_string(body, "Driver");
        if (isempty(name)) {
                r = random_hex_id(generated);
                if (r < 0)
                        return r;
                name = generated;
        }
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "CreateVolume");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && !isempty(driver))
                r = sd_bus_message_append(m, "{sv}", "Driver", "s", driver);
        r = r < 0 ? r : create_call(c, m, body, "DriverOpts", &reply, &path);
        if (r <= 0)
                return r;
        return reply_volume(c, 201, path, name);
}

int api_volume_inspect(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r = ctl_bus_call_manager(c->server->bus, "GetVolume", CTL_TIMEOUT_DEFAULT, &error, &reply, "s", name);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, BERTH_ERROR_NO_SUCH_VOLUME) || ctl_bus_error_is_not_found(&error))
                        return api_reply_error(c, 404, "get %s: no such volume", name);
                return api_reply_bus_error(c, &error, r);
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        return reply_volume(c, 200, path, name);
}

int api_volume_remove(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = ctl_bus_call_manager(c->server->bus, "RemoveVolume", CTL_TIMEOUT_LONG, &error, NULL, "sb", name,
                                     api_query_bool(c, "force"));
        if (r < 0) {
                if (sd_bus_error_has_name(&error, BERTH_ERROR_NO_SUCH_VOLUME) || ctl_bus_error_is_not_found(&error))
                        return api_reply_error(c, 404, "get %s: no such volume", name);
                return api_reply_bus_error(c, &error, r);
        }
        return api_reply(c, 204, NULL, NULL, 0);
}

int api_networks_list(ApiConn *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList objects = {};
        NetworkInfo *n = NULL;
        size_t k = 0;
        int r = object_list_fetch(c->server->bus, &error, &objects);
        if (r >= 0)
                r = network_list_fetch(c->server->bus, &error, &n, &k);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);

        _cleanup_json_ json_object *a = json_object_new_array();
        for (size_t i = 0; i < k; i++) {
                json_object *x = a ? ctl_network_json(&n[i], &objects) : NULL;
                if (x)
                        json_object_array_add(a, x);
                else
                        r = -ENOMEM;
                network_info_done(&n[i]);
        }
        free(n);
        if (r < 0 || !a)
                return -ENOMEM;
        return api_reply_json(c, 200, a);
}

int api_network_inspect(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList objects = {};
        _cleanup_(network_info_done) NetworkInfo n = {};
        int r = ctl_get_network(c->server->bus, name, &error, &n);
        if (r < 0) {
                if (ctl_bus_error_is_not_found(&error))
                        return api_reply_error(c, 404, "network %s not found", name);
                return api_reply_bus_error(c, &error, r);
        }
        r = object_list_fetch(c->server->bus, &error, &objects);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        _cleanup_json_ json_object *o = ctl_network_json(&n, &objects);
        return o ? api_reply_json(c, 200, o) : -ENOMEM;
}

static int reply_image_not_found(ApiConn *c, const sd_bus_error *error, int r, const char *name) {
        if (ctl_bus_error_is_not_found(error))
                return api_reply_error(c, 404, "No such image: %s", name);
        return api_reply_bus_error(c, error, r);
}

static json_object *status_entry(const char *key, const char *value) {
        json_object *o = json_object_new_object();
        if (o)
                json_object_object_add(o, key, json_object_new_string(value));
        return o;
}

/* DELETE /images/{name}: as Docker, one of several tags is only untagged; an id with several
 * tags needs force. */
int api_image_remove(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(image_info_done) ImageInfo img = {};
        _cleanup_free_ char *path = NULL, *ref_name = NULL, *ref_tag = NULL, *tag = NULL, *id = NULL;
        bool force = api_query_bool(c, "force");
        int r;

        image_info_init(&img);
        r = ctl_get_image(c->server->bus, name, &error, &path);
        if (r >= 0)
                r = image_info_get(c->server->bus, path, &error, &img);
        if (r < 0)
                return reply_image_not_found(c, &error, r, name);
        if (image_reference_parse(name, &ref_name, &ref_tag) >= 0)
                tag = strjoin(ref_name, ":", ref_tag);
        bool by_tag = tag && strv_contains(img.repo_tags, tag);
        _cleanup_json_ json_object *a = json_object_new_array();
        if (!a)
                return -ENOMEM;

        if (by_tag && strv_length(img.repo_tags) > 1) {
                r = ctl_bus_call(c->server->bus, path, BERTH_BUS_IMAGE, "Untag", CTL_TIMEOUT_DEFAULT, &error, NULL, "s",
                                 tag);
                if (r < 0)
                        return api_reply_bus_error(c, &error, r);
                json_object_array_add(a, status_entry("Untagged", tag));
                return api_reply_json(c, 200, a);
        }
        if (!by_tag && !force && strv_length(img.repo_tags) > 1)
                return api_reply_error(
                        c, 409,
                        "unable to delete %.12s (must be forced) - image is referenced in multiple repositories",
                        image_id_strip(img.id));
        r = ctl_bus_call(c->server->bus, path, BERTH_BUS_IMAGE, "Remove", CTL_TIMEOUT_LONG, &error, NULL, "b", force);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        for (char **t = img.repo_tags; t && *t; t++)
                json_object_array_add(a, status_entry("Untagged", *t));
        id = strjoin("sha256:", image_id_strip(img.id));
        if (!id)
                return -ENOMEM;
        json_object_array_add(a, status_entry("Deleted", id));
        return api_reply_json(c, 200, a);
}

/* POST /images/{name}/tag?repo=&tag= */
int api_image_tag(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *ref = NULL;
        const char *repo = api_query(c, "repo"), *tag = api_query(c, "tag");
        int r;

        if (isempty(repo))
                return api_reply_error(c, 400, "repository name (repo) is required");
        ref = strjoin(repo, ":", isempty(tag) ? "latest" : tag);
        if (!ref)
                return -ENOMEM;
        r = ctl_get_image(c->server->bus, name, &error, &path);
        if (r < 0)
                return reply_image_not_found(c, &error, r, name);
        r = ctl_bus_call(c->server->bus, path, BERTH_BUS_IMAGE, "Tag", CTL_TIMEOUT_DEFAULT, &error, NULL, "s", ref);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        return api_reply(c, 201, NULL, NULL, 0);
}

/* POST /networks/create: Name, Driver, Internal, Labels, Options, IPAM.Config[0] (Subnet,
 * Gateway, IPRange). */
int api_network_create(ApiConn *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_json_ json_object *body = NULL;
        json_object *ipam = NULL, *config = NULL, *first = NULL;
        _cleanup_free_ char *id = NULL;
        const char *name, *driver, *path;
        int r = api_body_json(c, &body);
        if (r <= 0)
                return r;

        name = json_get_string(body, "Name");
        driver = json_get_string(body, "Driver");
        if (isempty(name))
                return api_reply_error(c, 400, "network name (Name) is required");
        if (json_object_object_get_ex(body, "IPAM", &ipam) && ipam &&
            json_object_object_get_ex(ipam, "Config", &config) && json_object_is_type(config, json_type_array)) {
                if (json_object_array_length(config) > 1)
                        return api_reply_error(c, 400, "only one IPAM config (an IPv4 subnet) is supported");
                first = json_object_array_length(config) == 1 ? json_object_array_get_idx(config, 0) : NULL;
        }
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "CreateNetwork");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "Driver", "s", isempty(driver) ? "bridge" : driver);
        if (r >= 0 && json_get_bool(body, "Internal", 0) > 0)
                r = sd_bus_message_append(m, "{sv}", "Internal", "b", 1);
        static const char *const ipam_keys[] = { "Subnet", "Gateway", "IPRange" };
        for (size_t i = 0; r >= 0 && first && i < ELEMENTSOF(ipam_keys); i++) {
                const char *v = json_get_string(first, ipam_keys[i]);
                if (!isempty(v))
                        r = sd_bus_message_append(m, "{sv}", ipam_keys[i], "s", v);
        }
        r = r < 0 ? r : create_call(c, m, body, "Options", &reply, &path);
        if (r <= 0)
                return r;
        r = sd_bus_get_property_string(c->server->bus, BERTH_BUS_SERVICE, path, "org.berth1.Network", "Id", &error,
                                       &id);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "Id", json_object_new_string(id));
        json_object_object_add(o, "Warning", json_object_new_string(""));
        return api_reply_json(c, 201, o);
}

int api_network_remove(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = ctl_bus_call_manager(c->server->bus, "RemoveNetwork", CTL_TIMEOUT_LONG, &error, NULL, "s", name);
        if (r < 0) {
                if (ctl_bus_error_is_not_found(&error))
                        return api_reply_error(c, 404, "network %s not found", name);
                return api_reply_bus_error(c, &error, r);
        }
        return api_reply(c, 204, NULL, NULL, 0);
}

/* GET /images/{name}/history: the config's history, newest first; the entries that made layers
 * take the layers' sizes (top down), the newest entry the image's id and tags. An image without
 * history (an import) shows one entry per layer. */
int api_image_history(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *hist = NULL, *sizes_m = NULL;
        _cleanup_(image_info_done) ImageInfo img = {};
        _cleanup_free_ char *path = NULL, *id = NULL;
        const uint64_t *sizes = NULL;
        size_t sizes_len = 0;
        int r;

        image_info_init(&img);
        r = ctl_get_image(c->server->bus, name, &error, &path);
        if (r >= 0)
                r = image_info_get(c->server->bus, path, &error, &img);
        if (r >= 0)
                r = sd_bus_get_property(c->server->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_IMAGE, "History", &error,
                                        &hist, "a(tssb)");
        if (r >= 0)
                r = sd_bus_get_property(c->server->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_IMAGE, "LayerSizes", &error,
                                        &sizes_m, "at");
        if (r < 0)
                return reply_image_not_found(c, &error, r, name);
        r = sd_bus_message_read_array(sizes_m, 't', (const void **) &sizes, &sizes_len);
        if (r < 0)
                return r;
        size_t n_sizes = sizes_len / sizeof(uint64_t), layer = n_sizes;
        id = strjoin("sha256:", image_id_strip(img.id));
        _cleanup_json_ json_object *a = json_object_new_array();
        if (!id || !a)
                return -ENOMEM;

        r = sd_bus_message_enter_container(hist, 'a', "(tssb)");
        for (;;) {
                uint64_t created;
                const char *by, *comment;
                int empty;
                if (r < 0)
                        return r;
                r = sd_bus_message_read(hist, "(tssb)", &created, &by, &comment, &empty);
                if (r <= 0)
                        break;
                json_object *e = json_object_new_object();
                if (!e || json_object_array_add(a, e) < 0)
                        return -ENOMEM;
                json_object_object_add(e, "Created", json_object_new_int64((int64_t) (created / USEC_PER_SEC)));
                json_object_object_add(e, "CreatedBy", json_object_new_string(by));
                json_object_object_add(e, "Comment", json_object_new_string(comment));
                json_object_object_add(e, "Size", json_object_new_int64(0));
                if (!empty)
                        json_object_object_add(e, "Layer", NULL); /* a marker, replaced below */
        }
        if (r < 0)
                return r;
        if (json_object_array_length(a) == 0)
                for (size_t i = 0; i < n_sizes; i++) {
                        json_object *e = json_object_new_object();
                        if (!e || json_object_array_add(a, e) < 0)
                                return -ENOMEM;
                        json_object_object_add(e, "Created", json_object_new_int64(img.created / USEC_PER_SEC));
                        json_object_object_add(e, "CreatedBy", json_object_new_string(""));
                        json_object_object_add(e, "Comment", json_object_new_string(""));
                        json_object_object_add(e, "Layer", NULL);
                }
        /* Newest first; layer sizes from the top down. */
        size_t n = json_object_array_length(a);
        _cleanup_json_ json_object *out = json_object_new_array();
        if (!out)
                return -ENOMEM;
        for (size_t i = n; i > 0; i--) {
                json_object *e = json_object_get(json_object_array_get_idx(a, i - 1));
                if (json_object_array_add(out, e) < 0) {
                        json_object_put(e);
                        return -ENOMEM;
                }
                if (json_object_object_get_ex(e, "Layer", NULL)) {
                        json_object_object_del(e, "Layer");
                        if (layer > 0)
                                json_object_object_add(e, "Size", json_object_new_int64((int64_t) sizes[--layer]));
                }
                json_object_object_add(e, "Id", json_object_new_string(i == n ? id : "<missing>"));
                json_object_object_add(e, "Tags", i == n && img.repo_tags ? json_strv_new(img.repo_tags) : NULL);
        }
        return api_reply_json(c, 200, out);
}
