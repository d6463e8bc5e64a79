/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one place where image content reaches the file system.
 *
 * libarchive is used only to parse the stream; every file system object is created by hand, relative
 * to the destination directory fd, one path component at a time with O_NOFOLLOW. So neither a ".."
 * name nor a symlink planted by an earlier entry can ever make us write outside of the destination.
 *
 * Choices worth knowing:
 *  - Directory owner, mode and times are applied after all entries were extracted: creating entries
 *    inside a directory changes its mtime, and a read-only directory mode would stop an unprivileged
 *    extraction half way. Directories are created 0700 and receive their final metadata at the end,
 *    children before parents, the last entry for a path winning.
 *  - Parent directories that the archive does not list are created 0755, owned by us.
 *  - Later entries replace earlier ones, as with tar -x; a directory is only kept when the new entry
 *    is a directory too, otherwise it is removed with its contents (never following symlinks).
 *  - Extended attributes, ACLs and file flags are ignored for now.
 *  - OCI whiteouts become overlayfs whiteouts, as the layer is used as an overlay lower dir: an entry
 *    ".wh.NAME" (of any type) creates the character device 0/0 NAME beside it, ".wh..wh..opq" sets
 *    trusted.overlay.opaque=y on its directory (both need root), and other ".wh..wh.*" entries (AUFS
 *    bookkeeping) are skipped. Device nodes in the archive itself, 0/0 ones included, stay refused.
 *  - With TAR_EXTRACT_APPLY_WHITEOUTS (btrfs: the destination is a snapshot of the layers below) they
 *    delete instead: ".wh.NAME" removes NAME, ".wh..wh..opq" every entry of its directory that this
 *    archive did not create (the paths created so far are kept in a set, as Docker's unpackedPaths),
 *    and a non-directory of the layers below in the path of an entry becomes a directory, as on an
 *    overlay.
 *  - A whiteout hides only what the layers below have, never an entry of the same archive, whatever
 *    their order (the OCI image spec; Docker lets the lower entries show through instead): ".wh.NAME"
 *    and NAME in one layer leave this layer's NAME, and when that is a directory (listed, or the
 *    parent of another entry) none of the lower directory's entries, as an opaque marker in it would.
 *    So the paths created are kept in the set in both modes. In overlay form a whiteout of an entry
 *    made before it marks a directory opaque and leaves anything else alone, an entry after a
 *    whiteout of its path replaces the 0/0 device (a directory made there is marked opaque), and a
 *    whiteout below such a device is skipped (as with the flag, where there is nothing left to delete).
 *  - Only gzip, bzip2, xz, lzma and zstd filters are enabled, not archive_read_support_filter_all():
 *    several of the others are implemented by forking external programs on the untrusted input.
 *  - The input is hashed by a helper thread that lives only for the duration of tar_extract().
 */

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "digest.h"
#include "hash-pipe.h"
#include "macro.h"
#include "path-set.h"
#include "tar-extract.h"
#include "tar-split.h"
#include "util.h"

#define strempty(s)    ((s) ?: "")
#define ERROR_NAME_MAX 256U

typedef struct DirMeta {
        char *path;
        size_t seq;
        dev_t dev;
        ino_t ino;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        struct timespec ts[2];
} DirMeta;

/* The parent directories of the current entry, one fd per component, each opened from the one before
 * with O_NOFOLLOW. Tar archives list directory trees depth first, so moving to the next entry usually
 * keeps most of the stack. The last level may stand for several components when the tree is deep. */
#define DIR_STACK_MAX 32U

typedef struct DirStack {
        char *path; /* path of the deepest level; each level is a prefix of it */
        size_t n;
        size_t ends[DIR_STACK_MAX]; /* level i is path[0..ends[i]) */
        int fds[DIR_STACK_MAX];
} DirStack;

typedef struct Extractor {
        int input_fd;
        int dest_dirfd;
        struct archive *archive;

        HashPipe pipe;
        uint64_t size;
        int input_errno; /* why the read callback failed, if it did */
        uint64_t n_entries;

        DirStack stack;

        DirMeta *dirs;
        size_t n_dirs, n_dirs_allocated;
        DirMeta root;
        bool have_root;

        bool literal_names; /* TAR_EXTRACT_LITERAL_NAMES */
        bool owner_caller; /* TAR_EXTRACT_OWNER_CALLER */
        bool apply_whiteouts; /* TAR_EXTRACT_APPLY_WHITEOUTS */
        PathSet unpacked; /* unless literal_names: what this archive created, and its parents */
        PathSet whiteouts; /* overlay form: the paths this archive's ".wh.NAME" entries named */
        const char *current; /* raw name of the entry being extracted, for messages */
        char *last_path; /* normalized name of the previous entry, for messages */
        char *error;

        /* tar_extract_split(): the tar reader reads the uncompressed stream from raw, through split. */
        TarSplitRecorder *split;
        struct archive *raw;
        bool raw_uncompressed;
        uint8_t *split_buffer;
} Extractor;

static void dir_stack_truncate(DirStack *d, size_t n) {
        while (d->n > n) {
                d->n--;
                d->fds[d->n] = safe_close(d->fds[d->n]);
        }
}

static void extractor_free(Extractor *e) {
        if (!e)
                return;
        hash_pipe_stop(&e->pipe);
        sha256_free(e->pipe.hash);
        dir_stack_truncate(&e->stack, 0);
        free(e->stack.path);
        path_set_done(&e->unpacked);
        path_set_done(&e->whiteouts);
        for (size_t i = 0; i < e->n_dirs; i++)
                free(e->dirs[i].path);
        free(e->dirs);
        if (e->archive)
                archive_read_free(e->archive);
        if (e->raw)
                archive_read_free(e->raw);
        tar_split_recorder_free(e->split);
        free(e->split_buffer);
        free(e->last_path);
        free(e->error);
        free(e);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Extractor *, extractor_free);

/* Entry names are attacker controlled and end up in D-Bus replies and logs: keep them short, printable
 * ASCII and valid UTF-8. */
static char *escape_name(const char *s) {
        size_t n = 0;
        char *r, *p;

        if (!s)
                return strdup("(unnamed)");
        r = p = malloc(ERROR_NAME_MAX * 4 + 4);
        if (!r)
                return NULL;
        for (; *s && n < ERROR_NAME_MAX; s++, n++) {
                unsigned char c = (unsigned char) *s;
                if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'')
                        p += sprintf(p, "\\x%02x", c);
                else
                        *p++ = (char) c;
        }
        if (*s)
                p = stpcpy(p, "...");
        *p = 0;
        return r;
}

/* Record the first failure as a sentence naming the current entry; returns r for tail calls. */
_printf_(4, 0) static int failv(Extractor *e, int r, bool refused, const char *fmt, va_list ap) {
        _cleanup_free_ char *what = NULL, *name = NULL;
        int k;

        if (e->error)
                return r;
        if (vasprintf(&what, fmt, ap) < 0) {
                what = NULL; /* undefined after a failure */
                return r;
        }
        name = escape_name(e->current);
        if (!name)
                return r;
        if (refused)
                k = asprintf(&e->error, "Refusing archive entry '%s': %s", name, what);
        else {
                errno = -r;
                k = asprintf(&e->error, "Failed to extract archive entry '%s': %s: %m", name, what);
        }
        if (k < 0)
                e->error = NULL;
        return r;
}

/* A system call failed: r is its negative errno. */
_printf_(3, 4) static int fail(Extractor *e, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        r = failv(e, r, false, fmt, ap);
        va_end(ap);
        return r;
}

/* The archive holds something we don't accept: always -EPERM. */
_printf_(2, 3) static int refuse(Extractor *e, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = failv(e, -EPERM, true, fmt, ap);
        va_end(ap);
        return r;
}

/* libarchive failed while parsing: our own read error, memory, or a broken archive. */
static int archive_failure(Extractor *e) {
        const char *msg = archive_error_string(e->archive), *what;
        _cleanup_free_ char *where = NULL;
        int r, k;

        if (e->input_errno > 0)
                r = -e->input_errno;
        else if (archive_errno(e->archive) == ENOMEM)
                r = -ENOMEM;
        else
                r = -EBADMSG;
        what = r == -EBADMSG ? "Corrupt archive" : "Failed to read archive";

        if (e->error)
                return r;
        if (e->current || e->last_path) {
                _cleanup_free_ char *name = escape_name(e->current ?: e->last_path);
                if (!name)
                        return r;
                if (asprintf(&where, " %s entry '%s'", e->current ? "in" : "after", name) < 0) {
                        where = NULL;
                        return r;
                }
        }
        errno = -r;
        if (msg && e->input_errno == 0)
                k = asprintf(&e->error, "%s%s: %s", what, strempty(where), msg);
        else
                k = asprintf(&e->error, "%s%s: %m", what, strempty(where));
        if (k < 0)
                e->error = NULL;
        return r;
}

static ssize_t read_input(Extractor *e, const void **ret_buffer) {
        ssize_t n = hash_pipe_read(&e->pipe, e->input_fd, ret_buffer);
        if (n > 0)
                e->size += (uint64_t) n;
        return n;
}

static la_ssize_t archive_read_cb(struct archive *a, void *userdata, const void **ret_buffer) {
        Extractor *e = userdata;
        ssize_t n;

        n = read_input(e, ret_buffer);
        if (n < 0) {
                e->input_errno = (int) -n;
                archive_set_error(a, (int) -n, "Failed to read input");
                return -1;
        }
        return n;
}

/* Open the directory name (of length len, inside a path) below dirfd without following a symlink,
 * creating it 0755 if missing and create is set. -ELOOP when it is a symlink, -ENOTDIR when it is
 * something else that is not a directory. */
static int open_component(int dirfd, const char *name, size_t len, bool create, int *ret_fd) {
        char comp[NAME_MAX + 1];
        bool created = false;
        int fd;

        if (len == 0)
                return -EINVAL;
        if (len > NAME_MAX)
                return -ENAMETOOLONG;
        memcpy(comp, name, len);
        comp[len] = 0;

        fd = openat(dirfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                if (mkdirat(dirfd, comp, 0755) < 0 && errno != EEXIST)
                        return -errno;
                created = true;
                fd = openat(dirfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0) {
                struct stat st;
                int r = -errno;

                if (r != -ELOOP && r != -ENOTDIR)
                        return r;
                if (fstatat(dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISLNK(st.st_mode))
                        return -ELOOP;
                return -ENOTDIR;
        }
        /* Don't let the umask decide the mode of directories the archive didn't list. */
        if (created && fchmod(fd, 0755) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* Open the directory rel (normalized, relative, not ".") below startfd component by component. */
static int walk(int startfd, const char *rel, bool create, int *ret_fd) {
        _cleanup_close_ int fd = -1;

        for (const char *p = rel;;) {
                size_t len = strcspn(p, "/");
                int nfd, r;

                r = open_component(fd >= 0 ? fd : startfd, p, len, create, &nfd);
                if (r < 0)
                        return r;
                safe_close(fd);
                fd = nfd;
                p += len;
                if (!*p)
                        break;
                p++;
        }

        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Resolve the parent directory of an entry ("" for the root) through the stack. The fd is borrowed and
 * valid until the next call. */
static int get_parent(Extractor *e, const char *parent, bool create, int *ret_fd) {
        DirStack *d = &e->stack;
        size_t keep = 0, plen;
        const char *p;
        char *copy;

        if (isempty(parent)) {
                *ret_fd = e->dest_dirfd;
                return 0;
        }
        plen = strlen(parent);

        /* Levels are nested prefixes, so the first one that isn't a prefix of parent ends the shared part. */
        while (keep < d->n && strncmp(parent, d->path, d->ends[keep]) == 0 &&
               (parent[d->ends[keep]] == 0 || parent[d->ends[keep]] == '/'))
                keep++;
        if (keep > 0 && d->ends[keep - 1] == plen) {
                /* parent itself is on the stack (possibly going back up): drop what is below it */
                dir_stack_truncate(d, keep);
                *ret_fd = d->fds[keep - 1];
                return 0;
        }
        if (keep == DIR_STACK_MAX)
                keep--; /* the last level is full; reopen it with the deeper components */
        dir_stack_truncate(d, keep);

        /* The kept levels are prefixes of the new path too. */
        copy = strdup(parent);
        if (!copy)
                return -ENOMEM;
        free(d->path);
        d->path = copy;

        p = parent + (keep > 0 ? d->ends[keep - 1] + 1 : 0);
        while (d->n < DIR_STACK_MAX - 1) {
                size_t len = strcspn(p, "/");
                int fd, r;

                r = open_component(d->n > 0 ? d->fds[d->n - 1] : e->dest_dirfd, p, len, create, &fd);
                if (r < 0)
                        return r;
                d->fds[d->n] = fd;
                d->ends[d->n] = (size_t) (p + len - parent);
                d->n++;
                p += len;
                if (!*p) {
                        *ret_fd = fd;
                        return 0;
                }
                p++;
        }

        /* Very deep: the last level takes all remaining components. */
        int fd, r;
        r = walk(d->fds[d->n - 1], p, create, &fd);
        if (r < 0)
                return r;
        d->fds[d->n] = fd;
        d->ends[d->n] = plen;
        d->n++;
        *ret_fd = fd;
        return 0;
}

static int parent_failure(Extractor *e, int r, const char *what) {
        if (r == -ELOOP)
                return refuse(e, "%spath goes through a symlink", what);
        if (r == -ENOTDIR)
                return refuse(e, "%spath goes through something that is not a directory", what);
        return fail(e, r, "%scannot open the parent directory", what);
}

/* Make room for a new entry at parentfd/name: tar semantics, the later entry wins. */
static int remove_existing(Extractor *e, int parentfd, const char *name, const char *path) {
        struct stat st;

        if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode)) {
                /* The stack may still hold a branch below path (get_parent() leaves deeper levels of
                 * the last path alone); their fds would point into the removed tree. The levels above
                 * path stay: the caller's parentfd is one of them. */
                size_t len = strlen(path), keep = 0;
                if (e->stack.n > 0 && strncmp(e->stack.path, path, len) == 0 &&
                    (e->stack.path[len] == 0 || e->stack.path[len] == '/')) {
                        while (keep < e->stack.n && e->stack.ends[keep] < len)
                                keep++;
                        dir_stack_truncate(&e->stack, keep);
                }
                return rm_rf_at(parentfd, name);
        }
        if (unlinkat(parentfd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static void entry_times(struct archive_entry *entry, struct timespec ts[2]) {
        if (archive_entry_mtime_is_set(entry)) {
                long nsec = archive_entry_mtime_nsec(entry);
                ts[1] = (struct timespec){
                        .tv_sec = archive_entry_mtime(entry),
                        .tv_nsec = nsec >= 0 && nsec < 1000000000L ? nsec : 0,
                };
        } else
                ts[1] = (struct timespec){ .tv_nsec = UTIME_OMIT };

        if (archive_entry_atime_is_set(entry)) {
                long nsec = archive_entry_atime_nsec(entry);
                ts[0] = (struct timespec){
                        .tv_sec = archive_entry_atime(entry),
                        .tv_nsec = nsec >= 0 && nsec < 1000000000L ? nsec : 0,
                };
        } else
                ts[0] = ts[1]; /* reproducible, unlike "now" */
}

/* Owner first: chown clears setuid/setgid, and the mode must keep them. */
static int fd_apply_metadata(int fd, uid_t uid, gid_t gid, mode_t mode, const struct timespec ts[2]) {
        if (fchown(fd, uid, gid) < 0)
                return -errno;
        if (fchmod(fd, mode & 07777) < 0)
                return -errno;
        if (futimens(fd, ts) < 0)
                return -errno;
        return 0;
}

/* Overlay form: overlayfs shows nothing of the layers below in a directory marked so (needs root). */
static int set_opaque_at(int dirfd, const char *name) {
        /* dirfd may be O_PATH (the destination itself); xattrs need a real fd. */
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                return -errno;
        return 0;
}

static int pwrite_all(int fd, const void *buf, size_t n, off_t offset) {
        const uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = pwrite(fd, p, n, offset);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t) k;
                offset += k;
        }
        return 0;
}

static int extract_regular(Extractor *e, struct archive_entry *entry, int parentfd, const char *name, const char *path,
                           uid_t uid, gid_t gid) {
        _cleanup_close_ int fd = -1;
        struct timespec ts[2];
        uint64_t end = 0;
        int r;

        fd = openat(parentfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
                r = remove_existing(e, parentfd, name, path);
                if (r < 0)
                        return fail(e, r, "cannot replace the existing file");
                fd = openat(parentfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
        if (fd < 0)
                return fail(e, -errno, "cannot create file");

        for (;;) {
                const void *buf;
                size_t n;
                la_int64_t offset;

                r = archive_read_data_block(e->archive, &buf, &n, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return archive_failure(e);
                if (offset < 0 || (uint64_t) offset > (uint64_t) INT64_MAX - n)
                        return fail(e, -EBADMSG, "bad data offset");
                /* Offsets jump over the holes of sparse files; pwrite() leaves them unallocated. */
                r = pwrite_all(fd, buf, n, (off_t) offset);
                if (r < 0)
                        return fail(e, r, "cannot write file");
                if ((uint64_t) offset + n > end)
                        end = (uint64_t) offset + n;
        }

        /* A sparse file may end in a hole. */
        if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0 &&
            (uint64_t) archive_entry_size(entry) > end && ftruncate(fd, (off_t) archive_entry_size(entry)) < 0)
                return fail(e, -errno, "cannot set file size");

        entry_times(entry, ts);
        r = fd_apply_metadata(fd, uid, gid, archive_entry_perm(entry), ts);
        if (r < 0)
                return fail(e, r, "cannot set owner, mode or times");

        if (close(TAKE_FD(fd)) < 0 && errno != EINTR)
                return fail(e, -errno, "cannot write file");
        return 0;
}

static int extract_directory(Extractor *e, struct archive_entry *entry, int parentfd, const char *name,
                             const char *path, uid_t uid, gid_t gid) {
        struct stat st;
        DirMeta *m;

        /* 0700 until the deferred metadata pass gives it its real mode. */
        if (mkdirat(parentfd, name, 0700) < 0) {
                if (errno != EEXIST)
                        return fail(e, -errno, "cannot create directory");
                if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return fail(e, -errno, "cannot inspect the existing entry");
                if (!S_ISDIR(st.st_mode)) {
                        /* Not a directory, so no subtree to remove; symlinks are removed, not followed. */
                        if (unlinkat(parentfd, name, 0) < 0)
                                return fail(e, -errno, "cannot replace the existing entry");
                        if (mkdirat(parentfd, name, 0700) < 0)
                                return fail(e, -errno, "cannot create directory");
                }
        }
        /* Remember which inode we mean, so metadata is never applied to something that replaced it. */
        if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(e, -errno, "cannot inspect directory");
        if (!S_ISDIR(st.st_mode))
                return fail(e, -ENOTDIR, "directory vanished");
        /* Overlay form, a whiteout of this path earlier in the archive: it hides the lower directory,
         * not this one (see extract_whiteout()). */
        if (!e->apply_whiteouts && path_set_contains(&e->whiteouts, path)) {
                int r = set_opaque_at(parentfd, name);
                if (r < 0)
                        return fail(e, r, "cannot mark the directory opaque");
        }

        if (e->n_dirs >= e->n_dirs_allocated) {
                size_t k = e->n_dirs_allocated ? e->n_dirs_allocated * 2 : 64;
                DirMeta *d = reallocarray(e->dirs, k, sizeof(DirMeta));
                if (!d)
                        return fail(e, -ENOMEM, "cannot remember directory");
                e->dirs = d;
                e->n_dirs_allocated = k;
        }
        m = &e->dirs[e->n_dirs];
        *m = (DirMeta){
                .path = strdup(path),
                .seq = e->n_dirs,
                .dev = st.st_dev,
                .ino = st.st_ino,
                .mode = archive_entry_perm(entry),
                .uid = uid,
                .gid = gid,
        };
        if (!m->path)
                return fail(e, -ENOMEM, "cannot remember directory");
        entry_times(entry, m->ts);
        e->n_dirs++;
        return 0;
}

static int extract_symlink(Extractor *e, struct archive_entry *entry, int parentfd, const char *name, const char *path,
                           uid_t uid, gid_t gid) {
        const char *target = archive_entry_symlink(entry) ?: archive_entry_symlink_utf8(entry);
        struct timespec ts[2];
        int r;

        /* The target is never resolved by us; it only means something inside the container. */
        if (isempty(target))
                return refuse(e, "symlink without a target");

        if (symlinkat(target, parentfd, name) < 0) {
                if (errno != EEXIST)
                        return fail(e, -errno, "cannot create symlink");
                r = remove_existing(e, parentfd, name, path);
                if (r < 0)
                        return fail(e, r, "cannot replace the existing entry");
                if (symlinkat(target, parentfd, name) < 0)
                        return fail(e, -errno, "cannot create symlink");
        }
        if (fchownat(parentfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(e, -errno, "cannot set symlink owner");
        entry_times(entry, ts);
        if (utimensat(parentfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(e, -errno, "cannot set symlink times");
        return 0;
}

static int extract_fifo(Extractor *e, struct archive_entry *entry, int parentfd, const char *name, const char *path,
                        uid_t uid, gid_t gid) {
        _cleanup_close_ int fd = -1;
        struct timespec ts[2];
        struct stat st;
        int r;

        if (mknodat(parentfd, name, S_IFIFO | 0600, 0) < 0) {
                if (errno != EEXIST)
                        return fail(e, -errno, "cannot create FIFO");
                r = remove_existing(e, parentfd, name, path);
                if (r < 0)
                        return fail(e, r, "cannot replace the existing entry");
                if (mknodat(parentfd, name, S_IFIFO | 0600, 0) < 0)
                        return fail(e, -errno, "cannot create FIFO");
        }
        /* Opening the read side with O_NONBLOCK never blocks, and gives us an fd to set metadata through. */
        fd = openat(parentfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return fail(e, -errno, "cannot open FIFO");
        if (fstat(fd, &st) < 0)
                return fail(e, -errno, "cannot inspect FIFO");
        if (!S_ISFIFO(st.st_mode))
                return fail(e, -EIO, "FIFO was replaced");
        entry_times(entry, ts);
        r = fd_apply_metadata(fd, uid, gid, archive_entry_perm(entry), ts);
        if (r < 0)
                return fail(e, r, "cannot set owner, mode or times");
        return 0;
}

static void split_path(char *path, const char **ret_parent, const char **ret_name) {
        char *slash = strrchr(path, '/');

        if (slash) {
                *slash = 0;
                *ret_parent = path;
                *ret_name = slash + 1;
        } else {
                *ret_parent = "";
                *ret_name = path;
        }
}

static int extract_hardlink(Extractor *e, const char *raw_target, int parentfd, const char *parent, const char *name,
                            const char *path) {
        _cleanup_free_ char *target = NULL;
        _cleanup_close_ int owned_fd = -1;
        const char *target_parent, *target_name;
        int source_fd, r;
        struct stat st;

        r = tar_path_normalize(raw_target, &target);
        if (r == -ENOMEM)
                return fail(e, r, "out of memory");
        if (r < 0)
                return refuse(e, "hard link target escapes the image root");
        if (streq(target, "."))
                return refuse(e, "hard link target is not a regular file");
        if (streq(target, path))
                return 0; /* a link to itself: nothing to do, and unlinking first would lose the file */

        split_path(target, &target_parent, &target_name);

        /* The target gets the same no-follow walk as every entry, but nothing is created for it. */
        if (streq(target_parent, parent))
                source_fd = parentfd;
        else if (isempty(target_parent))
                source_fd = e->dest_dirfd;
        else {
                r = walk(e->dest_dirfd, target_parent, false, &owned_fd);
                if (r == -ENOENT)
                        return refuse(e, "hard link target does not exist");
                if (r < 0)
                        return parent_failure(e, r, "hard link target ");
                source_fd = owned_fd;
        }

        if (fstatat(source_fd, target_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return refuse(e, "hard link target does not exist");
                return fail(e, -errno, "cannot inspect hard link target");
        }
        if (!S_ISREG(st.st_mode))
                return refuse(e, "hard link target is not a regular file");

        if (linkat(source_fd, target_name, parentfd, name, 0) < 0) {
                if (errno != EEXIST)
                        return fail(e, -errno, "cannot create hard link");
                r = remove_existing(e, parentfd, name, path);
                if (r < 0)
                        return fail(e, r, "cannot replace the existing entry");
                if (linkat(source_fd, target_name, parentfd, name, 0) < 0)
                        return fail(e, -errno, "cannot create hard link");
        }
        return 0;
}

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META   ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

/* TAR_EXTRACT_APPLY_WHITEOUTS: the archive is applied to a full tree (a snapshot of the layers below),
 * so its whiteouts delete what they name, as Docker's applyLayer does. */

#define OPAQUE_DEPTH_MAX 2048U

/* Remove everything below dir_fd (the directory 'path') that this archive did not create. */
static int prune_lower(Extractor *e, int dir_fd, const char *path, unsigned depth) {
        char **names = NULL;
        size_t n = 0;
        int r = 0;

        if (depth > OPAQUE_DEPTH_MAX)
                return -ELOOP;
        DIR *d = opendir_at(dir_fd);
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                char **p = reallocarray(names, n + 1, sizeof(char *));
                if (!p || !(p[n] = strdup(de->d_name))) {
                        names = p ?: names;
                        r = -ENOMEM;
                        break;
                }
                names = p;
                n++;
        }
        closedir(d);

        for (size_t k = 0; r >= 0 && k < n; k++) {
                _cleanup_free_ char *child = NULL;
                _cleanup_close_ int fd = -1;
                if (asprintf(&child, "%s%s%s", path, isempty(path) ? "" : "/", names[k]) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (!path_set_contains(&e->unpacked, child)) {
                        r = rm_rf_at(dir_fd, names[k]);
                        continue;
                }
                /* Ours; if it is a directory, lower entries may still be below it. */
                fd = openat(dir_fd, names[k], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0)
                        r = prune_lower(e, fd, child, depth + 1);
                else if (errno != ENOTDIR && errno != ELOOP && errno != ENOENT)
                        r = -errno;
        }
        for (size_t k = 0; k < n; k++)
                free(names[k]);
        free(names);
        return r;
}

/* Empty the directory dir_fd ('path') of what the layers below put there: the opaque rule. */
static int prune_opaque(Extractor *e, int dir_fd, const char *path, const char *what) {
        /* The stack may hold directories below path that are about to go; path's own level stays. */
        size_t len = strlen(path), keep = 0;
        int r;

        if (len == 0)
                dir_stack_truncate(&e->stack, 0);
        else if (e->stack.n > 0 && strncmp(e->stack.path, path, len) == 0 &&
                 (e->stack.path[len] == 0 || e->stack.path[len] == '/')) {
                while (keep < e->stack.n && e->stack.ends[keep] <= len)
                        keep++;
                dir_stack_truncate(&e->stack, keep);
        }
        r = prune_lower(e, dir_fd, path, 0);
        if (r < 0)
                return fail(e, r, "cannot remove the entries the %s hides", what);
        return 1;
}

/* ".wh.target" in parent deletes it; target NULL (".wh..wh..opq") empties parent of what the layers
 * below put there. Returns 1: the entry is done with. */
static int apply_whiteout(Extractor *e, const char *parent, const char *target) {
        _cleanup_free_ char *target_path = NULL;
        _cleanup_close_ int fd = -1;
        int parentfd, r;
        struct stat st;

        /* Nothing to delete below something that is not a directory (or not there); don't create it. */
        r = get_parent(e, parent, false, &parentfd);
        if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
                return 1;
        if (r < 0)
                return parent_failure(e, r, "");

        if (!target)
                return prune_opaque(e, parentfd, parent, "opaque whiteout");

        if (asprintf(&target_path, "%s%s%s", parent, isempty(parent) ? "" : "/", target) < 0)
                return fail(e, -ENOMEM, "out of memory");
        if (path_set_contains(&e->unpacked, target_path) && fstatat(parentfd, target, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                /* This archive's own entry (it replaced the lower one already): the whiteout hides only
                 * the layers below. A directory of ours may still hold lower entries (it was merged
                 * with a lower directory, listed or as a parent): those go, as with an opaque marker. */
                if (!S_ISDIR(st.st_mode))
                        return 1;
                fd = openat(parentfd, target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return fail(e, -errno, "cannot open the directory the whiteout names");
                return prune_opaque(e, fd, target_path, "whiteout");
        }
        r = remove_existing(e, parentfd, target, target_path);
        if (r < 0)
                return fail(e, r, "cannot remove the entry the whiteout names");
        return 1;
}

/* A non-directory in the path of an entry (parent), its parent not listed before it, that the entry
 * replaces by an empty directory, 0755 like any parent the archive does not list:
 *  - with APPLY_WHITEOUTS, a symlink or file of the layers below: as on an overlay, where this layer's
 *    directory hides whatever the lower layers have at that path;
 *  - in overlay form, a whiteout (0/0 device) this archive made: the directory is marked opaque, as
 *    the whiteout still hides the layers below (see extract_whiteout()).
 * Anything else stays in the way: -ELOOP for a symlink, -ENOTDIR for the rest, as without the
 * replacement. With probe, nothing is replaced, and 1 says such a whiteout is in the way.
 * Only the destination's own entries are touched: each component is looked at, never followed. */
static int replace_parent_nondirs(Extractor *e, const char *parent, bool probe) {
        _cleanup_free_ char *buf = strdup(parent);
        _cleanup_close_ int fd = -1;

        if (!buf)
                return -ENOMEM;
        for (char *p = buf, *slash; p; p = slash) {
                struct stat st;
                int dirfd = fd >= 0 ? fd : e->dest_dirfd, nfd;

                slash = strchr(p, '/');
                if (slash)
                        *slash = 0;
                if (fstatat(dirfd, p, &st, AT_SYMLINK_NOFOLLOW) >= 0 && !S_ISDIR(st.st_mode)) {
                        bool replaceable;

                        /* With the flag, a symlink or file this archive made itself stays in the way:
                         * an entry through it is refused, as without the flag. */
                        if (e->apply_whiteouts)
                                replaceable = !path_set_contains(&e->unpacked, buf);
                        else
                                replaceable = S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0) &&
                                        path_set_contains(&e->whiteouts, buf);
                        if (!replaceable)
                                return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
                        if (probe)
                                return 1;
                        if (unlinkat(dirfd, p, 0) < 0)
                                return -errno;
                        if (mkdirat(dirfd, p, 0755) < 0)
                                return -errno;
                        nfd = openat(dirfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (nfd >= 0) {
                                int r = 0;
                                if (fchmod(nfd, 0755) < 0) /* not the umask's choice */
                                        r = -errno;
                                else if (!e->apply_whiteouts && fsetxattr(nfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                                        r = -errno;
                                if (r < 0) {
                                        safe_close(nfd);
                                        return r;
                                }
                        }
                } else
                        nfd = openat(dirfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0)
                        return errno == ENOENT ? 0 : -errno; /* get_parent() creates the rest */
                safe_close(fd);
                fd = nfd;
                if (slash)
                        *slash++ = '/'; /* buf is the path up to and including p, for the sets */
        }
        return 0;
}

/* OCI whiteouts, whatever the entry's type: returns 1 when path was one and is done with, 0 when it is
 * an ordinary entry. */
static int extract_whiteout(Extractor *e, const char *path, uid_t uid, gid_t gid) {
        _cleanup_free_ char *buf = NULL, *target_path = NULL;
        const char *parent, *name, *target;
        int parentfd, r;
        struct stat st;

        name = strrchr(path, '/');
        name = name ? name + 1 : path;
        if (strncmp(name, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) != 0)
                return 0;

        buf = strdup(path);
        if (!buf)
                return fail(e, -ENOMEM, "out of memory");
        split_path(buf, &parent, &name);

        if (strncmp(name, WHITEOUT_META, strlen(WHITEOUT_META)) == 0 && !streq(name, WHITEOUT_OPAQUE))
                return 1; /* AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): nothing to create */

        target = name + strlen(WHITEOUT_PREFIX);
        if (!streq(name, WHITEOUT_OPAQUE) && (isempty(target) || streq(target, ".") || streq(target, "..")))
                return refuse(e, "whiteout without a valid name");
        if (e->apply_whiteouts)
                return apply_whiteout(e, parent, streq(name, WHITEOUT_OPAQUE) ? NULL : target);

        r = get_parent(e, parent, true, &parentfd);
        if (r == -ENOTDIR && e->whiteouts.n > 0) {
                /* Below a whiteout of this archive: nothing there to hide (with the flag, the whiteout
                 * deleted it all, and this one is skipped). Only an entry makes a directory of it. */
                int k = replace_parent_nondirs(e, parent, true);
                if (k < 0 && k != -ENOTDIR && k != -ELOOP)
                        return fail(e, k, "cannot inspect the parent directories");
                if (k > 0)
                        return 1;
        }
        if (r < 0)
                return parent_failure(e, r, "");

        if (streq(name, WHITEOUT_OPAQUE)) {
                r = set_opaque_at(parentfd, ".");
                if (r < 0)
                        return fail(e, r, "cannot mark the directory opaque");
                return 1;
        }

        if (asprintf(&target_path, "%s%s%s", parent, isempty(parent) ? "" : "/", target) < 0)
                return fail(e, -ENOMEM, "out of memory");
        /* Remembered, so that a directory this archive makes here later is marked opaque. */
        char *copy = strdup(target_path);
        if (!copy || path_set_put(&e->whiteouts, copy) < 0)
                return fail(e, -ENOMEM, "out of memory");

        if (path_set_contains(&e->unpacked, target_path) && fstatat(parentfd, target, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                /* This archive's own entry: the whiteout hides only the layers below, which a file or
                 * symlink here does already; a directory is marked opaque, so that the entries of a
                 * lower directory are hidden too. */
                if (!S_ISDIR(st.st_mode))
                        return 1;
                r = set_opaque_at(parentfd, target);
                if (r < 0)
                        return fail(e, r, "cannot mark the directory opaque");
                return 1;
        }

        if (mknodat(parentfd, target, S_IFCHR, makedev(0, 0)) < 0) {
                if (errno != EEXIST)
                        return fail(e, -errno, "cannot create whiteout");
                r = remove_existing(e, parentfd, target, target_path);
                if (r < 0)
                        return fail(e, r, "cannot replace the existing entry");
                if (mknodat(parentfd, target, S_IFCHR, makedev(0, 0)) < 0)
                        return fail(e, -errno, "cannot create whiteout");
        }
        if (fchownat(parentfd, target, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(e, -errno, "cannot set whiteout owner");
        return 1;
}

/* The split recorder learns where file content went; it gives up on what it can't follow. */
static void split_add_file(Extractor *e, struct archive_entry *entry, bool no_content, int parentfd, const char *name,
                           const char *path) {
        struct stat st;

        if (no_content)
                return tar_split_add_file(e->split, path, 0, 0, 0);
        if (!archive_entry_size_is_set(entry) || archive_entry_sparse_count(entry) > 0 ||
            fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return tar_split_give_up(e->split);
        tar_split_add_file(e->split, path, (uint64_t) archive_entry_size(entry), st.st_dev, st.st_ino);
}

static int extract_entry(Extractor *e, struct archive_entry *entry) {
        _cleanup_free_ char *path = NULL, *parent_buf = NULL;
        const char *hardlink, *parent, *name;
        la_int64_t uid, gid;
        mode_t type;
        int parentfd, r;

        e->current = archive_entry_pathname(entry) ?: archive_entry_pathname_utf8(entry);
        if (!e->current)
                return refuse(e, "entry has no name");

        r = tar_path_normalize(e->current, &path);
        if (r == -ENOMEM)
                return fail(e, r, "out of memory");
        if (r < 0)
                return refuse(e, isempty(e->current) ? "empty path" : "path escapes the image root");

        /* Owners are numeric only (names are never looked up), and must fit a uid_t that is not -1. */
        uid = archive_entry_uid(entry);
        gid = archive_entry_gid(entry);
        if (uid < 0 || uid >= (la_int64_t) UINT32_MAX || gid < 0 || gid >= (la_int64_t) UINT32_MAX)
                return refuse(e, "owner out of range");
        if (e->owner_caller) {
                uid = geteuid();
                gid = getegid();
        }

        hardlink = archive_entry_hardlink(entry) ?: archive_entry_hardlink_utf8(entry);
        type = archive_entry_filetype(entry);

        if (streq(path, ".")) {
                struct stat st;

                if (hardlink || type != AE_IFDIR)
                        return refuse(e, "only a directory may stand for the image root");
                if (fstatat(e->dest_dirfd, "", &st, AT_EMPTY_PATH) < 0)
                        return fail(e, -errno, "cannot inspect the destination");
                e->root = (DirMeta){
                        .dev = st.st_dev,
                        .ino = st.st_ino,
                        .mode = archive_entry_perm(entry),
                        .uid = (uid_t) uid,
                        .gid = (gid_t) gid,
                };
                entry_times(entry, e->root.ts);
                e->have_root = true;
                goto done;
        }

        r = e->literal_names ? 0 : extract_whiteout(e, path, (uid_t) uid, (gid_t) gid);
        if (r < 0)
                return r;
        if (r > 0)
                goto done;

        /* Refuse what we never create before creating its parent directories. */
        if (!hardlink)
                switch (type) {
                case AE_IFREG:
                case AE_IFDIR:
                case AE_IFLNK:
                case AE_IFIFO:
                        break;
                case AE_IFCHR:
                case AE_IFBLK:
                        /* Whiteouts come as ".wh." names (handled above); 0/0 devices are no exception. */
                        return refuse(e, "device nodes are not allowed in images");
                case AE_IFSOCK:
                        return refuse(e, "sockets are not allowed in images");
                default:
                        return refuse(e, "unknown entry type 0%o", (unsigned) type);
                }

        parent_buf = strdup(path);
        if (!parent_buf)
                return fail(e, -ENOMEM, "out of memory");
        split_path(parent_buf, &parent, &name);

        r = get_parent(e, parent, true, &parentfd);
        if ((r == -ELOOP || r == -ENOTDIR) && (e->apply_whiteouts || e->whiteouts.n > 0)) {
                r = replace_parent_nondirs(e, parent, false);
                if (r >= 0)
                        r = get_parent(e, parent, true, &parentfd);
        }
        if (r < 0)
                return parent_failure(e, r, "");

        if (hardlink)
                r = extract_hardlink(e, hardlink, parentfd, parent, name, path);
        else
                switch (type) {
                case AE_IFREG:
                        r = extract_regular(e, entry, parentfd, name, path, (uid_t) uid, (gid_t) gid);
                        break;
                case AE_IFDIR:
                        r = extract_directory(e, entry, parentfd, name, path, (uid_t) uid, (gid_t) gid);
                        break;
                case AE_IFLNK:
                        r = extract_symlink(e, entry, parentfd, name, path, (uid_t) uid, (gid_t) gid);
                        break;
                case AE_IFIFO:
                        r = extract_fifo(e, entry, parentfd, name, path, (uid_t) uid, (gid_t) gid);
                        break;
                default:
                        r = fail(e, -EINVAL, "internal error");
                }
        if (r >= 0 && e->split)
                split_add_file(e, entry, hardlink || type != AE_IFREG, parentfd, name, path);
        if (r < 0)
                return r;
        if (!e->literal_names) {
                r = path_set_add_with_parents(&e->unpacked, path);
                if (r < 0)
                        return fail(e, r, "out of memory");
        }

done:
        free(e->last_path);
        e->last_path = TAKE_PTR(path);
        e->current = NULL;
        return 0;
}

static int dir_meta_compare(const void *a, const void *b) {
        const DirMeta *x = a, *y = b;
        int c = strcmp(x->path, y->path);

        if (c != 0)
                return c;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int apply_dir_meta(Extractor *e, const DirMeta *m) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -1;
        const char *parent, *name;
        struct stat st;
        int parentfd, r;

        e->current = m->path ?: ".";
        if (!m->path)
                fd = openat(e->dest_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        else {
                buf = strdup(m->path);
                if (!buf)
                        return fail(e, -ENOMEM, "out of memory");
                split_path(buf, &parent, &name);
                r = get_parent(e, parent, false, &parentfd);
                if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
                        return 0; /* replaced by a later entry; its metadata is moot */
                if (r < 0)
                        return fail(e, r, "cannot open the parent directory");
                fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
                        return 0;
        }
        if (fd < 0)
                return fail(e, -errno, "cannot open directory");
        if (fstat(fd, &st) < 0)
                return fail(e, -errno, "cannot inspect directory");
        if (st.st_dev != m->dev || st.st_ino != m->ino)
                return 0;
        r = fd_apply_metadata(fd, m->uid, m->gid, m->mode, m->ts);
        if (r < 0)
                return fail(e, r, "cannot set directory owner, mode or times");
        return 0;
}

static int apply_dir_metas(Extractor *e) {
        int r;

        /* Sorted by path, a directory comes before everything below it; walking backwards thus finishes
         * children before their parent's mode can lock us out, and sees the last entry for a path first. */
        if (e->n_dirs > 0)
                qsort(e->dirs, e->n_dirs, sizeof(DirMeta), dir_meta_compare);
        for (size_t i = e->n_dirs; i > 0; i--) {
                if (i < e->n_dirs && streq(e->dirs[i - 1].path, e->dirs[i].path))
                        continue;
                r = apply_dir_meta(e, &e->dirs[i - 1]);
                if (r < 0)
                        return r;
        }
        if (e->have_root) {
                r = apply_dir_meta(e, &e->root);
                if (r < 0)
                        return r;
        }
        e->current = NULL;
        return 0;
}

static int support_filters(struct archive *a) {
        /* ARCHIVE_WARN here only means "via an external program"; that's fine for these well-known ones. */
        if (archive_read_support_filter_gzip(a) == ARCHIVE_FATAL ||
            archive_read_support_filter_bzip2(a) == ARCHIVE_FATAL ||
            archive_read_support_filter_xz(a) == ARCHIVE_FATAL ||
            archive_read_support_filter_lzma(a) == ARCHIVE_FATAL ||
            archive_read_support_filter_zstd(a) == ARCHIVE_FATAL)
                return -ENOMEM;
        return 0;
}

/* With a tar-split recorder, the tar reader reads the decompressed stream through this tee. */
static la_ssize_t split_read_cb(struct archive *a, void *userdata, const void **ret_buffer) {
        Extractor *e = userdata;
        la_ssize_t n = archive_read_data(e->raw, e->split_buffer, READ_BUFFER_SIZE);

        if (n < 0) {
                archive_set_error(a, EILSEQ, "%s", archive_error_string(e->raw) ?: "Failed to read input");
                return -1;
        }
        tar_split_feed(e->split, e->split_buffer, (size_t) n);
        *ret_buffer = e->split_buffer;
        return n;
}

static int open_split(Extractor *e) {
        struct archive_entry *entry;

        e->raw = archive_read_new();
        e->split_buffer = malloc(READ_BUFFER_SIZE);
        if (!e->raw || !e->split_buffer || archive_read_support_format_raw(e->raw) != ARCHIVE_OK ||
            support_filters(e->raw) < 0)
                return -ENOMEM;
        if (archive_read_open(e->raw, e, NULL, archive_read_cb, NULL) != ARCHIVE_OK ||
            archive_read_next_header(e->raw, &entry) != ARCHIVE_OK) {
                archive_copy_error(e->archive, e->raw);
                return archive_failure(e);
        }
        /* Not compressed: the stream is the input, which the hash pipe hashes already. */
        e->raw_uncompressed = archive_filter_count(e->raw) == 1 &&
                archive_filter_code(e->raw, 0) == ARCHIVE_FILTER_NONE;
        if (e->raw_uncompressed)
                tar_split_set_digest(e->split, NULL);
        if (archive_read_open(e->archive, e, NULL, split_read_cb, NULL) != ARCHIVE_OK)
                return archive_failure(e);
        return 0;
}

/* The rest of the decompressed stream, after the end of the archive, belongs to the split too. */
static int drain_split(Extractor *e) {
        for (;;) {
                la_ssize_t n = archive_read_data(e->raw, e->split_buffer, READ_BUFFER_SIZE);
                if (n < 0) {
                        archive_copy_error(e->archive, e->raw);
                        return archive_failure(e);
                }
                if (n == 0)
                        return 0;
                tar_split_feed(e->split, e->split_buffer, (size_t) n);
        }
}

static int run(Extractor *e, TarExtractResult *result) {
        int r;

        e->archive = archive_read_new();
        if (!e->archive)
                return -ENOMEM;
        if (archive_read_support_format_tar(e->archive) != ARCHIVE_OK || (!e->split && support_filters(e->archive) < 0))
                return -ENOMEM;

        if (e->split) {
                r = open_split(e);
                if (r < 0)
                        return r;
        } else if (archive_read_open(e->archive, e, NULL, archive_read_cb, NULL) != ARCHIVE_OK)
                return archive_failure(e);

        for (;;) {
                struct archive_entry *entry;

                r = archive_read_next_header(e->archive, &entry);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return archive_failure(e);

                r = extract_entry(e, entry);
                if (r < 0)
                        return r;
                e->n_entries++;
        }
        if (e->split) {
                r = drain_split(e);
                if (r < 0)
                        return r;
        }

        /* The digest must cover the whole blob, including padding libarchive didn't need. */
        for (;;) {
                ssize_t n = read_input(e, NULL);
                if (n < 0) {
                        errno = (int) -n;
                        if (asprintf(&e->error, "Failed to read archive: %m") < 0)
                                e->error = NULL;
                        return (int) n;
                }
                if (n == 0)
                        break;
        }

        r = apply_dir_metas(e);
        if (r < 0)
                return r;

        if (result) {
                r = hash_pipe_finish(&e->pipe, result->digest);
                if (r < 0)
                        return r;
                result->size = e->size;
                result->n_entries = e->n_entries;
        }
        return 0;
}

int tar_extract(int input_fd, int dest_dirfd, TarExtractResult *result, char **ret_error) {
        return tar_extract_full(input_fd, dest_dirfd, 0, result, ret_error);
}

int tar_extract_full(int input_fd, int dest_dirfd, TarExtractFlags flags, TarExtractResult *result, char **ret_error) {
        return tar_extract_split(input_fd, dest_dirfd, flags, -1, NULL, result, ret_error);
}

/* The split file is only kept when the recorder could follow the whole stream. */
static int split_finish(Extractor *e, int split_dirfd, const char *split_name, TarExtractResult *res) {
        int r;

        if (e->raw_uncompressed)
                tar_split_set_digest(e->split, res->digest);
        r = tar_split_stream_digest(e->split, res->diff_digest, &res->diff_size);
        if (r < 0)
                return r;
        if (tar_split_finish(e->split, e->dest_dirfd, e->n_entries) <= 0)
                (void) unlinkat(split_dirfd, split_name, 0);
        return 0;
}

int tar_extract_split(int input_fd, int dest_dirfd, TarExtractFlags flags, int split_dirfd, const char *split_name,
                      TarExtractResult *result, char **ret_error) {
        /* Declared before e, so closed after it: freeing e may still flush the split's gzip tail. */
        _cleanup_close_ int split_fd = -1;
        _cleanup_(extractor_freep) Extractor *e = NULL;
        TarExtractResult res = {};
        int r;

        if (input_fd < 0 || dest_dirfd < 0)
                return -EBADF;

        e = calloc(1, sizeof(Extractor));
        if (!e)
                return -ENOMEM;
        e->input_fd = input_fd;
        e->dest_dirfd = dest_dirfd;
        e->literal_names = flags & TAR_EXTRACT_LITERAL_NAMES;
        e->owner_caller = flags & TAR_EXTRACT_OWNER_CALLER;
        e->apply_whiteouts = !e->literal_names && (flags & TAR_EXTRACT_APPLY_WHITEOUTS);
        r = hash_pipe_start(&e->pipe);
        if (r < 0)
                return r;
        if (split_name) {
                split_fd = openat(split_dirfd, split_name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (split_fd < 0)
                        return -errno;
                r = tar_split_recorder_new(split_fd, &e->split);
                if (r < 0) {
                        (void) unlinkat(split_dirfd, split_name, 0);
                        return r;
                }
        }

        r = run(e, &res);
        if (r >= 0 && e->split)
                r = split_finish(e, split_dirfd, split_name, &res);
        if (r < 0 && e->split)
                (void) unlinkat(split_dirfd, split_name, 0);
        if (r < 0) {
                if (ret_error) {
                        if (!e->error) {
                                errno = -r;
                                if (asprintf(&e->error, "Failed to extract archive: %m") < 0)
                                        e->error = NULL;
                        }
                        *ret_error = TAKE_PTR(e->error);
                }
                return r;
        }
        if (result)
                *result = res;
        return 0;
}
