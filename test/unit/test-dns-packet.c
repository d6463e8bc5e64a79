/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "dns-packet.h"
#include "macro.h"
#include "tests.h"

/* A query: header (id, flags, qdcount) and the name given as length-prefixed labels in wire. */
static size_t make_query(uint8_t *buf, uint16_t id, uint16_t flags, uint16_t qdcount, const void *wire, size_t wire_len,
                         uint16_t qtype) {
        memset(buf, 0, DNS_HEADER_SIZE);
        buf[0] = (uint8_t) (id >> 8);
        buf[1] = (uint8_t) id;
        buf[2] = (uint8_t) (flags >> 8);
        buf[3] = (uint8_t) flags;
        buf[5] = (uint8_t) qdcount;
        memcpy(buf + DNS_HEADER_SIZE, wire, wire_len);
        size_t p = DNS_HEADER_SIZE + wire_len;
        buf[p++] = (uint8_t) (qtype >> 8);
        buf[p++] = (uint8_t) qtype;
        buf[p++] = 0;
        buf[p++] = DNS_CLASS_IN;
        return p;
}

#define WIRE(s) s, sizeof(s) /* the literal's own NUL is the root label */

static void test_parse(void) {
        uint8_t b[600];
        DnsQuestion q;
        size_t n;

        n = make_query(b, 0x1234, 0x0100, 1, WIRE("\3Web\7Example"), DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), 0);
        CHECK_INT(q.id, 0x1234);
        CHECK_INT(q.flags, 0x0100);
        CHECK_STR(q.name, "web.example");
        CHECK(q.name_plain);
        CHECK_INT(q.qtype, DNS_TYPE_A);
        CHECK_INT(q.qclass, DNS_CLASS_IN);
        CHECK_INT(q.end, n);

        /* The root, and trailing bytes (an EDNS OPT record) not looked at. */
        n = make_query(b, 1, 0, 1, WIRE(""), DNS_TYPE_NS);
        memcpy(b + n, "\0\0\x29\x10\0\0\0\0\0\0\0", 11);
        CHECK_INT(dns_question_parse(b, n + 11, &q), 0);
        CHECK_STR(q.name, "");
        CHECK_INT(q.end, n);

        /* Bytes that are no host name characters come out escaped. */
        n = make_query(b, 1, 0, 1, WIRE("\3a.b\2c\\"), DNS_TYPE_TXT);
        CHECK_INT(dns_question_parse(b, n, &q), 0);
        CHECK_STR(q.name, "a\\046b.c\\092");
        CHECK(!q.name_plain);
        n = make_query(b, 1, 0, 1, WIRE("\4_srv\4_tcp\3x-y"), DNS_TYPE_SRV);
        CHECK_INT(dns_question_parse(b, n, &q), 0);
        CHECK_STR(q.name, "_srv._tcp.x-y");
        CHECK(q.name_plain);
}

static void test_parse_bad(void) {
        uint8_t b[700], wire[300];
        DnsQuestion q;
        size_t n;

        n = make_query(b, 1, 0, 1, WIRE("\1a"), DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, 11, &q), -EBADMSG);
        CHECK_INT(dns_question_parse(b, 0, &q), -EBADMSG);
        for (size_t l = DNS_HEADER_SIZE; l < n; l++)
                CHECK_INT(dns_question_parse(b, l, &q), -EPROTO);

        /* A response is never answered; other opcodes are not implemented. */
        n = make_query(b, 1, 0x8100, 1, WIRE("\1a"), DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), -EBADMSG);
        n = make_query(b, 1, 0x2800, 1, WIRE("\1a"), DNS_TYPE_A); /* opcode 5, UPDATE */
        CHECK_INT(dns_question_parse(b, n, &q), -EOPNOTSUPP);
        n = make_query(b, 1, 0, 0, WIRE("\1a"), DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), -EPROTO);
        n = make_query(b, 1, 0, 2, WIRE("\1a"), DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), -EPROTO);

        /* A label of 64 bytes; 63 is fine. */
        memset(wire, 'a', sizeof(wire));
        wire[0] = 64;
        wire[65] = 0;
        n = make_query(b, 1, 0, 1, wire, 66, DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), -EPROTO);
        wire[0] = 63;
        wire[64] = 0;
        n = make_query(b, 1, 0, 1, wire, 65, DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), 0);
        CHECK_INT(strlen(q.name), 63);

        /* 255 bytes on the wire at most: 4 labels of 63 and one of 1 (4*64 + 2 + 1 = 259) are too
         * many, 3 of 63 and one of 61 (3*64 + 62 + 1 = 255) are fine. */
        memset(wire, 'b', sizeof(wire));
        for (int i = 0; i < 4; i++)
                wire[i * 64] = 63;
        wire[256] = 1;
        wire[258] = 0;
        n = make_query(b, 1, 0, 1, wire, 259, DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), -EPROTO);
        wire[192] = 61;
        wire[254] = 0;
        n = make_query(b, 1, 0, 1, wire, 255, DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), 0);

        /* Extended label types. */
        n = make_query(b, 1, 0, 1,
                       WIRE("\x41"
                            "a"),
                       DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), -EPROTO);
        n = make_query(b, 1, 0, 1,
                       WIRE("\x81"
                            "a"),
                       DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), -EPROTO);

        /* Compression pointers: into the header, to itself, forwards. */
        n = make_query(b, 1, 0, 1, "\xc0\x00", 2, DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), -EPROTO);
        n = make_query(b, 1, 0, 1, "\xc0\x0c", 2, DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), -EPROTO);
        n = make_query(b, 1, 0, 1, "\1a\xc0\x0c", 4, DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), -EPROTO);
        n = make_query(b, 1, 0, 1, "\xc0\x20", 2, DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, n, &q), -EPROTO);
        n = make_query(b, 1, 0, 1, "\xc0", 1, DNS_TYPE_A);
        CHECK_INT(dns_question_parse(b, 13, &q), -EPROTO);
}

static void test_name_read_pointers(void) {
        uint8_t b[100] = {};
        char name[DNS_NAME_TEXT_MAX + 1];
        size_t pos;
        bool plain;

        /* "foo.bar" at 12, "x" + pointer to "bar" (14 + 2 = 16) at 21, a pointer to 21 at 25. */
        memcpy(b + 12, "\3foo\3bar\0", 9);
        memcpy(b + 21, "\1x\xc0\x10", 4);
        memcpy(b + 25, "\xc0\x15", 2);
        pos = 21;
        CHECK_INT(dns_name_read(b, sizeof(b), &pos, name, sizeof(name), &plain), 0);
        CHECK_STR(name, "x.bar");
        CHECK_INT(pos, 25);
        pos = 25;
        CHECK_INT(dns_name_read(b, sizeof(b), &pos, name, sizeof(name), &plain), 0);
        CHECK_STR(name, "x.bar");
        CHECK_INT(pos, 27);
        CHECK(plain);

        /* A loop: 31 → 27, "y", → 31. Every jump has to go before the labels read since the last. */
        memcpy(b + 27, "\1y\xc0\x1f", 4);
        memcpy(b + 31, "\xc0\x1b", 2);
        pos = 31;
        CHECK_INT(dns_name_read(b, sizeof(b), &pos, name, sizeof(name), &plain), -EPROTO);
        CHECK_INT(pos, 31);
        CHECK_INT(dns_name_read(b, sizeof(b), &pos, name, 10, &plain), -ENOBUFS);
}

static void test_name_equal(void) {
        CHECK(dns_name_equal("web", "web"));
        CHECK(dns_name_equal("Web.", "wEB"));
        CHECK(dns_name_equal("a.b.", "A.B."));
        CHECK(dns_name_equal("", "."));
        CHECK(!dns_name_equal("web", "web2"));
        CHECK(!dns_name_equal("web..", "web"));
        CHECK(!dns_name_equal("a\\.", "a"));
}

static uint16_t r16(const uint8_t *p) {
        return (uint16_t) (p[0] << 8 | p[1]);
}

static void test_build(void) {
        uint8_t b[300], out[600];
        struct in_addr a[40];
        DnsQuestion q;
        size_t n;
        int l;

        n = make_query(b, 0xbeef, 0x0110, 1, WIRE("\3WEB"), DNS_TYPE_A); /* RD and CD */
        ASSERT(dns_question_parse(b, n, &q) == 0);
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                a[i].s_addr = htonl(0xac120002 + (uint32_t) i);

        l = dns_packet_build_a(b, &q, a, 2, 60, out, sizeof(out));
        CHECK_INT(l, (int) n + 2 * 16);
        CHECK_INT(r16(out), 0xbeef);
        CHECK_INT(r16(out + 2), 0x8190); /* QR, RD, RA, CD; no TC, NOERROR */
        CHECK_INT(r16(out + 4), 1);
        CHECK_INT(r16(out + 6), 2);
        CHECK_INT(r16(out + 8), 0);
        CHECK_INT(r16(out + 10), 0);
        CHECK(memcmp(out + 12, "\3WEB\0\0\1\0\1", 9) == 0); /* the question as sent */
        CHECK(memcmp(out + n, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xac\x12\0\2", 16) == 0);
        CHECK(memcmp(out + n + 16 + 12, "\xac\x12\0\3", 4) == 0);
        CHECK_INT(dns_packet_get_rcode(out, (size_t) l), 0);
        CHECK(dns_packet_is_answer_to(out, (size_t) l, 0xbeef, &q));

        /* Only what fits in 512 bytes, and TC. */
        l = dns_packet_build_a(b, &q, a, ELEMENTSOF(a), 60, out, DNS_UDP_MAX);
        CHECK_INT(l, (int) n + 30 * 16);
        CHECK_INT(r16(out + 6), 30);
        CHECK_INT(r16(out + 2), 0x8390);
        CHECK_INT(dns_packet_build_a(b, &q, a, 1, 60, out, n - 1), -ENOBUFS);

        l = dns_packet_build_rcode(b, n, &q, DNS_RCODE_NXDOMAIN, out, sizeof(out));
        CHECK_INT(l, (int) n);
        CHECK_INT(r16(out + 2), 0x8193);
        CHECK_INT(r16(out + 4), 1);
        CHECK_INT(r16(out + 6), 0);
        CHECK_INT(dns_packet_get_rcode(out, (size_t) l), DNS_RCODE_NXDOMAIN);
        l = dns_packet_build_rcode(b, n, &q, DNS_RCODE_NOERROR, out, sizeof(out));
        CHECK_INT(l, (int) n);
        CHECK_INT(r16(out + 2), 0x8190);

        /* Without a question: the header's ID, opcode and RD. */
        n = make_query(b, 0x4242, 0x2900, 1, WIRE("\1a"), DNS_TYPE_A);
        l = dns_packet_build_rcode(b, n, NULL, DNS_RCODE_NOTIMP, out, sizeof(out));
        CHECK_INT(l, DNS_HEADER_SIZE);
        CHECK_INT(r16(out), 0x4242);
        CHECK_INT(r16(out + 2), 0xa984);
        CHECK_INT(r16(out + 4), 0);
        CHECK_INT(dns_packet_build_rcode(b, 5, NULL, DNS_RCODE_FORMERR, out, sizeof(out)), -EBADMSG);
        CHECK_INT(dns_packet_build_rcode(b, n, NULL, DNS_RCODE_FORMERR, out, 11), -ENOBUFS);
}

static void test_ids(void) {
        uint8_t b[300], out[300];
        DnsQuestion q;
        size_t n = make_query(b, 7, 0x0100, 1, WIRE("\3web\3Net"), DNS_TYPE_AAAA);
        int l;

        ASSERT(dns_question_parse(b, n, &q) == 0);
        CHECK_INT(dns_packet_get_id(b, n), 7);
        CHECK_INT(dns_packet_set_id(b, n, 0xfffe), 0);
        CHECK_INT(dns_packet_get_id(b, n), 0xfffe);
        CHECK_INT(dns_packet_set_id(b, 11, 1), -EBADMSG);
        CHECK_INT(dns_packet_get_id(b, 11), -EBADMSG);

        l = dns_packet_build_rcode(b, n, &q, DNS_RCODE_NOERROR, out, sizeof(out));
        ASSERT(l > 0);
        CHECK(!dns_packet_is_answer_to(out, (size_t) l, 0xfffe, &q)); /* q has ID 7: the answer too */
        CHECK(dns_packet_is_answer_to(out, (size_t) l, 7, &q));
        CHECK(!dns_packet_is_answer_to(b, n, 0xfffe, &q)); /* a query */
        out[13] = 'W'; /* case does not matter */
        CHECK(dns_packet_is_answer_to(out, (size_t) l, 7, &q));
        out[13] = 'x';
        CHECK(!dns_packet_is_answer_to(out, (size_t) l, 7, &q));
        out[13] = 'w';
        out[n - 3] = DNS_TYPE_A; /* another type */
        CHECK(!dns_packet_is_answer_to(out, (size_t) l, 7, &q));
        CHECK(!dns_packet_is_answer_to(out, 5, 7, &q));

        /* No question: only with an error. */
        l = dns_packet_build_rcode(b, n, NULL, DNS_RCODE_REFUSED, out, sizeof(out));
        CHECK_INT(dns_packet_get_id(out, (size_t) l), 0xfffe);
        CHECK(dns_packet_is_answer_to(out, (size_t) l, 0xfffe, &q));
        l = dns_packet_build_rcode(b, n, NULL, DNS_RCODE_NOERROR, out, sizeof(out));
        CHECK(!dns_packet_is_answer_to(out, (size_t) l, 0xfffe, &q));
}

int main(void) {
        TEST(test_parse);
        TEST(test_parse_bad);
        TEST(test_name_read_pointers);
        TEST(test_name_equal);
        TEST(test_build);
        TEST(test_ids);
        return tests_exit_status();
}
