/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* One assignment of a unit file, in file order. */
typedef struct UnitEntry {
        char *section;
        char *key;
        char *value;
        unsigned line; /* where the assignment starts (1-based) */
} UnitEntry;

typedef struct UnitFile {
        UnitEntry *entries;
        size_t n_entries;
        char **sections; /* every section header, in order, once each (empty sections too) */
        size_t n_sections;
} UnitFile;

void unit_file_done(UnitFile *f);

/* Parses text with systemd's unit file syntax: [Section] headers, Key=Value assignments
 * (whitespace around both trimmed), # and ; comment lines, and a backslash at the end of a line
 * joining the next one (with a space; comment lines within are skipped). On a syntax error
 * returns -EINVAL with its line in *ret_error_line. */
int unit_file_parse(const char *text, UnitFile *ret, unsigned *ret_error_line);
