/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Queries come in on a network's listener (UDP datagrams, or TCP connections carrying messages
 * framed by a 2-byte length). One lookup() knows is answered at once; any other becomes a Query:
 * the client's message, given an ID of our own, sent over a connected UDP socket of its own to the
 * first upstream (a fresh source port per query, and the kernel drops datagrams from anyone but
 * that upstream), then to the next one on timeout or ICMP error. The first answer that matches the
 * ID and question goes back to the client with the client's ID; after the last upstream the
 * client gets SERVFAIL. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "dns-packet.h"
#include "dns-server.h"
#include "macro.h"
#include "util.h"

#define LOOKUP_MAX         32 /* addresses asked of lookup() */
#define UDP_BURST          32 /* datagrams read per wake-up, so one busy listener does not starve the rest */
#define TCP_LISTEN_BACKLOG 16

typedef union SockaddrUnion {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_storage storage;
} SockaddrUnion;

typedef struct Upstream {
        SockaddrUnion addr;
        socklen_t len;
} Upstream;

typedef struct UpstreamList {
        Upstream a[DNS_SERVER_UPSTREAMS_MAX];
        size_t n;
} UpstreamList;

typedef struct ClientUpstreams {
        struct ClientUpstreams *next;
        char *network_id;
        struct in_addr client;
        UpstreamList list;
} ClientUpstreams;

typedef struct Listener {
        DnsServer *server;
        struct Listener *next;
        char *network_id;
        struct sockaddr_in addr;
        int udp_fd, tcp_fd;
        sd_event_source *udp_source, *tcp_source;
} Listener;

typedef struct Query Query;

typedef struct TcpConn {
        DnsServer *server;
        Listener *listener;
        struct TcpConn *prev, *next;
        int fd;
        struct sockaddr_in peer;
        sd_event_source *io, *timer;
        uint8_t *in; /* 2 + DNS_PACKET_MAX bytes */
        size_t in_len;
        uint8_t *out;
        size_t out_len, out_done;
        bool eof;
        Query *query; /* being forwarded; the connection reads nothing meanwhile */
} TcpConn;

/* Where an answer goes: a UDP client of a listener, or a TCP connection. */
typedef struct Client {
        Listener *listener;
        struct sockaddr_in addr;
        TcpConn *conn;
} Client;

struct Query {
        DnsServer *server;
        Query *prev, *next;
        Client client;
        DnsQuestion question;
        uint8_t *packet;
        size_t len;
        uint16_t upstream_id;
        UpstreamList upstreams;
        size_t next_upstream;
        int fd;
        sd_event_source *io, *timer;
};

struct DnsServer {
        sd_event *event;
        DnsLookupFn lookup;
        void *userdata;
        Listener *listeners;
        UpstreamList upstreams;
        ClientUpstreams *client_upstreams;
        Query *queries;
        size_t n_queries;
        TcpConn *conns;
        size_t n_conns;
        uint64_t timeout_usec;
        uint8_t buf[DNS_PACKET_MAX + 1]; /* what was received */
        uint8_t out[DNS_PACKET_MAX]; /* what is sent */
};

static uint64_t now_usec(DnsServer *s) {
        uint64_t t = 0;
        (void) sd_event_now(s->event, CLOCK_MONOTONIC, &t);
        return t;
}

static uint16_t random_u16(void) {
        uint16_t v;
        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t) sizeof(v))
                return v;
        return (uint16_t) random();
}

/* (Re)arms a one-shot timer for now + usec. */
static int arm_timer(DnsServer *s, sd_event_source **timer, uint64_t usec, sd_event_time_handler_t handler,
                     void *userdata) {
        uint64_t when = now_usec(s) + usec;
        int r;

        if (*timer) {
                r = sd_event_source_set_time(*timer, when);
                if (r >= 0)
                        r = sd_event_source_set_enabled(*timer, SD_EVENT_ONESHOT);
                return r;
        }
        return sd_event_add_time(s->event, timer, CLOCK_MONOTONIC, when, 0, handler, userdata);
}

/* ---- upstream lists ---- */

/* "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53", "fe80::1%eth0". Only numeric: getaddrinfo() does
 * not block then. */
static int upstream_parse(const char *s, Upstream *ret) {
        _cleanup_free_ char *host = NULL;
        const char *port = "53";
        struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_DGRAM };
        struct addrinfo *ai = NULL;

        if (s[0] == '[') {
                const char *e = strchr(s, ']');
                if (!e || (e[1] != 0 && e[1] != ':'))
                        return -EINVAL;
                host = strndup(s + 1, (size_t) (e - s - 1));
                if (e[1] == ':')
                        port = e + 2;
        } else {
                const char *c = strchr(s, ':');
                if (c && !strchr(c + 1, ':')) {
                        host = strndup(s, (size_t) (c - s));
                        port = c + 1;
                } else
                        host = strdup(s);
        }
        if (!host)
                return -ENOMEM;
        if (isempty(host) || isempty(port) || getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
                return -EINVAL;
        if (ai->ai_addrlen > sizeof(ret->addr) || (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)) {
                freeaddrinfo(ai);
                return -EINVAL;
        }
        *ret = (Upstream){ .len = ai->ai_addrlen };
        memcpy(&ret->addr, ai->ai_addr, ai->ai_addrlen);
        freeaddrinfo(ai);
        return 0;
}

static int upstream_list_parse(char *const *servers, UpstreamList *ret) {
        UpstreamList l = {};

        for (char *const *s = servers; s && *s; s++) {
                if (l.n >= DNS_SERVER_UPSTREAMS_MAX)
                        break;
                int r = upstream_parse(*s, &l.a[l.n]);
                if (r < 0)
                        return r;
                l.n++;
        }
        *ret = l;
        return 0;
}

static Listener *listener_by_address(DnsServer *s, const Upstream *u) {
        if (u->addr.sa.sa_family != AF_INET)
                return NULL;
        for (Listener *l = s->listeners; l; l = l->next)
                if (l->addr.sin_addr.s_addr == u->addr.in.sin_addr.s_addr && l->addr.sin_port == u->addr.in.sin_port)
                        return l;
        return NULL;
}

static ClientUpstreams *client_upstreams_find(DnsServer *s, const char *network_id, struct in_addr client) {
        for (ClientUpstreams *c = s->client_upstreams; c; c = c->next)
                if (c->client.s_addr == client.s_addr && streq(c->network_id, network_id))
                        return c;
        return NULL;
}

/* The upstreams for a query from c, without our own listeners (a query sent to itself would
 * only come back until the pending queries ran out). */
static void upstreams_for(DnsServer *s, const Client *c, UpstreamList *ret) {
        struct in_addr from = c->conn ? c->conn->peer.sin_addr : c->addr.sin_addr;
        ClientUpstreams *cu = client_upstreams_find(s, c->listener->network_id, from);
        const UpstreamList *src = cu ? &cu->list : &s->upstreams;

        ret->n = 0;
        for (size_t i = 0; i < src->n; i++)
                if (!listener_by_address(s, &src->a[i]))
                        ret->a[ret->n++] = src->a[i];
}

/* ---- answers ---- */

static void tcp_conn_send(TcpConn *conn, const uint8_t *p, size_t len);

static void reply(DnsServer *s, const Client *c, const uint8_t *p, size_t len) {
        if (c->conn) {
                tcp_conn_send(c->conn, p, len);
                return;
        }
        /* A client that does not read its socket loses the answer, as UDP would anyway. */
        (void) sendto(c->listener->udp_fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *) &c->addr,
                      sizeof(c->addr));
}

static void reply_rcode(DnsServer *s, const Client *c, const uint8_t *query, size_t len, const DnsQuestion *q,
                        int rcode) {
        int l = dns_packet_build_rcode(query, len, q, rcode, s->out, c->conn ? DNS_PACKET_MAX : DNS_UDP_MAX);
        if (l < 0 && q) /* the question too long for UDP: the header alone */
                l = dns_packet_build_rcode(query, len, NULL, rcode, s->out, DNS_UDP_MAX);
        if (l > 0)
                reply(s, c, s->out, (size_t) l);
}

/* ---- forwarded queries ---- */

static void query_free(Query *q) {
        DnsServer *s = q->server;

        if (q->prev)
                q->prev->next = q->next;
        else
                s->queries = q->next;
        if (q->next)
                q->next->prev = q->prev;
        s->n_queries--;
        if (q->client.conn)
                q->client.conn->query = NULL;
        sd_event_source_disable_unref(q->io);
        sd_event_source_disable_unref(q->timer);
        safe_close(q->fd);
        free(q->packet);
        free(q);
}

static void tcp_conn_resume(TcpConn *conn);

/* The query's end: answered (or SERVFAIL sent) and freed. A TCP connection goes on reading, unless
 * this happens inside forward(), called from tcp_conn_process() which goes on by itself. */
static void query_finish(Query *q, const uint8_t *answer, size_t len, bool resume) {
        DnsServer *s = q->server;
        TcpConn *conn = q->client.conn;

        if (answer)
                reply(s, &q->client, answer, len);
        else
                reply_rcode(s, &q->client, q->packet, q->len, &q->question, DNS_RCODE_SERVFAIL);
        query_free(q);
        if (conn && resume)
                tcp_conn_resume(conn);
}

static int on_query_io(sd_event_source *source, int fd, uint32_t revents, void *userdata);
static int on_query_timer(sd_event_source *source, uint64_t usec, void *userdata);

/* Sends the query to its next upstream; SERVFAIL when none is left. */
static void query_send_next(Query *q, bool resume) {
        DnsServer *s = q->server;

        q->io = sd_event_source_disable_unref(q->io);
        q->fd = safe_close(q->fd);
        while (q->next_upstream < q->upstreams.n) {
                const Upstream *u = &q->upstreams.a[q->next_upstream++];
                _cleanup_close_ int fd = socket(u->addr.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

                if (fd < 0 || connect(fd, &u->addr.sa, u->len) < 0 ||
                    send(fd, q->packet, q->len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t) q->len)
                        continue;
                if (sd_event_add_io(s->event, &q->io, fd, EPOLLIN, on_query_io, q) < 0)
                        continue;
                if (arm_timer(s, &q->timer, s->timeout_usec, on_query_timer, q) < 0) {
                        q->io = sd_event_source_disable_unref(q->io);
                        continue;
                }
                q->fd = TAKE_FD(fd);
                return;
        }
        query_finish(q, NULL, 0, resume);
}

static int on_query_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        query_send_next(userdata, true);
        return 0;
}

static int on_query_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Query *q = userdata;
        DnsServer *s = q->server;

        for (;;) {
                ssize_t n = recv(fd, s->buf, sizeof(s->buf), MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        query_send_next(q, true); /* ECONNREFUSED (ICMP port unreachable), ... */
                        return 0;
                }
                if (!dns_packet_is_answer_to(s->buf, (size_t) n, q->upstream_id, &q->question))
                        continue; /* late, spoofed or garbage: keep waiting */
                (void) dns_packet_set_id(s->buf, (size_t) n, q->question.id);
                query_finish(q, s->buf, (size_t) n, true);
                return 0;
        }
}

static void forward(DnsServer *s, const Client *c, const uint8_t *packet, size_t len, const DnsQuestion *question) {
        Query *q;

        if (s->n_queries >= DNS_SERVER_PENDING_MAX) {
                reply_rcode(s, c, packet, len, question, DNS_RCODE_SERVFAIL);
                return;
        }
        q = calloc(1, sizeof(*q));
        if (!q) {
                reply_rcode(s, c, packet, len, question, DNS_RCODE_SERVFAIL);
                return;
        }
        *q = (Query){ .server = s, .client = *c, .question = *question, .len = len, .fd = -1 };
        upstreams_for(s, c, &q->upstreams);
        if (q->upstreams.n == 0) {
                free(q);
                reply_rcode(s, c, packet, len, question, DNS_RCODE_REFUSED);
                return;
        }
        q->packet = malloc(len);
        if (!q->packet) {
                free(q);
                reply_rcode(s, c, packet, len, question, DNS_RCODE_SERVFAIL);
                return;
        }
        memcpy(q->packet, packet, len);
        q->upstream_id = random_u16();
        (void) dns_packet_set_id(q->packet, len, q->upstream_id);

        q->next = s->queries;
        if (s->queries)
                s->queries->prev = q;
        s->queries = q;
        s->n_queries++;
        if (c->conn)
                c->conn->query = q;
        query_send_next(q, false); /* may end it at once */
}

/* A message from a client: answered, forwarded, or (not a query) dropped. */
static void handle_message(DnsServer *s, const Client *c, const uint8_t *packet, size_t len) {
        struct in_addr addrs[LOOKUP_MAX];
        size_t limit = c->conn ? DNS_PACKET_MAX : DNS_UDP_MAX;
        DnsQuestion q;
        int r, l;

        r = dns_question_parse(packet, len, &q);
        if (r == -EOPNOTSUPP || r == -EPROTO) {
                reply_rcode(s, c, packet, len, NULL, r == -EOPNOTSUPP ? DNS_RCODE_NOTIMP : DNS_RCODE_FORMERR);
                return;
        }
        if (r < 0)
                return;

        if (q.name_plain && q.name[0] && (q.qclass == DNS_CLASS_IN || q.qclass == DNS_CLASS_ANY)) {
                r = s->lookup(s->userdata, c->listener->network_id, q.name, addrs, ELEMENTSOF(addrs));
                if (r < 0) {
                        reply_rcode(s, c, packet, len, &q, DNS_RCODE_SERVFAIL);
                        return;
                }
                if (r > 0) {
                        size_t n = (size_t) r > ELEMENTSOF(addrs) ? ELEMENTSOF(addrs) : (size_t) r;
                        if (q.qtype == DNS_TYPE_A || q.qtype == DNS_TYPE_ANY)
                                l = dns_packet_build_a(packet, &q, addrs, n, DNS_SERVER_TTL, s->out, limit);
                        else
                                l = dns_packet_build_rcode(packet, len, &q, DNS_RCODE_NOERROR, s->out, limit);
                        if (l > 0)
                                reply(s, c, s->out, (size_t) l);
                        return;
                }
        }
        forward(s, c, packet, len, &q);
}

/* ---- UDP ---- */

static int on_udp(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Listener *l = userdata;
        DnsServer *s = l->server;

        for (unsigned i = 0; i < UDP_BURST; i++) {
                Client c = { .listener = l };
                socklen_t alen = sizeof(c.addr);
                ssize_t n = recvfrom(fd, s->buf, sizeof(s->buf), MSG_DONTWAIT, (struct sockaddr *) &c.addr, &alen);
                if (n < 0)
                        return 0; /* EAGAIN, or an error the next datagram will not have */
                if (alen != sizeof(c.addr) || c.addr.sin_family != AF_INET)
                        continue;
                handle_message(s, &c, s->buf, (size_t) n);
                /* handle_message() may not free the listener: only remove_listener() does. */
        }
        return 0;
}

/* ---- TCP ---- */

static void tcp_conn_free(TcpConn *conn) {
        DnsServer *s = conn->server;

        if (conn->query) {
                conn->query->client.conn = NULL; /* no resume of what is being freed */
                query_free(conn->query);
        }
        if (conn->prev)
                conn->prev->next = conn->next;
        else
                s->conns = conn->next;
        if (conn->next)
                conn->next->prev = conn->prev;
        s->n_conns--;
        sd_event_source_disable_unref(conn->io);
        sd_event_source_disable_unref(conn->timer);
        safe_close(conn->fd);
        free(conn->in);
        free(conn->out);
        free(conn);
}

static void tcp_conn_send(TcpConn *conn, const uint8_t *p, size_t len) {
        uint8_t *out;

        if (conn->out || len > DNS_PACKET_MAX)
                return; /* one message at a time: not reached */
        out = malloc(2 + len);
        if (!out)
                return; /* the client times out */
        out[0] = (uint8_t) (len >> 8);
        out[1] = (uint8_t) len;
        memcpy(out + 2, p, len);
        conn->out = out;
        conn->out_len = 2 + len;
        conn->out_done = 0;
}

/* Works through what has come in: one message at a time, until one is being forwarded, an answer
 * waits to be written, or no whole message is left. Then watches for what it waits for. Returns
 * false when it freed the connection. */
static bool tcp_conn_process(TcpConn *conn) {
        DnsServer *s = conn->server;

        while (!conn->query && !conn->out && conn->in_len >= 2) {
                size_t len = (size_t) conn->in[0] << 8 | conn->in[1];
                if (len < DNS_HEADER_SIZE) {
                        tcp_conn_free(conn);
                        return false;
                }
                if (conn->in_len < 2 + len)
                        break;
                Client c = { .listener = conn->listener, .conn = conn };
                handle_message(s, &c, conn->in + 2, len); /* copies what it keeps */
                conn->in_len -= 2 + len;
                memmove(conn->in, conn->in + 2 + len, conn->in_len);
        }
        if (!conn->query && !conn->out && conn->eof) {
                tcp_conn_free(conn);
                return false;
        }
        if (conn->query) {
                (void) sd_event_source_set_enabled(conn->io, SD_EVENT_OFF);
                (void) sd_event_source_set_enabled(conn->timer, SD_EVENT_OFF);
                return true;
        }
        if (sd_event_source_set_io_events(conn->io, conn->out ? EPOLLOUT : EPOLLIN) < 0 ||
            sd_event_source_set_enabled(conn->io, SD_EVENT_ON) < 0 ||
            sd_event_source_set_enabled(conn->timer, SD_EVENT_ONESHOT) < 0) {
                tcp_conn_free(conn);
                return false;
        }
        return true;
}

static int on_conn_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        tcp_conn_free(userdata);
        return 0;
}

static void tcp_conn_resume(TcpConn *conn) {
        if (arm_timer(conn->server, &conn->timer, DNS_SERVER_TCP_TIMEOUT_USEC, on_conn_timer, conn) < 0) {
                tcp_conn_free(conn);
                return;
        }
        (void) tcp_conn_process(conn);
}

static int on_conn_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        TcpConn *conn = userdata;

        if (conn->out) {
                ssize_t n = send(fd, conn->out + conn->out_done, conn->out_len - conn->out_done,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                tcp_conn_free(conn);
                        return 0;
                }
                conn->out_done += (size_t) n;
                if (conn->out_done < conn->out_len)
                        return 0;
                conn->out = mfree(conn->out);
                /* A new idle period starts with each answer sent. */
                tcp_conn_resume(conn);
                return 0;
        }

        size_t room = 2 + DNS_PACKET_MAX - conn->in_len;
        if (room == 0) { /* a whole message is there: not reached, tcp_conn_process() took it */
                (void) tcp_conn_process(conn);
                return 0;
        }
        ssize_t n = recv(fd, conn->in + conn->in_len, room, MSG_DONTWAIT);
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        tcp_conn_free(conn);
                return 0;
        }
        if (n == 0)
                conn->eof = true;
        conn->in_len += (size_t) n;
        (void) tcp_conn_process(conn);
        return 0;
}

static int tcp_conn_new(Listener *l, int fd, const struct sockaddr_in *peer) {
        DnsServer *s = l->server;
        _cleanup_close_ int fd_close = fd;
        TcpConn *conn = calloc(1, sizeof(*conn));
        int r;

        if (!conn)
                return -ENOMEM;
        *conn = (TcpConn){ .server = s, .listener = l, .fd = TAKE_FD(fd_close), .peer = *peer };
        conn->next = s->conns;
        if (s->conns)
                s->conns->prev = conn;
        s->conns = conn;
        s->n_conns++;

        conn->in = malloc(2 + DNS_PACKET_MAX);
        if (!conn->in) {
                tcp_conn_free(conn);
                return -ENOMEM;
        }
        r = sd_event_add_io(s->event, &conn->io, conn->fd, EPOLLIN, on_conn_io, conn);
        if (r >= 0)
                r = arm_timer(s, &conn->timer, DNS_SERVER_TCP_TIMEOUT_USEC, on_conn_timer, conn);
        if (r < 0) {
                tcp_conn_free(conn);
                return r;
        }
        return 0;
}

static int on_tcp_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Listener *l = userdata;

        for (unsigned i = 0; i < TCP_LISTEN_BACKLOG; i++) {
                struct sockaddr_in peer = {};
                socklen_t alen = sizeof(peer);
                int cfd = accept4(fd, (struct sockaddr *) &peer, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0)
                        return 0;
                /* Over the limit: closed at once, rather than left to fill the backlog. */
                if (l->server->n_conns >= DNS_SERVER_TCP_MAX || alen != sizeof(peer)) {
                        safe_close(cfd);
                        continue;
                }
                (void) tcp_conn_new(l, cfd, &peer);
        }
        return 0;
}

/* ---- listeners ---- */

static void listener_free(Listener *l) {
        DnsServer *s = l->server;

        for (TcpConn *c = s->conns, *next; c; c = next) {
                next = c->next;
                if (c->listener == l)
                        tcp_conn_free(c);
        }
        for (Query *q = s->queries, *next; q; q = next) {
                next = q->next;
                if (q->client.listener == l)
                        query_free(q);
        }
        sd_event_source_disable_unref(l->udp_source);
        sd_event_source_disable_unref(l->tcp_source);
        safe_close(l->udp_fd);
        safe_close(l->tcp_fd);
        free(l->network_id);
        free(l);
}

static int listener_socket(const struct sockaddr_in *addr, int type) {
        _cleanup_close_ int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;

        if (fd < 0)
                return -errno;
        if (setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0)
                return -errno;
        if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (bind(fd, (const struct sockaddr *) addr, sizeof(*addr)) < 0)
                return -errno;
        if (type == SOCK_STREAM && listen(fd, TCP_LISTEN_BACKLOG) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int dns_server_add_listener_port(DnsServer *s, const char *network_id, struct in_addr address, uint16_t port) {
        Listener *l;
        int r;

        for (l = s->listeners; l; l = l->next)
                if (streq(l->network_id, network_id))
                        return -EEXIST;
        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        *l = (Listener){ .server = s,
                         .udp_fd = -1,
                         .tcp_fd = -1,
                         .addr = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = address },
                         .network_id = strdup(network_id) };
        if (!l->network_id) {
                listener_free(l);
                return -ENOMEM;
        }
        r = l->udp_fd = listener_socket(&l->addr, SOCK_DGRAM);
        if (r >= 0)
                r = l->tcp_fd = listener_socket(&l->addr, SOCK_STREAM);
        if (r >= 0)
                r = sd_event_add_io(s->event, &l->udp_source, l->udp_fd, EPOLLIN, on_udp, l);
        if (r >= 0)
                r = sd_event_add_io(s->event, &l->tcp_source, l->tcp_fd, EPOLLIN, on_tcp_accept, l);
        if (r < 0) {
                listener_free(l);
                return r;
        }
        (void) sd_event_source_set_description(l->udp_source, "dns-udp");
        (void) sd_event_source_set_description(l->tcp_source, "dns-tcp");
        l->next = s->listeners;
        s->listeners = l;
        return 0;
}

int dns_server_add_listener(DnsServer *s, const char *network_id, struct in_addr address) {
        return dns_server_add_listener_port(s, network_id, address, 53);
}

void dns_server_remove_listener(DnsServer *s, const char *network_id) {
        for (Listener **p = &s->listeners; *p; p = &(*p)->next)
                if (streq((*p)->network_id, network_id)) {
                        Listener *l = *p;
                        *p = l->next;
                        listener_free(l);
                        return;
                }
}

/* ---- the server ---- */

int dns_server_new(sd_event *e, DnsLookupFn lookup, void *userdata, DnsServer **ret) {
        DnsServer *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->lookup = lookup;
        s->userdata = userdata;
        s->timeout_usec = DNS_SERVER_UPSTREAM_TIMEOUT_USEC;
        *ret = s;
        return 0;
}

static void client_upstreams_free(ClientUpstreams *c) {
        free(c->network_id);
        free(c);
}

DnsServer *dns_server_free(DnsServer *s) {
        if (!s)
                return NULL;
        while (s->listeners) {
                Listener *l = s->listeners;
                s->listeners = l->next;
                listener_free(l);
        }
        while (s->client_upstreams) {
                ClientUpstreams *c = s->client_upstreams;
                s->client_upstreams = c->next;
                client_upstreams_free(c);
        }
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

int dns_server_set_upstreams(DnsServer *s, char *const *servers) {
        return upstream_list_parse(servers, &s->upstreams);
}

int dns_server_set_client_upstreams(DnsServer *s, const char *network_id, struct in_addr client, char *const *servers) {
        ClientUpstreams *c = client_upstreams_find(s, network_id, client);
        UpstreamList list;
        int r;

        if (!servers || !servers[0]) {
                if (!c)
                        return 0;
                for (ClientUpstreams **p = &s->client_upstreams; *p; p = &(*p)->next)
                        if (*p == c) {
                                *p = c->next;
                                break;
                        }
                client_upstreams_free(c);
                return 0;
        }
        r = upstream_list_parse(servers, &list);
        if (r < 0)
                return r;
        if (!c) {
                c = calloc(1, sizeof(*c));
                if (!c)
                        return -ENOMEM;
                c->network_id = strdup(network_id);
                if (!c->network_id) {
                        free(c);
                        return -ENOMEM;
                }
                c->client = client;
                c->next = s->client_upstreams;
                s->client_upstreams = c;
        }
        c->list = list;
        return 0;
}

void dns_server_set_timeout(DnsServer *s, uint64_t usec) {
        s->timeout_usec = usec;
}
