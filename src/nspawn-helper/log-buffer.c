/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log-buffer.h"

int log_ring_init(LogRing *r, size_t size) {
        *r = (LogRing){ .size = size, .reserve = LOG_RING_RESERVE };
        r->data = malloc(size + r->reserve);
        return r->data ? 0 : -ENOMEM;
}

void log_ring_done(LogRing *r) {
        free(r->data);
        *r = (LogRing){};
}

static size_t capacity(const LogRing *r) {
        return r->size + r->reserve;
}

/* Copy n bytes in at the ring's offset pos (which wraps). */
static void copy_in(LogRing *r, size_t pos, const void *src, size_t n) {
        size_t cap = capacity(r), first = pos + n <= cap ? n : cap - pos;
        memcpy(r->data + pos, src, first);
        memcpy(r->data, (const char *) src + first, n - first);
}

static void copy_out(const LogRing *r, size_t pos, void *dst, size_t n) {
        size_t cap = capacity(r), first = pos + n <= cap ? n : cap - pos;
        memcpy(dst, r->data + pos, first);
        memcpy((char *) dst + first, r->data, n - first);
}

int log_ring_push(LogRing *r, int priority, bool partial, const char *line, size_t len, bool reserved) {
        size_t need = LOG_RING_HEADER_SIZE + len, limit = reserved ? capacity(r) : r->size;
        if (len > UINT32_MAX || r->used > limit || need > limit - r->used)
                return -ENOBUFS;
        uint8_t header[LOG_RING_HEADER_SIZE] = { (uint8_t) len,         (uint8_t) (len >> 8), (uint8_t) (len >> 16),
                                                 (uint8_t) (len >> 24), (uint8_t) priority,   partial };
        size_t cap = capacity(r), tail = (r->head + r->used) % cap;
        copy_in(r, tail, header, sizeof(header));
        copy_in(r, (tail + sizeof(header)) % cap, line, len);
        r->used += need;
        return 0;
}

int log_ring_pop(LogRing *r, int *ret_priority, bool *ret_partial, char *buf, size_t buf_size, size_t *ret_len) {
        uint8_t header[LOG_RING_HEADER_SIZE];
        size_t cap = capacity(r);

        if (r->used == 0)
                return 0;
        copy_out(r, r->head, header, sizeof(header));
        size_t len = header[0] | (size_t) header[1] << 8 | (size_t) header[2] << 16 | (size_t) header[3] << 24;
        if (len > buf_size)
                return -ENOBUFS;
        copy_out(r, (r->head + sizeof(header)) % cap, buf, len);
        r->head = (r->head + sizeof(header) + len) % cap;
        r->used -= sizeof(header) + len;
        if (r->used == 0)
                r->head = 0; /* the next entries lie in one piece */
        *ret_priority = header[4];
        *ret_partial = header[5];
        *ret_len = len;
        return 1;
}

bool log_ratelimit_test(LogRateLimit *rl, uint64_t now_usec) {
        if (rl->interval_usec == 0 || rl->burst == 0)
                return true;
        if (!rl->started || now_usec - rl->begin_usec >= rl->interval_usec) {
                rl->started = true;
                rl->begin_usec = now_usec;
                rl->count = 0;
        }
        if (rl->count >= rl->burst)
                return false;
        rl->count++;
        return true;
}
