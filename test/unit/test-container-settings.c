/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The settings table: options parsed and checked, records written and read back, the spec. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "container.h"
#include "errors.h"
#include "tests.h"

/* A CreateContainer-style a{sv} with one option, sealed so it can be read. */
static sd_bus_message *option_message(sd_bus *bus, const char *key, const char *type, ...) {
        sd_bus_message *m = NULL;
        va_list ap;
        ASSERT(sd_bus_message_new_method_call(bus, &m, "org.berth1", "/org/berth1", "org.berth1.Manager",
                                              "CreateContainer") >= 0);
        ASSERT(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
        ASSERT(sd_bus_message_open_container(m, 'e', "sv") >= 0);
        ASSERT(sd_bus_message_append(m, "s", key) >= 0);
        ASSERT(sd_bus_message_open_container(m, 'v', type) >= 0);
        va_start(ap, type);
        ASSERT(sd_bus_message_appendv(m, type, ap) >= 0);
        va_end(ap);
        ASSERT(sd_bus_message_close_container(m) >= 0);
        ASSERT(sd_bus_message_close_container(m) >= 0);
        ASSERT(sd_bus_message_close_container(m) >= 0);
        ASSERT(sd_bus_message_seal(m, 1, 0) >= 0);
        ASSERT(sd_bus_message_rewind(m, true) >= 0);
        return m;
}

/* Parse the one option of m into config: the result of container_setting_parse() and the error. */
static int parse_one(sd_bus_message *m, ContainerConfig *config, sd_bus_error *error) {
        const char *key, *contents;
        ASSERT(sd_bus_message_enter_container(m, 'a', "{sv}") > 0);
        ASSERT(sd_bus_message_enter_container(m, 'e', "sv") > 0);
        ASSERT(sd_bus_message_read(m, "s", &key) > 0);
        ASSERT(sd_bus_message_peek_type(m, NULL, &contents) > 0);
        return container_setting_parse(m, key, contents, config, error);
}

static void test_options(void) {
        /* Messages need a bus that has started: one on a socket pair nobody answers on. */
        sd_bus *bus = NULL;
        int pair[2];
        ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) >= 0);
        ASSERT(sd_bus_new(&bus) >= 0);
        ASSERT(sd_bus_set_fd(bus, pair[0], pair[0]) >= 0);
        ASSERT(sd_bus_start(bus) >= 0);
        static const struct {
                const char *key, *type;
                const char *s;
                uint64_t t;
                int result;
                const char *error;
        } cases[] = {
                { "Hostname", "s", "box1", 0, 1, NULL },
                { "Hostname", "s", "bad host", 0, -EINVAL, "Invalid host name \"bad host\"." },
                { "Hostname", "b", NULL, 0, -EINVAL, "Container option \"Hostname\" must have type \"s\", not \"b\"." },
                { "WorkingDir", "s", "relative", 0, -EINVAL,
                  "The working directory \"relative\" is not an absolute path." },
                { "User", "s", "a:b:c", 0, -EINVAL,
                  "Invalid user \"a:b:c\": expected USER[:GROUP], names or numbers." },
                { "StopSignal", "s", "SIGUSR1", 0, 1, NULL },
                { "StopSignal", "s", "NOPE", 0, -EINVAL, "Invalid signal \"NOPE\"." },
                { "RestartPolicy", "s", "always", 0, 1, NULL },
                { "RestartPolicy", "s", "sometimes", 0, -EINVAL, NULL },
                { "MemoryMax", "t", NULL, 64 << 20, 1, NULL },
                { "AllowedCPUs", "s", "0", 0, 1, NULL },
                { "AllowedCPUs", "s", "", 0, 1, NULL },
                { "AllowedCPUs", "s", "0-x", 0, -EINVAL, "Invalid value 0-x for cpuset cpus: invalid format: 0-x" },
                { "AllowedCPUs", "s", "8000", 0, -EINVAL, NULL }, /* not online */
                { "AllowedMemoryNodes", "s", "3-1", 0, -EINVAL,
                  "Invalid value 3-1 for cpuset mems: invalid format: 3-1" },
                { "Slice", "s", "batch.slice", 0, 1, NULL },
                { "Slice", "s", "batch", 0, -EINVAL,
                  "cgroup-parent for systemd cgroup should be a valid slice named as \"xxx.slice\"" },
                { "CPUQuotaPeriodUSec", "t", NULL, 500, -EINVAL,
                  "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)" },
                { "CPUQuotaPeriodUSec", "t", NULL, 50000, 1, NULL },
                { "MemoryLow", "t", NULL, 1 << 20, -EINVAL, "Minimum memory reservation allowed is 6MB" },
                { "BlkioWeight", "t", NULL, 5, -EINVAL, "Range of blkio weight is from 10 to 1000" },
                { "BlkioWeight", "t", NULL, 500, 1, NULL },
                { "OOMScoreAdjust", "i", NULL, 500, 1, NULL },
                { "OOMScoreAdjust", "i", NULL, 1001, -EINVAL,
                  "Invalid value 1001, range for oom score adj is [-1000, 1000]" },
                { "PidMode", "s", "host", 0, 1, NULL },
                { "PidMode", "s", "shareable", 0, -EINVAL, "invalid PID mode: shareable" },
                { "IpcMode", "s", "none", 0, 1, NULL },
                { "IpcMode", "s", "container:x", 0, 1, NULL }, /* the peer is checked at create */
                { "PidMode", "s", "container:", 0, -EINVAL,
                  "invalid PID mode: container:: expected container:NAME or ID" },
                { "UtsMode", "s", "container:x", 0, -EINVAL, "invalid UTS mode: container:x" },
                { "UtsMode", "s", "private", 0, -EINVAL, "invalid UTS mode: private" },
                { "Bogus", "s", "x", 0, 0, NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                ContainerConfig config = {};
                container_settings_config_init(&config);
                sd_bus_message *m = streq(cases[i].type, "s") ? option_message(bus, cases[i].key, "s", cases[i].s)
                        : streq(cases[i].type, "t")           ? option_message(bus, cases[i].key, "t", cases[i].t)
                        : streq(cases[i].type, "i") ? option_message(bus, cases[i].key, "i", (int32_t) cases[i].t)
                                                    : option_message(bus, cases[i].key, "b", 1);
                int r = parse_one(m, &config, &error);
                CHECK_INT(r < 0 ? -EINVAL : r, cases[i].result);
                if (r < 0) {
                        CHECK(sd_bus_error_has_name(&error, BERTH_ERROR_INVALID_ARGUMENT));
                        if (cases[i].error)
                                CHECK_STR(error.message, cases[i].error);
                }
                if (r > 0 && streq(cases[i].key, "StopSignal"))
                        CHECK_INT(config.stop_signal, SIGUSR1);
                if (r > 0 && streq(cases[i].key, "RestartPolicy"))
                        CHECK_INT(config.restart_policy, RESTART_ALWAYS);
                if (r > 0 && streq(cases[i].key, "MemoryMax"))
                        CHECK(config.memory_max == 64 << 20);
                if (r > 0 && streq(cases[i].key, "OOMScoreAdjust"))
                        CHECK_INT(config.oom_score_adj, 500);
                if (r > 0 && streq(cases[i].key, "Slice"))
                        CHECK_STR(config.slice, "batch.slice");
                if (r > 0 && streq(cases[i].key, "Hostname"))
                        CHECK_STR(config.hostname, "box1");
                if (r <= 0)
                        CHECK(config.memory_max == UINT64_MAX && !config.hostname);
                sd_bus_message_unref(m);
        }
        sd_bus_close_unref(bus); /* no flush: nobody reads the other end */
        close(pair[1]);
}

/* Written to a record and read back: the same settings; missing keys take their defaults. */
static void test_record_round_trip(void) {
        Container a = {}, b = {};
        a.hostname = strdup("h1");
        a.working_dir = strdup("/srv");
        a.user = strdup("1000:1000");
        a.stop_signal = SIGUSR2;
        a.init = a.tty = true;
        a.memory_max = 1 << 30;
        a.cpu_quota_per_sec_usec = 500000;
        a.tasks_max = UINT64_MAX;
        a.restart_policy = RESTART_ON_FAILURE;
        a.restart_max_retries = 3;
        a.cpuset_cpus = strdup("0-1");
        a.oom_score_adj = -17;
        a.blkio_weight = 300;
        a.memory_low = UINT64_MAX;
        json_object *o = json_object_new_object();
        container_settings_to_json(&a, o);
        CHECK_INT(container_settings_from_json(o, &b), 0);
        CHECK_STR(b.hostname, "h1");
        CHECK_STR(b.working_dir, "/srv");
        CHECK_STR(b.user, "1000:1000");
        CHECK_INT(b.stop_signal, SIGUSR2);
        CHECK(b.init && b.tty && !b.read_only && !b.auto_remove);
        CHECK(b.memory_max == 1 << 30 && b.cpu_quota_per_sec_usec == 500000 && b.tasks_max == UINT64_MAX);
        CHECK_INT(b.restart_policy, RESTART_ON_FAILURE);
        CHECK_INT(b.restart_max_retries, 3);
        CHECK_STR(b.cpuset_cpus, "0-1");
        CHECK_STR(b.cpuset_mems, "");
        CHECK_INT(b.oom_score_adj, -17);
        CHECK(b.blkio_weight == 300 && b.memory_low == UINT64_MAX);
        /* The spec: only the settings berth-nspawn reads, under their spec keys. */
        json_object *spec = json_object_new_object();
        container_settings_to_spec(&a, spec);
        json_object *v;
        CHECK(json_object_object_get_ex(spec, SPEC_KEY_CWD, &v) && streq(json_object_get_string(v), "/srv"));
        CHECK(json_object_object_get_ex(spec, SPEC_KEY_TTY, &v) && json_object_get_boolean(v));
        CHECK(!json_object_object_get_ex(spec, "memory_max", &v));
        CHECK(json_object_object_get_ex(spec, SPEC_KEY_OOM_ADJ, &v) && json_object_get_int(v) == -17);
        /* and the five of logging (LogLabels and LogEnv become log_fields, container-log.c) */
        CHECK(json_object_object_get_ex(spec, SPEC_KEY_LOG_MAX_BUFFER_SIZE, &v) && json_object_get_uint64(v) == 0);
        CHECK(!json_object_object_get_ex(spec, "log_labels", &v));
        CHECK_INT(json_object_object_length(spec), 17); /* CgroupnsMode too */
        json_object_put(spec);
        json_object_put(o);
        container_settings_free(&b);
        /* An old record without most keys: defaults; without a host name: refused. */
        o = json_tokener_parse("{\"hostname\": \"x\"}");
        CHECK_INT(container_settings_from_json(o, &b), 0);
        CHECK_STR(b.working_dir, "/");
        CHECK(b.memory_max == UINT64_MAX && b.stop_signal == SIGTERM && b.restart_policy == RESTART_NO);
        json_object_put(o);
        container_settings_free(&b);
        o = json_tokener_parse("{}");
        CHECK_INT(container_settings_from_json(o, &b), -EBADMSG);
        json_object_put(o);
        container_settings_free(&b);
        container_settings_free(&a);
}

/* The health check's options: Docker's shapes and bounds, podman's actions. */
static void test_health_options(void) {
        sd_bus *bus = NULL;
        int pair[2];
        ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) >= 0);
        ASSERT(sd_bus_new(&bus) >= 0);
        ASSERT(sd_bus_set_fd(bus, pair[0], pair[0]) >= 0);
        ASSERT(sd_bus_start(bus) >= 0);
        static const struct {
                unsigned n;
                const char *words[3];
                int result;
        } tests[] = {
                { 0, {}, 1 },
                { 1, { "NONE" }, 1 },
                { 2, { "CMD", "true" }, 1 },
                { 3, { "CMD", "test", "-e" }, 1 },
                { 2, { "CMD-SHELL", "exit 0" }, 1 },
                { 3, { "CMD-SHELL", "a", "b" }, -EINVAL },
                { 1, { "CMD" }, -EINVAL },
                { 2, { "NONE", "x" }, -EINVAL },
                { 2, { "SHELL", "x" }, -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(tests); i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                ContainerConfig config = {};
                container_settings_config_init(&config);
                sd_bus_message *m = option_message(bus, "HealthCmd", "as", tests[i].n, tests[i].words[0],
                                                   tests[i].words[1], tests[i].words[2]);
                int r = parse_one(m, &config, &error);
                CHECK_INT(r < 0 ? -EINVAL : r, tests[i].result);
                if (r > 0) {
                        CHECK_INT(strv_length(config.health_cmd), tests[i].n);
                        CHECK(tests[i].n == 0 || streq(config.health_cmd[0], tests[i].words[0]));
                } else
                        CHECK(sd_bus_error_has_name(&error, BERTH_ERROR_INVALID_ARGUMENT) &&
                              strstr(error.message, "Invalid health check"));
                container_settings_config_done(&config);
                CHECK(!config.health_cmd);
                sd_bus_message_unref(m);
        }
        static const struct {
                const char *key, *type, *s;
                uint64_t t;
                int result;
                const char *error;
        } cases[] = {
                { "HealthIntervalUSec", "t", NULL, 0, 1, NULL },
                { "HealthIntervalUSec", "t", NULL, 1000, 1, NULL },
                { "HealthIntervalUSec", "t", NULL, 999, -EINVAL, "Interval in Healthcheck cannot be less than 1ms" },
                { "HealthTimeoutUSec", "t", NULL, 1, -EINVAL, "Timeout in Healthcheck cannot be less than 1ms" },
                { "HealthStartPeriodUSec", "t", NULL, 5, -EINVAL,
                  "StartPeriod in Healthcheck cannot be less than 1ms" },
                { "HealthStartIntervalUSec", "t", NULL, 5, -EINVAL,
                  "StartInterval in Healthcheck cannot be less than 1ms" },
                { "HealthOnFailure", "s", "restart", 0, 1, NULL },
                { "HealthOnFailure", "s", "explode", 0, -EINVAL,
                  "invalid health on-failure action \"explode\": expected none, kill, restart or stop" },
                { "HealthRetries", "u", NULL, 5, 1, NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                ContainerConfig config = {};
                container_settings_config_init(&config);
                sd_bus_message *m = streq(cases[i].type, "s") ? option_message(bus, cases[i].key, "s", cases[i].s)
                        : streq(cases[i].type, "u") ? option_message(bus, cases[i].key, "u", (uint32_t) cases[i].t)
                                                    : option_message(bus, cases[i].key, "t", cases[i].t);
                int r = parse_one(m, &config, &error);
                CHECK_INT(r < 0 ? -EINVAL : r, cases[i].result);
                if (r < 0 && cases[i].error)
                        CHECK_STR(error.message, cases[i].error);
                if (r > 0 && streq(cases[i].key, "HealthOnFailure"))
                        CHECK_INT(config.health_on_failure, HEALTH_ACTION_RESTART);
                if (r > 0 && streq(cases[i].key, "HealthRetries"))
                        CHECK_INT(config.health_retries, 5);
                if (r > 0 && streq(cases[i].key, "HealthIntervalUSec"))
                        CHECK(config.health_interval_usec == cases[i].t);
                sd_bus_message_unref(m);
        }
        sd_bus_close_unref(bus);
        close(pair[1]);
}

/* Docker's merge: what the container sets wins, field by field; the rest is the image's. */
static void test_health_merge(void) {
        Container c = {};
        c.health_cmd = calloc(1, sizeof(char *));
        c.health_interval_usec = 3 * USEC_PER_SEC;
        ASSERT(c.health_cmd);
        CHECK(!container_has_healthcheck(&c));
        CHECK_INT(container_health_merge_image(
                          &c,
                          "{\"config\": {\"Healthcheck\": {\"Test\": [\"CMD\", \"true\"], \"Interval\": 2000000000, "
                          "\"Timeout\": 500000000, \"Retries\": 4, \"StartPeriod\": 10}}}"),
                  0);
        CHECK(container_has_healthcheck(&c));
        CHECK(strv_length(c.health_cmd) == 2 && streq(c.health_cmd[1], "true"));
        CHECK(c.health_interval_usec == 3 * USEC_PER_SEC); /* the container's */
        CHECK(c.health_timeout_usec == 500000);
        CHECK(c.health_start_period_usec == 0); /* below 1 ms: Docker's default */
        CHECK_INT(c.health_retries, 4);
        CHECK(container_health_timeout(&c) == 500000 && container_health_start_interval(&c) == 5 * USEC_PER_SEC);
        json_object *o = container_health_config_json(&c);
        CHECK_STR(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                  "{\"Test\":[\"CMD\",\"true\"],\"Interval\":3000000000,\"Timeout\":500000000,\"Retries\":4}");
        json_object_put(o);
        /* An image without a check, or one berth cannot read, changes nothing. */
        CHECK_INT(container_health_merge_image(&c, "{\"config\": {}}"), 0);
        CHECK_INT(container_health_merge_image(&c, "not json"), 0);
        CHECK_INT(container_health_merge_image(&c, NULL), 0);
        CHECK(strv_length(c.health_cmd) == 2);
        /* NONE disables. */
        strv_free(c.health_cmd);
        c.health_cmd = strv_copy((char *[]){ (char *) "NONE", NULL });
        CHECK(!container_has_healthcheck(&c));
        /* The record keeps it all. */
        Container b = {};
        c.health_on_failure = HEALTH_ACTION_KILL;
        o = json_object_new_object();
        container_settings_to_json(&c, o);
        json_object_object_add(o, "hostname", json_object_new_string("h"));
        CHECK_INT(container_settings_from_json(o, &b), 0);
        CHECK(strv_length(b.health_cmd) == 1 && streq(b.health_cmd[0], "NONE"));
        CHECK(b.health_interval_usec == 3 * USEC_PER_SEC && b.health_timeout_usec == 500000);
        CHECK_INT(b.health_retries, 4);
        CHECK_INT(b.health_on_failure, HEALTH_ACTION_KILL);
        json_object_put(o);
        container_settings_free(&b);
        /* An old record: no check, no action. */
        o = json_tokener_parse("{\"hostname\": \"x\"}");
        CHECK_INT(container_settings_from_json(o, &b), 0);
        CHECK(b.health_cmd && strv_length(b.health_cmd) == 0 && b.health_on_failure == HEALTH_ACTION_NONE);
        json_object_put(o);
        container_settings_free(&b);
        container_settings_free(&c);
}

int main(void) {
        TEST(test_options);
        TEST(test_health_options);
        TEST(test_health_merge);
        TEST(test_record_round_trip);
        return tests_exit_status();
}
