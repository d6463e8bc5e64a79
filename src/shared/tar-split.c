/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Recording and replaying tar-split files (see tar-split.h).
 *
 * The recorder parses the stream by itself, only as far as block boundaries go: 512-byte headers,
 * their size field (octal or base-256, or a pax "size" record), extension records ('x', 'g', 'X',
 * 'L', 'K') kept verbatim. It is strict on purpose: the split file is an optimization, so anything
 * unusual (sparse files, data behind entries other than regular files, a count or size that differs
 * from what libarchive extracted, a file replaced later in the archive) means no split file, and save
 * makes the layer's tarball anew as before.
 */

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"
#include "tar-split.h"

#define BLOCK          512U
#define MAGIC          "berth-tar-split 1\n"
#define VERBATIM_CHUNK (64U * 1024U)
#define META_MAX       (1024U * 1024U)
#define PATH_MAX_LEN   (64U * 1024U)
#define COPY_BUFFER    (128U * 1024U)
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

typedef enum State {
        STATE_HEADER,
        STATE_META, /* data of an extension record: verbatim, and parsed */
        STATE_PAYLOAD,
        STATE_PADDING,
        STATE_TRAILER, /* after the first zero block: verbatim to the end */
} State;

typedef struct SplitFile {
        char *path;
        uint64_t size;
        dev_t dev;
        ino_t ino;
} SplitFile;

struct TarSplitRecorder {
        struct archive *out;
        bool broken;
        int error; /* a real failure (writing, memory) */

        Sha256 *hash;
        bool hash_failed;
        bool have_digest;
        char digest[SHA256_HEX_LEN + 1];
        uint64_t total;

        State state;
        uint8_t header[BLOCK];
        size_t header_fill;
        char meta_type;
        uint8_t *meta;
        size_t meta_fill;
        uint64_t remaining; /* of the current data or padding */
        uint64_t padding; /* to follow the current data */
        bool have_pax_size;
        uint64_t pax_size;
        uint64_t n_entries;

        uint8_t verbatim[VERBATIM_CHUNK];
        size_t verbatim_fill;

        uint64_t *sizes; /* of the payloads, as the parser saw them */
        size_t n_sizes;
        SplitFile *files; /* as extracted; size 0 for entries without content */
        size_t n_files;
        size_t n_payloads;
};

static void give_up(TarSplitRecorder *r) {
        r->broken = true;
}

void tar_split_give_up(TarSplitRecorder *r) {
        give_up(r);
}

static void out_write(TarSplitRecorder *r, const void *p, size_t n) {
        if (r->broken || n == 0)
                return;
        if (archive_write_data(r->out, p, n) != (la_ssize_t) n) {
                r->error = archive_errno(r->out) > 0 ? -archive_errno(r->out) : -EIO;
                give_up(r);
        }
}

static void put_u32(uint8_t *p, uint32_t v) {
        for (size_t i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
        for (size_t i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void flush_verbatim(TarSplitRecorder *r) {
        uint8_t head[5] = { 'V' };

        if (r->verbatim_fill == 0)
                return;
        put_u32(head + 1, (uint32_t) r->verbatim_fill);
        out_write(r, head, sizeof(head));
        out_write(r, r->verbatim, r->verbatim_fill);
        r->verbatim_fill = 0;
}

static void verbatim(TarSplitRecorder *r, const uint8_t *p, size_t n) {
        while (n > 0 && !r->broken) {
                size_t k = MIN(n, VERBATIM_CHUNK - r->verbatim_fill);
                memcpy(r->verbatim + r->verbatim_fill, p, k);
                r->verbatim_fill += k;
                p += k;
                n -= k;
                if (r->verbatim_fill == VERBATIM_CHUNK)
                        flush_verbatim(r);
        }
}

static void payload(TarSplitRecorder *r, uint64_t size) {
        uint8_t rec[9] = { 'F' };
        uint64_t *s;

        flush_verbatim(r);
        put_u64(rec + 1, size);
        out_write(r, rec, sizeof(rec));
        s = reallocarray(r->sizes, r->n_sizes + 1, sizeof(uint64_t));
        if (!s) {
                r->error = -ENOMEM;
                give_up(r);
                return;
        }
        r->sizes = s;
        r->sizes[r->n_sizes++] = size;
}

/* The size field: octal digits (with leading spaces, ended by a space or NUL), or base-256. */
static int parse_size_field(const uint8_t *f, size_t len, uint64_t *ret) {
        uint64_t v = 0;
        size_t i = 0;

        if (f[0] & 0x80) {
                if (f[0] != 0x80)
                        return -EINVAL; /* negative, or too large for us */
                for (i = 1; i < len; i++) {
                        if (v >> 55)
                                return -EINVAL;
                        v = (v << 8) | f[i];
                }
                *ret = v;
                return 0;
        }
        while (i < len && f[i] == ' ')
                i++;
        for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
                if (v >> 60)
                        return -EINVAL;
                v = (v << 3) | (uint64_t) (f[i] - '0');
        }
        if (i < len && f[i] != ' ' && f[i] != 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* pax records "LEN key=value\n": note "size", refuse sparse files. */
static void parse_pax(TarSplitRecorder *r, bool global) {
        size_t pos = 0;

        while (pos < r->meta_fill && !r->broken) {
                const char *rec = (const char *) r->meta + pos;
                size_t avail = r->meta_fill - pos, len = 0, i = 0;

                while (i < avail && rec[i] >= '0' && rec[i] <= '9' && len < META_MAX)
                        len = len * 10 + (size_t) (rec[i++] - '0');
                if (i == 0 || i >= avail || rec[i] != ' ' || len <= i + 1 || len > avail || rec[len - 1] != '\n') {
                        if (rec[0] == 0)
                                return; /* padding of NULs: libarchive stops here too */
                        return give_up(r);
                }
                const char *key = rec + i + 1, *eq = memchr(key, '=', len - i - 1);
                if (!eq)
                        return give_up(r);
                size_t klen = (size_t) (eq - key);
                if (klen >= 10 && strncmp(key, "GNU.sparse", 10) == 0)
                        return give_up(r);
                if (klen == 4 && strncmp(key, "size", 4) == 0) {
                        uint64_t v = 0;
                        const char *p = eq + 1, *end = rec + len - 1;
                        if (global || p == end)
                                return give_up(r);
                        for (; p < end; p++) {
                                if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
                                        return give_up(r);
                                v = v * 10 + (uint64_t) (*p - '0');
                        }
                        r->have_pax_size = true;
                        r->pax_size = v;
                }
                pos += len;
        }
}

static uint64_t padding_of(uint64_t size) {
        return (BLOCK - size % BLOCK) % BLOCK;
}

static void end_data(TarSplitRecorder *r);

static void process_header(TarSplitRecorder *r) {
        static const uint8_t zero[BLOCK];
        uint64_t size;
        char type;

        verbatim(r, r->header, BLOCK);
        r->header_fill = 0;
        if (memcmp(r->header, zero, BLOCK) == 0) {
                r->state = STATE_TRAILER; /* libarchive ends the archive at the first zero block too */
                return;
        }
        if (parse_size_field(r->header + 124, 12, &size) < 0)
                return give_up(r);
        type = (char) r->header[156];

        switch (type) {
        case 'x':
        case 'X':
        case 'g':
        case 'L':
        case 'K':
                if (size > META_MAX)
                        return give_up(r);
                free(r->meta);
                r->meta = malloc(size + 1);
                if (!r->meta) {
                        r->error = -ENOMEM;
                        return give_up(r);
                }
                r->meta_type = type;
                r->meta_fill = 0;
                r->remaining = size;
                r->padding = padding_of(size);
                r->state = STATE_META;
                if (size == 0)
                        end_data(r); /* nothing will be fed for it */
                break;
        case 'S':
                return give_up(r); /* GNU sparse */
        default:
                r->n_entries++;
                if (r->have_pax_size)
                        size = r->pax_size;
                r->have_pax_size = false;
                r->remaining = size;
                r->padding = padding_of(size);
                if (size == 0)
                        r->state = STATE_HEADER;
                else if (type == '0' || type == 0 || type == '7') {
                        payload(r, size);
                        r->state = STATE_PAYLOAD;
                } else
                        /* Data behind a link, directory or device: libarchive's handling of it varies. */
                        return give_up(r);
        }
}

static void end_data(TarSplitRecorder *r) {
        if (r->state == STATE_META) {
                if (r->meta_type == 'x' || r->meta_type == 'X' || r->meta_type == 'g')
                        parse_pax(r, r->meta_type == 'g');
                r->meta = mfree(r->meta);
        }
        r->remaining = r->padding;
        r->state = r->remaining > 0 ? STATE_PADDING : STATE_HEADER;
}

void tar_split_feed(TarSplitRecorder *r, const void *buf, size_t n) {
        const uint8_t *p = buf;

        if (!r)
                return;
        /* Hashed even when the split was given up: the digest is the layer's diff id. */
        if (r->hash && !r->hash_failed && sha256_update(r->hash, buf, n) < 0) {
                r->hash_failed = true;
                r->error = -ENOMEM;
                return give_up(r);
        }
        r->total += n;
        if (r->broken)
                return;

        while (n > 0 && !r->broken) {
                size_t k;

                switch (r->state) {
                case STATE_HEADER:
                        k = MIN(n, BLOCK - r->header_fill);
                        memcpy(r->header + r->header_fill, p, k);
                        r->header_fill += k;
                        if (r->header_fill == BLOCK)
                                process_header(r);
                        break;
                case STATE_META:
                case STATE_PAYLOAD:
                case STATE_PADDING:
                        k = (size_t) MIN((uint64_t) n, r->remaining);
                        if (r->state != STATE_PAYLOAD)
                                verbatim(r, p, k);
                        if (r->state == STATE_META) {
                                memcpy(r->meta + r->meta_fill, p, k);
                                r->meta_fill += k;
                        }
                        r->remaining -= k;
                        if (r->remaining == 0) {
                                if (r->state == STATE_PADDING)
                                        r->state = STATE_HEADER;
                                else
                                        end_data(r);
                        }
                        break;
                case STATE_TRAILER:
                default:
                        k = n;
                        verbatim(r, p, k);
                }
                p += k;
                n -= k;
        }
}

void tar_split_set_digest(TarSplitRecorder *r, const char hex[SHA256_HEX_LEN + 1]) {
        if (!r)
                return;
        if (hex) {
                memcpy(r->digest, hex, SHA256_HEX_LEN + 1);
                r->have_digest = true;
        }
        if (r->hash) {
                sha256_free(r->hash);
                r->hash = NULL;
        }
}

int tar_split_stream_digest(TarSplitRecorder *r, char ret[SHA256_HEX_LEN + 1], uint64_t *ret_size) {
        if (!r->have_digest) {
                if (!r->hash || r->hash_failed || sha256_final_hex(r->hash, r->digest) < 0)
                        return -ENOMEM;
                sha256_free(r->hash);
                r->hash = NULL;
                r->have_digest = true;
        }
        memcpy(ret, r->digest, SHA256_HEX_LEN + 1);
        if (ret_size)
                *ret_size = r->total;
        return 0;
}

void tar_split_add_file(TarSplitRecorder *r, const char *path, uint64_t size, dev_t dev, ino_t ino) {
        SplitFile *f;

        if (!r || r->broken)
                return;
        if (strlen(path) > PATH_MAX_LEN)
                return give_up(r);
        f = reallocarray(r->files, r->n_files + 1, sizeof(SplitFile));
        if (!f) {
                r->error = -ENOMEM;
                return give_up(r);
        }
        r->files = f;
        f = &r->files[r->n_files];
        *f = (SplitFile){ .path = strdup(path), .size = size, .dev = dev, .ino = ino };
        if (!f->path) {
                r->error = -ENOMEM;
                return give_up(r);
        }
        r->n_files++;
        if (size > 0)
                r->n_payloads++;
}

static int path_compare(const void *a, const void *b) {
        const SplitFile *x = *(const SplitFile *const *) a, *y = *(const SplitFile *const *) b;
        int c = strcmp(x->path, y->path);
        return c != 0 ? c : (x < y ? -1 : x > y);
}

/* A file with content whose path another entry used too was replaced (or replaced another): its inode
 * number may even have been reused, so look at names. */
static int check_unique(TarSplitRecorder *r) {
        _cleanup_free_ SplitFile **sorted = calloc(r->n_files + 1, sizeof(SplitFile *));

        if (!sorted)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_files; i++)
                sorted[i] = &r->files[i];
        qsort(sorted, r->n_files, sizeof(SplitFile *), path_compare);
        for (size_t i = 1; i < r->n_files; i++)
                if (streq(sorted[i - 1]->path, sorted[i]->path) && (sorted[i - 1]->size > 0 || sorted[i]->size > 0))
                        return 0;
        return 1;
}

static int loop_write_all(int fd, const void *buf, size_t n) {
        const uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Without openat2() (Linux < 5.6): one component at a time, none of them a symlink or "..". */
static int open_walk(int root_fd, const char *path, int flags) {
        _cleanup_close_ int dir = -1;
        char comp[NAME_MAX + 1];

        for (const char *p = path;;) {
                size_t len = strcspn(p, "/");
                int fd;

                if (len == 0 || len > NAME_MAX || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return -EINVAL;
                memcpy(comp, p, len);
                comp[len] = 0;
                p += len;
                fd = openat(dir >= 0 ? dir : root_fd, comp,
                            (*p ? O_PATH | O_DIRECTORY : flags) | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                if (!*p)
                        return fd;
                safe_close(dir);
                dir = fd;
                p++;
        }
}

static int open_beneath(int root_fd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_NOFOLLOW | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

        if (fd < 0 && errno == ENOSYS)
                return open_walk(root_fd, path, flags);
        return fd < 0 ? -errno : (int) fd;
}

int tar_split_recorder_new(int output_fd, TarSplitRecorder **ret) {
        TarSplitRecorder *r;
        struct archive_entry *e;
        int k;

        r = calloc(1, sizeof(TarSplitRecorder));
        if (!r)
                return -ENOMEM;
        if (sha256_new(&r->hash) < 0) {
                free(r);
                return -ENOMEM;
        }
        r->out = archive_write_new();
        e = archive_entry_new();
        if (!r->out || !e) {
                archive_entry_free(e);
                tar_split_recorder_free(r);
                return -ENOMEM;
        }
        archive_entry_set_pathname(e, TAR_SPLIT_FILE);
        archive_entry_set_filetype(e, AE_IFREG);
        k = archive_write_add_filter_gzip(r->out) != ARCHIVE_OK ||
                archive_write_set_filter_option(r->out, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
                archive_write_set_format_raw(r->out) != ARCHIVE_OK ||
                archive_write_set_bytes_per_block(r->out, 0) != ARCHIVE_OK ||
                archive_write_open_fd(r->out, output_fd) != ARCHIVE_OK || archive_write_header(r->out, e) != ARCHIVE_OK;
        archive_entry_free(e);
        if (k) {
                tar_split_recorder_free(r);
                return -EIO;
        }
        out_write(r, MAGIC, strlen(MAGIC));
        if (r->error < 0) {
                k = r->error;
                tar_split_recorder_free(r);
                return k;
        }
        *ret = r;
        return 0;
}

void tar_split_recorder_free(TarSplitRecorder *r) {
        if (!r)
                return;
        if (r->out)
                archive_write_free(r->out);
        sha256_free(r->hash);
        free(r->meta);
        free(r->sizes);
        for (size_t i = 0; i < r->n_files; i++)
                free(r->files[i].path);
        free(r->files);
        free(r);
}

int tar_split_finish(TarSplitRecorder *r, int root_fd, uint64_t n_entries) {
        char digest[SHA256_HEX_LEN + 1];
        uint8_t buf[8];
        int k;

        if (r->error < 0)
                return r->error;
        /* A stream that ends inside an entry is one libarchive would have refused; be sure anyway. */
        if (r->broken || (r->state != STATE_TRAILER && !(r->state == STATE_HEADER && r->header_fill == 0)) ||
            r->n_entries != n_entries || r->n_sizes != r->n_payloads)
                return 0;
        k = check_unique(r);
        if (k <= 0)
                return k;
        for (size_t i = 0, j = 0; i < r->n_files; i++) {
                SplitFile *f = &r->files[i];
                struct stat st;
                int fd;

                if (f->size == 0)
                        continue;
                if (f->size != r->sizes[j++])
                        return 0;
                /* Still the file that was extracted: not replaced or removed by a later entry. */
                fd = open_beneath(root_fd, f->path, O_PATH);
                if (fd == -ENOMEM)
                        return fd;
                if (fd < 0)
                        return 0;
                if (fstat(fd, &st) < 0) {
                        safe_close(fd);
                        return -errno;
                }
                safe_close(fd);
                if (!S_ISREG(st.st_mode) || st.st_dev != f->dev || st.st_ino != f->ino ||
                    (uint64_t) st.st_size != f->size)
                        return 0;
        }

        flush_verbatim(r);
        out_write(r, "E", 1);
        put_u64(buf, r->n_payloads);
        out_write(r, buf, 8);
        for (size_t i = 0; i < r->n_files; i++) {
                if (r->files[i].size == 0)
                        continue;
                size_t len = strlen(r->files[i].path);
                put_u32(buf, (uint32_t) len);
                out_write(r, buf, 4);
                out_write(r, r->files[i].path, len);
        }
        k = tar_split_stream_digest(r, digest, NULL);
        if (k < 0)
                return k;
        out_write(r, digest, SHA256_HEX_LEN);
        put_u64(buf, r->total);
        out_write(r, buf, 8);
        if (r->error < 0)
                return r->error;
        if (archive_write_close(r->out) != ARCHIVE_OK)
                return archive_errno(r->out) > 0 ? -archive_errno(r->out) : -EIO;
        return r->broken ? 0 : 1;
}

/* ---- replay ---- */

typedef struct Replayer {
        struct archive *in;
        char **paths;
        uint64_t n_paths;
        char *error;
} Replayer;

_printf_(3, 4) static int replay_fail(Replayer *p, int r, const char *fmt, ...) {
        va_list ap;

        if (p->error)
                return r;
        va_start(ap, fmt);
        if (vasprintf(&p->error, fmt, ap) < 0)
                p->error = NULL;
        va_end(ap);
        return r;
}

static int read_exact(Replayer *p, void *buf, size_t n) {
        uint8_t *b = buf;

        while (n > 0) {
                la_ssize_t k = archive_read_data(p->in, b, n);
                if (k < 0)
                        return replay_fail(p, -EBADMSG, "Corrupt tar-split file: %s", archive_error_string(p->in));
                if (k == 0)
                        return replay_fail(p, -EBADMSG, "Corrupt tar-split file: truncated");
                b += k;
                n -= (size_t) k;
        }
        return 0;
}

static int read_u32(Replayer *p, uint32_t *ret) {
        uint8_t b[4];
        int r = read_exact(p, b, 4);
        if (r < 0)
                return r;
        *ret = (uint32_t) b[0] | (uint32_t) b[1] << 8 | (uint32_t) b[2] << 16 | (uint32_t) b[3] << 24;
        return 0;
}

static int read_u64(Replayer *p, uint64_t *ret) {
        uint8_t b[8];
        uint64_t v = 0;
        int r = read_exact(p, b, 8);
        if (r < 0)
                return r;
        for (size_t i = 0; i < 8; i++)
                v |= (uint64_t) b[i] << (8 * i);
        *ret = v;
        return 0;
}

static int replay_open(Replayer *p, int split_fd) {
        struct archive_entry *entry;
        char magic[sizeof(MAGIC) - 1];

        if (lseek(split_fd, 0, SEEK_SET) < 0)
                return -errno;
        if (p->in)
                archive_read_free(p->in);
        p->in = archive_read_new();
        if (!p->in)
                return -ENOMEM;
        if (archive_read_support_filter_gzip(p->in) != ARCHIVE_OK ||
            archive_read_support_format_raw(p->in) != ARCHIVE_OK)
                return -ENOMEM;
        if (archive_read_open_fd(p->in, split_fd, COPY_BUFFER) != ARCHIVE_OK ||
            archive_read_next_header(p->in, &entry) != ARCHIVE_OK)
                return replay_fail(p, -EBADMSG, "Corrupt tar-split file: %s", archive_error_string(p->in));
        int r = read_exact(p, magic, sizeof(magic));
        if (r < 0)
                return r;
        if (memcmp(magic, MAGIC, sizeof(magic)) != 0)
                return replay_fail(p, -EBADMSG, "Not a tar-split file, or an unknown version.");
        return 0;
}

/* Walk the records; with output_fd < 0 only to reach the path table behind them. */
static int replay_records(Replayer *p, int root_fd, int output_fd, Sha256 *hash, uint64_t *total) {
        static uint8_t buf[COPY_BUFFER];
        uint64_t next_file = 0;
        int r;

        for (;;) {
                uint8_t type;
                r = read_exact(p, &type, 1);
                if (r < 0)
                        return r;
                if (type == 'E')
                        return 0;
                if (type == 'V') {
                        uint32_t len;
                        r = read_u32(p, &len);
                        while (r >= 0 && len > 0) {
                                size_t k = MIN((size_t) len, sizeof(buf));
                                r = read_exact(p, buf, k);
                                if (r >= 0 && output_fd >= 0) {
                                        r = loop_write_all(output_fd, buf, k);
                                        if (r >= 0)
                                                r = sha256_update(hash, buf, k);
                                        *total += k;
                                }
                                len -= (uint32_t) k;
                        }
                        if (r < 0)
                                return r;
                        continue;
                }
                if (type != 'F')
                        return replay_fail(p, -EBADMSG, "Corrupt tar-split file: unknown record 0x%02x", type);

                uint64_t size;
                r = read_u64(p, &size);
                if (r < 0)
                        return r;
                if (output_fd < 0) {
                        next_file++;
                        continue;
                }
                if (next_file >= p->n_paths)
                        return replay_fail(p, -EBADMSG, "Corrupt tar-split file: more files than paths");
                const char *path = p->paths[next_file++];
                _cleanup_close_ int fd = open_beneath(root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
                struct stat st;
                if (fd < 0)
                        return replay_fail(p, -ESTALE, "Layer file '%s' cannot be opened: %s", path, strerror(-fd));
                if (fstat(fd, &st) < 0)
                        return replay_fail(p, -errno, "Layer file '%s' cannot be inspected: %m", path);
                if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size != size)
                        return replay_fail(p, -ESTALE,
                                           "Layer file '%s' changed since it was stored: %" PRIu64
                                           " bytes, recorded %" PRIu64 ".",
                                           path, (uint64_t) st.st_size, size);
                while (size > 0) {
                        ssize_t k = read(fd, buf, (size_t) MIN(size, (uint64_t) sizeof(buf)));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return replay_fail(p, -errno, "Failed to read layer file '%s': %m", path);
                        if (k == 0)
                                return replay_fail(p, -ESTALE, "Layer file '%s' shrank while it was read.", path);
                        r = loop_write_all(output_fd, buf, (size_t) k);
                        if (r >= 0)
                                r = sha256_update(hash, buf, (size_t) k);
                        if (r < 0)
                                return r;
                        *total += (uint64_t) k;
                        size -= (uint64_t) k;
                }
        }
}

static int read_path_table(Replayer *p) {
        uint64_t n;
        int r = read_u64(p, &n);
        if (r < 0)
                return r;
        if (n > UINT32_MAX)
                return replay_fail(p, -EBADMSG, "Corrupt tar-split file: too many paths");
        p->paths = calloc((size_t) n + 1, sizeof(char *));
        if (!p->paths)
                return -ENOMEM;
        for (uint64_t i = 0; i < n; i++) {
                uint32_t len;
                r = read_u32(p, &len);
                if (r < 0)
                        return r;
                if (len == 0 || len > PATH_MAX_LEN)
                        return replay_fail(p, -EBADMSG, "Corrupt tar-split file: bad path length");
                p->paths[i] = malloc((size_t) len + 1);
                if (!p->paths[i])
                        return -ENOMEM;
                p->n_paths = i + 1;
                r = read_exact(p, p->paths[i], len);
                if (r < 0)
                        return r;
                p->paths[i][len] = 0;
                if (memchr(p->paths[i], 0, len))
                        return replay_fail(p, -EBADMSG, "Corrupt tar-split file: bad path");
        }
        return 0;
}

int tar_split_replay(int split_fd, int root_fd, int output_fd, char ret_digest[SHA256_HEX_LEN + 1], uint64_t *ret_size,
                     char **ret_error) {
        _cleanup_(sha256_freep) Sha256 *hash = NULL;
        Replayer p = {};
        char recorded[SHA256_HEX_LEN + 1] = {}, digest[SHA256_HEX_LEN + 1];
        uint64_t recorded_size = 0, total = 0;
        int r;

        r = sha256_new(&hash);
        if (r < 0)
                return r;

        /* First the path table behind the records, then the records again, for real. */
        r = replay_open(&p, split_fd);
        if (r >= 0)
                r = replay_records(&p, root_fd, -1, NULL, NULL);
        if (r >= 0)
                r = read_path_table(&p);
        if (r >= 0)
                r = read_exact(&p, recorded, SHA256_HEX_LEN);
        if (r >= 0)
                r = read_u64(&p, &recorded_size);
        if (r >= 0)
                r = replay_open(&p, split_fd);
        if (r >= 0)
                r = replay_records(&p, root_fd, output_fd, hash, &total);
        if (r >= 0)
                r = sha256_final_hex(hash, digest);
        if (r >= 0 && (total != recorded_size || !streq(digest, recorded)))
                r = replay_fail(
                        &p, -ESTALE,
                        "The layer's files no longer make its original tarball (sha256:%.12s, recorded sha256:%.12s).",
                        digest, recorded);
        if (r >= 0) {
                if (ret_digest)
                        memcpy(ret_digest, digest, SHA256_HEX_LEN + 1);
                if (ret_size)
                        *ret_size = total;
        }

        if (p.in)
                archive_read_free(p.in);
        for (uint64_t i = 0; i < p.n_paths; i++)
                free(p.paths[i]);
        free(p.paths);
        if (r < 0 && ret_error) {
                if (!p.error) {
                        errno = -r;
                        if (asprintf(&p.error, "Failed to replay a tar-split file: %m") < 0)
                                p.error = NULL;
                }
                *ret_error = TAKE_PTR(p.error);
        }
        free(p.error);
        return r;
}
