/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The naive diff of two directory trees (see tree-diff.h for the rules).
 *
 * One walk over both trees in parallel collects the changes in depth-first order, names sorted per
 * directory, which is the order a tarball needs (a directory's header before its children) and the
 * order tar_write_tree() uses. A directory present in both trees and unchanged itself is entered
 * with a provisional 'C' that is dropped again when nothing below it changed, so the parents of a
 * change come out before it without a second pass.
 *
 * Descriptors, not paths: every entry is inspected with fstatat(AT_SYMLINK_NOFOLLOW) relative to its
 * directory, and directories are opened with O_NOFOLLOW, so a symlink is never followed out of the
 * trees. Recursion follows directory depth, which the PATH_MAX bound on paths limits to about 2000
 * levels; below FD_KEEP_DEPTH levels a directory closes its descriptors while a subdirectory is
 * walked and reopens them afterwards (openat2 without symlinks, checked by inode), so deep trees do
 * not exhaust RLIMIT_NOFILE.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "macro.h"
#include "tar-write.h"
#include "tree-diff.h"
#include "util.h"

#define FD_KEEP_DEPTH 48U
#define CAP_XATTR     "security.capability"
#define CAP_XATTR_MAX 256U

typedef struct DiffEntry {
        char *path;
        char kind;
        bool is_dir;
        uint64_t size; /* of the upper entry, for 'A' and 'C' */
        dev_t dev;
        ino_t ino;
        nlink_t nlink;
} DiffEntry;

typedef struct Walk {
        int lower_root, upper_root; /* borrowed; lower_root < 0: an empty tree */
        dev_t lower_dev, upper_dev;
        bool have_proc;
        DiffEntry *entries;
        size_t n, allocated;
        char *failed; /* the path a failure is about */
} Walk;

bool tree_entry_is_mount_placeholder(const char *path, const struct stat *st) {
        static const char *const files[] = { "etc/hosts", "etc/resolv.conf", "etc/hostname" };
        if (!S_ISREG(st->st_mode) || st->st_size != 0)
                return false;
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
                if (strcmp(path, files[i]) == 0)
                        return true;
        return false;
}

static void walk_done(Walk *w) {
        for (size_t k = 0; k < w->n; k++)
                free(w->entries[k].path);
        free(w->entries);
        free(w->failed);
}

static int walk_fail(Walk *w, int r, const char *path) {
        if (!w->failed)
                w->failed = strdup(isempty(path) ? "." : path);
        return r;
}

static int push(Walk *w, const char *path, char kind, const struct stat *st) {
        if (w->n >= w->allocated) {
                size_t k = w->allocated ? w->allocated * 2 : 64;
                DiffEntry *p = reallocarray(w->entries, k, sizeof(DiffEntry));
                if (!p)
                        return -ENOMEM;
                w->entries = p;
                w->allocated = k;
        }
        w->entries[w->n] = (DiffEntry){
                .path = strdup(path),
                .kind = kind,
                .is_dir = st && S_ISDIR(st->st_mode),
                .size = st ? (uint64_t) st->st_size : 0,
                .dev = st ? st->st_dev : 0,
                .ino = st ? st->st_ino : 0,
                .nlink = st ? st->st_nlink : 0,
        };
        if (!w->entries[w->n].path)
                return -ENOMEM;
        w->n++;
        return 0;
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void names_free(char **names, size_t n) {
        for (size_t k = 0; k < n; k++)
                free(names[k]);
        free(names);
}

/* The sorted names in a directory (none for fd < 0). */
static int list_names(int fd, char ***ret, size_t *ret_n) {
        char **names = NULL;
        size_t n = 0;
        int r = 0;

        *ret = NULL;
        *ret_n = 0;
        if (fd < 0)
                return 0;
        DIR *d = opendir_at(fd);
        if (!d)
                return -errno;
        errno = 0;
        for (struct dirent *de; (de = readdir(d)); errno = 0) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                char **p = reallocarray(names, n + 1, sizeof(char *));
                if (!p) {
                        r = -ENOMEM;
                        break;
                }
                names = p;
                if (!(names[n] = strdup(de->d_name))) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        if (r == 0 && errno > 0)
                r = -errno;
        closedir(d);
        if (r < 0) {
                names_free(names, n);
                return r;
        }
        if (n > 1)
                qsort(names, n, sizeof(char *), compare_names);
        *ret = names;
        *ret_n = n;
        return 0;
}

/* The security.capability value of a regular file: its length, 0 for none. Through /proc when it is
 * there (one system call, the last component not followed), else by opening the file. */
static ssize_t get_cap(Walk *w, int dir_fd, const char *name, char buf[static CAP_XATTR_MAX]) {
        ssize_t n;

        if (w->have_proc) {
                char p[sizeof("/proc/self/fd//") + 12 + NAME_MAX];
                snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dir_fd, name);
                n = lgetxattr(p, CAP_XATTR, buf, CAP_XATTR_MAX);
        } else {
                _cleanup_close_ int fd = openat(dir_fd, name,
                                                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                n = fgetxattr(fd, CAP_XATTR, buf, CAP_XATTR_MAX);
        }
        if (n < 0)
                return errno == ENODATA || errno == ENOTSUP ? 0 : -errno;
        return n;
}

/* 1 when the entry in both trees differs, 0 when not. */
static int entry_differs(Walk *w, int lower_fd, int upper_fd, const char *name, const struct stat *l,
                         const struct stat *u) {
        if (l->st_mode != u->st_mode || l->st_uid != u->st_uid || l->st_gid != u->st_gid || l->st_rdev != u->st_rdev)
                return 1;
        /* Directories change size and mtime with their contents, which are compared on their own. */
        if (!S_ISDIR(u->st_mode) &&
            (l->st_size != u->st_size || l->st_mtim.tv_sec != u->st_mtim.tv_sec ||
             l->st_mtim.tv_nsec != u->st_mtim.tv_nsec))
                return 1;
        if (S_ISLNK(u->st_mode)) {
                char a[PATH_MAX + 1], b[PATH_MAX + 1];
                ssize_t na = readlinkat(lower_fd, name, a, sizeof(a)), nb;
                if (na < 0)
                        return -errno;
                nb = readlinkat(upper_fd, name, b, sizeof(b));
                if (nb < 0)
                        return -errno;
                return na != nb || memcmp(a, b, (size_t) na) != 0;
        }
        if (S_ISREG(u->st_mode)) {
                char a[CAP_XATTR_MAX], b[CAP_XATTR_MAX];
                ssize_t na = get_cap(w, lower_fd, name, a), nb;
                if (na < 0)
                        return (int) na;
                nb = get_cap(w, upper_fd, name, b);
                if (nb < 0)
                        return (int) nb;
                return na != nb || memcmp(a, b, (size_t) na) != 0;
        }
        return 0;
}

/* The directory 'path' (relative, normalized) below root_fd without following a symlink or leaving
 * the mount: openat2(), or where it is missing (old kernels, valgrind) one component at a time. */
static int open_beneath(int root_fd, const char *path) {
        struct open_how how = {
                .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        int fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

        if (fd >= 0)
                return fd;
        if (errno != ENOSYS)
                return -errno;

        _cleanup_free_ char *buf = strdup(path);
        if (!buf)
                return -ENOMEM;
        fd = -1;
        for (char *p = buf, *slash; p; p = slash) {
                slash = strchr(p, '/');
                if (slash)
                        *slash++ = 0;
                int nfd = openat(fd >= 0 ? fd : root_fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int k = -errno;
                safe_close(fd);
                if (nfd < 0)
                        return k;
                fd = nfd;
        }
        return fd;
}

/* A directory of a tree again by its path, only when it is still the one we had. */
static int reopen_dir(int root_fd, const char *path, dev_t dev, ino_t ino) {
        struct stat st;
        int fd = open_beneath(root_fd, path);

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0 || st.st_dev != dev || st.st_ino != ino) {
                safe_close(fd);
                return -ESTALE; /* replaced while we were below it */
        }
        return fd;
}

static int stat_or_absent(int dir_fd, const char *name, struct stat *st, bool *present) {
        if (!*present)
                return 0;
        if (fstatat(dir_fd, name, st, AT_SYMLINK_NOFOLLOW) >= 0)
                return 0;
        if (errno != ENOENT)
                return -errno;
        *present = false; /* removed meanwhile */
        return 0;
}

/* The directory 'path' ("" for the roots): lower_fd (< 0: not in lower, or not a directory there)
 * and upper_fd are taken over. */
static int walk_dir(Walk *w, int lower_fd_in, int upper_fd_in, const char *path, unsigned depth) {
        _cleanup_close_ int lower_fd = lower_fd_in, upper_fd = upper_fd_in;
        char **lnames = NULL, **unames = NULL;
        size_t nl = 0, nu = 0, i = 0, j = 0;
        struct stat lself = {}, uself;
        bool had_lower = lower_fd >= 0;
        int r;

        if (fstat(upper_fd, &uself) < 0 || (had_lower && fstat(lower_fd, &lself) < 0))
                return walk_fail(w, -errno, path);
        r = list_names(lower_fd, &lnames, &nl);
        if (r >= 0)
                r = list_names(upper_fd, &unames, &nu);
        if (r < 0)
                r = walk_fail(w, r, path);

        while (r >= 0 && (i < nl || j < nu)) {
                _cleanup_free_ char *child = NULL;
                int c = i >= nl ? 1 : j >= nu ? -1 : strcmp(lnames[i], unames[j]);
                const char *name = c <= 0 ? lnames[i] : unames[j];
                bool in_lower = c <= 0, in_upper = c >= 0, placeholder = false;
                struct stat ls, us;
                size_t mark;

                i += in_lower;
                j += in_upper;
                if (asprintf(&child, "%s%s%s", path, *path ? "/" : "", name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (strlen(child) >= PATH_MAX) {
                        r = walk_fail(w, -ENAMETOOLONG, child);
                        break;
                }
                r = stat_or_absent(lower_fd, name, &ls, &in_lower);
                if (r >= 0)
                        r = stat_or_absent(upper_fd, name, &us, &in_upper);
                if (r < 0) {
                        r = walk_fail(w, r, child);
                        break;
                }
                /* Another file system mounted here (or a nested subvolume) is not part of the tree. */
                if ((in_lower && ls.st_dev != w->lower_dev) || (in_upper && us.st_dev != w->upper_dev))
                        continue;
                if (!in_upper) {
                        if (in_lower)
                                r = push(w, child, 'D', NULL);
                        continue;
                }

                mark = w->n;
                if (!in_lower && tree_entry_is_mount_placeholder(child, &us))
                        continue;
                if (!in_lower)
                        r = push(w, child, 'A', &us);
                else if (ls.st_dev == us.st_dev && ls.st_ino == us.st_ino)
                        continue; /* the very same inode (hard-linked trees) */
                else {
                        r = entry_differs(w, lower_fd, upper_fd, name, &ls, &us);
                        if (r < 0) {
                                r = walk_fail(w, r, child);
                                break;
                        }
                        placeholder = r == 0;
                        if (r > 0 || S_ISDIR(us.st_mode))
                                r = push(w, child, 'C', &us);
                }
                if (r < 0 || !S_ISDIR(us.st_mode))
                        continue;

                /* Below a type change (not a directory in lower) everything is compared against nothing. */
                int cl = -1, cu = openat(upper_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cu >= 0 && in_lower && S_ISDIR(ls.st_mode)) {
                        cl = openat(lower_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cl < 0)
                                cu = safe_close(cu);
                }
                if (cu < 0) {
                        r = walk_fail(w, -errno, child);
                        break;
                }
                if (depth >= FD_KEEP_DEPTH) {
                        lower_fd = safe_close(lower_fd);
                        upper_fd = safe_close(upper_fd);
                }
                r = walk_dir(w, cl, cu, child, depth + 1);
                if (r >= 0 && upper_fd < 0) {
                        upper_fd = reopen_dir(w->upper_root, path, uself.st_dev, uself.st_ino);
                        if (upper_fd >= 0 && had_lower)
                                lower_fd = reopen_dir(w->lower_root, path, lself.st_dev, lself.st_ino);
                        if (upper_fd < 0 || (had_lower && lower_fd < 0))
                                r = walk_fail(w, upper_fd < 0 ? upper_fd : lower_fd, path);
                }
                if (r >= 0 && placeholder && w->n == mark + 1) {
                        /* Unchanged itself and nothing changed below it. */
                        free(w->entries[mark].path);
                        w->n = mark;
                }
        }

        names_free(lnames, nl);
        names_free(unames, nu);
        return r;
}

static int walk_trees(Walk *w, int lower_fd, int upper_fd) {
        struct stat st;
        int l = -1, u;

        *w = (Walk){ .lower_root = lower_fd, .upper_root = upper_fd, .have_proc = access("/proc/self/fd", X_OK) >= 0 };
        if (upper_fd < 0)
                return -EBADF;
        if (fstat(upper_fd, &st) < 0)
                return -errno;
        w->upper_dev = st.st_dev;
        if (lower_fd >= 0) {
                if (fstat(lower_fd, &st) < 0)
                        return -errno;
                w->lower_dev = st.st_dev;
                l = fcntl(lower_fd, F_DUPFD_CLOEXEC, 3);
                if (l < 0)
                        return -errno;
        }
        u = fcntl(upper_fd, F_DUPFD_CLOEXEC, 3);
        if (u < 0) {
                int r = -errno;
                safe_close(l);
                return r;
        }
        return walk_dir(w, l, u, "", 0);
}

void tree_changes_free(TreeChange *c, size_t n) {
        for (size_t k = 0; c && k < n; k++)
                free(c[k].path);
        free(c);
}

static int compare_changes(const void *a, const void *b) {
        const TreeChange *x = a, *y = b;
        return strcmp(x->path, y->path);
}

int tree_changes(int lower_fd, int upper_fd, TreeChange **ret, size_t *ret_n) {
        Walk w;
        TreeChange *c = NULL;
        int r;

        r = walk_trees(&w, lower_fd, upper_fd);
        if (r >= 0 && w.n > 0) {
                c = calloc(w.n, sizeof(TreeChange));
                if (!c)
                        r = -ENOMEM;
        }
        if (r < 0) {
                walk_done(&w);
                return r;
        }
        for (size_t k = 0; k < w.n; k++)
                c[k] = (TreeChange){ .path = TAKE_PTR(w.entries[k].path), .kind = w.entries[k].kind };
        /* Each path is there once; walk order only differs from strcmp order around '/'. */
        if (w.n > 1)
                qsort(c, w.n, sizeof(TreeChange), compare_changes);
        *ret = c;
        *ret_n = w.n;
        walk_done(&w);
        return 0;
}

typedef struct InodeSize {
        dev_t dev;
        ino_t ino;
        uint64_t size;
} InodeSize;

static int compare_inodes(const void *a, const void *b) {
        const InodeSize *x = a, *y = b;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

int tree_diff_size(int lower_fd, int upper_fd, uint64_t *ret) {
        _cleanup_free_ InodeSize *linked = NULL;
        size_t n_linked = 0;
        uint64_t total = 0;
        Walk w;
        int r;

        r = walk_trees(&w, lower_fd, upper_fd);
        if (r >= 0 && w.n > 0 && !(linked = calloc(w.n, sizeof(InodeSize))))
                r = -ENOMEM;
        if (r < 0) {
                walk_done(&w);
                return r;
        }
        for (size_t k = 0; k < w.n; k++) {
                const DiffEntry *e = &w.entries[k];
                if (e->kind == 'D' || e->is_dir)
                        continue;
                if (e->nlink > 1)
                        linked[n_linked++] = (InodeSize){ .dev = e->dev, .ino = e->ino, .size = e->size };
                else
                        total += e->size;
        }
        /* A hard-linked inode counts once, however many of its names changed. */
        if (n_linked > 1)
                qsort(linked, n_linked, sizeof(InodeSize), compare_inodes);
        for (size_t k = 0; k < n_linked; k++)
                if (k == 0 || compare_inodes(&linked[k - 1], &linked[k]) != 0)
                        total += linked[k].size;
        walk_done(&w);
        *ret = total;
        return 0;
}

/* The parent directory of an entry of the upper tree, kept open while consecutive entries share it
 * (they mostly do: the list is depth first). */
typedef struct ParentCache {
        char *path;
        int fd;
} ParentCache;

static int parent_fd(ParentCache *p, int root_fd, const char *parent) {
        if (isempty(parent))
                return root_fd;
        if (p->path && streq(p->path, parent))
                return p->fd;
        p->fd = safe_close(p->fd);
        p->path = mfree(p->path);

        int fd = open_beneath(root_fd, parent);
        if (fd < 0)
                return fd;
        p->path = strdup(parent);
        if (!p->path) {
                safe_close(fd);
                return -ENOMEM;
        }
        p->fd = fd;
        return fd;
}

int tree_diff_write(int lower_fd, int upper_fd, int output_fd, char **ret_error) {
        _cleanup_(tar_writer_freep) TarWriter *tw = NULL;
        _cleanup_free_ char *error = NULL;
        ParentCache cache = { .fd = -1 };
        Walk w;
        int r;

        r = walk_trees(&w, lower_fd, upper_fd);
        if (r < 0) {
                if (ret_error) {
                        errno = -r;
                        if (asprintf(ret_error, "Failed to compare %s with the lower tree: %m", w.failed ?: ".") < 0)
                                *ret_error = NULL;
                }
                walk_done(&w);
                return r;
        }

        r = tar_writer_new(output_fd, 0, &tw, &error);
        for (size_t k = 0; r >= 0 && k < w.n; k++) {
                const DiffEntry *e = &w.entries[k];
                if (e->kind == 'D') {
                        r = tar_writer_add_whiteout(tw, e->path);
                        continue;
                }
                _cleanup_free_ char *parent = strdup(e->path);
                if (!parent) {
                        r = -ENOMEM;
                        break;
                }
                char *slash = strrchr(parent, '/');
                const char *name = slash ? slash + 1 : e->path;
                if (slash)
                        *slash = 0;
                else
                        parent[0] = 0;
                int pfd = parent_fd(&cache, upper_fd, parent);
                if (pfd < 0) {
                        r = pfd;
                        errno = -r;
                        if (asprintf(&error, "Failed to open the directory of %s: %m", e->path) < 0)
                                error = NULL;
                        break;
                }
                r = tar_writer_add(tw, pfd, name, e->path, false);
        }
        if (r >= 0)
                r = tar_writer_finish(tw);
        if (r < 0 && tw && !error)
                error = tar_writer_take_error(tw);
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(error);
        safe_close(cache.fd);
        free(cache.path);
        walk_done(&w);
        return r;
}
