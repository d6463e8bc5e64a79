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
        bool removing; /* its plugin is asked to remove it */
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
typedef struct PluginCall PluginCall;
/* What a volume operation that waits for a plugin reports, from the loop: the volume (or NULL) or
 * the error. */
typedef void (*VolumeDoneFunc)(Manager *m, Volume *v, const sd_bus_error *error, void *userdata);
/* A plugin's Mount answer: the volume's name and its host path, or the error. */
typedef void (*VolumeMountDoneFunc)(Manager *m, const char *name, const char *path, const sd_bus_error *error,
                                    void *userdata);

int volume_generate_name(char **ret);
/* Creates (or, with may_exist, returns the existing) volume; errors set on 'error'. 'settings' may be
 * NULL. Only local volumes are created here: a new plugin volume is made by volume_create_plugin()
 * first (plugins answer when they answer; the loop does not wait). */
int volume_create(Manager *m, const char *name, bool anonymous, bool may_exist, const VolumeSettings *settings,
                  Volume **ret, sd_bus_error *error);
/* A new volume of a plugin: VolumeDriver.Create, then berth records it (a failure to record removes
 * it from the plugin again). 'done' gets the volume; a name that became a volume of the same driver
 * meanwhile gives that one. Refusals before the plugin is asked are returned. */
int volume_create_plugin(Manager *m, const char *name, bool anonymous, const VolumeSettings *settings,
                         VolumeDoneFunc done, void *userdata, sd_bus_error *error);
/* VolumeDriver.Mount for a container's run; the answer's Mountpoint is recorded as the volume's path. */
int volume_mount_plugin(Volume *v, const char *container_id, VolumeMountDoneFunc done, void *userdata,
                        PluginCall **ret);
/* Undo the Mount for every plugin volume among 'names', without waiting (errors are logged). */
void volumes_unmount(Manager *m, char **names, const char *container_id);
/* Volumes a plugin knows and berth does not yet (made out of band): VolumeDriver.List of every
 * plugin found, or VolumeDriver.Get of 'name' only. Plugins that fail are skipped; 'done' runs once
 * every plugin has answered. */
int volumes_adopt_from_plugins(Manager *m, const char *name, void (*done)(Manager *m, void *userdata), void *userdata);
/* Ask the plugin for the volume's path again (VolumeDriver.Path); 'done' once it answered. */
int volume_refresh_mountpoint(Volume *v, void (*done)(Manager *m, void *userdata), void *userdata);
/* Removes the volume and its data. Refused (VolumeInUse) while a container refers to it, unless
 * force, and while a container using it runs. Returns 0 once removed (a local volume), 1 when its
 * plugin was asked: 'done' (may be NULL: failures are logged) reports the end; with force berth
 * forgets the volume even when the plugin fails. */
int volume_remove(Volume *v, bool force, VolumeDoneFunc done, void *userdata, sd_bus_error *error);
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
