/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image verbs: import, images. */
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
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
                { "change", required_argument, NULL, 'c' },
                { "message", required_argument, NULL, 'm' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_strv_free_ char **changes = NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *id = NULL;
        const char *file, *reference, *path, *message = NULL;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:c:m:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        if (strv_push(&changes, optarg) < 0)
                                return ctl_log_errno(-ENOMEM, "%m");
                        break;
                case 'm':
                        message = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl import [OPTIONS] FILE|- NAME[:TAG]\n"
                               "\n"
                               "Import a root file system tarball (optionally compressed) as a one-layer\n"
                               "image tagged NAME:TAG (TAG defaults to \"latest\"), and print its id.\n"
                               "\"-\" reads the tarball from standard input.\n"
                               "\n"
                               "Options:\n"
                               "  -c, --change=INSTR   Apply a Dockerfile instruction to the image's config\n"
                               "                       (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL,\n"
                               "                       ONBUILD, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR;\n"
                               "                       repeatable)\n"
                               "  -m, --message=TEXT   The comment of the image's history entry\n"
                               "  -h, --help           Show this help\n");
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
        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "ImportImageWithOptions");
        if (r >= 0)
                r = sd_bus_message_append(m, "hs", fd, reference);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && changes) {
                if ((r = sd_bus_message_open_container(m, 'e', "sv")) >= 0 &&
                    (r = sd_bus_message_append(m, "s", "Changes")) >= 0 &&
                    (r = sd_bus_message_open_container(m, 'v', "as")) >= 0 &&
                    (r = sd_bus_message_append_strv(m, changes)) >= 0 && (r = sd_bus_message_close_container(m)) >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && message)
                r = sd_bus_message_append(m, "{sv}", "Message", "s", message);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the call: %m");
        r = sd_bus_call(bus, m, CTL_TIMEOUT_INFINITE, &error, &reply);
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
        bool digests;
        char **filters; /* "key=value", checked */
        const char *format;
} ImagesArgs;

static void images_args_done(ImagesArgs *a) {
        strv_free(a->filters);
}

/* Docker's image filters; anything else is refused before the daemon is asked. */
static int check_image_filter(const char *f) {
        const char *eq = strchr(f, '=');
        if (!eq) {
                ctl_log_error("bad format of filter \"%s\" (expected name=value)", f);
                return -EINVAL;
        }
        size_t klen = (size_t) (eq - f);
        const char *v = eq + 1;
        if (klen == 8 && !strncmp(f, "dangling", 8)) {
                if (!streq(v, "true") && !streq(v, "false")) {
                        ctl_log_error("invalid filter 'dangling=%s': expected true or false", v);
                        return -EINVAL;
                }
        } else if (!((klen == 5 && !strncmp(f, "label", 5)) || (klen == 9 && !strncmp(f, "reference", 9)) ||
                     (klen == 6 && !strncmp(f, "before", 6)) || (klen == 5 && !strncmp(f, "since", 5)))) {
                ctl_log_error("invalid filter '%.*s': expected dangling, label, reference, before or since", (int) klen,
                              f);
                return -EINVAL;
        }
        if (isempty(v)) {
                ctl_log_error("invalid filter '%s': the value is empty", f);
                return -EINVAL;
        }
        return 0;
}

static void help_images(void) {
        printf("Usage: berthctl images [OPTIONS] [REPOSITORY[:TAG]]\n"
               "\n"
               "List images, newest first, one line per tag.\n"
               "\n"
               "Options:\n"
               "  -a, --all          Show all images (accepted: berth keeps no intermediate images)\n"
               "      --digests      Show a DIGEST column (repository digests of OCI-loaded images)\n"
               "  -f, --filter=KEY=VALUE  dangling=true|false, label=KEY[=VALUE],\n"
               "                     reference=PATTERN (a glob on REPOSITORY[:TAG]), before=IMAGE,\n"
               "                     since=IMAGE; repeatable\n"
               "      --format=TMPL  A Go template over ID, Repository, Tag, Digest, CreatedSince,\n"
               "                     CreatedAt, Size, VirtualSize; \"table TMPL\" aligns it under a\n"
               "                     header, \"json\" prints each line as JSON\n"
               "      --no-trunc     Print full ids (\"sha256:<64 hex>\")\n"
               "  -q, --quiet        Only print image ids\n"
               "  -h, --help         Show this help\n");
}

static int parse_images_argv(int argc, char *argv[], ImagesArgs *a) {
        enum { ARG_DIGESTS = ARG_HELP + 1, ARG_FORMAT };
        static const struct option options[] = {
                { "all", no_argument, NULL, 'a' },
                { "quiet", no_argument, NULL, 'q' },
                { "digests", no_argument, NULL, ARG_DIGESTS },
                { "filter", required_argument, NULL, 'f' },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "no-trunc", no_argument, NULL, ARG_NO_TRUNC },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int c, r;

        opterr = 0;
        /* Flags may follow the argument, as Docker takes them. */
        while ((c = getopt_long(argc, argv, ":aqf:h", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        break;
                case 'q':
                        a->quiet = true;
                        break;
                case ARG_DIGESTS:
                        a->digests = true;
                        break;
                case 'f':
                        if ((r = check_image_filter(optarg)) < 0)
                                return r;
                        if (strv_push(&a->filters, optarg) < 0)
                                return ctl_log_errno(-ENOMEM, "%m");
                        break;
                case ARG_FORMAT:
                        a->format = optarg;
                        break;
                case ARG_NO_TRUNC:
                        a->no_trunc = true;
                        break;
                case 'h':
                case ARG_HELP:
                        help_images();
                        return 0;
                default:
                        return ctl_log_getopt_error("images", c, argv);
                }
        if (argc - optind > 1) {
                ctl_log_error("\"berthctl images\" accepts at most 1 argument (see 'berthctl images --help')");
                return -EINVAL;
        }
        /* As Docker: the argument is one more reference filter. */
        if (optind < argc) {
                _cleanup_free_ char *f = NULL;
                if (asprintf(&f, "reference=%s", argv[optind]) < 0 || strv_push(&a->filters, f) < 0)
                        return ctl_log_errno(-ENOMEM, "%m");
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

/* Docker's reference filter: path.Match of the pattern against "repo:tag", or else "repo". */
static bool tag_matches(const char *tag, char **filters) {
        bool seen = false;
        for (char **f = filters; f && *f; f++) {
                if (strncmp(*f, "reference=", 10))
                        continue;
                seen = true;
                _cleanup_free_ char *repo = NULL, *t = NULL;
                if (fnmatch(*f + 10, tag, FNM_PATHNAME) == 0 ||
                    (split_repo_tag(tag, &repo, &t) >= 0 && fnmatch(*f + 10, repo, FNM_PATHNAME) == 0))
                        return true;
        }
        return !seen;
}

static bool has_filter(char **filters, const char *key) {
        size_t n = strlen(key);
        for (char **f = filters; f && *f; f++)
                if (!strncmp(*f, key, n) && (*f)[n] == '=')
                        return true;
        return false;
}

/* dangling, label (all must hold) and the before/since bounds (resolved to creation times). */
static bool image_matches(const ImageInfo *i, char **filters, uint64_t before, uint64_t since) {
        bool dangling = strv_length(i->repo_tags) == 0;
        if (i->created >= before || i->created <= since)
                return false;
        for (char **f = filters; f && *f; f++) {
                if (streq(*f, "dangling=true") && !dangling)
                        return false;
                if (streq(*f, "dangling=false") && dangling)
                        return false;
                if (!strncmp(*f, "label=", 6) && !ctl_labels_match(i->labels, *f + 6))
                        return false;
        }
        /* With a reference filter, an image shows only when one of its tags matches. */
        if (has_filter(filters, "reference")) {
                for (char **t = i->repo_tags; t && *t; t++)
                        if (tag_matches(*t, filters))
                                return true;
                return false;
        }
        return true;
}

/* before=IMAGE / since=IMAGE: the named image's creation time (the tightest when repeated). */
static int resolve_time_filters(sd_bus *bus, const ObjectList *objects, char **filters, uint64_t *before,
                                uint64_t *since) {
        *before = UINT64_MAX;
        *since = 0;
        for (char **f = filters; f && *f; f++) {
                bool is_before = !strncmp(*f, "before=", 7);
                if (!is_before && strncmp(*f, "since=", 6))
                        continue;
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *path = NULL;
                int r = ctl_get_image(bus, strchr(*f, '=') + 1, &error, &path);
                if (r < 0)
                        return ctl_log_bus_error(&error, r);
                const ImageInfo *i = object_list_find_image(objects, path);
                if (!i) {
                        ctl_log_error("No such image: %s", strchr(*f, '=') + 1);
                        return -ENOENT;
                }
                if (is_before && i->created < *before)
                        *before = i->created;
                if (!is_before && i->created > *since)
                        *since = i->created;
        }
        return 0;
}

/* The digest of repo's entry in RepoDigests ("repo@sha256:..."), or "<none>". */
static const char *image_digest(const ImageInfo *i, const char *repo) {
        size_t n = strlen(repo);
        for (char **d = i->repo_digests; d && *d; d++)
                if (!strncmp(*d, repo, n) && (*d)[n] == '@')
                        return *d + n + 1;
        return "<none>";
}

/* The fields of docker images --format and their column titles. */
static const char *const image_headers[][2] = {
        { "Containers", "CONTAINERS" },
        { "CreatedAt", "CREATED AT" },
        { "CreatedSince", "CREATED" },
        { "Digest", "DIGEST" },
        { "ID", "IMAGE ID" },
        { "Repository", "REPOSITORY" },
        { "SharedSize", "SHARED SIZE" },
        { "Size", "SIZE" },
        { "Tag", "TAG" },
        { "UniqueSize", "UNIQUE SIZE" },
        { "VirtualSize", "VIRTUAL SIZE" },
};

/* One row of the listing as the fields of docker images --format. */
static json_object *image_row(const ImageInfo *i, const char *repo, const char *tag, const ImagesArgs *a,
                              uint64_t now) {
        _cleanup_free_ char *id = format_image_id(i->id, a->no_trunc), *since = ctl_format_ago(i->created, now),
                            *at = ctl_format_go_time(i->created);
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        char size[CTL_FORMAT_SIZE_MAX];

        ctl_format_size(i->size, size);
        if (!id || !since || !at || !o || json_add(o, "Containers", json_object_new_string("N/A")) < 0 ||
            json_add(o, "CreatedAt", json_object_new_string(at)) < 0 ||
            json_add(o, "CreatedSince", json_object_new_string(since)) < 0 ||
            json_add(o, "Digest", json_object_new_string(image_digest(i, repo))) < 0 ||
            json_add(o, "ID", json_object_new_string(id)) < 0 ||
            json_add(o, "Repository", json_object_new_string(repo)) < 0 ||
            json_add(o, "SharedSize", json_object_new_string("N/A")) < 0 ||
            json_add(o, "Size", json_object_new_string(size)) < 0 ||
            json_add(o, "Tag", json_object_new_string(tag)) < 0 ||
            json_add(o, "UniqueSize", json_object_new_string("N/A")) < 0 ||
            json_add(o, "VirtualSize", json_object_new_string(size)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int add_image_rows(json_object ***rows, size_t *n, const ImageInfo *i, const ImagesArgs *a, uint64_t now) {
        size_t n_tags = strv_length(i->repo_tags);
        for (size_t k = 0; k < (n_tags ? n_tags : 1); k++) {
                _cleanup_free_ char *repo = NULL, *tag = NULL;
                if (n_tags > 0 && !tag_matches(i->repo_tags[k], a->filters))
                        continue;
                if (n_tags > 0 ? split_repo_tag(i->repo_tags[k], &repo, &tag) < 0
                               : !(repo = strdup("<none>")) || !(tag = strdup("<none>")))
                        return -ENOMEM;
                json_object **p = reallocarray(*rows, *n + 1, sizeof(json_object *));
                if (!p)
                        return -ENOMEM;
                *rows = p;
                if (!(p[*n] = image_row(i, repo, tag, a, now)))
                        return -ENOMEM;
                (*n)++;
        }
        return 0;
}

static void rows_free(json_object ***rows, size_t n) {
        for (size_t k = 0; k < n; k++)
                json_object_put((*rows)[k]);
        free(*rows);
}

int verb_images(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList objects = {};
        _cleanup_(images_args_done) ImagesArgs a = {};
        _cleanup_(json_object_putp) json_object *headers = NULL;
        _cleanup_free_ const ImageInfo **list = NULL;
        _cleanup_free_ char *why = NULL;
        json_object **rows = NULL;
        uint64_t now = now_realtime_usec(), before, since;
        size_t n = 0, n_rows = 0;
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
        r = resolve_time_filters(bus, &objects, a.filters, &before, &since);
        if (r < 0)
                return r;

        list = calloc(objects.n_images + 1, sizeof(ImageInfo *));
        if (!list)
                return ctl_log_errno(-ENOMEM, "%m");
        for (size_t i = 0; i < objects.n_images; i++)
                if (image_matches(&objects.images[i], a.filters, before, since))
                        list[n++] = &objects.images[i];
        qsort(list, n, sizeof(ImageInfo *), compare_images);

        if (a.quiet) {
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *id = format_image_id(list[i]->id, a.no_trunc);
                        if (!id)
                                return ctl_log_errno(-ENOMEM, "%m");
                        printf("%s\n", id);
                }
                return 0;
        }

        for (size_t i = 0; r >= 0 && i < n; i++)
                r = add_image_rows(&rows, &n_rows, list[i], &a, now);
        headers = json_object_new_object();
        if (!headers)
                r = -ENOMEM;
        for (size_t k = 0; r >= 0 && k < ELEMENTSOF(image_headers); k++)
                r = json_add(headers, image_headers[k][0], json_object_new_string(image_headers[k][1]));
        if (r >= 0)
                r = ctl_print_rows(
                        a.format ?: "table",
                        a.digests ? "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                                  : "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
                        headers, rows, n_rows, &why);
        rows_free(&rows, n_rows);
        if (r == -EINVAL && why) {
                ctl_log_error("invalid --format: %s", why);
                return r;
        }
        if (r < 0)
                return ctl_log_errno(r, "Failed to show the images: %m");
        return 0;
}
