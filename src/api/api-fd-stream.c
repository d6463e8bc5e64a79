/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A response that is what berthd writes into a pipe (export, cp, save), copied to the client as
 * it comes, with the call's error as the status when it fails before any byte came. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api-fd-stream.h"
#include "errors.h"
#include "util.h"

/* While more than this waits for the client, the pipe is not read: berthd's writer waits. */
#define FD_STREAM_HIGH_WATER (1024U * 1024U)
#define FD_STREAM_READ       (64U * 1024U)

struct ApiFdStream {
        ApiConn *c;
        int fd;
        sd_event_source *io;
        sd_bus_slot *slot;
        const char *content_type;
        api_fd_stream_head_t head;
        void *head_userdata;
        void (*head_userdata_free)(void *);
        char *buf; /* what came before the response began */
        size_t buf_len;
        bool begun, eof, call_done;
        bool restarted; /* the head went on with another call (api_fd_stream_restart) */
        bool missing_ok; /* NoSuchPath is no error: the head hears of it with buf NULL */
};

static void fd_stream_free(void *p) {
        ApiFdStream *s = p;
        if (!s)
                return;
        sd_event_source_disable_unref(s->io);
        sd_bus_slot_unref(s->slot);
        safe_close(s->fd);
        free(s->buf);
        if (s->head_userdata_free)
                s->head_userdata_free(s->head_userdata);
        free(s);
}

int api_body_memfd(ApiConn *c, const char *name, int *ret) {
        if (c->body_fd >= 0) { /* spooled already (body_is_file) */
                _cleanup_close_ int fd = fcntl(c->body_fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return -errno;
                if (lseek(fd, 0, SEEK_SET) < 0)
                        return -errno;
                *ret = TAKE_FD(fd);
                return 0;
        }
        _cleanup_close_ int fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (size_t off = 0; off < c->body_len;) {
                ssize_t k = write(fd, c->body + off, c->body_len - off);
                if (k < 0)
                        return -errno;
                off += (size_t) k;
        }
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        *ret = TAKE_FD(fd);
        return 0;
}

int api_fd_stream_pipe(int *ret_read, int *ret_write) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
                int r = -errno;
                safe_close(p[0]);
                safe_close(p[1]);
                return r;
        }
        *ret_read = p[0];
        *ret_write = p[1];
        return 0;
}

/* Begins the response once the head callback (or any byte, without one) allows. 1 when begun. */
static int try_begin(ApiFdStream *s) {
        ApiConn *c = s->c;
        int r;

        if (s->head) {
                r = s->head(c, s->buf, s->buf_len, s->eof, s->head_userdata);
                if (s->restarted) { /* a new stream to wait for: its head decides */
                        s->restarted = false;
                        return r < 0 ? r : 0;
                }
                if (r <= 0)
                        return r;
        } else {
                r = api_stream_begin(c, 200, s->content_type);
                if (r < 0)
                        return r;
        }
        s->begun = true;
        if (c->streaming && !c->finished && s->buf_len > 0)
                r = api_stream_write(c, s->buf, s->buf_len);
        s->buf = mfree(s->buf);
        s->buf_len = 0;
        return r < 0 ? r : 1;
}

static int finish(ApiFdStream *s) {
        ApiConn *c = s->c;
        if (c->finished)
                return 0;
        if (!s->begun) {
                int r = try_begin(s);
                if (r < 0)
                        return r;
                if (r == 0 && !s->eof) /* restarted */
                        return 0;
                if (r == 0) /* the head never came whole */
                        return api_reply_error(c, 500, "berthd wrote no valid stream");
        }
        return c->streaming && !c->finished ? api_stream_end(c) : 0;
}

static int on_drained(ApiConn *c) {
        ApiFdStream *s = c->userdata;
        c->on_drained = NULL;
        if (s->io && !s->eof && s->fd >= 0)
                return sd_event_source_set_enabled(s->io, SD_EVENT_ON);
        return 0;
}

/* Closes our end and forgets the call: berthd's writer fails on the closed pipe, which nobody needs
 * to hear about. */
static void stop_reading(ApiFdStream *s) {
        s->io = sd_event_source_disable_unref(s->io);
        s->slot = sd_bus_slot_unref(s->slot);
        s->fd = safe_close(s->fd);
        s->eof = s->call_done = true;
}

/* One read; 0 to go on, negative to abort. */
static int fd_stream_read(ApiFdStream *s) {
        ApiConn *c = s->c;
        char buf[FD_STREAM_READ];
        ssize_t n = read(s->fd, buf, sizeof buf);
        int r = 0;

        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n == 0) {
                s->eof = true;
                (void) sd_event_source_set_enabled(s->io, SD_EVENT_OFF);
                /* The writer is done; the call's answer says how it went. */
                return s->call_done ? finish(s) : 0;
        }
        if (!s->begun) {
                if (s->buf_len + (size_t) n > 2 * FD_STREAM_HIGH_WATER)
                        return -EBADMSG;
                char *nb = realloc(s->buf, s->buf_len + (size_t) n);
                if (!nb)
                        return -ENOMEM;
                memcpy(nb + s->buf_len, buf, (size_t) n);
                s->buf = nb;
                s->buf_len += (size_t) n;
                r = try_begin(s);
                if (r <= 0)
                        return r;
        } else if (c->streaming && !c->finished)
                r = api_stream_write(c, buf, (size_t) n);
        if (r < 0)
                return r;
        if (!c->streaming) { /* answered otherwise (a HEAD): the rest is not wanted */
                stop_reading(s);
                return 0;
        }
        if (c->out_len - c->out_off > FD_STREAM_HIGH_WATER) {
                c->on_drained = on_drained;
                return sd_event_source_set_enabled(s->io, SD_EVENT_OFF);
        }
        return 0;
}

static int on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        ApiFdStream *s = userdata;
        ApiConn *c = s->c;
        if (fd_stream_read(s) < 0)
                api_conn_abort(c);
        (void) api_conn_kick(c); /* may free c, and s with it */
        return 0;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ApiFdStream *s = userdata;
        ApiConn *c = s->c;
        int r = 0;

        s->slot = sd_bus_slot_unref(s->slot);
        s->call_done = true;
        if (c->finished || (s->begun && !c->streaming))
                ; /* answered, or gone on with another call */
        else if (sd_bus_message_is_method_error(m, NULL)) {
                if (!s->begun && s->missing_ok &&
                    sd_bus_error_has_name(sd_bus_message_get_error(m), BERTH_ERROR_NO_SUCH_PATH)) {
                        s->missing_ok = false;
                        r = s->head(c, NULL, 0, true, s->head_userdata);
                        if (s->restarted)
                                s->restarted = false;
                        else if (r > 0) {
                                s->begun = true;
                                stop_reading(s);
                                r = 0;
                        } else if (r == 0)
                                r = -EIO;
                } else if (!s->begun && !c->streaming)
                        r = api_reply_bus_error(c, sd_bus_message_get_error(m), -EIO);
                else
                        r = -EIO; /* cut the stream short: the client sees it incomplete */
        } else if (s->eof)
                r = finish(s);
        if (r < 0)
                api_conn_abort(c);
        (void) api_conn_kick(c);
        return 0;
}

int api_fd_stream_start(ApiConn *c, sd_bus_message *m, int read_fd, const char *content_type, api_fd_stream_head_t head,
                        void *head_userdata, void (*head_userdata_free)(void *)) {
        _cleanup_close_ int fd = read_fd;
        ApiFdStream *s = calloc(1, sizeof(ApiFdStream));
        int r;

        if (!s)
                return -ENOMEM;
        *s = (ApiFdStream){
                .c = c,
                .fd = TAKE_FD(fd),
                .content_type = content_type,
                .head = head,
                .head_userdata = head_userdata,
        };
        r = sd_event_add_io(c->server->event, &s->io, s->fd, EPOLLIN, on_io, s);
        if (r >= 0)
                r = sd_bus_call_async(c->server->bus, &s->slot, m, on_reply, s, UINT64_MAX);
        if (r < 0) {
                fd_stream_free(s);
                return r;
        }
        s->head_userdata_free = head_userdata_free; /* only now: on failure it stays the caller's */
        c->userdata = s;
        c->userdata_free = fd_stream_free;
        return 0;
}

int api_fd_stream_restart(ApiConn *c, sd_bus_message *m, int read_fd, api_fd_stream_head_t head, bool missing_ok) {
        _cleanup_close_ int fd = read_fd;
        ApiFdStream *s = c->userdata;
        int r;

        /* The old call and pipe go; the struct stays (we may be inside its callbacks). */
        s->io = sd_event_source_disable_unref(s->io);
        s->slot = sd_bus_slot_unref(s->slot);
        s->fd = safe_close(s->fd);
        s->buf = mfree(s->buf);
        s->buf_len = 0;
        s->fd = TAKE_FD(fd);
        s->head = head;
        s->missing_ok = missing_ok;
        s->eof = s->call_done = false;
        s->restarted = true;
        r = sd_event_add_io(c->server->event, &s->io, s->fd, EPOLLIN, on_io, s);
        if (r >= 0)
                r = sd_bus_call_async(c->server->bus, &s->slot, m, on_reply, s, UINT64_MAX);
        return r;
}
