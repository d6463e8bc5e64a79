/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-generator: /etc/berth/systemd/NAME.container → NAME.service in the generator's output
 * directory (systemd.generator(7)), with the [Install] links made here (a generated unit cannot
 * be enabled). A file with a mistake gives no unit and an error in the journal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gen-container.h"
#include "util.h"

#define PROGRAM "berth-generator"

static bool invoked_by_systemd(void) {
        return getenv("SYSTEMD_SCOPE") != NULL;
}

/* One datagram of journald's native protocol, never blocking: PID 1 waits for generators, and
 * journald may be one of the services it would have to start. */
static int log_journal(int priority, const char *message) {
        static const struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket" };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        _cleanup_free_ char *datagram = NULL;
        int n;

        if (fd < 0)
                return -errno;
        n = asprintf(&datagram, "PRIORITY=%d\nSYSLOG_IDENTIFIER=" PROGRAM "\nMESSAGE=%s\n", priority, message);
        if (n < 0)
                return -ENOMEM;
        if (sendto(fd, datagram, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *) &sa, sizeof(sa)) <
            0)
                return -errno;
        return 0;
}

static int log_kmsg(int priority, const char *message) {
        _cleanup_close_ int fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return dprintf(fd, "<%d>" PROGRAM "[%d]: %s\n", priority, (int) getpid(), message) < 0 ? -EIO : 0;
}

/* Run by systemd: to the journal, or to the kernel's log buffer when journald does not run yet
 * (early boot; journald reads it later), else stderr. By hand: stderr. */
_printf_(2, 3) static void log_at(int priority, const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;

        va_start(ap, format);
        int n = vasprintf(&message, format, ap);
        va_end(ap);
        if (n < 0)
                return;
        for (char *p = message; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        if (invoked_by_systemd() && (log_journal(priority, message) >= 0 || log_kmsg(priority, message) >= 0))
                return;
        fprintf(stderr, "%s: %s\n", PROGRAM, message);
}

#define log_error(...)   log_at(3, __VA_ARGS__)
#define log_warning(...) log_at(4, __VA_ARGS__)

/* DIR/TARGET.SUFFIX/NAME.service → ../NAME.service for each target. */
static int add_links(const char *dir, char *const *targets, const char *suffix, const char *service) {
        for (char *const *t = targets; t && *t; t++) {
                _cleanup_free_ char *sub = strjoin(dir, "/", *t, suffix);
                _cleanup_free_ char *link = sub ? strjoin(sub, "/", service) : NULL;
                _cleanup_free_ char *target = strjoin("../", service);
                if (!link || !target)
                        return -ENOMEM;
                if (mkdir(sub, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (symlink(target, link) < 0 && errno != EEXIST)
                        return -errno;
        }
        return 0;
}

static int add_aliases(const char *dir, char *const *aliases, const char *service) {
        for (char *const *a = aliases; a && *a; a++) {
                _cleanup_free_ char *link = strjoin(dir, "/", *a);
                if (!link)
                        return -ENOMEM;
                if (symlink(service, link) < 0 && errno != EEXIST)
                        return -errno;
        }
        return 0;
}

static int write_unit_file(const char *dir, const char *service, const char *text) {
        _cleanup_free_ char *path = strjoin(dir, "/", service);
        _cleanup_close_ int fd = -1;
        if (!path)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        return loop_write(fd, text, strlen(text));
}

/* One file; returns 0 when its unit was written, negative (logged) otherwise. */
static int generate_one(const char *source_dir, const char *name, const char *out_dir) {
        _cleanup_free_ char *path = strjoin(source_dir, "/", name);
        _cleanup_free_ char *unit_name = strndup(name, strlen(name) - strlen(".container"));
        _cleanup_free_ char *service = unit_name ? strjoin(unit_name, ".service") : NULL;
        _cleanup_free_ char *text = NULL, *message = NULL;
        _cleanup_(generated_unit_done) GeneratedUnit unit = {};
        unsigned line = 0;
        int r;

        if (!path || !service)
                return -ENOMEM;
        r = read_full_file(path, &text, NULL);
        if (r < 0) {
                errno = -r;
                log_error("Failed to read %s: %m", path);
                return r;
        }
        r = container_unit_generate(unit_name, path, text, BERTHCTL_PATH, &unit, &line, &message);
        if (r == -EINVAL) {
                if (line > 0)
                        log_error("%s:%u: %s No unit generated.", path, line, message);
                else
                        log_error("%s: %s No unit generated.", path, message);
                return r;
        }
        if (r >= 0)
                r = write_unit_file(out_dir, service, unit.text);
        if (r >= 0 && (r = add_links(out_dir, unit.wanted_by, ".wants", service)) >= 0 &&
            (r = add_links(out_dir, unit.required_by, ".requires", service)) >= 0 &&
            (r = add_links(out_dir, unit.upheld_by, ".upholds", service)) >= 0)
                r = add_aliases(out_dir, unit.aliases, service);
        if (r < 0) {
                errno = -r;
                log_error("Failed to generate %s from %s: %m", service, path);
        }
        return r;
}

static int name_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int main(int argc, char *argv[]) {
        const char *source_dir = getenv("BERTH_GENERATOR_SOURCE_DIR") ?: BERTH_CONTAINER_UNIT_DIR;
        _cleanup_strv_free_ char **names = NULL;
        size_t n_names = 0;
        int ret = EXIT_SUCCESS;

        if (argc != 2 && argc != 4) {
                fprintf(stderr, "Usage: %s NORMAL-DIR [EARLY-DIR LATE-DIR]\n", PROGRAM);
                return EXIT_FAILURE;
        }
        umask(0022);
        DIR *d = opendir(source_dir);
        if (!d) {
                if (errno == ENOENT)
                        return EXIT_SUCCESS;
                log_error("Failed to open %s: %m", source_dir);
                return EXIT_FAILURE;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".container") || streq(de->d_name, ".container"))
                        continue;
                if (strv_push_counted(&names, &n_names, de->d_name) < 0) {
                        closedir(d);
                        log_error("Out of memory.");
                        return EXIT_FAILURE;
                }
        }
        closedir(d);
        if (n_names > 0)
                qsort(names, n_names, sizeof(char *), name_compare);
        for (size_t i = 0; i < n_names; i++)
                if (generate_one(source_dir, names[i], argv[1]) < 0)
                        ret = EXIT_FAILURE;
        return ret;
}
