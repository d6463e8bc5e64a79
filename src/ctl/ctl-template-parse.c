/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go templates: the parser, from tokens to the tree of nodes that execution walks. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-template-internal.h"

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

int var_declare(Parser *p, Span name) {
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
        default:
                if (!starts_operand(t))
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
int parse_list(Parser *p, Node **ret, TokType *ret_end) {
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

void parser_done(Parser *p) {
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
