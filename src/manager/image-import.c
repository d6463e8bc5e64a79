/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Image import. The tarball is extracted by a forked worker (so a large import never blocks the
 * bus) into overlay/.import-XXXXXX, which is renamed to overlay/<digest> only once complete; a
 * crash leaves only .import-* directories, which berthd removes at startup.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "errors.h"
#include "image.h"
#include "names.h"
#include "tar-extract.h"

static const char *const default_env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        NULL,
};

typedef struct ImportOperation {
        Manager *manager;
        sd_bus_message *request;
        char *reference; /* normalized "name:tag" */
        char *tmpdir;
        pid_t worker;
        int result_fd;
        sd_event_source *result_source;
        char result[2048];
        size_t result_len;
} ImportOperation;

static void import_operation_free(ImportOperation *op) {
        if (!op)
                return;
        if (op->worker > 0) {
                (void) kill(op->worker, SIGKILL);
                (void) waitpid(op->worker, NULL, 0);
        }
        if (op->tmpdir)
                (void) rm_rf(op->tmpdir);
        sd_bus_message_unref(op->request);
        free(op->reference);
        free(op->tmpdir);
        safe_close(op->result_fd);
        sd_event_source_disable_unref(op->result_source);
        free(op);
}

/* In the worker: extract, report one line, exit. Never returns. */
_noreturn_ static void import_worker(int tar_fd, const char *diff, int result_fd) {
        _cleanup_free_ char *message = NULL;
        TarExtractResult result = {};
        char line[2048];
        int r;

        int dirfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                r = -errno;
        else
                r = tar_extract(tar_fd, dirfd, &result, &message);
        if (r < 0)
                snprintf(line, sizeof(line), "ERR %d %s", -r, message ?: strerror(-r));
        else
                snprintf(line, sizeof(line), "OK %s %" PRIu64 " %" PRIu64, result.digest, result.size,
                         result.n_entries);
        (void) loop_write(result_fd, line, strlen(line));
        _exit(r < 0 ? 1 : 0);
}

static int import_finish(ImportOperation *op, const char *digest, uint64_t size, sd_bus_error *error) {
        Manager *m = op->manager;
        _cleanup_free_ char *final = manager_state_path(m, "overlay/%s", digest), *layer = NULL;
        int r;

        if (!final || asprintf(&layer, "sha256:%s", digest) < 0)
                return -ENOMEM;
        if (access(final, F_OK) == 0)
                (void) rm_rf(op->tmpdir); /* the same layer is already stored: share it */
        else if (rename(op->tmpdir, final) < 0)
                return sd_bus_error_set_errnof(error, errno, "Failed to store layer: %m");
        op->tmpdir = mfree(op->tmpdir);

        Image *i = image_new(m);
        if (!i)
                return -ENOMEM;
        i->created = now_realtime_usec();
        i->size = size;
        strv_free(i->env);
        i->env = strv_copy((char **) default_env);
        i->layer_sizes = calloc(2, sizeof(uint64_t));
        i->architecture = strdup(image_host_architecture());
        i->os = strdup("linux");
        if (!i->env || !i->layer_sizes || !i->architecture || !i->os || strv_push(&i->repo_tags, op->reference) < 0 ||
            strv_push(&i->layers, layer) < 0 || image_compute_id(i) < 0) {
                image_free(i);
                return -ENOMEM;
        }
        i->layer_sizes[0] = size;
        r = manager_add_image(m, i, &i);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to save image: %m");

        _cleanup_free_ char *path = image_object_path(i);
        if (!path)
                return -ENOMEM;
        return sd_bus_reply_method_return(op->request, "o", path);
}

static void import_complete(ImportOperation *op) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        char digest[65];
        uint64_t size, entries;
        int err, consumed = 0, r;

        (void) waitpid(op->worker, NULL, 0);
        op->worker = 0;
        op->result[op->result_len] = 0;

        if (sscanf(op->result, "OK %64s %" SCNu64 " %" SCNu64, digest, &size, &entries) == 3) {
                if (entries == 0)
                        r = sd_bus_error_set(&error, BERTH_ERROR_INVALID_IMAGE,
                                             "Invalid image archive: it contains no files.");
                else
                        r = import_finish(op, digest, size, &error);
        } else if (sscanf(op->result, "ERR %d %n", &err, &consumed) >= 1 && consumed > 0) {
                const char *msg = op->result + consumed;
                if (err == ENOSPC || err == EDQUOT || err == EIO || err == ENOMEM)
                        r = sd_bus_error_set_errnof(&error, err, "Failed to import image: %s", msg);
                else
                        r = sd_bus_error_setf(&error, BERTH_ERROR_INVALID_IMAGE, "Invalid image archive: %s", msg);
        } else
                r = sd_bus_error_set(&error, BERTH_ERROR_INVALID_IMAGE, "The import worker died unexpectedly.");

        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        sd_bus_error_set_errno(&error, r);
                (void) sd_bus_reply_method_error(op->request, &error);
        }
        import_operation_free(op); /* removes tmpdir if it was not renamed into place */
}

static int on_import_result(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ImportOperation *op = userdata;
        ssize_t n = read(fd, op->result + op->result_len, sizeof(op->result) - 1 - op->result_len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n > 0) {
                op->result_len += (size_t) n;
                if (op->result_len < sizeof(op->result) - 1)
                        return 0;
        }
        import_complete(op);
        return 0;
}

int image_import(Manager *m, int tar_fd, const char *reference, sd_bus_message *request, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL, *tag = NULL, *diff = NULL;
        ImportOperation *op;
        int pipes[2], r;

        if (image_reference_parse(reference, &name, &tag) < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME,
                                         "Invalid image reference \"%s\": expected NAME[:TAG] with a lowercase name.",
                                         reference);
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->manager = m;
        op->result_fd = -1;
        if (asprintf(&op->reference, "%s:%s", name, tag) < 0 ||
            !(op->tmpdir = manager_state_path(m, "overlay/.import-XXXXXX"))) {
                free(op->tmpdir);
                op->tmpdir = NULL;
                r = -ENOMEM;
                goto fail;
        }
        if (!mkdtemp(op->tmpdir)) {
                op->tmpdir = mfree(op->tmpdir);
                r = sd_bus_error_set_errnof(error, errno, "Failed to create a temporary layer directory: %m");
                goto fail;
        }
        if (asprintf(&diff, "%s/diff", op->tmpdir) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        if (mkdir(diff, 0755) < 0 || pipe2(pipes, O_CLOEXEC) < 0) {
                r = sd_bus_error_set_errnof(error, errno, "Failed to prepare the import: %m");
                goto fail;
        }
        op->result_fd = pipes[0];

        op->worker = fork();
        if (op->worker < 0) {
                safe_close(pipes[1]);
                r = sd_bus_error_set_errnof(error, errno, "Failed to start the import worker: %m");
                goto fail;
        }
        if (op->worker == 0) {
                /* Die with berthd: an orphaned worker would write into a dir the next berthd removes. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (close_all_fds_except((const int[]){ tar_fd, pipes[1] }, 2) < 0)
                        _exit(1);
                import_worker(tar_fd, diff, pipes[1]);
        }
        safe_close(pipes[1]);

        r = sd_event_add_io(m->event, &op->result_source, op->result_fd, EPOLLIN, on_import_result, op);
        if (r < 0)
                goto fail;
        op->request = sd_bus_message_ref(request);
        return 1;
fail:
        import_operation_free(op);
        return r;
}
