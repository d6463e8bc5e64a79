/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-output.h"
#include "ctl-template.h"
#include "util.h"

struct Table {
        size_t n_columns;
        char **cells;
        size_t n_cells;
        size_t allocated;
};

Table *table_new(size_t n_columns) {
        Table *t;

        if (n_columns == 0)
                return NULL;
        t = calloc(1, sizeof(Table));
        if (!t)
                return NULL;
        t->n_columns = n_columns;
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}

int table_add_cell(Table *t, const char *text) {
        char *copy;

        if (t->n_cells >= t->allocated) {
                size_t n = t->allocated ? t->allocated * 2 : 64;
                char **c = realloc(t->cells, n * sizeof(char *));
                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->allocated = n;
        }
        copy = strdup(text ? text : "");
        if (!copy)
                return -ENOMEM;
        t->cells[t->n_cells++] = copy;
        return 0;
}

int table_add_cells(Table *t, ...) {
        va_list ap;
        const char *s;
        int r = 0;

        va_start(ap, t);
        while ((s = va_arg(ap, const char *))) {
                r = table_add_cell(t, s);
                if (r < 0)
                        break;
        }
        va_end(ap);
        return r;
}

int table_print(Table *t, FILE *f) {
        _cleanup_free_ size_t *widths = calloc(t->n_columns, sizeof(size_t));

        if (!widths)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t w = ctl_utf8_width(t->cells[i]);
                if (w > widths[i % t->n_columns])
                        widths[i % t->n_columns] = w;
        }
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t col = i % t->n_columns;
                bool last = col == t->n_columns - 1 || i == t->n_cells - 1;

                fputs(t->cells[i], f);
                if (last)
                        fputc('\n', f);
                else
                        fprintf(f, "%*s", (int) (widths[col] - ctl_utf8_width(t->cells[i]) + 3), "");
        }
        return fflush(f) == 0 ? 0 : -errno;
}

static void print_indent(FILE *f, int level) {
        for (int i = 0; i < level; i++)
                fputs("    ", f);
}

static void print_value(json_object *o, FILE *f, int level) {
        const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

        switch (json_object_get_type(o)) {
        case json_type_object: {
                size_t i = 0, n = (size_t) json_object_object_length(o);
                if (n == 0) {
                        fputs("{}", f);
                        break;
                }
                fputs("{\n", f);
                json_object_object_foreach(o, key, value) {
                        /* Keys are quoted and escaped the same way as string values. */
                        json_object *k = json_object_new_string(key);
                        print_indent(f, level + 1);
                        fprintf(f, "%s: ", k ? json_object_to_json_string_ext(k, flags) : "\"\"");
                        json_object_put(k);
                        print_value(value, f, level + 1);
                        fputs(++i < n ? ",\n" : "\n", f);
                }
                print_indent(f, level);
                fputc('}', f);
                break;
        }
        case json_type_array: {
                size_t n = json_object_array_length(o);
                if (n == 0) {
                        fputs("[]", f);
                        break;
                }
                fputs("[\n", f);
                for (size_t i = 0; i < n; i++) {
                        print_indent(f, level + 1);
                        print_value(json_object_array_get_idx(o, i), f, level + 1);
                        fputs(i + 1 < n ? ",\n" : "\n", f);
                }
                print_indent(f, level);
                fputc(']', f);
                break;
        }
        case json_type_null:
                fputs("null", f);
                break;
        default:
                fputs(json_object_to_json_string_ext(o, flags), f);
        }
}

int json_print_pretty(json_object *o, FILE *f) {
        print_value(o, f, 0);
        fputc('\n', f);
        return fflush(f) == 0 ? 0 : -errno;
}

int json_add(json_object *obj, const char *key, json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(obj, key, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

int json_add_null(json_object *obj, const char *key) {
        return json_object_object_add(obj, key, NULL) < 0 ? -ENOMEM : 0;
}

/* One rendered line split at its tabs into the table's cells (missing ones empty). */
static int table_add_tabbed(Table *t, const char *line) {
        const char *p = line;
        for (size_t k = 0; k < t->n_columns; k++) {
                const char *tab = p ? strchr(p, '\t') : NULL;
                _cleanup_free_ char *cell = p
                        ? (tab && k + 1 < t->n_columns ? strndup(p, (size_t) (tab - p)) : strdup(p))
                        : strdup("");
                if (!cell)
                        return -ENOMEM;
                int r = table_add_cell(t, cell);
                if (r < 0)
                        return r;
                p = tab && k + 1 < t->n_columns ? tab + 1 : NULL;
        }
        return 0;
}

int ctl_print_rows(const char *format, const char *default_table, json_object *headers, json_object *const *rows,
                   size_t n_rows, char **ret_error) {
        _cleanup_free_ char *tmpl = NULL, *header = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        bool table = false;
        int r;

        if (streq(format, "json")) {
                for (size_t k = 0; k < n_rows; k++)
                        printf("%s\n",
                               json_object_to_json_string_ext(rows[k],
                                                              JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                return 0;
        }
        if (!strncmp(format, "table", 5) && (format[5] == 0 || format[5] == ' ')) {
                table = true;
                format += 5;
                format += strspn(format, " ");
                if (*format == 0)
                        format = default_table;
        }
        /* As Docker: the two characters \t and \n in the template stand for a tab and a newline. */
        tmpl = strdup(format);
        if (!tmpl)
                return -ENOMEM;
        char *w = tmpl;
        for (const char *p = tmpl; *p; p++)
                if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
                        *w++ = p[1] == 't' ? '\t' : '\n';
                        p++;
                } else
                        *w++ = *p;
        *w = 0;

        if (table) {
                size_t n = 1;
                r = ctl_render_template(tmpl, headers, &header, ret_error);
                if (r < 0)
                        return r;
                for (const char *p = header; *p; p++)
                        n += *p == '\t';
                t = table_new(n);
                if (!t || table_add_tabbed(t, header) < 0)
                        return -ENOMEM;
        }
        for (size_t k = 0; k < n_rows; k++) {
                _cleanup_free_ char *line = NULL;
                r = ctl_render_template(tmpl, rows[k], &line, ret_error);
                if (r < 0)
                        return r;
                if (t)
                        r = table_add_tabbed(t, line);
                else
                        r = printf("%s\n", line) < 0 ? -EIO : 0;
                if (r < 0)
                        return r;
        }
        return t ? table_print(t, stdout) : 0;
}

int ctl_open_archive_output(const char *output) {
        int fd;
        if (!output || streq(output, "-")) {
                if (isatty(STDOUT_FILENO)) {
                        ctl_log_error("cowardly refusing to write an archive to a terminal; use -o or redirect it");
                        return -EINVAL;
                }
                fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        } else
                fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return ctl_log_errno(errno, "Failed to open %s: %m", output ? output : "standard output");
        return fd;
}

bool ctl_confirm(const char *warning) {
        char line[64];
        printf("%s\nAre you sure you want to continue? [y/N] ", warning);
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin))
                return false;
        line[strcspn(line, "\r\n")] = 0;
        return streq(line, "y") || streq(line, "Y");
}

int ctl_print_inspect(json_object *array, const char *format) {
        if (!format)
                return json_print_pretty(array, stdout);
        for (size_t i = 0; i < json_object_array_length(array); i++) {
                _cleanup_free_ char *out = NULL, *why = NULL;
                json_object *o = json_object_array_get_idx(array, i);
                if (streq(format, "json")) {
                        printf("%s\n",
                               json_object_to_json_string_ext(o,
                                                              JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                        continue;
                }
                int r = ctl_render_template(format, o, &out, &why);
                if (r < 0) {
                        ctl_log_error("invalid --format: %s", why ?: strerror(-r));
                        return -EINVAL;
                }
                printf("%s\n", out);
        }
        return 0;
}

int ctl_print_list(const char *format, const char *default_table, const char *const (*headers)[2], size_t n_headers,
                   json_object **rows, size_t n_rows, const char *what) {
        _cleanup_(json_object_putp) json_object *h = json_object_new_object();
        _cleanup_free_ char *why = NULL;
        int r = h ? 0 : -ENOMEM;
        for (size_t k = 0; r >= 0 && k < n_rows; k++)
                if (!rows[k])
                        r = -ENOMEM;
        for (size_t k = 0; r >= 0 && k < n_headers; k++)
                r = json_add(h, headers[k][0], json_object_new_string(headers[k][1]));
        if (r >= 0)
                r = ctl_print_rows(format ?: "table", default_table, h, rows, n_rows, &why);
        for (size_t k = 0; k < n_rows; k++)
                json_object_put(rows[k]);
        if (r == -EINVAL && why) {
                ctl_log_error("invalid --format: %s", why);
                return r;
        }
        return r < 0 ? ctl_log_errno(r, "Failed to show the %s: %m", what) : 0;
}

void ctl_print_deleted(const char *title, char *const *names) {
        if (!names || !*names)
                return;
        printf("%s\n", title);
        for (char *const *n = names; *n; n++)
                printf("%s\n", *n);
        printf("\n");
}
