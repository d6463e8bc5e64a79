/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The HTTP/1.1 layer of berth-api: connections on sd-event, requests read with http_parser. */
#include <errno.h>
#include <http_parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api-http.h"
#include "config.h"
#include "errors.h"
#include "json-util.h"
#include "util.h"

#define API_READ_AHEAD (1024U * 1024U) /* unparsed input kept while a request is answered */

static int conn_process(ApiConn *c);
static ApiMethod method_of(unsigned m);

static void conn_reset_request(ApiConn *c) {
        c->url = mfree(c->url);
        c->url_len = 0;
        c->body = mfree(c->body);
        c->body_len = 0;
        c->body_fd = safe_close(c->body_fd);
        c->body_checked = false;
        c->path = mfree(c->path);
        strv_free(c->query);
        c->query = NULL;
        c->complete = false;
        c->finished = false;
        c->streaming = false;
        c->async_cb = NULL;
        c->on_drained = NULL;
        c->hijacked = false;
        c->input_passed = false;
        c->out_off = c->out_len = 0;
        c->out = mfree(c->out);
        c->slot = sd_bus_slot_unref(c->slot);
        if (c->userdata_free)
                c->userdata_free(c->userdata);
        c->userdata = NULL;
        c->userdata_free = NULL;
        c->api_minor = 41;
        if (c->registry_auth)
                explicit_bzero(c->registry_auth, c->registry_auth_len);
        c->registry_auth = mfree(c->registry_auth);
        c->registry_auth_len = 0;
        c->header_field_len = 0;
        c->header_in_value = false;
}

#define CONN_FINISHED(c) ((c)->finished)

static void conn_free(ApiConn *c) {
        if (!c)
                return;
        conn_reset_request(c);
        sd_event_source_disable_unref(c->timer);
        sd_event_source_disable_unref(c->io);
        safe_close(c->fd);
        free(c->parser);
        free(c->settings);
        free(c->in);
        if (c->server->n_conns-- == 1 && c->server->idle) {
                (void) sd_event_source_set_time_relative(c->server->idle, c->server->idle_usec);
                (void) sd_event_source_set_enabled(c->server->idle, SD_EVENT_ONESHOT);
        }
        free(c);
}

/* The allocation behind a buffer of len bytes (and its NUL): the next power of two, so that
 * appending is amortized linear. Every buffer here grows through buf_append() only. */
static size_t buf_capacity(size_t len) {
        size_t cap = 64;
        while (cap < len + 1)
                cap *= 2;
        return cap;
}

static int buf_append(char **buf, size_t *len, size_t max, const void *data, size_t n) {
        if (*len + n > max)
                return -E2BIG;
        char *p = *buf;
        if (!p || buf_capacity(*len + n) != buf_capacity(*len)) {
                p = realloc(*buf, buf_capacity(*len + n));
                if (!p)
                        return -ENOMEM;
        }
        memcpy(p + *len, data, n);
        *len += n;
        p[*len] = 0;
        *buf = p;
        return 0;
}

static int out_append(ApiConn *c, const void *data, size_t n) {
        /* Drop what was written already before growing. */
        if (c->out_off > 0) {
                memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
                c->out_len -= c->out_off;
                c->out_off = 0;
        }
        return buf_append(&c->out, &c->out_len, API_MAX_OUTPUT, data, n);
}

static int on_url(http_parser *p, const char *at, size_t n) {
        ApiConn *c = p->data;
        return buf_append(&c->url, &c->url_len, 64 * 1024, at, n) < 0;
}

/* Of the headers only X-Registry-Auth is kept; a name too long for header_field is none we keep. */
static int on_header_field(http_parser *p, const char *at, size_t n) {
        ApiConn *c = p->data;
        if (c->header_in_value) {
                c->header_field_len = 0;
                c->header_in_value = false;
        }
        if (c->header_field_len + n >= sizeof c->header_field) {
                c->header_field_len = sizeof c->header_field;
                return 0;
        }
        memcpy(c->header_field + c->header_field_len, at, n);
        c->header_field_len += n;
        return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
        static const char name[] = "X-Registry-Auth";
        ApiConn *c = p->data;
        c->header_in_value = true;
        if (c->header_field_len != sizeof name - 1 || strncasecmp(c->header_field, name, sizeof name - 1) != 0)
                return 0;
        return buf_append(&c->registry_auth, &c->registry_auth_len, 64 * 1024, at, n) < 0;
}

/* A file for berthd goes into a memfd as it comes; other bodies are kept in memory. */
static int on_body(http_parser *p, const char *at, size_t n) {
        ApiConn *c = p->data;
        if (!c->body_checked) {
                c->body_checked = true;
                if (c->server->body_is_file &&
                    c->server->body_is_file(method_of(p->method), c->url ?: "", c->url ? c->url_len : 0)) {
                        c->body_fd = memfd_create("berth-api-body", MFD_CLOEXEC);
                        if (c->body_fd < 0)
                                return 1;
                }
        }
        if (c->body_fd < 0)
                return buf_append(&c->body, &c->body_len, API_MAX_BODY, at, n) < 0;
        if (n > API_MAX_FILE_BODY - c->body_len)
                return 1;
        while (n > 0) {
                ssize_t k = write(c->body_fd, at, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return 1;
                at += k;
                n -= (size_t) k;
                c->body_len += (size_t) k;
        }
        return 0;
}

static int on_message_complete(http_parser *p) {
        ApiConn *c = p->data;
        c->complete = true;
        http_parser_pause(p, 1);
        return 0;
}

static int unhex(char ch) {
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

/* Percent-decodes; NULL (errno EINVAL) when that would give a NUL byte. */
static char *url_decode(const char *s, size_t n, bool plus_is_space) {
        char *r = malloc(n + 1), *q = r;
        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                int a, b;
                if (s[i] == '%' && i + 2 < n && (a = unhex(s[i + 1])) >= 0 && (b = unhex(s[i + 2])) >= 0) {
                        if (a == 0 && b == 0) {
                                free(r);
                                errno = EINVAL;
                                return NULL;
                        }
                        *q++ = (char) (a * 16 + b);
                        i += 2;
                } else if (s[i] == '+' && plus_is_space)
                        *q++ = ' ';
                else
                        *q++ = s[i];
        }
        *q = 0;
        return r;
}

static int parse_query(ApiConn *c, const char *q, size_t n) {
        while (n > 0) {
                const char *amp = memchr(q, '&', n);
                size_t len = amp ? (size_t) (amp - q) : n;
                const char *eq = memchr(q, '=', len);
                size_t klen = eq ? (size_t) (eq - q) : len;
                _cleanup_free_ char *k = url_decode(q, klen, true);
                _cleanup_free_ char *v = eq ? url_decode(eq + 1, len - klen - 1, true) : strdup("");
                if (!k || !v)
                        return -errno;
                if (strv_push(&c->query, k) < 0 || strv_push(&c->query, v) < 0)
                        return -ENOMEM;
                q += len;
                n -= len;
                if (n > 0) {
                        q++;
                        n--;
                }
        }
        return 0;
}

/* Splits the URL into the path (without a /vX.Y prefix) and the query. Returns the HTTP status of
 * a bad one (400), 0 when it is fine. */
static int parse_target(ApiConn *c) {
        struct http_parser_url u;
        const char *path;
        size_t len;

        http_parser_url_init(&u);
        if (!c->url || http_parser_parse_url(c->url, c->url_len, 0, &u) != 0 || !(u.field_set & (1 << UF_PATH)))
                return 400;
        path = c->url + u.field_data[UF_PATH].off;
        len = u.field_data[UF_PATH].len;
        c->path = url_decode(path, len, false);
        if (!c->path)
                return errno == EINVAL ? 400 : 500;
        if (u.field_set & (1 << UF_QUERY) &&
            parse_query(c, c->url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len) < 0)
                return 400;
        return 0;
}

static ApiMethod method_of(unsigned m) {
        switch (m) {
        case HTTP_GET:
                return API_GET;
        case HTTP_HEAD:
                return API_HEAD;
        case HTTP_POST:
                return API_POST;
        case HTTP_PUT:
                return API_PUT;
        case HTTP_DELETE:
                return API_DELETE;
        default:
                return API_OTHER;
        }
}

const char *api_query(ApiConn *c, const char *key) {
        for (char **q = c->query; q && q[0] && q[1]; q += 2)
                if (streq(q[0], key))
                        return q[1];
        return NULL;
}

bool api_query_bool(ApiConn *c, const char *key) {
        const char *v = api_query(c, key);
        return v && (streq(v, "1") || strcasecmp(v, "true") == 0);
}

static const char *status_text(int status) {
        switch (status) {
        case 101:
                return "UPGRADED";
        case 200:
                return "OK";
        case 201:
                return "Created";
        case 204:
                return "No Content";
        case 304:
                return "Not Modified";
        case 400:
                return "Bad Request";
        case 403:
                return "Forbidden";
        case 404:
                return "Not Found";
        case 405:
                return "Method Not Allowed";
        case 408:
                return "Request Timeout";
        case 409:
                return "Conflict";
        case 413:
                return "Payload Too Large";
        case 414:
                return "URI Too Long";
        case 431:
                return "Request Header Fields Too Large";
        case 501:
                return "Not Implemented";
        case 503:
                return "Service Unavailable";
        default:
                return status >= 500 ? "Internal Server Error" : "Error";
        }
}

/* extra: more header lines, each ending in "\r\n", or "". */
static int append_headers(ApiConn *c, int status, const char *content_type, const char *length_header,
                          const char *extra) {
        _cleanup_free_ char *h = NULL;
        int n = asprintf(&h,
                         "HTTP/1.1 %d %s\r\n"
                         "Api-Version: 1.41\r\n"
                         "Docker-Experimental: false\r\n"
                         "Ostype: linux\r\n"
                         "Server: berth-api/" BERTH_VERSION " (linux)\r\n"
                         "%s%s%s"
                         "%s"
                         "%s"
                         "%s"
                         "\r\n",
                         status, status_text(status), content_type ? "Content-Type: " : "", content_type ?: "",
                         content_type ? "\r\n" : "", length_header, extra,
                         c->close_after ? "Connection: close\r\n" : "");
        if (n < 0)
                return -ENOMEM;
        return out_append(c, h, (size_t) n);
}

static void conn_finish(ApiConn *c) {
        c->finished = true;
}

int api_reply(ApiConn *c, int status, const char *content_type, const void *body, size_t len) {
        return api_reply_with_headers(c, status, content_type, "", body, len);
}

int api_reply_with_headers(ApiConn *c, int status, const char *content_type, const char *extra, const void *body,
                           size_t len) {
        char length[64];
        int r;

        if (c->streaming || CONN_FINISHED(c))
                return -EBUSY;
        /* 204 and 304 have no body and no length. */
        if (status == 204 || status == 304)
                length[0] = 0, len = 0, content_type = NULL;
        else
                snprintf(length, sizeof length, "Content-Length: %zu\r\n", len);
        r = append_headers(c, status, content_type, length, extra);
        if (r >= 0 && len > 0 && c->method != API_HEAD)
                r = out_append(c, body, len);
        conn_finish(c);
        return r;
}

int api_reply_json(ApiConn *c, int status, json_object *o) {
        size_t len;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                          &len);
        if (!s)
                return api_reply_error(c, 500, "out of memory");
        _cleanup_free_ char *line = strjoin(s, "\n");
        if (!line)
                return -ENOMEM;
        return api_reply(c, status, "application/json", line, len + 1);
}

int api_reply_error(ApiConn *c, int status, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        _cleanup_json_ json_object *o = json_object_new_object();
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&msg, format, ap);
        va_end(ap);
        if (r < 0 || !o)
                return -ENOMEM;
        json_object_object_add(o, "message", json_object_new_string(msg));
        return api_reply_json(c, status, o);
}

int api_bus_error_status(const sd_bus_error *error) {
        static const struct {
                const char *name;
                int status;
        } table[] = {
                { BERTH_ERROR_NO_SUCH_CONTAINER, 404 },
                { BERTH_ERROR_NO_SUCH_IMAGE, 404 },
                { BERTH_ERROR_NO_SUCH_VOLUME, 404 },
                { BERTH_ERROR_NO_SUCH_NETWORK, 404 },
                { BERTH_ERROR_NO_SUCH_PATH, 404 },
                { BERTH_ERROR_NAME_IN_USE, 409 },
                { BERTH_ERROR_CONTAINER_RUNNING, 409 },
                { BERTH_ERROR_CONTAINER_NOT_RUNNING, 409 },
                { BERTH_ERROR_CONTAINER_PAUSED, 409 },
                { BERTH_ERROR_CONTAINER_NOT_PAUSED, 409 },
                { BERTH_ERROR_IMAGE_IN_USE, 409 },
                { BERTH_ERROR_VOLUME_IN_USE, 409 },
                { BERTH_ERROR_NETWORK_IN_USE, 409 },
                { BERTH_ERROR_NETWORK_EXISTS, 409 },
                { BERTH_ERROR_PORT_IN_USE, 409 },
                { BERTH_ERROR_ADDRESS_IN_USE, 409 },
                { BERTH_ERROR_BUSY, 409 },
                { BERTH_ERROR_INVALID_NAME, 400 },
                { BERTH_ERROR_INVALID_ARGUMENT, 400 },
                { SD_BUS_ERROR_INVALID_ARGS, 400 },
                { BERTH_ERROR_ACCESS_DENIED, 403 },
                { SD_BUS_ERROR_ACCESS_DENIED, 403 },
                { SD_BUS_ERROR_SERVICE_UNKNOWN, 503 },
                { SD_BUS_ERROR_NAME_HAS_NO_OWNER, 503 },
                { SD_BUS_ERROR_UNKNOWN_METHOD, 501 },
        };
        for (size_t i = 0; error && error->name && i < ELEMENTSOF(table); i++)
                if (streq(error->name, table[i].name))
                        return table[i].status;
        return 500;
}

int api_reply_bus_error(ApiConn *c, const sd_bus_error *error, int r) {
        if (error && error->message)
                return api_reply_error(c, api_bus_error_status(error), "%s", error->message);
        return api_reply_error(c, 500, "%s", strerror(-r));
}

int api_stream_begin(ApiConn *c, int status, const char *content_type) {
        return api_stream_begin_with_headers(c, status, content_type, "");
}

int api_stream_begin_with_headers(ApiConn *c, int status, const char *content_type, const char *extra) {
        if (c->streaming || CONN_FINISHED(c))
                return -EBUSY;
        int r = append_headers(c, status, content_type, c->method == API_HEAD ? "" : "Transfer-Encoding: chunked\r\n",
                               extra);
        if (r < 0)
                return r;
        c->streaming = true;
        if (c->method == API_HEAD)
                conn_finish(c);
        return 0;
}

int api_stream_write(ApiConn *c, const void *data, size_t len) {
        char size[32];
        int r;

        if (!c->streaming || CONN_FINISHED(c))
                return -EBUSY;
        if (len == 0)
                return 0;
        snprintf(size, sizeof size, "%zx\r\n", len);
        r = out_append(c, size, strlen(size));
        if (r >= 0)
                r = out_append(c, data, len);
        if (r >= 0)
                r = out_append(c, "\r\n", 2);
        return r;
}

int api_stream_json(ApiConn *c, json_object *o) {
        size_t len;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                          &len);
        if (!s)
                return -ENOMEM;
        _cleanup_free_ char *line = strjoin(s, "\n");
        return line ? api_stream_write(c, line, len + 1) : -ENOMEM;
}

int api_stream_end(ApiConn *c) {
        if (!c->streaming || CONN_FINISHED(c))
                return -EBUSY;
        conn_finish(c);
        return out_append(c, "0\r\n\r\n", 5);
}

/* Answers a request the parser refused, then closes. */
static void reply_parse_error(ApiConn *c, enum http_errno e, bool file_body) {
        c->close_after = true;
        c->method = API_GET;
        if (e == HPE_HEADER_OVERFLOW)
                (void) api_reply_error(c, 431, "request header fields too large");
        else if (e == HPE_CB_body)
                (void) api_reply_error(c, 413, "request body too large (at most %llu bytes)",
                                       file_body ? API_MAX_FILE_BODY : (unsigned long long) API_MAX_BODY);
        else if (e == HPE_CB_url)
                (void) api_reply_error(c, 414, "request target too long");
        else
                (void) api_reply_error(c, 400, "malformed HTTP request: %s", http_errno_description(e));
}

/* Feeds the unparsed input to the parser; when a request is complete, calls the handler. */
static void conn_parse(ApiConn *c) {
        http_parser *p = c->parser;
        size_t n = http_parser_execute(p, c->settings, c->in, c->in_len);
        enum http_errno e = HTTP_PARSER_ERRNO(p);

        if (e == HPE_PAUSED) {
                http_parser_pause(p, 0);
                e = HPE_OK;
        }
        if (n > c->in_len)
                n = c->in_len;
        memmove(c->in, c->in + n, c->in_len - n);
        c->in_len -= n;
        if (e != HPE_OK) {
                bool file_body = c->body_fd >= 0;
                c->in_len = 0;
                conn_reset_request(c);
                reply_parse_error(c, e, file_body);
                return;
        }
        if (!c->complete)
                return;

        c->method = method_of(p->method);
        c->keep_alive = http_should_keep_alive(p);
        if (!c->keep_alive)
                c->close_after = true;
        int status = parse_target(c);
        if (status != 0) {
                (void) api_reply_error(c, status, "invalid request target");
                return;
        }
        if (c->server->handler(c) < 0) {
                c->close_after = true;
                if (!c->streaming && !CONN_FINISHED(c))
                        (void) api_reply_error(c, 500, "internal error");
                else if (c->streaming && !CONN_FINISHED(c))
                        conn_finish(c); /* cut the stream short: closing tells the client */
        }
}

static int conn_flush(ApiConn *c) {
        while (c->out_off < c->out_len) {
                ssize_t k = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        return -errno;
                }
                c->out_off += (size_t) k;
        }
        return 0;
}

/* Does what can be done now: writes, finishes a reply, parses the next request. Frees c (and
 * returns 1) when the connection is over. */
static int conn_process(ApiConn *c) {
        for (;;) {
                if (conn_flush(c) < 0) {
                        conn_free(c);
                        return 1;
                }
                if (c->out_off < c->out_len)
                        break;
                if (CONN_FINISHED(c)) {
                        if (c->close_after) {
                                (void) shutdown(c->fd, SHUT_WR);
                                conn_free(c);
                                return 1;
                        }
                        conn_reset_request(c);
                        continue;
                }
                if ((c->streaming || c->hijacked) && c->on_drained) {
                        /* The stream's producer waited for room: give it some. */
                        size_t before = c->out_len - c->out_off;
                        if (c->on_drained(c) < 0)
                                api_conn_abort(c);
                        if (c->out_len - c->out_off != before || CONN_FINISHED(c))
                                continue;
                }
                if (!c->complete && c->in_len > 0 && !c->hijacked) {
                        conn_parse(c);
                        if (c->complete || CONN_FINISHED(c) || c->streaming)
                                continue;
                }
                break;
        }
        /* Gone: nobody waits for this answer any more. A stream (wait, logs) ends with it too. */
        if (c->eof && !c->hijacked && ((!c->complete && !CONN_FINISHED(c)) || (c->streaming && !CONN_FINISHED(c)))) {
                conn_free(c);
                return 1;
        }
        if (c->eof) /* a half-closed client still gets its answer */
                c->close_after = true;

        /* Waiting for a request (or the rest of one): only so long. */
        bool waiting = !c->complete && !c->hijacked && !c->streaming && !CONN_FINISHED(c);
        if (waiting && !c->timer_armed) {
                (void) sd_event_source_set_time_relative(c->timer, c->server->request_timeout_usec);
                (void) sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
        } else if (!waiting)
                (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        c->timer_armed = waiting;

        uint32_t events = 0;
        if (!c->eof && c->in_len < API_READ_AHEAD && !c->input_passed)
                events |= EPOLLIN;
        if (c->out_off < c->out_len)
                events |= EPOLLOUT;
        (void) sd_event_source_set_io_events(c->io, events);
        return 0;
}

int api_hijack(ApiConn *c, const char *content_type) {
        _cleanup_free_ char *h = NULL;
        int n;

        if (c->streaming || CONN_FINISHED(c))
                return -EBUSY;
        n = asprintf(&h,
                     "HTTP/1.1 101 UPGRADED\r\n"
                     "Api-Version: 1.41\r\n"
                     "Content-Type: %s\r\n"
                     "Connection: Upgrade\r\n"
                     "Upgrade: tcp\r\n"
                     "\r\n",
                     content_type);
        if (n < 0)
                return -ENOMEM;
        c->hijacked = true;
        c->in_len = 0; /* what came after the request is no request */
        return out_append(c, h, (size_t) n);
}

int api_raw_write(ApiConn *c, const void *data, size_t len) {
        if (!c->hijacked || CONN_FINISHED(c))
                return -EBUSY;
        return out_append(c, data, len);
}

void api_hijack_end(ApiConn *c) {
        c->close_after = true;
        conn_finish(c);
}

void api_conn_abort(ApiConn *c) {
        c->close_after = true;
        if (!c->streaming && !CONN_FINISHED(c))
                (void) api_reply_error(c, 500, "internal error");
        else
                conn_finish(c);
}

int api_conn_kick(ApiConn *c) {
        return conn_process(c);
}

static int on_async_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ApiConn *c = userdata;
        api_reply_handler_t cb = c->async_cb;

        c->slot = sd_bus_slot_unref(c->slot);
        c->async_cb = NULL;
        if (cb(c, m) < 0) {
                c->close_after = true;
                if (!c->streaming && !CONN_FINISHED(c))
                        (void) api_reply_error(c, 500, "internal error");
                else if (!CONN_FINISHED(c))
                        conn_finish(c);
        }
        (void) conn_process(c);
        return 0;
}

int api_call_async(ApiConn *c, sd_bus_message *m, uint64_t timeout, api_reply_handler_t cb) {
        int r = sd_bus_call_async(c->server->bus, &c->slot, m, on_async_reply, c, timeout);
        if (r < 0)
                return r;
        c->async_cb = cb;
        return 0;
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ApiConn *c = userdata;

        if (c->hijacked && (revents & (EPOLLHUP | EPOLLERR))) {
                /* The client closed both ways (a half-close is no HUP): nobody reads the output. */
                conn_free(c);
                return 0;
        }
        if (c->hijacked) {
                /* With input_passed the socket is the container's stdin: its bytes are not ours. */
                if (c->input_passed || !(revents & EPOLLIN)) {
                        (void) conn_process(c);
                        return 0;
                }
                char buf[4096];
                ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (k < 0 && errno != EAGAIN && errno != EINTR) {
                        conn_free(c);
                        return 0;
                }
                if (k == 0)
                        c->eof = true; /* a half-close: the output still goes out */
        } else if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                char buf[16384];
                ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (k < 0 && errno != EAGAIN && errno != EINTR) {
                        conn_free(c);
                        return 0;
                }
                if (k == 0)
                        c->eof = true;
                else if (k > 0 && buf_append(&c->in, &c->in_len, 2 * API_READ_AHEAD, buf, (size_t) k) < 0) {
                        conn_free(c);
                        return 0;
                }
        }
        (void) conn_process(c);
        return 0;
}

/* A request did not come, or not whole, in time (a slow-loris client, or an idle keep-alive
 * connection): 408 and close. */
static int on_request_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        ApiConn *c = userdata;
        c->timer_armed = false;
        if (c->complete || c->hijacked || c->streaming || CONN_FINISHED(c))
                return 0;
        c->close_after = true;
        c->in_len = 0;
        if (c->url || c->body_len > 0 || ((http_parser *) c->parser)->nread > 0) {
                conn_reset_request(c);
                c->method = API_GET;
                (void) api_reply_error(c, 408, "the request did not arrive in time");
        } else
                conn_finish(c); /* nothing was asked: just close */
        (void) conn_process(c);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ApiServer *srv = userdata;
        _cleanup_close_ int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;

        ApiConn *c = calloc(1, sizeof(ApiConn));
        http_parser *p = calloc(1, sizeof(http_parser));
        http_parser_settings *settings = calloc(1, sizeof(http_parser_settings));
        if (!c || !p || !settings) {
                free(c);
                free(p);
                free(settings);
                return 0;
        }
        http_parser_init(p, HTTP_REQUEST);
        p->data = c;
        settings->on_url = on_url;
        settings->on_body = on_body;
        settings->on_header_field = on_header_field;
        settings->on_header_value = on_header_value;
        settings->on_message_complete = on_message_complete;
        c->body_fd = -1;
        c->server = srv;
        c->parser = p;
        c->settings = settings;
        c->api_minor = 41;
        c->fd = TAKE_FD(cfd);
        srv->n_conns++;
        if (srv->idle)
                (void) sd_event_source_set_enabled(srv->idle, SD_EVENT_OFF);
        if (sd_event_add_io(srv->event, &c->io, c->fd, EPOLLIN, on_conn_io, c) < 0 ||
            sd_event_add_time_relative(srv->event, &c->timer, CLOCK_MONOTONIC, srv->request_timeout_usec, 0,
                                       on_request_timeout, c) < 0) {
                conn_free(c);
                return 0;
        }
        c->timer_armed = true;
        return 0;
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata) {
        ApiServer *srv = userdata;
        if (srv->n_conns == 0)
                return sd_event_exit(srv->event, 0);
        return 0;
}

int api_server_init(ApiServer *s, sd_event *event, sd_bus *bus, int listen_fd, uint64_t idle_usec,
                    uint64_t request_timeout_usec, api_handler_t handler) {
        int r;

        *s = (ApiServer){ .event = event,
                          .bus = bus,
                          .idle_usec = idle_usec,
                          .request_timeout_usec = request_timeout_usec ?: API_REQUEST_TIMEOUT_USEC,
                          .handler = handler };
        r = sd_event_add_io(event, &s->listen, listen_fd, EPOLLIN, on_accept, s);
        if (r < 0)
                return r;
        if (idle_usec > 0) {
                r = sd_event_add_time_relative(event, &s->idle, CLOCK_MONOTONIC, idle_usec, 0, on_idle, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

void api_server_done(ApiServer *s) {
        s->listen = sd_event_source_disable_unref(s->listen);
        s->idle = sd_event_source_disable_unref(s->idle);
}
