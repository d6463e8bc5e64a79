/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Validators and parsers of user supplied names on arbitrary bytes, checking their contracts. */

#include <string.h>

#include "digest.h"
#include "fuzz.h"
#include "log-fields.h"
#include "macro.h"
#include "names.h"
#include "tar-extract.h"

static void check_reference(const char *s) {
        _cleanup_free_ char *name = NULL, *tag = NULL, *again = NULL, *name2 = NULL, *tag2 = NULL;

        if (image_reference_parse(s, &name, &tag) < 0)
                return;
        require(name && tag);
        require(image_repository_is_valid(name));
        require(image_tag_is_valid(tag));
        require(strlen(name) <= IMAGE_NAME_MAX && strlen(tag) <= IMAGE_TAG_MAX);
        /* name:tag parses back to the same pair. */
        require(asprintf(&again, "%s:%s", name, tag) > 0);
        require(image_reference_parse(again, &name2, &tag2) == 0);
        require(streq(name, name2) && streq(tag, tag2));
}

static void check_tar_path(const char *s) {
        _cleanup_free_ char *n = NULL, *n2 = NULL;
        bool safe = tar_path_is_safe(s);

        if (tar_path_normalize(s, &n) < 0) {
                require(!safe);
                return;
        }
        require(safe);
        require(!isempty(n));
        require(n[0] != '/');
        require(!strstr(n, "//"));
        require(streq(n, ".") || (!strstr(n, "/./") && strncmp(n, "./", 2) != 0));
        require(n[strlen(n) - 1] != '/');
        for (const char *p = n; p;) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t) (slash - p) : strlen(p);
                require(!(len == 2 && p[0] == '.' && p[1] == '.'));
                p = slash ? slash + 1 : NULL;
        }
        require(tar_path_normalize(n, &n2) == 0);
        require(streq(n, n2));
}

/* --log-opt labels=, env=: a name that makes a field makes one the helper's check accepts. */
static void check_log_field(const char *s) {
        _cleanup_free_ char *field = NULL, *entry = NULL;

        if (log_key_list_is_valid(s))
                require(s[0] != ',' && s[strlen(s) - 1] != ',' && !strstr(s, ",,"));
        if (log_field_name_from_key(s, &field) < 0)
                return;
        require(!isempty(field) && strlen(field) <= 64 && field[0] != '_');
        require(asprintf(&entry, "%s=%s", field, s) > 0);
        require(log_field_is_valid(entry) == !strchr(s, '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = malloc(size + 1);

        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0; /* everything past an embedded NUL is simply not seen */

        if (container_name_is_valid(s)) {
                size_t n = strlen(s);
                require(n >= 2 && n <= CONTAINER_NAME_MAX);
                require(!strchr(s, '/'));
        }
        if (hostname_is_valid(s))
                require(strlen(s) <= 63 && !strchr(s, '/') && s[0] != '-' && s[0] != '.');
        if (env_assignment_is_valid(s))
                require(s[0] != '=' && strchr(s, '='));
        if (digest_is_valid(s))
                require(strlen(s) == 7 + SHA256_HEX_LEN);
        (void) image_tag_is_valid(s);
        (void) image_repository_is_valid(s);
        check_reference(s);
        check_tar_path(s);
        check_log_field(s);
        return 0;
}
