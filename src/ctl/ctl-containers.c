/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container life cycle verbs: start, stop, restart, kill, pause, unpause, rename, rm, wait. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ctl-attach.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl.h"
#include "errors.h"
#include "names.h"
#include "util.h"

enum {
        ARG_HELP = 0x100,
};

/* Acts on one container; fills error on failure. */
typedef int (*ContainerAction)(sd_bus *bus, const char *path, const void *userdata, sd_bus_error *error);

/* Run action on every named container, printing each name that succeeded as Docker does. Goes
 * on after a failure and returns the first error (logged). */
static int for_each_container(Ctl *ctl, char **names, ContainerAction action, const void *userdata) {
        sd_bus *bus;
        int r, ret = 0;

        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *path = NULL;

                r = ctl_get_container(bus, *n, &error, &path);
                if (r >= 0)
                        r = action(bus, path, userdata, &error);
                if (r < 0) {
                        ctl_log_bus_error(&error, r);
                        if (ret == 0)
                                ret = r;
                        continue;
                }
                printf("%s\n", *n);
                fflush(stdout);
        }
        return ret;
}

static int require_args(int argc, const char *verb) {
        if (optind < argc)
                return 0;
        ctl_log_error("\"berthctl %s\" requires at least 1 argument (see 'berthctl %s --help')", verb, verb);
        return -EINVAL;
}

static int start_action(sd_bus *bus, const char *path, const void *userdata, sd_bus_error *error) {
        int r = ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "Start", CTL_TIMEOUT_LONG, error, NULL, NULL);
        /* Docker: starting a running container is a no-op. */
        if (r < 0 && sd_bus_error_has_name(error, BERTH_ERROR_CONTAINER_RUNNING)) {
                sd_bus_error_free(error);
                return 0;
        }
        return r;
}

/* start -a [-i] and attach: copy the container's output here (and with -i our input there) until
 * it exits, then exit with its exit code. */
static int attach_to(Ctl *ctl, const char *name, bool start, bool input, bool sig_proxy, const char *detach_keys) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        sd_bus *bus;
        int r, exit_code, tty = 0;
        bool detached = false;

        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        if (!ctl_bus_can_pass_fds(bus)) {
                ctl_log_error("This connection cannot pass file descriptors (as with -H), so the output "
                              "cannot be attached; use \"logs -f\"");
                return -EOPNOTSUPP;
        }
        _cleanup_free_ char *state = NULL;
        r = ctl_get_container(bus, name, &error, &path);
        if (r >= 0)
                r = sd_bus_get_property_trivial(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Tty", &error, 'b',
                                                &tty);
        if (r >= 0)
                r = sd_bus_get_property_string(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "State", &error,
                                               &state);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        /* With a terminal ^C is a byte for the container; without one it is a signal to forward. */
        AttachFlags flags = (start ? ATTACH_START : ATTACH_EXISTING) | (tty ? ATTACH_TTY : 0) |
                (!tty && sig_proxy ? ATTACH_FORWARD_SIGNALS : 0) |
                /* A running container without terminal has its stdin fixed at start. */
                (input && (start || tty) ? ATTACH_STDIN : 0) |
                (start && !streq(state, "created") ? ATTACH_WAIT_AFTER_START : 0);
        struct termios saved;
        bool raw = tty && input && ctl_terminal_make_raw(&saved);
        r = ctl_attach_container(bus, path, flags, tty ? detach_keys : "", &error, &exit_code, &detached);
        ctl_terminal_restore(raw, &saved);
        if (r < 0) {
                ctl_log_bus_error(&error, r);
                return start ? ctl_start_error_exit_status(&error) : r;
        }
        return ctl_exit_status(exit_code);
}

static int check_detach_keys(const char *keys) {
        char buf[16];
        if (ctl_parse_detach_keys(keys, buf, sizeof(buf)) >= 0)
                return 0;
        ctl_log_error("invalid --detach-keys \"%s\": expected e.g. ctrl-p,ctrl-q", keys);
        return -EINVAL;
}

int verb_attach(int argc, char *argv[], Ctl *ctl) {
        enum { ARG_NO_STDIN = ARG_HELP + 1, ARG_SIG_PROXY, ARG_DETACH_KEYS };
        static const struct option options[] = {
                { "no-stdin", no_argument, NULL, ARG_NO_STDIN },
                { "sig-proxy", required_argument, NULL, ARG_SIG_PROXY },
                { "detach-keys", required_argument, NULL, ARG_DETACH_KEYS },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        bool input = true, sig_proxy = true;
        const char *detach_keys = NULL;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case ARG_NO_STDIN:
                        input = false;
                        break;
                case ARG_SIG_PROXY:
                        if (!streq(optarg, "true") && !streq(optarg, "false")) {
                                ctl_log_error("invalid --sig-proxy \"%s\": expected true or false", optarg);
                                return -EINVAL;
                        }
                        sig_proxy = streq(optarg, "true");
                        break;
                case ARG_DETACH_KEYS:
                        if ((r = check_detach_keys(optarg)) < 0)
                                return r;
                        detach_keys = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl attach [OPTIONS] CONTAINER\n"
                               "\n"
                               "Attach to a running container: its output (from now on) appears here, and for a\n"
                               "container with a terminal (-t) what you type goes to it. Exits with the\n"
                               "container's exit code, or 0 after the detach keys (the container keeps running).\n"
                               "\n"
                               "Options:\n"
                               "      --no-stdin          Do not send input\n"
                               "      --sig-proxy=BOOL    Forward signals to a container without terminal\n"
                               "                          (default true)\n"
                               "      --detach-keys=KEYS  Keys that detach (default ctrl-p,ctrl-q; \"\" for none)\n"
                               "  -h, --help              Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("attach", c, argv);
                }
        if (argc - optind != 1) {
                ctl_log_error("\"attach\" requires exactly 1 argument");
                return -EINVAL;
        }
        return attach_to(ctl, argv[optind], false, input, sig_proxy, detach_keys);
}

int verb_start(int argc, char *argv[], Ctl *ctl) {
        enum { ARG_DETACH_KEYS = ARG_HELP + 1 };
        static const struct option options[] = {
                { "attach", no_argument, NULL, 'a' },
                { "interactive", no_argument, NULL, 'i' },
                { "detach-keys", required_argument, NULL, ARG_DETACH_KEYS },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        bool attach = false, interactive = false;
        const char *detach_keys = NULL;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:aih", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        attach = true;
                        break;
                case 'i':
                        interactive = true;
                        break;
                case ARG_DETACH_KEYS:
                        if ((r = check_detach_keys(optarg)) < 0)
                                return r;
                        detach_keys = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl start [OPTIONS] CONTAINER...\n"
                               "\n"
                               "Start one or more created or exited containers.\n"
                               "\n"
                               "Options:\n"
                               "  -a, --attach   Copy the container's output to stdout/stderr, forward\n"
                               "                 signals, and exit with its exit code (one container)\n"
                               "  -i, --interactive  Also give it our standard input (one container)\n"
                               "      --detach-keys=KEYS  With -ai and a terminal: keys that detach\n"
                               "  -h, --help     Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("start", c, argv);
                }
        r = require_args(argc, "start");
        if (r < 0)
                return r;
        if (attach || interactive) {
                if (argc - optind > 1) {
                        ctl_log_error("you cannot start and attach multiple containers at once");
                        return -EINVAL;
                }
                return attach_to(ctl, argv[optind], true, interactive, true, detach_keys);
        }
        return for_each_container(ctl, argv + optind, start_action, NULL);
}

/* No -t: UINT32_MAX asks berthd for the container's own stop timeout (--stop-timeout, else 10 s),
 * which may be up to a day. */
#define STOP_TIMEOUT_CONTAINERS UINT32_MAX
static uint64_t grace_usec(uint32_t seconds) {
        return (uint64_t) (seconds == STOP_TIMEOUT_CONTAINERS ? 24 * 3600 : seconds) * USEC_PER_SEC;
}

typedef struct StopArgs {
        uint32_t seconds;
        int sig; /* 0: the container's stop signal */
} StopArgs;

static int stop_action(sd_bus *bus, const char *path, const void *userdata, sd_bus_error *error) {
        const StopArgs *a = userdata;
        /* Stop returns when the container has exited: allow the grace period plus slack. */
        uint64_t timeout = grace_usec(a->seconds) + 30 * USEC_PER_SEC;
        int r = a->sig > 0
                ? ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "StopWithSignal", timeout, error, NULL, "ui", a->seconds,
                               (int32_t) a->sig)
                : ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "Stop", timeout, error, NULL, "u", a->seconds);
        /* Docker: stopping a container that is not running is a no-op. */
        if (r < 0 && sd_bus_error_has_name(error, BERTH_ERROR_CONTAINER_NOT_RUNNING)) {
                sd_bus_error_free(error);
                return 0;
        }
        return r;
}

static int restart_action(sd_bus *bus, const char *path, const void *userdata, sd_bus_error *error) {
        const StopArgs *a = userdata;
        /* Returns once the container runs again: the grace period, then a start. */
        uint64_t timeout = grace_usec(a->seconds) + CTL_TIMEOUT_LONG;
        if (a->sig > 0)
                return ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "RestartWithSignal", timeout, error, NULL, "ui",
                                    a->seconds, (int32_t) a->sig);
        return ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "Restart", timeout, error, NULL, "u", a->seconds);
}

/* stop and restart take the same grace period option. */
static int stop_or_restart(int argc, char *argv[], Ctl *ctl, bool restart) {
        const char *verb = restart ? "restart" : "stop";
        static const struct option options[] = {
                { "signal", required_argument, NULL, 's' },
                { "time", required_argument, NULL, 't' },
                { "timeout", required_argument, NULL, 't' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        StopArgs a = { .seconds = STOP_TIMEOUT_CONTAINERS };
        uint64_t v;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:s:t:h", options, NULL)) >= 0)
                switch (c) {
                case 's':
                        if (ctl_parse_signal(optarg, &a.sig) < 0) {
                                /* Docker's wording */
                                ctl_log_error("Invalid signal: %s", optarg);
                                return -EINVAL;
                        }
                        break;
                case 't':
                        if (parse_uint64(optarg, &v) < 0 || v >= STOP_TIMEOUT_CONTAINERS) {
                                ctl_log_error("invalid timeout \"%s\": expected seconds", optarg);
                                return -EINVAL;
                        }
                        a.seconds = (uint32_t) v;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl %s [OPTIONS] CONTAINER...\n"
                               "\n"
                               "%s\n"
                               "\n"
                               "Options:\n"
                               "  -s, --signal=SIGNAL  Signal to stop the container with, a name (TERM, SIGTERM)\n"
                               "                       or number (default: the container's --stop-signal)\n"
                               "  -t, --time=SECONDS   Seconds to wait before killing (default: the container's\n"
                               "                       --stop-timeout, else 10)\n"
                               "  -h, --help           Show this help\n",
                               verb,
                               restart ? "Stop containers (as stop does) if they run, then start them again."
                                       : "Stop running containers: SIGTERM (or the stop signal), then SIGKILL after a "
                                         "grace period.");
                        return 0;
                default:
                        return ctl_log_getopt_error(verb, c, argv);
                }
        r = require_args(argc, verb);
        if (r < 0)
                return r;
        return for_each_container(ctl, argv + optind, restart ? restart_action : stop_action, &a);
}

int verb_stop(int argc, char *argv[], Ctl *ctl) {
        return stop_or_restart(argc, argv, ctl, false);
}

static int kill_action(sd_bus *bus, const char *path, const void *userdata, sd_bus_error *error) {
        int32_t sig = *(const int *) userdata;
        return ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "Kill", CTL_TIMEOUT_DEFAULT, error, NULL, "i", sig);
}

int verb_kill(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "signal", required_argument, NULL, 's' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int sig = SIGKILL, c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:s:h", options, NULL)) >= 0)
                switch (c) {
                case 's':
                        if (ctl_parse_signal(optarg, &sig) < 0) {
                                ctl_log_error("invalid signal \"%s\"", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl kill [OPTIONS] CONTAINER...\n"
                               "\n"
                               "Send a signal to the main process of running containers.\n"
                               "\n"
                               "Options:\n"
                               "  -s, --signal=SIGNAL  Signal name (TERM, SIGTERM) or number (default KILL)\n"
                               "  -h, --help           Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("kill", c, argv);
                }
        r = require_args(argc, "kill");
        if (r < 0)
                return r;
        return for_each_container(ctl, argv + optind, kill_action, &sig);
}

typedef struct RmArgs {
        bool force;
        bool volumes;
} RmArgs;

/* rm of many containers does not wait for one removal before asking for the next: berthd kills
 * them all at once and answers each as it is gone. At most this many calls are pending (the bus
 * limits a connection's pending replies). */
#define RM_IN_FLIGHT 32

typedef struct RmCall {
        const char *name;
        const RmArgs *args;
        size_t *n_pending;
        sd_bus_slot *slot;
        sd_bus_error error;
        int r;
} RmCall;

static int rm_call_failed(RmCall *c, sd_bus_message *reply) {
        c->r = sd_bus_error_copy(&c->error, sd_bus_message_get_error(reply));
        if (c->r >= 0)
                c->r = -EIO;
        (*c->n_pending)--;
        return 0;
}

static int on_removed(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        RmCall *c = userdata;
        (void) ret_error;
        c->slot = sd_bus_slot_unref(c->slot);
        if (sd_bus_message_is_method_error(reply, NULL))
                return rm_call_failed(c, reply);
        (*c->n_pending)--;
        return 0;
}

static int on_container_path(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        RmCall *c = userdata;
        const char *path;
        (void) ret_error;
        c->slot = sd_bus_slot_unref(c->slot);
        if (sd_bus_message_is_method_error(reply, NULL))
                return rm_call_failed(c, reply);
        c->r = sd_bus_message_read(reply, "o", &path);
        if (c->r >= 0)
                /* Removing a big writable layer can take a while. */
                c->r = sd_bus_call_method_async(sd_bus_message_get_bus(reply), &c->slot, BERTH_BUS_SERVICE, path,
                                                BERTH_BUS_CONTAINER, c->args->volumes ? "RemoveWithVolumes" : "Remove",
                                                on_removed, c, "b", (int) c->args->force);
        if (c->r < 0)
                (*c->n_pending)--;
        return 0;
}

static int rm_containers(Ctl *ctl, char **names, const RmArgs *args) {
        size_t n = 0, next = 0, n_pending = 0;
        sd_bus *bus;
        int r, ret = 0;

        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        while (names[n])
                n++;
        _cleanup_free_ RmCall *calls = calloc(n, sizeof(RmCall));
        if (!calls)
                return ctl_log_errno(-ENOMEM, "%m");
        while (next < n || n_pending > 0) {
                for (; next < n && n_pending < RM_IN_FLIGHT; next++) {
                        RmCall *c = &calls[next];
                        *c = (RmCall){
                                .name = names[next], .args = args, .n_pending = &n_pending, .error = SD_BUS_ERROR_NULL
                        };
                        c->r = sd_bus_call_method_async(bus, &c->slot, BERTH_BUS_SERVICE, BERTH_BUS_PATH,
                                                        BERTH_BUS_MANAGER, "GetContainer", on_container_path, c, "s",
                                                        c->name);
                        if (c->r >= 0)
                                n_pending++;
                }
                r = sd_bus_process(bus, NULL);
                if (r > 0)
                        continue;
                if (r >= 0)
                        r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0) {
                        ret = ctl_log_errno(r, "Failed to talk to berthd: %m");
                        for (size_t i = 0; i < next; i++)
                                if (calls[i].slot && calls[i].r >= 0)
                                        calls[i].r = r;
                        break;
                }
        }
        /* As Docker: each name that was removed, in the order given; the first error is the result. */
        for (size_t i = 0; i < next; i++) {
                RmCall *c = &calls[i];
                c->slot = sd_bus_slot_unref(c->slot);
                if (c->r < 0) {
                        ctl_log_bus_error(&c->error, c->r);
                        if (ret == 0)
                                ret = c->r;
                } else
                        printf("%s\n", c->name);
                sd_bus_error_free(&c->error);
        }
        return ret;
}

int verb_rm(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "force", no_argument, NULL, 'f' },
                { "volumes", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        RmArgs args = {};
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:fvh", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        args.force = true;
                        break;
                case 'v':
                        args.volumes = true;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl rm [OPTIONS] CONTAINER...\n"
                               "\n"
                               "Remove containers and their writable layers.\n"
                               "\n"
                               "Options:\n"
                               "  -f, --force   Kill and remove running containers\n"
                               "  -v, --volumes Also remove the containers' anonymous volumes\n"
                               "  -h, --help    Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("rm", c, argv);
                }
        r = require_args(argc, "rm");
        if (r < 0)
                return r;
        return rm_containers(ctl, argv + optind, &args);
}

int verb_wait(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "condition", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        const char *condition = NULL;
        sd_bus *bus;
        int c, r, ret = 0;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        if (!streq(optarg, "not-running") && !streq(optarg, "next-exit") && !streq(optarg, "removed")) {
                                /* The wording of Docker's API */
                                ctl_log_error("invalid condition: \"%s\"", optarg);
                                return -EINVAL;
                        }
                        condition = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl wait [OPTIONS] CONTAINER...\n"
                               "\n"
                               "Block until the containers stop, then print their exit codes.\n"
                               "\n"
                               "Options:\n"
                               "      --condition=COND  not-running: return at once unless the container runs\n"
                               "                        (a created one prints 0); next-exit: wait for the next\n"
                               "                        exit, even of an exited container; removed: wait until\n"
                               "                        it is removed. Default: as not-running, but a created\n"
                               "                        container is waited for until it has run and exited\n"
                               "  -h, --help            Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("wait", c, argv);
                }
        r = require_args(argc, "wait");
        if (r < 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        for (int i = optind; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_free_ char *path = NULL;
                int exit_code;

                r = ctl_get_container(bus, argv[i], &error, &path);
                if (r >= 0 && condition) {
                        r = ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "WaitCondition", CTL_TIMEOUT_INFINITE, &error,
                                         &reply, "s", condition);
                        if (r >= 0)
                                r = sd_bus_message_read(reply, "i", &exit_code);
                } else if (r >= 0)
                        r = ctl_wait_container(bus, path, 0, &error, &exit_code);
                if (r < 0) {
                        ctl_log_bus_error(&error, r);
                        if (ret == 0)
                                ret = r;
                        continue;
                }
                printf("%d\n", exit_code);
                fflush(stdout);
        }
        return ret;
}

int verb_restart(int argc, char *argv[], Ctl *ctl) {
        return stop_or_restart(argc, argv, ctl, true);
}

static int simple_action(sd_bus *bus, const char *path, const void *userdata, sd_bus_error *error) {
        const char *method = userdata;
        return ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, method, CTL_TIMEOUT_DEFAULT, error, NULL, NULL);
}

/* pause and unpause: no options, a method without arguments on each container. */
static int verb_simple(int argc, char *argv[], Ctl *ctl, const char *method, const char *description) {
        static const struct option options[] = {
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl %s CONTAINER...\n"
                               "\n"
                               "%s\n"
                               "\n"
                               "Options:\n"
                               "  -h, --help   Show this help\n",
                               argv[0], description);
                        return 0;
                default:
                        return ctl_log_getopt_error(argv[0], c, argv);
                }
        r = require_args(argc, argv[0]);
        if (r < 0)
                return r;
        return for_each_container(ctl, argv + optind, simple_action, method);
}

int verb_pause(int argc, char *argv[], Ctl *ctl) {
        return verb_simple(argc, argv, ctl, "Pause", "Freeze all processes of running containers.");
}

int verb_unpause(int argc, char *argv[], Ctl *ctl) {
        return verb_simple(argc, argv, ctl, "Unpause", "Thaw all processes of paused containers.");
}

int verb_rename(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl rename CONTAINER NEW-NAME\n"
                               "\n"
                               "Rename a container.\n"
                               "\n"
                               "Options:\n"
                               "  -h, --help   Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("rename", c, argv);
                }
        if (argc - optind != 2) {
                ctl_log_error("\"berthctl rename\" requires exactly 2 arguments (see 'berthctl rename --help')");
                return -EINVAL;
        }
        if (!container_name_is_valid(argv[optind + 1])) {
                ctl_log_error("invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                              argv[optind + 1]);
                return -EINVAL;
        }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = ctl_get_container(bus, argv[optind], &error, &path);
        if (r >= 0)
                r = ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "Rename", CTL_TIMEOUT_DEFAULT, &error, NULL, "s",
                                 argv[optind + 1]);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        return 0;
}
