/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "ctl-args.h"
#include "ctl-log.h"
#include "util.h"

int ctl_push_kv(char ***l, const char *arg, const char *what) {
        if (isempty(arg) || arg[0] == '=') {
                ctl_log_error("invalid %s \"%s\": expected KEY[=VALUE]", what, arg);
                return -EINVAL;
        }
        int r = strv_push(l, arg);
        return r < 0 ? ctl_log_errno(r, "%m") : 0;
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
