/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "util.h"

void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **r = calloc(n + 1, sizeof(char *));
        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                r[i] = strdup(l[i]);
                if (!r[i]) {
                        strv_free(r);
                        return NULL;
                }
        }
        return r;
}

int strv_push(char ***l, const char *value) {
        size_t n = strv_length(*l);
        _cleanup_free_ char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        char **r = realloc(*l, (n + 2) * sizeof(char *));
        if (!r)
                return -ENOMEM;
        r[n] = TAKE_PTR(copy);
        r[n + 1] = NULL;
        *l = r;
        return 0;
}

/* Slots allocated for a list of n entries and its NULL: powers of two, so n pushes cost O(n). */
static size_t strv_capacity(size_t n) {
        size_t cap = 4;
        while (cap < n + 1)
                cap *= 2;
        return cap;
}

int strv_push_counted(char ***l, size_t *n, const char *value) {
        _cleanup_free_ char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        if (!*l || strv_capacity(*n + 1) != strv_capacity(*n)) {
                char **r = realloc(*l, strv_capacity(*n + 1) * sizeof(char *));
                if (!r)
                        return -ENOMEM;
                *l = r;
        }
        (*l)[(*n)++] = TAKE_PTR(copy);
        (*l)[*n] = NULL;
        return 0;
}

char *strv_join(char *const *l, const char *separator) {
        size_t seplen = strlen(separator), len = 0;
        for (char *const *i = l; i && *i; i++)
                len += strlen(*i) + seplen;
        char *r = malloc(len + 1), *p = r;
        if (!r)
                return NULL;
        *p = 0;
        for (char *const *i = l; i && *i; i++) {
                if (i != l)
                        p = stpcpy(p, separator);
                p = stpcpy(p, *i);
        }
        return r;
}

int random_hex_id(char ret[BERTH_ID_LEN + 1]) {
        uint8_t bytes[BERTH_ID_LEN / 2];
        size_t done = 0;

        while (done < sizeof(bytes)) {
                ssize_t n = getrandom(bytes + done, sizeof(bytes) - done, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t) n;
        }
        for (size_t i = 0; i < sizeof(bytes); i++)
                sprintf(ret + 2 * i, "%02x", bytes[i]);
        ret[BERTH_ID_LEN] = 0;
        return 0;
}

bool hex_prefix_is_valid(const char *s) {
        if (isempty(s) || strlen(s) > BERTH_ID_LEN)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

bool id_is_valid(const char *s) {
        return s && strlen(s) == BERTH_ID_LEN && hex_prefix_is_valid(s);
}

int loop_write(int fd, const void *buf, size_t len) {
        const uint8_t *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

static int fsync_directory_of(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (!slash)
                strcpy(dir, ".");
        else if (slash == dir)
                dir[1] = 0;
        else
                *slash = 0;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) {
        AtomicFile f = { .path = path, .data = data, .len = len, .mode = mode };
        write_files_atomic(&f, 1, true);
        return f.r;
}

int write_file_replace(const char *path, const void *data, size_t len, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        int r = loop_write(fd, data, len);
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

/* Each step for all files before the next: with a journalling file system the first fsync()
 * commits what the others would have, so n files cost two commits, not 2n. */
void write_files_atomic(AtomicFile *files, size_t n, bool sync_dirs) {
        _cleanup_free_ int *fds = calloc(n ? n : 1, sizeof(int));
        _cleanup_free_ char **tmps = calloc(n ? n : 1, sizeof(char *));

        for (size_t i = 0; i < n; i++) {
                files[i].r = fds && tmps ? 0 : -ENOMEM;
                if (fds)
                        fds[i] = -1;
        }
        if (!fds || !tmps)
                return;
        for (size_t i = 0; i < n; i++) {
                AtomicFile *f = &files[i];
                if (asprintf(&tmps[i], "%s.tmp.%d.%zu", f->path, (int) getpid(), i) < 0) {
                        tmps[i] = NULL;
                        f->r = -ENOMEM;
                        continue;
                }
                fds[i] = open(tmps[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, f->mode);
                f->r = fds[i] < 0 ? -errno : loop_write(fds[i], f->data, f->len);
        }
        /* Writeback (and so, with delayed allocation, block allocation) started for all files
         * first: else each fsync() allocates its file's blocks in a transaction of its own. */
        for (size_t i = 0; i < n; i++)
                if (files[i].r >= 0)
                        (void) sync_file_range(fds[i], 0, 0, SYNC_FILE_RANGE_WRITE);
        for (size_t i = 0; i < n; i++)
                if (files[i].r >= 0 && fsync(fds[i]) < 0)
                        files[i].r = -errno;
        for (size_t i = 0; i < n; i++) {
                safe_close(fds[i]);
                if (files[i].r >= 0 && rename(tmps[i], files[i].path) < 0)
                        files[i].r = -errno;
                if (files[i].r < 0 && tmps[i])
                        (void) unlink(tmps[i]);
                free(tmps[i]);
        }
        for (size_t i = 0; sync_dirs && i < n; i++)
                if (files[i].r >= 0)
                        files[i].r = fsync_directory_of(files[i].path);
}

int read_full_fd(int fd, char **ret, size_t *ret_len) {
        size_t size = 0, allocated = 4096;
        _cleanup_free_ char *buf = malloc(allocated);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (allocated - size < 2) {
                        char *n = realloc(buf, allocated * 2);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        allocated *= 2;
                }
                ssize_t k = read(fd, buf + size, allocated - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
        }
        buf[size] = 0;
        if (ret_len)
                *ret_len = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_full_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, ret, ret_len);
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Unlink every non-directory in the directory; return the name of one subdirectory (or NULL when
 * there is none left) so the caller can descend into it. */
DIR *opendir_at(int dirfd) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        DIR *d = fdopendir(fd);
        if (!d) {
                int saved = errno;
                safe_close(fd);
                errno = saved;
        }
        return d;
}

static int rm_rf_scan(int fd, char **ret_subdir) {
        DIR *d = opendir_at(fd);
        if (!d)
                return -errno;
        struct dirent *de;
        int r = 0;
        *ret_subdir = NULL;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        if (!*ret_subdir && !(*ret_subdir = strdup(de->d_name)))
                                r = -ENOMEM;
                        continue;
                }
                if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        }
        closedir(d);
        return r;
}

/* Iterative, with one directory descriptor open at a time: a tree of any depth (a container can
 * build one in its writable layer) neither exhausts descriptors nor the stack. Going back up is by
 * ".." plus the child's inode; the tree belongs to a stopped container, nobody moves it meanwhile. */
int rm_rf_at(int dirfd, const char *name) {
        struct stat top;
        int r = 0;

        if (fstatat(dirfd, name, &top, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(top.st_mode))
                return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;

        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                _cleanup_free_ char *sub = NULL;
                int k = rm_rf_scan(fd, &sub);
                if (k < 0 && r == 0)
                        r = k;
                if (sub) {
                        int child = openat(fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (child >= 0) {
                                safe_close(fd);
                                fd = child;
                                continue;
                        }
                        /* Cannot enter it: try to remove it as it is and go on with the others. */
                        if (unlinkat(fd, sub, AT_REMOVEDIR) < 0) {
                                if (r == 0)
                                        r = -errno;
                                break;
                        }
                        continue;
                }
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return r < 0 ? r : -errno;
                if (st.st_dev == top.st_dev && st.st_ino == top.st_ino)
                        break; /* back at the top, which is empty now */
                int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (parent < 0)
                        return r < 0 ? r : -errno;
                safe_close(fd);
                fd = parent;
                /* Remove the (now empty) child we came from: find it by inode. */
                DIR *d = opendir_at(fd);
                if (!d)
                        return r < 0 ? r : -errno;
                struct dirent *de;
                bool removed = false;
                while ((de = readdir(d)))
                        if (de->d_ino == st.st_ino && !streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                                if (unlinkat(fd, de->d_name, AT_REMOVEDIR) >= 0)
                                        removed = true;
                                break;
                        }
                closedir(d);
                if (!removed) {
                        if (r == 0)
                                r = -ENOTEMPTY;
                        break;
                }
        }
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int rm_rf(const char *path) {
        return rm_rf_at(AT_FDCWD, path);
}

uint64_t now_realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

char *format_timestamp_rfc3339(uint64_t usec) {
        char buf[64], *r;
        struct tm tm;
        time_t t = (time_t) (usec / USEC_PER_SEC);

        if (usec == 0)
                return strdup("0001-01-01T00:00:00Z");
        if (!gmtime_r(&t, &tm))
                return NULL;
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        if (asprintf(&r, "%s.%09" PRIu64 "Z", buf, (uint64_t) ((usec % USEC_PER_SEC) * NSEC_PER_USEC)) < 0)
                return NULL;
        return r;
}

char *format_duration_human(uint64_t usec) {
        uint64_t s = usec / USEC_PER_SEC;
        char *r = NULL;
        int k;

        if (s < 1)
                k = asprintf(&r, "Less than a second");
        else if (s < 60)
                k = asprintf(&r, "%" PRIu64 " second%s", s, s == 1 ? "" : "s");
        else if (s < 120)
                k = asprintf(&r, "About a minute");
        else if (s < 3600)
                k = asprintf(&r, "%" PRIu64 " minutes", s / 60);
        else if (s < 2 * 3600)
                k = asprintf(&r, "About an hour");
        else if (s < 48 * 3600)
                k = asprintf(&r, "%" PRIu64 " hours", s / 3600);
        else
                k = asprintf(&r, "%" PRIu64 " days", s / 86400);
        return k < 0 ? NULL : r;
}

int parse_uint64(const char *s, uint64_t *ret) {
        char *end;
        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_int(const char *s, int *ret) {
        char *end;
        if (isempty(s))
                return -EINVAL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno == ERANGE || v > INT_MAX || v < INT_MIN)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                char suffix;
                uint64_t factor;
        } units[] = {
                { 'b', 1ULL }, { 'k', 1ULL << 10 }, { 'm', 1ULL << 20 }, { 'g', 1ULL << 30 }, { 't', 1ULL << 40 },
        };
        char *end;

        if (isempty(s) || !(isdigit((unsigned char) s[0]) || s[0] == '.'))
                return -EINVAL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno == ERANGE || !isfinite(v) || v < 0)
                return -ERANGE;
        uint64_t factor = 1;
        if (*end) {
                char c = (char) tolower((unsigned char) *end);
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (units[i].suffix == c) {
                                factor = units[i].factor;
                                found = true;
                        }
                if (!found)
                        return -EINVAL;
                end++;
                /* Docker also accepts "kb", "mb", "gb", "ib" style suffixes. */
                if (*end && c != 'b' && (tolower((unsigned char) *end) == 'b'))
                        end++;
                if (*end)
                        return -EINVAL;
        }
        double bytes = v * (double) factor;
        if (bytes >= 18446744073709551615.0)
                return -ERANGE;
        *ret = (uint64_t) bytes;
        return 0;
}

int close_all_fds_except(const int keep[], size_t n) {
        unsigned sorted[16], count = 0, next = 3;

        if (n > ELEMENTSOF(sorted))
                return -E2BIG;
        for (size_t i = 0; i < n; i++)
                if (keep[i] >= 3)
                        sorted[count++] = (unsigned) keep[i];
        for (unsigned i = 1; i < count; i++) /* insertion sort: a handful of fds */
                for (unsigned j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
                        unsigned t = sorted[j];
                        sorted[j] = sorted[j - 1];
                        sorted[j - 1] = t;
                }
        for (unsigned i = 0; i < count; i++) {
                if (sorted[i] > next && syscall(SYS_close_range, next, sorted[i] - 1, 0U) < 0)
                        return -errno;
                next = sorted[i] + 1;
        }
        if (syscall(SYS_close_range, next, ~0U, 0U) < 0)
                return -errno;
        return 0;
}

#define FDS_MAX 8

ssize_t send_with_fds(int socket, const void *data, size_t len, const int *fds, size_t n_fds) {
        union {
                struct cmsghdr header;
                char buf[CMSG_SPACE(sizeof(int) * FDS_MAX)];
        } control = {};
        struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (n_fds > FDS_MAX)
                return -EINVAL;
        if (n_fds > 0) {
                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh);
                cmsg->cmsg_level = SOL_SOCKET;
                cmsg->cmsg_type = SCM_RIGHTS;
                cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
        }
        ssize_t n = sendmsg(socket, &mh, MSG_NOSIGNAL);
        return n < 0 ? -errno : n;
}

ssize_t send_with_fd(int socket, const void *data, size_t len, int fd) {
        return send_with_fds(socket, data, len, &fd, 1);
}

ssize_t receive_with_fds(int socket, void *buf, size_t size, int *fds, size_t max_fds, size_t *ret_n_fds) {
        union {
                struct cmsghdr header;
                char buf[CMSG_SPACE(sizeof(int) * FDS_MAX)];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = size };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)
        };
        ssize_t n;
        do
                n = recvmsg(socket, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        size_t got = 0;
        for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh); cmsg; cmsg = CMSG_NXTHDR(&mh, cmsg)) {
                if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int received[FDS_MAX];
                memcpy(received, CMSG_DATA(cmsg), k * sizeof(int));
                for (size_t i = 0; i < k; i++)
                        if (got < max_fds)
                                fds[got++] = received[i];
                        else
                                safe_close(received[i]); /* more than asked for: not ours to keep */
        }
        if (mh.msg_flags & MSG_CTRUNC) {
                for (size_t i = 0; i < got; i++)
                        safe_close(fds[i]);
                return -EBADMSG;
        }
        *ret_n_fds = got;
        return n;
}

char *path_simplify_dup(const char *path) {
        char *out = malloc(strlen(path) + 1), *o = out;
        if (!out)
                return NULL;
        for (const char *p = path; *p; p++)
                if (*p != '/' || o == out || o[-1] != '/')
                        *o++ = *p;
        if (o > out + 1 && o[-1] == '/')
                o--;
        *o = 0;
        return out;
}

bool strv_contains(char *const *l, const char *s) {
        for (char *const *p = l; p && *p; p++)
                if (streq(*p, s))
                        return true;
        return false;
}

const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

bool labels_match(char *const *labels, const char *filter) {
        size_t n = strlen(filter);
        for (char *const *l = labels; l && *l; l++)
                if (strchr(filter, '=') ? streq(*l, filter) : !strncmp(*l, filter, n) && (*l)[n] == '=')
                        return true;
        return false;
}

char *strjoin_real(const char *first, ...) {
        va_list ap;
        size_t len = 0;
        va_start(ap, first);
        for (const char *x = first; x; x = va_arg(ap, const char *))
                len += strlen(x);
        va_end(ap);
        char *out = malloc(len + 1), *p = out;
        if (!out)
                return NULL;
        va_start(ap, first);
        for (const char *x = first; x; x = va_arg(ap, const char *))
                p = stpcpy(p, x);
        va_end(ap);
        *p = 0;
        return out;
}

static uint64_t walk_total;

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        if (flag == FTW_F || flag == FTW_SL)
                walk_total += (uint64_t) st->st_size;
        return 0;
}

uint64_t dir_apparent_size(const char *path) {
        walk_total = 0;
        (void) nftw(path, walk_one, 16, FTW_PHYS | FTW_MOUNT);
        return walk_total;
}

int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}
