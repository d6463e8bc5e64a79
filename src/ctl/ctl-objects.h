/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "container-settings-list.h"

/* The properties of one org.berth1.Container object. Limits are UINT64_MAX when unlimited. */
/* The settings as berthctl reads their properties (container-settings-list.h). */
#define CTL_SETTING_CTYPE_HOSTNAME                                 char *
#define CTL_SETTING_CTYPE_PATH                                     char *
#define CTL_SETTING_CTYPE_USER                                     char *
#define CTL_SETTING_CTYPE_BOOL                                     int
#define CTL_SETTING_CTYPE_LIMIT                                    uint64_t
#define CTL_SETTING_CTYPE_SIGNAL                                   int32_t
#define CTL_SETTING_CTYPE_RESTART                                  char *
#define CTL_SETTING_CTYPE_U32                                      uint32_t
#define CTL_SETTING_CTYPE_CPUSET                                   char *
#define CTL_SETTING_CTYPE_SLICE                                    char *
#define CTL_SETTING_CTYPE_I32                                      int32_t
#define CTL_SETTING_CTYPE_DOMAIN                                   char *
#define CTL_SETTING_CTYPE_NSMODE                                   char *
#define CTL_SETTING_CTYPE_LOGOPT                                   char *
#define CTL_SETTING_CTYPE_U64                                      uint64_t
#define CTL_SETTING_CTYPE_HEALTHCMD                                char **
#define CTL_SETTING_CTYPE_DURATION                                 uint64_t
#define CTL_SETTING_CTYPE_HEALTHACTION                             char *
#define CTL_DECLARE_SETTING(field, key, record, spec, kind, flags) CTL_SETTING_CTYPE_##kind field;

typedef struct ContainerInfo {
        char *object_path;
        /* hostname, working_dir, user, stop_signal, init, read_only, tty, auto_remove, memory_max,
         * cpu_quota_per_sec_usec, tasks_max (UINT64_MAX when unlimited), restart_policy,
         * restart_max_retries */
        CONTAINER_SETTINGS(CTL_DECLARE_SETTING)
        char *id;
        uint64_t log_lines_dropped;
        char *name;
        char *image;
        char *image_id;
        char **command;
        char **env;
        char *state;
        int32_t exit_code;
        uint32_t pid;
        char *unit;
        uint64_t created_at;
        uint64_t started_at;
        uint64_t finished_at;
        char *error;
        char **labels; /* "key=value" */
        uint64_t shm_size;
        uint64_t memory_swap_max;
        uint64_t cpu_weight;
        uint64_t cpu_shares;
        uint32_t stop_timeout; /* UINT32_MAX: not set */
        int oom_killed;
        char **ulimits; /* "name\tsoft\thard" (a(stt) fields joined by tabs) */
        char **devices; /* "host\tcontainer\tpermissions" */
        char **io_limits; /* "option\tdevice\tvalue" (IODeviceLimits) */
        char **cap_add, **cap_drop;
        int privileged, no_new_privileges;
        char *seccomp_profile; /* "", "unconfined" or a profile's JSON text */
        char *userns_mode; /* "", "host" or "auto" */
        uint32_t uid_map_base; /* host id of the container's 0 with "auto" */
        char **entrypoint; /* the leading part of command that is the entrypoint */
        uint32_t restart_count;
        char **volumes_from;
        char **group_add;
        char **sysctls; /* "key=value" */
        char **mount_points; /* "type\tname\tsource\tdestination\tdriver\tmode\trw" (MountPoints) */
        /* Networking (docs/NETWORKING.md); NULL/empty when berthd does not have the property. */
        char *network_mode;
        char **network_aliases;
        char *ip_address, *mac_address;
        char **dns, **dns_search, **dns_options, **extra_hosts;
        char **port_bindings; /* "protocol\tport\thost ip\tfirst\tlast" (PortBindings) */
        char **exposed_ports; /* "protocol\tport" (ExposedPorts) */
        int publish_all_ports;
        char **ports; /* "protocol\tport\thost ip\thost port" (Ports: in force while it runs) */
        char **networks; /* "name\tid\taddress\tprefix\tgateway\tmac\tendpoint\talias,..." (Networks) */
        char *health_status; /* "", "starting", "healthy", "unhealthy" */
        uint32_t health_failing_streak;
        char **health_log; /* "start\tend\texit code\toutput" (HealthLog; the output may hold tabs) */
} ContainerInfo;

/* The properties of one org.berth1.Image object. */
typedef struct ImageInfo {
        char *object_path;
        char *id;
        char **repo_tags;
        uint64_t created;
        uint64_t size;
        char **layers;
        char **cmd;
        char **env;
        char **labels; /* "key=value" */
        char **repo_digests; /* "repo@sha256:<hex>" */
        char *architecture, *os;
} ImageInfo;

/* The properties of one org.berth1.Volume object. */
typedef struct VolumeInfo {
        char *object_path;
        char *name;
        char *driver;
        char *mountpoint;
        uint64_t created_at;
        char **labels; /* "key=value" */
        char **options; /* "key=value" */
        char **used_by;
} VolumeInfo;

/* The properties of one org.berth1.Network object. */
typedef struct NetworkInfo {
        char *object_path;
        char *id, *name, *driver, *scope;
        char *subnet, *gateway, *ip_range;
        int internal, ipv6;
        char **labels; /* "key=value" */
        char **options; /* "key=value" */
        uint64_t created_at;
        char *bridge_name;
        char **containers; /* "id\tname\taddress/prefix\tmac" of the running containers attached */
} NetworkInfo;

/* Everything ObjectManager.GetManagedObjects() on /org/berth1 returns. */
typedef struct ObjectList {
        ContainerInfo *containers;
        size_t n_containers;
        ImageInfo *images;
        size_t n_images;
} ObjectList;

void container_info_init(ContainerInfo *c);
void container_info_done(ContainerInfo *c);
void image_info_init(ImageInfo *i);
void image_info_done(ImageInfo *i);
void object_list_done(ObjectList *l);

/* Read an a{sv} of properties (from GetAll or GetManagedObjects) into the struct. */
int container_info_read(sd_bus_message *m, ContainerInfo *c);
int image_info_read(sd_bus_message *m, ImageInfo *i);

/* Properties.GetAll on one object. */
/* The properties berthd answers for root only (Env), asked for by name: ObjectManager and GetAll
 * leave them out. For other users they stay NULL. */
int container_info_get_secrets(sd_bus *bus, ContainerInfo *c, sd_bus_error *error);
int container_info_get(sd_bus *bus, const char *path, sd_bus_error *error, ContainerInfo *ret);
int image_info_get(sd_bus *bus, const char *path, sd_bus_error *error, ImageInfo *ret);
int volume_info_get(sd_bus *bus, const char *path, sd_bus_error *error, VolumeInfo *ret);
void volume_info_done(VolumeInfo *v);
int network_info_get(sd_bus *bus, const char *path, sd_bus_error *error, NetworkInfo *ret);
/* Every volume (ListVolumes) or network (ListNetworks) with its properties, in the daemon's order;
 * those removed while listing are left out. */
int volume_list_fetch(sd_bus *bus, sd_bus_error *error, VolumeInfo **ret, size_t *ret_n);
int network_list_fetch(sd_bus *bus, sd_bus_error *error, NetworkInfo **ret, size_t *ret_n);
void network_info_done(NetworkInfo *n);

int object_list_fetch(sd_bus *bus, sd_bus_error *error, ObjectList *ret);
const ContainerInfo *object_list_find_container(const ObjectList *l, const char *path);
const ImageInfo *object_list_find_image(const ObjectList *l, const char *path);
/* By id, with or without "sha256:". */
const ImageInfo *object_list_find_image_by_id(const ObjectList *l, const char *id);

/* "sha256:<hex>" → "<hex>"; anything else unchanged. */
const char *image_id_strip(const char *id);
