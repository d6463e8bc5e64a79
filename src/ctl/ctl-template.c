/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go's text/template, the part of it Docker's --format templates use. Like Go, the template is lexed
 * and parsed into a tree first, so that a syntax error anywhere is reported before any output, then the
 * tree is executed over the json-c object. Names, printing and messages follow Go (text/template, fmt,
 * encoding/json) because users copy their templates and expectations from Docker. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-template.h"
#include "macro.h"

/* Limits, so that no template can crash berthctl or keep it busy: */
#define OUTPUT_MAX      (16u << 20) /* bytes of any one string, the output included */
#define MADE_MAX        (256u << 20) /* bytes of strings made by functions in one execution */
#define NEST_MAX        100 /* control structures and parentheses inside each other */
#define VALUE_DEPTH_MAX 256 /* arrays and objects inside each other, when printed */
#define STEPS_MAX       (4u << 20) /* nodes and pipelines executed: nested ranges multiply */
#define SPLIT_MAX       (1u << 20) /* pieces "split" may return */
#define FMT_NUM_MAX     1000000 /* printf widths and precisions, as Go's fmt */
#define SHOW_MAX        60 /* bytes of template quoted in a message */

typedef struct Span {
        const char *s;
        size_t n;
} Span;

typedef struct Buf {
        char *s;
        size_t n, cap;
} Buf;

/* A value during execution. It holds a reference of its own to j. Go tells a missing value (an invalid
 * reflect.Value: a key not in a map) from a nil interface (JSON null); the difference shows when a
 * field is taken of it, so it is kept: valid with j NULL is JSON null, !valid is no value at all. */
typedef struct Value {
        json_object *j;
        bool valid;
} Value;

typedef enum Kind {
        K_NIL,
        K_BOOL,
        K_INT,
        K_FLOAT,
        K_STRING,
        K_ARRAY,
        K_MAP,
} Kind;

typedef enum TokType {
        TOK_EOF,
        TOK_TEXT,
        TOK_LEFT,
        TOK_RIGHT,
        TOK_FIELD,
        TOK_DOT,
        TOK_VAR,
        TOK_IDENT,
        TOK_BOOL,
        TOK_NUMBER,
        TOK_CHAR,
        TOK_STRING,
        TOK_RAW_STRING,
        TOK_LPAREN,
        TOK_RPAREN,
        TOK_PIPE,
        TOK_DECLARE,
        TOK_ASSIGN,
        TOK_COMMA,
        TOK_IF,
        TOK_ELSE,
        TOK_END,
        TOK_RANGE,
        TOK_WITH,
        TOK_BREAK,
        TOK_CONTINUE,
        TOK_NIL,
        TOK_DEFINE,
        TOK_TEMPLATE,
        TOK_BLOCK,
} TokType;

typedef struct Token {
        TokType type;
        size_t pos, len;
        bool space_before; /* Go separates arguments by spaces: ".A .B" is two, ".A.B" one */
} Token;

typedef enum NodeType {
        NODE_TEXT,
        NODE_ACTION,
        NODE_IF,
        NODE_RANGE,
        NODE_WITH,
        NODE_BREAK,
        NODE_CONTINUE,
        NODE_PIPE,
        NODE_COMMAND,
        NODE_FIELD,
        NODE_VAR,
        NODE_CHAIN,
        NODE_FUNC,
        NODE_DOT,
        NODE_NIL,
        NODE_BOOL,
        NODE_NUMBER,
        NODE_STRING,
} NodeType;

typedef struct State State;
typedef struct Node Node;
typedef struct Func Func;
typedef int (*FuncImpl)(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret);

struct Func {
        const char *name;
        unsigned min_args, max_args;
        FuncImpl impl; /* NULL for "and" and "or", which evaluate their arguments only as far as needed */
};

struct Node {
        NodeType type;
        size_t pos, len; /* its text in the template, for messages */
        Node *next; /* the next item of a list, argument of a command, or command of a pipeline */
        Node *all; /* every node of a tree, to free them all */
        Node *pipe; /* ACTION, IF, RANGE, WITH: the pipeline; CHAIN: the term the fields are of */
        Node *list; /* IF, RANGE, WITH: the body; PIPE: the commands; COMMAND: the arguments */
        Node *else_list;
        Span text; /* TEXT: the text; VAR: the name, "$x" */
        Span fields; /* FIELD, VAR, CHAIN: ".A.B" as written */
        char *str; /* STRING: the literal, unquoted */
        size_t str_len;
        Span decl[2]; /* PIPE: the variables declared ($x :=) or assigned ($x =) */
        unsigned n_decl;
        bool assign;
        bool boolean, is_int;
        int64_t i;
        double d;
        const Func *func;
};

typedef struct Parser {
        const char *src;
        size_t len;
        Token *toks;
        size_t n_toks, cap_toks, next;
        Node *nodes;
        Span *vars; /* the variables in scope, innermost last, "$" first: Go rejects others when parsing */
        size_t n_vars, cap_vars;
        unsigned nest, range_depth;
        char *error;
} Parser;

typedef struct Var {
        Span name;
        Value v;
} Var;

enum {
        FLOW_NONE,
        FLOW_BREAK,
        FLOW_CONTINUE,
};

struct State {
        const char *src;
        json_object *root;
        Buf out;
        Var *vars;
        size_t n_vars, cap_vars;
        size_t steps, made;
        int flow; /* set by {{break}} and {{continue}} until their range sees it */
        char *error;
};

static const Func *func_find(const char *name, size_t len);

/* ---- strings ---- */

static void buf_done(Buf *b) {
        b->s = mfree(b->s);
        b->n = b->cap = 0;
}

/* -E2BIG past OUTPUT_MAX; the message comes from the top. */
static int buf_put(Buf *b, const char *s, size_t n) {
        if (n > OUTPUT_MAX - b->n)
                return -E2BIG;
        if (b->n + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 64;
                while (cap < b->n + n + 1)
                        cap *= 2;
                char *p = realloc(b->s, cap);
                if (!p)
                        return -ENOMEM;
                b->s = p;
                b->cap = cap;
        }
        if (n > 0)
                memcpy(b->s + b->n, s, n);
        b->n += n;
        b->s[b->n] = 0;
        return 0;
}

static int buf_puts(Buf *b, const char *s) {
        return buf_put(b, s, strlen(s));
}

static int buf_putc(Buf *b, char c) {
        return buf_put(b, &c, 1);
}

static int buf_fill(Buf *b, char c, size_t count) {
        char chunk[64];
        memset(chunk, c, sizeof chunk);
        while (count > 0) {
                size_t k = count < sizeof chunk ? count : sizeof chunk;
                int r = buf_put(b, chunk, k);
                if (r < 0)
                        return r;
                count -= k;
        }
        return 0;
}

_printf_(2, 3) static int buf_printf(Buf *b, const char *fmt, ...) {
        _cleanup_free_ char *big = NULL;
        char tmp[128];
        va_list ap;

        va_start(ap, fmt);
        int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -EINVAL;
        if ((size_t) k < sizeof tmp)
                return buf_put(b, tmp, (size_t) k);
        va_start(ap, fmt);
        k = vasprintf(&big, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        return buf_put(b, big, (size_t) k);
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Go's identifiers take any Unicode letter: bytes of UTF-8 sequences count as letters here. */
static bool is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || (unsigned char) c >= 0x80;
}

/* The length of the UTF-8 sequence at s, with its code point; 1 and U+FFFD for a bad byte, as Go. */
static size_t utf8_decode(const char *s, size_t n, uint32_t *ret) {
        const unsigned char *u = (const unsigned char *) s;
        size_t len = u[0] < 0x80               ? 1
                : u[0] >= 0xc2 && u[0] <= 0xdf ? 2
                : u[0] >= 0xe0 && u[0] <= 0xef ? 3
                : u[0] >= 0xf0 && u[0] <= 0xf4 ? 4
                                               : 0;
        uint32_t c = len == 1 ? u[0] : len == 2 ? u[0] & 0x1fu : len == 3 ? u[0] & 0x0fu : u[0] & 0x07u;

        if (len == 0 || len > n)
                goto bad;
        for (size_t k = 1; k < len; k++) {
                if ((u[k] & 0xc0) != 0x80)
                        goto bad;
                c = c << 6 | (u[k] & 0x3fu);
        }
        /* Overlong forms, surrogates and past U+10FFFF are not UTF-8. */
        if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
                goto bad;
        *ret = c;
        return len;
bad:
        *ret = 0xfffd;
        return 1;
}

static size_t utf8_encode(char out[4], uint32_t c) {
        if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                c = 0xfffd;
        if (c < 0x80) {
                out[0] = (char) c;
                return 1;
        }
        if (c < 0x800) {
                out[0] = (char) (0xc0 | c >> 6);
                out[1] = (char) (0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                out[0] = (char) (0xe0 | c >> 12);
                out[1] = (char) (0x80 | (c >> 6 & 0x3f));
                out[2] = (char) (0x80 | (c & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | c >> 18);
        out[1] = (char) (0x80 | (c >> 12 & 0x3f));
        out[2] = (char) (0x80 | (c >> 6 & 0x3f));
        out[3] = (char) (0x80 | (c & 0x3f));
        return 4;
}

/* Go counts widths and truncations in characters, not bytes. */
static size_t utf8_count(const char *s, size_t n) {
        size_t count = 0;
        uint32_t c;
        for (size_t i = 0; i < n; count++)
                i += utf8_decode(s + i, n - i, &c);
        return count;
}

/* ---- values ---- */

static void value_clear(Value *v) {
        json_object_put(v->j);
        *v = (Value){};
}

static Value value_dup(const Value *v) {
        return (Value){ json_object_get(v->j), v->valid };
}

static Value value_of(json_object *j) {
        return (Value){ json_object_get(j), true };
}

static int value_take(json_object *j, Value *ret) {
        if (!j)
                return -ENOMEM;
        *ret = (Value){ j, true };
        return 0;
}

static Kind jkind(json_object *j) {
        switch (json_object_get_type(j)) {
        case json_type_boolean:
                return K_BOOL;
        case json_type_int:
                return K_INT;
        case json_type_double:
                return K_FLOAT;
        case json_type_string:
                return K_STRING;
        case json_type_array:
                return K_ARRAY;
        case json_type_object:
                return K_MAP;
        default:
                return K_NIL;
        }
}

static Kind kind_of(const Value *v) {
        return v->valid ? jkind(v->j) : K_NIL;
}

/* Go's names for what encoding/json decodes to, for messages and %T. */
static const char *kind_name(Kind k) {
        static const char *const names[] = {
                [K_NIL] = "<nil>",
                [K_BOOL] = "bool",
                [K_INT] = "int",
                [K_FLOAT] = "float64",
                [K_STRING] = "string",
                [K_ARRAY] = "[]interface {}",
                [K_MAP] = "map[string]interface {}",
        };
        return names[k];
}

/* Go's truth: false, 0, "", nil and empty arrays and maps are false. */
static bool truth(const Value *v) {
        switch (kind_of(v)) {
        case K_BOOL:
                return json_object_get_boolean(v->j);
        case K_INT:
                return json_object_get_int64(v->j) != 0;
        case K_FLOAT:
                return json_object_get_double(v->j) != 0;
        case K_STRING:
                return json_object_get_string_len(v->j) > 0;
        case K_ARRAY:
                return json_object_array_length(v->j) > 0;
        case K_MAP:
                return json_object_object_length(v->j) > 0;
        default:
                return false;
        }
}

static const char *jstring(json_object *j, size_t *ret_len) {
        *ret_len = (size_t) json_object_get_string_len(j);
        return json_object_get_string(j);
}

/* json-c keeps integers past INT64_MAX as uint64: read those as such. */
static int put_int(Buf *b, json_object *j) {
        int64_t i = json_object_get_int64(j);
        if (i == INT64_MAX)
                return buf_printf(b, "%" PRIu64, json_object_get_uint64(j));
        return buf_printf(b, "%" PRId64, i);
}

typedef struct Entry {
        const char *key;
        json_object *value;
} Entry;

static int entry_compare(const void *a, const void *b) {
        return strcmp(((const Entry *) a)->key, ((const Entry *) b)->key);
}

/* An object's members sorted by key, as Go prints and ranges over maps. */
static int sorted_entries(json_object *o, Entry **ret, size_t *ret_n) {
        size_t n = (size_t) json_object_object_length(o), k = 0;
        Entry *e = calloc(n ? n : 1, sizeof(Entry));
        if (!e)
                return -ENOMEM;
        struct json_object_iterator it = json_object_iter_begin(o), end = json_object_iter_end(o);
        for (; k < n && !json_object_iter_equal(&it, &end); json_object_iter_next(&it), k++)
                e[k] = (Entry){ json_object_iter_peek_name(&it), json_object_iter_peek_value(&it) };
        qsort(e, k, sizeof(Entry), entry_compare);
        *ret = e;
        *ret_n = k;
        return 0;
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

static int put_value(Buf *b, json_object *j, unsigned depth);

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
static int put_value(Buf *b, json_object *j, unsigned depth) {
        size_t n;
        int r;

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
                n = json_object_array_length(j);
                r = buf_putc(b, '[');
                for (size_t k = 0; r >= 0 && k < n; k++) {
                        if (k > 0)
                                r = buf_putc(b, ' ');
                        if (r >= 0)
                                r = put_value(b, json_object_array_get_idx(j, k), depth + 1);
                }
                return r < 0 ? r : buf_putc(b, ']');
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
static int put_json(Buf *b, json_object *j, unsigned depth) {
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
                n = json_object_array_length(j);
                r = buf_putc(b, '[');
                for (size_t k = 0; r >= 0 && k < n; k++) {
                        if (k > 0)
                                r = buf_putc(b, ',');
                        if (r >= 0)
                                r = put_json(b, json_object_array_get_idx(j, k), depth + 1);
                }
                return r < 0 ? r : buf_putc(b, ']');
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
static int go_sprintf(Buf *b, const char *f, size_t n, Value *argv, size_t argc) {
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

/* ---- execution state ---- */

static unsigned line_of(const char *src, size_t pos, size_t *ret_col) {
        unsigned line = 1;
        size_t start = 0;
        for (size_t k = 0; k < pos && src[k]; k++)
                if (src[k] == '\n') {
                        line++;
                        start = k + 1;
                }
        if (ret_col)
                *ret_col = pos - start;
        return line;
}

/* Go's "template: :LINE:COL: executing "" at <NODE>: MESSAGE"; the first error wins. */
_printf_(3, 4) static int exec_fail(State *s, const Node *at, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        size_t col;
        va_list ap;

        if (s->error)
                return -EINVAL;
        va_start(ap, fmt);
        int k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        unsigned line = line_of(s->src, at->pos, &col);
        if (asprintf(&s->error, "template: :%u:%zu: executing \"\" at <%.*s%s>: %s", line, col,
                     (int) (at->len > SHOW_MAX ? SHOW_MAX : at->len), s->src + at->pos, at->len > SHOW_MAX ? "..." : "",
                     msg) < 0) {
                s->error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

/* Strings made during execution count against MADE_MAX. */
static int value_string(State *s, const char *str, size_t n, Value *ret) {
        if (n > OUTPUT_MAX)
                return -E2BIG;
        s->made += n;
        if (s->made > MADE_MAX)
                return -EFBIG;
        return value_take(json_object_new_string_len(str ? str : "", (int) n), ret);
}

static int value_buf(State *s, Buf *b, Value *ret) {
        return value_string(s, b->s, b->n, ret);
}

static Var *var_find(State *s, Span name) {
        for (size_t k = s->n_vars; k > 0; k--)
                if (s->vars[k - 1].name.n == name.n && !memcmp(s->vars[k - 1].name.s, name.s, name.n))
                        return &s->vars[k - 1];
        return NULL;
}

static int var_push(State *s, Span name, const Value *v) {
        if (s->n_vars == s->cap_vars) {
                size_t cap = s->cap_vars ? s->cap_vars * 2 : 8;
                Var *p = realloc(s->vars, cap * sizeof(Var));
                if (!p)
                        return -ENOMEM;
                s->vars = p;
                s->cap_vars = cap;
        }
        s->vars[s->n_vars++] = (Var){ name, value_dup(v) };
        return 0;
}

static int var_set(State *s, const Node *at, Span name, const Value *v) {
        Var *var = var_find(s, name);
        if (!var)
                return exec_fail(s, at, "undefined variable: %.*s", (int) name.n, name.s);
        value_clear(&var->v);
        var->v = value_dup(v);
        return 0;
}

/* Variables live until the {{end}} of the structure that declared them. */
static void vars_pop(State *s, size_t mark) {
        while (s->n_vars > mark)
                value_clear(&s->vars[--s->n_vars].v);
}

static int arg_string(State *s, const Node *at, const Value *v, const char **ret, size_t *ret_len) {
        Kind k = kind_of(v);
        if (k == K_STRING) {
                *ret = jstring(v->j, ret_len);
                return 0;
        }
        if (k == K_NIL)
                return exec_fail(s, at, "invalid value; expected string");
        return exec_fail(s, at, "wrong type for value; expected string; got %s", kind_name(k));
}

/* Go wants an int; a float without fraction is let through, since JSON does not tell them apart. */
static int arg_int(State *s, const Node *at, const Value *v, int64_t *ret) {
        Kind k = kind_of(v);
        if (k == K_INT) {
                *ret = json_object_get_int64(v->j);
                return 0;
        }
        if (k == K_FLOAT) {
                double d = json_object_get_double(v->j);
                if (d >= -9e18 && d <= 9e18 && d == (double) (int64_t) d) {
                        *ret = (int64_t) d;
                        return 0;
                }
        }
        if (k == K_NIL)
                return exec_fail(s, at, "invalid value; expected int");
        return exec_fail(s, at, "wrong type for value; expected int; got %s", kind_name(k));
}

/* ---- functions ---- */

static int fn_print(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        _cleanup_(buf_done) Buf b = {};
        bool prev_string = false, ln = streq(f->name, "println");
        int r = 0;

        /* fmt.Sprint puts spaces between operands when neither is a string; Sprintln always. */
        for (size_t k = 0; r >= 0 && k < argc; k++) {
                bool is_string = kind_of(&argv[k]) == K_STRING;
                if (k > 0 && (ln || (!is_string && !prev_string)))
                        r = buf_putc(&b, ' ');
                if (r >= 0)
                        r = put_value(&b, argv[k].valid ? argv[k].j : NULL, 0);
                prev_string = is_string;
        }
        if (r >= 0 && ln)
                r = buf_putc(&b, '\n');
        return r < 0 ? r : value_buf(s, &b, ret);
}

static int fn_printf(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        _cleanup_(buf_done) Buf b = {};
        const char *format;
        size_t n;
        int r = arg_string(s, at, &argv[0], &format, &n);
        if (r >= 0)
                r = go_sprintf(&b, format, n, argv + 1, argc - 1);
        return r < 0 ? r : value_buf(s, &b, ret);
}

static int fn_json(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        _cleanup_(buf_done) Buf b = {};
        int r = put_json(&b, argv[0].valid ? argv[0].j : NULL, 0);
        if (r == -EDOM)
                return exec_fail(s, at, "error calling json: json: unsupported value: NaN or Inf");
        return r < 0 ? r : value_buf(s, &b, ret);
}

/* strings.Join wants []string; other elements print as %v rather than fail. nil joins to "". */
static int fn_join(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        _cleanup_(buf_done) Buf b = {};
        const char *sep;
        size_t n, sep_len;
        Kind k = kind_of(&argv[0]);
        int r;

        if (k != K_ARRAY && k != K_NIL)
                return exec_fail(s, at, "wrong type for value; expected []string; got %s", kind_name(k));
        if ((r = arg_string(s, at, &argv[1], &sep, &sep_len)) < 0)
                return r;
        n = k == K_ARRAY ? json_object_array_length(argv[0].j) : 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                json_object *e = json_object_array_get_idx(argv[0].j, i);
                if (i > 0)
                        r = buf_put(&b, sep, sep_len);
                if (r >= 0 && jkind(e) == K_STRING) {
                        size_t len;
                        const char *str = jstring(e, &len);
                        r = buf_put(&b, str, len);
                } else if (r >= 0)
                        r = put_value(&b, e, 0);
        }
        return r < 0 ? r : value_buf(s, &b, ret);
}

/* strings.Split: an empty separator splits into characters; "" gives [""]. */
static int fn_split(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        _cleanup_(value_clear) Value list = {};
        const char *str, *sep;
        size_t n, sep_len, count = 0;
        int r;

        if ((r = arg_string(s, at, &argv[0], &str, &n)) < 0 || (r = arg_string(s, at, &argv[1], &sep, &sep_len)) < 0)
                return r;
        if ((r = value_take(json_object_new_array(), &list)) < 0)
                return r;
        for (size_t i = 0; i < n || (i == 0 && sep_len > 0);) {
                const char *hit = sep_len ? memmem(str + i, n - i, sep, sep_len) : NULL;
                uint32_t c;
                size_t len = sep_len ? (hit ? (size_t) (hit - str) - i : n - i) : utf8_decode(str + i, n - i, &c);
                Value piece = {};

                if (++count > SPLIT_MAX)
                        return exec_fail(s, at, "error calling split: more than %u pieces", SPLIT_MAX);
                if ((r = value_string(s, str + i, len, &piece)) < 0)
                        return r;
                if (json_object_array_add(list.j, piece.j) < 0) {
                        value_clear(&piece);
                        return -ENOMEM;
                }
                i += len;
                if (sep_len && !hit)
                        break;
                if (sep_len && (i += sep_len) == n) { /* a separator at the end leaves an empty piece */
                        if ((r = value_string(s, "", 0, &piece)) < 0)
                                return r;
                        if (json_object_array_add(list.j, piece.j) < 0) {
                                value_clear(&piece);
                                return -ENOMEM;
                        }
                        break;
                }
        }
        *ret = list;
        list = (Value){};
        return 0;
}

/* strings.ToUpper, ToLower and Title for ASCII letters; other characters stay as they are. Title
 * capitalises after anything but a letter, digit or underscore, as Go's. */
static int fn_case(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        const char *name = f->name, *str;
        _cleanup_free_ char *copy = NULL;
        size_t n;
        int r;

        if ((r = arg_string(s, at, &argv[0], &str, &n)) < 0)
                return r;
        copy = malloc(n + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, str, n);
        bool after_separator = true;
        for (size_t i = 0; i < n; i++) {
                char c = copy[i];
                bool lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z';
                if (name[0] == 'u' ? lower : name[0] == 'l' ? upper : after_separator && lower)
                        copy[i] = (char) (c ^ 0x20);
                after_separator = !is_alnum(c);
        }
        return value_string(s, copy, n, ret);
}

/* Docker's truncate: the first N characters. */
static int fn_truncate(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        const char *str;
        size_t n, cut = 0;
        int64_t len;
        uint32_t c;
        int r;

        if ((r = arg_string(s, at, &argv[0], &str, &n)) < 0 || (r = arg_int(s, at, &argv[1], &len)) < 0)
                return r;
        if (len < 0)
                return exec_fail(s, at, "error calling truncate: negative length %" PRId64, len);
        for (int64_t k = 0; k < len && cut < n; k++)
                cut += utf8_decode(str + cut, n - cut, &c);
        return value_string(s, str, cut, ret);
}

/* Docker's pad: L spaces before and R after, but nothing around "". */
static int fn_pad(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        _cleanup_(buf_done) Buf b = {};
        const char *str;
        size_t n;
        int64_t left, right;
        int r;

        if ((r = arg_string(s, at, &argv[0], &str, &n)) < 0 || (r = arg_int(s, at, &argv[1], &left)) < 0 ||
            (r = arg_int(s, at, &argv[2], &right)) < 0)
                return r;
        if (left < 0 || right < 0)
                return exec_fail(s, at, "error calling pad: negative count");
        if (n == 0)
                return value_string(s, "", 0, ret);
        if (left > OUTPUT_MAX || right > OUTPUT_MAX)
                return -E2BIG;
        if ((r = buf_fill(&b, ' ', (size_t) left)) < 0 || (r = buf_put(&b, str, n)) < 0 ||
            (r = buf_fill(&b, ' ', (size_t) right)) < 0)
                return r;
        return value_buf(s, &b, ret);
}

static int fn_len(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        Kind k = kind_of(&argv[0]);
        size_t n;
        if (k == K_STRING)
                jstring(argv[0].j, &n);
        else if (k == K_ARRAY)
                n = json_object_array_length(argv[0].j);
        else if (k == K_MAP)
                n = (size_t) json_object_object_length(argv[0].j);
        else if (k == K_NIL)
                return exec_fail(s, at, "error calling len: len of nil pointer");
        else
                return exec_fail(s, at, "error calling len: len of type %s", kind_name(k));
        return value_take(json_object_new_int64((int64_t) n), ret);
}

/* One step of index: an array or string by position, an object by key (missing: nil, as Go's zero value). */
static int index_one(State *s, const Node *at, Value *cur, const Value *key) {
        Kind k = kind_of(cur), kk = kind_of(key);
        Value next = { NULL, true };

        if (k == K_ARRAY || k == K_STRING) {
                size_t len = k == K_ARRAY ? json_object_array_length(cur->j)
                                          : (size_t) json_object_get_string_len(cur->j);
                if (kk != K_INT)
                        return kk == K_NIL
                                ? exec_fail(s, at, "error calling index: cannot index slice/array with nil")
                                : exec_fail(s, at, "error calling index: cannot index slice/array with type %s",
                                            kind_name(kk));
                int64_t x = json_object_get_int64(key->j);
                if (x < 0 || (uint64_t) x >= len)
                        return exec_fail(s, at, "error calling index: index out of range: %" PRId64, x);
                if (k == K_ARRAY)
                        next = value_of(json_object_array_get_idx(cur->j, (size_t) x));
                else if (value_take(json_object_new_int64((unsigned char) json_object_get_string(cur->j)[x]), &next) <
                         0)
                        return -ENOMEM;
        } else if (k == K_MAP) {
                const char *name;
                size_t n;
                json_object *child;
                if (kk != K_STRING)
                        return kk == K_NIL
                                ? exec_fail(s, at, "error calling index: value is nil; should be of type string")
                                : exec_fail(s, at, "error calling index: value has type %s; should be string",
                                            kind_name(kk));
                name = jstring(key->j, &n);
                if (!memchr(name, 0, n) && json_object_object_get_ex(cur->j, name, &child))
                        next = value_of(child);
        } else if (k == K_NIL)
                return exec_fail(s, at, "error calling index: index of nil pointer");
        else
                return exec_fail(s, at, "error calling index: can't index item of type %s", kind_name(k));
        value_clear(cur);
        *cur = next;
        return 0;
}

static int fn_index(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        _cleanup_(value_clear) Value cur = value_dup(&argv[0]);
        int r;

        if (kind_of(&cur) == K_NIL)
                return exec_fail(s, at, "error calling index: index of untyped nil");
        for (size_t k = 1; k < argc; k++)
                if ((r = index_one(s, at, &cur, &argv[k])) < 0)
                        return r;
        *ret = cur;
        cur = (Value){};
        return 0;
}

static int fn_not(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        return value_take(json_object_new_boolean(!truth(&argv[0])), ret);
}

/* eq's test of one pair. Integers and floats compare by value: Go would call them incompatible, but
 * JSON does not say which a number is. nil equals only nil. */
static int values_equal(State *s, const Node *at, const Value *a, const Value *b, bool *ret) {
        Kind ka = kind_of(a), kb = kind_of(b);
        size_t na, nb;

        if (ka == K_NIL || kb == K_NIL)
                *ret = ka == kb;
        else if (ka == K_INT && kb == K_INT)
                *ret = json_object_get_int64(a->j) == json_object_get_int64(b->j) &&
                        json_object_get_uint64(a->j) == json_object_get_uint64(b->j);
        else if ((ka == K_INT || ka == K_FLOAT) && (kb == K_INT || kb == K_FLOAT))
                *ret = json_object_get_double(a->j) == json_object_get_double(b->j);
        else if (ka == K_ARRAY || ka == K_MAP || kb == K_ARRAY || kb == K_MAP)
                return exec_fail(s, at, "error calling eq: non-comparable type %s",
                                 kind_name(ka == K_ARRAY || ka == K_MAP ? ka : kb));
        else if (ka != kb)
                return exec_fail(s, at, "error calling eq: incompatible types for comparison");
        else if (ka == K_BOOL)
                *ret = json_object_get_boolean(a->j) == json_object_get_boolean(b->j);
        else {
                const char *sa = jstring(a->j, &na), *sb = jstring(b->j, &nb);
                *ret = na == nb && !memcmp(sa, sb, na);
        }
        return 0;
}

static int fn_eq(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        bool eq = false;
        int r;

        if (argc < 2)
                return exec_fail(s, at, "error calling eq: missing argument for comparison");
        /* eq a b c is a == b || a == c */
        for (size_t k = 1; !eq && k < argc; k++)
                if ((r = values_equal(s, at, &argv[0], &argv[k], &eq)) < 0)
                        return r;
        return value_take(json_object_new_boolean(eq), ret);
}

/* lt and its kin: numbers with numbers, strings with strings (bytewise, as Go). */
static int fn_compare(State *s, const Node *at, const Func *f, Value *argv, size_t argc, Value *ret) {
        const char *name = f->name;
        Kind ka = kind_of(&argv[0]), kb = kind_of(&argv[1]);
        bool eq = false, lt = false, res;
        int r;

        if (streq(name, "ne")) {
                if ((r = values_equal(s, at, &argv[0], &argv[1], &eq)) < 0)
                        return r;
                return value_take(json_object_new_boolean(!eq), ret);
        }
        if (ka != K_INT && ka != K_FLOAT && ka != K_STRING)
                return exec_fail(s, at, "error calling %s: invalid type for comparison", name);
        if (kb != K_INT && kb != K_FLOAT && kb != K_STRING)
                return exec_fail(s, at, "error calling %s: invalid type for comparison", name);
        if ((ka == K_STRING) != (kb == K_STRING))
                return exec_fail(s, at, "error calling %s: incompatible types for comparison", name);
        if (ka == K_STRING) {
                size_t na, nb;
                const char *sa = jstring(argv[0].j, &na), *sb = jstring(argv[1].j, &nb);
                int c = memcmp(sa, sb, na < nb ? na : nb);
                c = c ? c : na < nb ? -1 : na > nb;
                lt = c < 0;
                eq = c == 0;
        } else if (ka == K_INT && kb == K_INT) {
                int64_t x = json_object_get_int64(argv[0].j), y = json_object_get_int64(argv[1].j);
                lt = x < y;
                eq = x == y;
        } else {
                double x = json_object_get_double(argv[0].j), y = json_object_get_double(argv[1].j);
                lt = x < y;
                eq = x == y;
        }
        /* As Go: gt is !le and ge is !lt, also for NaN. */
        res = streq(name, "lt") ? lt : streq(name, "le") ? lt || eq : streq(name, "gt") ? !(lt || eq) : !lt;
        return value_take(json_object_new_boolean(res), ret);
}

#define ARGS_ANY UINT32_MAX

static const Func funcs[] = {
        { "and", 1, ARGS_ANY, NULL },
        { "eq", 1, ARGS_ANY, fn_eq },
        { "ge", 2, 2, fn_compare },
        { "gt", 2, 2, fn_compare },
        { "index", 1, ARGS_ANY, fn_index },
        { "join", 2, 2, fn_join },
        { "json", 1, 1, fn_json },
        { "le", 2, 2, fn_compare },
        { "len", 1, 1, fn_len },
        { "lower", 1, 1, fn_case },
        { "lt", 2, 2, fn_compare },
        { "ne", 2, 2, fn_compare },
        { "not", 1, 1, fn_not },
        { "or", 1, ARGS_ANY, NULL },
        { "pad", 3, 3, fn_pad },
        { "print", 0, ARGS_ANY, fn_print },
        { "printf", 1, ARGS_ANY, fn_printf },
        { "println", 0, ARGS_ANY, fn_print },
        { "split", 2, 2, fn_split },
        { "title", 1, 1, fn_case },
        { "truncate", 2, 2, fn_truncate },
        { "upper", 1, 1, fn_case },
};

static const Func *func_find(const char *name, size_t len) {
        for (size_t k = 0; k < ELEMENTSOF(funcs); k++)
                if (strlen(funcs[k].name) == len && !memcmp(funcs[k].name, name, len))
                        return &funcs[k];
        return NULL;
}

/* ---- lexer ---- */

_printf_(3, 4) static int parse_fail(Parser *p, size_t pos, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        if (p->error)
                return -EINVAL;
        va_start(ap, fmt);
        int k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        if (asprintf(&p->error, "template: :%u: %s", line_of(p->src, pos, NULL), msg) < 0) {
                p->error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

static char peek_at(const Parser *p, size_t i) {
        return i < p->len ? p->src[i] : 0;
}

static bool starts_with(const Parser *p, size_t i, const char *s) {
        size_t n = strlen(s);
        return i <= p->len && p->len - i >= n && !memcmp(p->src + i, s, n);
}

/* "}}", or " -}}" which also trims the whitespace after it. */
static bool at_right_delim(const Parser *p, size_t i, bool *ret_trim) {
        *ret_trim = is_space(peek_at(p, i)) && peek_at(p, i + 1) == '-' && starts_with(p, i + 2, "}}");
        return *ret_trim || starts_with(p, i, "}}");
}

/* What may follow a word in Go: a space, the end, one of ".,|:()" or the delimiter. */
static bool at_terminator(const Parser *p, size_t i) {
        char c = peek_at(p, i);
        return c == 0 || is_space(c) || strchr(".,|:()", c) || starts_with(p, i, "}}");
}

static int tok_add(Parser *p, TokType type, size_t pos, size_t len, bool space) {
        if (p->n_toks == p->cap_toks) {
                size_t cap = p->cap_toks ? p->cap_toks * 2 : 32;
                Token *t = realloc(p->toks, cap * sizeof(Token));
                if (!t)
                        return -ENOMEM;
                p->toks = t;
                p->cap_toks = cap;
        }
        p->toks[p->n_toks++] = (Token){ type, pos, len, space };
        return 0;
}

/* Go's scanNumber: sign, 0x/0o/0b prefixes, fraction, exponent. Whether it means something is for the
 * parser to say; here only where it ends. */
static bool scan_number(const Parser *p, size_t *i) {
        const char *digits = "0123456789_";
        bool decimal = true, hex = false;
        char c;

        if (peek_at(p, *i) == '+' || peek_at(p, *i) == '-')
                (*i)++;
        if (peek_at(p, *i) == '0') {
                (*i)++;
                c = peek_at(p, *i);
                if (c && strchr("xXoObB", c)) {
                        digits = c == 'x' || c == 'X'  ? "0123456789abcdefABCDEF_"
                                : c == 'o' || c == 'O' ? "01234567_"
                                                       : "01_";
                        decimal = false;
                        hex = c == 'x' || c == 'X';
                        (*i)++;
                }
        }
        while (peek_at(p, *i) && strchr(digits, peek_at(p, *i)))
                (*i)++;
        if (peek_at(p, *i) == '.')
                for ((*i)++; peek_at(p, *i) && strchr(digits, peek_at(p, *i)); (*i)++)
                        ;
        c = peek_at(p, *i);
        if ((decimal && (c == 'e' || c == 'E')) || (hex && (c == 'p' || c == 'P'))) {
                (*i)++;
                if (peek_at(p, *i) == '+' || peek_at(p, *i) == '-')
                        (*i)++;
                while (is_digit(peek_at(p, *i)) || peek_at(p, *i) == '_')
                        (*i)++;
        }
        if (peek_at(p, *i) == 'i')
                (*i)++;
        return !is_alnum(peek_at(p, *i));
}

static int lex_quote(Parser *p, size_t pos, size_t *i) {
        char q = p->src[pos];
        for (;;) {
                char c = peek_at(p, *i);
                if (c == '\\' && peek_at(p, *i + 1) != 0 && peek_at(p, *i + 1) != '\n') {
                        *i += 2;
                        continue;
                }
                if (c == 0 || c == '\n' || c == '\\')
                        return parse_fail(p, pos,
                                          q == '"' ? "unterminated quoted string" : "unterminated character constant");
                (*i)++;
                if (c == q)
                        return 0;
        }
}

static TokType keyword(const char *s, size_t n) {
        static const struct {
                const char *word;
                TokType type;
        } words[] = {
                { "if", TOK_IF },
                { "else", TOK_ELSE },
                { "end", TOK_END },
                { "range", TOK_RANGE },
                { "with", TOK_WITH },
                { "break", TOK_BREAK },
                { "continue", TOK_CONTINUE },
                { "nil", TOK_NIL },
                { "true", TOK_BOOL },
                { "false", TOK_BOOL },
                { "define", TOK_DEFINE },
                { "template", TOK_TEMPLATE },
                { "block", TOK_BLOCK },
        };
        for (size_t k = 0; k < ELEMENTSOF(words); k++)
                if (strlen(words[k].word) == n && !memcmp(words[k].word, s, n))
                        return words[k].type;
        return TOK_IDENT;
}

/* One token inside an action, at pos (not a space, not the delimiter). */
static int lex_token(Parser *p, size_t pos, int *depth, TokType *ret_type, size_t *ret_len) {
        char c = p->src[pos];
        size_t i = pos + 1;
        bool word = false;
        TokType type;
        int r;

        if (c == '|' || c == ',' || c == '=' || c == '(')
                type = c == '|' ? TOK_PIPE : c == ',' ? TOK_COMMA : c == '=' ? TOK_ASSIGN : TOK_LPAREN;
        else if (c == ')') {
                if (*depth == 0)
                        return parse_fail(p, pos, "unexpected right paren");
                type = TOK_RPAREN;
        } else if (c == ':') {
                if (peek_at(p, i++) != '=')
                        return parse_fail(p, pos, "expected :=");
                type = TOK_DECLARE;
        } else if (c == '"' || c == '\'') {
                if ((r = lex_quote(p, pos, &i)) < 0)
                        return r;
                type = c == '"' ? TOK_STRING : TOK_CHAR;
        } else if (c == '`') {
                const char *close = memchr(p->src + i, '`', p->len - i);
                if (!close)
                        return parse_fail(p, pos, "unterminated raw quoted string");
                i = (size_t) (close - p->src) + 1;
                type = TOK_RAW_STRING;
        } else if (c == '+' || c == '-' || is_digit(c) || (c == '.' && is_digit(peek_at(p, i)))) {
                i = pos;
                if (!scan_number(p, &i))
                        return parse_fail(p, pos, "bad number syntax: \"%.*s\"", (int) (i + 1 - pos), p->src + pos);
                type = TOK_NUMBER;
        } else if (c == '$' || c == '.' || is_alnum(c)) {
                while (is_alnum(peek_at(p, i)))
                        i++;
                type = c == '$'    ? TOK_VAR
                        : c == '.' ? (i == pos + 1 ? TOK_DOT : TOK_FIELD)
                                   : keyword(p->src + pos, i - pos);
                word = true;
        } else
                return parse_fail(p, pos,
                                  (unsigned char) c >= 0x20 && c != 0x7f ? "unrecognized character in action: %c"
                                                                         : "unrecognized character in action: \\x%02x",
                                  (unsigned char) c);
        if (word && !at_terminator(p, i))
                return parse_fail(p, i, "bad character \"%c\" after \"%.*s\"", peek_at(p, i), (int) (i - pos),
                                  p->src + pos);
        *depth += type == TOK_LPAREN ? 1 : type == TOK_RPAREN ? -1 : 0;
        *ret_type = type;
        *ret_len = i - pos;
        return 0;
}

/* After "{{" at start: a comment, or the tokens up to the closing delimiter. */
static int lex_action(Parser *p, size_t start, size_t *ret_pos, bool *ret_trim) {
        size_t pos = start + 2;
        bool trim, space = false;
        int depth = 0, r;

        if (peek_at(p, pos) == '-' && is_space(peek_at(p, pos + 1)))
                pos += 2;
        if (starts_with(p, pos, "/*")) {
                const char *close = memmem(p->src + pos + 2, p->len - pos - 2, "*/", 2);
                if (!close)
                        return parse_fail(p, pos, "unclosed comment");
                pos = (size_t) (close - p->src) + 2;
                if (!at_right_delim(p, pos, &trim))
                        return parse_fail(p, pos, "comment ends before closing delimiter");
                *ret_pos = pos + (trim ? 4 : 2);
                *ret_trim = trim;
                return 0;
        }
        if ((r = tok_add(p, TOK_LEFT, start, 2, false)) < 0)
                return r;
        for (;;) {
                TokType type = TOK_EOF;
                size_t len = 1;

                if (at_right_delim(p, pos, &trim)) {
                        if (depth > 0)
                                return parse_fail(p, pos, "unclosed left paren");
                        *ret_pos = pos + (trim ? 4 : 2);
                        *ret_trim = trim;
                        return tok_add(p, TOK_RIGHT, pos, trim ? 4 : 2, space);
                }
                if (peek_at(p, pos) == 0)
                        return parse_fail(p, pos, "unclosed action");
                if (is_space(p->src[pos])) {
                        pos++;
                        space = true;
                        continue;
                }
                if ((r = lex_token(p, pos, &depth, &type, &len)) < 0 || (r = tok_add(p, type, pos, len, space)) < 0)
                        return r;
                pos += len;
                space = false;
        }
}

static int lex(Parser *p) {
        size_t pos = 0;
        bool trim_leading = false;
        int r;

        for (;;) {
                if (trim_leading)
                        while (pos < p->len && is_space(p->src[pos]))
                                pos++;
                const char *open = memmem(p->src + pos, p->len - pos, "{{", 2);
                size_t end = open ? (size_t) (open - p->src) : p->len, text_end = end;
                /* "{{- " trims the whitespace before it, "{{-3" is the number -3. */
                if (open && peek_at(p, end + 2) == '-' && is_space(peek_at(p, end + 3)))
                        while (text_end > pos && is_space(p->src[text_end - 1]))
                                text_end--;
                if (text_end > pos && (r = tok_add(p, TOK_TEXT, pos, text_end - pos, false)) < 0)
                        return r;
                if (!open)
                        break;
                if ((r = lex_action(p, end, &pos, &trim_leading)) < 0)
                        return r;
        }
        return tok_add(p, TOK_EOF, p->len, 0, false);
}

/* ---- parser ---- */

static const Token *peek(const Parser *p) {
        return &p->toks[p->next];
}

static const Token *advance(Parser *p) {
        const Token *t = &p->toks[p->next];
        if (t->type != TOK_EOF)
                p->next++;
        return t;
}

static int unexpected(Parser *p, const Token *t, const char *context) {
        if (t->type == TOK_EOF)
                return parse_fail(p, t->pos, "unexpected EOF");
        return parse_fail(p, t->pos, "unexpected \"%.*s\" in %s", (int) (t->len > SHOW_MAX ? SHOW_MAX : t->len),
                          p->src + t->pos, context);
}

static Node *node_new(Parser *p, NodeType type, const Token *t) {
        Node *n = calloc(1, sizeof(Node));
        if (!n)
                return NULL;
        n->type = type;
        n->pos = t->pos;
        n->len = t->len;
        n->all = p->nodes;
        p->nodes = n;
        return n;
}

/* The node's text runs to the end of the last token taken. */
static void node_end(Parser *p, Node *n) {
        const Token *last = &p->toks[p->next ? p->next - 1 : 0];
        if (last->pos + last->len > n->pos)
                n->len = last->pos + last->len - n->pos;
}

static bool var_declared(const Parser *p, Span name) {
        for (size_t k = p->n_vars; k > 0; k--)
                if (p->vars[k - 1].n == name.n && !memcmp(p->vars[k - 1].s, name.s, name.n))
                        return true;
        return false;
}

static int var_declare(Parser *p, Span name) {
        if (p->n_vars == p->cap_vars) {
                size_t cap = p->cap_vars ? p->cap_vars * 2 : 8;
                Span *v = realloc(p->vars, cap * sizeof(Span));
                if (!v)
                        return -ENOMEM;
                p->vars = v;
                p->cap_vars = cap;
        }
        p->vars[p->n_vars++] = name;
        return 0;
}

/* strconv.Unquote of a "string", `raw string` or 'c' token. */
static int unquote(Parser *p, const Token *t, Buf *out) {
        const char *s = p->src + t->pos + 1, *end = p->src + t->pos + t->len - 1;
        int r = 0;

        if (p->src[t->pos] == '`') {
                for (; r >= 0 && s < end; s++)
                        if (*s != '\r') /* as Go, which drops carriage returns from raw strings */
                                r = buf_putc(out, *s);
                return r;
        }
        while (r >= 0 && s < end) {
                if (*s != '\\') {
                        r = buf_putc(out, *s++);
                        continue;
                }
                static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"''";
                const char *hit = s[1] ? strchr(simple, s[1]) : NULL;
                if (hit && (hit - simple) % 2 == 0 && (s[1] != '\'' || p->src[t->pos] == '\'') &&
                    (s[1] != '"' || p->src[t->pos] == '"')) {
                        r = buf_putc(out, hit[1]);
                        s += 2;
                        continue;
                }
                int digits = s[1] == 'x' ? 2 : s[1] == 'u' ? 4 : s[1] == 'U' ? 8 : s[1] >= '0' && s[1] <= '7' ? 3 : 0;
                int base = s[1] == 'x' || s[1] == 'u' || s[1] == 'U' ? 16 : 8;
                const char *d = s + (base == 16 ? 2 : 1);
                char tmp[9] = {}, *e, rune[4];
                if (digits == 0 || end - d < digits ||
                    strspn(d, base == 16 ? "0123456789abcdefABCDEF" : "01234567") < (size_t) digits)
                        return parse_fail(p, t->pos, "invalid syntax in %.*s",
                                          (int) (t->len > SHOW_MAX ? SHOW_MAX : t->len), p->src + t->pos);
                memcpy(tmp, d, (size_t) digits);
                unsigned long v = strtoul(tmp, &e, base);
                if (*e || (base == 8 && v > 255) ||
                    (s[1] == 'u' || s[1] == 'U' ? v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) : false))
                        return parse_fail(p, t->pos, "invalid syntax in %.*s",
                                          (int) (t->len > SHOW_MAX ? SHOW_MAX : t->len), p->src + t->pos);
                if (s[1] == 'u' || s[1] == 'U')
                        r = buf_put(out, rune, utf8_encode(rune, (uint32_t) v));
                else
                        r = buf_putc(out, (char) v);
                s = d + digits;
        }
        return r;
}

static int parse_string(Parser *p, const Token *t, Node *n) {
        _cleanup_(buf_done) Buf b = {};
        int r = unquote(p, t, &b);
        if (r < 0)
                return r;
        if (t->type == TOK_CHAR) {
                uint32_t c;
                if (b.n == 0 || utf8_decode(b.s, b.n, &c) != b.n)
                        return parse_fail(p, t->pos, "malformed character constant: %.*s", (int) t->len,
                                          p->src + t->pos);
                n->type = NODE_NUMBER;
                n->is_int = true;
                n->i = b.n == 1 ? (unsigned char) b.s[0] : (int64_t) c;
                return 0;
        }
        n->str = b.s ? b.s : strdup("");
        n->str_len = b.n;
        b.s = NULL;
        return n->str ? 0 : -ENOMEM;
}

/* Go's number literals: ints (0x, 0o, 0b, leading 0 octal) and floats (with . or an exponent). */
static int parse_number(Parser *p, const Token *t, Node *n) {
        char buf[80], *e;
        const char *digits = buf;
        int base = 10;

        if (t->len >= sizeof buf || memchr(p->src + t->pos, '_', t->len) || memchr(p->src + t->pos, 'i', t->len))
                return parse_fail(p, t->pos, "illegal number syntax: \"%.*s\"",
                                  (int) (t->len > SHOW_MAX ? SHOW_MAX : t->len), p->src + t->pos);
        memcpy(buf, p->src + t->pos, t->len);
        buf[t->len] = 0;
        bool neg = buf[0] == '-';
        if (buf[0] == '+' || buf[0] == '-')
                digits++;
        bool hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
        if (strpbrk(digits, hex ? ".pP" : ".eE")) {
                errno = 0;
                n->d = strtod(buf, &e);
                if (*e || e == buf || errno == ERANGE || !isfinite(n->d))
                        return parse_fail(p, t->pos, "illegal number syntax: \"%s\"", buf);
                return 0;
        }
        if (digits[0] == '0' && digits[1] && strchr("xXoObB", digits[1])) {
                base = strchr("xX", digits[1]) ? 16 : strchr("oO", digits[1]) ? 8 : 2;
                digits += 2;
        } else if (digits[0] == '0' && digits[1])
                base = 8;
        errno = 0;
        unsigned long long u = digits[0] && is_alnum(digits[0]) ? strtoull(digits, &e, base) : 0;
        if (!digits[0] || !is_alnum(digits[0]) || *e || errno == ERANGE)
                return parse_fail(p, t->pos, "illegal number syntax: \"%s\"", buf);
        if (u > (neg ? (unsigned long long) INT64_MAX + 1 : (unsigned long long) INT64_MAX))
                return parse_fail(p, t->pos, "%s overflows int", buf);
        n->is_int = true;
        n->i = neg ? (int64_t) (0 - u) : (int64_t) u;
        return 0;
}

static int parse_pipeline(Parser *p, const char *context, TokType end, Node **ret);

/* A term: a literal, ., $x, .Field, a function's name or a parenthesised pipeline. NULL if none here. */
static int parse_term(Parser *p, Node **ret) {
        const Token *t = peek(p);
        Node *n;
        int r = 0;

        *ret = NULL;
        switch (t->type) {
        case TOK_LPAREN:
                if (++p->nest > NEST_MAX)
                        return parse_fail(p, t->pos, "template nested too deeply");
                advance(p);
                r = parse_pipeline(p, "parenthesized pipeline", TOK_RPAREN, ret);
                p->nest--;
                if (r >= 0) {
                        (*ret)->pos = t->pos;
                        node_end(p, *ret);
                }
                return r;
        case TOK_IDENT:
        case TOK_DOT:
        case TOK_NIL:
        case TOK_VAR:
        case TOK_FIELD:
        case TOK_BOOL:
        case TOK_NUMBER:
        case TOK_CHAR:
        case TOK_STRING:
        case TOK_RAW_STRING:
                break;
        default:
                return 0;
        }
        static const NodeType types[] = {
                [TOK_IDENT] = NODE_FUNC,        [TOK_DOT] = NODE_DOT,     [TOK_NIL] = NODE_NIL,
                [TOK_VAR] = NODE_VAR,           [TOK_FIELD] = NODE_FIELD, [TOK_BOOL] = NODE_BOOL,
                [TOK_NUMBER] = NODE_NUMBER,     [TOK_CHAR] = NODE_NUMBER, [TOK_STRING] = NODE_STRING,
                [TOK_RAW_STRING] = NODE_STRING,
        };
        if (!(n = node_new(p, types[t->type], t)))
                return -ENOMEM;
        advance(p);
        Span word = { p->src + t->pos, t->len };
        if (t->type == TOK_IDENT && !(n->func = func_find(word.s, word.n)))
                return parse_fail(p, t->pos, "function \"%.*s\" not defined",
                                  (int) (word.n > SHOW_MAX ? SHOW_MAX : word.n), word.s);
        if (t->type == TOK_VAR && !var_declared(p, word))
                return parse_fail(p, t->pos, "undefined variable \"%.*s\"",
                                  (int) (word.n > SHOW_MAX ? SHOW_MAX : word.n), word.s);
        if (t->type == TOK_VAR)
                n->text = word;
        else if (t->type == TOK_FIELD)
                n->fields = word;
        else if (t->type == TOK_BOOL)
                n->boolean = word.s[0] == 't';
        else if (t->type == TOK_NUMBER)
                r = parse_number(p, t, n);
        else if (t->type == TOK_CHAR || t->type == TOK_STRING || t->type == TOK_RAW_STRING)
                r = parse_string(p, t, n);
        *ret = n;
        return r;
}

/* A term and the fields written right after it: .A.B, $x.A, (pipeline).A. */
static int parse_operand(Parser *p, Node **ret) {
        Node *n, *chain;
        int r = parse_term(p, &n);

        *ret = n;
        if (r < 0 || !n || peek(p)->type != TOK_FIELD || peek(p)->space_before)
                return r;
        const Token *first = peek(p), *last = first;
        while (peek(p)->type == TOK_FIELD && !peek(p)->space_before)
                last = advance(p);
        Span fields = { p->src + first->pos, last->pos + last->len - first->pos };
        switch (n->type) {
        case NODE_FIELD:
                n->fields.n = (size_t) (fields.s + fields.n - n->fields.s);
                break;
        case NODE_VAR:
                n->fields = fields;
                break;
        case NODE_PIPE:
        case NODE_FUNC:
                if (!(chain = node_new(p, NODE_CHAIN, first)))
                        return -ENOMEM;
                chain->pipe = n;
                chain->fields = fields;
                chain->pos = n->pos;
                *ret = n = chain;
                break;
        default:
                return parse_fail(p, first->pos, "unexpected . after term \"%.*s\"",
                                  (int) (n->len > SHOW_MAX ? SHOW_MAX : n->len), p->src + n->pos);
        }
        node_end(p, n);
        return 0;
}

static bool starts_operand(const Token *t) {
        switch (t->type) {
        case TOK_IDENT:
        case TOK_DOT:
        case TOK_NIL:
        case TOK_VAR:
        case TOK_FIELD:
        case TOK_BOOL:
        case TOK_NUMBER:
        case TOK_CHAR:
        case TOK_STRING:
        case TOK_RAW_STRING:
        case TOK_LPAREN:
                return true;
        default:
                return false;
        }
}

/* Operands separated by spaces, up to "|", ")" or "}}". */
static int parse_command(Parser *p, Node **ret, bool *ret_piped) {
        Node *cmd = node_new(p, NODE_COMMAND, peek(p)), **tail;
        int r;

        if (!cmd)
                return -ENOMEM;
        tail = &cmd->list;
        *ret_piped = false;
        for (;;) {
                Node *op;
                if ((r = parse_operand(p, &op)) < 0)
                        return r;
                if (!op)
                        return unexpected(p, peek(p), "operand");
                *tail = op;
                tail = &op->next;
                const Token *t = peek(p);
                if (t->type == TOK_RIGHT || t->type == TOK_RPAREN)
                        break;
                if (t->type == TOK_PIPE) {
                        advance(p);
                        *ret_piped = true;
                        break;
                }
                if (!t->space_before)
                        return unexpected(p, t, "operand");
        }
        node_end(p, cmd);
        if (*ret_piped) /* the "|" is not the command's */
                cmd->len = p->toks[p->next - 1].pos > cmd->pos ? p->toks[p->next - 1].pos - cmd->pos : cmd->len;
        *ret = cmd;
        return 0;
}

/* "$x :=", "$x =", and for range "$i, $e :=". */
static int parse_decl(Parser *p, const char *context, Node *pipe) {
        const Token *t = &p->toks[p->next];
        bool two = t[1].type == TOK_COMMA;
        int r;

        if (two && !streq(context, "range"))
                return parse_fail(p, t[1].pos, "too many declarations in %s", context);
        if (two && (t[2].type != TOK_VAR || (t[3].type != TOK_DECLARE && t[3].type != TOK_ASSIGN)))
                return parse_fail(p, t[1].pos, "range can only initialize variables");
        pipe->n_decl = two ? 2 : 1;
        pipe->assign = t[two ? 3 : 1].type == TOK_ASSIGN;
        for (unsigned k = 0; k < pipe->n_decl; k++) {
                Span name = { p->src + t[2 * k].pos, t[2 * k].len };
                pipe->decl[k] = name;
                if (pipe->assign && !var_declared(p, name))
                        return parse_fail(p, t[2 * k].pos, "undefined variable \"%.*s\"", (int) name.n, name.s);
                if (!pipe->assign && (r = var_declare(p, name)) < 0)
                        return r;
        }
        p->next += two ? 4 : 2;
        return 0;
}

/* A pipeline up to end ("}}" or ")"): declarations, then commands joined by "|". */
static int parse_pipeline(Parser *p, const char *context, TokType end, Node **ret) {
        Node *pipe = node_new(p, NODE_PIPE, peek(p)), **tail;
        const Token *t = peek(p);
        bool piped = false;
        int r;

        if (!pipe)
                return -ENOMEM;
        tail = &pipe->list;
        if (t->type == TOK_VAR && (t[1].type == TOK_DECLARE || t[1].type == TOK_ASSIGN || t[1].type == TOK_COMMA) &&
            (r = parse_decl(p, context, pipe)) < 0)
                return r;
        for (;;) {
                t = peek(p);
                if (t->type == end && !piped)
                        break;
                if (!starts_operand(t))
                        return piped && t->type == end
                                ? parse_fail(p, t->pos, "missing command after \"|\" in %s", context)
                                : unexpected(p, t, context);
                if ((r = parse_command(p, tail, &piped)) < 0)
                        return r;
                tail = &(*tail)->next;
        }
        node_end(p, pipe); /* without the closing "}}" or ")" */
        advance(p);
        if (!pipe->list)
                return parse_fail(p, t->pos, "missing value for %s", context);
        /* As Go: only the first command may be a plain value. */
        unsigned stage = 1;
        for (Node *cmd = pipe->list->next; cmd; cmd = cmd->next) {
                NodeType first = cmd->list->type;
                stage++;
                if (first == NODE_BOOL || first == NODE_DOT || first == NODE_NIL || first == NODE_NUMBER ||
                    first == NODE_STRING)
                        return parse_fail(p, cmd->pos, "non executable command in pipeline stage %u", stage);
        }
        *ret = pipe;
        return 0;
}

static int parse_list(Parser *p, Node **ret, TokType *ret_end);

/* The bodies of if, range and with; "{{else if}}" and "{{else with}}" nest another of the same. */
static int parse_control(Parser *p, NodeType type, const Token *kw, Node **ret) {
        const char *context = type == NODE_IF ? "if" : type == NODE_RANGE ? "range" : "with";
        size_t mark = p->n_vars;
        TokType end;
        Node *n;
        int r;

        if (++p->nest > NEST_MAX)
                return parse_fail(p, kw->pos, "template nested too deeply");
        if (!(n = node_new(p, type, kw)))
                return -ENOMEM;
        if ((r = parse_pipeline(p, context, TOK_RIGHT, &n->pipe)) < 0)
                return r;
        p->range_depth += type == NODE_RANGE;
        r = parse_list(p, &n->list, &end);
        p->range_depth -= type == NODE_RANGE;
        if (r < 0)
                return r;
        if (end == TOK_ELSE) {
                const Token *t = peek(p);
                if ((type == NODE_IF && t->type == TOK_IF) || (type == NODE_WITH && t->type == TOK_WITH)) {
                        advance(p);
                        r = parse_control(p, type, t, &n->else_list);
                } else if (t->type != TOK_RIGHT)
                        return unexpected(p, t, "else");
                else {
                        advance(p);
                        r = parse_list(p, &n->else_list, &end);
                        if (r >= 0 && end == TOK_ELSE)
                                return parse_fail(p, p->toks[p->next - 1].pos, "expected {{end}}; found {{else}}");
                }
                if (r < 0)
                        return r;
        }
        p->nest--;
        p->n_vars = mark;
        *ret = n;
        return 0;
}

/* After "{{": an action, a control structure, or (*ret NULL) the {{end}} or {{else}} that ends a list. */
static int parse_action(Parser *p, Node **ret, TokType *ret_end) {
        const Token *t = advance(p);
        Node *n;
        int r;

        *ret = NULL;
        switch (t->type) {
        case TOK_IF:
                return parse_control(p, NODE_IF, t, ret);
        case TOK_RANGE:
                return parse_control(p, NODE_RANGE, t, ret);
        case TOK_WITH:
                return parse_control(p, NODE_WITH, t, ret);
        case TOK_ELSE: /* the caller reads what follows: "}}", or "if" or "with" */
                *ret_end = TOK_ELSE;
                return 0;
        case TOK_END:
                if (peek(p)->type != TOK_RIGHT)
                        return unexpected(p, peek(p), "end");
                advance(p);
                *ret_end = TOK_END;
                return 0;
        case TOK_BREAK:
        case TOK_CONTINUE:
                if (p->range_depth == 0)
                        return parse_fail(p, t->pos, "{{%s}} outside {{range}}",
                                          t->type == TOK_BREAK ? "break" : "continue");
                if (peek(p)->type != TOK_RIGHT)
                        return unexpected(p, peek(p), t->type == TOK_BREAK ? "break" : "continue");
                advance(p);
                *ret = node_new(p, t->type == TOK_BREAK ? NODE_BREAK : NODE_CONTINUE, t);
                return *ret ? 0 : -ENOMEM;
        case TOK_DEFINE:
        case TOK_TEMPLATE:
        case TOK_BLOCK:
                return parse_fail(p, t->pos, "{{%.*s}} is not supported", (int) t->len, p->src + t->pos);
        default:
                p->next--;
                if (!(n = node_new(p, NODE_ACTION, t)))
                        return -ENOMEM;
                if ((r = parse_pipeline(p, "command", TOK_RIGHT, &n->pipe)) < 0)
                        return r;
                node_end(p, n);
                *ret = n;
                return 0;
        }
}

/* Text and actions up to an {{end}} or {{else}} (told in *ret_end), or the end of the template. */
static int parse_list(Parser *p, Node **ret, TokType *ret_end) {
        Node **tail = ret;
        int r;

        *ret = NULL;
        for (;;) {
                const Token *t = advance(p);
                Node *n;

                if (t->type == TOK_EOF) {
                        *ret_end = TOK_EOF;
                        return p->nest > 0 ? parse_fail(p, t->pos, "unexpected EOF") : 0;
                }
                if (t->type == TOK_TEXT) {
                        if (!(n = node_new(p, NODE_TEXT, t)))
                                return -ENOMEM;
                        n->text = (Span){ p->src + t->pos, t->len };
                } else {
                        if ((r = parse_action(p, &n, ret_end)) < 0)
                                return r;
                        if (!n && p->nest == 0)
                                return parse_fail(p, t->pos, "unexpected {{%s}}", *ret_end == TOK_END ? "end" : "else");
                        if (!n)
                                return 0;
                }
                *tail = n;
                tail = &n->next;
        }
}

static void parser_done(Parser *p) {
        while (p->nodes) {
                Node *n = p->nodes;
                p->nodes = n->all;
                free(n->str);
                free(n);
        }
        free(p->toks);
        free(p->vars);
        free(p->error);
}

/* ---- execution ---- */

static int eval_pipeline(State *s, const Value *dot, const Node *pipe, Value *ret);
static int call_func(State *s, const Value *dot, const Node *cmd, const Node *fn, const Node *args, const Value *final,
                     Value *ret);

/* Field after field: in an object a missing key is no value, as Go's maps give; of no value, no value
 * again; of null or a non-object, an error as in Go. The fields of the root object are what the
 * command offers (like Docker's typed contexts), so a missing one there is an error: a typo. */
static int eval_fields(State *s, const Node *at, const Value *base, Span fields, bool has_args, Value *ret) {
        _cleanup_(value_clear) Value cur = value_dup(base);
        _cleanup_free_ char *key = NULL;

        for (size_t i = 1; i < fields.n;) {
                const char *name = fields.s + i, *dot = memchr(name, '.', fields.n - i);
                size_t n = dot ? (size_t) (dot - name) : fields.n - i;
                json_object *child;

                i += n + 1;
                if (!cur.valid)
                        continue;
                if (!cur.j)
                        return exec_fail(s, at, "nil pointer evaluating interface {}.%.*s", (int) n, name);
                if (kind_of(&cur) != K_MAP)
                        return exec_fail(s, at, "can't evaluate field %.*s in type %s", (int) n, name,
                                         kind_name(kind_of(&cur)));
                if (i >= fields.n && has_args)
                        return exec_fail(s, at, "%.*s is not a method but has arguments", (int) n, name);
                free(key);
                if (!(key = strndup(name, n)))
                        return -ENOMEM;
                bool found = json_object_object_get_ex(cur.j, key, &child);
                if (!found && cur.j == s->root)
                        return exec_fail(s, at, "map has no entry for key \"%s\"", key);
                value_clear(&cur);
                cur = found ? value_of(child) : (Value){};
        }
        *ret = cur;
        cur = (Value){};
        return 0;
}

/* .A.B, $x.A and (pipeline).A: the thing the fields are of, then the fields. */
static int eval_operand(State *s, const Value *dot, const Node *n, bool has_args, Value *ret) {
        _cleanup_(value_clear) Value base = {};
        int r;

        if (n->type == NODE_FIELD)
                base = value_dup(dot);
        else if (n->type == NODE_VAR) {
                Var *v = var_find(s, n->text);
                if (!v)
                        return exec_fail(s, n, "undefined variable: %.*s", (int) n->text.n, n->text.s);
                base = value_dup(&v->v);
                if (n->fields.n == 0) {
                        if (has_args)
                                return exec_fail(s, n, "can't give argument to non-function %.*s", (int) n->text.n,
                                                 n->text.s);
                        *ret = base;
                        base = (Value){};
                        return 0;
                }
        } else if (n->pipe->type == NODE_FUNC) {
                if ((r = call_func(s, dot, n->pipe, n->pipe, NULL, NULL, &base)) < 0)
                        return r;
        } else if ((r = eval_pipeline(s, dot, n->pipe, &base)) < 0)
                return r;
        return eval_fields(s, n, &base, n->fields, has_args, ret);
}

static int eval_arg(State *s, const Value *dot, const Node *n, Value *ret) {
        switch (n->type) {
        case NODE_DOT:
                *ret = value_dup(dot);
                return 0;
        case NODE_NIL:
                *ret = (Value){};
                return 0;
        case NODE_BOOL:
                return value_take(json_object_new_boolean(n->boolean), ret);
        case NODE_NUMBER:
                return value_take(n->is_int ? json_object_new_int64(n->i) : json_object_new_double(n->d), ret);
        case NODE_STRING:
                return value_string(s, n->str, n->str_len, ret);
        case NODE_PIPE:
                return eval_pipeline(s, dot, n, ret);
        case NODE_FUNC:
                return call_func(s, dot, n, n, NULL, NULL, ret);
        default:
                return eval_operand(s, dot, n, false, ret);
        }
}

/* and/or take their arguments one at a time and stop at the first false/true one, which they return. */
static int call_and_or(State *s, const Value *dot, const Node *fn, const Node *args, const Value *final, Value *ret) {
        bool is_or = fn->func->name[0] == 'o';
        Value v = {};
        int r;

        for (const Node *a = args; a; a = a->next) {
                value_clear(&v);
                if ((r = eval_arg(s, dot, a, &v)) < 0)
                        return r;
                if (truth(&v) == is_or) {
                        *ret = v;
                        return 0;
                }
        }
        if (final) {
                value_clear(&v);
                v = value_dup(final);
        }
        *ret = v;
        return 0;
}

static int call_func(State *s, const Value *dot, const Node *cmd, const Node *fn, const Node *args, const Value *final,
                     Value *ret) {
        const Func *f = fn->func;
        size_t argc = final ? 1 : 0, k = 0;
        int r = 0;

        for (const Node *a = args; a; a = a->next)
                argc++;
        if (argc < f->min_args || argc > f->max_args)
                return f->min_args == f->max_args
                        ? exec_fail(s, cmd, "wrong number of args for %s: want %u got %zu", f->name, f->min_args, argc)
                        : exec_fail(s, cmd, "wrong number of args for %s: want at least %u got %zu", f->name,
                                    f->min_args, argc);
        if (!f->impl)
                return call_and_or(s, dot, fn, args, final, ret);
        Value *argv = calloc(argc ? argc : 1, sizeof(Value));
        if (!argv)
                return -ENOMEM;
        for (const Node *a = args; a && r >= 0; a = a->next)
                r = eval_arg(s, dot, a, &argv[k++]);
        if (r >= 0 && final)
                argv[k++] = value_dup(final);
        if (r >= 0)
                r = f->impl(s, cmd, f, argv, argc, ret);
        for (size_t i = 0; i < argc; i++)
                value_clear(&argv[i]);
        free(argv);
        return r;
}

static int eval_command(State *s, const Value *dot, const Node *cmd, const Value *final, Value *ret) {
        const Node *first = cmd->list;
        bool has_args = first->next || final;

        switch (first->type) {
        case NODE_FIELD:
        case NODE_VAR:
        case NODE_CHAIN:
                return eval_operand(s, dot, first, has_args, ret);
        case NODE_FUNC:
                return call_func(s, dot, cmd, first, first->next, final, ret);
        case NODE_NIL:
                return exec_fail(s, first, "nil is not a command");
        default:
                if (has_args)
                        return exec_fail(s, first, "can't give argument to non-function %.*s",
                                         (int) (first->len > SHOW_MAX ? SHOW_MAX : first->len), s->src + first->pos);
                return eval_arg(s, dot, first, ret);
        }
}

static int count_step(State *s, const Node *at) {
        if (++s->steps > STEPS_MAX)
                return exec_fail(s, at, "template execution takes more than %u steps", STEPS_MAX);
        return 0;
}

static int eval_pipeline(State *s, const Value *dot, const Node *pipe, Value *ret) {
        Value v = {};
        int r;

        if ((r = count_step(s, pipe)) < 0)
                return r;
        for (const Node *cmd = pipe->list; cmd; cmd = cmd->next) {
                Value out = {};
                r = eval_command(s, dot, cmd, cmd == pipe->list ? NULL : &v, &out);
                value_clear(&v);
                if (r < 0)
                        return r;
                v = out;
                /* Go takes values out of their interface{} here: a JSON null becomes no value. */
                if (!v.j)
                        v.valid = false;
        }
        for (unsigned k = 0; k < pipe->n_decl; k++) {
                r = pipe->assign ? var_set(s, pipe, pipe->decl[k], &v) : var_push(s, pipe->decl[k], &v);
                if (r < 0) {
                        value_clear(&v);
                        return r;
                }
        }
        *ret = v;
        return 0;
}

static int walk_list(State *s, const Value *dot, const Node *list);

static int walk_if_with(State *s, const Value *dot, const Node *n) {
        _cleanup_(value_clear) Value v = {};
        size_t mark = s->n_vars;
        int r = eval_pipeline(s, dot, n->pipe, &v);

        if (r >= 0 && truth(&v))
                r = walk_list(s, n->type == NODE_WITH ? &v : dot, n->list);
        else if (r >= 0)
                r = walk_list(s, dot, n->else_list);
        vars_pop(s, mark);
        return r;
}

/* One element: the range's variables get it (and its index or key), dot is it. */
static int range_one(State *s, const Node *n, const Value *key, const Value *elem, size_t body_mark) {
        const Node *pipe = n->pipe;
        int r = 0;

        if (pipe->assign) {
                r = var_set(s, pipe, pipe->decl[0], pipe->n_decl == 2 ? key : elem);
                if (r >= 0 && pipe->n_decl == 2)
                        r = var_set(s, pipe, pipe->decl[1], elem);
        } else if (pipe->n_decl > 0) {
                /* The declared variables were pushed last: the element's on top, the index's below. */
                value_clear(&s->vars[body_mark - 1].v);
                s->vars[body_mark - 1].v = value_dup(elem);
                if (pipe->n_decl == 2) {
                        value_clear(&s->vars[body_mark - 2].v);
                        s->vars[body_mark - 2].v = value_dup(key);
                }
        }
        if (r >= 0)
                r = walk_list(s, elem, n->list);
        vars_pop(s, body_mark);
        return r;
}

/* Arrays in order, objects by sorted key (as Go ranges over maps); no value ranges over nothing. */
static int walk_range(State *s, const Value *dot, const Node *n) {
        _cleanup_(value_clear) Value v = {};
        _cleanup_free_ Entry *e = NULL;
        size_t mark = s->n_vars, count = 0;
        int r = eval_pipeline(s, dot, n->pipe, &v);
        Kind k = kind_of(&v);

        if (r >= 0 && k == K_MAP)
                r = sorted_entries(v.j, &e, &count);
        else if (r >= 0 && k == K_ARRAY)
                count = json_object_array_length(v.j);
        else if (r >= 0 && k != K_NIL) {
                _cleanup_(buf_done) Buf b = {};
                r = put_value(&b, v.j, 0);
                r = r < 0 ? r : exec_fail(s, n, "range can't iterate over %.*s", SHOW_MAX, b.s ? b.s : "");
        }
        /* Each element is a step, also with an empty body: nested ranges multiply. */
        for (size_t i = 0; r >= 0 && i < count && (r = count_step(s, n)) >= 0; i++) {
                _cleanup_(value_clear) Value key = {};
                Value elem = k == K_MAP ? value_of(e[i].value) : value_of(json_object_array_get_idx(v.j, i));
                r = k == K_MAP ? value_string(s, e[i].key, strlen(e[i].key), &key)
                               : value_take(json_object_new_int64((int64_t) i), &key);
                if (r >= 0)
                        r = range_one(s, n, &key, &elem, s->n_vars);
                value_clear(&elem);
                if (s->flow == FLOW_BREAK) {
                        s->flow = FLOW_NONE;
                        break;
                }
                s->flow = FLOW_NONE;
        }
        if (r >= 0 && count == 0)
                r = walk_list(s, dot, n->else_list);
        vars_pop(s, mark);
        return r;
}

static int walk(State *s, const Value *dot, const Node *n) {
        _cleanup_(value_clear) Value v = {};
        int r;

        if ((r = count_step(s, n)) < 0)
                return r;
        switch (n->type) {
        case NODE_TEXT:
                return buf_put(&s->out, n->text.s, n->text.n);
        case NODE_ACTION:
                if ((r = eval_pipeline(s, dot, n->pipe, &v)) < 0 || n->pipe->n_decl > 0)
                        return r; /* a declaration prints nothing */
                return v.valid ? put_value(&s->out, v.j, 0) : buf_puts(&s->out, "<no value>");
        case NODE_IF:
        case NODE_WITH:
                return walk_if_with(s, dot, n);
        case NODE_RANGE:
                return walk_range(s, dot, n);
        case NODE_BREAK:
                s->flow = FLOW_BREAK;
                return 0;
        case NODE_CONTINUE:
                s->flow = FLOW_CONTINUE;
                return 0;
        default:
                return -EINVAL;
        }
}

static int walk_list(State *s, const Value *dot, const Node *list) {
        for (const Node *n = list; n; n = n->next) {
                int r = walk(s, dot, n);
                if (r < 0 || s->flow != FLOW_NONE)
                        return r;
        }
        return 0;
}

static void state_done(State *s) {
        vars_pop(s, 0);
        free(s->vars);
        buf_done(&s->out);
        free(s->error);
}

static int set_error(char **ret_error, char **error, const char *fallback) {
        if (!ret_error)
                return -EINVAL;
        *ret_error = *error ? TAKE_PTR(*error) : strdup(fallback);
        return -EINVAL;
}

int ctl_render_template(const char *tmpl, json_object *o, char **ret, char **ret_error) {
        _cleanup_(parser_done) Parser p = { .src = tmpl, .len = tmpl ? strlen(tmpl) : 0 };
        _cleanup_(state_done) State s = { .src = tmpl, .root = o };
        _cleanup_(value_clear) Value root = {};
        Node *tree = NULL;
        TokType end;
        int r;

        if (!tmpl)
                return -EINVAL;
        r = var_declare(&p, (Span){ "$", 1 });
        if (r >= 0)
                r = lex(&p);
        if (r >= 0)
                r = parse_list(&p, &tree, &end);
        if (r == -EINVAL)
                return set_error(ret_error, &p.error, "template: bad template");
        if (r < 0)
                return r;

        root = value_of(o);
        r = var_push(&s, (Span){ "$", 1 }, &root);
        if (r >= 0)
                r = walk_list(&s, &root, tree);
        if (r == -E2BIG || r == -EFBIG || r == -ELOOP) {
                free(s.error);
                s.error = NULL;
                return set_error(ret_error, &s.error,
                                 r == -E2BIG           ? "template: output larger than 16 MiB"
                                         : r == -EFBIG ? "template: execution makes more than 256 MiB of strings"
                                                       : "template: value nested too deeply to print");
        }
        if (r == -EINVAL)
                return set_error(ret_error, &s.error, "template: execution failed");
        if (r < 0)
                return r;
        *ret = s.out.s ? TAKE_PTR(s.out.s) : strdup("");
        return *ret ? 0 : -ENOMEM;
}
