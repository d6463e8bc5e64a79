/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"

int ipv4_parse(const char *s, uint32_t *ret) {
        struct in_addr a;
        if (!s || inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        *ret = ntohl(a.s_addr);
        return 0;
}

uint32_t ipv4_net_mask(unsigned prefixlen) {
        return prefixlen == 0 ? 0 : prefixlen >= 32 ? UINT32_MAX : ~(UINT32_MAX >> prefixlen);
}

int ipv4_net_parse(const char *s, Ipv4Net *ret) {
        char addr[INET_ADDRSTRLEN];
        const char *slash = s ? strchr(s, '/') : NULL;
        if (!slash || (size_t) (slash - s) >= sizeof(addr) || !slash[1] || strlen(slash + 1) > 2)
                return -EINVAL;
        memcpy(addr, s, (size_t) (slash - s));
        addr[slash - s] = 0;
        char *end;
        unsigned long p = strtoul(slash + 1, &end, 10);
        uint32_t a;
        if (*end || p > 32 || slash[1] < '0' || slash[1] > '9' || ipv4_parse(addr, &a) < 0)
                return -EINVAL;
        if (a & ~ipv4_net_mask((unsigned) p))
                return -EADDRNOTAVAIL;
        *ret = (Ipv4Net){ .addr = a, .prefixlen = (unsigned) p };
        return 0;
}

const char *ipv4_to_string(uint32_t a, char buf[static 16]) {
        snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
        return buf;
}

const char *ipv4_net_to_string(const Ipv4Net *n, char buf[static 19]) {
        char a[16];
        snprintf(buf, 19, "%s/%u", ipv4_to_string(n->addr, a), n->prefixlen);
        return buf;
}

uint32_t ipv4_net_broadcast(const Ipv4Net *n) {
        return n->addr | ~ipv4_net_mask(n->prefixlen);
}

bool ipv4_net_contains(const Ipv4Net *n, uint32_t a) {
        return (a & ipv4_net_mask(n->prefixlen)) == n->addr;
}

bool ipv4_net_overlaps(const Ipv4Net *a, const Ipv4Net *b) {
        unsigned p = a->prefixlen < b->prefixlen ? a->prefixlen : b->prefixlen;
        uint32_t mask = ipv4_net_mask(p);
        return (a->addr & mask) == (b->addr & mask);
}

bool ipv4_net_within(const Ipv4Net *a, const Ipv4Net *b) {
        return b->prefixlen >= a->prefixlen && ipv4_net_contains(a, b->addr);
}

static bool overlaps_any(const Ipv4Net *n, const Ipv4Net *taken, size_t n_taken) {
        for (size_t i = 0; i < n_taken; i++)
                /* A default route (0.0.0.0/0) overlaps everything and takes nothing. */
                if (taken[i].prefixlen > 0 && ipv4_net_overlaps(n, &taken[i]))
                        return true;
        return false;
}

int ipam_pick_subnet(bool default_bridge, const Ipv4Net *taken, size_t n_taken, Ipv4Net *ret) {
        Ipv4Net candidate;
        if (default_bridge) {
                candidate = (Ipv4Net){ .addr = 0xAC110000, .prefixlen = 16 }; /* 172.17.0.0/16 */
                if (overlaps_any(&candidate, taken, n_taken))
                        return -ENOSPC;
                *ret = candidate;
                return 0;
        }
        for (uint32_t second = 18; second <= 31; second++) {
                candidate = (Ipv4Net){ .addr = 0xAC000000 | (second << 16), .prefixlen = 16 };
                if (!overlaps_any(&candidate, taken, n_taken)) {
                        *ret = candidate;
                        return 0;
                }
        }
        for (uint32_t third = 0; third < 256; third += 16) {
                candidate = (Ipv4Net){ .addr = 0xC0A80000 | (third << 8), .prefixlen = 20 };
                if (!overlaps_any(&candidate, taken, n_taken)) {
                        *ret = candidate;
                        return 0;
                }
        }
        return -ENOSPC;
}

bool ipam_address_is_assignable(const Ipv4Net *subnet, uint32_t gateway, uint32_t a) {
        if (!ipv4_net_contains(subnet, a) || a == gateway)
                return false;
        if (subnet->prefixlen >= 31) /* point to point: both addresses are hosts */
                return true;
        return a != subnet->addr && a != ipv4_net_broadcast(subnet);
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        return x < y ? -1 : x > y;
}

int ipam_allocate(const Ipv4Net *subnet, const Ipv4Net *range, uint32_t gateway, const uint32_t *used, size_t n_used,
                  uint32_t *ret) {
        const Ipv4Net *pool = range ? range : subnet;
        uint32_t *sorted = n_used ? malloc(n_used * sizeof(uint32_t)) : NULL;
        if (n_used && !sorted)
                return -ENOMEM;
        if (n_used) {
                memcpy(sorted, used, n_used * sizeof(uint32_t));
                qsort(sorted, n_used, sizeof(uint32_t), cmp_u32);
        }
        /* Walk the pool and the sorted leases together: linear in both. */
        size_t i = 0;
        uint64_t last = (uint64_t) ipv4_net_broadcast(pool);
        for (uint64_t a = pool->addr; a <= last; a++) {
                while (i < n_used && sorted[i] < a)
                        i++;
                if (i < n_used && sorted[i] == a)
                        continue;
                if (ipam_address_is_assignable(subnet, gateway, (uint32_t) a)) {
                        free(sorted);
                        *ret = (uint32_t) a;
                        return 0;
                }
        }
        free(sorted);
        return -ENOSPC;
}

void ipam_mac_for(uint32_t a, uint8_t mac[static 6]) {
        mac[0] = 0x02;
        mac[1] = 0x42;
        mac[2] = (uint8_t) (a >> 24);
        mac[3] = (uint8_t) (a >> 16);
        mac[4] = (uint8_t) (a >> 8);
        mac[5] = (uint8_t) a;
}

int mac_parse(const char *s, uint8_t ret[static 6]) {
        unsigned v[6];
        char sep[5], tail;
        if (!s || strlen(s) != 17)
                return -EINVAL;
        if (sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &v[0], &sep[0], &v[1], &sep[1], &v[2], &sep[2], &v[3], &sep[3],
                   &v[4], &sep[4], &v[5], &tail) != 11)
                return -EINVAL;
        for (size_t i = 0; i < 5; i++)
                if (sep[i] != sep[0] || (sep[i] != ':' && sep[i] != '-'))
                        return -EINVAL;
        for (size_t i = 0; i < 17; i++)
                if (i % 3 != 2 && !strchr("0123456789abcdefABCDEF", s[i]))
                        return -EINVAL;
        if (v[0] & 1) /* multicast */
                return -EINVAL;
        for (size_t i = 0; i < 6; i++)
                ret[i] = (uint8_t) v[i];
        return 0;
}

const char *mac_to_string(const uint8_t mac[static 6], char buf[static 18]) {
        snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
        return buf;
}
