/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl-auth.h"
#include "json-util.h"
#include "macro.h"
#include "util.h"

extern char **environ;

#define DOCKER_HUB_KEY        "https://index.docker.io/v1/"
#define HELPER_NOT_FOUND      "credentials not found in native keychain"
#define HELPER_OUTPUT_MAX     (64 * 1024)
#define IDENTITY_TOKEN_MARKER "<token>"

static void erase_and_free(char *s) {
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

static void erase_and_freep(char **s) {
        erase_and_free(*s);
}
#define _cleanup_erase_ _cleanup_(erase_and_freep)

void registry_auth_done(RegistryAuth *a) {
        if (!a)
                return;
        erase_and_free(a->username);
        erase_and_free(a->password);
        erase_and_free(a->identity_token);
        *a = (RegistryAuth){};
}

/* ---- JSON ----------------------------------------------------------------------------------
 * json-c directly: json-util.c's json_strv_new() would clash with berthctl's own. */

static int json_parse_text(const char *text, size_t len, json_object **ret) {
        json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_object *o = json_tokener_parse_ex(tok, text, (int) len);
        bool ok = o && json_tokener_get_error(tok) == json_tokener_success;
        json_tokener_free(tok);
        if (!ok) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

/* A JSON object from a file, its text wiped after parsing. */
static int json_load_object(const char *path, json_object **ret) {
        _cleanup_erase_ char *text = NULL;
        json_object *o = NULL;
        size_t len;
        int r;

        r = read_full_file(path, &text, &len);
        if (r < 0)
                return r;
        if (len > INT_MAX)
                return -EFBIG;
        r = json_parse_text(text, len, &o);
        explicit_bzero(text, len);
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static const char *json_string_of(json_object *o, const char *key) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* ---- base64 (RFC 4648, with padding; decoding takes it missing, too) ------------------------- */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *ctl_base64_encode(const char *p, size_t n) {
        char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) (unsigned char) p[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t) (unsigned char) p[i + 1] << 8;
                if (i + 2 < n)
                        v |= (unsigned char) p[i + 2];
                *o++ = b64_alphabet[v >> 18 & 63];
                *o++ = b64_alphabet[v >> 12 & 63];
                *o++ = i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=';
                *o++ = i + 2 < n ? b64_alphabet[v & 63] : '=';
        }
        *o = 0;
        return out;
}

/* The decoded text, NUL-terminated; -EBADMSG for what is no base64 or holds a NUL. */
static int base64_decode(const char *s, char **ret) {
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '=')
                n--;
        if (n % 4 == 1 || strlen(s) - n > 2)
                return -EBADMSG;

        char *out = malloc(n / 4 * 3 + 3), *o = out;
        uint32_t v = 0;
        unsigned bits = 0;

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *k = s[i] ? strchr(b64_alphabet, s[i]) : NULL;
                if (!k) {
                        explicit_bzero(out, (size_t) (o - out));
                        free(out);
                        return -EBADMSG;
                }
                v = v << 6 | (uint32_t) (k - b64_alphabet);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        *o++ = (char) (v >> bits & 0xff);
                }
        }
        *o = 0;
        if (strlen(out) != (size_t) (o - out)) {
                erase_and_free(out);
                return -EBADMSG;
        }
        *ret = out;
        return 0;
}

/* ---- Hosts and keys -------------------------------------------------------------------------- */

static bool host_is_docker_hub(const char *h, size_t n) {
        static const char *const hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io" };
        for (size_t i = 0; i < ELEMENTSOF(hub); i++)
                if (strlen(hub[i]) == n && strncasecmp(h, hub[i], n) == 0)
                        return true;
        return false;
}

/* Docker's ConvertToHostname: a key's host, without scheme and path. */
static bool key_matches(const char *key, const char *host) {
        const char *h = startswith(key, "https://") ?: startswith(key, "http://") ?: key;
        size_t n = strcspn(h, "/");

        if (host_is_docker_hub(host, strlen(host)))
                return host_is_docker_hub(h, n);
        return strlen(host) == n && strncmp(h, host, n) == 0;
}

/* What docker login stores under, and hands to credential helpers. */
static const char *server_url(const char *host) {
        return host_is_docker_hub(host, strlen(host)) ? DOCKER_HUB_KEY : host;
}

static const char *home_dir(void) {
        const char *h = getenv("HOME");
        if (!isempty(h))
                return h;
        struct passwd *pw = getpwuid(getuid());
        return pw ? pw->pw_dir : NULL;
}

static char *docker_config_path(void) {
        const char *d = getenv("DOCKER_CONFIG"), *home;

        if (!isempty(d))
                return strjoin(d, "/config.json");
        home = home_dir();
        return home ? strjoin(home, "/.docker/config.json") : NULL;
}

/* ---- Credential helpers ---------------------------------------------------------------------- */

static bool helper_name_is_valid(const char *name) {
        return !isempty(name) && !strchr(name, '/') && strlen(name) < 128;
}

/* Runs docker-credential-<helper> <verb> with input on stdin; its stdout in *ret_output (when
 * asked for). A memfd on either side: no pipe to deadlock on, no SIGPIPE. 0 when it exited 0, 1 when
 * it exited otherwise saying "credentials not found", -EIO for other failures. */
static int helper_run(const char *helper, const char *verb, const char *input, char **ret_output) {
        _cleanup_close_ int in = -1, out = -1;
        _cleanup_free_ char *program = NULL;
        _cleanup_erase_ char *output = NULL;
        posix_spawn_file_actions_t actions;
        size_t len = 0;
        pid_t pid;
        int r, status;

        if (!helper_name_is_valid(helper))
                return -EINVAL;
        program = strjoin("docker-credential-", helper);
        if (!program)
                return -ENOMEM;
        in = memfd_create("credential-input", MFD_CLOEXEC);
        out = memfd_create("credential-output", MFD_CLOEXEC);
        if (in < 0 || out < 0)
                return -errno;
        r = loop_write(in, input, strlen(input));
        if (r < 0)
                return r;
        if (lseek(in, 0, SEEK_SET) < 0)
                return -errno;

        char *argv[] = { program, (char *) verb, NULL };
        r = posix_spawn_file_actions_init(&actions);
        if (r != 0)
                return -r;
        r = posix_spawn_file_actions_adddup2(&actions, in, STDIN_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawnp(&pid, program, &actions, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        if (r != 0)
                return -r;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        /* Drop the input (a secret, for "store"): truncated pages are freed, not left to the close. */
        (void) ftruncate(in, 0);

        if (lseek(out, 0, SEEK_SET) < 0)
                return -errno;
        off_t size = lseek(out, 0, SEEK_END);
        if (size < 0 || size > HELPER_OUTPUT_MAX || lseek(out, 0, SEEK_SET) < 0)
                return -EIO;
        r = read_full_fd(out, &output, &len);
        if (r < 0)
                return r;
        (void) ftruncate(out, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return output && strstr(output, HELPER_NOT_FOUND) ? 1 : -EIO;
        if (ret_output)
                *ret_output = TAKE_PTR(output);
        return 0;
}

static int helper_get(const char *helper, const char *host, RegistryAuth *ret) {
        _cleanup_erase_ char *output = NULL;
        _cleanup_json_ json_object *o = NULL;
        int r;

        r = helper_run(helper, "get", server_url(host), &output);
        if (r != 0)
                return r;
        r = json_parse_text(output, strlen(output), &o);
        if (r < 0 || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        const char *user = json_string_of(o, "Username"), *secret = json_string_of(o, "Secret");
        if (isempty(user) && isempty(secret))
                return 1;

        RegistryAuth a = {};
        if (streq_ptr(user, IDENTITY_TOKEN_MARKER))
                a.identity_token = strdup(secret ?: "");
        else {
                a.username = strdup(user ?: "");
                a.password = strdup(secret ?: "");
        }
        if ((!a.identity_token && !a.password) || (a.password && !a.username)) {
                registry_auth_done(&a);
                return -ENOMEM;
        }
        /* json-c keeps its own copies: wipe them before they are freed. */
        if (secret)
                explicit_bzero((char *) secret, strlen(secret));
        *ret = a;
        return 0;
}

/* The helper config.json (or an auth.json) configures for host: its "credHelpers" entry, else
 * "credsStore"; NULL for none. */
static const char *config_helper(json_object *config, const char *host) {
        json_object *helpers = NULL;

        if (json_object_object_get_ex(config, "credHelpers", &helpers) &&
            json_object_is_type(helpers, json_type_object)) {
                json_object_object_foreach(helpers, key, value) {
                        if (key_matches(key, host) && json_object_is_type(value, json_type_string))
                                return json_object_get_string(value);
                }
        }
        const char *store = json_string_of(config, "credsStore");
        return isempty(store) ? NULL : store;
}

/* ---- Lookup ---------------------------------------------------------------------------------- */

static int auth_from_entry(json_object *entry, RegistryAuth *ret) {
        _cleanup_erase_ char *decoded = NULL;
        const char *auth = json_string_of(entry, "auth"), *token = json_string_of(entry, "identitytoken");
        RegistryAuth a = {};
        int r;

        if (isempty(auth) && isempty(token))
                return 1;
        if (!isempty(auth)) {
                r = base64_decode(auth, &decoded);
                if (r < 0)
                        return r;
                char *colon = strchr(decoded, ':');
                if (!colon)
                        return -EBADMSG;
                a.username = strndup(decoded, (size_t) (colon - decoded));
                a.password = strdup(colon + 1);
                if (!a.username || !a.password) {
                        registry_auth_done(&a);
                        return -ENOMEM;
                }
        }
        if (!isempty(token) && !(a.identity_token = strdup(token))) {
                registry_auth_done(&a);
                return -ENOMEM;
        }
        *ret = a;
        return 0;
}

/* One file: 0 with *ret set, 1 when it has nothing for host. */
static int lookup_in_file(const char *path, const char *host, RegistryAuth *ret) {
        _cleanup_json_ json_object *config = NULL;
        json_object *auths = NULL;
        int r;

        r = json_load_object(path, &config);
        if (r == -ENOENT || r == -ENOTDIR)
                return 1;
        if (r < 0)
                return r;

        const char *helper = config_helper(config, host);
        if (helper) {
                r = helper_get(helper, host, ret);
                if (r <= 0)
                        return r;
        }

        if (!json_object_object_get_ex(config, "auths", &auths))
                return 1;
        if (!json_object_is_type(auths, json_type_object))
                return -EBADMSG;
        json_object_object_foreach(auths, key, entry) {
                if (!key_matches(key, host))
                        continue;
                if (!json_object_is_type(entry, json_type_object))
                        return -EBADMSG;
                r = auth_from_entry(entry, ret);
                if (r <= 0)
                        return r;
        }
        return 1;
}

int registry_auth_lookup(const char *host, RegistryAuth *ret) {
        _cleanup_free_ char *runtime = NULL, *user = NULL, *docker = NULL;
        const char *env = getenv("REGISTRY_AUTH_FILE"), *xdg = getenv("XDG_RUNTIME_DIR"), *home = home_dir();
        int r;

        if (isempty(host))
                return -EINVAL;
        if (!isempty(xdg) && !(runtime = strjoin(xdg, "/containers/auth.json")))
                return -ENOMEM;
        if (home && !(user = strjoin(home, "/.config/containers/auth.json")))
                return -ENOMEM;
        docker = docker_config_path();
        if (!docker && home)
                return -ENOMEM;

        const char *paths[] = { isempty(env) ? NULL : env, runtime, user, docker };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                if (!paths[i])
                        continue;
                r = lookup_in_file(paths[i], host, ret);
                if (r <= 0)
                        return r;
        }
        *ret = (RegistryAuth){};
        return 0;
}

/* ---- login, logout --------------------------------------------------------------------------- */

static int config_read(const char *path, json_object **ret) {
        int r = json_load_object(path, ret);
        if (r == -ENOENT) {
                *ret = json_object_new_object();
                return *ret ? 0 : -ENOMEM;
        }
        return r;
}

static int config_write(const char *path, json_object *config) {
        _cleanup_free_ char *dir = NULL, *target = NULL;
        size_t len;
        int r;

        /* A symlinked config.json (dotfiles) stays a symlink: write where it points. */
        target = realpath(path, NULL);
        if (!target && errno != ENOENT)
                return -errno;
        if (!target) {
                dir = strndup(path, (size_t) (strrchr(path, '/') - path));
                if (!dir)
                        return -ENOMEM;
                r = mkdir_p(dir, 0700);
                if (r < 0)
                        return r;
        }
        const char *s = json_object_to_json_string_length(
                config, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (!s)
                return -ENOMEM;
        _cleanup_erase_ char *text = strjoin(s, "\n");
        if (!text)
                return -ENOMEM;
        return write_file_atomic(target ?: path, text, strlen(text), 0600);
}

/* Removes the "auths" entries for host; whether there was one. */
static bool auths_remove(json_object *config, const char *host) {
        json_object *auths = NULL;
        bool removed = false;

        if (!json_object_object_get_ex(config, "auths", &auths) || !json_object_is_type(auths, json_type_object))
                return false;
        for (bool again = true; again;) {
                again = false;
                json_object_object_foreach(auths, key, value) {
                        (void) value;
                        if (key_matches(key, host)) {
                                json_object_object_del(auths, key);
                                removed = again = true;
                                break;
                        }
                }
        }
        return removed;
}

static int auths_set(json_object *config, const char *host, json_object *entry) {
        json_object *auths = NULL;

        if (!json_object_object_get_ex(config, "auths", &auths) || !json_object_is_type(auths, json_type_object)) {
                auths = json_object_new_object();
                if (!auths || json_object_object_add(config, "auths", auths) < 0) {
                        json_object_put(auths);
                        json_object_put(entry);
                        return -ENOMEM;
                }
        }
        auths_remove(config, host);
        if (json_object_object_add(auths, server_url(host), entry) < 0) {
                json_object_put(entry);
                return -ENOMEM;
        }
        return 0;
}

int registry_auth_store(const char *host, const char *username, const char *password) {
        _cleanup_free_ char *path = docker_config_path();
        _cleanup_json_ json_object *config = NULL;
        int r;

        if (isempty(host) || isempty(username) || strchr(username, ':') || !password)
                return -EINVAL;
        if (!path)
                return -ENOMEM;
        r = config_read(path, &config);
        if (r < 0)
                return r;

        json_object *entry = json_object_new_object();
        if (!entry)
                return -ENOMEM;
        const char *helper = config_helper(config, host);
        if (helper) {
                _cleanup_json_ json_object *input = json_object_new_object();
                if (!input ||
                    json_object_object_add(input, "ServerURL", json_object_new_string(server_url(host))) < 0 ||
                    json_object_object_add(input, "Username", json_object_new_string(username)) < 0 ||
                    json_object_object_add(input, "Secret", json_object_new_string(password)) < 0) {
                        json_object_put(entry);
                        return -ENOMEM;
                }
                r = helper_run(
                        helper, "store",
                        json_object_to_json_string_ext(input, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                        NULL);
                if (r != 0) {
                        json_object_put(entry);
                        return r > 0 ? -EIO : r;
                }
        } else {
                _cleanup_erase_ char *plain = strjoin(username, ":", password);
                _cleanup_erase_ char *encoded = plain ? ctl_base64_encode(plain, strlen(plain)) : NULL;
                if (!encoded || json_object_object_add(entry, "auth", json_object_new_string(encoded)) < 0) {
                        json_object_put(entry);
                        return -ENOMEM;
                }
        }
        r = auths_set(config, host, entry);
        if (r < 0)
                return r;
        return config_write(path, config);
}

int registry_auth_erase(const char *host) {
        _cleanup_free_ char *path = docker_config_path();
        _cleanup_json_ json_object *config = NULL;
        bool erased = false;
        int r;

        if (isempty(host))
                return -EINVAL;
        if (!path)
                return -ENOMEM;
        r = config_read(path, &config);
        if (r < 0)
                return r;
        const char *helper = config_helper(config, host);
        if (helper) {
                r = helper_run(helper, "erase", server_url(host), NULL);
                if (r < 0)
                        return r;
                erased = r == 0;
        }
        if (auths_remove(config, host)) {
                r = config_write(path, config);
                if (r < 0)
                        return r;
                erased = true;
        }
        return erased;
}
