/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "event-journal.h"
#include "hashmap.h"
#include "log.h"
#include "removal.h"
#include "container.h"
#include "storage.h"
#include "volume.h"
#include "errors.h"
#include "helper-protocol.h"
#include "image.h"
#include "json-util.h"
#include "names.h"

static const char *const state_table[_CONTAINER_STATE_MAX] = {
        [CONTAINER_CREATED] = "created",
        [CONTAINER_RUNNING] = "running",
        [CONTAINER_EXITED] = "exited",
};

const char *container_state_to_string(ContainerState s) {
        return s >= 0 && s < _CONTAINER_STATE_MAX ? state_table[s] : NULL;
}

ContainerState container_state_from_string(const char *s) {
        for (int i = 0; s && i < _CONTAINER_STATE_MAX; i++)
                if (streq(state_table[i], s))
                        return (ContainerState) i;
        return _CONTAINER_STATE_INVALID;
}

const char *container_status(const Container *c) {
        if (c->state == CONTAINER_RUNNING && c->paused)
                return "paused";
        if (c->state == CONTAINER_EXITED && c->restart_timer)
                return "restarting";
        return container_state_to_string(c->state);
}

char *container_object_path(const Container *c) {
        char *p;
        return asprintf(&p, "/org/berth1/container/%s", c->id) < 0 ? NULL : p;
}

char *container_unit_name(const Container *c) {
        char *p;
        return asprintf(&p, "berth-%.12s.scope", c->id) < 0 ? NULL : p;
}

static int pidfd_open_(pid_t pid) {
        return (int) syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_send_signal_(int pidfd, int sig) {
        return (int) syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* A pidfd for a process of this container. The pidfd is opened first and then the process is
 * checked to be in the container's scope, so a recycled PID can never be mistaken for ours. */
int container_open_pidfd(const Container *c, pid_t pid) {
        _cleanup_free_ char *unit = container_unit_name(c);
        _cleanup_close_ int pidfd = pidfd_open_(pid);

        if (pidfd < 0)
                return -errno;
        if (!unit)
                return -ENOMEM;
        if (c->manager->units->unit_has_pid(c->manager, unit, pid) <= 0)
                return -ESRCH;
        return TAKE_FD(pidfd);
}

Container *manager_find_container_by_name(Manager *m, const char *name) {
        return hashmap_get(m->containers_by_name, name);
}

Container *manager_find_container_by_id(Manager *m, const char *id) {
        return hashmap_get(m->containers_by_id, id);
}

int container_link(Container *c) {
        Manager *m = c->manager;
        /* Loaded or new: its state as it is now is no event (create journals itself). */
        c->journaled_state = 0;
        container_journal_state_quietly(c);
        int r = hashmap_put(m->containers_by_id, c->id, c);
        if (r < 0)
                return r;
        r = hashmap_put(m->containers_by_name, c->name, c);
        if (r < 0) {
                hashmap_remove(m->containers_by_id, c->id, c);
                return r;
        }
        c->next = m->containers;
        m->containers = c;
        return 0;
}

int container_index_rename(Container *c, char *name) {
        Manager *m = c->manager;
        hashmap_remove(m->containers_by_name, c->name, c);
        int r = hashmap_put(m->containers_by_name, name, c);
        if (r < 0) {
                (void) hashmap_put(m->containers_by_name, c->name, c);
                return r;
        }
        c->name = name;
        return 0;
}

Container *manager_find_container(Manager *m, const char *name_or_id, bool *ret_ambiguous) {
        Container *found = NULL;

        if (ret_ambiguous)
                *ret_ambiguous = false;
        if (isempty(name_or_id))
                return NULL;
        /* Docker's order: full id, exact name, then unique id prefix. A container still being
         * created is nobody's to find yet (its name and id are taken all the same). */
        found = manager_find_container_by_id(m, name_or_id);
        if (found)
                return found->creating ? NULL : found;
        found = manager_find_container_by_name(m, name_or_id[0] == '/' ? name_or_id + 1 : name_or_id);
        if (found || !hex_prefix_is_valid(name_or_id))
                return found && !found->creating ? found : NULL;
        for (Container *c = m->containers; c; c = c->next)
                if (!c->creating && !strncmp(c->id, name_or_id, strlen(name_or_id))) {
                        if (found) {
                                if (ret_ambiguous)
                                        *ret_ambiguous = true;
                                return NULL;
                        }
                        found = c;
                }
        return found;
}

Container *manager_get_container(Manager *m, const char *name_or_id, sd_bus_error *error) {
        bool ambiguous;
        Container *c = manager_find_container(m, name_or_id, &ambiguous);
        if (!c)
                (void) sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_CONTAINER,
                                         ambiguous ? "Container id prefix \"%s\" matches more than one container."
                                                   : "No such container: %s",
                                         name_or_id);
        return c;
}

void container_emit_changed(Container *c, const char *property, ...) {
        _cleanup_free_ char *path = container_object_path(c);
        char *names[16];
        size_t n = 0;
        va_list ap;

        if (!path || !c->manager->bus)
                return;
        va_start(ap, property);
        for (const char *p = property; p && n < ELEMENTSOF(names) - 1; p = va_arg(ap, const char *))
                names[n++] = (char *) p;
        va_end(ap);
        names[n] = NULL;
        (void) sd_bus_emit_properties_changed_strv(c->manager->bus, path, "org.berth1.Container", names);
        for (size_t i = 0; i < n; i++)
                if (streq(names[i], "State"))
                        container_journal_state(c);
}

/* The record (containers/<id>/container.json, fsynced): the container's configuration, and of its
 * runtime state only what a reboot must not lose: whether it ever ran ("state" reads "created" or
 * "exited", what a berthd finds after a reboot, and what one older than the split reads) and a Stop
 * by hand (unless-stopped containers stay stopped at boot). Changes with the configuration, at the
 * first start and at a Stop or Start by hand; not at an exit. */
json_object *container_record_to_json(const Container *c) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(c->id));
        json_object_object_add(o, "name", json_object_new_string(c->name));
        json_object_object_add(o, "image", json_object_new_string(c->image_ref));
        json_object_object_add(o, "image_id", json_object_new_string(c->image_id));
        json_object_object_add(o, "command", json_strv_new(c->command));
        json_object_object_add(o, "entrypoint", json_strv_new(c->entrypoint));
        json_object_object_add(o, "env", json_strv_new(c->env));
        container_settings_to_json(c, o);
        container_resources_to_json(&c->res, o);
        json_object_object_add(o, "state",
                               json_object_new_string(c->state == CONTAINER_CREATED ? "created" : "exited"));
        json_object_object_add(o, "stopped_by_user", json_object_new_boolean(c->stopped_by_user));
        json_object_object_add(o, "created_at", json_object_new_uint64(c->created_at));
        json_object_object_add(o, "mounts", container_mounts_to_json(c));
        json_object_object_add(o, "volumes_from", json_strv_new(c->volumes_from));
        json_object_object_add(o, "group_add", json_strv_new(c->group_add));
        json_object_object_add(o, "sysctls", json_strv_new(c->sysctls));
        json_object_object_add(o, "labels", json_strv_new(c->labels));
        json_object_object_add(o, "security", container_security_to_json(&c->security));
        container_network_to_json(&c->net, o);
        return o;
}

/* The runtime state (<run_dir>/containers/<id>.json, on tmpfs, not fsynced): gone with a reboot. */
json_object *container_state_to_json(const Container *c) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(c->id));
        json_object_object_add(o, "state", json_object_new_string(container_state_to_string(c->state)));
        json_object_object_add(o, "exit_code", json_object_new_int(c->exit_code));
        json_object_object_add(o, "oom_killed", json_object_new_boolean(c->oom_killed));
        json_object_object_add(o, "log_lines_dropped", json_object_new_uint64(c->log_lines_dropped));
        json_object_object_add(o, "pid", json_object_new_int(c->pid));
        json_object_object_add(o, "helper_pid", json_object_new_int(c->helper_pid));
        json_object_object_add(o, "started_at", json_object_new_uint64(c->started_at));
        json_object_object_add(o, "finished_at", json_object_new_uint64(c->finished_at));
        json_object_object_add(o, "error", json_object_new_string(c->error ?: ""));
        json_object_object_add(o, "paused", json_object_new_boolean(c->paused));
        json_object_object_add(o, "restart_count", json_object_new_int64(c->restart_count));
        json_object_object_add(o, "restart_delay_usec", json_object_new_uint64(c->restart_delay_usec));
        json_object_object_add(o, "stopped_by_user", json_object_new_boolean(c->stopped_by_user));
        json_object_object_add(o, "run_volumes", json_strv_new(c->run_volumes));
        container_network_state_to_json(&c->net, o);
        return o;
}

/* The runtime state from a state file, or from a record written before the split (which has all
 * of it). -EBADMSG leaves c as it was. */
static int container_state_from_json(Container *c, json_object *o) {
        ContainerState state = container_state_from_string(json_get_string(o, "state"));
        const char *error = json_get_string(o, "error");
        char **run_volumes = NULL;
        if (state < 0 || json_get_strv(o, "run_volumes", &run_volumes) < 0)
                return -EBADMSG;
        char *e = isempty(error) ? NULL : strdup(error);
        if (!isempty(error) && !e) {
                strv_free(run_volumes);
                return -ENOMEM;
        }
        free(c->error);
        c->error = e;
        strv_free(c->run_volumes);
        c->run_volumes = run_volumes;
        c->state = state;
        c->exit_code = (int) json_get_i64(o, "exit_code", 0);
        c->oom_killed = json_get_bool(o, "oom_killed", 0);
        c->log_lines_dropped = json_get_u64(o, "log_lines_dropped", 0);
        c->started_at = json_get_u64(o, "started_at", 0);
        c->finished_at = json_get_u64(o, "finished_at", 0);
        c->paused = json_get_bool(o, "paused", 0);
        c->restart_count = (unsigned) json_get_i64(o, "restart_count", 0);
        c->restart_delay_usec = json_get_u64(o, "restart_delay_usec", 0);
        c->stopped_by_user = json_get_bool(o, "stopped_by_user", 0);
        return container_network_state_from_json(o, &c->net);
}

void container_free(Container *c) {
        if (!c)
                return;
        container_listen_done(&c->listen);
        free(c->name);
        free(c->image_ref);
        free(c->image_id);
        container_health_free(c); /* first: a probe's callback points at c */
        container_settings_free(c);
        strv_free(c->command);
        strv_free(c->env);
        free(c->error);
        sd_event_source_disable_unref(c->helper_exit_source); /* before its fd: see worker.h */
        safe_close(c->helper_pidfd);
        safe_close(c->payload_pidfd);
        safe_close(c->tty_master);
        sd_event_source_disable_unref(c->stop_timer);
        sd_event_source_disable_unref(c->restart_timer);
        for (size_t i = 0; i < c->n_waiters; i++)
                sd_bus_message_unref(c->waiters[i]);
        free(c->waiters);
        for (size_t i = 0; i < c->n_removal_waiters; i++)
                sd_bus_message_unref(c->removal_waiters[i]);
        free(c->removal_waiters);
        for (size_t i = 0; i < c->n_stoppers; i++)
                sd_bus_message_unref(c->stoppers[i]);
        free(c->stoppers);
        sd_bus_message_unref(c->restart_request);
        container_mounts_free(c->mounts, c->n_mounts);
        strv_free(c->volumes_from);
        strv_free(c->group_add);
        strv_free(c->sysctls);
        strv_free(c->entrypoint);
        strv_free(c->run_volumes);
        strv_free(c->labels);
        container_resources_done(&c->res);
        container_security_done(&c->security);
        container_network_done(&c->net);
        free(c);
}

/* "SIGTERM", "TERM", "15" → 15; -EINVAL otherwise. */
int signal_from_string(const char *s) {
        int n;
        if (isempty(s))
                return -EINVAL;
        if (parse_int(s, &n) >= 0)
                return n > 0 && n < _NSIG ? n : -EINVAL;
        if (!strncmp(s, "SIG", 3))
                s += 3;
        for (int i = 1; i < _NSIG; i++) {
                const char *abbrev = sigabbrev_np(i);
                if (abbrev && streq(abbrev, s))
                        return i;
        }
        if (!strncmp(s, "RTMIN+", 6) && parse_int(s + 6, &n) >= 0 && SIGRTMIN + n <= SIGRTMAX)
                return SIGRTMIN + n;
        return -EINVAL;
}

static Container *container_alloc(Manager *m) {
        Container *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        c->manager = m;
        c->helper_pidfd = c->payload_pidfd = c->tty_master = c->health.out_fd = -1;
        c->memory_max = c->cpu_quota_per_sec_usec = c->tasks_max = UINT64_MAX;
        container_resources_init(&c->res);
        c->stop_signal = SIGTERM;
        container_security_init(&c->security);
        return c;
}

static char *generate_name(Manager *m) {
        static const char *const adjectives[] = { "brave", "calm",  "eager", "fancy",  "gentle", "happy", "jolly",
                                                  "keen",  "lucid", "merry", "nimble", "proud",  "quiet", "swift" };
        static const char *const nouns[] = { "anchor", "barge", "cutter",  "dinghy",  "ferry", "galley", "harbor",
                                             "jetty",  "ketch", "lighter", "mooring", "pier",  "quay",   "skiff" };
        for (unsigned attempt = 0; attempt < 64; attempt++) {
                char hex[BERTH_ID_LEN + 1], *name;
                if (random_hex_id(hex) < 0)
                        return NULL;
                unsigned a = (unsigned) strtoul((char[]){ hex[0], hex[1], 0 }, NULL, 16) % ELEMENTSOF(adjectives);
                unsigned b = (unsigned) strtoul((char[]){ hex[2], hex[3], 0 }, NULL, 16) % ELEMENTSOF(nouns);
                /* '-' rather than Docker's '_', so the name is also a valid machined machine name. */
                if (attempt < 8 ? asprintf(&name, "%s-%s", adjectives[a], nouns[b]) < 0
                                : asprintf(&name, "%s-%s-%.4s", adjectives[a], nouns[b], hex + 4) < 0)
                        return NULL;
                if (!manager_find_container_by_name(m, name))
                        return name;
                free(name);
        }
        return NULL;
}

/* The image's labels, then the user's; a later key replaces an earlier one. */
static int merge_labels(char **image_labels, char **user_labels, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        char **sources[2] = { image_labels, user_labels };
        if (!l)
                return -ENOMEM;
        for (size_t s = 0; s < 2; s++)
                for (char **e = sources[s]; e && *e; e++) {
                        size_t keylen = strcspn(*e, "=");
                        char **x;
                        for (x = l; *x; x++)
                                if (!strncmp(*x, *e, keylen) && ((*x)[keylen] == '=' || (*x)[keylen] == 0))
                                        break;
                        if (*x) {
                                char *copy = strdup(*e);
                                if (!copy)
                                        return -ENOMEM;
                                free(*x);
                                *x = copy;
                        } else if (strv_push(&l, *e) < 0)
                                return -ENOMEM;
                }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Image env first, then the user's; a later NAME= replaces an earlier one, as in Docker. */
int container_env_validate(char **env, sd_bus_error *error) {
        size_t n = strv_length(env);
        if (n > CONTAINER_ENV_MAX)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Too many environment variables (%zu): at most %d are allowed.", n,
                                         CONTAINER_ENV_MAX);
        for (char **e = env; e && *e; e++)
                if (!env_assignment_is_valid(*e))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Invalid environment assignment \"%s\": expected NAME=value.", *e);
        return 0;
}

typedef struct EnvEntry {
        const char *entry; /* "KEY=value" */
        size_t keylen;
        size_t order; /* position in image, hostname, user order */
} EnvEntry;

static int env_entry_compare(const void *a, const void *b) {
        const EnvEntry *x = a, *y = b;
        int c = memcmp(x->entry, y->entry, x->keylen < y->keylen ? x->keylen : y->keylen);
        if (c != 0)
                return c;
        if (x->keylen != y->keylen)
                return x->keylen < y->keylen ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

static int env_entry_compare_order(const void *a, const void *b) {
        const EnvEntry *x = a, *y = b;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* The image's environment, HOSTNAME, then the user's: a later value of a key replaces an earlier
 * one in the earlier one's place; HOME=/root unless set. Sorting makes it O(n log n): a create
 * with a huge environment must not stall the loop. */
static int merge_env(char **image_env, char **user_env, const char *hostname, char ***ret) {
        _cleanup_free_ char *h = NULL;
        size_t n_image = strv_length(image_env), n_user = strv_length(user_env), n = 0;

        if (asprintf(&h, "HOSTNAME=%s", hostname) < 0)
                return -ENOMEM;
        _cleanup_free_ EnvEntry *entries = calloc(n_image + n_user + 2, sizeof(EnvEntry));
        if (!entries)
                return -ENOMEM;
        char *home = "HOME=/root";
        char **sources[4] = { image_env, (char *[]){ h, NULL }, user_env, NULL };
        for (size_t s = 0; s < 3; s++)
                for (char **e = sources[s]; e && *e; e++, n++)
                        entries[n] = (EnvEntry){ .entry = *e, .keylen = strcspn(*e, "="), .order = n };
        entries[n] = (EnvEntry){ .entry = home, .keylen = 4, .order = SIZE_MAX }; /* loses to any HOME */
        n++;

        qsort(entries, n, sizeof(EnvEntry), env_entry_compare);
        /* Per key (equal keys are adjacent, in order): the last value at the first one's place. */
        size_t k = 0;
        for (size_t i = 0; i < n;) {
                size_t j = i + 1;
                while (j < n && entries[j].keylen == entries[i].keylen &&
                       !memcmp(entries[j].entry, entries[i].entry, entries[i].keylen))
                        j++;
                const EnvEntry *last = &entries[j - 1];
                if (last->order == SIZE_MAX && j - i > 1)
                        last--; /* HOME=/root only when nobody set HOME */
                entries[k++] = (EnvEntry){ .entry = last->entry, .keylen = last->keylen, .order = entries[i].order };
                i = j;
        }
        qsort(entries, k, sizeof(EnvEntry), env_entry_compare_order);

        _cleanup_strv_free_ char **l = calloc(k + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < k; i++)
                if (!(l[i] = strdup(entries[i].entry)))
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* The state directory and the container's file system on its image's layers. */
static int container_make_dirs(Container *c, Image *image) {
        _cleanup_free_ char *dir = manager_state_path(c->manager, "containers/%s", c->id);
        _cleanup_strv_free_ char **diffs = NULL;
        if (!dir)
                return -ENOMEM;
        int r = storage_image_diffs(image, &diffs);
        if (r < 0)
                return r;
        if (mkdir(dir, 0700) < 0)
                return -errno;
        return c->manager->storage->container_create(diffs, dir);
}

static void discard_new(Container *c);
static void container_unlink(Container *c);

int container_create(Manager *m, Image *image, const char *image_ref, const ContainerConfig *config, Container **ret,
                     sd_bus_error *error) {
        Container *c = container_alloc(m);
        int r;

        if (!c)
                return -ENOMEM;
        r = random_hex_id(c->id);
        if (r < 0)
                goto fail;
        c->name = isempty(config->name) ? generate_name(m) : strdup(config->name);
        c->image_ref = strdup(image_ref);
        c->image_id = strdup(image->id);
        /* The settings as given, then what the image or the id give where nothing was. */
        r = container_settings_copy(c, config);
        if (r < 0)
                goto fail;
        if (!c->hostname)
                c->hostname = strndup(c->id, BERTH_SHORT_ID_LEN);
        /* Docker's rule: argv = entrypoint + command; the image's Cmd is only the default command
         * of the image's own entrypoint, so a new --entrypoint drops it. */
        char **entrypoint = config->entrypoint_set ? config->entrypoint : image->entrypoint;
        char **cmd = strv_length(config->command) > 0 ? config->command : config->entrypoint_set ? NULL : image->cmd;
        c->command = strv_copy(entrypoint);
        c->entrypoint = strv_copy(entrypoint);
        for (char **a = cmd; c->command && a && *a; a++)
                if (strv_push(&c->command, *a) < 0)
                        c->command = (strv_free(c->command), NULL);
        if (!c->working_dir)
                c->working_dir = strdup(image->working_dir ?: "/");
        if (!c->user)
                c->user = strdup(image->user ?: "");
        if (c->stop_signal <= 0)
                c->stop_signal = SIGTERM;
        r = container_health_merge_image(c, image->config_json);
        if (r >= 0)
                r = container_listen_copy(&config->listen, &c->listen);
        if (r < 0)
                goto fail;
        if (config->stop_signal == 0 && image->stop_signal) {
                int sig = signal_from_string(image->stop_signal);
                if (sig > 0)
                        c->stop_signal = sig;
        }
        if (!c->name || !c->image_ref || !c->image_id || !c->hostname || !c->command || !c->entrypoint ||
            !c->working_dir || !c->user) {
                r = -ENOMEM;
                goto fail;
        }
        if (strv_length(c->command) == 0) {
                r = sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                     "No command specified, and the image has no default command.");
                goto fail;
        }
        r = merge_env(image->env, config->env, c->hostname, &c->env);
        if (r < 0)
                goto fail;
        r = merge_labels(image->labels, config->labels, &c->labels);
        if (r < 0)
                goto fail;
        r = container_resources_copy(&config->res, &c->res);
        if (r < 0)
                goto fail;
        c->state = CONTAINER_CREATED;
        c->created_at = now_realtime_usec();
        c->volumes_from = strv_copy(config->volumes_from);
        c->group_add = strv_copy(config->group_add);
        c->sysctls = strv_copy(config->sysctls);
        if (!c->volumes_from || !c->group_add || !c->sysctls ||
            container_security_copy(&c->security, &config->security) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        r = container_network_configure(m, (ContainerNetwork *) &config->net, image, &c->net, error);
        if (r < 0)
                goto fail;
        /* Docker's rule: with the host's network, net.* would be the host's own settings. */
        for (char **s = config->sysctls; s && *s && streq_ptr(c->net.mode, "host"); s++)
                if (startswith(*s, "net.")) {
                        r = sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                              "sysctl '%s' is not allowed in the host's network namespace.", *s);
                        goto fail;
                }
        r = container_userns_allocate(m, &c->security, error); /* c is not linked yet: others only */
        if (r < 0)
                goto fail;
        r = container_prepare_mounts(m, (ContainerConfig *) config, image->volumes, &c->mounts, &c->n_mounts, error);
        if (r < 0)
                goto fail;

        r = container_make_dirs(c, image);
        if (r < 0) {
                discard_new(c);
                return sd_bus_error_set_errnof(error, -r, "Failed to create the container's state: %m");
        }
        /* Its record is written next (container_save_soon()); until then it is "creating". */
        c->creating = true;
        r = container_link(c);
        if (r < 0) {
                discard_new(c);
                return sd_bus_error_set_errnof(error, -r, "Failed to index the container: %m");
        }
        *ret = c;
        return 0;
fail:
        container_free(c);
        return r;
}

/* Its runtime state in /run (container-save.c). */
static void container_remove_state(Container *c) {
        _cleanup_free_ char *path = manager_run_path(c->manager, "containers/%s.json", c->id);
        if (path)
                (void) unlink(path);
}

static void discard_new(Container *c) {
        _cleanup_free_ char *dir = manager_state_path(c->manager, "containers/%s", c->id);
        if (dir)
                (void) c->manager->storage->container_remove(dir);
        container_remove_state(c);
        container_remove_anonymous_volumes(c);
        container_free(c);
}

/* Its record could not be written: as if CreateContainer had never been called. Nothing could
 * reach it meanwhile (not found while creating), so nothing waits on it and nothing of it is queued. */
void container_discard_new(Container *c) {
        container_saves_drain(c);
        container_unlink(c);
        discard_new(c);
}

/* The files the helper keeps in the container's run directory (helper-protocol.h). */
static int read_runtime_file(Container *c, const char *name, char **ret, size_t *ret_len) {
        _cleanup_free_ char *path = manager_run_path(c->manager, "containers/%s/%s", c->id, name);
        if (!path)
                return -ENOMEM;
        return read_full_file(path, ret, ret_len);
}

static int read_running_file(Container *c, HelperRunning *ret) {
        _cleanup_free_ char *content = NULL;
        size_t len;
        int r = read_runtime_file(c, HELPER_RUNNING_FILE, &content, &len);
        if (r < 0)
                return r;
        return helper_running_parse(content, len, ret);
}

static int read_exit_file(Container *c, HelperExit *ret) {
        _cleanup_free_ char *content = NULL;
        size_t len;
        int r = read_runtime_file(c, HELPER_EXIT_FILE, &content, &len);
        if (r < 0)
                return r;
        return helper_exit_parse(content, len, ret);
}

static void container_unlink(Container *c) {
        hashmap_remove(c->manager->containers_by_id, c->id, c);
        hashmap_remove(c->manager->containers_by_name, c->name, c);
        for (Container **p = &c->manager->containers; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        return;
                }
}

static void reply_removal_waiters(Container *c) {
        for (size_t i = 0; i < c->n_removal_waiters; i++) {
                (void) sd_bus_reply_method_return(c->removal_waiters[i], "i", c->exit_code);
                sd_bus_message_unref(c->removal_waiters[i]);
        }
        c->n_removal_waiters = 0;
}

static void reply_waiters(Container *c, bool removed) {
        for (size_t i = 0; i < c->n_waiters; i++) {
                if (removed && c->state != CONTAINER_EXITED)
                        (void) sd_bus_reply_method_errorf(c->waiters[i], BERTH_ERROR_NO_SUCH_CONTAINER,
                                                          "Container %s was removed.", c->name);
                else
                        (void) sd_bus_reply_method_return(c->waiters[i], "i", c->exit_code);
                sd_bus_message_unref(c->waiters[i]);
        }
        c->n_waiters = 0;
}

static void reply_stoppers(Container *c) {
        for (size_t i = 0; i < c->n_stoppers; i++) {
                if (c->stoppers[i]) /* NULL: berthd's own stop (--health-on-failure=stop) */
                        (void) sd_bus_reply_method_return(c->stoppers[i], NULL);
                sd_bus_message_unref(c->stoppers[i]);
        }
        c->n_stoppers = 0;
}

/* Forget the container entirely: state dir, runtime dir, D-Bus object. */
static int container_destroy(Container *c, bool remove_volumes) {
        _cleanup_free_ char *dir = manager_state_path(c->manager, "containers/%s", c->id);
        _cleanup_free_ char *run = manager_run_path(c->manager, "containers/%s", c->id);
        _cleanup_free_ char *path = container_object_path(c);
        int r;

        if (!dir || !run || !path)
                return -ENOMEM;
        /* No record of it still on its way to the disk, to land in a half-removed directory. */
        container_saves_drain(c);
        /* container.json goes first: a crash halfway leaves a dir without it, cleaned at startup. */
        _cleanup_free_ char *json = NULL;
        if (asprintf(&json, "%s/container.json", dir) < 0)
                return -ENOMEM;
        if (unlink(json) < 0 && errno != ENOENT)
                return -errno;
        /* Its file system can be large: renamed to .rm-<id> (swept at startup) and removed by a
         * thread, not in the loop. */
        r = removal_rename_and_start(c->manager, dir, c->manager->storage->container_remove);
        if (r < 0 && r != -ENOENT)
                r = c->manager->storage->container_remove(dir);
        if (r < 0 && r != -ENOENT)
                log_warning("Failed to remove %s, ignoring: %s", dir, strerror(-r));
        (void) rm_rf(run);
        container_remove_state(c);
        /* The journal fields of its scope (see nspawn-journal.h): its supervisor removes them when
         * it ends, unless it was killed. */
        static const char *const unit_files[] = { "log-extra-fields", "log-rate-limit-interval",
                                                  "log-rate-limit-burst" };
        for (size_t i = 0; i < ELEMENTSOF(unit_files); i++) {
                _cleanup_free_ char *file = NULL;
                if (asprintf(&file, "/run/systemd/units/%s:berth-%.12s.scope", unit_files[i], c->id) >= 0)
                        (void) unlink(file);
        }
        (void) sd_bus_emit_object_removed(c->manager->bus, path);
        container_journal_event(c, "destroy", NULL);
        reply_waiters(c, true);
        reply_removal_waiters(c);
        reply_stoppers(c);
        if (c->restart_request) {
                (void) sd_bus_reply_method_errorf(c->restart_request, BERTH_ERROR_NO_SUCH_CONTAINER,
                                                  "Container %s was removed.", c->name);
                c->restart_request = sd_bus_message_unref(c->restart_request);
        }
        container_unlink(c);
        /* After unlinking, so the container no longer counts as a user of its own volumes. */
        if (remove_volumes || c->auto_remove)
                container_remove_anonymous_volumes(c);
        container_free(c);
        return 0;
}

void container_remove_after_failed_start(Container *c) {
        if (c->auto_remove && c->state != CONTAINER_RUNNING && !c->starting && !c->remove_on_exit)
                (void) container_destroy(c, true);
}

static void container_settle_exit(Container *c, int exit_code, uint64_t finished_at, bool oom_killed) {
        container_log_read_dropped(c); /* while the run directory still has the count */
        c->state = CONTAINER_EXITED;
        c->exit_code = exit_code;
        c->oom_killed = oom_killed;
        c->finished_at = finished_at;
        c->pid = 0;
        c->helper_pid = 0;
        c->helper_exit_source = sd_event_source_disable_unref(c->helper_exit_source); /* before its fd: see worker.h */
        c->helper_pidfd = safe_close(c->helper_pidfd);
        c->payload_pidfd = safe_close(c->payload_pidfd);
        c->tty_master = safe_close(c->tty_master);
        c->stop_timer = sd_event_source_disable_unref(c->stop_timer);
        c->paused = false;
        /* The run is over: its ports, firewall elements and addresses go (the kernel removed its
         * interfaces with its network namespace). */
        container_network_release(c);
        /* The run is over: volume plugins hear of it (VolumeDriver.Unmount), once. */
        volumes_unmount(c->manager, c->run_volumes, c->id);
        strv_free(c->run_volumes);
        c->run_volumes = NULL;
        bool health_restart = c->health.restart_on_exit && !c->remove_on_exit && !c->stopped_by_user;
        c->health.restart_on_exit = false;
        bool restarting = (c->restart_request || health_restart) && !c->remove_on_exit;
        container_emit_changed(c, "State", "ExitCode", "OOMKilled", "Pid", "FinishedAt", "Ports", "Networks", NULL);
        /* After the State signal: events says nothing of the "unhealthy" of a stopped container. */
        container_health_stopped(c);
        reply_waiters(c, false);
        /* The exit is runtime state: to /run, the record stays as it is. Not at all for a
         * container removed right away. */
        if (restarting || !(c->auto_remove || c->remove_on_exit))
                (void) container_save(c);
        if (restarting) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = TAKE_PTR(c->restart_request);
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                int r = container_start(c, request, -1, -1, -1, &error);
                if (r < 0 && request) {
                        if (!sd_bus_error_is_set(&error))
                                sd_bus_error_set_errno(&error, r);
                        (void) sd_bus_reply_method_error(request, &error);
                } else if (r < 0)
                        log_error("Failed to restart unhealthy container %s: %s", c->name,
                                  error.message ?: strerror(-r));
                return;
        }
        if (c->auto_remove || c->remove_on_exit)
                (void) container_destroy(c, c->remove_volumes_on_exit);
        else {
                reply_stoppers(c);
                container_maybe_schedule_restart(c);
        }
}

/* The helper writes its exit file (HelperExit) just before it exits. Without the file the helper
 * itself was killed (e.g. SIGKILL to the whole scope): report 137 like a SIGKILL'ed payload. */
static void container_read_exit(Container *c) {
        HelperExit e;
        int r = read_exit_file(c, &e);

        if (r == -EBADMSG)
                log_warning("Container %s: its exit status cannot be read, assuming it was killed.", c->name);
        else if (r < 0)
                log_warning("Container %s: supervisor gone without an exit status, assuming it was killed.", c->name);
        if (r < 0)
                e = (HelperExit){ .exit_code = 137, .finished_usec = now_realtime_usec() };
        container_settle_exit(c, e.exit_code, e.finished_usec, e.oom_kills > 0);
}

static int on_helper_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Container *c = userdata;
        /* Reap it if it is our child (it is not after berthd restarted: then init reaps it). */
        if (c->helper_pid > 0)
                (void) waitpid(c->helper_pid, NULL, WNOHANG);
        container_read_exit(c);
        return 0;
}

int container_watch_helper(Container *c) {
        c->helper_exit_source = sd_event_source_disable_unref(c->helper_exit_source);
        return sd_event_add_io(c->manager->event, &c->helper_exit_source, c->helper_pidfd, EPOLLIN, on_helper_exit, c);
}

/* Decide a loaded container's runtime state from what the helper left under /run/berth. */
static void container_reconcile(Container *c) {
        HelperRunning running;
        HelperExit e;
        int r;

        r = read_exit_file(c, &e);
        if (r >= 0 || r == -EBADMSG) { /* there is one */
                if (read_running_file(c, &running) >= 0 && running.started_usec > c->started_at)
                        c->started_at = running.started_usec;
                /* Adopt the exit file unless it is the run berthd already settled (a run that
                 * started and ended while berthd was down leaves a newer one). An unreadable one
                 * ends the run as well (137). */
                if (c->state != CONTAINER_EXITED || (r >= 0 && e.finished_usec > c->finished_at))
                        container_read_exit(c);
                return;
        }
        r = read_running_file(c, &running);
        if (r < 0 && r != -EBADMSG) {
                if (c->state == CONTAINER_RUNNING)
                        container_settle_exit(c, 137, now_realtime_usec(), false); /* e.g. after a reboot */
                return;
        }
        if (r < 0)
                return; /* unreadable: leave the state as recorded */

        int pidfd = container_open_pidfd(c, running.helper_pid);
        if (pidfd < 0) {
                container_read_exit(c);
                return;
        }
        c->helper_pidfd = pidfd;
        c->helper_pid = running.helper_pid;
        c->pid = running.payload_pid;
        c->payload_pidfd = container_open_pidfd(c, running.payload_pid);
        c->started_at = running.started_usec;
        c->paused = container_read_frozen(c) > 0;
        if (c->state != CONTAINER_RUNNING) {
                c->state = CONTAINER_RUNNING;
                (void) container_save(c);
        }
        if (container_watch_helper(c) < 0)
                log_error("Failed to watch container %s.", c->name);
        /* Health is runtime state berthd does not keep: a restarted berthd begins again at "starting". */
        container_health_started(c);
        container_health_paused(c, c->paused);
}

/* The runtime state berthd wrote to /run in this boot, over what the record says. 0 when there
 * was one, -ENOENT when not (after a reboot). */
static int container_load_state(Container *c) {
        _cleanup_free_ char *path = manager_run_path(c->manager, "containers/%s.json", c->id);
        _cleanup_json_ json_object *o = NULL;
        if (!path)
                return -ENOMEM;
        int r = json_read_file(path, &o);
        const char *id = r >= 0 ? json_get_string(o, "id") : NULL;
        if (r >= 0 && (!id || !streq(id, c->id)))
                r = -EUCLEAN;
        if (r >= 0)
                r = container_state_from_json(c, o);
        if (r < 0 && r != -ENOENT)
                log_warning("Container %s: ignoring its runtime state %s: %s", c->id, path, strerror(-r));
        return r;
}

static int container_load_one(Manager *m, const char *id, json_object *o, Container **ret) {
        /* A record copied or moved into another container's directory must not pass for it. */
        const char *recorded_id = json_get_string(o, "id");
        if (recorded_id && !streq(recorded_id, id))
                return -EUCLEAN;
        Container *c = container_alloc(m);
        if (!c)
                return -ENOMEM;
        memcpy(c->id, id, BERTH_ID_LEN + 1);
        const char *name = json_get_string(o, "name"), *image = json_get_string(o, "image"),
                   *image_id = json_get_string(o, "image_id");
        c->state = container_state_from_string(json_get_string(o, "state"));
        if (!name || !image || !image_id || c->state < 0 || json_get_strv(o, "command", &c->command) < 0 ||
            json_get_strv(o, "entrypoint", &c->entrypoint) < 0 || json_get_strv(o, "env", &c->env) < 0 ||
            container_settings_from_json(o, c) < 0) {
                container_free(c);
                return -EBADMSG;
        }
        c->name = strdup(name);
        c->image_ref = strdup(image);
        c->image_id = strdup(image_id);
        if (container_resources_from_json(o, &c->res) < 0) {
                container_free(c);
                return -EBADMSG;
        }
        c->stopped_by_user = json_get_bool(o, "stopped_by_user", 0);
        if (container_mounts_from_json(o, &c->mounts, &c->n_mounts) < 0 ||
            json_get_strv(o, "volumes_from", &c->volumes_from) < 0 || json_get_strv(o, "labels", &c->labels) < 0 ||
            json_get_strv(o, "group_add", &c->group_add) < 0 || json_get_strv(o, "sysctls", &c->sysctls) < 0 ||
            container_security_from_json(o, &c->security) < 0 || container_network_from_json(o, &c->net) < 0) {
                container_free(c);
                return -EBADMSG;
        }
        c->created_at = json_get_u64(o, "created_at", 0);
        if (!c->name || !c->image_ref || !c->image_id || !c->hostname) {
                container_free(c);
                return -ENOMEM;
        }
        /* A record of a berthd before the runtime state moved to /run has all of it (its "state"
         * may read "running"): the starting point, and the record is written once more without
         * it. A record of now says only whether the container ran (and a Stop by hand). */
        bool old_record = json_object_object_get_ex(o, "exit_code", NULL);
        if (old_record && container_state_from_json(c, o) < 0) {
                container_free(c);
                return -EBADMSG;
        }
        c->record_hash = old_record ? 0 : container_record_hash(c);
        int r = container_load_state(c);
        if (r == -ENOMEM) {
                container_free(c);
                return r;
        }
        if (r < 0 && !old_record && c->state == CONTAINER_EXITED) {
                /* After a reboot: how and when its last run ended is gone with /run. As for a
                 * supervisor that vanished without an exit file: 137 (an exit file of this boot,
                 * if there is one, still wins in container_reconcile()). */
                c->exit_code = 137;
        }
        c->machine_registered = c->state != CONTAINER_CREATED; /* unknown after a restart: check */
        *ret = c;
        return 0;
}

/* An unusable record's directory goes to containers/.quarantine/<id>[.N], out of berthd's sight
 * (and out of reach of a remove of the name it claimed), for a person to look at. */
static void container_quarantine(Manager *m, const char *id) {
        _cleanup_free_ char *from = manager_state_path(m, "containers/%s", id),
                            *dir = manager_state_path(m, "containers/.quarantine");
        if (!from || !dir || mkdir_p(dir, 0700) < 0)
                return;
        for (unsigned n = 0; n < 100; n++) {
                _cleanup_free_ char *to = NULL;
                if ((n == 0 ? asprintf(&to, "%s/%s", dir, id) : asprintf(&to, "%s/%s.%u", dir, id, n)) < 0)
                        return;
                if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) >= 0) {
                        log_error("Moved container %s aside to %s.", id, to);
                        return;
                }
                if (errno != EEXIST)
                        break;
        }
        log_error("Failed to move container %s aside: %m", id);
}

/* A container whose record is unusable but whose supervisor still runs in its scope: listed under
 * its short id, stoppable and removable, never started again (its configuration is lost). */
static Container *container_placeholder_if_running(Manager *m, const char *id, const char *why) {
        HelperRunning running;
        Container *c = container_alloc(m);
        if (!c)
                return NULL;
        memcpy(c->id, id, BERTH_ID_LEN + 1);
        c->name = strndup(id, BERTH_SHORT_ID_LEN);
        if (c->name && manager_find_container_by_name(m, c->name)) {
                free(c->name);
                c->name = strdup(id);
        }
        c->image_ref = strdup("");
        c->image_id = strdup("");
        c->hostname = strndup(id, BERTH_SHORT_ID_LEN);
        c->working_dir = strdup("/");
        c->user = strdup("");
        c->command = calloc(1, sizeof(char *));
        c->env = calloc(1, sizeof(char *));
        c->stop_signal = SIGTERM;
        c->state = CONTAINER_CREATED;
        c->record_lost = true;
        if (asprintf(&c->error, "The container's record could not be used (%s); it can only be stopped and removed.",
                     why) < 0)
                c->error = NULL;
        int pidfd = -1;
        if (!c->name || !c->image_ref || !c->image_id || !c->hostname || !c->working_dir || !c->user || !c->command ||
            !c->env || !c->error || read_running_file(c, &running) < 0 ||
            (pidfd = container_open_pidfd(c, running.helper_pid)) < 0) {
                container_free(c);
                return NULL;
        }
        safe_close(pidfd); /* reconcile adopts it */
        return c;
}

static void container_add(Manager *m, Container *c) {
        container_saves_clean(m, c->id);
        if (container_link(c) < 0) { /* out of memory: keep the list whole, lookups by scan fail */
                log_error("Failed to index container %s.", c->id);
                container_free(c);
        }
}

static int container_load(Manager *m, const char *id, const char *path, json_object *o, int r, void *userdata) {
        Container *c;
        if (r >= 0)
                r = container_load_one(m, id, o, &c);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                /* Two records with one name: the later created is the odd one out. */
                Container *other = manager_find_container_by_name(m, c->name);
                if (!other) {
                        container_add(m, c);
                        return 0;
                }
                Container *keep = other, *drop = c;
                if (other->created_at > c->created_at) {
                        container_unlink(other);
                        container_add(m, c);
                        keep = c, drop = other;
                }
                log_error("Container %s claims the name \"%s\" of container %s.", drop->id, drop->name, keep->id);
                _cleanup_free_ char *drop_id = strdup(drop->id);
                container_free(drop);
                if (!drop_id)
                        return -ENOMEM;
                Container *p = container_placeholder_if_running(m, drop_id, "its name is taken");
                if (p)
                        container_add(m, p);
                else
                        container_quarantine(m, drop_id);
                return 0;
        }
        const char *why = r == -EUCLEAN ? "it belongs to another container" : strerror(-r);
        log_error("Failed to load container %s: %s.", id, why);
        Container *p = container_placeholder_if_running(m, id, why);
        if (p)
                container_add(m, p);
        else
                container_quarantine(m, id);
        return 0;
}

int manager_load_containers(Manager *m) {
        const RecordDir containers = { .dir = "containers",
                                       .record = "container.json",
                                       .name_is_valid = id_is_valid,
                                       .remove = m->storage->container_remove,
                                       .load = container_load };
        int r = manager_load_records(m, &containers, NULL);
        if (r < 0)
                return r;
        for (Container *c = m->containers, *next; c; c = next) {
                next = c->next; /* reconcile may auto-remove c */
                container_reconcile(c);
        }
        /* What was found, to /run (derived after a reboot: the same again after a restart of
         * berthd); the record again where it changed (an older berthd's, with runtime state). */
        for (Container *c = m->containers; c; c = c->next)
                (void) container_save(c);
        return 0;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) container_signal(userdata, SIGKILL);
        return 0;
}

static int push_message(sd_bus_message ***array, size_t *n, sd_bus_message *m) {
        sd_bus_message **a = realloc(*array, (*n + 1) * sizeof(sd_bus_message *));
        if (!a)
                return -ENOMEM;
        a[(*n)++] = sd_bus_message_ref(m);
        *array = a;
        return 0;
}

int container_stop(Container *c, unsigned timeout_sec, sd_bus_message *request, sd_bus_error *error) {
        return container_stop_with_signal(c, timeout_sec, 0, request, error);
}

int container_stop_with_signal(Container *c, unsigned timeout_sec, int sig, sd_bus_message *request,
                               sd_bus_error *error) {
        int r;

        if (c->starting)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Container %s is being started.", c->name);
        c->stopped_by_user = true;
        container_cancel_restart(c);
        if (c->restart_request) {
                /* Stop wins over a restart in progress: the container stays stopped. */
                (void) sd_bus_reply_method_errorf(c->restart_request, BERTH_ERROR_BUSY,
                                                  "The restart of container %s was cancelled by a stop.", c->name);
                c->restart_request = sd_bus_message_unref(c->restart_request);
        }
        (void) container_save(c);
        if (c->state != CONTAINER_RUNNING) /* already stopped: nothing to do, as Docker */
                return request ? sd_bus_reply_method_return(request, NULL) : 0;
        r = container_arm_stop_timer(c, timeout_sec);
        if (r < 0)
                return r;
        r = container_stop_signal(c, timeout_sec == 0 ? SIGKILL : sig > 0 ? sig : c->stop_signal);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to signal container %s: %m", c->name);
        r = push_message(&c->stoppers, &c->n_stoppers, request);
        if (r < 0)
                return r;
        return 1; /* answered when the helper reports the exit */
}

int container_arm_stop_timer(Container *c, unsigned timeout_sec) {
        if (timeout_sec == 0 || c->stop_timer)
                return 0;
        return sd_event_add_time_relative(c->manager->event, &c->stop_timer, CLOCK_MONOTONIC,
                                          (uint64_t) timeout_sec * USEC_PER_SEC, 0, on_stop_timeout, c);
}

/* A frozen container would hold the signal until thawed: stopping or killing it thaws it, as Docker. */
int container_signal(Container *c, int sig) {
        if (c->paused && (sig == SIGTERM || sig == SIGKILL || sig == SIGINT || sig == c->stop_signal)) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                (void) container_pause(c, false, NULL, &error);
        }
        if (c->payload_pidfd < 0)
                return -ESRCH;
        if (pidfd_send_signal_(c->payload_pidfd, sig) < 0 && errno != ESRCH)
                return -errno;
        return 0;
}

int container_stop_signal(Container *c, int sig) {
        /* Any signal that stops it: a frozen container would hold it until thawed. */
        if (c->paused) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                (void) container_pause(c, false, NULL, &error);
        }
        return container_signal(c, sig);
}

int container_kill(Container *c, int sig, sd_bus_error *error) {
        if (sig <= 0 || sig >= _NSIG)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid signal number %d.", sig);
        if (c->state != CONTAINER_RUNNING || c->payload_pidfd < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING, "Container %s is not running.",
                                         c->name);
        int r = container_signal(c, sig);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to signal container %s: %m", c->name);
        return 0;
}

int container_remove(Container *c, bool force, bool volumes, sd_bus_message *request, sd_bus_error *error) {
        int r;

        if (c->starting)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Container %s is being started.", c->name);
        if (c->state == CONTAINER_RUNNING) {
                if (!force)
                        return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_RUNNING,
                                                 "Container %s is running: stop it first or remove it with force.",
                                                 c->name);
                r = push_message(&c->stoppers, &c->n_stoppers, request);
                if (r < 0)
                        return r;
                c->remove_on_exit = true;
                c->remove_volumes_on_exit = volumes;
                (void) container_signal(c, SIGKILL);
                return 1; /* answered by container_destroy() */
        }
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *ref = sd_bus_message_ref(request);
        container_cancel_restart(c);
        r = container_destroy(c, volumes);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to remove container: %m");
        return sd_bus_reply_method_return(ref, NULL);
}

int container_wait(Container *c, sd_bus_message *request) {
        if (c->state == CONTAINER_EXITED && !c->starting)
                return sd_bus_reply_method_return(request, "i", c->exit_code);
        int r = push_message(&c->waiters, &c->n_waiters, request);
        return r < 0 ? r : 1; /* answered at exit; 0 would make sd-bus report an unknown method */
}

int container_wait_condition(Container *c, const char *condition, sd_bus_message *request, sd_bus_error *error) {
        int r;

        if (isempty(condition))
                return container_wait(c, request);
        if (streq(condition, "not-running")) {
                if ((c->state == CONTAINER_CREATED || c->state == CONTAINER_EXITED) && !c->starting &&
                    !c->restart_timer && !c->restart_request)
                        return sd_bus_reply_method_return(request, "i", c->exit_code);
                r = push_message(&c->waiters, &c->n_waiters, request);
        } else if (streq(condition, "next-exit"))
                r = push_message(&c->waiters, &c->n_waiters, request);
        else if (streq(condition, "removed"))
                r = push_message(&c->removal_waiters, &c->n_removal_waiters, request);
        else if (streq(condition, "healthy"))
                return container_health_wait(c, request, error);
        else
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "invalid condition: \"%s\"", condition);
        return r < 0 ? r : 1;
}
