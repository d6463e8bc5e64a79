/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "event-journal.h"
#include "bus-polkit.h"
#include "config.h"
#include "container.h"
#include "errors.h"
#include "image.h"
#include "names.h"
#include "storage.h"
#include "transfer.h"
#include "volume.h"
#include "network.h"
#include "volume-plugin.h"

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
        r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        return image_import(m, fd, reference, changes, comment, message, error);
}

static void *next_image(void *i) {
        return ((Image *) i)->next;
}

static int append_image(sd_bus_message *reply, void *object) {
        Image *i = object;
        _cleanup_free_ char *path = image_object_path(i);
        int r;
        if (!path)
                return -ENOMEM;
        if ((r = sd_bus_message_open_container(reply, 'r', "sastto")) < 0 ||
            (r = sd_bus_message_append(reply, "s", i->id)) < 0 ||
            (r = sd_bus_message_append_strv(reply, i->repo_tags)) < 0 ||
            (r = sd_bus_message_append(reply, "tto", i->created, i->size, path)) < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int method_list_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return bus_reply_list(message, "(sastto)", m->images, next_image, append_image);
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
        return bus_reply_object_path(message, image_object_path(i));
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
        container_journal_event(c, "create", NULL);
        (void) sd_bus_reply_method_return(message, "o", path);
}

/* "GroupAdd": group names (resolved in the container's /etc/group at each start) or numbers. */
static int parse_group_add(sd_bus_message *message, const char *contents, ContainerConfig *config,
                           sd_bus_error *error) {
        int r;
        if (!streq(contents, "as"))
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "Container option \"GroupAdd\" must have type \"as\".");
        strv_free(config->group_add);
        config->group_add = NULL;
        if ((r = sd_bus_message_enter_container(message, 'v', "as")) < 0 ||
            (r = bus_read_strv(message, &config->group_add)) < 0 || (r = sd_bus_message_exit_container(message)) < 0 ||
            (r = sd_bus_message_exit_container(message)) < 0)
                return r;
        if (strv_length(config->group_add) > CONTAINER_GROUP_ADD_MAX)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "At most %d groups can be added.",
                                         CONTAINER_GROUP_ADD_MAX);
        for (char **g = config->group_add; g && *g; g++)
                if (!group_name_is_valid(*g))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid group \"%s\".", *g);
        return 0;
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
                if (r == 0) /* NetworkMode, NetworkAliases, IPAddress, ..., PublishAllPorts */
                        r = container_network_parse_option(message, key, contents, &config->net, error);
                if (r == 0) /* ListenFds, ListenFdNames */
                        r = container_listen_parse_option(message, key, contents, &config->listen, error);
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
                if (streq(key, "Sysctls")) {
                        if (!streq(contents, "a{ss}"))
                                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                        "Container option \"Sysctls\" must have type \"a{ss}\".");
                        if ((r = sd_bus_message_enter_container(message, 'v', "a{ss}")) < 0 ||
                            (r = bus_read_labels(message, &config->sysctls, error)) < 0 ||
                            (r = sd_bus_message_exit_container(message)) < 0 ||
                            (r = sd_bus_message_exit_container(message)) < 0)
                                return r;
                        /* Docker's rule and words: only what the container's own namespaces have. */
                        for (char **s = config->sysctls; s && *s; s++) {
                                _cleanup_free_ char *k = strndup(*s, strcspn(*s, "="));
                                if (!k)
                                        return -ENOMEM;
                                if (!sysctl_is_namespaced(k) || strchr(*s + strlen(k) + 1, '\n'))
                                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                                 "sysctl '%s' is not allowed", *s);
                        }
                        continue;
                }
                if (streq(key, "GroupAdd")) {
                        r = parse_group_add(message, contents, config, error);
                        if (r < 0)
                                return r;
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
        container_settings_config_done(config);
        strv_free(config->entrypoint);
        strv_free(config->labels);
        container_mounts_free(config->mounts, config->n_mounts);
        strv_free(config->volumes_from);
        strv_free(config->group_add);
        strv_free(config->sysctls);
        container_resources_done(&config->res);
        container_security_done(&config->security);
        container_listen_config_done(&config->listen);
        container_network_done(&config->net);
}

/* Creates the container and answers once its record is on disk (with those of other containers: one
 * commit). A failure undoes the plugin volumes 'created' made for it, and is returned. */
static int create_now(Manager *m, sd_bus_message *message, Image *image, const char *image_ref,
                      const ContainerConfig *config, char **created, sd_bus_error *error) {
        Container *c;
        _cleanup_free_ CreateRequest *request = calloc(1, sizeof(*request));
        int r = request ? container_create(m, image, image_ref, config, &c, error) : -ENOMEM;
        if (r < 0) {
                container_undo_volumes(m, created);
                return r;
        }
        request->manager = m;
        memcpy(request->id, c->id, sizeof(request->id));
        request->message = sd_bus_message_ref(message);
        container_save_soon(c, on_created, TAKE_PTR(request));
        return 1;
}

/* A CreateContainer waiting for the plugin volumes it makes first. */
typedef struct CreateJob {
        Manager *manager;
        sd_bus_message *message; /* keeps image_ref and the config's borrowed strings */
        ContainerConfig config;
        char **command, **env;
        const char *image_ref;
        char *image_id; /* looked up again: it may be gone by then */
        char **created; /* the volumes made so far */
        unsigned pending; /* unanswered creates, +1 while they are asked for */
        sd_bus_error error; /* the first failure */
} CreateJob;

static void create_job_free(CreateJob *job) {
        sd_bus_message_unref(job->message);
        container_config_done(&job->config);
        strv_free(job->command);
        strv_free(job->env);
        free(job->image_id);
        strv_free(job->created);
        sd_bus_error_free(&job->error);
        free(job);
}

static void create_job_unref(CreateJob *job) {
        if (--job->pending > 0)
                return;
        Manager *m = job->manager;
        Image *image = manager_find_image(m, job->image_id, NULL);
        const char *name = job->config.name;
        int r = -EIO;
        if (!sd_bus_error_is_set(&job->error) && !image)
                (void) sd_bus_error_setf(&job->error, BERTH_ERROR_NO_SUCH_IMAGE, "Image %s was removed meanwhile.",
                                         job->image_ref);
        if (!sd_bus_error_is_set(&job->error) && !isempty(name) && manager_find_container_by_name(m, name))
                (void) sd_bus_error_setf(&job->error, BERTH_ERROR_NAME_IN_USE,
                                         "The container name \"%s\" is already in use.", name);
        if (sd_bus_error_is_set(&job->error))
                container_undo_volumes(m, job->created);
        else {
                job->config.command = job->command;
                job->config.env = job->env;
                r = create_now(m, job->message, image, job->image_ref, &job->config, job->created, &job->error);
        }
        if (r < 0) {
                if (sd_bus_error_is_set(&job->error))
                        (void) sd_bus_reply_method_error(job->message, &job->error);
                else
                        (void) sd_bus_reply_method_errno(job->message, r, NULL);
        }
        create_job_free(job);
}

static void on_job_volume(Manager *m, Volume *v, const sd_bus_error *error, void *userdata) {
        CreateJob *job = userdata;
        (void) m;
        if (error && !sd_bus_error_is_set(&job->error))
                (void) sd_bus_error_copy(&job->error, error);
        else if (v && strv_push(&job->created, v->name) < 0 && !sd_bus_error_is_set(&job->error))
                (void) sd_bus_error_set_errno(&job->error, ENOMEM);
        create_job_unref(job);
}

/* What polkit must allow for a container: the privileged action for every option that reaches the
 * host or lifts the confinement (a non-root user must not reach root through them), else managing
 * containers. */
static BerthAction create_action(const ContainerConfig *config) {
        const ContainerSecurity *s = &config->security;
        bool host_ns = streq_ptr(config->pid_mode, "host") || streq_ptr(config->ipc_mode, "host") ||
                streq_ptr(config->uts_mode, "host") || streq_ptr(config->net.mode, "host") ||
                streq_ptr(config->cgroupns_mode, "host");
        if (s->privileged || strv_length(s->cap_add) > 0 || s->seccomp_profile || host_ns || config->res.n_devices > 0)
                return BERTH_ACTION_PRIVILEGED;
        for (size_t i = 0; i < config->n_mounts; i++)
                if (config->mounts[i].type == MOUNT_BIND)
                        return BERTH_ACTION_PRIVILEGED;
        return BERTH_ACTION_MANAGE_CONTAINERS;
}

static int method_create_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **command = NULL, **env = NULL;
        _cleanup_(container_config_done) ContainerConfig config = {
                .security.seccomp_fd = -1,
        };
        const char *image_ref, *name;
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
        r = bus_verify_action(message, create_action(&config), error);
        if (r != 0)
                return r;
        r = container_resources_check_devices(&config.res, error);
        if (r < 0)
                return r;
        r = container_log_config_validate(&config, error);
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
        /* Docker's words: a namespace of the host is not the user namespace's to own. */
        if (streq_ptr(config.security.userns_mode, "auto") &&
            (streq_ptr(config.pid_mode, "host") || streq_ptr(config.ipc_mode, "host") ||
             streq_ptr(config.uts_mode, "host")))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "cannot share the host %s namespace when user namespaces are enabled",
                                         streq_ptr(config.pid_mode, "host")           ? "PID"
                                                 : streq_ptr(config.ipc_mode, "host") ? "IPC"
                                                                                      : "UTS");
        if (config.memory_low != UINT64_MAX && config.memory_max != UINT64_MAX && config.memory_max < config.memory_low)
                return sd_bus_error_set(
                        error, BERTH_ERROR_INVALID_ARGUMENT,
                        "Minimum memory limit can not be less than memory reservation limit, see usage");
        if (config.auto_remove && config.restart_policy != RESTART_NO)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "AutoRemove and a restart policy cannot be combined.");
        if (config.restart_max_retries > 0 && config.restart_policy != RESTART_ON_FAILURE)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "RestartMaxRetries applies only to the on-failure policy.");
        r = container_security_validate(&config.security, error);
        if (r < 0)
                return r;
        _cleanup_free_ char *pid_mode = NULL, *ipc_mode = NULL;
        r = container_namespaces_resolve(m, &config, &pid_mode, &ipc_mode, error);
        if (r < 0)
                return r;
        config.name = name;
        config.command = command;
        config.env = env;
        _cleanup_strv_free_ char **named = NULL, **anonymous = NULL;
        r = container_plan_plugin_volumes(m, &config, image->volumes, &named, &anonymous);
        if (r < 0)
                return r;
        if (strv_length(named) + strv_length(anonymous) == 0)
                return create_now(m, message, image, image_ref, &config, NULL, error);

        /* The plugin volumes first, without waiting for the plugin: the create goes on when it answered. */
        CreateJob *job = calloc(1, sizeof(*job));
        if (!job)
                return -ENOMEM;
        *job = (CreateJob){ .manager = m,
                            .message = sd_bus_message_ref(message),
                            .config = config,
                            .command = TAKE_PTR(command),
                            .env = TAKE_PTR(env),
                            .image_ref = image_ref,
                            .image_id = strdup(image->id),
                            .created = calloc(1, sizeof(char *)),
                            .pending = 1,
                            .error = SD_BUS_ERROR_NULL };
        config = (ContainerConfig){ .security.seccomp_fd = -1 }; /* moved into the job */
        if (!job->image_id || !job->created) {
                create_job_free(job);
                return -ENOMEM;
        }
        const VolumeSettings settings = { .driver = job->config.volume_driver };
        for (size_t i = 0; i < strv_length(named) + strv_length(anonymous); i++) {
                bool anon = i >= strv_length(named);
                job->pending++;
                r = volume_create_plugin(m, anon ? anonymous[i - strv_length(named)] : named[i], anon, &settings,
                                         on_job_volume, job, &job->error);
                if (r < 0) {
                        job->pending--;
                        if (!sd_bus_error_is_set(&job->error))
                                (void) sd_bus_error_set_errno(&job->error, r);
                        break;
                }
        }
        create_job_unref(job);
        return 1;
}

static void *next_container(void *c) {
        return ((Container *) c)->next;
}

static int append_container(sd_bus_message *reply, void *object) {
        Container *c = object;
        if (c->creating)
                return 0;
        _cleanup_free_ char *path = container_object_path(c);
        if (!path)
                return -ENOMEM;
        return sd_bus_message_append(reply, "(sssso)", c->id, c->name, c->image_ref, container_status(c), path);
}

static int method_list_containers(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return bus_reply_list(message, "(sssso)", m->containers, next_container, append_container);
}

static int method_get_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *what;
        int r = sd_bus_message_read(message, "s", &what);
        if (r < 0)
                return r;
        Container *c = manager_get_container(userdata, what, error);
        if (!c)
                return -ENOENT;
        return bus_reply_object_path(message, container_object_path(c));
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
        SD_BUS_PROPERTY("KernelVersion", "s", manager_property_get_host, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OperatingSystem", "s", manager_property_get_host, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Architecture", "s", manager_property_get_host, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Hostname", "s", manager_property_get_host, 0, 0),
        SD_BUS_PROPERTY("CPUs", "u", manager_property_get_host, 0, 0),
        SD_BUS_PROPERTY("MemoryTotal", "t", manager_property_get_host, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CgroupVersion", "u", manager_property_get_host, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CgroupLayout", "s", manager_property_get_host, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SecurityOptions", "as", manager_property_get_host, 0, SD_BUS_VTABLE_PROPERTY_CONST),
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
        SD_BUS_METHOD_WITH_ARGS("PullImage", SD_BUS_ARGS("s", reference, "a{sv}", options),
                                SD_BUS_RESULT("o", image, "s", digest), method_pull_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PushImage", SD_BUS_ARGS("s", reference, "a{sv}", options), SD_BUS_RESULT("s", digest),
                                method_push_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("TransferNew",
                                SD_BUS_ARGS("u", id, "o", transfer, "s", type, "s", reference, "s", owner), 0),
        SD_BUS_SIGNAL_WITH_ARGS("TransferRemoved", SD_BUS_ARGS("u", id, "o", transfer, "s", result), 0),
        SD_BUS_METHOD_WITH_ARGS("ListRegistryTags", SD_BUS_ARGS("s", repository, "a{sv}", options),
                                SD_BUS_RESULT("as", tags), method_list_registry_tags, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Login", SD_BUS_ARGS("s", server, "a{sv}", options), SD_BUS_RESULT("s", status),
                                method_registry_login, SD_BUS_VTABLE_UNPRIVILEGED),
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
        SD_BUS_METHOD_WITH_ARGS("CreateNetwork", SD_BUS_ARGS("s", name, "a{sv}", options), SD_BUS_RESULT("o", network),
                                method_create_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetNetwork", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", network), method_get_network,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListNetworks", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sso)", networks), method_list_networks,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveNetwork", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_remove_network,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneNetworks", SD_BUS_ARGS("a{sv}", filters), SD_BUS_RESULT("as", removed),
                                method_prune_networks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneVolumesWithFilters", SD_BUS_ARGS("b", all, "a{sv}", filters),
                                SD_BUS_RESULT("as", removed), method_prune_volumes, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListContainers", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssso)", containers),
                                method_list_containers, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetContainer", SD_BUS_ARGS("s", container), SD_BUS_RESULT("o", object),
                                method_get_container, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* The object kinds below /org/berth1: one interface each, objects found by their path. */
static const struct {
        const char *prefix, *interface;
        const sd_bus_vtable *vtable;
        sd_bus_object_find_t find;
        sd_bus_node_enumerator_t enumerate;
} object_kinds[] = {
        { "/org/berth1/container", "org.berth1.Container", container_vtable, container_object_find,
          container_node_enumerator },
        { "/org/berth1/image", "org.berth1.Image", image_vtable, image_object_find, image_node_enumerator },
        { "/org/berth1/volume", "org.berth1.Volume", volume_vtable, volume_object_find, volume_node_enumerator },
        { "/org/berth1/network", "org.berth1.Network", network_vtable, network_object_find, network_node_enumerator },
        { "/org/berth1/transfer", "org.berth1.Transfer", transfer_vtable, transfer_object_find,
          transfer_node_enumerator },
};

int manager_bus_add_objects(Manager *m, sd_bus *bus) {
        int r = sd_bus_add_object_vtable(bus, NULL, "/org/berth1", "org.berth1.Manager", manager_vtable, m);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(object_kinds); i++) {
                r = sd_bus_add_fallback_vtable(bus, NULL, object_kinds[i].prefix, object_kinds[i].interface,
                                               object_kinds[i].vtable, object_kinds[i].find, m);
                if (r >= 0)
                        r = sd_bus_add_node_enumerator(bus, NULL, object_kinds[i].prefix, object_kinds[i].enumerate, m);
        }
        if (r < 0)
                return r;
        return sd_bus_add_object_manager(bus, NULL, "/org/berth1");
}

int manager_bus_setup(Manager *m) {
        int r;

        r = manager_bus_add_objects(m, m->bus);
        if (r < 0)
                return r;
        r = m->units->subscribe(m); /* JobRemoved, UnitRemoved */
        if (r < 0)
                return r;
        r = sd_bus_match_signal_async(m->bus, &m->machine_removed_slot, "org.freedesktop.machine1",
                                      "/org/freedesktop/machine1", "org.freedesktop.machine1.Manager", "MachineRemoved",
                                      manager_machine_removed, NULL, m);
        if (r < 0)
                return r;
        /* Synchronously, so READY=1 is only sent once clients can reach us. */
        return sd_bus_request_name(m->bus, "org.berth1", 0);
}
