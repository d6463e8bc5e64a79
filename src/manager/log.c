/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void log_at(int priority, const char *fmt, ...) {
        char line[2048];
        int saved_errno = errno;
        va_list ap;

        va_start(ap, fmt);
        errno = saved_errno;
        (void) vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        /* One write per line, so lines of berthd's threads do not interleave. */
        fprintf(stderr, "<%d>%s\n", priority, line);
        errno = saved_errno;
}
