/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client side of Docker's volume plugin protocol, with libcurl (HTTP over a unix socket or TCP)
 * on berthd's loop (curl-event.c): a plugin that hangs delays only the operations that wait for it,
 * never another client's call. */
#include <curl/curl.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "curl-event.h"
#include "errors.h"
#include "json-util.h"
#include "util.h"
#include "volume-plugin.h"

#define PLUGIN_CONNECT_TIMEOUT_MS 2000L
#define PLUGIN_CALL_TIMEOUT_MS    15000L
#define PLUGIN_REPLY_MAX          (4U << 20)

static const char *const socket_dirs[] = { "/run/docker/plugins" };
static const char *const spec_dirs[] = { "/etc/docker/plugins", "/usr/lib/docker/plugins" };

/* Docker's plugin names may carry a tag ("name:latest"); no slashes, nothing that walks paths. */
bool volume_driver_name_is_valid(const char *name) {
        if (isempty(name) || strlen(name) > 128 || name[0] == '.' || name[0] == '-')
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("_.-:", *p)))
                        return false;
        return true;
}

static bool is_socket(const char *path) {
        struct stat st;
        return stat(path, &st) >= 0 && S_ISSOCK(st.st_mode);
}

/* Where the plugin listens: *ret_socket (a unix socket path) or *ret_url_base ("http://host:port"). */
static int plugin_locate(Manager *m, const char *name, char **ret_socket, char **ret_url_base) {
        _cleanup_free_ char *own = manager_run_path(m, "plugins/%s.sock", name);
        if (!own)
                return -ENOMEM;
        if (is_socket(own)) {
                *ret_socket = TAKE_PTR(own);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(socket_dirs); i++) {
                _cleanup_free_ char *flat = NULL, *sub = NULL;
                if (asprintf(&flat, "%s/%s.sock", socket_dirs[i], name) < 0 ||
                    asprintf(&sub, "%s/%s/%s.sock", socket_dirs[i], name, name) < 0)
                        return -ENOMEM;
                if (is_socket(flat) || is_socket(sub)) {
                        *ret_socket = is_socket(flat) ? TAKE_PTR(flat) : TAKE_PTR(sub);
                        return 0;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(spec_dirs); i++)
                for (int json = 0; json <= 1; json++) {
                        _cleanup_free_ char *path = NULL, *text = NULL;
                        _cleanup_json_ json_object *o = NULL;
                        const char *addr;
                        if (asprintf(&path, "%s/%s.%s", spec_dirs[i], name, json ? "json" : "spec") < 0)
                                return -ENOMEM;
                        if (read_full_file(path, &text, NULL) < 0)
                                continue;
                        if (json) {
                                if (json_parse_buffer(text, strlen(text), &o) < 0 ||
                                    !(addr = json_get_string(o, "Addr")))
                                        return -EBADMSG;
                        } else {
                                text[strcspn(text, "\r\n")] = 0;
                                addr = text;
                        }
                        if (startswith(addr, "unix://") && addr[7] == '/')
                                *ret_socket = strdup(addr + 7);
                        else if (startswith(addr, "tcp://") && addr[6])
                                *ret_url_base = strjoin("http://", addr + 6);
                        else
                                return -EBADMSG;
                        return (*ret_socket || *ret_url_base) ? 0 : -ENOMEM;
                }
        return -ENOENT;
}

/* One call to a plugin, with the activation it may need first (Plugin.Activate, then
 * VolumeDriver.Capabilities, once per plugin and berthd run). */
typedef enum CallStage {
        STAGE_ACTIVATE,
        STAGE_CAPABILITIES,
        STAGE_CALL,
} CallStage;

struct PluginCall {
        Manager *manager;
        PluginCall *prev, *next; /* m->plugin_calls */
        char *plugin, *call, *body;
        CallStage stage;
        CURL *easy;
        struct curl_slist *headers;
        char *data; /* the reply so far */
        size_t len;
        char curl_error[CURL_ERROR_SIZE];
        sd_event_source *defer; /* a failure found before any request: reported from the loop */
        sd_bus_error error;
        PluginReplyFunc done; /* NULL once cancelled */
        void *userdata;
};

static void call_free(PluginCall *pc) {
        Manager *m = pc->manager;
        if (pc->prev)
                pc->prev->next = pc->next;
        else
                m->plugin_calls = pc->next;
        if (pc->next)
                pc->next->prev = pc->prev;
        if (pc->easy) {
                curl_event_remove(m->curl, pc->easy);
                curl_easy_cleanup(pc->easy);
        }
        curl_slist_free_all(pc->headers);
        sd_event_source_disable_unref(pc->defer);
        sd_bus_error_free(&pc->error);
        free(pc->data);
        free(pc->plugin);
        free(pc->call);
        free(pc->body);
        free(pc);
}

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata) {
        PluginCall *pc = userdata;
        size_t add = size * n;
        if (pc->len + add > PLUGIN_REPLY_MAX)
                return 0; /* makes curl fail the transfer */
        char *p = realloc(pc->data, pc->len + add + 1);
        if (!p)
                return 0;
        memcpy(p + pc->len, ptr, add);
        pc->data = p;
        pc->len += add;
        p[pc->len] = 0;
        return add;
}

static void plugin_forget(Manager *m, const char *name) {
        char **w = m->volume_plugins_active;
        for (char **a = m->volume_plugins_active; a && *a; a++)
                if (streq(*a, name))
                        free(*a);
                else
                        *w++ = *a;
        if (w)
                *w = NULL;
}

static bool plugin_is_active(Manager *m, const char *name) {
        return strv_contains(m->volume_plugins_active, name);
}

/* The end of a call: its callback, then it is gone. A plugin that went away (restarted, replaced)
 * is activated again at the next call. */
static void call_finish(PluginCall *pc, json_object *reply) {
        if (!reply && sd_bus_error_has_name(&pc->error, BERTH_ERROR_PLUGIN_FAILED) &&
            strstr(pc->error.message ?: "", "not reachable"))
                plugin_forget(pc->manager, pc->plugin);
        if (pc->done)
                pc->done(pc->manager, reply, reply ? NULL : &pc->error, pc->userdata);
        call_free(pc);
}

static int call_post(PluginCall *pc);

static void call_fail_errno(PluginCall *pc, int r) {
        if (!sd_bus_error_is_set(&pc->error))
                (void) sd_bus_error_set_errnof(&pc->error, -r, "Calling volume plugin \"%s\" failed: %m", pc->plugin);
        call_finish(pc, NULL);
}

static void on_transfer_done(CURL *easy, CURLcode code, void *userdata) {
        PluginCall *pc = userdata;
        const char *name = pc->plugin,
                   *what = pc->stage == STAGE_ACTIVATE ? "Plugin.Activate"
                : pc->stage == STAGE_CAPABILITIES      ? "VolumeDriver.Capabilities"
                                                       : pc->call;
        long status = 0;
        _cleanup_json_ json_object *o = NULL;

        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        if (code != CURLE_OK)
                (void) sd_bus_error_setf(&pc->error, BERTH_ERROR_PLUGIN_FAILED,
                                         "Volume plugin \"%s\" is not reachable (%s): %s", name, what,
                                         pc->curl_error[0] ? pc->curl_error : curl_easy_strerror(code));
        else if (json_parse_buffer(pc->data ?: "{}", pc->data ? pc->len : 2, &o) < 0 ||
                 !json_object_is_type(o, json_type_object))
                (void) sd_bus_error_setf(&pc->error, BERTH_ERROR_PLUGIN_FAILED,
                                         "Volume plugin \"%s\" answered %s with HTTP %ld and no JSON object.", name,
                                         what, status);
        else if (!isempty(json_get_string(o, "Err")) || status != 200)
                (void) sd_bus_error_setf(&pc->error, BERTH_ERROR_PLUGIN_FAILED, "Volume plugin \"%s\" failed %s: %s",
                                         name, what, json_get_string(o, "Err") ?: "(no error message)");
        curl_slist_free_all(pc->headers);
        pc->headers = NULL;
        curl_easy_cleanup(pc->easy);
        pc->easy = NULL;
        pc->data = mfree(pc->data);
        pc->len = 0;

        switch (pc->stage) {
        case STAGE_ACTIVATE: {
                if (sd_bus_error_is_set(&pc->error))
                        return call_finish(pc, NULL);
                json_object *implements;
                bool volume_driver = false;
                if (json_object_object_get_ex(o, "Implements", &implements) &&
                    json_object_is_type(implements, json_type_array))
                        for (size_t i = 0; i < json_object_array_length(implements); i++)
                                volume_driver = volume_driver ||
                                        streq(json_object_get_string(json_object_array_get_idx(implements, i)) ?: "",
                                              "VolumeDriver");
                if (!volume_driver) {
                        (void) sd_bus_error_setf(&pc->error, BERTH_ERROR_PLUGIN_FAILED,
                                                 "Plugin \"%s\" does not implement VolumeDriver.", name);
                        return call_finish(pc, NULL);
                }
                pc->stage = STAGE_CAPABILITIES;
                break;
        }
        case STAGE_CAPABILITIES:
                /* Capabilities are advisory ("global" or "local" scope; on a single host both behave
                 * alike) and optional, as in Docker: older plugins do not implement the call. An
                 * unreachable plugin is another matter. */
                if (code != CURLE_OK)
                        return call_finish(pc, NULL);
                sd_bus_error_free(&pc->error);
                if (!plugin_is_active(pc->manager, name) && strv_push(&pc->manager->volume_plugins_active, name) < 0)
                        return call_fail_errno(pc, -ENOMEM);
                pc->stage = STAGE_CALL;
                break;
        case STAGE_CALL:
                return call_finish(pc, sd_bus_error_is_set(&pc->error) ? NULL : o);
        }
        int r = call_post(pc);
        if (r < 0)
                call_fail_errno(pc, r);
}

/* Sends the request of the call's stage; on_transfer_done() takes the answer. */
static int call_post(PluginCall *pc) {
        Manager *m = pc->manager;
        _cleanup_free_ char *socket = NULL, *base = NULL, *url = NULL;
        const char *name = pc->plugin;
        int r = plugin_locate(m, name, &socket, &base);
        if (r == -ENOENT)
                return sd_bus_error_setf(&pc->error, BERTH_ERROR_NO_SUCH_PLUGIN,
                                         "No volume plugin \"%s\": no %s/plugins/%s.sock, no socket in "
                                         "/run/docker/plugins and no spec file in /etc/docker/plugins.",
                                         name, m->run_dir, name);
        if (r == -EBADMSG)
                return sd_bus_error_setf(&pc->error, BERTH_ERROR_PLUGIN_FAILED,
                                         "The spec file of volume plugin \"%s\" has no usable address (expected "
                                         "unix:///PATH or tcp://HOST:PORT).",
                                         name);
        if (r < 0)
                return r;
        const char *call = pc->stage == STAGE_ACTIVATE ? "Plugin.Activate"
                : pc->stage == STAGE_CAPABILITIES      ? "VolumeDriver.Capabilities"
                                                       : pc->call;
        if (asprintf(&url, "%s/%s", base ?: "http://plugin", call) < 0)
                return -ENOMEM;
        pc->easy = curl_easy_init();
        pc->headers = curl_slist_append(NULL, "Accept: application/vnd.docker.plugins.v1.2+json");
        if (pc->headers)
                pc->headers = curl_slist_append(pc->headers, "Content-Type: application/json");
        if (!pc->easy || !pc->headers)
                return -ENOMEM;
        if (socket)
                curl_easy_setopt(pc->easy, CURLOPT_UNIX_SOCKET_PATH, socket);
        curl_easy_setopt(pc->easy, CURLOPT_URL, url);
        curl_easy_setopt(pc->easy, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(pc->easy, CURLOPT_HTTPHEADER, pc->headers);
        curl_easy_setopt(pc->easy, CURLOPT_COPYPOSTFIELDS, pc->stage == STAGE_CALL ? pc->body : "{}");
        curl_easy_setopt(pc->easy, CURLOPT_CONNECTTIMEOUT_MS, PLUGIN_CONNECT_TIMEOUT_MS);
        curl_easy_setopt(pc->easy, CURLOPT_TIMEOUT_MS, PLUGIN_CALL_TIMEOUT_MS);
        curl_easy_setopt(pc->easy, CURLOPT_NOSIGNAL, 1L);
        /* One connection per call, as a plugin may serve one connection at a time: an idle one kept
         * for reuse would hold up the calls of others. */
        curl_easy_setopt(pc->easy, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(pc->easy, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(pc->easy, CURLOPT_WRITEDATA, pc);
        curl_easy_setopt(pc->easy, CURLOPT_ERRORBUFFER, pc->curl_error);
        pc->curl_error[0] = 0;
        return curl_event_add(m->curl, pc->easy, on_transfer_done, pc);
}

static int on_deferred_failure(sd_event_source *s, void *userdata) {
        (void) s;
        call_finish(userdata, NULL);
        return 0;
}

int volume_plugin_call(Manager *m, const char *name, const char *method, json_object *request, PluginReplyFunc done,
                       void *userdata, PluginCall **ret) {
        int r;
        if (!m->curl && (r = curl_event_new(m->event, &m->curl)) < 0)
                return r;
        PluginCall *pc = calloc(1, sizeof(*pc));
        if (!pc)
                return -ENOMEM;
        *pc = (PluginCall){ .manager = m,
                            .next = m->plugin_calls,
                            .done = done,
                            .userdata = userdata,
                            .stage = plugin_is_active(m, name) ? STAGE_CALL : STAGE_ACTIVATE,
                            .error = SD_BUS_ERROR_NULL };
        if (m->plugin_calls)
                m->plugin_calls->prev = pc;
        m->plugin_calls = pc;
        pc->plugin = strdup(name);
        pc->call = strjoin("VolumeDriver.", method);
        pc->body = strdup(request ? json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN) : "{}");
        if (!pc->plugin || !pc->call || !pc->body) {
                pc->done = NULL;
                call_free(pc);
                return -ENOMEM;
        }
        r = call_post(pc);
        if (r < 0) {
                /* Reported like every other answer: later, from the loop. */
                if (!sd_bus_error_is_set(&pc->error))
                        (void) sd_bus_error_set_errnof(&pc->error, -r, "Calling volume plugin \"%s\" failed: %m", name);
                r = sd_event_add_defer(m->event, &pc->defer, on_deferred_failure, pc);
                if (r < 0) {
                        pc->done = NULL;
                        call_free(pc);
                        return r;
                }
        }
        if (ret)
                *ret = pc;
        return 0;
}

void volume_plugin_call_cancel(PluginCall *pc) {
        if (pc)
                pc->done = NULL; /* it runs to its end; nobody hears the answer */
}

static int add_names(char ***l, const char *dir, const char *suffix) {
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d))) {
                _cleanup_free_ char *name = NULL;
                if (endswith(de->d_name, suffix))
                        name = strndup(de->d_name, strlen(de->d_name) - strlen(suffix));
                else if (streq(suffix, ".sock") && de->d_type == DT_DIR && volume_driver_name_is_valid(de->d_name))
                        name = strdup(de->d_name); /* the NAME/NAME.sock layout; checked by locate */
                else
                        continue;
                if (!name)
                        r = -ENOMEM;
                else if (volume_driver_name_is_valid(name) && !strv_contains(*l, name))
                        r = strv_push(l, name);
        }
        closedir(d);
        return r;
}

int volume_plugins_discover(Manager *m, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *own = manager_run_path(m, "plugins");
        int r;
        if (!l || !own)
                return -ENOMEM;
        if ((r = add_names(&l, own, ".sock")) < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(socket_dirs); i++)
                if ((r = add_names(&l, socket_dirs[i], ".sock")) < 0)
                        return r;
        for (size_t i = 0; i < ELEMENTSOF(spec_dirs); i++)
                if ((r = add_names(&l, spec_dirs[i], ".spec")) < 0 || (r = add_names(&l, spec_dirs[i], ".json")) < 0)
                        return r;
        *ret = TAKE_PTR(l);
        return 0;
}

void manager_free_volume_plugins(Manager *m) {
        while (m->plugin_calls) {
                m->plugin_calls->done = NULL;
                call_free(m->plugin_calls);
        }
        m->curl = curl_event_free(m->curl);
        strv_free(m->volume_plugins_active);
        m->volume_plugins_active = NULL;
}
