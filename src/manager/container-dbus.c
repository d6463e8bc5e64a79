/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "bus-polkit.h"
#include "container.h"
#include "volume.h"
#include "errors.h"
#include "names.h"

int container_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                          sd_bus_error *error) {
        Manager *m = userdata;
        const char *prefix = "/org/berth1/container/";
        if (strncmp(path, prefix, strlen(prefix)))
                return 0;
        const char *id = path + strlen(prefix);
        if (!id_is_valid(id))
                return 0;
        Container *c = manager_find_container_by_id(m, id);
        if (!c || c->creating)
                return 0;
        *found = c;
        return 1;
}

int container_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (Container *c = m->containers; c; c = c->next) {
                if (c->creating)
                        continue;
                _cleanup_free_ char *p = container_object_path(c);
                if (!p || strv_push(&l, p) < 0)
                        return -ENOMEM;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return sd_bus_message_append(reply, "s", container_status(c));
}

static int property_get_unit(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        _cleanup_free_ char *unit = container_unit_name(c);
        if (!unit)
                return -ENOMEM;
        return sd_bus_message_append(reply, "s", unit);
}

static int property_get_string_ptr(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        char **s = userdata;
        return sd_bus_message_append(reply, "s", *s ?: "");
}

static int property_get_id(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return sd_bus_message_append(reply, "s", c->id);
}

static int property_get_strv_ptr(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        char ***l = userdata;
        return sd_bus_message_append_strv(reply, *l);
}

static int property_get_pid(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return sd_bus_message_append(reply, "u", (uint32_t) (c->state == CONTAINER_RUNNING ? c->pid : 0));
}

static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", (int) *(bool *) userdata);
}

static int property_get_restart_policy(sd_bus *bus, const char *path, const char *interface, const char *property,
                                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", restart_policy_to_string(*(int *) userdata));
}

static int property_get_labels(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return bus_append_labels(reply, c->labels);
}

static int property_get_sysctls(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return bus_append_labels(reply, c->sysctls);
}

/* The container of a changing method, once polkit allowed it: 0, or 1 while polkit is asked (the
 * handler returns it; the call comes again), or <0. */
static int lookup_for_method(sd_bus_message *message, void *userdata, Container **ret, sd_bus_error *error) {
        int r = bus_verify_action(message, BERTH_ACTION_MANAGE_CONTAINERS, error);
        if (r != 0)
                return r;
        *ret = userdata;
        return 0;
}

static int method_start(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Container *c;
        int r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        return container_start(c, message, -1, -1, -1, error);
}

/* StartAttached(h stdout, h stderr) and StartAttachedWithInput(h stdin, h stdout, h stderr). */
static int method_start_attached(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        bool with_input = streq(sd_bus_message_get_member(message), "StartAttachedWithInput");
        Container *c;
        int in = -1, out, err, r;
        if (with_input)
                r = sd_bus_message_read(message, "hhh", &in, &out, &err);
        else
                r = sd_bus_message_read(message, "hh", &out, &err);
        if (r < 0)
                return r;
        r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        return container_start(c, message, in, out, err, error);
}

/* Stop and Restart: the same argument and checks; Restart starts the container again after. */
/* StartTerminal(h stdin, h stdout, u rows, u cols): for containers created with Tty. */
static int method_start_terminal(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Container *c;
        uint32_t rows, cols;
        int in, out, r;
        r = sd_bus_message_read(message, "hhuu", &in, &out, &rows, &cols);
        if (r < 0)
                return r;
        r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        if (!c->tty)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Container %s was not created with a terminal (Tty).", c->name);
        if (rows == 0 || cols == 0 || rows > 10000 || cols > 10000)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid terminal size.");
        c->tty_rows = rows;
        c->tty_cols = cols;
        return container_start(c, message, in, out, -1, error);
}

/* Attach(h stdin, h stdout, h stderr): output from now on, and for Tty containers input too. */
static int method_attach(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Container *c;
        int fds[3], r;
        r = sd_bus_message_read(message, "hhh", &fds[0], &fds[1], &fds[2]);
        if (r < 0)
                return r;
        r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        r = container_attach(c, fds, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, NULL);
}

static int method_resize_terminal(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Container *c;
        uint32_t rows, cols;
        int r = sd_bus_message_read(message, "uu", &rows, &cols);
        if (r < 0)
                return r;
        r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        r = container_resize_terminal(c, rows, cols, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, NULL);
}

/* Stop and Restart (u timeout), StopWithSignal and RestartWithSignal (u timeout, i signal). */
static int method_stop(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *member = sd_bus_message_get_member(message);
        bool with_signal = endswith(member, "WithSignal");
        Container *c;
        uint32_t timeout;
        int32_t sig = 0;
        int r = with_signal ? sd_bus_message_read(message, "ui", &timeout, &sig)
                            : sd_bus_message_read(message, "u", &timeout);
        if (r < 0)
                return r;
        if (sig < 0 || sig >= _NSIG)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid signal number %d.", sig);
        r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        if (timeout == UINT32_MAX)
                timeout = container_stop_timeout(c); /* none given: the container's (--stop-timeout) */
        if (timeout > 24 * 3600)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT, "Stop timeout must be at most one day.");
        if (startswith(member, "Restart"))
                return container_restart_with_signal(c, timeout, sig, message, error);
        return container_stop_with_signal(c, timeout, sig, message, error);
}

static int method_kill(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Container *c;
        int32_t sig;
        int r = sd_bus_message_read(message, "i", &sig);
        if (r < 0)
                return r;
        r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        r = container_kill(c, sig, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, NULL);
}

static int method_remove(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Container *c;
        int force;
        int r = sd_bus_message_read(message, "b", &force);
        if (r < 0)
                return r;
        r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        /* RemoveWithVolumes also removes the container's anonymous volumes (docker rm -v). */
        return container_remove(c, force, streq(sd_bus_message_get_member(message), "RemoveWithVolumes"), message,
                                error);
}

static int property_get_mounts(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "(sssb)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_mounts; i++) {
                r = sd_bus_message_append(reply, "(sssb)", mount_type_to_string(c->mounts[i].type), c->mounts[i].source,
                                          c->mounts[i].target, (int) c->mounts[i].read_only);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static bool mount_points_have(const ContainerMount *const *seen, size_t n, const char *target) {
        for (size_t i = 0; i < n; i++)
                if (streq(seen[i]->target, target))
                        return true;
        return false;
}

static int append_mount_point(sd_bus_message *reply, Container *c, const ContainerMount *m, bool read_only) {
        _cleanup_free_ char *source = NULL;
        const char *name = "", *driver = "";
        if (m->type == MOUNT_VOLUME) {
                Volume *v = manager_find_volume(c->manager, m->source);
                name = m->source;
                driver = v ? v->driver : "";
                source = v ? volume_mountpoint(v) : strdup("");
        } else
                source = strdup(m->type == MOUNT_BIND ? m->source : "");
        if (!source)
                return -ENOMEM;
        return sd_bus_message_append(reply, "(ssssssb)", mount_type_to_string(m->type), name, source, m->target, driver,
                                     read_only ? "ro" : "", (int) !read_only);
}

/* Every mount point a start sets up, as Docker's inspect shows them: the container's own, those
 * of --volumes-from (transitively), the image's VOLUMEs; one per target, in that precedence. */
static int property_get_mount_points(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        _cleanup_(inherited_mounts_done) InheritedMounts inherited = {};
        int r = container_inherited_mounts(c, &inherited, NULL);
        if (r < 0)
                return r;
        _cleanup_free_ const ContainerMount **seen = calloc(c->n_mounts + inherited.n + 1, sizeof(ContainerMount *));
        size_t n = 0;
        if (!seen)
                return -ENOMEM;
        r = sd_bus_message_open_container(reply, 'a', "(ssssssb)");
        for (int pass = 0; r >= 0 && pass < 3; pass++) {
                size_t count = pass == 1 ? inherited.n : c->n_mounts;
                for (size_t i = 0; r >= 0 && i < count; i++) {
                        const ContainerMount *m = pass == 1 ? inherited.items[i].mount : &c->mounts[i];
                        if ((pass == 0 && m->from_image) || (pass == 2 && !m->from_image) ||
                            mount_points_have(seen, n, m->target))
                                continue;
                        seen[n++] = m;
                        r = append_mount_point(reply, c, m, pass == 1 ? inherited.items[i].read_only : m->read_only);
                }
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_get_entrypoint(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return sd_bus_message_append_strv(reply, c->entrypoint);
}

static int method_pause(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Container *c;
        int r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        return container_pause(c, streq(sd_bus_message_get_member(message), "Pause"), message, error);
}

static int method_rename(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Container *c;
        const char *name;
        int r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        r = container_rename(c, name, error);
        if (r < 0)
                return r;
        return container_reply_when_saved(c, message); /* its record queued: answered once written */
}

/* Exec(as command, as env, s workdir, h stdin, h stdout, h stderr) and
 * ExecWithOptions(as command, as env, a{sv} options, h stdin, h stdout, h stderr), options:
 * WorkingDir s, User s, Tty b, Rows u, Cols u, ResizeFd h (with Tty: the read end of a pipe that
 * carries new terminal sizes, two native-endian uint16: rows, cols). */
static int method_exec(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        ExecOptions options = { .resize_fd = -1 };
        int stdio[3], r;
        Container *c;

        r = bus_read_strv(message, &argv);
        if (r < 0)
                return r;
        r = bus_read_strv(message, &env);
        if (r < 0)
                return r;
        if (streq(sd_bus_message_get_member(message), "Exec")) {
                r = sd_bus_message_read(message, "s", &options.workdir);
                if (r < 0)
                        return r;
        } else {
                const BusOption opts[] = {
                        BUS_OPTION("WorkingDir", "s", &options.workdir),
                        BUS_OPTION("User", "s", &options.user),
                        BUS_OPTION("Tty", "b", &options.tty),
                        BUS_OPTION("Rows", "u", &options.rows),
                        BUS_OPTION("Cols", "u", &options.cols),
                        BUS_OPTION("ResizeFd", "h", &options.resize_fd),
                        BUS_OPTION("Detach", "b", &options.detach),
                        BUS_OPTION("Privileged", "b", &options.privileged),
                };
                r = bus_read_options(message, opts, ELEMENTSOF(opts), "exec option", error);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_read(message, "hhh", &stdio[0], &stdio[1], &stdio[2]);
        if (r < 0)
                return r;
        /* exec --privileged: every capability, which polkit must allow as a privileged option. */
        r = bus_verify_action(message, options.privileged ? BERTH_ACTION_PRIVILEGED : BERTH_ACTION_MANAGE_CONTAINERS,
                              error);
        if (r != 0)
                return r;
        c = userdata;
        r = container_env_validate(env, error);
        if (r < 0)
                return r;
        if (options.user && !isempty(options.user) && strpbrk(options.user, " /\n"))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid user \"%s\".", options.user);
        if (options.rows > 10000 || options.cols > 10000)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid terminal size.");
        return container_exec(c, argv, env, &options, stdio, message, error);
}

static int method_update(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        LimitUpdate u;
        Container *c;
        int r = container_update_parse(message, &u, error);
        if (r < 0)
                return r;
        r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        return container_update(c, &u, message, error);
}

static int method_get_stats(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return container_get_stats(userdata, message, error);
}

static int method_get_processes(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return container_get_processes(userdata, message, error);
}

static int method_wait(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return container_wait(userdata, message);
}

static int method_wait_condition(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *condition;
        int r = sd_bus_message_read(message, "s", &condition);
        if (r < 0)
                return r;
        return container_wait_condition(userdata, condition, message, error);
}

/* GetChanges, Export, CopyFrom, CopyTo, Commit: the container's file system (container-fs.c,
 * container-commit.c). */
static int method_fs(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *member = sd_bus_message_get_member(message), *path = NULL;
        Container *c;
        int fd = -1, r;

        bool follow_link = false;
        if (streq(member, "Export"))
                r = sd_bus_message_read(message, "h", &fd);
        else if (streq(member, "CopyFrom") || streq(member, "CopyTo") || streq(member, "CopyFromWithOptions"))
                r = sd_bus_message_read(message, "sh", &path, &fd);
        else
                r = 0;
        if (r >= 0 && streq(member, "CopyFromWithOptions")) {
                const BusOption opts[] = { BUS_OPTION("FollowLink", "b", &follow_link) };
                r = bus_read_options(message, opts, ELEMENTSOF(opts), "copy option", error);
        }
        if (r < 0)
                return r;
        r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        if (streq(member, "GetChanges"))
                return container_get_changes(c, message, error);
        if (streq(member, "Export"))
                return container_export(c, fd, message, error);
        return container_copy(c, streq(member, "CopyTo"), follow_link, path, fd, message, error);
}

/* CommitWithOptions' options: SkipEmptyLayer (b), BuildCacheKey (s, 64 lowercase hex). Strings
 * point into the message. */
static int read_commit_options(sd_bus_message *message, CommitOptions *o, sd_bus_error *error) {
        int r = sd_bus_message_enter_container(message, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                const char *key, *contents, *type;
                if ((r = sd_bus_message_read(message, "s", &key)) < 0 ||
                    (r = sd_bus_message_peek_type(message, NULL, &contents)) < 0)
                        return r;
                if (!streq(key, "SkipEmptyLayer") && !streq(key, "BuildCacheKey"))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Unknown commit option \"%s\".",
                                                 key);
                type = streq(key, "SkipEmptyLayer") ? "b" : "s";
                if (!streq(contents, type))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Commit option \"%s\" must have type \"%s\".", key, type);
                if (streq(key, "SkipEmptyLayer")) {
                        int b;
                        r = sd_bus_message_read(message, "v", "b", &b);
                        o->skip_empty_layer = b;
                } else {
                        r = sd_bus_message_read(message, "v", "s", &o->build_cache_key);
                        if (r >= 0 &&
                            (strlen(o->build_cache_key) != 64 || strspn(o->build_cache_key, "0123456789abcdef") != 64))
                                return sd_bus_error_set(
                                        error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "Commit option \"BuildCacheKey\" must be 64 lowercase hex digits.");
                }
                if (r < 0 || (r = sd_bus_message_exit_container(message)) < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

static int method_commit(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **changes = NULL;
        const char *reference, *comment, *author;
        CommitOptions options = {};
        Container *c;
        int r = sd_bus_message_read(message, "s", &reference);
        if (r >= 0)
                r = bus_read_strv(message, &changes);
        if (r >= 0)
                r = sd_bus_message_read(message, "ss", &comment, &author);
        if (r >= 0 && streq(sd_bus_message_get_member(message), "CommitWithOptions"))
                r = read_commit_options(message, &options, error);
        if (r < 0)
                return r;
        r = lookup_for_method(message, userdata, &c, error);
        if (r != 0)
                return r;
        return container_commit(c, reference, changes, comment, author, &options, message, error);
}

static int property_get_env(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        int r = bus_property_check_privileged(bus, "the environment of a container", error);
        if (r < 0)
                return r;
        return sd_bus_message_append_strv(reply, c->env);
}

/* Lines of the current run's output (else the last run's) its supervisor dropped and reported. */
static int property_get_log_lines_dropped(sd_bus *bus, const char *path, const char *interface, const char *property,
                                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "t", container_log_lines_dropped(userdata));
}

static int property_get_health_action(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", health_action_to_string(*(int *) userdata) ?: "none");
}

#define P(name, sig, getter, field, flags) SD_BUS_PROPERTY(name, sig, getter, offsetof(Container, field), flags)

/* The settings' properties, from their table (container-settings-list.h). */
#define SETTING_GETTER_HOSTNAME     property_get_string_ptr
#define SETTING_GETTER_PATH         property_get_string_ptr
#define SETTING_GETTER_USER         property_get_string_ptr
#define SETTING_GETTER_BOOL         property_get_bool
#define SETTING_GETTER_LIMIT        NULL
#define SETTING_GETTER_SIGNAL       NULL
#define SETTING_GETTER_RESTART      property_get_restart_policy
#define SETTING_GETTER_U32          NULL
#define SETTING_GETTER_CPUSET       property_get_string_ptr
#define SETTING_GETTER_SLICE        property_get_string_ptr
#define SETTING_GETTER_I32          NULL
#define SETTING_GETTER_DOMAIN       property_get_string_ptr
#define SETTING_GETTER_NSMODE       property_get_string_ptr
#define SETTING_GETTER_LOGOPT       property_get_string_ptr
#define SETTING_GETTER_U64          NULL
#define SETTING_GETTER_HEALTHCMD    property_get_strv_ptr
#define SETTING_GETTER_DURATION     NULL
#define SETTING_GETTER_HEALTHACTION property_get_health_action
#define SETTING_PROPERTY(field, key, record, spec, kind, flags)                                               \
        SD_BUS_PROPERTY(key, SETTING_PROPERTY_TYPE_##kind, SETTING_GETTER_##kind, offsetof(Container, field), \
                        (flags) &SETTING_LIVE ? SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE : SD_BUS_VTABLE_PROPERTY_CONST),

const sd_bus_vtable container_vtable[] = {
        SD_BUS_VTABLE_START(0),
        CONTAINER_SETTINGS(SETTING_PROPERTY)
                SD_BUS_PROPERTY("Id", "s", property_get_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        P("Name", "s", property_get_string_ptr, name, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        P("Image", "s", property_get_string_ptr, image_ref, SD_BUS_VTABLE_PROPERTY_CONST),
        P("ImageId", "s", property_get_string_ptr, image_id, SD_BUS_VTABLE_PROPERTY_CONST),
        P("Command", "as", property_get_strv_ptr, command, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Entrypoint", "as", property_get_entrypoint, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        /* May hold secrets: for root only, and only when asked for by name. */
        SD_BUS_PROPERTY("Env", "as", property_get_env, 0, SD_BUS_VTABLE_PROPERTY_EXPLICIT),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HealthStatus", "s", container_property_get_health_status, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HealthFailingStreak", "u", NULL, offsetof(Container, health.failing_streak),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HealthLog", "a(ttis)", container_property_get_health_log, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExitCode", "i", NULL, offsetof(Container, exit_code), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Pid", "u", property_get_pid, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Unit", "s", property_get_unit, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CreatedAt", "t", NULL, offsetof(Container, created_at), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StartedAt", "t", NULL, offsetof(Container, started_at), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("FinishedAt", "t", NULL, offsetof(Container, finished_at), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MemorySwapMax", "t", NULL, offsetof(Container, res.memory_swap_max),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CPUWeight", "t", NULL, offsetof(Container, res.cpu_weight),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CPUShares", "t", NULL, offsetof(Container, res.cpu_shares),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ShmSize", "t", NULL, offsetof(Container, res.shm_size), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StopTimeout", "u", NULL, offsetof(Container, res.stop_timeout), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Ulimits", "a(stt)", container_property_get_ulimits, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Devices", "a(sss)", container_property_get_devices, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IODeviceLimits", "a(sst)", container_property_get_io_limits, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OOMKilled", "b", property_get_bool, offsetof(Container, oom_killed),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        /* Read from the supervisor's file while it runs: no signal for each report, so none at all
         * (EmitsChangedSignal=false); ask for it. */
        SD_BUS_PROPERTY("LogLinesDropped", "t", property_get_log_lines_dropped, 0, 0),
        CONTAINER_SECURITY_PROPERTIES,
        SD_BUS_PROPERTY("Mounts", "a(sssb)", property_get_mounts, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        /* What --volumes-from takes changes with the other containers: not cached, not signalled. */
        SD_BUS_PROPERTY("MountPoints", "a(ssssssb)", property_get_mount_points, 0, 0),
        SD_BUS_PROPERTY("Labels", "a{ss}", property_get_labels, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NetworkMode", "s", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NetworkAliases", "as", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IPAddress", "s", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MacAddress", "s", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Dns", "as", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DnsSearch", "as", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DnsOptions", "as", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ExtraHosts", "as", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PortBindings", "a(sqsqq)", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ExposedPorts", "a(sq)", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PublishAllPorts", "b", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Ports", "a(sqsq)", container_property_get_network, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Networks", "a(sssusssas)", container_property_get_network, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        P("VolumesFrom", "as", property_get_strv_ptr, volumes_from, SD_BUS_VTABLE_PROPERTY_CONST),
        P("GroupAdd", "as", property_get_strv_ptr, group_add, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Sysctls", "a{ss}", property_get_sysctls, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RestartCount", "u", NULL, offsetof(Container, restart_count),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RestartDelayUSec", "t", NULL, offsetof(Container, restart_delay_usec),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        P("Error", "s", property_get_string_ptr, error, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartAttached", SD_BUS_ARGS("h", stdout, "h", stderr), SD_BUS_NO_RESULT,
                                method_start_attached, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartTerminal", SD_BUS_ARGS("h", stdin, "h", stdout, "u", rows, "u", cols),
                                SD_BUS_NO_RESULT, method_start_terminal, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResizeTerminal", SD_BUS_ARGS("u", rows, "u", cols), SD_BUS_NO_RESULT,
                                method_resize_terminal, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Attach", SD_BUS_ARGS("h", stdin, "h", stdout, "h", stderr), SD_BUS_NO_RESULT,
                                method_attach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartAttachedWithInput", SD_BUS_ARGS("h", stdin, "h", stdout, "h", stderr),
                                SD_BUS_NO_RESULT, method_start_attached, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_ARGS("u", timeout), SD_BUS_NO_RESULT, method_stop,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Kill", SD_BUS_ARGS("i", signal), SD_BUS_NO_RESULT, method_kill,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Remove", SD_BUS_ARGS("b", force), SD_BUS_NO_RESULT, method_remove,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Restart", SD_BUS_ARGS("u", timeout), SD_BUS_NO_RESULT, method_stop,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopWithSignal", SD_BUS_ARGS("u", timeout, "i", signal), SD_BUS_NO_RESULT, method_stop,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestartWithSignal", SD_BUS_ARGS("u", timeout, "i", signal), SD_BUS_NO_RESULT,
                                method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Pause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_pause, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unpause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_pause, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Rename", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_rename,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "Exec", SD_BUS_ARGS("as", command, "as", env, "s", workdir, "h", stdin, "h", stdout, "h", stderr),
                SD_BUS_RESULT("i", exit_code), method_exec, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveWithVolumes", SD_BUS_ARGS("b", force), SD_BUS_NO_RESULT, method_remove,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Update", SD_BUS_ARGS("a{sv}", limits), SD_BUS_NO_RESULT, method_update,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStats", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("t", memory_current, "t", memory_max, "t", cpu_usage_nsec, "t",
                                              tasks_current, "t", io_read_bytes, "t", io_write_bytes),
                                method_get_stats, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetProcesses", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(uus)", processes),
                                method_get_processes, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "ExecWithOptions",
                SD_BUS_ARGS("as", command, "as", env, "a{sv}", options, "h", stdin, "h", stdout, "h", stderr),
                SD_BUS_RESULT("i", exit_code), method_exec, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Wait", SD_BUS_NO_ARGS, SD_BUS_RESULT("i", exit_code), method_wait,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("WaitCondition", SD_BUS_ARGS("s", condition), SD_BUS_RESULT("i", exit_code),
                                method_wait_condition, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetChanges", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ss)", changes), method_fs,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Export", SD_BUS_ARGS("h", fd), SD_BUS_NO_RESULT, method_fs,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CopyFrom", SD_BUS_ARGS("s", path, "h", fd), SD_BUS_NO_RESULT, method_fs,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CopyFromWithOptions", SD_BUS_ARGS("s", path, "h", fd, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_fs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CopyTo", SD_BUS_ARGS("s", path, "h", fd), SD_BUS_NO_RESULT, method_fs,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Commit", SD_BUS_ARGS("s", reference, "as", changes, "s", comment, "s", author),
                                SD_BUS_RESULT("o", image), method_commit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CommitWithOptions",
                                SD_BUS_ARGS("s", reference, "as", changes, "s", comment, "s", author, "a{sv}", options),
                                SD_BUS_RESULT("o", image), method_commit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
