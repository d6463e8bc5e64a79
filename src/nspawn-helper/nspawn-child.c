/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <stdlib.h>
#include <unistd.h>

#include "helper-protocol.h"
#include "nspawn-caps.h"
#include "nspawn-child.h"
#include "nspawn-mount.h"
#include "nspawn-net.h"
#include "nspawn-seccomp.h"
#include "nspawn-user.h"
#include "nspawn-userns.h"
#include "util.h"

/* Before exec a failure is reported on error_fd as the whole status line the supervisor passes on
 * (helper-protocol.h); one write, so the pipe takes it at once. */
_noreturn_ static void child_fail(int error_fd, const HelperStatus *failure) {
        char line[HELPER_STATUS_LINE_MAX];
        int n = helper_status_format(failure, line, sizeof(line));
        if (n > 0)
                (void) !write(error_fd, line, (size_t) n);
        _exit(127);
}

/* A failure of the setup: "Failed to <what>: <error>." */
_noreturn_ static void child_failf(int error_fd, int error, const char *what_format, ...) _printf_(3, 4);
_noreturn_ static void child_failf(int error_fd, int error, const char *what_format, ...) {
        HelperStatus failure;
        va_list ap;
        va_start(ap, what_format);
        helper_status_failurev(&failure, HELPER_FAILURE_SETUP, error, what_format, ap);
        va_end(ap);
        child_fail(error_fd, &failure);
}

/* A failure of the setup with the whole message given (a callee's sentence). */
_noreturn_ static void child_fail_message(int error_fd, int error, const char *format, ...) _printf_(3, 4);
_noreturn_ static void child_fail_message(int error_fd, int error, const char *format, ...) {
        HelperStatus failure;
        va_list ap;
        va_start(ap, format);
        helper_status_failure_messagev(&failure, HELPER_FAILURE_SETUP, error, format, ap);
        va_end(ap);
        child_fail(error_fd, &failure);
}

/* A new network namespace starts with "lo" down; most software expects 127.0.0.1 to work. */
static int loopback_up(void) {
        struct ifreq ifr = { .ifr_name = "lo" };
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return -errno;
        return 0;
}

static void reset_signals(void) {
        sigset_t all;
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
}

/* Socket activation: the listening descriptors (at HELPER_FD_LISTEN_FIRST..) become 3.. without
 * O_CLOEXEC, as systemd hands them to a service; *error_fd moves above them first. */
static int install_listen_fds(const ContainerSpec *spec, int *error_fd) {
        unsigned n = spec->n_listen_fds;
        if (n == 0)
                return 0;
        int high = HELPER_FD_LISTEN_FIRST + (int) n + 3;
        int e = fcntl(*error_fd, F_DUPFD_CLOEXEC, high);
        if (e < 0)
                return -errno;
        safe_close(*error_fd);
        *error_fd = e;
        /* Above everything first, so no dup2() below clobbers a source not yet moved. */
        int moved[32];
        for (unsigned i = 0; i < n; i++) {
                moved[i] = fcntl(HELPER_FD_LISTEN_FIRST + (int) i, F_DUPFD_CLOEXEC, high);
                if (moved[i] < 0)
                        return -errno;
        }
        for (unsigned i = 0; i < n; i++) {
                if (dup2(moved[i], 3 + (int) i) < 0)
                        return -errno;
                safe_close(moved[i]);
        }
        return 0;
}

/* Everything from 3 on but keep (and the listening descriptors 3.. of socket activation). */
static int close_all_but_listen(unsigned n_listen, int keep) {
        unsigned first = 3 + n_listen;
        if ((unsigned) keep > first && syscall(SYS_close_range, first, (unsigned) keep - 1, 0U) < 0)
                return -errno;
        if (syscall(SYS_close_range, (unsigned) keep + 1, ~0U, 0U) < 0)
                return -errno;
        return 0;
}

static int close_all_but(int keep) {
        if (keep > 3 && syscall(SYS_close_range, 3U, (unsigned) keep - 1, 0U) < 0)
                return -errno;
        if (syscall(SYS_close_range, (unsigned) keep + 1, ~0U, 0U) < 0)
                return -errno;
        return 0;
}

/* Seccomp filter, capabilities, user and no_new_privs, in runc's order: without no_new_privs the
 * filter must be loaded while CAP_SYS_ADMIN is still held; with it, as late as possible, so that a
 * custom profile sees as few of our own system calls as possible. 'u' is NULL for root. On failure
 * *failure says which step failed. */
static int confine(const ContainerSpec *spec, const ContainerUser *u, HelperStatus *failure) {
        int r;

        if (spec->seccomp_filter && !spec->no_new_privs && (r = seccomp_program_load(&spec->seccomp)) < 0)
                goto seccomp;
        if ((r = drop_capabilities(spec->caps)) < 0) {
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r, "drop capabilities");
                return r;
        }
        /* Leaving uid 0 clears the permitted and effective capabilities: a user runs with none. */
        if (u && (r = switch_to_user(u)) < 0) {
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r, "switch to user %s", spec->user);
                return r;
        }
        if (spec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                r = -errno;
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r, "set no_new_privs");
                return r;
        }
        if (spec->seccomp_filter && spec->no_new_privs && (r = seccomp_program_load(&spec->seccomp)) < 0)
                goto seccomp;
        return 0;
seccomp:
        helper_status_failure(failure, HELPER_FAILURE_SETUP, -r, "load the seccomp filter");
        return r;
}

/* --init: stay as PID 1, run the payload as our child, reap every orphan the payload leaves, pass
 * on the signals we get, and exit with the payload's status (what tini does for Docker). */
_noreturn_ static void run_as_init(const ContainerSpec *spec, int error_fd) {
        sigset_t all, none;
        sigfillset(&all);
        sigemptyset(&none);
        sigprocmask(SIG_BLOCK, &all, NULL);
        /* Not PID 1 with --pid host: orphans come to us only as a subreaper. */
        if (container_spec_pid_shared(spec))
                (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
        /* The payload starts only once the init is confined: else it could find PID 1 still root
         * with every capability (and out of its reach for signals). */
        int confined[2];
        if (pipe2(confined, O_CLOEXEC) < 0)
                child_failf(error_fd, errno, "create a pipe");
        pid_t payload = fork();
        if (payload < 0)
                child_failf(error_fd, errno, "fork the payload under --init");
        if (payload == 0) {
                char c;
                safe_close(confined[1]);
                while (read(confined[0], &c, 1) < 0 && errno == EINTR)
                        ;
                safe_close(confined[0]);
                sigprocmask(SIG_SETMASK, &none, NULL);
                confine_and_exec(spec, spec->cwd, error_fd);
        }
        safe_close(confined[0]);
        safe_close(error_fd); /* the payload's exec closes its copy: the helper then sees EOF */
        /* The init itself is confined like the payload, user included. */
        ContainerUser u = {};
        char msg[256];
        HelperStatus failure; /* nobody to tell: the payload, killed, never ran */
        if ((!isempty(spec->user) && resolve_container_user(spec->user, &u, msg, sizeof(msg)) < 0) ||
            confine(spec, isempty(spec->user) ? NULL : &u, &failure) < 0) {
                (void) kill(payload, SIGKILL);
                _exit(255);
        }
        safe_close(confined[1]); /* EOF: the payload goes on */
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        (void) kill(payload, sig);
                        continue;
                }
                for (;;) {
                        int status;
                        pid_t pid = waitpid(-1, &status, WNOHANG);
                        if (pid <= 0)
                                break;
                        if (pid == payload)
                                _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
                }
        }
}

/* With a terminal: open a pty pair in the container's own devpts (so it is /dev/pts/N inside), make
 * the slave our controlling terminal and stdio, and hand the master to the supervisor. */
static int setup_terminal(const ContainerSpec *spec, int tty_socket, int *ret_slave) {
        char name[64];
        _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return -errno;
        if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
                return -errno;
        int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return -errno;
        struct winsize ws = { .ws_row = (unsigned short) spec->rows, .ws_col = (unsigned short) spec->cols };
        (void) ioctl(slave, TIOCSWINSZ, &ws);
        if (ioctl(slave, TIOCSCTTY, 0) < 0) {
                safe_close(slave);
                return -errno;
        }
        ssize_t k = send_with_fd(tty_socket, "t", 1, master);
        if (k < 0) {
                safe_close(slave);
                return (int) k;
        }
        *ret_slave = slave;
        return 0;
}

/* --userns=auto: wait until the supervisor wrote our id maps and mounted our root file system,
 * then become the namespace's root. Before that we are host root without a mapping there, which
 * still owns berth's directories: enter the root file system and open the sources of bind mounts
 * now, as the container's root could not reach them through /var/lib/berth (0700). */
static int enter_userns(const ContainerSpec *spec, int userns_pipe, HelperStatus *failure) {
        char byte;
        ssize_t n;
        int r;
        do
                n = read(userns_pipe, &byte, 1);
        while (n < 0 && errno == EINTR);
        safe_close(userns_pipe);
        if (n <= 0) {
                /* EOF: the supervisor gave up, and reports why itself. */
                r = n < 0 ? -errno : -ECANCELED;
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r, "wait for the container's user namespace");
                return r;
        }
        if (chdir(spec->rootfs) < 0) {
                r = -errno;
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r, "enter the root file system %s", spec->rootfs);
                return r;
        }
        for (size_t i = 0; i < spec->n_mounts; i++) {
                SpecMount *m = &spec->mounts[i];
                if (m->tmpfs || m->fstype)
                        continue;
                if ((m->source_fd = open(m->source, O_PATH | O_CLOEXEC)) < 0) {
                        r = -errno;
                        helper_status_failure(failure, HELPER_FAILURE_SETUP, -r, "open %s, the source of a bind mount",
                                              m->source);
                        return r;
                }
        }
        r = userns_become_root();
        if (r < 0)
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r,
                                      "become root in the container's user namespace");
        return r;
}

/* The container's network, before the rest of its setup (--sysctl may name its interfaces): join
 * another container's network namespace (net_join_fd, a pidfd), or wait until the supervisor made our
 * interfaces (a byte on net_pipe) and configure them. */
static int setup_network(const ContainerSpec *spec, int net_pipe, int net_join_fd, HelperStatus *failure) {
        int r;
        if (net_join_fd >= 0) {
                r = setns(net_join_fd, CLONE_NEWNET) < 0 ? -errno : 0;
                safe_close(net_join_fd);
                if (r < 0)
                        helper_status_failure(failure, HELPER_FAILURE_SETUP, -r,
                                              "join the network namespace of container process %d", spec->net_join_pid);
                return r;
        }
        if (net_pipe < 0)
                return 0;
        char byte;
        ssize_t n;
        do
                n = read(net_pipe, &byte, 1);
        while (n < 0 && errno == EINTR);
        safe_close(net_pipe);
        if (n <= 0) {
                /* EOF: the supervisor gave up, and reports why itself. */
                r = n < 0 ? -errno : -ECANCELED;
                helper_status_failure(failure, HELPER_FAILURE_SETUP, -r, "wait for the container's network interfaces");
                return r;
        }
        return net_configure_interfaces(spec, failure);
}

_noreturn_ void container_child(const ContainerSpec *spec, int stdin_fd, int stdout_fd, int stderr_fd, int tty_socket,
                                int userns_pipe, int net_pipe, int net_join_fd, int error_fd) {
        const char *what = NULL;
        char msg[512];
        int r;

        reset_signals();
        /* First: changing our ids resets the dumpable flag and the parent-death signal. */
        if (spec->userns_base > 0) {
                HelperStatus failure;
                if (enter_userns(spec, userns_pipe, &failure) < 0)
                        child_fail(error_fd, &failure);
        }
        (void) prctl(PR_SET_DUMPABLE, 0); /* until exec; see exec_child() */
        /* The payload must not outlive its supervisor: nobody would log or reap for it. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                child_failf(error_fd, errno, "set the parent-death signal");
        if (net_pipe >= 0 || net_join_fd >= 0) {
                HelperStatus failure;
                if (setup_network(spec, net_pipe, net_join_fd, &failure) < 0)
                        child_fail(error_fd, &failure);
        }

        msg[0] = 0;
        r = setup_rootfs(spec, &what, msg, sizeof(msg));
        if (r < 0) {
                if (msg[0]) /* a sentence of setup_user_mounts(), naming the mount, without a full stop */
                        child_fail_message(error_fd, -r, "%s.", msg);
                child_failf(error_fd, -r, "%s", what);
        }
        /* --uts host: the host's names are not ours to change. */
        if (!spec->uts_host && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
                child_failf(error_fd, errno, "set the host name");
        if (!spec->uts_host && !isempty(spec->domainname) &&
            setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
                child_failf(error_fd, errno, "set the domain name");
        /* --network host or container: not ours to change. */
        r = container_spec_own_netns(spec) ? loopback_up() : 0;
        if (r < 0)
                child_failf(error_fd, -r, "bring up the loopback interface");
        if (setsid() < 0)
                child_failf(error_fd, errno, "start a new session");

        int null_fd = -1;
        if (spec->tty) {
                r = setup_terminal(spec, tty_socket, &null_fd);
                if (r < 0)
                        child_failf(error_fd, -r, "set up the terminal");
                stdout_fd = stderr_fd = null_fd;
        } else
                null_fd = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0)
                child_failf(error_fd, errno, "open /dev/null in the container");
        if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(stdout_fd, STDOUT_FILENO) < 0 || dup2(stderr_fd, STDERR_FILENO) < 0)
                child_failf(error_fd, errno, "set up standard input and output");
        r = install_listen_fds(spec, &error_fd);
        if (r < 0)
                child_failf(error_fd, -r, "pass the listening sockets");
        /* No descriptor of berthd or of the helper may reach the payload (but the listening
         * sockets it is meant to have). error_fd is O_CLOEXEC. */
        r = close_all_but_listen(spec->n_listen_fds, error_fd);
        if (r < 0)
                child_failf(error_fd, -r, "close inherited file descriptors");

        if (spec->init)
                run_as_init(spec, error_fd);
        confine_and_exec(spec, spec->cwd, error_fd);
}

_noreturn_ void exec_child(const ContainerSpec *spec, const char *cwd, int tty_socket, const int stdio[3],
                           int error_fd) {
        reset_signals();
        /* Not dumpable until exec: container root must not open /proc/<pid>/exe of the helper. */
        (void) prctl(PR_SET_DUMPABLE, 0);
        /* A session of its own, as the container's PID 1 has: no process group shared with anything
         * outside the container. */
        if (setsid() < 0)
                child_failf(error_fd, errno, "start a new session");
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                child_failf(error_fd, errno, "set the parent-death signal");
        int r;
        if (spec->tty) {
                /* exec -t: a terminal of the container's devpts (we joined its mount namespace). */
                int slave;
                r = setup_terminal(spec, tty_socket, &slave);
                if (r < 0)
                        child_failf(error_fd, -r, "set up the terminal");
                if (dup2(slave, STDIN_FILENO) < 0 || dup2(slave, STDOUT_FILENO) < 0 || dup2(slave, STDERR_FILENO) < 0)
                        child_failf(error_fd, errno, "set up the terminal");
                safe_close(slave);
        } else if (dup2(stdio[0], STDIN_FILENO) < 0 || dup2(stdio[1], STDOUT_FILENO) < 0 ||
                   dup2(stdio[2], STDERR_FILENO) < 0)
                child_failf(error_fd, errno, "set up standard input and output");
        /* 0, 1, 2 are pipes or a terminal of the exec's own (the helper relays them to the
         * caller's); nothing else of berthd or the helper may reach the process. */
        r = close_all_but(error_fd);
        if (r < 0)
                child_failf(error_fd, -r, "close inherited file descriptors");
        confine_and_exec(spec, cwd, error_fd);
}

_noreturn_ void confine_and_exec(const ContainerSpec *spec, const char *cwd, int error_fd) {
        char **argv = spec->argv, **env = spec->env;
        const char *user = spec->user;
        ContainerUser u = {};
        HelperStatus failure;
        char msg[512];
        int r;

        /* Docker creates a missing working directory (inside the container: we are past pivot_root). */
        if (!isempty(cwd)) {
                r = mkdir_p(cwd, 0755);
                if (r >= 0 && chdir(cwd) < 0)
                        r = -errno;
                if (r < 0)
                        child_failf(error_fd, -r, "change to working directory %s", cwd);
        }
        if (!isempty(user)) {
                msg[0] = 0;
                r = resolve_container_user(user, &u, msg, sizeof(msg));
                if (r < 0 && msg[0]) /* Docker's words: "unable to find user x: no matching entries in passwd file" */
                        child_fail_message(error_fd, -r, "%s", msg);
                if (r < 0)
                        child_failf(error_fd, -r, "resolve user %s", user);
        }
        if (strv_length(spec->group_add) > 0) {
                /* Root too gets them (u stays uid and gid 0 then), as runc's AdditionalGids. */
                msg[0] = 0;
                r = add_container_groups(spec->group_add, &u, msg, sizeof(msg));
                if (r < 0 && msg[0])
                        child_fail_message(error_fd, -r, "%s", msg);
                if (r < 0)
                        child_failf(error_fd, -r, "add the supplementary groups");
        }
        /* Docker's default since 25: soft 1024 (select() users keep working), hard as inherited. */
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) >= 0 && nofile.rlim_cur > 1024) {
                nofile.rlim_cur = 1024;
                (void) setrlimit(RLIMIT_NOFILE, &nofile);
        }
        /* --ulimit, while we still have CAP_SYS_RESOURCE (raising a hard limit needs it). */
        for (size_t i = 0; i < spec->n_ulimits; i++) {
                struct rlimit rl = {
                        .rlim_cur = spec->ulimits[i].soft == UINT64_MAX ? RLIM_INFINITY : spec->ulimits[i].soft,
                        .rlim_max = spec->ulimits[i].hard == UINT64_MAX ? RLIM_INFINITY : spec->ulimits[i].hard,
                };
                if (setrlimit(spec->ulimits[i].resource, &rl) < 0)
                        child_failf(error_fd, errno, "set ulimit %s", spec->ulimits[i].name);
        }
        if (confine(spec, isempty(user) && strv_length(spec->group_add) == 0 ? NULL : &u, &failure) < 0)
                child_fail(error_fd, &failure);

        /* Socket activation: LISTEN_PID names the process that execs, the payload (after --init's fork). */
        _cleanup_strv_free_ char **with_listen = NULL;
        if (spec->n_listen_fds > 0) {
                /* Ours replace any the image or the user set. */
                with_listen = calloc(1, sizeof(char *));
                for (char **e = env; with_listen && e && *e; e++)
                        if (!startswith(*e, "LISTEN_FDS=") && !startswith(*e, "LISTEN_PID=") &&
                            !startswith(*e, "LISTEN_FDNAMES=") && strv_push(&with_listen, *e) < 0) {
                                strv_free(with_listen);
                                with_listen = NULL;
                        }
                char fds_var[32], pid_var[32];
                snprintf(fds_var, sizeof(fds_var), "LISTEN_FDS=%u", spec->n_listen_fds);
                snprintf(pid_var, sizeof(pid_var), "LISTEN_PID=%d", (int) getpid());
                _cleanup_free_ char *names_var = spec->listen_fdnames ? strjoin("LISTEN_FDNAMES=", spec->listen_fdnames)
                                                                      : NULL;
                if (!with_listen || strv_push(&with_listen, fds_var) < 0 || strv_push(&with_listen, pid_var) < 0 ||
                    (spec->listen_fdnames && (!names_var || strv_push(&with_listen, names_var) < 0)))
                        child_failf(error_fd, ENOMEM, "set the socket activation environment");
                env = with_listen;
        }
        /* execvp() searches the PATH of the current environment, so switch to the container's first. */
        environ = env;
        execvp(argv[0], argv);
        /* Docker's words, which berthctl maps to exit codes 127 ("not found") and 126. */
        r = errno;
        if (r == ENOENT)
                helper_status_failure_message(&failure, HELPER_FAILURE_EXEC, r,
                                              "exec: \"%s\": executable file not found in $PATH", argv[0]);
        else
                helper_status_failure_message(&failure, HELPER_FAILURE_EXEC, r, "exec: \"%s\": %s", argv[0],
                                              strerror(r));
        child_fail(error_fd, &failure);
}
