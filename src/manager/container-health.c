/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Health checks, as Docker runs them: while the container runs, berthd execs the probe (HealthCmd)
 * in it every interval, confined as `exec` is (container_exec_start()), one at a time, killed
 * after its timeout. The status (starting, healthy, unhealthy), the failing streak and the last
 * five results are runtime state: properties with PropertiesChanged, State.Health in inspect.
 * One sd-event timer per container: while a probe runs it is the probe's timeout, otherwise the
 * next probe; it is off while the container is stopped or paused (docs/DESIGN.md says why not
 * transient systemd timers).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "errors.h"
#include "go-duration.h"
#include "json-util.h"
#include "log.h"
#include "utf8.h"

static const char *const statuses[] = {
        [HEALTH_NONE] = "",
        [HEALTH_STARTING] = "starting",
        [HEALTH_HEALTHY] = "healthy",
        [HEALTH_UNHEALTHY] = "unhealthy",
};

const char *health_status_to_string(HealthStatus s) {
        return s >= 0 && s < (HealthStatus) ELEMENTSOF(statuses) ? statuses[s] : "";
}

bool container_has_healthcheck(const Container *c) {
        return strv_length(c->health_cmd) > 0 && !streq(c->health_cmd[0], "NONE");
}

/* Docker's defaults for what is not set (0). */
uint64_t container_health_interval(const Container *c) {
        return c->health_interval_usec ?: HEALTH_DEFAULT_INTERVAL_USEC;
}
uint64_t container_health_timeout(const Container *c) {
        return c->health_timeout_usec ?: HEALTH_DEFAULT_TIMEOUT_USEC;
}
uint64_t container_health_start_interval(const Container *c) {
        return c->health_start_interval_usec ?: HEALTH_DEFAULT_START_INTERVAL_USEC;
}
uint32_t container_health_retries(const Container *c) {
        return c->health_retries ?: HEALTH_DEFAULT_RETRIES;
}

static void close_output(ContainerHealth *h) {
        h->out_source = sd_event_source_disable_unref(h->out_source); /* before its fd */
        h->out_fd = safe_close(h->out_fd);
}

/* Kills a running probe and disarms the timer; the status stays. */
static void health_disarm(Container *c) {
        ContainerHealth *h = &c->health;
        if (h->probe)
                exec_operation_cancel(h->probe); /* clears h->probe */
        close_output(h);
        h->out = mfree(h->out);
        h->out_len = 0;
        h->timer = sd_event_source_disable_unref(h->timer);
}

static void result_done(HealthResult *r) {
        r->output = mfree(r->output);
}

void container_health_free(Container *c) {
        health_disarm(c);
        for (size_t i = 0; i < c->health.n_log; i++)
                result_done(&c->health.log[i]);
        c->health.n_log = 0;
        for (size_t i = 0; i < c->health.n_waiters; i++)
                sd_bus_message_unref(c->health.waiters[i]);
        c->health.waiters = mfree(c->health.waiters);
        c->health.n_waiters = 0;
}

/* WaitCondition("healthy") callers: answered with 0 once healthy, with an error when the run ends. */
static void reply_health_waiters(Container *c, bool healthy) {
        ContainerHealth *h = &c->health;
        for (size_t i = 0; i < h->n_waiters; i++) {
                if (healthy)
                        (void) sd_bus_reply_method_return(h->waiters[i], "i", 0);
                else
                        (void) sd_bus_reply_method_errorf(h->waiters[i], BERTH_ERROR_CONTAINER_NOT_RUNNING,
                                                          "Container %s stopped before it became healthy.", c->name);
                sd_bus_message_unref(h->waiters[i]);
        }
        h->waiters = mfree(h->waiters);
        h->n_waiters = 0;
}

int container_health_wait(Container *c, sd_bus_message *request, sd_bus_error *error) {
        ContainerHealth *h = &c->health;
        if (!container_has_healthcheck(c))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Container %s has no health check.",
                                         c->name);
        if (h->status == HEALTH_HEALTHY && c->state == CONTAINER_RUNNING)
                return sd_bus_reply_method_return(request, "i", 0);
        sd_bus_message **l = realloc(h->waiters, (h->n_waiters + 1) * sizeof(*l));
        if (!l)
                return -ENOMEM;
        h->waiters = l;
        h->waiters[h->n_waiters++] = sd_bus_message_ref(request);
        return 1;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

static int arm_timer(Container *c, uint64_t delay) {
        ContainerHealth *h = &c->health;
        if (!h->timer)
                return sd_event_add_time_relative(c->manager->event, &h->timer, CLOCK_MONOTONIC, delay, 0, on_timer, c);
        int r = sd_event_source_set_time_relative(h->timer, delay);
        return r < 0 ? r : sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

/* Docker's rule: while the status is still "starting" within the start period, the start interval. */
static uint64_t next_delay(const Container *c) {
        if (c->health.status == HEALTH_STARTING && c->health_start_period_usec > 0 &&
            now_realtime_usec() < c->started_at + c->health_start_period_usec)
                return container_health_start_interval(c);
        return container_health_interval(c);
}

static void schedule_next(Container *c) {
        if (c->state != CONTAINER_RUNNING || c->paused) {
                (void) sd_event_source_set_enabled(c->health.timer, SD_EVENT_OFF);
                return;
        }
        int r = arm_timer(c, next_delay(c));
        if (r < 0)
                log_error("Failed to schedule the health check of container %s: %s", c->name, strerror(-r));
}

/* podman's --health-on-failure, when the container has just become unhealthy. */
static void act_on_failure(Container *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = 0;

        switch (c->health_on_failure) {
        case HEALTH_ACTION_KILL:
                r = container_kill(c, SIGKILL, &error);
                break;
        case HEALTH_ACTION_STOP:
                r = container_stop(c, container_stop_timeout(c), NULL, &error);
                break;
        case HEALTH_ACTION_RESTART:
                /* Stopped as Stop does, started again at its exit (container_settle_exit()). */
                r = container_arm_stop_timer(c, container_stop_timeout(c));
                if (r >= 0)
                        r = container_stop_signal(c, c->stop_signal);
                if (r >= 0)
                        c->health.restart_on_exit = true;
                break;
        default:
                return;
        }
        if (r < 0)
                log_error("Container %s is unhealthy; its --health-on-failure=%s failed: %s", c->name,
                          health_action_to_string(c->health_on_failure), error.message ?: strerror(-r));
        else
                log_info("Container %s is unhealthy: %s (--health-on-failure).", c->name,
                         health_action_to_string(c->health_on_failure));
}

static void set_status(Container *c, HealthStatus s) {
        c->health.status = s;
}

/* A probe's end: into the log (the last HEALTH_LOG_MAX), then Docker's rules for the status. The
 * output (len bytes) is whatever the probe wrote: kept as valid UTF-8 for D-Bus and JSON. */
static void record_result_len(Container *c, int exit_code, const char *output, size_t len) {
        ContainerHealth *h = &c->health;
        HealthStatus before = h->status;
        uint32_t streak_before = h->failing_streak;

        if (h->n_log == HEALTH_LOG_MAX) {
                result_done(&h->log[0]);
                memmove(h->log, h->log + 1, (HEALTH_LOG_MAX - 1) * sizeof(HealthResult));
                h->n_log--;
        }
        h->log[h->n_log++] = (HealthResult){
                .start = h->probe_start,
                .end = now_realtime_usec(),
                .exit_code = exit_code,
                .output = utf8_sanitize(output ?: "", output ? len : 0), /* NULL (no memory) reads as "" */
        };

        if (exit_code == 0) {
                h->failing_streak = 0;
                set_status(c, HEALTH_HEALTHY);
        } else if (!(h->status == HEALTH_STARTING && c->health_start_period_usec > 0 &&
                     h->probe_start < c->started_at + c->health_start_period_usec)) {
                /* Failures within the start period do not count while the status is "starting". */
                h->failing_streak++;
                if (h->failing_streak >= container_health_retries(c))
                        set_status(c, HEALTH_UNHEALTHY);
        }
        if (h->status != before)
                container_emit_changed(c, "HealthStatus", "HealthFailingStreak", "HealthLog", NULL);
        else if (h->failing_streak != streak_before)
                container_emit_changed(c, "HealthFailingStreak", "HealthLog", NULL);
        else
                container_emit_changed(c, "HealthLog", NULL);
        if (h->status == HEALTH_HEALTHY && before != HEALTH_HEALTHY)
                reply_health_waiters(c, true);
        schedule_next(c);
        if (h->status == HEALTH_UNHEALTHY && before != HEALTH_UNHEALTHY)
                act_on_failure(c);
}

static void record_result(Container *c, int exit_code, const char *message) {
        record_result_len(c, exit_code, message, message ? strlen(message) : 0);
}

/* What is left in the pipe, then the output as Docker keeps it (its first HEALTH_OUTPUT_MAX bytes). */
static void drain_output(ContainerHealth *h) {
        char buf[4096];
        ssize_t n;
        while (h->out_fd >= 0 && (n = read(h->out_fd, buf, sizeof(buf))) > 0) {
                size_t room = HEALTH_OUTPUT_MAX - h->out_len, take = (size_t) n < room ? (size_t) n : room;
                if (take > 0 && h->out) {
                        memcpy(h->out + h->out_len, buf, take);
                        h->out_len += take;
                        h->out[h->out_len] = 0;
                }
        }
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Container *c = userdata;
        drain_output(&c->health);
        if (revents & (EPOLLHUP | EPOLLERR))
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return 0;
}

static void on_probe_done(int code, const char *error_name, const char *message, void *userdata) {
        Container *c = userdata;
        ContainerHealth *h = &c->health;
        _cleanup_free_ char *output = NULL;
        size_t len;

        /* The exec helper has exited: whatever it relayed is in the pipe. */
        drain_output(h);
        output = TAKE_PTR(h->out);
        len = h->out_len;
        h->out_len = 0;
        close_output(h);
        /* Docker: a probe that could not be run is a failure with exit code -1 and the reason. */
        if (error_name)
                record_result(c, -1, message);
        else
                record_result_len(c, code, output, output ? len : 0);
}

static void start_probe(Container *c) {
        ContainerHealth *h = &c->health;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int null_fd = -1, out_w = -1;
        int pipes[2], r;

        /* CMD-SHELL runs /bin/sh -c, as Docker does; CMD the words themselves. */
        char *shell[] = { (char *) "/bin/sh", (char *) "-c", c->health_cmd[1], NULL };
        char **argv = streq(c->health_cmd[0], "CMD-SHELL") ? shell : c->health_cmd + 1;

        h->probe_start = now_realtime_usec();
        h->out = calloc(1, HEALTH_OUTPUT_MAX + 1);
        h->out_len = 0;
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (!h->out || null_fd < 0 || pipe2(pipes, O_CLOEXEC | O_NONBLOCK) < 0) {
                h->out = mfree(h->out);
                record_result(c, -1, "Failed to set up the health check's output.");
                return;
        }
        h->out_fd = pipes[0];
        out_w = pipes[1];
        /* The helper's end is blocking: it must not lose output to EAGAIN. */
        (void) fcntl(out_w, F_SETFL, 0);
        r = sd_event_add_io(c->manager->event, &h->out_source, h->out_fd, EPOLLIN, on_output, c);
        if (r >= 0)
                r = container_exec_start(c, argv, (const int[3]){ null_fd, out_w, out_w }, on_probe_done, c, &h->probe,
                                         &error);
        if (r < 0) {
                close_output(h);
                h->out = mfree(h->out);
                record_result(c, -1, error.message ?: strerror(-r));
                return;
        }
        /* The same timer is now the probe's timeout. */
        r = arm_timer(c, container_health_timeout(c));
        if (r < 0)
                log_error("Failed to arm the health check timeout of container %s: %s", c->name, strerror(-r));
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Container *c = userdata;
        ContainerHealth *h = &c->health;

        if (c->state != CONTAINER_RUNNING || c->paused)
                return 0;
        if (!h->probe) {
                start_probe(c);
                return 0;
        }
        /* The probe ran out of time: killed (its helper, and with that the process), Docker's words. */
        char d[GO_DURATION_MAX], msg[128];
        exec_operation_cancel(h->probe);
        close_output(h);
        h->out = mfree(h->out);
        snprintf(msg, sizeof(msg), "Health check exceeded timeout (%s)",
                 go_duration_format((int64_t) container_health_timeout(c) * 1000, d));
        record_result(c, -1, msg);
        return 0;
}

void container_health_started(Container *c) {
        if (!container_has_healthcheck(c))
                return;
        health_disarm(c);
        c->health.restart_on_exit = false;
        c->health.status = HEALTH_STARTING;
        c->health.failing_streak = 0;
        container_emit_changed(c, "HealthStatus", "HealthFailingStreak", NULL);
        schedule_next(c);
}

void container_health_stopped(Container *c) {
        if (!container_has_healthcheck(c))
                return;
        health_disarm(c);
        reply_health_waiters(c, false);
        /* Docker's: a container whose checks stopped is unhealthy. */
        if (c->health.status != HEALTH_UNHEALTHY) {
                c->health.status = HEALTH_UNHEALTHY;
                container_emit_changed(c, "HealthStatus", NULL);
        }
}

void container_health_paused(Container *c, bool paused) {
        if (!container_has_healthcheck(c) || c->state != CONTAINER_RUNNING)
                return;
        if (paused)
                health_disarm(c); /* a probe of a frozen container would only time out */
        else
                schedule_next(c);
}

/* Docker's merge (daemon/commit.go): each field the container does not set comes from the image. */
int container_health_merge_image(Container *c, const char *image_config_json) {
        _cleanup_json_ json_object *o = NULL;
        json_object *config, *hc;

        if (!image_config_json || json_parse_buffer(image_config_json, strlen(image_config_json), &o) < 0)
                return 0; /* an image berth could not parse has no health check for us */
        if (!json_object_object_get_ex(o, "config", &config) ||
            !json_object_object_get_ex(config, "Healthcheck", &hc) || !json_object_is_type(hc, json_type_object))
                return 0;
        if (strv_length(c->health_cmd) == 0) {
                char **test = NULL;
                if (json_get_strv(hc, "Test", &test) >= 0) {
                        strv_free(c->health_cmd);
                        c->health_cmd = test;
                }
        }
        /* Durations are nanoseconds in the image's config. */
        struct {
                uint64_t *field;
                const char *key;
        } durations[] = {
                { &c->health_interval_usec, "Interval" },
                { &c->health_timeout_usec, "Timeout" },
                { &c->health_start_period_usec, "StartPeriod" },
                { &c->health_start_interval_usec, "StartInterval" },
        };
        for (size_t i = 0; i < ELEMENTSOF(durations); i++)
                if (*durations[i].field == 0) {
                        int64_t ns = json_get_i64(hc, durations[i].key, 0);
                        if (ns >= (int64_t) (USEC_PER_MSEC * NSEC_PER_USEC))
                                *durations[i].field = (uint64_t) ns / NSEC_PER_USEC;
                }
        if (c->health_retries == 0) {
                int64_t retries = json_get_i64(hc, "Retries", 0);
                if (retries > 0 && retries <= UINT32_MAX)
                        c->health_retries = (uint32_t) retries;
        }
        return 0;
}

/* Docker's Healthcheck object (durations in nanoseconds), or NULL when the container sets none. */
json_object *container_health_config_json(const Container *c) {
        if (strv_length(c->health_cmd) == 0)
                return NULL;
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "Test", json_strv_new(c->health_cmd));
        if (c->health_interval_usec)
                json_object_object_add(o, "Interval",
                                       json_object_new_int64((int64_t) (c->health_interval_usec * 1000)));
        if (c->health_timeout_usec)
                json_object_object_add(o, "Timeout", json_object_new_int64((int64_t) (c->health_timeout_usec * 1000)));
        if (c->health_start_period_usec)
                json_object_object_add(o, "StartPeriod",
                                       json_object_new_int64((int64_t) (c->health_start_period_usec * 1000)));
        if (c->health_start_interval_usec)
                json_object_object_add(o, "StartInterval",
                                       json_object_new_int64((int64_t) (c->health_start_interval_usec * 1000)));
        if (c->health_retries)
                json_object_object_add(o, "Retries", json_object_new_int64(c->health_retries));
        return o;
}

int container_property_get_health_status(sd_bus *bus, const char *path, const char *interface, const char *property,
                                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return sd_bus_message_append(reply, "s", health_status_to_string(c->health.status));
}

int container_property_get_health_log(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "(ttis)");
        for (size_t i = 0; r >= 0 && i < c->health.n_log; i++) {
                const HealthResult *e = &c->health.log[i];
                r = sd_bus_message_append(reply, "(ttis)", e->start, e->end, (int32_t) e->exit_code, e->output ?: "");
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}
