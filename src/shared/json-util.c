/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "json-util.h"
#include "util.h"

const char *json_get_string(json_object *o, const char *key) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

uint64_t json_get_u64(json_object *o, const char *key, uint64_t fallback) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return fallback;
        return json_object_get_uint64(v);
}

int64_t json_get_i64(json_object *o, const char *key, int64_t fallback) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return fallback;
        return json_object_get_int64(v);
}

int json_get_bool(json_object *o, const char *key, int fallback) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
                return fallback;
        return json_object_get_boolean(v);
}

int json_get_strv(json_object *o, const char *key, char ***ret) {
        json_object *v = NULL;
        size_t n = 0;

        if (o && json_object_object_get_ex(o, key, &v) && !json_object_is_type(v, json_type_null)) {
                if (!json_object_is_type(v, json_type_array))
                        return -EBADMSG;
                n = json_object_array_length(v);
        } else
                v = NULL;
        _cleanup_strv_free_ char **l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (!json_object_is_type(e, json_type_string))
                        return -EBADMSG;
                if (!(l[i] = strdup(json_object_get_string(e))))
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

json_object *json_strv_new(char *const *l) {
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (char *const *i = l; i && *i; i++) {
                json_object *s = json_object_new_string(*i);
                if (!s || json_object_array_add(a, s) < 0) {
                        json_object_put(s);
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

int json_parse_buffer(const char *buf, size_t len, json_object **ret) {
        json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_object *o = json_tokener_parse_ex(tok, buf, (int) len);
        enum json_tokener_error err = json_tokener_get_error(tok);
        json_tokener_free(tok);
        if (!o || err != json_tokener_success) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

int json_read_file(const char *path, json_object **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_full_file(path, &buf, &len);
        if (r < 0)
                return r;
        return json_parse_buffer(buf, len, ret);
}

char *json_format_line(json_object *o, size_t *ret_len) {
        size_t len;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        char *buf = s ? malloc(len + 1) : NULL;
        if (!buf)
                return NULL;
        memcpy(buf, s, len);
        buf[len] = '\n';
        *ret_len = len + 1;
        return buf;
}

int json_write_file_atomic(const char *path, json_object *o) {
        size_t len;
        _cleanup_free_ char *buf = json_format_line(o, &len);
        if (!buf)
                return -ENOMEM;
        return write_file_atomic(path, buf, len, 0600);
}
