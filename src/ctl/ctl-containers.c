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

static int start_attached(Ctl *ctl, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        sd_bus *bus;
        int r, exit_code;

        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        if (!ctl_bus_can_pass_fds(bus)) {
                ctl_log_error("This connection cannot pass file descriptors (as with -H), so the output "
                              "cannot be attached; use \"start\" without -a and \"logs\"");
                return -EOPNOTSUPP;
        }
        r = ctl_get_container(bus, name, &error, &path);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = ctl_wait_container(bus, path, ATTACH_START | ATTACH_FORWARD_SIGNALS, &error, &exit_code);
        if (r < 0) {
                ctl_log_bus_error(&error, r);
                return ctl_start_error_exit_status(&error);
        }
        return ctl_exit_status(exit_code);
}

int verb_start(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "attach", no_argument, NULL, 'a' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        bool attach = false;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:ah", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        attach = true;
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
                               "  -h, --help     Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("start", c, argv);
                }
        r = require_args(argc, "start");
        if (r < 0)
                return r;
        if (attach) {
                if (argc - optind > 1) {
                        ctl_log_error("you cannot start and attach multiple containers at once");
                        return -EINVAL;
                }
                return start_attached(ctl, argv[optind]);
        }
        return for_each_container(ctl, argv + optind, start_action, NULL);
}

/* No -t: UINT32_MAX asks berthd for the container's own stop timeout (--stop-timeout, else 10 s),
 * which may be up to a day. */
#define STOP_TIMEOUT_CONTAINERS UINT32_MAX
static uint64_t grace_usec(uint32_t seconds) {
        return (uint64_t) (seconds == STOP_TIMEOUT_CONTAINERS ? 24 * 3600 : seconds) * USEC_PER_SEC;
}

static int stop_action(sd_bus *bus, const char *path, const void *userdata, sd_bus_error *error) {
        uint32_t seconds = *(const uint32_t *) userdata;
        /* Stop returns when the container has exited: allow the grace period plus slack. */
        uint64_t timeout = grace_usec(seconds) + 30 * USEC_PER_SEC;
        int r = ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "Stop", timeout, error, NULL, "u", seconds);
        /* Docker: stopping a container that is not running is a no-op. */
        if (r < 0 && sd_bus_error_has_name(error, BERTH_ERROR_CONTAINER_NOT_RUNNING)) {
                sd_bus_error_free(error);
                return 0;
        }
        return r;
}

static int restart_action(sd_bus *bus, const char *path, const void *userdata, sd_bus_error *error) {
        uint32_t seconds = *(const uint32_t *) userdata;
        /* Returns once the container runs again: the grace period, then a start. */
        uint64_t timeout = grace_usec(seconds) + CTL_TIMEOUT_LONG;
        return ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, "Restart", timeout, error, NULL, "u", seconds);
}

/* stop and restart take the same grace period option. */
static int stop_or_restart(int argc, char *argv[], Ctl *ctl, bool restart) {
        const char *verb = restart ? "restart" : "stop";
        static const struct option options[] = {
                { "time", required_argument, NULL, 't' },
                { "timeout", required_argument, NULL, 't' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        uint32_t seconds = STOP_TIMEOUT_CONTAINERS;
        uint64_t v;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:t:h", options, NULL)) >= 0)
                switch (c) {
                case 't':
                        if (parse_uint64(optarg, &v) < 0 || v >= STOP_TIMEOUT_CONTAINERS) {
                                ctl_log_error("invalid timeout \"%s\": expected seconds", optarg);
                                return -EINVAL;
                        }
                        seconds = (uint32_t) v;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl %s [OPTIONS] CONTAINER...\n"
                               "\n"
                               "%s\n"
                               "\n"
                               "Options:\n"
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
        return for_each_container(ctl, argv + optind, restart ? restart_action : stop_action, &seconds);
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

static int rm_action(sd_bus *bus, const char *path, const void *userdata, sd_bus_error *error) {
        const RmArgs *a = userdata;
        /* Removing a big writable layer can take a while. */
        return ctl_bus_call(bus, path, BERTH_BUS_CONTAINER, a->volumes ? "RemoveWithVolumes" : "Remove",
                            CTL_TIMEOUT_LONG, error, NULL, "b", (int) a->force);
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
        return for_each_container(ctl, argv + optind, rm_action, &args);
}

int verb_wait(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        sd_bus *bus;
        int c, r, ret = 0;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl wait CONTAINER...\n"
                               "\n"
                               "Block until the containers stop, then print their exit codes.\n"
                               "\n"
                               "Options:\n"
                               "  -h, --help   Show this help\n");
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
                _cleanup_free_ char *path = NULL;
                int exit_code;

                r = ctl_get_container(bus, argv[i], &error, &path);
                if (r >= 0)
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
