/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* version and info: berthctl's and berthd's versions, and the host berthd runs on, as Docker shows them. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "config.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-objects.h"
#include "ctl-output.h"
#include "ctl-template.h"
#include "ctl.h"
#include "util.h"

/* The D-Bus API's version: the "1" of org.berth1. */
#define BERTH_API_VERSION "1"

enum { ARG_HELP = 0x100 };

/* Go's GOARCH for a uname machine, as Docker's OS/Arch shows it. */
static const char *go_arch(const char *machine) {
        static const char *const map[][2] = {
                { "x86_64", "amd64" },    { "aarch64", "arm64" }, { "i686", "386" },
                { "i386", "386" },        { "armv7l", "arm" },    { "armv6l", "arm" },
                { "ppc64le", "ppc64le" }, { "s390x", "s390x" },   { "riscv64", "riscv64" },
        };
        for (size_t k = 0; k < ELEMENTSOF(map); k++)
                if (streq(machine, map[k][0]))
                        return map[k][1];
        return machine;
}

/* Properties.GetAll of the Manager as a JSON object under the property names (s, u, t, b, as). */
static int manager_properties(sd_bus *bus, sd_bus_error *error, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        const char *name, *contents;
        int r;

        if (!o)
                return -ENOMEM;
        r = sd_bus_call_method(bus, BERTH_BUS_SERVICE, BERTH_BUS_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                               error, &reply, "s", BERTH_BUS_MANAGER);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                json_object *v = NULL;
                if ((r = sd_bus_message_read(reply, "s", &name)) < 0 ||
                    (r = sd_bus_message_peek_type(reply, NULL, &contents)) < 0)
                        break;
                if (streq(contents, "s")) {
                        const char *s;
                        r = sd_bus_message_read(reply, "v", "s", &s);
                        v = json_object_new_string(s);
                } else if (streq(contents, "u")) {
                        uint32_t u;
                        r = sd_bus_message_read(reply, "v", "u", &u);
                        v = json_object_new_int64(u);
                } else if (streq(contents, "t")) {
                        uint64_t t;
                        r = sd_bus_message_read(reply, "v", "t", &t);
                        v = json_object_new_int64((int64_t) t);
                } else if (streq(contents, "as")) {
                        _cleanup_strv_free_ char **l = NULL;
                        r = sd_bus_message_enter_container(reply, 'v', "as");
                        if (r >= 0)
                                r = sd_bus_message_read_strv(reply, &l);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        v = json_strv_new(l);
                } else {
                        r = sd_bus_message_skip(reply, "v");
                        v = json_object_new_null();
                }
                if (r < 0 || (r = json_add(o, name, v)) < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
                        break;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static const char *json_string(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                ? json_object_get_string(v)
                : "";
}

static int64_t json_int(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static json_object *client_version(void) {
        struct utsname u;
        json_object *o = json_object_new_object();
        if (!o || uname(&u) < 0 || json_add(o, "Version", json_object_new_string(BERTH_VERSION)) < 0 ||
            json_add(o, "ApiVersion", json_object_new_string(BERTH_API_VERSION)) < 0 ||
            json_add(o, "DefaultAPIVersion", json_object_new_string(BERTH_API_VERSION)) < 0 ||
            json_add(o, "Os", json_object_new_string("linux")) < 0 ||
            json_add(o, "Arch", json_object_new_string(go_arch(u.machine))) < 0 ||
            json_add(o, "Context", json_object_new_string("default")) < 0)
                return json_object_put(o), NULL;
        return o;
}

/* Docker's Server part of version: the engine's version, API, platform and kernel. */
static json_object *server_version(json_object *props) {
        json_object *o = json_object_new_object(), *platform = json_object_new_object();
        const char *arch = go_arch(json_string(props, "Architecture"));
        if (!o || !platform || json_add(platform, "Name", json_object_new_string("berth")) < 0 ||
            json_add(o, "Platform", json_object_get(platform)) < 0 ||
            json_add(o, "Version", json_object_new_string(json_string(props, "Version"))) < 0 ||
            json_add(o, "ApiVersion", json_object_new_string(BERTH_API_VERSION)) < 0 ||
            json_add(o, "MinAPIVersion", json_object_new_string(BERTH_API_VERSION)) < 0 ||
            json_add(o, "Os", json_object_new_string("linux")) < 0 ||
            json_add(o, "Arch", json_object_new_string(arch)) < 0 ||
            json_add(o, "KernelVersion", json_object_new_string(json_string(props, "KernelVersion"))) < 0) {
                json_object_put(platform);
                return json_object_put(o), NULL;
        }
        json_object_put(platform);
        return o;
}

static int render(const char *format, json_object *o) {
        _cleanup_free_ char *out = NULL, *why = NULL;
        int r;

        if (streq(format, "json")) {
                printf("%s\n",
                       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                return 0;
        }
        r = ctl_render_template(format, o, &out, &why);
        if (r == -EINVAL) {
                /* Docker's wording: "template parsing error: ..." */
                ctl_log_error("template parsing error: %s", why ?: "invalid template");
                return r;
        }
        if (r < 0)
                return ctl_log_errno(r, "Failed to render the template: %m");
        printf("%s\n", out);
        return 0;
}

static int parse_format_argv(int argc, char *argv[], const char *verb, const char *usage, const char **ret_format) {
        static const struct option options[] = {
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int c;

        *ret_format = NULL;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:f:h", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        *ret_format = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        fputs(usage, stdout);
                        return 0;
                default:
                        return ctl_log_getopt_error(verb, c, argv);
                }
        if (optind < argc) {
                ctl_log_error("\"berthctl %s\" accepts no arguments (see 'berthctl %s --help')", verb, verb);
                return -EINVAL;
        }
        return 1;
}

static void print_version_part(json_object *o, const char *indent) {
        printf("%s%-*s%s\n", indent, 20 - (int) strlen(indent), "Version:", json_string(o, "Version"));
        printf("%s%-*s%s\n", indent, 20 - (int) strlen(indent), "API version:", json_string(o, "ApiVersion"));
        printf("%s%-*s%s/%s\n", indent, 20 - (int) strlen(indent), "OS/Arch:", json_string(o, "Os"),
               json_string(o, "Arch"));
}

int verb_version(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *props = NULL;
        const char *format;
        sd_bus *bus;
        int r;

        r = parse_format_argv(argc, argv, "version",
                              "Usage: berthctl version [OPTIONS]\n"
                              "\n"
                              "Show the version of berthctl and of berthd.\n"
                              "\n"
                              "Options:\n"
                              "  -f, --format=TMPL  Render a Go template over {Client, Server} (e.g.\n"
                              "                     '{{.Server.Version}}'), or 'json'\n"
                              "  -h, --help         Show this help\n",
                              &format);
        if (r <= 0)
                return r;
        if (!o || json_add(o, "Client", client_version()) < 0)
                return ctl_log_errno(-ENOMEM, "%m");

        r = ctl_acquire_bus(ctl, &bus);
        if (r >= 0) {
                r = manager_properties(bus, &error, &props);
                if (r < 0)
                        ctl_log_bus_error(&error, r);
        }
        if (r >= 0 && json_add(o, "Server", server_version(props)) < 0)
                return ctl_log_errno(-ENOMEM, "%m");
        if (r < 0 && json_add_null(o, "Server") < 0)
                return ctl_log_errno(-ENOMEM, "%m");

        if (format) {
                int q = render(format, o);
                if (q < 0)
                        return q;
        } else {
                json_object *client = json_object_object_get(o, "Client");
                printf("Client:\n");
                print_version_part(client, " ");
                if (r >= 0) {
                        json_object *server = json_object_object_get(o, "Server");
                        printf("\nServer: berth\n Engine:\n");
                        print_version_part(server, "  ");
                        printf("  %-18s%s\n", "Kernel Version:", json_string(server, "KernelVersion"));
                }
        }
        /* As Docker: the client's part is shown, the command fails without the server. */
        return r < 0 ? 1 : 0;
}

/* Docker's info fields (the keys its --format templates use) from the Manager's properties and
 * the objects. */
static int info_object(sd_bus *bus, sd_bus_error *error, json_object **ret) {
        _cleanup_(json_object_putp) json_object *props = NULL, *o = json_object_new_object(),
                                                *client = client_version();
        _cleanup_(object_list_done) ObjectList objects = {};
        size_t running = 0, paused = 0;
        int r;

        if (!o || !client)
                return -ENOMEM;
        r = manager_properties(bus, error, &props);
        if (r >= 0)
                r = object_list_fetch(bus, error, &objects);
        if (r < 0)
                return r;
        for (size_t k = 0; k < objects.n_containers; k++) {
                const char *s = objects.containers[k].state;
                if (streq_ptr(s, "paused"))
                        paused++;
                else if (streq_ptr(s, "running") || streq_ptr(s, "restarting"))
                        running++;
        }
        if (json_add(client, "Debug", json_object_new_boolean(false)) < 0 ||
            json_add(o, "ClientInfo", json_object_get(client)) < 0 ||
            json_add(o, "Containers", json_object_new_int64((int64_t) objects.n_containers)) < 0 ||
            json_add(o, "ContainersRunning", json_object_new_int64((int64_t) running)) < 0 ||
            json_add(o, "ContainersPaused", json_object_new_int64((int64_t) paused)) < 0 ||
            json_add(o, "ContainersStopped",
                     json_object_new_int64((int64_t) (objects.n_containers - running - paused))) < 0 ||
            json_add(o, "Images", json_object_new_int64((int64_t) objects.n_images)) < 0 ||
            json_add(o, "ServerVersion", json_object_new_string(json_string(props, "Version"))) < 0 ||
            json_add(o, "Driver", json_object_new_string(json_string(props, "StorageDriver"))) < 0 ||
            json_add(o, "LoggingDriver", json_object_new_string("journald")) < 0 ||
            json_add(o, "CgroupDriver", json_object_new_string("systemd")) < 0 ||
            json_add(o, "CgroupVersion", json_object_new_string(json_int(props, "CgroupVersion") == 2 ? "2" : "1")) <
                    0 ||
            json_add(o, "CgroupLayout", json_object_new_string(json_string(props, "CgroupLayout"))) < 0 ||
            json_add(o, "SecurityOptions", json_object_get(json_object_object_get(props, "SecurityOptions"))) < 0 ||
            json_add(o, "KernelVersion", json_object_new_string(json_string(props, "KernelVersion"))) < 0 ||
            json_add(o, "OperatingSystem", json_object_new_string(json_string(props, "OperatingSystem"))) < 0 ||
            json_add(o, "OSType", json_object_new_string("linux")) < 0 ||
            json_add(o, "Architecture", json_object_new_string(json_string(props, "Architecture"))) < 0 ||
            json_add(o, "NCPU", json_object_new_int64(json_int(props, "CPUs"))) < 0 ||
            json_add(o, "MemTotal", json_object_new_int64(json_int(props, "MemoryTotal"))) < 0 ||
            json_add(o, "Name", json_object_new_string(json_string(props, "Hostname"))) < 0 ||
            json_add(o, "DockerRootDir", json_object_new_string(json_string(props, "StateDirectory"))) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

/* "name=seccomp,profile=builtin" → "  seccomp" and "   Profile: builtin", as Docker prints them. */
static void print_security_options(json_object *list) {
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        if (n == 0)
                return;
        printf(" Security Options:\n");
        for (size_t k = 0; k < n; k++) {
                _cleanup_free_ char *copy = strdup(json_object_get_string(json_object_array_get_idx(list, k)));
                if (!copy)
                        return;
                for (char *kv = strtok(copy, ","); kv; kv = strtok(NULL, ",")) {
                        char *eq = strchr(kv, '=');
                        if (!eq)
                                continue;
                        *eq = 0;
                        if (streq(kv, "name"))
                                printf("  %s\n", eq + 1);
                        else
                                printf("   %c%s: %s\n", kv[0] >= 'a' && kv[0] <= 'z' ? kv[0] - 32 : kv[0], kv + 1,
                                       eq + 1);
                }
        }
}

static void print_info(json_object *o) {
        char mem[CTL_FORMAT_SIZE_MAX];
        json_object *client = json_object_object_get(o, "ClientInfo");

        printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: false\n\n",
               json_string(client, "Version"));
        printf("Server:\n");
        printf(" Containers: %" PRIi64 "\n", json_int(o, "Containers"));
        printf("  Running: %" PRIi64 "\n", json_int(o, "ContainersRunning"));
        printf("  Paused: %" PRIi64 "\n", json_int(o, "ContainersPaused"));
        printf("  Stopped: %" PRIi64 "\n", json_int(o, "ContainersStopped"));
        printf(" Images: %" PRIi64 "\n", json_int(o, "Images"));
        printf(" Server Version: %s\n", json_string(o, "ServerVersion"));
        printf(" Storage Driver: %s\n", json_string(o, "Driver"));
        printf(" Logging Driver: %s\n", json_string(o, "LoggingDriver"));
        printf(" Cgroup Driver: %s\n", json_string(o, "CgroupDriver"));
        printf(" Cgroup Version: %s\n", json_string(o, "CgroupVersion"));
        printf(" Cgroup Layout: %s\n", json_string(o, "CgroupLayout"));
        print_security_options(json_object_object_get(o, "SecurityOptions"));
        printf(" Kernel Version: %s\n", json_string(o, "KernelVersion"));
        printf(" Operating System: %s\n", json_string(o, "OperatingSystem"));
        printf(" OSType: %s\n", json_string(o, "OSType"));
        printf(" Architecture: %s\n", json_string(o, "Architecture"));
        printf(" CPUs: %" PRIi64 "\n", json_int(o, "NCPU"));
        printf(" Total Memory: %s\n", ctl_format_size_binary((uint64_t) json_int(o, "MemTotal"), mem));
        printf(" Name: %s\n", json_string(o, "Name"));
        printf(" Berth Root Dir: %s\n", json_string(o, "DockerRootDir"));
        printf(" Debug Mode: false\n");
}

int verb_info(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *format;
        sd_bus *bus;
        int r;

        r = parse_format_argv(argc, argv, "info",
                              "Usage: berthctl info [OPTIONS]\n"
                              "\n"
                              "Show system-wide information: containers and images, versions, storage and\n"
                              "logging drivers, cgroups, security options, the host.\n"
                              "\n"
                              "Options:\n"
                              "  -f, --format=TMPL  Render a Go template over Docker's fields (e.g.\n"
                              "                     '{{.Driver}}', '{{.ContainersRunning}}'), or 'json'\n"
                              "  -h, --help         Show this help\n",
                              &format);
        if (r <= 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = info_object(bus, &error, &o);
        if (r == -ENOMEM)
                return ctl_log_errno(r, "%m");
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        if (format)
                return render(format, o);
        print_info(o);
        return 0;
}
