/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl-auth.h"
#include "json-util.h"
#include "macro.h"
#include "tests.h"
#include "util.h"

/* A credential helper keeping one file per server URL beside itself, as docker-credential-pass
 * would keep them in its store; it notes each verb in "calls". */
static const char helper_script[] =
        "#!/bin/sh\n"
        "dir=$(dirname \"$0\")\n"
        "input=$(cat)\n"
        "echo \"$1\" >> \"$dir/calls\"\n"
        "key() { printf %s \"$1\" | tr '/:' '__'; }\n"
        "case \"$1\" in\n"
        "get)\n"
        "    f=\"$dir/store-$(key \"$input\")\"\n"
        "    if [ -f \"$f\" ]; then cat \"$f\"; else echo 'credentials not found in native keychain'; exit 1; fi ;;\n"
        "store)\n"
        "    url=$(printf %s \"$input\" | sed -n 's/.*\"ServerURL\":\"\\([^\"]*\\)\".*/\\1/p')\n"
        "    printf %s \"$input\" > \"$dir/store-$(key \"$url\")\" ;;\n"
        "erase)\n"
        "    f=\"$dir/store-$(key \"$input\")\"\n"
        "    if [ -f \"$f\" ]; then rm \"$f\"; else echo 'credentials not found in native keychain'; exit 1; fi ;;\n"
        "*) exit 2 ;;\n"
        "esac\n";

static char root[] = "/tmp/test-ctl-auth.XXXXXX";

static char *path_of(const char *rel) {
        char *p = strjoin(root, "/", rel);
        ASSERT(p);
        return p;
}

static void put(const char *rel, const char *text, mode_t mode) {
        _cleanup_free_ char *p = path_of(rel), *d = NULL;

        d = strndup(p, (size_t) (strrchr(p, '/') - p));
        ASSERT(d && mkdir_p(d, 0700) == 0);
        ASSERT(write_file_atomic(p, text, strlen(text), mode) == 0);
}

static void drop(const char *rel) {
        _cleanup_free_ char *p = path_of(rel);
        (void) unlink(p);
}

static void check_auth(const char *host, int expect_r, const char *user, const char *password, const char *token) {
        RegistryAuth a = { .username = (char *) 0x1 };
        int r = registry_auth_lookup(host, &a);

        CHECK_INT(r, expect_r);
        if (r < 0)
                return;
        if (!streq_ptr(a.username, user) || !streq_ptr(a.password, password) || !streq_ptr(a.identity_token, token)) {
                /* Test data only: no real secret is printed. */
                printf("FAIL %s: got (%s, %s, %s), want (%s, %s, %s)\n", host, a.username ?: "NULL",
                       a.password ?: "NULL", a.identity_token ?: "NULL", user ?: "NULL", password ?: "NULL",
                       token ?: "NULL");
                tests_failed++;
        }
        registry_auth_done(&a);
        CHECK(!a.username && !a.password && !a.identity_token);
}

static void test_lookup_files(void) {
        /* Nothing anywhere. */
        check_auth("docker.io", 0, NULL, NULL, NULL);
        CHECK_INT(registry_auth_lookup("", &(RegistryAuth){}), -EINVAL);

        /* base64("hubuser:pa:ss") and base64("u:p"); the latter without padding, as some tools write. */
        put("docker/config.json",
            "{ \"auths\": {\n"
            "    \"https://index.docker.io/v1/\": { \"auth\": \"aHVidXNlcjpwYTpzcw==\" },\n"
            "    \"quay.io\": { \"auth\": \"dTpw\", \"identitytoken\": \"tok\" },\n"
            "    \"http://example.com:5000/v2/\": { \"auth\": \"dTpw\" },\n"
            "    \"empty.io\": {},\n"
            "    \"token.io\": { \"identitytoken\": \"only-token\" }\n"
            "  },\n"
            "  \"HttpHeaders\": { \"User-Agent\": \"x\" } }",
            0600);
        check_auth("docker.io", 0, "hubuser", "pa:ss", NULL);
        check_auth("index.docker.io", 0, "hubuser", "pa:ss", NULL);
        check_auth("registry-1.docker.io", 0, "hubuser", "pa:ss", NULL);
        check_auth("quay.io", 0, "u", "p", "tok");
        check_auth("example.com:5000", 0, "u", "p", NULL);
        check_auth("example.com", 0, NULL, NULL, NULL);
        check_auth("empty.io", 0, NULL, NULL, NULL);
        check_auth("token.io", 0, NULL, NULL, "only-token");
        check_auth("other.io", 0, NULL, NULL, NULL);

        /* ~/.config/containers/auth.json before it, XDG_RUNTIME_DIR's before that, REGISTRY_AUTH_FILE first;
         * a file without the host is passed over. "docker.io" as a key matches Docker Hub too. */
        put("home/.config/containers/auth.json", "{\"auths\": {\"docker.io\": {\"auth\": \"dXNlcjI6cDI=\"}}}", 0600);
        check_auth("docker.io", 0, "user2", "p2", NULL);
        check_auth("quay.io", 0, "u", "p", "tok");
        put("run/containers/auth.json", "{\"auths\": {\"registry-1.docker.io\": {\"auth\": \"dXNlcjM6cDM=\"}}}", 0600);
        check_auth("docker.io", 0, "user3", "p3", NULL);
        put("authfile.json", "{\"auths\": {\"index.docker.io\": {\"auth\": \"dXNlcjQ6cDQ=\"}}}", 0600);
        check_auth("docker.io", 0, "user3", "p3", NULL); /* REGISTRY_AUTH_FILE is not set yet */
        ASSERT(setenv("REGISTRY_AUTH_FILE", "", 1) == 0);
        check_auth("docker.io", 0, "user3", "p3", NULL);
        _cleanup_free_ char *authfile = path_of("authfile.json");
        ASSERT(setenv("REGISTRY_AUTH_FILE", authfile, 1) == 0);
        check_auth("docker.io", 0, "user4", "p4", NULL);
        ASSERT(unsetenv("REGISTRY_AUTH_FILE") == 0);
        drop("run/containers/auth.json");
        drop("home/.config/containers/auth.json");
        check_auth("docker.io", 0, "hubuser", "pa:ss", NULL);

        /* Malformed. */
        static const char *const bad[] = {
                "{",
                "[]",
                "{\"auths\": []}",
                "{\"auths\": {\"docker.io\": \"x\"}}",
                "{\"auths\": {\"docker.io\": {\"auth\": \"!!!!\"}}}",
                "{\"auths\": {\"docker.io\": {\"auth\": \"dXNlcg==\"}}}", /* "user", no colon */
                "{\"auths\": {\"docker.io\": {\"auth\": \"dQBwOng=\"}}}", /* a NUL inside */
                "{\"auths\": {\"docker.io\": {\"auth\": \"dTp=w\"}}}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                put("home/.config/containers/auth.json", bad[i], 0600);
                check_auth("docker.io", -EBADMSG, NULL, NULL, NULL);
        }
        drop("home/.config/containers/auth.json");
}

static void test_helpers(void) {
        put("docker/config.json",
            "{ \"auths\": { \"fallback.io\": { \"auth\": \"dTpw\" }, \"helper.io\": { \"auth\": \"dTpw\" } },\n"
            "  \"credHelpers\": { \"helper.io\": \"test\", \"https://index.docker.io/v1/\": \"test\",\n"
            "                     \"missing.io\": \"nonexistent\", \"broken.io\": \"broken\", \"evil.io\": \"../x\" "
            "},\n"
            "  \"credsStore\": \"test\" }",
            0600);
        put("bin/store-helper.io", "{\"ServerURL\":\"helper.io\",\"Username\":\"hu\",\"Secret\":\"hs\"}", 0600);
        put("bin/store-https___index.docker.io_v1_",
            "{\"ServerURL\":\"https://index.docker.io/v1/\",\"Username\":\"<token>\",\"Secret\":\"refresh\"}", 0600);
        put("bin/store-store.io", "{\"Username\":\"su\",\"Secret\":\"ss\"}", 0600);
        put("bin/store-bad.io", "not json", 0600);

        check_auth("helper.io", 0, "hu", "hs", NULL);
        check_auth("docker.io", 0, NULL, NULL, "refresh");
        check_auth("store.io", 0, "su", "ss", NULL); /* credsStore */
        check_auth("fallback.io", 0, "u", "p", NULL); /* not in the store: "auths" */
        check_auth("nowhere.io", 0, NULL, NULL, NULL); /* nowhere */
        check_auth("bad.io", -EBADMSG, NULL, NULL, NULL); /* an answer that is no JSON */
        check_auth("missing.io", -ENOENT, NULL, NULL, NULL);
        check_auth("broken.io", -EIO, NULL, NULL, NULL);
        check_auth("evil.io", -EINVAL, NULL, NULL, NULL);
        drop("bin/store-bad.io");
}

static void test_store_erase(void) {
        _cleanup_free_ char *config = path_of("docker/config.json"), *text = NULL;
        _cleanup_json_ json_object *o = NULL;
        struct stat st;

        /* Into a directory that does not exist yet. */
        _cleanup_free_ char *dir = path_of("newdocker");
        ASSERT(setenv("DOCKER_CONFIG", dir, 1) == 0);
        CHECK_INT(registry_auth_store("quay.io", "alice", "s3cret:x"), 0);
        CHECK(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700);
        _cleanup_free_ char *newconfig = path_of("newdocker/config.json");
        CHECK(stat(newconfig, &st) == 0 && (st.st_mode & 07777) == 0600);
        check_auth("quay.io", 0, "alice", "s3cret:x", NULL);
        CHECK_INT(registry_auth_erase("quay.io"), 1);
        CHECK_INT(registry_auth_erase("quay.io"), 0);
        check_auth("quay.io", 0, NULL, NULL, NULL);
        _cleanup_free_ char *olddir = path_of("docker");
        ASSERT(setenv("DOCKER_CONFIG", olddir, 1) == 0);

        /* Without a helper: "auths", other keys kept, aliases of the key replaced. */
        put("docker/config.json",
            "{\"auths\": {\"docker.io\": {\"auth\": \"dTpw\"}, \"quay.io\": {\"auth\": \"dTpw\"}}, "
            "\"psFormat\": \"table {{.ID}}\", \"credHelpers\": {\"other.io\": \"test\"}}",
            0644);
        CHECK_INT(registry_auth_store("registry-1.docker.io", "bob", "pw"), 0);
        check_auth("docker.io", 0, "bob", "pw", NULL);
        CHECK(stat(config, &st) == 0 && (st.st_mode & 07777) == 0600);
        ASSERT(json_read_file(config, &o) == 0);
        json_object *auths = NULL, *v = NULL;
        CHECK(json_object_object_get_ex(o, "auths", &auths));
        CHECK(!json_object_object_get_ex(auths, "docker.io", &v));
        CHECK(json_object_object_get_ex(auths, "https://index.docker.io/v1/", &v));
        CHECK_STR(json_get_string(v, "auth"), "Ym9iOnB3");
        CHECK(json_object_object_get_ex(auths, "quay.io", &v));
        CHECK_STR(json_get_string(o, "psFormat"), "table {{.ID}}");
        CHECK_INT(registry_auth_store("docker.io", "", "pw"), -EINVAL);
        CHECK_INT(registry_auth_store("docker.io", "a:b", "pw"), -EINVAL);
        CHECK_INT(registry_auth_store("", "a", "pw"), -EINVAL);

        /* Through credHelpers: the secret goes to the helper, "auths" keeps an empty entry. */
        CHECK_INT(registry_auth_store("other.io", "carol", "hidden"), 0);
        ASSERT(read_full_file(config, &text, NULL) == 0);
        CHECK(!strstr(text, "hidden") && !strstr(text, "carol"));
        check_auth("other.io", 0, "carol", "hidden", NULL);
        CHECK_INT(registry_auth_erase("other.io"), 1);
        check_auth("other.io", 0, NULL, NULL, NULL);
        CHECK_INT(registry_auth_erase("other.io"), 0);

        /* A symlinked config.json stays one. */
        _cleanup_free_ char *real = path_of("dotfiles/docker.json");
        put("dotfiles/docker.json", "{}", 0600);
        ASSERT(unlink(config) == 0 && symlink(real, config) == 0);
        CHECK_INT(registry_auth_store("quay.io", "dave", "pw"), 0);
        CHECK(lstat(config, &st) == 0 && S_ISLNK(st.st_mode));
        check_auth("quay.io", 0, "dave", "pw", NULL);

        /* A malformed config.json is left alone. */
        put("docker/config.json", "{", 0600);
        CHECK_INT(registry_auth_store("quay.io", "eve", "pw"), -EBADMSG);
        CHECK_INT(registry_auth_erase("quay.io"), -EBADMSG);
}

int main(void) {
        _cleanup_free_ char *home = NULL, *docker = NULL, *run = NULL, *bin = NULL, *helper = NULL, *broken = NULL,
                            *path = NULL;

        ASSERT(mkdtemp(root));
        home = path_of("home");
        docker = path_of("docker");
        run = path_of("run");
        bin = path_of("bin");
        ASSERT(mkdir_p(home, 0700) == 0 && mkdir_p(run, 0700) == 0 && mkdir_p(bin, 0700) == 0);
        put("bin/docker-credential-test", helper_script, 0755);
        put("bin/docker-credential-broken", "#!/bin/sh\ncat >/dev/null\necho oops\nexit 3\n", 0755);
        path = strjoin(bin, ":", getenv("PATH") ?: "/usr/bin:/bin");
        ASSERT(path);
        ASSERT(setenv("HOME", home, 1) == 0 && setenv("DOCKER_CONFIG", docker, 1) == 0 &&
               setenv("XDG_RUNTIME_DIR", run, 1) == 0 && setenv("PATH", path, 1) == 0 &&
               unsetenv("REGISTRY_AUTH_FILE") == 0);

        TEST(test_lookup_files);
        TEST(test_helpers);
        TEST(test_store_erase);
        ASSERT(rm_rf(root) == 0);
        return tests_exit_status();
}
