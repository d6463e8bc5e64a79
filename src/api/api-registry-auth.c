/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* X-Registry-Auth: the credentials a client sends for one pull. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "api-registry-auth.h"
#include "json-util.h"
#include "macro.h"
#include "util.h"

static int b64_value(char ch) {
        if (ch >= 'A' && ch <= 'Z')
                return ch - 'A';
        if (ch >= 'a' && ch <= 'z')
                return ch - 'a' + 26;
        if (ch >= '0' && ch <= '9')
                return ch - '0' + 52;
        if (ch == '-' || ch == '+')
                return 62;
        if (ch == '_' || ch == '/')
                return 63;
        return -1;
}

static void erase_and_free(char *s, size_t n) {
        if (s)
                explicit_bzero(s, n);
        free(s);
}

/* The decoded bytes, NUL-terminated, in *ret (of *ret_len bytes). */
static int b64url_decode(const char *s, size_t n, char **ret, size_t *ret_len) {
        while (n > 0 && s[n - 1] == '=')
                n--;
        if (n % 4 == 1)
                return -EBADMSG;
        char *out = malloc(n / 4 * 3 + 3);
        size_t o = 0;
        uint32_t v = 0;
        unsigned bits = 0;
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int k = b64_value(s[i]);
                if (k < 0) {
                        erase_and_free(out, o);
                        return -EBADMSG;
                }
                v = v << 6 | (uint32_t) k;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (char) (v >> bits & 0xff);
                }
        }
        out[o] = 0;
        *ret = out;
        *ret_len = o;
        return 0;
}

/* A string member, copied; NULL when absent, null or empty. -EBADMSG for another type. */
static int get_secret(json_object *o, const char *key, char **ret) {
        json_object *v;
        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        if (json_object_get_string_len(v) == 0)
                return 0;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

/* Wipes the strings of a parsed object before they go. */
static void json_wipe_put(json_object *o) {
        if (!o)
                return;
        if (json_object_is_type(o, json_type_object)) {
                json_object_object_foreach(o, k, v) {
                        (void) k;
                        if (v && json_object_is_type(v, json_type_string))
                                explicit_bzero((char *) json_object_get_string(v),
                                               (size_t) json_object_get_string_len(v));
                }
        }
        json_object_put(o);
}

int api_registry_auth_parse(const char *header, size_t len, RegistryAuth *ret) {
        RegistryAuth a = {};
        char *text = NULL;
        size_t text_len = 0;
        json_object *o = NULL;
        int r;

        *ret = (RegistryAuth){};
        if (!header || len == 0)
                return 0;
        r = b64url_decode(header, len, &text, &text_len);
        if (r < 0)
                return r;
        if (strlen(text) != text_len)
                r = -EBADMSG;
        else if (streq(text, "null")) /* Go decodes it into empty credentials */
                r = 1;
        else if (json_parse_buffer(text, text_len, &o) < 0)
                r = -EBADMSG;
        erase_and_free(text, text_len);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!json_object_is_type(o, json_type_object)) {
                json_wipe_put(o);
                return -EBADMSG;
        }
        r = get_secret(o, "username", &a.username);
        if (r >= 0)
                r = get_secret(o, "password", &a.password);
        if (r >= 0)
                r = get_secret(o, "identitytoken", &a.identity_token);
        json_wipe_put(o);
        if (r < 0) {
                registry_auth_done(&a);
                return r;
        }
        *ret = a;
        return 0;
}
