/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

#include "macro.h"

/* A text table as Docker prints them: columns padded to their widest cell plus three spaces. */
typedef struct Table Table;

Table *table_new(size_t n_columns);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);
/* Cells are added row by row, left to right; the first row is the header. */
int table_add_cell(Table *t, const char *text);
int table_add_cells(Table *t, ...) __attribute__((sentinel));
int table_print(Table *t, FILE *f);

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

/* --format as Docker's list commands take it: "json" (each row as one line of JSON), "table" (the
 * default_table template, aligned, with a header), "table TMPL" (TMPL aligned at its tabs, the header
 * rendered from headers: field → column title) or a plain template, one line per row. The two
 * characters \t and \n stand for a tab and a newline. -EINVAL with *ret_error for a bad template. */
int ctl_print_rows(const char *format, const char *default_table, json_object *headers, json_object *const *rows,
                   size_t n_rows, char **ret_error);
/* The end of a list verb: rows (n_rows, each consumed) under format as ctl_print_rows() takes it
 * (NULL: "table"), the header titles from headers (field, title pairs). Logs, "Failed to show the
 * <what>: ..." or the template's error. */
int ctl_print_list(const char *format, const char *default_table, const char *const (*headers)[2], size_t n_headers,
                   json_object **rows, size_t n_rows, const char *what);
/* What the inspect verbs print of array (the objects found): Docker's pretty JSON without format,
 * else per object the template's output, or with "json" the object as one line. -EINVAL, logged, for
 * a bad template. */
int ctl_print_inspect(json_object *array, const char *format);
/* Docker's JSON style: four spaces per level, "[]" and "{}" when empty, no escaped '/'. */
int json_print_pretty(json_object *o, FILE *f);
/* Small builders that return NULL (→ -ENOMEM at the caller) on allocation failure. */
json_object *json_strv_new(char *const *l);
/* Adds value under key, consuming it; -ENOMEM when value is NULL (a failed builder). */
int json_add(json_object *obj, const char *key, json_object *value);
int json_add_null(json_object *obj, const char *key);

/* Where save/export write an archive: the file (created or truncated), or a dup of stdout for
 * NULL or "-", refused when that is a terminal. Logs on failure. */
int ctl_open_archive_output(const char *output);

/* Docker's confirmation: prints the warning and "Are you sure you want to continue? [y/N] "; only
 * "y" or "Y" (then a newline or the end) goes on. */
bool ctl_confirm(const char *warning);
/* What a prune removed as Docker lists it: title ("Deleted Networks:"), a line per name and an
 * empty line; nothing when names is empty. */
void ctl_print_deleted(const char *title, char *const *names);
