/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* .dockerignore matching, with cases from moby/patternmatcher's tests. */
#include "dockerignore.h"
#include "tests.h"

static void test_patterns(void) {
        CHECK(dockerignore_pattern_match("fileutils.go", "fileutils.go"));
        CHECK(dockerignore_pattern_match("*.go", "fileutils.go"));
        CHECK(!dockerignore_pattern_match("*.go", "a/fileutils.go"));
        CHECK(dockerignore_pattern_match("**/*.go", "a/b/fileutils.go"));
        CHECK(dockerignore_pattern_match("**/*.go", "fileutils.go"));
        CHECK(dockerignore_pattern_match("**", "a/b"));
        CHECK(dockerignore_pattern_match("a/**/b", "a/b"));
        CHECK(dockerignore_pattern_match("a/**/b", "a/x/y/b"));
        CHECK(!dockerignore_pattern_match("a/**/b", "a/x/yb"));
        CHECK(dockerignore_pattern_match("dir", "dir/file"));
        CHECK(dockerignore_pattern_match("dir/*", "dir/file/deeper"));
        CHECK(!dockerignore_pattern_match("dir", "dirx"));
        CHECK(dockerignore_pattern_match("?.txt", "a.txt"));
        CHECK(!dockerignore_pattern_match("?.txt", "ab.txt"));
        CHECK(dockerignore_pattern_match("[a-c].txt", "b.txt"));
        CHECK(!dockerignore_pattern_match("[a-c].txt", "d.txt"));
        CHECK(dockerignore_pattern_match("[^a-c].txt", "d.txt"));
        CHECK(dockerignore_pattern_match("\\*.txt", "*.txt"));
        CHECK(!dockerignore_pattern_match("\\*.txt", "a.txt"));
        CHECK(!dockerignore_pattern_match("a*", "a/b/c") == false);
}

static DockerIgnore *parse(const char *text) {
        DockerIgnore *d = NULL;
        ASSERT(dockerignore_parse(text, &d) >= 0);
        return d;
}

static void test_exceptions(void) {
        _cleanup_(dockerignore_freep) DockerIgnore *d = parse("# comment\n"
                                                              "  *.md \n"
                                                              "!README.md\n"
                                                              "/tmp/\n"
                                                              "./build/../out\n"
                                                              "docs\n"
                                                              "!docs/keep\n"
                                                              "\n");
        CHECK(dockerignore_excludes(d, "CHANGES.md"));
        CHECK(!dockerignore_excludes(d, "README.md"));
        CHECK(!dockerignore_excludes(d, "sub/CHANGES.md"));
        CHECK(dockerignore_excludes(d, "tmp"));
        CHECK(dockerignore_excludes(d, "tmp/x"));
        CHECK(dockerignore_excludes(d, "out/x"));
        CHECK(!dockerignore_excludes(d, "build/x"));
        CHECK(dockerignore_excludes(d, "docs/x"));
        CHECK(!dockerignore_excludes(d, "docs/keep"));
        CHECK(!dockerignore_excludes(d, "docs/keep/inner"));
        CHECK(!dockerignore_excludes(d, "main.c"));
        CHECK(dockerignore_has_exceptions(d));
}

static void test_order(void) {
        /* The last matching pattern decides. */
        _cleanup_(dockerignore_freep) DockerIgnore *d = parse("!a\n*\n");
        CHECK(dockerignore_excludes(d, "a"));
        _cleanup_(dockerignore_freep) DockerIgnore *e = parse("*\n!a\n");
        CHECK(!dockerignore_excludes(e, "a"));
        CHECK(dockerignore_excludes(e, "b"));
        CHECK(!dockerignore_has_exceptions(d) == false);
        _cleanup_(dockerignore_freep) DockerIgnore *f = parse("**/node_modules\n");
        CHECK(dockerignore_excludes(f, "node_modules/x"));
        CHECK(dockerignore_excludes(f, "a/b/node_modules/x"));
        CHECK(!dockerignore_excludes(f, "a/node_modulesx"));
}

int main(void) {
        TEST(test_patterns);
        TEST(test_exceptions);
        TEST(test_order);
        return tests_exit_status();
}
