/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DNS messages as clients and upstreams may send them, arbitrary bytes: the question parses or is
 * refused with one of the documented errors; every name read stays in bounds; answers built to a
 * parsed question answer it, within the size asked for, and carry the question back unchanged. */

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "dns-packet.h"
#include "fuzz.h"
#include "macro.h"

static void check_answers(const uint8_t *data, size_t size, const DnsQuestion *q) {
        static uint8_t out[DNS_PACKET_MAX];
        struct in_addr addrs[40];
        DnsQuestion again;
        int l;

        for (size_t i = 0; i < ELEMENTSOF(addrs); i++)
                addrs[i].s_addr = htonl(0x0a000000 + (uint32_t) i);

        for (size_t limit = DNS_UDP_MAX; limit <= DNS_PACKET_MAX; limit += DNS_PACKET_MAX - DNS_UDP_MAX) {
                l = dns_packet_build_a(data, q, addrs, ELEMENTSOF(addrs), 60, out, limit);
                require(l == -ENOBUFS || (l >= (int) q->end && (size_t) l <= limit));
                if (l < 0)
                        continue;
                require(dns_packet_is_answer_to(out, (size_t) l, q->id, q));
                require(memcmp(out + DNS_HEADER_SIZE, data + DNS_HEADER_SIZE, q->end - DNS_HEADER_SIZE) == 0);
                /* Its question is the query's, read back. */
                out[2] &= 0x7f;
                require(dns_question_parse(out, (size_t) l, &again) == 0);
                require(streq(again.name, q->name) && again.qtype == q->qtype && again.qclass == q->qclass);
                require(again.end == q->end);
        }

        for (int rcode = DNS_RCODE_NOERROR; rcode <= DNS_RCODE_REFUSED; rcode++) {
                l = dns_packet_build_rcode(data, size, q, rcode, out, DNS_UDP_MAX);
                require(l == -ENOBUFS || l == (int) q->end);
                if (l > 0) {
                        require(dns_packet_get_rcode(out, (size_t) l) == rcode);
                        require(dns_packet_is_answer_to(out, (size_t) l, q->id, q));
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static uint8_t out[DNS_UDP_MAX];
        char name[DNS_NAME_TEXT_MAX + 1];
        DnsQuestion q;
        int r;

        r = dns_question_parse(data, size, &q);
        if (r == 0) {
                require(size >= DNS_HEADER_SIZE && q.end > DNS_HEADER_SIZE && q.end <= size);
                require(strlen(q.name) <= DNS_NAME_TEXT_MAX);
                require(q.name_plain == !strchr(q.name, '\\'));
                for (const char *c = q.name; *c; c++)
                        require(!(*c >= 'A' && *c <= 'Z'));
                check_answers(data, size, &q);
        } else {
                require(r == -EBADMSG || r == -EPROTO || r == -EOPNOTSUPP);
                require(r == -EBADMSG || size >= DNS_HEADER_SIZE);
                if (r != -EBADMSG)
                        require(dns_packet_build_rcode(data, size, NULL, DNS_RCODE_FORMERR, out, sizeof(out)) ==
                                DNS_HEADER_SIZE);
        }

        /* A name at every offset, as a response's records would have them: in bounds, moving on. */
        for (size_t off = 0; off < size && off < 4096; off++) {
                size_t pos = off;
                bool plain;
                if (dns_name_read(data, size, &pos, name, sizeof(name), &plain) == 0) {
                        require(pos > off && pos <= size);
                        require(strlen(name) <= DNS_NAME_TEXT_MAX);
                } else
                        require(pos == off);
        }

        if (size >= DNS_HEADER_SIZE) {
                require(dns_packet_get_id(data, size) == (data[0] << 8 | data[1]));
                require(dns_packet_get_rcode(data, size) == (data[3] & 0xf));
        } else
                require(dns_packet_get_id(data, size) == -EBADMSG);
        return 0;
}
