/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* run --sdnotify (podman's): who tells systemd that a Type=notify service is ready.
 *   conmon (default): berthctl, once the payload has started;
 *   container: the payload itself, through a socket berthctl binds into it (NOTIFY_SOCKET) and
 *     whose messages it passes on from its own PID (the service's main process: systemd takes
 *     notifications from that one, and the container is not in the service's cgroup);
 *   healthy: berthctl, once the first health check passed;
 *   ignore: nobody. */

typedef enum SdNotifyMode {
        SDNOTIFY_CONMON,
        SDNOTIFY_CONTAINER,
        SDNOTIFY_HEALTHY,
        SDNOTIFY_IGNORE,
} SdNotifyMode;

int ctl_sdnotify_parse(const char *s, SdNotifyMode *ret);

/* The directory bound into the container at NOTIFY_PROXY_TARGET, holding the socket. */
#define NOTIFY_PROXY_TARGET "/run/notify"
#define NOTIFY_PROXY_SOCKET NOTIFY_PROXY_TARGET "/notify.sock"

typedef struct NotifyProxy {
        char *dir; /* /run/berth/notify/XXXXXX */
        int fd; /* the datagram socket bound at dir/notify.sock */
} NotifyProxy;
#define NOTIFY_PROXY_NULL ((NotifyProxy){ .fd = -1 })

/* Makes the directory and binds the socket (anyone may send: the container's root may be any uid). */
int notify_proxy_open(NotifyProxy *p);
/* Closes the socket and removes the directory. */
void notify_proxy_done(NotifyProxy *p);
/* Reads one datagram from fd and passes it to our NOTIFY_SOCKET (sd_notify()). */
int notify_proxy_forward(int fd);
