/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DNS responder end to end on loopback: a listener on an address of 127.0.0.0/8 of this
 * process's own (from its PID), a fake lookup, fake upstreams (UDP sockets on the same loop that
 * answer by name) and clients over UDP and TCP. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns-packet.h"
#include "dns-server.h"
#include "macro.h"
#include "tests.h"
#include "util.h"

#define NET       "net1"
#define PORT      10053
#define TIMEOUT   (200 * USEC_PER_MSEC)
#define WAIT_USEC (5 * USEC_PER_SEC)

static sd_event *event;
static DnsServer *server;
static struct sockaddr_in listen_addr;
static unsigned lookups;

static int fake_lookup(void *userdata, const char *network_id, const char *name, struct in_addr *addrs, size_t max) {
        lookups++;
        if (!streq(network_id, NET))
                return 0;
        if (streq(name, "web") && max >= 2) {
                addrs[0].s_addr = htonl(0xac120002);
                addrs[1].s_addr = htonl(0xac120003);
                return 2;
        }
        if (streq(name, "broken"))
                return -EIO;
        return 0;
}

/* A fake upstream: answers "ok.example" with 192.0.2.7, "nx.example" with NXDOMAIN, and nothing
 * else (so the server times out). */
typedef struct Upstream {
        int fd;
        char addr[32];
        unsigned queries;
        uint16_t last_id;
        sd_event_source *source;
} Upstream;

static int on_upstream(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Upstream *u = userdata;
        uint8_t buf[DNS_PACKET_MAX], out[DNS_UDP_MAX];
        struct sockaddr_in from;
        socklen_t alen = sizeof(from);
        DnsQuestion q;
        int l = -1;

        ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *) &from, &alen);
        if (n < 0 || dns_question_parse(buf, (size_t) n, &q) < 0)
                return 0;
        u->queries++;
        u->last_id = q.id;
        if (streq(q.name, "ok.example")) {
                struct in_addr a = { htonl(0xc0000207) };
                /* An answer that is no answer first: the server waits on for the right one. */
                uint8_t bogus[DNS_UDP_MAX];
                int bl = dns_packet_build_a(buf, &q, &a, 1, 300, bogus, sizeof(bogus));
                ASSERT(bl > 0);
                bogus[0] ^= 0xff;
                (void) sendto(fd, bogus, (size_t) bl, 0, (struct sockaddr *) &from, alen);
                l = dns_packet_build_a(buf, &q, &a, 1, 300, out, sizeof(out));
        } else if (streq(q.name, "nx.example"))
                l = dns_packet_build_rcode(buf, (size_t) n, &q, DNS_RCODE_NXDOMAIN, out, sizeof(out));
        if (l > 0)
                (void) sendto(fd, out, (size_t) l, 0, (struct sockaddr *) &from, alen);
        return 0;
}

static void upstream_start(Upstream *u) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t alen = sizeof(a);

        *u = (Upstream){};
        u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ASSERT(u->fd >= 0);
        ASSERT(bind(u->fd, (struct sockaddr *) &a, sizeof(a)) == 0);
        ASSERT(getsockname(u->fd, (struct sockaddr *) &a, &alen) == 0);
        snprintf(u->addr, sizeof(u->addr), "127.0.0.1:%u", ntohs(a.sin_port));
        ASSERT(sd_event_add_io(event, &u->source, u->fd, EPOLLIN, on_upstream, u) >= 0);
}

static void upstream_stop(Upstream *u) {
        sd_event_source_disable_unref(u->source);
        safe_close(u->fd);
}

/* A port on 127.0.0.1 where nothing listens: the kernel answers with ICMP port unreachable. */
static void closed_port(char *ret, size_t size) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t alen = sizeof(a);
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        ASSERT(fd >= 0 && bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0);
        ASSERT(getsockname(fd, (struct sockaddr *) &a, &alen) == 0);
        close(fd);
        snprintf(ret, size, "127.0.0.1:%u", ntohs(a.sin_port));
}

static size_t make_query(uint8_t *buf, uint16_t id, const char *name, uint16_t qtype) {
        size_t p = DNS_HEADER_SIZE;

        memset(buf, 0, DNS_HEADER_SIZE);
        buf[0] = (uint8_t) (id >> 8);
        buf[1] = (uint8_t) id;
        buf[2] = 0x01; /* RD */
        buf[5] = 1;
        while (*name) {
                size_t l = strcspn(name, ".");
                buf[p++] = (uint8_t) l;
                memcpy(buf + p, name, l);
                p += l;
                name += l;
                if (*name == '.')
                        name++;
        }
        buf[p++] = 0;
        buf[p++] = (uint8_t) (qtype >> 8);
        buf[p++] = (uint8_t) qtype;
        buf[p++] = 0;
        buf[p++] = DNS_CLASS_IN;
        return p;
}

/* Runs the loop until fd is readable (or WAIT_USEC): whether it is. */
static bool run_until_readable(int fd) {
        uint64_t deadline = now_realtime_usec() + WAIT_USEC;

        while (now_realtime_usec() < deadline) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 0) > 0)
                        return true;
                ASSERT(sd_event_run(event, 10 * USEC_PER_MSEC) >= 0);
        }
        return false;
}

/* Runs the loop for usec (sd_event_run() dispatches one source at a time). */
static void run_for(uint64_t usec) {
        uint64_t deadline = now_realtime_usec() + usec;

        while (now_realtime_usec() < deadline)
                ASSERT(sd_event_run(event, 10 * USEC_PER_MSEC) >= 0);
}

static int udp_client(const char *from) {
        struct sockaddr_in a = { .sin_family = AF_INET };
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        ASSERT(fd >= 0);
        ASSERT(inet_pton(AF_INET, from, &a.sin_addr) == 1);
        ASSERT(bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0);
        ASSERT(connect(fd, (struct sockaddr *) &listen_addr, sizeof(listen_addr)) == 0);
        return fd;
}

/* Asks over UDP; the answer's length, 0 when none came. */
static size_t ask_udp_from(const char *from, uint16_t id, const char *name, uint16_t qtype, uint8_t *answer) {
        _cleanup_close_ int fd = udp_client(from);
        uint8_t q[DNS_UDP_MAX];
        size_t n = make_query(q, id, name, qtype);

        ASSERT(send(fd, q, n, 0) == (ssize_t) n);
        if (!run_until_readable(fd))
                return 0;
        ssize_t r = recv(fd, answer, DNS_PACKET_MAX, MSG_DONTWAIT);
        return r > 0 ? (size_t) r : 0;
}

static size_t ask_udp(uint16_t id, const char *name, uint16_t qtype, uint8_t *answer) {
        return ask_udp_from("127.0.0.1", id, name, qtype, answer);
}

static uint16_t r16(const uint8_t *p) {
        return (uint16_t) (p[0] << 8 | p[1]);
}

static void check_answer(const uint8_t *a, size_t n, uint16_t id, int rcode, unsigned ancount) {
        CHECK(n >= DNS_HEADER_SIZE);
        if (n < DNS_HEADER_SIZE)
                return;
        CHECK_INT(r16(a), id);
        CHECK(a[2] & 0x80); /* QR */
        CHECK_INT(dns_packet_get_rcode(a, n), rcode);
        CHECK_INT(r16(a + 6), ancount);
}

static void test_local(void) {
        uint8_t a[DNS_PACKET_MAX];
        size_t n;

        n = ask_udp(0x1111, "web", DNS_TYPE_A, a);
        check_answer(a, n, 0x1111, DNS_RCODE_NOERROR, 2);
        CHECK(n >= 2 && memcmp(a + n - 4, "\xac\x12\0\3", 4) == 0);
        CHECK(n >= 2 && memcmp(a + n - 10, "\0\0\0\x3c", 4) == 0); /* TTL */

        n = ask_udp(0x1112, "WEB.", DNS_TYPE_ANY, a);
        check_answer(a, n, 0x1112, DNS_RCODE_NOERROR, 2);
        CHECK(n > 13 && memcmp(a + 12, "\3WEB\0", 5) == 0); /* the question as asked */

        /* A known name without that type: NODATA, never forwarded. */
        n = ask_udp(0x1113, "web", DNS_TYPE_AAAA, a);
        check_answer(a, n, 0x1113, DNS_RCODE_NOERROR, 0);
        n = ask_udp(0x1114, "web", DNS_TYPE_MX, a);
        check_answer(a, n, 0x1114, DNS_RCODE_NOERROR, 0);

        n = ask_udp(0x1115, "broken", DNS_TYPE_A, a);
        check_answer(a, n, 0x1115, DNS_RCODE_SERVFAIL, 0);
}

static void test_forward(void) {
        Upstream u1, u2;
        uint8_t a[DNS_PACKET_MAX];
        size_t n;

        upstream_start(&u1);
        upstream_start(&u2);
        ASSERT(dns_server_set_upstreams(server, STRV_MAKE(u1.addr, u2.addr)) == 0);

        n = ask_udp(0x2221, "ok.example", DNS_TYPE_A, a);
        check_answer(a, n, 0x2221, DNS_RCODE_NOERROR, 1);
        CHECK(n >= 4 && memcmp(a + n - 4, "\xc0\0\2\7", 4) == 0);
        CHECK_INT(u1.queries, 1);
        CHECK_INT(u2.queries, 0);

        n = ask_udp(0x2222, "nx.example", DNS_TYPE_A, a);
        check_answer(a, n, 0x2222, DNS_RCODE_NXDOMAIN, 0);

        /* Every other type of an unknown name goes out too. */
        n = ask_udp(0x2223, "nx.example", DNS_TYPE_AAAA, a);
        check_answer(a, n, 0x2223, DNS_RCODE_NXDOMAIN, 0);
        CHECK_INT(u1.queries, 3);

        /* Nobody answers: the first upstream, then the second, then SERVFAIL. */
        n = ask_udp(0x2224, "slow.example", DNS_TYPE_A, a);
        check_answer(a, n, 0x2224, DNS_RCODE_SERVFAIL, 0);
        CHECK_INT(u1.queries, 4);
        CHECK_INT(u2.queries, 1);
        CHECK(u1.last_id == u2.last_id);

        /* A first upstream where nothing listens: the second one at once. */
        char closed[32];
        closed_port(closed, sizeof(closed));
        ASSERT(dns_server_set_upstreams(server, STRV_MAKE(closed, u2.addr)) == 0);
        uint64_t t0 = now_realtime_usec();
        n = ask_udp(0x2225, "ok.example", DNS_TYPE_A, a);
        check_answer(a, n, 0x2225, DNS_RCODE_NOERROR, 1);
        CHECK(now_realtime_usec() - t0 < TIMEOUT);
        CHECK_INT(u2.queries, 2);

        /* A container's own upstreams (its --dns). */
        struct in_addr client;
        ASSERT(inet_pton(AF_INET, "127.0.0.2", &client) == 1);
        ASSERT(dns_server_set_client_upstreams(server, NET, client, STRV_MAKE(u1.addr)) == 0);
        n = ask_udp_from("127.0.0.2", 0x2226, "ok.example", DNS_TYPE_A, a);
        check_answer(a, n, 0x2226, DNS_RCODE_NOERROR, 1);
        CHECK_INT(u1.queries, 5);
        CHECK_INT(u2.queries, 2);
        n = ask_udp(0x2227, "ok.example", DNS_TYPE_A, a);
        CHECK_INT(u2.queries, 3);
        ASSERT(dns_server_set_client_upstreams(server, NET, client, NULL) == 0);
        n = ask_udp_from("127.0.0.2", 0x2228, "ok.example", DNS_TYPE_A, a);
        check_answer(a, n, 0x2228, DNS_RCODE_NOERROR, 1);
        CHECK_INT(u2.queries, 4);

        /* Without upstreams: REFUSED. Our own listener is no upstream. */
        char self[32];
        snprintf(self, sizeof(self), "%s:%u", inet_ntoa(listen_addr.sin_addr), PORT);
        ASSERT(dns_server_set_upstreams(server, STRV_MAKE(self)) == 0);
        n = ask_udp(0x2229, "ok.example", DNS_TYPE_A, a);
        check_answer(a, n, 0x2229, DNS_RCODE_REFUSED, 0);
        ASSERT(dns_server_set_upstreams(server, NULL) == 0);
        n = ask_udp(0x222a, "ok.example", DNS_TYPE_A, a);
        check_answer(a, n, 0x222a, DNS_RCODE_REFUSED, 0);

        CHECK_INT(dns_server_set_upstreams(server, STRV_MAKE("8.8.8.8", "dns.example")), -EINVAL);
        CHECK_INT(dns_server_set_upstreams(server, STRV_MAKE("8.8.8.8", "::1", "[::1]:5353", "fe80::1%1")), 0);
        ASSERT(dns_server_set_upstreams(server, STRV_MAKE(u1.addr)) == 0);
        upstream_stop(&u1);
        upstream_stop(&u2);
}

static void test_malformed(void) {
        _cleanup_close_ int fd = udp_client("127.0.0.1");
        uint8_t q[DNS_UDP_MAX], a[DNS_PACKET_MAX];
        size_t n = make_query(q, 0x3331, "web", DNS_TYPE_A);

        q[5] = 2; /* two questions */
        ASSERT(send(fd, q, n, 0) == (ssize_t) n);
        CHECK(run_until_readable(fd));
        ssize_t r = recv(fd, a, sizeof(a), MSG_DONTWAIT);
        check_answer(a, r > 0 ? (size_t) r : 0, 0x3331, DNS_RCODE_FORMERR, 0);

        q[5] = 1;
        q[2] = 0x28; /* opcode UPDATE */
        ASSERT(send(fd, q, n, 0) == (ssize_t) n);
        CHECK(run_until_readable(fd));
        r = recv(fd, a, sizeof(a), MSG_DONTWAIT);
        check_answer(a, r > 0 ? (size_t) r : 0, 0x3331, DNS_RCODE_NOTIMP, 0);

        /* A response and a runt: no answer at all. Then a good query is still answered. */
        q[2] = 0x81;
        ASSERT(send(fd, q, n, 0) == (ssize_t) n);
        ASSERT(send(fd, q, 5, 0) == 5);
        q[2] = 0x01;
        q[1] = 0x32;
        ASSERT(send(fd, q, n, 0) == (ssize_t) n);
        CHECK(run_until_readable(fd));
        r = recv(fd, a, sizeof(a), MSG_DONTWAIT);
        check_answer(a, r > 0 ? (size_t) r : 0, 0x3332, DNS_RCODE_NOERROR, 2);
        CHECK(recv(fd, a, sizeof(a), MSG_DONTWAIT) < 0);
}

static void test_pending_cap(void) {
        Upstream u;
        _cleanup_close_ int fd = -1;
        uint8_t q[DNS_UDP_MAX], a[DNS_PACKET_MAX];
        unsigned servfail = 0;

        upstream_start(&u);
        ASSERT(dns_server_set_upstreams(server, STRV_MAKE(u.addr)) == 0);
        fd = udp_client("127.0.0.1");

        /* One more than may wait: that one fails at once, the others when they time out. */
        for (unsigned i = 0; i <= DNS_SERVER_PENDING_MAX; i++) {
                size_t n = make_query(q, (uint16_t) (0x6000 + i), "slow.example", DNS_TYPE_A);
                ASSERT(send(fd, q, n, 0) == (ssize_t) n);
        }
        uint64_t t0 = now_realtime_usec();
        CHECK(run_until_readable(fd));
        CHECK(now_realtime_usec() - t0 < TIMEOUT);
        ssize_t r = recv(fd, a, sizeof(a), MSG_DONTWAIT);
        check_answer(a, r > 0 ? (size_t) r : 0, 0x6000 + DNS_SERVER_PENDING_MAX, DNS_RCODE_SERVFAIL, 0);

        run_for(2 * TIMEOUT);
        CHECK_INT(u.queries, DNS_SERVER_PENDING_MAX);
        while ((r = recv(fd, a, sizeof(a), MSG_DONTWAIT)) > 0)
                if (dns_packet_get_rcode(a, (size_t) r) == DNS_RCODE_SERVFAIL)
                        servfail++;
        CHECK_INT(servfail, DNS_SERVER_PENDING_MAX);

        /* And room again. */
        ASSERT(dns_server_set_upstreams(server, STRV_MAKE(u.addr)) == 0);
        size_t n = ask_udp(0x6fff, "ok.example", DNS_TYPE_A, a);
        check_answer(a, n, 0x6fff, DNS_RCODE_NOERROR, 1);
        upstream_stop(&u);
}

static int tcp_client(void) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        ASSERT(fd >= 0);
        ASSERT(connect(fd, (struct sockaddr *) &listen_addr, sizeof(listen_addr)) == 0);
        ASSERT(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
        return fd;
}

/* Reads one framed answer off a TCP connection; its length, 0 when none came whole. */
static size_t tcp_read_answer(int fd, uint8_t *a) {
        size_t have = 0, want = 2;
        uint8_t buf[2 + DNS_PACKET_MAX];

        while (have < want) {
                if (!run_until_readable(fd))
                        return 0;
                ssize_t r = recv(fd, buf + have, want - have, MSG_DONTWAIT);
                if (r <= 0)
                        return 0;
                have += (size_t) r;
                if (have == 2)
                        want = 2 + r16(buf);
        }
        memcpy(a, buf + 2, want - 2);
        return want - 2;
}

static size_t frame(uint8_t *buf, uint16_t id, const char *name, uint16_t qtype) {
        size_t n = make_query(buf + 2, id, name, qtype);
        buf[0] = (uint8_t) (n >> 8);
        buf[1] = (uint8_t) n;
        return n + 2;
}

static void test_tcp(void) {
        Upstream u;
        uint8_t q[2048], a[DNS_PACKET_MAX];
        size_t n;

        upstream_start(&u);
        ASSERT(dns_server_set_upstreams(server, STRV_MAKE(u.addr)) == 0);

        _cleanup_close_ int fd = tcp_client();
        n = frame(q, 0x4441, "web", DNS_TYPE_A);
        ASSERT(send(fd, q, n, 0) == (ssize_t) n);
        n = tcp_read_answer(fd, a);
        check_answer(a, n, 0x4441, DNS_RCODE_NOERROR, 2);

        /* Forwarded, on the same connection. */
        n = frame(q, 0x4442, "ok.example", DNS_TYPE_A);
        ASSERT(send(fd, q, n, 0) == (ssize_t) n);
        n = tcp_read_answer(fd, a);
        check_answer(a, n, 0x4442, DNS_RCODE_NOERROR, 1);

        /* Three in one write, the forwarded one in the middle, answered in order; a message split
         * across writes. */
        n = frame(q, 0x4443, "web", DNS_TYPE_AAAA);
        n += frame(q + n, 0x4444, "nx.example", DNS_TYPE_A);
        n += frame(q + n, 0x4445, "web", DNS_TYPE_A);
        size_t split = n + 5;
        n += frame(q + n, 0x4446, "web", DNS_TYPE_A);
        ASSERT(send(fd, q, split, 0) == (ssize_t) split);
        n = tcp_read_answer(fd, a);
        check_answer(a, n, 0x4443, DNS_RCODE_NOERROR, 0);
        n = tcp_read_answer(fd, a);
        check_answer(a, n, 0x4444, DNS_RCODE_NXDOMAIN, 0);
        n = tcp_read_answer(fd, a);
        check_answer(a, n, 0x4445, DNS_RCODE_NOERROR, 2);
        n = frame(q, 0x4446, "web", DNS_TYPE_A);
        ASSERT(send(fd, q + 5, n - 5, 0) == (ssize_t) (n - 5));
        n = tcp_read_answer(fd, a);
        check_answer(a, n, 0x4446, DNS_RCODE_NOERROR, 2);

        /* The client ends its side after a query: answered, then closed. */
        n = frame(q, 0x4447, "ok.example", DNS_TYPE_A);
        ASSERT(send(fd, q, n, 0) == (ssize_t) n);
        ASSERT(shutdown(fd, SHUT_WR) == 0);
        n = tcp_read_answer(fd, a);
        check_answer(a, n, 0x4447, DNS_RCODE_NOERROR, 1);
        CHECK(run_until_readable(fd));
        CHECK(recv(fd, a, 1, MSG_DONTWAIT) == 0);

        /* A length below a header's: the connection is closed. */
        _cleanup_close_ int fd2 = tcp_client();
        ASSERT(send(fd2, "\0\5hello", 7, 0) == 7);
        CHECK(run_until_readable(fd2));
        CHECK(recv(fd2, a, 1, MSG_DONTWAIT) == 0);

        upstream_stop(&u);
}

static void test_tcp_limits(void) {
        int fds[DNS_SERVER_TCP_MAX + 1];
        uint8_t a[16];

        /* As many as allowed stay open; one more is closed at once. */
        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                fds[i] = tcp_client();
                ASSERT(sd_event_run(event, 0) >= 0); /* accepted, before the backlog fills */
        }
        run_for(100 * USEC_PER_MSEC);
        for (size_t i = 0; i + 1 < ELEMENTSOF(fds); i++)
                CHECK(recv(fds[i], a, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN);
        CHECK(run_until_readable(fds[DNS_SERVER_TCP_MAX]));
        CHECK(recv(fds[DNS_SERVER_TCP_MAX], a, 1, MSG_DONTWAIT) <= 0);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                close(fds[i]);
        run_for(100 * USEC_PER_MSEC);
}

static void test_remove_listener(void) {
        Upstream u;
        uint8_t q[DNS_UDP_MAX];
        size_t n = make_query(q, 0x5551, "slow.example", DNS_TYPE_A);

        upstream_start(&u);
        ASSERT(dns_server_set_upstreams(server, STRV_MAKE(u.addr)) == 0);
        _cleanup_close_ int fd = udp_client("127.0.0.1");
        _cleanup_close_ int tfd = tcp_client();
        uint8_t tq[600];
        size_t tn = frame(tq, 0x5552, "slow.example", DNS_TYPE_A);
        ASSERT(send(fd, q, n, 0) == (ssize_t) n);
        ASSERT(send(tfd, tq, tn, 0) == (ssize_t) tn);
        run_for(50 * USEC_PER_MSEC); /* not the 200 ms after which they fail */
        CHECK_INT(u.queries, 2);

        /* Queries under way and connections go with the listener. */
        dns_server_remove_listener(server, NET);
        CHECK(run_until_readable(tfd));
        CHECK(recv(tfd, q, 1, MSG_DONTWAIT) == 0);
        run_for(2 * TIMEOUT);
        CHECK(recv(fd, q, sizeof(q), MSG_DONTWAIT) < 0);

        /* Back again, and a second network on another address: its names are its own. */
        ASSERT(dns_server_add_listener_port(server, NET, listen_addr.sin_addr, PORT) == 0);
        CHECK_INT(dns_server_add_listener_port(server, NET, listen_addr.sin_addr, PORT + 1), -EEXIST);
        struct in_addr other = { htonl(ntohl(listen_addr.sin_addr.s_addr) + 1) };
        ASSERT(dns_server_add_listener_port(server, "net2", other, PORT) == 0);
        struct sockaddr_in saved = listen_addr;
        listen_addr.sin_addr = other;
        uint8_t a[DNS_PACKET_MAX];
        unsigned before = lookups;
        n = ask_udp(0x5553, "web", DNS_TYPE_A, a);
        CHECK_INT(lookups, before + 1);
        CHECK_INT(u.queries, 3); /* not net2's: forwarded, and nobody answers */
        check_answer(a, n, 0x5553, DNS_RCODE_SERVFAIL, 0);
        listen_addr = saved;
        dns_server_remove_listener(server, "net2");
        dns_server_remove_listener(server, "none");
        upstream_stop(&u);
}

int main(void) {
        /* An address of loopback's /8 of this process alone, so that tests running at once do
         * not meet. */
        pid_t pid = getpid();
        listen_addr = (struct sockaddr_in){ .sin_family = AF_INET,
                                            .sin_port = htons(PORT),
                                            .sin_addr.s_addr = htonl(0x7f350000 | (((uint32_t) pid & 0x7fff) << 1)) };

        ASSERT(sd_event_default(&event) >= 0);
        ASSERT(dns_server_new(event, fake_lookup, NULL, &server) == 0);
        dns_server_set_timeout(server, TIMEOUT);
        ASSERT(dns_server_add_listener_port(server, NET, listen_addr.sin_addr, PORT) == 0);

        TEST(test_local);
        TEST(test_forward);
        TEST(test_malformed);
        TEST(test_pending_cap);
        TEST(test_tcp);
        TEST(test_tcp_limits);
        TEST(test_remove_listener);

        server = dns_server_free(server);
        sd_event_unref(event);
        return tests_exit_status();
}
