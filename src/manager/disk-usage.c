/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Manager.GetDiskUsage (system df). Image sizes come from the records; the bytes in container upper
 * dirs and local volumes are only known by walking them, which can take long on a big volume, so a
 * forked worker walks and reports one number per line on a pipe while the bus goes on.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "image.h"
#include "storage.h"
#include "volume.h"

typedef struct DiskUsage {
        Manager *manager;
        sd_bus_message *request;
        char **containers; /* ids, as they were when the walk started */
        char **volumes; /* names of local volumes */
        pid_t worker;
        int fd;
        sd_event_source *source;
        char *buf;
        size_t len;
} DiskUsage;

/* Walks running at once; more callers are refused rather than let anyone fork without bound. */
#define DISK_USAGE_WORKERS_MAX 4
static unsigned n_workers;

static void disk_usage_free(DiskUsage *d) {
        if (!d)
                return;
        if (d->worker > 0) {
                (void) kill(d->worker, SIGKILL);
                (void) waitpid(d->worker, NULL, 0);
        }
        sd_bus_message_unref(d->request);
        strv_free(d->containers);
        strv_free(d->volumes);
        sd_event_source_disable_unref(d->source);
        safe_close(d->fd);
        free(d->buf);
        free(d);
}

static void disk_usage_worker(DiskUsage *d, int out) {
        char **lists[] = { d->containers, d->volumes };
        for (size_t k = 0; k < ELEMENTSOF(lists); k++)
                for (char **n = lists[k]; n && *n; n++) {
                        uint64_t size = 0;
                        if (k == 0)
                                (void) container_storage_size(d->manager, *n, &size);
                        else {
                                _cleanup_free_ char *path = manager_state_path(d->manager, "volumes/%s/_data", *n);
                                size = path ? dir_apparent_size(path) : 0;
                        }
                        char line[32];
                        snprintf(line, sizeof(line), "%" PRIu64 "\n", size);
                        if (loop_write(out, line, strlen(line)) < 0)
                                _exit(1);
                }
        _exit(0);
}

static uint64_t next_size(const char **p) {
        char *end;
        uint64_t v = strtoull(*p, &end, 10);
        *p = *end == '\n' ? end + 1 : end;
        return v;
}

/* The bytes of all distinct layers, and of those no image with a container uses (what image prune -a
 * would free). */
static int layer_totals(Manager *m, uint64_t *ret_total, uint64_t *ret_reclaimable) {
        _cleanup_strv_free_ char **seen = calloc(1, sizeof(char *)), **active = calloc(1, sizeof(char *));
        uint64_t total = 0, used = 0;
        if (!seen || !active)
                return -ENOMEM;
        for (Image *i = m->images; i; i = i->next) {
                bool in_use = image_count_users(i, NULL) > 0;
                for (size_t k = 0; i->layers[k]; k++) {
                        uint64_t size = i->layer_sizes ? i->layer_sizes[k] : 0;
                        if (!strv_contains(seen, i->layers[k])) {
                                if (strv_push(&seen, i->layers[k]) < 0)
                                        return -ENOMEM;
                                total += size;
                        }
                        if (in_use && !strv_contains(active, i->layers[k])) {
                                if (strv_push(&active, i->layers[k]) < 0)
                                        return -ENOMEM;
                                used += size;
                        }
                }
        }
        *ret_total = total;
        *ret_reclaimable = total - used;
        return 0;
}

static unsigned local_volumes_of(Container *c) {
        unsigned n = 0;
        for (Volume *v = c->manager->volumes; v; v = v->next)
                n += !volume_is_plugin(v) && container_uses_volume(c, v->name);
        return n;
}

static int disk_usage_reply(DiskUsage *d) {
        Manager *m = d->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *p = d->buf ?: "";
        uint64_t layers_size, reclaimable;
        int r;

        if (strv_length(d->containers) + strv_length(d->volumes) > 0 && d->len == 0)
                return sd_bus_reply_method_errorf(d->request, SD_BUS_ERROR_FAILED, "The disk usage worker failed.");
        if ((r = layer_totals(m, &layers_size, &reclaimable)) < 0 ||
            (r = sd_bus_message_new_method_return(d->request, &reply)) < 0 ||
            (r = sd_bus_message_append(reply, "tt", layers_size, reclaimable)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'a', "(sttu)")) < 0)
                return r;
        for (Image *i = m->images; i; i = i->next)
                if ((r = sd_bus_message_append(reply, "(sttu)", i->id, i->size, image_unique_size(i),
                                               image_count_users(i, NULL))) < 0)
                        return r;
        if ((r = sd_bus_message_close_container(reply)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'a', "(stu)")) < 0)
                return r;
        /* Objects removed while the worker walked are left out. */
        for (char **n = d->containers; *n; n++) {
                uint64_t size = next_size(&p);
                Container *c = manager_find_container(m, *n, NULL);
                if (c && streq(c->id, *n) &&
                    (r = sd_bus_message_append(reply, "(stu)", *n, size, local_volumes_of(c))) < 0)
                        return r;
        }
        if ((r = sd_bus_message_close_container(reply)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'a', "(sut)")) < 0)
                return r;
        for (char **n = d->volumes; *n; n++) {
                uint64_t size = next_size(&p);
                Volume *v = manager_find_volume(m, *n);
                _cleanup_strv_free_ char **users = NULL;
                if (!v || volume_used_by(v, &users) < 0)
                        continue;
                if ((r = sd_bus_message_append(reply, "(sut)", *n, (uint32_t) strv_length(users), size)) < 0)
                        return r;
        }
        if ((r = sd_bus_message_close_container(reply)) < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int on_worker_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        DiskUsage *d = userdata;
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n > 0) {
                char *b = realloc(d->buf, d->len + (size_t) n + 1);
                if (b) {
                        memcpy(b + d->len, chunk, (size_t) n);
                        d->len += (size_t) n;
                        b[d->len] = 0;
                        d->buf = b;
                        return 0;
                }
                d->len = 0; /* out of memory: report a failure */
        }
        (void) waitpid(d->worker, NULL, 0);
        d->worker = 0;
        int r = disk_usage_reply(d);
        if (r < 0)
                (void) sd_bus_reply_method_errno(d->request, r, NULL);
        n_workers--;
        disk_usage_free(d);
        return 0;
}

int method_get_disk_usage(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        DiskUsage *d;
        int pipes[2], r;

        if (n_workers >= DISK_USAGE_WORKERS_MAX)
                return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                        "Too many disk usage requests at once; try again.");
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        *d = (DiskUsage){ .manager = m, .fd = -1 };
        d->containers = calloc(1, sizeof(char *));
        d->volumes = calloc(1, sizeof(char *));
        r = d->containers && d->volumes ? 0 : -ENOMEM;
        for (Container *c = m->containers; r >= 0 && c; c = c->next)
                r = strv_push(&d->containers, c->id);
        for (Volume *v = m->volumes; r >= 0 && v; v = v->next)
                if (!volume_is_plugin(v))
                        r = strv_push(&d->volumes, v->name);
        if (r < 0 || pipe2(pipes, O_CLOEXEC) < 0) {
                r = r < 0 ? r : -errno;
                disk_usage_free(d);
                return r;
        }
        d->fd = pipes[0];
        d->worker = fork();
        if (d->worker == 0) {
                /* Die with berthd; read nothing but the file system. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) signal(SIGPIPE, SIG_IGN);
                if (close_all_fds_except((const int[]){ pipes[1] }, 1) < 0)
                        _exit(1);
                disk_usage_worker(d, pipes[1]);
        }
        safe_close(pipes[1]);
        if (d->worker < 0) {
                r = -errno;
                disk_usage_free(d);
                return sd_bus_error_set_errnof(error, -r, "Failed to start the disk usage worker: %m");
        }
        r = sd_event_add_io(m->event, &d->source, d->fd, EPOLLIN, on_worker_output, d);
        if (r < 0) {
                disk_usage_free(d);
                return r;
        }
        d->request = sd_bus_message_ref(message);
        n_workers++;
        return 1;
}
