/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Durations as Docker's flags take and print them: Go's time.ParseDuration() and Duration.String().
 * Pure: no I/O, no logging. */

#include <stddef.h>
#include <stdint.h>

/* "1h2m3.5s", "300ms", "-1.5h", "0": a sign, then one or more decimal numbers (with an optional
 * fraction) each followed by a unit (ns, us, µs, μs, ms, s, m, h); "0" alone needs none. Into
 * nanoseconds. -EINVAL for anything else, and beyond what int64 nanoseconds hold (Go's
 * "invalid duration" too). */
int go_duration_parse(const char *s, int64_t *ret_nsec);

/* What Go's ParseDuration error says about s (without the flag's name): "time: invalid duration
 * \"x\"", "time: missing unit in duration \"1\"" or "time: unknown unit \"d\" in duration \"1d\"".
 * Into buf (truncated to size). */
void go_duration_error(const char *s, char *buf, size_t size);

/* Go's Duration.String(): "0s", "1.5s", "1m30s", "2h0m0s", "500ms", "1µs", "-5s". buf must hold
 * GO_DURATION_MAX bytes. */
#define GO_DURATION_MAX 40
char *go_duration_format(int64_t nsec, char buf[static GO_DURATION_MAX]);
