/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns-packet.h"

#define DNS_FLAG_QR     0x8000
#define DNS_OPCODE_MASK 0x7800
#define DNS_FLAG_AA     0x0400
#define DNS_FLAG_TC     0x0200
#define DNS_FLAG_RD     0x0100
#define DNS_FLAG_RA     0x0080
#define DNS_FLAG_CD     0x0010
#define DNS_RCODE_MASK  0x000f

static uint16_t read16(const uint8_t *p) {
        return (uint16_t) (p[0] << 8 | p[1]);
}

static void write16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}

static void write32(uint8_t *p, uint32_t v) {
        write16(p, (uint16_t) (v >> 16));
        write16(p + 2, (uint16_t) v);
}

static bool byte_is_plain(uint8_t c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int dns_name_read(const uint8_t *packet, size_t len, size_t *offset, char *ret, size_t size, bool *ret_plain) {
        size_t pos = *offset, segment = *offset, end = 0, wire = 0, n = 0;
        bool jumped = false, plain = true;

        if (size < DNS_NAME_TEXT_MAX + 1)
                return -ENOBUFS;
        for (;;) {
                if (pos >= len)
                        return -EPROTO;
                uint8_t l = packet[pos];
                if ((l & 0xc0) == 0xc0) {
                        if (pos + 1 >= len)
                                return -EPROTO;
                        size_t target = (size_t) (read16(packet + pos) & 0x3fff);
                        /* Only backwards, before the labels read since the last jump: the walk
                         * ends. Never into the header, where no name is. */
                        if (target < DNS_HEADER_SIZE || target >= segment)
                                return -EPROTO;
                        if (!jumped)
                                end = pos + 2;
                        jumped = true;
                        pos = segment = target;
                        continue;
                }
                if (l & 0xc0) /* 0x40 and 0x80: extended label types, obsolete */
                        return -EPROTO;
                wire += 1 + l;
                if (wire > DNS_WIRE_NAME_MAX)
                        return -EPROTO;
                if (l == 0) {
                        if (!jumped)
                                end = pos + 1;
                        break;
                }
                if (pos + 1 + l > len)
                        return -EPROTO;
                if (n > 0)
                        ret[n++] = '.';
                for (size_t i = 0; i < l; i++) {
                        uint8_t c = packet[pos + 1 + i];
                        if (byte_is_plain(c))
                                ret[n++] = (char) c;
                        else {
                                n += (size_t) snprintf(ret + n, size - n, "\\%03u", c);
                                plain = false;
                        }
                }
                pos += 1 + l;
        }
        ret[n] = 0;
        *offset = end;
        if (ret_plain)
                *ret_plain = plain;
        return 0;
}

int dns_question_parse(const uint8_t *packet, size_t len, DnsQuestion *ret) {
        DnsQuestion q = {};
        size_t pos = DNS_HEADER_SIZE;
        int r;

        if (len < DNS_HEADER_SIZE)
                return -EBADMSG;
        q.id = read16(packet);
        q.flags = read16(packet + 2);
        if (q.flags & DNS_FLAG_QR)
                return -EBADMSG;
        if (q.flags & DNS_OPCODE_MASK)
                return -EOPNOTSUPP;
        if (read16(packet + 4) != 1)
                return -EPROTO;
        r = dns_name_read(packet, len, &pos, q.name, sizeof(q.name), &q.name_plain);
        if (r < 0)
                return -EPROTO;
        if (pos + 4 > len)
                return -EPROTO;
        q.qtype = read16(packet + pos);
        q.qclass = read16(packet + pos + 2);
        q.end = pos + 4;
        for (char *c = q.name; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char) (*c - 'A' + 'a');
        *ret = q;
        return 0;
}

static char ascii_lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

bool dns_name_equal(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);

        /* One trailing dot, unless escaped ("a\." is a label ending in a dot; text from
         * dns_name_read() writes it as \046 anyway). */
        if (la > 0 && a[la - 1] == '.' && !(la > 1 && a[la - 2] == '\\'))
                la--;
        if (lb > 0 && b[lb - 1] == '.' && !(lb > 1 && b[lb - 2] == '\\'))
                lb--;
        if (la != lb)
                return false;
        for (size_t i = 0; i < la; i++)
                if (ascii_lower(a[i]) != ascii_lower(b[i]))
                        return false;
        return true;
}

/* The header and question of an answer to q; returns its length. */
static int build_head(const uint8_t *query, const DnsQuestion *q, int rcode, uint16_t ancount, uint8_t *buf,
                      size_t size) {
        uint16_t flags = DNS_FLAG_QR | (q->flags & (DNS_OPCODE_MASK | DNS_FLAG_RD | DNS_FLAG_CD)) | DNS_FLAG_RA |
                (uint16_t) (rcode & DNS_RCODE_MASK);

        if (q->end < DNS_HEADER_SIZE || q->end > size)
                return -ENOBUFS;
        write16(buf, q->id);
        write16(buf + 2, flags);
        write16(buf + 4, 1);
        write16(buf + 6, ancount);
        write16(buf + 8, 0);
        write16(buf + 10, 0);
        memcpy(buf + DNS_HEADER_SIZE, query + DNS_HEADER_SIZE, q->end - DNS_HEADER_SIZE);
        return (int) q->end;
}

#define A_RECORD_SIZE 16 /* pointer to the question's name, type, class, TTL, length, address */

int dns_packet_build_a(const uint8_t *query, const DnsQuestion *q, const struct in_addr *addrs, size_t n_addrs,
                       uint32_t ttl, uint8_t *buf, size_t size) {
        int l = build_head(query, q, DNS_RCODE_NOERROR, 0, buf, size);
        size_t n = 0, pos;

        if (l < 0)
                return l;
        pos = (size_t) l;
        for (; n < n_addrs && n < UINT16_MAX && pos + A_RECORD_SIZE <= size; n++) {
                write16(buf + pos, 0xc000 | DNS_HEADER_SIZE);
                write16(buf + pos + 2, DNS_TYPE_A);
                write16(buf + pos + 4, DNS_CLASS_IN);
                write32(buf + pos + 6, ttl);
                write16(buf + pos + 10, 4);
                memcpy(buf + pos + 12, &addrs[n].s_addr, 4);
                pos += A_RECORD_SIZE;
        }
        write16(buf + 6, (uint16_t) n);
        if (n < n_addrs)
                write16(buf + 2, read16(buf + 2) | DNS_FLAG_TC);
        return (int) pos;
}

int dns_packet_build_rcode(const uint8_t *query, size_t query_len, const DnsQuestion *q, int rcode, uint8_t *buf,
                           size_t size) {
        if (q)
                return build_head(query, q, rcode, 0, buf, size);

        if (query_len < DNS_HEADER_SIZE)
                return -EBADMSG;
        if (size < DNS_HEADER_SIZE)
                return -ENOBUFS;
        uint16_t flags = DNS_FLAG_QR | (read16(query + 2) & (DNS_OPCODE_MASK | DNS_FLAG_RD | DNS_FLAG_CD)) |
                DNS_FLAG_RA | (uint16_t) (rcode & DNS_RCODE_MASK);
        memcpy(buf, query, 2);
        write16(buf + 2, flags);
        memset(buf + 4, 0, DNS_HEADER_SIZE - 4);
        return DNS_HEADER_SIZE;
}

int dns_packet_get_id(const uint8_t *packet, size_t len) {
        if (len < DNS_HEADER_SIZE)
                return -EBADMSG;
        return read16(packet);
}

int dns_packet_set_id(uint8_t *packet, size_t len, uint16_t id) {
        if (len < DNS_HEADER_SIZE)
                return -EBADMSG;
        write16(packet, id);
        return 0;
}

int dns_packet_get_rcode(const uint8_t *packet, size_t len) {
        if (len < DNS_HEADER_SIZE)
                return -EBADMSG;
        return read16(packet + 2) & DNS_RCODE_MASK;
}

bool dns_packet_is_answer_to(const uint8_t *packet, size_t len, uint16_t id, const DnsQuestion *q) {
        char name[DNS_NAME_TEXT_MAX + 1];
        size_t pos = DNS_HEADER_SIZE;

        if (len < DNS_HEADER_SIZE || read16(packet) != id)
                return false;
        uint16_t flags = read16(packet + 2);
        if (!(flags & DNS_FLAG_QR))
                return false;
        uint16_t qdcount = read16(packet + 4);
        if (qdcount == 0)
                return (flags & DNS_RCODE_MASK) != DNS_RCODE_NOERROR;
        if (qdcount != 1)
                return false;
        if (dns_name_read(packet, len, &pos, name, sizeof(name), NULL) < 0 || pos + 4 > len)
                return false;
        return dns_name_equal(name, q->name) && read16(packet + pos) == q->qtype &&
                read16(packet + pos + 2) == q->qclass;
}
