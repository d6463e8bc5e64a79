/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry client's HTTP: requests on curl-event.c's multi handle, the scheme and TLS files of
 * a host (/etc/docker/certs.d/HOST/ and /etc/containers/certs.d/HOST/, as Docker and podman read
 * them), and the auth handshake of the distribution spec: a 401 names Basic or a Bearer realm; a
 * token is fetched for the request's scope (with the call's credentials, or its identity token as
 * an OAuth2 refresh token) and the request sent again. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "curl-event.h"
#include "json-util.h"
#include "log.h"
#include "registry-client.h"
#include "util.h"

#define ATTEMPTS_MAX        4 /* the first try and three retries */
#define RETRY_DELAY_USEC    (250 * USEC_PER_MSEC)
#define RETRY_AFTER_MAX_SEC 30
#define ERROR_BODY_MAX      (64U * 1024U)
#define SMALL_BODY_MAX      (4U << 20)
#define TOKENS_MAX          32

typedef struct Token {
        char *scope, *token;
} Token;

struct RegistryClient {
        Manager *manager;
        unsigned n_ref;
        char *host;
        bool insecure, plain_http; /* plain_http: HTTPS failed on an insecure host */
        char *ca_file, *cert_file, *key_file;
        char *username, *password, *identity_token;
        bool basic; /* the registry asked for Basic */
        Token tokens[TOKENS_MAX];
        size_t n_tokens;
};

struct RegistryRequest {
        RegistryClient *client;
        RegistryRequestArgs args; /* its strings and body are copies */
        char *url; /* an absolute URL given, else NULL */
        RegistrySink sink;
        RegistryDoneFunc done;
        void *userdata;
        CURL *easy;
        struct curl_slist *headers;
        char **response_headers; /* "name: value", the name lowercased, of the last response */
        char *body; /* the body when there is no sink, or an error body */
        size_t body_len;
        long status; /* of the response being received */
        bool to_sink; /* this response's body goes to the sink */
        uint64_t delivered; /* bytes the sink has of the body */
        bool range; /* asked for the rest of the body */
        int sink_error;
        unsigned attempts, auth_rounds;
        sd_event_source *retry_timer;
        RegistryRequest *token_request; /* the token fetch this request waits for */
        char *token_scope;
        bool token_fetch; /* this is a token fetch itself */
        bool sent_https; /* the last try went to https:// of the registry */
        bool sent_basic; /* the last try carried the credentials as Basic */
        uint64_t body_sent; /* of a body read from a file, in this try */
        char curl_error[CURL_ERROR_SIZE];
};

static void request_free(RegistryRequest *req);
static int request_send(RegistryRequest *req);
static int request_start(RegistryClient *c, const RegistryRequestArgs *args, const RegistrySink *sink,
                         RegistryDoneFunc done, void *userdata, bool token_fetch, RegistryRequest **ret);

static char *base64(const void *p, size_t n) {
        char *out = malloc(4 * ((n + 2) / 3) + 1);
        if (out)
                EVP_EncodeBlock((unsigned char *) out, p, (int) n);
        return out;
}

/* The first file of 'dir' ending in 'suffix' (certs.d: *.crt, *.cert, *.key). */
static char *find_file(const char *dir, const char *suffix) {
        DIR *d = opendir(dir);
        char *found = NULL;
        if (!d)
                return NULL;
        for (struct dirent *de; !found && (de = readdir(d));)
                if (endswith(de->d_name, suffix) && de->d_name[0] != '.')
                        found = strjoin(dir, "/", de->d_name);
        closedir(d);
        return found;
}

int registry_client_new(Manager *m, const char *host, bool insecure, const RegistryCredentials *creds,
                        RegistryClient **ret) {
        RegistryClient *c = calloc(1, sizeof(*c));
        int r;
        if (!c)
                return -ENOMEM;
        if (!m->curl && (r = curl_event_new(m->event, &m->curl)) < 0) {
                free(c);
                return r;
        }
        c->manager = m;
        c->n_ref = 1;
        c->insecure = insecure;
        c->host = strdup(host);
        if (creds) {
                c->username = creds->username ? strdup(creds->username) : NULL;
                c->password = creds->password ? strdup(creds->password) : NULL;
                c->identity_token = creds->identity_token ? strdup(creds->identity_token) : NULL;
        }
        if (!c->host) {
                registry_client_unref(c);
                return -ENOMEM;
        }
        static const char *const cert_dirs[] = { "/etc/docker/certs.d", "/etc/containers/certs.d" };
        for (size_t i = 0; i < ELEMENTSOF(cert_dirs) && !c->ca_file; i++) {
                _cleanup_free_ char *dir = strjoin(cert_dirs[i], "/", host);
                if (!dir) {
                        registry_client_unref(c);
                        return -ENOMEM;
                }
                c->ca_file = find_file(dir, ".crt");
                c->cert_file = c->cert_file ?: find_file(dir, ".cert");
                c->key_file = c->key_file ?: find_file(dir, ".key");
        }
        *ret = c;
        return 0;
}

RegistryClient *registry_client_ref(RegistryClient *c) {
        if (c)
                c->n_ref++;
        return c;
}

static void erase_free(char *s) {
        if (s)
                explicit_bzero(s, strlen(s));
        free(s);
}

RegistryClient *registry_client_unref(RegistryClient *c) {
        if (!c || --c->n_ref > 0)
                return NULL;
        free(c->host);
        free(c->ca_file);
        free(c->cert_file);
        free(c->key_file);
        erase_free(c->username);
        erase_free(c->password);
        erase_free(c->identity_token);
        for (size_t i = 0; i < c->n_tokens; i++) {
                free(c->tokens[i].scope);
                erase_free(c->tokens[i].token);
        }
        free(c);
        return NULL;
}

const char *registry_client_host(const RegistryClient *c) {
        return c->host;
}

static const char *token_for(RegistryClient *c, const char *scope) {
        for (size_t i = 0; i < c->n_tokens; i++)
                if (streq_ptr(c->tokens[i].scope, scope))
                        return c->tokens[i].token;
        return NULL;
}

static int token_store(RegistryClient *c, const char *scope, const char *token) {
        for (size_t i = 0; i < c->n_tokens; i++)
                if (streq_ptr(c->tokens[i].scope, scope)) {
                        char *t = strdup(token);
                        if (!t)
                                return -ENOMEM;
                        erase_free(c->tokens[i].token);
                        c->tokens[i].token = t;
                        return 0;
                }
        if (c->n_tokens == TOKENS_MAX) { /* the oldest goes */
                free(c->tokens[0].scope);
                erase_free(c->tokens[0].token);
                memmove(c->tokens, c->tokens + 1, (TOKENS_MAX - 1) * sizeof(Token));
                c->n_tokens--;
        }
        Token t = { .scope = scope ? strdup(scope) : NULL, .token = strdup(token) };
        if ((scope && !t.scope) || !t.token) {
                free(t.scope);
                free(t.token);
                return -ENOMEM;
        }
        c->tokens[c->n_tokens++] = t;
        return 0;
}

const char *registry_request_header(RegistryRequest *req, const char *name) {
        size_t n = strlen(name);
        for (char **h = req->response_headers; h && *h; h++)
                if (strncasecmp(*h, name, n) == 0 && (*h)[n] == ':')
                        return *h + n + 1 + strspn(*h + n + 1, " \t");
        return NULL;
}

const char *registry_request_body(RegistryRequest *req, size_t *ret_len) {
        if (ret_len)
                *ret_len = req->body_len;
        return req->body ?: "";
}

static size_t on_header(char *p, size_t size, size_t n, void *userdata) {
        RegistryRequest *req = userdata;
        size_t len = size * n;
        if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (after a redirect or a 100) */
                strv_free(req->response_headers);
                req->response_headers = calloc(1, sizeof(char *));
                return req->response_headers ? len : 0;
        }
        while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
                len--;
        if (len == 0 || !memchr(p, ':', len))
                return size * n;
        char *h = strndup(p, len);
        if (!h)
                return 0;
        for (char *q = h; *q && *q != ':'; q++)
                *q = (char) tolower((unsigned char) *q);
        if (strv_push(&req->response_headers, h) < 0) {
                free(h);
                return 0;
        }
        free(h);
        return size * n;
}

static bool status_is_success(long status) {
        return status >= 200 && status < 300;
}

static int append_body(RegistryRequest *req, const char *p, size_t n, size_t max) {
        if (req->body_len + n > max)
                return req->to_sink || !status_is_success(req->status) ? 0 : -EFBIG; /* error bodies: cut */
        char *b = realloc(req->body, req->body_len + n + 1);
        if (!b)
                return -ENOMEM;
        memcpy(b + req->body_len, p, n);
        req->body = b;
        req->body_len += n;
        b[req->body_len] = 0;
        return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata) {
        RegistryRequest *req = userdata;
        size_t len = size * n;
        int r;

        if (req->status == 0) { /* the first data of this response */
                (void) curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &req->status);
                req->to_sink = req->sink.data && (req->status == 200 || req->status == 206);
                if (req->to_sink && req->range && req->status == 200) {
                        /* The whole body again, not the rest: the sink starts over. */
                        if (req->sink.reset)
                                req->sink.reset(req->userdata);
                        req->delivered = 0;
                }
        }
        if (req->to_sink) {
                if (req->args.max_body > 0 && req->delivered + len > req->args.max_body) {
                        req->sink_error = -EFBIG;
                        return 0;
                }
                r = req->sink.data(p, len, req->userdata);
                if (r < 0) {
                        req->sink_error = r;
                        return 0;
                }
                req->delivered += len;
                return len;
        }
        size_t max = status_is_success(req->status) ? (req->args.max_body ?: SMALL_BODY_MAX) : ERROR_BODY_MAX;
        r = append_body(req, p, len, max);
        if (r < 0) {
                req->sink_error = r;
                return 0;
        }
        return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *userdata) {
        RegistryRequest *req = userdata;
        uint64_t left = req->args.body_len - req->body_sent;
        size_t want = size * n < left ? size * n : (size_t) left;
        ssize_t k = want > 0 ? read(req->args.body_fd, p, want) : 0;
        if (k < 0)
                return CURL_READFUNC_ABORT;
        req->body_sent += (uint64_t) k;
        return (size_t) k;
}

static void finish(RegistryRequest *req, int r, long status, const char *message) {
        if (req->done)
                req->done(req, r, status, message, req->userdata);
        request_free(req);
}

static void finish_errorf(RegistryRequest *req, int r, const char *fmt, ...) _printf_(3, 4);
static void finish_errorf(RegistryRequest *req, int r, const char *fmt, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&message, fmt, ap) < 0)
                message = NULL;
        va_end(ap);
        finish(req, r, 0, message ?: "out of memory");
}

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        RegistryRequest *req = userdata;
        req->retry_timer = sd_event_source_disable_unref(req->retry_timer);
        int r = request_send(req);
        if (r < 0)
                finish_errorf(req, r, "Failed to send a request to registry %s: %s", req->client->host, strerror(-r));
        return 0;
}

/* Sends the request again after 'delay' (0: from the loop, at once). */
static int retry_after(RegistryRequest *req, uint64_t delay) {
        return sd_event_add_time_relative(req->client->manager->event, &req->retry_timer, CLOCK_MONOTONIC, delay, 0,
                                          on_retry_timer, req);
}

/* The value of 'key' in a WWW-Authenticate challenge: key="value" pairs after the scheme. */
static char *challenge_param(const char *challenge, const char *key) {
        size_t n = strlen(key);
        for (const char *p = challenge; (p = strcasestr(p, key)); p += n) {
                if ((p != challenge && p[-1] != ' ' && p[-1] != ',') || p[n] != '=')
                        continue;
                const char *v = p + n + 1;
                if (*v == '"')
                        return strndup(v + 1, strcspn(v + 1, "\""));
                return strndup(v, strcspn(v, ", "));
        }
        return NULL;
}

static char *url_escape(const char *s) {
        char *e = curl_easy_escape(NULL, s, 0);
        char *copy = e ? strdup(e) : NULL;
        curl_free(e);
        return copy;
}

static void on_token(RegistryRequest *treq, int r, long status, const char *message, void *userdata);

/* A Bearer challenge: fetch a token for the scope it names (or the request's), then send again. */
static int fetch_token(RegistryRequest *req, const char *challenge) {
        RegistryClient *c = req->client;
        _cleanup_free_ char *realm = challenge_param(challenge, "realm"),
                            *service = challenge_param(challenge, "service"),
                            *scope = challenge_param(challenge, "scope"), *url = NULL, *e_service = NULL,
                            *e_scope = NULL, *form = NULL;
        const char *want = scope ?: req->args.scope;
        if (!realm || (!startswith(realm, "https://") && !startswith(realm, "http://")))
                return -EPROTO;
        e_service = url_escape(service ?: "");
        e_scope = url_escape(want ?: "");
        if (!e_service || !e_scope)
                return -ENOMEM;
        RegistryRequestArgs args = { .path = NULL, .max_body = SMALL_BODY_MAX };
        if (c->identity_token) {
                /* An identity token is an OAuth2 refresh token (docker login with a registry's OAuth). */
                _cleanup_free_ char *e_token = url_escape(c->identity_token);
                if (!e_token ||
                    asprintf(&form, "grant_type=refresh_token&client_id=berth&service=%s&scope=%s&refresh_token=%s",
                             e_service, e_scope, e_token) < 0)
                        return -ENOMEM;
                explicit_bzero(e_token, strlen(e_token));
                args.method = "POST";
                args.content_type = "application/x-www-form-urlencoded";
                args.body = form;
                args.body_len = strlen(form);
                url = strdup(realm);
        } else if (asprintf(&url, "%s%sservice=%s%s%s", realm, strchr(realm, '?') ? "&" : "?", e_service,
                            want ? "&scope=" : "", want ? e_scope : "") < 0)
                url = NULL;
        if (!url)
                return -ENOMEM;
        args.path = url;
        RegistryRequest *treq;
        int r = request_start(c, &args, NULL, on_token, req, true, &treq);
        if (form)
                explicit_bzero(form, strlen(form));
        if (r < 0)
                return r;
        req->token_request = treq;
        free(req->token_scope);
        req->token_scope = want ? strdup(want) : NULL;
        if (want && !req->token_scope)
                return -ENOMEM;
        return 0;
}

static void on_token(RegistryRequest *treq, int r, long status, const char *message, void *userdata) {
        RegistryRequest *req = userdata;
        RegistryClient *c = req->client;
        _cleanup_json_ json_object *o = NULL;
        size_t len;
        const char *body = registry_request_body(treq, &len);

        req->token_request = NULL;
        if (r < 0)
                return finish_errorf(req, r, "Failed to get a token for registry %s: %s", c->host, message);
        if (status == 401 || status == 403)
                return finish_errorf(req, -EACCES,
                                     "Registry %s refused the credentials (HTTP %ld from its token service).", c->host,
                                     status);
        if (!status_is_success(status) || json_parse_buffer(body, len, &o) < 0)
                return finish_errorf(req, -EPROTO,
                                     "The token service of registry %s answered HTTP %ld without a token.", c->host,
                                     status);
        const char *token = json_get_string(o, "token") ?: json_get_string(o, "access_token");
        if (isempty(token))
                return finish_errorf(req, -EPROTO, "The token service of registry %s answered without a token.",
                                     c->host);
        r = token_store(c, req->token_scope, token);
        if (r >= 0)
                r = request_send(req);
        if (r < 0)
                finish_errorf(req, r, "Failed to send a request to registry %s: %s", c->host, strerror(-r));
}

/* What a 401 asks for: Basic with the call's credentials, or a Bearer token. 1: sent again. */
static int answer_challenge(RegistryRequest *req) {
        RegistryClient *c = req->client;
        const char *challenge = registry_request_header(req, "www-authenticate");
        if (!challenge || req->auth_rounds >= 3)
                return 0;
        req->auth_rounds++;
        if (strncasecmp(challenge, "basic", 5) == 0) {
                if (!c->username || req->sent_basic)
                        return 0; /* anonymous, or these credentials are refused */
                c->basic = true;
                return retry_after(req, 0) < 0 ? -ENOMEM : 1;
        }
        if (strncasecmp(challenge, "bearer", 6) != 0)
                return 0;
        int r = fetch_token(req, challenge);
        return r < 0 ? r : 1;
}

static bool curl_code_is_transient(CURLcode code) {
        return code == CURLE_COULDNT_CONNECT || code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR ||
                code == CURLE_PARTIAL_FILE || code == CURLE_GOT_NOTHING || code == CURLE_HTTP2 ||
                code == CURLE_HTTP2_STREAM;
}

static bool curl_code_is_tls(CURLcode code) {
        return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_PEER_FAILED_VERIFICATION ||
                code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_CACERT_BADFILE || code == CURLE_SSL_CIPHER ||
                code == CURLE_SSL_ISSUER_ERROR;
}

static void on_done(CURL *easy, CURLcode code, void *userdata) {
        RegistryRequest *req = userdata;
        RegistryClient *c = req->client;
        long status = 0;
        int r;

        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        req->status = status;
        if (req->sink_error < 0)
                return finish_errorf(req, req->sink_error,
                                     req->sink_error == -EFBIG ? "Registry %s sent more than expected (%s)."
                                                               : "Failed to store what registry %s sent: %s",
                                     c->host, req->sink_error == -EFBIG ? req->args.path : strerror(-req->sink_error));
        if (code != CURLE_OK) {
                if (req->sent_https && c->insecure &&
                    (curl_code_is_tls(code) || code == CURLE_COULDNT_CONNECT || code == CURLE_GOT_NOTHING ||
                     code == CURLE_RECV_ERROR)) {
                        /* An insecure registry that does not speak TLS: plain HTTP, as Docker falls back. */
                        c->plain_http = true;
                        if (retry_after(req, 0) >= 0)
                                return;
                }
                if (curl_code_is_transient(code) && ++req->attempts < ATTEMPTS_MAX) {
                        /* Resumed where it broke off, when the sink can start over should the
                         * registry send it all again. */
                        req->range = req->delivered > 0 && req->sink.reset;
                        if (req->delivered > 0 && !req->sink.reset)
                                return finish_errorf(req, -EIO, "The connection to registry %s broke: %s", c->host,
                                                     req->curl_error[0] ? req->curl_error : curl_easy_strerror(code));
                        if (retry_after(req, RETRY_DELAY_USEC << req->attempts) >= 0)
                                return;
                }
                return finish_errorf(req, curl_code_is_tls(code) ? -EPROTO : -EIO, "Failed to reach registry %s: %s",
                                     c->host, req->curl_error[0] ? req->curl_error : curl_easy_strerror(code));
        }
        if (status == 401 && !req->token_fetch) {
                r = answer_challenge(req);
                if (r < 0)
                        return finish_errorf(req, r, "Failed to authenticate to registry %s: %s", c->host,
                                             r == -EPROTO ? "its challenge names no usable realm" : strerror(-r));
                if (r > 0)
                        return;
        }
        if ((status == 429 || status >= 500) && ++req->attempts < ATTEMPTS_MAX && req->delivered == 0) {
                uint64_t delay = RETRY_DELAY_USEC << req->attempts;
                const char *after = registry_request_header(req, "retry-after");
                if (status == 429 && after && isdigit((unsigned char) after[0])) {
                        unsigned long sec = strtoul(after, NULL, 10);
                        delay = (sec > RETRY_AFTER_MAX_SEC ? RETRY_AFTER_MAX_SEC : sec) * USEC_PER_SEC;
                }
                if (retry_after(req, delay) >= 0)
                        return;
        }
        finish(req, 0, status, NULL);
}

static int request_send(RegistryRequest *req) {
        RegistryClient *c = req->client;
        const RegistryRequestArgs *a = &req->args;
        _cleanup_free_ char *url = NULL, *auth = NULL;

        if (req->easy) {
                curl_event_remove(c->manager->curl, req->easy);
                curl_easy_cleanup(req->easy);
        }
        curl_slist_free_all(req->headers);
        req->headers = NULL;
        req->status = 0;
        req->to_sink = false;
        req->sink_error = 0;
        req->body = mfree(req->body);
        req->body_len = 0;
        strv_free(req->response_headers);
        req->response_headers = NULL;
        req->curl_error[0] = 0;
        req->body_sent = 0;
        if (!req->range)
                req->delivered = 0;
        if (a->body_fd > 0 && lseek(a->body_fd, (off_t) a->body_offset, SEEK_SET) < 0)
                return -errno;

        req->sent_https = !req->url && !c->plain_http;
        url = req->url ? strdup(req->url) : strjoin(c->plain_http ? "http://" : "https://", c->host, a->path);
        if (!url)
                return -ENOMEM;
        /* Authorization for the registry itself: a token fetch goes elsewhere and carries Basic. */
        const char *token = req->token_fetch ? NULL : token_for(c, a->scope);
        req->sent_basic = false;
        if (token)
                auth = strjoin("Authorization: Bearer ", token);
        else if ((c->basic || req->token_fetch) && c->username && !c->identity_token) {
                req->sent_basic = true;
                _cleanup_free_ char *pair = strjoin(c->username, ":", c->password ?: ""), *b = NULL;
                b = pair ? base64(pair, strlen(pair)) : NULL;
                auth = b ? strjoin("Authorization: Basic ", b) : NULL;
                if (pair)
                        explicit_bzero(pair, strlen(pair));
                if (b)
                        explicit_bzero(b, strlen(b));
                if (!auth)
                        return -ENOMEM;
        }
        _cleanup_free_ char *accept = a->accept ? strjoin("Accept: ", a->accept) : NULL,
                            *ctype = a->content_type ? strjoin("Content-Type: ", a->content_type) : NULL, *range = NULL;
        if ((a->accept && !accept) || (a->content_type && !ctype))
                return -ENOMEM;
        if (req->range && asprintf(&range, "Range: bytes=%" PRIu64 "-", req->delivered) < 0)
                return -ENOMEM;
        const char *lines[] = { auth, accept, ctype, range, "User-Agent: berth/" BERTH_VERSION };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++)
                if (lines[i]) {
                        struct curl_slist *l = curl_slist_append(req->headers, lines[i]);
                        if (!l)
                                return -ENOMEM;
                        req->headers = l;
                }
        if (auth)
                explicit_bzero(auth, strlen(auth));

        CURL *e = req->easy = curl_easy_init();
        if (!e)
                return -ENOMEM;
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        /* Blob downloads are redirected to storage elsewhere; curl sends no Authorization header
         * of ours to another host. */
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
        /* A registry that stops sending: given up after 15 s without a byte. */
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 15L);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->curl_error);
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* what curl can decode; blobs come as they are */
        if (c->ca_file)
                curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
        if (c->cert_file && c->key_file) {
                curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file);
                curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file);
        }
        if (c->insecure && !req->token_fetch) {
                curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        const char *method = a->method ?: "GET";
        if (streq(method, "HEAD"))
                curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        else if (a->body_fd > 0) {
                curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(e, CURLOPT_READDATA, req);
                curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) a->body_len);
                curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        } else if (!streq(method, "GET")) {
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) a->body_len);
                curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, a->body ?: "");
                curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        }
        return curl_event_add(c->manager->curl, e, on_done, req);
}

static void request_free(RegistryRequest *req) {
        if (!req)
                return;
        registry_request_cancel(req->token_request);
        if (req->easy) {
                curl_event_remove(req->client->manager->curl, req->easy);
                curl_easy_cleanup(req->easy);
        }
        curl_slist_free_all(req->headers);
        sd_event_source_disable_unref(req->retry_timer);
        strv_free(req->response_headers);
        free(req->body);
        free(req->url);
        free((char *) req->args.method);
        free((char *) req->args.path);
        free((char *) req->args.scope);
        free((char *) req->args.accept);
        free((char *) req->args.content_type);
        if (req->args.body)
                explicit_bzero((void *) req->args.body, req->args.body_len);
        free((void *) req->args.body);
        free(req->token_scope);
        registry_client_unref(req->client);
        free(req);
}

void registry_request_cancel(RegistryRequest *req) {
        request_free(req);
}

static char *dup_or_null(const char *s, bool *oom) {
        char *d = s ? strdup(s) : NULL;
        if (s && !d)
                *oom = true;
        return d;
}

static int request_start(RegistryClient *c, const RegistryRequestArgs *args, const RegistrySink *sink,
                         RegistryDoneFunc done, void *userdata, bool token_fetch, RegistryRequest **ret) {
        RegistryRequest *req = calloc(1, sizeof(*req));
        bool oom = false;
        if (!req)
                return -ENOMEM;
        req->client = registry_client_ref(c);
        req->args = *args;
        req->args.method = dup_or_null(args->method, &oom);
        req->args.scope = dup_or_null(args->scope, &oom);
        req->args.accept = dup_or_null(args->accept, &oom);
        req->args.content_type = dup_or_null(args->content_type, &oom);
        bool absolute = startswith(args->path, "https://") || startswith(args->path, "http://");
        req->args.path = dup_or_null(absolute ? "" : args->path, &oom);
        req->url = absolute ? dup_or_null(args->path, &oom) : NULL;
        if (args->body) {
                void *b = malloc(args->body_len + 1);
                if (b) {
                        memcpy(b, args->body, args->body_len);
                        ((char *) b)[args->body_len] = 0;
                }
                req->args.body = b;
                oom = oom || !b;
        }
        if (sink)
                req->sink = *sink;
        req->done = done;
        req->userdata = userdata;
        req->token_fetch = token_fetch;
        int r = oom ? -ENOMEM : request_send(req);
        if (r < 0) {
                req->done = NULL;
                request_free(req);
                return r;
        }
        if (ret)
                *ret = req;
        return 0;
}

int registry_request(RegistryClient *c, const RegistryRequestArgs *args, const RegistrySink *sink,
                     RegistryDoneFunc done, void *userdata, RegistryRequest **ret) {
        return request_start(c, args, sink, done, userdata, false, ret);
}
