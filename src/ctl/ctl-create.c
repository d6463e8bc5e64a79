/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create and run: the container options, CreateContainer(), and for run the start. */
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "ctl-attach.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-health.h"
#include "ctl-log.h"
#include "ctl-sdnotify.h"
#include "errors.h"
#include "ctl-registry.h"
#include "image-ref.h"
#include "ctl-mounts.h"
#include "ctl-netopts.h"
#include "ctl-logopts.h"
#include "ctl-resopts.h"
#include "ctl-security.h"
#include "ctl.h"
#include "names.h"
#include "util.h"

enum {
        ARG_NAME = 0x100,
        ARG_CPUS,
        ARG_PIDS_LIMIT,
        ARG_RM,
        ARG_RESTART,
        ARG_MOUNT,
        ARG_TMPFS,
        ARG_VOLUMES_FROM,
        ARG_VOLUME_DRIVER,
        ARG_PULL,
        ARG_PLATFORM,
        ARG_ENV_FILE,
        ARG_LABEL,
        ARG_CIDFILE,
        ARG_ENTRYPOINT,
        ARG_STOP_SIGNAL,
        ARG_INIT,
        ARG_READ_ONLY,
        ARG_DETACH_KEYS,
        ARG_DOMAINNAME,
        ARG_LABEL_FILE,
        ARG_RUNTIME,
        ARG_GPUS,
        ARG_GROUP_ADD,
        ARG_SYSCTL,
        ARG_PID,
        ARG_IPC,
        ARG_UTS,
        ARG_CGROUPNS,
        ARG_SDNOTIFY,
        ARG_SIG_PROXY,
        ARG_HELP,
};

enum { ATTACH_STREAM_STDIN = 1, ATTACH_STREAM_STDOUT = 2, ATTACH_STREAM_STDERR = 4 };

typedef struct CreateArgs {
        const char *name;
        char **env;
        size_t n_env;
        uint64_t memory_max; /* UINT64_MAX: not given */
        uint64_t cpu_quota_usec; /* UINT64_MAX: not given */
        uint64_t tasks_max; /* UINT64_MAX: not given, or unlimited */
        const char *hostname;
        const char *domainname;
        const char *pid_mode, *ipc_mode, *uts_mode, *cgroupns_mode;
        bool auto_remove;
        char *restart_policy; /* NULL: not given (berthd's default, "no") */
        uint32_t restart_max_retries; /* 0: unlimited */
        CtlMount *mounts;
        size_t n_mounts;
        char **volumes_from;
        char **group_add;
        char **sysctls; /* "key=value" */
        const char *volume_driver;
        const char *pull; /* "missing" (default), "always" or "never" */
        const char *platform; /* of the image to pull */
        const char *workdir;
        const char *user;
        const char *entrypoint; /* NULL: the image's; "" clears it */
        const char *stop_signal;
        bool init;
        bool read_only;
        const char *cidfile;
        char **labels; /* "key=value" */
        CtlResources res;
        CtlSecurity security;
        CtlNetwork net;
        CtlLogConfig log;
        CtlHealth health;
        SdNotifyMode sdnotify; /* run only */
        unsigned n_listen_fds; /* run under socket activation: LISTEN_FDS descriptors from 3 on */
        char *listen_fdnames; /* LISTEN_FDNAMES */
        bool detach; /* run only */
        bool no_sig_proxy; /* run --sig-proxy=false: signals to berthctl are not forwarded */
        bool quiet; /* -q: no pull output */
        unsigned attach; /* run -a: ATTACH_STREAM_* bits; 0: not given (stdout and stderr, stdin with -i) */
        const char *detach_keys; /* run -it: NULL = ctrl-p,ctrl-q */
        bool interactive; /* run -i: the container reads berthctl's stdin */
        bool tty; /* run -t: the container gets a terminal */
        const char *image;
        char **command; /* points into argv */
} CreateArgs;

static void create_args_done(CreateArgs *a) {
        a->listen_fdnames = mfree(a->listen_fdnames);
        strv_free(a->env);
        a->env = NULL;
        a->restart_policy = mfree(a->restart_policy);
        for (size_t i = 0; i < a->n_mounts; i++)
                ctl_mount_done(&a->mounts[i]);
        a->mounts = mfree(a->mounts);
        a->n_mounts = 0;
        strv_free(a->volumes_from);
        a->volumes_from = NULL;
        strv_free(a->group_add);
        a->group_add = NULL;
        strv_free(a->sysctls);
        a->sysctls = NULL;
        strv_free(a->labels);
        a->labels = NULL;
        ctl_resources_done(&a->res);
        ctl_security_done(&a->security);
        ctl_network_done(&a->net);
}

static void help_create(bool run) {
        printf("Usage: berthctl %s [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
               "\n"
               "%s\n"
               "\n"
               "Options:\n",
               run ? "run" : "create",
               run ? "Create a container from IMAGE, start it and wait for it. Its output is\n"
                     "copied to berthctl's stdout/stderr, and berthctl exits with its exit code."
                   : "Create a container from IMAGE and print its id.");
        if (run)
                printf("  -a, --attach=STREAM      Show only these of the container's streams: STDIN, STDOUT,\n"
                       "                           STDERR (repeatable; default: STDOUT and STDERR)\n"
                       "  -d, --detach             Start the container in the background, print its id\n"
                       "  -i, --interactive        Give the container berthctl's standard input\n"
                       "  -t, --tty                Give the container a terminal (in raw mode here with -i)\n"
                       "      --detach-keys=KEYS   With -it: keys that leave the container running (default\n"
                       "                           ctrl-p,ctrl-q; \"\" for none)\n"
                       "      --sig-proxy[=BOOL]   Forward signals berthctl gets to the container (default\n"
                       "                           true; not with -t, whose terminal carries them)\n");
        else
                printf("  -i, --interactive        Accepted as Docker's; input is given at \"start -ai\"\n"
                       "  -t, --tty                Give the container a terminal\n");
        printf("  -q, --quiet              No output of the image's pull\n"
               "      --name=NAME          Name the container (default: a generated name)\n"
               "  -e, --env=KEY[=VALUE]    Set an environment variable; KEY alone takes the value\n"
               "                           from berthctl's environment (repeatable)\n"
               "  -m, --memory=SIZE        Memory limit (MemoryMax), e.g. 512m, 1g\n"
               "      --cpus=DECIMAL       Number of CPUs, e.g. 1.5 (CPUQuotaPerSecUSec)\n"
               "      --pids-limit=N       Maximum number of tasks (TasksMax); -1 or 0: unlimited\n" CTL_RESOURCES_HELP
               "  -h, --hostname=NAME      Host name inside the container\n"
               "      --domainname=NAME    NIS domain name inside the container\n"
               "      --pid=MODE           host or container:NAME: share that PID namespace\n"
               "      --ipc=MODE           private (default), shareable, none (no /dev/shm), host,\n"
               "                           container:NAME (a shareable one's IPC and /dev/shm)\n"
               "      --uts=host           Share the host's host and domain name (not with -h)\n"
               "      --cgroupns=MODE      private (default) or host: the host's cgroup namespace\n"
               "      --rm                 Remove the container when it exits\n"
               "      --restart=POLICY     no, on-failure[:MAX-RETRIES], always, unless-stopped\n"
               "  -v, --volume=SPEC        /PATH (anonymous volume), NAME:/PATH[:ro] (named volume,\n"
               "                           created on first use), /HOST:/PATH[:ro] (bind mount)\n"
               "      --mount=SPEC         type=volume|bind|tmpfs,source=...,target=...[,readonly]\n"
               "      --tmpfs=/PATH[:OPTS] A tmpfs (OPTS: size=..., mode=...)\n"
               "      --volumes-from=C[:ro|:rw]  Mount every volume and bind mount of container C\n"
               "      --volume-driver=NAME  Driver (a volume plugin) for the volumes this container creates\n"
               "      --pull=POLICY         Pull the image: missing (default: when it is not here), always, never\n"
               "      --platform=OS/ARCH    The platform of the image to pull\n"
               "  -w, --workdir=DIR        Working directory (absolute; created if missing)\n"
               "  -u, --user=USER[:GROUP]  Run as this user (names from the image's /etc/passwd)\n"
               "      --sysctl=KEY=VALUE   Set a namespaced sysctl in the container (net.*, fs.mqueue.*,\n"
               "                           kernel.msg*, kernel.sem, kernel.shm*; repeatable)\n"
               "      --group-add=GROUP    An additional group (name in the image's /etc/group, or\n"
               "                           a number; repeatable)\n"
               "      --entrypoint=CMD     Override the image's entrypoint (\"\" clears it)\n"
               "      --stop-signal=SIG    Signal that stop sends first (default: the image's, or TERM)\n"
               "      --init               Run a minimal init as PID 1 that reaps and forwards signals\n"
               "      --env-file=FILE      Read KEY=VALUE lines (# comments) as -e options\n"
               "      --cidfile=FILE       Write the container id to FILE (which must not exist)\n"
               "      --label=KEY[=VALUE]  Set a label (repeatable; the image's labels are kept)\n" CTL_LOG_HELP
               "      --label-file=FILE    Read KEY[=VALUE] lines (# comments) as --label options\n"
               "      --runtime=NAME       Only \"berth\" (berth-nspawn) is accepted\n"
               "      --gpus=GPUS          Refused: berth has no GPU support\n"
               "      --read-only          Mount the container's root file system read-only\n");
        ctl_health_help();
        if (run)
                printf("      --sdnotify=MODE      Who sends READY=1 to NOTIFY_SOCKET (a Type=notify service):\n"
                       "                           conmon (berthctl once started; default), container (the\n"
                       "                           payload, through a socket at %s), healthy\n"
                       "                           (berthctl at the first passing health check), ignore\n",
                       NOTIFY_PROXY_SOCKET);
        ctl_security_help();
        ctl_network_help();
        printf("      --help               Show this help\n");
}

static int add_env(CreateArgs *a, const char *arg) {
        return ctl_env_add(&a->env, &a->n_env, arg);
}

/* "-e KEY=VALUE", or "-e KEY" for the value from our own environment (nothing if it is unset). */
int ctl_env_add(char ***env, size_t *n_env, const char *arg) {
        const char *value;
        char *assignment;
        int r;

        if (strchr(arg, '=')) {
                if (!env_assignment_is_valid(arg)) {
                        ctl_log_error("invalid environment variable \"%s\"", arg);
                        return -EINVAL;
                }
                r = strv_push_counted(env, n_env, arg);
                return r < 0 ? ctl_log_errno(r, "%m") : 0;
        }
        if (isempty(arg) || strchr(arg, ' ') || strchr(arg, '\t')) {
                ctl_log_error("invalid environment variable \"%s\"", arg);
                return -EINVAL;
        }
        value = getenv(arg);
        if (!value)
                return 0;
        if (asprintf(&assignment, "%s=%s", arg, value) < 0)
                return ctl_log_errno(-ENOMEM, "%m");
        r = strv_push_counted(env, n_env, assignment);
        free(assignment);
        return r < 0 ? ctl_log_errno(r, "%m") : 0;
}

/* --env-file: KEY=VALUE (or KEY) lines as -e options; blank lines and # comments skipped. */
int ctl_env_add_file(char ***env, size_t *n_env, const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        if (!f)
                return ctl_log_errno(-errno, "Failed to open env file %s: %m", path);
        while (getline(&line, &cap, f) > 0) {
                line[strcspn(line, "\r\n")] = 0;
                const char *p = line + strspn(line, " \t");
                if (*p == 0 || *p == '#')
                        continue;
                int r = ctl_env_add(env, n_env, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_label(CreateArgs *a, const char *arg) {
        _cleanup_free_ char *kv = strchr(arg, '=') ? strdup(arg) : NULL;
        if (!kv && asprintf(&kv, "%s=", arg) < 0)
                return ctl_log_errno(-ENOMEM, "%m");
        if (!kv || kv[0] == '=') {
                ctl_log_error("invalid label \"%s\": expected KEY[=VALUE]", arg);
                return -EINVAL;
        }
        int r = strv_push(&a->labels, kv);
        return r < 0 ? ctl_log_errno(r, "%m") : 0;
}

/* --label-file: KEY[=VALUE] lines as --label options; blank lines and # comments skipped (Docker's
 * ReadKVStrings). */
static int add_label_file(CreateArgs *a, const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        if (!f)
                return ctl_log_errno(-errno, "Failed to open label file %s: %m", path);
        while (getline(&line, &cap, f) > 0) {
                line[strcspn(line, "\r\n")] = 0;
                const char *p = line + strspn(line, " \t");
                if (*p == 0 || *p == '#')
                        continue;
                int r = add_label(a, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* One option of create/run; c and optarg as getopt_long() returned them. */
/* The options of namespaces, the runtime, files and the image's pull (parse_create_option()'s rest). */
static int parse_create_option_more(CreateArgs *a, int c, const char *arg) {
        int r;

        switch (c) {
        case ARG_DOMAINNAME:
                if (!hostname_is_valid(arg)) {
                        ctl_log_error("invalid domain name \"%s\"", arg);
                        return -EINVAL;
                }
                a->domainname = arg;
                return 0;
        case ARG_PID:
        case ARG_IPC:
        case ARG_UTS:
        case ARG_CGROUPNS:
                /* The modes are berthd's to check (Docker's words). */
                if (c == ARG_PID)
                        a->pid_mode = arg;
                else if (c == ARG_IPC)
                        a->ipc_mode = arg;
                else if (c == ARG_UTS)
                        a->uts_mode = arg;
                else
                        a->cgroupns_mode = arg;
                return 0;
        case ARG_LABEL_FILE:
                return add_label_file(a, arg);
        case ARG_RUNTIME:
                /* berth has one runtime, its own; Docker's words for a name it does not know. */
                if (!streq(arg, "berth")) {
                        ctl_log_error("unknown or invalid runtime name: %s (berth runs containers with its own "
                                      "runtime, \"berth\")",
                                      arg);
                        return -EINVAL;
                }
                return 0;
        case ARG_GPUS:
                ctl_log_error("--gpus is not supported: berth has no GPU device requests (give device nodes "
                              "with --device)");
                return -EOPNOTSUPP;
        case ARG_CIDFILE:
                if (access(arg, F_OK) == 0) {
                        ctl_log_error("container ID file found, make sure the other container isn't running or "
                                      "delete %s",
                                      arg);
                        return -EEXIST;
                }
                a->cidfile = arg;
                return 0;
        case ARG_INIT:
                a->init = true;
                return 0;
        case ARG_READ_ONLY:
                a->read_only = true;
                return 0;
        case ARG_VOLUMES_FROM:
                r = strv_push(&a->volumes_from, arg);
                return r < 0 ? ctl_log_errno(r, "%m") : 0;
        case ARG_SYSCTL: {
                /* Docker's rule (opts.ValidateSysctl) and words. */
                _cleanup_free_ char *key = strndup(arg, strcspn(arg, "="));
                if (!key)
                        return ctl_log_errno(-ENOMEM, "%m");
                if (!strchr(arg, '=') || !sysctl_is_namespaced(key)) {
                        ctl_log_error("invalid argument \"%s\" for \"--sysctl\" flag: sysctl '%s' is not allowed", arg,
                                      arg);
                        return -EINVAL;
                }
                r = strv_push(&a->sysctls, arg);
                return r < 0 ? ctl_log_errno(r, "%m") : 0;
        }
        case ARG_GROUP_ADD:
                r = strv_push(&a->group_add, arg);
                return r < 0 ? ctl_log_errno(r, "%m") : 0;
        case ARG_VOLUME_DRIVER:
                a->volume_driver = arg;
                return 0;
        case ARG_PULL:
                if (!streq(arg, "missing") && !streq(arg, "always") && !streq(arg, "never")) {
                        ctl_log_error(
                                "invalid pull option: \"%s\": must be one of \"always\", \"missing\" or \"never\"",
                                arg);
                        return -EINVAL;
                }
                a->pull = arg;
                return 0;
        case ARG_PLATFORM:
                a->platform = arg;
                return 0;
        default:
                return -EINVAL;
        }
}

static int parse_create_option(CreateArgs *a, int c, const char *arg) {
        int r;

        switch (c) {
        case ARG_NAME:
                if (!container_name_is_valid(arg)) {
                        ctl_log_error("invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", arg);
                        return -EINVAL;
                }
                a->name = arg;
                return 0;
        case 'e':
                return add_env(a, arg);
        case 'm':
                if (parse_size(arg, &a->memory_max) < 0) {
                        ctl_log_error("invalid memory size \"%s\"", arg);
                        return -EINVAL;
                }
                if (a->memory_max == 0)
                        a->memory_max = UINT64_MAX; /* Docker: 0 is no limit. */
                return 0;
        case ARG_CPUS:
                r = ctl_parse_cpus(arg, &a->cpu_quota_usec);
                if (r == -ERANGE)
                        ctl_log_error("invalid --cpus value \"%s\": the range is 0.01 to %llu", arg, CTL_CPUS_MAX);
                else if (r < 0)
                        ctl_log_error("invalid --cpus value \"%s\"", arg);
                return r < 0 ? -EINVAL : 0;
        case ARG_PIDS_LIMIT:
                if (ctl_parse_pids_limit(arg, &a->tasks_max) < 0) {
                        ctl_log_error("invalid --pids-limit value \"%s\"", arg);
                        return -EINVAL;
                }
                return 0;
        case 'h':
                if (!hostname_is_valid(arg)) {
                        ctl_log_error("invalid hostname \"%s\"", arg);
                        return -EINVAL;
                }
                a->hostname = arg;
                return 0;
        case ARG_RM:
                a->auto_remove = true;
                return 0;
        case ARG_RESTART:
                a->restart_policy = mfree(a->restart_policy);
                r = ctl_parse_restart_policy(arg, &a->restart_policy, &a->restart_max_retries);
                if (r == -ENOMEM)
                        return ctl_log_errno(r, "%m");
                if (r < 0) {
                        ctl_log_error("invalid restart policy \"%s\": expected no, on-failure[:N], always or "
                                      "unless-stopped",
                                      arg);
                        return -EINVAL;
                }
                return 0;
        case 'v':
        case ARG_MOUNT:
        case ARG_TMPFS: {
                CtlMount mnt;
                r = c == 'v'             ? ctl_parse_volume_spec(arg, &mnt)
                        : c == ARG_MOUNT ? ctl_parse_mount_spec(arg, &mnt)
                                         : ctl_parse_tmpfs_spec(arg, &mnt);
                if (r == -ENOMEM)
                        return ctl_log_errno(r, "%m");
                if (r < 0) {
                        ctl_log_error("invalid %s \"%s\"",
                                      c == 'v'                 ? "volume"
                                              : c == ARG_MOUNT ? "mount"
                                                               : "tmpfs",
                                      arg);
                        return -EINVAL;
                }
                CtlMount *m = realloc(a->mounts, (a->n_mounts + 1) * sizeof(CtlMount));
                if (!m) {
                        ctl_mount_done(&mnt);
                        return ctl_log_errno(-ENOMEM, "%m");
                }
                a->mounts = m;
                a->mounts[a->n_mounts++] = mnt;
                return 0;
        }
        case 'w':
                if (arg[0] != '/') {
                        ctl_log_error("the working directory \"%s\" is not an absolute path", arg);
                        return -EINVAL;
                }
                a->workdir = arg;
                return 0;
        case 'u':
                a->user = arg;
                return 0;
        case ARG_ENTRYPOINT:
                a->entrypoint = arg;
                return 0;
        case ARG_STOP_SIGNAL: {
                int sig;
                if (ctl_parse_signal(arg, &sig) < 0) {
                        ctl_log_error("invalid signal \"%s\"", arg);
                        return -EINVAL;
                }
                a->stop_signal = arg;
                return 0;
        }
        case ARG_ENV_FILE:
                return ctl_env_add_file(&a->env, &a->n_env, arg);
        case ARG_LABEL:
                return add_label(a, arg);
        default:
                return parse_create_option_more(a, c, arg);
        }
}

/* The flags of run and create. */
static const struct option create_options[] = {
        { "name", required_argument, NULL, ARG_NAME },
        { "env", required_argument, NULL, 'e' },
        { "memory", required_argument, NULL, 'm' },
        { "cpus", required_argument, NULL, ARG_CPUS },
        { "pids-limit", required_argument, NULL, ARG_PIDS_LIMIT },
        { "hostname", required_argument, NULL, 'h' },
        { "domainname", required_argument, NULL, ARG_DOMAINNAME },
        { "label-file", required_argument, NULL, ARG_LABEL_FILE },
        { "runtime", required_argument, NULL, ARG_RUNTIME },
        { "gpus", required_argument, NULL, ARG_GPUS },
        { "group-add", required_argument, NULL, ARG_GROUP_ADD },
        { "sysctl", required_argument, NULL, ARG_SYSCTL },
        { "pid", required_argument, NULL, ARG_PID },
        { "ipc", required_argument, NULL, ARG_IPC },
        { "uts", required_argument, NULL, ARG_UTS },
        { "cgroupns", required_argument, NULL, ARG_CGROUPNS },
        { "rm", no_argument, NULL, ARG_RM },
        { "restart", required_argument, NULL, ARG_RESTART },
        { "volume", required_argument, NULL, 'v' },
        { "mount", required_argument, NULL, ARG_MOUNT },
        { "tmpfs", required_argument, NULL, ARG_TMPFS },
        { "volumes-from", required_argument, NULL, ARG_VOLUMES_FROM },
        { "volume-driver", required_argument, NULL, ARG_VOLUME_DRIVER },
        { "pull", required_argument, NULL, ARG_PULL },
        { "platform", required_argument, NULL, ARG_PLATFORM },
        { "workdir", required_argument, NULL, 'w' },
        { "user", required_argument, NULL, 'u' },
        { "entrypoint", required_argument, NULL, ARG_ENTRYPOINT },
        { "stop-signal", required_argument, NULL, ARG_STOP_SIGNAL },
        { "init", no_argument, NULL, ARG_INIT },
        { "env-file", required_argument, NULL, ARG_ENV_FILE },
        { "cidfile", required_argument, NULL, ARG_CIDFILE },
        { "label", required_argument, NULL, ARG_LABEL },
        { "read-only", no_argument, NULL, ARG_READ_ONLY },
        { "detach", no_argument, NULL, 'd' },
        { "sig-proxy", optional_argument, NULL, ARG_SIG_PROXY },
        { "quiet", no_argument, NULL, 'q' },
        { "attach", required_argument, NULL, 'a' },
        { "detach-keys", required_argument, NULL, ARG_DETACH_KEYS },
        { "interactive", no_argument, NULL, 'i' },
        { "tty", no_argument, NULL, 't' },
        { "sdnotify", required_argument, NULL, ARG_SDNOTIFY },
        { "help", no_argument, NULL, ARG_HELP },
        CTL_HEALTH_OPTIONS,
        CTL_RESOURCES_OPTIONS,
        CTL_SECURITY_OPTIONS,
        CTL_NETWORK_OPTIONS,
        CTL_LOG_OPTIONS,
        {},
};

/* Returns 1 to go on, 0 when --help was shown, negative errno (logged) on bad input. */
static int parse_create_argv(int argc, char *argv[], bool run, CreateArgs *a) {
        const char *verb = run ? "run" : "create";
        int c, r;

        *a = (CreateArgs){
                .memory_max = UINT64_MAX,
                .cpu_quota_usec = UINT64_MAX,
                .tasks_max = UINT64_MAX,
                .res = CTL_RESOURCES_INIT,
                .security.no_new_privileges = -1,
        };
        opterr = 0;
        while ((c = getopt_long(argc, argv, run ? "+:e:m:h:v:w:u:c:p:Pditqa:" : "+:e:m:h:v:w:u:c:p:Pitq",
                                create_options, NULL)) >= 0) {
                if (c == ARG_HELP) {
                        help_create(run);
                        return 0;
                }
                if (c == '?' || c == ':')
                        return ctl_log_getopt_error(verb, c, argv);
                if (c == ARG_SDNOTIFY) {
                        if (!run) {
                                ctl_log_error("--sdnotify is for run (see 'berthctl run --help')");
                                return -EINVAL;
                        }
                        if (ctl_sdnotify_parse(optarg, &a->sdnotify) < 0) {
                                ctl_log_error("invalid --sdnotify \"%s\": expected container, conmon, healthy or "
                                              "ignore",
                                              optarg);
                                return -EINVAL;
                        }
                        continue;
                }
                if (c == ARG_DETACH_KEYS) {
                        char keys[16];
                        if (!run || ctl_parse_detach_keys(optarg, keys, sizeof(keys)) < 0) {
                                ctl_log_error(run ? "invalid --detach-keys \"%s\": expected e.g. ctrl-p,ctrl-q"
                                                  : "--detach-keys is for run (see 'berthctl run --help')",
                                              optarg);
                                return -EINVAL;
                        }
                        a->detach_keys = optarg;
                        continue;
                }
                if (c == 'a') {
                        static const char *const streams[] = { "stdin", "stdout", "stderr" };
                        unsigned bit = 0;
                        for (unsigned k = 0; k < 3; k++)
                                if (strcasecmp(optarg, streams[k]) == 0)
                                        bit = 1u << k;
                        if (!bit) {
                                ctl_log_error("invalid argument \"%s\" for \"-a, --attach\" flag: valid streams are "
                                              "STDIN, STDOUT and STDERR",
                                              optarg);
                                return -EINVAL;
                        }
                        a->attach |= bit;
                        continue;
                }
                if (c == 'q') {
                        a->quiet = true;
                        continue;
                }
                if (c == ARG_SIG_PROXY) {
                        /* Docker's boolean flag: --sig-proxy, --sig-proxy=true or --sig-proxy=false. */
                        if (!run || (optarg && !streq(optarg, "true") && !streq(optarg, "false"))) {
                                ctl_log_error(
                                        run ? "invalid argument \"%s\" for \"--sig-proxy\" flag: expected true or "
                                              "false"
                                            : "unknown flag: --sig-proxy (see 'berthctl create --help')",
                                        optarg ?: "");
                                return -EINVAL;
                        }
                        a->no_sig_proxy = optarg && streq(optarg, "false");
                        continue;
                }
                if (c == 'd') {
                        if (!run) {
                                ctl_log_error("unknown flag: --detach (see 'berthctl create --help')");
                                return -EINVAL;
                        }
                        a->detach = true;
                        continue;
                }
                if (c == 'i' || c == 't') {
                        /* create -i is Docker's OpenStdin: berth gives input at each "start -ai". */
                        if (c == 't')
                                a->tty = true;
                        else
                                a->interactive = true;
                        continue;
                }
                if (c == 'c')
                        c = CTL_ARG_CPU_SHARES; /* -c, Docker's short form */
                else if (c == 'p' || c == 'P')
                        c = c == 'p' ? CTL_ARG_PUBLISH : CTL_ARG_PUBLISH_ALL;
                r = c >= CTL_ARG_HEALTH_CMD       ? ctl_health_parse(&a->health, c, optarg)
                        : c >= CTL_ARG_LOG_DRIVER ? ctl_log_config_parse(&a->log, c, optarg)
                        : c >= CTL_ARG_NETWORK    ? ctl_network_parse(&a->net, c, optarg)
                        : c >= ARG_CAP_ADD        ? ctl_security_parse(&a->security, c, optarg)
                        : c >= CTL_ARG_SHM_SIZE   ? ctl_resources_parse(&a->res, c, optarg)
                                                  : parse_create_option(a, c, optarg);
                if (r < 0)
                        return r;
        }
        if (a->detach && a->attach) {
                ctl_log_error("Conflicting options: -a and -d");
                return -EINVAL;
        }
        if (a->uts_mode && streq(a->uts_mode, "host") && a->hostname) {
                ctl_log_error("Conflicting options: hostname and the UTS mode");
                return -EINVAL;
        }
        r = ctl_resources_check(&a->res, a->memory_max, a->cpu_quota_usec != UINT64_MAX);
        if (r < 0)
                return r;
        r = ctl_network_check(&a->net);
        if (r < 0)
                return r;
        r = ctl_health_check(&a->health);
        if (r < 0)
                return r;
        if (optind >= argc) {
                ctl_log_error("\"berthctl %s\" requires at least 1 argument (see 'berthctl %s --help')", verb, verb);
                return -EINVAL;
        }
        a->image = argv[optind];
        a->command = argv + optind + 1; /* Verbatim: options after the image belong to the command. */
        return 1;
}

/* ListenFds and ListenFdNames: the sockets systemd passed us, for the container's payload. */
static int append_listen_fds(sd_bus_message *m, const CreateArgs *a) {
        int r;
        if (a->n_listen_fds == 0)
                return 0;
        if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
            (r = sd_bus_message_append(m, "s", "ListenFds")) < 0 ||
            (r = sd_bus_message_open_container(m, 'v', "ah")) < 0 ||
            (r = sd_bus_message_open_container(m, 'a', "h")) < 0)
                return r;
        for (unsigned i = 0; i < a->n_listen_fds; i++)
                if ((r = sd_bus_message_append(m, "h", 3 + (int) i)) < 0)
                        return r;
        if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
            (r = sd_bus_message_close_container(m)) < 0)
                return r;
        return a->listen_fdnames ? sd_bus_message_append(m, "{sv}", "ListenFdNames", "s", a->listen_fdnames) : 0;
}

static int append_options(sd_bus_message *m, const CreateArgs *a) {
        int r;

        r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r < 0)
                return r;
        r = append_listen_fds(m, a);
        if (r < 0)
                return r;
        if (a->hostname) {
                r = sd_bus_message_append(m, "{sv}", "Hostname", "s", a->hostname);
                if (r < 0)
                        return r;
        }
        if (a->domainname && (r = sd_bus_message_append(m, "{sv}", "Domainname", "s", a->domainname)) < 0)
                return r;
        if (a->pid_mode && (r = sd_bus_message_append(m, "{sv}", "PidMode", "s", a->pid_mode)) < 0)
                return r;
        if (a->ipc_mode && (r = sd_bus_message_append(m, "{sv}", "IpcMode", "s", a->ipc_mode)) < 0)
                return r;
        if (a->cgroupns_mode && (r = sd_bus_message_append(m, "{sv}", "CgroupnsMode", "s", a->cgroupns_mode)) < 0)
                return r;
        if (a->uts_mode && (r = sd_bus_message_append(m, "{sv}", "UtsMode", "s", a->uts_mode)) < 0)
                return r;
        if (a->memory_max != UINT64_MAX) {
                r = sd_bus_message_append(m, "{sv}", "MemoryMax", "t", a->memory_max);
                if (r < 0)
                        return r;
        }
        if (a->cpu_quota_usec != UINT64_MAX) {
                r = sd_bus_message_append(m, "{sv}", "CPUQuotaPerSecUSec", "t", a->cpu_quota_usec);
                if (r < 0)
                        return r;
        }
        if (a->tasks_max != UINT64_MAX) {
                r = sd_bus_message_append(m, "{sv}", "TasksMax", "t", a->tasks_max);
                if (r < 0)
                        return r;
        }
        r = ctl_log_config_append(m, &a->log);
        if (r < 0)
                return r;
        r = ctl_resources_append(m, &a->res, a->memory_max);
        if (r < 0)
                return r;
        if (a->auto_remove) {
                r = sd_bus_message_append(m, "{sv}", "AutoRemove", "b", 1);
                if (r < 0)
                        return r;
        }
        if (a->restart_policy) {
                r = sd_bus_message_append(m, "{sv}", "RestartPolicy", "s", a->restart_policy);
                if (r < 0)
                        return r;
        }
        if (a->restart_max_retries > 0) {
                r = sd_bus_message_append(m, "{sv}", "RestartMaxRetries", "u", a->restart_max_retries);
                if (r < 0)
                        return r;
        }
        if (a->n_mounts > 0) {
                if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
                    (r = sd_bus_message_append(m, "s", "Mounts")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'v', "a(sssb)")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'a', "(sssb)")) < 0)
                        return r;
                for (size_t i = 0; i < a->n_mounts; i++) {
                        r = sd_bus_message_append(m, "(sssb)", a->mounts[i].type, a->mounts[i].source,
                                                  a->mounts[i].target, (int) a->mounts[i].read_only);
                        if (r < 0)
                                return r;
                }
                if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
                    (r = sd_bus_message_close_container(m)) < 0)
                        return r;
        }
        if (a->init && (r = sd_bus_message_append(m, "{sv}", "Init", "b", 1)) < 0)
                return r;
        if (a->read_only && (r = sd_bus_message_append(m, "{sv}", "ReadOnly", "b", 1)) < 0)
                return r;
        if (a->tty && (r = sd_bus_message_append(m, "{sv}", "Tty", "b", 1)) < 0)
                return r;
        if (a->labels) {
                if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
                    (r = sd_bus_message_append(m, "s", "Labels")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'v', "a{ss}")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'a', "{ss}")) < 0)
                        return r;
                for (char **l = a->labels; *l; l++) {
                        _cleanup_free_ char *key = strndup(*l, strcspn(*l, "="));
                        if (!key)
                                return -ENOMEM;
                        if ((r = sd_bus_message_append(m, "{ss}", key, *l + strlen(key) + 1)) < 0)
                                return r;
                }
                if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
                    (r = sd_bus_message_close_container(m)) < 0)
                        return r;
        }
        if (a->volume_driver && (r = sd_bus_message_append(m, "{sv}", "VolumeDriver", "s", a->volume_driver)) < 0)
                return r;
        if (a->workdir && (r = sd_bus_message_append(m, "{sv}", "WorkingDir", "s", a->workdir)) < 0)
                return r;
        if (a->user && (r = sd_bus_message_append(m, "{sv}", "User", "s", a->user)) < 0)
                return r;
        if (a->stop_signal && (r = sd_bus_message_append(m, "{sv}", "StopSignal", "s", a->stop_signal)) < 0)
                return r;
        if (a->entrypoint) {
                /* Docker takes --entrypoint as one word; "" clears the image's entrypoint. */
                if (isempty(a->entrypoint))
                        r = sd_bus_message_append(m, "{sv}", "Entrypoint", "as", 0);
                else
                        r = sd_bus_message_append(m, "{sv}", "Entrypoint", "as", 1, a->entrypoint);
                if (r < 0)
                        return r;
        }
        if (a->volumes_from && (r = ctl_bus_append_strv_option(m, "VolumesFrom", a->volumes_from)) < 0)
                return r;
        if (a->sysctls) {
                if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
                    (r = sd_bus_message_append(m, "s", "Sysctls")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'v', "a{ss}")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'a', "{ss}")) < 0)
                        return r;
                for (char **s = a->sysctls; *s; s++) {
                        _cleanup_free_ char *key = strndup(*s, strcspn(*s, "="));
                        if (!key)
                                return -ENOMEM;
                        if ((r = sd_bus_message_append(m, "{ss}", key, *s + strlen(key) + 1)) < 0)
                                return r;
                }
                if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
                    (r = sd_bus_message_close_container(m)) < 0)
                        return r;
        }
        if (a->group_add && (r = ctl_bus_append_strv_option(m, "GroupAdd", a->group_add)) < 0)
                return r;
        r = ctl_security_append(m, &a->security);
        if (r < 0)
                return r;
        r = ctl_network_append(m, &a->net);
        if (r < 0)
                return r;
        r = ctl_health_append(m, &a->health);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* CreateContainer() once; *error says why it failed. */
static int call_create(sd_bus *bus, const CreateArgs *a, sd_bus_error *error, sd_bus_message **reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                               "CreateContainer");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", a->image, a->name ? a->name : "");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, a->command);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, a->env);
        if (r >= 0)
                r = append_options(m, a);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to build the CreateContainer call: %m");
        /* Creating the writable layer can take a while on slow storage. */
        return sd_bus_call(bus, m, CTL_TIMEOUT_LONG, error, reply);
}

/* CreateContainer(), pulling the image first as --pull says (missing: when berthd has no such image,
 * as the docker CLI retries after a pull); returns the object path and the id. Logs on failure. */
static int create_container(sd_bus *bus, const CreateArgs *a, char **ret_path, char **ret_id) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *id = NULL;
        const char *p, *pull = a->pull ?: "missing";
        int r;

        if (streq(pull, "always") && (r = ctl_pull_image(bus, a->image, a->platform, a->quiet)) < 0)
                return r;
        _cleanup_(image_ref_done) ImageRef ref = {};
        r = call_create(bus, a, &error, &reply);
        /* Only a name a registry could serve is pulled (not an id, not "../x"). */
        if (r < 0 && streq(pull, "missing") && sd_bus_error_has_name(&error, BERTH_ERROR_NO_SUCH_IMAGE) &&
            !strstr(error.message ?: "", "more than one") && image_ref_parse(a->image, &ref) >= 0) {
                if (!a->quiet)
                        fprintf(stderr, "Unable to find image '%s' locally\n", a->image);
                fflush(stdout);
                r = ctl_pull_image(bus, a->image, a->platform, a->quiet);
                if (r < 0)
                        return r;
                sd_bus_error_free(&error);
                reply = sd_bus_message_unref(reply);
                r = call_create(bus, a, &error, &reply);
        }
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "o", &p);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of CreateContainer: %m");
        path = strdup(p);
        if (!path)
                return ctl_log_errno(-ENOMEM, "%m");
        r = ctl_object_path_id(path, &id);
        if (r < 0)
                return ctl_log_errno(r, "Unexpected container object path \"%s\"", path);
        *ret_path = TAKE_PTR(path);
        if (a->cidfile) {
                _cleanup_close_ int fd = open(a->cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0 || loop_write(fd, id, strlen(id)) < 0)
                        return ctl_log_errno(-errno, "Failed to write the container id to %s: %m", a->cidfile);
        }
        *ret_id = TAKE_PTR(id);
        return 0;
}

int verb_create(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(create_args_done) CreateArgs a = {};
        _cleanup_free_ char *path = NULL, *id = NULL;
        sd_bus *bus;
        int r;

        r = parse_create_argv(argc, argv, false, &a);
        if (r <= 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = create_container(bus, &a, &path, &id);
        if (r < 0)
                return r;
        printf("%s\n", id);
        return 0;
}

/* --sdnotify=container: the socket's directory bound into the container, NOTIFY_SOCKET pointing at it. */
static int add_notify_proxy(CreateArgs *a, const NotifyProxy *p) {
        CtlMount mnt = { .type = strdup("bind"), .source = strdup(p->dir), .target = strdup(NOTIFY_PROXY_TARGET) };
        CtlMount *l = realloc(a->mounts, (a->n_mounts + 1) * sizeof(CtlMount));
        if (!mnt.type || !mnt.source || !mnt.target || !l) {
                if (l)
                        a->mounts = l;
                ctl_mount_done(&mnt);
                return -ENOMEM;
        }
        a->mounts = l;
        a->mounts[a->n_mounts++] = mnt;
        return strv_push_counted(&a->env, &a->n_env, "NOTIFY_SOCKET=" NOTIFY_PROXY_SOCKET);
}

static void notify_proxy_donep(NotifyProxy *p) {
        notify_proxy_done(p);
}

/* A run that systemd started with sockets (a service with a .socket unit: LISTEN_PID is ours):
 * they go to the container, which gets them as 3.. with LISTEN_FDS, as a service would. */
static int take_listen_fds(CreateArgs *a) {
        const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS"), *names = getenv("LISTEN_FDNAMES");
        uint64_t p, n;
        if (!pid || !fds || parse_uint64(pid, &p) < 0 || p != (uint64_t) getpid() || parse_uint64(fds, &n) < 0 ||
            n == 0)
                return 0;
        if (n > 32) {
                ctl_log_error("%" PRIu64 " listening sockets were passed; a container takes at most 32", n);
                return -EINVAL;
        }
        for (unsigned i = 0; i < n; i++)
                if (fcntl(3 + (int) i, F_SETFD, FD_CLOEXEC) < 0)
                        return ctl_log_errno(errno, "LISTEN_FDS names descriptor %u, which is not open: %m", 3 + i);
        a->n_listen_fds = (unsigned) n;
        if (names && !(a->listen_fdnames = strdup(names)))
                return ctl_log_errno(ENOMEM, "%m");
        /* Not for anything we start ourselves. */
        (void) unsetenv("LISTEN_PID");
        (void) unsetenv("LISTEN_FDS");
        (void) unsetenv("LISTEN_FDNAMES");
        return 0;
}

int verb_run(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(create_args_done) CreateArgs a = {};
        _cleanup_(notify_proxy_donep) NotifyProxy proxy = NOTIFY_PROXY_NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *id = NULL;
        sd_bus *bus;
        int r, exit_code;

        r = parse_create_argv(argc, argv, true, &a);
        if (r <= 0)
                return r;
        r = take_listen_fds(&a);
        if (r < 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        /* Check before creating anything, so a refused run leaves nothing behind. */
        if (!a.detach && !ctl_bus_can_pass_fds(bus)) {
                ctl_log_error("This connection cannot pass file descriptors (as with -H), so the output "
                              "cannot be attached; use \"run -d\" and \"logs\"");
                return -EOPNOTSUPP;
        }
        /* Only where there is a NOTIFY_SOCKET to pass messages on to (a Type=notify service). */
        if (a.sdnotify == SDNOTIFY_CONTAINER && !a.detach && getenv("NOTIFY_SOCKET")) {
                r = notify_proxy_open(&proxy);
                if (r < 0)
                        return ctl_log_errno(r,
                                             "Failed to create the notification socket for --sdnotify=container: %m");
                r = add_notify_proxy(&a, &proxy);
                if (r < 0)
                        return ctl_log_errno(r, "%m");
        }
        r = create_container(bus, &a, &path, &id);
        if (r < 0)
                return r;

        if (a.detach) {
                r = ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "Start", CTL_TIMEOUT_LONG, &error, NULL, NULL);
                if (r < 0) {
                        ctl_log_bus_error(&error, r);
                        return ctl_start_error_exit_status(&error);
                }
                printf("%s\n", id);
                return 0;
        }

        /* With a terminal, ^C and friends travel as bytes through it (raw mode), not as signals. */
        struct termios saved;
        bool raw = a.tty && a.interactive && ctl_terminal_make_raw(&saved), detached = false;
        unsigned streams = a.attach ?: ATTACH_STREAM_STDOUT | ATTACH_STREAM_STDERR;
        AttachFlags flags = ATTACH_START |
                (a.tty                    ? ATTACH_TTY
                         : a.no_sig_proxy ? 0
                                          : ATTACH_FORWARD_SIGNALS) |
                (a.interactive || (streams & ATTACH_STREAM_STDIN) ? ATTACH_STDIN : 0) |
                (streams & ATTACH_STREAM_STDOUT ? 0 : ATTACH_DROP_STDOUT) |
                (streams & ATTACH_STREAM_STDERR || a.tty ? 0 : ATTACH_DROP_STDERR) |
                (a.sdnotify != SDNOTIFY_CONMON ? ATTACH_NO_READY : 0) |
                (a.sdnotify == SDNOTIFY_HEALTHY ? ATTACH_NOTIFY_HEALTHY : 0);
        /* berthctl relays input and output: the container never gets our own descriptors. The
         * detach keys are read from the input of a terminal only, as Docker does. */
        r = ctl_attach_container_notify(bus, path, flags, a.tty ? a.detach_keys : "", proxy.fd, &error, &exit_code,
                                        &detached);
        ctl_terminal_restore(raw, &saved);
        if (r < 0) {
                ctl_log_bus_error(&error, r);
                return ctl_start_error_exit_status(&error);
        }
        return ctl_exit_status(exit_code);
}
