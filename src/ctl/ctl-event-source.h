/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <json-c/json.h>
#include <systemd/sd-bus.h>

typedef struct EventSource EventSource;

/* One event: its type ("container", "image", "volume"), action, actor id and its attributes
 * ("key=value", sorted), at usec (CLOCK_REALTIME). The source may be freed in the sink only when
 * nothing of it is used afterwards: defer that. */
typedef void (*event_sink_t)(EventSource *e, const char *type, const char *action, const char *actor, char **attrs,
                             uint64_t usec, void *userdata);

/* Subscribes to berthd's signals on bus and learns every object there is now. filters: Docker's
 * "key=value" (container, event, image, label, type, volume; the values of one key are
 * alternatives, different keys must all match); events before since (µs) are left out. */
int event_source_new(sd_bus *bus, char **filters, uint64_t since, event_sink_t sink, void *userdata,
                     sd_bus_error *error, EventSource **ret);
EventSource *event_source_free(EventSource *e);
/* Negative errno once the source failed (out of memory): it gives no more events. */
int event_source_error(const EventSource *e);

/* The events berthd journaled (container create, start, die, pause, unpause, rename, destroy) from
 * since to until (µs, CLOCK_REALTIME; until 0: to the end), filtered as the live ones, each to sink
 * (whose EventSource is NULL). For --since in the past. */
int event_source_replay_journal(char **filters, uint64_t since, uint64_t until, event_sink_t sink, void *userdata);

/* Docker's event message: Type, Action, Actor {ID, Attributes}, Scope, Time, TimeNano, and the
 * old status, id. */
json_object *event_json(const char *type, const char *action, const char *actor, char **attrs, uint64_t usec);
