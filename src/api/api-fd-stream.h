/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "api-http.h"

typedef struct ApiFdStream ApiFdStream;

/* Decides when and how the response begins from the stream's first bytes: returns 0 for "more
 * bytes first", 1 once it began the stream (api_stream_begin*) or did something else (answered
 * whole, as for a HEAD, or went on with another call): then the rest of the stream is dropped and
 * the writer's call forgotten. Negative errno to abort. eof: no more bytes will come. */
typedef int (*api_fd_stream_head_t)(ApiConn *c, const char *buf, size_t len, bool eof, void *userdata);

/* The request body in a memfd (named name) at offset 0, for berthd to read. */
int api_body_memfd(ApiConn *c, const char *name, int *ret);

/* A pipe for berthd to write into: the read end non-blocking, both close-on-exec. */
int api_fd_stream_pipe(int *ret_read, int *ret_write);

/* Sends m (which carries the pipe's write end; the caller closes its copy) and answers c with
 * what comes through read_fd (taken): a chunked 200 of content_type once head allows (without one:
 * at the first byte), or the call's error when it fails before. The call has no timeout: it ends
 * when the stream does or the client goes (the pipe closes, berthd's writer fails).
 * head_userdata is freed with head_userdata_free (when not NULL) when the request is done; on
 * failure it stays the caller's. */
int api_fd_stream_start(ApiConn *c, sd_bus_message *m, int read_fd, const char *content_type, api_fd_stream_head_t head,
                        void *head_userdata, void (*head_userdata_free)(void *));

/* From within a head callback of c's stream: drops its call and pipe and waits for m's, through
 * read_fd (taken), with head as its head (same userdata). With missing_ok, the call's NoSuchPath
 * calls head with buf NULL instead of answering 404. The callback then returns what it likes
 * (negative errno still aborts). */
int api_fd_stream_restart(ApiConn *c, sd_bus_message *m, int read_fd, api_fd_stream_head_t head, bool missing_ok);
