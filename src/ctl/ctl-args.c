/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-args.h"
#include "ctl-log.h"
#include "ctl-output.h"
#include "util.h"

int ctl_push_kv(char ***l, const char *arg, const char *what) {
        if (isempty(arg) || arg[0] == '=') {
                ctl_log_error("invalid %s \"%s\": expected KEY[=VALUE]", what, arg);
                return -EINVAL;
        }
        int r = strv_push(l, arg);
        return r < 0 ? ctl_log_errno(r, "%m") : 0;
}

int ctl_split_filter(const char *f, size_t *ret_key_len, const char **ret_value) {
        const char *eq = strchr(f, '=');
        if (!eq) {
                ctl_log_error("bad format of filter (expected name=value)");
                return -EINVAL;
        }
        *ret_key_len = (size_t) (eq - f);
        *ret_value = eq + 1;
        return 0;
}

int ctl_check_no_args(const char *verb, int argc) {
        if (optind < argc) {
                ctl_log_error("\"berthctl %s\" accepts no arguments (see 'berthctl %s --help')", verb, verb);
                return -EINVAL;
        }
        return 0;
}

int ctl_check_some_args(const char *verb, int argc) {
        if (optind >= argc) {
                ctl_log_error("\"berthctl %s\" requires at least 1 argument (see 'berthctl %s --help')", verb, verb);
                return -EINVAL;
        }
        return 0;
}

void ctl_prune_args_done(CtlPruneArgs *a) {
        strv_free(a->filters);
        a->filters = NULL;
}

int ctl_parse_prune_args(int argc, char *argv[], const char *verb, const char *help, CtlPruneFlags flags,
                         CtlPruneArgs *a) {
        enum { ARG_FILTER = 0x100, ARG_VOLUMES, ARG_HELP };
        struct option options[6];
        size_t n = 0;
        int c;

        if (flags & CTL_PRUNE_ALL)
                options[n++] = (struct option){ "all", no_argument, NULL, 'a' };
        options[n++] = (struct option){ "force", no_argument, NULL, 'f' };
        if (flags & CTL_PRUNE_VOLUMES)
                options[n++] = (struct option){ "volumes", no_argument, NULL, ARG_VOLUMES };
        options[n++] = (struct option){ "filter", required_argument, NULL, ARG_FILTER };
        options[n++] = (struct option){ "help", no_argument, NULL, ARG_HELP };
        options[n] = (struct option){};

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, flags & CTL_PRUNE_ALL ? "+:afh" : "+:fh", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        a->all = true;
                        break;
                case 'f':
                        a->force = true;
                        break;
                case ARG_VOLUMES:
                        a->volumes = true;
                        break;
                case ARG_FILTER:
                        if (strv_push(&a->filters, optarg) < 0)
                                return ctl_log_errno(-ENOMEM, "%m");
                        break;
                case 'h':
                case ARG_HELP:
                        fputs(help, stdout);
                        return 0;
                default:
                        return ctl_log_getopt_error(verb, c, argv);
                }
        return ctl_check_no_args(verb, argc) < 0 ? -EINVAL : 1;
}

void ctl_list_args_done(CtlListArgs *a) {
        strv_free(a->filters);
        a->filters = NULL;
}

int ctl_parse_list_args(int argc, char *argv[], const char *verb, const char *help, int (*check_filter)(const char *f),
                        bool no_trunc, CtlListArgs *a) {
        enum { ARG_FORMAT = 0x100, ARG_NO_TRUNC, ARG_HELP };
        struct option options[6];
        size_t n = 0;
        int c, r;

        options[n++] = (struct option){ "quiet", no_argument, NULL, 'q' };
        options[n++] = (struct option){ "filter", required_argument, NULL, 'f' };
        options[n++] = (struct option){ "format", required_argument, NULL, ARG_FORMAT };
        if (no_trunc)
                options[n++] = (struct option){ "no-trunc", no_argument, NULL, ARG_NO_TRUNC };
        options[n++] = (struct option){ "help", no_argument, NULL, ARG_HELP };
        options[n] = (struct option){};

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:qf:h", options, NULL)) >= 0)
                switch (c) {
                case 'q':
                        a->quiet = true;
                        break;
                case 'f':
                        if ((r = check_filter(optarg)) < 0)
                                return r;
                        if (strv_push(&a->filters, optarg) < 0)
                                return ctl_log_errno(-ENOMEM, "%m");
                        break;
                case ARG_FORMAT:
                        a->format = optarg;
                        break;
                case ARG_NO_TRUNC:
                        a->no_trunc = true;
                        break;
                case 'h':
                case ARG_HELP:
                        fputs(help, stdout);
                        return 0;
                default:
                        return ctl_log_getopt_error(verb, c, argv);
                }
        return ctl_check_no_args(verb, argc) < 0 ? -EINVAL : 1;
}

int ctl_list_objects(const CtlListing *listing, const void *objects, size_t n, const CtlListArgs *a) {
        _cleanup_free_ json_object **rows = calloc(n + 1, sizeof(json_object *));
        size_t n_rows = 0;
        int r = rows ? 0 : -ENOMEM;

        for (size_t k = 0; r >= 0 && k < n; k++) {
                const void *o = (const uint8_t *) objects + k * listing->size;
                if (!ctl_filters_match(a->filters, listing->filter_keys, listing->n_filter_keys, listing->match, o))
                        continue;
                if (a->quiet)
                        listing->print_quiet(o, a->no_trunc);
                else
                        rows[n_rows++] = listing->row(o, a->no_trunc);
        }
        if (r >= 0 && !a->quiet)
                r = ctl_print_list(a->format, listing->default_table, listing->headers, listing->n_headers, rows,
                                   n_rows, listing->what);
        return r == -ENOMEM ? ctl_log_errno(r, "%m") : r;
}
