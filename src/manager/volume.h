/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "manager.h"
#include "util.h"

/* A local volume: a directory under <state>/volumes/<name>/_data, as Docker's "local" driver. */
typedef struct Volume {
        Manager *manager;
        Volume *next;
        char *name;
        bool anonymous; /* made for one container (-v /path, image VOLUME); removed with it on rm -v / --rm */
        uint64_t created_at;
        char *driver; /* "local" or the name of a volume plugin */
        char **labels; /* "key=value" */
        char **options; /* "key=value", the driver's options */
        char *plugin_mountpoint; /* a plugin volume's path on the host, as the plugin last said */
} Volume;

/* What a new volume is made with; NULL members: the local driver, no labels, no options. */
typedef struct VolumeSettings {
        const char *driver;
        char **labels;
        char **options;
} VolumeSettings;

bool volume_is_plugin(const Volume *v);

bool volume_name_is_valid(const char *name);
char *volume_object_path(const Volume *v);
char *volume_mountpoint(const Volume *v);
Volume *manager_find_volume(Manager *m, const char *name);
int manager_load_volumes(Manager *m);
/* Creates (or, with may_exist, returns the existing) volume; errors set on 'error'. A plugin volume
 * is created by the plugin (VolumeDriver.Create) before berth records it. 'settings' may be NULL. */
int volume_create(Manager *m, const char *name, bool anonymous, bool may_exist, const VolumeSettings *settings,
                  Volume **ret, sd_bus_error *error);
/* The host path to mount for a container's run: _data, or what the plugin's Mount answers. */
int volume_mount(Volume *v, const char *container_id, char **ret_path, sd_bus_error *error);
/* Undo volume_mount for every plugin volume among 'names' (errors are logged, not returned). */
void volumes_unmount(Manager *m, char **names, const char *container_id);
/* Volumes a plugin knows and berth does not yet (made out of band): VolumeDriver.List of every
 * plugin found, or VolumeDriver.Get of 'name' only. Plugins that fail are skipped. */
void volumes_adopt_from_plugins(Manager *m, const char *name);
/* Ask the plugin for the volume's path again (VolumeDriver.Path). */
int volume_refresh_mountpoint(Volume *v, sd_bus_error *error);
/* Removes the volume and its data. Refused (VolumeInUse) while a container refers to it, unless force. */
int volume_remove(Volume *v, bool force, sd_bus_error *error);
/* Ids of the containers that refer to the volume. */
int volume_used_by(const Volume *v, char ***ret);
void volume_free(Volume *v);

extern const sd_bus_vtable volume_vtable[];
int volume_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error);
int volume_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
int method_create_volume(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_volumes(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_get_volume(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_remove_volume(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_prune_volumes(sd_bus_message *message, void *userdata, sd_bus_error *error);
