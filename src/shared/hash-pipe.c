/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Input is read into a ring of buffers that a second thread hashes while the reader works on it:
 * on uncompressed input sha256 costs about a third of what tar -x needs in all, and pipelining it
 * keeps imports at the speed of tar -x. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "hash-pipe.h"
#include "macro.h"

static void *hash_thread(void *userdata) {
        HashPipe *p = userdata;
        size_t slot = 0;

        pthread_mutex_lock(&p->lock);
        for (;;) {
                int r;

                while (!p->pending[slot] && !p->eof)
                        pthread_cond_wait(&p->cond, &p->lock);
                if (!p->pending[slot])
                        break; /* slots are filled in order: nothing pending here after EOF means all done */
                pthread_mutex_unlock(&p->lock);

                r = sha256_update(p->hash, p->buffers[slot], p->len[slot]);

                pthread_mutex_lock(&p->lock);
                if (r < 0 && p->error == 0)
                        p->error = r;
                p->pending[slot] = false;
                pthread_cond_broadcast(&p->cond);
                slot = (slot + 1) % N_SLOTS;
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

int hash_pipe_start(HashPipe *p) {
        int r;

        r = sha256_new(&p->hash);
        if (r < 0)
                return r;
        if (pthread_mutex_init(&p->lock, NULL) != 0)
                return -ENOMEM;
        if (pthread_cond_init(&p->cond, NULL) != 0) {
                pthread_mutex_destroy(&p->lock);
                return -ENOMEM;
        }
        /* Signals are the caller's business; keep them away from our helper. Without a thread (EAGAIN
         * under a tight RLIMIT_NPROC, say) the reader hashes by itself. */
        sigset_t all, saved;
        sigfillset(&all);
        if (pthread_sigmask(SIG_SETMASK, &all, &saved) == 0) {
                p->threaded = pthread_create(&p->thread, NULL, hash_thread, p) == 0;
                (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        }
        if (!p->threaded) {
                pthread_cond_destroy(&p->cond);
                pthread_mutex_destroy(&p->lock);
        }
        return 0;
}

/* Wait until everything read so far is hashed, and end the thread. */
void hash_pipe_stop(HashPipe *p) {
        if (!p->threaded)
                return;
        pthread_mutex_lock(&p->lock);
        p->eof = true;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
        (void) pthread_join(p->thread, NULL);
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        p->threaded = false;
}

ssize_t hash_pipe_read(HashPipe *p, int fd, const void **ret_buffer) {
        size_t slot = p->fill;
        ssize_t n;
        int r;

        if (p->threaded) {
                pthread_mutex_lock(&p->lock);
                while (p->pending[slot])
                        pthread_cond_wait(&p->cond, &p->lock);
                r = p->error;
                pthread_mutex_unlock(&p->lock);
                if (r < 0)
                        return r;
        }

        do
                n = read(fd, p->buffers[slot], READ_BUFFER_SIZE);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return 0;

        if (p->threaded) {
                pthread_mutex_lock(&p->lock);
                p->len[slot] = (size_t) n;
                p->pending[slot] = true;
                pthread_cond_broadcast(&p->cond);
                pthread_mutex_unlock(&p->lock);
        } else {
                r = sha256_update(p->hash, p->buffers[slot], (size_t) n);
                if (r < 0)
                        return r;
        }
        p->fill = (slot + 1) % N_SLOTS;
        if (ret_buffer)
                *ret_buffer = p->buffers[slot];
        return n;
}

int hash_pipe_finish(HashPipe *p, char ret[SHA256_HEX_LEN + 1]) {
        hash_pipe_stop(p);
        if (p->error < 0)
                return p->error;
        return sha256_final_hex(p->hash, ret);
}
