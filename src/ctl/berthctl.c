/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl-bus.h"
#include "ctl-log.h"
#include "ctl.h"
#include "util.h"

typedef struct Verb {
        const char *name;
        CtlVerbFunc func;
        const char *summary;
} Verb;

static const Verb verbs[] = {
        { "attach", verb_attach, "Attach to a running container's output and terminal" },
        { "build", verb_build, "Build an image from a Dockerfile" },
        { "commit", verb_commit, "Make a new image of a container's changes" },
        { "container", verb_container, "Manage containers (ls, run, stop, rm, prune, ...)" },
        { "cp", verb_cp, "Copy files between a container and the host" },
        { "create", verb_create, "Create a new container" },
        { "diff", verb_diff, "List the changes to a container's file system" },
        { "events", verb_events, "Print events of containers, images and volumes as they happen" },
        { "exec", verb_exec, "Run a command in a running container" },
        { "export", verb_export, "Write a container's file system as a tar archive" },
        { "history", verb_history, "Show the layers of an image" },
        { "image", verb_image, "Manage images (ls, inspect, rm, tag, history, pull, push, load, save, prune)" },
        { "images", verb_images, "List images" },
        { "import", verb_import, "Import a rootfs tarball as an image" },
        { "info", verb_info, "Show system-wide information" },
        { "inspect", verb_inspect, "Show low-level information on containers and images as JSON" },
        { "kill", verb_kill, "Send a signal to running containers" },
        { "load", verb_load, "Load images from a docker-archive or OCI archive" },
        { "login", verb_login, "Log in to a registry" },
        { "logout", verb_logout, "Log out from a registry" },
        { "logs", verb_logs, "Show the output of a container (from the journal)" },
        { "network", verb_network, "Manage networks (create, ls, inspect, rm, connect, disconnect, prune)" },
        { "pause", verb_pause, "Freeze all processes of containers" },
        { "port", verb_port, "List a container's published ports, or where one of them is" },
        { "ps", verb_ps, "List containers" },
        { "pull", verb_pull, "Download an image from a registry" },
        { "push", verb_push, "Upload an image to a registry" },
        { "rename", verb_rename, "Rename a container" },
        { "restart", verb_restart, "Restart containers" },
        { "rm", verb_rm, "Remove containers" },
        { "rmi", verb_rmi, "Remove images" },
        { "run", verb_run, "Create and start a container, and wait for it" },
        { "save", verb_save, "Save images to a docker-archive or OCI archive" },
        { "start", verb_start, "Start created or stopped containers" },
        { "stats", verb_stats, "Show CPU, memory, I/O and task use of containers" },
        { "stop", verb_stop, "Stop running containers" },
        { "system", verb_system, "Manage berth (df, events, info, prune)" },
        { "tag", verb_tag, "Give an image another name" },
        { "top", verb_top, "List the processes of a container" },
        { "unpause", verb_unpause, "Thaw paused containers" },
        { "update", verb_update, "Change the limits of containers, live" },
        { "version", verb_version, "Show the versions of berthctl and berthd" },
        { "volume", verb_volume, "Manage volumes (create, ls, inspect, rm, prune)" },
        { "wait", verb_wait, "Wait for containers to exit and print their exit codes" },
};

static void help(void) {
        printf("Usage: berthctl [OPTIONS] COMMAND [ARG...]\n"
               "\n"
               "Manage berth containers and images through berthd (org.berth1 on the system bus).\n"
               "\n"
               "Options:\n"
               "  -H, --host=[USER@]HOST   Operate on the berthd of a remote host (over ssh)\n"
               "  -M, --machine=MACHINE    Operate on the berthd of a local container or VM\n"
               "  -h, --help               Show this help\n"
               "      --version            Show the version\n"
               "\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
        printf("  %-10s %s\n", "help", "Show this help, or the help of a command");
        printf("\nRun 'berthctl COMMAND --help' for more information on a command.\n");
}

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

/* Global options only; parsing stops at the command. Returns 1 to go on, 0 to exit 0. */
static int parse_global_argv(int argc, char *argv[], Ctl *ctl) {
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "host", required_argument, NULL, 'H' },
                { "machine", required_argument, NULL, 'M' },
                {},
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:hH:M:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("berthctl %s\n", BERTH_VERSION);
                        return 0;
                case 'H':
                case 'M':
                        if (ctl->transport != CTL_TRANSPORT_LOCAL) {
                                ctl_log_error("-H and -M cannot be combined or repeated");
                                return -EINVAL;
                        }
                        if (isempty(optarg)) {
                                ctl_log_error("invalid %s \"%s\"", c == 'H' ? "host" : "machine", optarg);
                                return -EINVAL;
                        }
                        ctl->transport = c == 'H' ? CTL_TRANSPORT_REMOTE : CTL_TRANSPORT_MACHINE;
                        ctl->host = optarg;
                        break;
                default:
                        if (c == ':')
                                ctl_log_error("flag needs an argument: %s (see 'berthctl --help')", argv[optind - 1]);
                        else if (optopt != 0)
                                ctl_log_error("unknown shorthand flag: '%c' (see 'berthctl --help')", optopt);
                        else
                                ctl_log_error("unknown flag: %s (see 'berthctl --help')", argv[optind - 1]);
                        return -EINVAL;
                }
        return 1;
}

static int dispatch(int argc, char *argv[], Ctl *ctl) {
        const Verb *v;

        if (argc <= 0) {
                help();
                return 0;
        }
        if (streq(argv[0], "help")) {
                if (argc < 2) {
                        help();
                        return 0;
                }
                v = find_verb(argv[1]);
                if (!v) {
                        ctl_log_error("unknown command \"%s\" (see 'berthctl --help')", argv[1]);
                        return -EINVAL;
                }
                char *help_argv[] = { argv[1], (char *) "--help", NULL };
                optind = 0;
                return v->func(2, help_argv, ctl);
        }
        v = find_verb(argv[0]);
        if (!v) {
                ctl_log_error("unknown command \"%s\" (see 'berthctl --help')", argv[0]);
                return -EINVAL;
        }
        optind = 0; /* The verb parses its own argv from the start. */
        return v->func(argc, argv, ctl);
}

int main(int argc, char *argv[]) {
        Ctl ctl = { .transport = CTL_TRANSPORT_LOCAL };
        int r;

        /* A container (or berthd) closing a pipe we write to is an error to handle, not our death
         * (which would leave the terminal in raw mode). */
        signal(SIGPIPE, SIG_IGN);

        r = parse_global_argv(argc, argv, &ctl);
        if (r <= 0)
                return r < 0 ? CTL_EXIT_ENGINE : 0;

        r = dispatch(argc - optind, argv + optind, &ctl);
        ctl_done(&ctl);
        if (fflush(stdout) != 0 && r >= 0) {
                ctl_log_errno(errno, "Failed to write to standard output: %m");
                r = -EIO;
        }
        return r < 0 ? CTL_EXIT_ENGINE : r;
}
