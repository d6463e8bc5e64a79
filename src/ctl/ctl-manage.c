/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "container COMMAND": Docker's management command, each subcommand the top-level verb of the
 * same name (inspect restricted to containers). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-log.h"
#include "ctl.h"
#include "util.h"

typedef struct SubCommand {
        const char *name;
        CtlVerbFunc func;
        const char *summary; /* NULL: an alias, left out of the help */
} SubCommand;

static const SubCommand container_commands[] = {
        { "attach", verb_attach, "Attach to a running container's output and terminal" },
        { "commit", verb_commit, "Make a new image of a container's changes" },
        { "cp", verb_cp, "Copy files between a container and the host" },
        { "create", verb_create, "Create a new container" },
        { "diff", verb_diff, "List the changes to a container's file system" },
        { "exec", verb_exec, "Run a command in a running container" },
        { "export", verb_export, "Write a container's file system as a tar archive" },
        { "inspect", verb_inspect, "Show containers as JSON" },
        { "kill", verb_kill, "Send a signal to running containers" },
        { "logs", verb_logs, "Show the output of a container" },
        { "ls", verb_ps, "List containers" },
        { "list", verb_ps, NULL },
        { "ps", verb_ps, NULL },
        { "pause", verb_pause, "Freeze all processes of containers" },
        { "port", verb_port, "List a container's published ports" },
        { "prune", verb_container_prune, "Remove all stopped containers" },
        { "rename", verb_rename, "Rename a container" },
        { "restart", verb_restart, "Restart containers" },
        { "rm", verb_rm, "Remove containers" },
        { "remove", verb_rm, NULL },
        { "run", verb_run, "Create and start a container, and wait for it" },
        { "start", verb_start, "Start created or stopped containers" },
        { "stats", verb_stats, "Show the resource use of containers" },
        { "stop", verb_stop, "Stop running containers" },
        { "top", verb_top, "List the processes of a container" },
        { "unpause", verb_unpause, "Thaw paused containers" },
        { "update", verb_update, "Change the limits of containers, live" },
        { "wait", verb_wait, "Wait for containers to stop and print their exit codes" },
};

static int inspect_as(int argc, char *argv[], Ctl *ctl, const char *type_option) {
        _cleanup_free_ char **args = calloc((size_t) argc + 2, sizeof(char *));
        if (!args)
                return ctl_log_errno(-ENOMEM, "%m");
        args[0] = argv[0];
        args[1] = (char *) type_option;
        for (int i = 1; i < argc; i++)
                args[i + 1] = argv[i];
        optind = 0;
        return verb_inspect(argc + 1, args, ctl);
}

int verb_container(int argc, char *argv[], Ctl *ctl) {
        if (argc < 2 || streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                printf("Usage: berthctl container COMMAND\n"
                       "\n"
                       "Manage containers.\n"
                       "\n"
                       "Commands:\n");
                for (size_t k = 0; k < ELEMENTSOF(container_commands); k++)
                        if (container_commands[k].summary)
                                printf("  %-9s %s\n", container_commands[k].name, container_commands[k].summary);
                printf("\nRun 'berthctl container COMMAND --help' for more information on a command.\n");
                return 0;
        }
        for (size_t k = 0; k < ELEMENTSOF(container_commands); k++) {
                if (!streq(argv[1], container_commands[k].name))
                        continue;
                if (container_commands[k].func == verb_inspect)
                        return inspect_as(argc - 1, argv + 1, ctl, "--type=container");
                optind = 0;
                return container_commands[k].func(argc - 1, argv + 1, ctl);
        }
        ctl_log_error("unknown command \"container %s\" (see 'berthctl container --help')", argv[1]);
        return -EINVAL;
}
