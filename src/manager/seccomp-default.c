/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <seccomp.h>
#include <stdint.h>

#include "capability-names.h"
#include "macro.h"
#include "seccomp-default.h"
#include "seccomp-profile.h"

/* System calls any container may make. Names unknown on this architecture are skipped. Not here,
 * and so refused: kernel modules, kexec, reboot, swap, clock setting, keyrings, namespace and mount
 * manipulation, bpf, perf, userfaultfd, open_by_handle_at, and the like (they need capabilities
 * that containers do not get by default). */
static const char *const allowed[] = {
        /* files and descriptors */
        "access",
        "chdir",
        "chmod",
        "chown",
        "chown32",
        "close",
        "close_range",
        "copy_file_range",
        "creat",
        "dup",
        "dup2",
        "dup3",
        "faccessat",
        "faccessat2",
        "fadvise64",
        "fadvise64_64",
        "fallocate",
        "fanotify_mark",
        "fchdir",
        "fchmod",
        "fchmodat",
        "fchown",
        "fchown32",
        "fchownat",
        "fcntl",
        "fcntl64",
        "fdatasync",
        "fgetxattr",
        "flistxattr",
        "flock",
        "fremovexattr",
        "fsetxattr",
        "fstat",
        "fstat64",
        "fstatat64",
        "fstatfs",
        "fstatfs64",
        "fsync",
        "ftruncate",
        "ftruncate64",
        "futimesat",
        "getcwd",
        "getdents",
        "getdents64",
        "getxattr",
        "inotify_add_watch",
        "inotify_init",
        "inotify_init1",
        "inotify_rm_watch",
        "lchown",
        "lchown32",
        "lgetxattr",
        "link",
        "linkat",
        "listxattr",
        "llistxattr",
        "_llseek",
        "lremovexattr",
        "lseek",
        "lsetxattr",
        "lstat",
        "lstat64",
        "memfd_create",
        "memfd_secret",
        "mkdir",
        "mkdirat",
        "mknod",
        "mknodat",
        "name_to_handle_at",
        "newfstatat",
        "open",
        "openat",
        "openat2",
        "pipe",
        "pipe2",
        "pread64",
        "preadv",
        "preadv2",
        "pwrite64",
        "pwritev",
        "pwritev2",
        "read",
        "readahead",
        "readlink",
        "readlinkat",
        "readv",
        "removexattr",
        "rename",
        "renameat",
        "renameat2",
        "rmdir",
        "sendfile",
        "sendfile64",
        "setxattr",
        "splice",
        "stat",
        "stat64",
        "statfs",
        "statfs64",
        "statx",
        "symlink",
        "symlinkat",
        "sync",
        "sync_file_range",
        "syncfs",
        "tee",
        "truncate",
        "truncate64",
        "umask",
        "unlink",
        "unlinkat",
        "utime",
        "utimensat",
        "utimensat_time64",
        "utimes",
        "vmsplice",
        "write",
        "writev",
        /* polling, events, timers, time */
        "alarm",
        "clock_getres",
        "clock_getres_time64",
        "clock_gettime",
        "clock_gettime64",
        "clock_nanosleep",
        "clock_nanosleep_time64",
        "epoll_create",
        "epoll_create1",
        "epoll_ctl",
        "epoll_ctl_old",
        "epoll_pwait",
        "epoll_pwait2",
        "epoll_wait",
        "epoll_wait_old",
        "eventfd",
        "eventfd2",
        "getitimer",
        "gettimeofday",
        "nanosleep",
        "_newselect",
        "pause",
        "poll",
        "ppoll",
        "ppoll_time64",
        "pselect6",
        "pselect6_time64",
        "select",
        "setitimer",
        "signalfd",
        "signalfd4",
        "time",
        "timer_create",
        "timer_delete",
        "timer_getoverrun",
        "timer_gettime",
        "timer_gettime64",
        "timer_settime",
        "timer_settime64",
        "timerfd_create",
        "timerfd_gettime",
        "timerfd_gettime64",
        "timerfd_settime",
        "timerfd_settime64",
        "times",
        "adjtimex",
        "clock_adjtime",
        "clock_adjtime64",
        /* asynchronous I/O */
        "io_cancel",
        "io_destroy",
        "io_getevents",
        "io_pgetevents",
        "io_pgetevents_time64",
        "io_setup",
        "io_submit",
        "ioctl",
        "ioprio_get",
        "ioprio_set",
        /* memory */
        "brk",
        "madvise",
        "membarrier",
        "mincore",
        "mlock",
        "mlock2",
        "mlockall",
        "mmap",
        "mmap2",
        "mprotect",
        "mremap",
        "msync",
        "munlock",
        "munlockall",
        "munmap",
        "pkey_alloc",
        "pkey_free",
        "pkey_mprotect",
        "remap_file_pages",
        /* processes, credentials, signals, scheduling */
        "capget",
        "capset",
        "execve",
        "execveat",
        "exit",
        "exit_group",
        "fork",
        "vfork",
        "futex",
        "futex_time64",
        "futex_waitv",
        "get_robust_list",
        "set_robust_list",
        "get_thread_area",
        "set_thread_area",
        "set_tid_address",
        "getcpu",
        "getegid",
        "getegid32",
        "geteuid",
        "geteuid32",
        "getgid",
        "getgid32",
        "getgroups",
        "getgroups32",
        "getpgid",
        "getpgrp",
        "getpid",
        "getppid",
        "getpriority",
        "getrandom",
        "getresgid",
        "getresgid32",
        "getresuid",
        "getresuid32",
        "getrlimit",
        "getrusage",
        "getsid",
        "gettid",
        "getuid",
        "getuid32",
        "kill",
        "tgkill",
        "tkill",
        "pidfd_open",
        "pidfd_send_signal",
        "prctl",
        "prlimit64",
        "process_mrelease",
        "restart_syscall",
        "rseq",
        "rt_sigaction",
        "rt_sigpending",
        "rt_sigprocmask",
        "rt_sigqueueinfo",
        "rt_sigreturn",
        "rt_sigsuspend",
        "rt_sigtimedwait",
        "rt_sigtimedwait_time64",
        "rt_tgsigqueueinfo",
        "sched_getaffinity",
        "sched_getattr",
        "sched_getparam",
        "sched_get_priority_max",
        "sched_get_priority_min",
        "sched_getscheduler",
        "sched_rr_get_interval",
        "sched_rr_get_interval_time64",
        "sched_setaffinity",
        "sched_setattr",
        "sched_setparam",
        "sched_setscheduler",
        "sched_yield",
        "seccomp",
        "setfsgid",
        "setfsgid32",
        "setfsuid",
        "setfsuid32",
        "setgid",
        "setgid32",
        "setgroups",
        "setgroups32",
        "setpgid",
        "setpriority",
        "setregid",
        "setregid32",
        "setresgid",
        "setresgid32",
        "setresuid",
        "setresuid32",
        "setreuid",
        "setreuid32",
        "setrlimit",
        "setsid",
        "setuid",
        "setuid32",
        "sigaltstack",
        "sigprocmask",
        "sigreturn",
        "sysinfo",
        "ugetrlimit",
        "uname",
        "wait4",
        "waitid",
        "waitpid",
        "landlock_add_rule",
        "landlock_create_ruleset",
        "landlock_restrict_self",
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "chroot",
        "arch_prctl",
        "modify_ldt",
        /* IPC and sockets (socket() itself is filtered below) */
        "accept",
        "accept4",
        "bind",
        "connect",
        "getpeername",
        "getsockname",
        "getsockopt",
        "listen",
        "recv",
        "recvfrom",
        "recvmmsg",
        "recvmmsg_time64",
        "recvmsg",
        "send",
        "sendmmsg",
        "sendmsg",
        "sendto",
        "setsockopt",
        "shutdown",
        "socketcall",
        "socketpair",
        "ipc",
        "mq_getsetattr",
        "mq_notify",
        "mq_open",
        "mq_timedreceive",
        "mq_timedreceive_time64",
        "mq_timedsend",
        "mq_timedsend_time64",
        "mq_unlink",
        "msgctl",
        "msgget",
        "msgrcv",
        "msgsnd",
        "semctl",
        "semget",
        "semop",
        "semtimedop",
        "semtimedop_time64",
        "shmat",
        "shmctl",
        "shmdt",
        "shmget",
};

/* personality(2) values that only select Linux behaviour variants, plus the query value. */
static const uint64_t allowed_personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };

#define AF_VSOCK_ 40
/* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: creating namespaces needs CAP_SYS_ADMIN. */
#define CLONE_NAMESPACE_FLAGS 0x7E020000ULL

/* What Docker's default profile allows only with a capability beyond the default set ("includes":
 * {"caps": [...]}): --cap-add SYS_ADMIN is pointless if mount(2) stays refused. */
static const struct {
        int cap;
        const char *names[24];
} cap_syscalls[] = {
        { 2 /* DAC_READ_SEARCH */, { "open_by_handle_at" } },
        { 21 /* SYS_ADMIN */, { "bpf",         "fanotify_init",   "fsconfig", "fsmount",       "fsopen",
                                "fspick",      "lookup_dcookie",  "mount",    "mount_setattr", "move_mount",
                                "open_tree",   "perf_event_open", "quotactl", "quotactl_fd",   "setdomainname",
                                "sethostname", "setns",           "syslog",   "umount",        "umount2",
                                "unshare" } },
        { 22 /* SYS_BOOT */, { "reboot" } },
        { 16 /* SYS_MODULE */, { "delete_module", "init_module", "finit_module" } },
        { 20 /* SYS_PACCT */, { "acct" } },
        { 19 /* SYS_PTRACE */, { "kcmp", "pidfd_getfd", "process_madvise" } },
        { 17 /* SYS_RAWIO */, { "iopl", "ioperm" } },
        { 25 /* SYS_TIME */, { "settimeofday", "stime", "clock_settime", "clock_settime64" } },
        { 26 /* SYS_TTY_CONFIG */, { "vhangup" } },
        { 23 /* SYS_NICE */, { "get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node" } },
        { 34 /* SYSLOG */, { "syslog" } },
        { 39 /* BPF */, { "bpf" } },
        { 38 /* PERFMON */, { "perf_event_open" } },
};

#define HAS_CAP(caps, n) (((caps) >> (n)) & 1)

static int allow_by_name(scmp_filter_ctx ctx, const char *name) {
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return 0; /* unknown on this architecture */
        int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        return r < 0 && r != -EEXIST && r != -EDOM ? r : 0;
}

bool seccomp_default_depends_on(uint64_t caps) {
        for (size_t i = 0; i < ELEMENTSOF(cap_syscalls); i++)
                if (HAS_CAP(caps, cap_syscalls[i].cap))
                        return true;
        return false;
}

int seccomp_default_rules(scmp_filter_ctx ctx, uint64_t caps) {
        int r;

        /* 32-bit and x32 programs run in containers on x86-64 hosts too; without these arches the
         * kernel would kill them on their first system call. */
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                if ((r = seccomp_arch_add(ctx, SCMP_ARCH_X86)) < 0 && r != -EEXIST)
                        return r;
                if ((r = seccomp_arch_add(ctx, SCMP_ARCH_X32)) < 0 && r != -EEXIST)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                if ((r = allow_by_name(ctx, allowed[i])) < 0)
                        return r;
        for (size_t i = 0; i < ELEMENTSOF(cap_syscalls); i++)
                for (size_t j = 0; HAS_CAP(caps, cap_syscalls[i].cap) && j < ELEMENTSOF(cap_syscalls[i].names) &&
                     cap_syscalls[i].names[j];
                     j++)
                        if ((r = allow_by_name(ctx, cap_syscalls[i].names[j])) < 0)
                                return r;
        for (size_t i = 0; i < ELEMENTSOF(allowed_personalities); i++) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
                                     SCMP_A0(SCMP_CMP_EQ, allowed_personalities[i]));
                if (r < 0)
                        return r;
        }
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_VSOCK_));
        if (r < 0)
                return r;
        /* With CAP_SYS_ADMIN a container may make namespaces, as in Docker's profile. */
        if (HAS_CAP(caps, 21)) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
                return r < 0 ? r : allow_by_name(ctx, "clone3");
        }
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NAMESPACE_FLAGS, 0));
        if (r < 0)
                return r;
        /* clone3 passes its flags in memory, where seccomp cannot look: ENOSYS makes libc fall back
         * to clone(), which is checked above. */
        return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
}

int seccomp_default_filter_memfd(int *ret_fd) {
        return seccomp_compile(NULL, capabilities_default, ret_fd, NULL);
}
