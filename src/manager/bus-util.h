/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

/* What berthd's D-Bus methods share: reading arguments, checking the caller, writing replies. */

/* Append "key=value" strings as a{ss} (Labels properties). */
int bus_append_labels(sd_bus_message *m, char **labels);
/* sd_bus_message_read_strv() in linear time (sd-bus's own appends in O(n) each): an "as" argument
 * may be as long as a user makes it. Replaces *ret. */
int bus_read_strv(sd_bus_message *m, char ***ret);
/* Read an a{ss} (the Labels option) into "key=value" strings; keys non-empty, without '='. */
int bus_read_labels(sd_bus_message *m, char ***labels, sd_bus_error *error);

/* The caller's effective uid (cached per unique name). */
int bus_sender_uid(sd_bus_message *message, uid_t *ret);
/* Root only, whatever polkit says (changing calls ask bus_verify_action() in bus-polkit.h). */
int bus_check_privileged(sd_bus_message *message, sd_bus_error *error);
/* For the getter of a property that may hold secrets (a container's Env, a volume's Options):
 * such properties are SD_BUS_VTABLE_PROPERTY_EXPLICIT (never in GetAll, InterfacesAdded or a
 * signal) and only root's Get is answered; others get AccessDenied. */
int bus_property_check_privileged(sd_bus *bus, const char *property, sd_bus_error *error);

/* One option of a method's a{sv}: its key, its type and where it goes (strv are owned by the caller). */
typedef struct BusOption {
        const char *key;
        const char *type; /* s, as, b, u, t, h (the fd stays the message's), or a{ss} (KEY=VALUE strings) */
        void *dest; /* const char **, char ***, bool *, uint32_t *, uint64_t *, int * or char *** */
        bool *seen; /* if not NULL: set when the key was given */
} BusOption;
#define BUS_OPTION(key, type, dest) \
        { (key), (type), (dest), NULL }
/* Read an a{sv} of these options. An unknown key or a wrong type is InvalidArgument: 'Unknown <what>
 * "K".' or '<What> "K" must have type "T", not "U".' (what: "import option", "prune filter", ...). */
int bus_read_options(sd_bus_message *message, const BusOption *options, size_t n, const char *what,
                     sd_bus_error *error);

/* The reply of a List method: an array of 'element' (a struct signature such as "(sso)"), whose
 * entries append(reply, object) writes, one per object or none to leave it out. The objects are a
 * linked list: first, then next(object). */
typedef int (*BusListAppendFunc)(sd_bus_message *reply, void *object);
int bus_reply_list(sd_bus_message *message, const char *element, void *first, void *(*next)(void *object),
                   BusListAppendFunc append);
/* The reply of a Get method: the object's path (NULL: out of memory). Takes the path. */
int bus_reply_object_path(sd_bus_message *message, char *path);

/* The filters of the Prune methods: "until" (t, µs: only what was created before) and "label",
 * "label!" (as: "KEY" or "KEY=VALUE"; all must, none may match). Kinds without a time reject
 * "until" through with_until false. */
typedef struct BusPruneFilters {
        uint64_t until; /* UINT64_MAX: any */
        char **labels, **not_labels;
} BusPruneFilters;
#define BUS_PRUNE_FILTERS_INIT \
        { .until = UINT64_MAX }
void bus_prune_filters_done(BusPruneFilters *f);
int bus_read_prune_filters(sd_bus_message *message, bool with_until, BusPruneFilters *f, sd_bus_error *error);
bool bus_prune_filters_match(const BusPruneFilters *f, char *const *labels, uint64_t created);
