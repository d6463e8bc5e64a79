/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Removal of what is gone, off the loop: one thread takes directories from a queue, in order. A
 * thread, not a forked worker per directory: a `run --rm` removes one after every container, and a
 * fork of berthd cost more than removing a small container's directories. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "removal.h"
#include "util.h"

typedef struct RemovalItem RemovalItem;
struct RemovalItem {
        RemovalItem *next;
        char *path;
        int (*remove)(const char *path);
};

struct Removal {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t queued;
        RemovalItem *head, **tail;
        bool stopping;
};

static void *removal_thread(void *userdata) {
        Removal *q = userdata;
        pthread_mutex_lock(&q->lock);
        for (;;) {
                while (!q->head && !q->stopping)
                        pthread_cond_wait(&q->queued, &q->lock);
                RemovalItem *item = q->head;
                if (!item)
                        break; /* stopping, and nothing left */
                q->head = item->next;
                if (!q->head)
                        q->tail = &q->head;
                pthread_mutex_unlock(&q->lock);
                int r = item->remove(item->path);
                if (r < 0)
                        log_warning("Failed to remove %s, leaving it for the next start: %s", item->path, strerror(-r));
                free(item->path);
                free(item);
                pthread_mutex_lock(&q->lock);
        }
        pthread_mutex_unlock(&q->lock);
        return NULL;
}

static Removal *removal_queue(Manager *m) {
        if (m->removals)
                return m->removals;
        Removal *q = calloc(1, sizeof(*q));
        if (!q)
                return NULL;
        pthread_mutex_init(&q->lock, NULL);
        pthread_cond_init(&q->queued, NULL);
        q->tail = &q->head;
        if (pthread_create(&q->thread, NULL, removal_thread, q) != 0) {
                pthread_mutex_destroy(&q->lock);
                pthread_cond_destroy(&q->queued);
                free(q);
                return NULL;
        }
        return m->removals = q;
}

void manager_free_removals(Manager *m) {
        Removal *q = m->removals;
        if (!q)
                return;
        /* What is queued is done first: each was renamed to .rm-*, so a leftover is swept at the
         * next start anyway, but an orderly stop leaves nothing. */
        pthread_mutex_lock(&q->lock);
        q->stopping = true;
        pthread_cond_signal(&q->queued);
        pthread_mutex_unlock(&q->lock);
        pthread_join(q->thread, NULL);
        pthread_mutex_destroy(&q->lock);
        pthread_cond_destroy(&q->queued);
        free(q);
        m->removals = NULL;
}

int removal_start(Manager *m, const char *path, int (*remove)(const char *path)) {
        Removal *q = removal_queue(m);
        RemovalItem *item = q ? calloc(1, sizeof(*item)) : NULL;
        if (!item || !(item->path = strdup(path))) {
                free(item);
                return remove(path); /* no thread or no memory for it: do it here, late but done */
        }
        item->remove = remove;
        pthread_mutex_lock(&q->lock);
        *q->tail = item;
        q->tail = &item->next;
        pthread_cond_signal(&q->queued);
        pthread_mutex_unlock(&q->lock);
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
        /* A leftover of the same name (a removal that crashed, or one still queued): gone first,
         * here; it is rare. */
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
