/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nspawn-mount.h"
#include "nspawn-volumes.h"
#include "util.h"

#define FAIL(what)                  \
        do {                        \
                *ret_what = (what); \
                return -errno;      \
        } while (0)

static int build_overlay_options(const ContainerSpec *spec, char **ret) {
        /* Short options matter: the kernel takes at most one page of mount options, hence the short
         * lower dir links, relative to the store directory (the caller's working directory). */
        if (asprintf(ret, "lowerdir=%s,upperdir=%s,workdir=%s", spec->lowerdir, spec->upperdir, spec->workdir) < 0)
                return -ENOMEM;
        return 0;
}

/* mkdir inside the new root (relative to it, so "/proc" of the image is used, not the host's). */
static int ensure_dir(const char *path, mode_t mode) {
        struct stat st;
        if (lstat(path, &st) == 0)
                return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* In a user namespace mknod is refused, and nodes on a file system mounted there could not be
 * opened anyway: bind the host's node (still reachable, before pivot_root) onto an empty file. */
static int bind_node(const char *host, const char *target) {
        _cleanup_close_ int fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0)
                return -errno;
        if (mount(host, target, NULL, MS_BIND, NULL) < 0)
                return -errno;
        return 0;
}

/* --device: a node of the host device's type, numbers and mode (Docker's too), owned by root. */
static int make_devices(const ContainerSpec *spec) {
        for (size_t i = 0; i < spec->n_devices; i++) {
                const char *target = spec->devices[i].container + 1; /* relative to the new root */
                struct stat st;
                if (stat(spec->devices[i].host, &st) < 0)
                        return -errno;
                if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                        return -ENODEV;
                _cleanup_free_ char *parent = strdup(target);
                if (!parent)
                        return -ENOMEM;
                *strrchr(parent, '/') = 0;
                int r = mkdir_p(parent, 0755);
                if (r < 0)
                        return r;
                if (umount2(target, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                        return -errno; /* a bound standard node, in a user namespace */
                if (unlink(target) < 0 && errno != ENOENT) /* e.g. --device /dev/null:/dev/null */
                        return -errno;
                if (spec->userns_base > 0) {
                        if ((r = bind_node(spec->devices[i].host, target)) < 0)
                                return r;
                        continue;
                }
                if (mknod(target, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0 ||
                    chmod(target, st.st_mode & 07777) < 0)
                        return -errno;
        }
        return 0;
}

/* --ipc container: the donor's /dev/shm, as Docker shares it. A bind mount cannot name a mount of
 * another mount namespace, so the tree is cloned (open_tree) from inside the donor's namespace and
 * attached (move_mount) back in ours; our working directory (the new root) is kept across. */
static int bind_peer_shm(int peer_pid) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", peer_pid);
        _cleanup_close_ int own = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC),
                            cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), peer = open(path, O_RDONLY | O_CLOEXEC);
        if (own < 0 || cwd < 0 || peer < 0)
                return -errno;
        if (setns(peer, CLONE_NEWNS) < 0)
                return -errno;
        _cleanup_close_ int tree = open_tree(AT_FDCWD, "/dev/shm", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        int saved = errno;
        if (setns(own, CLONE_NEWNS) < 0 || fchdir(cwd) < 0)
                return -errno;
        if (tree < 0)
                return -saved;
        if (move_mount(tree, "", AT_FDCWD, "dev/shm", MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

static int make_dev(const ContainerSpec *spec) {
        static const struct {
                const char *name;
                unsigned major, minor;
        } nodes[] = {
                { "dev/null", 1, 3 },   { "dev/zero", 1, 5 },    { "dev/full", 1, 7 },
                { "dev/random", 1, 8 }, { "dev/urandom", 1, 9 }, { "dev/tty", 5, 0 },
        };
        static const struct {
                const char *target, *name;
        } links[] = {
                { "/proc/self/fd", "dev/fd" },       { "/proc/self/fd/0", "dev/stdin" },
                { "/proc/self/fd/1", "dev/stdout" }, { "/proc/self/fd/2", "dev/stderr" },
                { "pts/ptmx", "dev/ptmx" },          { "/proc/kcore", "dev/core" },
        };

        if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                if (spec->userns_base > 0) {
                        _cleanup_free_ char *host = strjoin("/", nodes[i].name);
                        int r = host ? bind_node(host, nodes[i].name) : -ENOMEM;
                        if (r < 0)
                                return r;
                        continue;
                }
                if (mknod(nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0)
                        return -errno;
                /* mknod honours the umask; the nodes must be 0666 like on any Linux. */
                if (chmod(nodes[i].name, 0666) < 0)
                        return -errno;
        }
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlink(links[i].target, links[i].name) < 0)
                        return -errno;
        if (mkdir("dev/pts", 0755) < 0 || mkdir("dev/shm", 01777) < 0 || mkdir("dev/mqueue", 0755) < 0)
                return -errno;
        if (mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5") <
            0)
                return -errno;
        char shm_options[64];
        snprintf(shm_options, sizeof(shm_options), "mode=1777,size=%llu", (unsigned long long) spec->shm_size);
        /* --ipc host: the host's /dev/shm, as Docker; --ipc none: none at all. */
        if (spec->ipc_host) {
                if (mount("/dev/shm", "dev/shm", NULL, MS_BIND | MS_REC, NULL) < 0)
                        return -errno;
        } else if (spec->ipc_join_pid > 0) {
                int r = bind_peer_shm(spec->ipc_join_pid);
                if (r < 0)
                        return r;
        } else if (!spec->ipc_none &&
                   mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm_options) < 0)
                return -errno;
        if (mount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return -errno;
        return make_devices(spec);
}

/* Docker's defaults (moby oci/defaults.go): hide kernel interfaces that leak host information or
 * allow host-wide actions; paths are relative to the new root, before pivot_root. */
static const char *const masked_paths[] = {
        "proc/asound",
        "proc/acpi",
        "proc/kcore",
        "proc/keys",
        "proc/latency_stats",
        "proc/timer_list",
        "proc/timer_stats",
        "proc/sched_debug",
        "proc/scsi",
        "sys/firmware",
        "sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
        "proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

static int mask_paths(void) {
        for (size_t i = 0; i < ELEMENTSOF(masked_paths); i++) {
                struct stat st;
                if (lstat(masked_paths[i], &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                int r = S_ISDIR(st.st_mode) ? mount("tmpfs", masked_paths[i], "tmpfs", MS_RDONLY, "size=0,mode=0555")
                                            : mount("dev/null", masked_paths[i], NULL, MS_BIND, NULL);
                if (r < 0)
                        return -errno;
        }
        for (size_t i = 0; i < ELEMENTSOF(readonly_paths); i++) {
                if (mount(readonly_paths[i], readonly_paths[i], NULL, MS_BIND | MS_REC, NULL) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (mount(NULL, readonly_paths[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                          NULL) < 0)
                        return -errno;
        }
        return 0;
}

static int write_sysctls(const ContainerSpec *spec, char *message, size_t size) {
        for (char **s = spec->sysctls; s && *s; s++) {
                size_t k = strcspn(*s, "=");
                if ((*s)[k] != '=')
                        return -EINVAL;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "proc/sys/%.*s", (int) k, *s) < 0)
                        return -ENOMEM;
                for (char *p = path + strlen("proc/sys/"); *p; p++)
                        if (*p == '.')
                                *p = '/';
                const char *value = *s + k + 1;
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                int r = fd < 0 ? -errno : loop_write(fd, value, strlen(value));
                if (r < 0) {
                        snprintf(message, size, "Failed to set sysctl %.*s to \"%s\": %s", (int) k, *s, value,
                                 strerror(-r));
                        return r;
                }
        }
        return 0;
}

int setup_rootfs(const ContainerSpec *spec, const char **ret_what, char *message, size_t size) {
        _cleanup_free_ char *options = NULL;
        int r;

        /* Nothing we mount may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                FAIL("make the mount namespace private");

        if (spec->userns_base == 0 && !spec->lowerdirs[0]) {
                /* btrfs: the container's own subvolume, made a mount point for pivot_root. */
                if (mount(spec->rootfs, spec->rootfs, NULL, MS_BIND, NULL) < 0)
                        FAIL("bind the root file system");
        } else if (spec->userns_base == 0) { /* else the supervisor mounted it (nspawn-userns.c) */
                r = build_overlay_options(spec, &options);
                if (r < 0) {
                        errno = -r;
                        FAIL("build overlay options");
                }
                if (chdir(spec->storedir) < 0)
                        FAIL("enter the layer store");
                if (mount("overlay", spec->rootfs, "overlay", 0, options) < 0)
                        FAIL("mount the overlay root file system");
        }
        if (spec->userns_base == 0 && chdir(spec->rootfs) < 0) /* else done before (nspawn-child.c) */
                FAIL("enter the root file system");

        if ((r = ensure_dir("proc", 0555)) < 0 || (r = ensure_dir("sys", 0555)) < 0 ||
            (r = ensure_dir("dev", 0755)) < 0) {
                errno = -r;
                FAIL("create /proc, /sys and /dev in the image");
        }
        if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                FAIL("mount /proc");
        /* --sysctl: written while /proc/sys is still writable; they land in the namespaces we are in,
         * the container's (network, IPC). */
        r = write_sysctls(spec, message, size);
        if (r < 0) {
                errno = -r;
                FAIL("set the sysctls");
        }
        if (mount("sysfs", "sys", "sysfs", (spec->privileged ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  NULL) < 0)
                FAIL("mount /sys");
        r = make_dev(spec);
        if (r < 0) {
                errno = -r;
                FAIL("populate /dev");
        }
        r = spec->privileged ? 0 : mask_paths();
        if (r < 0) {
                errno = -r;
                FAIL("mask /proc and /sys paths");
        }
        r = setup_user_mounts(spec, message, size);
        if (r < 0) {
                errno = -r;
                FAIL("set up the container's mounts");
        }
        /* Only the root mount itself: /dev, /dev/shm, volumes and tmpfs mounts stay as they are. */
        if (spec->read_only && mount(NULL, ".", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                FAIL("make the root file system read-only");

        /* pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves
         * only the container's tree, with no path back to the host's root. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                FAIL("pivot_root into the container");
        if (umount2(".", MNT_DETACH) < 0)
                FAIL("detach the host's root");
        if (chdir("/") < 0)
                FAIL("chdir to /");
        return 0;
}
