/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker cp: GET, HEAD and PUT /containers/{id}/archive, through Container.CopyFrom and CopyTo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api-fd-stream.h"
#include "api-tar-stat.h"
#include "api.h"
#include "ctl-bus.h"
#include "ctl-tar.h"
#include "util.h"

/* The path query, made absolute (Docker takes a relative one from the container's root). 0 after
 * a 400 for none. */
static int archive_path(ApiConn *c, char **ret) {
        const char *p = api_query(c, "path");
        if (isempty(p)) {
                int r = api_reply_error(c, 400, "bad parameter: path cannot be empty");
                return r < 0 ? r : 0;
        }
        *ret = p[0] == '/' ? strdup(p) : strjoin("/", p);
        return *ret ? 1 : -ENOMEM;
}

/* The first header of CopyFrom's stream is the path's stat: it goes out as Docker's header, with
 * the stream (GET) or alone (HEAD, whose answer ends the copy). */
static int archive_head(ApiConn *c, const char *buf, size_t len, bool eof, void *userdata) {
        _cleanup_free_ char *value = NULL, *header = NULL;
        TarStat st = {};
        int r = api_tar_stat_parse(buf, len, &st);
        if (r <= 0)
                return r;
        r = api_tar_stat_header(&st, &value);
        tar_stat_done(&st);
        if (r < 0)
                return r;
        header = strjoin("X-Docker-Container-Path-Stat: ", value, "\r\n");
        if (!header)
                return -ENOMEM;
        if (c->method == API_HEAD)
                r = api_reply_with_headers(c, 200, NULL, header, NULL, 0);
        else
                r = api_stream_begin_with_headers(c, 200, "application/x-tar", header);
        return r < 0 ? r : 1;
}

/* GET (the tar stream of path) and HEAD (its stat only). */
int api_container_archive_get(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL, *object = NULL;
        _cleanup_close_ int rfd = -1, wfd = -1;
        int r = archive_path(c, &path);
        if (r <= 0)
                return r;
        r = api_lookup_container(c, name, &object);
        if (r <= 0)
                return r;
        r = api_fd_stream_pipe(&rfd, &wfd);
        if (r >= 0)
                r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, object, BERTH_BUS_CONTAINER,
                                                   "CopyFrom");
        if (r >= 0)
                r = sd_bus_message_append(m, "sh", path, wfd);
        if (r < 0)
                return r;
        wfd = safe_close(wfd); /* berthd's copy is the only writer: its end is our EOF */
        return api_fd_stream_start(c, m, TAKE_FD(rfd), "application/x-tar", archive_head, NULL, NULL);
}

static int on_copy_to(ApiConn *c, sd_bus_message *reply) {
        if (sd_bus_message_is_method_error(reply, NULL))
                return api_reply_bus_error(c, sd_bus_message_get_error(reply), -EIO);
        return api_reply(c, 200, NULL, NULL, 0);
}

/* The request's tar in a memfd, with every owner the container's root's unless the client asked
 * to keep them (copyUIDGID): Docker's default. */
static int body_tar(ApiConn *c, bool keep_owners, int *ret) {
        _cleanup_close_ int in = -1;
        int r = api_body_memfd(c, "berth-api-cp", &in);
        if (r < 0)
                return r;
        if (keep_owners) {
                *ret = TAKE_FD(in);
                return 0;
        }

        _cleanup_close_ int out = memfd_create("berth-api-cp-owned", MFD_CLOEXEC);
        _cleanup_free_ char *error = NULL;
        const CtlTar *tar;
        if (out < 0)
                return -errno;
        r = ctl_tar_load(&tar);
        if (r < 0)
                return r;
        r = tar->rewrite_owner(in, out, 0, 0, -1, &error);
        if (r < 0)
                return r;
        if (lseek(out, 0, SEEK_SET) < 0)
                return -errno;
        *ret = TAKE_FD(out);
        return 0;
}

/* The extraction point's stat came: Docker extracts only into a directory (CopyTo alone would make
 * the stream's one entry the path, replacing a file), so the copy starts only now. */
static int put_head(ApiConn *c, const char *buf, size_t len, bool eof, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        TarStat st = {};
        int r = api_tar_stat_parse(buf, len, &st);
        if (r <= 0)
                return r;
        bool dir = st.mode & TAR_GO_MODE_DIR;
        tar_stat_done(&st);
        if (!dir) {
                r = api_reply_error(c, 400, "extraction point is not a directory");
                return r < 0 ? r : 1;
        }
        r = body_tar(c, api_query_bool(c, "copyUIDGID"), &fd);
        if (r == -EBADMSG || r == -EIO)
                r = api_reply_error(c, 400, "the request body is no valid tar archive");
        else if (r < 0)
                r = api_reply_error(c, 500, "Failed to prepare the archive: %s", strerror(-r));
        else if ((r = archive_path(c, &path)) > 0) {
                r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, userdata, BERTH_BUS_CONTAINER,
                                                   "CopyTo");
                if (r >= 0)
                        r = sd_bus_message_append(m, "sh", path, fd);
                if (r >= 0)
                        r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_copy_to);
        }
        return r < 0 ? r : 1;
}

/* PUT: the body (a tar stream, at most API_MAX_BODY) extracted into the directory path (followed
 * when a symlink) by CopyTo, after CopyFrom's first header said that it is one. */
int api_container_archive_put(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL, *object = NULL;
        _cleanup_close_ int rfd = -1, wfd = -1;
        int r = archive_path(c, &path);
        if (r <= 0)
                return r;
        if (c->body_len == 0)
                return api_reply_error(c, 400, "the request body must be a tar archive");
        r = api_lookup_container(c, name, &object);
        if (r <= 0)
                return r;
        r = api_fd_stream_pipe(&rfd, &wfd);
        if (r >= 0)
                r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, object, BERTH_BUS_CONTAINER,
                                                   "CopyFromWithOptions");
        if (r >= 0)
                r = sd_bus_message_append(m, "sha{sv}", path, wfd, 1, "FollowLink", "b", 1);
        if (r < 0)
                return r;
        wfd = safe_close(wfd);
        r = api_fd_stream_start(c, m, TAKE_FD(rfd), NULL, put_head, object, free);
        if (r >= 0)
                TAKE_PTR(object); /* the stream's now */
        return r;
}
