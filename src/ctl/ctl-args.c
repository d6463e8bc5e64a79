/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
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

int ctl_parse_options(int argc, char *argv[], const char *verb, const char *help, const CtlOption *options,
                      size_t n_options, CtlArgs args) {
        struct option longopts[CTL_OPTIONS_MAX + 2];
        char shortopts[3 + 2 * CTL_OPTIONS_MAX + 2] = "+:";
        size_t n_short = 2;
        int c, r;

        assert(n_options <= CTL_OPTIONS_MAX);
        /* A long option without a short one is 0x100 + its index; --help is 0x100 + n_options. */
        for (size_t i = 0; i < n_options; i++) {
                const CtlOption *o = &options[i];
                bool has_value = o->value || o->values;
                longopts[i] = (struct option){ o->name, has_value ? required_argument : no_argument, NULL,
                                               o->short_name ?: 0x100 + (int) i };
                if (o->short_name) {
                        shortopts[n_short++] = o->short_name;
                        if (has_value)
                                shortopts[n_short++] = ':';
                }
        }
        longopts[n_options] = (struct option){ "help", no_argument, NULL, 0x100 + (int) n_options };
        longopts[n_options + 1] = (struct option){};
        shortopts[n_short++] = 'h';
        shortopts[n_short] = 0;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) >= 0) {
                const CtlOption *o = NULL;
                if (c == 'h' || c == 0x100 + (int) n_options) {
                        fputs(help, stdout);
                        return 0;
                }
                for (size_t i = 0; !o && i < n_options; i++)
                        if (c == longopts[i].val)
                                o = &options[i];
                if (!o)
                        return ctl_log_getopt_error(verb, c, argv);
                if (o->check && (r = o->check(optarg)) < 0)
                        return r;
                if (o->flag)
                        *o->flag = true;
                else if (o->value)
                        *o->value = optarg;
                else if (strv_push(o->values, optarg) < 0)
                        return ctl_log_errno(-ENOMEM, "%m");
        }
        if (args == CTL_ARGS_NONE && ctl_check_no_args(verb, argc) < 0)
                return -EINVAL;
        if (args == CTL_ARGS_SOME && ctl_check_some_args(verb, argc) < 0)
                return -EINVAL;
        return 1;
}

void ctl_prune_args_done(CtlPruneArgs *a) {
        strv_free(a->filters);
        a->filters = NULL;
}

int ctl_parse_prune_args(int argc, char *argv[], const char *verb, const char *help, CtlPruneFlags flags,
                         CtlPruneArgs *a) {
        CtlOption options[4];
        size_t n = 0;

        if (flags & CTL_PRUNE_ALL)
                options[n++] = (CtlOption){ "all", 'a', .flag = &a->all };
        options[n++] = (CtlOption){ "force", 'f', .flag = &a->force };
        if (flags & CTL_PRUNE_VOLUMES)
                options[n++] = (CtlOption){ "volumes", .flag = &a->volumes };
        options[n++] = (CtlOption){ "filter", .values = &a->filters };
        return ctl_parse_options(argc, argv, verb, help, options, n, CTL_ARGS_NONE);
}

void ctl_list_args_done(CtlListArgs *a) {
        strv_free(a->filters);
        a->filters = NULL;
}

int ctl_parse_list_args(int argc, char *argv[], const char *verb, const char *help, int (*check_filter)(const char *f),
                        bool no_trunc, CtlListArgs *a) {
        CtlOption options[] = {
                { "quiet", 'q', .flag = &a->quiet },
                { "filter", 'f', .values = &a->filters, .check = check_filter },
                { "format", .value = &a->format },
                { "no-trunc", .flag = &a->no_trunc },
        };
        return ctl_parse_options(argc, argv, verb, help, options, no_trunc ? 4 : 3, CTL_ARGS_NONE);
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
