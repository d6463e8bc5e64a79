/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl build: the steps' containers and images over berthd's methods, and the cache. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl-build.h"
#include "ctl-bus.h"
#include "ctl-log.h"
#include "ctl-registry.h"
#include "util.h"

static int image_path(Build *b, const char *name, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = ctl_get_image(b->bus, name, &error, ret);
        if (r < 0 && !ctl_bus_error_is_not_found(&error))
                return ctl_log_bus_error(&error, r);
        return r < 0 ? -ENOENT : 0;
}

/* The images that are build steps, by their BuildCacheKey: "key id". The key lives in berthd's
 * records only (set by CommitWithOptions), so a loaded or pulled image can never pose as one. */
int build_load_cache(Build *b) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id, *path;
        int r;

        r = ctl_bus_call_manager(b->bus, "ListImages", CTL_TIMEOUT_DEFAULT, &error, &reply, "");
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_enter_container(reply, 'a', "(sastto)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sastto")) > 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *key = NULL;
                if ((r = sd_bus_message_read(reply, "s", &id)) < 0 || (r = sd_bus_message_skip(reply, "astt")) < 0 ||
                    (r = sd_bus_message_read(reply, "o", &path)) < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
                        break;
                if (sd_bus_get_property_string(b->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_IMAGE, "BuildCacheKey", &e,
                                               &key) < 0 ||
                    isempty(key))
                        continue; /* removed meanwhile, or no build step */
                _cleanup_free_ char *entry = strjoin(key, " ", id);
                if (!entry || strv_push(&b->cache, entry) < 0)
                        return ctl_log_errno(ENOMEM, "Out of memory");
        }
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of ListImages: %m");
        return 0;
}

const char *build_cache_lookup(Build *b, const char *key) {
        size_t n = strlen(key);
        for (char **c = b->cache; c && *c; c++)
                if (strncmp(*c, key, n) == 0 && (*c)[n] == ' ')
                        return *c + n + 1;
        return NULL;
}

/* sha256 of the parent image, the instruction (after substitution), the build args in scope and the
 * content's digest, each ended by a NUL. */
int build_cache_key(Build *b, const char *parent, const char *text, char **args, const char *content,
                    char ret[SHA256_HEX_LEN + 1]) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "berth-build-v1%c%s%c%s%c", 0, parent, 0, text, 0);
        for (char **a = args; a && *a; a++)
                fprintf(f, "%s%c", *a, 0);
        fprintf(f, "%c%s%c", 0, content ?: "", 0);
        if (fclose(f) != 0)
                return -ENOMEM;
        return b->tar->sha256_hex_of(buf, len, ret);
}

int build_resolve_image(Build *b, const char *name, const char *platform, bool pull, char **ret_id) {
        _cleanup_free_ char *path = NULL;
        int r = pull ? -ENOENT : image_path(b, name, &path);
        if (r == -ENOENT) {
                /* The pull's progress goes where the build's does. */
                int saved = -1;
                if (b->options->quiet) {
                        fflush(stdout);
                        saved = dup(STDOUT_FILENO);
                        _cleanup_close_ int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                        if (saved < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0)
                                return ctl_log_errno(errno, "Failed to redirect the pull's progress: %m");
                }
                r = ctl_pull_image(b->bus, name, platform, false);
                if (saved >= 0) {
                        fflush(stdout);
                        (void) dup2(saved, STDOUT_FILENO);
                        safe_close(saved);
                }
                if (r < 0)
                        return r;
                r = image_path(b, name, &path);
        }
        if (r < 0)
                return r == -ENOENT ? (ctl_log_error("no such image: %s", name), -ENOENT) : r;
        return ctl_object_path_id(path, ret_id);
}

int build_image_config(Build *b, const char *id, char ***ret_env, char **ret_workdir) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        int r = image_path(b, id, &path);
        if (r < 0)
                return r == -ENOENT ? (ctl_log_error("image %.12s disappeared during the build", id), r) : r;
        r = sd_bus_get_property_strv(b->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_IMAGE, "Env", &error, ret_env);
        if (r >= 0)
                r = sd_bus_get_property_string(b->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_IMAGE, "WorkingDir", &error,
                                               ret_workdir);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        return 0;
}

int build_step_create(Build *b, const char *image, char **command, char **env, BuildStep *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_message_new_method_call(b->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "CreateContainer");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", image, "");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, command);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, env);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        /* RUN ignores the image's entrypoint, as Docker's builder does. */
        if (r >= 0)
                r = ctl_bus_append_strv_option(m, "Entrypoint", (char *[]){ NULL });
        if (r >= 0 && b->options->network)
                r = sd_bus_message_append(m, "{sv}", "NetworkMode", "s", b->options->network);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "Labels", "a{ss}", 1, "org.berth.build", "step");
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the CreateContainer call: %m");
        r = sd_bus_call(b->bus, m, CTL_TIMEOUT_LONG, &error, &reply);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of CreateContainer: %m");
        ret->container = strdup(path);
        if (!ret->container)
                return ctl_log_errno(ENOMEM, "Out of memory");
        r = ctl_object_path_id(path, &ret->id);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the container path %s: %m", path);
        return 0;
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
        interrupted = 1;
}

void build_catch_signals(void) {
        struct sigaction sa = { .sa_handler = on_interrupt };
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);
}

bool build_interrupted(void) {
        return interrupted;
}

typedef struct WaitCall {
        bool done;
        int code;
        sd_bus_error error;
} WaitCall;

static int on_wait_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        WaitCall *w = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        if (e)
                (void) sd_bus_error_copy(&w->error, e);
        else if (sd_bus_message_read(m, "i", &w->code) < 0)
                (void) sd_bus_error_set(&w->error, SD_BUS_ERROR_FAILED, "Wait gave no exit code.");
        w->done = true;
        return 0;
}

/* Container.Wait, killing the container when we are interrupted (the caller removes it). */
static int wait_step(Build *b, BuildStep *s, int *ret_code) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        WaitCall w = { .error = SD_BUS_ERROR_NULL };
        bool killed = false;
        int r;

        r = sd_bus_message_new_method_call(b->bus, &m, BERTH_BUS_SERVICE, s->container, BERTH_BUS_CONTAINER, "Wait");
        if (r >= 0)
                r = sd_bus_call_async(b->bus, &slot, m, on_wait_reply, &w, UINT64_MAX);
        if (r < 0)
                return ctl_log_errno(r, "Failed to call Wait: %m");
        while (!w.done) {
                if (interrupted && !killed) {
                        killed = true;
                        (void) sd_bus_call_method(b->bus, BERTH_BUS_SERVICE, s->container, BERTH_BUS_CONTAINER, "Kill",
                                                  NULL, NULL, "i", SIGKILL);
                }
                r = sd_bus_process(b->bus, NULL);
                if (r < 0)
                        break;
                if (r == 0 && (r = sd_bus_wait(b->bus, 200 * USEC_PER_MSEC)) < 0 && r != -EINTR)
                        break;
                r = 0;
        }
        if (r < 0) {
                sd_bus_error_free(&w.error);
                return ctl_log_errno(r, "Failed to wait for the step's container: %m");
        }
        if (sd_bus_error_is_set(&w.error)) {
                r = ctl_log_bus_error(&w.error, -EIO);
                sd_bus_error_free(&w.error);
                return r;
        }
        if (killed) {
                ctl_log_error("interrupted");
                return -EINTR;
        }
        *ret_code = w.code;
        return 0;
}

int build_step_run(Build *b, BuildStep *s, int *ret_exit_code) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int out = -1, err = -1;
        int r;

        fflush(b->out);
        out = b->options->quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC) : fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        err = b->options->quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC) : fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (out < 0 || err < 0)
                return ctl_log_errno(errno, "Failed to open the step's output: %m");
        r = ctl_bus_call(b->bus, s->container, BERTH_BUS_CONTAINER, "StartAttached", CTL_TIMEOUT_LONG, &error, NULL,
                         "hh", out, err);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        return wait_step(b, s, ret_exit_code);
}

int build_step_copy_to(Build *b, BuildStep *s, const char *path, int fd, bool quiet_errors) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return ctl_log_errno(errno, "Failed to rewind the copy's archive: %m");
        int r = ctl_bus_call(b->bus, s->container, BERTH_BUS_CONTAINER, "CopyTo", CTL_TIMEOUT_INFINITE, &error, NULL,
                             "sh", path, fd);
        if (r < 0 && !quiet_errors)
                return ctl_log_bus_error(&error, r);
        return r;
}

int build_step_copy_from(Build *b, BuildStep *s, const char *path, int dest_fd) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *tar_error = NULL;
        _cleanup_close_ int fd = memfd_create("berthctl-build-from", MFD_CLOEXEC);
        if (fd < 0)
                return ctl_log_errno(errno, "Failed to create a memory file: %m");
        int r = ctl_bus_call(b->bus, s->container, BERTH_BUS_CONTAINER, "CopyFrom", CTL_TIMEOUT_INFINITE, &error, NULL,
                             "sh", path, fd);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return ctl_log_errno(errno, "Failed to rewind: %m");
        r = b->tar->extract(fd, dest_fd, TAR_EXTRACT_LITERAL_NAMES, NULL, &tar_error);
        if (r < 0)
                return ctl_log_errno(r, "Failed to unpack %s: %s", path, tar_error ?: strerror(-r));
        return 0;
}

int build_step_commit(Build *b, BuildStep *s, char **changes, const char *key, bool skip_empty_layer,
                      char **ret_image) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_message_new_method_call(b->bus, &m, BERTH_BUS_SERVICE, s->container, BERTH_BUS_CONTAINER,
                                           "CommitWithOptions");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, changes);
        if (r >= 0)
                r = sd_bus_message_append(m, "ssa{sv}", "", "", 2, "SkipEmptyLayer", "b", skip_empty_layer,
                                          "BuildCacheKey", "s", key);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the Commit call: %m");
        r = sd_bus_call(b->bus, m, CTL_TIMEOUT_INFINITE, &error, &reply);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = ctl_object_path_id(path, ret_image);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of Commit: %m");
        _cleanup_free_ char *entry = strjoin(key, " ", *ret_image);
        if (!entry || strv_push(&b->cache, entry) < 0)
                return ctl_log_errno(ENOMEM, "Out of memory");
        return 0;
}

void build_step_remove(Build *b, BuildStep *s) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        if (s->container) {
                int r = ctl_bus_call(b->bus, s->container, BERTH_BUS_CONTAINER, "Remove", CTL_TIMEOUT_LONG, &error,
                                     NULL, "b", true);
                if (r < 0)
                        ctl_log_warning("failed to remove intermediate container %.12s: %s", s->id ?: "?",
                                        error.message ?: strerror(-r));
        }
        s->container = mfree(s->container);
        s->id = mfree(s->id);
}

/* A tar stream of nothing, or of one directory entry "as" (root, 0755). */
static int dir_stream(Build *b, const char *as, int *ret_fd) {
        _cleanup_free_ char *error = NULL, *tmp = strdup("/tmp/berthctl-build-XXXXXX");
        _cleanup_close_ int fd = memfd_create("berthctl-build-mkdir", MFD_CLOEXEC), parent = -1;
        TarWriter *w = NULL;
        int r;

        if (fd < 0 || !tmp)
                return fd < 0 ? -errno : -ENOMEM;
        if (as) {
                if (!mkdtemp(tmp))
                        return -errno;
                if (chmod(tmp, 0755) < 0 || (parent = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
                        r = -errno;
                        (void) rmdir(tmp);
                        return r;
                }
        }
        r = b->tar->writer_new(fd, 0, &w, &error);
        if (r >= 0 && as)
                r = b->tar->writer_add(w, parent, tmp + strlen("/tmp/"), as, false);
        if (r >= 0)
                r = b->tar->writer_finish(w);
        b->tar->writer_free(w);
        if (as)
                (void) rmdir(tmp);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int build_step_mkdir(Build *b, BuildStep *s, const char *path) {
        _cleanup_close_ int empty = -1, dir = -1;
        int r = dir_stream(b, NULL, &empty);
        if (r < 0)
                return ctl_log_errno(r, "Failed to write an archive: %m");
        /* Into an existing directory, nothing is extracted; a missing one is an error. */
        if (streq(path, "/") || build_step_copy_to(b, s, path, empty, true) >= 0)
                return 0;
        _cleanup_free_ char *as = strdup(path + strspn(path, "/"));
        if (!as)
                return ctl_log_errno(ENOMEM, "Out of memory");
        for (size_t n = strlen(as); n > 0 && as[n - 1] == '/'; n--)
                as[n - 1] = 0;
        r = dir_stream(b, as, &dir);
        if (r < 0)
                return ctl_log_errno(r, "Failed to write an archive: %m");
        return build_step_copy_to(b, s, "/", dir, false);
}

int build_read_image_file(Build *b, const char *image, const char *path, char **ret) {
        _cleanup_(build_step_remove_p) BuildStep s = { .build = b };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *tar_error = NULL, *tmp = strdup("/tmp/berthctl-build-file-XXXXXX");
        _cleanup_close_ int fd = memfd_create("berthctl-build-file", MFD_CLOEXEC), dir = -1, file = -1;
        const char *base = strrchr(path, '/') + 1;
        size_t len;
        int r;

        *ret = NULL;
        if (fd < 0 || !tmp)
                return ctl_log_errno(fd < 0 ? errno : ENOMEM, "Failed to read %s of the image: %m", path);
        r = build_step_create(b, image, STRV_MAKE("/bin/sh", "-c", "#(nop) read /etc/passwd"), NULL, &s);
        if (r < 0)
                return r;
        r = ctl_bus_call(b->bus, s.container, BERTH_BUS_CONTAINER, "CopyFrom", CTL_TIMEOUT_INFINITE, &error, NULL, "sh",
                         path, fd);
        if (r < 0)
                return 0; /* no such file: names cannot be looked up, numbers still can */
        if (!mkdtemp(tmp))
                return ctl_log_errno(errno, "Failed to create a directory: %m");
        dir = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0 || lseek(fd, 0, SEEK_SET) < 0)
                r = -errno;
        else
                r = b->tar->extract(fd, dir, TAR_EXTRACT_LITERAL_NAMES, NULL, &tar_error);
        if (r >= 0) {
                file = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                r = file < 0 ? 0 : read_full_fd(file, ret, &len);
        }
        (void) rm_rf(tmp);
        if (r < 0)
                return ctl_log_errno(r, "Failed to read %s of the image: %s", path, tar_error ?: strerror(-r));
        return 0;
}

/* The object path of a new image of the root directory alone (import needs a tag: taken away). */
static int import_root_only(Build *b, char **ret_path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *tag = NULL;
        _cleanup_close_ int fd = -1;
        char id[BERTH_ID_LEN + 1];
        const char *path;
        /* One entry, the root directory itself: an import of nothing is refused. */
        int r = dir_stream(b, ".", &fd);
        if (r >= 0)
                r = random_hex_id(id);
        if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
                r = -errno;
        if (r < 0)
                return ctl_log_errno(r, "Failed to write an archive: %m");
        tag = strjoin("berth-build-scratch:", id);
        if (!tag)
                return ctl_log_errno(ENOMEM, "Out of memory");
        r = ctl_bus_call_manager(b->bus, "ImportImage", CTL_TIMEOUT_LONG, &error, &reply, "hs", fd, tag);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of ImportImage: %m");
        *ret_path = strdup(path);
        if (!*ret_path)
                return ctl_log_errno(ENOMEM, "Out of memory");
        r = ctl_bus_call(b->bus, path, BERTH_BUS_IMAGE, "Untag", CTL_TIMEOUT_DEFAULT, &error, NULL, "s", tag);
        return r < 0 ? ctl_log_bus_error(&error, r) : 0;
}

/* FROM scratch: berth's images need a layer, so scratch is the root directory alone, committed as
 * a build step with its own cache key, so later builds find the same one (and their steps hit). */
int build_scratch_image(Build *b, char **ret_id) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *imported = NULL, *imported_id = NULL;
        char key[SHA256_HEX_LEN + 1];
        int r;

        r = build_cache_key(b, "scratch", "FROM scratch", NULL, NULL, key);
        if (r < 0)
                return ctl_log_errno(r, "Failed to compute the cache key: %m");
        const char *hit = build_cache_lookup(b, key);
        if (hit)
                return (*ret_id = strdup(hit)) ? 0 : -ENOMEM;
        r = import_root_only(b, &imported);
        if (r >= 0)
                r = ctl_object_path_id(imported, &imported_id);
        if (r >= 0) {
                _cleanup_(build_step_remove_p) BuildStep s = { .build = b };
                r = build_step_create(b, imported_id, STRV_MAKE("/bin/sh", "-c", "#(nop) FROM scratch"), NULL, &s);
                if (r >= 0)
                        r = build_step_commit(b, &s, NULL, key, true, ret_id);
        }
        /* The import only stood in for the commit: its layer stays with the committed image. */
        if (imported &&
            ctl_bus_call(b->bus, imported, BERTH_BUS_IMAGE, "Remove", CTL_TIMEOUT_LONG, &error, NULL, "b", false) < 0)
                ctl_log_warning("failed to remove the imported scratch image: %s", error.message ?: "?");
        return r;
}

int build_image_triggers(Build *b, const char *id, char ***ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        int r = image_path(b, id, &path);
        if (r < 0)
                return r == -ENOENT ? (ctl_log_error("image %.12s disappeared during the build", id), r) : r;
        r = sd_bus_get_property_strv(b->bus, BERTH_BUS_SERVICE, path, BERTH_BUS_IMAGE, "OnBuild", &error, ret);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        return 0;
}
