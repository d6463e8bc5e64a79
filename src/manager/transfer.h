/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "manager.h"

/* A pull or push under way, as a D-Bus object (/org/berth1/transfer/<id>, org.berth1.Transfer; the
 * model of systemd-importd's org.freedesktop.import1.Transfer): its layers with their state in
 * Docker's words and their bytes, an overall Progress, and Cancel(). The Manager announces it
 * (TransferNew, with the unique name of the caller it works for) and says how it ended
 * (TransferRemoved). Changes are signalled at most every 100 ms. */
typedef struct Transfer Transfer;

/* 'cancel' (may be NULL: not cancellable) is called by Cancel(); it ends the operation, which then
 * frees the transfer. */
int transfer_new(Manager *m, sd_bus_message *request, const char *type, const char *reference,
                 void (*cancel)(void *userdata), void *userdata, Transfer **ret);
/* The end: TransferRemoved with result "done", "failed" or "canceled". NULL is fine. */
void transfer_free(Transfer *t, const char *result);

int transfer_add_layer(Transfer *t, const char *digest, uint64_t size);
void transfer_clear_layers(Transfer *t);
/* A layer's state ("Waiting", "Downloading", "Download complete", "Extracting", "Pull complete",
 * "Already exists", "Pushing", "Pushed", "Layer already exists") and bytes so far; status NULL
 * keeps it. Every layer's when digest is NULL. */
void transfer_update(Transfer *t, const char *digest, const char *status, uint64_t current);
/* Signals the changes not signalled yet now (before the answer of the call it works for). */
void transfer_flush(Transfer *t);
/* Cancel() refused from now on (the transfer is being stored). */
void transfer_set_cancellable(Transfer *t, bool cancellable);

extern const sd_bus_vtable transfer_vtable[];
int transfer_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                         sd_bus_error *error);
int transfer_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
void manager_free_transfers(Manager *m);
