/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "manager.h"

/* --cap-add, --cap-drop, --privileged, --security-opt no-new-privileges and seccomp=...: as the user
 * gave them (names normalized), persisted in container.json as "security". */
typedef struct ContainerSecurity {
        char **cap_add; /* "CAP_NET_ADMIN" or "ALL" */
        char **cap_drop;
        bool privileged; /* all capabilities, no seccomp, no masked paths, writable /sys, all devices */
        bool no_new_privileges; /* PR_SET_NO_NEW_PRIVS for the payload and exec'd processes */
        char *seccomp_profile; /* NULL: the default; "unconfined"; or a profile in Docker's JSON format */
        int seccomp_fd; /* runtime: the container's own compiled filter (when the shared one does not fit), or -1 */
        char *userns_mode; /* NULL: the default (the host's user namespace), "host" or "auto" */
        uint32_t uid_base; /* "auto": host uid and gid of the container's 0 (container-userns.c); else 0 */
} ContainerSecurity;

void container_security_init(ContainerSecurity *s);
void container_security_done(ContainerSecurity *s);
/* The configuration only (not the runtime filter). */
int container_security_copy(ContainerSecurity *dst, const ContainerSecurity *src);

/* One CreateContainer option: 1 if 'key' was one of ours (and read), 0 if not, or an error. */
int container_security_parse_option(sd_bus_message *m, const char *key, const char *contents, ContainerSecurity *s,
                                    sd_bus_error *error);
/* Check what the options say together and compile the seccomp profile once (InvalidArgument). */
int container_security_validate(const ContainerSecurity *s, sd_bus_error *error);

/* The capability set of the container's processes (bit N = capability N). */
uint64_t container_security_capabilities(const ContainerSecurity *s);
/* Whether processes of the container run under a seccomp filter. */
bool container_security_has_seccomp(const ContainerSecurity *s);
/* Before a start or an exec: compile the container's own filter if it needs one. */
int container_security_prepare(Container *c, sd_bus_error *error);
/* The filter for the helper's fd 8 (borrowed): the container's own, the shared default, or -1. */
int container_security_seccomp_fd(const Container *c);
/* "caps", "privileged", "no_new_privs" and "seccomp" of the helper's spec. */
void container_security_to_spec(const ContainerSecurity *s, json_object *spec);

json_object *container_security_to_json(const ContainerSecurity *s);
int container_security_from_json(json_object *o, ContainerSecurity *s);

int container_security_property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error);
#define CONTAINER_SECURITY_PROPERTY(name, sig)                                                     \
        SD_BUS_PROPERTY(name, sig, container_security_property_get, offsetof(Container, security), \
                        SD_BUS_VTABLE_PROPERTY_CONST)
#define CONTAINER_SECURITY_PROPERTIES                                                                                \
        CONTAINER_SECURITY_PROPERTY("CapAdd", "as"), CONTAINER_SECURITY_PROPERTY("CapDrop", "as"),                   \
                CONTAINER_SECURITY_PROPERTY("Privileged", "b"), CONTAINER_SECURITY_PROPERTY("NoNewPrivileges", "b"), \
                CONTAINER_SECURITY_PROPERTY("SeccompProfile", "s"), CONTAINER_SECURITY_PROPERTY("UsernsMode", "s"),  \
                CONTAINER_SECURITY_PROPERTY("UidMapBase", "u")

/* --userns=auto (container-userns.c): every such container has 65536 host ids of its own, from the
 * pool of /etc/subuid and /etc/subgid entries of user "berth", or USERNS_POOL_START.. by default. */
#define USERNS_RANGE      65536U
#define USERNS_POOL_START 0x70000000U /* above systemd's container range 0x80000..0x6FFFFFFF */
#define USERNS_POOL_END   0x7FFE0000U /* below systemd's foreign range 0x7FFE0000..0x7FFEFFFF */
/* The pool from the contents of /etc/subuid and /etc/subgid: the overlap of user's first entries
 * in both; -ENOENT when either has none. */
int userns_pool_from_subid(const char *subuid, const char *subgid, const char *user, uint32_t *ret_start,
                           uint32_t *ret_end);
/* The lowest start + k*USERNS_RANGE whose range overlaps none of the used ones; -ENOSPC if none. */
int userns_pick_base(uint32_t start, uint32_t end, const uint32_t *used, size_t n_used, uint32_t *ret);
/* At create: give an "auto" container a range no other container has. */
int container_userns_allocate(Manager *m, ContainerSecurity *s, sd_bus_error *error);
