/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The image config blob (OCI image-spec config / Docker image JSON): parsed when an image is loaded,
 * generated for images that were imported. An image's id is the sha256 of this blob, as in Docker
 * and Podman, so an image keeps its id through save and load on any of them.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "digest.h"
#include "image.h"
#include "json-util.h"
#include "names.h"

const char *image_host_architecture(void) {
        static const struct {
                const char *machine, *goarch;
        } table[] = {
                { "x86_64", "amd64" },    { "aarch64", "arm64" }, { "armv7l", "arm" },
                { "armv6l", "arm" },      { "i686", "386" },      { "i386", "386" },
                { "ppc64le", "ppc64le" }, { "s390x", "s390x" },   { "riscv64", "riscv64" },
        };
        static char machine[65];
        struct utsname u;

        if (uname(&u) < 0)
                return "amd64";
        for (size_t k = 0; k < ELEMENTSOF(table); k++)
                if (streq(u.machine, table[k].machine))
                        return table[k].goarch;
        snprintf(machine, sizeof(machine), "%s", u.machine);
        return machine;
}

/* "2024-01-02T03:04:05.123456789Z" or with a "+01:00" offset → µs since the epoch; 0 when unparsable. */
uint64_t image_parse_rfc3339(const char *s) {
        struct tm tm = {};
        int n = 0, year, mon, day, hour, min, sec;
        uint64_t usec = 0;

        if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min, &sec, &n) != 6)
                return 0;
        s += n;
        if (*s == '.') {
                unsigned digits = 0;
                for (s++; *s >= '0' && *s <= '9'; s++, digits++)
                        if (digits < 6)
                                usec = usec * 10 + (uint64_t) (*s - '0');
                for (; digits < 6; digits++)
                        usec *= 10;
        }
        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        time_t t = timegm(&tm);
        if (*s == '+' || *s == '-') {
                int oh, om;
                if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
                        return 0;
                t -= (*s == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        } else if (*s != 'Z' && *s != 'z')
                return 0;
        if (t < 0)
                return 0;
        return (uint64_t) t * USEC_PER_SEC + usec;
}

static int get_optional_string(json_object *o, const char *key, char **ret) {
        json_object *v;

        *ret = NULL;
        if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        if (isempty(json_object_get_string(v)))
                return 0;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

/* {"key": {}} sets (ExposedPorts, Volumes) → the keys; {"key": "value"} (Labels) → "key=value". */
static int get_object_keys(json_object *o, const char *key, bool with_values, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        json_object *v;
        int r;

        if (!l)
                return -ENOMEM;
        if (o && json_object_object_get_ex(o, key, &v) && !json_object_is_type(v, json_type_null)) {
                if (!json_object_is_type(v, json_type_object))
                        return -EBADMSG;
                json_object_object_foreach(v, k, value) {
                        _cleanup_free_ char *s = NULL;
                        if (with_values) {
                                if (!json_object_is_type(value, json_type_string))
                                        return -EBADMSG;
                                if (asprintf(&s, "%s=%s", k, json_object_get_string(value)) < 0)
                                        return -ENOMEM;
                        }
                        r = strv_push(&l, s ?: k);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int image_config_parse(Image *i, const char *json, size_t len, char ***ret_diff_ids) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_strv_free_ char **diff_ids = NULL, **env = NULL;
        json_object *config = NULL, *rootfs = NULL;
        int r;

        r = json_parse_buffer(json, len, &o);
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        if (json_object_object_get_ex(o, "config", &config) && !json_object_is_type(config, json_type_object))
                config = NULL;
        if (!json_object_object_get_ex(o, "rootfs", &rootfs) || !json_object_is_type(rootfs, json_type_object))
                return -EBADMSG;
        r = json_get_strv(rootfs, "diff_ids", &diff_ids);
        if (r < 0)
                return r;
        for (char **d = diff_ids; *d; d++)
                if (!digest_is_valid(*d))
                        return -EBADMSG;

        strv_free(i->cmd);
        strv_free(i->entrypoint);
        strv_free(i->env);
        strv_free(i->labels);
        strv_free(i->exposed_ports);
        strv_free(i->volumes);
        i->cmd = i->entrypoint = i->env = i->labels = i->exposed_ports = i->volumes = NULL;
        i->working_dir = mfree(i->working_dir);
        i->user = mfree(i->user);
        i->stop_signal = mfree(i->stop_signal);
        i->architecture = mfree(i->architecture);
        i->os = mfree(i->os);

        if ((r = json_get_strv(config, "Cmd", &i->cmd)) < 0 ||
            (r = json_get_strv(config, "Entrypoint", &i->entrypoint)) < 0 ||
            (r = json_get_strv(config, "Env", &env)) < 0 ||
            (r = get_optional_string(config, "WorkingDir", &i->working_dir)) < 0 ||
            (r = get_optional_string(config, "User", &i->user)) < 0 ||
            (r = get_optional_string(config, "StopSignal", &i->stop_signal)) < 0 ||
            (r = get_object_keys(config, "Labels", true, &i->labels)) < 0 ||
            (r = get_object_keys(config, "ExposedPorts", false, &i->exposed_ports)) < 0 ||
            (r = get_object_keys(config, "Volumes", false, &i->volumes)) < 0 ||
            (r = get_optional_string(o, "architecture", &i->architecture)) < 0 ||
            (r = get_optional_string(o, "os", &i->os)) < 0)
                return r;
        /* Entries that are no assignment would only trip container creation later. */
        i->env = calloc(1, sizeof(char *));
        if (!i->env)
                return -ENOMEM;
        for (char **e = env; *e; e++)
                if (env_assignment_is_valid(*e) && (r = strv_push(&i->env, *e)) < 0)
                        return r;
        i->created = image_parse_rfc3339(json_get_string(o, "created"));
        if (ret_diff_ids)
                *ret_diff_ids = TAKE_PTR(diff_ids);
        return 0;
}

static int add_set(json_object *config, const char *key, char **l, bool with_values) {
        if (strv_length(l) == 0)
                return 0;
        json_object *set = json_object_new_object();
        if (!set)
                return -ENOMEM;
        for (char **k = l; *k; k++) {
                if (with_values) {
                        const char *eq = strchr(*k, '=');
                        _cleanup_free_ char *name = eq ? strndup(*k, (size_t) (eq - *k)) : strdup(*k);
                        if (!name)
                                return json_object_put(set), -ENOMEM;
                        json_object_object_add(set, name, json_object_new_string(eq ? eq + 1 : ""));
                } else
                        json_object_object_add(set, *k, json_object_new_object());
        }
        json_object_object_add(config, key, set);
        return 0;
}

/* Docker's shape, deterministic for the same image: the generated blob's sha256 is the image id. */
static int image_config_generate(Image *i, char **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *config = json_object_new_object(), *rootfs = json_object_new_object(),
                    *history = json_object_new_array();
        _cleanup_free_ char *created = format_timestamp_rfc3339(i->created);
        int r;

        if (!o || !config || !rootfs || !history || !created) {
                json_object_put(config);
                json_object_put(rootfs);
                json_object_put(history);
                return -ENOMEM;
        }
        json_object_object_add(o, "architecture", json_object_new_string(i->architecture ?: image_host_architecture()));
        json_object_object_add(o, "os", json_object_new_string(i->os ?: "linux"));
        json_object_object_add(o, "created", json_object_new_string(created));
        json_object_object_add(o, "config", config);
        if (strv_length(i->env) > 0)
                json_object_object_add(config, "Env", json_strv_new(i->env));
        if (strv_length(i->entrypoint) > 0)
                json_object_object_add(config, "Entrypoint", json_strv_new(i->entrypoint));
        if (strv_length(i->cmd) > 0)
                json_object_object_add(config, "Cmd", json_strv_new(i->cmd));
        if (i->working_dir)
                json_object_object_add(config, "WorkingDir", json_object_new_string(i->working_dir));
        if (i->user)
                json_object_object_add(config, "User", json_object_new_string(i->user));
        if (i->stop_signal)
                json_object_object_add(config, "StopSignal", json_object_new_string(i->stop_signal));
        if ((r = add_set(config, "Labels", i->labels, true)) < 0 ||
            (r = add_set(config, "ExposedPorts", i->exposed_ports, false)) < 0 ||
            (r = add_set(config, "Volumes", i->volumes, false)) < 0) {
                json_object_put(rootfs);
                json_object_put(history);
                return r;
        }
        json_object_object_add(rootfs, "type", json_object_new_string("layers"));
        json_object_object_add(rootfs, "diff_ids", json_strv_new(i->layers));
        json_object_object_add(o, "rootfs", rootfs);
        for (size_t k = 0; k < strv_length(i->layers); k++) {
                json_object *h = json_object_new_object();
                if (!h) {
                        json_object_put(history);
                        return -ENOMEM;
                }
                json_object_object_add(h, "created", json_object_new_string(created));
                json_object_object_add(h, "created_by", json_object_new_string("berthctl import"));
                json_object_array_add(history, h);
        }
        json_object_object_add(o, "history", history);

        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int image_config_json(Image *i, char **ret, size_t *ret_len) {
        _cleanup_free_ char *s = NULL;
        int r;

        if (i->config_json)
                s = strdup(i->config_json);
        else {
                r = image_config_generate(i, &s);
                if (r < 0)
                        return r;
        }
        if (!s)
                return -ENOMEM;
        if (ret_len)
                *ret_len = strlen(s);
        *ret = TAKE_PTR(s);
        return 0;
}

/* The id is the sha256 of the config blob; imported images get a generated one, kept from then on. */
int image_compute_id(Image *i) {
        if (!i->config_json) {
                int r = image_config_generate(i, &i->config_json);
                if (r < 0)
                        return r;
        }
        return sha256_hex_of(i->config_json, strlen(i->config_json), i->id);
}

void image_history_free(ImageHistory *h, size_t n) {
        for (size_t k = 0; k < n; k++) {
                free(h[k].created_by);
                free(h[k].comment);
        }
        free(h);
}

/* The config's history; without one (or a broken one), one entry per layer. */
int image_history(Image *i, ImageHistory **ret, size_t *ret_n) {
        _cleanup_json_ json_object *o = NULL;
        json_object *a = NULL;
        ImageHistory *h;
        size_t n = 0;

        if (i->config_json && json_parse_buffer(i->config_json, strlen(i->config_json), &o) >= 0 &&
            json_object_object_get_ex(o, "history", &a) && json_object_is_type(a, json_type_array))
                n = json_object_array_length(a);
        else
                a = NULL;
        if (!a)
                n = strv_length(i->layers);
        h = calloc(n + 1, sizeof(ImageHistory));
        if (!h)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                json_object *e = a ? json_object_array_get_idx(a, k) : NULL;
                const char *by = json_get_string(e, "created_by"), *comment = json_get_string(e, "comment");
                h[k].created = e ? image_parse_rfc3339(json_get_string(e, "created")) : i->created;
                h[k].created_by = strdup(by ?: "");
                h[k].comment = strdup(comment ?: "");
                h[k].empty_layer = json_get_bool(e, "empty_layer", false);
                if (!h[k].created_by || !h[k].comment) {
                        image_history_free(h, n);
                        return -ENOMEM;
                }
        }
        *ret = h;
        *ret_n = n;
        return 0;
}
