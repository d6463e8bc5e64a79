/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's file system: diff, export, commit, cp. */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-output.h"
#include "ctl.h"
#include "ctl-tar.h"
#include "util.h"

enum {
        ARG_HELP = 0x100,
};

static int need_fd_passing(sd_bus *bus, const char *verb) {
        if (ctl_bus_can_pass_fds(bus))
                return 0;
        ctl_log_error("This connection cannot pass file descriptors (as with -H), so %s cannot work over it", verb);
        return -EOPNOTSUPP;
}

/* A method call to the container; logs failures. */
static int container_method_new(Ctl *ctl, const char *container, const char *member, bool fds, sd_bus_message **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        sd_bus *bus;
        int r;

        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        if (fds) {
                r = need_fd_passing(bus, member);
                if (r < 0)
                        return r;
        }
        r = ctl_get_container(bus, container, &error, &path);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_new_method_call(bus, ret, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, member);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the %s call: %m", member);
        return 0;
}

static int call(sd_bus_message *m, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_call(sd_bus_message_get_bus(m), m, CTL_TIMEOUT_INFINITE, &error, ret_reply);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        return 0;
}

/* Calls member on the container with the arguments (as sd_bus_message_append()); logs failures. */
static int call_container(Ctl *ctl, const char *container, const char *member, sd_bus_message **ret_reply,
                          const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = container_method_new(ctl, container, member, strchr(types, 'h'), &m);
        if (r < 0)
                return r;
        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the %s call: %m", member);
        return call(m, ret_reply);
}

int verb_diff(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *kind, *path;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl diff CONTAINER\n"
                               "\n"
                               "List the files and directories a container added (A), changed (C) or deleted (D)\n"
                               "compared to its image.\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("diff", c, argv);
                }
        if (argc - optind != 1) {
                ctl_log_error("\"berthctl diff\" requires exactly 1 argument (see 'berthctl diff --help')");
                return -EINVAL;
        }
        r = call_container(ctl, argv[optind], "GetChanges", &reply, "");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &kind, &path)) > 0)
                printf("%s %s\n", kind, path);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of GetChanges: %m");
        return 0;
}

int verb_export(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_close_ int fd = -1;
        const char *output = NULL;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:o:h", options, NULL)) >= 0)
                switch (c) {
                case 'o':
                        output = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl export [OPTIONS] CONTAINER\n"
                               "\n"
                               "Write a container's file system (its image with its changes, without volumes)\n"
                               "as a tar archive.\n"
                               "\n"
                               "Options:\n"
                               "  -o, --output=FILE     Write to FILE instead of standard output\n"
                               "  -h, --help            Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("export", c, argv);
                }
        if (argc - optind != 1) {
                ctl_log_error("\"berthctl export\" requires exactly 1 argument (see 'berthctl export --help')");
                return -EINVAL;
        }
        fd = ctl_open_archive_output(output);
        if (fd < 0)
                return fd;
        r = call_container(ctl, argv[optind], "Export", NULL, "h", fd);
        if (r < 0 && output && !streq(output, "-"))
                (void) unlink(output);
        return r;
}

int verb_commit(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "author", required_argument, NULL, 'a' },  { "change", required_argument, NULL, 'c' },
                { "message", required_argument, NULL, 'm' }, { "pause", optional_argument, NULL, 'p' },
                { "help", no_argument, NULL, ARG_HELP },     {},
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_strv_free_ char **changes = calloc(1, sizeof(char *));
        _cleanup_free_ char *id = NULL;
        const char *author = "", *message = "", *image;
        int c, r;

        if (!changes)
                return ctl_log_errno(ENOMEM, "Out of memory");
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:a:c:m:h", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        author = optarg;
                        break;
                case 'c':
                        if (strv_push(&changes, optarg) < 0)
                                return ctl_log_errno(ENOMEM, "Out of memory");
                        break;
                case 'm':
                        message = optarg;
                        break;
                case 'p':
                        break; /* accepted for Docker's sake; berth does not pause (see berthctl(1)) */
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]\n"
                               "\n"
                               "Make a new image of a container's changes: its image's layers plus one.\n"
                               "\n"
                               "Options:\n"
                               "  -a, --author=STRING   Author (\"Name <email>\")\n"
                               "  -c, --change=INSTR    Apply a Dockerfile instruction to the config: CMD,\n"
                               "                        ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD,\n"
                               "                        SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR (repeatable)\n"
                               "  -m, --message=STRING  Commit message (the history entry's comment)\n"
                               "  -h, --help            Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("commit", c, argv);
                }
        if (argc - optind < 1 || argc - optind > 2) {
                ctl_log_error("\"berthctl commit\" requires 1 or 2 arguments (see 'berthctl commit --help')");
                return -EINVAL;
        }
        r = container_method_new(ctl, argv[optind], "Commit", false, &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", argc - optind == 2 ? argv[optind + 1] : "");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, changes);
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", message, author);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the Commit call: %m");
        r = call(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &image);
        if (r >= 0)
                r = ctl_object_path_id(image, &id);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of Commit: %m");
        printf("sha256:%s\n", id);
        return 0;
}

/* "CONTAINER:PATH" → container, path; a local path (starting with "/" or ".", or without ":") → 0. */
static int split_container_path(const char *arg, char **ret_container, const char **ret_path) {
        const char *colon = strchr(arg, ':');
        if (arg[0] == '/' || arg[0] == '.' || !colon || colon == arg)
                return 0;
        *ret_container = strndup(arg, (size_t) (colon - arg));
        if (!*ret_container)
                return -ENOMEM;
        *ret_path = colon + 1;
        return 1;
}

/* What cp's worker child does with its end of the pipe, and how. */
typedef struct CpJob {
        const char *host_path; /* the host side: the source, or the destination for messages */
        int dest_fd; /* extract_to(): the directory to extract into */
        bool archive; /* -a: owners as they are at the source, not the receiving side's */
        bool follow; /* -L: a symlink as SRC stands for what it points to */
        bool progress; /* say what was copied (stderr is a terminal, no -q) */
} CpJob;

/* Run f(job, fd) in a child that gets one end of a pipe; the other end is returned. */
static int fork_pipe_worker(bool child_reads, int (*f)(const CpJob *job, int fd), const CpJob *job, pid_t *ret_pid) {
        int pipes[2];
        if (pipe2(pipes, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                safe_close(pipes[0]);
                safe_close(pipes[1]);
                return r;
        }
        if (pid == 0) {
                safe_close(pipes[child_reads ? 1 : 0]);
                (void) signal(SIGPIPE, SIG_IGN);
                _exit(f(job, pipes[child_reads ? 0 : 1]) < 0 ? 1 : 0);
        }
        safe_close(pipes[child_reads ? 0 : 1]);
        *ret_pid = pid;
        return pipes[child_reads ? 1 : 0];
}

static int wait_child(pid_t pid) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* In the child: the tar of a host path, its top entry named as the path's last component (with -L
 * the last component of a symlink, holding what it points to). Without -a every entry is owned by
 * 0:0, the container's root, as docker cp does. */
static int write_host_path(const CpJob *job, int fd) {
        _cleanup_free_ char *resolved = NULL, *a = NULL, *b = NULL, *c = NULL, *error = NULL;
        const char *src = job->host_path;
        if (job->follow) {
                resolved = realpath(src, NULL);
                if (!resolved)
                        return ctl_log_errno(errno, "Failed to follow %s: %m", src);
        }
        a = strdup(resolved ?: src);
        b = strdup(resolved ?: src);
        c = strdup(src);
        if (!a || !b || !c)
                return ctl_log_errno(ENOMEM, "Out of memory");
        const char *base = basename(a), *parent = dirname(b), *as = basename(c);
        _cleanup_close_ int parent_fd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd < 0)
                return ctl_log_errno(errno, "Failed to open %s: %m", parent);
        if (streq(base, "/"))
                base = ".";
        if (streq(as, "/"))
                as = ".";
        const CtlTar *tar;
        int r = ctl_tar_load(&tar);
        if (r < 0)
                return r;
        r = tar->write_entry(parent_fd, base, as, job->archive ? 0 : TAR_WRITE_OWNER_ROOT, fd, &error);
        if (r < 0)
                return ctl_log_errno(r, "Failed to read %s: %s", src, error ?: strerror(-r));
        return 0;
}

/* In the child: extract into the job's directory; without -a as files of whoever runs berthctl. */
static int extract_to(const CpJob *job, int fd) {
        _cleanup_free_ char *error = NULL;
        TarExtractResult result = {};
        char size[CTL_FORMAT_SIZE_MAX];
        const CtlTar *tar;
        int r = ctl_tar_load(&tar);
        if (r < 0)
                return r;
        r = tar->extract(fd, job->dest_fd, TAR_EXTRACT_LITERAL_NAMES | (job->archive ? 0 : TAR_EXTRACT_OWNER_CALLER),
                         &result, &error);
        if (r < 0)
                return ctl_log_errno(r, "Failed to write %s: %s", job->host_path, error ?: strerror(-r));
        if (job->progress)
                fprintf(stderr, "Successfully copied %s to %s\n", ctl_format_size(result.size, size), job->host_path);
        return 0;
}

/* The archive's one top entry in tmp (a directory in dest's parent, parent_fd) becomes dest. */
static int move_into_place(int parent_fd, const char *tmp, const char *dest) {
        _cleanup_free_ char *a = strdup(dest), *entry = NULL;
        if (!a)
                return -ENOMEM;
        _cleanup_close_ int tmp_fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tmp_fd < 0)
                return -errno;
        DIR *d = fdopendir(dup(tmp_fd));
        unsigned n = 0;
        for (struct dirent *de; d && (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && n++ == 0)
                        entry = strdup(de->d_name);
        if (d)
                closedir(d);
        if (n != 1 || !entry)
                return -EBADMSG;
        if (renameat(tmp_fd, entry, parent_fd, basename(a)) < 0)
                return -errno;
        return 0;
}

/* CopyFrom/CopyTo(path, fd...) made, with the pipe to or from our worker (pid, or 0 for our own
 * stdio), then the worker waited for. The message holds a copy of the pipe's end: the worker sees
 * EOF only once both are gone. */
static int finish_call(sd_bus_message **m, int *fd, pid_t pid) {
        int r = call(*m, NULL);
        *m = sd_bus_message_unref(*m);
        *fd = safe_close(*fd);
        if (pid > 0) {
                if (r < 0)
                        (void) kill(pid, SIGKILL);
                int k = wait_child(pid);
                if (r >= 0)
                        r = k;
        }
        return r;
}

static int copy_from_container(Ctl *ctl, const char *container, const char *path, const char *dest, CpJob *job) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int fd = -1, dest_fd = -1, parent_fd = -1;
        _cleanup_free_ char *a = NULL, *tmp = NULL;
        struct stat st;
        pid_t pid = 0;
        int r;

        /* -L: CopyFromWithOptions(FollowLink); without it CopyFrom, which every berthd has. */
        r = container_method_new(ctl, container, job->follow ? "CopyFromWithOptions" : "CopyFrom", true, &m);
        if (r < 0)
                return r;
        if (streq(dest, "-")) {
                if (isatty(STDOUT_FILENO)) {
                        ctl_log_error("cowardly refusing to write an archive to a terminal; redirect it");
                        return -EINVAL;
                }
                fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return ctl_log_errno(errno, "Failed to duplicate standard output: %m");
        } else {
                if (stat(dest, &st) == 0 && S_ISDIR(st.st_mode))
                        dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                else {
                        /* A new name: extract next to it, then rename the one entry. */
                        a = strdup(dest);
                        if (!a)
                                return ctl_log_errno(ENOMEM, "Out of memory");
                        const char *parent = dirname(a);
                        parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (parent_fd < 0)
                                return ctl_log_errno(errno, "Failed to open %s: %m", parent);
                        if (asprintf(&tmp, "%s/.berthctl-cp-XXXXXX", parent) < 0)
                                tmp = NULL;
                        if (!tmp || !mkdtemp(tmp) || (dest_fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                                return ctl_log_errno(errno, "Failed to create a directory beside %s: %m", dest);
                }
                if (dest_fd < 0)
                        return ctl_log_errno(errno, "Failed to open %s: %m", dest);
                job->host_path = dest;
                job->dest_fd = dest_fd;
                fd = fork_pipe_worker(true, extract_to, job, &pid);
                if (fd < 0)
                        return ctl_log_errno(fd, "Failed to start copying: %m");
        }
        r = sd_bus_message_append(m, "sh", path, fd);
        if (r >= 0 && job->follow)
                r = sd_bus_message_append(m, "a{sv}", 1, "FollowLink", "b", 1);
        if (r < 0)
                r = ctl_log_errno(r, "Failed to build the %s call: %m", sd_bus_message_get_member(m));
        else
                r = finish_call(&m, &fd, pid);
        if (r >= 0 && tmp) {
                r = move_into_place(parent_fd, tmp, dest);
                if (r < 0)
                        ctl_log_errno(r, "Failed to create %s: %m", dest);
        }
        if (tmp)
                (void) rm_rf(tmp);
        return r;
}

/* Bytes that go into the container, roughly as tar counts them (for the message on a terminal). */
static uint64_t tree_size(int parent_fd, const char *name) {
        struct stat st;
        if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        uint64_t total = 512 + (S_ISREG(st.st_mode) ? ((uint64_t) st.st_size + 511) / 512 * 512 : 0);
        if (!S_ISDIR(st.st_mode))
                return total;
        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                safe_close(fd);
                return total;
        }
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        total += tree_size(dirfd(d), de->d_name);
        closedir(d);
        return total;
}

static int copy_to_container(Ctl *ctl, const char *src, const char *container, const char *path, CpJob *job) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        pid_t pid = 0;
        int r;

        r = container_method_new(ctl, container, "CopyTo", true, &m);
        if (r < 0)
                return r;
        if (streq(src, "-")) {
                if (isatty(STDIN_FILENO)) {
                        ctl_log_error("requested a tar archive from stdin, but stdin is a terminal; redirect it");
                        return -EINVAL;
                }
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return ctl_log_errno(errno, "Failed to duplicate standard input: %m");
        } else {
                if ((job->follow ? stat(src, &st) : lstat(src, &st)) < 0)
                        return ctl_log_errno(errno, "Failed to find %s: %m", src);
                job->host_path = src;
                fd = fork_pipe_worker(false, write_host_path, job, &pid);
                if (fd < 0)
                        return ctl_log_errno(fd, "Failed to start copying: %m");
        }
        r = sd_bus_message_append(m, "sh", path, fd);
        if (r < 0)
                r = ctl_log_errno(r, "Failed to build the %s call: %m", sd_bus_message_get_member(m));
        else
                r = finish_call(&m, &fd, pid);
        if (r >= 0 && job->progress && !streq(src, "-")) {
                _cleanup_free_ char *resolved = job->follow ? realpath(src, NULL) : NULL;
                char size[CTL_FORMAT_SIZE_MAX];
                fprintf(stderr, "Successfully copied %s to %s:%s\n",
                        ctl_format_size(tree_size(AT_FDCWD, resolved ?: src), size), container, path);
        }
        return r;
}

int verb_cp(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "archive", no_argument, NULL, 'a' },
                { "follow-link", no_argument, NULL, 'L' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_free_ char *src_container = NULL, *dest_container = NULL, *abs_path = NULL;
        const char *src_path = NULL, *dest_path = NULL;
        CpJob job = { .dest_fd = -1, .progress = isatty(STDERR_FILENO) };
        int c, r, s, d;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:aLqh", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        job.archive = true;
                        break;
                case 'L':
                        job.follow = true;
                        break;
                case 'q':
                        job.progress = false;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
                               "       berthctl cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n"
                               "\n"
                               "Copy files or directories out of or into a container, running or not. Paths\n"
                               "in the container are resolved in its root (a relative one from /): symlinks\n"
                               "never lead out of it. \"-\" is a tar archive on standard output or input. An\n"
                               "existing directory as destination receives SRC by its name; otherwise SRC\n"
                               "is created as DEST. Copies belong to the receiving side's user: the\n"
                               "container's root, or whoever runs berthctl.\n"
                               "\n"
                               "Options:\n"
                               "  -a, --archive       Keep the owners (uid and gid) of the source\n"
                               "  -L, --follow-link   Copy what a symlink as SRC_PATH points to\n"
                               "  -q, --quiet         No message when done (there is none unless stderr\n"
                               "                      is a terminal)\n"
                               "  -h, --help          Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("cp", c, argv);
                }
        if (argc - optind != 2) {
                ctl_log_error("\"berthctl cp\" requires exactly 2 arguments (see 'berthctl cp --help')");
                return -EINVAL;
        }
        s = split_container_path(argv[optind], &src_container, &src_path);
        d = split_container_path(argv[optind + 1], &dest_container, &dest_path);
        if (s < 0 || d < 0)
                return ctl_log_errno(ENOMEM, "Out of memory");
        if (s == d) {
                ctl_log_error("exactly one of the paths must be CONTAINER:PATH (see 'berthctl cp --help')");
                return -EINVAL;
        }
        /* As docker cp: a path in the container is relative to its root. */
        const char **in_container = s ? &src_path : &dest_path;
        if (isempty(*in_container)) {
                ctl_log_error("the path in the container must not be empty");
                return -EINVAL;
        }
        if ((*in_container)[0] != '/') {
                abs_path = strjoin("/", *in_container);
                if (!abs_path)
                        return ctl_log_errno(ENOMEM, "Out of memory");
                *in_container = abs_path;
        }
        if (s)
                r = copy_from_container(ctl, src_container, src_path, argv[optind + 1], &job);
        else
                r = copy_to_container(ctl, argv[optind], dest_container, dest_path, &job);
        return r;
}

int ctl_tar_load(const CtlTar **ret) {
        static const CtlTar *loaded;
        if (!loaded) {
                const char *path = getenv("BERTH_TAR_MODULE") ?: BERTH_TAR_MODULE_PATH;
                void *module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
                if (!module) {
                        ctl_log_error("Failed to load %s: %s", path, dlerror());
                        return -ENOPKG;
                }
                loaded = dlsym(module, CTL_TAR_SYMBOL);
                if (!loaded) {
                        ctl_log_error("%s has no %s", path, CTL_TAR_SYMBOL);
                        return -ENOPKG;
                }
        }
        *ret = loaded;
        return 0;
}
