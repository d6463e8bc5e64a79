/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nspawn-copy.h"
#include "nspawn-volumes.h"
#include "util.h"

/* The new mount API (open_tree, move_mount, fsopen) works on descriptors, so nothing is ever
 * mounted on a path that could have been swapped for a symlink in between. */
static int open_in_root(int rootfd, const char *path) {
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

/* Open (creating what is missing: directories, or an empty file as the last component of a file
 * bind mount) the target path inside the root. */
static int open_target(int rootfd, const char *target, bool directory) {
        _cleanup_free_ char *path = strdup(target);
        if (!path)
                return -ENOMEM;
        size_t len = strlen(path);

        for (char *slash = path; slash;) {
                slash = strchr(slash + 1, '/');
                bool last = !slash;
                if (slash)
                        *slash = 0;
                for (int attempt = 0;; attempt++) {
                        int fd = open_in_root(rootfd, path);
                        if (fd >= 0) {
                                if (last)
                                        return fd;
                                safe_close(fd);
                                break;
                        }
                        if (fd != -ENOENT || attempt > 0)
                                return fd;
                        /* Create the missing component in its (already resolved) parent. */
                        char *base = strrchr(path, '/');
                        *base = 0;
                        _cleanup_close_ int parent = open_in_root(rootfd, base == path ? "/" : path);
                        *base = '/';
                        if (parent < 0)
                                return parent;
                        if (last && !directory) {
                                /* The directory keeps its times: the empty file is only a mount point, and
                                 * docker diff shows no change of /etc for /etc/hosts. */
                                struct stat pst;
                                bool keep = fstat(parent, &pst) >= 0;
                                int f = openat(parent, base + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                               0644);
                                if (f < 0 && errno != EEXIST)
                                        return -errno;
                                safe_close(f);
                                _cleanup_close_ int dir = keep ? openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                                               : -1;
                                if (dir >= 0)
                                        (void) futimens(dir, (const struct timespec[2]){ pst.st_atim, pst.st_mtim });
                        } else if (mkdirat(parent, base + 1, 0755) < 0 && errno != EEXIST)
                                return -errno;
                }
                if (slash)
                        *slash = '/';
        }
        (void) len;
        return -EINVAL;
}

static int bind_mount(const SpecMount *m, int rootfd) {
        struct stat st;
        _cleanup_close_ int src = m->source_fd >= 0 ? m->source_fd : open(m->source, O_PATH | O_CLOEXEC);
        if (src < 0 || fstat(src, &st) < 0)
                return -errno;
        _cleanup_close_ int tgt = open_target(rootfd, m->target, S_ISDIR(st.st_mode));
        if (tgt < 0)
                return tgt;
        if (m->copy_up && S_ISDIR(st.st_mode)) {
                /* The image's content only: the path resolved without leaving the root file system's
                 * mount (not into /proc, /sys, /dev or another volume, whatever the image's VOLUME or
                 * symlinks say); a path that does leave it has nothing to copy. */
                struct open_how how = {
                        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
                };
                _cleanup_close_ int from = (int) syscall(SYS_openat2, rootfd, m->target, &how, sizeof(how));
                int empty = from >= 0 ? dir_is_empty_at(src) : 0;
                if (empty < 0)
                        return empty;
                if (empty) {
                        int r = copy_tree_contents(from, src);
                        if (r < 0) {
                                /* All or nothing: a half-filled volume would never be filled again. */
                                (void) empty_directory(src);
                                return r;
                        }
                }
        }
        _cleanup_close_ int tree = (int) syscall(SYS_open_tree, src, "",
                                                 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (tree < 0)
                return -errno;
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (m->read_only ? MOUNT_ATTR_RDONLY : 0),
        };
        if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return -errno;
        if (syscall(SYS_move_mount, tree, "", tgt, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

static int tmpfs_mount(const SpecMount *m, int rootfd) {
        _cleanup_close_ int tgt = open_target(rootfd, m->target, true);
        if (tgt < 0)
                return tgt;
        _cleanup_close_ int fs = (int) syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        bool has_mode = false;
        _cleanup_free_ char *options = strdup(m->source);
        if (!options)
                return -ENOMEM;
        char *save = NULL;
        for (char *o = strtok_r(options, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(o, '=');
                if (!eq)
                        return -EINVAL;
                *eq = 0;
                has_mode = has_mode || streq(o, "mode");
                if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, o, eq + 1, 0) < 0)
                        return -errno;
        }
        if (!has_mode && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "1777", 0) < 0)
                return -errno;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        _cleanup_close_ int mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                                                MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                        (m->read_only ? MOUNT_ATTR_RDONLY : 0));
        if (mnt < 0)
                return -errno;
        if (syscall(SYS_move_mount, mnt, "", tgt, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

/* A local volume's own file system (type/device/o): the options go to fsconfig; the generic
 * mount flags among them become mount attributes. */
static int fs_mount(const SpecMount *m, int rootfd) {
        static const struct {
                const char *name;
                uint64_t attr;
        } attrs[] = {
                { "nosuid", MOUNT_ATTR_NOSUID },   { "nodev", MOUNT_ATTR_NODEV },       { "noexec", MOUNT_ATTR_NOEXEC },
                { "noatime", MOUNT_ATTR_NOATIME }, { "relatime", MOUNT_ATTR_RELATIME }, { "ro", MOUNT_ATTR_RDONLY },
        };
        uint64_t attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (m->read_only ? MOUNT_ATTR_RDONLY : 0);
        _cleanup_close_ int tgt = open_target(rootfd, m->target, true);
        if (tgt < 0)
                return tgt;
        _cleanup_close_ int fs = (int) syscall(SYS_fsopen, m->fstype, FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        if (!isempty(m->source) && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", m->source, 0) < 0)
                return -errno;
        _cleanup_free_ char *options = strdup(m->fsoptions ?: "");
        if (!options)
                return -ENOMEM;
        char *save = NULL;
        for (char *o = strtok_r(options, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                bool is_attr = false;
                for (size_t i = 0; i < ELEMENTSOF(attrs); i++)
                        if (streq(o, attrs[i].name)) {
                                attr |= attrs[i].attr;
                                is_attr = true;
                        }
                if (is_attr || streq(o, "rw") || streq(o, "defaults"))
                        continue;
                char *eq = strchr(o, '=');
                if (eq)
                        *eq = 0;
                if (syscall(SYS_fsconfig, fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, o, eq ? eq + 1 : NULL, 0) <
                    0)
                        return -errno;
        }
        if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        _cleanup_close_ int mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attr);
        if (mnt < 0)
                return -errno;
        if (syscall(SYS_move_mount, mnt, "", tgt, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

int setup_user_mounts(const ContainerSpec *spec, char *message, size_t size) {
        if (spec->n_mounts == 0)
                return 0;
        _cleanup_close_ int rootfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return -errno;
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const SpecMount *m = &spec->mounts[i];
                int r = m->fstype ? fs_mount(m, rootfd) : m->tmpfs ? tmpfs_mount(m, rootfd) : bind_mount(m, rootfd);
                if (r < 0) {
                        snprintf(message, size, "Failed to mount %s on %s: %s",
                                 m->fstype          ? m->fstype
                                         : m->tmpfs ? "tmpfs"
                                                    : m->source,
                                 m->target, strerror(-r));
                        return r;
                }
        }
        return 0;
}
