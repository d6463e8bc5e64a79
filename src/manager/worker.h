/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "manager.h"

/* A forked worker for long file system work (image archives, container file systems), so the bus
 * never blocks. The worker reports one line on a pipe, "OK [payload]" or "ERR <errno> <message>", and
 * berthd calls 'done' once it has read it and reaped the worker. */
typedef struct Worker Worker;

/* In the worker: do the work; a result for berthd goes into *ret_payload, a sentence into *ret_error. */
typedef int (*WorkerFunc)(void *userdata, char **ret_payload, char **ret_error);
/* In berthd: r >= 0 and the payload ("" if none), or r < 0 and the worker's sentence (NULL when the
 * worker died without saying anything, r = -EPROTO then). */
typedef void (*WorkerDoneFunc)(void *userdata, int r, const char *text);

/* While a worker is between fork() and closing what it does not keep, it holds a copy of every
 * descriptor of berthd. So an fd watched by an sd-event source is closed only after the source is
 * gone: closed first, epoll_ctl(DEL) fails, the worker's copy keeps the file and its epoll
 * registration alive a moment longer, and an event in that moment reaches a freed source. */
/* Fork the worker; it keeps only the descriptors in keep[] (plus its report pipe) open, and dies
 * with berthd. */
int worker_start(Manager *m, const int keep[], size_t n_keep, WorkerFunc work, WorkerDoneFunc done, void *userdata,
                 Worker **ret);
/* Kill and reap the worker (if it still runs); 'done' is not called. NULL is fine. */
void worker_free(Worker *w);
