/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthd's container lifecycle without systemd: the real container code (container*.c) with a fake
 * SystemdUnits (systemd-units.h) in place of PID 1 and fake-nspawn in place of berth-nspawn.
 * create → start (StartTransientUnit succeeds, fails, its job fails; the supervisor fails; the
 * previous run's scope still there) → exit → restart policy with back-off (a failed automatic
 * start retried) → berthd restarts and reconciles (still running, exited meanwhile, scope gone) →
 * stop, remove. Timers are real: the back-off starts at 100 ms. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "network.h"
#include "errors.h"
#include "helper-exe.h"
#include "image.h"
#include "storage.h"
#include "tests.h"

#define IMAGE_HEX "1111111111111111111111111111111111111111111111111111111111111111"

/* The fake PID 1. */
static struct {
        int start_r[8]; /* what the next StartTransientUnit calls answer (0: a job), in order */
        size_t n_start_r;
        const char *job_result; /* the JobRemoved result of a started scope: "done" unless set */
        int freeze_r;
        int set_r; /* what SetUnitProperties answers */
        unsigned n_sets;
        bool scopes_exist; /* unit_has_pid(): the scopes of berth's processes are there */
        unsigned n_starts, n_get_units, n_freezes, n_subscribes;
        uint64_t start_times[32]; /* CLOCK_MONOTONIC of each StartTransientUnit */
        bool pids_property; /* the last scope's properties carried the helper in PIDs */
        unsigned next_job;
} fake;

static sd_bus *test_bus; /* for messages: the scope's properties, D-Bus requests */

struct UnitCall {
        Manager *manager;
        sd_event_source *defer;
        UnitCallDone done;
        void *userdata;
        int r;
        char value[128];
        const char *message;
        /* Then, for a started scope: */
        char unit[64];
        const char *job_result;
        bool unit_removed; /* instead: UnitRemoved of the unit */
};

static int on_defer(sd_event_source *s, void *userdata) {
        UnitCall *call = userdata;
        UnitCall copy = *call;
        sd_event_source_disable_unref(call->defer);
        free(call);
        if (copy.done)
                copy.done(copy.r, copy.r < 0 || !copy.value[0] ? NULL : copy.value, copy.message, copy.userdata);
        if (copy.job_result)
                manager_job_removed(copy.manager, copy.value, copy.unit, copy.job_result);
        if (copy.unit_removed)
                manager_unit_removed(copy.manager, copy.unit);
        return 0;
}

/* Answer from the loop, as the bus would. */
static UnitCall *later(Manager *m, UnitCallDone done, void *userdata, int r, const char *message) {
        UnitCall *call = calloc(1, sizeof(*call));
        ASSERT(call);
        *call = (UnitCall){ .manager = m, .done = done, .userdata = userdata, .r = r, .message = message };
        ASSERT(sd_event_add_defer(m->event, &call->defer, on_defer, call) >= 0);
        return call;
}

static int fake_start_transient_scope(Manager *m, const char *unit, UnitPropertiesAppend append, void *append_userdata,
                                      UnitCallDone done, void *userdata, UnitCall **ret_call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        struct timespec ts;

        /* The properties must build, and put the supervisor into the scope. */
        ASSERT(sd_bus_message_new_method_call(test_bus, &msg, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                              "org.freedesktop.systemd1.Manager", "StartTransientUnit") >= 0);
        ASSERT(sd_bus_message_open_container(msg, 'a', "(sv)") >= 0);
        CHECK(append(msg, append_userdata) >= 0);
        ASSERT(sd_bus_message_close_container(msg) >= 0);
        ASSERT(sd_bus_message_seal(msg, 1, 0) >= 0);
        ASSERT(sd_bus_message_rewind(msg, true) >= 0);
        fake.pids_property = false;
        const char *name;
        ASSERT(sd_bus_message_enter_container(msg, 'a', "(sv)") > 0);
        while (sd_bus_message_enter_container(msg, 'r', "sv") > 0) {
                ASSERT(sd_bus_message_read(msg, "s", &name) > 0);
                if (streq(name, "PIDs")) {
                        uint32_t n, pid;
                        ASSERT(sd_bus_message_enter_container(msg, 'v', "au") > 0);
                        ASSERT(sd_bus_message_enter_container(msg, 'a', "u") > 0);
                        for (n = 0; sd_bus_message_read(msg, "u", &pid) > 0; n++)
                                fake.pids_property = n == 0 && pid > 0 && kill((pid_t) pid, 0) == 0;
                        ASSERT(sd_bus_message_exit_container(msg) >= 0);
                        ASSERT(sd_bus_message_exit_container(msg) >= 0);
                } else
                        ASSERT(sd_bus_message_skip(msg, "v") >= 0);
                ASSERT(sd_bus_message_exit_container(msg) >= 0);
        }

        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (fake.n_starts < ELEMENTSOF(fake.start_times))
                fake.start_times[fake.n_starts] = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
        fake.n_starts++;
        int r = 0;
        if (fake.n_start_r > 0) {
                r = fake.start_r[0];
                memmove(fake.start_r, fake.start_r + 1, --fake.n_start_r * sizeof(int));
        }
        UnitCall *call = later(m, done, userdata, r,
                               r == -EEXIST    ? "Unit berth-x.scope already exists."
                                       : r < 0 ? "Access denied"
                                               : NULL);
        snprintf(call->unit, sizeof(call->unit), "%s", unit);
        if (r == 0) {
                snprintf(call->value, sizeof(call->value), "/org/freedesktop/systemd1/job/%u", ++fake.next_job);
                call->job_result = fake.job_result ?: "done";
        }
        *ret_call = call;
        return 0;
}

/* The previous run's scope exists, and goes away right after: UnitRemoved. */
static int fake_get_unit(Manager *m, const char *unit, UnitCallDone done, void *userdata, UnitCall **ret_call) {
        fake.n_get_units++;
        UnitCall *call = later(m, done, userdata, 0, NULL);
        snprintf(call->value, sizeof(call->value), "/org/freedesktop/systemd1/unit/old");
        snprintf(call->unit, sizeof(call->unit), "%s", unit);
        call->unit_removed = true;
        *ret_call = call;
        return 0;
}

static int fake_set_unit_properties(Manager *m, const char *unit, bool runtime, UnitPropertiesAppend append,
                                    void *append_userdata, UnitCallDone done, void *userdata, UnitCall **ret_call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        ASSERT(sd_bus_message_new_method_call(test_bus, &msg, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                              "org.freedesktop.systemd1.Manager", "SetUnitProperties") >= 0);
        ASSERT(sd_bus_message_open_container(msg, 'a', "(sv)") >= 0);
        CHECK(append(msg, append_userdata) >= 0);
        CHECK(runtime);
        fake.n_sets++;
        UnitCall *call = later(m, done, userdata, fake.set_r, fake.set_r < 0 ? "Invalid value" : NULL);
        if (ret_call)
                *ret_call = call;
        return 0;
}

static int fake_freeze_unit(Manager *m, const char *unit, bool freeze, UnitCallDone done, void *userdata,
                            UnitCall **ret_call) {
        fake.n_freezes++;
        UnitCall *call = later(m, done, userdata, fake.freeze_r, fake.freeze_r < 0 ? "Cannot freeze" : NULL);
        if (ret_call)
                *ret_call = call;
        return 0;
}

static int fake_attach_process(Manager *m, const char *unit, pid_t pid, UnitCallDone done, void *userdata,
                               UnitCall **ret_call) {
        UnitCall *call = later(m, done, userdata, 0, NULL);
        if (ret_call)
                *ret_call = call;
        return 0;
}

static void fake_call_cancel(UnitCall *call) {
        sd_event_source_disable_unref(call->defer);
        free(call);
}

static int fake_unit_has_pid(Manager *m, const char *unit, pid_t pid) {
        return fake.scopes_exist && kill(pid, 0) == 0;
}

static int fake_subscribe(Manager *m) {
        fake.n_subscribes++;
        return 0;
}

static const SystemdUnits fake_units = {
        .start_transient_scope = fake_start_transient_scope,
        .get_unit = fake_get_unit,
        .set_unit_properties = fake_set_unit_properties,
        .freeze_unit = fake_freeze_unit,
        .attach_process = fake_attach_process,
        .call_cancel = fake_call_cancel,
        .unit_has_pid = fake_unit_has_pid,
        .subscribe = fake_subscribe,
};

/* A storage driver with nothing to mount. */
static int fake_container_create(char **diffs, const char *cdir) {
        return 0;
}
static int fake_container_remove(const char *cdir) {
        return rm_rf(cdir);
}
static int fake_container_spec(const char *store, char **diffs, const char *cdir, json_object *o) {
        return 0;
}
static const StorageDriver fake_storage = {
        .name = "fake",
        .container_create = fake_container_create,
        .container_remove = fake_container_remove,
        .container_spec = fake_container_spec,
};

static const char *helper_path;
static Image *image;

static Manager *manager_up(void) {
        Manager *m;
        ASSERT(manager_new(&m) >= 0);
        ASSERT(sd_event_new(&m->event) >= 0);
        m->units = &fake_units;
        m->storage = &fake_storage;
        m->helper_exe_fd = helper_exe_seal(helper_path);
        ASSERT(m->helper_exe_fd >= 0);
        ASSERT(m->units->subscribe(m) >= 0);

        image = calloc(1, sizeof(Image));
        ASSERT(image);
        image->manager = m;
        memcpy(image->id, IMAGE_HEX, BERTH_ID_LEN + 1);
        ASSERT(strv_push(&image->repo_tags, "fake:latest") >= 0);
        ASSERT(strv_push(&image->layers, "sha256:" IMAGE_HEX) >= 0);
        ASSERT(strv_push(&image->layer_keys, IMAGE_HEX) >= 0);
        ASSERT(strv_push(&image->cmd, "run") >= 0);
        m->images = image;
        ASSERT(manager_load_networks(m) >= 0);
        ASSERT(manager_load_containers(m) >= 0);
        ASSERT(container_saves_start(m) >= 0);
        return m;
}

/* berthd exits (its containers keep running). */
static void manager_down(Manager *m) {
        manager_free(m);
}

static sd_bus_message *request(void) {
        sd_bus_message *msg;
        ASSERT(sd_bus_message_new_method_call(test_bus, &msg, "org.berth1", "/org/berth1/container/x",
                                              "org.berth1.Container", "Start") >= 0);
        ASSERT(sd_bus_message_seal(msg, 1, 0) >= 0);
        return msg;
}

static Container *create(Manager *m, const char *name, RestartPolicy policy, unsigned max_retries,
                         char *const *command) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        ContainerConfig config = { .security.seccomp_fd = -1 };
        Container *c;

        container_settings_config_init(&config);
        container_resources_init(&config.res);
        config.name = name;
        config.command = (char **) command;
        config.restart_policy = policy;
        config.restart_max_retries = max_retries;
        config.net.mode = strdup("none"); /* the fake helper makes no interfaces */
        ASSERT(container_create(m, image, "fake:latest", &config, &c, &error) >= 0);
        container_resources_done(&config.res);
        container_security_done(&config.security);
        container_network_done(&config.net);
        ASSERT(container_save(c) >= 0);
        c->creating = false;
        CHECK_INT(c->state, CONTAINER_CREATED);
        return c;
}

static int start(Container *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = request();
        return container_start(c, req, -1, -1, -1, &error);
}

static uint64_t now_mono(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* Run berthd's loop until cond holds (true) or usec passed (false). */
#define RUN_WITHIN(m, usec, cond)                                         \
        ({                                                                \
                uint64_t _end = now_mono() + (usec);                      \
                while (!(cond) && now_mono() < _end)                      \
                        ASSERT(sd_event_run((m)->event, 10 * 1000) >= 0); \
                (cond);                                                   \
        })
#define RUN_UNTIL(m, cond) RUN_WITHIN(m, 10 * USEC_PER_SEC, cond)
/* What must not happen: nothing of it in 1.5 s (longer than the back-off it would come after). */
#define RUN_NEVER(m, cond) (!RUN_WITHIN(m, 1500 * 1000, cond))

static char state_root[] = "/tmp/berth-test-lifecycle-XXXXXX";

/* A fresh PID 1, and state and run directories of berthd's nobody used. */
static void reset_fake(const char *test) {
        _cleanup_free_ char *var = NULL, *run = NULL, *cdir = NULL, *rdir = NULL;
        fake = (typeof(fake)){ .scopes_exist = true };
        ASSERT(asprintf(&var, "%s/%s/lib", state_root, test) >= 0 &&
               asprintf(&run, "%s/%s/run", state_root, test) >= 0);
        ASSERT(asprintf(&cdir, "%s/containers", var) >= 0 && asprintf(&rdir, "%s/containers", run) >= 0);
        ASSERT(mkdir_p(cdir, 0700) >= 0 && mkdir_p(rdir, 0755) >= 0);
        setenv("BERTH_STATE_DIR", var, 1);
        setenv("BERTH_RUN_DIR", run, 1);
}

static void test_start_exit_remove(void) {
        reset_fake("test_start_exit_remove");
        Manager *m = manager_up();
        CHECK_INT(fake.n_subscribes, 1);
        Container *c = create(m, "short", RESTART_NO, 0, (char *[]){ "exit", "3", "100", NULL });
        CHECK_INT(start(c), 1);
        CHECK(c->starting);
        {
                /* Not removed while it starts. */
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = request();
                CHECK(container_remove(c, true, false, req, &error) < 0);
                CHECK(sd_bus_error_has_name(&error, BERTH_ERROR_BUSY));
        }
        CHECK(RUN_UNTIL(m, c->state == CONTAINER_RUNNING));
        CHECK(!c->starting);
        CHECK(fake.pids_property);
        CHECK(c->pid > 0 && c->helper_pid > 0 && c->payload_pidfd >= 0);
        CHECK_STR(container_status(c), "running");
        /* A second start while running is refused. */
        CHECK(start(c) < 0);
        CHECK(RUN_UNTIL(m, c->state == CONTAINER_EXITED));
        CHECK_INT(c->exit_code, 3);
        CHECK(!c->restart_timer);
        CHECK_INT(fake.n_starts, 1);
        /* Remove: gone at once. */
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = request();
        char id[BERTH_ID_LEN + 1];
        memcpy(id, c->id, sizeof(id));
        CHECK(container_remove(c, false, false, req, &error) >= 0);
        CHECK(!manager_find_container(m, id, NULL));
        manager_down(m);
}

static void test_start_failures(void) {
        reset_fake("test_start_failures");
        Manager *m = manager_up();
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Container *c = create(m, "failing", RESTART_NO, 0, (char *[]){ "run", NULL });

        /* StartTransientUnit refused. */
        fake.start_r[fake.n_start_r++] = -EACCES;
        CHECK_INT(start(c), 1);
        CHECK(RUN_UNTIL(m, !c->starting));
        CHECK_INT(c->state, CONTAINER_CREATED);
        CHECK(c->error && strstr(c->error, "Failed to create the container's scope unit") &&
              strstr(c->error, "Access denied"));

        /* The scope's job failed. */
        fake.job_result = "failed";
        CHECK_INT(start(c), 1);
        CHECK(RUN_UNTIL(m, !c->starting));
        CHECK_INT(c->state, CONTAINER_CREATED);
        CHECK(c->error && strstr(c->error, "job result: failed"));
        fake.job_result = NULL;

        /* The previous run's scope is still there (UnitExists): wait for UnitRemoved, then again. */
        fake.start_r[fake.n_start_r++] = -EEXIST;
        unsigned starts = fake.n_starts;
        CHECK_INT(start(c), 1);
        CHECK(RUN_UNTIL(m, !c->starting));
        CHECK_INT(c->state, CONTAINER_RUNNING);
        CHECK(!c->error);
        CHECK_INT(fake.n_starts - starts, 2);
        CHECK_INT(fake.n_get_units, 1);

        /* Pause and unpause through FreezeUnit/ThawUnit; a refused freeze leaves it running. */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = request();
                CHECK_INT(container_pause(c, true, req, &error), 1);
                CHECK(RUN_UNTIL(m, c->paused));
                CHECK_STR(container_status(c), "paused");
                CHECK(container_exec(c, (char *[]){ "true", NULL }, NULL, &(ExecOptions){ .resize_fd = -1 },
                                     (const int[3]){ -1, -1, -1 }, req, &error) < 0);
                sd_bus_error_free(&error);
                CHECK_INT(container_pause(c, false, req, &error), 1);
                CHECK(RUN_UNTIL(m, !c->paused));
                CHECK_INT(fake.n_freezes, 2);
        }

        /* Update: the new limit once systemd took it; none if it refused. */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = request();
                LimitUpdate u = { .set[0] = true, .value[0] = 64 << 20 };
                CHECK_INT(container_update(c, &u, req, &error), 1);
                CHECK_INT(c->memory_max, UINT64_MAX); /* not yet */
                CHECK(RUN_UNTIL(m, c->memory_max == 64 << 20));
                fake.set_r = -EINVAL;
                u.value[0] = 32 << 20;
                CHECK_INT(container_update(c, &u, req, &error), 1);
                CHECK(RUN_NEVER(m, c->memory_max != 64 << 20));
                CHECK_INT(fake.n_sets, 2);
        }

        /* Stop: SIGTERM, exit 143, no restart. */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = request();
                CHECK_INT(container_stop(c, 10, req, &error), 1);
                CHECK(RUN_UNTIL(m, c->state == CONTAINER_EXITED));
                CHECK_INT(c->exit_code, 143);
                CHECK(c->stopped_by_user);
                CHECK(!c->restart_timer);
        }

        /* The supervisor fails: its message is the container's error. */
        Container *d = create(m, "bad", RESTART_NO, 0, (char *[]){ "fail", NULL });
        CHECK_INT(start(d), 1);
        CHECK(RUN_UNTIL(m, !d->starting));
        CHECK_INT(d->state, CONTAINER_CREATED);
        CHECK(d->error && strstr(d->error, "Failed to set up the fake container"));

        /* The supervisor dies without an exit file: 137. */
        Container *v = create(m, "vanishing", RESTART_NO, 0, (char *[]){ "vanish", NULL });
        CHECK_INT(start(v), 1);
        CHECK(RUN_UNTIL(m, v->state == CONTAINER_EXITED));
        CHECK_INT(v->exit_code, 137);
        manager_down(m);
}

static void test_restart_back_off(void) {
        reset_fake("test_restart_back_off");
        Manager *m = manager_up();
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        /* on-failure:3 of a command that fails at once: three restarts, 100, 200 and 400 ms apart. */
        Container *c = create(m, "crashing", RESTART_ON_FAILURE, 3, (char *[]){ "exit", "1", "0", NULL });
        CHECK_INT(start(c), 1);
        CHECK(RUN_UNTIL(m, c->restart_count == 3 && c->state == CONTAINER_EXITED && !c->starting));
        CHECK(RUN_NEVER(m, c->restart_timer || c->starting || fake.n_starts > 4)); /* and no more */
        CHECK_INT(fake.n_starts, 4);
        CHECK_INT(c->exit_code, 1);
        for (unsigned i = 1; i < 4 && i < fake.n_starts; i++) {
                uint64_t gap = fake.start_times[i] - fake.start_times[i - 1];
                CHECK(gap >= (RESTART_DELAY_MIN_USEC << (i - 1)));
                CHECK(gap < (RESTART_DELAY_MIN_USEC << (i - 1)) + 2 * USEC_PER_SEC);
        }
        CHECK_STR(container_status(c), "exited");

        /* on-failure and a clean exit: not restarted. */
        Container *ok = create(m, "clean", RESTART_ON_FAILURE, 0, (char *[]){ "exit", "0", "0", NULL });
        unsigned starts = fake.n_starts;
        CHECK_INT(start(ok), 1);
        CHECK(RUN_UNTIL(m, ok->state == CONTAINER_EXITED));
        CHECK(RUN_NEVER(m, ok->restart_timer || fake.n_starts > starts + 1));

        /* always: killed, restarted; the automatic start fails twice (StartTransientUnit refused) and is
         * retried with back-off until it runs again. */
        Container *a = create(m, "always", RESTART_ALWAYS, 0, (char *[]){ "run", NULL });
        CHECK_INT(start(a), 1);
        CHECK(RUN_UNTIL(m, a->state == CONTAINER_RUNNING));
        starts = fake.n_starts;
        fake.start_r[fake.n_start_r++] = -EACCES;
        fake.start_r[fake.n_start_r++] = -EACCES;
        CHECK(container_kill(a, SIGKILL, &error) >= 0);
        CHECK(RUN_UNTIL(m, a->state == CONTAINER_EXITED));
        CHECK_INT(a->exit_code, 137);
        CHECK(a->restart_timer);
        CHECK_STR(container_status(a), "restarting");
        CHECK(RUN_UNTIL(m, fake.n_starts == starts + 2 && !a->starting));
        CHECK(a->error && strstr(a->error, "Access denied"));
        CHECK(RUN_UNTIL(m, a->state == CONTAINER_RUNNING));
        CHECK_INT(fake.n_starts, starts + 3);
        CHECK_INT(a->restart_count, 3);
        CHECK_INT(a->restart_delay_usec, 4 * RESTART_DELAY_MIN_USEC);
        CHECK(!a->error);

        /* A stop wins over the policy. */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = request();
                CHECK_INT(container_stop(a, 10, req, &error), 1);
                CHECK(RUN_UNTIL(m, a->state == CONTAINER_EXITED));
                CHECK(RUN_NEVER(m, a->restart_timer || a->starting));
        }
        /* A start by hand counts from zero again. */
        CHECK_INT(start(a), 1);
        CHECK(RUN_UNTIL(m, a->state == CONTAINER_RUNNING));
        CHECK_INT(a->restart_count, 0);
        CHECK(!a->stopped_by_user);
        /* Remove with force kills it, and no restart follows. */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = request();
                char id[BERTH_ID_LEN + 1];
                memcpy(id, a->id, sizeof(id));
                CHECK_INT(container_remove(a, true, false, req, &error), 1);
                CHECK(RUN_UNTIL(m, !manager_find_container(m, id, NULL)));
        }
        manager_down(m);
}

static pid_t helper_of(Container *c) {
        return c->helper_pid;
}

static void test_berthd_restart(void) {
        reset_fake("test_berthd_restart");
        Manager *m = manager_up();
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        Container *keep = create(m, "keeps-running", RESTART_UNLESS_STOPPED, 0, (char *[]){ "run", NULL });
        Container *ends = create(m, "ends-meanwhile", RESTART_ALWAYS, 0, (char *[]){ "exit", "5", "300", NULL });
        Container *stopped = create(m, "stopped", RESTART_UNLESS_STOPPED, 0, (char *[]){ "run", NULL });
        Container *lost = create(m, "scope-lost", RESTART_NO, 0, (char *[]){ "run", NULL });
        CHECK_INT(start(keep), 1);
        CHECK_INT(start(ends), 1);
        CHECK_INT(start(stopped), 1);
        CHECK_INT(start(lost), 1);
        CHECK(RUN_UNTIL(m,
                        keep->state == CONTAINER_RUNNING && ends->state == CONTAINER_RUNNING &&
                                stopped->state == CONTAINER_RUNNING && lost->state == CONTAINER_RUNNING));
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = request();
                CHECK(container_stop(stopped, 10, req, &error) >= 0);
                CHECK(RUN_UNTIL(m, stopped->state == CONTAINER_EXITED));
        }
        pid_t keep_helper = helper_of(keep), lost_helper = helper_of(lost);
        char keep_id[BERTH_ID_LEN + 1], ends_id[BERTH_ID_LEN + 1], stopped_id[BERTH_ID_LEN + 1],
                lost_id[BERTH_ID_LEN + 1];
        memcpy(keep_id, keep->id, sizeof(keep_id));
        memcpy(ends_id, ends->id, sizeof(ends_id));
        memcpy(stopped_id, stopped->id, sizeof(stopped_id));
        memcpy(lost_id, lost->id, sizeof(lost_id));
        manager_down(m);

        /* berthd is down: one container ends, and (as if the host rebooted) one scope is gone. */
        usleep(500 * 1000);
        fake.scopes_exist = true;
        m = manager_up();
        keep = manager_find_container(m, keep_id, NULL);
        ends = manager_find_container(m, ends_id, NULL);
        stopped = manager_find_container(m, stopped_id, NULL);
        lost = manager_find_container(m, lost_id, NULL);
        ASSERT(keep && ends && stopped && lost);
        CHECK_INT(keep->state, CONTAINER_RUNNING);
        CHECK_INT(keep->helper_pid, keep_helper);
        CHECK(keep->payload_pidfd >= 0);
        CHECK_INT(ends->state, CONTAINER_EXITED);
        CHECK_INT(ends->exit_code, 5);
        CHECK_INT(stopped->state, CONTAINER_EXITED);
        CHECK_INT(lost->state, CONTAINER_RUNNING);
        manager_down(m);

        fake.scopes_exist = false; /* the scopes are gone: a recorded PID is not trusted */
        m = manager_up();
        lost = manager_find_container(m, lost_id, NULL);
        keep = manager_find_container(m, keep_id, NULL);
        ASSERT(lost && keep);
        CHECK_INT(lost->state, CONTAINER_EXITED);
        CHECK_INT(lost->exit_code, 137);
        CHECK_INT(keep->state, CONTAINER_EXITED); /* the same for it */
        manager_down(m);
        (void) kill(lost_helper, SIGKILL);
        (void) kill(keep_helper, SIGKILL);
        (void) waitpid(lost_helper, NULL, 0);
        (void) waitpid(keep_helper, NULL, 0);

        /* What berthd brings back when it starts: "always" (ended meanwhile) and "unless-stopped"
         * that was not stopped by hand (its scope vanished), but not "unless-stopped" stopped by
         * hand, nor "no". machined is not faked: a container that ran asks machined whether its
         * machine is gone before it starts again, so that is skipped here. */
        fake.scopes_exist = true;
        m = manager_up();
        for (Container *c = m->containers; c; c = c->next)
                c->machine_registered = false;
        ends = manager_find_container(m, ends_id, NULL);
        stopped = manager_find_container(m, stopped_id, NULL);
        keep = manager_find_container(m, keep_id, NULL);
        lost = manager_find_container(m, lost_id, NULL);
        ASSERT(ends && stopped && keep && lost);
        unsigned starts = fake.n_starts;
        manager_start_restartable_containers(m);
        CHECK(ends->restart_timer);
        CHECK(keep->restart_timer);
        CHECK(!stopped->restart_timer);
        CHECK(!lost->restart_timer);
        CHECK(RUN_UNTIL(m, ends->state == CONTAINER_RUNNING && keep->state == CONTAINER_RUNNING));
        CHECK_INT(fake.n_starts, starts + 2);
        CHECK_INT(ends->restart_count, 1);
        Container *both[] = { ends, keep };
        for (size_t i = 0; i < ELEMENTSOF(both); i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *req = request();
                CHECK(container_stop(both[i], 10, req, &error) >= 0);
                CHECK(RUN_UNTIL(m, both[i]->state == CONTAINER_EXITED));
        }
        manager_down(m);
}

int main(int argc, char **argv) {
        int pair[2];

        setvbuf(stdout, NULL, _IONBF, 0);
        ASSERT(argc == 2);
        helper_path = argv[1];
        ASSERT(mkdtemp(state_root));
        signal(SIGPIPE, SIG_IGN);

        /* Messages need a bus that has started: one on a socket pair nobody answers on. */
        ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) >= 0);
        ASSERT(sd_bus_new(&test_bus) >= 0);
        ASSERT(sd_bus_set_fd(test_bus, pair[0], pair[0]) >= 0);
        ASSERT(sd_bus_start(test_bus) >= 0);

        TEST(test_start_exit_remove);
        TEST(test_start_failures);
        TEST(test_restart_back_off);
        TEST(test_berthd_restart);

        sd_bus_unref(test_bus);
        (void) rm_rf(state_root);
        return tests_exit_status();
}
