/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Images in and out: docker save (GET /images/get, /images/{name}/get), docker load (POST
 * /images/load), docker push (POST /images/{name}/push). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api-fd-stream.h"
#include "api-registry-auth.h"
#include "api.h"
#include "ctl-bus.h"
#include "ctl-objects.h"
#include "errors.h"
#include "json-util.h"
#include "util.h"

/* GET /images/get?names=A&names=B, or /images/{name}/get (name given): SaveImages as a
 * docker-archive, streamed as berthd writes it. */
int api_images_save(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int rfd = -1, wfd = -1;
        int r;

        if (name && strv_push(&names, name) < 0)
                return -ENOMEM;
        for (char **q = c->query; !name && q && q[0] && q[1]; q += 2)
                if (streq(q[0], "names") && !isempty(q[1]) && strv_push(&names, q[1]) < 0)
                        return -ENOMEM;
        if (strv_length(names) == 0)
                return api_reply_error(c, 400, "no images to save: give them as names");
        r = api_fd_stream_pipe(&rfd, &wfd);
        if (r >= 0)
                r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH,
                                                   BERTH_BUS_MANAGER, "SaveImages");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, names);
        if (r >= 0)
                r = sd_bus_message_append(m, "sh", "docker-archive", wfd);
        if (r < 0)
                return r;
        wfd = safe_close(wfd);
        return api_fd_stream_start(c, m, TAKE_FD(rfd), "application/x-tar", NULL, NULL, NULL);
}

static int add_stream_line(json_object *lines, const char *text) {
        json_object *o = json_object_new_object();
        if (!o || !text) {
                json_object_put(o);
                return -ENOMEM;
        }
        json_object_object_add(o, "stream", json_object_new_string(text));
        return json_object_array_add(lines, o) < 0 ? -ENOMEM : 0;
}

/* One {"stream": "Loaded image: REF\n"} line per tag, or one with the id for an untagged image. */
static int loaded_lines(ApiConn *c, const char *path, json_object *lines) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(image_info_done) ImageInfo info = {};
        int r;

        image_info_init(&info);
        r = image_info_get(c->server->bus, path, &error, &info);
        if (r < 0)
                return r;
        if (strv_length(info.repo_tags) == 0) {
                _cleanup_free_ char *text = strjoin(
                        "Loaded image ID: sha256:", startswith(info.id, "sha256:") ?: info.id, "\n");
                return add_stream_line(lines, text);
        }
        for (char **t = info.repo_tags; *t; t++) {
                _cleanup_free_ char *text = strjoin("Loaded image: ", *t, "\n");
                r = add_stream_line(lines, text);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int on_load(ApiConn *c, sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        _cleanup_json_ json_object *lines = json_object_new_array();
        _cleanup_free_ char *text = NULL;
        const char *path;
        int r;

        if (e) {
                /* What is no image archive is the client's mistake. */
                if (sd_bus_error_has_name(e, BERTH_ERROR_INVALID_IMAGE))
                        return api_reply_error(c, 400, "%s", e->message ?: e->name);
                return api_reply_bus_error(c, e, -EIO);
        }
        if (!lines)
                return -ENOMEM;
        r = sd_bus_message_enter_container(reply, 'a', "o");
        while (r >= 0 && (r = sd_bus_message_read(reply, "o", &path)) > 0)
                if ((r = loaded_lines(c, path, lines)) < 0)
                        return r;
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(lines); i++) {
                const char *line = json_object_to_json_string_ext(json_object_array_get_idx(lines, i),
                                                                  JSON_C_TO_STRING_PLAIN);
                char *n = line ? strjoin(text ?: "", line, "\n") : NULL;
                if (!n)
                        return -ENOMEM;
                free(text);
                text = n;
        }
        return api_reply(c, 200, "application/json", text ?: "", text ? strlen(text) : 0);
}

/* POST /images/load: the body (at most API_MAX_BODY) in a memfd for LoadImage. quiet only
 * silences progress, of which berthd reports none: the "Loaded image" lines come either way. */
int api_images_load(ApiConn *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (c->body_len == 0)
                return api_reply_error(c, 400, "the request body must be an image archive");
        r = api_body_memfd(c, "berth-api-load", &fd);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "LoadImage");
        if (r >= 0)
                r = sd_bus_message_append(m, "hs", fd, "");
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_load);
        return r;
}

static int stream_message(ApiConn *c, const char *key, const char *text) {
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, key, json_object_new_string(text));
        return api_stream_json(c, o);
}

typedef struct Push {
        char *name;
        char **tags; /* pushed one after another */
        size_t i;
        RegistryAuth auth; /* the client's, for each push of this request */
} Push;

static void push_free(void *p) {
        Push *x = p;
        if (!x)
                return;
        free(x->name);
        strv_free(x->tags);
        registry_auth_done(&x->auth);
        free(x);
}

static int on_push(ApiConn *c, sd_bus_message *reply);

/* PushImage of NAME:tags[i]. */
static int push_next(ApiConn *c, Push *p) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *reference = strjoin(p->name, ":", p->tags[p->i]);
        if (!reference)
                return -ENOMEM;
        int r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                               "PushImage");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", reference);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && p->auth.username)
                r = sd_bus_message_append(m, "{sv}", "Username", "s", p->auth.username);
        if (r >= 0 && p->auth.password)
                r = sd_bus_message_append(m, "{sv}", "Password", "s", p->auth.password);
        if (r >= 0 && p->auth.identity_token)
                r = sd_bus_message_append(m, "{sv}", "IdentityToken", "s", p->auth.identity_token);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_push);
        return r;
}

static int on_push(ApiConn *c, sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Push *p = c->userdata;
        const char *digest, *tag = p->tags[p->i];
        int r;

        if (e)
                return api_stream_end_with_error(c, e);
        r = sd_bus_message_read(reply, "s", &digest);
        if (r < 0)
                return r;
        _cleanup_free_ char *status = strjoin(tag, ": digest: ", digest);
        _cleanup_json_ json_object *aux = json_object_new_object(), *o = json_object_new_object();
        if (!status || !aux || !o)
                return -ENOMEM;
        r = stream_message(c, "status", status);
        json_object_object_add(aux, "Tag", json_object_new_string(tag));
        json_object_object_add(aux, "Digest", json_object_new_string(digest));
        json_object_object_add(o, "progressDetail", json_object_new_object());
        json_object_object_add(o, "aux", TAKE_PTR(aux));
        if (r >= 0)
                r = api_stream_json(c, o);
        if (r < 0)
                return r;
        if (p->tags[++p->i])
                return push_next(c, p);
        return api_stream_end(c);
}

/* The tags to push: the one asked for, when it is there; without one, every tag of the
 * repository (API 1.41; docker push --all-tags). 0 after a 404 for none. */
static int push_tags(ApiConn *c, Push *p, const char *tag) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList list = {};
        int r;

        if (!isempty(tag)) {
                _cleanup_free_ char *reference = strjoin(p->name, ":", tag), *object = NULL;
                if (!reference)
                        return -ENOMEM;
                r = ctl_get_image(c->server->bus, reference, &error, &object);
                if (r < 0 && ctl_bus_error_is_not_found(&error))
                        r = api_reply_error(c, 404, "An image does not exist locally with the tag: %s", reference);
                else if (r < 0)
                        r = api_reply_bus_error(c, &error, r);
                else
                        return strv_push(&p->tags, tag) < 0 ? -ENOMEM : 1;
                return r < 0 ? r : 0;
        }
        r = object_list_fetch(c->server->bus, &error, &list);
        if (r < 0) {
                r = api_reply_bus_error(c, &error, r);
                return r < 0 ? r : 0;
        }
        for (size_t i = 0; i < list.n_images; i++)
                for (char **t = list.images[i].repo_tags; t && *t; t++) {
                        const char *rest = startswith(*t, p->name);
                        if (rest && rest[0] == ':' && !isempty(rest + 1) && !strchr(rest + 1, '/') &&
                            strv_push(&p->tags, rest + 1) < 0)
                                return -ENOMEM;
                }
        if (strv_length(p->tags) == 0) {
                r = api_reply_error(c, 404, "An image does not exist locally with the tag: %s", p->name);
                return r < 0 ? r : 0;
        }
        return 1;
}

/* POST /images/{name}/push?tag=: PushImage with the client's X-Registry-Auth, a JSON progress
 * stream as Docker's (berthd reports only the end). Without a tag, every tag of the repository,
 * one after another, as API 1.41 (docker push --all-tags). */
int api_image_push(ApiConn *c, const char *name) {
        Push *p = calloc(1, sizeof(Push));
        int r;

        if (!p)
                return -ENOMEM;
        c->userdata = p;
        c->userdata_free = push_free;
        p->name = strdup(name);
        if (!p->name)
                return -ENOMEM;
        r = push_tags(c, p, api_query(c, "tag"));
        if (r <= 0)
                return r;
        r = api_registry_auth_parse(c->registry_auth, c->registry_auth_len, &p->auth);
        if (r == -EBADMSG)
                return api_reply_error(c, 400, "invalid X-Registry-Auth header: expected base64url-encoded JSON");
        if (r < 0)
                return r;
        r = push_next(c, p);
        if (r < 0)
                return r;
        r = api_stream_begin(c, 200, "application/json");
        if (r >= 0) {
                _cleanup_free_ char *msg = strjoin("The push refers to repository [", name, "]");
                r = msg ? stream_message(c, "status", msg) : -ENOMEM;
        }
        return r;
}

static int on_import(ApiConn *c, sd_bus_message *reply) {
        return api_reply_image_id(c, reply, "status", 200);
}

/* POST /images/create?fromSrc=-: docker import of the body (a rootfs tarball, at most
 * API_MAX_BODY) with repo, tag, message and changes, through ImportImageWithOptions. A URL as
 * fromSrc (berthd would have to fetch it) answers 501. */
int api_image_import(ApiConn *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_strv_free_ char **changes = NULL;
        _cleanup_free_ char *reference = NULL;
        _cleanup_close_ int fd = -1;
        const char *repo = api_query(c, "repo"), *tag = api_query(c, "tag"), *message = api_query(c, "message");
        int r;

        if (!streq(api_query(c, "fromSrc"), "-"))
                return api_reply_error(c, 501,
                                       "importing from a URL is not implemented; download it and import the file");
        if (c->body_len == 0)
                return api_reply_error(c, 400, "the request body must be a tarball to import");
        if (isempty(repo) && !isempty(tag))
                return api_reply_error(c, 400, "a tag needs a repository (repo)");
        for (char **q = c->query; q && q[0] && q[1]; q += 2)
                if (streq(q[0], "changes") && !isempty(q[1]) && strv_push(&changes, q[1]) < 0)
                        return -ENOMEM;
        reference = isempty(repo) ? strdup("") : isempty(tag) ? strdup(repo) : strjoin(repo, ":", tag);
        if (!reference)
                return -ENOMEM;
        r = api_body_memfd(c, "berth-api-import", &fd);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "ImportImageWithOptions");
        if (r >= 0)
                r = sd_bus_message_append(m, "hs", fd, reference);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && changes)
                r = ctl_bus_append_strv_option(m, "Changes", changes);
        if (r >= 0 && !isempty(message))
                r = sd_bus_message_append(m, "{sv}", "Message", "s", message);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_import);
        return r;
}
