/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "names.h"

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

/* One path component: [a-z0-9]+(([._]|__|[-]+)[a-z0-9]+)* */
static bool repository_component_is_valid(const char *s, size_t n) {
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

/* A registry host: host name labels (any case), optional :port. Only in the first component,
 * and only when it has a '.' or ':' or is "localhost", as Docker decides. */
static bool registry_host_is_valid(const char *s, size_t n) {
        size_t colon = n;
        for (size_t i = 0; i < n; i++)
                if (s[i] == ':') {
                        colon = i;
                        break;
                }
        if (colon == 0)
                return false;
        for (size_t i = 0; i < colon; i++)
                if (!is_alnum_ascii(s[i]) && s[i] != '.' && s[i] != '-')
                        return false;
        if (colon < n) {
                if (colon + 1 == n || n - colon - 1 > 5)
                        return false;
                for (size_t i = colon + 1; i < n; i++)
                        if (!isdigit((unsigned char) s[i]))
                                return false;
        }
        return true;
}

bool image_repository_is_valid(const char *name) {
        if (isempty(name) || strlen(name) > IMAGE_NAME_MAX)
                return false;

        const char *p = name;
        bool first = true;
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t) (slash - p) : strlen(p);
                bool host_like = first && slash &&
                        (memchr(p, '.', n) || memchr(p, ':', n) || (n == 9 && !strncmp(p, "localhost", 9)));
                if (host_like ? !registry_host_is_valid(p, n) : !repository_component_is_valid(p, n))
                        return false;
                if (!slash)
                        return true;
                p = slash + 1;
                first = false;
        }
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

int image_reference_parse(const char *ref, char **ret_name, char **ret_tag) {
        _cleanup_free_ char *name = NULL, *tag = NULL;

        if (isempty(ref))
                return -EINVAL;
        /* The tag separator is the last ':' after the last '/', so "host:5000/x" has no tag. */
        const char *slash = strrchr(ref, '/');
        const char *colon = strrchr(slash ? slash : ref, ':');
        if (colon) {
                name = strndup(ref, (size_t) (colon - ref));
                tag = strdup(colon + 1);
        } else {
                name = strdup(ref);
                tag = strdup("latest");
        }
        if (!name || !tag)
                return -ENOMEM;
        if (!image_repository_is_valid(name) || !image_tag_is_valid(tag))
                return -EINVAL;
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
