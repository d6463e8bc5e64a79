/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "ctl-objects.h"

/* Manager.GetNetwork(name, full id or unique id prefix) and the network's properties. */
int ctl_get_network(sd_bus *bus, const char *name, sd_bus_error *error, NetworkInfo *ret);
/* Docker's network inspect JSON of n; the endpoint ids of its containers come from objects (their
 * Networks property). NULL on allocation failure. */
json_object *ctl_network_json(const NetworkInfo *n, const ObjectList *objects);
/* Manager.PruneNetworks with the prune verbs' --filter, printing Docker's "Deleted Networks:" list.
 * optional: a berthd without networks is no error (system prune); check_only: only check the
 * filters. Logs. */
int ctl_prune_networks(sd_bus *bus, char **filters, bool optional, bool check_only);
