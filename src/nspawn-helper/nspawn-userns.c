/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --userns=auto: the container gets a user namespace of its own, with its ids 0..65535 mapped to a
 * range of host ids that berthd allocated. Image layers stay as they are on disk (root-owned,
 * shared by every container): the helper, which has host privilege, mounts each layer and the
 * container's upper/work directories idmapped into the container's user namespace and builds the
 * overlay from those mounts. The child, already inside the user namespace, only attaches it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/capability.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include "nspawn-copy.h"
#include "nspawn-userns.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(cap_t, cap_free);

static int write_map(pid_t pid, const char *file, uint32_t base) {
        char path[64], map[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
        int n = snprintf(map, sizeof(map), "0 %u %u\n", base, USERNS_RANGE);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* The kernel takes the whole map in one write() or refuses it. */
        if (write(fd, map, (size_t) n) != n)
                return -errno;
        return 0;
}

int userns_write_maps(pid_t pid, uint32_t base) {
        int r = write_map(pid, "uid_map", base);
        return r < 0 ? r : write_map(pid, "gid_map", base);
}

/* Mount an idmapped copy of the mount at 'path' over it (in our private mount namespace). */
static int idmap_in_place(const char *path, int userns_fd) {
        _cleanup_close_ int tree = (int) syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree < 0)
                return -errno;
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_IDMAP,
                .userns_fd = (uint64_t) userns_fd,
        };
        if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                return -errno;
        if (syscall(SYS_move_mount, tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

/* overlayfs explains a refusal in the file system context's log: keep its last line. */
static void read_fs_log(int fs, char *message, size_t size) {
        char buf[512];
        ssize_t n;
        while ((n = read(fs, buf, sizeof(buf) - 1)) > 0) {
                buf[n] = 0;
                buf[strcspn(buf, "\n")] = 0;
                snprintf(message, size, "%s", buf);
        }
}

/* overlayfs does its own work (work/work, whiteouts, copy-up) with the credentials of whoever
 * created it, through the idmapped mounts, where host uid 0 has no mapping (EOVERFLOW). So we
 * create it as the container root's host uid, with our capabilities raised again (the fsuid
 * change drops the file system ones): the overlay still reads the trusted.overlay.* xattrs of the
 * layers (opaque directories), which needs CAP_SYS_ADMIN of the host. */
static int become_fs_owner(uint32_t base) {
        (void) setfsgid(base);
        (void) setfsuid(base);
        if ((uint32_t) setfsuid((uid_t) -1) != base || (uint32_t) setfsgid((gid_t) -1) != base)
                return -EPERM;
        _cleanup_(cap_freep) cap_t caps = cap_get_proc();
        if (!caps)
                return -errno;
        for (int c = 0; c <= CAP_LAST_CAP; c++) {
                cap_flag_value_t v = CAP_CLEAR;
                cap_value_t value = c;
                if (cap_get_flag(caps, c, CAP_PERMITTED, &v) < 0 || cap_set_flag(caps, CAP_EFFECTIVE, 1, &value, v) < 0)
                        return -errno;
        }
        return cap_set_proc(caps) < 0 ? -errno : 0;
}

/* fsconfig() takes at most 256 bytes of a value, 8 short links: one "lowerdir+" per layer (Linux 6.5
 * and later, in lowerdir's order, top first), or on older kernels the whole list at once. */
static int set_lower_dirs(int fs, const char *lowerdir) {
        _cleanup_free_ char *copy = strdup(lowerdir);
        if (!copy)
                return -ENOMEM;
        for (char *p = copy, *next; p; p = next) {
                next = strchr(p, ':');
                if (next)
                        *next++ = 0;
                if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", p, 0) < 0) {
                        if (p == copy && errno == EINVAL) /* not known to this kernel */
                                return syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", lowerdir, 0) < 0
                                        ? -errno
                                        : 0;
                        return -errno;
                }
        }
        return 0;
}

static int build_overlay(const ContainerSpec *spec, int userns, int *ret_mnt, char *message, size_t size) {
        int r;

        if (!spec->lowerdirs[0]) {
                /* btrfs: an idmapped clone of the container's own subvolume. */
                int tree = (int) syscall(SYS_open_tree, AT_FDCWD, spec->rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                if (tree < 0)
                        return snprintf(message, size, "clone the root file system"), -errno;
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns };
                if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
                        r = -errno;
                        safe_close(tree);
                        return snprintf(message, size, "make an idmapped mount of %s", spec->rootfs), r;
                }
                *ret_mnt = tree;
                return 0;
        }

        /* A mount namespace of this short-lived process only: the idmapped mounts go over the
         * layers' own paths here, and are gone with it (the overlay keeps private clones). */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return snprintf(message, size, "create a private mount namespace"), -errno;
        for (char **l = spec->lowerdirs; *l; l++)
                if ((r = idmap_in_place(*l, userns)) < 0)
                        return snprintf(message, size, "make an idmapped mount of %s", *l), r;
        /* overlayfs wants upper and work directory on one mount: idmap their common parent (berthd
         * keeps both in the container's state directory). */
        _cleanup_free_ char *parent = strdup(spec->upperdir);
        if (!parent)
                return -ENOMEM;
        char *slash = strrchr(parent, '/');
        if (!slash || slash == parent || strncmp(spec->workdir, parent, (size_t) (slash - parent + 1)) ||
            strchr(spec->workdir + (slash - parent + 1), '/'))
                return snprintf(message, size, "find the upper and work directories"), -EINVAL;
        *slash = 0;
        if ((r = idmap_in_place(parent, userns)) < 0)
                return snprintf(message, size, "make an idmapped mount of %s", parent), r;
        /* The short links (relative to the store) lead to the layer directories idmapped above. */
        if (chdir(spec->storedir) < 0)
                return snprintf(message, size, "enter the layer store"), -errno;
        if ((r = become_fs_owner(spec->userns_base)) < 0)
                return snprintf(message, size, "switch to the container root's file system ids"), r;
        _cleanup_close_ int fs = (int) syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return snprintf(message, size, "create an overlay file system"), -errno;
        if ((r = set_lower_dirs(fs, spec->lowerdir)) < 0) {
                snprintf(message, size, "give the overlay its %s", strchr(spec->lowerdir, ':') ? "layers" : "layer");
                read_fs_log(fs, message, size);
                return r;
        }
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", spec->upperdir, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", spec->workdir, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                r = -errno;
                snprintf(message, size, "create the overlay");
                read_fs_log(fs, message, size);
                return r;
        }
        int mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
        if (mnt < 0)
                return snprintf(message, size, "mount the overlay"), -errno;
        *ret_mnt = mnt;
        return 0;
}

/* In the worker: the overlay, attached at spec->rootfs in the child's mount namespace. The child
 * could not attach it itself: the overlay belongs to the host's user namespace. */
static int mount_rootfs(const ContainerSpec *spec, pid_t pid, char *message, size_t size) {
        char path[64];
        int r;

        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) pid);
        _cleanup_close_ int userns = open(path, O_RDONLY | O_CLOEXEC);
        if (userns < 0)
                return snprintf(message, size, "open the container's user namespace"), -errno;
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int) pid);
        _cleanup_close_ int mntns = open(path, O_RDONLY | O_CLOEXEC);
        if (mntns < 0)
                return snprintf(message, size, "open the container's mount namespace"), -errno;
        _cleanup_close_ int mnt = -1;
        r = build_overlay(spec, userns, &mnt, message, size);
        if (r < 0)
                return r;
        if (setns(mntns, CLONE_NEWNS) < 0)
                return snprintf(message, size, "join the container's mount namespace"), -errno;
        if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, spec->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return snprintf(message, size, "attach the root file system"), -errno;
        return 0;
}

int userns_mount_rootfs(const ContainerSpec *spec, pid_t pid, char *message, size_t size) {
        int pipefd[2];

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return snprintf(message, size, "create a pipe"), -errno;
        _cleanup_close_ int ours = pipefd[0], theirs = pipefd[1];
        /* A worker: its mount namespaces and credentials are thrown away with it. */
        pid_t worker = fork();
        if (worker < 0)
                return snprintf(message, size, "fork"), -errno;
        if (worker == 0) {
                /* Reports "<errno> <message>"; nothing at all is success. */
                int r = mount_rootfs(spec, pid, message, size);
                if (r < 0) {
                        char buf[600];
                        int n = snprintf(buf, sizeof(buf), "%d %s", -r, message);
                        (void) !write(theirs, buf, (size_t) n);
                }
                _exit(r < 0);
        }
        theirs = safe_close(theirs);
        _cleanup_free_ char *failure = NULL;
        int status = 0, error = EIO, consumed = 0;
        int r = read_full_fd(ours, &failure, NULL);
        (void) waitpid(worker, &status, 0);
        if (r >= 0 && isempty(failure) && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (r < 0 || !failure || sscanf(failure, "%d %n", &error, &consumed) < 1)
                return snprintf(message, size, "set up the root file system"), -EIO;
        snprintf(message, size, "%s", failure + consumed);
        return -(error ?: EIO);
}

int userns_chown_volumes(const ContainerSpec *spec) {
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const SpecMount *m = &spec->mounts[i];
                struct stat st;
                if (!m->copy_up) /* only volumes: a bind mount of the host's stays as it is */
                        continue;
                _cleanup_close_ int fd = open(m->source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || fstat(fd, &st) < 0)
                        return -errno;
                if (st.st_uid != 0 || st.st_gid != 0)
                        continue;
                int empty = dir_is_empty_at(fd);
                if (empty < 0)
                        return empty;
                if (empty && fchown(fd, spec->userns_base, spec->userns_base) < 0)
                        return -errno;
        }
        return 0;
}

int userns_become_root(void) {
        /* Supplementary groups of the helper (host ids, unmapped here) must not stay either. */
        if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return -errno;
        return 0;
}
