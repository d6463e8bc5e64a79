/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stat of "docker cp" from the first header of a tar stream (ustar, pax, GNU long names). */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api-tar-stat.h"
#include "ctl-auth.h"
#include "json-util.h"
#include "macro.h"
#include "util.h"

#define BLOCK 512U

/* Go's os.FileMode bits (io/fs). */
#define GO_MODE_SYMLINK     (UINT32_C(1) << 27)
#define GO_MODE_DEVICE      (UINT32_C(1) << 26)
#define GO_MODE_NAMED_PIPE  (UINT32_C(1) << 25)
#define GO_MODE_SETUID      (UINT32_C(1) << 23)
#define GO_MODE_SETGID      (UINT32_C(1) << 22)
#define GO_MODE_CHAR_DEVICE (UINT32_C(1) << 21)
#define GO_MODE_STICKY      (UINT32_C(1) << 20)

uint32_t api_tar_go_mode(char typeflag, uint32_t perm) {
        uint32_t m = perm & 0777;
        if (perm & 04000)
                m |= GO_MODE_SETUID;
        if (perm & 02000)
                m |= GO_MODE_SETGID;
        if (perm & 01000)
                m |= GO_MODE_STICKY;
        switch (typeflag) {
        case '5':
                return m | TAR_GO_MODE_DIR;
        case '2':
                return m | GO_MODE_SYMLINK;
        case '3':
                return m | GO_MODE_DEVICE | GO_MODE_CHAR_DEVICE;
        case '4':
                return m | GO_MODE_DEVICE;
        case '6':
                return m | GO_MODE_NAMED_PIPE;
        default: /* regular files, hard links, contiguous files */
                return m;
        }
}

/* A numeric field: octal (space or NUL terminated, leading blanks) or GNU base-256. */
static int parse_number(const char *p, size_t n, uint64_t *ret) {
        uint64_t v = 0;
        size_t i = 0;

        if ((unsigned char) p[0] & 0x80) {
                v = (unsigned char) p[0] & 0x3f;
                if ((unsigned char) p[0] & 0x40)
                        return -EBADMSG; /* negative */
                for (i = 1; i < n; i++) {
                        if (v > (UINT64_MAX >> 8))
                                return -EBADMSG;
                        v = v << 8 | (unsigned char) p[i];
                }
                *ret = v;
                return 0;
        }
        while (i < n && (p[i] == ' ' || p[i] == 0))
                i++;
        for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
                if (v > (UINT64_MAX >> 3))
                        return -EBADMSG;
                v = v << 3 | (uint64_t) (p[i] - '0');
        }
        for (; i < n; i++)
                if (p[i] != ' ' && p[i] != 0)
                        return -EBADMSG;
        *ret = v;
        return 0;
}

static bool checksum_ok(const unsigned char *h) {
        uint64_t want;
        unsigned sum = 0;

        if (parse_number((const char *) h + 148, 8, &want) < 0)
                return false;
        for (size_t i = 0; i < BLOCK; i++)
                sum += i >= 148 && i < 156 ? ' ' : h[i];
        return want == sum;
}

static char *field(const unsigned char *p, size_t n) {
        return strndup((const char *) p, strnlen((const char *) p, n));
}

/* What the pax records before the entry override. */
typedef struct PaxOverride {
        char *path, *linkpath;
        bool has_size, has_mtime;
        uint64_t size;
        int64_t mtime;
} PaxOverride;

static void pax_override_done(PaxOverride *o) {
        o->path = mfree(o->path);
        o->linkpath = mfree(o->linkpath);
}

/* "LEN key=value\n" records. */
static int parse_pax(const char *p, size_t n, PaxOverride *o) {
        while (n > 0) {
                size_t len = 0, i = 0;
                while (i < n && p[i] >= '0' && p[i] <= '9') {
                        if (len > n)
                                return -EBADMSG;
                        len = len * 10 + (size_t) (p[i] - '0');
                        i++;
                }
                if (i == 0 || i >= n || p[i] != ' ' || len <= i + 1 || len > n || p[len - 1] != '\n')
                        return -EBADMSG;
                const char *kv = p + i + 1, *end = p + len - 1;
                const char *eq = memchr(kv, '=', (size_t) (end - kv));
                if (!eq)
                        return -EBADMSG;
                size_t klen = (size_t) (eq - kv), vlen = (size_t) (end - eq - 1);
                char **target = NULL;
                if (klen == 4 && memcmp(kv, "path", 4) == 0)
                        target = &o->path;
                else if (klen == 8 && memcmp(kv, "linkpath", 8) == 0)
                        target = &o->linkpath;
                if (target) {
                        free(*target);
                        *target = strndup(eq + 1, vlen);
                        if (!*target)
                                return -ENOMEM;
                } else if ((klen == 4 && memcmp(kv, "size", 4) == 0) || (klen == 5 && memcmp(kv, "mtime", 5) == 0)) {
                        char buf[32];
                        uint64_t v;
                        if (vlen == 0 || vlen >= sizeof buf)
                                return -EBADMSG;
                        memcpy(buf, eq + 1, vlen);
                        buf[vlen] = 0;
                        char *dot = strchr(buf, '.'); /* mtime may have a fraction; seconds are enough */
                        if (dot && klen == 5)
                                *dot = 0;
                        if (parse_uint64(buf, &v) < 0 || v > INT64_MAX)
                                return -EBADMSG;
                        if (klen == 4)
                                o->has_size = true, o->size = v;
                        else
                                o->has_mtime = true, o->mtime = (int64_t) v;
                }
                p += len;
                n -= len;
        }
        return 0;
}

/* The last component of an entry's name ("a/b/" → "b"); "/" for a name of slashes only. */
static char *last_component(const char *name) {
        size_t n = strlen(name);
        while (n > 0 && name[n - 1] == '/')
                n--;
        if (n == 0)
                return strdup(isempty(name) ? "" : "/");
        size_t start = n;
        while (start > 0 && name[start - 1] != '/')
                start--;
        return strndup(name + start, n - start);
}

static int make_stat(const unsigned char *h, PaxOverride *o, TarStat *ret) {
        uint64_t mode, size, mtime;
        _cleanup_free_ char *name = NULL;

        if (parse_number((const char *) h + 100, 8, &mode) < 0 || parse_number((const char *) h + 124, 12, &size) < 0 ||
            parse_number((const char *) h + 136, 12, &mtime) < 0 || mtime > INT64_MAX)
                return -EBADMSG;
        if (o->path)
                name = TAKE_PTR(o->path);
        else if (memcmp(h + 257, "ustar", 5) == 0 && h[345]) {
                _cleanup_free_ char *prefix = field(h + 345, 155), *base = field(h, 100);
                name = prefix && base ? strjoin(prefix, "/", base) : NULL;
        } else
                name = field(h, 100);
        if (!name)
                return -ENOMEM;
        char type = (char) h[156];
        size_t n = strlen(name);
        while (n > 1 && name[n - 1] == '/')
                n--;
        TarStat s = {
                .name = last_component(name),
                .path = strndup(name, n),
                .size = o->has_size ? o->size : size,
                .mode = api_tar_go_mode(type, (uint32_t) (mode & 07777)),
                .mtime = o->has_mtime ? o->mtime : (int64_t) mtime,
                .link_target = type == '1' || type == '2' ? (o->linkpath ? TAKE_PTR(o->linkpath) : field(h + 157, 100))
                                                          : strdup(""),
        };
        if (!s.name || !s.path || !s.link_target) {
                tar_stat_done(&s);
                return -ENOMEM;
        }
        *ret = s;
        return 1;
}

int api_tar_stat_parse(const void *buf, size_t len, TarStat *ret) {
        const unsigned char *p = buf;
        PaxOverride o = {};
        size_t off = 0;
        int r;

        for (;;) {
                if (off > TAR_STAT_MAX_HEAD) {
                        r = -EBADMSG;
                        break;
                }
                if (len - off < BLOCK) {
                        r = 0;
                        break;
                }
                const unsigned char *h = p + off;
                if (!checksum_ok(h)) { /* also the end-of-archive block of zeros: no entry at all */
                        r = -EBADMSG;
                        break;
                }
                char type = (char) h[156];
                if (type != 'x' && type != 'g' && type != 'L' && type != 'K') {
                        r = make_stat(h, &o, ret);
                        break;
                }
                uint64_t size;
                if (parse_number((const char *) h + 124, 12, &size) < 0 || size > TAR_STAT_MAX_HEAD) {
                        r = -EBADMSG;
                        break;
                }
                size_t padded = ((size_t) size + BLOCK - 1) / BLOCK * BLOCK;
                if (len - off - BLOCK < padded) {
                        r = 0;
                        break;
                }
                const char *data = (const char *) h + BLOCK;
                r = 0;
                if (type == 'x')
                        r = parse_pax(data, (size_t) size, &o);
                else if (type == 'L' || type == 'K') {
                        char **target = type == 'L' ? &o.path : &o.linkpath;
                        free(*target);
                        *target = strndup(data, strnlen(data, (size_t) size));
                        if (!*target)
                                r = -ENOMEM;
                }
                if (r < 0)
                        break;
                off += BLOCK + padded;
        }
        pax_override_done(&o);
        return r;
}

void tar_stat_done(TarStat *s) {
        s->name = mfree(s->name);
        s->path = mfree(s->path);
        s->link_target = mfree(s->link_target);
}

int api_tar_stat_header(const TarStat *s, char **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        char mtime[64];
        struct tm tm;
        time_t t = (time_t) s->mtime;

        if (!o)
                return -ENOMEM;
        if (!gmtime_r(&t, &tm) || strftime(mtime, sizeof mtime, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(mtime, sizeof mtime, "1970-01-01T00:00:00Z");
        json_object_object_add(o, "name", json_object_new_string(s->name));
        json_object_object_add(o, "size", json_object_new_int64(s->size > INT64_MAX ? INT64_MAX : (int64_t) s->size));
        json_object_object_add(o, "mode", json_object_new_int64(s->mode));
        json_object_object_add(o, "mtime", json_object_new_string(mtime));
        json_object_object_add(o, "linkTarget", json_object_new_string(s->link_target));
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        char *b = ctl_base64_encode(text, strlen(text));
        if (!b)
                return -ENOMEM;
        *ret = b;
        return 0;
}
