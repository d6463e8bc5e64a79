/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ps: the container table, from ObjectManager.GetManagedObjects(), with Docker's flags and filters. */
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-objects.h"
#include "ctl-output.h"
#include "ctl.h"
#include "util.h"

typedef struct PsArgs {
        bool all;
        bool quiet;
        bool no_trunc;
        bool size;
        long last; /* -n: the N last created (any state); -1: all */
        char **filters; /* "key=value", checked by check_ps_filter() */
        const char *format;
} PsArgs;

static void ps_args_done(PsArgs *a) {
        strv_free(a->filters);
}

/* What the filters that name other objects resolve to. */
typedef struct PsContext {
        const ObjectList *objects;
        uint64_t before, since; /* creation time bounds: before=, since= */
        const ImageInfo **ancestors; /* ancestor= images that exist */
        size_t n_ancestors;
} PsContext;

static const char *const ps_filter_keys[] = { "ancestor", "before",  "exited",  "expose", "health", "id",    "label",
                                              "name",     "network", "publish", "since",  "status", "volume" };
static const char *const health_values[] = { "starting", "healthy", "unhealthy", "none" };
static const char *const container_states[] = { "created", "restarting", "running", "removing",
                                                "paused",  "exited",     "dead" };

/* The value of "key=value" when f has that key, else NULL. */
static const char *filter_value(const char *f, const char *key) {
        size_t n = strlen(key);
        return !strncmp(f, key, n) && f[n] == '=' ? f + n + 1 : NULL;
}

static bool in_list(const char *s, const char *const *list, size_t n) {
        for (size_t k = 0; k < n; k++)
                if (streq(s, list[k]))
                        return true;
        return false;
}

/* publish= and expose=: "PORT", "PORT/PROTO", "FIRST-LAST[/PROTO]" (tcp when not given). */
typedef struct PortFilter {
        unsigned first, last;
        char protocol[8];
} PortFilter;

static int port_filter_parse(const char *v, PortFilter *ret) {
        char proto[8] = "tcp";
        const char *slash = strchr(v, '/');
        if (slash) {
                if (!streq(slash + 1, "tcp") && !streq(slash + 1, "udp") && !streq(slash + 1, "sctp"))
                        return -EINVAL;
                snprintf(proto, sizeof(proto), "%s", slash + 1);
        }
        _cleanup_free_ char *range = strndup(v, slash ? (size_t) (slash - v) : strlen(v));
        if (!range)
                return -ENOMEM;
        unsigned first, last;
        char tail;
        int n = sscanf(range, "%u-%u%c", &first, &last, &tail);
        if (n == 1 && strspn(range, "0123456789") == strlen(range))
                last = first;
        else if (n != 2 || strspn(range, "0123456789-") != strlen(range))
                return -EINVAL;
        if (first == 0 || last > 65535 || first > last)
                return -EINVAL;
        *ret = (PortFilter){ .first = first, .last = last };
        memcpy(ret->protocol, proto, sizeof(proto));
        return 0;
}

/* Any of the "protocol\tport[\t...]" entries in the filter's range. */
static bool ports_match(char **entries, const char *v) {
        PortFilter f;
        if (port_filter_parse(v, &f) < 0)
                return false;
        for (char **e = entries; e && *e; e++) {
                size_t n = strcspn(*e, "\t");
                unsigned port = (*e)[n] ? (unsigned) strtoul(*e + n + 1, NULL, 10) : 0;
                if (strlen(f.protocol) == n && !strncmp(*e, f.protocol, n) && port >= f.first && port <= f.last)
                        return true;
        }
        return false;
}

/* Docker's checks, and its wording ("invalid filter 'KEY'", "invalid filter 'KEY=VALUE'"). */
static int check_ps_filter(const char *f) {
        const char *eq = strchr(f, '=');
        if (!eq) {
                ctl_log_error("bad format of filter (expected name=value)");
                return -EINVAL;
        }
        _cleanup_free_ char *key = strndup(f, (size_t) (eq - f));
        const char *v = eq + 1;
        if (!key)
                return ctl_log_errno(-ENOMEM, "%m");
        if (streq(key, "is-task")) {
                /* No swarm here, so no task is a container. */
                ctl_log_error("invalid filter '%s': berth runs no swarm tasks", f);
                return -EINVAL;
        }
        if (!in_list(key, ps_filter_keys, ELEMENTSOF(ps_filter_keys))) {
                ctl_log_error("invalid filter '%s'", key);
                return -EINVAL;
        }
        if (streq(key, "status") && !in_list(v, container_states, ELEMENTSOF(container_states))) {
                ctl_log_error("invalid filter '%s'", f);
                return -EINVAL;
        }
        if (streq(key, "health") && !in_list(v, health_values, ELEMENTSOF(health_values))) {
                ctl_log_error("Unrecognised filter value for health: %s", v); /* Docker's words */
                return -EINVAL;
        }
        PortFilter pf;
        if ((streq(key, "publish") || streq(key, "expose")) && port_filter_parse(v, &pf) < 0) {
                ctl_log_error("invalid filter '%s': give PORT[/PROTOCOL] or FIRST-LAST[/PROTOCOL]", f);
                return -EINVAL;
        }
        int code;
        if (streq(key, "exited") && parse_int(v, &code) < 0) {
                ctl_log_error("invalid filter '%s'", f);
                return -EINVAL;
        }
        if (streq(key, "name") || streq(key, "id")) {
                regex_t re;
                int r = regcomp(&re, v, REG_EXTENDED | REG_NOSUB);
                if (r != 0) {
                        char why[128];
                        regerror(r, &re, why, sizeof(why));
                        ctl_log_error("error parsing regexp in filter '%s': %s", f, why);
                        return -EINVAL;
                }
                regfree(&re);
        }
        return 0;
}

/* The image c was created from is image a, or one built on it (a's layers are the first of its). */
static bool descends_from(const PsContext *ctx, const ContainerInfo *c, const ImageInfo *a) {
        if (streq_ptr(image_id_strip(c->image_id ?: ""), image_id_strip(a->id ?: "")))
                return true;
        const ImageInfo *i = object_list_find_image_by_id(ctx->objects, c->image_id ?: "");
        size_t n = strv_length(a->layers);
        if (!i || n == 0 || strv_length(i->layers) < n)
                return false;
        for (size_t k = 0; k < n; k++)
                if (!streq(i->layers[k], a->layers[k]))
                        return false;
        return true;
}

/* A mount point, "type\tname\tsource\tdestination\tdriver\tmode\trw", split in place into f; the
 * number of fields. */
#define MOUNT_FIELDS 7
static size_t split_mount_point(char *s, char *f[static MOUNT_FIELDS]) {
        size_t n = 0;
        for (char *p; n < MOUNT_FIELDS && (p = strsep(&s, "\t"));)
                f[n++] = p;
        return n;
}

/* A volume's name or any mount's destination. */
static bool mounts_volume(const ContainerInfo *c, const char *v) {
        for (char **m = c->mount_points; m && *m; m++) {
                _cleanup_free_ char *copy = strdup(*m);
                char *f[MOUNT_FIELDS];
                if (copy && split_mount_point(copy, f) >= 4 && (streq(f[1], v) || streq(f[3], v)))
                        return true;
        }
        return false;
}

/* Attached to the network of that name or id (Networks: "name\tid\t..."). */
static bool attached_to(const ContainerInfo *c, const char *v) {
        for (char **e = c->networks; e && *e; e++) {
                size_t n = strcspn(*e, "\t");
                const char *id = (*e)[n] ? *e + n + 1 : "";
                if ((strlen(v) == n && !strncmp(*e, v, n)) || (!isempty(v) && !strncmp(id, v, strlen(v))))
                        return true;
        }
        return false;
}

typedef struct PsMatch {
        const PsContext *ctx;
        const ContainerInfo *c;
} PsMatch;

static bool filter_matches(const char *key, const char *v, const void *userdata) {
        const PsContext *ctx = ((const PsMatch *) userdata)->ctx;
        const ContainerInfo *c = ((const PsMatch *) userdata)->c;
        if (streq(key, "name")) {
                _cleanup_free_ char *slashed = NULL;
                return ctl_regex_matches(v, c->name) ||
                        (asprintf(&slashed, "/%s", c->name ?: "") >= 0 && ctl_regex_matches(v, slashed));
        }
        if (streq(key, "id"))
                return ctl_regex_matches(v, c->id);
        if (streq(key, "status"))
                return streq_ptr(c->state, v);
        if (streq(key, "health"))
                return streq(isempty(c->health_status) ? "none" : c->health_status, v);
        if (streq(key, "label"))
                return ctl_labels_match(c->labels, v);
        if (streq(key, "exited"))
                return streq_ptr(c->state, "exited") && c->started_at != 0 && c->exit_code == atoi(v);
        if (streq(key, "volume"))
                return mounts_volume(c, v);
        if (streq(key, "network"))
                return attached_to(c, v);
        if (streq(key, "publish"))
                return ports_match(c->ports, v);
        if (streq(key, "expose"))
                return ports_match(c->exposed_ports, v);
        if (streq(key, "ancestor")) {
                for (size_t k = 0; k < ctx->n_ancestors; k++)
                        if (descends_from(ctx, c, ctx->ancestors[k]))
                                return true;
                return false;
        }
        return true; /* before, since: bounds, below */
}

static bool container_matches(const PsContext *ctx, const ContainerInfo *c, char **filters) {
        if (c->created_at >= ctx->before || (ctx->since > 0 && c->created_at <= ctx->since))
                return false;
        return ctl_filters_match(filters, ps_filter_keys, ELEMENTSOF(ps_filter_keys), filter_matches,
                                 &(PsMatch){ ctx, c });
}

/* before=/since= (containers: their creation times, the tightest when repeated) and ancestor= (the
 * images; one that does not exist matches nothing, as Docker). */
static int resolve_filters(sd_bus *bus, char **filters, PsContext *ctx) {
        ctx->before = UINT64_MAX;
        ctx->since = 0;
        for (char **f = filters; f && *f; f++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *path = NULL;
                const char *v;
                int r;

                if ((v = filter_value(*f, "ancestor"))) {
                        if (ctl_get_image(bus, v, &error, &path) < 0)
                                continue;
                        const ImageInfo *i = object_list_find_image(ctx->objects, path);
                        if (!i)
                                continue;
                        const ImageInfo **a = reallocarray(ctx->ancestors, ctx->n_ancestors + 1, sizeof(ImageInfo *));
                        if (!a)
                                return ctl_log_errno(-ENOMEM, "%m");
                        ctx->ancestors = a;
                        a[ctx->n_ancestors++] = i;
                        continue;
                }
                bool before = filter_value(*f, "before");
                if (!before && !filter_value(*f, "since"))
                        continue;
                v = strchr(*f, '=') + 1;
                r = ctl_get_container(bus, v, &error, &path);
                if (r < 0)
                        return ctl_log_bus_error(&error, r);
                const ContainerInfo *c = object_list_find_container(ctx->objects, path);
                if (!c) {
                        ctl_log_error("No such container: %s", v);
                        return -ENOENT;
                }
                if (before && c->created_at < ctx->before)
                        ctx->before = c->created_at;
                if (!before && c->created_at > ctx->since)
                        ctx->since = c->created_at;
        }
        return 0;
}

static void help_ps(void) {
        printf("Usage: berthctl ps [OPTIONS]\n"
               "\n"
               "List containers, newest first (running and paused ones only, unless -a).\n"
               "\n"
               "Options:\n"
               "  -a, --all        Show all containers\n"
               "  -f, --filter=KEY=VALUE  Repeatable; values of one key are alternatives:\n"
               "                   name=REGEX, id=REGEX, label=KEY[=VALUE], status=STATE (created,\n"
               "                   restarting, running, removing, paused, exited, dead),\n"
               "                   exited=CODE, ancestor=IMAGE (it or an image built on it),\n"
               "                   before=CONTAINER, since=CONTAINER (created before, after it),\n"
               "                   volume=NAME|DESTINATION, network=NAME|ID,\n"
               "                   publish=PORT[/PROTO], expose=PORT[/PROTO] (or FIRST-LAST),\n"
               "                   health=starting|healthy|unhealthy|none\n"
               "      --format=TMPL  A Go template over ID, Image, Command, CreatedAt, RunningFor,\n"
               "                   Ports, State, Status, Size, Names, Labels, Mounts, Networks,\n"
               "                   LocalVolumes; \"table TMPL\" aligns it under a header, \"json\"\n"
               "                   prints each line as JSON\n"
               "  -n, --last=N     Show the N last created containers (in any state)\n"
               "  -l, --latest     Show the last created container (in any state)\n"
               "      --no-trunc   Do not truncate ids and commands\n"
               "  -q, --quiet      Only print container ids\n"
               "  -s, --size       Show the SIZE column: the writable layer (and the image with it)\n"
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
                { "last", required_argument, NULL, 'n' },
                { "latest", no_argument, NULL, 'l' },
                { "size", no_argument, NULL, 's' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int n, c, r;

        *a = (PsArgs){ .last = -1 };
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:aqf:n:lsh", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        a->all = true;
                        break;
                case 'q':
                        a->quiet = true;
                        break;
                case 's':
                        a->size = true;
                        break;
                case 'n':
                        if (parse_int(optarg, &n) < 0) {
                                ctl_log_error("invalid argument \"%s\" for \"-n, --last\" flag: strconv.ParseInt: "
                                              "parsing \"%s\": invalid syntax",
                                              optarg, optarg);
                                return -EINVAL;
                        }
                        a->last = n;
                        break;
                case 'l':
                        a->last = 1;
                        break;
                case ARG_NO_TRUNC:
                        a->no_trunc = true;
                        break;
                case ARG_FORMAT:
                        a->format = optarg;
                        break;
                case 'f':
                        if ((r = check_ps_filter(optarg)) < 0)
                                return r;
                        if (strv_push(&a->filters, optarg) < 0)
                                return ctl_log_errno(-ENOMEM, "%m");
                        /* Filtering by status implies looking at all containers, as Docker. */
                        if (filter_value(optarg, "status"))
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
        /* As Docker: -n and -l look at containers in any state; so does a template asking for sizes. */
        if (a->last > 0)
                a->all = true;
        if (a->format && strstr(a->format, ".Size"))
                a->size = true;
        return 1;
}

static int compare_newest_first(const void *a, const void *b) {
        const ContainerInfo *x = *(const ContainerInfo *const *) a, *y = *(const ContainerInfo *const *) b;

        if (x->created_at != y->created_at)
                return x->created_at > y->created_at ? -1 : 1;
        return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

/* Writable layer bytes per container id, from GetDiskUsage (for -s). */
typedef struct SizeMap {
        sd_bus_message *reply;
        char **ids;
        uint64_t *sizes;
        size_t n;
} SizeMap;

static void size_map_done(SizeMap *m) {
        sd_bus_message_unref(m->reply);
        free(m->ids);
        free(m->sizes);
}

static int size_map_fetch(sd_bus *bus, SizeMap *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        uint64_t t1, t2;
        int r = ctl_bus_call_manager(bus, "GetDiskUsage", CTL_TIMEOUT_LONG, &error, &m->reply, NULL);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_read(m->reply, "tt", &t1, &t2);
        if (r >= 0)
                r = sd_bus_message_skip(m->reply, "a(sttu)");
        if (r >= 0)
                r = sd_bus_message_enter_container(m->reply, 'a', "(stu)");
        for (;;) {
                const char *id;
                uint64_t size;
                uint32_t volumes;
                if (r < 0 || (r = sd_bus_message_read(m->reply, "(stu)", &id, &size, &volumes)) <= 0)
                        break;
                char **ids = reallocarray(m->ids, m->n + 1, sizeof(char *));
                uint64_t *sizes = ids ? reallocarray(m->sizes, m->n + 1, sizeof(uint64_t)) : NULL;
                if (ids)
                        m->ids = ids;
                if (!sizes)
                        return ctl_log_errno(-ENOMEM, "%m");
                m->sizes = sizes;
                m->ids[m->n] = (char *) id;
                m->sizes[m->n++] = size;
        }
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of GetDiskUsage: %m");
        return 0;
}

static uint64_t size_map_get(const SizeMap *m, const char *id) {
        for (size_t k = 0; k < m->n; k++)
                if (streq_ptr(m->ids[k], id))
                        return m->sizes[k];
        return 0;
}

/* Docker's SIZE cell: "12B (virtual 4.3MB)" (the writable layer, and with the image under it). */
static char *format_size_cell(const ObjectList *objects, const SizeMap *sizes, const ContainerInfo *c) {
        const ImageInfo *image = object_list_find_image_by_id(objects, c->image_id ?: "");
        uint64_t rw = size_map_get(sizes, c->id);
        char s1[CTL_FORMAT_SIZE_MAX], s2[CTL_FORMAT_SIZE_MAX], *r;
        if (asprintf(&r, "%s (virtual %s)", ctl_format_size(rw, s1),
                     ctl_format_size(rw + (image ? image->size : 0), s2)) < 0)
                return NULL;
        return r;
}

/* Mounts: each volume's name or bind's source, joined by commas; LocalVolumes: the local volumes. */
static int mounts_fields(const ContainerInfo *c, char **ret_mounts, size_t *ret_local) {
        _cleanup_strv_free_ char **names = NULL;
        size_t local = 0;
        for (char **m = c->mount_points; m && *m; m++) {
                _cleanup_free_ char *copy = strdup(*m);
                char *f[MOUNT_FIELDS];
                if (!copy)
                        return -ENOMEM;
                if (split_mount_point(copy, f) < 5)
                        continue;
                if (streq(f[0], "volume") && streq(f[4], "local"))
                        local++;
                if (strv_push(&names, !isempty(f[1]) ? f[1] : f[2]) < 0)
                        return -ENOMEM;
        }
        *ret_mounts = strv_join(names, ",");
        *ret_local = local;
        return *ret_mounts ? 0 : -ENOMEM;
}

/* Ports: the bindings in force and, while it runs, the exposed ports without one (Docker's
 * DisplayablePorts); Networks: the names of the networks it is attached to, joined by commas. */
static int network_fields(const ContainerInfo *c, char **ret_ports, char **ret_networks) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ CtlPort *ports = NULL;
        size_t n = 0;
        int r = ctl_ports_collect(c->ports, ctl_state_is_active(c->state) ? c->exposed_ports : NULL, &ports, &n);
        if (r < 0)
                return r;
        for (char **e = c->networks; e && *e; e++) {
                _cleanup_free_ char *name = strndup(*e, strcspn(*e, "\t"));
                if (!name || strv_push(&names, name) < 0)
                        return -ENOMEM;
        }
        *ret_ports = ctl_format_ports(ports, n);
        *ret_networks = names ? strv_join(names, ",") : strdup("");
        return *ret_ports && *ret_networks ? 0 : -ENOMEM;
}

static const char *const ps_headers[][2] = {
        { "Command", "COMMAND" }, { "CreatedAt", "CREATED AT" }, { "ID", "CONTAINER ID" },
        { "Image", "IMAGE" },     { "Labels", "LABELS" },        { "LocalVolumes", "LOCAL VOLUMES" },
        { "Mounts", "MOUNTS" },   { "Names", "NAMES" },          { "Networks", "NETWORKS" },
        { "Ports", "PORTS" },     { "RunningFor", "CREATED" },   { "Size", "SIZE" },
        { "State", "STATE" },     { "Status", "STATUS" },
};

/* One row as the fields of docker ps --format. */
static json_object *container_row(const ObjectList *objects, const SizeMap *sizes, const ContainerInfo *c,
                                  const PsArgs *a, uint64_t now) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        _cleanup_free_ char *command = NULL, *created = NULL, *status = NULL, *id = NULL, *at = NULL, *labels = NULL,
                            *mounts = NULL, *size = NULL, *nvol = NULL, *ports = NULL, *networks = NULL;
        char *const *argv = c->command;
        size_t local = 0;

        /* An empty Command means the image's default one. */
        if (strv_length(argv) == 0) {
                const ImageInfo *image = object_list_find_image_by_id(objects, c->image_id);
                if (image)
                        argv = image->cmd;
        }
        command = ctl_format_command(argv, !a->no_trunc);
        created = ctl_format_ago(c->created_at, now);
        status = ctl_format_status_health(c->state, c->health_status, c->exit_code, c->started_at, c->finished_at, now);
        id = strndup(c->id ? c->id : "", a->no_trunc ? BERTH_ID_LEN : BERTH_SHORT_ID_LEN);
        at = ctl_format_go_time(c->created_at);
        labels = strv_join(c->labels, ",");
        size = a->size ? format_size_cell(objects, sizes, c) : strdup("");
        if (!o || !command || !created || !status || !id || !at || !labels || !size ||
            mounts_fields(c, &mounts, &local) < 0 || asprintf(&nvol, "%zu", local) < 0 ||
            network_fields(c, &ports, &networks) < 0)
                return NULL;
        if (json_add(o, "Command", json_object_new_string(command)) < 0 ||
            json_add(o, "CreatedAt", json_object_new_string(at)) < 0 ||
            json_add(o, "ID", json_object_new_string(id)) < 0 ||
            json_add(o, "Image", json_object_new_string(c->image ?: "")) < 0 ||
            json_add(o, "Labels", json_object_new_string(labels)) < 0 ||
            json_add(o, "LocalVolumes", json_object_new_string(nvol)) < 0 ||
            json_add(o, "Mounts", json_object_new_string(mounts)) < 0 ||
            json_add(o, "Names", json_object_new_string(c->name ?: "")) < 0 ||
            json_add(o, "Networks", json_object_new_string(networks)) < 0 ||
            json_add(o, "Ports", json_object_new_string(ports)) < 0 ||
            json_add(o, "RunningFor", json_object_new_string(created)) < 0 ||
            json_add(o, "Size", json_object_new_string(size)) < 0 ||
            json_add(o, "State", json_object_new_string(c->state ?: "")) < 0 ||
            json_add(o, "Status", json_object_new_string(status)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int print_rows(const ObjectList *objects, const SizeMap *sizes, const ContainerInfo **list, size_t n,
                      const PsArgs *a) {
        _cleanup_(json_object_putp) json_object *headers = json_object_new_object();
        _cleanup_free_ json_object **rows = calloc(n + 1, sizeof(json_object *));
        _cleanup_free_ char *why = NULL;
        size_t n_rows = 0;
        int r = headers && rows ? 0 : -ENOMEM;

        for (size_t k = 0; r >= 0 && k < ELEMENTSOF(ps_headers); k++)
                r = json_add(headers, ps_headers[k][0], json_object_new_string(ps_headers[k][1]));
        for (; r >= 0 && n_rows < n; n_rows++)
                if (!(rows[n_rows] = container_row(objects, sizes, list[n_rows], a, now_realtime_usec())))
                        r = -ENOMEM;
        if (r >= 0)
                r = ctl_print_rows(
                        a->format ?: "table",
                        a->size ? "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"
                                  "\t{{.Names}}\t{{.Size}}"
                                : "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"
                                  "\t{{.Names}}",
                        headers, rows, n_rows, &why);
        for (size_t k = 0; k < n_rows; k++)
                json_object_put(rows[k]);
        if (r == -EINVAL && why) {
                ctl_log_error("invalid --format: %s", why);
                return r;
        }
        if (r < 0)
                return ctl_log_errno(r, "Failed to show the containers: %m");
        return 0;
}

int verb_ps(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList objects = {};
        _cleanup_(size_map_done) SizeMap sizes = {};
        _cleanup_free_ const ContainerInfo **list = NULL;
        _cleanup_(ps_args_done) PsArgs a = {};
        PsContext ctx = { .objects = &objects };
        size_t n = 0;
        sd_bus *bus;
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
        r = resolve_filters(bus, a.filters, &ctx);
        if (r >= 0 && a.size && !a.quiet)
                r = size_map_fetch(bus, &sizes);
        if (r < 0) {
                free(ctx.ancestors);
                return r;
        }

        list = calloc(objects.n_containers + 1, sizeof(ContainerInfo *));
        if (!list) {
                free(ctx.ancestors);
                return ctl_log_errno(-ENOMEM, "%m");
        }
        for (size_t i = 0; i < objects.n_containers; i++)
                if ((a.all || ctl_state_is_active(objects.containers[i].state)) &&
                    container_matches(&ctx, &objects.containers[i], a.filters))
                        list[n++] = &objects.containers[i];
        free(ctx.ancestors);
        qsort(list, n, sizeof(ContainerInfo *), compare_newest_first);
        if (a.last >= 0 && (size_t) a.last < n)
                n = (size_t) a.last;

        if (a.quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%.*s\n", a.no_trunc ? BERTH_ID_LEN : BERTH_SHORT_ID_LEN,
                               list[i]->id ? list[i]->id : "");
                return 0;
        }
        return print_rows(&objects, &sizes, list, n, &a);
}
