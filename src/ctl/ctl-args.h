/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* What the verbs share of their options and arguments. verb is as the messages name it
 * ("network prune"). Each logs its error and returns -EINVAL or -ENOMEM. */

/* Appends arg, a KEY[=VALUE] of --label or --opt ("label", "driver option": what), to *l. */
int ctl_push_kv(char ***l, const char *arg, const char *what);

/* Docker's errors for positional arguments given to a verb that takes none, and for none given to
 * a verb that takes one or more: optind against argc; 0 when they are right. */
int ctl_check_no_args(const char *verb, int argc);
int ctl_check_some_args(const char *verb, int argc);

typedef enum CtlPruneFlags {
        CTL_PRUNE_ALL = 1 << 0, /* -a, --all */
        CTL_PRUNE_VOLUMES = 1 << 1, /* --volumes */
} CtlPruneFlags;

typedef struct CtlPruneArgs {
        bool all, force, volumes;
        char **filters;
} CtlPruneArgs;

void ctl_prune_args_done(CtlPruneArgs *a);

/* The options of the prune verbs: -f, --force, --filter=KEY=VALUE (repeatable, kept as given),
 * -h, --help (prints help), and those of flags; no positional arguments. 0 when the help was
 * printed, 1 to go on. */
int ctl_parse_prune_args(int argc, char *argv[], const char *verb, const char *help, CtlPruneFlags flags,
                         CtlPruneArgs *a);
