/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image verbs: tag, rmi, history, and "image SUBCOMMAND" (ls, inspect, rm, tag, history, load, save, prune). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

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

/* "busybox" → "busybox:latest"; NULL when ref is no valid reference (an id, say). */
static char *normalize_reference(const char *ref) {
        _cleanup_free_ char *name = NULL, *tag = NULL;
        char *r;

        if (image_reference_parse(ref, &name, &tag) < 0)
                return NULL;
        return asprintf(&r, "%s:%s", name, tag) < 0 ? NULL : r;
}

static bool strv_has(char *const *l, const char *s) {
        for (char *const *i = l; s && i && *i; i++)
                if (streq(*i, s))
                        return true;
        return false;
}

static int simple_help(int argc, char *argv[], const char *verb, const char *help) {
        static const struct option options[] = {
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                case ARG_HELP:
                        fputs(help, stdout);
                        return 0;
                default:
                        return ctl_log_getopt_error(verb, c, argv);
                }
        return 1;
}

int verb_tag(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        sd_bus *bus;
        int r;

        r = simple_help(argc, argv, "tag",
                        "Usage: berthctl tag SOURCE TARGET\n"
                        "\n"
                        "Give the image SOURCE (name[:tag], id or id prefix) the tag TARGET (NAME[:TAG]).\n"
                        "A tag names one image: an image that had TARGET loses it.\n"
                        "\n"
                        "Options:\n"
                        "  -h, --help   Show this help\n");
        if (r <= 0)
                return r;
        if (argc - optind != 2) {
                ctl_log_error(
                        "\"berthctl tag\" requires exactly 2 arguments: SOURCE TARGET (see 'berthctl tag --help')");
                return -EINVAL;
        }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = ctl_get_image(bus, argv[optind], &error, &path);
        if (r >= 0)
                r = ctl_bus_call(bus, path, BERTH_BUS_IMAGE, "Tag", CTL_TIMEOUT_DEFAULT, &error, NULL, "s",
                                 argv[optind + 1]);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        return 0;
}

static int rmi_one(sd_bus *bus, const char *ref, bool force, sd_bus_error *error) {
        _cleanup_free_ char *path = NULL, *tag = NULL;
        _cleanup_(image_info_done) ImageInfo info = {};
        int r;

        r = ctl_get_image(bus, ref, error, &path);
        if (r < 0)
                return r;
        r = image_info_get(bus, path, error, &info);
        if (r < 0)
                return r;
        tag = normalize_reference(ref);
        bool by_tag = strv_has(info.repo_tags, tag);

        /* As Docker: removing one of several tags only untags; an id with several tags needs -f. */
        if (by_tag && strv_length(info.repo_tags) > 1) {
                r = ctl_bus_call(bus, path, BERTH_BUS_IMAGE, "Untag", CTL_TIMEOUT_DEFAULT, error, NULL, "s", tag);
                if (r < 0)
                        return r;
                printf("Untagged: %s\n", tag);
                return 0;
        }
        if (!by_tag && !force && strv_length(info.repo_tags) > 1) {
                ctl_log_error("unable to delete %.12s (must be forced): the image is referenced by %zu tags",
                              image_id_strip(info.id), strv_length(info.repo_tags));
                return -EBUSY;
        }
        r = ctl_bus_call(bus, path, BERTH_BUS_IMAGE, "Remove", CTL_TIMEOUT_LONG, error, NULL, "b", force);
        if (r < 0)
                return r;
        for (char **t = info.repo_tags; t && *t; t++)
                printf("Untagged: %s\n", *t);
        printf("Deleted: sha256:%s\n", image_id_strip(info.id));
        return 0;
}

int verb_rmi(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        bool force = false;
        sd_bus *bus;
        int c, r, ret = 0;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:fh", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        force = true;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl rmi [OPTIONS] IMAGE...\n"
                               "\n"
                               "Remove images, and the layers no other image uses. Naming one of several\n"
                               "tags of an image only removes that tag.\n"
                               "\n"
                               "Options:\n"
                               "  -f, --force   Remove images that stopped containers use, and images\n"
                               "                named by id that have several tags\n"
                               "  -h, --help    Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("rmi", c, argv);
                }
        if (optind >= argc) {
                ctl_log_error("\"berthctl rmi\" requires at least 1 argument (see 'berthctl rmi --help')");
                return -EINVAL;
        }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        for (int k = optind; k < argc; k++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                r = rmi_one(bus, argv[k], force, &error);
                if (r < 0) {
                        if (sd_bus_error_is_set(&error))
                                ctl_log_bus_error(&error, r);
                        if (ret == 0)
                                ret = r;
                }
                fflush(stdout);
        }
        return ret;
}

typedef struct HistoryEntry {
        uint64_t created;
        const char *created_by;
        const char *comment;
        int empty_layer;
} HistoryEntry;

static int read_history(sd_bus_message *m, HistoryEntry **ret, size_t *ret_n) {
        _cleanup_free_ HistoryEntry *h = NULL;
        size_t n = 0;
        HistoryEntry e;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(tssb)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(tssb)", &e.created, &e.created_by, &e.comment, &e.empty_layer)) > 0) {
                HistoryEntry *p = reallocarray(h, n + 1, sizeof(HistoryEntry));
                if (!p)
                        return -ENOMEM;
                h = p;
                h[n++] = e;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        *ret_n = n;
        return 0;
}

static int read_sizes(sd_bus_message *m, uint64_t **ret, size_t *ret_n) {
        const void *p;
        size_t len;
        int r;

        r = sd_bus_message_read_array(m, 't', &p, &len);
        if (r < 0)
                return r;
        *ret = NULL;
        *ret_n = len / sizeof(uint64_t);
        if (len == 0)
                return 0;
        *ret = malloc(len);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, p, len);
        return 0;
}

int verb_history(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "no-trunc", no_argument, NULL, ARG_NO_TRUNC },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *hreply = NULL, *sreply = NULL;
        _cleanup_strv_free_ char **layers = NULL;
        _cleanup_free_ HistoryEntry *history = NULL;
        _cleanup_free_ uint64_t *sizes = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        size_t n_history = 0, n_sizes = 0, n_layers, n_nonempty = 0;
        uint64_t now = now_realtime_usec();
        bool no_trunc = false;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case ARG_NO_TRUNC:
                        no_trunc = true;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl history [OPTIONS] IMAGE\n"
                               "\n"
                               "Show the layers of an image, top layer first: its diff id, when and how it\n"
                               "was made, and its size.\n"
                               "\n"
                               "Options:\n"
                               "      --no-trunc   Print full diff ids and commands\n"
                               "  -h, --help       Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("history", c, argv);
                }
        if (argc - optind != 1) {
                ctl_log_error("\"berthctl history\" requires exactly 1 argument (see 'berthctl history --help')");
                return -EINVAL;
        }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = ctl_get_image(bus, argv[optind], &error, &path);
        if (r >= 0)
                r = sd_bus_get_property_strv(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_IMAGE, "Layers", &error, &layers);
        if (r >= 0)
                r = sd_bus_get_property(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_IMAGE, "LayerSizes", &error, &sreply,
                                        "at");
        if (r >= 0)
                r = sd_bus_get_property(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_IMAGE, "History", &error, &hreply,
                                        "a(tssb)");
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        if ((r = read_sizes(sreply, &sizes, &n_sizes)) < 0 || (r = read_history(hreply, &history, &n_history)) < 0)
                return ctl_log_errno(r, "Failed to parse the image's properties: %m");

        /* The history's entries that made a layer, in order, belong to the layers. */
        n_layers = strv_length(layers);
        for (size_t k = 0; k < n_history; k++)
                n_nonempty += !history[k].empty_layer;

        t = table_new(5);
        if (!t)
                return ctl_log_errno(-ENOMEM, "%m");
        r = table_add_cells(t, "LAYER", "CREATED", "CREATED BY", "SIZE", "COMMENT", NULL);
        size_t h = n_history;
        for (size_t k = n_layers; r >= 0 && k > 0; k--) {
                const HistoryEntry *e = NULL;
                if (n_nonempty == n_layers) {
                        while (h > 0 && history[h - 1].empty_layer)
                                h--;
                        e = h > 0 ? &history[--h] : NULL;
                }
                const char *hex = image_id_strip(layers[k - 1]);
                _cleanup_free_ char *id = no_trunc ? strdup(layers[k - 1]) : strndup(hex, BERTH_SHORT_ID_LEN);
                _cleanup_free_ char *created = e && e->created > 0 ? ctl_format_ago(e->created, now) : strdup("N/A");
                _cleanup_free_ char *by = strdup(e ? e->created_by : "");
                char size[CTL_FORMAT_SIZE_MAX];
                if (!id || !created || !by) {
                        r = -ENOMEM;
                        break;
                }
                if (!no_trunc && ctl_utf8_width(by) > 45)
                        strcpy(by + 42, "...");
                ctl_format_size(k - 1 < n_sizes ? sizes[k - 1] : 0, size);
                r = table_add_cells(t, id, created, by, size, e ? e->comment : "", NULL);
        }
        if (r >= 0)
                r = table_print(t, stdout);
        if (r < 0)
                return ctl_log_errno(r, "Failed to show the history: %m");
        return 0;
}

/* "image SUBCOMMAND": Docker's management command spelling of the image verbs. */
int verb_image(int argc, char *argv[], Ctl *ctl) {
        static const struct {
                const char *name;
                CtlVerbFunc func;
        } table[] = {
                { "ls", verb_images },       { "list", verb_images },       { "inspect", verb_inspect },
                { "rm", verb_rmi },          { "remove", verb_rmi },        { "tag", verb_tag },
                { "history", verb_history }, { "import", verb_import },     { "load", verb_load },
                { "save", verb_save },       { "prune", verb_image_prune }, { "pull", verb_pull },
                { "push", verb_push },
        };

        if (argc < 2 || streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                printf("Usage: berthctl image COMMAND\n"
                       "\n"
                       "Manage images.\n"
                       "\n"
                       "Commands:\n"
                       "  ls        List images (berthctl images)\n"
                       "  inspect   Show images as JSON (berthctl inspect --type=image)\n"
                       "  rm        Remove images (berthctl rmi)\n"
                       "  tag       Tag an image (berthctl tag)\n"
                       "  history   Show the layers of an image (berthctl history)\n"
                       "  import    Import a rootfs tarball (berthctl import)\n"
                       "  load      Load images from an archive (berthctl load)\n"
                       "  save      Save images to an archive (berthctl save)\n"
                       "  prune     Remove unused images\n"
                       "  pull      Download an image from a registry (berthctl pull)\n"
                       "  push      Upload an image to a registry (berthctl push)\n");
                return 0;
        }
        for (size_t k = 0; k < ELEMENTSOF(table); k++) {
                if (!streq(argv[1], table[k].name))
                        continue;
                optind = 0;
                if (table[k].func != verb_inspect)
                        return table[k].func(argc - 1, argv + 1, ctl);
                /* inspect, restricted to images */
                _cleanup_free_ char **args = calloc((size_t) argc + 2, sizeof(char *));
                if (!args)
                        return ctl_log_errno(-ENOMEM, "%m");
                args[0] = argv[1];
                args[1] = (char *) "--type=image";
                for (int i = 2; i < argc; i++)
                        args[i] = argv[i];
                return verb_inspect(argc, args, ctl);
        }
        ctl_log_error("unknown command \"image %s\" (see 'berthctl image --help')", argv[1]);
        return -EINVAL;
}
