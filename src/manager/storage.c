/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Choosing the storage driver, and what both drivers share: layer keys and paths.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "log.h"
#include "removal.h"
#include "config.h"
#include "json-util.h"
#include "container.h"
#include "image.h"
#include "storage.h"
#include "tar-split.h"

static const StorageDriver *const drivers[] = { &storage_overlay, &storage_btrfs };

static const StorageDriver *driver_by_name(const char *name) {
        for (size_t k = 0; k < ELEMENTSOF(drivers); k++)
                if (streq(drivers[k]->name, name))
                        return drivers[k];
        return NULL;
}

/* berthd.conf is an INI file as systemd's: "[Storage]" then "Driver=btrfs"; '#' and ';' start
 * comments. Only what berthd knows is read; unknown keys are warned about, not fatal. */
static int read_config_driver(const char *path, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_full_file(path, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        bool in_storage = false;
        unsigned line_no = 0;
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                line_no++;
                line += strspn(line, " \t");
                size_t n = strlen(line);
                while (n > 0 && strchr(" \t\r", line[n - 1]))
                        line[--n] = 0;
                if (n == 0 || line[0] == '#' || line[0] == ';')
                        continue;
                if (line[0] == '[') {
                        in_storage = streq(line, "[Storage]");
                        continue;
                }
                char *eq = strchr(line, '=');
                if (!eq) {
                        log_warning("%s:%u: not KEY=VALUE, ignoring.", path, line_no);
                        continue;
                }
                *eq = 0;
                char *key = line, *value = eq + 1;
                size_t k = strlen(key);
                while (k > 0 && strchr(" \t", key[k - 1]))
                        key[--k] = 0;
                value += strspn(value, " \t");
                if (in_storage && streq(key, "Driver")) {
                        free(*ret);
                        *ret = strdup(value);
                        if (!*ret)
                                return -ENOMEM;
                } else
                        log_warning("%s:%u: unknown setting %s, ignoring.", path, line_no, key);
        }
        return 0;
}

/* Whether a subdirectory of the state directory has entries (dot entries and overlay's l/ aside). */
static bool subdir_has_entries(Manager *m, const char *sub) {
        _cleanup_free_ char *p = manager_state_path(m, "%s", sub);
        DIR *d = p ? opendir(p) : NULL;
        bool found = false;
        if (!d)
                return false;
        for (struct dirent *de; !found && (de = readdir(d));)
                found = de->d_name[0] != '.' && !streq(de->d_name, "l");
        closedir(d);
        return found;
}

/* Whether the state directory holds layers or containers (then the driver may not change). */
static bool state_has_content(Manager *m, const char *driver_dir) {
        return subdir_has_entries(m, "images") || subdir_has_entries(m, "containers") ||
                subdir_has_entries(m, driver_dir);
}

int storage_setup(Manager *m) {
        _cleanup_free_ char *configured = NULL, *recorded = NULL, *record = manager_state_path(m, "storage-driver");
        const char *config_path = getenv("BERTH_CONFIG") ?: BERTH_CONFIG_FILE;
        size_t len;
        int r;

        if (!record)
                return -ENOMEM;
        r = read_config_driver(config_path, &configured);
        if (r < 0) {
                log_error("Failed to read %s: %s", config_path, strerror(-r));
                return r;
        }
        r = read_full_file(record, &recorded, &len);
        if (r < 0 && r != -ENOENT)
                return r;
        bool have_record = r >= 0;
        if (recorded)
                recorded[strcspn(recorded, "\n")] = 0;
        else if (subdir_has_entries(m, "btrfs") || state_has_content(m, "overlay")) {
                /* No record (lost, or a state directory from before drivers could be chosen): the
                 * layers say which driver made them. */
                bool btrfs = subdir_has_entries(m, "btrfs");
                if (btrfs && subdir_has_entries(m, "overlay") && isempty(configured)) {
                        log_error("%s holds layers of both the overlay and the btrfs storage driver, and does not say "
                                  "which one it was used with last: set Driver= in %s.",
                                  m->state_dir, config_path);
                        return -EBUSY;
                }
                recorded = strdup(btrfs ? "btrfs" : "overlay");
                if (!recorded)
                        return -ENOMEM;
        }

        const StorageDriver *d = NULL;
        if (!isempty(configured)) {
                d = driver_by_name(configured);
                if (!d) {
                        log_error("%s: unknown storage driver \"%s\" (expected overlay or btrfs).", config_path,
                                  configured);
                        return -EINVAL;
                }
        } else if (recorded && driver_by_name(recorded))
                d = driver_by_name(recorded);
        else {
                struct statfs sfs;
                d = statfs(m->state_dir, &sfs) == 0 && sfs.f_type == BTRFS_SUPER_MAGIC ? &storage_btrfs
                                                                                       : &storage_overlay;
        }
        if (recorded && !streq(recorded, d->name) && state_has_content(m, recorded)) {
                log_error("The storage driver is %s, but the images and containers in %s were stored by %s. Set "
                          "Driver=%s in %s, or remove them first.",
                          d->name, m->state_dir, recorded, recorded, config_path);
                return -EBUSY;
        }

        _cleanup_free_ char *dir = manager_state_path(m, "%s", d->name);
        if (!dir)
                return -ENOMEM;
        r = mkdir_p(dir, 0700);
        if (r >= 0 && d->store_setup)
                r = d->store_setup(dir);
        if (r < 0)
                return r;
        if (!have_record || !streq(recorded, d->name)) {
                r = write_file_atomic(record, d->name, strlen(d->name), 0644);
                if (r < 0)
                        return r;
        }
        m->storage = d;
        return 0;
}

char *storage_layer_dir(Manager *m, const char *key) {
        return manager_state_path(m, "%s/%s", m->storage->name, key);
}

int storage_image_diffs(Image *i, char ***ret) {
        Manager *m = i->manager;
        size_t n = strv_length(i->layers);
        if (n == 0)
                return -ENODATA; /* refused at load: every driver needs a layer to stand on */
        _cleanup_strv_free_ char **l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                const char *key = image_layer_key(i, k);
                /* top first, as overlay's lowerdir lists them */
                l[n - 1 - k] = key ? manager_state_path(m, "%s/%s/diff", m->storage->name, key) : NULL;
                if (!l[n - 1 - k])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int storage_layer_link(Manager *m, const char *key) {
        if (!m->storage->layer_stored)
                return 0;
        _cleanup_free_ char *store = manager_state_path(m, "%s", m->storage->name);
        return store ? m->storage->layer_stored(store, key) : -ENOMEM;
}

int storage_layer_stored(Manager *m, const char *key) {
        /* The rename into place is made durable before the image record that will reference it. */
        _cleanup_free_ char *store = manager_state_path(m, "%s", m->storage->name);
        _cleanup_close_ int store_fd = store ? open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (store_fd < 0 || fsync(store_fd) < 0)
                return store ? -errno : -ENOMEM;
        return storage_layer_link(m, key);
}

void storage_gc(Manager *m) {
        _cleanup_free_ char *store = manager_state_path(m, "%s", m->storage->name);
        if (store && m->storage->gc)
                m->storage->gc(store);
}

int storage_layer_apply(const StorageDriver *d, const char *parent_diff, const char *dir, int tar_fd,
                        TarExtractResult *result, char **ret_error) {
        _cleanup_free_ char *diff = NULL;
        int r = d->layer_create(parent_diff, dir);
        if (r < 0)
                return r;
        if (asprintf(&diff, "%s/diff", dir) < 0)
                return -ENOMEM;
        _cleanup_close_ int dirfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        _cleanup_close_ int layer_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (layer_fd < 0)
                return -errno;
        /* The tar-split beside diff lets a save give back this very tarball (and keep the image id). */
        r = tar_extract_split(tar_fd, dirfd, d->apply_flags, layer_fd, TAR_SPLIT_FILE, result, ret_error);
        if (r < 0)
                return r;
        return d->layer_seal ? d->layer_seal(dir) : 0;
}

int storage_remove_work_dir(Manager *m, const char *path) {
        _cleanup_free_ char *diff = NULL, *layers = NULL;
        if (asprintf(&diff, "%s/diff", path) < 0 || asprintf(&layers, "%s/layers", path) < 0)
                return -ENOMEM;
        if (access(diff, F_OK) == 0)
                return m->storage->layer_remove(path);
        DIR *d = opendir(layers);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        _cleanup_free_ char *layer = NULL;
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        if (asprintf(&layer, "%s/%s", layers, de->d_name) >= 0)
                                (void) m->storage->layer_remove(layer);
                }
                closedir(d);
        }
        return rm_rf(path);
}

int container_storage_size(Manager *m, const char *id, uint64_t *ret) {
        _cleanup_strv_free_ char **diffs = NULL;
        _cleanup_free_ char *cdir = manager_state_path(m, "containers/%s", id);
        Container *c = NULL;

        for (Container *x = m->containers; x && !c; x = x->next)
                if (streq(x->id, id))
                        c = x;
        Image *i = c ? manager_find_image(m, c->image_id, NULL) : NULL;
        if (!i)
                return -ENOENT;
        if (!cdir)
                return -ENOMEM;
        int r = storage_image_diffs(i, &diffs);
        if (r < 0)
                return r;
        return m->storage->container_size(diffs, cdir, ret);
}

int storage_container_spec(Manager *m, Image *image, const char *id, json_object *o) {
        _cleanup_strv_free_ char **diffs = NULL;
        int r = storage_image_diffs(image, &diffs);
        if (r < 0)
                return r;
        _cleanup_free_ char *store = manager_state_path(m, "%s", m->storage->name),
                            *cdir = manager_state_path(m, "containers/%s", id);
        if (!store || !cdir)
                return -ENOMEM;
        return m->storage->container_spec(store, diffs, cdir, o);
}

int storage_layer_keys(Manager *m, char **diff_ids, char ***ret) {
        size_t n = strv_length(diff_ids);
        _cleanup_strv_free_ char **keys = calloc(n + 1, sizeof(char *));
        if (!keys)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                keys[k] = malloc(SHA256_HEX_LEN + 1);
                if (!keys[k])
                        return -ENOMEM;
                if (!digest_is_valid(diff_ids[k]))
                        return -EINVAL;
                if (k == 0 || !m->storage->layers_are_snapshots) {
                        strcpy(keys[k], diff_ids[k] + strlen(DIGEST_SHA256_PREFIX));
                        continue;
                }
                /* OCI chain id: ChainID(L0) = DiffID(L0), ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " +
                 * DiffID(Ln)). */
                _cleanup_free_ char *s = NULL;
                if (asprintf(&s, "%s%s %s", DIGEST_SHA256_PREFIX, keys[k - 1], diff_ids[k]) < 0)
                        return -ENOMEM;
                int r = sha256_hex_of(s, strlen(s), keys[k]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(keys);
        return 0;
}

int storage_layer_remove(Manager *m, const char *key) {
        _cleanup_free_ char *dir = storage_layer_dir(m, key),
                            *gone = manager_state_path(m, "%s/.rm-%s", m->storage->name, key),
                            *store = manager_state_path(m, "%s", m->storage->name);

        if (!dir || !gone || !store)
                return -ENOMEM;
        if (m->storage->layer_forget)
                m->storage->layer_forget(store, key);
        (void) storage_remove_work_dir(m, gone); /* a removal that crashed before */
        if (rename(dir, gone) < 0)
                return errno == ENOENT ? 0 : -errno;
        return removal_start(m, gone, m->storage->layer_remove);
}
