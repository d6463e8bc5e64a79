/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go templates: executing the tree: pipelines, fields, variables, if/with/range, break and the limits. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-template-internal.h"

/* Go's "template: :LINE:COL: executing "" at <NODE>: MESSAGE"; the first error wins. */
_printf_(3, 4) int exec_fail(State *s, const Node *at, const char *fmt, ...) {
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
int value_string(State *s, const char *str, size_t n, Value *ret) {
        if (n > OUTPUT_MAX)
                return -E2BIG;
        s->made += n;
        if (s->made > MADE_MAX)
                return -EFBIG;
        return value_take(json_object_new_string_len(str ? str : "", (int) n), ret);
}

int value_buf(State *s, Buf *b, Value *ret) {
        return value_string(s, b->s, b->n, ret);
}

static Var *var_find(State *s, Span name) {
        for (size_t k = s->n_vars; k > 0; k--)
                if (s->vars[k - 1].name.n == name.n && !memcmp(s->vars[k - 1].name.s, name.s, name.n))
                        return &s->vars[k - 1];
        return NULL;
}

int var_push(State *s, Span name, const Value *v) {
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

int walk_list(State *s, const Value *dot, const Node *list) {
        for (const Node *n = list; n; n = n->next) {
                int r = walk(s, dot, n);
                if (r < 0 || s->flow != FLOW_NONE)
                        return r;
        }
        return 0;
}

void state_done(State *s) {
        vars_pop(s, 0);
        free(s->vars);
        buf_done(&s->out);
        free(s->error);
}
