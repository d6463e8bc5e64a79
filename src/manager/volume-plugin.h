/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "manager.h"

/* Docker's volume plugin protocol: JSON over HTTP, POST /Plugin.Activate, /VolumeDriver.Create, ...
 * A plugin NAME is found as a socket NAME.sock in /run/berth/plugins, /run/docker/plugins (or
 * its NAME/ subdirectory), or a spec file NAME.spec (a URL: unix:///path or tcp://host:port) or
 * NAME.json ({"Addr": URL}) in /etc/docker/plugins or /usr/lib/docker/plugins. */

#define VOLUME_DRIVER_LOCAL "local"

bool volume_driver_name_is_valid(const char *name);

/* Call VolumeDriver.<method> of plugin 'name' (activating it first, once per berthd run). The
 * request object is borrowed; *ret (may be NULL) gets the reply. Failures set a named error:
 * NoSuchPlugin when the plugin is not found, PluginFailed when it is unreachable, answers badly or
 * sets "Err". */
int volume_plugin_call(Manager *m, const char *name, const char *method, json_object *request, json_object **ret,
                       sd_bus_error *error);

/* Names of all plugins that can be found now (for List / Get across plugins). */
int volume_plugins_discover(Manager *m, char ***ret);

void manager_free_volume_plugins(Manager *m);
