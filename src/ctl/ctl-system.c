/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image prune, system df, system prune. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-objects.h"
#include "ctl-output.h"
#include "ctl.h"
#include "util.h"

/* Docker's confirmation: only "y" or "Y" (then a newline or the end) goes on. */
static bool confirm(const char *warning) {
        char line[64];
        printf("%s\nAre you sure you want to continue? [y/N] ", warning);
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin))
                return false;
        line[strcspn(line, "\r\n")] = 0;
        return streq(line, "y") || streq(line, "Y");
}

/* --filter of the prune verbs: until=TIMESTAMP|DURATION, label=KEY[=VALUE], label!=KEY[=VALUE]. */
static int append_prune_filters(sd_bus_message *m, char **filters) {
        _cleanup_strv_free_ char **labels = NULL, **not_labels = NULL;
        uint64_t until = UINT64_MAX;
        int r;

        for (char **f = filters; f && *f; f++) {
                if (!strncmp(*f, "until=", 6)) {
                        if (ctl_parse_timestamp(*f + 6, now_realtime_usec(), &until) < 0) {
                                ctl_log_error("invalid filter '%s': expected a timestamp or a duration", *f);
                                return -EINVAL;
                        }
                } else if (!strncmp(*f, "label=", 6) || !strncmp(*f, "label!=", 7)) {
                        const char *v = strchr(*f, '=') + 1;
                        if (isempty(v) || *v == '=') {
                                ctl_log_error("invalid filter '%s': expected label=KEY[=VALUE]", *f);
                                return -EINVAL;
                        }
                        if (strv_push((*f)[5] == '!' ? &not_labels : &labels, v) < 0)
                                return -ENOMEM;
                } else {
                        ctl_log_error("invalid filter '%s': expected until=, label= or label!=", *f);
                        return -EINVAL;
                }
        }
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && until != UINT64_MAX)
                r = sd_bus_message_append(m, "{sv}", "until", "t", until);
        if (r >= 0 && labels) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "label");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, labels);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && not_labels) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "label!");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, not_labels);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r < 0 ? ctl_log_errno(r, "Failed to build the request: %m") : 0;
}

/* Manager.PruneImages; prints Docker's "Deleted Images:" block (nothing when none went) and adds
 * the bytes freed to *reclaimed. */
static int prune_images(sd_bus *bus, bool all, char **filters, uint64_t *reclaimed) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *id;
        uint64_t bytes;
        bool any = false;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "PruneImages");
        if (r >= 0)
                r = sd_bus_message_append(m, "b", all);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the request: %m");
        r = append_prune_filters(m, filters);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, CTL_TIMEOUT_LONG, &error, &reply);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_enter_container(reply, 'a', "(sas)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sas")) > 0) {
                _cleanup_strv_free_ char **tags = NULL;
                if ((r = sd_bus_message_read(reply, "s", &id)) < 0 ||
                    (r = sd_bus_message_read_strv(reply, &tags)) < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
                        break;
                if (!any)
                        printf("Deleted Images:\n");
                any = true;
                for (char **t = tags; t && *t; t++)
                        printf("untagged: %s\n", *t);
                printf("deleted: sha256:%s\n", id);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "t", &bytes);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of PruneImages: %m");
        if (any)
                printf("\n");
        *reclaimed += bytes;
        return 0;
}

static void print_reclaimed(uint64_t bytes) {
        char size[CTL_FORMAT_SIZE_MAX];
        printf("Total reclaimed space: %s\n", ctl_format_size(bytes, size));
}

int verb_image_prune(int argc, char *argv[], Ctl *ctl) {
        enum { ARG_HELP = 0x100 };
        static const struct option options[] = {
                { "all", no_argument, NULL, 'a' },
                { "force", no_argument, NULL, 'f' },
                { "filter", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_strv_free_ char **filters = NULL;
        bool all = false, force = false;
        uint64_t reclaimed = 0;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:afh", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        all = true;
                        break;
                case 'f':
                        force = true;
                        break;
                case 'F':
                        if (strv_push(&filters, optarg) < 0)
                                return ctl_log_errno(-ENOMEM, "%m");
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl image prune [OPTIONS]\n"
                               "\n"
                               "Remove untagged images that no container uses (in any state), and the layers\n"
                               "no other image uses.\n"
                               "\n"
                               "Options:\n"
                               "  -a, --all      Remove every image no container uses, tagged or not\n"
                               "      --filter=KEY=VALUE  until=TIMESTAMP|DURATION (created before),\n"
                               "                 label=KEY[=VALUE], label!=KEY[=VALUE]; repeatable\n"
                               "  -f, --force    Do not ask for confirmation\n"
                               "  -h, --help     Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("image prune", c, argv);
                }
        if (optind < argc) {
                ctl_log_error("\"berthctl image prune\" accepts no arguments (see 'berthctl image prune --help')");
                return -EINVAL;
        }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        if (!force &&
            !confirm(all ? "WARNING! This will remove all images without at least one container "
                           "associated to them."
                         : "WARNING! This will remove all dangling images."))
                return 0;
        r = prune_images(bus, all, filters, &reclaimed);
        if (r < 0)
                return r;
        print_reclaimed(reclaimed);
        return 0;
}
