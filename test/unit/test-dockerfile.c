/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Dockerfile parser and word expansion, with cases from Docker's parser and shell lexer tests. */
#include <errno.h>

#include "dockerfile.h"
#include "tests.h"
#include "util.h"

static Dockerfile *parse(const char *text) {
        Dockerfile *d = NULL;
        _cleanup_free_ char *error = NULL;
        if (dockerfile_parse(text, strlen(text), &d, &error) < 0) {
                printf("parse error: %s\n", error ?: "?");
                return NULL;
        }
        return d;
}

static char *parse_error(const char *text) {
        _cleanup_(dockerfile_freep) Dockerfile *d = NULL;
        char *error = NULL;
        int r = dockerfile_parse(text, strlen(text), &d, &error);
        if (r != -EINVAL) {
                free(error);
                return strdup("(no error)");
        }
        return error;
}

static void test_basic(void) {
        _cleanup_(dockerfile_freep) Dockerfile *d = parse("# a comment\n"
                                                          "FROM busybox AS build\n"
                                                          "\n"
                                                          "  run echo hi \\\n"
                                                          "    there\n"
                                                          "CMD [\"sh\", \"-c\", \"echo\"]\n"
                                                          "ENTRYPOINT [\"broken\", \n"
                                                          "COPY --from=build --chown=1:2 /a /b\n");
        ASSERT(d);
        CHECK_INT(d->n_instructions, 5);
        CHECK_INT(d->escape, '\\');
        CHECK_STR(d->instructions[0].keyword, "from");
        CHECK_STR(d->instructions[0].rest, "busybox AS build");
        CHECK_INT(d->instructions[0].line, 2);
        CHECK_STR(d->instructions[1].keyword, "run");
        CHECK_STR(d->instructions[1].rest, "echo hi     there");
        CHECK_INT(d->instructions[1].line, 4);
        CHECK(!d->instructions[1].json);
        CHECK(d->instructions[2].json && strv_length(d->instructions[2].json) == 3);
        CHECK_STR(d->instructions[2].json[2], "echo");
        /* Not valid JSON: the shell form, as Docker falls back to it. */
        CHECK(!d->instructions[3].json);
        CHECK_STR(d->instructions[3].rest, "[\"broken\",");
        CHECK_STR(dockerfile_flag(&d->instructions[4], "from"), "build");
        CHECK_STR(dockerfile_flag(&d->instructions[4], "chown"), "1:2");
        CHECK(!dockerfile_flag(&d->instructions[4], "chmod"));
        CHECK_STR(d->instructions[4].rest, "/a /b");
}

static void test_continuations(void) {
        /* Comments and empty lines inside a continuation are dropped; continuation lines keep
         * their leading white space; trailing white space after the escape is fine. */
        _cleanup_(dockerfile_freep) Dockerfile *d = parse("FROM x\n"
                                                          "RUN a \\  \n"
                                                          "# inside\n"
                                                          "\n"
                                                          "  b \\\n"
                                                          "\n"
                                                          "\n"
                                                          "c\r\n"
                                                          "RUN last \\");
        ASSERT(d);
        CHECK_INT(d->n_instructions, 3);
        CHECK_STR(d->instructions[1].rest, "a   b c");
        CHECK_STR(d->instructions[2].rest, "last");
}

static void test_escape_directive(void) {
        _cleanup_(dockerfile_freep) Dockerfile *d = parse("# escape=`\n"
                                                          "# syntax=docker/dockerfile:1\n"
                                                          "FROM windows\n"
                                                          "COPY testfile.txt c:\\\n"
                                                          "RUN dir c:\\ `\n"
                                                          "  /b\n");
        ASSERT(d);
        CHECK_INT(d->escape, '`');
        CHECK_STR(d->syntax, "docker/dockerfile:1");
        CHECK_STR(d->instructions[1].rest, "testfile.txt c:\\");
        CHECK_STR(d->instructions[2].rest, "dir c:\\   /b");

        /* After the first instruction or comment, "# escape=" is only a comment. */
        _cleanup_(dockerfile_freep) Dockerfile *e = parse("# hello\n# escape=`\nFROM x\nRUN a \\\n b\n");
        ASSERT(e);
        CHECK_INT(e->escape, '\\');
        CHECK_STR(e->instructions[1].rest, "a  b");
        _cleanup_(dockerfile_freep) Dockerfile *f = parse("#ESCAPE = `\nFROM x\n");
        ASSERT(f);
        CHECK_INT(f->escape, '`');
}

static void test_errors(void) {
        _cleanup_free_ char *e1 = parse_error("FROM x\nFOO bar\n");
        CHECK_STR(e1, "line 2: unknown instruction: FOO");
        _cleanup_free_ char *e2 = parse_error("# escape=x\nFROM x\n");
        CHECK_STR(e2, "line 1: invalid escape token 'x' does not match ` or \\");
        _cleanup_free_ char *e3 = parse_error("# comment only\n\n");
        CHECK(strstr(e3, "no instructions"));
        _cleanup_free_ char *e4 = parse_error("FROM x\nCOPY onlyone\n");
        CHECK(strstr(e4, "line 2: copy requires at least two arguments"));
        _cleanup_free_ char *e5 = parse_error("FROM x\nSHELL sh -c\n");
        CHECK(strstr(e5, "JSON form"));
        _cleanup_free_ char *e6 = parse_error("FROM x\nENV\n");
        CHECK_STR(e6, "line 2: env requires at least one argument");
        _cleanup_free_ char *e7 = parse_error("# escape=`\n# escape=\\\nFROM x\n");
        CHECK(strstr(e7, "only one escape"));
        _cleanup_free_ char *e8 = parse_error("FROM x\nRUN --mount=type=cache,target=/x true\n");
        CHECK_STR(e8, "line 2: unknown flag --mount for run (berth's builder does not support it)");
        _cleanup_free_ char *e10 = parse_error("FROM x\nRUN <<EOF\necho hi\nEOF\n");
        CHECK_STR(e10, "line 2: heredocs (<<EOF) are not supported by berth's builder");
        _cleanup_free_ char *e11 = parse_error("FROM x\nRUN cat <<-'END' > /x\n");
        CHECK_STR(e11, "line 2: heredocs (<<END) are not supported by berth's builder");
        _cleanup_(dockerfile_freep) Dockerfile *shift = parse("FROM x\nRUN echo $((1<<3))\nRUN a<<b\n");
        CHECK(shift && shift->n_instructions == 3);
        _cleanup_free_ char *e9 = parse_error("FROM x\nCOPY --link a b\n");
        CHECK(strstr(e9, "unknown flag --link for copy"));
}

static char *word(const char *w, char **env) {
        DockerfileVars v = { .env = env };
        char *ret = NULL, *error = NULL;
        if (dockerfile_expand_word(w, '\\', &v, &ret, &error) < 0) {
                char *e = strjoin("ERROR: ", error ?: "?");
                free(error);
                return e;
        }
        return ret;
}

static char *words(const char *w, char **env) {
        DockerfileVars v = { .env = env };
        char **l = NULL, *error = NULL;
        if (dockerfile_expand_words(w, '\\', &v, &l, &error) < 0) {
                free(error);
                return strdup("ERROR");
        }
        char *j = strv_join(l, "|");
        strv_free(l);
        return j;
}

#define CHECK_WORD(in, out)                              \
        do {                                             \
                _cleanup_free_ char *_w = word(in, env); \
                CHECK_STR(_w, out);                      \
        } while (0)

#define CHECK_WORDS(in, out)                              \
        do {                                              \
                _cleanup_free_ char *_w = words(in, env); \
                CHECK_STR(_w, out);                       \
        } while (0)

static void test_expand(void) {
        char *env[] = { "PWD=/home", "SHELL=bash", "KOREAN=한국어", "EMPTY=", "SPACED=a  b", NULL };

        CHECK_WORD("hello", "hello");
        CHECK_WORD("he'll'o", "hello");
        CHECK_WORD("he\"l\"lo", "hello");
        CHECK_WORD("$PWD", "/home");
        CHECK_WORD("${PWD}", "/home");
        CHECK_WORD("'$PWD'", "$PWD");
        CHECK_WORD("\"$PWD\"", "/home");
        CHECK_WORD("\\$PWD", "$PWD");
        CHECK_WORD("\"\\$PWD\"", "$PWD");
        CHECK_WORD("\"a\\\"b\"", "a\"b");
        CHECK_WORD("\"a\\b\"", "a\\b");
        CHECK_WORD("a\\ b", "a b");
        CHECK_WORD("${PWD}x$SHELL", "/homexbash");
        CHECK_WORD("$KOREAN", "한국어");
        CHECK_WORD("$UNSET", "");
        CHECK_WORD("${UNSET:-def}", "def");
        CHECK_WORD("${EMPTY:-def}", "def");
        CHECK_WORD("${EMPTY-def}", "");
        CHECK_WORD("${UNSET-def}", "def");
        CHECK_WORD("${PWD:-def}", "/home");
        CHECK_WORD("${PWD:+alt}", "alt");
        CHECK_WORD("${UNSET:+alt}", "");
        CHECK_WORD("${EMPTY+alt}", "alt");
        CHECK_WORD("${UNSET:-$SHELL}", "bash");
        CHECK_WORD("${UNSET:-'quoted }'}", "quoted }");
        CHECK_WORD("$", "$");
        CHECK_WORD("a$", "a$");
        CHECK_WORD("$.x", "$.x");
        CHECK_WORD("'unterminated", "ERROR: unexpected end of statement while looking for matching single-quote");
        CHECK_WORD("\"unterminated", "ERROR: unexpected end of statement while looking for matching double-quote");
        CHECK_WORD("${PWD", "ERROR: unsupported modifier ( ) in substitution");
        CHECK_WORD("${}", "ERROR: bad substitution in \"${}\"");
        CHECK_WORD("${UNSET:?must be set}", "ERROR: UNSET: must be set");
        CHECK_WORD("${PWD:?x}", "/home");
        CHECK_WORD("${PWD#x}", "ERROR: unsupported modifier (#) in substitution");

        CHECK_WORDS("a b  c", "a|b|c");
        CHECK_WORDS("\"a b\" c", "a b|c");
        CHECK_WORDS("'' x", "|x");
        CHECK_WORDS("$SPACED", "a|b");
        CHECK_WORDS("\"$SPACED\"", "a  b");
        CHECK_WORDS("$UNSET x", "x");
        CHECK_WORDS("  ", "");
}

static void test_backtick_escape(void) {
        DockerfileVars v = { .env = (char *[]){ "A=1", NULL } };
        _cleanup_free_ char *w = NULL, *e = NULL;
        CHECK(dockerfile_expand_word("c:\\dir`$A$A", '`', &v, &w, &e) >= 0);
        CHECK_STR(w, "c:\\dir$A1");
}

static void test_vars(void) {
        _cleanup_strv_free_ char **env = NULL;
        DockerfileVars v = {};
        CHECK(dockerfile_vars_set(&v, "A", "1") >= 0);
        CHECK(dockerfile_vars_set(&v, "B", "2") >= 0);
        CHECK(dockerfile_vars_set(&v, "A", "3") >= 0);
        CHECK_STR(dockerfile_vars_get(&v, "A"), "3");
        CHECK_STR(dockerfile_vars_get(&v, "B"), "2");
        CHECK(!dockerfile_vars_get(&v, "AB"));
        CHECK_INT(strv_length(v.env), 2);
        env = v.env;
}

static void test_split_raw(void) {
        _cleanup_strv_free_ char **l = NULL;
        CHECK(dockerfile_split_raw("a=\"x y\" b='c d' e\\ f", '\\', &l) >= 0);
        CHECK_INT(strv_length(l), 3);
        CHECK_STR(l[0], "a=\"x y\"");
        CHECK_STR(l[1], "b='c d'");
        CHECK_STR(l[2], "e\\ f");
}

static void test_healthcheck_forms(void) {
        _cleanup_(dockerfile_freep) Dockerfile *d = parse("FROM x\n"
                                                          "HEALTHCHECK --interval=5s CMD [\"true\"]\n"
                                                          "HEALTHCHECK CMD curl -f http://x/ || exit 1\n"
                                                          "HEALTHCHECK NONE\n");
        ASSERT(d);
        CHECK_STR(dockerfile_flag(&d->instructions[1], "interval"), "5s");
        CHECK(d->instructions[1].json && streq(d->instructions[1].json[0], "true"));
        CHECK(!d->instructions[2].json);
        CHECK_STR(d->instructions[2].rest, "CMD curl -f http://x/ || exit 1");
        CHECK_STR(d->instructions[3].rest, "NONE");
}

static char *pairs(const char *rest, char **env) {
        DockerfileVars v = { .env = env };
        char **l = NULL, *error = NULL;
        if (dockerfile_parse_pairs(rest, '\\', &v, &l, &error) < 0) {
                char *e = strjoin("ERROR: ", error ?: "?");
                free(error);
                return e;
        }
        char *j = strv_join(l, "|");
        strv_free(l);
        return j;
}

#define CHECK_PAIRS(in, out)                              \
        do {                                              \
                _cleanup_free_ char *_p = pairs(in, env); \
                CHECK_STR(_p, out);                       \
        } while (0)

static void test_env_forms(void) {
        char *env[] = { "A=1", NULL };
        CHECK_PAIRS("A=1 B=2", "A=1|B=2");
        CHECK_PAIRS("B=\"two words\" C='$A' D=$A", "B=two words|C=$A|D=1");
        CHECK_PAIRS("E=a\\ b", "E=a b");
        CHECK_PAIRS("OLD some  value $A", "OLD=some  value 1");
        CHECK_PAIRS("OLD \"quoted\" x", "OLD=quoted x");
        CHECK_PAIRS("K=", "K=");
        CHECK_PAIRS("K=v bare", "ERROR: syntax error - can't find = in \"bare\". Must be of the form: name=value");
        CHECK_PAIRS("=v", "ERROR: syntax error - can't find = in \"=v\". Must be of the form: name=value");
        CHECK_PAIRS("ONLY", "ERROR: requires two arguments in the form NAME VALUE, or NAME=VALUE ...");
}

static void test_arg_scoping(void) {
        _cleanup_strv_free_ char **used = NULL;
        DockerfileVars global = {}, stage = {}, other = {};
        char *build_args[] = { "GIVEN=cli", "FROMENV", NULL };
        _cleanup_free_ char *error = NULL;

        setenv("FROMENV", "environment", 1);
        /* Before FROM: globals, expanded with the globals before them. */
        CHECK(dockerfile_apply_arg("BASE=busybox VERSION=1 TAG=${BASE}-$VERSION NOVALUE", '\\', &global, build_args,
                                   NULL, &global, &used, &error) >= 0);
        CHECK_STR(dockerfile_vars_get(&global, "TAG"), "busybox-1");
        CHECK(!dockerfile_vars_get(&global, "NOVALUE"));
        /* In a stage, a global is only seen through an ARG of its name without a default. */
        CHECK(!dockerfile_vars_get(&stage, "BASE"));
        CHECK(dockerfile_apply_arg("BASE VERSION=2 GIVEN=default FROMENV UNSET", '\\', &stage, build_args, &global,
                                   &stage, &used, &error) >= 0);
        CHECK_STR(dockerfile_vars_get(&stage, "BASE"), "busybox");
        CHECK_STR(dockerfile_vars_get(&stage, "VERSION"), "2");
        CHECK_STR(dockerfile_vars_get(&stage, "GIVEN"), "cli");
        CHECK_STR(dockerfile_vars_get(&stage, "FROMENV"), "environment");
        CHECK(!dockerfile_vars_get(&stage, "UNSET"));
        CHECK(strv_contains(used, "GIVEN") && strv_contains(used, "FROMENV") && strv_length(used) == 2);
        /* Another stage starts without them. */
        CHECK(!dockerfile_vars_get(&other, "VERSION"));
        CHECK(dockerfile_apply_arg("=x", '\\', &other, NULL, &global, &other, NULL, &error) == -EINVAL);
        CHECK_STR(error, "ARG names can not be blank");
        strv_free(global.env);
        strv_free(stage.env);
        strv_free(other.env);
}

int main(void) {
        TEST(test_basic);
        TEST(test_continuations);
        TEST(test_escape_directive);
        TEST(test_errors);
        TEST(test_expand);
        TEST(test_backtick_escape);
        TEST(test_vars);
        TEST(test_split_raw);
        TEST(test_healthcheck_forms);
        TEST(test_env_forms);
        TEST(test_arg_scoping);
        return tests_exit_status();
}
