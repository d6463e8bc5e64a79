/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl volume create|ls|inspect|rm|prune */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-log.h"
#include "ctl-objects.h"
#include "ctl-output.h"
#include "ctl.h"
#include "util.h"

static int volume_help(void) {
        printf("Usage: berthctl volume COMMAND\n"
               "\n"
               "Manage volumes (directories under /var/lib/berth/volumes that outlive containers).\n"
               "\n"
               "Commands:\n"
               "  create [OPTIONS] [NAME] Create a volume (a random name if none is given)\n"
               "      -d, --driver=NAME    Volume driver: local (default) or a volume plugin\n"
               "      -o, --opt=KEY=VALUE  Driver option (repeatable); local knows type, device and o\n"
               "      --label=KEY[=VALUE]  Set a label (repeatable)\n"
               "  ls [-q]                List volumes\n"
               "  inspect NAME...        Show volumes as JSON\n"
               "  rm [-f] NAME...        Remove volumes (-f: even if a stopped container refers to it)\n"
               "  prune                  Remove anonymous volumes no container uses\n");
        return 0;
}

static int push_kv(char ***l, const char *arg, const char *what) {
        if (isempty(arg) || arg[0] == '=') {
                ctl_log_error("invalid %s \"%s\": expected KEY[=VALUE]", what, arg);
                return -EINVAL;
        }
        int r = strv_push(l, arg);
        return r < 0 ? ctl_log_errno(r, "%m") : 0;
}

static int volume_create(sd_bus *bus, int argc, char *argv[]) {
        enum { ARG_LABEL = 0x100 };
        static const struct option options[] = {
                { "driver", required_argument, NULL, 'd' },
                { "opt", required_argument, NULL, 'o' },
                { "label", required_argument, NULL, ARG_LABEL },
                {},
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_strv_free_ char **opts = NULL, **labels = NULL;
        const char *driver = NULL;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+d:o:", options, NULL)) >= 0)
                switch (c) {
                case 'd':
                        driver = optarg;
                        break;
                case 'o':
                        if ((r = push_kv(&opts, optarg, "driver option")) < 0)
                                return r;
                        break;
                case ARG_LABEL:
                        if ((r = push_kv(&labels, optarg, "label")) < 0)
                                return r;
                        break;
                default:
                        return -EINVAL;
                }
        if (argc - optind > 1) {
                ctl_log_error("\"volume create\" takes at most one name");
                return -EINVAL;
        }
        const char *name = optind < argc ? argv[optind] : "";
        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "CreateVolume");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && driver)
                r = sd_bus_message_append(m, "{sv}", "Driver", "s", driver);
        if (r >= 0 && labels)
                r = ctl_bus_append_dict_option(m, "Labels", labels);
        if (r >= 0 && opts)
                r = ctl_bus_append_dict_option(m, "Options", opts);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the call: %m");
        r = sd_bus_call(bus, m, CTL_TIMEOUT_DEFAULT, &error, &reply);
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

static json_object *kv_to_json(char **kv) {
        json_object *o = json_object_new_object();
        for (char **l = kv; o && l && *l; l++) {
                const char *eq = strchr(*l, '=');
                _cleanup_free_ char *k = strndup(*l, eq ? (size_t) (eq - *l) : strlen(*l));
                if (!k) {
                        json_object_put(o);
                        return NULL;
                }
                json_object_object_add(o, k, json_object_new_string(eq ? eq + 1 : ""));
        }
        return o;
}

static int volume_inspect_one(sd_bus *bus, const char *name, json_object *array) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(volume_info_done) VolumeInfo v = {};
        _cleanup_free_ char *created_s = NULL;
        const char *path;
        int r;

        r = ctl_bus_call_manager(bus, "GetVolume", CTL_TIMEOUT_DEFAULT, &error, &reply, "s", name);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        if ((r = sd_bus_message_read(reply, "o", &path)) < 0 || (r = volume_info_get(bus, path, &error, &v)) < 0)
                return ctl_log_bus_error(&error, r);
        created_s = format_timestamp_rfc3339(v.created_at);
        json_object *o = json_object_new_object();
        if (!o || !created_s || json_add(o, "CreatedAt", json_object_new_string(created_s)) < 0 ||
            json_add(o, "Driver", json_object_new_string(v.driver ?: "")) < 0 ||
            json_add(o, "Labels", kv_to_json(v.labels)) < 0 ||
            json_add(o, "Mountpoint", json_object_new_string(v.mountpoint ?: "")) < 0 ||
            json_add(o, "Name", json_object_new_string(v.name ?: name)) < 0 ||
            (v.options ? json_add(o, "Options", kv_to_json(v.options)) : json_add_null(o, "Options")) < 0 ||
            json_add(o, "Scope", json_object_new_string("local")) < 0 ||
            json_add(o, "UsedBy", json_strv_new(v.used_by)) < 0) {
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
