/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

/* Socket activation: the listening descriptors systemd passed to the unit that ran `berthctl run`
 * (LISTEN_FDS), handed to the container's payload as descriptors 3.. with LISTEN_FDS, LISTEN_PID
 * and LISTEN_FDNAMES, as systemd hands them to a service. berthd keeps them (not in the record:
 * descriptors do not outlive berthd) and passes them at every start of the container. */
#define CONTAINER_LISTEN_FDS_MAX 32

typedef struct ContainerListen {
        int *fds; /* in a ContainerConfig: the message's; in a Container: berthd's own copies */
        size_t n;
        char *names; /* "name:name:..." (LISTEN_FDNAMES) or NULL */
} ContainerListen;

/* CreateContainer's ListenFds (ah: sockets or FIFOs) and ListenFdNames (s): 1 when key was one, 0
 * if not, <0 (InvalidArgument for a bad value). The descriptors stay the message's. */
int container_listen_parse_option(sd_bus_message *m, const char *key, const char *contents, ContainerListen *l,
                                  sd_bus_error *error);
/* Copies of the descriptors (O_CLOEXEC) and names, for the container to keep. */
int container_listen_copy(const ContainerListen *src, ContainerListen *dst);
/* A config's: the array only. A container's: the descriptors are closed too. */
void container_listen_config_done(ContainerListen *l);
void container_listen_done(ContainerListen *l);
/* SPEC_KEY_LISTEN_FDS and SPEC_KEY_LISTEN_FDNAMES, when there are any. */
void container_listen_to_spec(const ContainerListen *l, json_object *spec);
