/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host facts of the Manager object, for berthctl info: kernel, operating system, CPUs, memory,
 * cgroup layout and the security features every container gets. Read when asked, never cached. */
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "manager.h"
#include "util.h"

static bool is_fs_type(const char *path, long magic) {
        struct statfs s;
        return statfs(path, &s) == 0 && (long) s.f_type == magic;
}

/* "unified" (cgroup2 only), "hybrid" (cgroup v1 with the unified hierarchy beside it) or "legacy". */
const char *manager_cgroup_layout(void) {
        if (is_fs_type("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
                return "unified";
        if (is_fs_type("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC) ||
            is_fs_type("/sys/fs/cgroup/systemd", CGROUP2_SUPER_MAGIC))
                return "hybrid";
        return "legacy";
}

/* PRETTY_NAME of os-release(5), unquoted; "Linux" when there is none. */
static char *os_pretty_name(void) {
        static const char *const files[] = { "/etc/os-release", "/usr/lib/os-release" };
        for (size_t k = 0; k < ELEMENTSOF(files); k++) {
                _cleanup_free_ char *text = NULL;
                if (read_full_file(files[k], &text, NULL) < 0)
                        continue;
                for (char *line = text, *next; line; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = 0;
                        const char *v = startswith(line, "PRETTY_NAME=");
                        if (!v)
                                continue;
                        size_t n = strlen(v);
                        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
                                return strndup(v + 1, n - 2);
                        return strdup(v);
                }
        }
        return strdup("Linux");
}

static int append_security_options(sd_bus_message *reply) {
        /* Every container gets the default seccomp profile unless asked otherwise, and a cgroup
         * namespace of its own (Docker's names for both). */
        static const char *const options[] = { "name=seccomp,profile=builtin", "name=cgroupns", NULL };
        return sd_bus_message_append_strv(reply, (char **) options);
}

int manager_property_get_host(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        struct utsname u;

        if (streq(property, "SecurityOptions"))
                return append_security_options(reply);
        if (streq(property, "CgroupLayout"))
                return sd_bus_message_append(reply, "s", manager_cgroup_layout());
        if (streq(property, "CgroupVersion"))
                return sd_bus_message_append(reply, "u", streq(manager_cgroup_layout(), "unified") ? 2u : 1u);
        if (streq(property, "CPUs")) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                return sd_bus_message_append(reply, "u", (uint32_t) (n > 0 ? n : 1));
        }
        if (streq(property, "MemoryTotal")) {
                struct sysinfo si;
                uint64_t total = sysinfo(&si) == 0 ? (uint64_t) si.totalram * si.mem_unit : 0;
                return sd_bus_message_append(reply, "t", total);
        }
        if (streq(property, "OperatingSystem")) {
                _cleanup_free_ char *name = os_pretty_name();
                if (!name)
                        return -ENOMEM;
                return sd_bus_message_append(reply, "s", name);
        }
        if (streq(property, "Hostname")) {
                char host[HOST_NAME_MAX + 1] = "";
                (void) gethostname(host, sizeof(host) - 1);
                return sd_bus_message_append(reply, "s", host);
        }
        if (uname(&u) < 0)
                return -errno;
        return sd_bus_message_append(reply, "s", streq(property, "KernelVersion") ? u.release : u.machine);
}
