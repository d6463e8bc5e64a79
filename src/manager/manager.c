/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bus-polkit.h"
#include "log.h"
#include "config.h"
#include "container.h"
#include "hashmap.h"
#include "json-util.h"
#include "helper-exe.h"
#include "removal.h"
#include "image.h"
#include "manager.h"
#include "seccomp-default.h"
#include "storage.h"
#include "systemd-units.h"
#include "transfer.h"
#include "volume.h"
#include "network.h"
#include "dns-server.h"
#include "firewall.h"
#include "volume-plugin.h"

int manager_new(Manager **ret) {
        Manager *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        /* Overridable for development; the installed service uses the built-in paths. */
        const char *state = getenv("BERTH_STATE_DIR"), *run = getenv("BERTH_RUN_DIR"),
                   *helper = getenv("BERTH_NSPAWN_PATH");
        m->state_dir = strdup(state ?: BERTH_STATE_DIR);
        m->run_dir = strdup(run ?: BERTH_RUN_DIR);
        m->helper_path = strdup(helper ?: BERTH_NSPAWN_PATH);
        m->containers_by_id = hashmap_new();
        m->containers_by_name = hashmap_new();
        m->starts_by_job = hashmap_new();
        m->starts_by_unit = hashmap_new();
        m->units = &systemd_units_bus;
        m->seccomp_fd = -1;
        m->helper_exe_fd = -1;
        m->private_fd = -1;
        if (!m->state_dir || !m->run_dir || !m->helper_path || !m->containers_by_id || !m->containers_by_name ||
            !m->starts_by_job || !m->starts_by_unit) {
                manager_free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

void manager_free(Manager *m) {
        if (!m)
                return;
        /* First, so a berthctl connecting meanwhile is refused and takes the system bus (which
         * starts berthd again) rather than reaching a berthd that no longer answers. */
        private_bus_done(m);
        bus_polkit_done();
        container_saves_stop(m); /* what is queued is written before berthd exits */
        while (m->containers) {
                Container *c = m->containers;
                m->containers = c->next;
                container_free(c);
        }
        while (m->volumes) {
                Volume *v = m->volumes;
                m->volumes = v->next;
                volume_free(v);
        }
        while (m->networks) {
                Network *n = m->networks;
                m->networks = n->next;
                network_free(n);
        }
        dns_server_free(m->dns);
        firewall_free(m->firewall);
        manager_free_transfers(m);
        manager_free_volume_plugins(m);
        while (m->images) {
                Image *i = m->images;
                m->images = i->next;
                image_free(i);
        }
        manager_free_execs(m);
        manager_free_removals(m);
        sd_bus_slot_unref(m->job_removed_slot);
        sd_bus_slot_unref(m->unit_removed_slot);
        sd_bus_slot_unref(m->machine_removed_slot);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        free(m->state_dir);
        free(m->run_dir);
        free(m->helper_path);
        safe_close(m->seccomp_fd);
        safe_close(m->helper_exe_fd);
        hashmap_free(m->containers_by_id);
        hashmap_free(m->containers_by_name);
        hashmap_free(m->starts_by_job);
        hashmap_free(m->starts_by_unit);
        free(m);
}

_printf_(2, 0) static char *path_vprintf(const char *base, const char *fmt, va_list ap) {
        _cleanup_free_ char *sub = NULL;
        char *r;
        if (vasprintf(&sub, fmt, ap) < 0)
                return NULL;
        return asprintf(&r, "%s/%s", base, sub) < 0 ? NULL : r;
}

char *manager_state_path(Manager *m, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *r = path_vprintf(m->state_dir, fmt, ap);
        va_end(ap);
        return r;
}

char *manager_run_path(Manager *m, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *r = path_vprintf(m->run_dir, fmt, ap);
        va_end(ap);
        return r;
}

int manager_load_records(Manager *m, const RecordDir *rd, void *userdata) {
        _cleanup_free_ char *dir = manager_state_path(m, "%s", rd->dir);
        int r = 0;

        if (!dir)
                return -ENOMEM;
        if (rd->record && rd->remove)
                removal_sweep(m, dir, rd->remove); /* removals a crash cut short */
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        for (struct dirent *de; r >= 0 && (de = readdir(d));) {
                const char *suffix = rd->record ? "" : rd->suffix;
                size_t n = strlen(de->d_name), k = strlen(suffix);
                if (n <= k || strcmp(de->d_name + n - k, suffix))
                        continue; /* also skips *.tmp.* left by a crash mid-write */
                _cleanup_free_ char *name = strndup(de->d_name, n - k), *path = NULL;
                if (!name) {
                        r = -ENOMEM;
                        break;
                }
                if (!rd->name_is_valid(name))
                        continue;
                path = rd->record ? manager_state_path(m, "%s/%s/%s", rd->dir, name, rd->record)
                                  : manager_state_path(m, "%s/%s", rd->dir, de->d_name);
                if (!path) {
                        r = -ENOMEM;
                        break;
                }
                _cleanup_json_ json_object *o = NULL;
                int q = json_read_file(path, &o);
                if (q == -ENOENT && rd->record && rd->remove) {
                        /* The record is written last and removed first: a create or remove that
                         * crashed halfway. Finish removing it. */
                        _cleanup_free_ char *entry = manager_state_path(m, "%s/%s", rd->dir, name);
                        if (entry)
                                (void) rd->remove(entry);
                        continue;
                }
                r = rd->load(m, name, path, q < 0 ? NULL : o, q < 0 ? q : 0, userdata);
        }
        closedir(d);
        return r < 0 ? r : 0;
}

/* Leftovers of layer operations (import, load, commit) that crashed halfway are never referenced:
 * drop them. */
static void remove_stale_layer_work(Manager *m) {
        _cleanup_free_ char *dir = manager_state_path(m, "%s", m->storage->name);
        DIR *d = dir ? opendir(dir) : NULL;
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                if (de->d_name[0] != '.' || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) >= 0)
                        (void) storage_remove_work_dir(m, path);
        }
        closedir(d);
}

int manager_startup(Manager *m) {
        static const char *const dirs[] = { "images", "containers", "volumes" };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *p = manager_state_path(m, "%s", dirs[i]);
                if (!p)
                        return -ENOMEM;
                r = mkdir_p(p, 0700);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *run = manager_run_path(m, "containers");
        if (!run)
                return -ENOMEM;
        r = mkdir_p(run, 0755);
        if (r < 0)
                return r;
        r = storage_setup(m);
        if (r < 0)
                return r;
        r = seccomp_default_filter_memfd(&m->seccomp_fd);
        if (r < 0)
                return r;
        m->helper_exe_fd = helper_exe_seal(m->helper_path);
        if (m->helper_exe_fd < 0) {
                log_error("Failed to copy %s into memory: %s", m->helper_path, strerror(-m->helper_exe_fd));
                return m->helper_exe_fd;
        }
        remove_stale_layer_work(m);
        r = manager_load_images(m);
        if (r < 0)
                return r;
        r = manager_load_volumes(m);
        if (r < 0)
                return r;
        r = manager_load_networks(m);
        if (r < 0)
                return r;
        r = manager_load_containers(m);
        if (r < 0)
                return r;
        /* Ports, firewall and orphaned interfaces put right; a failure leaves the containers as
         * they are (they run), and is logged. */
        (void) manager_network_startup(m);
        return 0;
}
