/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "removal.h"
#include "util.h"
#include "worker.h"

struct Removal {
        Manager *manager;
        Removal *next;
        Worker *worker;
        char *path;
        int (*remove)(const char *path);
};

static void removal_free(Removal *r) {
        if (!r)
                return;
        for (Removal **p = &r->manager->removals; *p; p = &(*p)->next)
                if (*p == r) {
                        *p = r->next;
                        break;
                }
        worker_free(r->worker);
        free(r->path);
        free(r);
}

void manager_free_removals(Manager *m) {
        while (m->removals)
                removal_free(m->removals);
}

static int removal_work(void *userdata, char **ret_payload, char **ret_error) {
        Removal *r = userdata;
        return r->remove(r->path);
}

static void removal_done(void *userdata, int err, const char *text) {
        Removal *r = userdata;
        if (err < 0)
                log_warning("Failed to remove %s, leaving it for the next start: %s", r->path, text ?: strerror(-err));
        removal_free(r);
}

int removal_start(Manager *m, const char *path, int (*remove)(const char *path)) {
        Removal *r = calloc(1, sizeof(*r));
        if (!r || !(r->path = strdup(path))) {
                free(r);
                return remove(path); /* no memory for a worker: do it here */
        }
        r->manager = m;
        r->remove = remove;
        r->next = m->removals;
        m->removals = r;
        int k = worker_start(m, NULL, 0, removal_work, removal_done, r, &r->worker);
        if (k < 0) {
                removal_free(r);
                return remove(path); /* cannot fork: do it here, late but done */
        }
        return 0;
}

int removal_rename_and_start(Manager *m, const char *path, int (*remove)(const char *path)) {
        _cleanup_free_ char *copy = strdup(path), *gone = NULL;
        if (!copy)
                return -ENOMEM;
        char *slash = strrchr(copy, '/');
        if (!slash)
                return -EINVAL;
        *slash = 0;
        if (asprintf(&gone, "%s/.rm-%s", copy, slash + 1) < 0)
                return -ENOMEM;
        /* A leftover of the same name (a removal that crashed): gone first, here, it is rare. */
        if (access(gone, F_OK) == 0)
                (void) remove(gone);
        if (rename(path, gone) < 0)
                return -errno;
        return removal_start(m, gone, remove);
}

void removal_sweep(Manager *m, const char *dir, int (*remove)(const char *path)) {
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                if (strncmp(de->d_name, ".rm-", 4) != 0 || asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        continue;
                (void) removal_start(m, path, remove);
        }
        closedir(d);
}
