/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-api: the Docker Engine API on a socket systemd passes in, translated to org.berth1 calls. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "api.h"
#include "config.h"
#include "util.h"

/* Matches "/NAME/ACTION" below prefix; NAME gets no slash. */
static bool match_object(const char *path, const char *prefix, char **ret_name, const char **ret_rest) {
        const char *p = startswith(path, prefix);
        if (!p || *p == 0)
                return false;
        const char *slash = strchr(p, '/');
        char *name = slash ? strndup(p, (size_t) (slash - p)) : strdup(p);
        if (!name)
                return false;
        if (isempty(name)) {
                free(name);
                return false;
        }
        *ret_name = name;
        *ret_rest = slash ?: "";
        return true;
}

static int not_found(ApiConn *c) {
        return api_reply_error(c, 404, "page not found");
}

static int route_containers(ApiConn *c, const char *path) {
        _cleanup_free_ char *name = NULL;
        const char *rest;

        if (streq(path, "/containers/json"))
                return c->method == API_GET ? api_containers_list(c) : not_found(c);
        if (streq(path, "/containers/create"))
                return c->method == API_POST ? api_container_create(c) : not_found(c);
        if (streq(path, "/containers/prune"))
                return c->method == API_POST ? api_containers_prune(c) : not_found(c);
        if (!match_object(path, "/containers/", &name, &rest))
                return not_found(c);
        if (streq(rest, "") || streq(rest, "/"))
                return c->method == API_DELETE ? api_container_remove(c, name) : not_found(c);
        if (streq(rest, "/json"))
                return c->method == API_GET ? api_container_inspect(c, name) : not_found(c);
        if (streq(rest, "/logs"))
                return c->method == API_GET ? api_container_logs(c, name) : not_found(c);
        if (streq(rest, "/top"))
                return c->method == API_GET ? api_container_top(c, name) : not_found(c);
        if (streq(rest, "/stats"))
                return c->method == API_GET ? api_container_stats(c, name) : not_found(c);
        if (streq(rest, "/archive")) {
                if (c->method == API_GET || c->method == API_HEAD)
                        return api_container_archive_get(c, name);
                return c->method == API_PUT ? api_container_archive_put(c, name) : not_found(c);
        }
        if (streq(rest, "/changes"))
                return c->method == API_GET ? api_container_changes(c, name) : not_found(c);
        if (streq(rest, "/export"))
                return c->method == API_GET ? api_container_export(c, name) : not_found(c);
        if (c->method != API_POST)
                return not_found(c);
        if (streq(rest, "/wait"))
                return api_container_wait(c, name);
        if (streq(rest, "/rename"))
                return api_container_rename(c, name);
        if (streq(rest, "/attach"))
                return api_container_attach(c, name);
        if (streq(rest, "/exec"))
                return api_exec_create(c, name);
        static const char *const actions[] = { "start", "stop", "restart", "kill", "pause", "unpause" };
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (rest[0] == '/' && streq(rest + 1, actions[i]))
                        return api_container_action(c, name, actions[i]);
        if (streq(rest, "/resize"))
                return api_container_resize(c, name);
        if (streq(rest, "/update"))
                return api_container_update(c, name);
        return not_found(c);
}

/* Image names hold slashes: everything up to the last "/json", "/tag", "/get", ... is the name. */
static int route_images(ApiConn *c, const char *path) {
        if (streq(path, "/images/json"))
                return c->method == API_GET ? api_images_list(c) : not_found(c);
        if (streq(path, "/images/create"))
                return c->method == API_POST ? api_image_pull(c) : not_found(c);
        if (streq(path, "/images/prune"))
                return c->method == API_POST ? api_images_prune(c) : not_found(c);
        if (streq(path, "/images/get"))
                return c->method == API_GET ? api_images_save(c, NULL) : not_found(c);
        if (streq(path, "/images/load"))
                return c->method == API_POST ? api_images_load(c) : not_found(c);
        const char *p = startswith(path, "/images/");
        if (isempty(p))
                return not_found(c);
        if (c->method == API_GET && endswith(p, "/json") && strlen(p) > 5) {
                _cleanup_free_ char *name = strndup(p, strlen(p) - 5);
                return name ? api_image_inspect(c, name) : -ENOMEM;
        }
        if (c->method == API_GET && endswith(p, "/history") && strlen(p) > 8) {
                _cleanup_free_ char *name = strndup(p, strlen(p) - 8);
                return name ? api_image_history(c, name) : -ENOMEM;
        }
        if (c->method == API_GET && endswith(p, "/get") && strlen(p) > 4) {
                _cleanup_free_ char *name = strndup(p, strlen(p) - 4);
                return name ? api_images_save(c, name) : -ENOMEM;
        }
        if (c->method == API_POST && endswith(p, "/push") && strlen(p) > 5) {
                _cleanup_free_ char *name = strndup(p, strlen(p) - 5);
                return name ? api_image_push(c, name) : -ENOMEM;
        }
        if (c->method == API_POST && endswith(p, "/tag") && strlen(p) > 4) {
                _cleanup_free_ char *name = strndup(p, strlen(p) - 4);
                return name ? api_image_tag(c, name) : -ENOMEM;
        }
        if (c->method == API_DELETE)
                return api_image_remove(c, p);
        return not_found(c);
}

static int route_volumes(ApiConn *c, const char *path) {
        _cleanup_free_ char *name = NULL;
        const char *rest;

        if (streq(path, "/volumes"))
                return c->method == API_GET ? api_volumes_list(c) : not_found(c);
        if (streq(path, "/volumes/create"))
                return c->method == API_POST ? api_volume_create(c) : not_found(c);
        if (streq(path, "/volumes/prune"))
                return c->method == API_POST ? api_volumes_prune(c) : not_found(c);
        if (!match_object(path, "/volumes/", &name, &rest) || !isempty(rest))
                return not_found(c);
        if (c->method == API_GET)
                return api_volume_inspect(c, name);
        if (c->method == API_DELETE)
                return api_volume_remove(c, name);
        return not_found(c);
}

static int route_networks(ApiConn *c, const char *path) {
        _cleanup_free_ char *name = NULL;
        const char *rest;

        if (streq(path, "/networks"))
                return c->method == API_GET ? api_networks_list(c) : not_found(c);
        if (streq(path, "/networks/create"))
                return c->method == API_POST ? api_network_create(c) : not_found(c);
        if (streq(path, "/networks/prune"))
                return c->method == API_POST ? api_networks_prune(c) : not_found(c);
        if (!match_object(path, "/networks/", &name, &rest))
                return not_found(c);
        if (streq(rest, "/connect"))
                return c->method == API_POST ? api_network_connect(c, name) : not_found(c);
        if (streq(rest, "/disconnect"))
                return c->method == API_POST ? api_network_disconnect(c, name) : not_found(c);
        if (!isempty(rest))
                return not_found(c);
        if (c->method == API_GET)
                return api_network_inspect(c, name);
        if (c->method == API_DELETE)
                return api_network_remove(c, name);
        return not_found(c);
}

static int route_exec(ApiConn *c, const char *path) {
        _cleanup_free_ char *id = NULL;
        const char *rest;

        if (!match_object(path, "/exec/", &id, &rest))
                return not_found(c);
        if (streq(rest, "/start") && c->method == API_POST)
                return api_exec_start(c, id);
        if (streq(rest, "/json") && c->method == API_GET)
                return api_exec_inspect(c, id);
        if (streq(rest, "/resize") && c->method == API_POST)
                return api_exec_resize(c, id);
        return not_found(c);
}

/* Strips "/vX.Y"; replies 400 for a version we do not speak. Returns 1 when the request goes on. */
static int negotiate_version(ApiConn *c, const char **path) {
        unsigned major, minor;
        int n = 0;

        if (sscanf(*path, "/v%u.%u%n", &major, &minor, &n) != 2 || n == 0 || ((*path)[n] != '/' && (*path)[n] != 0))
                return 1;
        if (major != 1 || minor > API_VERSION_MAX_MINOR) {
                int r = api_reply_error(c, 400,
                                        "client version %u.%u is too new. Maximum supported API version is 1.%u", major,
                                        minor, API_VERSION_MAX_MINOR);
                return r < 0 ? r : 0;
        }
        if (minor < API_VERSION_MIN_MINOR) {
                int r = api_reply_error(c, 400,
                                        "client version %u.%u is too old. Minimum supported API version is 1.%u, "
                                        "please upgrade your client to a newer version",
                                        major, minor, API_VERSION_MIN_MINOR);
                return r < 0 ? r : 0;
        }
        c->api_minor = minor;
        *path += n;
        return 1;
}

/* The bodies that are files for berthd, spooled into a memfd as they come (API_MAX_FILE_BODY):
 * cp into a container, load, import. */
static bool body_is_file(ApiMethod method, const char *url, size_t len) {
        unsigned major, minor;
        int n = 0;
        _cleanup_free_ char *path = strndup(url, len);
        if (!path)
                return false;
        path[strcspn(path, "?#")] = 0;
        const char *p = path;
        if (sscanf(p, "/v%u.%u%n", &major, &minor, &n) == 2 && n > 0)
                p += n;
        if (method == API_PUT)
                return startswith(p, "/containers/") && endswith(p, "/archive");
        return method == API_POST && (streq(p, "/images/load") || streq(p, "/images/create"));
}

static int handle(ApiConn *c) {
        const char *path = c->path;
        int r = negotiate_version(c, &path);
        if (r <= 0)
                return r;

        if (streq(path, "/_ping"))
                return c->method == API_GET || c->method == API_HEAD ? api_ping(c) : not_found(c);
        if (c->method == API_OTHER)
                return api_reply_error(c, 405, "method not allowed");
        if (streq(path, "/version"))
                return c->method == API_GET ? api_version(c) : not_found(c);
        if (streq(path, "/info"))
                return c->method == API_GET ? api_info(c) : not_found(c);
        if (streq(path, "/events"))
                return c->method == API_GET ? api_events(c) : not_found(c);
        if (streq(path, "/auth"))
                return c->method == API_POST ? api_login(c) : not_found(c);
        if (streq(path, "/system/df"))
                return c->method == API_GET ? api_system_df(c) : not_found(c);
        if (streq(path, "/commit"))
                return c->method == API_POST ? api_commit(c) : not_found(c);
        if (startswith(path, "/containers/"))
                return route_containers(c, path);
        if (startswith(path, "/exec/"))
                return route_exec(c, path);
        if (startswith(path, "/images/"))
                return route_images(c, path);
        if (startswith(path, "/volumes"))
                return route_volumes(c, path);
        if (startswith(path, "/networks"))
                return route_networks(c, path);
        return not_found(c);
}

static void help(void) {
        printf("berth-api [OPTIONS]\n\n"
               "The Docker Engine API (v1.41) of berthd, on the socket systemd passes in\n"
               "(berth-api.socket, /run/berth/docker.sock).\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --idle-timeout=SECONDS Exit after this long without a connection (default 60, 0: never)\n"
               "     --request-timeout=SECONDS\n"
               "                            Close a connection that takes longer to send a request, or\n"
               "                            stays idle between requests (default 60)\n");
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_IDLE, ARG_REQUEST_TIMEOUT };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "idle-timeout", required_argument, NULL, ARG_IDLE },
                { "request-timeout", required_argument, NULL, ARG_REQUEST_TIMEOUT },
                {},
        };
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        ApiServer server;
        uint64_t idle = 60, request_timeout = 60;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        puts(BERTH_VERSION);
                        return EXIT_SUCCESS;
                case ARG_IDLE:
                        if (parse_uint64(optarg, &idle) < 0 || idle > UINT64_MAX / USEC_PER_SEC) {
                                fprintf(stderr, "berth-api: invalid --idle-timeout: %s\n", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case ARG_REQUEST_TIMEOUT:
                        if (parse_uint64(optarg, &request_timeout) < 0 || request_timeout == 0 ||
                            request_timeout > UINT64_MAX / USEC_PER_SEC) {
                                fprintf(stderr, "berth-api: invalid --request-timeout: %s\n", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                default:
                        return EXIT_FAILURE;
                }
        if (optind < argc) {
                fprintf(stderr, "berth-api: unexpected argument: %s\n", argv[optind]);
                return EXIT_FAILURE;
        }

        r = sd_listen_fds(true);
        if (r != 1) {
                fprintf(stderr, "berth-api: expected one socket from systemd (berth-api.socket), got %d\n", r);
                return EXIT_FAILURE;
        }
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = api_server_init(&server, event, bus, SD_LISTEN_FDS_START, idle * USEC_PER_SEC,
                                    request_timeout * USEC_PER_SEC, handle);
        server.body_is_file = body_is_file;
        if (r < 0) {
                fprintf(stderr, "berth-api: failed to set up: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        (void) sd_notify(false, "READY=1");
        r = sd_event_loop(event);
        api_server_done(&server);
        if (r < 0) {
                fprintf(stderr, "berth-api: event loop failed: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
