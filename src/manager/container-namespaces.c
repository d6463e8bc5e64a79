/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --pid container:NAME and --ipc container:NAME: another container's PID or IPC namespace, as Docker
 * shares them. The peer is kept by id (a rename does not break the link) and must run when this
 * container starts; berth-nspawn joins the namespace through a pidfd of the peer's process. */
#include <string.h>

#include "container.h"
#include "errors.h"
#include "helper-protocol.h"
#include "util.h"

#define CONTAINER_PREFIX "container:"

/* "container:NAME|ID" → "container:<full id>" in *owned (config's mode then points there); another
 * mode stays as it is. */
static int resolve_one(Manager *m, const char *kind, const char **mode, char **owned, const ContainerConfig *config,
                       sd_bus_error *error) {
        const char *peer_name = startswith(*mode ?: "", CONTAINER_PREFIX);
        bool ambiguous;
        if (!peer_name)
                return 0;
        if (streq_ptr(config->security.userns_mode, "auto"))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "cannot share the %s namespace of another container when user namespaces "
                                         "are enabled",
                                         kind);
        Container *peer = isempty(peer_name) ? NULL : manager_find_container(m, peer_name, &ambiguous);
        if (!peer)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_CONTAINER,
                                         "No such container: %s (to share the %s namespace of).", peer_name, kind);
        if (streq(kind, "IPC") && !streq_ptr(peer->ipc_mode, "shareable"))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "cannot join IPC of a non-shareable container %s (hint: use --ipc shareable "
                                         "for the donor container)",
                                         peer->name);
        *owned = strjoin(CONTAINER_PREFIX, peer->id);
        if (!*owned)
                return -ENOMEM;
        *mode = *owned;
        return 0;
}

int container_namespaces_resolve(Manager *m, ContainerConfig *config, char **ret_pid_mode, char **ret_ipc_mode,
                                 sd_bus_error *error) {
        int r = resolve_one(m, "PID", &config->pid_mode, ret_pid_mode, config, error);
        if (r < 0)
                return r;
        return resolve_one(m, "IPC", &config->ipc_mode, ret_ipc_mode, config, error);
}

static int add_peer(Container *c, const char *kind, const char *mode, const char *spec_key, json_object *spec,
                    sd_bus_error *error) {
        const char *peer_id = startswith(mode ?: "", CONTAINER_PREFIX);
        if (!peer_id)
                return 0;
        Container *peer = manager_find_container_by_id(c->manager, peer_id);
        if (!peer || peer->state != CONTAINER_RUNNING || peer->pid <= 0)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING,
                                         "Container %s, whose %s namespace container %s shares, is not running.",
                                         peer ? peer->name : peer_id, kind, c->name);
        if (peer == c)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Container %s cannot share its own %s namespace.", c->name, kind);
        json_object_object_add(spec, spec_key, json_object_new_int(peer->pid));
        return 0;
}

int container_namespaces_prepare(Container *c, json_object *spec, sd_bus_error *error) {
        int r = add_peer(c, "PID", c->pid_mode, SPEC_KEY_PID_JOIN_PID, spec, error);
        if (r < 0)
                return r;
        return add_peer(c, "IPC", c->ipc_mode, SPEC_KEY_IPC_JOIN_PID, spec, error);
}
