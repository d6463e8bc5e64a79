/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's logging settings (--log-driver, --log-opt; docs/LOGGING.md): their checks, the
 * journal fields of labels= and env=, and the count of lines its supervisor dropped. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "container.h"
#include "errors.h"
#include "json-util.h"
#include "log-fields.h"
#include "manager.h"

/* The largest ring buffer a container may ask for: the supervisor allocates it whole. */
#define LOG_MAX_BUFFER_SIZE_MAX (1024ULL * 1024ULL * 1024ULL)

int container_log_option_validate(const char *key, const char *v, sd_bus_error *error) {
        if (streq(key, "LogDriver")) {
                if (isempty(v) || streq(v, "journald") || streq(v, "none"))
                        return 0;
                /* Docker's words (a log driver berth has not). */
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "logger: no log driver named '%s' is registered", v);
        }
        if (streq(key, "LogMode")) {
                if (isempty(v) || streq(v, "blocking") || streq(v, "non-blocking"))
                        return 0;
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "logger: logging mode not supported: %s",
                                         v);
        }
        /* LogLabels, LogEnv */
        if (!isempty(v) && !log_key_list_is_valid(v))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Invalid %s \"%s\": expected names separated by commas.",
                                         streq(key, "LogLabels") ? "log opt labels" : "log opt env", v);
        for (const char *p = v; !isempty(p);) {
                size_t n = strcspn(p, ",");
                _cleanup_free_ char *k = strndup(p, n), *field = NULL;
                if (!k)
                        return -ENOMEM;
                int r = log_field_name_from_key(k, &field);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "The name \"%s\" cannot be a journal field: it is empty, longer than "
                                                 "64 characters, or one of the fields berth writes itself.",
                                                 k);
                p += n + (p[n] == ',');
        }
        return 0;
}

int container_log_config_validate(const ContainerConfig *config, sd_bus_error *error) {
        bool nonblocking = streq_ptr(config->log_mode, "non-blocking");
        if (config->log_max_buffer_size > 0 && !nonblocking)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "logger: max-buffer-size option is only supported with 'mode=non-blocking'");
        if (config->log_max_buffer_size > LOG_MAX_BUFFER_SIZE_MAX)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "The log buffer size %" PRIu64 " is larger than the most a container may "
                                         "have, %llu bytes.",
                                         config->log_max_buffer_size, LOG_MAX_BUFFER_SIZE_MAX);
        if ((config->log_rate_limit_interval_usec > 0) != (config->log_rate_limit_burst > 0))
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "A log rate limit needs both an interval and a burst "
                                        "(rate-limit-interval= and rate-limit-burst=).");
        if (streq_ptr(config->log_driver, "none") &&
            (!isempty(config->log_mode) || config->log_max_buffer_size > 0 || config->log_rate_limit_burst > 0 ||
             !isempty(config->log_labels) || !isempty(config->log_env)))
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "The log driver \"none\" takes no log options.");
        return 0;
}

/* The value of key in a "key=value" list, the last one winning (as labels and env are merged). */
static const char *lookup(char **list, const char *key, size_t n) {
        const char *found = NULL;
        for (char **p = list; p && *p; p++)
                if (strncmp(*p, key, n) == 0 && (*p)[n] == '=')
                        found = *p + n + 1;
        return found;
}

static int add_fields(json_object *a, char **list, const char *keys) {
        for (const char *p = keys; !isempty(p);) {
                size_t n = strcspn(p, ",");
                const char *value = lookup(list, p, n);
                /* A value with a newline is left out: the helper may send the fields in the native
                 * protocol's text form, where it would end the field (docs/LOGGING.md). */
                if (value && !strchr(value, '\n')) {
                        _cleanup_free_ char *k = strndup(p, n), *field = NULL, *entry = NULL;
                        if (!k)
                                return -ENOMEM;
                        /* Checked at create; a name that no longer makes a field is left out. */
                        if (log_field_name_from_key(k, &field) >= 0) {
                                if (asprintf(&entry, "%s=%s", field, value) < 0)
                                        return -ENOMEM;
                                json_object_array_add(a, json_object_new_string(entry));
                        }
                }
                p += n + (p[n] == ',');
        }
        return 0;
}

int container_log_to_spec(const Container *c, json_object *o) {
        _cleanup_json_ json_object *a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        int r = add_fields(a, c->labels, c->log_labels);
        if (r >= 0)
                r = add_fields(a, c->env, c->log_env);
        if (r < 0)
                return r;
        /* The supervisor takes at most JOURNAL_LOG_FIELDS_MAX (56); a longer list keeps its first. */
        while (json_object_array_length(a) > 56)
                json_object_array_del_idx(a, json_object_array_length(a) - 1, 1);
        json_object_object_add(o, SPEC_KEY_LOG_FIELDS, TAKE_PTR(a));
        return 0;
}

/* What the running supervisor reported so far, or what the last run reported in the end. */
uint64_t container_log_lines_dropped(Container *c) {
        if (c->state != CONTAINER_RUNNING)
                return c->log_lines_dropped;
        _cleanup_free_ char *path = manager_run_path(c->manager, "containers/%s/%s", c->id, HELPER_LOG_DROPPED_FILE);
        _cleanup_free_ char *content = NULL;
        size_t len;
        uint64_t lines;
        if (!path || read_full_file(path, &content, &len) < 0 || helper_log_dropped_parse(content, len, &lines) < 0)
                return c->log_lines_dropped;
        return lines;
}

/* At the exit: the supervisor's final count. */
void container_log_read_dropped(Container *c) {
        _cleanup_free_ char *path = manager_run_path(c->manager, "containers/%s/%s", c->id, HELPER_LOG_DROPPED_FILE);
        _cleanup_free_ char *content = NULL;
        size_t len;
        uint64_t lines;
        c->log_lines_dropped = 0;
        if (path && read_full_file(path, &content, &len) >= 0 && helper_log_dropped_parse(content, len, &lines) >= 0)
                c->log_lines_dropped = lines;
}
