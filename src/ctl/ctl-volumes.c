/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl volume create|ls|inspect|rm|prune */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-log.h"
#include "ctl-output.h"
#include "ctl.h"
#include "util.h"

static int volume_help(void) {
        printf("Usage: berthctl volume COMMAND\n"
               "\n"
               "Manage volumes (directories under /var/lib/berth/volumes that outlive containers).\n"
               "\n"
               "Commands:\n"
               "  create [NAME]          Create a volume (a random name if none is given)\n"
               "  ls [-q]                List volumes\n"
               "  inspect NAME...        Show volumes as JSON\n"
               "  rm [-f] NAME...        Remove volumes (-f: even if a stopped container refers to it)\n"
               "  prune                  Remove anonymous volumes no container uses\n");
        return 0;
}

static int volume_create(sd_bus *bus, int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name = argc > 1 ? argv[1] : "";
        if (argc > 2) {
                ctl_log_error("\"volume create\" takes at most one name");
                return -EINVAL;
        }
        int r = ctl_bus_call_manager(bus, "CreateVolume", CTL_TIMEOUT_DEFAULT, &error, &reply, "sa{sv}", name, 0);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        const char *path;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply: %m");
        _cleanup_free_ char *created = NULL;
        r = sd_bus_get_property_string(bus, BERTH_BUS_SERVICE, path, "org.berth1.Volume", "Name", &error, &created);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        printf("%s\n", created);
        return 0;
}

static int volume_ls(sd_bus *bus, int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = table_new(2);
        bool quiet = argc > 1 && (streq(argv[1], "-q") || streq(argv[1], "--quiet"));
        const char *name, *driver, *path;
        int r;

        if (!t)
                return ctl_log_errno(-ENOMEM, "%m");
        r = ctl_bus_call_manager(bus, "ListVolumes", CTL_TIMEOUT_DEFAULT, &error, &reply, NULL);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        if (!quiet && (r = table_add_cells(t, "DRIVER", "VOLUME NAME", NULL)) < 0)
                return ctl_log_errno(r, "%m");
        r = sd_bus_message_enter_container(reply, 'a', "(sso)");
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply: %m");
        while ((r = sd_bus_message_read(reply, "(sso)", &name, &driver, &path)) > 0) {
                if (quiet)
                        printf("%s\n", name);
                else if ((r = table_add_cells(t, driver, name, NULL)) < 0)
                        return ctl_log_errno(r, "%m");
        }
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply: %m");
        return quiet ? 0 : table_print(t, stdout);
}

static int volume_inspect_one(sd_bus *bus, const char *name, json_object *array) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *mountpoint = NULL, *created_s = NULL;
        _cleanup_strv_free_ char **used_by = NULL;
        const char *path;
        uint64_t created;
        int r;

        r = ctl_bus_call_manager(bus, "GetVolume", CTL_TIMEOUT_DEFAULT, &error, &reply, "s", name);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        if ((r = sd_bus_message_read(reply, "o", &path)) < 0 ||
            (r = sd_bus_get_property_string(bus, BERTH_BUS_SERVICE, path, "org.berth1.Volume", "Mountpoint", &error,
                                            &mountpoint)) < 0 ||
            (r = sd_bus_get_property_trivial(bus, BERTH_BUS_SERVICE, path, "org.berth1.Volume", "CreatedAt", &error,
                                             't', &created)) < 0 ||
            (r = sd_bus_get_property_strv(bus, BERTH_BUS_SERVICE, path, "org.berth1.Volume", "UsedBy", &error,
                                          &used_by)) < 0)
                return ctl_log_bus_error(&error, r);
        created_s = format_timestamp_rfc3339(created);
        json_object *o = json_object_new_object();
        if (!o || !created_s || json_add(o, "CreatedAt", json_object_new_string(created_s)) < 0 ||
            json_add(o, "Driver", json_object_new_string("local")) < 0 ||
            json_add(o, "Labels", json_object_new_object()) < 0 ||
            json_add(o, "Mountpoint", json_object_new_string(mountpoint)) < 0 ||
            json_add(o, "Name", json_object_new_string(name)) < 0 ||
            json_add(o, "Options", json_object_new_object()) < 0 ||
            json_add(o, "Scope", json_object_new_string("local")) < 0 ||
            json_add(o, "UsedBy", json_strv_new(used_by)) < 0) {
                json_object_put(o);
                return ctl_log_errno(-ENOMEM, "%m");
        }
        json_object_array_add(array, o);
        return 0;
}

static int volume_rm(sd_bus *bus, int argc, char *argv[]) {
        int force = argc > 1 && (streq(argv[1], "-f") || streq(argv[1], "--force")), ret = 0;
        if (argc < 2 + force) {
                ctl_log_error("\"volume rm\" requires at least 1 argument");
                return -EINVAL;
        }
        for (int i = 1 + force; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                int r = ctl_bus_call_manager(bus, "RemoveVolume", CTL_TIMEOUT_LONG, &error, NULL, "sb", argv[i], force);
                if (r < 0)
                        ret = ctl_log_bus_error(&error, r);
                else
                        printf("%s\n", argv[i]);
        }
        return ret;
}

static int volume_prune(sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        int r = ctl_bus_call_manager(bus, "PruneVolumes", CTL_TIMEOUT_LONG, &error, &reply, NULL);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_read_strv(reply, &removed);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply: %m");
        if (strv_length(removed) > 0) {
                printf("Deleted Volumes:\n");
                for (char **n = removed; *n; n++)
                        printf("%s\n", *n);
        }
        return 0;
}

int verb_volume(int argc, char *argv[], Ctl *ctl) {
        sd_bus *bus;
        int r;

        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help"))
                return volume_help();
        const char *sub = argv[1];
        if (!streq(sub, "create") && !streq(sub, "ls") && !streq(sub, "list") && !streq(sub, "inspect") &&
            !streq(sub, "rm") && !streq(sub, "remove") && !streq(sub, "prune")) {
                ctl_log_error("unknown command \"volume %s\" (see 'berthctl volume --help')", sub);
                return -EINVAL;
        }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        argc--, argv++;
        if (streq(sub, "create"))
                return volume_create(bus, argc, argv);
        if (streq(sub, "ls") || streq(sub, "list"))
                return volume_ls(bus, argc, argv);
        if (streq(sub, "rm") || streq(sub, "remove"))
                return volume_rm(bus, argc, argv);
        if (streq(sub, "prune"))
                return volume_prune(bus);
        if (argc < 2) {
                ctl_log_error("\"volume inspect\" requires at least 1 argument");
                return -EINVAL;
        }
        _cleanup_(json_object_putp) json_object *array = json_object_new_array();
        int ret = 0;
        for (int i = 1; i < argc; i++)
                if ((r = volume_inspect_one(bus, argv[i], array)) < 0)
                        ret = r;
        json_print_pretty(array, stdout);
        return ret < 0 ? 1 : 0;
}
