/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"

#define READ_BUFFER_SIZE (128U * 1024U)

/* A ring of read buffers hashed by a second thread (hash-pipe.c). libarchive only keeps using the
 * buffer it got last, so a few buffers suffice. */
#define N_SLOTS 4U

typedef struct HashPipe {
        Sha256 *hash;
        pthread_t thread;
        bool threaded;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        size_t len[N_SLOTS];
        bool pending[N_SLOTS]; /* filled, not hashed yet */
        bool eof;
        int error;
        size_t fill; /* next slot the reader fills; only touched by the reader */
        uint8_t buffers[N_SLOTS][READ_BUFFER_SIZE];
} HashPipe;

/* Start hashing (a thread, or in the reader when none can be made). */
int hash_pipe_start(HashPipe *p);
/* Read up to READ_BUFFER_SIZE bytes of fd into the next buffer (*ret_buffer), hashed meanwhile;
 * the buffer stays valid until N_SLOTS - 1 further reads. 0 at EOF. */
ssize_t hash_pipe_read(HashPipe *p, int fd, const void **ret_buffer);
/* Wait until everything read so far is hashed, and end the thread. */
void hash_pipe_stop(HashPipe *p);
/* Stop, and the hex sha256 of all that was read. */
int hash_pipe_finish(HashPipe *p, char ret[SHA256_HEX_LEN + 1]);
