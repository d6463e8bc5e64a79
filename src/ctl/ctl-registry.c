/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Registry verbs: pull (and the pull of run/create), push, login, logout. berthd talks to the registry; berthctl reads
 * the caller's credentials where docker and podman keep them (ctl-auth.c) and hands them to berthd
 * for that one call, as the Docker API's X-Registry-Auth does. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl-auth.h"
#include "ctl-bus.h"
#include "ctl-log.h"
#include "ctl-objects.h"
#include "ctl-registry.h"
#include "ctl.h"
#include "image-ref.h"
#include "util.h"

enum {
        ARG_PLATFORM = 0x100,
        ARG_HELP,
        ARG_PASSWORD_STDIN,
};

static int append_credentials(sd_bus_message *m, const char *reference) {
        _cleanup_(image_ref_done) ImageRef ref = {};
        _cleanup_(registry_auth_done) RegistryAuth auth = {};
        int r;
        /* A short name berthd resolves through registries.conf may land elsewhere: its credentials are
         * those of docker.io then, as for docker. */
        if (image_ref_parse(reference, &ref) < 0 || registry_auth_lookup(ref.domain, &auth) < 0)
                return 0;
        const struct {
                const char *key, *value;
        } fields[] = {
                { "Username", auth.username },
                { "Password", auth.password },
                { "IdentityToken", auth.identity_token },
        };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (fields[i].value && (r = sd_bus_message_append(m, "{sv}", fields[i].key, "s", fields[i].value)) < 0)
                        return r;
        return 0;
}

/* A Manager call "METHOD(s reference, a{sv} options)" with the caller's credentials for the registry
 * and, when not NULL, the platform. Logs on failure. */
static int new_registry_call(sd_bus *bus, const char *method, const char *reference, const char *platform,
                             sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER, method);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", reference);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && platform)
                r = sd_bus_message_append(m, "{sv}", "Platform", "s", platform);
        if (r >= 0)
                r = append_credentials(m, reference);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the %s call: %m", method);
        *ret = TAKE_PTR(m);
        return 0;
}

/* A pull being followed: its transfer object, once announced, and what was shown of its layers. */
typedef struct TransferWatch {
        const char *type; /* "pull" or "push" */
        const char *reference;
        const char *unique_name;
        char *transfer;
        sd_bus_slot *changes;
        bool tty, quiet;
        char **shown; /* "digest status", what each layer showed last */
        size_t lines; /* drawn on the terminal, to go back over */
        sd_bus_message *reply;
        sd_bus_error error;
        bool done;
} TransferWatch;

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
        interrupted = 1;
}

static void format_size(uint64_t n, char *buf, size_t len) {
        if (n >= 1000 * 1000)
                snprintf(buf, len, "%.1fMB", (double) n / 1e6);
        else if (n >= 1000)
                snprintf(buf, len, "%.1fkB", (double) n / 1e3);
        else
                snprintf(buf, len, "%" PRIu64 "B", n);
}

/* One line per layer as docker shows it: a bar while downloading on a terminal; elsewhere a line
 * each time a layer's state changes. */
static void show_layers(TransferWatch *w, sd_bus_message *layers) {
        const char *digest, *status;
        uint64_t current, total;
        size_t k = 0;
        if (w->quiet || sd_bus_message_enter_container(layers, 'a', "(sstt)") < 0)
                return;
        if (w->tty && w->lines > 0)
                printf("\033[%zuA", w->lines); /* back over what was drawn */
        while (sd_bus_message_read(layers, "(sstt)", &digest, &status, &current, &total) > 0) {
                const char *hex = startswith(digest, "sha256:") ?: digest;
                if (w->tty) {
                        char have[32], all[32], bar[52] = "";
                        if (streq(status, "Downloading") && total > 0) {
                                size_t n = (size_t) (current * 50 / total);
                                memset(bar, '=', n);
                                bar[n < 50 ? n : 49] = '>';
                                memset(bar + n + 1, ' ', n < 49 ? 49 - n : 0);
                                bar[50] = 0;
                                format_size(current, have, sizeof(have));
                                format_size(total, all, sizeof(all));
                                printf("\033[2K%.12s: %s [%s]  %s/%s\n", hex, status, bar, have, all);
                        } else
                                printf("\033[2K%.12s: %s\n", hex, status);
                } else {
                        _cleanup_free_ char *line = NULL;
                        if (asprintf(&line, "%s %s", digest, status) < 0)
                                return;
                        if (!strv_contains(w->shown, line)) {
                                printf("%.12s: %s\n", hex, status);
                                (void) strv_push(&w->shown, line);
                        }
                }
                k++;
        }
        if (w->tty)
                w->lines = k;
        fflush(stdout);
        (void) sd_bus_message_exit_container(layers);
}

static int on_transfer_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        TransferWatch *w = userdata;
        const char *iface, *name;
        if (sd_bus_message_read(m, "s", &iface) < 0 || sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return 0;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                if (sd_bus_message_read(m, "s", &name) < 0)
                        return 0;
                if (streq(name, "Layers") && sd_bus_message_enter_container(m, 'v', "a(sstt)") > 0) {
                        show_layers(w, m);
                        (void) sd_bus_message_exit_container(m);
                } else
                        (void) sd_bus_message_skip(m, "v");
                (void) sd_bus_message_exit_container(m);
        }
        return 0;
}

static int on_transfer_new(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        TransferWatch *w = userdata;
        const char *path, *type, *reference, *owner;
        uint32_t id;
        if (w->transfer || sd_bus_message_read(m, "uosss", &id, &path, &type, &reference, &owner) < 0 ||
            !streq(type, w->type) || !streq(reference, w->reference) || !streq_ptr(owner, w->unique_name))
                return 0;
        w->transfer = strdup(path);
        if (w->transfer)
                (void) sd_bus_match_signal(sd_bus_message_get_bus(m), &w->changes, "org.berth1", path,
                                           "org.freedesktop.DBus.Properties", "PropertiesChanged", on_transfer_changed,
                                           w);
        return 0;
}

static int on_call_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        TransferWatch *w = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        if (e)
                (void) sd_bus_error_copy(&w->error, e);
        else
                w->reply = sd_bus_message_ref(m);
        w->done = true;
        return 0;
}

/* Sends a PullImage or PushImage call and waits for its answer, showing the transfer's layers (when
 * the bus carries berthd's signals: the system bus) and cancelling it on Ctrl-C. */
static int call_watched(sd_bus *bus, sd_bus_message *call, TransferWatch *w) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *news = NULL, *reply_slot = NULL;
        struct sigaction sa = { .sa_handler = on_interrupt }, old_int, old_term;
        int r;

        if (sd_bus_get_unique_name(bus, &w->unique_name) >= 0)
                (void) sd_bus_match_signal(bus, &news, "org.berth1", "/org/berth1", "org.berth1.Manager", "TransferNew",
                                           on_transfer_new, w);
        r = sd_bus_call_async(bus, &reply_slot, call, on_call_reply, w, UINT64_MAX);
        if (r < 0)
                return r;
        interrupted = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        bool cancel_sent = false;
        while (!w->done) {
                if (interrupted && !cancel_sent) {
                        cancel_sent = true;
                        if (w->transfer)
                                (void) sd_bus_call_method(bus, "org.berth1", w->transfer, "org.berth1.Transfer",
                                                          "Cancel", NULL, NULL, NULL);
                        else
                                break; /* not announced (the private socket): nothing to cancel */
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r == 0 && (r = sd_bus_wait(bus, 200 * 1000)) < 0 && r != -EINTR)
                        break;
                r = 0;
        }
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sd_bus_slot_unref(w->changes);
        if (!w->done && interrupted)
                return -EINTR;
        return r < 0 ? r : 0;
}

/* call_watched() of a pull or push, then its answer: *ret_reply, or the error, logged. */
static int registry_call(sd_bus *bus, sd_bus_message *call, const char *type, const char *reference, bool quiet,
                         sd_bus_message **ret_reply) {
        TransferWatch w = { .type = type,
                            .reference = reference,
                            .tty = isatty(STDOUT_FILENO),
                            .quiet = quiet,
                            .error = SD_BUS_ERROR_NULL };
        int r = call_watched(bus, call, &w);
        free(w.transfer);
        strv_free(w.shown);
        if (r >= 0 && !w.reply)
                r = -EIO;
        if (r == -EINTR)
                ctl_log_error("%s of %s interrupted", type, reference);
        else if (r < 0)
                r = ctl_log_bus_error(&w.error, r);
        sd_bus_error_free(&w.error);
        if (r < 0) {
                sd_bus_message_unref(w.reply);
                return r;
        }
        *ret_reply = w.reply;
        return 0;
}

int ctl_pull_image(sd_bus *bus, const char *reference, const char *platform, bool quiet) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(image_ref_done) ImageRef ref = {};
        _cleanup_free_ char *full = NULL, *familiar = NULL, *before = NULL;
        const char *path, *digest;
        int r;

        if (image_ref_parse(reference, &ref) < 0) {
                ctl_log_error("invalid reference format \"%s\": expected [REGISTRY/]NAME[:TAG][@DIGEST] with a "
                              "lowercase name",
                              reference);
                return -EINVAL;
        }
        full = image_ref_string(&ref);
        familiar = image_ref_familiar(&ref);
        if (!full || !familiar)
                return ctl_log_errno(-ENOMEM, "%m");
        if (!quiet) {
                if (!strchr(reference, '@') && !strchr(strrchr(reference, '/') ?: reference, ':'))
                        printf("Using default tag: latest\n");
                printf("%s: Pulling from %s\n", ref.digest ?: ref.tag, ref.path);
                fflush(stdout);
        }
        /* Whether the image was here before: "up to date" or "downloaded newer". */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *found = NULL;
                const char *p;
                if (ctl_bus_call_manager(bus, "GetImage", CTL_TIMEOUT_DEFAULT, NULL, &found, "s", familiar) >= 0 &&
                    sd_bus_message_read(found, "o", &p) > 0)
                        before = strdup(p);
        }

        r = new_registry_call(bus, "PullImage", reference, platform, &m);
        if (r < 0)
                return r;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        r = registry_call(bus, m, "pull", reference, quiet, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "os", &path, &digest);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of PullImage: %m");
        if (!quiet) {
                printf("Digest: %s\n", digest);
                printf("Status: %s %s\n",
                       streq_ptr(before, path) ? "Image is up to date for" : "Downloaded newer image for", familiar);
        }
        printf("%s\n", full);
        return 0;
}

/* pull -a: every tag the registry lists for the repository, one pull each. */
static int pull_all_tags(sd_bus *bus, const char *repository, const char *platform, bool quiet) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(image_ref_done) ImageRef ref = {};
        _cleanup_strv_free_ char **tags = NULL;
        int r;

        if (image_ref_parse(repository, &ref) < 0 || ref.digest ||
            strchr(strrchr(repository, '/') ?: repository, ':')) {
                ctl_log_error("tag can't be used with --all-tags/-a");
                return -EINVAL;
        }
        r = new_registry_call(bus, "ListRegistryTags", repository, NULL, &m);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, CTL_TIMEOUT_INFINITE, &error, &reply);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_read_strv(reply, &tags);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of ListRegistryTags: %m");
        if (strv_length(tags) == 0) {
                ctl_log_error("Repository %s has no tags", repository);
                return -ENOENT;
        }
        for (char **t = tags; *t; t++) {
                _cleanup_free_ char *one = strjoin(repository, ":", *t);
                if (!one)
                        return ctl_log_errno(-ENOMEM, "%m");
                r = ctl_pull_image(bus, one, platform, quiet);
                if (r < 0)
                        return r;
        }
        return 0;
}

int verb_pull(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "all-tags", no_argument, NULL, 'a' },
                { "platform", required_argument, NULL, ARG_PLATFORM },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        const char *platform = NULL;
        bool quiet = false, all_tags = false;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:aqh", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        all_tags = true;
                        break;
                case ARG_PLATFORM:
                        platform = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl pull [OPTIONS] NAME[:TAG|@DIGEST]\n"
                               "\n"
                               "Download an image from a registry. Short names are Docker's (busybox is\n"
                               "docker.io/library/busybox:latest) unless /etc/containers/registries.conf\n"
                               "has an alias or search registries for them. Credentials are read from\n"
                               "~/.docker/config.json and containers-auth.json, as docker and podman keep them.\n"
                               "\n"
                               "Options:\n"
                               "  -a, --all-tags                    Pull every tag of the repository\n"
                               "      --platform=OS/ARCH[/VARIANT]  Pull this platform of a multi-platform image\n"
                               "  -q, --quiet                       Print only the image's full name\n"
                               "  -h, --help                        Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("pull", c, argv);
                }
        if (argc - optind != 1) {
                ctl_log_error("\"berthctl pull\" requires exactly 1 argument (see 'berthctl pull --help')");
                return -EINVAL;
        }
        ctl->signals = !quiet; /* the system bus: the transfer's progress is signalled there */
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        if (all_tags)
                return pull_all_tags(bus, argv[optind], platform, quiet);
        r = ctl_pull_image(bus, argv[optind], platform, quiet);
        return r < 0 ? r : 0;
}

int verb_push(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(image_ref_done) ImageRef ref = {};
        const char *digest;
        bool quiet = false;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:qh", options, NULL)) >= 0)
                switch (c) {
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl push [OPTIONS] NAME[:TAG]\n"
                               "\n"
                               "Upload an image to its registry (the one its name starts with, docker.io\n"
                               "for a short name) as an OCI image with gzip'd layers.\n"
                               "\n"
                               "Options:\n"
                               "  -q, --quiet   Print nothing but errors\n"
                               "  -h, --help    Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("push", c, argv);
                }
        if (argc - optind != 1) {
                ctl_log_error("\"berthctl push\" requires exactly 1 argument (see 'berthctl push --help')");
                return -EINVAL;
        }
        const char *reference = argv[optind];
        if (image_ref_parse(reference, &ref) < 0 || ref.digest) {
                ctl_log_error("invalid reference format \"%s\": expected [REGISTRY/]NAME[:TAG]", reference);
                return -EINVAL;
        }
        ctl->signals = !quiet; /* the system bus: the transfer's progress is signalled there */
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        if (!quiet) {
                printf("The push refers to repository [%s/%s]\n", ref.domain, ref.path);
                fflush(stdout);
        }
        r = new_registry_call(bus, "PushImage", reference, NULL, &m);
        if (r < 0)
                return r;
        r = registry_call(bus, m, "push", reference, quiet, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &digest);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of PushImage: %m");
        if (!quiet)
                printf("%s: digest: %s\n", ref.tag ?: "latest", digest);
        return 0;
}

/* A line of standard input without its newline; echo off on a terminal (for a password). */
static char *read_line(const char *prompt, bool secret) {
        struct termios saved, t;
        bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) >= 0;
        char *line = NULL;
        size_t n = 0;
        if (prompt && isatty(STDIN_FILENO)) {
                fputs(prompt, stderr);
                fflush(stderr);
        }
        if (tty && secret) {
                t = saved;
                t.c_lflag &= ~(tcflag_t) ECHO;
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &t);
        }
        ssize_t k = getline(&line, &n, stdin);
        if (tty && secret) {
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
                fputc('\n', stderr);
        }
        if (k < 0) {
                free(line);
                return NULL;
        }
        line[strcspn(line, "\r\n")] = 0;
        return line;
}

/* The registry host a login or logout names: "docker.io" when none, a URL's host. */
static const char *login_server(const char *arg) {
        if (isempty(arg))
                return "docker.io";
        const char *s = startswith(arg, "https://") ?: startswith(arg, "http://") ?: arg;
        static char host[256];
        snprintf(host, sizeof(host), "%.*s", (int) strcspn(s, "/"), s);
        if (streq(host, "index.docker.io") || streq(host, "registry-1.docker.io"))
                return "docker.io";
        return host;
}

int verb_login(int argc, char *argv[], Ctl *ctl) {
        static const struct option options[] = {
                { "username", required_argument, NULL, 'u' },
                { "password", required_argument, NULL, 'p' },
                { "password-stdin", no_argument, NULL, ARG_PASSWORD_STDIN },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *user_read = NULL, *password = NULL;
        const char *user = NULL, *status;
        bool password_stdin = false;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:u:p:h", options, NULL)) >= 0)
                switch (c) {
                case 'u':
                        user = optarg;
                        break;
                case 'p':
                        free(password);
                        password = strdup(optarg);
                        if (!password)
                                return ctl_log_errno(-ENOMEM, "%m");
                        explicit_bzero(optarg, strlen(optarg)); /* out of the process title */
                        break;
                case ARG_PASSWORD_STDIN:
                        password_stdin = true;
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl login [OPTIONS] [SERVER]\n"
                               "\n"
                               "Log in to a registry (docker.io when no SERVER is given): berthd checks the\n"
                               "credentials with the registry, and they are kept where docker keeps them\n"
                               "(~/.docker/config.json, or its credential helper).\n"
                               "\n"
                               "Options:\n"
                               "  -u, --username=USER     The user name\n"
                               "  -p, --password=PASS     The password (insecure: use --password-stdin)\n"
                               "      --password-stdin    Read the password from standard input\n"
                               "  -h, --help              Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("login", c, argv);
                }
        if (argc - optind > 1) {
                ctl_log_error("\"berthctl login\" accepts at most 1 argument (see 'berthctl login --help')");
                return -EINVAL;
        }
        const char *server = login_server(argc > optind ? argv[optind] : NULL);
        if (password && password_stdin) {
                ctl_log_error("--password and --password-stdin are mutually exclusive");
                return -EINVAL;
        }
        if (password_stdin && !user) {
                ctl_log_error("Must provide --username with --password-stdin");
                return -EINVAL;
        }
        if (password)
                fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
        if (!user) {
                user = user_read = read_line("Username: ", false);
                if (isempty(user)) {
                        ctl_log_error("Error: Non-null Username Required");
                        return -EINVAL;
                }
        }
        if (!password) {
                password = read_line(password_stdin ? NULL : "Password: ", !password_stdin);
                if (isempty(password)) {
                        ctl_log_error("Error: Password Required");
                        return -EINVAL;
                }
        }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = ctl_bus_call_manager(bus, "Login", CTL_TIMEOUT_INFINITE, &error, &reply, "sa{sv}", server, 2, "Username",
                                 "s", user, "Password", "s", password);
        if (r >= 0 && (r = sd_bus_message_read(reply, "s", &status)) < 0)
                sd_bus_error_set_errnof(&error, r, "Failed to parse the reply of Login: %m");
        if (r >= 0)
                r = registry_auth_store(server, user, password);
        explicit_bzero(password, strlen(password));
        if (r < 0 && sd_bus_error_is_set(&error))
                return ctl_log_bus_error(&error, r);
        if (r < 0)
                return ctl_log_errno(r, "Failed to store the credentials for %s: %m", server);
        printf("%s\n", status);
        return 0;
}

int verb_logout(int argc, char *argv[], Ctl *ctl) {
        if (argc > 1 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                printf("Usage: berthctl logout [SERVER]\n"
                       "\n"
                       "Forget the credentials of a registry (docker.io when no SERVER is given).\n");
                return 0;
        }
        if (argc > 2) {
                ctl_log_error("\"berthctl logout\" accepts at most 1 argument (see 'berthctl logout --help')");
                return -EINVAL;
        }
        const char *server = login_server(argc > 1 ? argv[1] : NULL);
        int r = registry_auth_erase(server);
        if (r < 0)
                return ctl_log_errno(r, "Failed to remove the credentials for %s: %m", server);
        if (r == 0)
                printf("Not logged in to %s\n", server);
        else
                printf("Removing login credentials for %s\n", server);
        return 0;
}
