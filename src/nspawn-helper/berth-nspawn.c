/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * berth-nspawn: started by berthd, moved into the container's transient scope, then it creates the
 * container's namespaces, execs the payload as PID 1 of a fresh PID namespace and stays as its
 * supervisor: relays stdout/stderr to journald, reaps the payload and records the exit status
 * under /run/berth so berthd can read it even if berthd was not running when it happened.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <linux/sched.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log-stream.h"
#include "nspawn-child.h"
#include "nspawn-journal.h"
#include "nspawn-log.h"
#include "nspawn-net.h"
#include "nspawn-relay.h"
#include "nspawn-seccomp.h"
#include "nspawn-spec.h"
#include "nspawn-userns.h"
#include "util.h"

/* Who sees the output and may type into the terminal: the client that started the container
 * (HELPER_FD_ATTACH_STDOUT, _STDERR, _STDIN) and those that attached later through
 * <rundir>/HELPER_ATTACH_SOCKET. */
#define ATTACH_CLIENTS_MAX 16
typedef struct AttachClient {
        int out, err; /* -1: not wanted */
        int in; /* relayed into the terminal (Tty containers only); -1 at EOF */
        bool nonblocking; /* a later client: dropped rather than waited for when it does not read */
        char pending[32768]; /* read from 'in', not yet taken by the terminal or the stdin pipe */
        size_t n_pending;
} AttachClient;

static AttachClient clients[ATTACH_CLIENTS_MAX];
static size_t n_clients;

static void client_drop(size_t i) {
        safe_close(clients[i].out);
        safe_close(clients[i].err);
        safe_close(clients[i].in);
        clients[i] = clients[--n_clients];
}

typedef struct OutputStream {
        bool tty; /* a terminal's master: lines end in "\r\n" */
        int fd; /* read end of the payload's pipe, -1 at EOF */
        bool is_stderr;
        int priority;
        LogStream lines;
        LogSink *sink;
} OutputStream;

/* Our one status line (helper-protocol.h), then the channel is closed. It is a socket: with a
 * terminal, its master travels along with "OK", so berthd can resize it later (ResizeTerminal). */
static int report_status(const HelperStatus *status, int fd) {
        char line[HELPER_STATUS_LINE_MAX];
        int n = helper_status_format(status, line, sizeof(line)), r;
        if (n < 0)
                r = n;
        else if (fd >= 0) {
                ssize_t k = send_with_fd(HELPER_FD_STATUS, line, (size_t) n, fd);
                r = k < 0 ? (int) k : k < n ? loop_write(HELPER_FD_STATUS, line + k, (size_t) (n - k)) : 0;
        } else
                r = loop_write(HELPER_FD_STATUS, line, (size_t) n);
        (void) close(HELPER_FD_STATUS);
        return r;
}

/* Report a failure of our setup, "Failed to <what>: <error>.", and return -error for the caller
 * to pass on. */
static int report_failure(int error, const char *what_format, ...) _printf_(2, 3);
static int report_failure(int error, const char *what_format, ...) {
        HelperStatus status;
        va_list ap;
        va_start(ap, what_format);
        helper_status_failurev(&status, HELPER_FAILURE_SETUP, error, what_format, ap);
        va_end(ap);
        (void) report_status(&status, -1);
        return -status.error;
}

/* The same with the whole sentence given, for failures no errno describes well. */
static int report_failure_message(int error, const char *format, ...) _printf_(2, 3);
static int report_failure_message(int error, const char *format, ...) {
        HelperStatus status;
        va_list ap;
        va_start(ap, format);
        helper_status_failure_messagev(&status, HELPER_FAILURE_SETUP, error, format, ap);
        va_end(ap);
        (void) report_status(&status, -1);
        return -status.error;
}

/* Pass on the failure the container's (or exec'd) process reported before its exec (its whole
 * status line, see child_fail() in nspawn-child.c). */
static int report_child_failure(const char *line, size_t len) {
        HelperStatus status;
        if (helper_status_parse(line, len, &status) < 0 || status.ok)
                helper_status_failure_message(&status, HELPER_FAILURE_SETUP, EBADMSG,
                                              "The container's process failed before it started, with an "
                                              "unreadable report.");
        (void) report_status(&status, -1);
        return -status.error;
}

static int emit_line(const char *line, size_t len, bool partial, void *userdata) {
        OutputStream *o = userdata;
        if (o->tty && !partial && len > 0 && line[len - 1] == '\r')
                len--; /* the terminal's ONLCR, not part of the line */
        /* A journald hiccup must not kill the container; the line is lost, as with any log driver. */
        (void) log_sink_line(o->sink, o->priority, line, len, partial);
        return 0;
}

static void output_read(OutputStream *o) {
        char buf[65536];
        ssize_t n = read(o->fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                (void) log_stream_flush(&o->lines);
                log_sink_flush(o->sink);
                o->fd = safe_close(o->fd);
                return;
        }
        for (size_t i = n_clients; i > 0; i--) {
                int fd = o->is_stderr ? clients[i - 1].err : clients[i - 1].out;
                /* A client that went away (or, attached later, does not keep up) is dropped; the
                 * container and its logging go on. */
                if (fd >= 0 && loop_write(fd, buf, (size_t) n) < 0)
                        client_drop(i - 1);
        }
        (void) log_stream_feed(&o->lines, buf, (size_t) n);
        log_sink_flush(o->sink);
}

static int receive_fd(int socket, int *ret) {
        char byte;
        size_t n_fds = 0;
        ssize_t n = receive_with_fds(socket, &byte, 1, ret, 1, &n_fds);
        if (n < 0)
                return (int) n;
        return n == 0 || n_fds != 1 ? -EBADMSG : 0;
}

/* Requests of berthd on the attach socket: "A" with a new client's stdin, stdout and stderr (in
 * that order), or "T" for the terminal's master (berthd lost it when it restarted; ResizeTerminal
 * needs it). */
static void accept_client(int listen_fd, int master) {
        bool tty = master >= 0;
        _cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        int fds[3] = { -1, -1, -1 };
        size_t n_fds = 0;
        char byte;
        if (conn < 0)
                return;
        /* berthd sends right after connecting; never let a silent peer stall the container. */
        struct timeval tv = { .tv_sec = 1 };
        (void) setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (receive_with_fds(conn, &byte, 1, fds, 3, &n_fds) != 1) {
                for (size_t i = 0; i < n_fds; i++)
                        safe_close(fds[i]);
                return;
        }
        if (byte == 'T' && n_fds == 0) {
                if (tty)
                        (void) send_with_fd(conn, "T", 1, master);
                return;
        }
        if (byte != 'A' || n_fds != 3 || n_clients >= ATTACH_CLIENTS_MAX) {
                for (size_t i = 0; i < n_fds; i++)
                        safe_close(fds[i]);
                return;
        }
        for (int i = 1; i < 3; i++) {
                /* Non-blocking, on an open file description of our own where possible (reopened
                 * through /proc), so the client's own stays as it was. */
                char path[64];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
                int own = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                if (own >= 0) {
                        safe_close(fds[i]);
                        fds[i] = own;
                } else
                        (void) fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        }
        clients[n_clients++] = (AttachClient){
                .in = tty ? fds[0] : safe_close(fds[0]), /* without a terminal the payload's stdin is fixed */
                .out = fds[1],
                .err = tty ? safe_close(fds[2]) : fds[2], /* a terminal has one stream */
                .nonblocking = true,
        };
        (void) send(conn, "1", 1, MSG_NOSIGNAL); /* attached: output from here on reaches it */
}

static int listen_attach(const ContainerSpec *spec) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", spec->rundir, HELPER_ATTACH_SOCKET) >=
            sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(sa.sun_path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0600) < 0 || listen(fd, 4) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static int exit_code_of(const siginfo_t *si) {
        if (si->si_code == CLD_EXITED)
                return si->si_status;
        return 128 + si->si_status; /* killed or dumped, as shells and Docker report it */
}

/* The terminal is non-blocking: what it does not take now waits in the client's buffer (and the
 * client is not read again until it is empty), so a program that does not read its input cannot
 * stall the supervisor, its logging or the other clients. */
static void flush_input(AttachClient *c, int master) {
        if (c->n_pending == 0)
                return;
        ssize_t n = write(master, c->pending, c->n_pending);
        if (n > 0) {
                memmove(c->pending, c->pending + n, c->n_pending - (size_t) n);
                c->n_pending -= (size_t) n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR)
                c->n_pending = 0; /* the terminal is gone */
}

static void relay_input(AttachClient *c, int master) {
        ssize_t n = read(c->in, c->pending, sizeof(c->pending));
        if (n > 0) {
                c->n_pending = (size_t) n;
                flush_input(c, master);
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                c->in = safe_close(c->in); /* this client's input ended (or it detached) */
}

/* The cgroup.procs file of our scope: on the unified hierarchy, at /sys/fs/cgroup or (hybrid hosts)
 * /sys/fs/cgroup/unified, else systemd's own v1 hierarchy. */
static int scope_procs_path(char **ret) {
        _cleanup_free_ char *cgroups = NULL;
        int r = read_full_file("/proc/self/cgroup", &cgroups, NULL);
        if (r < 0)
                return r;
        char *unified = NULL, *named = NULL;
        for (char *line = strtok(cgroups, "\n"); line; line = strtok(NULL, "\n"))
                if (!strncmp(line, "0::/", 4))
                        unified = line + 3;
                else if (strstr(line, ":name=systemd:/"))
                        named = strstr(line, ":name=systemd:/") + 14;
        const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd" };
        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                const char *p = i < 2 ? unified : named;
                _cleanup_free_ char *path = NULL;
                if (!p || asprintf(&path, "%s%s/cgroup.procs", roots[i], p) < 0)
                        continue;
                if (access(path, R_OK) == 0) {
                        *ret = TAKE_PTR(path);
                        return 0;
                }
        }
        return -ENOENT;
}

/* --pid host: no PID namespace ends with the payload, so when it exits we kill what is left in our
 * scope (its descendants, exec'd processes), as runc does for a shared PID namespace, and wait for
 * each to be gone (pidfds: no sleeping), reaping the orphans that came to us. */
static void kill_leftovers(void) {
        _cleanup_free_ char *path = NULL;
        if (scope_procs_path(&path) < 0)
                return;
        for (unsigned round = 0; round < 64; round++) {
                _cleanup_free_ char *procs = NULL;
                struct pollfd fds[256];
                size_t n = 0;
                if (read_full_file(path, &procs, NULL) < 0)
                        break;
                for (char *line = strtok(procs, "\n"); line && n < ELEMENTSOF(fds); line = strtok(NULL, "\n")) {
                        int pid = atoi(line);
                        if (pid <= 0 || pid == getpid())
                                continue;
                        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
                        if (fd < 0)
                                continue;
                        (void) syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
                        fds[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
                }
                for (size_t left = n; left > 0;) {
                        if (poll(fds, n, -1) < 0 && errno != EINTR)
                                break;
                        for (size_t i = 0; i < n; i++)
                                if (fds[i].fd >= 0 && fds[i].revents) {
                                        fds[i].fd = safe_close(fds[i].fd);
                                        left--;
                                }
                        siginfo_t si;
                        while ((si.si_pid = 0, waitid(P_ALL, 0, &si, WEXITED | WNOHANG)) == 0 && si.si_pid > 0)
                                ;
                }
                for (size_t i = 0; i < n; i++)
                        safe_close(fds[i].fd);
                if (n == 0)
                        break;
        }
}

/* streams[0].fd is the terminal's master for Tty containers, where clients' input is relayed;
 * without a terminal, the starting client's input (run -i) goes into the payload's stdin pipe,
 * stdin_pipe, which is closed when that input ends. pid_host: the payload's PID when it shares the
 * host's PID namespace (--pid host), else 0. */
static int supervise(int pidfd, pid_t pid_host, OutputStream streams[2], int listen_fd, int stdin_pipe,
                     int *ret_exit_code) {
        bool exited = false;
        int exit_code = 255;

        bool tty = streams[0].tty;
        int input = tty ? streams[0].fd : stdin_pipe; /* where clients' input goes */
        if (input >= 0)
                (void) fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK);
        while (!exited || streams[0].fd >= 0 || streams[1].fd >= 0) {
                bool pending = false, reading = false;
                for (size_t i = 0; i < n_clients; i++) {
                        pending = pending || clients[i].n_pending > 0;
                        reading = reading || clients[i].in >= 0;
                }
                if (!tty && input >= 0 && !pending && !reading)
                        input = stdin_pipe = safe_close(stdin_pipe); /* the payload's stdin ends */
                struct pollfd p[5 + 2 * ATTACH_CLIENTS_MAX] = {
                        { .fd = streams[0].fd, .events = POLLIN | (tty && pending ? POLLOUT : 0) },
                        { .fd = streams[1].fd, .events = POLLIN },
                        { .fd = exited ? -1 : pidfd, .events = POLLIN },
                        { .fd = exited ? -1 : listen_fd, .events = POLLIN },
                        { .fd = !tty && pending ? input : -1, .events = POLLOUT },
                };
                size_t n_polled = n_clients;
                bool relaying = input >= 0 && (!tty || streams[0].fd >= 0);
                for (size_t i = 0; i < n_polled; i++) {
                        p[5 + 2 * i] = (struct pollfd){ .fd = relaying && clients[i].n_pending == 0 ? clients[i].in
                                                                                                    : -1,
                                                        .events = POLLIN };
                        /* No events asked: POLLERR/POLLHUP alone say the client closed its end
                         * (detached), so its slot is freed even while nothing is written. */
                        p[5 + 2 * i + 1] = (struct pollfd){ .fd = clients[i].out >= 0 ? clients[i].out
                                                                                      : clients[i].err };
                }
                if (poll(p, 5 + 2 * n_polled, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if ((p[0].revents | p[4].revents) & (POLLOUT | POLLERR))
                        for (size_t i = 0; i < n_clients; i++)
                                flush_input(&clients[i], input);
                for (size_t i = 0; i < n_polled; i++)
                        if (p[5 + 2 * i].revents)
                                relay_input(&clients[i], input);
                for (size_t i = n_polled; i > 0; i--)
                        if (p[5 + 2 * (i - 1) + 1].revents & (POLLERR | POLLHUP))
                                client_drop(i - 1);
                for (int i = 0; i < 2; i++)
                        if (p[i].revents)
                                output_read(&streams[i]);
                if (p[3].revents)
                        accept_client(listen_fd, tty ? streams[0].fd : -1);
                if (p[2].revents) {
                        siginfo_t si = {};
                        if (waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED) < 0)
                                return -errno;
                        exit_code = exit_code_of(&si);
                        exited = true;
                        if (pid_host)
                                kill_leftovers(); /* else the kernel ends the PID namespace with it */
                }
                /* --pid host: orphans of the payload are our children; reap those that exited. */
                if (pid_host && !exited) {
                        siginfo_t si;
                        while ((si.si_pid = 0, waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT)) == 0 &&
                               si.si_pid > 0 && si.si_pid != pid_host)
                                (void) waitid(P_PID, (id_t) si.si_pid, &si, WEXITED);
                }
        }
        safe_close(stdin_pipe);
        *ret_exit_code = exit_code;
        return 0;
}

static int write_runtime_file(const ContainerSpec *spec, const char *name, const char *content, size_t len) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", spec->rundir, name) < 0)
                return -ENOMEM;
        return write_file_atomic(path, content, len, 0644);
}

static int write_running_file(const ContainerSpec *spec, pid_t payload, uint64_t started) {
        char line[HELPER_RUNTIME_LINE_MAX];
        int n = helper_running_format(
                &(HelperRunning){ .helper_pid = getpid(), .payload_pid = payload, .started_usec = started }, line,
                sizeof(line));
        return n < 0 ? n : write_runtime_file(spec, HELPER_RUNNING_FILE, line, (size_t) n);
}

static int write_exit_file(const ContainerSpec *spec, const HelperExit *exit_info) {
        char line[HELPER_RUNTIME_LINE_MAX];
        int n = helper_exit_format(exit_info, line, sizeof(line));
        return n < 0 ? n : write_runtime_file(spec, HELPER_EXIT_FILE, line, (size_t) n);
}

/* The value of 'key' in a "key value" per line file (memory.events, memory.oom_control). */
static int read_keyed_u64(const char *path, const char *key, uint64_t *ret) {
        _cleanup_free_ char *content = NULL;
        int r = read_full_file(path, &content, NULL);
        if (r < 0)
                return r;
        size_t n = strlen(key);
        for (char *line = content; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (!strncmp(line, key, n) && line[n] == ' ')
                        return sscanf(line + n + 1, "%" SCNu64, ret) == 1 ? 0 : -EBADMSG;
        return -ENOENT;
}

/* How many processes of our scope the kernel's OOM killer killed: memory.events "oom_kill" where
 * the memory controller is on the unified hierarchy, memory.oom_control "oom_kill" where it is a
 * cgroup v1 one (hybrid hosts). systemd 252 exposes no such counter for scopes. We are in the
 * scope ourselves, so /proc/self/cgroup names it. 0 when nothing can be read. */
static uint64_t read_oom_kills(void) {
        _cleanup_free_ char *cgroups = NULL;
        uint64_t v1 = 0, v2 = 0;
        if (read_full_file("/proc/self/cgroup", &cgroups, NULL) < 0)
                return 0;
        for (char *line = strtok(cgroups, "\n"); line; line = strtok(NULL, "\n")) {
                _cleanup_free_ char *path = NULL;
                char *p;
                uint64_t v;
                if ((p = strstr(line, ":memory:/")) && strchr(line, ':') == p) {
                        if (asprintf(&path, "/sys/fs/cgroup/memory%s/memory.oom_control", p + 8) >= 0 &&
                            read_keyed_u64(path, "oom_kill", &v) >= 0)
                                v1 = v;
                } else if (!strncmp(line, "0::/", 4)) {
                        if (asprintf(&path, "/sys/fs/cgroup%s/memory.events", line + 3) >= 0 &&
                            read_keyed_u64(path, "oom_kill", &v) >= 0)
                                v2 = v;
                }
        }
        return v1 > v2 ? v1 : v2;
}

/* With a user namespace it is created first, so it owns all the others. --pid, --ipc and --uts
 * host keep the host's namespace of that kind; --network host and container take no new one (the
 * child joins the other container's). */
static pid_t clone_container(const ContainerSpec *spec, int *ret_pidfd) {
        struct clone_args args = {
                .flags = CLONE_NEWNS | (spec->cgroupns_host ? 0 : CLONE_NEWCGROUP) | CLONE_PIDFD |
                        (container_spec_own_netns(spec) ? CLONE_NEWNET : 0) |
                        (container_spec_pid_shared(spec) ? 0 : CLONE_NEWPID) | (spec->uts_host ? 0 : CLONE_NEWUTS) |
                        (spec->ipc_host || spec->ipc_join_pid > 0 ? 0 : CLONE_NEWIPC) |
                        (spec->userns_base > 0 ? CLONE_NEWUSER : 0),
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
        };
        return (pid_t) syscall(SYS_clone3, &args, sizeof(args));
}

/* 'error': a sentence saying what is wrong with the spec, when there is one. */
static int read_spec(ContainerSpec **ret, char *error, size_t error_size) {
        _cleanup_(container_spec_freep) ContainerSpec *spec = NULL;
        _cleanup_free_ char *json = NULL;
        size_t len;
        int r = read_full_fd(HELPER_FD_SPEC, &json, &len);
        (void) close(HELPER_FD_SPEC);
        if (r < 0)
                return r;
        r = container_spec_parse(json, len, &spec, error, error_size);
        if (r < 0)
                return r;
        r = spec->seccomp_filter ? seccomp_program_read(HELPER_FD_SECCOMP, &spec->seccomp) : 0;
        (void) close(HELPER_FD_SECCOMP);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(spec);
        return 0;
}

static int wait_for_go(void) {
        char c;
        ssize_t n;
        do
                n = read(HELPER_FD_GO, &c, 1);
        while (n < 0 && errno == EINTR);
        (void) close(HELPER_FD_GO);
        return n == 1 ? 0 : -ECANCELED;
}

/* Whatever runs from here on is accounted and limited by the container's scope: make sure we are
 * in it, rather than trusting that berthd got the ordering right. Reports its failure. */
static int check_in_scope(const ContainerSpec *spec) {
        _cleanup_free_ char *cgroup = NULL, *unit = NULL;
        int r = read_full_file("/proc/self/cgroup", &cgroup, NULL);
        if (r < 0)
                return report_failure(-r, "read the cgroup of berth-nspawn");
        if (asprintf(&unit, "/berth-%.12s.scope\n", spec->id) < 0)
                return report_failure(ENOMEM, "check the cgroup of berth-nspawn");
        if (!strstr(cgroup, unit))
                return report_failure_message(
                        EUCLEAN, "berth-nspawn is not in the container's scope berth-%.12s.scope.", spec->id);
        return 0;
}

/* Exec mode: join the namespaces of the container's PID 1 and run one more process there, with
 * the same confinement. berthd has put us into the container's scope before "go". Our exit status
 * is the process's exit code. Our stdio (0, 1, 2) is the caller's: the process gets pipes (or a
 * terminal) of its own, relayed here, so nothing it leaves behind keeps the caller's. */
static int run_exec(const ContainerSpec *spec) {
        _cleanup_close_ int pidfd = -1, exec_r = -1, exec_w = -1;
        int pipes[2], r;

        pidfd = (int) syscall(SYS_pidfd_open, spec->exec_pid, 0);
        if (pidfd < 0)
                return report_failure_message(errno, "The container is not running.");
        /* The pidfd pins the process; only now check it is the container's (no PID reuse). */
        _cleanup_free_ char *cgpath = NULL, *cg = NULL, *unit = NULL;
        if (asprintf(&cgpath, "/proc/%d/cgroup", spec->exec_pid) < 0 ||
            asprintf(&unit, "/berth-%.12s.scope\n", spec->id) < 0)
                return report_failure(ENOMEM, "check the container's process");
        if (read_full_file(cgpath, &cg, NULL) < 0 || !strstr(cg, unit))
                return report_failure_message(ESRCH, "The container is not running.");
        if (setns(pidfd,
                  CLONE_NEWNS | (spec->cgroupns_host ? 0 : CLONE_NEWCGROUP) |
                          (spec->net_mode == NET_MODE_HOST ? 0 : CLONE_NEWNET) | (spec->pid_host ? 0 : CLONE_NEWPID) |
                          (spec->uts_host ? 0 : CLONE_NEWUTS) | (spec->ipc_host ? 0 : CLONE_NEWIPC) |
                          (spec->userns_base > 0 ? CLONE_NEWUSER : 0)) < 0)
                return report_failure(errno, "join the container's namespaces");
        if (spec->userns_base > 0 && (r = userns_become_root()) < 0)
                return report_failure(-r, "become root in the container's user namespace");
        if (pipe2(pipes, O_CLOEXEC) < 0)
                return report_failure(errno, "create pipes");
        exec_r = pipes[0], exec_w = pipes[1];

        /* The process's ends of its stdin, stdout and stderr pipes (child[]) and ours (relay_fds[]). */
        _cleanup_close_ int tty_r = -1, tty_w = -1, master = -1;
        _cleanup_close_ int child_in = -1, child_out = -1, child_err = -1, relay_in = -1, relay_out = -1,
                            relay_err = -1;
        if (spec->tty) {
                if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pipes) < 0)
                        return report_failure(errno, "create a socket pair");
                tty_r = pipes[0], tty_w = pipes[1];
        } else {
                int in[2], out[2], err[2];
                if (pipe2(in, O_CLOEXEC) < 0)
                        return report_failure(errno, "create pipes");
                child_in = in[0], relay_in = in[1];
                if (pipe2(out, O_CLOEXEC) < 0)
                        return report_failure(errno, "create pipes");
                relay_out = out[0], child_out = out[1];
                if (pipe2(err, O_CLOEXEC) < 0)
                        return report_failure(errno, "create pipes");
                relay_err = err[0], child_err = err[1];
        }

        pid_t pid = fork(); /* the first process in the joined PID namespace */
        if (pid < 0)
                return report_failure(errno, "fork the process to run");
        if (pid == 0)
                exec_child(spec, isempty(spec->cwd) ? "/" : spec->cwd, tty_w,
                           (int[3]){ child_in, child_out, child_err }, exec_w);
        exec_w = safe_close(exec_w);
        tty_w = safe_close(tty_w);
        child_in = safe_close(child_in);
        child_out = safe_close(child_out);
        child_err = safe_close(child_err);
        _cleanup_close_ int child_pidfd = (int) syscall(SYS_pidfd_open, pid, 0);

        _cleanup_free_ char *failure = NULL;
        size_t failure_len = 0;
        r = read_full_fd(exec_r, &failure, &failure_len);
        int status = 0;
        (void) (r >= 0 && failure_len == 0 ? 0 : waitpid(pid, &status, 0));
        if (r < 0)
                return report_failure(-r, "read the status of the process to run");
        if (failure_len > 0)
                return report_child_failure(failure, failure_len);
        if (child_pidfd < 0 || (spec->tty && (r = receive_fd(tty_r, &master)) < 0)) {
                r = child_pidfd < 0 ? -errno : r;
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, &status, 0);
                return report_failure(-r, "%s",
                                      child_pidfd < 0 ? "watch the process" : "receive the process's terminal");
        }
        HelperStatus ok;
        helper_status_ok(&ok, pid, now_realtime_usec());
        (void) report_status(&ok, -1);

        ExecRelay relay = {
                .pidfd = TAKE_FD(child_pidfd),
                .caller_in = STDIN_FILENO,
                .caller_out = STDOUT_FILENO,
                .caller_err = STDERR_FILENO,
                .in = TAKE_FD(relay_in),
                .out = TAKE_FD(relay_out),
                .err = TAKE_FD(relay_err),
                .resize = spec->tty && spec->exec_resize ? HELPER_FD_ATTACH_STDIN : -1,
                .tty = spec->tty,
        };
        if (spec->tty) {
                relay.out = TAKE_FD(master);
                relay.in = fcntl(relay.out, F_DUPFD_CLOEXEC, 3); /* -1: no input then, output still */
        }
        return exec_relay_run(&relay);
}

/* --userns=auto: the child waits for its id maps and its root file system, both needing host
 * privilege, then for a byte on userns_w. On failure the child is killed and the failure reported. */
static int userns_hand_over(const ContainerSpec *spec, pid_t pid, int pidfd, int userns_w) {
        char what[512] = "";
        int r = userns_write_maps(pid, spec->userns_base);
        if (r < 0)
                snprintf(what, sizeof(what), "write the container's id maps");
        else
                r = userns_mount_rootfs(spec, pid, what, sizeof(what)); /* 'what' a verb phrase */
        if (r >= 0 && loop_write(userns_w, "u", 1) < 0) {
                r = -EPIPE;
                snprintf(what, sizeof(what), "hand over to the container");
        }
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitid(P_PIDFD, (id_t) pidfd, &(siginfo_t){}, WEXITED);
                return report_failure(-r, "%s", what);
        }
        return 0;
}

/* --network private: the child waits on net_w until its interfaces exist. When the child is gone
 * before that, its own report follows on the exec pipe. On failure the child is killed and the
 * failure reported. */
static int net_hand_over(const ContainerSpec *spec, pid_t pid, int pidfd, int net_w) {
        char what[256] = "";
        int r = net_create_interfaces(spec, pid, what, sizeof(what));
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitid(P_PIDFD, (id_t) pidfd, &(siginfo_t){}, WEXITED);
                return report_failure(-r, "%s", what);
        }
        (void) loop_write(net_w, "n", 1);
        return 0;
}

/* --pid/--ipc container: join that container's namespace of this kind ourselves, before the clone,
 * so the child is born in it (setns of a PID namespace changes only where our children go). The
 * process must be a berth container's (not a reused PID). */
/* Set once our children go into another container's PID namespace: then the exit must not run
 * exit-time hooks either (LeakSanitizer's tracer would be forked there and never see us). */
static bool joined_pid_namespace;

static int join_peer_namespace(int peer_pid, int nstype, const char *kind) {
        _cleanup_free_ char *path = NULL, *cgroup = NULL;
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, peer_pid, 0);
        if (pidfd < 0 && errno != ESRCH)
                return report_failure(errno, "open the process of the container whose %s namespace is shared", kind);
        if (asprintf(&path, "/proc/%d/cgroup", peer_pid) < 0)
                return report_failure(ENOMEM, "check the container whose %s namespace is shared", kind);
        if (pidfd < 0 || read_full_file(path, &cgroup, NULL) < 0 || !strstr(cgroup, "/berth-"))
                return report_failure_message(ESRCH, "The container whose %s namespace is shared is not running.",
                                              kind);
        if (setns(pidfd, nstype) < 0)
                return report_failure(errno, "join the %s namespace of container process %d", kind, peer_pid);
        if (nstype == CLONE_NEWPID)
                joined_pid_namespace = true;
        return 0;
}

/* --network container: a pidfd of that container's process, for the child to join its network
 * namespace. The process must be a berth container's (not a reused PID). */
static int open_net_join(const ContainerSpec *spec, int *ret) {
        _cleanup_free_ char *path = NULL, *cgroup = NULL;
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, spec->net_join_pid, 0);
        if (pidfd < 0 && errno != ESRCH)
                return report_failure(errno, "open the process of the container whose network is shared");
        if (asprintf(&path, "/proc/%d/cgroup", spec->net_join_pid) < 0)
                return report_failure(ENOMEM, "check the container whose network is shared");
        if (pidfd < 0 || read_full_file(path, &cgroup, NULL) < 0 || !strstr(cgroup, "/berth-"))
                return report_failure_message(ESRCH, "The container whose network is shared is not running.");
        *ret = TAKE_FD(pidfd);
        return 0;
}

/* The supervisor stays as long as its container: whatever setup touched should not stay mapped.
 * Read-only mappings of our own file (code, constants) are dropped from the page tables; the
 * supervisor's loop faults back the few pages it runs (they are the page cache's, shared with
 * every other supervisor, so this costs no I/O). Only mappings without private copies of pages:
 * the RELRO one was written (relocations) before it became read-only, and dropping it would bring
 * back the file's unrelocated contents. */
static void drop_setup_pages(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/smaps", "re");
        char exe[PATH_MAX], line[PATH_MAX + 128];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        unsigned long start = 0, end = 0;
        bool candidate = false;

        (void) malloc_trim(0);
        if (!f || n <= 0)
                return;
        exe[n] = 0;
        while (fgets(line, sizeof(line), f)) {
                unsigned long a, b, anon;
                char perms[5];
                int path = 0;
                line[strcspn(line, "\n")] = 0;
                if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &a, &b, perms, &path) >= 3 && path > 0) {
                        /* A new mapping: its fields follow. */
                        start = a, end = b;
                        candidate = perms[1] == '-' && streq(line + path, exe);
                } else if (candidate && sscanf(line, "Anonymous: %lu kB", &anon) == 1) {
                        if (anon == 0)
                                (void) madvise((void *) start, end - start, MADV_DONTNEED);
                        candidate = false;
                }
        }
}

/* Static, not on the stack: the line buffers (and the journal's) cost memory only once output
 * fills them. */
static JournalWriter journal;
static LogSink log_sink;
static OutputStream streams[2];

/* Relay, log and reap until the payload exited and its output ended, then record the exit. Takes
 * over out_r, err_r (the payload's output; out_r alone with a terminal) and stdin_w. */
static int supervise_container(const ContainerSpec *spec, pid_t pid, int pidfd, int out_r, int err_r, int listen_fd,
                               int stdin_w) {
        streams[0].fd = out_r;
        streams[0].priority = 6;
        streams[1].fd = err_r;
        streams[1].is_stderr = true;
        streams[1].priority = 3;
        streams[0].sink = streams[1].sink = &log_sink;
        if (spec->attached || spec->input)
                clients[n_clients++] = (AttachClient){
                        .out = spec->attached ? HELPER_FD_ATTACH_STDOUT : -1,
                        .err = spec->attached && !spec->tty ? HELPER_FD_ATTACH_STDERR : -1,
                        .in = spec->input ? HELPER_FD_ATTACH_STDIN : -1,
                };

        for (int i = 0; i < 2; i++)
                log_stream_init(&streams[i].lines, emit_line, &streams[i]);

        int exit_code = 255;
        streams[0].tty = spec->tty;
        drop_setup_pages();
        int r = supervise(pidfd, container_spec_pid_shared(spec) ? pid : 0, streams, listen_fd, stdin_w, &exit_code);
        /* The interfaces are not removed here: deleting a veth takes the kernel some 20 ms, on the
         * path every "run --rm" waits for. They go with the container's network namespace (the
         * kernel's cleanup, after the exit), and a next start that still finds the host end
         * replaces it (nspawn-net.c). */
        for (int i = 0; i < 2; i++)
                safe_close(streams[i].fd);
        while (n_clients > 0)
                client_drop(n_clients - 1); /* EOF for every attached client: the container is gone */
        log_sink_done(&log_sink); /* the lines still buffered, the last report of drops */
        journal_writer_done(&journal); /* everything stored before the exit is recorded */
        if (r < 0)
                return r;
        return write_exit_file(spec,
                               &(HelperExit){ .exit_code = exit_code,
                                              .finished_usec = now_realtime_usec(),
                                              .oom_kills = read_oom_kills() });
}

static int write_oom_score_adj(int value) {
        char text[16];
        int n = snprintf(text, sizeof(text), "%d", value);
        _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return loop_write(fd, text, (size_t) n);
}

/* --oom-score-adj, which Docker always sets (0 by default): ours, for the container's first process
 * or the exec'd one to inherit. Set here, in the host's user namespace, since a child that is not
 * dumpable (or in a user namespace of its own) may not open its own file. Lowering it needs
 * CAP_SYS_RESOURCE. The supervisor takes -1000 again after the clone. */
static int set_oom_score_adj(const ContainerSpec *spec) {
        if (!spec->oom_score_adj_set)
                return 0;
        int r = write_oom_score_adj(spec->oom_score_adj);
        if (r < 0)
                return report_failure(-r, "set the OOM score adjustment to %d", spec->oom_score_adj);
        return 0;
}

/* The start of every run: what we are named and ignore, the spec, berthd's "go", the checks.
 * An exec runs here and never returns. */
static int start_up(ContainerSpec **ret) {
        _cleanup_(container_spec_freep) ContainerSpec *spec = NULL;
        int r;

        (void) close(HELPER_FD_EXE); /* executing from it is done: nothing of ours should hold it */
        /* Run through /proc/self/fd/10, the kernel named us "10": ps, systemd-cgls and journald's
         * _COMM should say what we are. */
        (void) prctl(PR_SET_NAME, "berth-nspawn");
        /* Stopping the scope signals every process in it; the supervisor stays to record the exit. */
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);

        char error[HELPER_STATUS_MESSAGE_MAX] = "";
        r = read_spec(&spec, error, sizeof(error));
        if (r < 0 && error[0])
                return report_failure_message(-r, "%s", error);
        if (r < 0)
                return report_failure(-r, "read the container's spec");
        r = wait_for_go();
        if (r < 0)
                return r; /* berthd gave up on this start (or died): leave nothing behind */
        r = check_in_scope(spec);
        if (r < 0)
                return r;
        r = set_oom_score_adj(spec);
        if (r < 0)
                return r;
        if (spec->exec_pid > 0) {
                /* _exit(): nothing is buffered, and exit-time hooks (LeakSanitizer's, which forks a
                 * tracer into the joined PID namespace where it cannot see us) must not run here. */
                r = run_exec(spec);
                _exit(r < 0 ? 255 : r);
        }
        *ret = TAKE_PTR(spec);
        return 0;
}

static int run(void) {
        _cleanup_(container_spec_freep) ContainerSpec *spec = NULL;
        _cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1, exec_r = -1, exec_w = -1, pidfd = -1;
        int pipes[2], r;

        r = start_up(&spec);
        if (r < 0)
                return r;

        if (pipe2(pipes, O_CLOEXEC) < 0)
                return report_failure(errno, "create pipes");
        out_r = pipes[0], out_w = pipes[1];
        if (pipe2(pipes, O_CLOEXEC) < 0)
                return report_failure(errno, "create pipes");
        err_r = pipes[0], err_w = pipes[1];
        if (pipe2(pipes, O_CLOEXEC) < 0)
                return report_failure(errno, "create pipes");
        exec_r = pipes[0], exec_w = pipes[1];

        _cleanup_close_ int tty_r = -1, tty_w = -1, master = -1;
        if (spec->tty) {
                if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pipes) < 0)
                        return report_failure(errno, "create a socket pair");
                tty_r = pipes[0], tty_w = pipes[1];
        }

        /* run -i without a terminal: the payload reads a pipe of its own, never the client's
         * descriptor (a process it leaves behind would keep the client's terminal). */
        _cleanup_close_ int stdin_r = -1, stdin_w = -1;
        if (spec->input && !spec->tty) {
                if (pipe2(pipes, O_CLOEXEC) < 0)
                        return report_failure(errno, "create pipes");
                stdin_r = pipes[0], stdin_w = pipes[1];
        }

        _cleanup_close_ int userns_r = -1, userns_w = -1;
        if (spec->userns_base > 0) {
                if (pipe2(pipes, O_CLOEXEC) < 0)
                        return report_failure(errno, "create pipes");
                userns_r = pipes[0], userns_w = pipes[1];
                r = userns_chown_volumes(spec);
                if (r < 0)
                        return report_failure(-r, "hand the volumes to the container's root");
        }

        _cleanup_close_ int net_r = -1, net_w = -1, net_join_fd = -1;
        if (spec->net_mode == NET_MODE_PRIVATE && spec->n_interfaces > 0) {
                if (pipe2(pipes, O_CLOEXEC) < 0)
                        return report_failure(errno, "create pipes");
                net_r = pipes[0], net_w = pipes[1];
        } else if (spec->net_mode == NET_MODE_CONTAINER && (r = open_net_join(spec, &net_join_fd)) < 0)
                return r;

        if (spec->pid_join_pid > 0 && (r = join_peer_namespace(spec->pid_join_pid, CLONE_NEWPID, "PID")) < 0)
                return r;
        if (spec->ipc_join_pid > 0 && (r = join_peer_namespace(spec->ipc_join_pid, CLONE_NEWIPC, "IPC")) < 0)
                return r;
        /* --pid host or container: no namespace ends with the payload, so what it leaves behind is ours
         * to reap and to kill when it exits (see kill_leftovers()). */
        if (container_spec_pid_shared(spec) && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return report_failure(errno, "become a subreaper");
        pid_t pid = clone_container(spec, &pidfd);
        if (pid < 0)
                return report_failure(errno, "create the container's namespaces");
        if (pid == 0) {
                /* Our end only: should the supervisor die, the child's wait for it ends. */
                userns_w = safe_close(userns_w);
                net_w = safe_close(net_w);
                container_child(spec, stdin_r, out_w, err_w, tty_w, userns_r, net_r, net_join_fd, exec_w);
        }
        userns_r = safe_close(userns_r);
        net_r = safe_close(net_r);
        net_join_fd = safe_close(net_join_fd);
        /* The listening sockets are the payload's now (berthd keeps its own for the next start). */
        for (unsigned i = 0; i < spec->n_listen_fds; i++)
                (void) close(HELPER_FD_LISTEN_FIRST + (int) i);
        if (spec->userns_base > 0) {
                r = userns_hand_over(spec, pid, pidfd, userns_w);
                if (r < 0)
                        return r;
                userns_w = safe_close(userns_w);
        }
        if (net_w >= 0) {
                r = net_hand_over(spec, pid, pidfd, net_w);
                if (r < 0)
                        return r;
                net_w = safe_close(net_w);
        }
        /* Only now (the payload keeps the default): when the scope runs out of memory the OOM
         * killer must pick the payload, never its supervisor, or the exit status would be lost. */
        (void) write_oom_score_adj(-1000);

        out_w = safe_close(out_w);
        err_w = safe_close(err_w);
        tty_w = safe_close(tty_w);
        stdin_r = safe_close(stdin_r);
        exec_w = safe_close(exec_w);

        /* EOF without a message means the exec succeeded (the pipe is O_CLOEXEC). */
        _cleanup_free_ char *failure = NULL;
        size_t failure_len = 0;
        r = read_full_fd(exec_r, &failure, &failure_len);
        if (r < 0 || failure_len > 0) {
                siginfo_t si;
                (void) waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED);
                net_remove_interfaces(spec);
                if (r < 0)
                        return report_failure(-r, "read the status of the container's process");
                return report_child_failure(failure, failure_len);
        }

        if (spec->tty) {
                r = receive_fd(tty_r, &master);
                if (r < 0) {
                        (void) kill(pid, SIGKILL);
                        net_remove_interfaces(spec);
                        return report_failure(-r, "receive the container's terminal");
                }
                /* The terminal replaces the pipes: one stream (a terminal merges stdout and stderr). */
                out_r = safe_close(out_r);
                err_r = safe_close(err_r);
                out_r = TAKE_FD(master);
        }

        uint64_t started = now_realtime_usec();
        r = write_running_file(spec, pid, started);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                net_remove_interfaces(spec);
                return report_failure(-r, "record the running state in %s/%s", spec->rundir, HELPER_RUNNING_FILE);
        }

        char unit[sizeof("berth-.scope") + BERTH_SHORT_ID_LEN];
        snprintf(unit, sizeof(unit), "berth-%.12s.scope", spec->id);
        r = journal_writer_init(&journal, spec, unit);
        if (r >= 0)
                r = log_sink_init(&log_sink, spec, &journal);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                net_remove_interfaces(spec);
                return report_failure(-r, "prepare logging to the journal");
        }
        /* Before "OK": once berthd says the container runs, attaching to it must work. Without the
         * socket nobody can attach later, but the container runs as well. */
        _cleanup_close_ int listen_fd = listen_attach(spec);
        HelperStatus ok;
        helper_status_ok(&ok, pid, started);
        if (report_status(&ok, spec->tty ? out_r : -1) < 0)
                /* berthd died after "go": nobody knows this run started. End it (it is recorded as
                 * exited, 137), rather than leave a container running that berthd may not adopt. */
                (void) kill(pid, SIGKILL);

        return supervise_container(spec, pid, pidfd, TAKE_FD(out_r), TAKE_FD(err_r), listen_fd, TAKE_FD(stdin_w));
}

int main(int argc, char *argv[]) {
        (void) argc;
        (void) argv; /* argv[1] is the short id, only so ps and the journal's _CMDLINE tell containers apart */
        int r = run();
        /* In exec mode a non-negative result is the exec'd process's exit code. */
        if (joined_pid_namespace)
                _exit(r < 0 ? 255 : r);
        return r < 0 ? 255 : r;
}
