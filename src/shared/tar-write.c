/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "macro.h"
#include "tar-write.h"
#include "tree-diff.h"
#include "util.h"

#define COPY_BUFFER (128U * 1024U)

typedef struct Inode {
        dev_t dev;
        ino_t ino;
        char *path;
} Inode;

struct TarWriter {
        struct archive *a;
        TarWriteFlags flags;
        Inode *inodes;
        size_t n_inodes;
        char *error;
};

_printf_(3, 4) static int failf(TarWriter *w, int r, const char *fmt, ...) {
        va_list ap;
        if (w->error)
                return r;
        va_start(ap, fmt);
        if (vasprintf(&w->error, fmt, ap) < 0)
                w->error = NULL;
        va_end(ap);
        return r;
}

static int archive_failure(TarWriter *w, const char *what, const char *path) {
        int err = archive_errno(w->a) > 0 ? archive_errno(w->a) : EIO;
        /* libarchive's text is often just "Write error": the errno is what says why (disk full). */
        return failf(w, -err, "Failed to write %s%s: %s (%s)", what, path ?: "", archive_error_string(w->a),
                     strerror(err));
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int write_entry_header(TarWriter *w, const char *path, const struct stat *st, mode_t type, int64_t size,
                              const char *symlink, const char *hardlink) {
        struct archive_entry *e = archive_entry_new();
        int r;

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, st ? st->st_mode & 07777 : 0644);
        bool owner_root = w->flags & TAR_WRITE_OWNER_ROOT;
        archive_entry_set_uid(e, st && !owner_root ? st->st_uid : 0);
        archive_entry_set_gid(e, st && !owner_root ? st->st_gid : 0);
        archive_entry_set_mtime(e, st ? st->st_mtim.tv_sec : 0, 0);
        archive_entry_set_size(e, size);
        if (symlink)
                archive_entry_set_symlink(e, symlink);
        if (hardlink) {
                archive_entry_set_hardlink(e, hardlink);
                archive_entry_set_size(e, 0);
        }
        r = archive_write_header(w->a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                return archive_failure(w, "entry ", path);
        return 0;
}

/* Exactly 'size' bytes, the size the header announced: a file that grows meanwhile (a running
 * container's) is cut there, one that shrinks is padded with zeros by libarchive. */
static int copy_file_data(TarWriter *w, int fd, const char *path, uint64_t size) {
        static char buf[COPY_BUFFER];
        while (size > 0) {
                ssize_t n = read(fd, buf, size < sizeof(buf) ? (size_t) size : sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return failf(w, -errno, "Failed to read %s: %m", path);
                if (n == 0)
                        return 0;
                if (archive_write_data(w->a, buf, (size_t) n) != n)
                        return archive_failure(w, "", path);
                size -= (uint64_t) n;
        }
        return 0;
}

static int write_tree(TarWriter *w, int dir_fd, const char *prefix);

/* One entry 'name' of parent_fd, written as 'path'; a directory with its contents if recursive. */
static int write_one(TarWriter *w, int parent_fd, const char *name, const char *path, bool recursive) {
        bool overlay = w->flags & TAR_WRITE_OVERLAY_WHITEOUTS;
        struct stat st;
        int r = 0;

        if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return failf(w, -errno, "Failed to inspect %s: %m", path);
        if (S_ISDIR(st.st_mode)) {
                _cleanup_free_ char *dir = NULL, *opq = NULL;
                char value[2] = {};
                _cleanup_close_ int sub = -1;
                if (asprintf(&dir, "%s/", path) < 0 || asprintf(&opq, "%s/.wh..wh..opq", path) < 0)
                        return -ENOMEM;
                if (!recursive && !overlay)
                        return write_entry_header(w, dir, &st, AE_IFDIR, 0, NULL, NULL);
                sub = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        return failf(w, -errno, "Failed to open %s: %m", path);
                r = write_entry_header(w, dir, &st, AE_IFDIR, 0, NULL, NULL);
                if (r >= 0 && overlay && fgetxattr(sub, "trusted.overlay.opaque", value, 1) == 1 && value[0] == 'y')
                        r = write_entry_header(w, opq, NULL, AE_IFREG, 0, NULL, NULL);
                if (r >= 0 && recursive)
                        r = write_tree(w, sub, dir);
                return r;
        }
        if (overlay && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
                return tar_writer_add_whiteout(w, path);
        if ((w->flags & TAR_WRITE_SKIP_MOUNT_PLACEHOLDERS) && tree_entry_is_mount_placeholder(path, &st))
                return 0;
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX + 1];
                ssize_t len = readlinkat(parent_fd, name, target, sizeof(target) - 1);
                if (len < 0)
                        return failf(w, -errno, "Failed to read symlink %s: %m", path);
                target[len] = 0;
                return write_entry_header(w, path, &st, AE_IFLNK, 0, target, NULL);
        }
        if (S_ISFIFO(st.st_mode))
                return write_entry_header(w, path, &st, AE_IFIFO, 0, NULL, NULL);
        if (!S_ISREG(st.st_mode))
                return 0; /* Sockets and other devices never get into a layer (extraction refuses them). */

        for (size_t j = 0; st.st_nlink > 1 && j < w->n_inodes; j++)
                if (w->inodes[j].dev == st.st_dev && w->inodes[j].ino == st.st_ino)
                        return write_entry_header(w, path, &st, AE_IFREG, 0, NULL, w->inodes[j].path);
        if (st.st_nlink > 1) {
                Inode *p = reallocarray(w->inodes, w->n_inodes + 1, sizeof(Inode));
                if (!p)
                        return -ENOMEM;
                w->inodes = p;
                w->inodes[w->n_inodes] = (Inode){ .dev = st.st_dev, .ino = st.st_ino, .path = strdup(path) };
                if (!w->inodes[w->n_inodes++].path)
                        return -ENOMEM;
        }
        /* The tree may be a running container's, which can swap the file for a FIFO (a read that never
         * ends) or a device node (the host's disk) after the fstatat() above: never block on open, and
         * read only the very regular file that was looked at. */
        _cleanup_close_ int fd = openat(parent_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return failf(w, -errno, "Failed to open %s: %m", path);
        struct stat opened;
        if (fstat(fd, &opened) < 0)
                return failf(w, -errno, "Failed to inspect %s: %m", path);
        if (!S_ISREG(opened.st_mode) || opened.st_dev != st.st_dev || opened.st_ino != st.st_ino)
                return failf(w, -EBUSY, "%s changed while it was being read.", path);
        r = write_entry_header(w, path, &st, AE_IFREG, st.st_size, NULL, NULL);
        if (r >= 0)
                r = copy_file_data(w, fd, path, (uint64_t) st.st_size);
        return r;
}

static int write_tree(TarWriter *w, int dir_fd, const char *prefix) {
        _cleanup_free_ char **names = NULL;
        size_t n = 0;
        int r = 0;

        DIR *d = opendir_at(dir_fd);
        if (!d)
                return failf(w, -errno, "Failed to open directory %s: %m", prefix);
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                char **p = reallocarray(names, n + 2, sizeof(char *));
                if (!p || !(p[n] = strdup(de->d_name))) {
                        if (p)
                                names = p;
                        r = -ENOMEM;
                        break;
                }
                names = p;
                names[++n] = NULL;
        }
        if (r >= 0 && n > 0)
                qsort(names, n, sizeof(char *), compare_names);

        for (size_t k = 0; r >= 0 && k < n; k++) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s%s", prefix, names[k]) < 0)
                        r = -ENOMEM;
                else
                        r = write_one(w, dirfd(d), names[k], path, true);
        }
        for (size_t k = 0; k < n; k++)
                free(names[k]);
        closedir(d);
        return r;
}

TarWriter *tar_writer_free(TarWriter *w) {
        if (!w)
                return NULL;
        if (w->a)
                archive_write_free(w->a);
        for (size_t k = 0; k < w->n_inodes; k++)
                free(w->inodes[k].path);
        free(w->inodes);
        free(w->error);
        return mfree(w);
}

int tar_writer_new(int output_fd, TarWriteFlags flags, TarWriter **ret, char **ret_error) {
        _cleanup_(tar_writer_freep) TarWriter *w = calloc(1, sizeof(TarWriter));

        if (!w || !(w->a = archive_write_new()))
                return -ENOMEM;
        w->flags = flags;
        if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
            archive_write_open_fd(w->a, output_fd) != ARCHIVE_OK) {
                int r = archive_failure(w, "a tar stream", NULL);
                if (ret_error)
                        *ret_error = TAKE_PTR(w->error);
                return r;
        }
        *ret = TAKE_PTR(w);
        return 0;
}

int tar_writer_add(TarWriter *w, int parent_fd, const char *name, const char *as, bool recursive) {
        return write_one(w, parent_fd, name, as, recursive);
}

int tar_writer_add_tree(TarWriter *w, int dir_fd) {
        return write_tree(w, dir_fd, "");
}

int tar_writer_add_whiteout(TarWriter *w, const char *as) {
        _cleanup_free_ char *wh = NULL;
        const char *slash = strrchr(as, '/');
        size_t dir_len = slash ? (size_t) (slash - as + 1) : 0;

        if (isempty(as + dir_len))
                return failf(w, -EINVAL, "Cannot write a whiteout for '%s'", as);
        if (asprintf(&wh, "%.*s.wh.%s", (int) dir_len, as, as + dir_len) < 0)
                return -ENOMEM;
        return write_entry_header(w, wh, NULL, AE_IFREG, 0, NULL, NULL);
}

int tar_writer_finish(TarWriter *w) {
        if (archive_write_close(w->a) != ARCHIVE_OK)
                return archive_failure(w, "a tar stream", NULL);
        return 0;
}

char *tar_writer_take_error(TarWriter *w) {
        return w ? TAKE_PTR(w->error) : NULL;
}

static int tar_write(int fd, const char *name, const char *as, TarWriteFlags flags, int output_fd, char **ret_error) {
        _cleanup_(tar_writer_freep) TarWriter *w = NULL;
        int r;

        r = tar_writer_new(output_fd, TAR_WRITE_OVERLAY_WHITEOUTS | flags, &w, ret_error);
        if (r < 0)
                return r;
        r = name ? tar_writer_add(w, fd, name, as, true) : tar_writer_add_tree(w, fd);
        if (r >= 0)
                r = tar_writer_finish(w);
        if (r < 0 && ret_error)
                *ret_error = tar_writer_take_error(w);
        return r;
}

int tar_write_tree(int dir_fd, int output_fd, char **ret_error) {
        return tar_write(dir_fd, NULL, NULL, 0, output_fd, ret_error);
}

int tar_write_upper(int dir_fd, int output_fd, char **ret_error) {
        return tar_write(dir_fd, NULL, NULL, TAR_WRITE_SKIP_MOUNT_PLACEHOLDERS, output_fd, ret_error);
}

int tar_write_entry(int parent_fd, const char *name, const char *as, int output_fd, char **ret_error) {
        return tar_write(parent_fd, name, as, 0, output_fd, ret_error);
}

int tar_write_entry_flags(int parent_fd, const char *name, const char *as, TarWriteFlags flags, int output_fd,
                          char **ret_error) {
        return tar_write(parent_fd, name, as, flags, output_fd, ret_error);
}
