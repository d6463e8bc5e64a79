/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image prune, system df, system prune. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl-args.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-networks.h"
#include "ctl-objects.h"
#include "ctl-output.h"
#include "ctl.h"
#include "util.h"

/* --filter of the prune verbs: until=TIMESTAMP|DURATION, label=KEY[=VALUE], label!=KEY[=VALUE]. */
static int parse_prune_filters(char **filters, uint64_t *ret_until, char ***ret_labels, char ***ret_not_labels) {
        for (char **f = filters; f && *f; f++) {
                if (!strncmp(*f, "until=", 6)) {
                        if (ctl_parse_timestamp(*f + 6, now_realtime_usec(), ret_until) < 0) {
                                ctl_log_error("invalid filter '%s': expected a timestamp or a duration", *f);
                                return -EINVAL;
                        }
                } else if (!strncmp(*f, "label=", 6) || !strncmp(*f, "label!=", 7)) {
                        const char *v = strchr(*f, '=') + 1;
                        if (isempty(v) || *v == '=') {
                                ctl_log_error("invalid filter '%s': expected label=KEY[=VALUE]", *f);
                                return -EINVAL;
                        }
                        if (ret_labels && strv_push((*f)[5] == '!' ? ret_not_labels : ret_labels, v) < 0)
                                return ctl_log_errno(-ENOMEM, "%m");
                } else {
                        ctl_log_error("invalid filter '%s': expected until=, label= or label!=", *f);
                        return -EINVAL;
                }
        }
        return 0;
}

int ctl_append_prune_filters(sd_bus_message *m, char **filters) {
        _cleanup_strv_free_ char **labels = NULL, **not_labels = NULL;
        uint64_t until = UINT64_MAX;
        int r;

        r = parse_prune_filters(filters, &until, &labels, &not_labels);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && until != UINT64_MAX)
                r = sd_bus_message_append(m, "{sv}", "until", "t", until);
        if (r >= 0)
                r = ctl_append_label_filters(m, labels, not_labels);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r < 0 ? ctl_log_errno(r, "Failed to build the request: %m") : 0;
}

int ctl_append_label_filters(sd_bus_message *m, char **labels, char **not_labels) {
        int r = labels ? ctl_bus_append_strv_option(m, "label", labels) : 0;
        if (r >= 0 && not_labels)
                r = ctl_bus_append_strv_option(m, "label!", not_labels);
        return r;
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
        r = ctl_append_prune_filters(m, filters);
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
        _cleanup_(ctl_prune_args_done) CtlPruneArgs a = {};
        uint64_t reclaimed = 0;
        sd_bus *bus;
        int r;

        r = ctl_parse_prune_args(
                argc, argv, "image prune",
                "Usage: berthctl image prune [OPTIONS]\n"
                "\n"
                "Remove untagged images that no container uses (in any state), and the layers\n"
                "no other image uses.\n"
                "\n"
                "Options:\n"
                "  -a, --all      Remove every image no container uses, tagged or not\n" CTL_PRUNE_OPTIONS_HELP,
                CTL_PRUNE_ALL, &a);
        if (r <= 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        if (!a.force &&
            !ctl_confirm(a.all ? "WARNING! This will remove all images without at least one container "
                                 "associated to them."
                               : "WARNING! This will remove all dangling images."))
                return 0;
        r = prune_images(bus, a.all, a.filters, &reclaimed);
        if (r < 0)
                return r;
        print_reclaimed(reclaimed);
        return 0;
}

typedef struct DfImage {
        const char *id;
        uint64_t size, unique;
        uint32_t containers;
} DfImage;

typedef struct DfContainer {
        const char *id;
        uint64_t size;
        uint32_t volumes;
} DfContainer;

typedef struct DfVolume {
        const char *name;
        uint32_t links;
        uint64_t size;
} DfVolume;

typedef struct DiskUsage {
        uint64_t layers_size, layers_reclaimable;
        DfImage *images;
        size_t n_images;
        DfContainer *containers;
        size_t n_containers;
        DfVolume *volumes;
        size_t n_volumes;
} DiskUsage;

static void disk_usage_done(DiskUsage *d) {
        free(d->images);
        free(d->containers);
        free(d->volumes);
}

/* Room for one more element at the end of *array; NULL when out of memory. */
static void *grow(void *array_ptr, size_t *n, size_t size) {
        void **array = array_ptr;
        void *a = reallocarray(*array, *n + 1, size);
        if (!a)
                return NULL;
        *array = a;
        return (uint8_t *) a + (*n)++ * size;
}

/* Strings in d point into reply. */
static int read_disk_usage(sd_bus_message *reply, DiskUsage *d) {
        int r = sd_bus_message_read(reply, "tt", &d->layers_size, &d->layers_reclaimable);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(sttu)");
        for (DfImage e;
             r >= 0 && (r = sd_bus_message_read(reply, "(sttu)", &e.id, &e.size, &e.unique, &e.containers)) > 0;) {
                DfImage *a = grow(&d->images, &d->n_images, sizeof(DfImage));
                if (!a)
                        return -ENOMEM;
                *a = e;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(stu)");
        for (DfContainer e; r >= 0 && (r = sd_bus_message_read(reply, "(stu)", &e.id, &e.size, &e.volumes)) > 0;) {
                DfContainer *a = grow(&d->containers, &d->n_containers, sizeof(DfContainer));
                if (!a)
                        return -ENOMEM;
                *a = e;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(sut)");
        for (DfVolume e; r >= 0 && (r = sd_bus_message_read(reply, "(sut)", &e.name, &e.links, &e.size)) > 0;) {
                DfVolume *a = grow(&d->volumes, &d->n_volumes, sizeof(DfVolume));
                if (!a)
                        return -ENOMEM;
                *a = e;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        return r;
}

/* Docker's RECLAIMABLE cell: "1.2MB (40%)", the share left out when there is nothing at all. */
static char *format_reclaimable(uint64_t reclaimable, uint64_t total) {
        char size[CTL_FORMAT_SIZE_MAX], *r;
        ctl_format_size(reclaimable, size);
        if (total == 0)
                return strdup(size);
        return asprintf(&r, "%s (%u%%)", size, (unsigned) (reclaimable * 100 / total)) < 0 ? NULL : r;
}

/* One row of the summary as the fields of docker system df --format. */
static json_object *summary_row(const char *type, size_t total, size_t active, uint64_t size, uint64_t reclaimable) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        _cleanup_free_ char *n = NULL, *a = NULL, *rec = format_reclaimable(reclaimable, size);
        char s[CTL_FORMAT_SIZE_MAX];
        if (!o || !rec || asprintf(&n, "%zu", total) < 0 || asprintf(&a, "%zu", active) < 0 ||
            json_add(o, "Type", json_object_new_string(type)) < 0 ||
            json_add(o, "TotalCount", json_object_new_string(n)) < 0 ||
            json_add(o, "Active", json_object_new_string(a)) < 0 ||
            json_add(o, "Size", json_object_new_string(ctl_format_size(size, s))) < 0 ||
            json_add(o, "Reclaimable", json_object_new_string(rec)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int print_df_summary(const DiskUsage *d, const ObjectList *objects, const char *format) {
        _cleanup_(json_object_putp) json_object *headers = json_object_new_object();
        json_object *rows[3] = {};
        size_t active_images = 0, active_containers = 0, active_volumes = 0;
        uint64_t csize = 0, creclaim = 0, vsize = 0, vreclaim = 0;
        _cleanup_free_ char *why = NULL;
        int r = 0;

        for (size_t k = 0; k < d->n_images; k++)
                active_images += d->images[k].containers > 0;
        for (size_t k = 0; k < d->n_containers; k++) {
                _cleanup_free_ char *path = NULL;
                const ContainerInfo *c = NULL;
                if (asprintf(&path, "/org/berth1/container/%s", d->containers[k].id) >= 0)
                        c = object_list_find_container(objects, path);
                bool active = c && ctl_state_is_active(c->state);
                active_containers += active;
                csize += d->containers[k].size;
                if (!active)
                        creclaim += d->containers[k].size;
        }
        for (size_t k = 0; k < d->n_volumes; k++) {
                active_volumes += d->volumes[k].links > 0;
                vsize += d->volumes[k].size;
                if (d->volumes[k].links == 0)
                        vreclaim += d->volumes[k].size;
        }
        rows[0] = summary_row("Images", d->n_images, active_images, d->layers_size, d->layers_reclaimable);
        rows[1] = summary_row("Containers", d->n_containers, active_containers, csize, creclaim);
        rows[2] = summary_row("Local Volumes", d->n_volumes, active_volumes, vsize, vreclaim);
        if (!headers || !rows[0] || !rows[1] || !rows[2] ||
            json_add(headers, "Type", json_object_new_string("TYPE")) < 0 ||
            json_add(headers, "TotalCount", json_object_new_string("TOTAL")) < 0 ||
            json_add(headers, "Active", json_object_new_string("ACTIVE")) < 0 ||
            json_add(headers, "Size", json_object_new_string("SIZE")) < 0 ||
            json_add(headers, "Reclaimable", json_object_new_string("RECLAIMABLE")) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = ctl_print_rows(format ?: "table",
                                   "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}", headers,
                                   rows, ELEMENTSOF(rows), &why);
        for (size_t k = 0; k < ELEMENTSOF(rows); k++)
                json_object_put(rows[k]);
        if (r == -EINVAL && why) {
                ctl_log_error("invalid --format: %s", why);
                return r;
        }
        return r;
}

static int print_df_verbose(const DiskUsage *d, const ObjectList *objects) {
        _cleanup_(table_freep) Table *ti = table_new(8), *tc = table_new(8), *tv = table_new(3);
        uint64_t now = now_realtime_usec();
        char s1[CTL_FORMAT_SIZE_MAX], s2[CTL_FORMAT_SIZE_MAX], s3[CTL_FORMAT_SIZE_MAX];
        int r;

        if (!ti || !tc || !tv)
                return -ENOMEM;
        r = table_add_cells(ti, "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE",
                            "CONTAINERS", NULL);
        for (size_t k = 0; r >= 0 && k < d->n_images; k++) {
                const DfImage *e = &d->images[k];
                const ImageInfo *i = object_list_find_image_by_id(objects, e->id);
                _cleanup_free_ char *created = ctl_format_ago(i ? i->created : 0, now), *n = NULL,
                                    *id = strndup(e->id, BERTH_SHORT_ID_LEN);
                char *const *tags = i && strv_length(i->repo_tags) > 0 ? i->repo_tags : NULL;
                if (!created || !id || asprintf(&n, "%" PRIu32, e->containers) < 0)
                        return -ENOMEM;
                ctl_format_size(e->size, s1);
                ctl_format_size(e->size - e->unique, s2);
                ctl_format_size(e->unique, s3);
                for (size_t j = 0; r >= 0 && j < (tags ? strv_length(tags) : 1); j++) {
                        _cleanup_free_ char *repo = strdup(tags ? tags[j] : "<none>");
                        if (!repo)
                                return -ENOMEM;
                        /* "name:tag": the tag is after the last ':' following the last '/'. */
                        char *slash = strrchr(repo, '/'), *colon = strrchr(slash ?: repo, ':');
                        if (colon)
                                *colon = 0;
                        r = table_add_cells(ti, repo, colon ? colon + 1 : "<none>", id, created, s1, s2, s3, n, NULL);
                }
        }
        if (r >= 0)
                r = table_add_cells(tc, "CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED",
                                    "STATUS", "NAMES", NULL);
        for (size_t k = 0; r >= 0 && k < d->n_containers; k++) {
                const DfContainer *e = &d->containers[k];
                _cleanup_free_ char *path = NULL, *command = NULL, *created = NULL, *status = NULL, *n = NULL,
                                    *id = strndup(e->id, BERTH_SHORT_ID_LEN);
                if (asprintf(&path, "/org/berth1/container/%s", e->id) < 0)
                        return -ENOMEM;
                const ContainerInfo *c = object_list_find_container(objects, path);
                if (!c)
                        continue; /* removed in the meantime */
                char *const *argv = c->command;
                if (strv_length(argv) == 0) {
                        const ImageInfo *image = object_list_find_image_by_id(objects, c->image_id);
                        argv = image ? image->cmd : NULL;
                }
                command = ctl_format_command(argv, true);
                created = ctl_format_ago(c->created_at, now);
                status = ctl_format_status(c->state, c->exit_code, c->started_at, c->finished_at, now);
                if (!id || !command || !created || !status || asprintf(&n, "%" PRIu32, e->volumes) < 0)
                        return -ENOMEM;
                r = table_add_cells(tc, id, c->image ?: "", command, n, ctl_format_size(e->size, s1), created, status,
                                    c->name ?: "", NULL);
        }
        if (r >= 0)
                r = table_add_cells(tv, "VOLUME NAME", "LINKS", "SIZE", NULL);
        for (size_t k = 0; r >= 0 && k < d->n_volumes; k++) {
                _cleanup_free_ char *n = NULL;
                if (asprintf(&n, "%" PRIu32, d->volumes[k].links) < 0)
                        return -ENOMEM;
                r = table_add_cells(tv, d->volumes[k].name, n, ctl_format_size(d->volumes[k].size, s1), NULL);
        }
        if (r < 0)
                return r;
        printf("Images space usage:\n\n");
        if ((r = table_print(ti, stdout)) < 0)
                return r;
        printf("\nContainers space usage:\n\n");
        if ((r = table_print(tc, stdout)) < 0)
                return r;
        printf("\nLocal Volumes space usage:\n\n");
        return table_print(tv, stdout);
}

static int system_df(sd_bus *bus, int argc, char *argv[]) {
        enum { ARG_HELP = 0x100, ARG_FORMAT };
        static const struct option options[] = {
                { "verbose", no_argument, NULL, 'v' },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        const char *format = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(object_list_done) ObjectList objects = {};
        _cleanup_(disk_usage_done) DiskUsage d = {};
        bool verbose = false;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:vh", options, NULL)) >= 0)
                switch (c) {
                case 'v':
                        verbose = true;
                        break;
                case ARG_FORMAT:
                        format = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl system df [-v] [--format TMPL]\n"
                               "\n"
                               "Show the disk space images, containers and local volumes use.\n"
                               "\n"
                               "Options:\n"
                               "      --format=TMPL  A Go template over Type, TotalCount, Active, Size,\n"
                               "                  Reclaimable; \"table TMPL\" or \"json\" (not with -v)\n"
                               "  -v, --verbose   List every image, container and volume\n"
                               "  -h, --help      Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("system df", c, argv);
                }
        if (optind < argc) {
                ctl_log_error("\"berthctl system df\" accepts no arguments (see 'berthctl system df --help')");
                return -EINVAL;
        }
        if (verbose && format) {
                ctl_log_error("--format cannot be combined with --verbose");
                return -EINVAL;
        }
        /* Walking large volumes takes as long as it takes. */
        r = ctl_bus_call_manager(bus, "GetDiskUsage", CTL_TIMEOUT_LONG, &error, &reply, NULL);
        if (r >= 0)
                r = object_list_fetch(bus, &error, &objects);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = read_disk_usage(reply, &d);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of GetDiskUsage: %m");
        r = verbose ? print_df_verbose(&d, &objects) : print_df_summary(&d, &objects, format);
        if (r == -EINVAL)
                return r;
        if (r < 0)
                return ctl_log_errno(r, "Failed to show the disk usage: %m");
        return 0;
}

/* Docker's prune filters, on the client side for containers: created before, labels. */
static bool container_prunable(const ContainerInfo *c, char **filters, uint64_t now) {
        if (ctl_state_is_active(c->state))
                return false;
        for (char **f = filters; f && *f; f++) {
                uint64_t until;
                if (!strncmp(*f, "until=", 6) && ctl_parse_timestamp(*f + 6, now, &until) >= 0 &&
                    c->created_at >= until)
                        return false;
                bool negate = !strncmp(*f, "label!=", 7);
                if (!negate && strncmp(*f, "label=", 6))
                        continue;
                bool found = ctl_labels_match(c->labels, strchr(*f, '=') + 1);
                if (found == negate)
                        return false;
        }
        return true;
}

/* Removes the stopped containers the filters select; prints Docker's "Deleted Containers:" block
 * (nothing when none went) and adds the sizes of their writable layers (from d) to *reclaimed. */
static int prune_containers(sd_bus *bus, const ObjectList *objects, const DiskUsage *d, char **filters,
                            uint64_t *reclaimed) {
        uint64_t now = now_realtime_usec();
        bool any = false;
        int r;

        for (size_t k = 0; k < objects->n_containers; k++) {
                const ContainerInfo *ci = &objects->containers[k];
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                if (!container_prunable(ci, filters, now))
                        continue;
                r = ctl_bus_call(bus, ci->object_path, BERTH_BUS_CONTAINER, "Remove", CTL_TIMEOUT_LONG, &e, NULL, "b",
                                 false);
                if (r < 0) {
                        /* Started (or removed) in the meantime: not ours to remove any more. */
                        ctl_log_warning("Not removing container %.12s: %s", ci->id, e.message ?: strerror(-r));
                        continue;
                }
                if (!any)
                        printf("Deleted Containers:\n");
                any = true;
                printf("%s\n", ci->id);
                for (size_t j = 0; j < d->n_containers; j++)
                        if (streq(d->containers[j].id, ci->id))
                                *reclaimed += d->containers[j].size;
        }
        if (any)
                printf("\n");

        return 0;
}

int verb_container_prune(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *usage = NULL;
        _cleanup_(object_list_done) ObjectList objects = {};
        _cleanup_(disk_usage_done) DiskUsage d = {};
        _cleanup_(ctl_prune_args_done) CtlPruneArgs a = {};
        uint64_t reclaimed = 0, until;
        sd_bus *bus;
        int r;

        r = ctl_parse_prune_args(argc, argv, "container prune",
                                 "Usage: berthctl container prune [OPTIONS]\n"
                                 "\n"
                                 "Remove all stopped containers (created or exited).\n"
                                 "\n"
                                 "Options:\n" CTL_PRUNE_OPTIONS_HELP,
                                 0, &a);
        if (r <= 0)
                return r;
        r = parse_prune_filters(a.filters, &until, NULL, NULL);
        if (r < 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        if (!a.force && !ctl_confirm("WARNING! This will remove all stopped containers."))
                return 0;
        r = ctl_bus_call_manager(bus, "GetDiskUsage", CTL_TIMEOUT_LONG, &error, &usage, NULL);
        if (r >= 0)
                r = object_list_fetch(bus, &error, &objects);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = read_disk_usage(usage, &d);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of GetDiskUsage: %m");
        r = prune_containers(bus, &objects, &d, a.filters, &reclaimed);
        if (r < 0)
                return r;
        r = ctl_prune_networks(bus, a.filters, true, false);
        if (r < 0)
                return r;
        print_reclaimed(reclaimed);
        return 0;
}

static int system_prune(sd_bus *bus, int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *usage = NULL, *vreply = NULL;
        _cleanup_(object_list_done) ObjectList objects = {};
        _cleanup_(disk_usage_done) DiskUsage d = {};
        _cleanup_(ctl_prune_args_done) CtlPruneArgs a = {};
        _cleanup_strv_free_ char **volumes = NULL;
        uint64_t reclaimed = 0;
        int r;

        r = ctl_parse_prune_args(argc, argv, "system prune",
                                 "Usage: berthctl system prune [OPTIONS]\n"
                                 "\n"
                                 "Remove stopped containers, user networks and untagged images no container\n"
                                 "uses, and with --volumes anonymous volumes no container uses.\n"
                                 "\n"
                                 "Options:\n"
                                 "  -a, --all      Remove every image no container uses, tagged or not\n"
                                 "      --filter=KEY=VALUE  until=TIMESTAMP|DURATION, label=KEY[=VALUE],\n"
                                 "                 label!=KEY[=VALUE] (containers, networks, images); repeatable\n"
                                 "  -f, --force    Do not ask for confirmation\n"
                                 "      --volumes  Remove anonymous volumes no container uses too\n"
                                 "  -h, --help     Show this help\n",
                                 CTL_PRUNE_ALL | CTL_PRUNE_VOLUMES, &a);
        if (r <= 0)
                return r;
        if (a.volumes && a.filters) {
                ctl_log_error("--filter cannot be combined with --volumes: volumes are pruned without filters");
                return -EINVAL;
        }
        /* Checked (and refused) before anything is removed. */
        uint64_t until;
        r = parse_prune_filters(a.filters, &until, NULL, NULL);
        if (r < 0)
                return r;
        if (!a.force) {
                _cleanup_free_ char *warning = NULL;
                if (asprintf(&warning,
                             "WARNING! This will remove:\n"
                             "  - all stopped containers\n"
                             "  - all networks not used by at least one container\n%s"
                             "  - %s\n",
                             a.volumes ? "  - all anonymous volumes not used by at least one container\n" : "",
                             a.all ? "all images without at least one container associated to them"
                                   : "all dangling images") < 0)
                        return ctl_log_errno(-ENOMEM, "%m");
                if (!ctl_confirm(warning))
                        return 0;
        }

        /* The sizes of what goes, for the total: the walk of GetDiskUsage. */
        r = ctl_bus_call_manager(bus, "GetDiskUsage", CTL_TIMEOUT_LONG, &error, &usage, NULL);
        if (r >= 0)
                r = object_list_fetch(bus, &error, &objects);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = read_disk_usage(usage, &d);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of GetDiskUsage: %m");

        r = prune_containers(bus, &objects, &d, a.filters, &reclaimed);
        if (r < 0)
                return r;
        r = ctl_prune_networks(bus, a.filters, true, false);
        if (r < 0)
                return r;

        if (a.volumes) {
                r = ctl_bus_call_manager(bus, "PruneVolumes", CTL_TIMEOUT_LONG, &error, &vreply, NULL);
                if (r < 0)
                        return ctl_log_bus_error(&error, r);
                r = sd_bus_message_read_strv(vreply, &volumes);
                if (r < 0)
                        return ctl_log_errno(r, "Failed to parse the reply of PruneVolumes: %m");
                ctl_print_deleted("Deleted Volumes:", volumes);
                for (char **n = volumes; n && *n; n++)
                        for (size_t j = 0; j < d.n_volumes; j++)
                                if (streq(d.volumes[j].name, *n))
                                        reclaimed += d.volumes[j].size;
        }

        r = prune_images(bus, a.all, a.filters, &reclaimed);
        if (r < 0)
                return r;
        print_reclaimed(reclaimed);
        return 0;
}

int verb_system(int argc, char *argv[], Ctl *ctl) {
        sd_bus *bus;
        int r;

        if (argc < 2 || streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                printf("Usage: berthctl system COMMAND\n"
                       "\n"
                       "Manage berth as a whole.\n"
                       "\n"
                       "Commands:\n"
                       "  df [-v]   Show disk usage\n"
                       "  events    Print events as they happen (berthctl events)\n"
                       "  info      Show system-wide information (berthctl info)\n"
                       "  prune     Remove stopped containers, unused images (and volumes)\n");
                return 0;
        }
        if (streq(argv[1], "info") || streq(argv[1], "events")) {
                optind = 0;
                return (streq(argv[1], "info") ? verb_info : verb_events)(argc - 1, argv + 1, ctl);
        }
        if (!streq(argv[1], "df") && !streq(argv[1], "prune")) {
                ctl_log_error("unknown command \"system %s\" (see 'berthctl system --help')", argv[1]);
                return -EINVAL;
        }
        /* --help needs no berthd: the subcommand prints it before it uses the bus. */
        bool help = false;
        for (int i = 2; i < argc && !streq(argv[i], "--"); i++)
                help = help || streq(argv[i], "--help") || streq(argv[i], "-h");
        bus = NULL;
        if (!help && (r = ctl_acquire_bus(ctl, &bus)) < 0)
                return r;
        return streq(argv[1], "df") ? system_df(bus, argc - 1, argv + 1) : system_prune(bus, argc - 1, argv + 1);
}
