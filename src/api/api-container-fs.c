/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's file system: docker diff (changes), export, commit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api-fd-stream.h"
#include "api.h"
#include "ctl-bus.h"
#include "json-util.h"
#include "util.h"

/* GET /containers/{id}/changes: GetChanges as Docker's Kind 0 (modified), 1 (added), 2 (deleted). */
int api_container_changes(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *kind, *file;
        int r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        r = ctl_bus_call(c->server->bus, path, BERTH_BUS_CONTAINER, "GetChanges", CTL_TIMEOUT_LONG, &error, &reply,
                         NULL);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);

        _cleanup_json_ json_object *a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &kind, &file)) > 0) {
                int k = streq(kind, "C") ? 0 : streq(kind, "A") ? 1 : streq(kind, "D") ? 2 : -1;
                if (k < 0)
                        return api_reply_error(c, 500, "berthd reported an unknown change kind '%s'", kind);
                json_object *o = json_object_new_object();
                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "Path", json_object_new_string(file));
                json_object_object_add(o, "Kind", json_object_new_int(k));
                json_object_array_add(a, o);
        }
        if (r < 0)
                return r;
        return api_reply_json(c, 200, a);
}

/* GET /containers/{id}/export: Export's tar stream. */
int api_container_export(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int rfd = -1, wfd = -1;
        int r = api_lookup_container(c, name, &path);
        if (r <= 0)
                return r;
        r = api_fd_stream_pipe(&rfd, &wfd);
        if (r >= 0)
                r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER,
                                                   "Export");
        if (r >= 0)
                r = sd_bus_message_append(m, "h", wfd);
        if (r < 0)
                return r;
        wfd = safe_close(wfd);
        return api_fd_stream_start(c, m, TAKE_FD(rfd), "application/x-tar", NULL, NULL, NULL);
}

static int on_commit(ApiConn *c, sd_bus_message *reply) {
        return api_reply_image_id(c, reply, "Id", 201);
}

/* The body of POST /commit is a container config to merge; berth takes the config changes as
 * Dockerfile instructions (changes) only. 1 when there is none (empty, null or {}). */
static bool commit_body_empty(ApiConn *c) {
        if (c->body_len == 0)
                return true;
        _cleanup_json_ json_object *o = NULL;
        if (json_parse_buffer(c->body, c->body_len, &o) < 0)
                return false;
        return !o || (json_object_is_type(o, json_type_object) && json_object_object_length(o) == 0);
}

/* POST /commit?container=&repo=&tag=&comment=&author=&changes=...: Container.Commit. */
int api_commit(ApiConn *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL, *reference = NULL;
        _cleanup_strv_free_ char **changes = NULL;
        const char *container = api_query(c, "container"), *repo = api_query(c, "repo"), *tag = api_query(c, "tag");
        int r;

        if (isempty(container))
                return api_reply_error(c, 400, "the container to commit (container) is required");
        if (isempty(repo) && !isempty(tag))
                return api_reply_error(c, 400, "a tag needs a repository (repo)");
        if (!commit_body_empty(c))
                return api_reply_error(c, 501,
                                       "a container config in the body of commit is not supported; "
                                       "give the changes as Dockerfile instructions (changes)");
        for (char **q = c->query; q && q[0] && q[1]; q += 2)
                if (streq(q[0], "changes") && !isempty(q[1]) && strv_push(&changes, q[1]) < 0)
                        return -ENOMEM;
        reference = isempty(repo) ? strdup("") : isempty(tag) ? strdup(repo) : strjoin(repo, ":", tag);
        if (!reference)
                return -ENOMEM;
        r = api_lookup_container(c, container, &path);
        if (r <= 0)
                return r;
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Commit");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", reference);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, changes);
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", api_query(c, "comment") ?: "", api_query(c, "author") ?: "");
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_commit);
        return r;
}
