/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ps: the container table, from ObjectManager.GetManagedObjects(). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-objects.h"
#include "ctl-output.h"
#include "ctl-template.h"
#include "ctl.h"
#include "util.h"

typedef struct PsArgs {
        bool all;
        bool quiet;
        bool no_trunc;
        char **filters; /* "key=value": name=, id=, status= (as docker ps --filter) */
        const char *format; /* --format: a template over ID, Image, Command, CreatedAt, Status, Names, State */
} PsArgs;

static void ps_args_done(PsArgs *a) {
        strv_free(a->filters);
}

/* Docker's rule: values of the same key are alternatives, different keys must all match. */
static bool container_matches(const ContainerInfo *c, char **filters) {
        static const char *const keys[] = { "name", "id", "status", "label" };
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                bool seen = false, matched = false;
                size_t klen = strlen(keys[k]);
                for (char **f = filters; f && *f; f++) {
                        if (strncmp(*f, keys[k], klen) || (*f)[klen] != '=')
                                continue;
                        const char *v = *f + klen + 1;
                        seen = true;
                        if (k == 0)
                                matched = matched || (c->name && strstr(c->name, v));
                        else if (k == 1)
                                matched = matched || (c->id && !strncmp(c->id, v, strlen(v)));
                        else if (k == 2)
                                matched = matched || (c->state && streq(c->state, v));
                        else
                                matched = matched || ctl_labels_match(c->labels, v);
                }
                if (seen && !matched)
                        return false;
        }
        return true;
}

static void help_ps(void) {
        printf("Usage: berthctl ps [OPTIONS]\n"
               "\n"
               "List containers, newest first (running and paused ones only, unless -a).\n"
               "\n"
               "Options:\n"
               "  -a, --all        Show all containers\n"
               "  -q, --quiet      Only print container ids\n"
               "      --no-trunc   Do not truncate ids and commands\n"
               "      --format=TMPL  One line per container from a template, e.g. '{{.Names}} {{.Status}}'\n"
               "                   (fields: ID, Image, Command, CreatedAt, Status, Names, State)\n"
               "  -f, --filter=KEY=VALUE  name= (substring), id= (prefix), status= (created,\n"
               "                   running, paused, restarting, exited), label=KEY[=VALUE]; repeatable\n"
               "  -h, --help       Show this help\n");
}

static int parse_ps_argv(int argc, char *argv[], PsArgs *a) {
        enum { ARG_NO_TRUNC = 0x100, ARG_FORMAT, ARG_HELP };
        static const struct option options[] = {
                { "all", no_argument, NULL, 'a' },
                { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, ARG_NO_TRUNC },
                { "filter", required_argument, NULL, 'f' },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int c;

        *a = (PsArgs){};
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:aqf:h", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        a->all = true;
                        break;
                case 'q':
                        a->quiet = true;
                        break;
                case ARG_NO_TRUNC:
                        a->no_trunc = true;
                        break;
                case ARG_FORMAT:
                        a->format = optarg;
                        break;
                case 'f':
                        if ((strncmp(optarg, "name=", 5) && strncmp(optarg, "id=", 3) &&
                             strncmp(optarg, "status=", 7) && strncmp(optarg, "label=", 6)) ||
                            strv_push(&a->filters, optarg) < 0) {
                                ctl_log_error("invalid filter \"%s\": expected name=, id=, status= or label=", optarg);
                                return -EINVAL;
                        }
                        /* Filtering by status implies looking at all containers, as Docker. */
                        if (!strncmp(optarg, "status=", 7))
                                a->all = true;
                        break;
                case 'h':
                case ARG_HELP:
                        help_ps();
                        return 0;
                default:
                        return ctl_log_getopt_error("ps", c, argv);
                }
        if (optind < argc) {
                ctl_log_error("\"berthctl ps\" accepts no arguments (see 'berthctl ps --help')");
                return -EINVAL;
        }
        return 1;
}

static int compare_newest_first(const void *a, const void *b) {
        const ContainerInfo *x = *(const ContainerInfo *const *) a, *y = *(const ContainerInfo *const *) b;

        if (x->created_at != y->created_at)
                return x->created_at > y->created_at ? -1 : 1;
        return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

/* ps --format: the row's fields under Docker's names, rendered with the template. */
static int print_formatted_row(const char *format, const char *id, const char *image, const char *command,
                               const char *created, const char *status, const char *name, const char *state) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        _cleanup_free_ char *out = NULL, *why = NULL;
        if (!o || json_add(o, "ID", json_object_new_string(id)) < 0 ||
            json_add(o, "Image", json_object_new_string(image)) < 0 ||
            json_add(o, "Command", json_object_new_string(command)) < 0 ||
            json_add(o, "CreatedAt", json_object_new_string(created)) < 0 ||
            json_add(o, "Status", json_object_new_string(status)) < 0 ||
            json_add(o, "Names", json_object_new_string(name)) < 0 ||
            json_add(o, "State", json_object_new_string(state)) < 0)
                return -ENOMEM;
        int r = ctl_render_template(format, o, &out, &why);
        if (r < 0) {
                ctl_log_error("invalid --format: %s", why ?: strerror(-r));
                return r;
        }
        printf("%s\n", out);
        return 0;
}

static int add_container_row(Table *t, const ObjectList *objects, const ContainerInfo *c, const PsArgs *a,
                             uint64_t now) {
        _cleanup_free_ char *command = NULL, *created = NULL, *status = NULL, *id = NULL;
        char *const *argv = c->command;

        /* An empty Command means the image's default one. */
        if (strv_length(argv) == 0) {
                const ImageInfo *image = object_list_find_image_by_id(objects, c->image_id);
                if (image)
                        argv = image->cmd;
        }
        command = ctl_format_command(argv, !a->no_trunc);
        created = ctl_format_ago(c->created_at, now);
        status = ctl_format_status(c->state, c->exit_code, c->started_at, c->finished_at, now);
        id = strndup(c->id ? c->id : "", a->no_trunc ? BERTH_ID_LEN : BERTH_SHORT_ID_LEN);
        if (!command || !created || !status || !id)
                return -ENOMEM;
        if (a->format)
                return print_formatted_row(a->format, id, c->image ?: "", command, created, status, c->name ?: "",
                                           c->state ?: "");
        return table_add_cells(t, id, c->image ? c->image : "", command, created, status, c->name ? c->name : "", NULL);
}

int verb_ps(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList objects = {};
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_free_ const ContainerInfo **list = NULL;
        uint64_t now = now_realtime_usec();
        size_t n = 0;
        sd_bus *bus;
        _cleanup_(ps_args_done) PsArgs a = {};
        int r;

        r = parse_ps_argv(argc, argv, &a);
        if (r <= 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = object_list_fetch(bus, &error, &objects);
        if (r < 0)
                return ctl_log_bus_error(&error, r);

        list = calloc(objects.n_containers + 1, sizeof(ContainerInfo *));
        if (!list)
                return ctl_log_errno(-ENOMEM, "%m");
        for (size_t i = 0; i < objects.n_containers; i++)
                if ((a.all || ctl_state_is_active(objects.containers[i].state)) &&
                    container_matches(&objects.containers[i], a.filters))
                        list[n++] = &objects.containers[i];
        qsort(list, n, sizeof(ContainerInfo *), compare_newest_first);

        if (a.quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%.*s\n", a.no_trunc ? BERTH_ID_LEN : BERTH_SHORT_ID_LEN,
                               list[i]->id ? list[i]->id : "");
                return 0;
        }

        t = table_new(6);
        if (!t)
                return ctl_log_errno(-ENOMEM, "%m");
        r = a.format ? 0 : table_add_cells(t, "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES", NULL);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = add_container_row(t, &objects, list[i], &a, now);
        if (r == -EINVAL)
                return r; /* a bad template, already said */
        if (r >= 0 && !a.format)
                r = table_print(t, stdout);
        if (r < 0)
                return ctl_log_errno(r, "Failed to show the containers: %m");
        return 0;
}
