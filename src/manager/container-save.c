/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Saving a container, in two parts, neither of which stops berthd's loop for a disk:
 *
 * Its runtime state (state, exit code, times, error, restart count…) goes to
 * <run_dir>/containers/<id>.json, written by the loop itself: a temporary file renamed over the
 * last one, never fsynced. /run is a tmpfs, so that costs no disk, and a reboot that empties it
 * ends every run anyway (machined keeps its machines' state there the same way).
 *
 * Its record (containers/<id>/container.json: the configuration, and of the runtime only what a
 * reboot must not lose, see container_record_to_json()) is fsynced, by one writer thread, and only
 * when it differs from the last one queued: an exit or a pause does not rewrite it. What is queued
 * while the thread writes goes out next, all at once (write_files_atomic: one journal commit for
 * any number of records): group commit. One queue, one thread, in order, so a record never
 * overtakes a newer one of the same container; a record is serialized when queued.
 *
 * A record is fsynced before it replaces the last one, so it is never torn; the rename is left to
 * the file system's next commit (as Docker does): a power cut may lose the last seconds of
 * changes, a crash of berthd nothing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "container.h"
#include "json-util.h"
#include "util.h"

typedef struct SaveRequest SaveRequest;
struct SaveRequest {
        char *path, *data;
        size_t len;
        uint64_t hash; /* of data */
        ContainerSavedFn done; /* run in berthd's loop; NULL for none */
        void *userdata;
        int result;
        SaveRequest *next;
};

#define BATCH_MAX 128U

struct SaveQueue {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t queued, finished;
        SaveRequest *todo, *writing, *done; /* FIFO lists: queued, being written, to answer */
        bool stop;
        int event_fd; /* the thread's "done" for the loop */
        sd_event_source *event_source;
};

static void append(SaveRequest **list, SaveRequest *q) {
        while (*list)
                list = &(*list)->next;
        *list = q;
}

static void request_free(SaveRequest *q) {
        if (!q)
                return;
        free(q->path);
        free(q->data);
        free(q);
}

static char *record_path(Container *c) {
        return manager_state_path(c->manager, "containers/%s/container.json", c->id);
}

static char *state_path(Container *c) {
        return manager_run_path(c->manager, "containers/%s.json", c->id);
}

/* FNV-1a, never 0 (Container.record_hash: none yet). */
static uint64_t text_hash(const char *s, size_t len) {
        uint64_t h = 14695981039346656037ULL;
        for (size_t i = 0; i < len; i++)
                h = (h ^ (uint8_t) s[i]) * 1099511628211ULL;
        return h ?: 1;
}

static void write_batch(SaveRequest *batch) {
        size_t n = 0, k = 0;
        for (SaveRequest *q = batch; q; q = q->next)
                n++;
        _cleanup_free_ AtomicFile *files = calloc(n, sizeof(AtomicFile));
        _cleanup_free_ SaveRequest **writer = calloc(n, sizeof(SaveRequest *));
        if (!files || !writer) {
                for (SaveRequest *q = batch; q; q = q->next)
                        q->result = -ENOMEM;
                return;
        }
        /* Of several records for one file, the last one is written; the others share its fate (and
         * so does a barrier, which writes nothing: container_reply_when_saved()). */
        for (SaveRequest *q = batch; q; q = q->next) {
                bool superseded = !q->data;
                for (SaveRequest *later = q->next; later && !superseded; later = later->next)
                        superseded = later->data && streq(later->path, q->path);
                if (!superseded) {
                        files[k] = (AtomicFile){ .path = q->path, .data = q->data, .len = q->len, .mode = 0600 };
                        writer[k++] = q;
                }
        }
        write_files_atomic(files, k, false);
        for (size_t i = 0; i < k; i++)
                writer[i]->result = files[i].r;
        for (SaveRequest *q = batch; q; q = q->next)
                for (size_t i = 0; i < k; i++)
                        if (writer[i] != q && streq(writer[i]->path, q->path))
                                q->result = files[i].r;
}

static void *writer_thread(void *userdata) {
        SaveQueue *s = userdata;
        pthread_mutex_lock(&s->lock);
        for (;;) {
                while (!s->todo && !s->stop)
                        pthread_cond_wait(&s->queued, &s->lock);
                if (!s->todo)
                        break;
                /* At most BATCH_MAX at once: each holds a descriptor until its fsync. */
                SaveRequest *batch = s->todo, **cut = &s->todo;
                for (size_t n = 0; *cut && n < BATCH_MAX; n++)
                        cut = &(*cut)->next;
                s->todo = *cut;
                *cut = NULL;
                s->writing = batch;
                pthread_mutex_unlock(&s->lock);
                write_batch(batch);
                pthread_mutex_lock(&s->lock);
                s->writing = NULL;
                append(&s->done, batch);
                pthread_cond_broadcast(&s->finished);
                (void) eventfd_write(s->event_fd, 1);
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

static int on_done(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        SaveQueue *s = userdata;
        eventfd_t n;
        (void) eventfd_read(fd, &n);
        pthread_mutex_lock(&s->lock);
        SaveRequest *done = TAKE_PTR(s->done);
        pthread_mutex_unlock(&s->lock);
        for (SaveRequest *q; (q = done);) {
                done = q->next;
                if (q->result < 0)
                        log_error("Failed to write %s: %s", q->path, strerror(-q->result));
                if (q->done)
                        q->done(q->result, q->userdata);
                request_free(q);
        }
        return 0;
}

int container_saves_start(Manager *m) {
        _cleanup_free_ SaveQueue *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->event_fd < 0)
                return -errno;
        r = sd_event_add_io(m->event, &s->event_source, s->event_fd, EPOLLIN, on_done, s);
        if (r < 0) {
                safe_close(s->event_fd);
                return r;
        }
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->queued, NULL);
        pthread_cond_init(&s->finished, NULL);
        r = -pthread_create(&s->thread, NULL, writer_thread, s);
        if (r < 0) {
                sd_event_source_disable_unref(s->event_source);
                safe_close(s->event_fd);
                return r;
        }
        m->saves = TAKE_PTR(s);
        return 0;
}

/* Everything queued is written before berthd exits; the callbacks run, as their requests ended. */
void container_saves_stop(Manager *m) {
        SaveQueue *s = m->saves;
        if (!s)
                return;
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_signal(&s->queued);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        m->saves = NULL; /* a callback that saves again writes directly */
        on_done(s->event_source, s->event_fd, EPOLLIN, s);
        sd_event_source_disable_unref(s->event_source);
        safe_close(s->event_fd);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->queued);
        pthread_cond_destroy(&s->finished);
        free(s);
}

/* The record as it is now: a request that owns its path and text. */
static SaveRequest *request_new(Container *c) {
        _cleanup_json_ json_object *o = container_record_to_json(c);
        SaveRequest *q = calloc(1, sizeof(*q));

        if (!q || !o || !(q->path = record_path(c)) || !(q->data = json_format_line(o, &q->len))) {
                request_free(q);
                return NULL;
        }
        q->hash = text_hash(q->data, q->len);
        return q;
}

uint64_t container_record_hash(const Container *c) {
        _cleanup_json_ json_object *o = container_record_to_json(c);
        size_t len;
        _cleanup_free_ char *data = o ? json_format_line(o, &len) : NULL;
        return data ? text_hash(data, len) : 0;
}

static int write_state(Container *c) {
        _cleanup_json_ json_object *o = container_state_to_json(c);
        _cleanup_free_ char *path = state_path(c), *data = NULL;
        size_t len;
        if (!o || !path || !(data = json_format_line(o, &len)))
                return -ENOMEM;
        int r = write_file_replace(path, data, len, 0600);
        if (r < 0)
                log_error("Failed to write %s: %s", path, strerror(-r));
        return r;
}

/* The record, when it changed, to the writer thread; 'done' (if not NULL) is called exactly once.
 * Without the thread (while berthd starts or stops) it is written here. */
static int save_record(Container *c, ContainerSavedFn done, void *userdata) {
        SaveQueue *s = c->manager->saves;
        SaveRequest *q = request_new(c);
        int r = 0;

        if (!q)
                r = -ENOMEM;
        else if (q->hash == c->record_hash)
                request_free(q); /* what the record already says (or will, once written) */
        else if (!s) {
                write_batch(q);
                r = q->result;
                if (r < 0)
                        log_error("Failed to write %s: %s", q->path, strerror(-r));
                else
                        c->record_hash = q->hash;
                request_free(q);
        } else {
                c->record_hash = q->hash;
                q->done = done;
                q->userdata = userdata;
                pthread_mutex_lock(&s->lock);
                append(&s->todo, q);
                pthread_cond_signal(&s->queued);
                pthread_mutex_unlock(&s->lock);
                return 0;
        }
        if (r == -ENOMEM)
                log_error("Failed to save the record of container %s: %s", c->name, strerror(-r));
        if (done)
                done(r, userdata);
        return r;
}

void container_save_soon(Container *c, ContainerSavedFn done, void *userdata) {
        if (c->record_lost) { /* nothing true to write: its record stays as found */
                if (done)
                        done(0, userdata);
                return;
        }
        (void) write_state(c);
        (void) save_record(c, done, userdata);
}

static bool queued_for(SaveRequest *list, const char *path) {
        for (SaveRequest *q = list; q; q = q->next)
                if (streq(q->path, path))
                        return true;
        return false;
}

void container_saves_drain(Container *c) {
        SaveQueue *s = c->manager->saves;
        _cleanup_free_ char *path = record_path(c);
        if (!s || !path)
                return;
        pthread_mutex_lock(&s->lock);
        while (queued_for(s->todo, path) || queued_for(s->writing, path))
                pthread_cond_wait(&s->finished, &s->lock);
        pthread_mutex_unlock(&s->lock);
}

int container_save(Container *c) {
        if (c->record_lost)
                return 0; /* nothing true to write: its record stays as found */
        int r = write_state(c), q = save_record(c, NULL, NULL);
        return r < 0 ? r : q;
}

static void reply_saved(int r, void *userdata) {
        sd_bus_message *request = userdata;
        if (r < 0)
                (void) sd_bus_reply_method_errnof(request, -r, "Failed to save container: %m");
        else
                (void) sd_bus_reply_method_return(request, NULL);
        sd_bus_message_unref(request);
}

int container_reply_when_saved(Container *c, sd_bus_message *request) {
        SaveQueue *s = c->manager->saves;
        SaveRequest *q = NULL;
        _cleanup_free_ char *path = record_path(c);

        if (!path)
                return -ENOMEM;
        if (s) {
                pthread_mutex_lock(&s->lock);
                if (queued_for(s->todo, path) || queued_for(s->writing, path)) {
                        /* A barrier behind them: in order, so answered once they are written. */
                        q = calloc(1, sizeof(*q));
                        if (q) {
                                q->path = TAKE_PTR(path);
                                q->done = reply_saved;
                                q->userdata = sd_bus_message_ref(request);
                                append(&s->todo, q);
                                pthread_cond_signal(&s->queued);
                        }
                }
                pthread_mutex_unlock(&s->lock);
        }
        if (!q)
                return sd_bus_reply_method_return(request, NULL);
        return 1;
}

/* What a crash between writing a record and renaming it left: container.json.tmp.<pid>.<n>. */
void container_saves_clean(Manager *m, const char *id) {
        _cleanup_free_ char *dir = manager_state_path(m, "containers/%s", id);
        DIR *d = dir ? opendir(dir) : NULL;
        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));)
                if (startswith(de->d_name, "container.json.tmp."))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
}
