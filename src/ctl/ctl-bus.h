/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "ctl.h"
#include "macro.h"

#define BERTH_BUS_SERVICE          "org.berth1"
#define BERTH_BUS_PATH             "/org/berth1"
#define BERTH_BUS_MANAGER          "org.berth1.Manager"
#define BERTH_BUS_CONTAINER        "org.berth1.Container"
#define BERTH_BUS_IMAGE            "org.berth1.Image"
#define BERTH_BUS_NETWORK          "org.berth1.Network"
#define BERTH_BUS_CONTAINER_PREFIX "/org/berth1/container"
#define BERTH_BUS_IMAGE_PREFIX     "/org/berth1/image"

/* Method call timeouts. sd-bus reads 0 as "the default" (25 s) and UINT64_MAX as "none". */
#define CTL_TIMEOUT_DEFAULT  0ULL
#define CTL_TIMEOUT_LONG     (5ULL * 60ULL * USEC_PER_SEC)
#define CTL_TIMEOUT_INFINITE UINT64_MAX

/* Connect according to -H/-M (once; later calls return the same bus). Logs on failure. */
int ctl_acquire_bus(Ctl *ctl, sd_bus **ret);
void ctl_done(Ctl *ctl);
/* Whether file descriptors can travel on this connection (not over -H, which is ssh). */
bool ctl_bus_can_pass_fds(sd_bus *bus);

/* Call a method of org.berth1; types and the arguments after it as sd_bus_message_append(). */
int ctl_bus_call(sd_bus *bus, const char *path, const char *interface, const char *member, uint64_t timeout,
                 sd_bus_error *error, sd_bus_message **ret_reply, const char *types, ...);
int ctl_bus_call_manager(sd_bus *bus, const char *member, uint64_t timeout, sd_bus_error *error,
                         sd_bus_message **ret_reply, const char *types, ...);

/* Append {key: a{ss}} to an open a{sv}, from "key=value" strings (a missing '=' means an empty value). */
int ctl_bus_append_dict_option(sd_bus_message *m, const char *key, char **kv);
/* Append {key: as} to an open a{sv}. */
int ctl_bus_append_strv_option(sd_bus_message *m, const char *key, char **l);

/* Manager.GetContainer / GetImage: the object path for a name, id or id prefix. */
int ctl_get_container(sd_bus *bus, const char *name, sd_bus_error *error, char **ret_path);
int ctl_get_image(sd_bus *bus, const char *name, sd_bus_error *error, char **ret_path);
/* The id in a container or image object path (its last component). */
int ctl_object_path_id(const char *path, char **ret_id);

/* A lookup failed because there is no such object (or the name could not name one). */
bool ctl_bus_error_is_not_found(const sd_bus_error *error);
/* "berthctl: <the daemon's message>"; returns r (negative). */
int ctl_log_bus_error(const sd_bus_error *error, int r);
/* The exit status for a failed start: 127/126 for org.berth1.Error.ExecFailed (not found /
 * cannot execute), CTL_EXIT_ENGINE otherwise. */
int ctl_start_error_exit_status(const sd_bus_error *error);
