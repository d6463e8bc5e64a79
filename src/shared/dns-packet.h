/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* DNS messages (RFC 1035) as berthd's responder needs them: the question of a query, and the few
 * answers it gives itself (A records, NODATA, NXDOMAIN, SERVFAIL, REFUSED, FORMERR, NOTIMP). No
 * I/O; everything works on caller-owned buffers. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_SIZE   12
#define DNS_UDP_MAX       512 /* a UDP answer without EDNS(0) */
#define DNS_PACKET_MAX    65535 /* a TCP message */
#define DNS_WIRE_NAME_MAX 255
#define DNS_LABEL_MAX     63
/* A name's text: every byte of the wire form escaped as \DDD at worst. */
#define DNS_NAME_TEXT_MAX (4 * DNS_WIRE_NAME_MAX)

enum {
        DNS_TYPE_A = 1,
        DNS_TYPE_NS = 2,
        DNS_TYPE_CNAME = 5,
        DNS_TYPE_SOA = 6,
        DNS_TYPE_PTR = 12,
        DNS_TYPE_MX = 15,
        DNS_TYPE_TXT = 16,
        DNS_TYPE_AAAA = 28,
        DNS_TYPE_SRV = 33,
        DNS_TYPE_OPT = 41,
        DNS_TYPE_ANY = 255,
};

enum {
        DNS_CLASS_IN = 1,
        DNS_CLASS_ANY = 255,
};

enum {
        DNS_RCODE_NOERROR = 0,
        DNS_RCODE_FORMERR = 1,
        DNS_RCODE_SERVFAIL = 2,
        DNS_RCODE_NXDOMAIN = 3,
        DNS_RCODE_NOTIMP = 4,
        DNS_RCODE_REFUSED = 5,
};

typedef struct DnsQuestion {
        uint16_t id;
        uint16_t flags; /* the header's second 16 bits, as received */
        /* Dotted, ASCII letters in lowercase, without the trailing dot ("" is the root). A byte
         * other than a letter, digit, '-' or '_' is written \DDD (so "a\046b" is one label "a.b");
         * such names are never a container's. */
        char name[DNS_NAME_TEXT_MAX + 1];
        bool name_plain; /* no \DDD in name */
        uint16_t qtype, qclass;
        size_t end; /* offset just past the question: [DNS_HEADER_SIZE, end) is its wire form */
} DnsQuestion;

/* The question of a query. Errors say what to do with the packet:
 *   -EBADMSG    not a query at all (shorter than a header, or a response): drop it, never answer;
 *   -EPROTO     a malformed query (not exactly one question, a bad name, cut short): FORMERR;
 *   -EOPNOTSUPP an opcode other than QUERY: NOTIMP.
 * Names may use compression pointers, but only to earlier bytes past the header, so a question's
 * first name can have none; labels hold at most 63 bytes and names 255 on the wire. Sections after
 * the question (an EDNS OPT record, say) are not looked at. */
int dns_question_parse(const uint8_t *packet, size_t len, DnsQuestion *ret);

/* The name at *offset in text form (as DnsQuestion.name, case kept) in ret (size bytes, at least
 * DNS_NAME_TEXT_MAX + 1); *offset moves past it. -EPROTO when malformed or cut short, -ENOBUFS. */
int dns_name_read(const uint8_t *packet, size_t len, size_t *offset, char *ret, size_t size, bool *ret_plain);

/* Names compare equal ignoring ASCII case and one trailing dot ("Web." equals "web"). */
bool dns_name_equal(const char *a, const char *b);

/* Answers written into buf (at most size bytes: DNS_UDP_MAX for UDP, up to DNS_PACKET_MAX for TCP)
 * for the query whose question is q and first bytes are query (at least q->end of them): the
 * query's ID, opcode, RD and CD bits, RA set, the question copied as sent (its case kept). They
 * return the answer's length, or -ENOBUFS when not even the question fits.
 *
 * dns_packet_build_a(): A records of class IN for the question's name, one per address, with
 * ttl; as many as fit in size, with TC set when some did not. */
int dns_packet_build_a(const uint8_t *query, const DnsQuestion *q, const struct in_addr *addrs, size_t n_addrs,
                       uint32_t ttl, uint8_t *buf, size_t size);
/* No records, only rcode: DNS_RCODE_NOERROR is NODATA (the name exists, not with that type), or
 * NXDOMAIN, SERVFAIL, REFUSED, ... With q NULL (a query whose question could not be parsed) the
 * answer has no question and takes ID, opcode and RD from the query's header, which must be
 * there (query_len >= DNS_HEADER_SIZE, else -EBADMSG). */
int dns_packet_build_rcode(const uint8_t *query, size_t query_len, const DnsQuestion *q, int rcode, uint8_t *buf,
                           size_t size);

/* For forwarding: a message's ID, read or replaced in place (-EBADMSG when shorter than a header). */
int dns_packet_get_id(const uint8_t *packet, size_t len);
int dns_packet_set_id(uint8_t *packet, size_t len, uint16_t id);
/* The rcode of a message, or -EBADMSG. */
int dns_packet_get_rcode(const uint8_t *packet, size_t len);
/* Whether packet is a response with this id to the question q: QR set, and the same question (name
 * compared without case), or no question at all with an rcode other than NOERROR (how some servers
 * send FORMERR or REFUSED). */
bool dns_packet_is_answer_to(const uint8_t *packet, size_t len, uint16_t id, const DnsQuestion *q);
