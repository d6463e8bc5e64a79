/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What berthd asks of systemd's manager (PID 1) about its containers' scopes, and what PID 1 tells
 * it, behind one small table (as crun's cgroup managers): systemd-units.c speaks sd-bus to
 * org.freedesktop.systemd1; a unit test puts a fake in Manager.units and drives the lifecycle
 * without a bus (test/unit/test-lifecycle.c).
 *
 * Every call is asynchronous: it returns 0 when sent (a negative errno if not; done is not called
 * then) and calls done exactly once, later, from berthd's loop, unless the caller cancels the call
 * first (units_call_cancel()). After done the handle is gone: done should forget it first thing.
 * done's r is 0 or a negative errno (systemd's UnitExists is -EEXIST, NoSuchUnit -ENOENT);
 * message is systemd's error message (NULL on success); value is the job's object path
 * (start_transient_scope) or the unit's (get_unit), else NULL. */

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Manager Manager;
typedef struct UnitCall UnitCall;

typedef void (*UnitCallDone)(int r, const char *value, const char *message, void *userdata);
/* Appends a scope's (sv) properties to the open a(sv) of the call. */
typedef int (*UnitPropertiesAppend)(sd_bus_message *m, void *userdata);

typedef struct SystemdUnits {
        /* StartTransientUnit(unit, "fail", properties, []): done gets the job, whose end comes as
         * manager_job_removed(). */
        int (*start_transient_scope)(Manager *m, const char *unit, UnitPropertiesAppend append, void *append_userdata,
                                     UnitCallDone done, void *userdata, UnitCall **ret_call);
        /* GetUnit: whether it (still) exists. */
        int (*get_unit)(Manager *m, const char *unit, UnitCallDone done, void *userdata, UnitCall **ret_call);
        /* SetUnitProperties(unit, runtime, properties). */
        int (*set_unit_properties)(Manager *m, const char *unit, bool runtime, UnitPropertiesAppend append,
                                   void *append_userdata, UnitCallDone done, void *userdata, UnitCall **ret_call);
        /* FreezeUnit (freeze) or ThawUnit. */
        int (*freeze_unit)(Manager *m, const char *unit, bool freeze, UnitCallDone done, void *userdata,
                           UnitCall **ret_call);
        /* AttachProcessesToUnit(unit, "", [pid]). */
        int (*attach_process)(Manager *m, const char *unit, pid_t pid, UnitCallDone done, void *userdata,
                              UnitCall **ret_call);
        void (*call_cancel)(UnitCall *call);
        /* Whether the process is in the unit now (its cgroup, as systemd placed it): > 0 yes, 0 no. */
        int (*unit_has_pid)(Manager *m, const char *unit, pid_t pid);
        /* Ask for JobRemoved and UnitRemoved: from then on they reach manager_job_removed() and
         * manager_unit_removed(). */
        int (*subscribe)(Manager *m);
} SystemdUnits;

/* The real one, over m->bus. */
extern const SystemdUnits systemd_units_bus;

/* NULL-safe; returns NULL for "handle = units_call_cancel(m, handle)". */
UnitCall *units_call_cancel(Manager *m, UnitCall *call);

/* What PID 1 reports, for the model (container-start.c). */
void manager_job_removed(Manager *m, const char *job, const char *unit, const char *result);
void manager_unit_removed(Manager *m, const char *unit);
