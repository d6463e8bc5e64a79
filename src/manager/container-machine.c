/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Registration with systemd-machined, so machinectl list/status/terminate see containers. */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "container.h"
#include "names.h"

/* machined wants host-name-like machine names; Docker names may carry '_' or be longer. */
char *container_machine_name(const Container *c) {
        char *name;
        if (hostname_is_valid(c->name))
                return strdup(c->name);
        return asprintf(&name, "berth-%.12s", c->id) < 0 ? NULL : name;
}

static int on_registered(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        /* Not fatal: containers work without machined, only machinectl does not see them. */
        if (e)
                log_warning("Failed to register container with systemd-machined, ignoring: %s", e->message ?: e->name);
        return 0;
}

int container_register_machine(Container *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *name = container_machine_name(c),
                            *root = manager_state_path(c->manager, "containers/%s/rootfs", c->id);
        uint8_t id[16];
        int r;

        if (!name || !root)
                return -ENOMEM;
        /* The container id's first 128 bits double as its machine id. */
        for (size_t i = 0; i < sizeof(id); i++)
                sscanf(c->id + 2 * i, "%2hhx", &id[i]);
        r = sd_bus_message_new_method_call(c->manager->bus, &m, "org.freedesktop.machine1", "/org/freedesktop/machine1",
                                           "org.freedesktop.machine1.Manager", "RegisterMachineWithNetwork");
        if (r < 0)
                return r;
        if ((r = sd_bus_message_append(m, "s", name)) < 0 ||
            (r = sd_bus_message_append_array(m, 'y', id, sizeof(id))) < 0 ||
            (r = sd_bus_message_append(m, "ssus", "berth", "container", (uint32_t) c->pid, root)) < 0)
                return r;
        /* The host ends of its interfaces: machinectl lists them (it reads the addresses inside). */
        int32_t ifindices[16];
        size_t n = 0;
        for (size_t i = 0; i < c->net.n_endpoints && n < ELEMENTSOF(ifindices); i++) {
                char host_ifname[IF_NAMESIZE];
                if (!c->net.endpoints[i].address)
                        continue;
                snprintf(host_ifname, sizeof(host_ifname), "vb%.10s%x", c->id, c->net.endpoints[i].slot);
                unsigned index = if_nametoindex(host_ifname);
                if (index > 0)
                        ifindices[n++] = (int32_t) index;
        }
        if ((r = sd_bus_message_append_array(m, 'i', ifindices, n * sizeof(int32_t))) < 0)
                return r;
        c->machine_registered = true;
        return sd_bus_call_async(c->manager->bus, NULL, m, on_registered, NULL, 0);
}
