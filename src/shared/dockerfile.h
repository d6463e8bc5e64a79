/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/*
 * The Dockerfile language as Docker's parser reads it (moby/buildkit frontend/dockerfile/parser):
 * parser directives at the top (escape, syntax), comments, line continuations with the escape
 * character (empty and comment lines inside one are dropped), one instruction per logical line,
 * leading --flag=value words for the instructions that take flags, and the JSON (exec) form of
 * RUN, CMD, ENTRYPOINT, SHELL, VOLUME, COPY, ADD and HEALTHCHECK CMD when the argument is a JSON
 * array of strings. Words are not expanded here: see dockerfile_expand_word*() below, which the
 * builder applies with the variables in scope at each step.
 */

typedef struct DockerfileInstruction {
        char *keyword; /* lower case: "from", "run", ... */
        char *original; /* the logical line as written, continuations joined */
        char *rest; /* the text after the keyword and flags (shell form, unexpanded) */
        char **flags; /* "--from=build", as written (NULL when none) */
        char **json; /* the JSON form's strings, NULL for the shell form */
        unsigned line; /* where the instruction starts, 1-based */
} DockerfileInstruction;

typedef struct Dockerfile {
        DockerfileInstruction *instructions;
        size_t n_instructions;
        char escape; /* '\\' or '`' */
        char *syntax; /* the "syntax" directive, NULL if none */
} Dockerfile;

Dockerfile *dockerfile_free(Dockerfile *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Dockerfile *, dockerfile_free);

/* Parse a whole Dockerfile. On failure returns -EINVAL (or -ENOMEM) and, for -EINVAL, a malloc'd
 * sentence naming the line in *ret_error. An empty file (no instructions) is -EINVAL, as Docker's
 * "the Dockerfile cannot be empty". */
int dockerfile_parse(const char *text, size_t len, Dockerfile **ret, char **ret_error);

/* Whether the instruction takes --flags; and the value of flag "name" ("from" for --from=x), or
 * NULL. A flag given without "=value" has the value "true". */
bool dockerfile_keyword_takes_flags(const char *keyword);
const char *dockerfile_flag(const DockerfileInstruction *i, const char *name);

/* The variables a word is expanded with: "NAME=value" strings, the last of a name wins. */
typedef struct DockerfileVars {
        char **env;
} DockerfileVars;

const char *dockerfile_vars_get(const DockerfileVars *v, const char *name);
int dockerfile_vars_set(DockerfileVars *v, const char *name, const char *value);

/* Docker's shell lexer for one word: quotes ('single' literal, "double" with $ and escapes) are
 * removed, $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word}, ${VAR+word}, ${VAR:?msg} and
 * ${VAR?msg} are expanded (an unset variable is empty), the escape character quotes the next one.
 * -EINVAL with *ret_error for an unterminated quote or brace, a bad substitution or ${VAR?}. */
int dockerfile_expand_word(const char *word, char escape, const DockerfileVars *vars, char **ret, char **ret_error);
/* The same on a line, split into words at white space outside quotes (Docker's ProcessWords). */
int dockerfile_expand_words(const char *text, char escape, const DockerfileVars *vars, char ***ret, char **ret_error);
/* Split at white space outside quotes without expanding or removing quotes (for ENV's first word). */
int dockerfile_split_raw(const char *text, char escape, char ***ret);

/* ENV and LABEL arguments: "K=V ..." (each word expanded) or the old "K some value" form (the rest of
 * the line one value). The pairs as "K=V"; -EINVAL with *ret_error for a word without "=". */
int dockerfile_parse_pairs(const char *rest, char escape, const DockerfileVars *vars, char ***ret, char **ret_error);

/* ARG name[=default] ...: each name's value (the last --build-arg "name=value" or "name", the
 * latter from the environment; else the default; else, in a stage (global not NULL), the global
 * ARG's value) goes into scope; a name without any value stays unset. Names given as build args are
 * added to *used. Words are expanded with vars. */
int dockerfile_apply_arg(const char *rest, char escape, const DockerfileVars *vars, char **build_args,
                         const DockerfileVars *global, DockerfileVars *scope, char ***used, char **ret_error);
