/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Commit: a container's upper directory becomes a new layer on top of its image's.
 *
 * The --change instructions are applied to a copy of the image's config before anything else, so a
 * bad one fails at once. A worker then writes the upper directory as an OCI layer tarball
 * (tar_write_tree: overlay whiteouts become ".wh." entries) into overlay/.commit-XXXXXX, and extracts
 * that tarball again with the checked tar_extract() the loads use, which also gives its digest: the
 * layer is stored exactly as a load of the committed image would store it. berthd then renames the
 * layer into place and only after that writes the image record (manager_add_image), so a crash
 * leaves an unreferenced layer at worst, which the next start removes.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "container.h"
#include "digest.h"
#include "errors.h"
#include "image.h"
#include "json-util.h"
#include "names.h"
#include "tar-extract.h"
#include "tar-write.h"
#include "worker.h"

typedef struct CommitOperation {
        Manager *manager;
        sd_bus_message *request;
        json_object *config; /* the new config, without the new layer yet */
        char *reference; /* normalized "name:tag", or NULL */
        char *parent_id;
        char *upper;
        char *tmpdir;
        Worker *worker;
} CommitOperation;

static void commit_operation_free(CommitOperation *op) {
        if (!op)
                return;
        worker_free(op->worker);
        if (op->tmpdir)
                (void) rm_rf(op->tmpdir);
        sd_bus_message_unref(op->request);
        json_object_put(op->config);
        free(op->reference);
        free(op->parent_id);
        free(op->upper);
        free(op->tmpdir);
        free(op);
}

/* ---- --change: Dockerfile instructions ---- */

/* Words separated by white space; double quotes group, a backslash escapes the next character. */
static int split_words(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *word = malloc(strlen(s) + 1);
        if (!l || !word)
                return -ENOMEM;
        for (const char *p = s;;) {
                size_t n = 0;
                bool quoted = false, any = false;
                p += strspn(p, " \t");
                for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++) {
                        any = true;
                        if (*p == '"')
                                quoted = !quoted;
                        else if (*p == '\\' && p[1])
                                word[n++] = *++p;
                        else
                                word[n++] = *p;
                }
                if (quoted)
                        return -EINVAL;
                if (!any)
                        break;
                word[n] = 0;
                if (strv_push(&l, word) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* A JSON array of strings, or the shell form (["/bin/sh", "-c", s]) for CMD and ENTRYPOINT. */
static json_object *command_from(const char *s, bool shell_form) {
        _cleanup_json_ json_object *a = NULL;
        if (*s == '[') {
                if (json_parse_buffer(s, strlen(s), &a) < 0 || !json_object_is_type(a, json_type_array))
                        return NULL;
                for (size_t k = 0; k < json_object_array_length(a); k++)
                        if (!json_object_is_type(json_object_array_get_idx(a, k), json_type_string))
                                return NULL;
                return TAKE_PTR(a);
        }
        if (!shell_form)
                return NULL;
        a = json_object_new_array();
        if (!a)
                return NULL;
        json_object_array_add(a, json_object_new_string("/bin/sh"));
        json_object_array_add(a, json_object_new_string("-c"));
        json_object_array_add(a, json_object_new_string(s));
        return TAKE_PTR(a);
}

static json_object *object_member(json_object *o, const char *key) {
        json_object *v;
        if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_object))
                return v;
        v = json_object_new_object();
        json_object_object_add(o, key, v);
        return v;
}

/* Set KEY=VALUE in Env, replacing an earlier value of KEY. */
static int env_set(json_object *config, const char *key, const char *value) {
        json_object *env, *n = json_object_new_array();
        _cleanup_free_ char *entry = NULL;
        size_t klen = strlen(key);

        if (!n || asprintf(&entry, "%s=%s", key, value) < 0 || !env_assignment_is_valid(entry)) {
                json_object_put(n);
                return -EINVAL;
        }
        if (json_object_object_get_ex(config, "Env", &env) && json_object_is_type(env, json_type_array))
                for (size_t k = 0; k < json_object_array_length(env); k++) {
                        const char *e = json_object_get_string(json_object_array_get_idx(env, k));
                        if (e && !(strncmp(e, key, klen) == 0 && e[klen] == '='))
                                json_object_array_add(n, json_object_new_string(e));
                }
        json_object_array_add(n, json_object_new_string(entry));
        json_object_object_add(config, "Env", n);
        return 0;
}

/* KEY=VALUE ... (or the old "KEY VALUE" form when allowed) into Env or Labels. */
static int apply_pairs(json_object *config, const char *what, const char *rest, bool env) {
        _cleanup_strv_free_ char **words = NULL;
        int r = split_words(rest, &words);
        if (r < 0 || strv_length(words) == 0)
                return -EINVAL;
        if (!strchr(words[0], '=')) {
                /* "ENV KEY some value": everything after the first word, as written. */
                const char *value = rest + strspn(rest, " \t");
                value += strcspn(value, " \t");
                value += strspn(value, " \t");
                if (!*value)
                        return -EINVAL;
                return env
                        ? env_set(config, words[0], value)
                        : (json_object_object_add(object_member(config, what), words[0], json_object_new_string(value)),
                           0);
        }
        for (char **w = words; *w; w++) {
                char *eq = strchr(*w, '=');
                if (!eq || eq == *w)
                        return -EINVAL;
                *eq = 0;
                if (env)
                        r = env_set(config, *w, eq + 1);
                else
                        json_object_object_add(object_member(config, what), *w, json_object_new_string(eq + 1));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "80" or "53/udp" → "80/tcp", "53/udp". */
static int port_key(const char *s, char **ret) {
        char *end;
        errno = 0;
        unsigned long port = strtoul(s, &end, 10);
        const char *proto = *end == '/' ? end + 1 : *end ? NULL : "tcp";

        if (errno != 0 || end == s || *s == '-' || *s == '+' || port == 0 || port > 65535 || !proto ||
            !(streq(proto, "tcp") || streq(proto, "udp") || streq(proto, "sctp")))
                return -EINVAL;
        return asprintf(ret, "%lu/%s", port, proto) < 0 ? -ENOMEM : 0;
}

static int apply_change(json_object *config, const char *change) {
        size_t n = strcspn(change, " \t");
        _cleanup_free_ char *instruction = strndup(change, n);
        const char *rest = change + n + strspn(change + n, " \t");
        json_object *v;

        if (!instruction)
                return -ENOMEM;
        if (!*rest)
                return -EINVAL;
        if (!strcasecmp(instruction, "CMD") || !strcasecmp(instruction, "ENTRYPOINT")) {
                if (!(v = command_from(rest, true)))
                        return -EINVAL;
                json_object_object_add(config, !strcasecmp(instruction, "CMD") ? "Cmd" : "Entrypoint", v);
        } else if (!strcasecmp(instruction, "ENV"))
                return apply_pairs(config, "Env", rest, true);
        else if (!strcasecmp(instruction, "LABEL"))
                return apply_pairs(config, "Labels", rest, false);
        else if (!strcasecmp(instruction, "WORKDIR")) {
                /* Relative to the one before, as in a Dockerfile. */
                const char *old = json_get_string(config, "WorkingDir");
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s%s%s", rest[0] == '/' ? "" : (old && *old ? old : "/"),
                             rest[0] == '/' || (old && old[strlen(old) - 1] == '/') || !old || !*old ? "" : "/",
                             rest) < 0)
                        return -ENOMEM;
                json_object_object_add(config, "WorkingDir", json_object_new_string(dir));
        } else if (!strcasecmp(instruction, "USER"))
                json_object_object_add(config, "User", json_object_new_string(rest));
        else if (!strcasecmp(instruction, "STOPSIGNAL")) {
                if (signal_from_string(rest) <= 0)
                        return -EINVAL;
                json_object_object_add(config, "StopSignal", json_object_new_string(rest));
        } else if (!strcasecmp(instruction, "EXPOSE") || !strcasecmp(instruction, "VOLUME")) {
                bool expose = !strcasecmp(instruction, "EXPOSE");
                _cleanup_strv_free_ char **words = NULL;
                _cleanup_json_ json_object *a = expose ? NULL : command_from(rest, false);
                if (a) {
                        words = calloc(1, sizeof(char *));
                        for (size_t k = 0; words && k < json_object_array_length(a); k++)
                                if (strv_push(&words, json_object_get_string(json_object_array_get_idx(a, k))) < 0)
                                        return -ENOMEM;
                        if (!words)
                                return -ENOMEM;
                } else if (split_words(rest, &words) < 0)
                        return -EINVAL;
                json_object *set = object_member(config, expose ? "ExposedPorts" : "Volumes");
                for (char **w = words; *w; w++) {
                        _cleanup_free_ char *key = NULL;
                        if (expose) {
                                int r = port_key(*w, &key);
                                if (r < 0)
                                        return r;
                        } else if ((*w)[0] != '/')
                                return -EINVAL;
                        json_object_object_add(set, key ?: *w, json_object_new_object());
                }
        } else
                return -EINVAL;
        return 0;
}

/* ---- the worker and its end ---- */

static int commit_work(void *userdata, char **ret_payload, char **ret_error) {
        CommitOperation *op = userdata;
        _cleanup_free_ char *tar = NULL, *diff = NULL;
        TarExtractResult result = {};
        int r;

        if (asprintf(&tar, "%s/layer.tar", op->tmpdir) < 0 || asprintf(&diff, "%s/diff", op->tmpdir) < 0)
                return -ENOMEM;
        _cleanup_close_ int upper_fd = open(op->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (upper_fd < 0)
                return -errno;
        _cleanup_close_ int tar_fd = open(tar, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (tar_fd < 0)
                return -errno;
        r = tar_write_tree(upper_fd, tar_fd, ret_error);
        if (r < 0)
                return r;
        if (lseek(tar_fd, 0, SEEK_SET) < 0 || mkdir(diff, 0755) < 0)
                return -errno;
        _cleanup_close_ int diff_fd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (diff_fd < 0)
                return -errno;
        r = tar_extract(tar_fd, diff_fd, &result, ret_error);
        if (r < 0)
                return r;
        if (unlink(tar) < 0)
                return -errno;
        if (asprintf(ret_payload, "%s %" PRIu64, result.digest, result.size) < 0)
                return -ENOMEM;
        return 0;
}

static int commit_finish(CommitOperation *op, const char *payload, sd_bus_error *error) {
        Manager *m = op->manager;
        _cleanup_free_ char *final = NULL, *diff_id = NULL, *created = format_timestamp_rfc3339(now_realtime_usec());
        _cleanup_strv_free_ char **diff_ids = NULL;
        json_object *rootfs, *ids;
        char digest[SHA256_HEX_LEN + 1];
        bool stored = false;
        uint64_t size;
        int r;

        if (sscanf(payload, "%64s %" SCNu64, digest, &size) != 2)
                return sd_bus_error_set(error, SD_BUS_ERROR_FAILED, "The commit worker died unexpectedly.");
        Image *parent = manager_find_image(m, op->parent_id, NULL);
        if (!parent)
                return sd_bus_error_set(error, BERTH_ERROR_NO_SUCH_IMAGE, "The container's image was removed.");
        final = manager_state_path(m, "overlay/%s", digest);
        if (!final || !created || asprintf(&diff_id, "sha256:%s", digest) < 0)
                return -ENOMEM;

        /* The config: the new layer's diff id and history entry. */
        json_object_object_add(op->config, "created", json_object_new_string(created));
        if (!json_object_object_get_ex(op->config, "rootfs", &rootfs) ||
            !json_object_object_get_ex(rootfs, "diff_ids", &ids) || !json_object_is_type(ids, json_type_array))
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "The image's config has no rootfs.");
        json_object_array_add(ids, json_object_new_string(diff_id));
        const char *text = json_object_to_json_string_ext(op->config,
                                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;

        Image *i = image_new(m);
        if (!i)
                return -ENOMEM;
        size_t n = strv_length(parent->layers);
        i->layer_sizes = calloc(n + 2, sizeof(uint64_t));
        i->config_json = strdup(text);
        if (!i->layer_sizes || !i->config_json || (op->reference && strv_push(&i->repo_tags, op->reference) < 0)) {
                image_free(i);
                return -ENOMEM;
        }
        r = image_config_parse(i, text, strlen(text), &diff_ids);
        if (r < 0 || strv_length(diff_ids) != n + 1) {
                image_free(i);
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "The committed config is invalid.");
        }
        for (size_t k = 0; k < n; k++)
                i->size += i->layer_sizes[k] = parent->layer_sizes ? parent->layer_sizes[k] : 0;
        i->size += i->layer_sizes[n] = size;
        strv_free(i->layers);
        i->layers = TAKE_PTR(diff_ids);
        r = image_compute_id(i);
        if (r < 0) {
                image_free(i);
                return r;
        }

        /* The layer goes into place before the record that references it. */
        if (access(final, F_OK) < 0) {
                if (rename(op->tmpdir, final) < 0) {
                        r = -errno;
                        image_free(i);
                        return sd_bus_error_set_errnof(error, -r, "Failed to store the layer: %m");
                }
                op->tmpdir = mfree(op->tmpdir);
                stored = true;
        }
        r = manager_add_image(m, i, &i);
        if (r < 0) {
                if (stored)
                        (void) rm_rf(final); /* nothing references it: a failure leaves nothing */
                return sd_bus_error_set_errnof(error, -r, "Failed to save the image: %m");
        }
        _cleanup_free_ char *path = image_object_path(i);
        if (!path)
                return -ENOMEM;
        return sd_bus_reply_method_return(op->request, "o", path);
}

static void commit_done(void *userdata, int r, const char *text) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        CommitOperation *op = userdata;

        if (r >= 0)
                r = commit_finish(op, text, &error);
        else if (!text)
                r = sd_bus_error_set(&error, SD_BUS_ERROR_FAILED, "The commit worker died unexpectedly.");
        else
                r = sd_bus_error_set_errnof(&error, -r, "Failed to commit: %s", text);
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        sd_bus_error_set_errno(&error, r);
                (void) sd_bus_reply_method_error(op->request, &error);
        }
        commit_operation_free(op);
}

int container_commit(Container *c, const char *reference, char **changes, const char *comment, const char *author,
                     sd_bus_message *request, sd_bus_error *error) {
        Manager *m = c->manager;
        _cleanup_free_ char *config_text = NULL, *command = NULL, *created = NULL;
        json_object *config, *history, *h;
        CommitOperation *op;
        int r;

        Image *parent = manager_find_image(m, c->image_id, NULL);
        if (!parent)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_IMAGE, "The image of container %s (%.12s) is gone.",
                                         c->name, c->image_id);
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        *op = (CommitOperation){ .manager = m };
        if (!isempty(reference)) {
                r = image_reference_normalize(reference, &op->reference, error);
                if (r < 0)
                        goto fail;
        }
        op->parent_id = strdup(parent->id);
        op->upper = manager_state_path(m, "containers/%s/upper", c->id);
        command = strv_join(c->command, " ");
        if (!op->parent_id || !op->upper || !command || (r = image_config_json(parent, &config_text, NULL)) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        if (json_parse_buffer(config_text, strlen(config_text), &op->config) < 0 ||
            !json_object_is_type(op->config, json_type_object)) {
                r = sd_bus_error_set(error, BERTH_ERROR_INVALID_IMAGE, "The image's config is invalid.");
                goto fail;
        }
        config = object_member(op->config, "config");
        for (char **ch = changes; ch && *ch; ch++) {
                r = apply_change(config, *ch);
                if (r == -ENOMEM)
                        goto fail;
                if (r < 0) {
                        r = sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                              "Invalid change \"%s\": expected a Dockerfile instruction CMD, "
                                              "ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR "
                                              "with its argument.",
                                              *ch);
                        goto fail;
                }
        }
        if (!isempty(author))
                json_object_object_add(op->config, "author", json_object_new_string(author));
        json_object_object_add(op->config, "container", json_object_new_string(c->id));
        if (!json_object_object_get_ex(op->config, "history", &history) ||
            !json_object_is_type(history, json_type_array)) {
                history = json_object_new_array();
                json_object_object_add(op->config, "history", history);
        }
        h = json_object_new_object();
        if (!h) {
                r = -ENOMEM;
                goto fail;
        }
        created = format_timestamp_rfc3339(now_realtime_usec());
        json_object_object_add(h, "created", json_object_new_string(created ?: ""));
        json_object_object_add(h, "created_by", json_object_new_string(command));
        if (!isempty(author))
                json_object_object_add(h, "author", json_object_new_string(author));
        if (!isempty(comment))
                json_object_object_add(h, "comment", json_object_new_string(comment));
        json_object_array_add(history, h);

        op->tmpdir = manager_state_path(m, "overlay/.commit-XXXXXX");
        if (!op->tmpdir) {
                r = -ENOMEM;
                goto fail;
        }
        if (!mkdtemp(op->tmpdir)) {
                op->tmpdir = mfree(op->tmpdir);
                r = sd_bus_error_set_errnof(error, errno, "Failed to create a temporary directory: %m");
                goto fail;
        }
        r = worker_start(m, NULL, 0, commit_work, commit_done, op, &op->worker);
        if (r < 0) {
                r = sd_bus_error_set_errnof(error, -r, "Failed to start the commit worker: %m");
                goto fail;
        }
        op->request = sd_bus_message_ref(request);
        return 1;
fail:
        commit_operation_free(op);
        return r;
}
