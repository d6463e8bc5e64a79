/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "config.h"
#include "container.h"
#include "errors.h"
#include "image.h"
#include "names.h"
#include "storage.h"
#include "volume.h"
#include "volume-plugin.h"

int bus_append_labels(sd_bus_message *m, char **labels) {
        int r = sd_bus_message_open_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        for (char **l = labels; l && *l; l++) {
                const char *eq = strchr(*l, '=');
                _cleanup_free_ char *key = eq ? strndup(*l, (size_t) (eq - *l)) : strdup(*l);
                if (!key)
                        return -ENOMEM;
                r = sd_bus_message_append(m, "{ss}", key, eq ? eq + 1 : "");
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int bus_read_strv(sd_bus_message *m, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        const char *s;
        int r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read_basic(m, 's', &s)) > 0)
                if (strv_push_counted(&l, &n, s) < 0)
                        return -ENOMEM;
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 1;
}

int bus_read_labels(sd_bus_message *m, char ***labels, sd_bus_error *error) {
        const char *key, *value;
        size_t n = strv_length(*labels);
        int r = sd_bus_message_enter_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "{ss}", &key, &value)) > 0) {
                _cleanup_free_ char *kv = NULL;
                if (isempty(key) || strchr(key, '=') || strlen(key) > 1024 || strlen(value) > 65536)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid label \"%s\".", key);
                if (asprintf(&kv, "%s=%s", key, value) < 0 || strv_push_counted(labels, &n, kv) < 0)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* The sender's uid costs a synchronous GetConnectionUnixUser round trip through the bus, during
 * which berthd's loop serves nobody. A unique name is never given out twice while the bus runs,
 * so what was learnt about it stays true: `run` (CreateContainer, then Start) asks once. */
static struct {
        char name[64];
        uid_t uid;
} sender_uids[32];
static unsigned sender_uids_next;

static int sender_uid(sd_bus_message *message, uid_t *ret) {
        const char *sender = sd_bus_message_get_sender(message);
        bool cacheable = sender && sender[0] == ':' && strlen(sender) < sizeof(sender_uids[0].name);
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r;

        for (size_t i = 0; cacheable && i < ELEMENTSOF(sender_uids); i++)
                if (streq(sender_uids[i].name, sender)) {
                        *ret = sender_uids[i].uid;
                        return 0;
                }
        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, ret);
        if (r < 0)
                return r;
        if (cacheable) {
                unsigned k = sender_uids_next++ % ELEMENTSOF(sender_uids);
                strcpy(sender_uids[k].name, sender);
                sender_uids[k].uid = *ret;
        }
        return 0;
}

bool bus_input_pending(sd_bus *bus) {
        uint64_t queued = 0;
        int pending = 0, fd = sd_bus_get_fd(bus);
        if (sd_bus_get_n_queued_read(bus, &queued) >= 0 && queued > 0)
                return true;
        return fd >= 0 && ioctl(fd, FIONREAD, &pending) >= 0 && pending > 0;
}

int bus_check_privileged(sd_bus_message *message, sd_bus_error *error) {
        uid_t uid;
        int r = sender_uid(message, &uid);
        if (r < 0)
                return r;
        if (uid != 0)
                return sd_bus_error_set(error, BERTH_ERROR_ACCESS_DENIED,
                                        "Only root may change containers and images.");
        return 0;
}

int bus_property_check_privileged(sd_bus *bus, const char *property, sd_bus_error *error) {
        sd_bus_message *call = sd_bus_get_current_message(bus);
        uid_t uid;
        if (!call) /* not a caller's Get: a signal, which such properties are never part of */
                return sd_bus_error_setf(error, BERTH_ERROR_ACCESS_DENIED, "%s is not broadcast.", property);
        int r = sender_uid(call, &uid);
        if (r < 0)
                return r;
        if (uid != 0)
                return sd_bus_error_setf(error, BERTH_ERROR_ACCESS_DENIED,
                                         "Only root may read %s: it may hold secrets such as passwords.", property);
        return 0;
}

static int read_option_value(sd_bus_message *message, const BusOption *o, sd_bus_error *error) {
        int r, b;

        if (streq(o->type, "s"))
                return sd_bus_message_read(message, "v", "s", (const char **) o->dest);
        if (streq(o->type, "u"))
                return sd_bus_message_read(message, "v", "u", (uint32_t *) o->dest);
        if (streq(o->type, "t"))
                return sd_bus_message_read(message, "v", "t", (uint64_t *) o->dest);
        if (streq(o->type, "h"))
                return sd_bus_message_read(message, "v", "h", (int *) o->dest);
        if (streq(o->type, "b")) {
                r = sd_bus_message_read(message, "v", "b", &b);
                if (r >= 0)
                        *(bool *) o->dest = b;
                return r;
        }
        /* as, or a{ss} as KEY=VALUE strings; a key given twice: the last one counts */
        char ***strv = o->dest;
        strv_free(*strv);
        *strv = NULL;
        if ((r = sd_bus_message_enter_container(message, 'v', o->type)) < 0)
                return r;
        r = streq(o->type, "as") ? bus_read_strv(message, strv) : bus_read_labels(message, strv, error);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

int bus_read_options(sd_bus_message *message, const BusOption *options, size_t n, const char *what,
                     sd_bus_error *error) {
        const char *key, *contents;
        int r;

        if ((r = sd_bus_message_enter_container(message, 'a', "{sv}")) < 0)
                return r;
        while ((r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                if ((r = sd_bus_message_read(message, "s", &key)) < 0 ||
                    (r = sd_bus_message_peek_type(message, NULL, &contents)) < 0)
                        return r;
                const BusOption *o = NULL;
                for (size_t k = 0; k < n && !o; k++)
                        if (streq(options[k].key, key))
                                o = &options[k];
                if (!o)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Unknown %s \"%s\".", what, key);
                if (!streq(contents, o->type))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "%c%s \"%s\" must have type \"%s\", not \"%s\".", toupper(what[0]),
                                                 what + 1, key, o->type, contents);
                if ((r = read_option_value(message, o, error)) < 0 || (r = sd_bus_message_exit_container(message)) < 0)
                        return r;
                if (o->seen)
                        *o->seen = true;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

/* ImportImage(h, s) and ImportImageWithOptions(h, s, a{sv}): Changes as, Message s. */
static int method_import_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **changes = NULL;
        const char *reference, *comment = NULL;
        int fd, r;

        r = sd_bus_message_read(message, "hs", &fd, &reference);
        if (r < 0)
                return r;
        if (streq(sd_bus_message_get_member(message), "ImportImageWithOptions")) {
                const BusOption options[] = { BUS_OPTION("Changes", "as", &changes),
                                              BUS_OPTION("Message", "s", &comment) };
                r = bus_read_options(message, options, ELEMENTSOF(options), "import option", error);
                if (r < 0)
                        return r;
        }
        r = bus_check_privileged(message, error);
        if (r < 0)
                return r;
        return image_import(m, fd, reference, changes, comment, message, error);
}

static int method_list_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sastto)");
        if (r < 0)
                return r;
        for (Image *i = m->images; i; i = i->next) {
                _cleanup_free_ char *path = image_object_path(i);
                if (!path)
                        return -ENOMEM;
                if ((r = sd_bus_message_open_container(reply, 'r', "sastto")) < 0 ||
                    (r = sd_bus_message_append(reply, "s", i->id)) < 0 ||
                    (r = sd_bus_message_append_strv(reply, i->repo_tags)) < 0 ||
                    (r = sd_bus_message_append(reply, "tto", i->created, i->size, path)) < 0 ||
                    (r = sd_bus_message_close_container(reply)) < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *ref;
        bool ambiguous;
        int r = sd_bus_message_read(message, "s", &ref);
        if (r < 0)
                return r;
        Image *i = manager_find_image(m, ref, &ambiguous);
        if (!i)
                return sd_bus_error_setf(
                        error, BERTH_ERROR_NO_SUCH_IMAGE,
                        ambiguous ? "Image id prefix \"%s\" matches more than one image." : "No such image: %s", ref);
        _cleanup_free_ char *path = image_object_path(i);
        if (!path)
                return -ENOMEM;
        return sd_bus_reply_method_return(message, "o", path);
}

/* Mounts a(sssb): (type "volume"|"bind"|"tmpfs", source, target, read-only); VolumesFrom as. */
static int parse_mount_options(sd_bus_message *message, const char *key, ContainerConfig *config, sd_bus_error *error) {
        const char *contents;
        int r = sd_bus_message_peek_type(message, NULL, &contents);
        if (r < 0)
                return r;
        if (streq(key, "VolumesFrom")) {
                if (!streq(contents, "as"))
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "Container option \"VolumesFrom\" must have type \"as\".");
                strv_free(config->volumes_from);
                config->volumes_from = NULL;
                if ((r = sd_bus_message_enter_container(message, 'v', "as")) < 0 ||
                    (r = bus_read_strv(message, &config->volumes_from)) < 0)
                        return r;
                return sd_bus_message_exit_container(message);
        }
        if (!streq(contents, "a(sssb)"))
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "Container option \"Mounts\" must have type \"a(sssb)\".");
        if ((r = sd_bus_message_enter_container(message, 'v', "a(sssb)")) < 0 ||
            (r = sd_bus_message_enter_container(message, 'a', "(sssb)")) < 0)
                return r;
        const char *type, *source, *target;
        int ro;
        while ((r = sd_bus_message_read(message, "(sssb)", &type, &source, &target, &ro)) > 0) {
                MountType t = mount_type_from_string(type);
                if (t < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Unknown mount type \"%s\": expected volume, bind or tmpfs.", type);
                ContainerMount *a = realloc(config->mounts, (config->n_mounts + 1) * sizeof(ContainerMount));
                if (!a)
                        return -ENOMEM;
                config->mounts = a;
                a[config->n_mounts++] = (ContainerMount){
                        .type = t, .source = strdup(source), .target = strdup(target), .read_only = ro
                };
                if (!a[config->n_mounts - 1].source || !a[config->n_mounts - 1].target)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        if ((r = sd_bus_message_exit_container(message)) < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

typedef struct CreateRequest {
        Manager *manager;
        char id[BERTH_ID_LEN + 1];
        sd_bus_message *message;
} CreateRequest;

static void on_created(int r, void *userdata) {
        _cleanup_free_ CreateRequest *request = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *message = request->message;
        Manager *m = request->manager;
        Container *c = NULL;

        for (Container *i = m->containers; i && !c; i = i->next)
                if (streq(i->id, request->id))
                        c = i;
        if (!c) {
                (void) sd_bus_reply_method_errorf(message, BERTH_ERROR_NO_SUCH_CONTAINER,
                                                  "The new container was removed before it was saved.");
                return;
        }
        if (r < 0) {
                container_discard_new(c);
                (void) sd_bus_reply_method_errnof(message, -r, "Failed to create the container's state: %m");
                return;
        }
        c->creating = false;
        _cleanup_free_ char *path = container_object_path(c);
        if (!path) {
                (void) sd_bus_reply_method_errno(message, ENOMEM, NULL);
                return;
        }
        (void) sd_bus_emit_object_added(m->bus, path);
        (void) sd_bus_reply_method_return(message, "o", path);
}

/* The a{sv} options of CreateContainer; unknown keys and wrong types are errors, not ignored. */
static int parse_create_options(sd_bus_message *message, ContainerConfig *config, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(message, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                const char *key, *contents;
                r = sd_bus_message_read(message, "s", &key);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(message, NULL, &contents);
                if (r < 0)
                        return r;
                r = container_resources_parse_option(message, key, contents, &config->res, error);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if ((r = sd_bus_message_exit_container(message)) < 0)
                                return r;
                        continue;
                }
                if (streq(key, "Labels")) {
                        if (!streq(contents, "a{ss}"))
                                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                        "Container option \"Labels\" must have type \"a{ss}\".");
                        if ((r = sd_bus_message_enter_container(message, 'v', "a{ss}")) < 0 ||
                            (r = bus_read_labels(message, &config->labels, error)) < 0 ||
                            (r = sd_bus_message_exit_container(message)) < 0 ||
                            (r = sd_bus_message_exit_container(message)) < 0)
                                return r;
                        continue;
                }
                if (streq(key, "Entrypoint")) {
                        if (!streq(contents, "as"))
                                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                        "Container option \"Entrypoint\" must have type \"as\".");
                        strv_free(config->entrypoint);
                        config->entrypoint = NULL;
                        if ((r = sd_bus_message_enter_container(message, 'v', "as")) < 0 ||
                            (r = bus_read_strv(message, &config->entrypoint)) < 0 ||
                            (r = sd_bus_message_exit_container(message)) < 0 ||
                            (r = sd_bus_message_exit_container(message)) < 0)
                                return r;
                        config->entrypoint_set = true;
                        continue;
                }
                if (streq(key, "Mounts") || streq(key, "VolumesFrom")) {
                        r = parse_mount_options(message, key, config, error);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_exit_container(message);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* CapAdd, CapDrop, Privileged, NoNewPrivileges, SeccompProfile */
                r = container_security_parse_option(message, key, contents, &config->security, error);
                if (r < 0)
                        return r;
                if (r > 0) {
                        r = sd_bus_message_exit_container(message);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* Hostname, WorkingDir, User, StopSignal, Init, ReadOnly, Tty, AutoRemove, MemoryMax,
                 * CPUQuotaPerSecUSec, TasksMax, RestartPolicy, RestartMaxRetries: the table's. */
                r = container_setting_parse(message, key, contents, config, error);
                if (r < 0)
                        return r;
                if (r == 0 && streq(key, "VolumeDriver")) {
                        if (!streq(contents, "s"))
                                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                         "Container option \"%s\" must have type \"s\", not \"%s\".",
                                                         key, contents);
                        r = sd_bus_message_read(message, "v", "s", &config->volume_driver);
                        if (r >= 0 && isempty(config->volume_driver))
                                config->volume_driver = NULL; /* "": the default, local */
                        else if (r >= 0 && !volume_driver_name_is_valid(config->volume_driver))
                                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME,
                                                         "Invalid volume driver name \"%s\".", config->volume_driver);
                        if (r >= 0)
                                r = 1;
                }
                if (r == 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Unknown container option \"%s\".", key);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(message);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

static void container_config_done(ContainerConfig *config) {
        strv_free(config->entrypoint);
        strv_free(config->labels);
        container_mounts_free(config->mounts, config->n_mounts);
        strv_free(config->volumes_from);
        container_resources_done(&config->res);
        container_security_done(&config->security);
}

static int method_create_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **command = NULL, **env = NULL;
        _cleanup_(container_config_done) ContainerConfig config = {
                .security.seccomp_fd = -1,
        };
        const char *image_ref, *name;
        Container *c;
        bool ambiguous;
        int r;

        container_settings_config_init(&config);
        container_resources_init(&config.res);
        r = sd_bus_message_read(message, "ss", &image_ref, &name);
        if (r < 0)
                return r;
        if ((r = bus_read_strv(message, &command)) < 0 || (r = bus_read_strv(message, &env)) < 0)
                return r;
        r = parse_create_options(message, &config, error);
        if (r < 0)
                return r;
        r = bus_check_privileged(message, error);
        if (r < 0)
                return r;
        r = container_resources_check_devices(&config.res, error);
        if (r < 0)
                return r;

        if (!isempty(name) && !container_name_is_valid(name))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_NAME,
                                         "Invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, "
                                         "2 to %d characters.",
                                         name, CONTAINER_NAME_MAX);
        if (!isempty(name) && manager_find_container_by_name(m, name))
                return sd_bus_error_setf(error, BERTH_ERROR_NAME_IN_USE, "The container name \"%s\" is already in use.",
                                         name);
        r = container_env_validate(env, error);
        if (r < 0)
                return r;
        for (char **a = command; a && *a; a++)
                if (a == command && isempty(*a))
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT, "The command must not be empty.");
        Image *image = manager_find_image(m, image_ref, &ambiguous);
        if (!image)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_IMAGE,
                                         ambiguous ? "Image id prefix \"%s\" matches more than one image."
                                                   : "No such image: %s",
                                         image_ref);
        if (config.auto_remove && config.restart_policy != RESTART_NO)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "AutoRemove and a restart policy cannot be combined.");
        if (config.restart_max_retries > 0 && config.restart_policy != RESTART_ON_FAILURE)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "RestartMaxRetries applies only to the on-failure policy.");
        r = container_security_validate(&config.security, error);
        if (r < 0)
                return r;
        config.name = name;
        config.command = command;
        config.env = env;
        _cleanup_free_ CreateRequest *request = calloc(1, sizeof(*request));
        if (!request)
                return -ENOMEM;
        r = container_create(m, image, image_ref, &config, &c, error);
        if (r < 0)
                return r;
        /* Answered once its record is on disk (with those of other containers: one commit). */
        request->manager = m;
        memcpy(request->id, c->id, sizeof(request->id));
        request->message = sd_bus_message_ref(message);
        container_save_soon(c, on_created, TAKE_PTR(request));
        return 1;
}

static int method_list_containers(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sssso)");
        if (r < 0)
                return r;
        for (Container *c = m->containers; c; c = c->next) {
                if (c->creating)
                        continue;
                _cleanup_free_ char *path = container_object_path(c);
                if (!path)
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "(sssso)", c->id, c->name, c->image_ref, container_status(c), path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *what;
        bool ambiguous;
        int r = sd_bus_message_read(message, "s", &what);
        if (r < 0)
                return r;
        Container *c = manager_find_container(m, what, &ambiguous);
        if (!c)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_CONTAINER,
                                         ambiguous ? "Container id prefix \"%s\" matches more than one container."
                                                   : "No such container: %s",
                                         what);
        _cleanup_free_ char *path = container_object_path(c);
        if (!path)
                return -ENOMEM;
        return sd_bus_reply_method_return(message, "o", path);
}

static int property_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *v = streq(property, "Version")  ? BERTH_VERSION
                : streq(property, "StateDirectory") ? m->state_dir
                                                    : m->storage->name;
        return sd_bus_message_append(reply, "s", v);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StateDirectory", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StorageDriver", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("ImportImage", SD_BUS_ARGS("h", tarball, "s", reference), SD_BUS_RESULT("o", image),
                                method_import_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportImageWithOptions", SD_BUS_ARGS("h", tarball, "s", reference, "a{sv}", options),
                                SD_BUS_RESULT("o", image), method_import_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sastto)", images), method_list_images,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImage", SD_BUS_ARGS("s", image), SD_BUS_RESULT("o", object), method_get_image,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LoadImage", SD_BUS_ARGS("h", archive, "s", format), SD_BUS_RESULT("ao", images),
                                method_load_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SaveImages", SD_BUS_ARGS("as", images, "s", format, "h", output), SD_BUS_NO_RESULT,
                                method_save_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SaveImagesWithOptions",
                                SD_BUS_ARGS("as", images, "s", format, "h", output, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_save_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneImages", SD_BUS_ARGS("b", all, "a{sv}", filters),
                                SD_BUS_RESULT("a(sas)", removed, "t", reclaimed), method_prune_images,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetDiskUsage", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("t", layers_size, "t", layers_reclaimable, "a(sttu)", images, "a(stu)",
                                              containers, "a(sut)", volumes),
                                method_get_disk_usage, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateContainer",
                                SD_BUS_ARGS("s", image, "s", name, "as", command, "as", env, "a{sv}", options),
                                SD_BUS_RESULT("o", container), method_create_container, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateVolume", SD_BUS_ARGS("s", name, "a{sv}", options), SD_BUS_RESULT("o", volume),
                                method_create_volume, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListVolumes", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sso)", volumes), method_list_volumes,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetVolume", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", object), method_get_volume,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveVolume", SD_BUS_ARGS("s", name, "b", force), SD_BUS_NO_RESULT,
                                method_remove_volume, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneVolumes", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", removed), method_prune_volumes,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListContainers", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssso)", containers),
                                method_list_containers, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetContainer", SD_BUS_ARGS("s", container), SD_BUS_RESULT("o", object),
                                method_get_container, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int manager_bus_add_objects(Manager *m, sd_bus *bus) {
        int r;

        r = sd_bus_add_object_vtable(bus, NULL, "/org/berth1", "org.berth1.Manager", manager_vtable, m);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(bus, NULL, "/org/berth1/container", "org.berth1.Container", container_vtable,
                                       container_object_find, m);
        if (r < 0)
                return r;
        r = sd_bus_add_node_enumerator(bus, NULL, "/org/berth1/container", container_node_enumerator, m);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(bus, NULL, "/org/berth1/image", "org.berth1.Image", image_vtable,
                                       image_object_find, m);
        if (r < 0)
                return r;
        r = sd_bus_add_node_enumerator(bus, NULL, "/org/berth1/image", image_node_enumerator, m);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(bus, NULL, "/org/berth1/volume", "org.berth1.Volume", volume_vtable,
                                       volume_object_find, m);
        if (r < 0)
                return r;
        r = sd_bus_add_node_enumerator(bus, NULL, "/org/berth1/volume", volume_node_enumerator, m);
        if (r < 0)
                return r;
        return sd_bus_add_object_manager(bus, NULL, "/org/berth1");
}

int manager_bus_setup(Manager *m) {
        int r;

        r = manager_bus_add_objects(m, m->bus);
        if (r < 0)
                return r;
        r = sd_bus_match_signal_async(m->bus, &m->job_removed_slot, "org.freedesktop.systemd1",
                                      "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved",
                                      manager_job_removed, NULL, m);
        if (r < 0)
                return r;
        r = sd_bus_match_signal_async(m->bus, &m->unit_removed_slot, "org.freedesktop.systemd1",
                                      "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "UnitRemoved",
                                      manager_unit_removed, NULL, m);
        if (r < 0)
                return r;
        r = sd_bus_match_signal_async(m->bus, &m->machine_removed_slot, "org.freedesktop.machine1",
                                      "/org/freedesktop/machine1", "org.freedesktop.machine1.Manager", "MachineRemoved",
                                      manager_machine_removed, NULL, m);
        if (r < 0)
                return r;
        r = sd_bus_call_method_async(m->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, NULL);
        if (r < 0)
                return r;
        /* Synchronously, so READY=1 is only sent once clients can reach us. */
        return sd_bus_request_name(m->bus, "org.berth1", 0);
}
