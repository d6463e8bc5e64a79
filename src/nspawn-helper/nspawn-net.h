/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "helper-protocol.h"
#include "nspawn-spec.h"

/* The interfaces of a container with a network of its own (SPEC_NET_MODE_PRIVATE): berthd made
 * the bridges; the supervisor makes a veth pair per interface, the container's end directly in its
 * network namespace, and the container's process, root there with every capability, configures
 * its end before anything else of its setup (so --sysctl finds the interfaces, as with Docker). */

/* In the supervisor, after the clone, while the child waits: each pair (host end attached to its
 * bridge and up), the peer made in the network namespace of pid. A host end left over from an
 * earlier run of the same container (its name is the container's) is replaced. On failure 'what'
 * says which step failed (a verb phrase: "create the network interface eth0") and the pairs made so
 * far are removed. */
int net_create_interfaces(const ContainerSpec *spec, pid_t pid, char *what, size_t size);

/* In the supervisor: remove the host ends (and with them the pairs) once the container failed or
 * exited, rather than wait for the kernel to tear its network namespace down (which it does later,
 * and a restart would find the names taken). Missing ones are fine. */
void net_remove_interfaces(const ContainerSpec *spec);

/* In the container's process, in its network namespace: each end's MAC address, MTU, address,
 * up, and the default route. On failure *failure says which step failed. */
int net_configure_interfaces(const ContainerSpec *spec, HelperStatus *failure);
