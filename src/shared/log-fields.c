/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log-fields.h"
#include "util.h"

/* journald takes field names of at most 64 characters. */
#define LOG_FIELD_NAME_MAX 64

static bool field_is_reserved(const char *name, size_t len) {
        static const char *const own[] = { "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "IMAGE_NAME" };
        for (size_t i = 0; i < ELEMENTSOF(own); i++)
                if (strlen(own[i]) == len && memcmp(own[i], name, len) == 0)
                        return true;
        return len >= 10 && memcmp(name, "CONTAINER_", 10) == 0;
}

int log_field_name_from_key(const char *key, char **ret) {
        if (isempty(key))
                return -EINVAL;
        _cleanup_free_ char *name = malloc(strlen(key) + 1);
        size_t n = 0;
        if (!name)
                return -ENOMEM;
        /* Docker's sanitizeKeyMod(): mapped first, then the underscores at the start left out. */
        for (const char *p = key; *p; p++) {
                char c = *p >= 'a' && *p <= 'z'                                ? (char) (*p - 'a' + 'A')
                        : (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ? *p
                                                                               : '_';
                if (n > 0 || c != '_')
                        name[n++] = c;
        }
        name[n] = 0;
        if (n == 0 || n > LOG_FIELD_NAME_MAX || field_is_reserved(name, n))
                return -EINVAL;
        *ret = TAKE_PTR(name);
        return 0;
}

bool log_field_is_valid(const char *field) {
        const char *eq = strchr(field, '=');
        if (!eq || eq == field || eq - field > LOG_FIELD_NAME_MAX || field[0] == '_')
                return false;
        for (const char *p = field; p < eq; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        /* The native protocol's text form ends a field at a newline (the rest would be read as
         * fields of their own). */
        if (strchr(eq, '\n'))
                return false;
        return !field_is_reserved(field, (size_t) (eq - field));
}

bool log_key_list_is_valid(const char *list) {
        if (isempty(list))
                return false;
        for (const char *p = list;;) {
                size_t n = strcspn(p, ",");
                if (n == 0)
                        return false;
                if (p[n] == 0)
                        return true;
                p += n + 1;
        }
}
