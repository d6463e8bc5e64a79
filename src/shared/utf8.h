/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Text from a container (a health check's output) made fit for D-Bus and JSON strings. Pure. */

#include <stdbool.h>
#include <stddef.h>

/* Whether s (len bytes) is UTF-8 as D-Bus takes it: no NUL, no overlong forms, no surrogates,
 * nothing beyond U+10FFFF, none of U+FDD0..U+FDEF and U+xFFFE/U+xFFFF. */
bool utf8_is_valid_dbus(const char *s, size_t len);
/* A copy of s (len bytes) in which every byte that does not start such a character, and every
 * NUL, is U+FFFD; NULL without memory. */
char *utf8_sanitize(const char *s, size_t len);
