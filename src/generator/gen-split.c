/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen-split.h"
#include "util.h"

#define WHITESPACE " \t\n\r"

static size_t utf8_encode(uint32_t c, char out[4]) {
        if (c < 0x80) {
                out[0] = (char) c;
                return 1;
        }
        if (c < 0x800) {
                out[0] = (char) (0xc0 | (c >> 6));
                out[1] = (char) (0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                out[0] = (char) (0xe0 | (c >> 12));
                out[1] = (char) (0x80 | ((c >> 6) & 0x3f));
                out[2] = (char) (0x80 | (c & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (c >> 18));
        out[1] = (char) (0x80 | ((c >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((c >> 6) & 0x3f));
        out[3] = (char) (0x80 | (c & 0x3f));
        return 4;
}

/* One escape after a backslash at *p (pointing past it): its bytes into out, *p moved past it.
 * Returns the number of bytes, or -EINVAL. */
static int unescape_one(const char **p, char out[4]) {
        const char *s = *p;
        uint32_t c = 0;
        int n = 0;

        switch (*s) {
        case 'a':
                out[0] = '\a';
                break;
        case 'b':
                out[0] = '\b';
                break;
        case 'f':
                out[0] = '\f';
                break;
        case 'n':
                out[0] = '\n';
                break;
        case 'r':
                out[0] = '\r';
                break;
        case 't':
                out[0] = '\t';
                break;
        case 'v':
                out[0] = '\v';
                break;
        case 's':
                out[0] = ' ';
                break;
        case '\\':
        case '"':
        case '\'':
        case ' ':
        case '\t':
                out[0] = *s;
                break;
        case 'x':
                for (n = 1; n <= 2; n++) {
                        int d = unhexchar(s[n]);
                        if (d < 0)
                                return -EINVAL;
                        c = c * 16 + (uint32_t) d;
                }
                if (c == 0)
                        return -EINVAL;
                *p = s + 3;
                out[0] = (char) c;
                return 1;
        case 'u':
        case 'U': {
                int digits = *s == 'u' ? 4 : 8;
                for (n = 1; n <= digits; n++) {
                        int d = unhexchar(s[n]);
                        if (d < 0)
                                return -EINVAL;
                        c = c * 16 + (uint32_t) d;
                }
                if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                        return -EINVAL;
                *p = s + 1 + digits;
                return (int) utf8_encode(c, out);
        }
        case '0' ... '7':
                for (n = 0; n < 3; n++) {
                        if (s[n] < '0' || s[n] > '7')
                                return -EINVAL;
                        c = c * 8 + (uint32_t) (s[n] - '0');
                }
                if (c == 0 || c > 0xff)
                        return -EINVAL;
                *p = s + 3;
                out[0] = (char) c;
                return 1;
        default:
                return -EINVAL;
        }
        *p = s + 1;
        return 1;
}

int unit_split_words(const char *s, char ***ret) {
        _cleanup_strv_free_ char **words = NULL;
        size_t n_words = 0;
        size_t len = strlen(s);
        _cleanup_free_ char *word = malloc(len + 1);
        int r;

        if (!word)
                return -ENOMEM;
        for (const char *p = s;;) {
                size_t n = 0;
                char quote = 0;

                p += strspn(p, WHITESPACE);
                if (*p == 0)
                        break;
                while (*p && (quote || !strchr(WHITESPACE, *p))) {
                        if (*p == '\\') {
                                char buf[4];
                                p++;
                                if (*p == 0)
                                        return -EINVAL;
                                r = unescape_one(&p, buf);
                                if (r < 0)
                                        return r;
                                memcpy(word + n, buf, (size_t) r);
                                n += (size_t) r;
                        } else if (quote && *p == quote) {
                                quote = 0;
                                p++;
                        } else if (!quote && (*p == '\'' || *p == '"')) {
                                quote = *p++;
                        } else
                                word[n++] = *p++;
                }
                if (quote)
                        return -EINVAL;
                word[n] = 0;
                r = strv_push_counted(&words, &n_words, word);
                if (r < 0)
                        return r;
        }
        if (!words) {
                words = calloc(1, sizeof(char *));
                if (!words)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(words);
        return 0;
}

char *unit_quote_word(const char *s) {
        /* At most 4 bytes for each input byte ("\xNN"), the quotes and the NUL. */
        char *out = malloc(strlen(s) * 4 + 3), *q = out;
        if (!out)
                return NULL;
        *q++ = '"';
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '\\':
                case '"':
                        *q++ = '\\';
                        *q++ = (char) *p;
                        break;
                case '$':
                        *q++ = '$';
                        *q++ = '$';
                        break;
                case '\n':
                        *q++ = '\\';
                        *q++ = 'n';
                        break;
                case '\t':
                        *q++ = '\\';
                        *q++ = 't';
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                q += sprintf(q, "\\x%02x", *p);
                        else
                                *q++ = (char) *p;
                }
        }
        *q++ = '"';
        *q = 0;
        return out;
}
