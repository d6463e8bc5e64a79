/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SystemdUnits over sd-bus: org.freedesktop.systemd1.Manager of PID 1 on the system bus. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager.h"
#include "systemd-units.h"
#include "util.h"

#define SYSTEMD_DESTINATION "org.freedesktop.systemd1"
#define SYSTEMD_PATH        "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER     "org.freedesktop.systemd1.Manager"

struct UnitCall {
        sd_bus_slot *slot;
        UnitCallDone done;
        void *userdata;
        bool has_value; /* the reply carries an object path */
        bool floating; /* nobody holds the handle: the bus owns the slot, which frees the call */
};

static int error_to_errno(const sd_bus_error *e) {
        if (sd_bus_error_has_name(e, "org.freedesktop.systemd1.UnitExists"))
                return -EEXIST;
        if (sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit"))
                return -ENOENT;
        int r = sd_bus_error_get_errno(e);
        return r > 0 ? -r : -EIO;
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitCall *call = userdata;
        UnitCallDone done = call->done;
        void *done_userdata = call->userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *value = NULL;
        int r = 0;

        if (e)
                r = error_to_errno(e);
        else if (call->has_value && sd_bus_message_read(reply, "o", &value) < 0)
                r = -EBADMSG;
        /* The handle ends before done runs: done may start another call, or free its owner. A
         * floating one ends with its slot, after this returns. */
        if (!call->floating) {
                sd_bus_slot_unref(call->slot);
                free(call);
        }
        done(r, r < 0 ? NULL : value, e ? (e->message ?: e->name) : NULL, done_userdata);
        return 0;
}

static int call_async(Manager *m, sd_bus_message *msg, bool has_value, UnitCallDone done, void *userdata,
                      UnitCall **ret_call) {
        UnitCall *call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        call->done = done;
        call->userdata = userdata;
        call->has_value = has_value;
        int r = sd_bus_call_async(m->bus, &call->slot, msg, on_reply, call, 0);
        if (r < 0) {
                free(call);
                return r;
        }
        if (ret_call)
                *ret_call = call;
        else {
                /* Like a call without a slot: a bus that closes first frees it, not a leak. */
                call->floating = true;
                (void) sd_bus_slot_set_destroy_callback(call->slot, free);
                (void) sd_bus_slot_set_floating(call->slot, 1);
                call->slot = sd_bus_slot_unref(call->slot); /* the bus's reference remains */
        }
        return 0;
}

static int new_call(Manager *m, const char *method, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(m->bus, ret, SYSTEMD_DESTINATION, SYSTEMD_PATH, SYSTEMD_MANAGER, method);
}

static int append_properties(sd_bus_message *msg, UnitPropertiesAppend append, void *append_userdata) {
        int r = sd_bus_message_open_container(msg, 'a', "(sv)");
        if (r >= 0 && append)
                r = append(msg, append_userdata);
        if (r >= 0)
                r = sd_bus_message_close_container(msg);
        return r;
}

static int bus_start_transient_scope(Manager *m, const char *unit, UnitPropertiesAppend append, void *append_userdata,
                                     UnitCallDone done, void *userdata, UnitCall **ret_call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        int r = new_call(m, "StartTransientUnit", &msg);
        if (r < 0 || (r = sd_bus_message_append(msg, "ss", unit, "fail")) < 0 ||
            (r = append_properties(msg, append, append_userdata)) < 0 ||
            (r = sd_bus_message_append(msg, "a(sa(sv))", 0)) < 0)
                return r;
        return call_async(m, msg, true, done, userdata, ret_call);
}

static int bus_get_unit(Manager *m, const char *unit, UnitCallDone done, void *userdata, UnitCall **ret_call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        int r = new_call(m, "GetUnit", &msg);
        if (r < 0 || (r = sd_bus_message_append(msg, "s", unit)) < 0)
                return r;
        return call_async(m, msg, true, done, userdata, ret_call);
}

static int bus_set_unit_properties(Manager *m, const char *unit, bool runtime, UnitPropertiesAppend append,
                                   void *append_userdata, UnitCallDone done, void *userdata, UnitCall **ret_call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        int r = new_call(m, "SetUnitProperties", &msg);
        if (r < 0 || (r = sd_bus_message_append(msg, "sb", unit, runtime)) < 0 ||
            (r = append_properties(msg, append, append_userdata)) < 0)
                return r;
        return call_async(m, msg, false, done, userdata, ret_call);
}

static int bus_freeze_unit(Manager *m, const char *unit, bool freeze, UnitCallDone done, void *userdata,
                           UnitCall **ret_call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        int r = new_call(m, freeze ? "FreezeUnit" : "ThawUnit", &msg);
        if (r < 0 || (r = sd_bus_message_append(msg, "s", unit)) < 0)
                return r;
        return call_async(m, msg, false, done, userdata, ret_call);
}

static int bus_attach_process(Manager *m, const char *unit, pid_t pid, UnitCallDone done, void *userdata,
                              UnitCall **ret_call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        int r = new_call(m, "AttachProcessesToUnit", &msg);
        if (r < 0 || (r = sd_bus_message_append(msg, "ssau", unit, "", 1, (uint32_t) pid)) < 0)
                return r;
        return call_async(m, msg, false, done, userdata, ret_call);
}

static void bus_call_cancel(UnitCall *call) {
        sd_bus_slot_unref(call->slot);
        free(call);
}

/* A unit's processes are in its cgroup, whose path ends in the unit's name: /proc says where one is
 * without a round trip to PID 1. */
static int bus_unit_has_pid(Manager *m, const char *unit, pid_t pid) {
        _cleanup_free_ char *path = NULL, *content = NULL;
        if (asprintf(&path, "/proc/%d/cgroup", pid) < 0)
                return -ENOMEM;
        int r = read_full_file(path, &content, NULL);
        if (r < 0)
                return r;
        return strstr(content, unit) != NULL;
}

static int on_job_removed(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *job, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(message, "uoss", &id, &job, &unit, &result) >= 0)
                manager_job_removed(userdata, job, unit, result);
        return 0;
}

static int on_unit_removed(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *unit, *path;

        if (sd_bus_message_read(message, "so", &unit, &path) >= 0)
                manager_unit_removed(userdata, unit);
        return 0;
}

static int bus_subscribe(Manager *m) {
        int r = sd_bus_match_signal_async(m->bus, &m->job_removed_slot, SYSTEMD_DESTINATION, SYSTEMD_PATH,
                                          SYSTEMD_MANAGER, "JobRemoved", on_job_removed, NULL, m);
        if (r < 0)
                return r;
        r = sd_bus_match_signal_async(m->bus, &m->unit_removed_slot, SYSTEMD_DESTINATION, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                      "UnitRemoved", on_unit_removed, NULL, m);
        if (r < 0)
                return r;
        return sd_bus_call_method_async(m->bus, NULL, SYSTEMD_DESTINATION, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe",
                                        NULL, NULL, NULL);
}

const SystemdUnits systemd_units_bus = {
        .start_transient_scope = bus_start_transient_scope,
        .get_unit = bus_get_unit,
        .set_unit_properties = bus_set_unit_properties,
        .freeze_unit = bus_freeze_unit,
        .attach_process = bus_attach_process,
        .call_cancel = bus_call_cancel,
        .unit_has_pid = bus_unit_has_pid,
        .subscribe = bus_subscribe,
};

UnitCall *units_call_cancel(Manager *m, UnitCall *call) {
        if (call)
                m->units->call_cancel(call);
        return NULL;
}
