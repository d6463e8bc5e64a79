/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copy-up of an image's content into an empty volume (Docker's behaviour for VOLUME paths and
 * volumes mounted over image content). The source is an image, so nothing in it is trusted: every
 * open is relative to a directory descriptor with O_NOFOLLOW, links are copied as links. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nspawn-copy.h"
#include "util.h"

/* Deeper trees are refused rather than exhausting descriptors. */
#define COPY_DEPTH_MAX 256

static int copy_attributes(int fd, const struct stat *st) {
        struct timespec times[2] = { st->st_atim, st->st_mtim };
        if (fchown(fd, st->st_uid, st->st_gid) < 0)
                return -errno;
        /* After chown, which clears set-id bits. */
        if (fchmod(fd, st->st_mode & 07777) < 0)
                return -errno;
        if (futimens(fd, times) < 0)
                return -errno;
        return 0;
}

static int copy_regular(int src_dir, int dst_dir, const char *name, const struct stat *st) {
        /* O_NONBLOCK: should the entry have become a FIFO since fstatat, opening must not hang. */
        _cleanup_close_ int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        struct stat now;
        if (in < 0)
                return -errno;
        if (fstat(in, &now) < 0)
                return -errno;
        if (!S_ISREG(now.st_mode) || now.st_dev != st->st_dev || now.st_ino != st->st_ino)
                return 0; /* swapped meanwhile: not what the image has */
        _cleanup_close_ int out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, 1U << 30, 0);
                if (n == 0)
                        break;
                if (n < 0) {
                        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                                return -errno;
                        /* Fall back to read/write (e.g. across file systems on older kernels). */
                        char buf[65536];
                        ssize_t k;
                        while ((k = read(in, buf, sizeof(buf))) > 0) {
                                int r = loop_write(out, buf, (size_t) k);
                                if (r < 0)
                                        return r;
                        }
                        if (k < 0)
                                return -errno;
                        break;
                }
        }
        return copy_attributes(out, st);
}

static int copy_symlink(int src_dir, int dst_dir, const char *name, const struct stat *st) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(src_dir, name, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = 0;
        if (symlinkat(target, dst_dir, name) < 0)
                return -errno;
        if (fchownat(dst_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        struct timespec times[2] = { st->st_atim, st->st_mtim };
        return utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int copy_node(int dst_dir, const char *name, const struct stat *st) {
        if (mknodat(dst_dir, name, st->st_mode & (S_IFMT | 0777), st->st_rdev) < 0)
                return -errno;
        _cleanup_close_ int fd = openat(dst_dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* fchown/fchmod do not take O_PATH descriptors; go through /proc/self/fd. */
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        struct timespec times[2] = { st->st_atim, st->st_mtim };
        if (chown(path, st->st_uid, st->st_gid) < 0 || chmod(path, st->st_mode & 07777) < 0 ||
            utimensat(AT_FDCWD, path, times, 0) < 0)
                return -errno;
        return 0;
}

static int copy_dir_contents(int src, int dst, unsigned depth);

static int copy_dir(int src_dir, int dst_dir, const char *name, const struct stat *st, unsigned depth) {
        _cleanup_close_ int in = openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return -errno;
        if (mkdirat(dst_dir, name, 0700) < 0)
                return -errno;
        _cleanup_close_ int out = openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (out < 0)
                return -errno;
        int r = copy_dir_contents(in, out, depth + 1);
        if (r < 0)
                return r;
        /* Last, so the times are not changed again by what was created inside. */
        return copy_attributes(out, st);
}

static int copy_dir_contents(int src, int dst, unsigned depth) {
        struct stat self;
        if (depth > COPY_DEPTH_MAX)
                return -ELOOP;
        if (fstat(src, &self) < 0)
                return -errno;
        DIR *d = opendir_at(src);
        if (!d)
                return -errno;
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (errno = 0, de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(src, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                /* Like cp -x: a mount point inside is another file system, not the image's. */
                if (S_ISDIR(st.st_mode) && st.st_dev != self.st_dev)
                        continue;
                switch (st.st_mode & S_IFMT) {
                case S_IFREG:
                        r = copy_regular(src, dst, de->d_name, &st);
                        break;
                case S_IFDIR:
                        r = copy_dir(src, dst, de->d_name, &st, depth);
                        break;
                case S_IFLNK:
                        r = copy_symlink(src, dst, de->d_name, &st);
                        break;
                case S_IFIFO:
                case S_IFCHR:
                case S_IFBLK:
                        r = copy_node(dst, de->d_name, &st);
                        break;
                default:
                        break;
                }
        }
        if (r >= 0 && errno != 0 && !de)
                r = -errno;
        closedir(d);
        return r;
}

int copy_tree_contents(int src, int dst) {
        struct stat st;
        if (fstat(src, &st) < 0)
                return -errno;
        _cleanup_close_ int in = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int out = openat(dst, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (in < 0 || out < 0)
                return -errno;
        int r = copy_dir_contents(in, out, 0);
        if (r < 0)
                return r;
        /* The volume takes the owner and mode of the directory it covers, as in Docker. */
        return copy_attributes(out, &st);
}

int dir_is_empty_at(int dirfd) {
        DIR *d = opendir_at(dirfd);
        if (!d)
                return -errno;
        struct dirent *de;
        int empty = 1;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        empty = 0;
                        break;
                }
        closedir(d);
        return empty;
}

int empty_directory(int dirfd) {
        DIR *d = opendir_at(dirfd);
        if (!d)
                return -errno;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        int k = rm_rf_at(dirfd, de->d_name);
                        if (k < 0 && r == 0)
                                r = k;
                }
        closedir(d);
        return r;
}
