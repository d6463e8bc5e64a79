/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "container-settings-list.h" /* CONTAINER_SETTINGS */

/* How berthd keeps each kind of setting (see container-settings-list.h): in a Container (owned
 * strings) and in a ContainerConfig (strings borrowed from the CreateContainer message). */
#define SETTING_CTYPE_HOSTNAME char *
#define SETTING_CTYPE_PATH     char *
#define SETTING_CTYPE_USER     char *
#define SETTING_CTYPE_BOOL     bool
#define SETTING_CTYPE_LIMIT    uint64_t
#define SETTING_CTYPE_SIGNAL   int
#define SETTING_CTYPE_RESTART  int
#define SETTING_CTYPE_U32      uint32_t
#define SETTING_CTYPE_CPUSET   char *
#define SETTING_CTYPE_SLICE    char *
#define SETTING_CTYPE_I32      int32_t
#define SETTING_CTYPE_DOMAIN   char *
#define SETTING_CTYPE_NSMODE   char *
#define SETTING_CTYPE_LOGOPT   char *
#define SETTING_CTYPE_U64      uint64_t

#define SETTING_CONFIG_CTYPE_HOSTNAME     const char *
#define SETTING_CONFIG_CTYPE_PATH         const char *
#define SETTING_CONFIG_CTYPE_USER         const char *
#define SETTING_CONFIG_CTYPE_BOOL         bool
#define SETTING_CONFIG_CTYPE_LIMIT        uint64_t
#define SETTING_CONFIG_CTYPE_SIGNAL       int
#define SETTING_CONFIG_CTYPE_RESTART      int
#define SETTING_CONFIG_CTYPE_U32          uint32_t
#define SETTING_CONFIG_CTYPE_CPUSET       const char *
#define SETTING_CONFIG_CTYPE_SLICE        const char *
#define SETTING_CONFIG_CTYPE_I32          int32_t
#define SETTING_CONFIG_CTYPE_DOMAIN       const char *
#define SETTING_CONFIG_CTYPE_NSMODE       const char *
#define SETTING_CONFIG_CTYPE_LOGOPT       const char *
#define SETTING_CONFIG_CTYPE_U64          uint64_t
#define SETTING_CTYPE_HEALTHCMD           char **
#define SETTING_CTYPE_DURATION            uint64_t
#define SETTING_CTYPE_HEALTHACTION        int
#define SETTING_CONFIG_CTYPE_HEALTHCMD    char ** /* owned: container_settings_config_done() */
#define SETTING_CONFIG_CTYPE_DURATION     uint64_t
#define SETTING_CONFIG_CTYPE_HEALTHACTION int

#define DECLARE_SETTING(field, key, record, spec, kind, flags)        SETTING_CTYPE_##kind field;
#define DECLARE_CONFIG_SETTING(field, key, record, spec, kind, flags) SETTING_CONFIG_CTYPE_##kind field;

typedef enum SettingKind {
        SETTING_HOSTNAME,
        SETTING_PATH,
        SETTING_USER,
        SETTING_BOOL,
        SETTING_LIMIT,
        SETTING_SIGNAL,
        SETTING_RESTART,
        SETTING_U32,
        SETTING_CPUSET,
        SETTING_SLICE,
        SETTING_I32,
        SETTING_DOMAIN,
        SETTING_NSMODE,
        SETTING_LOGOPT,
        SETTING_U64,
        SETTING_HEALTHCMD,
        SETTING_DURATION,
        SETTING_HEALTHACTION,
} SettingKind;

/* --health-on-failure (podman's): what berthd does when the container becomes unhealthy. */
typedef enum HealthAction {
        HEALTH_ACTION_NONE,
        HEALTH_ACTION_KILL,
        HEALTH_ACTION_RESTART,
        HEALTH_ACTION_STOP,
        _HEALTH_ACTION_MAX,
        _HEALTH_ACTION_INVALID = -1,
} HealthAction;
const char *health_action_to_string(HealthAction a);
HealthAction health_action_from_string(const char *s);

typedef struct ContainerSetting {
        const char *key; /* option and property */
        const char *record; /* container.json */
        const char *spec; /* the helper's spec, or NULL */
        const char *option_type;
        SettingKind kind;
        unsigned flags;
        size_t offset; /* in Container */
        size_t config_offset; /* in ContainerConfig */
} ContainerSetting;

typedef struct Container Container;
typedef struct ContainerConfig ContainerConfig;

/* The defaults of a ContainerConfig's settings: nothing given. */
void container_settings_config_init(ContainerConfig *config);
/* Frees what a ContainerConfig's settings own (HealthCmd). */
void container_settings_config_done(ContainerConfig *config);
/* A CreateContainer option: 0 when key names no setting, 1 when it did and it was read and
 * checked into config, or a negative errno with error set (InvalidArgument with a sentence). The
 * dict entry is the caller's to leave. */
int container_setting_parse(sd_bus_message *m, const char *key, const char *contents, ContainerConfig *config,
                            sd_bus_error *error);
/* The container's settings from config, as given (strings copied); the image's defaults are the
 * caller's. */
int container_settings_copy(Container *c, const ContainerConfig *config);
void container_settings_free(Container *c);
void container_settings_to_json(const Container *c, json_object *o);
/* -EBADMSG when a required one (hostname) is missing or one has the wrong type. */
int container_settings_from_json(json_object *o, Container *c);
void container_settings_to_spec(const Container *c, json_object *o);
