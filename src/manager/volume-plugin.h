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

typedef struct PluginCall PluginCall;
/* A call's answer: the reply (borrowed) or NULL and a named error: NoSuchPlugin when the plugin is
 * not found, PluginFailed when it is unreachable, answers badly or sets "Err". */
typedef void (*PluginReplyFunc)(Manager *m, json_object *reply, const sd_bus_error *error, void *userdata);

/* Calls VolumeDriver.<method> of plugin 'name' (activating it first, once per berthd run) without
 * waiting: 'done' is called from the loop once the plugin answered, failed or timed out (never from
 * here). The request is serialized at once. *ret (may be NULL) is valid until 'done' runs. Only
 * errors of berthd itself (-ENOMEM) are returned. */
int volume_plugin_call(Manager *m, const char *name, const char *method, json_object *request, PluginReplyFunc done,
                       void *userdata, PluginCall **ret);
/* The call's 'done' will not be called (its owner goes away); the request still runs to its end. */
void volume_plugin_call_cancel(PluginCall *pc);

/* Names of all plugins that can be found now (for List / Get across plugins). */
int volume_plugins_discover(Manager *m, char ***ret);

void manager_free_volume_plugins(Manager *m);
