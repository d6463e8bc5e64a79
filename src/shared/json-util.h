/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "macro.h"

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

const char *json_get_string(json_object *o, const char *key);
uint64_t json_get_u64(json_object *o, const char *key, uint64_t fallback);
int64_t json_get_i64(json_object *o, const char *key, int64_t fallback);
int json_get_bool(json_object *o, const char *key, int fallback);
/* Copies an array of strings; a missing key gives an empty vector. -EBADMSG on wrong types. */
int json_get_strv(json_object *o, const char *key, char ***ret);
json_object *json_strv_new(char *const *l);

int json_read_file(const char *path, json_object **ret);
int json_parse_buffer(const char *buf, size_t len, json_object **ret);
/* o as one line of plain JSON with its newline (not NUL-terminated), as records are stored. */
char *json_format_line(json_object *o, size_t *ret_len);
int json_write_file_atomic(const char *path, json_object *o);
