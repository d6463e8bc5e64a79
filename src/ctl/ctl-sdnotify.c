/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* run --sdnotify=container: the socket the payload notifies through (ctl-sdnotify.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "ctl-sdnotify.h"
#include "util.h"

#define NOTIFY_PROXY_BASE "/run/berth/notify"

int ctl_sdnotify_parse(const char *s, SdNotifyMode *ret) {
        static const char *const names[] = {
                [SDNOTIFY_CONMON] = "conmon",
                [SDNOTIFY_CONTAINER] = "container",
                [SDNOTIFY_HEALTHY] = "healthy",
                [SDNOTIFY_IGNORE] = "ignore",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i])) {
                        *ret = (SdNotifyMode) i;
                        return 0;
                }
        return -EINVAL;
}

int notify_proxy_open(NotifyProxy *p) {
        _cleanup_free_ char *dir = strdup(NOTIFY_PROXY_BASE "/XXXXXX");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r;

        if (!dir)
                return -ENOMEM;
        (void) mkdir("/run/berth", 0755);
        if (mkdir(NOTIFY_PROXY_BASE, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (!mkdtemp(dir))
                return -errno;
        /* Searchable by the container's root whatever uid it has; the socket writable by it. */
        if (chmod(dir, 0755) < 0) {
                r = -errno;
                (void) rmdir(dir);
                return r;
        }
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify.sock", dir);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0777) < 0) {
                r = -errno;
                (void) unlink(sa.sun_path);
                (void) rmdir(dir);
                return r;
        }
        p->dir = TAKE_PTR(dir);
        p->fd = TAKE_FD(fd);
        return 0;
}

void notify_proxy_done(NotifyProxy *p) {
        p->fd = safe_close(p->fd);
        if (p->dir) {
                _cleanup_free_ char *sock = NULL;
                if (asprintf(&sock, "%s/notify.sock", p->dir) >= 0)
                        (void) unlink(sock);
                (void) rmdir(p->dir);
        }
        p->dir = mfree(p->dir);
}

int notify_proxy_forward(int fd) {
        char buf[4096 + 1];
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        buf[n] = 0;
        /* The payload's own words (READY=1, STATUS=..., ...), sent from our PID, the main one. Not
         * MAINPID=: a PID of the container's namespace means another process, or none, here;
         * berthctl stays the main process. */
        char out[sizeof(buf)];
        size_t len = 0;
        for (char *line = buf, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                size_t l = next ? (size_t) (next - line) : strlen(line);
                if (next)
                        next++;
                if (l == 0 || startswith(line, "MAINPID="))
                        continue;
                memcpy(out + len, line, l);
                len += l;
                out[len++] = '\n';
        }
        if (len == 0)
                return 0;
        out[len - 1] = 0;
        return sd_notify(0, out);
}
