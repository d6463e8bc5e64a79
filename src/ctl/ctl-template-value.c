/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go templates: growing buffers, UTF-8, and the JSON values a template works on, with Go's truth. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-template-internal.h"

/* ---- strings ---- */

void buf_done(Buf *b) {
        b->s = mfree(b->s);
        b->n = b->cap = 0;
}

/* -E2BIG past OUTPUT_MAX; the message comes from the top. */
int buf_put(Buf *b, const char *s, size_t n) {
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

int buf_puts(Buf *b, const char *s) {
        return buf_put(b, s, strlen(s));
}

int buf_putc(Buf *b, char c) {
        return buf_put(b, &c, 1);
}

int buf_fill(Buf *b, char c, size_t count) {
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

_printf_(2, 3) int buf_printf(Buf *b, const char *fmt, ...) {
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

bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Go's identifiers take any Unicode letter: bytes of UTF-8 sequences count as letters here. */
bool is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || (unsigned char) c >= 0x80;
}

/* The length of the UTF-8 sequence at s, with its code point; 1 and U+FFFD for a bad byte, as Go. */
size_t utf8_decode(const char *s, size_t n, uint32_t *ret) {
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

size_t utf8_encode(char out[4], uint32_t c) {
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
size_t utf8_count(const char *s, size_t n) {
        size_t count = 0;
        uint32_t c;
        for (size_t i = 0; i < n; count++)
                i += utf8_decode(s + i, n - i, &c);
        return count;
}

/* ---- values ---- */

void value_clear(Value *v) {
        json_object_put(v->j);
        *v = (Value){};
}

Value value_dup(const Value *v) {
        return (Value){ json_object_get(v->j), v->valid };
}

Value value_of(json_object *j) {
        return (Value){ json_object_get(j), true };
}

int value_take(json_object *j, Value *ret) {
        if (!j)
                return -ENOMEM;
        *ret = (Value){ j, true };
        return 0;
}

Kind jkind(json_object *j) {
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

Kind kind_of(const Value *v) {
        return v->valid ? jkind(v->j) : K_NIL;
}

/* Go's names for what encoding/json decodes to, for messages and %T. */
const char *kind_name(Kind k) {
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
bool truth(const Value *v) {
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

const char *jstring(json_object *j, size_t *ret_len) {
        *ret_len = (size_t) json_object_get_string_len(j);
        return json_object_get_string(j);
}

static int entry_compare(const void *a, const void *b) {
        return strcmp(((const Entry *) a)->key, ((const Entry *) b)->key);
}

/* An object's members sorted by key, as Go prints and ranges over maps. */
int sorted_entries(json_object *o, Entry **ret, size_t *ret_n) {
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
