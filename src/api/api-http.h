/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* A small HTTP/1.1 server on sd-event: http_parser reads, one request at a time per connection
 * (pipelined requests wait), replies either whole (Content-Length) or streamed (chunked). */

#define API_MAX_BODY (16U * 1024U * 1024U)
/* A body that is a file for berthd (a tar to copy, an image to load) goes into a memfd as it
 * comes, up to this. */
#define API_MAX_FILE_BODY (1ULL << 30)
#define API_MAX_OUTPUT    (64U * 1024U * 1024U)
/* How long a connection may take to send a whole request, or stay idle between requests, by
 * default. */
#define API_REQUEST_TIMEOUT_USEC (60ULL * USEC_PER_SEC)

typedef struct ApiServer ApiServer;
typedef struct ApiConn ApiConn;

/* Handles one complete request; replies now or later (a pending D-Bus call). Returns negative errno
 * only when the connection should be dropped. */
typedef int (*api_handler_t)(ApiConn *c);
/* Called with the reply (or error) of a call made with api_call_async(). */
typedef int (*api_reply_handler_t)(ApiConn *c, sd_bus_message *reply);

typedef enum ApiMethod {
        API_GET,
        API_HEAD,
        API_POST,
        API_PUT,
        API_DELETE,
        API_OTHER,
} ApiMethod;

struct ApiServer {
        sd_event *event;
        sd_bus *bus;
        sd_event_source *listen;
        sd_event_source *idle;
        uint64_t idle_usec; /* 0: never exit */
        uint64_t request_timeout_usec;
        unsigned n_conns;
        api_handler_t handler;
        /* Whether the body of this request (method, raw URL) is a file: spooled into body_fd. */
        bool (*body_is_file)(ApiMethod method, const char *url, size_t url_len);
};

struct ApiConn {
        ApiServer *server;
        int fd;
        sd_event_source *io;
        sd_event_source *timer; /* request_timeout_usec while a request is awaited */
        bool timer_armed;
        void *parser; /* http_parser */
        void *settings;

        /* The request */
        ApiMethod method;
        char *url;
        size_t url_len;
        char *body;
        size_t body_len; /* also of a body in body_fd */
        int body_fd; /* a memfd with the body instead of body, or -1 */
        bool body_checked; /* body_is_file() was asked */
        char *path; /* decoded, without the /vX.Y prefix */
        char **query; /* key, value, key, value, ... (decoded) */
        bool complete; /* the whole request is read, a reply is due */
        bool keep_alive;
        unsigned api_minor; /* 41 unless the path asks for less */
        /* X-Registry-Auth (a secret: wiped when the request is done); the header being read */
        char *registry_auth;
        size_t registry_auth_len;
        char header_field[32];
        size_t header_field_len;
        bool header_in_value;

        /* Input read but not parsed yet (a pipelined request) */
        char *in;
        size_t in_len;

        /* The reply */
        char *out;
        size_t out_len, out_off;
        bool streaming;
        bool finished; /* the reply is complete (whole, or its last chunk queued) */
        bool close_after;
        bool eof; /* the peer closed its side */
        bool hijacked; /* after 101 UPGRADED: raw bytes both ways, no more HTTP */
        bool input_passed; /* the socket went to berthd as a container's stdin: do not read it */

        sd_bus_slot *slot; /* a pending call whose reply makes the response */
        api_reply_handler_t async_cb;
        /* While streaming: called when everything queued is written, to queue more. */
        int (*on_drained)(ApiConn *c);
        void *userdata;
        void (*userdata_free)(void *);
};

int api_server_init(ApiServer *s, sd_event *event, sd_bus *bus, int listen_fd, uint64_t idle_usec,
                    uint64_t request_timeout_usec, api_handler_t handler);
void api_server_done(ApiServer *s);

const char *api_query(ApiConn *c, const char *key);
/* A boolean query parameter as Docker reads them: "1", "true", "True" are true. */
bool api_query_bool(ApiConn *c, const char *key);

int api_reply(ApiConn *c, int status, const char *content_type, const void *body, size_t len);
/* extra: more header lines, each ending in "\r\n". */
int api_reply_with_headers(ApiConn *c, int status, const char *content_type, const char *extra, const void *body,
                           size_t len);
int api_reply_json(ApiConn *c, int status, json_object *o);
int api_reply_error(ApiConn *c, int status, const char *format, ...) _printf_(3, 4);
/* The status and {"message"} for a failed call of berthd. */
int api_reply_bus_error(ApiConn *c, const sd_bus_error *error, int r);
int api_bus_error_status(const sd_bus_error *error);

int api_stream_begin(ApiConn *c, int status, const char *content_type);
int api_stream_begin_with_headers(ApiConn *c, int status, const char *content_type, const char *extra);
int api_stream_write(ApiConn *c, const void *data, size_t len);
int api_stream_json(ApiConn *c, json_object *o);
int api_stream_end(ApiConn *c);

/* Sends m; cb answers the request when the reply comes. Unanswered calls are dropped with the
 * connection. */
/* Answers 101 UPGRADED (Docker's attach): from now on the connection carries raw bytes, written
 * with api_raw_write() and ended with api_hijack_end() (which closes it once written). */
int api_hijack(ApiConn *c, const char *content_type);
int api_raw_write(ApiConn *c, const void *data, size_t len);
void api_hijack_end(ApiConn *c);

/* Ends the response in error: an error reply, or a stream cut short (the connection closes). */
void api_conn_abort(ApiConn *c);
/* Writes what is queued and goes on with the connection, after an event the connection did not
 * see (a journal or timer event). c may be freed: returns 1 then. */
int api_conn_kick(ApiConn *c);

int api_call_async(ApiConn *c, sd_bus_message *m, uint64_t timeout, api_reply_handler_t cb);
