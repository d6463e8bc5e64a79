/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-polkit.h"
#include "errors.h"
#include "log.h"
#include "transfer.h"
#include "util.h"

#define TRANSFER_PATH            "/org/berth1/transfer"
#define TRANSFER_SIGNAL_INTERVAL (100 * USEC_PER_MSEC)

typedef struct TransferLayer {
        char *digest, *status;
        uint64_t current, total;
} TransferLayer;

struct Transfer {
        Manager *manager;
        Transfer *next;
        uint32_t id;
        char *type, *reference, *owner;
        TransferLayer *layers;
        size_t n_layers;
        void (*cancel)(void *userdata);
        void *userdata;
        bool cancellable;
        sd_event_source *signal_timer; /* armed while a change waits to be signalled */
        bool state_changed; /* a layer's state changed: signalled at once */
};

static char *transfer_path(const Transfer *t) {
        char *p;
        return asprintf(&p, TRANSFER_PATH "/%" PRIu32, t->id) < 0 ? NULL : p;
}

int transfer_new(Manager *m, sd_bus_message *request, const char *type, const char *reference,
                 void (*cancel)(void *userdata), void *userdata, Transfer **ret) {
        Transfer *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->manager = m;
        t->id = ++m->transfer_last_id;
        t->type = strdup(type);
        t->reference = strdup(reference);
        t->owner = strdup(sd_bus_message_get_sender(request) ?: "");
        t->cancel = cancel;
        t->userdata = userdata;
        t->cancellable = cancel != NULL;
        _cleanup_free_ char *path = transfer_path(t);
        if (!t->type || !t->reference || !t->owner || !path) {
                transfer_free(t, NULL);
                return -ENOMEM;
        }
        t->next = m->transfers;
        m->transfers = t;
        (void) sd_bus_emit_signal(m->bus, "/org/berth1", "org.berth1.Manager", "TransferNew", "uosss", t->id, path,
                                  t->type, t->reference, t->owner);
        *ret = t;
        return 0;
}

void transfer_free(Transfer *t, const char *result) {
        if (!t)
                return;
        Manager *m = t->manager;
        if (result)
                transfer_flush(t);
        for (Transfer **p = &m->transfers; *p; p = &(*p)->next)
                if (*p == t) {
                        *p = t->next;
                        _cleanup_free_ char *path = transfer_path(t);
                        if (path && result)
                                (void) sd_bus_emit_signal(m->bus, "/org/berth1", "org.berth1.Manager",
                                                          "TransferRemoved", "uos", t->id, path, result);
                        break;
                }
        sd_event_source_disable_unref(t->signal_timer);
        for (size_t k = 0; k < t->n_layers; k++) {
                free(t->layers[k].digest);
                free(t->layers[k].status);
        }
        free(t->layers);
        free(t->type);
        free(t->reference);
        free(t->owner);
        free(t);
}

void manager_free_transfers(Manager *m) {
        while (m->transfers)
                transfer_free(m->transfers, NULL);
}

void transfer_clear_layers(Transfer *t) {
        if (!t)
                return;
        for (size_t k = 0; k < t->n_layers; k++) {
                free(t->layers[k].digest);
                free(t->layers[k].status);
        }
        t->layers = mfree(t->layers);
        t->n_layers = 0;
}

int transfer_add_layer(Transfer *t, const char *digest, uint64_t size) {
        if (!t)
                return 0;
        TransferLayer *l = reallocarray(t->layers, t->n_layers + 1, sizeof(TransferLayer));
        if (!l)
                return -ENOMEM;
        t->layers = l;
        l[t->n_layers] = (TransferLayer){ .digest = strdup(digest), .status = strdup("Waiting"), .total = size };
        if (!l[t->n_layers].digest || !l[t->n_layers].status) {
                free(l[t->n_layers].digest);
                free(l[t->n_layers].status);
                return -ENOMEM;
        }
        t->n_layers++;
        return 0;
}

void transfer_flush(Transfer *t) {
        if (!t || (!t->signal_timer && !t->state_changed))
                return;
        t->state_changed = false;
        _cleanup_free_ char *path = transfer_path(t);
        t->signal_timer = sd_event_source_disable_unref(t->signal_timer);
        if (path)
                (void) sd_bus_emit_properties_changed(t->manager->bus, path, "org.berth1.Transfer", "Layers",
                                                      "Progress", NULL);
}

static int on_signal_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        transfer_flush(userdata);
        return 0;
}

void transfer_update(Transfer *t, const char *digest, const char *status, uint64_t current) {
        if (!t)
                return;
        bool changed_state = false;
        for (size_t k = 0; k < t->n_layers; k++) {
                TransferLayer *l = &t->layers[k];
                if (digest && !streq(l->digest, digest))
                        continue;
                if (status && !streq(l->status, status)) {
                        char *s = strdup(status);
                        if (s) {
                                free(l->status);
                                l->status = s;
                                changed_state = true;
                        }
                }
                l->current = current;
        }
        /* A new state is signalled at once (a client printing one line per state sees each); bytes
         * at most every 100 ms. */
        if (changed_state) {
                t->state_changed = true;
                transfer_flush(t);
                return;
        }
        if (!t->signal_timer)
                (void) sd_event_add_time_relative(t->manager->event, &t->signal_timer, CLOCK_MONOTONIC,
                                                  TRANSFER_SIGNAL_INTERVAL, 0, on_signal_timer, t);
}

void transfer_set_cancellable(Transfer *t, bool cancellable) {
        if (t)
                t->cancellable = cancellable && t->cancel;
}

int transfer_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                         sd_bus_error *error) {
        Manager *m = userdata;
        const char *id = startswith(path, TRANSFER_PATH "/");
        char *end;
        if (!id || !*id)
                return 0;
        unsigned long n = strtoul(id, &end, 10);
        if (*end)
                return 0;
        for (Transfer *t = m->transfers; t; t = t->next)
                if (t->id == n) {
                        *found = t;
                        return 1;
                }
        return 0;
}

int transfer_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (Transfer *t = m->transfers; t; t = t->next) {
                _cleanup_free_ char *p = transfer_path(t);
                if (!p || strv_push(&l, p) < 0)
                        return -ENOMEM;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static int property_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Transfer *t = userdata;
        return sd_bus_message_append(reply, "s",
                                     streq(property, "Type")                ? t->type
                                             : streq(property, "Reference") ? t->reference
                                                                            : t->owner);
}

static int property_get_progress(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Transfer *t = userdata;
        uint64_t done = 0, total = 0;
        for (size_t k = 0; k < t->n_layers; k++) {
                done += t->layers[k].current < t->layers[k].total ? t->layers[k].current : t->layers[k].total;
                total += t->layers[k].total;
        }
        return sd_bus_message_append(reply, "d", total > 0 ? (double) done / (double) total : 0.0);
}

static int property_get_layers(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Transfer *t = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "(sstt)");
        for (size_t k = 0; r >= 0 && k < t->n_layers; k++)
                r = sd_bus_message_append(reply, "(sstt)", t->layers[k].digest, t->layers[k].status,
                                          t->layers[k].current, t->layers[k].total);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* Cancel(): for root and for the client the transfer works for. */
static int method_cancel(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Transfer *t = userdata;
        if (!streq_ptr(sd_bus_message_get_sender(message), t->owner)) {
                int r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
                if (r != 0)
                        return r;
        }
        if (!t->cancellable)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY,
                                         "The %s of %s is being stored and can no longer be cancelled.", t->type,
                                         t->reference);
        int r = sd_bus_reply_method_return(message, NULL);
        t->cancel(t->userdata); /* frees t */
        return r;
}

const sd_bus_vtable transfer_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(Transfer, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Type", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Reference", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Progress", "d", property_get_progress, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Layers", "a(sstt)", property_get_layers, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
