/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /_ping, /version, /info */
#include <errno.h>
#include <string.h>

#include "api.h"
#include "config.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "json-util.h"
#include "util.h"

int api_ping(ApiConn *c) {
        return api_reply(c, 200, "text/plain; charset=utf-8", "OK", 2);
}

/* Go's GOARCH for uname's machine. */
static const char *go_arch(const char *machine) {
        static const char *const table[][2] = {
                { "x86_64", "amd64" }, { "aarch64", "arm64" },   { "armv7l", "arm" },
                { "i686", "386" },     { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
        };
        for (size_t i = 0; machine && i < ELEMENTSOF(table); i++)
                if (streq(machine, table[i][0]))
                        return table[i][1];
        return machine ?: "";
}

/* The Manager's properties, read into JSON by name. */
typedef struct ManagerProps {
        char *version, *state_dir, *driver, *kernel, *os, *arch, *hostname, *cgroup_layout;
        uint32_t cpus, cgroup_version;
        uint64_t memory;
        char **security;
} ManagerProps;

static void manager_props_done(ManagerProps *p) {
        free(p->version);
        free(p->state_dir);
        free(p->driver);
        free(p->kernel);
        free(p->os);
        free(p->arch);
        free(p->hostname);
        free(p->cgroup_layout);
        strv_free(p->security);
}

static int manager_props_get(sd_bus *bus, sd_bus_error *error, ManagerProps *p) {
        const struct {
                const char *name;
                char type;
                void *dest;
        } table[] = {
                { "Version", 's', &p->version },
                { "StateDirectory", 's', &p->state_dir },
                { "StorageDriver", 's', &p->driver },
                { "KernelVersion", 's', &p->kernel },
                { "OperatingSystem", 's', &p->os },
                { "Architecture", 's', &p->arch },
                { "Hostname", 's', &p->hostname },
                { "CgroupLayout", 's', &p->cgroup_layout },
                { "CPUs", 'u', &p->cpus },
                { "CgroupVersion", 'u', &p->cgroup_version },
                { "MemoryTotal", 't', &p->memory },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                if (table[i].type == 's')
                        r = sd_bus_get_property_string(bus, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                                       table[i].name, error, table[i].dest);
                else {
                        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                        const char t[2] = { table[i].type, 0 };
                        r = sd_bus_get_property(bus, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                                table[i].name, error, &reply, t);
                        if (r >= 0)
                                r = sd_bus_message_read_basic(reply, table[i].type, table[i].dest);
                }
                if (r < 0)
                        return r;
        }
        r = sd_bus_get_property_strv(bus, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER, "SecurityOptions",
                                     error, &p->security);
        return r < 0 ? r : 0;
}

static json_object *version_json(const ManagerProps *p) {
        json_object *o = json_object_new_object(), *platform = json_object_new_object(),
                    *components = json_object_new_array(), *engine = json_object_new_object(),
                    *details = json_object_new_object();
        if (!o || !platform || !components || !engine || !details) {
                json_object_put(o);
                json_object_put(platform);
                json_object_put(components);
                json_object_put(engine);
                json_object_put(details);
                return NULL;
        }
        json_object_object_add(platform, "Name", json_object_new_string("berth"));
        json_object_object_add(o, "Platform", platform);
        json_object_object_add(details, "ApiVersion", json_object_new_string("1.41"));
        json_object_object_add(details, "MinAPIVersion", json_object_new_string("1.24"));
        json_object_object_add(details, "Os", json_object_new_string("linux"));
        json_object_object_add(details, "Arch", json_object_new_string(go_arch(p->arch)));
        json_object_object_add(details, "KernelVersion", json_object_new_string(p->kernel ?: ""));
        json_object_object_add(engine, "Name", json_object_new_string("Engine"));
        json_object_object_add(engine, "Version", json_object_new_string(p->version ?: BERTH_VERSION));
        json_object_object_add(engine, "Details", details);
        json_object_array_add(components, engine);
        json_object_object_add(o, "Components", components);
        json_object_object_add(o, "Version", json_object_new_string(p->version ?: BERTH_VERSION));
        json_object_object_add(o, "ApiVersion", json_object_new_string("1.41"));
        json_object_object_add(o, "MinAPIVersion", json_object_new_string("1.24"));
        json_object_object_add(o, "GitCommit", json_object_new_string(""));
        json_object_object_add(o, "GoVersion", json_object_new_string(""));
        json_object_object_add(o, "Os", json_object_new_string("linux"));
        json_object_object_add(o, "Arch", json_object_new_string(go_arch(p->arch)));
        json_object_object_add(o, "KernelVersion", json_object_new_string(p->kernel ?: ""));
        json_object_object_add(o, "BuildTime", json_object_new_string(""));
        return o;
}

int api_version(ApiConn *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(manager_props_done) ManagerProps p = {};
        int r = manager_props_get(c->server->bus, &error, &p);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        _cleanup_json_ json_object *o = version_json(&p);
        return o ? api_reply_json(c, 200, o) : -ENOMEM;
}

/* Counts of ListContainers by state. */
static int count_containers(sd_bus *bus, sd_bus_error *error, unsigned n[4]) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id, *name, *image, *state, *path;
        int r = ctl_bus_call_manager(bus, "ListContainers", CTL_TIMEOUT_DEFAULT, error, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sssso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sssso)", &id, &name, &image, &state, &path)) > 0) {
                n[0]++;
                if (streq(state, "running") || streq(state, "restarting"))
                        n[1]++;
                else if (streq(state, "paused"))
                        n[2]++;
                else
                        n[3]++;
        }
        return r;
}

static int count_images(sd_bus *bus, sd_bus_error *error, unsigned *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = ctl_bus_call_manager(bus, "ListImages", CTL_TIMEOUT_DEFAULT, error, &reply, NULL);
        unsigned n = 0;
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sastto)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sastto")) > 0) {
                r = sd_bus_message_skip(reply, "sastto");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                n++;
        }
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}

static json_object *strings_json(const char *const *l) {
        json_object *a = json_object_new_array();
        for (; a && *l; l++)
                json_object_array_add(a, json_object_new_string(*l));
        return a;
}

int api_info(ApiConn *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(manager_props_done) ManagerProps p = {};
        unsigned n[4] = {}, images = 0;
        int r = manager_props_get(c->server->bus, &error, &p);
        if (r >= 0)
                r = count_containers(c->server->bus, &error, n);
        if (r >= 0)
                r = count_images(c->server->bus, &error, &images);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);

        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *plugins = json_object_new_object(), *registry = json_object_new_object();
        if (!o || !plugins || !registry) {
                json_object_put(plugins);
                json_object_put(registry);
                return -ENOMEM;
        }
        json_object_object_add(o, "ID", json_object_new_string(""));
        json_object_object_add(o, "Containers", json_object_new_int(n[0]));
        json_object_object_add(o, "ContainersRunning", json_object_new_int(n[1]));
        json_object_object_add(o, "ContainersPaused", json_object_new_int(n[2]));
        json_object_object_add(o, "ContainersStopped", json_object_new_int(n[3]));
        json_object_object_add(o, "Images", json_object_new_int(images));
        json_object_object_add(o, "Driver", json_object_new_string(p.driver ?: ""));
        json_object_object_add(o, "DriverStatus", json_object_new_array());
        json_object_object_add(plugins, "Volume", strings_json((const char *const[]){ "local", NULL }));
        json_object_object_add(plugins, "Network",
                               strings_json((const char *const[]){ "bridge", "host", "none", NULL }));
        json_object_object_add(plugins, "Log", strings_json((const char *const[]){ "journald", NULL }));
        json_object_object_add(o, "Plugins", plugins);
        json_object_object_add(o, "MemoryLimit", json_object_new_boolean(true));
        json_object_object_add(o, "SwapLimit", json_object_new_boolean(true));
        json_object_object_add(o, "CpuCfsPeriod", json_object_new_boolean(true));
        json_object_object_add(o, "CpuCfsQuota", json_object_new_boolean(true));
        json_object_object_add(o, "CPUShares", json_object_new_boolean(true));
        json_object_object_add(o, "CPUSet", json_object_new_boolean(true));
        json_object_object_add(o, "PidsLimit", json_object_new_boolean(true));
        json_object_object_add(o, "IPv4Forwarding", json_object_new_boolean(true));
        json_object_object_add(o, "Debug", json_object_new_boolean(false));
        json_object_object_add(o, "NFd", json_object_new_int(0));
        json_object_object_add(o, "NGoroutines", json_object_new_int(0));
        json_object_object_add(o, "LoggingDriver", json_object_new_string("journald"));
        json_object_object_add(o, "CgroupDriver", json_object_new_string("systemd"));
        json_object_object_add(o, "CgroupVersion", json_object_new_string(p.cgroup_version == 2 ? "2" : "1"));
        json_object_object_add(o, "KernelVersion", json_object_new_string(p.kernel ?: ""));
        json_object_object_add(o, "OperatingSystem", json_object_new_string(p.os ?: ""));
        json_object_object_add(o, "OSType", json_object_new_string("linux"));
        json_object_object_add(o, "Architecture", json_object_new_string(p.arch ?: ""));
        json_object_object_add(o, "NCPU", json_object_new_int((int32_t) p.cpus));
        json_object_object_add(o, "MemTotal", json_object_new_int64((int64_t) p.memory));
        json_object_object_add(o, "DockerRootDir", json_object_new_string(p.state_dir ?: ""));
        json_object_object_add(o, "Name", json_object_new_string(p.hostname ?: ""));
        json_object_object_add(o, "Labels", json_object_new_array());
        json_object_object_add(o, "ExperimentalBuild", json_object_new_boolean(false));
        json_object_object_add(o, "ServerVersion", json_object_new_string(p.version ?: BERTH_VERSION));
        json_object_object_add(o, "IndexServerAddress", json_object_new_string("https://index.docker.io/v1/"));
        json_object_object_add(registry, "IndexConfigs", json_object_new_object());
        json_object_object_add(registry, "InsecureRegistryCIDRs", json_object_new_array());
        json_object_object_add(registry, "Mirrors", json_object_new_array());
        json_object_object_add(o, "RegistryConfig", registry);
        json_object_object_add(o, "SecurityOptions", json_strv_new(p.security));
        json_object_object_add(o, "Runtimes", json_object_new_object());
        json_object_object_add(o, "DefaultRuntime", json_object_new_string("berth-nspawn"));
        json_object_object_add(o, "Swarm", json_object_new_object());
        json_object_object_add(o, "LiveRestoreEnabled", json_object_new_boolean(true));
        json_object_object_add(o, "Isolation", json_object_new_string(""));
        json_object_object_add(o, "Warnings", json_object_new_array());
        return api_reply_json(c, 200, o);
}
