/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl-format.h"

/* What the verbs share of their options and arguments. verb is as the messages name it
 * ("network prune"). Each logs its error and returns -EINVAL or -ENOMEM. */

/* Appends arg, a KEY[=VALUE] of --label or --opt ("label", "driver option": what), to *l. */
int ctl_push_kv(char ***l, const char *arg, const char *what);

/* A --filter KEY=VALUE of the list verbs: the length of KEY and VALUE; logs when there is no '='. */
int ctl_split_filter(const char *f, size_t *ret_key_len, const char **ret_value);

/* Docker's errors for positional arguments given to a verb that takes none, and for none given to
 * a verb that takes one or more: optind against argc; 0 when they are right. */
int ctl_check_no_args(const char *verb, int argc);
int ctl_check_some_args(const char *verb, int argc);

/* One option of a verb for ctl_parse_options(): a flag (flag set to true), or one that takes a value
 * (value: the last one given; values: each appended), checked first by check (which logs) if set. */
typedef struct CtlOption {
        const char *name;
        char short_name; /* or 0 */
        bool *flag;
        const char **value;
        char ***values;
        int (*check)(const char *value);
} CtlOption;

#define CTL_OPTIONS_MAX 8

typedef enum CtlArgs {
        CTL_ARGS_ANY,
        CTL_ARGS_NONE, /* ctl_check_no_args() */
        CTL_ARGS_SOME, /* ctl_check_some_args() */
} CtlArgs;

/* getopt_long() over options (at most CTL_OPTIONS_MAX) and -h, --help (prints help), stopping at the
 * first positional argument, which args then checks. 0 when the help was printed, 1 to go on. */
int ctl_parse_options(int argc, char *argv[], const char *verb, const char *help, const CtlOption *options,
                      size_t n_options, CtlArgs args);

typedef enum CtlPruneFlags {
        CTL_PRUNE_ALL = 1 << 0, /* -a, --all */
        CTL_PRUNE_VOLUMES = 1 << 1, /* --volumes */
} CtlPruneFlags;

typedef struct CtlPruneArgs {
        bool all, force, volumes;
        char **filters;
} CtlPruneArgs;

/* The end of the help of the prune verbs whose --filter takes until= and label=. */
#define CTL_PRUNE_OPTIONS_HELP                                                   \
        "      --filter=KEY=VALUE  until=TIMESTAMP|DURATION (created before),\n" \
        "                 label=KEY[=VALUE], label!=KEY[=VALUE]; repeatable\n"   \
        "  -f, --force    Do not ask for confirmation\n"                         \
        "  -h, --help     Show this help\n"

void ctl_prune_args_done(CtlPruneArgs *a);

/* The options of the prune verbs: -f, --force, --filter=KEY=VALUE (repeatable, kept as given),
 * -h, --help (prints help), and those of flags; no positional arguments. 0 when the help was
 * printed, 1 to go on. */
int ctl_parse_prune_args(int argc, char *argv[], const char *verb, const char *help, CtlPruneFlags flags,
                         CtlPruneArgs *a);

/* The options of the ls verbs: -q, --quiet, -f, --filter=KEY=VALUE (each checked by check_filter,
 * which logs, and kept), --format=TMPL, -h, --help (prints help), with no_trunc --no-trunc; no
 * positional arguments. 0 when the help was printed, 1 to go on. */
typedef struct CtlListArgs {
        bool quiet, no_trunc;
        const char *format;
        char **filters;
} CtlListArgs;

void ctl_list_args_done(CtlListArgs *a);
int ctl_parse_list_args(int argc, char *argv[], const char *verb, const char *help, int (*check_filter)(const char *f),
                        bool no_trunc, CtlListArgs *a);

/* What an ls verb shows of its objects: those a's filters match (filter_keys, match), each
 * printed by print_quiet with -q, else as a row() under a's --format (see ctl_print_list()). */
typedef struct CtlListing {
        size_t size; /* of one object */
        const char *const *filter_keys;
        size_t n_filter_keys;
        CtlFilterMatchFunc match;
        void (*print_quiet)(const void *object, bool no_trunc);
        json_object *(*row)(const void *object, bool no_trunc); /* NULL when out of memory */
        const char *default_table;
        const char *const (*headers)[2];
        size_t n_headers;
        const char *what; /* "networks" */
} CtlListing;

/* Shows the n objects (an array of listing->size bytes each). Logs. */
int ctl_list_objects(const CtlListing *listing, const void *objects, size_t n, const CtlListArgs *a);
