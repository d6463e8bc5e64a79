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
} Volume;

bool volume_name_is_valid(const char *name);
char *volume_object_path(const Volume *v);
char *volume_mountpoint(const Volume *v);
Volume *manager_find_volume(Manager *m, const char *name);
int manager_load_volumes(Manager *m);
/* Creates (or, with may_exist, returns the existing) volume; errors set on 'error'. */
int volume_create(Manager *m, const char *name, bool anonymous, bool may_exist, Volume **ret, sd_bus_error *error);
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
