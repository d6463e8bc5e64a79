/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The overlay storage driver: a layer's "diff" holds its own changes, overlay whiteouts included;
 * a container is an upper and a work directory over its image's layers (mounted by the helper,
 * or by a worker for cp and export). Lower directories are named by short links (l/<26
 * characters>, relative to the driver's directory) so that even a 100-layer image fits the one page
 * the kernel takes of mount options.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "helper-protocol.h"
#include "json-util.h"
#include "storage.h"
#include "util.h"
#include "tar-write.h"

/* RFC 4648 base32 of the first 130 bits of the key's digest: a short name for l/. */
int overlay_short_link(const char *key, char ret[29]) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        unsigned char bytes[17];

        if (strlen(key) < 2 * sizeof(bytes))
                return -EINVAL;
        for (size_t k = 0; k < sizeof(bytes); k++)
                if (sscanf(key + 2 * k, "%2hhx", &bytes[k]) != 1)
                        return -EINVAL;
        memcpy(ret, "l/", 2);
        for (size_t k = 0; k < 26; k++) {
                size_t bit = k * 5;
                unsigned v = ((unsigned) bytes[bit / 8] << 8 | bytes[bit / 8 + 1]) >> (11 - bit % 8);
                ret[2 + k] = alphabet[v & 31];
        }
        ret[28] = 0;
        return 0;
}

/* The layer directories without repeats, keeping the topmost (first) of each: overlayfs refuses a
 * lower directory twice (ELOOP), which an image has when two of its layers have the same diff id
 * (a build's steps that change only the config each commit the same empty layer). The upper of two
 * equal layers covers everything the lower one could show, so the view is the same. */
static char **unique_diffs(char **diffs) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        for (char **d = diffs; l && d && *d; d++)
                if (!strv_contains(l, *d) && strv_push(&l, *d) < 0)
                        return NULL;
        return TAKE_PTR(l);
}

static int overlay_lower_option(char **all_diffs, char **ret) {
        _cleanup_strv_free_ char **diffs = unique_diffs(all_diffs);
        if (!diffs)
                return -ENOMEM;
        size_t n = strv_length(diffs);
        _cleanup_free_ char *s = malloc(n * 29 + 1);
        if (!s)
                return -ENOMEM;
        s[0] = 0;
        for (size_t k = 0; k < n; k++) {
                /* ".../<key>/diff" */
                _cleanup_free_ char *dir = strdup(diffs[k]);
                char link[29], *slash;
                if (!dir)
                        return -ENOMEM;
                if (!(slash = strrchr(dir, '/')))
                        return -EINVAL;
                *slash = 0;
                slash = strrchr(dir, '/');
                int r = overlay_short_link(slash ? slash + 1 : dir, link);
                if (r < 0)
                        return r;
                if (k > 0)
                        strcat(s, ":");
                strcat(s, link);
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int overlay_layer_create(const char *parent_diff, const char *dir) {
        _cleanup_free_ char *diff = NULL;
        if (asprintf(&diff, "%s/diff", dir) < 0)
                return -ENOMEM;
        return mkdir(diff, 0755) < 0 ? -errno : 0;
}

static int overlay_layer_remove(const char *dir) {
        return rm_rf(dir); /* its short link: storage_layer_remove(), or dropped at startup */
}

static int overlay_layer_write(char **diffs, size_t k, int output_fd, char **ret_error) {
        _cleanup_close_ int fd = open(diffs[k], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return tar_write_tree(fd, output_fd, ret_error);
}

static int overlay_container_create(char **diffs, const char *cdir) {
        static const char *const subdirs[] = { "upper", "work", "rootfs" };
        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", cdir, subdirs[i]) < 0)
                        return -ENOMEM;
                if (mkdir(p, 0755) < 0)
                        return -errno;
        }
        return 0;
}

static int overlay_container_remove(const char *cdir) {
        return rm_rf(cdir);
}

static int overlay_container_write_diff(char **diffs, const char *cdir, int output_fd, char **ret_error) {
        _cleanup_free_ char *upper = NULL;
        if (asprintf(&upper, "%s/upper", cdir) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return tar_write_upper(fd, output_fd, ret_error);
}

static int overlay_container_size(char **diffs, const char *cdir, uint64_t *ret) {
        _cleanup_free_ char *upper = NULL;
        if (asprintf(&upper, "%s/upper", cdir) < 0)
                return -ENOMEM;
        *ret = dir_apparent_size(upper);
        return 0;
}

/* ---- changes (diff): the upper directory read against the layers ---- */

typedef struct ChangeWalk {
        char **lowers; /* top first */
        TreeChange *changes;
        size_t n_changes;
} ChangeWalk;

static bool is_whiteout(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(const char *path) {
        char value[2] = {};
        return lgetxattr(path, "trusted.overlay.opaque", value, 1) == 1 && value[0] == 'y';
}

static bool fd_is_opaque(int fd) {
        char value[2] = {};
        return fd >= 0 && fgetxattr(fd, "trusted.overlay.opaque", value, 1) == 1 && value[0] == 'y';
}

/* Whether rel ("a/b") exists in the image's merged layers; *ret gets its stat. Ancestors are checked
 * top-down before anything below them is looked at, so a symlink in a layer is never followed. */
static int lower_lookup(char **lowers, const char *rel, struct stat *ret) {
        for (char **l = lowers; *l; l++) {
                _cleanup_free_ char *p = NULL;
                bool hidden_below = false;
                if (asprintf(&p, "%s/%s", *l, rel) < 0)
                        return -ENOMEM;
                size_t base = strlen(*l) + 1;
                for (char *s = strchr(p + base, '/'); s; s = strchr(s + 1, '/')) {
                        struct stat st;
                        *s = 0;
                        int k = lstat(p, &st);
                        bool opaque = k == 0 && S_ISDIR(st.st_mode) && is_opaque(p);
                        *s = '/';
                        if (k < 0)
                                goto next_layer; /* not in this layer, maybe in a lower one */
                        if (!S_ISDIR(st.st_mode))
                                return 0; /* a whiteout or a file hides everything below */
                        hidden_below = hidden_below || opaque;
                }
                if (lstat(p, ret) == 0)
                        return !is_whiteout(ret);
                if (hidden_below)
                        return 0;
        next_layer:;
        }
        return 0;
}

static int add_change(ChangeWalk *w, char kind, const char *path) {
        TreeChange *c = reallocarray(w->changes, w->n_changes + 1, sizeof(TreeChange));
        if (!c)
                return -ENOMEM;
        w->changes = c;
        c[w->n_changes] = (TreeChange){ .kind = kind, .path = strdup(path) };
        if (!c[w->n_changes].path)
                return -ENOMEM;
        w->n_changes++;
        return 0;
}

static bool name_in(char **names, size_t n, const char *name) {
        for (size_t k = 0; k < n; k++)
                if (streq(names[k], name))
                        return true;
        return false;
}

static void names_free(char **names, size_t n) {
        for (size_t k = 0; k < n; k++)
                free(names[k]);
        free(names);
}

/* The names in a directory; dir_fd is borrowed. */
static int list_dir_fd(int dir_fd, char ***ret, size_t *ret_n) {
        int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        char **names = NULL;
        size_t n = 0;

        if (!d) {
                safe_close(fd);
                return -errno;
        }
        rewinddir(d);
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                char **p = reallocarray(names, n + 1, sizeof(char *));
                if (!p || !(p[n] = strdup(de->d_name))) {
                        names_free(p ?: names, n);
                        closedir(d);
                        return -ENOMEM;
                }
                names = p;
                n++;
        }
        closedir(d);
        *ret = names;
        *ret_n = n;
        return 0;
}

/* A directory of a layer (berth's own store: its paths can be trusted). */
static int list_dir(const char *path, char ***ret, size_t *ret_n) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return list_dir_fd(fd, ret, ret_n);
}

/* An opaque upper directory hides the lower one's entries: each one not recreated is deleted. */
static int add_hidden_lower_entries(ChangeWalk *w, const char *rel, const char *path, char **upper, size_t n_upper) {
        char **seen = NULL;
        size_t n_seen = 0;
        int r = 0;

        for (char **l = w->lowers; r >= 0 && *l; l++) {
                _cleanup_free_ char *dir = NULL;
                char **names;
                size_t n;
                struct stat st;
                if (asprintf(&dir, "%s/%s", *l, rel) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (lstat(dir, &st) < 0)
                        continue;
                if (!S_ISDIR(st.st_mode) || list_dir(dir, &names, &n) < 0)
                        break;
                for (size_t k = 0; r >= 0 && k < n; k++) {
                        _cleanup_free_ char *child = NULL, *entry = NULL;
                        if (name_in(seen, n_seen, names[k]) || name_in(upper, n_upper, names[k]))
                                continue;
                        char **p = reallocarray(seen, n_seen + 1, sizeof(char *));
                        if (!p || !(p[n_seen] = strdup(names[k]))) {
                                seen = p ?: seen;
                                r = -ENOMEM;
                                break;
                        }
                        seen = p;
                        n_seen++;
                        if (asprintf(&entry, "%s/%s", dir, names[k]) < 0 ||
                            asprintf(&child, "%s/%s", path, names[k]) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        if (lstat(entry, &st) == 0 && !is_whiteout(&st))
                                r = add_change(w, 'D', child);
                }
                bool opaque = is_opaque(dir);
                names_free(names, n);
                if (opaque)
                        break;
        }
        names_free(seen, n_seen);
        return r;
}

/* Docker's overlay algorithm (moby's archive.changes()): a whiteout is a deletion; an entry the
 * lower layers do not have is added, one they have is changed, except a directory whose mode, size
 * and mtime are unchanged (copied up only as the parent of a change). An opaque directory hides the
 * lower one's entries, which are deleted unless recreated. 'path' is "/a/b", rel "a/b".
 * The upper directory is the container's to change while we read it (when it runs): it is walked
 * by descriptors opened with O_NOFOLLOW, so a directory swapped for a symlink is never followed. */
static int walk_upper(ChangeWalk *w, int dir_fd, const char *rel, const char *path) {
        char **names = NULL;
        size_t n = 0;
        int r;

        r = list_dir_fd(dir_fd, &names, &n);
        if (r < 0)
                return r;
        if (*rel && fd_is_opaque(dir_fd)) {
                struct stat st;
                r = lower_lookup(w->lowers, rel, &st);
                if (r > 0 && S_ISDIR(st.st_mode))
                        r = add_hidden_lower_entries(w, rel, path, names, n);
        }
        for (size_t k = 0; r >= 0 && k < n; k++) {
                _cleanup_free_ char *crel = NULL, *cpath = NULL;
                _cleanup_close_ int sub = -1;
                struct stat st, lower;
                char kind;
                if (asprintf(&crel, "%s%s%s", rel, *rel ? "/" : "", names[k]) < 0 ||
                    asprintf(&cpath, "%s/%s", path, names[k]) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (strlen(cpath) >= PATH_MAX) { /* also bounds the recursion (each level adds 2 bytes) */
                        r = -ENAMETOOLONG;
                        break;
                }
                if (fstatat(dir_fd, names[k], &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue; /* removed meanwhile */
                        r = -errno;
                        break;
                }
                if (S_ISDIR(st.st_mode)) {
                        sub = openat(dir_fd, names[k], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                continue; /* replaced meanwhile */
                }
                if (tree_entry_is_mount_placeholder(crel, &st))
                        continue;
                if (is_whiteout(&st))
                        kind = 'D';
                else {
                        r = lower_lookup(w->lowers, crel, &lower);
                        if (r < 0)
                                break;
                        kind = r > 0 ? 'C' : 'A';
                        if (r > 0 && S_ISDIR(st.st_mode) && S_ISDIR(lower.st_mode) && st.st_mode == lower.st_mode &&
                            st.st_size == lower.st_size && st.st_mtim.tv_sec == lower.st_mtim.tv_sec &&
                            st.st_mtim.tv_nsec == lower.st_mtim.tv_nsec && !fd_is_opaque(sub))
                                kind = 0; /* unchanged itself */
                }
                r = kind ? add_change(w, kind, cpath) : 0;
                size_t before = w->n_changes;
                if (r >= 0 && sub >= 0)
                        r = walk_upper(w, sub, crel, cpath);
                /* A directory above a change is shown as changed (as docker diff shows them). */
                if (r >= 0 && kind == 0 && w->n_changes > before)
                        r = add_change(w, 'C', cpath);
        }
        names_free(names, n);
        return r;
}

/* By path; of the same path, A before C (an added directory stays added). */
static int compare_changes(const void *a, const void *b) {
        const TreeChange *x = a, *y = b;
        int c = strcmp(x->path, y->path);
        return c != 0 ? c : x->kind - y->kind;
}

static int overlay_container_changes(char **diffs, const char *cdir, TreeChange **ret, size_t *ret_n) {
        _cleanup_free_ char *upper = NULL;
        ChangeWalk w = { .lowers = diffs };
        size_t n = 0;
        int r;

        if (asprintf(&upper, "%s/upper", cdir) < 0)
                return -ENOMEM;
        _cleanup_close_ int upper_fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = upper_fd < 0 ? -errno : walk_upper(&w, upper_fd, "", "");
        if (r < 0) {
                tree_changes_free(w.changes, w.n_changes);
                return r;
        }
        if (w.n_changes > 0)
                qsort(w.changes, w.n_changes, sizeof(TreeChange), compare_changes);
        /* Paths relative, each once: a directory both changed (or added) and the parent of a change
         * keeps its first (sorted: A before C) kind. */
        for (size_t k = 0; k < w.n_changes; k++) {
                if (n > 0 && streq(w.changes[k].path + 1, w.changes[n - 1].path)) {
                        free(w.changes[k].path);
                        continue;
                }
                memmove(w.changes[k].path, w.changes[k].path + 1, strlen(w.changes[k].path));
                w.changes[n++] = w.changes[k];
        }
        *ret = w.changes;
        *ret_n = n;
        return 0;
}

/* Where key's short link is (in store), and what it must point to. */
static int short_link(const char *store, const char *key, char **ret_path, char **ret_target) {
        char link[29];
        int r = overlay_short_link(key, link);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = NULL, *target = NULL;
        if (asprintf(&path, "%s/%s", store, link) < 0 || asprintf(&target, "../%s/diff", key) < 0)
                return -ENOMEM;
        *ret_path = TAKE_PTR(path);
        *ret_target = TAKE_PTR(target);
        return 0;
}

static bool link_points_to(const char *path, const char *target) {
        char buf[PATH_MAX];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return false;
        buf[n] = 0;
        return streq(buf, target);
}

static int overlay_store_setup(const char *store) {
        _cleanup_free_ char *links = NULL;
        if (asprintf(&links, "%s/l", store) < 0)
                return -ENOMEM;
        return mkdir_p(links, 0700);
}

static int overlay_layer_stored(const char *store, const char *key) {
        _cleanup_free_ char *path = NULL, *target = NULL;
        int r = short_link(store, key, &path, &target);
        if (r < 0)
                return r;
        if (symlink(target, path) == 0)
                return 0;
        if (errno != EEXIST)
                return -errno;
        /* Another layer's link of the same short name: 130 bits make that a crafted collision. */
        return link_points_to(path, target) ? 0 : -EEXIST;
}

static void overlay_layer_forget(const char *store, const char *key) {
        _cleanup_free_ char *path = NULL, *target = NULL;
        if (short_link(store, key, &path, &target) >= 0 && link_points_to(path, target))
                (void) unlink(path); /* only its own link */
}

/* Short links whose layer is gone. */
static void overlay_gc(const char *store) {
        _cleanup_free_ char *links = NULL;
        DIR *d = asprintf(&links, "%s/l", store) >= 0 ? opendir(links) : NULL;
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                if (de->d_name[0] == '.')
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 && errno == ENOENT)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        }
        closedir(d);
}

static int overlay_container_spec(const char *store, char **all_diffs, const char *cdir, json_object *o) {
        _cleanup_free_ char *lower = NULL, *upper = NULL, *work = NULL;
        _cleanup_strv_free_ char **diffs = unique_diffs(all_diffs);
        if (!diffs || asprintf(&upper, "%s/upper", cdir) < 0 || asprintf(&work, "%s/work", cdir) < 0)
                return -ENOMEM;
        int r = overlay_lower_option(diffs, &lower);
        if (r < 0)
                return r;
        json_object_object_add(o, SPEC_KEY_LOWERDIRS, json_strv_new(diffs));
        json_object_object_add(o, SPEC_KEY_LOWERDIR, json_object_new_string(lower));
        json_object_object_add(o, SPEC_KEY_STOREDIR, json_object_new_string(store));
        json_object_object_add(o, SPEC_KEY_UPPERDIR, json_object_new_string(upper));
        json_object_object_add(o, SPEC_KEY_WORKDIR, json_object_new_string(work));
        return 0;
}

const StorageDriver storage_overlay = {
        .name = "overlay",
        .layers_are_snapshots = false,
        .apply_flags = 0,
        .layer_create = overlay_layer_create,
        .layer_remove = overlay_layer_remove,
        .layer_write = overlay_layer_write,
        .container_create = overlay_container_create,
        .container_remove = overlay_container_remove,
        .container_changes = overlay_container_changes,
        .container_write_diff = overlay_container_write_diff,
        .container_size = overlay_container_size,
        .store_setup = overlay_store_setup,
        .layer_stored = overlay_layer_stored,
        .layer_forget = overlay_layer_forget,
        .gc = overlay_gc,
        .container_spec = overlay_container_spec,
        .lower_option = overlay_lower_option,
};
