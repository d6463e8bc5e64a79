/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go templates: values printed as Go's fmt (%v, printf's verbs) and encoding/json print them. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-template-internal.h"

/* json-c keeps integers past INT64_MAX as uint64: read those as such. */
static int put_int(Buf *b, json_object *j) {
        int64_t i = json_object_get_int64(j);
        if (i == INT64_MAX)
                return buf_printf(b, "%" PRIu64, json_object_get_uint64(j));
        return buf_printf(b, "%" PRId64, i);
}

/* ---- numbers as Go prints them ---- */

/* The shortest digits that read back as d (finite, > 0) and the decimal point's place: d is
 * 0.DIGITS × 10^dp. Go's strconv with precision -1 prints these. */
static void float_digits(double d, char digits[24], int *ret_dp) {
        char tmp[48];
        const char *p;
        size_t n = 0;

        for (int prec = 1; prec <= 17; prec++) {
                snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
                if (strtod(tmp, NULL) == d)
                        break;
        }
        for (p = tmp; *p && *p != 'e'; p++)
                if (is_digit(*p) && n < 23)
                        digits[n++] = *p;
        while (n > 1 && digits[n - 1] == '0')
                n--;
        digits[n] = 0;
        *ret_dp = (*p ? atoi(p + 1) : 0) + 1;
}

/* Go's shortest float: %v (exponent form below 1e-4 and from 1e+06 on) or, for json, encoding/json's
 * (exponent form below 1e-6 and from 1e21 on, "e-7" not "e-07"). */
static int put_go_float(Buf *b, double d, bool json, bool upper) {
        char digits[24], out[80];
        size_t n = 0;
        int dp;

        if (isnan(d))
                return buf_puts(b, "NaN");
        if (isinf(d))
                return buf_puts(b, d > 0 ? "+Inf" : "-Inf");
        if (signbit(d)) {
                out[n++] = '-';
                d = -d;
        }
        if (d == 0) {
                out[n++] = '0';
                return buf_put(b, out, n);
        }
        float_digits(d, digits, &dp);
        int nd = (int) strlen(digits), exp = dp - 1;
        bool e_form = json ? (d < 1e-6 || d >= 1e21) : (exp < -4 || exp >= 6);
        if (e_form) {
                out[n++] = digits[0];
                if (nd > 1)
                        out[n++] = '.';
                for (int k = 1; k < nd; k++)
                        out[n++] = digits[k];
                n += (size_t) snprintf(out + n, sizeof out - n, json && exp < 0 ? "%c%+d" : "%c%+03d",
                                       upper ? 'E' : 'e', exp);
                return buf_put(b, out, n);
        }
        /* Plain form: at most 21 digits before the point and 6 zeros after it, so out is large enough. */
        if (dp <= 0) {
                out[n++] = '0';
                out[n++] = '.';
                for (int k = dp; k < 0; k++)
                        out[n++] = '0';
        }
        for (int k = 0; k < nd || k < dp; k++) {
                if (k == dp && dp > 0)
                        out[n++] = '.';
                out[n++] = k < nd ? digits[k] : '0';
        }
        return buf_put(b, out, n);
}

/* ---- printing: fmt's %v and encoding/json ---- */

static int put_map_v(Buf *b, json_object *j, unsigned depth) {
        _cleanup_free_ Entry *e = NULL;
        size_t n;
        int r = sorted_entries(j, &e, &n);
        if (r < 0)
                return r;
        r = buf_puts(b, "map[");
        for (size_t k = 0; r >= 0 && k < n; k++) {
                if (k > 0)
                        r = buf_putc(b, ' ');
                if (r >= 0)
                        r = buf_puts(b, e[k].key);
                if (r >= 0)
                        r = buf_putc(b, ':');
                if (r >= 0)
                        r = put_value(b, e[k].value, depth + 1);
        }
        return r < 0 ? r : buf_putc(b, ']');
}

/* fmt's %v of what encoding/json decodes: nil inside arrays and maps prints <nil>. */
/* "[e1<sep>e2...]", each element written by put at depth + 1: Go's %v and JSON arrays alike. */
static int put_array(Buf *b, json_object *j, unsigned depth, char sep,
                     int (*put)(Buf *b, json_object *j, unsigned depth)) {
        size_t n = json_object_array_length(j);
        int r = buf_putc(b, '[');
        for (size_t k = 0; r >= 0 && k < n; k++) {
                if (k > 0)
                        r = buf_putc(b, sep);
                if (r >= 0)
                        r = put(b, json_object_array_get_idx(j, k), depth + 1);
        }
        return r < 0 ? r : buf_putc(b, ']');
}

int put_value(Buf *b, json_object *j, unsigned depth) {
        size_t n;

        if (depth > VALUE_DEPTH_MAX)
                return -ELOOP;
        switch (jkind(j)) {
        case K_NIL:
                return buf_puts(b, "<nil>");
        case K_BOOL:
                return buf_puts(b, json_object_get_boolean(j) ? "true" : "false");
        case K_INT:
                return put_int(b, j);
        case K_FLOAT:
                return put_go_float(b, json_object_get_double(j), false, false);
        case K_STRING: {
                const char *s = jstring(j, &n);
                return buf_put(b, s, n);
        }
        case K_ARRAY:
                return put_array(b, j, depth, ' ', put_value);
        case K_MAP:
                return put_map_v(b, j, depth);
        }
        return -EINVAL;
}

/* encoding/json's string: no HTML escaping (Docker turns it off), \ufffd for bad UTF-8. */
static int put_json_string(Buf *b, const char *s, size_t n) {
        int r = buf_putc(b, '"');
        for (size_t i = 0; r >= 0 && i < n;) {
                unsigned char c = (unsigned char) s[i];
                uint32_t u;
                size_t len = utf8_decode(s + i, n - i, &u);
                const char *esc = c == '"' ? "\\\""
                        : c == '\\'        ? "\\\\"
                        : c == '\n'        ? "\\n"
                        : c == '\r'        ? "\\r"
                        : c == '\t'        ? "\\t"
                        : c == '\b'        ? "\\b"
                        : c == '\f'        ? "\\f"
                                           : NULL;
                if (esc)
                        r = buf_puts(b, esc);
                else if (c < 0x20)
                        r = buf_printf(b, "\\u%04x", c);
                else if (u == 0x2028 || u == 0x2029 || (u == 0xfffd && len == 1 && c >= 0x80))
                        r = buf_printf(b, "\\u%04x", u);
                else
                        r = buf_put(b, s + i, len);
                i += len;
        }
        return r < 0 ? r : buf_putc(b, '"');
}

/* encoding/json's Marshal, but members in the object's own order: Docker marshals structs, whose
 * order is the one the inspect JSON has. */
int put_json(Buf *b, json_object *j, unsigned depth) {
        size_t n;
        int r;

        if (depth > VALUE_DEPTH_MAX)
                return -ELOOP;
        switch (jkind(j)) {
        case K_NIL:
                return buf_puts(b, "null");
        case K_BOOL:
        case K_INT:
                return put_value(b, j, depth);
        case K_FLOAT:
                if (!isfinite(json_object_get_double(j)))
                        return -EDOM;
                return put_go_float(b, json_object_get_double(j), true, false);
        case K_STRING: {
                const char *s = jstring(j, &n);
                return put_json_string(b, s, n);
        }
        case K_ARRAY:
                return put_array(b, j, depth, ',', put_json);
        case K_MAP: {
                struct json_object_iterator it = json_object_iter_begin(j), end = json_object_iter_end(j);
                r = buf_putc(b, '{');
                for (bool first = true; r >= 0 && !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                        const char *key = json_object_iter_peek_name(&it);
                        if (!first)
                                r = buf_putc(b, ',');
                        first = false;
                        if (r >= 0)
                                r = put_json_string(b, key, strlen(key));
                        if (r >= 0)
                                r = buf_putc(b, ':');
                        if (r >= 0)
                                r = put_json(b, json_object_iter_peek_value(&it), depth + 1);
                }
                return r < 0 ? r : buf_putc(b, '}');
        }
        }
        return -EINVAL;
}

/* strconv.Quote (q '"') and QuoteRune (q '\''); printable non-ASCII stays as it is. */
static int put_go_quoted(Buf *b, const char *s, size_t n, char q) {
        int r = buf_putc(b, q);
        for (size_t i = 0; r >= 0 && i < n;) {
                unsigned char c = (unsigned char) s[i];
                uint32_t u;
                size_t len = utf8_decode(s + i, n - i, &u);
                const char *esc = c == '\a' ? "\\a"
                        : c == '\b'         ? "\\b"
                        : c == '\f'         ? "\\f"
                        : c == '\n'         ? "\\n"
                        : c == '\r'         ? "\\r"
                        : c == '\t'         ? "\\t"
                        : c == '\v'         ? "\\v"
                        : c == '\\'         ? "\\\\"
                                            : NULL;
                if (esc)
                        r = buf_puts(b, esc);
                else if (c == (unsigned char) q)
                        r = buf_printf(b, "\\%c", q);
                else if (c < 0x20 || c == 0x7f || (u == 0xfffd && len == 1 && c >= 0x80))
                        r = buf_printf(b, "\\x%02x", c);
                else
                        r = buf_put(b, s + i, len);
                i += len;
        }
        return r < 0 ? r : buf_putc(b, q);
}

/* ---- printf ---- */

typedef struct Spec {
        bool minus, plus, sharp, space, zero;
        int width, prec; /* -1: not given */
        Span verb; /* one character */
} Spec;

/* fmt's padding to the width in characters: on the right for '-', with zeros after the sign for
 * numbers with '0'. */
static int put_padded(Buf *b, const Spec *sp, const char *s, size_t n, bool numeric) {
        size_t chars = sp->width > 0 ? utf8_count(s, n) : 0;
        size_t fill = sp->width > 0 && (size_t) sp->width > chars ? (size_t) sp->width - chars : 0;
        int r;

        if (fill == 0)
                return buf_put(b, s, n);
        if (sp->minus)
                return (r = buf_put(b, s, n)) < 0 ? r : buf_fill(b, ' ', fill);
        if (sp->zero && numeric) {
                size_t sign = n > 0 && (s[0] == '+' || s[0] == '-' || s[0] == ' ') ? 1 : 0;
                if ((r = buf_put(b, s, sign)) < 0 || (r = buf_fill(b, '0', fill)) < 0)
                        return r;
                return buf_put(b, s + sign, n - sign);
        }
        return (r = buf_fill(b, ' ', fill)) < 0 ? r : buf_put(b, s, n);
}

/* "%!d(string=abc)": fmt's answer to a verb that does not fit the value. */
static int put_bad_verb(Buf *b, const Spec *sp, json_object *j) {
        int r = buf_puts(b, "%!");
        if (r >= 0)
                r = buf_put(b, sp->verb.s, sp->verb.n);
        if (r >= 0)
                r = buf_putc(b, '(');
        if (r >= 0 && jkind(j) == K_NIL)
                r = buf_puts(b, "<nil>");
        else if (r >= 0 && (r = buf_puts(b, kind_name(jkind(j)))) >= 0 && (r = buf_putc(b, '=')) >= 0)
                r = put_value(b, j, 1);
        return r < 0 ? r : buf_putc(b, ')');
}

static int fmt_int(Buf *b, const Spec *sp, json_object *j) {
        char verb = sp->verb.s[0], digits[72], rune[4];
        int64_t i = json_object_get_int64(j);
        bool neg = i < 0;
        uint64_t u = i == INT64_MAX ? json_object_get_uint64(j) : neg ? (uint64_t) 0 - (uint64_t) i : (uint64_t) i;
        unsigned base = verb == 'b' ? 2 : verb == 'o' || verb == 'O' ? 8 : verb == 'x' || verb == 'X' ? 16 : 10;
        const char *prefix = "", *sym = verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
        _cleanup_(buf_done) Buf body = {};
        Spec spaces = *sp;
        size_t nd = 0;
        int r;

        spaces.zero = false; /* zeros, if any, are put in as precision */
        if (verb == 'c' || verb == 'q') {
                size_t len = utf8_encode(rune, u > 0x10ffff ? 0xfffd : (uint32_t) u);
                r = verb == 'c' ? buf_put(&body, rune, len) : put_go_quoted(&body, rune, len, '\'');
                return r < 0 ? r : put_padded(b, &spaces, body.s, body.n, false);
        }
        if (verb == 'U') {
                r = buf_printf(&body, "U+%04" PRIX64, u);
                return r < 0 ? r : put_padded(b, &spaces, body.s, body.n, false);
        }
        if (!strchr("vdboOxX", verb))
                return put_bad_verb(b, sp, j);
        /* As fmt: precision is the least number of digits, and "%.0d" of 0 is nothing; '0' without a
         * precision means zeros up to the width, less the sign. */
        for (uint64_t v = u; v > 0; v /= base)
                digits[nd++] = sym[v % base];
        if (nd == 0 && sp->prec != 0)
                digits[nd++] = '0';
        int prec = sp->prec >= 0                          ? sp->prec
                : sp->zero && !sp->minus && sp->width > 0 ? sp->width - (neg || sp->plus || sp->space)
                                                          : 0;
        if (sp->sharp || verb == 'O')
                prefix = verb == 'x'                                                            ? "0x"
                        : verb == 'X'                                                           ? "0X"
                        : verb == 'b'                                                           ? "0b"
                        : verb == 'O'                                                           ? "0o"
                        : verb == 'o' && (nd == 0 || digits[nd - 1] != '0') && prec <= (int) nd ? "0"
                                                                                                : "";
        if (neg)
                r = buf_putc(&body, '-');
        else
                r = sp->plus || sp->space ? buf_putc(&body, sp->plus ? '+' : ' ') : 0;
        if (r >= 0)
                r = buf_puts(&body, prefix);
        if (r >= 0 && prec > (int) nd)
                r = buf_fill(&body, '0', (size_t) prec - nd);
        while (r >= 0 && nd > 0)
                r = buf_putc(&body, digits[--nd]);
        return r < 0 ? r : put_padded(b, &spaces, body.s ? body.s : "", body.n, false);
}

static int fmt_float(Buf *b, const Spec *sp, json_object *j) {
        char verb = sp->verb.s[0];
        double d = json_object_get_double(j);
        _cleanup_(buf_done) Buf num = {};
        int r;

        if (!strchr("vgGeEfF", verb))
                return put_bad_verb(b, sp, j);
        if (!isfinite(d)) {
                r = buf_puts(&num, isnan(d) ? (sp->plus ? "+NaN" : "NaN") : d > 0 ? "+Inf" : "-Inf");
                return r < 0 ? r : put_padded(b, sp, num.s, num.n, false);
        }
        int prec = sp->prec >= 0 ? sp->prec : 6;
        if ((verb == 'v' || verb == 'g' || verb == 'G') && sp->prec < 0)
                r = put_go_float(&num, d, false, verb == 'G');
        else if (verb == 'v' || verb == 'g')
                r = buf_printf(&num, "%.*g", prec, d);
        else if (verb == 'G')
                r = buf_printf(&num, "%.*G", prec, d);
        else if (verb == 'e')
                r = buf_printf(&num, "%.*e", prec, d);
        else if (verb == 'E')
                r = buf_printf(&num, "%.*E", prec, d);
        else
                r = buf_printf(&num, "%.*f", prec, d);
        if (r < 0)
                return r;
        /* Whatever the locale, Go's decimal point is a dot. */
        for (char *p = num.s; *p; p++)
                if (!is_digit(*p) && !strchr("+-eE", *p))
                        *p = '.';
        if (num.s[0] != '-' && (sp->plus || sp->space)) {
                Buf signed_num = {};
                if ((r = buf_putc(&signed_num, sp->plus ? '+' : ' ')) < 0 ||
                    (r = buf_put(&signed_num, num.s, num.n)) < 0) {
                        buf_done(&signed_num);
                        return r;
                }
                buf_done(&num);
                num = signed_num;
        }
        return put_padded(b, sp, num.s, num.n, true);
}

static int fmt_string(Buf *b, const Spec *sp, json_object *j) {
        char verb = sp->verb.s[0];
        _cleanup_(buf_done) Buf tmp = {};
        size_t n;
        const char *s = jstring(j, &n);
        uint32_t c;
        int r = 0;

        if (!strchr("vsqxX", verb))
                return put_bad_verb(b, sp, j);
        if (sp->prec >= 0) { /* at most prec characters (bytes for %x) */
                size_t cut = 0;
                for (int k = 0; k < sp->prec && cut < n; k++)
                        cut += verb == 'x' || verb == 'X' ? 1 : utf8_decode(s + cut, n - cut, &c);
                n = cut;
        }
        if (verb == 'q')
                r = put_go_quoted(&tmp, s, n, '"');
        else if (verb == 'x' || verb == 'X')
                for (size_t k = 0; r >= 0 && k < n; k++)
                        r = buf_printf(&tmp, verb == 'x' ? "%02x" : "%02X", (unsigned char) s[k]);
        else
                return put_padded(b, sp, s, n, false);
        return r < 0 ? r : put_padded(b, sp, tmp.s ? tmp.s : "", tmp.n, false);
}

static int fmt_arg(Buf *b, const Spec *sp, json_object *j, unsigned depth);

/* fmt applies the verb to each element of arrays and maps. */
static int fmt_container(Buf *b, const Spec *sp, json_object *j, unsigned depth) {
        _cleanup_free_ Entry *e = NULL;
        size_t n;
        int r;

        if (jkind(j) == K_ARRAY) {
                n = json_object_array_length(j);
                r = buf_putc(b, '[');
                for (size_t k = 0; r >= 0 && k < n; k++)
                        if (k == 0 || (r = buf_putc(b, ' ')) >= 0)
                                r = fmt_arg(b, sp, json_object_array_get_idx(j, k), depth + 1);
                return r < 0 ? r : buf_putc(b, ']');
        }
        if ((r = sorted_entries(j, &e, &n)) < 0)
                return r;
        r = buf_puts(b, "map[");
        for (size_t k = 0; r >= 0 && k < n; k++) {
                json_object *key = json_object_new_string(e[k].key);
                if (!key)
                        return -ENOMEM;
                if (k > 0)
                        r = buf_putc(b, ' ');
                if (r >= 0)
                        r = fmt_arg(b, sp, key, depth + 1);
                json_object_put(key);
                if (r >= 0)
                        r = buf_putc(b, ':');
                if (r >= 0)
                        r = fmt_arg(b, sp, e[k].value, depth + 1);
        }
        return r < 0 ? r : buf_putc(b, ']');
}

static int fmt_arg(Buf *b, const Spec *sp, json_object *j, unsigned depth) {
        char verb = sp->verb.s[0];
        Kind k = jkind(j);

        if (depth > VALUE_DEPTH_MAX)
                return -ELOOP;
        if (verb == 0) /* a NUL in the format, which strchr() below would take for a verb */
                return put_bad_verb(b, sp, j);
        if (verb == 'T')
                return put_padded(b, sp, kind_name(k), strlen(kind_name(k)), false);
        switch (k) {
        case K_NIL:
                return verb == 'v' ? put_padded(b, sp, "<nil>", 5, false) : put_bad_verb(b, sp, j);
        case K_BOOL:
                if (verb != 'v' && verb != 't')
                        return put_bad_verb(b, sp, j);
                return json_object_get_boolean(j) ? put_padded(b, sp, "true", 4, false)
                                                  : put_padded(b, sp, "false", 5, false);
        case K_INT:
                return fmt_int(b, sp, j);
        case K_FLOAT:
                return fmt_float(b, sp, j);
        case K_STRING:
                return fmt_string(b, sp, j);
        default:
                return fmt_container(b, sp, j, depth);
        }
}

/* A width or precision: digits, or '*' for an int argument. false when bad, as fmt's BADWIDTH. */
static bool fmt_number(const char *f, size_t n, size_t *i, Value *argv, size_t argc, size_t *arg, int *ret) {
        if (*i < n && f[*i] == '*') {
                (*i)++;
                if (*arg >= argc || kind_of(&argv[*arg]) != K_INT)
                        return (*arg)++, false;
                int64_t v = json_object_get_int64(argv[(*arg)++].j);
                if (v > FMT_NUM_MAX || v < -FMT_NUM_MAX)
                        return false;
                *ret = (int) v;
                return true;
        }
        int v = 0;
        for (; *i < n && is_digit(f[*i]); (*i)++) {
                if (v > FMT_NUM_MAX)
                        return false;
                v = v * 10 + (f[*i] - '0');
        }
        *ret = v;
        return true;
}

/* One directive after its '%'; false when the format ends in it (fmt's NOVERB). */
static bool fmt_parse_spec(const char *f, size_t n, size_t *i, Value *argv, size_t argc, size_t *arg, Spec *sp,
                           const char **ret_bad) {
        uint32_t c;

        *sp = (Spec){ .width = -1, .prec = -1 };
        *ret_bad = NULL;
        for (; *i < n && strchr("#0+- ", f[*i]) && f[*i]; (*i)++)
                switch (f[*i]) {
                case '#':
                        sp->sharp = true;
                        break;
                case '0':
                        sp->zero = !sp->minus;
                        break;
                case '+':
                        sp->plus = true;
                        break;
                case '-':
                        sp->minus = true;
                        sp->zero = false;
                        break;
                default:
                        sp->space = true;
                }
        if (*i < n && (f[*i] == '*' || is_digit(f[*i]))) {
                bool star = f[*i] == '*';
                if (!fmt_number(f, n, i, argv, argc, arg, &sp->width)) {
                        if (!star)
                                return false; /* fmt gives up on the rest of the format */
                        *ret_bad = "%!(BADWIDTH)";
                        sp->width = -1;
                } else if (sp->width < 0) {
                        sp->minus = true;
                        sp->zero = false;
                        sp->width = -sp->width;
                }
        }
        if (*i < n && f[*i] == '.') {
                (*i)++;
                bool star = *i < n && f[*i] == '*';
                if (!fmt_number(f, n, i, argv, argc, arg, &sp->prec)) {
                        if (!star)
                                return false;
                        *ret_bad = "%!(BADPREC)";
                        sp->prec = -1;
                } else if (sp->prec < 0)
                        sp->prec = -1;
        }
        if (*i >= n)
                return false;
        sp->verb = (Span){ f + *i, utf8_decode(f + *i, n - *i, &c) };
        *i += sp->verb.n;
        return true;
}

/* fmt.Sprintf, its verbs for the values JSON has and its complaints: %!d(MISSING), %!(EXTRA …). */
int go_sprintf(Buf *b, const char *f, size_t n, Value *argv, size_t argc) {
        size_t i = 0, arg = 0;
        int r = 0;

        while (r >= 0 && i < n) {
                const char *pct = memchr(f + i, '%', n - i);
                size_t run = pct ? (size_t) (pct - f) - i : n - i;
                const char *bad;
                Spec sp;

                if ((r = buf_put(b, f + i, run)) < 0 || !pct)
                        break;
                i += run + 1;
                if (!fmt_parse_spec(f, n, &i, argv, argc, &arg, &sp, &bad)) {
                        r = buf_puts(b, "%!(NOVERB)");
                        break;
                }
                if (bad && (r = buf_puts(b, bad)) < 0)
                        break;
                if (sp.verb.s[0] == '%')
                        r = buf_putc(b, '%');
                else if (arg >= argc) {
                        if ((r = buf_puts(b, "%!")) >= 0 && (r = buf_put(b, sp.verb.s, sp.verb.n)) >= 0)
                                r = buf_puts(b, "(MISSING)");
                } else {
                        r = fmt_arg(b, &sp, argv[arg].j, 0);
                        arg++;
                }
        }
        if (r >= 0 && arg < argc) {
                r = buf_puts(b, "%!(EXTRA ");
                for (size_t k = arg; r >= 0 && k < argc; k++) {
                        if (k > arg)
                                r = buf_puts(b, ", ");
                        if (r >= 0 && kind_of(&argv[k]) != K_NIL &&
                            (r = buf_puts(b, kind_name(kind_of(&argv[k])))) >= 0)
                                r = buf_putc(b, '=');
                        if (r >= 0)
                                r = put_value(b, argv[k].j, 0);
                }
                if (r >= 0)
                        r = buf_putc(b, ')');
        }
        return r;
}
