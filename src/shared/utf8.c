/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UTF-8 as D-Bus takes it (utf8.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* The same rules as sd-bus (and libdbus) check strings with. */
static bool unichar_is_valid(uint32_t c) {
        return c < 0x110000 && (c & 0xFFFFF800) != 0xD800 && !(c >= 0xFDD0 && c <= 0xFDEF) && (c & 0xFFFE) != 0xFFFE;
}

/* The length of the character at s (at most n bytes), or 0 when none starts there. */
static size_t char_length(const unsigned char *s, size_t n) {
        uint32_t c;
        size_t len;

        if (n == 0 || s[0] == 0)
                return 0;
        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xE0) == 0xC0)
                len = 2, c = s[0] & 0x1F;
        else if ((s[0] & 0xF0) == 0xE0)
                len = 3, c = s[0] & 0x0F;
        else if ((s[0] & 0xF8) == 0xF0)
                len = 4, c = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3F);
        }
        /* No overlong forms: each length has its smallest character. */
        static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (c < min[len] || !unichar_is_valid(c))
                return 0;
        return len;
}

bool utf8_is_valid_dbus(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;
        for (size_t i = 0; i < len;) {
                size_t n = char_length(p + i, len - i);
                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}

char *utf8_sanitize(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;
        /* At worst each byte becomes the three of U+FFFD. */
        char *out = malloc(len * 3 + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < len;) {
                size_t n = char_length(p + i, len - i);
                if (n == 0) {
                        memcpy(o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                        continue;
                }
                memcpy(o, p + i, n);
                o += n;
                i += n;
        }
        *o = 0;
        return out;
}
