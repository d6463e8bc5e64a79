/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go's time.ParseDuration() and Duration.String(), which Docker's --health-* flags use. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "go-duration.h"

static const struct {
        const char *name;
        uint64_t nsec;
} units[] = {
        { "ns", 1 },           { "us", 1000 },         { "\xc2\xb5s", 1000 }, /* U+00B5 micro sign */
        { "\xce\xbcs", 1000 }, /* U+03BC Greek small letter mu */
        { "ms", 1000000 },     { "s", 1000000000ULL }, { "m", 60 * 1000000000ULL }, { "h", 3600 * 1000000000ULL },
};

/* Why s is not a duration: 0 (it is one), or the kind of error as go_duration_error() words it. */
typedef enum { DURATION_OK, DURATION_INVALID, DURATION_MISSING_UNIT, DURATION_UNKNOWN_UNIT } DurationError;

static DurationError parse(const char *s, int64_t *ret, const char **ret_unit, size_t *ret_unit_len) {
        const char *p = s;
        bool neg = false;
        uint64_t total = 0;

        if (*p == '-' || *p == '+')
                neg = *p++ == '-';
        if (strcmp(p, "0") == 0) {
                *ret = 0;
                return DURATION_OK;
        }
        if (*p == 0)
                return DURATION_INVALID;
        while (*p) {
                uint64_t whole = 0, frac = 0, scale = 1;
                bool digits = false, overflow = false;
                if (!(*p == '.' || (*p >= '0' && *p <= '9')))
                        return DURATION_INVALID;
                for (; *p >= '0' && *p <= '9'; p++) {
                        digits = true;
                        if (whole > (UINT64_MAX - 9) / 10)
                                return DURATION_INVALID; /* Go: overflow is "invalid duration" */
                        whole = whole * 10 + (uint64_t) (*p - '0');
                }
                if (*p == '.') {
                        p++;
                        for (; *p >= '0' && *p <= '9'; p++) {
                                digits = true;
                                if (overflow)
                                        continue; /* Go drops digits beyond what it can hold */
                                if (frac > (UINT64_MAX - 9) / 10 || scale > UINT64_MAX / 10) {
                                        overflow = true;
                                        continue;
                                }
                                frac = frac * 10 + (uint64_t) (*p - '0');
                                scale *= 10;
                        }
                }
                if (!digits)
                        return DURATION_INVALID;
                const char *u = p;
                while (*p && *p != '.' && !(*p >= '0' && *p <= '9'))
                        p++;
                size_t ulen = (size_t) (p - u);
                if (ulen == 0)
                        return DURATION_MISSING_UNIT;
                uint64_t unit = 0;
                for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                        if (strlen(units[i].name) == ulen && !memcmp(units[i].name, u, ulen))
                                unit = units[i].nsec;
                if (unit == 0) {
                        *ret_unit = u;
                        *ret_unit_len = ulen;
                        return DURATION_UNKNOWN_UNIT;
                }
                if (whole > (UINT64_C(1) << 63) / unit)
                        return DURATION_INVALID;
                uint64_t v = whole * unit;
                /* The fraction's share, as Go computes it (in float64 there; exact here). */
                if (frac > 0)
                        v += (uint64_t) ((long double) frac * (long double) unit / (long double) scale);
                if (v > (UINT64_C(1) << 63))
                        return DURATION_INVALID;
                total += v;
                if (total > (UINT64_C(1) << 63))
                        return DURATION_INVALID;
        }
        if (!neg && total > (uint64_t) INT64_MAX)
                return DURATION_INVALID;
        *ret = neg ? (int64_t) (0 - total) : (int64_t) total;
        return DURATION_OK;
}

int go_duration_parse(const char *s, int64_t *ret_nsec) {
        const char *u;
        size_t ulen;
        int64_t v;
        if (!s || parse(s, &v, &u, &ulen) != DURATION_OK)
                return -EINVAL;
        *ret_nsec = v;
        return 0;
}

void go_duration_error(const char *s, char *buf, size_t size) {
        const char *u = NULL;
        size_t ulen = 0;
        int64_t v;
        switch (parse(s, &v, &u, &ulen)) {
        case DURATION_MISSING_UNIT:
                snprintf(buf, size, "time: missing unit in duration \"%s\"", s);
                break;
        case DURATION_UNKNOWN_UNIT:
                snprintf(buf, size, "time: unknown unit \"%.*s\" in duration \"%s\"", (int) ulen, u, s);
                break;
        default:
                snprintf(buf, size, "time: invalid duration \"%s\"", s);
                break;
        }
}

/* The digits of v / 10^prec with prec fractional digits, trailing zeros (and the dot) dropped. */
static size_t format_fraction(char *out, uint64_t v, unsigned prec) {
        char digits[32];
        size_t n = 0;
        bool printed = false;
        for (unsigned i = 0; i < prec; i++) {
                unsigned d = (unsigned) (v % 10);
                printed = printed || d != 0;
                if (printed)
                        digits[n++] = (char) ('0' + d);
                v /= 10;
        }
        if (printed)
                digits[n++] = '.';
        int len = snprintf(out, 24, "%" PRIu64, v);
        size_t k = (size_t) len;
        while (n > 0)
                out[k++] = digits[--n];
        out[k] = 0;
        return k;
}

char *go_duration_format(int64_t nsec, char buf[static GO_DURATION_MAX]) {
        uint64_t u = nsec < 0 ? 0 - (uint64_t) nsec : (uint64_t) nsec;
        char *p = buf;

        if (nsec == 0)
                return strcpy(buf, "0s");
        if (nsec < 0)
                *p++ = '-';
        if (u < 1000000000ULL) {
                /* Below a second: the largest of ns, µs, ms that fits, with a fraction. */
                if (u < 1000)
                        sprintf(p, "%" PRIu64 "ns", u);
                else if (u < 1000000)
                        strcpy(p + format_fraction(p, u, 3), "\xc2\xb5s");
                else
                        strcpy(p + format_fraction(p, u, 6), "ms");
                return buf;
        }
        uint64_t hours = u / (3600 * 1000000000ULL), rest = u % (3600 * 1000000000ULL);
        uint64_t minutes = rest / (60 * 1000000000ULL), secs = rest % (60 * 1000000000ULL);
        if (hours > 0)
                p += sprintf(p, "%" PRIu64 "h", hours);
        if (hours > 0 || minutes > 0)
                p += sprintf(p, "%" PRIu64 "m", minutes);
        strcpy(p + format_fraction(p, secs, 9), "s");
        return buf;
}
