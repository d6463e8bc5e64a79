/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --log-opt mode=non-blocking: the payload's lines wait here for the journal, in a ring of a fixed
 * number of bytes (max-buffer-size), so a slow journal never stalls the payload; what does not fit
 * is dropped (and counted by the caller). Each entry is a header (length, priority, partial) and
 * the line's bytes, which may wrap around the end. Not thread-safe: the caller locks. */
typedef struct LogRing {
        char *data;
        size_t size; /* max-buffer-size */
        size_t reserve; /* extra bytes only log_ring_push(..., reserved=true) may use */
        size_t head; /* the oldest entry's first byte */
        size_t used;
} LogRing;

/* The header of each entry, counted against the size as the line's bytes are. */
#define LOG_RING_HEADER_SIZE 8
/* Room kept for what must not be lost when the ring is full: the closing piece of a line whose
 * first pieces went out (else the line would run into the next), and the report of the drops. */
#define LOG_RING_RESERVE 256

int log_ring_init(LogRing *r, size_t size);
void log_ring_done(LogRing *r);
/* -ENOBUFS when the entry does not fit (the ring is left as it was). */
int log_ring_push(LogRing *r, int priority, bool partial, const char *line, size_t len, bool reserved);
/* The oldest entry into buf (at least as big as the longest line pushed): 1, or 0 when empty. */
int log_ring_pop(LogRing *r, int *ret_priority, bool *ret_partial, char *buf, size_t buf_size, size_t *ret_len);

/* --log-opt rate-limit-interval=, rate-limit-burst=: at most burst lines per interval (a fixed
 * window that starts with the first line after the last window ended). Either 0: no limit. */
typedef struct LogRateLimit {
        uint64_t interval_usec;
        uint64_t burst;
        uint64_t begin_usec;
        uint64_t count;
        bool started;
} LogRateLimit;

/* Whether a line that begins at now_usec (CLOCK_MONOTONIC) may pass. */
bool log_ratelimit_test(LogRateLimit *rl, uint64_t now_usec);
