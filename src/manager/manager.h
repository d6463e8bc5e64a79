/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-util.h"
#include "macro.h"

typedef struct Container Container;
typedef struct Image Image;
typedef struct SaveQueue SaveQueue;
typedef struct ExecOperation ExecOperation;
typedef struct Volume Volume;
typedef struct Network Network;
typedef struct StorageDriver StorageDriver;
typedef struct PrivateConnection PrivateConnection;
typedef struct Removal Removal;
typedef struct Hashmap Hashmap;
typedef struct SystemdUnits SystemdUnits;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        const SystemdUnits *units; /* systemd's manager: its calls and signals (systemd-units.h) */
        char *state_dir; /* /var/lib/berth */
        char *run_dir; /* /run/berth */
        char *helper_path; /* berth-nspawn */
        int helper_exe_fd; /* a sealed copy of it, what helpers run (helper-exe.h) */
        const StorageDriver *storage; /* storage.h: overlay or btrfs */
        Container *containers; /* linked list, in no order; found through the indexes below */
        Hashmap *containers_by_id, *containers_by_name; /* keys: the containers' own id and name */
        Hashmap *starts_by_job, *starts_by_unit; /* StartOperation by its scope's job path and unit */
        Image *images;
        ExecOperation *execs;
        Volume *volumes;
        char **volume_plugins_active; /* volume plugins activated since berthd started */
        struct PluginCall *plugin_calls; /* the volume plugin calls under way (volume-plugin.c) */
        struct CurlEvent *curl; /* HTTP on the loop (curl-event.c), made at the first use */
        struct Transfer *transfers; /* pulls and pushes under way (transfer.c) */
        struct Blob *pulling_blobs; /* blobs being downloaded, shared by concurrent pulls (image-pull.c) */
        uint32_t transfer_last_id;
        int seccomp_fd; /* the default filter as BPF, sealed memfd (seccomp-default.c) */
        sd_bus_slot *job_removed_slot; /* systemd-units.c */
        sd_bus_slot *unit_removed_slot;
        sd_bus_slot *machine_removed_slot;
        SaveQueue *saves; /* the thread that writes container records (container-save.c) */
        int private_fd; /* listening on <run_dir>/private (private-bus.c) */
        sd_event_source *private_source;
        PrivateConnection *private_connections; /* its open connections */
        size_t n_private_connections;
        sd_event_source *private_post; /* see private-bus.c */
        Removal *removals; /* the thread removing directories of what is gone (removal.c) */
        struct Network *networks; /* network.c */
        struct Firewall *firewall; /* the "inet berth" table (firewall.c), opened at the first use */
        struct DnsServer *dns; /* the DNS of user networks (dns-server.c), started at the first use */
        bool dns_fallback_warned;
} Manager;

int manager_new(Manager **ret);
void manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        if (*m)
                manager_free(*m);
}
int manager_startup(Manager *m);
/* Path helpers: <state_dir>/<sub> etc. Return malloc'd strings or NULL on OOM. */
char *manager_state_path(Manager *m, const char *fmt, ...) _printf_(2, 3);
char *manager_run_path(Manager *m, const char *fmt, ...) _printf_(2, 3);

/* The records of one kind in the state directory, as startup reads them: <dir>/<name>/<record>
 * (a container's or volume's directory), or <dir>/<name><suffix> (an image). For each entry whose
 * name is valid, 'load' gets the record parsed (o), or o NULL and the error r it could not be read
 * with; it returns a negative errno to stop the walk (out of memory). With 'remove' (records in
 * directories), removals a crash cut short (".rm-*") are swept first and a directory without its
 * record is removed: a create or remove that crashed halfway. */
typedef struct RecordDir {
        const char *dir; /* under the state directory */
        const char *record; /* in each entry's directory; NULL: the entries are the records */
        const char *suffix; /* the records' ending, when they are the entries */
        bool (*name_is_valid)(const char *name);
        int (*remove)(const char *path);
        int (*load)(Manager *m, const char *name, const char *path, json_object *o, int r, void *userdata);
} RecordDir;
int manager_load_records(Manager *m, const RecordDir *rd, void *userdata);

/* D-Bus registration (manager-dbus.c, container-dbus.c, image-dbus.c). */
int manager_bus_setup(Manager *m);
/* The objects and interfaces of org.berth1 on one connection: the system bus or a private one. */
int manager_bus_add_objects(Manager *m, sd_bus *bus);
/* /run/berth/private: peer-to-peer D-Bus for root, the same objects without dbus-daemon
 * (private-bus.c). */
int private_bus_listen(Manager *m);
void private_bus_done(Manager *m);
extern const sd_bus_vtable manager_vtable[];
/* The host's facts as Manager properties (manager-info.c): KernelVersion, OperatingSystem,
 * Architecture, Hostname, CPUs, MemoryTotal, CgroupVersion, CgroupLayout, SecurityOptions. */
int manager_property_get_host(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error);
const char *manager_cgroup_layout(void);
extern const sd_bus_vtable container_vtable[];
extern const sd_bus_vtable image_vtable[];
int container_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                          sd_bus_error *error);
int container_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
int image_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *error);
int image_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);

/* Manager.GetDiskUsage (disk-usage.c): sizes of images, container upper dirs and local volumes. */
int method_get_disk_usage(sd_bus_message *message, void *userdata, sd_bus_error *error);
