/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go templates: the lexer, from the template's text to tokens, and the parse errors with their line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-template-internal.h"

unsigned line_of(const char *src, size_t pos, size_t *ret_col) {
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

_printf_(3, 4) int parse_fail(Parser *p, size_t pos, const char *fmt, ...) {
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

int lex(Parser *p) {
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
