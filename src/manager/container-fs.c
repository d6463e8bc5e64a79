/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A container's file system: GetChanges (diff), Export, CopyFrom and CopyTo (cp).
 *
 * All run in a forked worker (worker.c), so the bus never blocks. GetChanges asks the storage driver
 * (overlay reads the upper directory against the layers, btrfs compares two trees; it only stats and
 * lists) and gets the list back through a memfd. The others see the container's file system one of
 * two ways (btrfs: the rootfs subvolume itself):
 *  - the overlay, mounted in a private mount namespace of the worker, on the container's own rootfs
 *    directory (nothing else mounts there in berthd's namespace). Reading, the upper directory is
 *    simply the top lower directory of a read-only overlay, which works whether the container runs
 *    or not (export, and cp out of a stopped container). Writing into a stopped container mounts
 *    the overlay with its upper and work directories, as the helper would.
 *  - the running payload's root, /proc/<pid>/root (cp of a running container, so its volumes are
 *    seen as the payload sees them, as in Docker).
 * Either way paths are resolved with openat2(RESOLVE_IN_ROOT): a symlink in the container can only
 * ever lead to the container's own files. Archives are written by tar_write_*() and read by the one
 * checked tar_extract().
 */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "container.h"
#include "errors.h"
#include "image.h"
#include "storage.h"
#include "tar-extract.h"
#include "tar-write.h"
#include "worker.h"

static Image *container_image(Container *c, sd_bus_error *error) {
        Image *i = manager_find_image(c->manager, c->image_id, NULL);
        if (!i)
                sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_IMAGE, "The image of container %s (%.12s) is gone.",
                                  c->name, c->image_id);
        return i;
}

_printf_(3, 4) static int fail(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return r;
}

/* ---- GetChanges: in a worker ---- */

typedef struct ChangesOperation {
        sd_bus_message *request;
        const StorageDriver *driver;
        char **diffs; /* the image's layers, top first */
        char *cdir;
        char *name; /* the container's, for messages */
        int list_fd; /* memfd: the worker writes "<kind><path>\0" records into it */
        Worker *worker;
} ChangesOperation;

static void changes_operation_free(ChangesOperation *op) {
        if (!op)
                return;
        worker_free(op->worker);
        sd_bus_message_unref(op->request);
        strv_free(op->diffs);
        free(op->cdir);
        free(op->name);
        safe_close(op->list_fd);
        free(op);
}

static int changes_work(void *userdata, char **ret_payload, char **ret_error) {
        ChangesOperation *op = userdata;
        TreeChange *changes = NULL;
        size_t n = 0;
        int r = op->driver->container_changes(op->diffs, op->cdir, &changes, &n);
        if (r < 0)
                return fail(ret_error, r, "Failed to read the changes of container %s: %s", op->name, strerror(-r));
        for (size_t k = 0; r >= 0 && k < n; k++) {
                r = loop_write(op->list_fd, &changes[k].kind, 1);
                if (r >= 0) /* with its NUL: a path may hold any other byte */
                        r = loop_write(op->list_fd, changes[k].path, strlen(changes[k].path) + 1);
        }
        tree_changes_free(changes, n);
        return r;
}

static void changes_done(void *userdata, int r, const char *text) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ChangesOperation *op = userdata;
        _cleanup_free_ char *list = NULL;
        size_t len = 0;

        if (r < 0) {
                (void) sd_bus_reply_method_errorf(op->request, SD_BUS_ERROR_FAILED, "%s",
                                                  text ?: "The diff worker died unexpectedly.");
                changes_operation_free(op);
                return;
        }
        r = lseek(op->list_fd, 0, SEEK_SET) < 0 ? -errno : read_full_fd(op->list_fd, &list, &len);
        if (r >= 0)
                r = sd_bus_message_new_method_return(op->request, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (size_t at = 0; r >= 0 && at < len;) {
                const char *record = list + at, *end = memchr(record, 0, len - at);
                _cleanup_free_ char *path = NULL;
                if (!end || end == record) {
                        r = -EBADMSG;
                        break;
                }
                char kind[2] = { record[0], 0 };
                r = asprintf(&path, "/%s", record + 1) < 0 ? -ENOMEM : sd_bus_message_append(reply, "(ss)", kind, path);
                at = (size_t) (end - list) + 1;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                (void) sd_bus_reply_method_errnof(op->request, -r, "Failed to list the changes of container %s: %m",
                                                  op->name);
        changes_operation_free(op);
}

/* The walk may take long (btrfs compares two whole trees): a worker does it, the bus goes on. */
int container_get_changes(Container *c, sd_bus_message *request, sd_bus_error *error) {
        Manager *m = c->manager;
        ChangesOperation *op;
        int r;

        Image *i = container_image(c, error);
        if (!i)
                return -ENOENT;
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        *op = (ChangesOperation){ .driver = m->storage, .list_fd = -1 };
        op->cdir = manager_state_path(m, "containers/%s", c->id);
        op->name = strdup(c->name);
        op->list_fd = memfd_create("berth-changes", MFD_CLOEXEC);
        if (!op->cdir || !op->name || op->list_fd < 0) {
                r = op->list_fd < 0 ? -errno : -ENOMEM;
                changes_operation_free(op);
                return r;
        }
        r = storage_image_diffs(i, &op->diffs);
        if (r >= 0)
                r = worker_start(m, &op->list_fd, 1, changes_work, changes_done, op, &op->worker);
        if (r < 0) {
                changes_operation_free(op);
                return sd_bus_error_set_errnof(error, -r, "Failed to read the changes of container %s: %m", c->name);
        }
        op->request = sd_bus_message_ref(request);
        return 1;
}

/* ---- Export, CopyFrom, CopyTo: in a worker ---- */

typedef enum FsVerb {
        FS_EXPORT,
        FS_COPY_FROM,
        FS_COPY_FROM_FOLLOW, /* docker cp -L: a symlink as the path stands for what it points to */
        FS_COPY_TO,
} FsVerb;

typedef struct FsOperation {
        sd_bus_message *request;
        FsVerb verb;
        char *name; /* the container's, for messages */
        char *path; /* in the container */
        int fd; /* the caller's stream (borrowed from request) */
        int root_fd; /* the running payload's root, or -1: mount the overlay */
        int userns_fd; /* --userns=auto, running: the payload's user namespace, which the worker joins */
        char *mount_point;
        char *overlay_options; /* NULL: the rootfs is a directory of its own (btrfs) */
        char *store_dir; /* the overlay driver's directory, which lowerdir= is relative to */
        bool writable;
        Worker *worker;
} FsOperation;

static void fs_operation_free(FsOperation *op) {
        if (!op)
                return;
        worker_free(op->worker);
        sd_bus_message_unref(op->request);
        free(op->name);
        free(op->path);
        safe_close(op->root_fd);
        safe_close(op->userns_fd);
        free(op->mount_point);
        free(op->overlay_options);
        free(op->store_dir);
        free(op);
}

static int resolve_in_root(int root_fd, const char *path, uint64_t flags) {
        struct open_how how = {
                .flags = flags | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

/* In the worker: the container's root directory. */
static int fs_open_root(FsOperation *op, char **ret_error) {
        if (op->root_fd >= 0)
                return op->root_fd;
        if (!op->overlay_options) {
                op->root_fd = open(op->mount_point, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                return op->root_fd < 0 ? -errno : op->root_fd;
        }
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            chdir(op->store_dir) < 0)
                return -errno;
        if (mount("overlay", op->mount_point, "overlay", op->writable ? 0 : MS_RDONLY, op->overlay_options) < 0) {
                int r = -errno;
                if (asprintf(ret_error, "Failed to mount the file system of container %s: %s", op->name, strerror(-r)) <
                    0)
                        *ret_error = NULL;
                return r;
        }
        op->root_fd = open(op->mount_point, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return op->root_fd < 0 ? -errno : op->root_fd;
}

/* "/a/b/" → parent "/a", base "b"; "/" → parent "/", base ".". */
static int split_path(const char *path, char **ret_parent, char **ret_base) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        size_t n = strlen(p);
        while (n > 1 && p[n - 1] == '/')
                p[--n] = 0;
        char *slash = strrchr(p, '/');
        if (!slash || streq(p, "/")) {
                *ret_parent = strdup(slash ? "/" : ".");
                *ret_base = strdup(slash ? "." : p);
        } else {
                *ret_base = strdup(slash + 1);
                *ret_parent = slash == p ? strdup("/") : strndup(p, (size_t) (slash - p));
        }
        if (!*ret_parent || !*ret_base) {
                *ret_parent = mfree(*ret_parent);
                *ret_base = mfree(*ret_base);
                return -ENOMEM;
        }
        return 0;
}

static int copy_from_work(FsOperation *op, int root, char **ret_error) {
        _cleanup_free_ char *parent = NULL, *base = NULL, *as = NULL, *path = strdup(op->path);
        _cleanup_close_ int parent_fd = -1;
        struct stat st;
        if (!path)
                return -ENOMEM;
        /* With -L the last component is followed, link after link (each resolved in the root as the
         * container sees it); the entry keeps the name the caller gave. */
        for (unsigned hops = 0;; hops++) {
                free(parent);
                free(base);
                parent = base = NULL;
                int r = split_path(path, &parent, &base);
                if (r < 0)
                        return r;
                if (!as && !(as = strdup(base)))
                        return -ENOMEM;
                safe_close(parent_fd);
                parent_fd = resolve_in_root(root, parent, O_PATH | O_DIRECTORY);
                if (parent_fd < 0 || fstatat(parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return fail(ret_error, -ENOENT, "No such file or directory in container %s: %s", op->name,
                                    path);
                if (op->verb != FS_COPY_FROM_FOLLOW || !S_ISLNK(st.st_mode))
                        break;
                if (hops >= 40)
                        return fail(ret_error, -ELOOP, "Too many levels of symbolic links in container %s: %s",
                                    op->name, op->path);
                char target[PATH_MAX];
                ssize_t n = readlinkat(parent_fd, base, target, sizeof(target) - 1);
                if (n <= 0)
                        return fail(ret_error, -EIO, "Failed to read the link %s in container %s.", path, op->name);
                target[n] = 0;
                char *next = target[0] == '/' ? strdup(target) : strjoin(parent, "/", target);
                if (!next)
                        return -ENOMEM;
                free(path);
                path = next;
        }
        return tar_write_entry(parent_fd, base, as, op->fd, ret_error);
}

/* Into an existing directory as it is; else the archive's one top entry becomes 'path' (whose
 * parent must exist), as "docker cp" does. */
static int copy_to_work(FsOperation *op, int root, char **ret_error) {
        _cleanup_free_ char *parent = NULL, *base = NULL, *entry = NULL;
        char id[BERTH_ID_LEN + 1], tmp[32];
        TarExtractResult result;
        int r;

        _cleanup_close_ int dir_fd = resolve_in_root(root, op->path, O_PATH | O_DIRECTORY);
        if (dir_fd >= 0)
                return tar_extract_full(op->fd, dir_fd, TAR_EXTRACT_LITERAL_NAMES, NULL, ret_error);
        if ((dir_fd != -ENOENT && dir_fd != -ENOTDIR) || op->path[strlen(op->path) - 1] == '/')
                return fail(ret_error, -ENOENT, "No such directory in container %s: %s", op->name, op->path);
        r = split_path(op->path, &parent, &base);
        if (r < 0)
                return r;
        _cleanup_close_ int parent_fd = resolve_in_root(root, parent, O_PATH | O_DIRECTORY);
        if (parent_fd < 0)
                return fail(ret_error, -ENOENT, "No such directory in container %s: %s", op->name, parent);

        r = random_hex_id(id);
        if (r < 0)
                return r;
        snprintf(tmp, sizeof(tmp), ".berth-cp-%.12s", id);
        if (mkdirat(parent_fd, tmp, 0700) < 0)
                return fail(ret_error, -errno, "Failed to create a directory in container %s: %m", op->name);
        _cleanup_close_ int tmp_fd = openat(parent_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tmp_fd < 0)
                r = -errno;
        else
                r = tar_extract_full(op->fd, tmp_fd, TAR_EXTRACT_LITERAL_NAMES, &result, ret_error);
        if (r >= 0) {
                DIR *d = fdopendir(fcntl(tmp_fd, F_DUPFD_CLOEXEC, 3));
                unsigned n = 0;
                if (d)
                        rewinddir(d); /* the extraction may have read it: the offset is shared */
                for (struct dirent *de; d && (de = readdir(d));)
                        if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && n++ == 0)
                                entry = strdup(de->d_name);
                if (d)
                        closedir(d);
                if (n != 1 || !entry)
                        r = fail(ret_error, -EINVAL, "The archive must hold one top-level entry to copy to %s.",
                                 op->path);
                else if (renameat(tmp_fd, entry, parent_fd, base) < 0)
                        r = fail(ret_error, -errno, "Failed to create %s in container %s: %m", op->path, op->name);
        }
        (void) rm_rf_at(parent_fd, tmp);
        return r;
}

static int fs_work(void *userdata, char **ret_payload, char **ret_error) {
        FsOperation *op = userdata;
        /* As its root: the files' owners in the archive are the container's ids, and only ids of its
         * range can be written through its idmapped layers. The overlay mounted for a stopped
         * container is not idmapped: its upper directory holds the container's ids as they are. */
        if (op->userns_fd >= 0 &&
            (setns(op->userns_fd, CLONE_NEWUSER) < 0 || setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 ||
             setresuid(0, 0, 0) < 0))
                return fail(ret_error, -errno, "Failed to join the user namespace of container %s: %m", op->name);
        int root = fs_open_root(op, ret_error);
        if (root < 0)
                return root;
        switch (op->verb) {
        case FS_EXPORT:
                return tar_write_tree(root, op->fd, ret_error);
        case FS_COPY_FROM:
        case FS_COPY_FROM_FOLLOW:
                return copy_from_work(op, root, ret_error);
        case FS_COPY_TO:
                return copy_to_work(op, root, ret_error);
        }
        return -EINVAL;
}

static void fs_done(void *userdata, int r, const char *text) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        FsOperation *op = userdata;

        if (r >= 0)
                (void) sd_bus_reply_method_return(op->request, NULL);
        else {
                if (!text)
                        sd_bus_error_setf(&error, SD_BUS_ERROR_FAILED, "The worker died unexpectedly.");
                else if (r == -ENOENT)
                        sd_bus_error_set(&error, BERTH_ERROR_NO_SUCH_PATH, text);
                else if (r == -EPERM || r == -EBADMSG || r == -EINVAL)
                        sd_bus_error_setf(&error, BERTH_ERROR_INVALID_ARGUMENT, "%s", text);
                else
                        sd_bus_error_set_errnof(&error, -r, "%s", text);
                (void) sd_bus_reply_method_error(op->request, &error);
        }
        fs_operation_free(op);
}

static int fs_operation_start(Container *c, FsVerb verb, const char *path, int fd, sd_bus_message *request,
                              sd_bus_error *error) {
        Manager *m = c->manager;
        _cleanup_strv_free_ char **lower = NULL;
        _cleanup_free_ char *upper = manager_state_path(m, "containers/%s/upper", c->id),
                            *work = manager_state_path(m, "containers/%s/work", c->id), *layers = NULL;
        FsOperation *op;
        int r;

        if (path && path[0] != '/')
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Not an absolute path: \"%s\"", path);
        /* Writing into a stopped container mounts its upper directory, which its start would too. */
        if (verb == FS_COPY_TO && c->starting)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Container %s is being started.", c->name);
        Image *i = container_image(c, error);
        if (!i)
                return -ENOENT;
        if (!upper || !work)
                return -ENOMEM;
        r = storage_image_diffs(i, &lower);
        if (r >= 0 && m->storage->lower_option)
                r = m->storage->lower_option(lower, &layers);
        if (r < 0)
                return r;
        op = calloc(1, sizeof(*op));
        if (!op) {
                free(op);
                return -ENOMEM;
        }
        *op = (FsOperation){ .verb = verb, .fd = fd, .root_fd = -1, .userns_fd = -1, .writable = verb == FS_COPY_TO };
        op->name = strdup(c->name);
        op->path = path ? strdup(path) : NULL;
        op->mount_point = manager_state_path(m, "containers/%s/rootfs", c->id);
        op->store_dir = manager_state_path(m, "%s", m->storage->name);
        if (!op->name || (path && !op->path) || !op->mount_point || !op->store_dir) {
                fs_operation_free(op);
                return -ENOMEM;
        }
        if (verb != FS_EXPORT && c->state == CONTAINER_RUNNING && c->pid > 0) {
                /* cp works on what the payload sees. The pidfd check after the open makes sure the
                 * /proc entry was the payload's and not a reused PID's. */
                _cleanup_free_ char *proc = NULL;
                if (asprintf(&proc, "/proc/%d/root", (int) c->pid) < 0) {
                        fs_operation_free(op);
                        return -ENOMEM;
                }
                op->root_fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
                char ns[64];
                snprintf(ns, sizeof(ns), "/proc/%d/ns/user", (int) c->pid);
                if (c->security.uid_base > 0 && (op->userns_fd = open(ns, O_RDONLY | O_CLOEXEC)) < 0)
                        op->root_fd = safe_close(op->root_fd);
                if (op->root_fd < 0 || c->payload_pidfd < 0 ||
                    syscall(SYS_pidfd_send_signal, c->payload_pidfd, 0, NULL, 0) < 0) {
                        fs_operation_free(op);
                        return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING, "Container %s stopped.",
                                                 c->name);
                }
        } else if (!layers)
                r = 0; /* btrfs: the rootfs subvolume as it is */
        else if (op->writable)
                r = asprintf(&op->overlay_options, "lowerdir=%s,upperdir=%s,workdir=%s", layers, upper, work);
        else
                /* The upper directory as the top lower one: read-only, and fine while the container
                 * runs with it (index=off: no exclusive claim on it, nor from it). */
                r = asprintf(&op->overlay_options, "lowerdir=%s:%s,index=off", upper, layers);
        if (r < 0) {
                fs_operation_free(op);
                return -ENOMEM;
        }
        int keep[3] = { fd, op->root_fd, op->userns_fd };
        r = worker_start(m, keep, op->userns_fd >= 0 ? 3 : op->root_fd >= 0 ? 2 : 1, fs_work, fs_done, op, &op->worker);
        if (r < 0) {
                fs_operation_free(op);
                return sd_bus_error_set_errnof(error, -r, "Failed to start a worker: %m");
        }
        op->request = sd_bus_message_ref(request);
        return 1;
}

int container_export(Container *c, int fd, sd_bus_message *request, sd_bus_error *error) {
        return fs_operation_start(c, FS_EXPORT, NULL, fd, request, error);
}

int container_copy(Container *c, bool to_container, bool follow_link, const char *path, int fd, sd_bus_message *request,
                   sd_bus_error *error) {
        return fs_operation_start(c,
                                  to_container          ? FS_COPY_TO
                                          : follow_link ? FS_COPY_FROM_FOLLOW
                                                        : FS_COPY_FROM,
                                  path, fd, request, error);
}
