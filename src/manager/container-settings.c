/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container settings table (container-settings-list.h) at work: options, records, the spec. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "bus-util.h"
#include "container.h"
#include "errors.h"
#include "json-util.h"
#include "names.h"

#define SETTING_ROW(field, key_, record_, spec_, kind_, flags_) \
        { .key = key_,                                          \
          .record = record_,                                    \
          .spec = spec_,                                        \
          .option_type = SETTING_OPTION_TYPE_##kind_,           \
          .kind = SETTING_##kind_,                              \
          .flags = flags_,                                      \
          .offset = offsetof(Container, field),                 \
          .config_offset = offsetof(ContainerConfig, field) },

static const ContainerSetting settings[] = { CONTAINER_SETTINGS(SETTING_ROW) };

#define FIELD(base, offset, type)  ((type *) ((uint8_t *) (base) + (offset)))
#define CFIELD(base, offset, type) ((const type *) ((const uint8_t *) (base) + (offset)))

static bool is_string(SettingKind k) {
        return k == SETTING_HOSTNAME || k == SETTING_PATH || k == SETTING_USER || k == SETTING_CPUSET ||
                k == SETTING_SLICE || k == SETTING_DOMAIN || k == SETTING_NSMODE || k == SETTING_LOGOPT;
}

/* A string setting's new value (a copy; NULL stays NULL), the old one freed. */
static int set_string(char **field, const char *value) {
        char *copy = value ? strdup(value) : NULL;
        if (value && !copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

void container_settings_config_init(ContainerConfig *config) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                if (settings[i].kind == SETTING_LIMIT)
                        *FIELD(config, settings[i].config_offset, uint64_t) = UINT64_MAX;
        config->restart_policy = RESTART_NO;
}

void container_settings_config_done(ContainerConfig *config) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                if (settings[i].kind == SETTING_HEALTHCMD) {
                        char ***p = FIELD(config, settings[i].config_offset, char **);
                        strv_free(*p);
                        *p = NULL;
                }
}

static const char *const health_actions[_HEALTH_ACTION_MAX] = {
        [HEALTH_ACTION_NONE] = "none",
        [HEALTH_ACTION_KILL] = "kill",
        [HEALTH_ACTION_RESTART] = "restart",
        [HEALTH_ACTION_STOP] = "stop",
};

const char *health_action_to_string(HealthAction a) {
        return a >= 0 && a < _HEALTH_ACTION_MAX ? health_actions[a] : NULL;
}

HealthAction health_action_from_string(const char *s) {
        for (int a = 0; s && a < _HEALTH_ACTION_MAX; a++)
                if (streq(health_actions[a], s))
                        return a;
        return _HEALTH_ACTION_INVALID;
}

/* Docker's Healthcheck.Test: empty (the image's), NONE, CMD with a command, CMD-SHELL with one
 * string. Docker's daemon takes any first word and fails at the probe; berth says so at create. */
static int check_health_cmd(char **test, sd_bus_error *error) {
        size_t n = strv_length(test);
        if (n == 0 || (n == 1 && streq(test[0], "NONE")))
                return 0;
        if (streq(test[0], "CMD") && n >= 2 && !isempty(test[1]))
                return 0;
        if (streq(test[0], "CMD-SHELL") && n == 2 && !isempty(test[1]))
                return 0;
        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                 "Invalid health check \"%s\": expected [\"NONE\"], [\"CMD\", command...] or "
                                 "[\"CMD-SHELL\", command].",
                                 test[0]);
}

/* Docker's rule and words (containertypes.MinimumDuration): 0 is "not set", else 1 ms or more. */
static int check_duration(const ContainerSetting *s, uint64_t usec, sd_bus_error *error) {
        static const struct {
                const char *key, *name;
        } names[] = {
                { "HealthIntervalUSec", "Interval" },
                { "HealthTimeoutUSec", "Timeout" },
                { "HealthStartPeriodUSec", "StartPeriod" },
                { "HealthStartIntervalUSec", "StartInterval" },
        };
        if (usec == 0 || usec >= USEC_PER_MSEC)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(names[i].key, s->key))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "%s in Healthcheck cannot be less than 1ms", names[i].name);
        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "%s cannot be less than 1ms", s->key);
}

/* "user[:group]": names as in /etc/passwd (portable characters) or numbers. */
static bool user_spec_is_valid(const char *s) {
        size_t colons = 0;
        if (isempty(s) || strlen(s) > 256 || s[0] == ':' || s[strlen(s) - 1] == ':')
                return false;
        for (const char *p = s; *p; p++) {
                if (*p == ':')
                        colons++;
                else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                           strchr("_.-$", *p)))
                        return false;
        }
        return colons <= 1;
}

/* --pid, --ipc, --uts: Docker's modes berth has (no "container:NAME" yet), Docker's words otherwise. */
static int check_namespace_mode(const char *key, const char *v, sd_bus_error *error) {
        static const struct {
                const char *key, *name, *modes[6];
        } kinds[] = {
                { "PidMode", "PID", { "", "private", "host" } },
                { "IpcMode", "IPC", { "", "private", "shareable", "host", "none" } },
                { "UtsMode", "UTS", { "", "host" } },
                { "CgroupnsMode", "cgroup namespace", { "", "private", "host" } },
        };
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                if (!streq(kinds[k].key, key))
                        continue;
                for (size_t i = 0; kinds[k].modes[i]; i++)
                        if (streq(kinds[k].modes[i], v))
                                return 0;
                /* Another container's (container-namespaces.c), not for UTS (as Docker). */
                if (startswith(v, "container:") && !streq(kinds[k].key, "UtsMode") &&
                    !streq(kinds[k].key, "CgroupnsMode")) {
                        const char *peer = v + strlen("container:");
                        if (isempty(peer) || strlen(peer) > 128 || strchr(peer, '/'))
                                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                         "invalid %s mode: %s: expected container:NAME or ID",
                                                         kinds[k].name, v);
                        return 0;
                }
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "invalid %s mode: %s", kinds[k].name, v);
        }
        return 0;
}

static int check_string(const ContainerSetting *s, const char *v, sd_bus_error *error) {
        switch (s->kind) {
        case SETTING_HOSTNAME:
                if (!hostname_is_valid(v))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid host name \"%s\".", v);
                return 0;
        case SETTING_PATH:
                if (v[0] != '/' || strlen(v) > 4096)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "The working directory \"%s\" is not an absolute path.", v);
                return 0;
        case SETTING_USER:
                if (!user_spec_is_valid(v))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Invalid user \"%s\": expected USER[:GROUP], names or numbers.", v);
                return 0;
        case SETTING_CPUSET:
                return container_cpuset_validate(s->key, v, error);
        case SETTING_NSMODE:
                return check_namespace_mode(s->key, v, error);
        case SETTING_LOGOPT:
                return container_log_option_validate(s->key, v, error);
        case SETTING_DOMAIN:
                if (!isempty(v) && !hostname_is_valid(v))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid domain name \"%s\".", v);
                return 0;
        case SETTING_SLICE:
                /* Docker's words for a systemd cgroup driver's --cgroup-parent. */
                if (!isempty(v) && !slice_name_is_valid(v))
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "cgroup-parent for systemd cgroup should be a valid slice named as "
                                                "\"xxx.slice\"");
                return 0;
        default:
                return 0;
        }
}

static int check_i32(const ContainerSetting *s, int32_t v, sd_bus_error *error) {
        if (streq(s->key, "OOMScoreAdjust") && (v < -1000 || v > 1000))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Invalid value %d, range for oom score adj is [-1000, 1000]", v);
        return 0;
}

static int read_value(sd_bus_message *m, const ContainerSetting *s, ContainerConfig *config, sd_bus_error *error) {
        void *dest = FIELD(config, s->config_offset, void);
        const char *str;
        int r, b;

        switch (s->kind) {
        case SETTING_HOSTNAME:
        case SETTING_PATH:
        case SETTING_USER:
        case SETTING_CPUSET:
        case SETTING_SLICE:
        case SETTING_DOMAIN:
        case SETTING_NSMODE:
        case SETTING_LOGOPT:
                r = sd_bus_message_read(m, "v", "s", &str);
                if (r < 0)
                        return r;
                r = check_string(s, str, error);
                if (r < 0)
                        return r;
                *(const char **) dest = str; /* borrowed from the message */
                return 0;
        case SETTING_BOOL:
                r = sd_bus_message_read(m, "v", "b", &b);
                if (r >= 0)
                        *(bool *) dest = b;
                return r;
        case SETTING_LIMIT:
                r = sd_bus_message_read(m, "v", "t", (uint64_t *) dest);
                return r < 0 ? r : container_limit_validate(s->key, *(uint64_t *) dest, error);
        case SETTING_SIGNAL:
                r = sd_bus_message_read(m, "v", "s", &str);
                if (r >= 0 && (*(int *) dest = signal_from_string(str)) < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid signal \"%s\".", str);
                return r;
        case SETTING_RESTART:
                r = sd_bus_message_read(m, "v", "s", &str);
                if (r >= 0 && (*(int *) dest = restart_policy_from_string(str)) < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Invalid restart policy \"%s\": expected no, on-failure, always or "
                                                 "unless-stopped.",
                                                 str);
                return r;
        case SETTING_U32:
                return sd_bus_message_read(m, "v", "u", (uint32_t *) dest);
        case SETTING_U64:
                return sd_bus_message_read(m, "v", "t", (uint64_t *) dest);
        case SETTING_I32:
                r = sd_bus_message_read(m, "v", "i", (int32_t *) dest);
                return r < 0 ? r : check_i32(s, *(int32_t *) dest, error);
        case SETTING_HEALTHCMD: {
                _cleanup_strv_free_ char **l = NULL;
                if ((r = sd_bus_message_enter_container(m, 'v', "as")) < 0 || (r = bus_read_strv(m, &l)) < 0 ||
                    (r = sd_bus_message_exit_container(m)) < 0)
                        return r;
                r = check_health_cmd(l, error);
                if (r < 0)
                        return r;
                strv_free(*(char ***) dest);
                *(char ***) dest = TAKE_PTR(l);
                return 0;
        }
        case SETTING_DURATION:
                r = sd_bus_message_read(m, "v", "t", (uint64_t *) dest);
                return r < 0 ? r : check_duration(s, *(uint64_t *) dest, error);
        case SETTING_HEALTHACTION:
                r = sd_bus_message_read(m, "v", "s", &str);
                if (r >= 0 && (*(int *) dest = health_action_from_string(str)) < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "invalid health on-failure action \"%s\": expected none, kill, "
                                                 "restart or stop",
                                                 str);
                return r;
        }
        return -EINVAL;
}

int container_setting_parse(sd_bus_message *m, const char *key, const char *contents, ContainerConfig *config,
                            sd_bus_error *error) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
                const ContainerSetting *s = &settings[i];
                if (!streq(s->key, key))
                        continue;
                if (!streq(contents, s->option_type))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Container option \"%s\" must have type \"%s\", not \"%s\".", key,
                                                 s->option_type, contents);
                int r = read_value(m, s, config, error);
                return r < 0 ? r : 1;
        }
        return 0;
}

int container_settings_copy(Container *c, const ContainerConfig *config) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
                const ContainerSetting *s = &settings[i];
                const void *from = CFIELD(config, s->config_offset, void);
                void *to = FIELD(c, s->offset, void);
                switch (s->kind) {
                case SETTING_HOSTNAME:
                case SETTING_PATH:
                case SETTING_USER:
                case SETTING_CPUSET:
                case SETTING_SLICE:
                case SETTING_DOMAIN:
                case SETTING_NSMODE:
                case SETTING_LOGOPT:
                        if (set_string(to, *(const char *const *) from) < 0)
                                return -ENOMEM;
                        break;
                case SETTING_BOOL:
                        *(bool *) to = *(const bool *) from;
                        break;
                case SETTING_LIMIT:
                case SETTING_U64:
                        *(uint64_t *) to = *(const uint64_t *) from;
                        break;
                case SETTING_SIGNAL:
                case SETTING_RESTART:
                case SETTING_HEALTHACTION:
                        *(int *) to = *(const int *) from;
                        break;
                case SETTING_U32:
                        *(uint32_t *) to = *(const uint32_t *) from;
                        break;
                case SETTING_I32:
                        *(int32_t *) to = *(const int32_t *) from;
                        break;
                case SETTING_DURATION:
                        *(uint64_t *) to = *(const uint64_t *) from;
                        break;
                case SETTING_HEALTHCMD: {
                        char **copy = strv_copy(*(char **const *) from);
                        if (!copy)
                                return -ENOMEM;
                        strv_free(*(char ***) to);
                        *(char ***) to = copy;
                        break;
                }
                }
        }
        return 0;
}

void container_settings_free(Container *c) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                if (is_string(settings[i].kind)) {
                        char **p = FIELD(c, settings[i].offset, char *);
                        *p = mfree(*p);
                } else if (settings[i].kind == SETTING_HEALTHCMD) {
                        char ***p = FIELD(c, settings[i].offset, char **);
                        strv_free(*p);
                        *p = NULL;
                }
}

static json_object *value_to_json(const Container *c, const ContainerSetting *s, bool spec) {
        const void *v = CFIELD(c, s->offset, void);
        switch (s->kind) {
        case SETTING_HOSTNAME:
        case SETTING_USER:
        case SETTING_CPUSET:
        case SETTING_SLICE:
        case SETTING_DOMAIN:
        case SETTING_NSMODE:
        case SETTING_LOGOPT:
                return json_object_new_string(*(char *const *) v ?: "");
        case SETTING_PATH:
                return json_object_new_string(*(char *const *) v ?: "/");
        case SETTING_BOOL:
                return json_object_new_boolean(*(const bool *) v);
        case SETTING_LIMIT:
        case SETTING_U64:
                return json_object_new_uint64(*(const uint64_t *) v);
        case SETTING_SIGNAL:
                return json_object_new_int(*(const int *) v);
        case SETTING_RESTART:
                return spec ? json_object_new_int(*(const int *) v)
                            : json_object_new_string(restart_policy_to_string(*(const int *) v));
        case SETTING_U32:
                return json_object_new_int64(*(const uint32_t *) v);
        case SETTING_I32:
                return json_object_new_int(*(const int32_t *) v);
        case SETTING_HEALTHCMD:
                return json_strv_new(*(char **const *) v);
        case SETTING_DURATION:
                return json_object_new_uint64(*(const uint64_t *) v);
        case SETTING_HEALTHACTION:
                return json_object_new_string(health_action_to_string(*(const int *) v) ?: "none");
        }
        return NULL;
}

void container_settings_to_json(const Container *c, json_object *o) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                json_object_object_add(o, settings[i].record, value_to_json(c, &settings[i], false));
}

void container_settings_to_spec(const Container *c, json_object *o) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                if (settings[i].spec)
                        json_object_object_add(o, settings[i].spec, value_to_json(c, &settings[i], true));
}

int container_settings_from_json(json_object *o, Container *c) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
                const ContainerSetting *s = &settings[i];
                void *to = FIELD(c, s->offset, void);
                const char *str;
                switch (s->kind) {
                case SETTING_HOSTNAME:
                case SETTING_PATH:
                case SETTING_USER:
                case SETTING_CPUSET:
                case SETTING_SLICE:
                case SETTING_DOMAIN:
                case SETTING_NSMODE:
                case SETTING_LOGOPT:
                        str = json_get_string(o, s->record);
                        if (!str && s->kind == SETTING_HOSTNAME)
                                return -EBADMSG; /* every container has one */
                        if (set_string(to, str ?: s->kind == SETTING_PATH ? "/" : "") < 0)
                                return -ENOMEM;
                        break;
                case SETTING_BOOL:
                        *(bool *) to = json_get_bool(o, s->record, 0);
                        break;
                case SETTING_LIMIT:
                        *(uint64_t *) to = json_get_u64(o, s->record, UINT64_MAX);
                        break;
                case SETTING_U64:
                        *(uint64_t *) to = json_get_u64(o, s->record, 0);
                        break;
                case SETTING_SIGNAL:
                        *(int *) to = (int) json_get_i64(o, s->record, SIGTERM);
                        break;
                case SETTING_RESTART: {
                        int p = restart_policy_from_string(json_get_string(o, s->record));
                        *(int *) to = p < 0 ? RESTART_NO : p;
                        break;
                }
                case SETTING_U32:
                        *(uint32_t *) to = (uint32_t) json_get_i64(o, s->record, 0);
                        break;
                case SETTING_I32:
                        *(int32_t *) to = (int32_t) json_get_i64(o, s->record, 0);
                        break;
                case SETTING_DURATION:
                        *(uint64_t *) to = json_get_u64(o, s->record, 0);
                        break;
                case SETTING_HEALTHACTION: {
                        int a = health_action_from_string(json_get_string(o, s->record));
                        *(int *) to = a < 0 ? HEALTH_ACTION_NONE : a;
                        break;
                }
                case SETTING_HEALTHCMD: {
                        char **l = NULL;
                        int r = json_get_strv(o, s->record, &l);
                        if (r < 0)
                                return r;
                        strv_free(*(char ***) to);
                        *(char ***) to = l;
                        break;
                }
                }
        }
        return 0;
}
