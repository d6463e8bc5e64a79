/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image archive verbs: load (docker-archive or OCI archive in), save (out). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl-bus.h"
#include "ctl-log.h"
#include "ctl-output.h"
#include "ctl-objects.h"
#include "ctl.h"
#include "util.h"

enum {
        ARG_FORMAT = 0x100,
        ARG_HELP,
        ARG_COMPRESSION,
};

static int need_fd_passing(sd_bus *bus, const char *verb) {
        if (ctl_bus_can_pass_fds(bus))
                return 0;
        ctl_log_error("This connection cannot pass file descriptors (as with -H), so %s cannot work over it", verb);
        return -EOPNOTSUPP;
}

static int print_loaded(sd_bus *bus, const char *path, bool quiet) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(image_info_done) ImageInfo info = {};
        int r;

        r = image_info_get(bus, path, &error, &info);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        if (quiet || strv_length(info.repo_tags) == 0) {
                printf("Loaded image ID: sha256:%s\n", image_id_strip(info.id));
                return 0;
        }
        for (char **t = info.repo_tags; *t; t++)
                printf("Loaded image: %s\n", *t);
        return 0;
}

int verb_load(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "input", required_argument, NULL, 'i' },
                { "quiet", no_argument, NULL, 'q' },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int fd = -1;
        const char *input = NULL, *format = "", *path;
        bool quiet = false;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:i:qh", options, NULL)) >= 0)
                switch (c) {
                case 'i':
                        input = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case ARG_FORMAT:
                        format = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl load [OPTIONS]\n"
                               "\n"
                               "Load images from an archive as \"docker save\" or \"podman save\" write it: a\n"
                               "docker-archive or an OCI image layout (oci-archive), optionally compressed.\n"
                               "\n"
                               "Options:\n"
                               "  -i, --input=FILE      Read from FILE instead of standard input\n"
                               "      --format=FORMAT   docker-archive or oci-archive (default: detect)\n"
                               "  -q, --quiet           Only print the ids of the loaded images\n"
                               "  -h, --help            Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("load", c, argv);
                }
        if (optind < argc) {
                ctl_log_error("\"berthctl load\" accepts no arguments (see 'berthctl load --help')");
                return -EINVAL;
        }
        if (!input || streq(input, "-")) {
                if (isatty(STDIN_FILENO)) {
                        ctl_log_error("requested load from stdin, but stdin is a terminal; use -i or redirect it");
                        return -EINVAL;
                }
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        } else
                fd = open(input, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return ctl_log_errno(errno, "Failed to open %s: %m", input ? input : "standard input");

        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = need_fd_passing(bus, "load");
        if (r < 0)
                return r;
        r = ctl_bus_call_manager(bus, "LoadImage", CTL_TIMEOUT_INFINITE, &error, &reply, "hs", fd, format);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_enter_container(reply, 'a', "o");
        while (r >= 0 && (r = sd_bus_message_read(reply, "o", &path)) > 0) {
                r = print_loaded(bus, path, quiet);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of LoadImage: %m");
        return 0;
}

int verb_save(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "output", required_argument, NULL, 'o' },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "compression", required_argument, NULL, ARG_COMPRESSION },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int fd = -1;
        const char *output = NULL, *format = "docker-archive", *compression = NULL;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:o:h", options, NULL)) >= 0)
                switch (c) {
                case 'o':
                        output = optarg;
                        break;
                case ARG_FORMAT:
                        format = optarg;
                        break;
                case ARG_COMPRESSION:
                        compression = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl save [OPTIONS] IMAGE...\n"
                               "\n"
                               "Write images, with their tags and layers, as a tar archive that \"docker load\"\n"
                               "and \"podman load\" read.\n"
                               "\n"
                               "Options:\n"
                               "  -o, --output=FILE     Write to FILE instead of standard output\n"
                               "      --format=FORMAT   docker-archive (default) or oci-archive\n"
                               "      --compression=ALG\n"
                               "                        Layers of an oci-archive: gzip (default), zstd or\n"
                               "                        none; a docker-archive's are never compressed\n"
                               "  -h, --help            Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("save", c, argv);
                }
        if (optind >= argc) {
                ctl_log_error("\"berthctl save\" requires at least 1 argument (see 'berthctl save --help')");
                return -EINVAL;
        }
        if (!streq(format, "docker-archive") && !streq(format, "oci-archive")) {
                ctl_log_error("invalid --format \"%s\": expected docker-archive or oci-archive", format);
                return -EINVAL;
        }
        fd = ctl_open_archive_output(output);
        if (fd < 0)
                return fd;

        r = ctl_acquire_bus(ctl, &bus);
        if (r >= 0)
                r = need_fd_passing(bus, "save");
        if (r < 0)
                goto fail;
        /* The plain method unless an option needs the new one: older daemons know only that. */
        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           compression ? "SaveImagesWithOptions" : "SaveImages");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv + optind);
        if (r >= 0)
                r = sd_bus_message_append(m, "sh", format, fd);
        if (r >= 0 && compression)
                r = sd_bus_message_append(m, "a{sv}", 1, "Compression", "s", compression);
        if (r < 0) {
                ctl_log_errno(r, "Failed to build the SaveImages call: %m");
                goto fail;
        }
        r = sd_bus_call(bus, m, CTL_TIMEOUT_INFINITE, &error, NULL);
        if (r < 0) {
                ctl_log_bus_error(&error, r);
                goto fail;
        }
        return 0;
fail:
        if (output && !streq(output, "-"))
                (void) unlink(output);
        return r;
}
