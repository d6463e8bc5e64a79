/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manager.h"

/* HTTP to one registry (Docker Registry HTTP API v2 / OCI distribution), on berthd's loop
 * (curl-event.c): the scheme and TLS settings of the host, the credentials of the call that made
 * the client, and the auth handshake (anonymous, Basic, Bearer tokens per scope, refreshed on
 * 401). Requests that fail on the way (connection errors, 5xx, 429) are retried a few times with
 * back-off; a body cut off is resumed with Range when the registry answers 206. Credentials never
 * reach a log or an error message. */
typedef struct RegistryClient RegistryClient;
typedef struct RegistryRequest RegistryRequest;

typedef struct RegistryCredentials {
        const char *username, *password, *identity_token; /* any may be NULL: anonymous */
} RegistryCredentials;

/* 'host' is "name[:port]" as the registry is reached; insecure: plain HTTP and unverified TLS are
 * allowed (HTTPS is tried first). */
int registry_client_new(Manager *m, const char *host, bool insecure, const RegistryCredentials *creds,
                        RegistryClient **ret);
RegistryClient *registry_client_ref(RegistryClient *c);
RegistryClient *registry_client_unref(RegistryClient *c);
const char *registry_client_host(const RegistryClient *c);

/* Where a response body goes. data() returns < 0 to abort the transfer (with that error); reset()
 * (may be NULL when the body is small) starts over when a retry sends the body again from its start. */
typedef struct RegistrySink {
        int (*data)(const void *p, size_t n, void *userdata);
        void (*reset)(void *userdata);
} RegistrySink;

/* The end of a request: r < 0 (with a sentence in 'message') when it failed for good; otherwise
 * the final HTTP status (a 404 is not a failure of the request). */
typedef void (*RegistryDoneFunc)(RegistryRequest *req, int r, long status, const char *message, void *userdata);

typedef struct RegistryRequestArgs {
        const char *method; /* "GET" (default), "HEAD", "PUT", "POST", "PATCH" */
        const char *path; /* "/v2/..." on the registry, or a whole URL (an upload's Location) */
        const char *scope; /* the token scope: "repository:library/busybox:pull" */
        const char *accept; /* an Accept header value, or NULL */
        const char *content_type;
        const void *body; /* sent as is (copied); NULL: none */
        size_t body_len;
        int body_fd; /* or a file (> 0: 0, a zeroed struct's, is none): body_len bytes from body_offset */
        uint64_t body_offset;
        uint64_t max_body; /* a response body longer than this fails the request (0: no limit) */
} RegistryRequestArgs;

int registry_request(RegistryClient *c, const RegistryRequestArgs *args, const RegistrySink *sink,
                     RegistryDoneFunc done, void *userdata, RegistryRequest **ret);
/* A response header of the finished request ("Docker-Content-Digest", "Content-Type", "Location"),
 * NULL when it had none. Valid in the done callback. */
const char *registry_request_header(RegistryRequest *req, const char *name);
/* The response body when no sink was given (capped by max_body). Valid in the done callback. */
const char *registry_request_body(RegistryRequest *req, size_t *ret_len);
/* Ends the request; its callback is not called. NULL is fine. */
void registry_request_cancel(RegistryRequest *req);
