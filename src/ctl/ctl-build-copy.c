/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl build: COPY and ADD. The sources are found in the context (or a stage's files) through
 * openat2(RESOLVE_IN_ROOT), so neither ".." nor a symlink leads out of it, checked against
 * .dockerignore, and written as a tar stream by the checked tar code for Container.CopyTo. */
#include <dirent.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctl-build.h"
#include "ctl-log.h"
#include "util.h"

void copy_plan_done(CopyPlan *p) {
        p->fd = safe_close(p->fd);
        p->fallback_fd = safe_close(p->fallback_fd);
        p->path = mfree(p->path);
        p->fallback_as = mfree(p->fallback_as);
}

static int open_in_root(int root_fd, const char *path, int flags, bool follow) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (follow ? 0 : RESOLVE_NO_SYMLINKS),
        };
        int fd = (int) syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

static int fail(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int fail(char **ret_error, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return -EINVAL;
}

/* A source as Docker cleans it: relative to the root, "" for the root; -EPERM when it leaves it. */
static int clean_source(const char *src, char **ret) {
        _cleanup_strv_free_ char **parts = NULL;
        size_t n = 0;
        for (const char *p = src; *p;) {
                size_t k = strcspn(p, "/");
                if (k == 2 && p[0] == '.' && p[1] == '.') {
                        if (n == 0)
                                return -EPERM;
                        free(parts[--n]);
                        parts[n] = NULL;
                } else if (k > 0 && !(k == 1 && p[0] == '.')) {
                        _cleanup_free_ char *c = strndup(p, k);
                        if (!c || strv_push_counted(&parts, &n, c) < 0)
                                return -ENOMEM;
                }
                p += k;
                p += strspn(p, "/");
        }
        *ret = n == 0 ? strdup("") : strv_join(parts, "/");
        return *ret ? 0 : -ENOMEM;
}

static bool has_glob(const char *s) {
        return strpbrk(s, "*?[") != NULL;
}

static char *path_join(const char *a, const char *b) {
        return isempty(a) ? strdup(b) : isempty(b) ? strdup(a) : strjoin(a, "/", b);
}

/* The paths below dir (relative to the root) that match the components in pattern. */
static int glob_in_root(int root_fd, const char *dir, const char *pattern, char ***matches) {
        size_t k = strcspn(pattern, "/");
        _cleanup_free_ char *comp = strndup(pattern, k);
        const char *rest = pattern[k] ? pattern + k + 1 : NULL;
        if (!comp)
                return -ENOMEM;
        if (!has_glob(comp)) {
                _cleanup_free_ char *p = path_join(dir, comp);
                if (!p)
                        return -ENOMEM;
                if (!rest) {
                        _cleanup_close_ int fd = open_in_root(root_fd, p, O_PATH, false);
                        return fd < 0 ? 0 : strv_push(matches, p);
                }
                return glob_in_root(root_fd, p, rest, matches);
        }
        _cleanup_close_ int dfd = open_in_root(root_fd, dir, O_RDONLY | O_DIRECTORY, true);
        if (dfd < 0)
                return 0;
        struct dirent **names = NULL;
        int n = scandirat(dfd, ".", &names, NULL, alphasort), r = 0;
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                if (r >= 0 && !streq(name, ".") && !streq(name, "..") && fnmatch(comp, name, 0) == 0) {
                        _cleanup_free_ char *p = path_join(dir, name);
                        if (!p)
                                r = -ENOMEM;
                        else
                                r = rest ? glob_in_root(root_fd, p, rest, matches) : strv_push(matches, p);
                }
                free(names[i]);
        }
        free(names);
        return r;
}

/* Where a source really is: symlinks followed inside the root. Its parent and name. */
static int resolve_source(int root_fd, const char *rel, int *ret_parent, char **ret_name, struct stat *st) {
        _cleanup_close_ int fd = open_in_root(root_fd, rel, O_PATH, true);
        char proc[64], target[PATH_MAX], root[PATH_MAX];
        ssize_t n, m;

        if (fd < 0)
                return fd;
        if (fstat(fd, st) < 0)
                return -errno;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, target, sizeof(target) - 1);
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", root_fd);
        m = readlink(proc, root, sizeof(root) - 1);
        if (n < 0 || m < 0)
                return -errno;
        target[n] = root[m] = 0;
        const char *inside = streq(root, "/") ? target : startswith(target, root);
        if (!inside || (*inside && *inside != '/'))
                return -EPERM;
        inside += strspn(inside, "/");
        if (!*inside) {
                *ret_parent = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
                *ret_name = strdup(".");
        } else {
                const char *slash = strrchr(inside, '/');
                _cleanup_free_ char *parent = slash ? strndup(inside, (size_t) (slash - inside)) : strdup("");
                if (!parent)
                        return -ENOMEM;
                *ret_parent = open_in_root(root_fd, parent, O_PATH | O_DIRECTORY, false);
                *ret_name = strdup(slash ? slash + 1 : inside);
        }
        if (*ret_parent < 0 || !*ret_name) {
                int r = *ret_parent < 0 ? *ret_parent : -ENOMEM;
                *ret_parent = safe_close(*ret_parent);
                *ret_name = mfree(*ret_name);
                return r;
        }
        return 0;
}

/* Everything below dir_fd (ctx: its path in the context, for .dockerignore) as "as/...". */
static int add_tree(Build *b, TarWriter *w, int dir_fd, const char *ctx, const char *as, const DockerIgnore *ignore) {
        struct dirent **names = NULL;
        int n = scandirat(dir_fd, ".", &names, NULL, alphasort), r = 0;
        if (n < 0)
                return -errno;
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                _cleanup_free_ char *c = NULL, *a = NULL;
                struct stat st;
                if (r < 0 || streq(name, ".") || streq(name, ".."))
                        goto next;
                c = path_join(ctx, name);
                a = path_join(as, name);
                if (!c || !a) {
                        r = -ENOMEM;
                        goto next;
                }
                if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        goto next;
                }
                bool excluded = ignore && dockerignore_excludes(ignore, c);
                if (excluded && !(S_ISDIR(st.st_mode) && dockerignore_has_exceptions(ignore)))
                        goto next;
                if (!excluded)
                        r = b->tar->writer_add(w, dir_fd, name, a, false);
                if (r >= 0 && S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = sub < 0 ? -errno : add_tree(b, w, sub, c, a, ignore);
                }
        next:
                free(names[i]);
        }
        free(names);
        return r;
}

/* Whether the bytes start a tar archive, plain or compressed. */
bool ctl_build_looks_like_archive(int fd) {
        unsigned char h[512];
        ssize_t n = pread(fd, h, sizeof(h), 0);
        if (n < 6)
                return false;
        return (h[0] == 0x1f && h[1] == 0x8b) || memcmp(h, "BZh", 3) == 0 ||
                memcmp(h,
                       "\xfd"
                       "7zXZ",
                       5) == 0 ||
                memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0 || (n == 512 && memcmp(h + 257, "ustar", 5) == 0);
}

static bool is_archive(int parent_fd, const char *name) {
        _cleanup_close_ int fd = openat(parent_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        return fd >= 0 && ctl_build_looks_like_archive(fd);
}

static int finish_stream(Build *b, TarWriter *w, int fd) {
        int r = b->tar->writer_finish(w);
        if (r < 0)
                return r;
        return lseek(fd, 0, SEEK_SET) < 0 ? -errno : 0;
}

/* The stream's bytes, the destination and the flags, hashed: the step's content digest. */
static int digest_fd(Build *b, int fd, const char *dest, const CopyOwner *owner, bool raw,
                     char ret[SHA256_HEX_LEN + 1]) {
        _cleanup_free_ char *extra = NULL;
        int r;
        /* The owners are in the stream already; the flags are part of the key all the same. */
        if (asprintf(&extra, "%s:%d:%u:%u:%d", dest, owner && owner->set, owner ? owner->uid : 0,
                     owner ? owner->gid : 0, owner ? owner->mode : -1) < 0)
                return -ENOMEM;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        if (!raw) {
                r = b->tar->content_digest(fd, extra, ret);
                return r < 0 ? r : lseek(fd, 0, SEEK_SET) < 0 ? -errno : 0;
        }
        /* An archive ADD unpacks: its bytes, whatever they are. */
        _cleanup_free_ char *data = NULL, *all = NULL;
        size_t len = 0, n = strlen(extra);
        r = read_full_fd(fd, &data, &len);
        if (r < 0)
                return r;
        all = malloc(len + n + 1);
        if (!all)
                return -ENOMEM;
        memcpy(all, data, len);
        memcpy(all + len, extra, n + 1);
        return b->tar->sha256_hex_of(all, len + n, ret);
}

/* --chown/--chmod: the stream in *fd again with the owner and mode replaced. */
static int apply_owner(Build *b, int *fd, const CopyOwner *owner, char **ret_error) {
        if (!owner || (!owner->set && owner->mode < 0))
                return 0;
        _cleanup_close_ int out = memfd_create("berthctl-build-chown", MFD_CLOEXEC);
        if (out < 0)
                return -errno;
        if (lseek(*fd, 0, SEEK_SET) < 0)
                return -errno;
        /* --chmod alone makes the owners root's, as Docker's COPY does. */
        int r = b->tar->rewrite_owner(*fd, out, owner->set ? owner->uid : 0, owner->set ? owner->gid : 0, owner->mode,
                                      ret_error);
        if (r < 0)
                return r;
        if (lseek(out, 0, SEEK_SET) < 0)
                return -errno;
        safe_close(*fd);
        *fd = TAKE_FD(out);
        return 0;
}

static int new_stream(Build *b, int *ret_fd, TarWriter **ret_w) {
        _cleanup_free_ char *error = NULL;
        int fd = memfd_create("berthctl-build-copy", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = b->tar->writer_new(fd, 0, ret_w, &error);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* The sources (cleaned, wildcards expanded), each checked to be in the context and not ignored. */
static int collect_sources(int root_fd, const DockerIgnore *ignore, char **sources, bool add, char ***ret,
                           char **ret_error) {
        _cleanup_strv_free_ char **matches = calloc(1, sizeof(char *));
        int r;

        if (!matches)
                return -ENOMEM;
        for (char **s = sources; *s; s++) {
                _cleanup_free_ char *rel = NULL;
                size_t before = strv_length(matches);
                if (add && (startswith(*s, "http://") || startswith(*s, "https://") || startswith(*s, "git@")))
                        return fail(ret_error,
                                    "ADD of a URL is not supported by berth: %s; download it with RUN "
                                    "or beforehand into the context.",
                                    *s);
                r = clean_source(*s, &rel);
                if (r == -EPERM)
                        return fail(ret_error, "forbidden path outside the build context: %s", *s);
                if (r < 0)
                        return r;
                if (has_glob(rel))
                        r = glob_in_root(root_fd, "", rel, &matches);
                else {
                        _cleanup_close_ int fd = open_in_root(root_fd, rel, O_PATH, true);
                        r = fd < 0 ? 0 : strv_push(&matches, rel);
                }
                if (r < 0)
                        return r;
                /* An ignored file is not in the context, as for Docker. */
                for (size_t k = strv_length(matches); k > before; k--)
                        if (*matches[k - 1] && ignore && dockerignore_excludes(ignore, matches[k - 1])) {
                                free(matches[k - 1]);
                                memmove(matches + k - 1, matches + k, (strv_length(matches + k) + 1) * sizeof(char *));
                        }
                if (strv_length(matches) == before)
                        return fail(ret_error,
                                    "file not found in build context or excluded by .dockerignore: stat %s: "
                                    "no such file or directory",
                                    *s);
        }
        *ret = TAKE_PTR(matches);
        return 0;
}

/* A stream of the one entry name of parent, called as. */
static int one_entry_stream(Build *b, int parent, const char *name, const char *as, int *ret_fd, char **ret_error) {
        TarWriter *w = NULL;
        int fd = -1;
        int r = new_stream(b, &fd, &w);
        if (r >= 0)
                r = b->tar->writer_add(w, parent, name, as, false);
        if (r >= 0)
                r = finish_stream(b, w, fd);
        if (r < 0 && w && !*ret_error)
                *ret_error = b->tar->writer_take_error(w);
        if (w)
                b->tar->writer_free(w);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* One file to a path not ending in "/": CopyTo(dest) puts it into dest when that is a directory in
 * the image, else makes it dest, as Docker; when dest's parent is missing, the fallback stream
 * names it by its whole path below "/" (and the extraction makes the parents). */
static int plan_file(Build *b, int parent, const char *name, const char *dest, const char *dest_rel,
                     const CopyOwner *owner, CopyPlan *p, char **ret_error) {
        int r;
        if ((r = one_entry_stream(b, parent, name, name, &p->fd, ret_error)) < 0 ||
            (r = one_entry_stream(b, parent, name, dest_rel, &p->fallback_fd, ret_error)) < 0)
                return r;
        p->path = strdup(dest);
        p->fallback_as = strdup(dest_rel);
        if (!p->path || !p->fallback_as)
                return -ENOMEM;
        if ((r = apply_owner(b, &p->fd, owner, ret_error)) < 0 ||
            (r = apply_owner(b, &p->fallback_fd, owner, ret_error)) < 0)
                return r;
        return digest_fd(b, p->fd, dest, owner, false, p->digest);
}

/* ADD of one local archive: CopyTo extracts it (with the checked tar code) into dest. */
static int plan_archive(Build *b, int parent, const char *name, const char *dest, CopyPlan *p) {
        p->fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (p->fd < 0)
                return -errno;
        p->archive = true;
        p->path = strdup(dest);
        if (!p->path)
                return -ENOMEM;
        return digest_fd(b, p->fd, dest, NULL, true, p->digest);
}

/* Into a directory: each source's contents (a directory) or itself, named relative to dest, for
 * CopyTo(dest) once dest exists: berthd resolves dest in the container's root, so a symlink on the
 * way (/bin -> usr/bin) is followed there, as Docker does, instead of refused in the stream. */
static int plan_tree(Build *b, int root_fd, const DockerIgnore *ignore, char **matches, const char *dest,
                     const CopyOwner *owner, CopyPlan *p, char **ret_error) {
        TarWriter *w = NULL;
        int r = new_stream(b, &p->fd, &w);
        if (r < 0)
                return r;
        for (char **m = matches; r >= 0 && *m; m++) {
                _cleanup_close_ int parent = -1, dir = -1;
                _cleanup_free_ char *name = NULL, *as = NULL;
                struct stat st;
                r = resolve_source(root_fd, *m, &parent, &name, &st);
                if (r == -EPERM)
                        r = fail(ret_error, "forbidden path outside the build context: %s", *m);
                if (r < 0)
                        break;
                if (S_ISDIR(st.st_mode)) {
                        dir = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = dir < 0 ? -errno : add_tree(b, w, dir, *m, "", ignore);
                } else {
                        const char *base = strrchr(*m, '/') ? strrchr(*m, '/') + 1 : *m;
                        r = b->tar->writer_add(w, parent, name, base, false);
                }
        }
        if (r >= 0)
                r = finish_stream(b, w, p->fd);
        if (r < 0 && w && !*ret_error)
                *ret_error = b->tar->writer_take_error(w);
        b->tar->writer_free(w);
        if (r < 0)
                return r;
        p->path = strdup(dest);
        p->make_dest = true;
        if (!p->path)
                return -ENOMEM;
        r = apply_owner(b, &p->fd, owner, ret_error);
        if (r < 0)
                return r;
        return digest_fd(b, p->fd, dest, owner, false, p->digest);
}

int build_copy_plan(Build *b, int root_fd, const DockerIgnore *ignore, char **sources, const char *dest, bool add,
                    const CopyOwner *owner, CopyPlan *ret, char **ret_error) {
        _cleanup_strv_free_ char **matches = NULL;
        _cleanup_free_ char *dest_rel = NULL;
        _cleanup_(copy_plan_done) CopyPlan p = { .fd = -1, .fallback_fd = -1 };
        int r;

        r = collect_sources(root_fd, ignore, sources, add, &matches, ret_error);
        if (r < 0)
                return r;
        bool several = strv_length(matches) > 1 || sources[1];
        if (several && !endswith(dest, "/"))
                return fail(ret_error,
                            "When using %s with more than one source file, the destination must be a "
                            "directory and end with a /",
                            add ? "ADD" : "COPY");
        r = clean_source(dest + 1, &dest_rel);
        if (r < 0)
                return r == -EPERM ? fail(ret_error, "invalid destination %s", dest) : r;

        if (!several) {
                _cleanup_close_ int parent = -1;
                _cleanup_free_ char *name = NULL;
                struct stat st;
                r = resolve_source(root_fd, matches[0], &parent, &name, &st);
                if (r < 0)
                        return r == -EPERM ? fail(ret_error, "forbidden path outside the build context: %s", matches[0])
                                           : r;
                if (add && S_ISREG(st.st_mode) && is_archive(parent, name))
                        r = plan_archive(b, parent, name, dest, &p);
                else if (!S_ISDIR(st.st_mode) && !endswith(dest, "/"))
                        r = plan_file(b, parent, name, dest, dest_rel, owner, &p, ret_error);
                else
                        r = plan_tree(b, root_fd, ignore, matches, dest, owner, &p, ret_error);
        } else
                r = plan_tree(b, root_fd, ignore, matches, dest, owner, &p, ret_error);
        if (r < 0)
                return r;
        *ret = p;
        p = (CopyPlan){ .fd = -1, .fallback_fd = -1 };
        return 0;
}

/* The id of name in an /etc/passwd or /etc/group text (its third field). */
static int lookup_id(const char *text, const char *name, unsigned *ret) {
        size_t n = strlen(name);
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, name, n) == 0 && l[n] == ':') {
                        const char *f = strchr(l + n + 1, ':');
                        char *end;
                        if (!f)
                                return -EINVAL;
                        unsigned long v = strtoul(f + 1, &end, 10);
                        if (end == f + 1 || *end != ':' || v >= UINT32_MAX)
                                return -EINVAL;
                        *ret = (unsigned) v;
                        return 0;
                }
        return -ENOENT;
}

static int parse_id(const char *s, const char *db, const char *what, unsigned *ret, char **ret_error) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (*s >= '0' && *s <= '9' && !*end && errno == 0 && v < UINT32_MAX) {
                *ret = (unsigned) v;
                return 0;
        }
        if (!db || lookup_id(db, s, ret) < 0)
                return fail(ret_error, "unable to find %s %s: no matching entries in the image's /etc/%s", what, s,
                            streq(what, "user") ? "passwd" : "group");
        return 0;
}

int build_parse_owner(const char *s, const char *passwd, const char *group, CopyOwner *owner, char **ret_error) {
        _cleanup_free_ char *user = strndup(s, strcspn(s, ":"));
        const char *g = strchr(s, ':');
        if (!user)
                return -ENOMEM;
        if (!*user || (g && !g[1]))
                return fail(ret_error, "invalid --chown \"%s\": expected USER[:GROUP]", s);
        int r = parse_id(user, passwd, "user", &owner->uid, ret_error);
        if (r < 0)
                return r;
        owner->gid = owner->uid;
        if (g && (r = parse_id(g + 1, group, "group", &owner->gid, ret_error)) < 0)
                return r;
        owner->set = true;
        return 0;
}
