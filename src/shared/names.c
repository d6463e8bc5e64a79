/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "names.h"
#include "util.h"

static bool is_alnum_ascii(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool container_name_is_valid(const char *name) {
        size_t n;

        if (isempty(name))
                return false;
        n = strlen(name);
        if (n < 2 || n > CONTAINER_NAME_MAX)
                return false;
        if (!is_alnum_ascii(name[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_alnum_ascii(name[i]) && !strchr("_.-", name[i]))
                        return false;
        return true;
}

/* Image references follow Docker's grammar (github.com/distribution/reference, regexp.go):
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [ domain "/" ] remote-name
 *   domain           := host [ ":" port-number ]
 *   host             := domain-name | "[" [a-fA-F0-9:]+ "]"
 *   domain-name      := domain-component [ "." domain-component ]*
 *   domain-component := /[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]/
 *   port-number      := /[0-9]+/
 *   remote-name      := path-component [ "/" path-component ]*
 *   path-component   := /[a-z0-9]+/ [ separator /[a-z0-9]+/ ]*
 *   separator        := /[_.]|__|[-]+/
 *   tag              := /[\w][\w.-]{0,127}/
 *   digest           := algorithm ":" hex, as go-digest validates it: sha256, sha384 or sha512
 *                       and the lowercase hex of that size
 *
 * A name has at most 255 characters. Docker counts those in its normalized remote name, where a
 * single component NAME is library/NAME, so that has at most 247. (distribution/reference 0.6, in
 * current Docker, does not count a domain; berth keeps it in the 255, so that no name is longer.)
 *
 * As Docker's normalization (splitDockerDomain) has it, the first of several components may only be
 * a domain when it has a '.' or ':', is "localhost" or has an uppercase letter (so "[0]/x" is no
 * name); otherwise it is a path component like the rest. One that may be a domain need not be one:
 * "a_b.c/x" is a remote name of two path components. Only the remote name must be lowercase. */

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_lower_hex(char c) {
        return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* path-component: [a-z0-9]+(([._]|__|[-]+)[a-z0-9]+)* */
static bool path_component_is_valid(const char *s, size_t n) {
        size_t i = 0;

        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        while (i < n) {
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                size_t start = i;
                if (s[i] == '.' || s[i] == '_') {
                        i++;
                        if (s[start] == '_' && i < n && s[i] == '_')
                                i++;
                } else if (s[i] == '-') {
                        while (i < n && s[i] == '-')
                                i++;
                } else
                        return false;
                if (i >= n || !is_lower_alnum(s[i]))
                        return false;
        }
        return true;
}

/* remote-name: path components joined by single slashes. */
static bool remote_name_is_valid(const char *s, size_t n) {
        for (;;) {
                const char *slash = memchr(s, '/', n);
                size_t k = slash ? (size_t) (slash - s) : n;
                if (!path_component_is_valid(s, k))
                        return false;
                if (!slash)
                        return true;
                s += k + 1;
                n -= k + 1;
        }
}

/* domain-component: alphanumeric (any case), with hyphens inside only. */
static bool domain_component_is_valid(const char *s, size_t n) {
        if (n == 0 || !is_alnum_ascii(s[0]) || !is_alnum_ascii(s[n - 1]))
                return false;
        for (size_t i = 1; i + 1 < n; i++)
                if (!is_alnum_ascii(s[i]) && s[i] != '-')
                        return false;
        return true;
}

/* domain-name: domain components joined by single dots (an IPv4 address is one, too). */
static bool domain_name_is_valid(const char *s, size_t n) {
        for (;;) {
                const char *dot = memchr(s, '.', n);
                size_t k = dot ? (size_t) (dot - s) : n;
                if (!domain_component_is_valid(s, k))
                        return false;
                if (!dot)
                        return true;
                s += k + 1;
                n -= k + 1;
        }
}

/* domain: host[:port], the host a domain name or an IPv6 address in brackets. */
static bool domain_is_valid(const char *s, size_t n) {
        size_t host;

        if (n > 0 && s[0] == '[') {
                const char *close = memchr(s, ']', n);
                if (!close || close == s + 1)
                        return false;
                host = (size_t) (close - s) + 1;
                for (size_t i = 1; i + 1 < host; i++)
                        if (!is_digit(s[i]) && !strchr("abcdefABCDEF:", s[i]))
                                return false;
        } else {
                const char *colon = memchr(s, ':', n);
                host = colon ? (size_t) (colon - s) : n;
                if (!domain_name_is_valid(s, host))
                        return false;
        }
        if (host == n)
                return true;
        if (s[host] != ':' || host + 1 == n)
                return false;
        for (size_t i = host + 1; i < n; i++)
                if (!is_digit(s[i]))
                        return false;
        return true;
}

bool image_domain_is_likely(const char *s, size_t n) {
        if (memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && strncmp(s, "localhost", 9) == 0))
                return true;
        for (size_t i = 0; i < n; i++)
                if (s[i] >= 'A' && s[i] <= 'Z')
                        return true;
        return false;
}

bool image_repository_is_valid(const char *name) {
        size_t n;

        if (isempty(name))
                return false;
        n = strlen(name);
        if (n > IMAGE_NAME_MAX)
                return false;
        const char *slash = strchr(name, '/');
        if (!slash)
                return n <= IMAGE_NAME_MAX - (sizeof("library/") - 1) && path_component_is_valid(name, n);
        if (remote_name_is_valid(name, n))
                return true;
        /* Not a remote name as a whole: then a domain, a slash and a remote name. A domain has no
         * slash, so it is everything before the first one. */
        size_t k = (size_t) (slash - name);
        return image_domain_is_likely(name, k) && domain_is_valid(name, k) &&
                remote_name_is_valid(slash + 1, n - k - 1);
}

bool image_tag_is_valid(const char *tag) {
        size_t n;
        if (isempty(tag))
                return false;
        n = strlen(tag);
        if (n > IMAGE_TAG_MAX)
                return false;
        if (!is_alnum_ascii(tag[0]) && tag[0] != '_')
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_alnum_ascii(tag[i]) && !strchr("_.-", tag[i]))
                        return false;
        return true;
}

/* What Docker accepts as a digest: an algorithm it implements and the lowercase hex of a hash of
 * that algorithm's size. */
static bool image_digest_is_valid(const char *s) {
        static const struct {
                const char *prefix;
                size_t hex;
        } algorithms[] = {
                { "sha256:", 64 },
                { "sha384:", 96 },
                { "sha512:", 128 },
        };

        for (size_t k = 0; k < ELEMENTSOF(algorithms); k++) {
                size_t p = strlen(algorithms[k].prefix);
                if (strncmp(s, algorithms[k].prefix, p) != 0)
                        continue;
                if (strlen(s + p) != algorithms[k].hex)
                        return false;
                for (const char *c = s + p; *c; c++)
                        if (!is_lower_hex(*c))
                                return false;
                return true;
        }
        return false;
}

/* 64 lowercase hex digits: an image id, which Docker refuses as a reference. */
static bool is_identifier(const char *s) {
        size_t n = 0;
        for (; s[n]; n++)
                if (!is_lower_hex(s[n]))
                        return false;
        return n == 64;
}

int image_reference_parse_full(const char *ref, char **ret_name, char **ret_tag, char **ret_digest) {
        _cleanup_free_ char *name = NULL, *tag = NULL, *digest = NULL;

        if (isempty(ref) || is_identifier(ref))
                return -EINVAL;
        /* Neither a name nor a tag has an '@': the first one starts the digest. */
        const char *at = strchr(ref, '@');
        size_t n = at ? (size_t) (at - ref) : strlen(ref);
        /* A tag has neither ':' nor '/', and a name's ':' (before a port) comes before a '/': the tag
         * separator is the last ':' after the last '/', so "host:5000/x" has no tag. */
        const char *colon = NULL;
        for (size_t i = 0; i < n; i++)
                if (ref[i] == '/')
                        colon = NULL;
                else if (ref[i] == ':')
                        colon = ref + i;

        name = strndup(ref, colon ? (size_t) (colon - ref) : n);
        if (colon)
                tag = strndup(colon + 1, n - (size_t) (colon - ref) - 1);
        if (at)
                digest = strdup(at + 1);
        if (!name || (colon && !tag) || (at && !digest))
                return -ENOMEM;
        if (!image_repository_is_valid(name) || (tag && !image_tag_is_valid(tag)) ||
            (digest && !image_digest_is_valid(digest)))
                return -EINVAL;
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        if (ret_tag)
                *ret_tag = TAKE_PTR(tag);
        if (ret_digest)
                *ret_digest = TAKE_PTR(digest);
        return 0;
}

int image_reference_parse(const char *ref, char **ret_name, char **ret_tag) {
        _cleanup_free_ char *name = NULL, *tag = NULL, *digest = NULL;
        int r;

        r = image_reference_parse_full(ref, &name, &tag, &digest);
        if (r < 0)
                return r;
        /* berth's tags are NAME:TAG; a digest pins content, it names nothing (docker tag refuses one, too). */
        if (digest)
                return -EINVAL;
        if (!tag && !(tag = strdup("latest")))
                return -ENOMEM;
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        if (ret_tag)
                *ret_tag = TAKE_PTR(tag);
        return 0;
}

bool hostname_is_valid(const char *s) {
        size_t n, label = 0;
        if (isempty(s))
                return false;
        n = strlen(s);
        if (n > 63)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!is_alnum_ascii(c) && c != '-')
                        return false;
                if (c == '-' && label == 0)
                        return false;
                label++;
        }
        return label > 0 && s[n - 1] != '-';
}

bool env_assignment_is_valid(const char *s) {
        const char *eq;
        if (isempty(s))
                return false;
        eq = strchr(s, '=');
        if (!eq || eq == s)
                return false;
        for (const char *p = s; p < eq; p++)
                if (isspace((unsigned char) *p))
                        return false;
        return true;
}

bool slice_name_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;
        if (n <= 6 || n > 255 || !endswith(s, ".slice"))
                return false;
        n -= 6;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!is_alnum_ascii(c) && !strchr(":_.\\-", c))
                        return false;
                if (c == '-' && (i == 0 || i == n - 1 || s[i + 1] == '-'))
                        return false;
        }
        return true;
}

static int parse_list_number(const char **p, unsigned max, unsigned *ret) {
        unsigned long v = 0;
        if (**p < '0' || **p > '9')
                return -EINVAL;
        for (; **p >= '0' && **p <= '9'; (*p)++) {
                v = v * 10 + (unsigned long) (**p - '0');
                if (v >= max)
                        return -ERANGE;
        }
        *ret = (unsigned) v;
        return 0;
}

int cpu_list_parse(const char *s, unsigned max, unsigned char *mask) {
        const char *p = s;
        int r;

        if (mask)
                memset(mask, 0, (max + 7) / 8);
        if (isempty(s))
                return -EINVAL;
        for (;;) {
                unsigned a, b;
                if ((r = parse_list_number(&p, max, &a)) < 0)
                        return r;
                b = a;
                if (*p == '-') {
                        p++;
                        if ((r = parse_list_number(&p, max, &b)) < 0)
                                return r;
                        if (b < a)
                                return -EINVAL;
                }
                for (unsigned i = a; mask && i <= b; i++)
                        mask[i / 8] |= (unsigned char) (1u << (i % 8));
                if (*p == 0)
                        return 0;
                if (*p++ != ',')
                        return -EINVAL;
        }
}

bool group_name_is_valid(const char *s) {
        if (isempty(s) || strlen(s) > 256 || s[0] == '-')
                return false;
        for (const char *p = s; *p; p++)
                if (!is_alnum_ascii(*p) && !strchr("_.-$", *p))
                        return false;
        return true;
}

bool sysctl_is_namespaced(const char *key) {
        static const char *const ipc[] = {
                "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
        };
        size_t n = key ? strlen(key) : 0;
        if (n == 0 || n > 255 || key[0] == '.' || key[n - 1] == '.' || strstr(key, ".."))
                return false;
        for (const char *p = key; *p; p++)
                if (!is_alnum_ascii(*p) && !strchr("._-", *p))
                        return false;
        for (size_t i = 0; i < ELEMENTSOF(ipc); i++)
                if (streq(key, ipc[i]))
                        return true;
        return startswith(key, "net.") || startswith(key, "fs.mqueue.");
}
