/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Restart policies, as Docker's: no, on-failure[:N], always, unless-stopped. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "container.h"

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

bool restart_wanted(RestartPolicy policy, unsigned max_retries, unsigned restart_count, int exit_code,
                    bool suppressed) {
        if (suppressed)
                return false;
        switch (policy) {
        case RESTART_ALWAYS:
        case RESTART_UNLESS_STOPPED:
                return true;
        case RESTART_ON_FAILURE:
                return exit_code != 0 && (max_retries == 0 || restart_count < max_retries);
        default:
                return false;
        }
}

uint64_t restart_next_delay(uint64_t delay_usec, uint64_t started_at, uint64_t finished_at) {
        if (finished_at > started_at && finished_at - started_at >= RESTART_RESET_AFTER_USEC)
                delay_usec = 0;
        delay_usec = delay_usec == 0 ? RESTART_DELAY_MIN_USEC : delay_usec * 2;
        return delay_usec > RESTART_DELAY_MAX_USEC ? RESTART_DELAY_MAX_USEC : delay_usec;
}

bool restart_at_startup(RestartPolicy policy, ContainerState state, unsigned restart_count, bool *stopped_by_user) {
        if (policy == RESTART_ALWAYS)
                *stopped_by_user = false;
        return state == CONTAINER_EXITED || (state == CONTAINER_CREATED && restart_count > 0);
}

static bool should_restart(const Container *c) {
        return restart_wanted(c->restart_policy, c->restart_max_retries, c->restart_count, c->exit_code,
                              c->stopped_by_user || c->remove_on_exit || c->auto_remove);
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
        c->restart_delay_usec = restart_next_delay(c->restart_delay_usec, c->started_at, c->finished_at);
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
                if (restart_at_startup(c->restart_policy, c->state, c->restart_count, &c->stopped_by_user))
                        container_maybe_schedule_restart(c);
        }
}
