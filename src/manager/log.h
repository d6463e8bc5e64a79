/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* berthd's own messages, to stderr with a syslog priority prefix ("<3>"), which journald reads
 * from a service's stderr (SyslogLevelPrefix=yes): `journalctl -u berthd -p err` shows errors
 * only. One line per call; errno is kept for %m. */
void log_at(int priority, const char *fmt, ...) _printf_(2, 3);

#define log_error(...)   log_at(3, __VA_ARGS__)
#define log_warning(...) log_at(4, __VA_ARGS__)
#define log_info(...)    log_at(6, __VA_ARGS__)
