/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "ctl-log.h"

static void log_va(const char *prefix, int error, const char *format, va_list ap) _printf_(3, 0);
static void log_va(const char *prefix, int error, const char *format, va_list ap) {
        /* stdout may be buffered output of the same verb; keep the order the user would expect. */
        fflush(stdout);
        fputs("berthctl: ", stderr);
        fputs(prefix, stderr);
        errno = error;
        vfprintf(stderr, format, ap);
        fputc('\n', stderr);
}

void ctl_log_error(const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        log_va("", errno, format, ap);
        va_end(ap);
}

void ctl_log_warning(const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        log_va("warning: ", errno, format, ap);
        va_end(ap);
}

int ctl_log_errno(int r, const char *format, ...) {
        va_list ap;
        int e = r < 0 ? -r : r;

        if (e == 0)
                e = EINVAL;
        va_start(ap, format);
        log_va("", e, format, ap);
        va_end(ap);
        return -e;
}

int ctl_log_getopt_error(const char *verb, int c, char *argv[]) {
        const char *arg = optind > 0 ? argv[optind - 1] : "?";

        if (c == ':')
                ctl_log_error("flag needs an argument: %s (see 'berthctl %s --help')", arg, verb);
        else if (optopt != 0 && optopt != '?')
                ctl_log_error("unknown shorthand flag: '%c' (see 'berthctl %s --help')", optopt, verb);
        else
                ctl_log_error("unknown flag: %s (see 'berthctl %s --help')", arg, verb);
        return -EINVAL;
}
