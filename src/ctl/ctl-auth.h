/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Registry credentials where the docker CLI and podman keep them, for berthctl to hand to berthd
 * per call. Nothing here logs, and no error carries a secret. */

typedef struct RegistryAuth {
        char *username; /* NULL when none */
        char *password; /* NULL when none */
        char *identity_token; /* an OAuth refresh token ("identitytoken"), or NULL */
} RegistryAuth;

/* Frees the strings, wiping the secrets first. */
void registry_auth_done(RegistryAuth *a);

/* Credentials for registry host "host[:port]" (docker.io, index.docker.io and registry-1.docker.io
 * all match the keys "https://index.docker.io/v1/", "index.docker.io", "docker.io" and
 * "registry-1.docker.io"; any key is compared by its host, without scheme and path). The files, the
 * first that has some winning: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
 * ~/.config/containers/auth.json, $DOCKER_CONFIG/config.json (else ~/.docker/config.json). In each,
 * a "credHelpers" entry for the host, else "credsStore", asks docker-credential-<helper> ("get");
 * without an answer there, the "auths" entry's "auth" (base64 of user:password) and
 * "identitytoken". 0 and an empty *ret when none is found; -EBADMSG for a malformed file or helper
 * answer, -EIO when a helper fails, -ENOENT when it is not installed. */
int registry_auth_lookup(const char *host, RegistryAuth *ret);

/* docker login: through the credential helper that config.json configures for host ("credHelpers",
 * else "credsStore"), leaving an empty "auths" entry behind as docker does, or else as
 * "auths"[key] = {"auth": base64(user:password)}, key "https://index.docker.io/v1/" for Docker Hub,
 * the host otherwise. config.json is created 0600 (its directory 0700) and replaced atomically;
 * other keys are kept. -EINVAL for an empty username or one with ':'. */
int registry_auth_store(const char *host, const char *username, const char *password);

/* docker logout: erases through the configured helper and removes every "auths" entry for host.
 * 1 when something was erased, 0 when there was nothing. */
int registry_auth_erase(const char *host);

/* Base64 (RFC 4648, padded) of p[0..n), NUL-terminated; NULL when out of memory. */
char *ctl_base64_encode(const char *p, size_t n);
