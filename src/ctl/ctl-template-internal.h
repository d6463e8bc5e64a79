/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go templates: what the lexer, parser, executor, functions and printing share (not a public API). */
#pragma once

/* Go's text/template, the part of it Docker's --format templates use. Like Go, the template is lexed
 * and parsed into a tree first, so that a syntax error anywhere is reported before any output, then the
 * tree is executed over the json-c object. Names, printing and messages follow Go (text/template, fmt,
 * encoding/json) because users copy their templates and expectations from Docker. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

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

/* An object's member, as sorted_entries() lists them. */
typedef struct Entry {
        const char *key;
        json_object *value;
} Entry;

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

/* ---- ctl-template-value.c ---- */

void buf_done(Buf *b);
int buf_put(Buf *b, const char *s, size_t n);
int buf_puts(Buf *b, const char *s);
int buf_putc(Buf *b, char c);
int buf_fill(Buf *b, char c, size_t count);
_printf_(2, 3) int buf_printf(Buf *b, const char *fmt, ...);
bool is_space(char c);
bool is_digit(char c);
bool is_alnum(char c);
size_t utf8_decode(const char *s, size_t n, uint32_t *ret);
size_t utf8_encode(char out[4], uint32_t c);
size_t utf8_count(const char *s, size_t n);
void value_clear(Value *v);
Value value_dup(const Value *v);
Value value_of(json_object *j);
int value_take(json_object *j, Value *ret);
Kind jkind(json_object *j);
Kind kind_of(const Value *v);
const char *kind_name(Kind k);
bool truth(const Value *v);
const char *jstring(json_object *j, size_t *ret_len);
int sorted_entries(json_object *o, Entry **ret, size_t *ret_n);

/* ---- ctl-template-print.c ---- */

int put_value(Buf *b, json_object *j, unsigned depth);
int put_json(Buf *b, json_object *j, unsigned depth);
int go_sprintf(Buf *b, const char *f, size_t n, Value *argv, size_t argc);

/* ---- ctl-template-lex.c ---- */

unsigned line_of(const char *src, size_t pos, size_t *ret_col);
_printf_(3, 4) int parse_fail(Parser *p, size_t pos, const char *fmt, ...);
int lex(Parser *p);

/* ---- ctl-template-parse.c ---- */

int var_declare(Parser *p, Span name);
int parse_list(Parser *p, Node **ret, TokType *ret_end);
void parser_done(Parser *p);

/* ---- ctl-template-funcs.c ---- */

const Func *func_find(const char *name, size_t len);

/* ---- ctl-template-exec.c ---- */

_printf_(3, 4) int exec_fail(State *s, const Node *at, const char *fmt, ...);
int value_string(State *s, const char *str, size_t n, Value *ret);
int value_buf(State *s, Buf *b, Value *ret);
int var_push(State *s, Span name, const Value *v);
int walk_list(State *s, const Value *dot, const Node *list);
void state_done(State *s);
