/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl-bus-errors.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "errors.h"
#include "util.h"

/* Root talks to berthd on its private socket, as systemctl does to PID 1: the same objects and
 * calls without the hops through dbus-daemon. Not there (berthd not running: the system bus
 * activates it), refused, or turned off with BERTH_PRIVATE_BUS=0: the system bus. */
static int open_private_bus(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *address = NULL;
        const char *run = getenv("BERTH_RUN_DIR") ?: BERTH_RUN_DIR, *setting = getenv("BERTH_PRIVATE_BUS");
        int r;

        if (geteuid() != 0 || (setting && streq(setting, "0")))
                return -EPERM;
        if (asprintf(&address, "unix:path=%s/private", run) < 0)
                return -ENOMEM;
        if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, address)) < 0 ||
            (r = sd_bus_negotiate_fds(bus, 1)) < 0 || (r = sd_bus_start(bus)) < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

int ctl_acquire_bus(Ctl *ctl, sd_bus **ret) {
        int r;

        if (ctl->bus) {
                *ret = ctl->bus;
                return 0;
        }
        if (ctl->transport == CTL_TRANSPORT_LOCAL && !ctl->signals && open_private_bus(&ctl->bus) >= 0) {
                *ret = ctl->bus;
                return 0;
        }
        switch (ctl->transport) {
        case CTL_TRANSPORT_REMOTE:
                r = sd_bus_open_system_remote(&ctl->bus, ctl->host);
                break;
        case CTL_TRANSPORT_MACHINE:
                r = sd_bus_open_system_machine(&ctl->bus, ctl->host);
                break;
        default:
                r = sd_bus_default_system(&ctl->bus);
        }
        if (r < 0) {
                if (ctl->transport == CTL_TRANSPORT_LOCAL)
                        return ctl_log_errno(r, "Failed to connect to the system bus: %m");
                return ctl_log_errno(r, "Failed to connect to the system bus of %s: %m", ctl->host);
        }
        *ret = ctl->bus;
        return 0;
}

void ctl_done(Ctl *ctl) {
        if (ctl->bus) {
                sd_bus_flush(ctl->bus);
                ctl->bus = sd_bus_flush_close_unref(ctl->bus);
        }
}

bool ctl_bus_can_pass_fds(sd_bus *bus) {
        return sd_bus_can_send(bus, SD_BUS_TYPE_UNIX_FD) > 0;
}

static int bus_callv(sd_bus *bus, const char *path, const char *interface, const char *member, uint64_t timeout,
                     sd_bus_error *error, sd_bus_message **ret_reply, const char *types, va_list ap) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, path, interface, member);
        if (r < 0)
                return r;
        if (!isempty(types)) {
                r = sd_bus_message_appendv(m, types, ap);
                if (r < 0)
                        return r;
        }
        return sd_bus_call(bus, m, timeout, error, ret_reply);
}

int ctl_bus_call(sd_bus *bus, const char *path, const char *interface, const char *member, uint64_t timeout,
                 sd_bus_error *error, sd_bus_message **ret_reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_callv(bus, path, interface, member, timeout, error, ret_reply, types, ap);
        va_end(ap);
        return r;
}

int ctl_bus_call_manager(sd_bus *bus, const char *member, uint64_t timeout, sd_bus_error *error,
                         sd_bus_message **ret_reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_callv(bus, BERTH_BUS_PATH, BERTH_BUS_MANAGER, member, timeout, error, ret_reply, types, ap);
        va_end(ap);
        return r;
}

static int get_object(sd_bus *bus, const char *method, const char *name, sd_bus_error *error, char **ret_path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        char *p;
        int r;

        r = ctl_bus_call_manager(bus, method, CTL_TIMEOUT_DEFAULT, error, &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        *ret_path = p;
        return 0;
}

int ctl_get_container(sd_bus *bus, const char *name, sd_bus_error *error, char **ret_path) {
        return get_object(bus, "GetContainer", name, error, ret_path);
}

int ctl_get_image(sd_bus *bus, const char *name, sd_bus_error *error, char **ret_path) {
        return get_object(bus, "GetImage", name, error, ret_path);
}

int ctl_object_path_id(const char *path, char **ret_id) {
        const char *slash = strrchr(path, '/');
        char *id;

        if (!slash || isempty(slash + 1))
                return -EINVAL;
        id = strdup(slash + 1);
        if (!id)
                return -ENOMEM;
        *ret_id = id;
        return 0;
}

bool ctl_bus_error_is_not_found(const sd_bus_error *error) {
        return sd_bus_error_has_names(error, BERTH_ERROR_NO_SUCH_CONTAINER, BERTH_ERROR_NO_SUCH_IMAGE,
                                      BERTH_ERROR_NO_SUCH_NETWORK, BERTH_ERROR_INVALID_NAME,
                                      BERTH_ERROR_INVALID_ARGUMENT, SD_BUS_ERROR_UNKNOWN_OBJECT);
}

int ctl_log_bus_error(const sd_bus_error *error, int r) {
        const char *message = error && sd_bus_error_is_set(error) ? error->message : NULL;

        if (r >= 0)
                r = -EIO;
        _cleanup_free_ char *gone = NULL;
        if (ctl_object_gone_message(error, &gone) > 0) {
                ctl_log_error("%s", gone);
                return r;
        }
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                ctl_log_error("Cannot connect to berthd (%s on the system bus). Is berthd running? (%s)",
                              BERTH_BUS_SERVICE, isempty(message) ? error->name : message);
        else if (!isempty(message))
                ctl_log_error("%s", message);
        else if (error && sd_bus_error_is_set(error))
                ctl_log_error("%s", error->name);
        else
                ctl_log_errno(r, "%m");
        return r;
}

int ctl_start_error_exit_status(const sd_bus_error *error) {
        if (sd_bus_error_has_name(error, BERTH_ERROR_EXEC_FAILED))
                return ctl_exec_failed_exit_code(error->message);
        return CTL_EXIT_ENGINE;
}

int ctl_bus_append_dict_option(sd_bus_message *m, const char *key, char **kv) {
        int r;
        if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 || (r = sd_bus_message_append(m, "s", key)) < 0 ||
            (r = sd_bus_message_open_container(m, 'v', "a{ss}")) < 0 ||
            (r = sd_bus_message_open_container(m, 'a', "{ss}")) < 0)
                return r;
        for (char **l = kv; l && *l; l++) {
                _cleanup_free_ char *k = strndup(*l, strcspn(*l, "="));
                if (!k)
                        return -ENOMEM;
                const char *value = (*l)[strlen(k)] == '=' ? *l + strlen(k) + 1 : "";
                if ((r = sd_bus_message_append(m, "{ss}", k, value)) < 0)
                        return r;
        }
        if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0)
                return r;
        return sd_bus_message_close_container(m);
}

int ctl_bus_append_strv_option(sd_bus_message *m, const char *key, char **l) {
        int r;
        if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 || (r = sd_bus_message_append(m, "s", key)) < 0 ||
            (r = sd_bus_message_open_container(m, 'v', "as")) < 0 || (r = sd_bus_message_append_strv(m, l)) < 0 ||
            (r = sd_bus_message_close_container(m)) < 0)
                return r;
        return sd_bus_message_close_container(m);
}
