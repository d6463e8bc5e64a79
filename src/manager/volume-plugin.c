/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client side of Docker's volume plugin protocol, with libcurl (HTTP over a unix socket or TCP).
 * Calls are synchronous with short time limits: plugins are local services, and the start path
 * needs the Mountpoint before anything else can happen. */
#include <curl/curl.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

typedef struct Reply {
        char *data;
        size_t len;
} Reply;

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata) {
        Reply *r = userdata;
        size_t add = size * n;
        if (r->len + add > PLUGIN_REPLY_MAX)
                return 0; /* makes curl fail the transfer */
        char *p = realloc(r->data, r->len + add + 1);
        if (!p)
                return 0;
        memcpy(p + r->len, ptr, add);
        r->data = p;
        r->len += add;
        p[r->len] = 0;
        return add;
}

/* One POST; *ret is the parsed JSON reply. The error sentence names the plugin and the call. */
static int plugin_post(Manager *m, const char *name, const char *call, json_object *request, json_object **ret,
                       sd_bus_error *error) {
        _cleanup_free_ char *socket = NULL, *base = NULL, *url = NULL;
        int r = plugin_locate(m, name, &socket, &base);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_PLUGIN,
                                         "No volume plugin \"%s\": no %s/plugins/%s.sock, no socket in "
                                         "/run/docker/plugins and no spec file in /etc/docker/plugins.",
                                         name, m->run_dir, name);
        if (r == -EBADMSG)
                return sd_bus_error_setf(error, BERTH_ERROR_PLUGIN_FAILED,
                                         "The spec file of volume plugin \"%s\" has no usable address (expected "
                                         "unix:///PATH or tcp://HOST:PORT).",
                                         name);
        if (r < 0)
                return r;
        if (asprintf(&url, "%s/%s", base ?: "http://plugin", call) < 0)
                return -ENOMEM;

        const char *body = request ? json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN) : "{}";
        Reply reply = {};
        long status = 0;
        char curl_error[CURL_ERROR_SIZE] = "";
        CURL *curl = curl_easy_init();
        struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/vnd.docker.plugins.v1.2+json");
        headers = headers ? curl_slist_append(headers, "Content-Type: application/json") : NULL;
        if (!curl || !headers) {
                curl_easy_cleanup(curl);
                curl_slist_free_all(headers);
                return -ENOMEM;
        }
        if (socket)
                curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, PLUGIN_CONNECT_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, PLUGIN_CALL_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
        CURLcode code = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(curl);
        curl_slist_free_all(headers);
        _cleanup_free_ char *data = reply.data;

        if (code != CURLE_OK)
                return sd_bus_error_setf(error, BERTH_ERROR_PLUGIN_FAILED,
                                         "Volume plugin \"%s\" is not reachable (%s): %s", name, call,
                                         curl_error[0] ? curl_error : curl_easy_strerror(code));
        _cleanup_json_ json_object *o = NULL;
        if (json_parse_buffer(data ?: "{}", data ? reply.len : 2, &o) < 0 || !json_object_is_type(o, json_type_object))
                return sd_bus_error_setf(error, BERTH_ERROR_PLUGIN_FAILED,
                                         "Volume plugin \"%s\" answered %s with HTTP %ld and no JSON object.", name,
                                         call, status);
        const char *err = json_get_string(o, "Err");
        if (!isempty(err) || status != 200)
                return sd_bus_error_setf(error, BERTH_ERROR_PLUGIN_FAILED, "Volume plugin \"%s\" failed %s: %s", name,
                                         call, !isempty(err) ? err : "(no error message)");
        if (ret)
                *ret = TAKE_PTR(o);
        return 0;
}

static int plugin_activate(Manager *m, const char *name, sd_bus_error *error) {
        _cleanup_json_ json_object *reply = NULL;
        json_object *implements;
        bool volume_driver = false;

        for (char **a = m->volume_plugins_active; a && *a; a++)
                if (streq(*a, name))
                        return 0;
        int r = plugin_post(m, name, "Plugin.Activate", NULL, &reply, error);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(reply, "Implements", &implements) &&
            json_object_is_type(implements, json_type_array))
                for (size_t i = 0; i < json_object_array_length(implements); i++)
                        volume_driver = volume_driver ||
                                streq(json_object_get_string(json_object_array_get_idx(implements, i)) ?: "",
                                      "VolumeDriver");
        if (!volume_driver)
                return sd_bus_error_setf(error, BERTH_ERROR_PLUGIN_FAILED,
                                         "Plugin \"%s\" does not implement VolumeDriver.", name);
        /* Capabilities are advisory ("global" or "local" scope; on a single host both behave alike)
         * and optional, as in Docker: older plugins do not implement the call. An unreachable plugin
         * is another matter. */
        _cleanup_(sd_bus_error_free) sd_bus_error ignored = SD_BUS_ERROR_NULL;
        r = plugin_post(m, name, "VolumeDriver.Capabilities", NULL, NULL, &ignored);
        if (r < 0 && strstr(ignored.message ?: "", "not reachable"))
                return sd_bus_error_copy(error, &ignored);
        return strv_push(&m->volume_plugins_active, name);
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

int volume_plugin_call(Manager *m, const char *name, const char *method, json_object *request, json_object **ret,
                       sd_bus_error *error) {
        _cleanup_free_ char *call = strjoin("VolumeDriver.", method);
        if (!call)
                return -ENOMEM;
        int r = plugin_activate(m, name, error);
        if (r < 0)
                return r;
        r = plugin_post(m, name, call, request, ret, error);
        /* A plugin that went away (restarted, replaced) is activated again at the next call. */
        if (r < 0 && sd_bus_error_has_name(error, BERTH_ERROR_PLUGIN_FAILED) && strstr(error->message, "not reachable"))
                plugin_forget(m, name);
        return r;
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
        strv_free(m->volume_plugins_active);
        m->volume_plugins_active = NULL;
}
