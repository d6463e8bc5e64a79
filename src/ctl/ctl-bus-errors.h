/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* An object that went away between its lookup and the call (another client removed it) makes
 * sd-bus answer "Unknown object '/org/berth1/container/<id>'." (or an unknown interface, method or
 * property of it). For such an error *ret is the sentence berthd would have said ("No such
 * container: <12-hex id>"; images by short id, volumes by name) and 1 is returned; 0 for any other
 * error, -ENOMEM on failure. */
int ctl_object_gone_message(const sd_bus_error *error, char **ret);
