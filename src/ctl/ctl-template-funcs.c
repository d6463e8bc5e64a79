/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go templates: the functions, Go's (and, eq, index, len, printf, ...) and Docker's (json, join, pad, ...). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-template-internal.h"

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

const Func *func_find(const char *name, size_t len) {
        for (size_t k = 0; k < ELEMENTSOF(funcs); k++)
                if (strlen(funcs[k].name) == len && !memcmp(funcs[k].name, name, len))
                        return &funcs[k];
        return NULL;
}
