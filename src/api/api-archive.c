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

/* CopyFrom of path (with follow_link: CopyFromWithOptions(FollowLink)) into a pipe: the call, ready
 * to send, and the pipe's read end. berthd's copy of the write end is then the only writer, so
 * its end is our EOF. */
static int copy_from_call(ApiConn *c, const char *object, const char *path, bool follow_link, sd_bus_message **ret_m,
                          int *ret_fd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int rfd = -1, wfd = -1;
        int r = api_fd_stream_pipe(&rfd, &wfd);
        if (r >= 0)
                r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, object, BERTH_BUS_CONTAINER,
                                                   follow_link ? "CopyFromWithOptions" : "CopyFrom");
        if (r >= 0)
                r = follow_link ? sd_bus_message_append(m, "sha{sv}", path, wfd, 1, "FollowLink", "b", 1)
                                : sd_bus_message_append(m, "sh", path, wfd);
        if (r < 0)
                return r;
        *ret_m = TAKE_PTR(m);
        *ret_fd = TAKE_FD(rfd);
        return 0;
}

/* GET (the tar stream of path) and HEAD (its stat only). */
int api_container_archive_get(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL, *object = NULL;
        _cleanup_close_ int rfd = -1;
        int r = archive_path(c, &path);
        if (r <= 0)
                return r;
        r = api_lookup_container(c, name, &object);
        if (r <= 0)
                return r;
        r = copy_from_call(c, object, path, false, &m, &rfd);
        if (r < 0)
                return r;
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

typedef struct PutJob {
        char *object; /* the container */
        TarStat entry; /* the body's first entry */
        bool have_entry;
} PutJob;

static void put_job_free(void *p) {
        PutJob *j = p;
        if (!j)
                return;
        free(j->object);
        tar_stat_done(&j->entry);
        free(j);
}

static int start_copy_to(ApiConn *c, PutJob *job) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        int r = body_tar(c, api_query_bool(c, "copyUIDGID"), &fd);
        if (r == -EBADMSG || r == -EIO)
                return api_reply_error(c, 400, "the request body is no valid tar archive");
        if (r < 0)
                return api_reply_error(c, 500, "Failed to prepare the archive: %s", strerror(-r));
        r = archive_path(c, &path);
        if (r <= 0)
                return r;
        r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, job->object, BERTH_BUS_CONTAINER,
                                           "CopyTo");
        if (r >= 0)
                r = sd_bus_message_append(m, "sh", path, fd);
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_INFINITE, on_copy_to);
        return r;
}

/* The stat of what the body's top entry will replace came (buf NULL: nothing is there).
 * noOverwriteDirNonDir: a directory is not replaced by a non-directory, nor the reverse. */
static int put_target_head(ApiConn *c, const char *buf, size_t len, bool eof, void *userdata) {
        PutJob *job = userdata;
        int r;

        if (buf) {
                TarStat st = {};
                r = api_tar_stat_parse(buf, len, &st);
                if (r <= 0)
                        return r;
                bool was_dir = st.mode & TAR_GO_MODE_DIR, is_dir = job->entry.mode & TAR_GO_MODE_DIR;
                tar_stat_done(&st);
                if (was_dir != is_dir && api_query_bool(c, "noOverwriteDirNonDir")) {
                        r = api_reply_error(c, 400,
                                            was_dir ? "cannot overwrite directory \"%s\" with non-directory"
                                                    : "cannot overwrite non-directory \"%s\" with directory",
                                            job->entry.name);
                        return r < 0 ? r : 1;
                }
        }
        r = start_copy_to(c, job);
        return r < 0 ? r : 1;
}

/* The body's first entry, when it is a top entry (the CLI's one source): its stat in job. */
static int body_top_entry(ApiConn *c, PutJob *job) {
        _cleanup_free_ char *head = malloc(TAR_STAT_MAX_HEAD + 512);
        _cleanup_close_ int fd = -1;
        size_t n = 0;
        if (!head)
                return -ENOMEM;
        int r = api_body_memfd(c, "berth-api-cp-head", &fd);
        if (r < 0)
                return r;
        while (n < TAR_STAT_MAX_HEAD + 512) {
                ssize_t k = read(fd, head + n, TAR_STAT_MAX_HEAD + 512 - n);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        r = api_tar_stat_parse(head, n, &job->entry);
        if (r <= 0)
                return 0; /* no tar: CopyTo says so */
        const char *p = startswith(job->entry.path, "./") ?: job->entry.path;
        job->have_entry = !isempty(p) && !strchr(p, '/') && !streq(p, ".") && !streq(p, "..");
        return 0;
}

/* The extraction point's stat came: Docker extracts only into a directory (CopyTo alone would make
 * the stream's one entry the path, replacing a file). Then the stat of what the body's top entry
 * replaces, for noOverwriteDirNonDir; then the copy. */
static int put_head(ApiConn *c, const char *buf, size_t len, bool eof, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL, *target = NULL;
        _cleanup_close_ int rfd = -1;
        PutJob *job = userdata;
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
        r = body_top_entry(c, job);
        if (r < 0)
                return r;
        if (!job->have_entry || !api_query_bool(c, "noOverwriteDirNonDir")) {
                r = start_copy_to(c, job);
                return r < 0 ? r : 1;
        }
        r = archive_path(c, &path);
        if (r <= 0)
                return r < 0 ? r : 1;
        target = strjoin(path, endswith(path, "/") ? "" : "/", startswith(job->entry.path, "./") ?: job->entry.path);
        if (!target)
                return -ENOMEM;
        r = copy_from_call(c, job->object, target, false, &m, &rfd);
        if (r < 0)
                return r;
        return api_fd_stream_restart(c, m, TAKE_FD(rfd), put_target_head, true);
}

/* PUT: the body (a tar stream, at most API_MAX_BODY) extracted into the directory path (followed
 * when a symlink) by CopyTo, after CopyFrom's first header said that it is one. */
int api_container_archive_put(ApiConn *c, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL, *object = NULL;
        _cleanup_close_ int rfd = -1;
        int r = archive_path(c, &path);
        if (r <= 0)
                return r;
        if (c->body_len == 0)
                return api_reply_error(c, 400, "the request body must be a tar archive");
        r = api_lookup_container(c, name, &object);
        if (r <= 0)
                return r;
        r = copy_from_call(c, object, path, true, &m, &rfd);
        if (r < 0)
                return r;
        PutJob *job = calloc(1, sizeof(PutJob));
        if (!job)
                return -ENOMEM;
        job->object = TAKE_PTR(object);
        r = api_fd_stream_start(c, m, TAKE_FD(rfd), NULL, put_head, job, put_job_free);
        if (r < 0)
                put_job_free(job);
        return r;
}
