/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Restart policies, as Docker's: no, on-failure[:N], always, unless-stopped. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "container.h"

/* Docker's back-off: 100 ms doubling up to a minute, reset once a run lasted 10 s. */
#define RESTART_DELAY_MIN_USEC   (100 * 1000ULL)
#define RESTART_DELAY_MAX_USEC   (60 * USEC_PER_SEC)
#define RESTART_RESET_AFTER_USEC (10 * USEC_PER_SEC)

static const char *const policy_table[_RESTART_POLICY_MAX] = {
        [RESTART_NO] = "no",
        [RESTART_ON_FAILURE] = "on-failure",
        [RESTART_ALWAYS] = "always",
        [RESTART_UNLESS_STOPPED] = "unless-stopped",
};

const char *restart_policy_to_string(RestartPolicy p) {
        return p >= 0 && p < _RESTART_POLICY_MAX ? policy_table[p] : NULL;
}

RestartPolicy restart_policy_from_string(const char *s) {
        for (int i = 0; s && i < _RESTART_POLICY_MAX; i++)
                if (streq(policy_table[i], s))
                        return (RestartPolicy) i;
        return _RESTART_POLICY_INVALID;
}

void container_cancel_restart(Container *c) {
        if (!c->restart_timer)
                return;
        c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
        container_emit_changed(c, "State", NULL);
}

static bool should_restart(const Container *c) {
        if (c->stopped_by_user || c->remove_on_exit || c->auto_remove)
                return false;
        switch (c->restart_policy) {
        case RESTART_ALWAYS:
        case RESTART_UNLESS_STOPPED:
                return true;
        case RESTART_ON_FAILURE:
                return c->exit_code != 0 && (c->restart_max_retries == 0 || c->restart_count < c->restart_max_retries);
        default:
                return false;
        }
}

static int on_restart_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Container *c = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
        c->restart_count++;
        (void) container_save(c);
        container_emit_changed(c, "RestartCount", NULL);
        if (container_start(c, NULL, -1, -1, -1, &error) < 0) {
                log_error("Failed to restart container %s: %s", c->name, error.message ?: "unknown error");
                container_maybe_schedule_restart(c); /* try again, later */
        }
        return 0;
}

void container_maybe_schedule_restart(Container *c) {
        if (c->restart_timer || !should_restart(c))
                return;
        if (c->finished_at > c->started_at && c->finished_at - c->started_at >= RESTART_RESET_AFTER_USEC)
                c->restart_delay_usec = 0;
        c->restart_delay_usec = c->restart_delay_usec == 0 ? RESTART_DELAY_MIN_USEC : c->restart_delay_usec * 2;
        if (c->restart_delay_usec > RESTART_DELAY_MAX_USEC)
                c->restart_delay_usec = RESTART_DELAY_MAX_USEC;
        if (sd_event_add_time_relative(c->manager->event, &c->restart_timer, CLOCK_MONOTONIC, c->restart_delay_usec, 0,
                                       on_restart_timer, c) < 0) {
                log_error("Failed to schedule the restart of container %s.", c->name);
                return;
        }
        container_emit_changed(c, "State", NULL);
}

/* At berthd start (after boot, or after berthd itself was down): bring back what the policies want
 * running. Like dockerd, "always" containers come back even if they had been stopped by hand. */
void manager_start_restartable_containers(Manager *m) {
        for (Container *c = m->containers; c; c = c->next) {
                if (c->state == CONTAINER_RUNNING || c->starting)
                        continue;
                if (c->restart_policy == RESTART_ALWAYS)
                        c->stopped_by_user = false;
                if (c->state == CONTAINER_EXITED || (c->state == CONTAINER_CREATED && c->restart_count > 0))
                        container_maybe_schedule_restart(c);
        }
}
