/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image verbs: import, images. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-objects.h"
#include "ctl-output.h"
#include "ctl.h"
#include "names.h"
#include "util.h"

enum {
        ARG_NO_TRUNC = 0x100,
        ARG_HELP,
};

int verb_import(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *id = NULL;
        const char *file, *reference, *path;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl import FILE|- NAME[:TAG]\n"
                               "\n"
                               "Import a root file system tarball (optionally compressed) as a one-layer\n"
                               "image tagged NAME:TAG (TAG defaults to \"latest\"), and print its id.\n"
                               "\"-\" reads the tarball from standard input.\n"
                               "\n"
                               "Options:\n"
                               "  -h, --help   Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("import", c, argv);
                }
        if (argc - optind != 2) {
                ctl_log_error("\"berthctl import\" requires exactly 2 arguments: FILE|- NAME[:TAG] "
                              "(see 'berthctl import --help')");
                return -EINVAL;
        }
        file = argv[optind];
        reference = argv[optind + 1];
        if (image_reference_parse(reference, NULL, NULL) < 0) {
                ctl_log_error("invalid reference format \"%s\": repository names must be lowercase", reference);
                return -EINVAL;
        }

        if (streq(file, "-")) {
                if (isatty(STDIN_FILENO)) {
                        ctl_log_error("refusing to read a tarball from a terminal; redirect standard input");
                        return -EINVAL;
                }
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        } else
                fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return ctl_log_errno(errno, "Failed to open %s: %m", streq(file, "-") ? "standard input" : file);

        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        if (!ctl_bus_can_pass_fds(bus)) {
                ctl_log_error("This connection cannot pass file descriptors (as with -H), so import cannot work "
                              "over it");
                return -EOPNOTSUPP;
        }
        /* Unpacking and hashing a large tarball takes as long as it takes. */
        r = ctl_bus_call_manager(bus, "ImportImage", CTL_TIMEOUT_INFINITE, &error, &reply, "hs", fd, reference);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of ImportImage: %m");
        r = ctl_object_path_id(path, &id);
        if (r < 0)
                return ctl_log_errno(r, "Unexpected image object path \"%s\"", path);
        printf("%s\n", id);
        return 0;
}

typedef struct ImagesArgs {
        bool quiet;
        bool no_trunc;
} ImagesArgs;

static int parse_images_argv(int argc, char *argv[], ImagesArgs *a) {
        static const struct option options[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, ARG_NO_TRUNC },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int c;

        *a = (ImagesArgs){};
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:qh", options, NULL)) >= 0)
                switch (c) {
                case 'q':
                        a->quiet = true;
                        break;
                case ARG_NO_TRUNC:
                        a->no_trunc = true;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl images [OPTIONS]\n"
                               "\n"
                               "List images, newest first, one line per tag.\n"
                               "\n"
                               "Options:\n"
                               "  -q, --quiet      Only print image ids\n"
                               "      --no-trunc   Print full ids (\"sha256:<64 hex>\")\n"
                               "  -h, --help       Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("images", c, argv);
                }
        if (optind < argc) {
                ctl_log_error("\"berthctl images\" accepts no arguments (see 'berthctl images --help')");
                return -EINVAL;
        }
        return 1;
}

static int compare_images(const void *a, const void *b) {
        const ImageInfo *x = *(const ImageInfo *const *) a, *y = *(const ImageInfo *const *) b;

        if (x->created != y->created)
                return x->created > y->created ? -1 : 1;
        return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

/* "sha256:<hex>" with --no-trunc, else 12 hex digits. */
static char *format_image_id(const char *id, bool no_trunc) {
        const char *hex = image_id_strip(id ? id : "");
        char *r;

        if (!no_trunc)
                return strndup(hex, BERTH_SHORT_ID_LEN);
        if (asprintf(&r, "sha256:%s", hex) < 0)
                return NULL;
        return r;
}

/* "name:tag" → the two columns; the tag is after the last ':' following the last '/'. */
static int split_repo_tag(const char *ref, char **ret_repo, char **ret_tag) {
        const char *slash = strrchr(ref, '/');
        const char *colon = strrchr(slash ? slash : ref, ':');

        *ret_repo = colon ? strndup(ref, (size_t) (colon - ref)) : strdup(ref);
        *ret_tag = strdup(colon ? colon + 1 : "<none>");
        return *ret_repo && *ret_tag ? 0 : -ENOMEM;
}

static int add_image_rows(Table *t, const ImageInfo *image, const ImagesArgs *a, uint64_t now) {
        _cleanup_free_ char *id = format_image_id(image->id, a->no_trunc);
        _cleanup_free_ char *created = ctl_format_ago(image->created, now);
        char size[CTL_FORMAT_SIZE_MAX];
        int r;

        if (!id || !created)
                return -ENOMEM;
        ctl_format_size(image->size, size);
        if (strv_length(image->repo_tags) == 0)
                return table_add_cells(t, "<none>", "<none>", id, created, size, NULL);
        for (char **tag = image->repo_tags; *tag; tag++) {
                _cleanup_free_ char *repo = NULL, *tagname = NULL;
                r = split_repo_tag(*tag, &repo, &tagname);
                if (r >= 0)
                        r = table_add_cells(t, repo, tagname, id, created, size, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

int verb_images(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList objects = {};
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_free_ const ImageInfo **list = NULL;
        uint64_t now = now_realtime_usec();
        ImagesArgs a;
        sd_bus *bus;
        int r;

        r = parse_images_argv(argc, argv, &a);
        if (r <= 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = object_list_fetch(bus, &error, &objects);
        if (r < 0)
                return ctl_log_bus_error(&error, r);

        list = calloc(objects.n_images + 1, sizeof(ImageInfo *));
        if (!list)
                return ctl_log_errno(-ENOMEM, "%m");
        for (size_t i = 0; i < objects.n_images; i++)
                list[i] = &objects.images[i];
        qsort(list, objects.n_images, sizeof(ImageInfo *), compare_images);

        if (a.quiet) {
                for (size_t i = 0; i < objects.n_images; i++) {
                        _cleanup_free_ char *id = format_image_id(list[i]->id, a.no_trunc);
                        if (!id)
                                return ctl_log_errno(-ENOMEM, "%m");
                        printf("%s\n", id);
                }
                return 0;
        }

        t = table_new(5);
        if (!t)
                return ctl_log_errno(-ENOMEM, "%m");
        r = table_add_cells(t, "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", NULL);
        for (size_t i = 0; r >= 0 && i < objects.n_images; i++)
                r = add_image_rows(t, list[i], &a, now);
        if (r >= 0)
                r = table_print(t, stdout);
        if (r < 0)
                return ctl_log_errno(r, "Failed to show the images: %m");
        return 0;
}
