/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"
#include "registries-conf.h"
#include "tests.h"
#include "util.h"

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static RegistriesConf *parse(const char *text) {
        RegistriesConf *c = registries_conf_new();
        _cleanup_free_ char *error = NULL;

        ASSERT(c);
        if (registries_conf_parse(c, text, strlen(text), &error) < 0) {
                printf("FAIL cannot parse (%s):\n%s\n", error ?: "?", text);
                tests_failed++;
        }
        return c;
}

/* Malformed: -EBADMSG with a message that has line (when given) and mentions what. */
static void check_bad(const char *text, unsigned line, const char *what) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = registries_conf_new();
        _cleanup_free_ char *error = NULL, *expect = NULL;

        ASSERT(c);
        CHECK_INT(registries_conf_parse(c, text, strlen(text), &error), -EBADMSG);
        if (line > 0)
                ASSERT(asprintf(&expect, "line %u: ", line) > 0);
        if (!error || (expect && !startswith(error, expect)) || !strstr(error, what)) {
                printf("FAIL unexpected error \"%s\" for:\n%s\n", error ?: "(null)", text);
                tests_failed++;
        }
}

/* The candidates for s, joined by ' ' in their full form. */
static void check_candidates(const RegistriesConf *c, const char *s, const char *expect) {
        ImageRef *a = NULL;
        size_t n = 0;
        _cleanup_free_ char *joined = strdup("");

        CHECK_INT(image_ref_candidates(c, s, &a, &n), 0);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *f = image_ref_string(&a[i]);
                char *j = strjoin(joined, i > 0 ? " " : "", f);
                free(joined);
                joined = j;
        }
        CHECK_STR(joined, expect);
        image_ref_array_free(a, n);
}

static void test_toml(void) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = NULL;

        /* Everything the subset has, in one file. */
        c = parse("# comment\n"
                  "\n"
                  "  unqualified-search-registries = [ \"quay.io\", # inner comment\n"
                  "     'registry.fedoraproject.org',\n"
                  "  ]   # trailing\r\n"
                  "short-name-mode=\"enforcing\"\n"
                  "unknown-key = true\n"
                  "\"quoted-unknown\" = \"a\\tb\\u00e9\\U0001F600\\\\\\\"\"\n"
                  "[aliases]\n"
                  "  \"fedora\" = \"registry.fedoraproject.org/fedora\"\n"
                  "  'literal' = 'docker.io/library/busybox'\n"
                  "  bare_key-1 = \"quay.io/x/y\"\n"
                  "\n"
                  "[[registry]]\n"
                  "prefix = \"example.com/foo\"\n"
                  "location = \"internal.example.com/bar\"\n"
                  "insecure = true\n"
                  "blocked = false\n"
                  "[[registry.mirror]]\n"
                  "location = \"mirror.example.com\"\n"
                  "insecure = false\n"
                  "[[registry.mirror]]\n"
                  "location = \"mirror2.example.com\"\n"
                  "pull-from-mirror = \"digest-only\"\n"
                  "[[ registry ]]\n"
                  "location = \"blocked.example.com\"\n"
                  "blocked = true\n"
                  "[some.other . \"table\"]\n"
                  "x = []\n"
                  "[some.other]\n"
                  "y = ['a','b',]");
        check_candidates(c, "busybox", "quay.io/busybox:latest registry.fedoraproject.org/busybox:latest");
        check_candidates(c, "fedora:39", "registry.fedoraproject.org/fedora:39");
        check_candidates(c, "literal@" D64, "docker.io/library/busybox@" D64);
        check_candidates(c, "bare_key-1", "quay.io/x/y:latest");
        CHECK(registry_is_insecure(c, "internal.example.com"));
        CHECK(!registry_is_insecure(c, "example.com")); /* the prefix is example.com/foo */
        c = registries_conf_free(c);

        /* An empty file, only comments, no final newline. */
        c = parse("");
        check_candidates(c, "busybox", "docker.io/library/busybox:latest");
        c = registries_conf_free(c);
        c = parse("# just a comment");
        c = registries_conf_free(c);
        c = parse("[aliases]\n[a.b]\n[a]\n[[t]]\n[[t]]\nk = \"\"");
        c = registries_conf_free(c);

        check_bad("x = ", 1, "expected a value");
        check_bad("x = \"abc", 1, "unterminated string");
        check_bad("x = \"ab\nc\"", 1, "unterminated string");
        check_bad("\n\nx = 'abc", 3, "unterminated string");
        check_bad("x = \"\"\"multi\"\"\"", 1, "multi-line");
        check_bad("x = '''multi'''", 1, "multi-line");
        check_bad("x = \"\\q\"", 1, "escape");
        check_bad("x = \"\\u12\"", 1, "escape");
        check_bad("x = \"\\uD800\"", 1, "escape");
        check_bad("x = \"\\U00110000\"", 1, "escape");
        check_bad("x = \"\\u0000\"", 1, "escape");
        check_bad("x = \"a\x01\"", 1, "control character");
        check_bad("x = 1", 1, "unsupported value");
        check_bad("x = truex", 1, "unsupported value");
        check_bad("x = { a = 1 }", 1, "unsupported value");
        check_bad("x = [1]", 1, "arrays may only hold strings");
        check_bad("x = [[\"a\"]]", 1, "arrays may only hold strings");
        check_bad("x = [\"a\" \"b\"]", 1, "expected ',' or ']'");
        check_bad("x = [\"a\",\n", 2, "arrays may only hold strings");
        check_bad("x = \"a\" y = \"b\"", 1, "end of the line");
        check_bad("x \"a\"", 1, "expected '='");
        check_bad("= \"a\"", 1, "expected a key");
        check_bad("a.b = \"a\"", 1, "dotted keys");
        check_bad("x = \"a\"\nx = \"b\"", 2, "defined twice");
        check_bad("[t]\n[t]", 2, "defined twice");
        check_bad("[t]\nx = \"a\"\n[t.x]", 3, "no table");
        check_bad("x = \"a\"\n[[x]]", 2, "another key");
        check_bad("[[t]]\n[t]", 2, "defined twice");
        check_bad("[t", 1, "end of a table header");
        check_bad("[[t]", 1, "end of a table header");
        check_bad("[]", 1, "expected a key");
        check_bad("[t.]", 1, "expected a key");
        check_bad("[t] x = \"a\"", 1, "end of the line");
        check_bad("x = \"a\"\r", 1, "end of the line");
        check_bad("# a\x01", 1, "control character");
        check_bad("x = \"\xff\"", 1, "UTF-8");
        check_bad("x = \"\xc0\x80\"", 1, "UTF-8");
        {
                _cleanup_(registries_conf_freep) RegistriesConf *e = registries_conf_new();
                CHECK_INT(registries_conf_parse(e, "x = \"a\0\"", 8, NULL), -EBADMSG);
        }

        /* Well-formed TOML, wrong for registries.conf. */
        check_bad("unqualified-search-registries = \"quay.io\"", 0, "array of strings");
        check_bad("unqualified-search-registries = [\"http://quay.io\"]", 0, "invalid registry");
        check_bad("short-name-mode = \"loose\"", 0, "short-name-mode");
        check_bad("short-name-mode = true", 0, "\"short-name-mode\": must be a string");
        check_bad("aliases = \"x\"", 0, "must be a table");
        check_bad("[aliases]\n\"quay.io/x\" = \"quay.io/x\"", 0, "short name");
        check_bad("[aliases]\n\"x:1\" = \"quay.io/x\"", 0, "short name");
        check_bad("[aliases]\n\"x\" = \"y/x\"", 0, "fully qualified");
        check_bad("[aliases]\n\"x\" = \"quay.io/x:1\"", 0, "fully qualified");
        check_bad("[aliases]\n\"x\" = \"quay.io/x@" D64 "\"", 0, "fully qualified");
        check_bad("[aliases]\n\"x\" = true", 0, "must be a string");
        check_bad("[registry]\nlocation = \"a.io\"", 0, "array of tables");
        check_bad("[[registry]]\ninsecure = true", 0, "neither prefix nor location");
        check_bad("[[registry]]\nlocation = \"a.io\"\ninsecure = \"yes\"", 0, "\"insecure\": must be a boolean");
        check_bad("[[registry]]\nlocation = \"https://a.io\"", 0, "invalid location");
        check_bad("[[registry]]\nprefix = \"*.a.io\"\nlocation = \"b.io\"", 0, "wildcard");
        check_bad("[[registry]]\nprefix = \"*.a.io/x\"", 0, "invalid prefix");
        check_bad("[[registry]]\nlocation = \"a.io\"\n[[registry]]\nprefix = \"a.io\"", 0, "same prefix");
        check_bad("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\ninsecure = true", 0, "mirror");
        check_bad("[[registry]]\nlocation = \"a.io\"\nmirror = \"b.io\"", 0, "array of tables");
}

static void test_failed_parse_keeps_conf(void) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = parse("unqualified-search-registries = [\"a.io\"]\n");
        const char *bad = "unqualified-search-registries = [\"b.io\"]\n[aliases]\nx = \"y\"\n";

        CHECK_INT(registries_conf_parse(c, bad, strlen(bad), NULL), -EBADMSG);
        check_candidates(c, "x", "a.io/x:latest");
}

static void test_candidates(void) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = NULL;
        ImageRef *a = NULL;
        size_t n = 0;

        /* No configuration: Docker's default. */
        check_candidates(NULL, "busybox", "docker.io/library/busybox:latest");
        check_candidates(NULL, "user/x:1", "docker.io/user/x:1");
        check_candidates(NULL, "quay.io/x/y", "quay.io/x/y:latest");
        CHECK_INT(image_ref_candidates(NULL, "Busybox", &a, &n), -EINVAL);
        CHECK_INT(image_ref_candidates(NULL, "a_b.c/x", &a, &n), -EINVAL);

        c = parse("unqualified-search-registries = [\"quay.io\", \"docker.io\", \"localhost:5000/ns\"]\n"
                  "[aliases]\n"
                  "\"team/app\" = \"registry.example.com/team/app\"\n");
        check_candidates(c, "busybox:1", "quay.io/busybox:1 docker.io/library/busybox:1 localhost:5000/ns/busybox:1");
        check_candidates(c, "x@" D64, "quay.io/x@" D64 " docker.io/library/x@" D64 " localhost:5000/ns/x@" D64);
        check_candidates(c, "team/app:2", "registry.example.com/team/app:2");
        check_candidates(c, "team/app", "registry.example.com/team/app:latest");
        /* Qualified: itself, alias or not. */
        check_candidates(c, "docker.io/busybox", "docker.io/library/busybox:latest");
        check_candidates(c, "localhost/team/app", "localhost/team/app:latest");
        c = registries_conf_free(c);

        /* An empty search list: docker.io. */
        c = parse("unqualified-search-registries = []");
        check_candidates(c, "busybox", "docker.io/library/busybox:latest");
}

static void test_pull_source(void) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = parse("[[registry]]\n"
                                                                   "prefix = \"example.com/foo\"\n"
                                                                   "location = \"internal.example.com/bar\"\n"
                                                                   "[[registry]]\n"
                                                                   "prefix = \"example.com/foo/secret\"\n"
                                                                   "blocked = true\n"
                                                                   "location = \"example.com/foo/secret\"\n"
                                                                   "[[registry]]\n"
                                                                   "prefix = \"*.blocked.io\"\n"
                                                                   "blocked = true\n"
                                                                   "[[registry]]\n"
                                                                   "location = \"docker.io\"\n"
                                                                   "insecure = false\n");
        static const struct {
                const char *in, *out;
        } table[] = {
                { "example.com/foo/x:1", "internal.example.com/bar/x:1" },
                { "example.com/foo@" D64, "internal.example.com/bar@" D64 },
                { "example.com/foobar/x", "example.com/foobar/x:latest" },
                { "example.com/other", "example.com/other:latest" },
                { "busybox", "docker.io/library/busybox:latest" },
                { "blocked.io/x", "blocked.io/x:latest" },
                { "example.com/foo/secret", NULL },
                { "example.com/foo/secret/x", NULL },
                { "a.blocked.io/x", NULL },
                { "a.b.blocked.io/x", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_(image_ref_done) ImageRef r = {}, out = {};
                _cleanup_free_ char *s = NULL;

                ASSERT(image_ref_parse(table[i].in, &r) == 0);
                int k = registries_conf_pull_source(c, &r, &out);
                if (!table[i].out) {
                        CHECK_INT(k, -EACCES);
                        continue;
                }
                CHECK_INT(k, 0);
                s = k == 0 ? image_ref_string(&out) : NULL;
                CHECK_STR(s, table[i].out);
        }

        _cleanup_(image_ref_done) ImageRef r = {}, out = {};
        ASSERT(image_ref_parse("quay.io/x", &r) == 0);
        CHECK_INT(registries_conf_pull_source(NULL, &r, &out), 0);
        CHECK_STR(out.domain, "quay.io");
}

static void write_file(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = strjoin(dir, "/", name), *d = NULL;

        ASSERT(p);
        d = strndup(p, (size_t) (strrchr(p, '/') - p));
        ASSERT(d && mkdir_p(d, 0755) == 0);
        ASSERT(write_file_atomic(p, text, strlen(text), 0644) == 0);
}

static void test_load(void) {
        char root[] = "/tmp/test-registries-conf.XXXXXX";
        _cleanup_(registries_conf_freep) RegistriesConf *c = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT(mkdtemp(root));

        /* Nothing there: an empty configuration. */
        CHECK_INT(registries_conf_load(root, &c), 0);
        check_candidates(c, "busybox", "docker.io/library/busybox:latest");
        CHECK(!registry_is_insecure(c, "example.com"));
        c = registries_conf_free(c);

        write_file(root, "etc/containers/registries.conf",
                   "unqualified-search-registries = [\"a.io\", \"b.io\"]\n"
                   "[aliases]\n"
                   "one = \"a.io/one\"\n"
                   "two = \"a.io/two\"\n"
                   "three = \"a.io/three\"\n"
                   "[[registry]]\n"
                   "location = \"a.io\"\n"
                   "insecure = true\n"
                   "[[registry]]\n"
                   "location = \"b.io\"\n");
        /* Drop-ins in byte order: 10 before 9, and "Z" before "a". */
        write_file(root, "etc/containers/registries.conf.d/10-first.conf",
                   "unqualified-search-registries = [\"c.io\"]\n"
                   "[aliases]\n"
                   "one = \"c.io/one\"\n"
                   "two = \"\"\n"
                   "[[registry]]\n"
                   "location = \"a.io\"\n"
                   "insecure = false\n");
        write_file(root, "etc/containers/registries.conf.d/9-second.conf",
                   "[aliases]\n"
                   "one = \"d.io/one\"\n"
                   "[[registry]]\n"
                   "location = \"b.io\"\n"
                   "insecure = true\n");
        write_file(root, "etc/containers/registries.conf.d/ignored.txt", "not toml");
        write_file(root, "etc/containers/registries.conf.d/.hidden.conf", "not toml");
        _cleanup_free_ char *dir = strjoin(root, "/etc/containers/registries.conf.d/dir.conf");
        ASSERT(dir && mkdir_p(dir, 0755) == 0);
        write_file(root, "etc/docker/daemon.json",
                   "{\"debug\": true, \"insecure-registries\": [\"10.1.0.0/16\", \"http://my.registry:5000\", "
                   "\"fd00::/8\", \"plain.example\"]}");

        CHECK_INT(registries_conf_load_full(root, &c, &error), 0);
        check_candidates(c, "x", "c.io/x:latest");
        check_candidates(c, "one", "d.io/one:latest");
        check_candidates(c, "two", "c.io/two:latest"); /* removed by "" */
        check_candidates(c, "three", "a.io/three:latest");
        CHECK(!registry_is_insecure(c, "a.io"));
        CHECK(registry_is_insecure(c, "b.io"));
        CHECK(registry_is_insecure(c, "10.1.2.3:5000"));
        CHECK(registry_is_insecure(c, "10.1.2.3"));
        CHECK(!registry_is_insecure(c, "10.2.0.1:5000"));
        CHECK(registry_is_insecure(c, "[fd12::1]:5000"));
        CHECK(registry_is_insecure(c, "my.registry:5000"));
        CHECK(!registry_is_insecure(c, "my.registry"));
        CHECK(!registry_is_insecure(c, "my.registry:5001"));
        CHECK(registry_is_insecure(c, "plain.example"));
        CHECK(!registry_is_insecure(c, "plain.example:443"));
        c = registries_conf_free(c);

        /* A malformed drop-in: an error naming file and line. */
        write_file(root, "etc/containers/registries.conf.d/50-bad.conf", "\n[aliases\n");
        CHECK_INT(registries_conf_load_full(root, &c, &error), -EBADMSG);
        CHECK(!c);
        CHECK(error &&
              endswith(error,
                       "/etc/containers/registries.conf.d/50-bad.conf: line 2: expected the end of a "
                       "table header"));
        CHECK(error && startswith(error, root));
        CHECK_INT(registries_conf_load(root, &c), -EBADMSG);
        write_file(root, "etc/containers/registries.conf.d/50-bad.conf", "");

        /* A malformed daemon.json. */
        static const char *const bad_json[] = {
                "[]",
                "{",
                "{\"insecure-registries\": \"a.io\"}",
                "{\"insecure-registries\": [1]}",
                "{\"insecure-registries\": [\"ftp://a.io\"]}",
                "{\"insecure-registries\": [\"a.io:99999\"]}",
                "{\"insecure-registries\": [\"a b\"]}",
                "{\"insecure-registries\": [\"10.0.0.0/33\"]}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_json); i++) {
                write_file(root, "etc/docker/daemon.json", bad_json[i]);
                CHECK_INT(registries_conf_load_full(root, &c, &error), -EBADMSG);
                CHECK(error && strstr(error, "/etc/docker/daemon.json: "));
        }
        write_file(root, "etc/docker/daemon.json", "{}");
        CHECK_INT(registries_conf_load(root, &c), 0);

        ASSERT(rm_rf(root) == 0);
}

static void test_insecure(void) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = parse("[[registry]]\n"
                                                                   "prefix = \"*.internal\"\n"
                                                                   "insecure = true\n"
                                                                   "[[registry]]\n"
                                                                   "prefix = \"alias.io\"\n"
                                                                   "location = \"real.io:8080/x\"\n"
                                                                   "insecure = true\n"
                                                                   "[[registry]]\n"
                                                                   "location = \"docker.io\"\n"
                                                                   "insecure = true\n");
        const char *daemon = "{\"insecure-registries\": [\"::ffff:192.168.0.0/112\", \"[::2]:5000\"]}";

        ASSERT(registries_conf_parse_daemon_json(c, daemon, strlen(daemon), NULL) == 0);

        /* Loopback, always; with no configuration too. */
        static const char *const loopback[] = { "localhost", "localhost:5000",       "LOCALHOST:1",
                                                "127.0.0.1", "127.1.2.3:443",        "[::1]:5000",
                                                "::1",       "[::ffff:127.0.0.1]:80" };
        for (size_t i = 0; i < ELEMENTSOF(loopback); i++) {
                CHECK(registry_is_insecure(NULL, loopback[i]));
                CHECK(registry_is_insecure(c, loopback[i]));
        }
        static const char *const secure[] = { "",          "example.com", "128.0.0.1", "[::2]",     "localhost.example",
                                              "docker.io", "[::1",        "::1:5000x", "127.0.0.1:" };
        for (size_t i = 0; i < ELEMENTSOF(secure); i++)
                CHECK(!registry_is_insecure(c, secure[i]));
        CHECK(!registry_is_insecure(NULL, NULL));

        CHECK(registry_is_insecure(c, "a.internal"));
        CHECK(registry_is_insecure(c, "a.b.internal"));
        CHECK(!registry_is_insecure(c, "internal"));
        CHECK(registry_is_insecure(c, "alias.io"));
        CHECK(registry_is_insecure(c, "real.io:8080"));
        CHECK(!registry_is_insecure(c, "real.io"));
        CHECK(registry_is_insecure(c, "192.168.3.4:5000"));
        CHECK(!registry_is_insecure(c, "192.169.3.4:5000"));
        CHECK(registry_is_insecure(c, "[::2]:5000"));
        /* Docker Hub never is. */
        CHECK(!registry_is_insecure(c, "docker.io"));
        CHECK(!registry_is_insecure(c, "registry-1.docker.io"));
}

int main(void) {
        TEST(test_toml);
        TEST(test_failed_parse_keeps_conf);
        TEST(test_candidates);
        TEST(test_pull_source);
        TEST(test_load);
        TEST(test_insecure);
        return tests_exit_status();
}
