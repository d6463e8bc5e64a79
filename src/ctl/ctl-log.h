/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* berthctl's messages: one line on stderr, "berthctl: " first. Only the verbs (the top layer)
 * call these; helpers return negative errno values. */
void ctl_log_error(const char *format, ...) _printf_(1, 2);
void ctl_log_warning(const char *format, ...) _printf_(1, 2);
/* Logs with errno set to -r (so "%m" works) and returns -|r| (or -EINVAL for r == 0). */
int ctl_log_errno(int r, const char *format, ...) _printf_(2, 3);
/* For getopt_long() returning '?' or ':' (optstring starting with "+:"): logs which flag was
 * wrong and where to find help, returns -EINVAL. */
int ctl_log_getopt_error(const char *verb, int c, char *argv[]);
