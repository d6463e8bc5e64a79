/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The journal entries of berthd's events (event-journal.c); berthctl events --since reads them. */
#define BERTH_EVENT_MESSAGE_ID "8b6a2f4c1e3d4f7a9c0b5d6e7f8a9b01"

typedef struct Container Container;

/* One event of c: action ("create", "destroy", "rename", ...), an extra attribute "key=value" or NULL. */
void container_journal_event(Container *c, const char *action, const char *extra);
/* start, die, pause or unpause, when c's state changed since the last call. */
void container_journal_state(Container *c);
/* The same bookkeeping without an event (a container loaded at startup). */
void container_journal_state_quietly(Container *c);
