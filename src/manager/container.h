/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "container-listen.h"
#include "container-network.h"
#include "container-security.h"
#include "container-settings.h"
#include "manager.h"
#include "systemd-units.h"
#include "util.h"

typedef enum ContainerState {
        CONTAINER_CREATED,
        CONTAINER_RUNNING,
        CONTAINER_EXITED,
        _CONTAINER_STATE_MAX,
        _CONTAINER_STATE_INVALID = -1,
} ContainerState;

const char *container_state_to_string(ContainerState s);
ContainerState container_state_from_string(const char *s);

typedef struct StartOperation StartOperation;

typedef enum MountType {
        MOUNT_VOLUME,
        MOUNT_BIND,
        MOUNT_TMPFS,
        _MOUNT_TYPE_MAX,
        _MOUNT_TYPE_INVALID = -1,
} MountType;

const char *mount_type_to_string(MountType t);
MountType mount_type_from_string(const char *s);

/* -v, --mount, --tmpfs: what to mount where, as the user asked for it. */
typedef struct ContainerMount {
        MountType type;
        char *source; /* volume name, host path, or tmpfs options ("size=64m,mode=1777") */
        char *target; /* absolute path in the container */
        bool read_only;
        bool anonymous; /* a volume made for this container */
        bool from_image; /* for a VOLUME of the image; a mount of the user or --volumes-from at its path wins */
} ContainerMount;

typedef enum RestartPolicy {
        RESTART_NO,
        RESTART_ON_FAILURE,
        RESTART_ALWAYS,
        RESTART_UNLESS_STOPPED,
        _RESTART_POLICY_MAX,
        _RESTART_POLICY_INVALID = -1,
} RestartPolicy;

const char *restart_policy_to_string(RestartPolicy p);
RestartPolicy restart_policy_from_string(const char *s);

/* --ulimit: a resource limit set in the container before exec. */
typedef struct ContainerUlimit {
        int resource; /* RLIMIT_* */
        uint64_t soft, hard; /* UINT64_MAX: unlimited */
} ContainerUlimit;

/* --device: the host's device node, made again at 'container' in the container's /dev. */
typedef struct ContainerDevice {
        char *host;
        char *container;
        char *permissions; /* "rwm" or a part of it, as DeviceAllow= takes it */
} ContainerDevice;

/* Resource options beyond the three limits Update has always changed (container-resources.c). */
/* --blkio-weight-device, --device-read-bps, ...: one of the scope's per-device I/O properties. */
typedef enum IOLimitKind {
        IO_LIMIT_WEIGHT, /* BlkioWeightDevice: Docker's weight 10..1000, the scope's IODeviceWeight= */
        IO_LIMIT_READ_BPS, /* IOReadBandwidthMax= (bytes per second) */
        IO_LIMIT_WRITE_BPS, /* IOWriteBandwidthMax= */
        IO_LIMIT_READ_IOPS, /* IOReadIOPSMax= */
        IO_LIMIT_WRITE_IOPS, /* IOWriteIOPSMax= */
        _IO_LIMIT_MAX,
} IOLimitKind;

typedef struct ContainerIOLimit {
        IOLimitKind kind;
        char *path; /* a block device, /dev/... */
        uint64_t value;
} ContainerIOLimit;

typedef struct ContainerResources {
        uint64_t shm_size; /* bytes of /dev/shm */
        uint64_t memory_swap_max; /* MemorySwapMax=; UINT64_MAX: not set (systemd's default) */
        uint64_t cpu_weight; /* CPUWeight=; UINT64_MAX: not set */
        uint64_t cpu_shares; /* as given in Docker's unit (CPUShares), 0: not given that way */
        uint32_t stop_timeout; /* seconds; UINT32_MAX: not set (10) */
        ContainerUlimit *ulimits;
        size_t n_ulimits;
        ContainerDevice *devices;
        size_t n_devices;
        ContainerIOLimit *io_limits;
        size_t n_io_limits;
} ContainerResources;

/* Health checks (container-health.c): Docker's statuses; HEALTH_NONE: no health check. */
typedef enum HealthStatus {
        HEALTH_NONE,
        HEALTH_STARTING,
        HEALTH_HEALTHY,
        HEALTH_UNHEALTHY,
} HealthStatus;
#define HEALTH_LOG_MAX                     5 /* results kept, as Docker */
#define HEALTH_OUTPUT_MAX                  4096 /* bytes of a probe's output kept, as Docker */
#define HEALTH_DEFAULT_INTERVAL_USEC       (30 * USEC_PER_SEC)
#define HEALTH_DEFAULT_TIMEOUT_USEC        (30 * USEC_PER_SEC)
#define HEALTH_DEFAULT_START_INTERVAL_USEC (5 * USEC_PER_SEC)
#define HEALTH_DEFAULT_RETRIES             3

typedef struct HealthResult {
        uint64_t start, end; /* realtime usec */
        int exit_code; /* -1: could not run, or timed out */
        char *output;
} HealthResult;

typedef struct ContainerHealth {
        HealthStatus status;
        uint32_t failing_streak;
        HealthResult log[HEALTH_LOG_MAX]; /* oldest first */
        size_t n_log;
        /* Runtime only. */
        sd_event_source *timer; /* the next probe, or the running probe's timeout */
        ExecOperation *probe; /* the running probe */
        uint64_t probe_start;
        int out_fd; /* the probe's stdout and stderr */
        sd_event_source *out_source;
        char *out; /* HEALTH_OUTPUT_MAX + 1 bytes */
        size_t out_len;
        bool restart_on_exit; /* --health-on-failure=restart stopped it: start again at the exit */
        sd_bus_message **waiters; /* WaitCondition("healthy") */
        size_t n_waiters;
} ContainerHealth;

const char *health_status_to_string(HealthStatus s);

typedef struct Container {
        Manager *manager;
        Container *next;

        char id[BERTH_ID_LEN + 1];
        char *name;
        char *image_ref; /* as the user named it, e.g. "busybox:latest" */
        char *image_id;
        /* hostname, working_dir (absolute; made if missing), user ("user[:group]" of the image;
         * empty: root), stop_signal, init, read_only, tty, auto_remove, memory_max,
         * cpu_quota_per_sec_usec, tasks_max (UINT64_MAX: no limit), restart_policy,
         * restart_max_retries (on-failure:N; 0: unlimited): see container-settings-list.h. */
        CONTAINER_SETTINGS(DECLARE_SETTING)
        char **command; /* the argv: entrypoint followed by the command */
        char **entrypoint; /* the part of command that is the entrypoint (empty in old records) */
        char **env;
        unsigned tty_rows, tty_cols; /* size for the next start (transient) */
        ContainerResources res;
        ContainerMount *mounts;
        size_t n_mounts;
        char **volumes_from; /* "name[:ro|:rw]", evaluated at each start */
        char **sysctls; /* --sysctl: "key=value", namespaced ones only, set by the helper at each start */
        char **group_add; /* --group-add: supplementary groups, names (the image's /etc/group) or numbers */
        char **labels; /* "key=value": the image\'s, then --label (later wins) */
        char **run_volumes; /* volumes the current run mounted (own and --volumes-from) */
        bool machine_registered; /* machined may still know a machine of an earlier run */
        uint8_t journaled_state; /* what event-journal.c last told the journal of State */
        ContainerSecurity security; /* container-security.h */
        ContainerNetwork net; /* container-network.h: its configuration and, while it runs, leases and ports */
        ContainerListen listen; /* socket activation: its own copies, kept while berthd runs */

        ContainerState state;
        int exit_code;
        bool oom_killed; /* the kernel's OOM killer killed a process of the last run */
        uint64_t log_lines_dropped; /* the last run's, as its supervisor reported them at the end */
        pid_t pid; /* payload, host PID namespace */
        pid_t helper_pid; /* berth-nspawn */
        uint64_t created_at, started_at, finished_at;
        char *error;

        /* Runtime only. */
        int helper_pidfd, payload_pidfd;
        int tty_master; /* the running payload\'s terminal (Tty), for ResizeTerminal */
        sd_event_source *helper_exit_source;
        sd_event_source *stop_timer;
        StartOperation *starting;
        bool creating; /* created, its first record not yet written */
        bool record_lost; /* its record was unusable but it runs: listed, stoppable, removable, never saved */
        uint64_t record_hash; /* of the last record written or queued (0: none): an unchanged one is not written */
        sd_bus_message **waiters; /* Wait() calls to answer at exit */
        size_t n_waiters;
        sd_bus_message **removal_waiters; /* WaitCondition("removed") calls to answer at removal */
        size_t n_removal_waiters;
        sd_bus_message **stoppers; /* Stop()/Remove(force) calls to answer at exit */
        size_t n_stoppers;
        bool remove_on_exit;
        bool remove_volumes_on_exit;
        bool paused; /* frozen; State reads "paused" */
        bool stopped_by_user; /* Stop() since the last Start(): no automatic restart */
        unsigned restart_count; /* automatic restarts since the last Start() */
        uint64_t restart_delay_usec; /* current back-off */
        sd_event_source *restart_timer; /* pending automatic restart; State reads "restarting" */
        sd_bus_message *restart_request; /* Restart() waiting for the exit to start again */
        ContainerHealth health;
} Container;

/* The State property: Docker's status names, "paused" included. */
const char *container_status(const Container *c);

char *container_object_path(const Container *c);
int signal_from_string(const char *s);
int container_open_pidfd(const Container *c, pid_t pid);
char *container_unit_name(const Container *c);

Container *manager_find_container(Manager *m, const char *name_or_id, bool *ret_ambiguous);
Container *manager_find_container_by_name(Manager *m, const char *name);
/* manager_find_container(), or NULL with NoSuchContainer set on error (an ambiguous prefix said so). */
Container *manager_get_container(Manager *m, const char *name_or_id, sd_bus_error *error);
Container *manager_find_container_by_id(Manager *m, const char *id); /* the full id */
/* Into the manager's list and its indexes by id and by name (-EEXIST: either is taken). */
int container_link(Container *c);
/* Change the name the container is indexed by; name (allocated) becomes c->name, the old one is
 * the caller's to free. -EEXIST when another container has it. */
int container_index_rename(Container *c, char *name);

/* Creates, persists and links the container; *ret stays owned by the manager. */
typedef struct ContainerConfig {
        const char *name;
        char **command;
        char **env;
        /* As given (NULL, 0: not given; stop_signal 0: the image's, else SIGTERM): see
         * container-settings-list.h. */
        CONTAINER_SETTINGS(DECLARE_CONFIG_SETTING)
        char **entrypoint; /* NULL: the image's */
        bool entrypoint_set; /* given, possibly empty (--entrypoint "" clears the image's) */
        ContainerResources res;
        char **labels;
        ContainerMount *mounts; /* borrowed */
        size_t n_mounts;
        char **volumes_from;
        char **group_add;
        char **sysctls;
        const char *volume_driver; /* for the volumes this container creates; NULL: local */
        ContainerSecurity security; /* owned */
        ContainerNetwork net; /* owned; moved into the container by container_create() */
        ContainerListen listen; /* the message's descriptors (container-listen.h) */
} ContainerConfig;
/* At most this many --group-add groups (the helper's list holds 64 with the user's own). */
#define CONTAINER_GROUP_ADD_MAX 32
/* At most this many environment variables in one create or exec: bounds what one call costs. */
#define CONTAINER_ENV_MAX 65536

/* Env of a create or exec: at most CONTAINER_ENV_MAX NAME=value entries, else InvalidArgument. */
int container_env_validate(char **env, sd_bus_error *error);

int container_create(Manager *m, Image *image, const char *image_ref, const ContainerConfig *config, Container **ret,
                     sd_bus_error *error);
void container_discard_new(Container *c);
/* Saving a container (container-save.c): its runtime state goes to <run_dir>/containers/<id>.json
 * at once (tmpfs: replaced atomically, never fsynced); its record (configuration, fsynced), when it
 * differs from the last one queued, to berthd's writer thread, in order. Neither waits for a disk.
 * container_save() returns once the runtime state is written; container_save_soon() calls 'done'
 * (may be NULL) in berthd's loop with the result once the record is written too (at once when it
 * did not change), always exactly once: a caller that answers after it answers after the fsync. */
int container_save(Container *c);
typedef void (*ContainerSavedFn)(int r, void *userdata);
void container_save_soon(Container *c, ContainerSavedFn done, void *userdata);
/* Answers 'request' (no return values) once the records of c queued so far are written, or with
 * the error of their write; 1, or at once when none is queued. */
int container_reply_when_saved(Container *c, sd_bus_message *request);
json_object *container_record_to_json(const Container *c);
json_object *container_state_to_json(const Container *c);
uint64_t container_record_hash(const Container *c); /* of the record as it would be written now */
int container_saves_start(Manager *m);
void container_saves_stop(Manager *m);
void container_saves_drain(Container *c); /* until c's queued records are written */
void container_saves_clean(Manager *m, const char *id); /* at startup: temporary files of a crash */
int manager_load_containers(Manager *m);
void container_free(Container *c);

/* Lifecycle (container.c). */
int container_stop(Container *c, unsigned timeout_sec, sd_bus_message *request, sd_bus_error *error);
/* Stop with sig instead of the container's stop signal (0: the container's). */
int container_stop_with_signal(Container *c, unsigned timeout_sec, int sig, sd_bus_message *request,
                               sd_bus_error *error);
int container_kill(Container *c, int sig, sd_bus_error *error);
int container_remove(Container *c, bool force, bool volumes, sd_bus_message *request, sd_bus_error *error);
int container_wait(Container *c, sd_bus_message *request);
/* Docker's wait conditions: "not-running" (answered at once unless running), "next-exit" (the next
 * exit, even of a container that has exited), "removed" (when it is removed); "" is Wait. */
int container_wait_condition(Container *c, const char *condition, sd_bus_message *request, sd_bus_error *error);
/* Watch the helper; at its exit read the exit file and settle the container (and answer waiters). */
int container_watch_helper(Container *c);
void container_emit_changed(Container *c, const char *property, ...);

/* Mounts and volumes (container-mounts.c). */
void container_mounts_free(ContainerMount *mounts, size_t n);
/* Check mounts and --volumes-from of a new container; create the volumes it names (named on first
 * use, anonymous ones fresh, one for each VOLUME of the image not mounted otherwise). All or nothing: on failure the
 * volumes made here are removed again. */
int container_prepare_mounts(Manager *m, ContainerConfig *config, char **image_volumes, ContainerMount **ret,
                             size_t *ret_n, sd_bus_error *error);
/* The mounts a container takes with --volumes-from: those of the containers it names, and of
 * those they name in turn (Docker copies a source's mount points, inherited ones included), nearest
 * first, one per target, read-only when any link of the chain says ":ro"; tmpfs mounts are not
 * passed on. *ret_missing (if not NULL): the first container the container itself names that
 * does not exist, or NULL. The mounts point into the other containers: use them at once. */
typedef struct InheritedMount {
        const ContainerMount *mount;
        bool read_only;
} InheritedMount;
typedef struct InheritedMounts {
        InheritedMount *items;
        size_t n;
} InheritedMounts;
int container_inherited_mounts(const Container *c, InheritedMounts *ret, char **ret_missing);
static inline void inherited_mounts_done(InheritedMounts *l) {
        free(l->items);
        *l = (InheritedMounts){};
}
bool container_uses_volume(const Container *c, const char *name);
/* What to mount at this start, as JSON for the helper: own mounts plus those of --volumes-from
 * containers, which must all exist now (else nothing is started). */
int container_resolve_mounts(Container *c, char **plugin_paths, json_object **ret, char ***ret_volumes,
                             sd_bus_error *error);
/* The volumes of plugins a start mounts (through VolumeDriver.Mount, before container_resolve_mounts()
 * gets their paths as "NAME=PATH" in plugin_paths): the container's own and those it inherits. */
int container_plugin_volumes(Container *c, char ***ret);
/* The volumes of a plugin (the volume driver) a create would make, to be made before it (a plugin may
 * take its time): *ret_named those that do not exist yet, *ret_anonymous the anonymous ones, whose
 * mounts get their names now; the image's VOLUMEs not mounted otherwise become such mounts. Nothing
 * for the local driver. */
int container_plan_plugin_volumes(Manager *m, ContainerConfig *config, char **image_volumes, char ***ret_named,
                                  char ***ret_anonymous);
/* Removes the volumes a failed create made (their plugins' answers are not waited for). */
void container_undo_volumes(Manager *m, char **created);
json_object *container_mounts_to_json(const Container *c);
int container_mounts_from_json(json_object *o, ContainerMount **ret, size_t *ret_n);
/* Remove this container's anonymous volumes (rm -v, --rm). */
void container_remove_anonymous_volumes(Container *c);

/* Pause, unpause, restart, rename (container-control.c). */
int container_pause(Container *c, bool pause, sd_bus_message *request, sd_bus_error *error);
int container_restart(Container *c, unsigned timeout_sec, sd_bus_message *request, sd_bus_error *error);
int container_restart_with_signal(Container *c, unsigned timeout_sec, int sig, sd_bus_message *request,
                                  sd_bus_error *error);
int container_rename(Container *c, const char *name, sd_bus_error *error);
/* Hand a client's stdin, stdout and stderr to the running container's supervisor. */
int container_attach(Container *c, const int fds[3], sd_bus_error *error);
int container_supervisor_request(Container *c, char cmd, const int *fds, size_t n_fds, int *ret_fd,
                                 sd_bus_error *error);
/* Reads the freezer state of the running container's cgroup (for re-adoption). */
int container_read_frozen(Container *c);
int container_signal(Container *c, int sig);
/* container_signal() for Stop and Restart: thaws a paused container whatever the signal. */
int container_stop_signal(Container *c, int sig);
int container_arm_stop_timer(Container *c, unsigned timeout_sec);

/* Restart policies (container-restart.c). The decisions are pure functions (test-restart-policy). */
/* Docker's back-off: 100 ms doubling up to a minute, reset once a run lasted 10 s. */
#define RESTART_DELAY_MIN_USEC   (100 * 1000ULL)
#define RESTART_DELAY_MAX_USEC   (60 * USEC_PER_SEC)
#define RESTART_RESET_AFTER_USEC (10 * USEC_PER_SEC)
/* Whether a run that ended with exit_code is started again; suppressed: stopped by the user, being
 * removed, or AutoRemove. restart_count: automatic restarts since the last Start(). */
bool restart_wanted(RestartPolicy policy, unsigned max_retries, unsigned restart_count, int exit_code, bool suppressed);
/* The back-off before the next automatic start, after delay_usec before this one (0: none yet),
 * for a run from started_at to finished_at (realtime usec). */
uint64_t restart_next_delay(uint64_t delay_usec, uint64_t started_at, uint64_t finished_at);
/* When berthd starts: whether a container that is not running is considered for a restart (it
 * exited, or a restart was pending: created with restart_count > 0; restart_wanted() decides).
 * "always" forgets a stop by the user (*stopped_by_user = false), as dockerd does. */
bool restart_at_startup(RestartPolicy policy, ContainerState state, unsigned restart_count, bool *stopped_by_user);
void container_maybe_schedule_restart(Container *c);
void container_cancel_restart(Container *c);
void manager_start_restartable_containers(Manager *m);

/* Resources through the scope unit (container-resources.c). */
int container_limit_validate(const char *key, uint64_t v, sd_bus_error *error);
/* Docker's --blkio-weight (10..1000) as systemd's IOWeight (1..10000), as runc and crun convert it
 * (500 → 4950); UINT64_MAX stays. */
uint64_t container_blkio_to_io_weight(uint64_t weight);
/* AllowedCPUs and AllowedMemoryNodes: a list the host has online ("" is all), Docker's words if not. */
int container_cpuset_validate(const char *key, const char *v, sd_bus_error *error);

/* container-log.c: --log-driver and --log-opt (docs/LOGGING.md) */
int container_log_option_validate(const char *key, const char *v, sd_bus_error *error);
int container_log_config_validate(const ContainerConfig *config, sd_bus_error *error);
int container_log_to_spec(const Container *c, json_object *o);
uint64_t container_log_lines_dropped(Container *c);
void container_log_read_dropped(Container *c);
/* The scope property of such a list, as systemd's bitmask; nothing for "". */
int container_cpuset_append(sd_bus_message *m, const char *property, const char *list);
/* What Update changes: MemoryMax, CPUQuotaPerSecUSec, TasksMax, MemorySwapMax, CPUWeight,
 * CPUQuotaPeriodUSec, MemoryLow, BlkioWeight (the scope's IOWeight). */
enum { _UPDATE_LIMIT_MAX = 8 };
typedef struct LimitUpdate {
        uint64_t value[_UPDATE_LIMIT_MAX];
        bool set[_UPDATE_LIMIT_MAX];
        uint64_t cpu_shares; /* CPUWeight was given as CPUShares (Docker's unit) */
        const char *cpuset_cpus, *cpuset_mems; /* AllowedCPUs, AllowedMemoryNodes (NULL: not given; borrowed) */
        int restart_policy; /* RestartPolicy, -1: not given */
        uint32_t restart_max_retries;
        bool restart_max_retries_set;
} LimitUpdate;
/* Reads Update's a{sv} (the message is positioned on it). */
int container_update_parse(sd_bus_message *message, LimitUpdate *ret, sd_bus_error *error);

/* --pid/--ipc container:NAME (container-namespaces.c). At create: the peer named by its id (into
 * *ret_pid_mode / *ret_ipc_mode, which config then borrows), checked (IPC: the donor is shareable).
 * At start: its running process's PID in the spec fragment, or ContainerNotRunning. */
int container_namespaces_resolve(Manager *m, ContainerConfig *config, char **ret_pid_mode, char **ret_ipc_mode,
                                 sd_bus_error *error);
int container_namespaces_prepare(Container *c, json_object *spec, sd_bus_error *error);
int container_update(Container *c, const LimitUpdate *u, sd_bus_message *request, sd_bus_error *error);

void container_resources_init(ContainerResources *r);
void container_resources_done(ContainerResources *r);
int container_resources_copy(const ContainerResources *src, ContainerResources *dst);
/* A CreateContainer option of ours: 1 when 'key' was one (its variant read, checked), 0 if not. */
int container_resources_parse_option(sd_bus_message *m, const char *key, const char *contents, ContainerResources *r,
                                     sd_bus_error *error);
int container_resources_check_devices(const ContainerResources *r, sd_bus_error *error);
void container_resources_to_json(const ContainerResources *r, json_object *o);
int container_resources_from_json(json_object *o, ContainerResources *r);
/* Unit properties of the scope: MemorySwapMax, CPUWeight, DeviceAllow for --device. */
int container_resources_append_unit(const ContainerResources *r, sd_bus_message *m);
/* What the helper needs: shm size, ulimits, devices. */
void container_resources_to_spec(const ContainerResources *r, json_object *o);
unsigned container_stop_timeout(const Container *c);
int container_property_get_ulimits(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error);
int container_property_get_io_limits(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error);
int container_property_get_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error);
int container_get_stats(Container *c, sd_bus_message *request, sd_bus_error *error);
int container_get_processes(Container *c, sd_bus_message *request, sd_bus_error *error);
int container_resize_terminal(Container *c, unsigned rows, unsigned cols, sd_bus_error *error);

/* Health checks (container-health.c). */
bool container_has_healthcheck(const Container *c); /* a HealthCmd other than NONE */
uint64_t container_health_interval(const Container *c);
uint64_t container_health_timeout(const Container *c);
uint64_t container_health_start_interval(const Container *c);
uint32_t container_health_retries(const Container *c);
/* The image's Healthcheck (its config blob) where the container sets nothing, field by field. */
int container_health_merge_image(Container *c, const char *image_config_json);
json_object *container_health_config_json(const Container *c);
/* The run began (status "starting", the first probe after an interval), ended (probes stop, status
 * "unhealthy" as Docker), was paused or unpaused (no probes while frozen). */
void container_health_started(Container *c);
void container_health_stopped(Container *c);
void container_health_paused(Container *c, bool paused);
void container_health_free(Container *c);
/* WaitCondition("healthy"): 1 when queued, or answered at once. */
int container_health_wait(Container *c, sd_bus_message *request, sd_bus_error *error);
int container_property_get_health_status(sd_bus *bus, const char *path, const char *interface, const char *property,
                                         sd_bus_message *reply, void *userdata, sd_bus_error *error);
int container_property_get_health_log(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error);

/* systemd-machined (container-machine.c). */
char *container_machine_name(const Container *c);
int container_register_machine(Container *c);

/* Exec (container-exec.c): runs 'argv' in the running container with the caller's stdio, answers
 * 'request' with the exit code. */
typedef struct ExecOptions {
        const char *workdir; /* NULL/empty: the container's */
        const char *user; /* NULL: the container's */
        bool tty; /* a terminal of the container's devpts, relayed to stdin/stdout */
        unsigned rows, cols;
        int resize_fd; /* -1, or a pipe the client writes new sizes to (u16 rows, u16 cols) */
        bool detach; /* answer (0) once the process runs, not at its exit (exec -d) */
        bool privileged; /* every capability (exec --privileged; the seccomp filter stays) */
} ExecOptions;
int container_exec(Container *c, char **argv, char **env, const ExecOptions *options, const int stdio[3],
                   sd_bus_message *request, sd_bus_error *error);
/* The same for berthd's own use (health probes): the container's user, directory and environment,
 * no terminal; 'done' is called once, from the loop, with the exit code (error_name NULL) or a
 * D-Bus error's name and sentence, unless the operation is cancelled first. *ret points to the
 * operation until it is gone (then NULL). */
typedef void (*ExecDoneFn)(int code, const char *error_name, const char *message, void *userdata);
int container_exec_start(Container *c, char **argv, const int stdio[3], ExecDoneFn done, void *userdata,
                         ExecOperation **ret, sd_bus_error *error);
/* Kills its helper (and with it the process: its parent-death signal); no callback. */
void exec_operation_cancel(ExecOperation *op);
void manager_free_execs(Manager *m);

/* The container's file system (container-fs.c): GetChanges, Export, CopyFrom/CopyTo. All but
 * GetChanges run in a worker and answer 'request' themselves (1 is returned then). */
int container_get_changes(Container *c, sd_bus_message *request, sd_bus_error *error);
int container_export(Container *c, int fd, sd_bus_message *request, sd_bus_error *error);
int container_copy(Container *c, bool to_container, bool follow_link, const char *path, int fd, sd_bus_message *request,
                   sd_bus_error *error);
/* Commit (container-commit.c): the upper directory as a new layer on the image's, answers 'request'
 * with the new image's object path. With skip_empty_layer, a container without changes gives no
 * new layer: the history entry is marked empty_layer (a build's config-only steps, as Docker's);
 * build_cache_key (64 hex) goes into the new image's record. */
typedef struct CommitOptions {
        bool skip_empty_layer;
        const char *build_cache_key;
} CommitOptions;
int container_commit(Container *c, const char *reference, char **changes, const char *comment, const char *author,
                     const CommitOptions *options, sd_bus_message *request, sd_bus_error *error);

typedef struct HelperProcess {
        pid_t pid;
        int pidfd;
        int go_fd; /* write "g" once the helper is in the container's scope; close to abort */
        int status_fd; /* "OK ..." or "ERR ..." from the helper, then EOF */
} HelperProcess;
#define HELPER_PROCESS_NULL ((HelperProcess){ .pidfd = -1, .go_fd = -1, .status_fd = -1 })
/* Kills and reaps the helper if it still runs (closing "go" first); its other descriptors stay. */
void helper_process_kill(HelperProcess *h);
void helper_process_close(HelperProcess *h);

/* listen: socket activation's descriptors for a start (NULL for an exec). */
int helper_launch(Manager *m, const Container *c, int spec_fd, const int stdio[3], const int attach[3],
                  const ContainerListen *listen, HelperProcess *ret);
int container_write_spec_json(json_object *o, int *ret_fd);

/* A container created with AutoRemove whose start failed is removed with its anonymous volumes,
 * as Docker does: `run --rm` that cannot start leaves nothing behind. The caller must not use c
 * afterwards. */
void container_remove_after_failed_start(Container *c);
/* Start path (container-start.c): answers 'request' itself once the payload runs or failed. A
 * failed start of an AutoRemove container removes it (container_remove_after_failed_start()). */
int container_start(Container *c, sd_bus_message *request, int stdin_fd, int stdout_fd, int stderr_fd,
                    sd_bus_error *error);
void start_operation_abort(StartOperation *op, const char *error_name, const char *message);
int manager_machine_removed(sd_bus_message *message, void *userdata, sd_bus_error *error);
