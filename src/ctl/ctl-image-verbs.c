/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image verbs: tag, rmi, history, and "image SUBCOMMAND" (ls, inspect, rm, tag, history, load, save, prune). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl-args.h"
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
        bool force = false;
        const CtlOption options[] = { { "force", 'f', .flag = &force } };
        sd_bus *bus;
        int r, ret = 0;

        r = ctl_parse_options(argc, argv, "rmi",
                              "Usage: berthctl rmi [OPTIONS] IMAGE...\n"
                              "\n"
                              "Remove images, and the layers no other image uses. Naming one of several\n"
                              "tags of an image only removes that tag.\n"
                              "\n"
                              "Options:\n"
                              "  -f, --force   Remove images that stopped containers use, and images\n"
                              "                named by id that have several tags\n"
                              "  -h, --help    Show this help\n",
                              options, ELEMENTSOF(options), CTL_ARGS_SOME);
        if (r <= 0)
                return r;
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

typedef struct HistoryArgs {
        bool no_trunc, quiet, human;
        const char *format;
        const char *image;
} HistoryArgs;

static int parse_history_argv(int argc, char *argv[], HistoryArgs *a) {
        enum { ARG_FORMAT = ARG_HELP + 1 };
        static const struct option options[] = {
                { "no-trunc", no_argument, NULL, ARG_NO_TRUNC }, { "quiet", no_argument, NULL, 'q' },
                { "human", optional_argument, NULL, 'H' },       { "format", required_argument, NULL, ARG_FORMAT },
                { "help", no_argument, NULL, ARG_HELP },         {},
        };
        int c;

        *a = (HistoryArgs){ .human = true };
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":qH::h", options, NULL)) >= 0)
                switch (c) {
                case ARG_NO_TRUNC:
                        a->no_trunc = true;
                        break;
                case 'q':
                        a->quiet = true;
                        break;
                case 'H': {
                        /* -H, -H=false, --human=false, as Go's boolean flags */
                        const char *v = optarg ? optarg + (optarg[0] == '=') : "true";
                        if (!streq(v, "true") && !streq(v, "false") && !streq(v, "1") && !streq(v, "0")) {
                                ctl_log_error("invalid argument \"%s\" for \"-H, --human\" flag: strconv.ParseBool: "
                                              "parsing \"%s\": invalid syntax",
                                              v, v);
                                return -EINVAL;
                        }
                        a->human = streq(v, "true") || streq(v, "1");
                        break;
                }
                case ARG_FORMAT:
                        a->format = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl history [OPTIONS] IMAGE\n"
                               "\n"
                               "Show the layers of an image, top layer first: its diff id, when and how it\n"
                               "was made, and its size.\n"
                               "\n"
                               "Options:\n"
                               "      --format=TMPL  A Go template over ID, CreatedSince, CreatedAt, CreatedBy,\n"
                               "                   Size, Comment; \"table TMPL\" aligns it under a header,\n"
                               "                   \"json\" prints each line as JSON\n"
                               "  -H, --human[=false]  Sizes and dates for people (default); -H=false prints\n"
                               "                   bytes and RFC 3339 times\n"
                               "      --no-trunc   Print full diff ids and commands\n"
                               "  -q, --quiet      Only print the layers' ids\n"
                               "  -h, --help       Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("history", c, argv);
                }
        if (argc - optind != 1) {
                ctl_log_error("\"berthctl history\" requires exactly 1 argument (see 'berthctl history --help')");
                return -EINVAL;
        }
        a->image = argv[optind];
        return 1;
}

static const char *const history_headers[][2] = {
        { "Comment", "COMMENT" },
        { "CreatedAt", "CREATED AT" },
        { "CreatedBy", "CREATED BY" },
        { "CreatedSince", "CREATED" },
        { "ID", "LAYER" },
        { "Size", "SIZE" },
};

/* One layer as the fields of docker history --format. */
static json_object *history_row(const char *layer, const HistoryEntry *e, uint64_t size, const HistoryArgs *a,
                                uint64_t now) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        const char *hex = image_id_strip(layer);
        bool known = e && e->created > 0;
        _cleanup_free_ char *id = a->no_trunc ? strdup(layer) : strndup(hex, BERTH_SHORT_ID_LEN),
                            *since = known ? ctl_format_ago(e->created, now) : strdup("N/A"),
                            *at = known
                ? (a->human ? ctl_format_go_time(e->created) : format_timestamp_rfc3339(e->created))
                : strdup("N/A"),
                            *by = strdup(e ? e->created_by : ""), *bytes = NULL;
        char human[CTL_FORMAT_SIZE_MAX];

        if (!o || !id || !since || !at || !by || asprintf(&bytes, "%" PRIu64, size) < 0)
                return NULL;
        if (!a->no_trunc && ctl_utf8_width(by) > 45)
                strcpy(by + 42, "...");
        if (json_add(o, "Comment", json_object_new_string(e ? e->comment : "")) < 0 ||
            json_add(o, "CreatedAt", json_object_new_string(at)) < 0 ||
            json_add(o, "CreatedBy", json_object_new_string(by)) < 0 ||
            json_add(o, "CreatedSince", json_object_new_string(a->human ? since : at)) < 0 ||
            json_add(o, "ID", json_object_new_string(id)) < 0 ||
            json_add(o, "Size", json_object_new_string(a->human ? ctl_format_size(size, human) : bytes)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* Each layer, top first, with the history entry that made it (when the entries that made layers
 * are as many as the layers), and between them the entries that made no layer (a Dockerfile's
 * ENV, CMD, ...) as rows of their own, "<missing>" and 0 bytes, as docker history shows them. */
static int print_history(char **layers, const uint64_t *sizes, size_t n_sizes, const HistoryEntry *history,
                         size_t n_history, const HistoryArgs *a) {
        _cleanup_(json_object_putp) json_object *headers = json_object_new_object();
        size_t n_layers = strv_length(layers), n_nonempty = 0, h = n_history, n_rows = 0;
        _cleanup_free_ json_object **rows = calloc(n_layers + n_history + 1, sizeof(json_object *));
        _cleanup_free_ char *why = NULL;
        uint64_t now = now_realtime_usec();
        int r = rows && headers ? 0 : -ENOMEM;

        for (size_t k = 0; k < n_history; k++)
                n_nonempty += !history[k].empty_layer;
        for (size_t k = 0; r >= 0 && k < ELEMENTSOF(history_headers); k++)
                r = json_add(headers, history_headers[k][0], json_object_new_string(history_headers[k][1]));
        for (size_t k = n_layers; r >= 0 && k > 0; k--) {
                const HistoryEntry *e = NULL;
                if (n_nonempty == n_layers) {
                        while (r >= 0 && h > 0 && history[h - 1].empty_layer)
                                if (!(rows[n_rows++] = history_row("<missing>", &history[--h], 0, a, now)))
                                        r = -ENOMEM;
                        e = h > 0 ? &history[--h] : NULL;
                }
                if (r >= 0 &&
                    !(rows[n_rows++] = history_row(layers[k - 1], e, k - 1 < n_sizes ? sizes[k - 1] : 0, a, now)))
                        r = -ENOMEM;
        }
        for (size_t k = 0; r >= 0 && a->quiet && k < n_rows; k++)
                printf("%s\n", json_object_get_string(json_object_object_get(rows[k], "ID")));
        if (r >= 0 && !a->quiet)
                r = ctl_print_rows(a->format ?: "table",
                                   "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}", headers, rows,
                                   n_rows, &why);
        for (size_t k = 0; k < n_rows; k++)
                json_object_put(rows[k]);
        if (r == -EINVAL && why) {
                ctl_log_error("invalid --format: %s", why);
                return r;
        }
        return r < 0 ? ctl_log_errno(r, "Failed to show the history: %m") : 0;
}

int verb_history(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *hreply = NULL, *sreply = NULL;
        _cleanup_strv_free_ char **layers = NULL;
        _cleanup_free_ HistoryEntry *history = NULL;
        _cleanup_free_ uint64_t *sizes = NULL;
        _cleanup_free_ char *path = NULL;
        size_t n_history = 0, n_sizes = 0;
        HistoryArgs a;
        sd_bus *bus;
        int r;

        r = parse_history_argv(argc, argv, &a);
        if (r <= 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = ctl_get_image(bus, a.image, &error, &path);
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
        return print_history(layers, sizes, n_sizes, history, n_history, &a);
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
