/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl volume create|ls|inspect|rm|prune */
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "ctl-args.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-objects.h"
#include "ctl-output.h"
#include "ctl-template.h"
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
               "  ls [OPTIONS]           List volumes (-q, --filter, --format; see 'volume ls --help')\n"
               "  inspect NAME...        Show volumes as JSON\n"
               "  rm [-f] NAME...        Remove volumes (-f: even if a stopped container refers to it)\n"
               "  prune [OPTIONS]        Remove anonymous volumes no container uses (-a: named ones\n"
               "                         too; -f, --filter; see 'volume prune --help')\n");
        return 0;
}

static int volume_create(sd_bus *bus, int argc, char *argv[]) {
        enum { ARG_LABEL = 0x100, ARG_HELP };
        static const struct option options[] = {
                { "driver", required_argument, NULL, 'd' },
                { "opt", required_argument, NULL, 'o' },
                { "label", required_argument, NULL, ARG_LABEL },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_strv_free_ char **opts = NULL, **labels = NULL;
        const char *driver = NULL;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:d:o:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl volume create [OPTIONS] [VOLUME]\n"
                               "\n"
                               "Create a volume (a random name if none is given) and print its name.\n"
                               "\n"
                               "Options:\n"
                               "  -d, --driver=NAME    Volume driver: local (default) or a volume plugin\n"
                               "      --label=KEY[=VALUE]  Set a label (repeatable)\n"
                               "  -o, --opt=KEY=VALUE  Driver option (repeatable); local knows type, device, o\n"
                               "  -h, --help           Show this help\n");
                        return 0;
                case 'd':
                        driver = optarg;
                        break;
                case 'o':
                        if ((r = ctl_push_kv(&opts, optarg, "driver option")) < 0)
                                return r;
                        break;
                case ARG_LABEL:
                        if ((r = ctl_push_kv(&labels, optarg, "label")) < 0)
                                return r;
                        break;
                default:
                        return ctl_log_getopt_error("volume create", c, argv);
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

/* Docker's volume ls filters: name=REGEX, driver=NAME, label=KEY[=VALUE], dangling=true|false. */
static int check_volume_filter(const char *f) {
        const char *v;
        size_t n;
        if (ctl_split_filter(f, &n, &v) < 0)
                return -EINVAL;
        if (n == 8 && !strncmp(f, "dangling", 8)) {
                if (!streq(v, "true") && !streq(v, "false") && !streq(v, "1") && !streq(v, "0")) {
                        ctl_log_error("invalid filter '%s'", f);
                        return -EINVAL;
                }
                return 0;
        }
        if (n == 4 && !strncmp(f, "name", 4)) {
                regex_t re;
                if (regcomp(&re, v, REG_EXTENDED | REG_NOSUB) != 0) {
                        ctl_log_error("error parsing regexp in filter '%s'", f);
                        return -EINVAL;
                }
                regfree(&re);
                return 0;
        }
        if ((n == 6 && !strncmp(f, "driver", 6)) || (n == 5 && !strncmp(f, "label", 5)))
                return 0;
        ctl_log_error("invalid filter '%.*s'", (int) n, f);
        return -EINVAL;
}

static bool volume_filter_matches(const char *key, const char *value, const void *userdata) {
        const VolumeInfo *v = userdata;
        if (streq(key, "name"))
                return ctl_regex_matches(value, v->name ?: "");
        if (streq(key, "driver"))
                return streq_ptr(v->driver, value);
        if (streq(key, "label"))
                return ctl_labels_match(v->labels, value);
        bool dangling = strv_length(v->used_by) == 0;
        return dangling == (streq(value, "true") || streq(value, "1"));
}

static const char *const volume_filter_keys[] = { "name", "driver", "label", "dangling" };

static const char *const volume_headers[][2] = {
        { "CreatedAt", "CREATED AT" },  { "Driver", "DRIVER" },    { "Labels", "LABELS" }, { "Links", "LINKS" },
        { "Mountpoint", "MOUNTPOINT" }, { "Name", "VOLUME NAME" }, { "Scope", "SCOPE" },   { "Size", "SIZE" },
};

/* One row as the fields of docker volume ls --format. */
static json_object *volume_row(const void *object, bool no_trunc) {
        const VolumeInfo *v = object;
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        _cleanup_free_ char *labels = strv_join(v->labels, ","), *at = ctl_format_go_time(v->created_at), *links = NULL;
        if (!o || !labels || !at || asprintf(&links, "%zu", strv_length(v->used_by)) < 0 ||
            json_add(o, "CreatedAt", json_object_new_string(at)) < 0 ||
            json_add(o, "Driver", json_object_new_string(v->driver ?: "")) < 0 ||
            json_add(o, "Labels", json_object_new_string(labels)) < 0 ||
            json_add(o, "Links", json_object_new_string(links)) < 0 ||
            json_add(o, "Mountpoint", json_object_new_string(v->mountpoint ?: "")) < 0 ||
            json_add(o, "Name", json_object_new_string(v->name ?: "")) < 0 ||
            json_add(o, "Scope", json_object_new_string("local")) < 0 ||
            json_add(o, "Size", json_object_new_string("N/A")) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* Docker lists volumes by name. */
static int compare_volume_names(const void *a, const void *b) {
        return strcmp(((const VolumeInfo *) a)->name ?: "", ((const VolumeInfo *) b)->name ?: "");
}

static void volume_print_name(const void *object, bool no_trunc) {
        printf("%s\n", ((const VolumeInfo *) object)->name);
}

static const CtlListing volume_listing = {
        .size = sizeof(VolumeInfo),
        .filter_keys = volume_filter_keys,
        .n_filter_keys = ELEMENTSOF(volume_filter_keys),
        .match = volume_filter_matches,
        .print_quiet = volume_print_name,
        .row = volume_row,
        .default_table = "{{.Driver}}\t{{.Name}}",
        .headers = volume_headers,
        .n_headers = ELEMENTSOF(volume_headers),
        .what = "volumes",
};

static int volume_ls(sd_bus *bus, int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_list_args_done) CtlListArgs a = {};
        VolumeInfo *list = NULL;
        size_t n = 0;
        int r;

        r = ctl_parse_list_args(argc, argv, "volume ls",
                                "Usage: berthctl volume ls [OPTIONS]\n"
                                "\n"
                                "List volumes.\n"
                                "\n"
                                "Options:\n"
                                "  -f, --filter=KEY=VALUE  name=REGEX, driver=NAME, label=KEY[=VALUE],\n"
                                "                   dangling=true|false (used by no container); repeatable\n"
                                "      --format=TMPL  A Go template over Name, Driver, Scope, Mountpoint,\n"
                                "                   Labels, Links, Size, CreatedAt; \"table TMPL\" aligns it\n"
                                "                   under a header, \"json\" prints each line as JSON\n"
                                "  -q, --quiet      Only print volume names\n"
                                "  -h, --help       Show this help\n",
                                check_volume_filter, false, &a);
        if (r <= 0)
                return r;
        r = volume_list_fetch(bus, &error, &list, &n);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        qsort(list, n, sizeof(VolumeInfo), compare_volume_names);
        r = ctl_list_objects(&volume_listing, list, n, &a);
        for (size_t k = 0; k < n; k++)
                volume_info_done(&list[k]);
        free(list);
        return r;
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

static int volume_inspect(sd_bus *bus, int argc, char *argv[]) {
        enum { ARG_HELP = 0x100 };
        static const struct option options[] = {
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(json_object_putp) json_object *array = json_object_new_array();
        const char *format = NULL;
        int c, r, ret = 0;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":f:h", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        format = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl volume inspect [OPTIONS] VOLUME...\n"
                               "\n"
                               "Show volumes as JSON.\n"
                               "\n"
                               "Options:\n"
                               "  -f, --format=TMPL  Print TMPL per volume, e.g. '{{.Mountpoint}}'; 'json'\n"
                               "                     prints each as one line of JSON\n"
                               "  -h, --help         Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("volume inspect", c, argv);
                }
        if (ctl_check_some_args("volume inspect", argc) < 0)
                return -EINVAL;
        if (!array)
                return ctl_log_errno(-ENOMEM, "%m");
        for (int i = optind; i < argc; i++)
                if ((r = volume_inspect_one(bus, argv[i], array)) < 0)
                        ret = r;
        r = ctl_print_inspect(array, format);
        if (r < 0)
                return r;
        return ret < 0 ? 1 : 0;
}

static int volume_rm(sd_bus *bus, int argc, char *argv[]) {
        enum { ARG_HELP = 0x100 };
        static const struct option options[] = {
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int force = 0, ret = 0, c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:fh", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        force = 1;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl volume rm [OPTIONS] VOLUME...\n"
                               "\n"
                               "Remove volumes.\n"
                               "\n"
                               "Options:\n"
                               "  -f, --force   Even if a stopped container refers to it (never while one that\n"
                               "                runs has it mounted)\n"
                               "  -h, --help    Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("volume rm", c, argv);
                }
        if (optind >= argc) {
                ctl_log_error("\"volume rm\" requires at least 1 argument");
                return -EINVAL;
        }
        for (int i = optind; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                int r = ctl_bus_call_manager(bus, "RemoveVolume", CTL_TIMEOUT_LONG, &error, NULL, "sb", argv[i], force);
                if (r < 0)
                        ret = ctl_log_bus_error(&error, r);
                else
                        printf("%s\n", argv[i]);
        }
        return ret;
}

/* The bytes in each local volume (GetDiskUsage's last array), for what a prune frees. Names point
 * into *ret_reply. */
static int volume_sizes(sd_bus *bus, sd_bus_message **ret_reply, char ***ret_names, uint64_t **ret_sizes,
                        size_t *ret_n) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char **names = NULL;
        _cleanup_free_ uint64_t *sizes = NULL;
        size_t n = 0;
        int r = ctl_bus_call_manager(bus, "GetDiskUsage", CTL_TIMEOUT_LONG, &error, &reply, NULL);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_skip(reply, "tta(sttu)a(stu)");
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(sut)");
        for (;;) {
                const char *name;
                uint32_t links;
                uint64_t size;
                if (r < 0 || (r = sd_bus_message_read(reply, "(sut)", &name, &links, &size)) <= 0)
                        break;
                char **nn = reallocarray(names, n + 1, sizeof(char *));
                if (nn)
                        names = nn;
                uint64_t *ss = nn ? reallocarray(sizes, n + 1, sizeof(uint64_t)) : NULL;
                if (!ss)
                        return ctl_log_errno(-ENOMEM, "%m");
                sizes = ss;
                names[n] = (char *) name;
                sizes[n++] = size;
        }
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of GetDiskUsage: %m");
        *ret_reply = TAKE_PTR(reply);
        *ret_names = TAKE_PTR(names);
        *ret_sizes = TAKE_PTR(sizes);
        *ret_n = n;
        return 0;
}

/* --filter of volume prune: label=KEY[=VALUE], label!=KEY[=VALUE], all=true|false (as -a). */
static int append_volume_prune_filters(sd_bus_message *m, char **filters, bool *all) {
        _cleanup_strv_free_ char **labels = NULL, **not_labels = NULL;
        int r;
        for (char **f = filters; f && *f; f++) {
                const char *v;
                if ((v = startswith(*f, "all="))) {
                        if (!streq(v, "true") && !streq(v, "false") && !streq(v, "1") && !streq(v, "0")) {
                                ctl_log_error("invalid filter '%s'", *f);
                                return -EINVAL;
                        }
                        *all = *all || streq(v, "true") || streq(v, "1");
                        continue;
                }
                bool negate = startswith(*f, "label!=");
                v = negate ? *f + 7 : startswith(*f, "label=");
                if (!v) {
                        const char *eq = strchr(*f, '=');
                        ctl_log_error("invalid filter '%.*s'", eq ? (int) (eq - *f) : (int) strlen(*f), *f);
                        return -EINVAL;
                }
                if (isempty(v) || *v == '=') {
                        ctl_log_error("invalid filter '%s': expected label=KEY[=VALUE]", *f);
                        return -EINVAL;
                }
                if (strv_push(negate ? &not_labels : &labels, v) < 0)
                        return ctl_log_errno(-ENOMEM, "%m");
        }
        r = sd_bus_message_append(m, "b", *all);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = ctl_append_label_filters(m, labels, not_labels);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the request: %m");
        return 0;
}

static int volume_prune(sd_bus *bus, int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL, *usage = NULL;
        _cleanup_(ctl_prune_args_done) CtlPruneArgs a = {};
        _cleanup_strv_free_ char **removed = NULL;
        _cleanup_free_ char **names = NULL;
        _cleanup_free_ uint64_t *sizes = NULL;
        uint64_t reclaimed = 0;
        size_t n_sizes = 0;
        char size[CTL_FORMAT_SIZE_MAX];
        int r;

        r = ctl_parse_prune_args(argc, argv, "volume prune",
                                 "Usage: berthctl volume prune [OPTIONS]\n"
                                 "\n"
                                 "Remove the anonymous volumes no container uses (with -a named ones too).\n"
                                 "\n"
                                 "Options:\n"
                                 "  -a, --all      Remove every volume no container uses, named or anonymous\n"
                                 "      --filter=KEY=VALUE  label=KEY[=VALUE], label!=KEY[=VALUE], all=true;\n"
                                 "                 repeatable\n"
                                 "  -f, --force    Do not ask for confirmation\n"
                                 "  -h, --help     Show this help\n",
                                 CTL_PRUNE_ALL, &a);
        if (r <= 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "PruneVolumesWithFilters");
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the request: %m");
        r = append_volume_prune_filters(m, a.filters, &a.all);
        if (r < 0)
                return r;
        if (!a.force &&
            !ctl_confirm(a.all ? "WARNING! This will remove all local volumes not used by at least one "
                                 "container."
                               : "WARNING! This will remove anonymous local volumes not used by at least "
                                 "one container."))
                return 0;
        r = volume_sizes(bus, &usage, &names, &sizes, &n_sizes);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, CTL_TIMEOUT_LONG, &error, &reply);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_read_strv(reply, &removed);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply: %m");
        ctl_print_deleted("Deleted Volumes:", removed);
        for (char **n = removed; n && *n; n++)
                for (size_t k = 0; k < n_sizes; k++)
                        if (streq(names[k], *n))
                                reclaimed += sizes[k];
        printf("Total reclaimed space: %s\n", ctl_format_size(reclaimed, size));
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
        /* --help needs no berthd: the subcommand prints it before it uses the bus. */
        bool help = false;
        for (int i = 2; i < argc && !streq(argv[i], "--"); i++)
                help = help || streq(argv[i], "--help") || streq(argv[i], "-h");
        bus = NULL;
        if (!help && (r = ctl_acquire_bus(ctl, &bus)) < 0)
                return r;
        argc--, argv++;
        if (streq(sub, "create"))
                return volume_create(bus, argc, argv);
        if (streq(sub, "ls") || streq(sub, "list"))
                return volume_ls(bus, argc, argv);
        if (streq(sub, "rm") || streq(sub, "remove"))
                return volume_rm(bus, argc, argv);
        if (streq(sub, "prune"))
                return volume_prune(bus, argc, argv);
        return volume_inspect(bus, argc, argv);
}
