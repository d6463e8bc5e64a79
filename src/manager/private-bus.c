/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <run_dir>/private: a peer-to-peer D-Bus socket for root, as systemd's /run/systemd/private is
 * for systemctl. Each connection gets the same objects as the system bus, so a call there is the
 * same call; it only skips dbus-daemon: no Hello, no routing, no NameOwnerChanged broadcasts and
 * no GetConnectionUnixUser (the caller's uid comes from SO_PEERCRED). That is most of a short
 * berthctl invocation's bus traffic. Signals are sent on the system bus only: a client that wants
 * them (berthctl logs -f) connects there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <systemd/sd-id128.h>

#include "log.h"
#include "manager.h"
#include "util.h"

struct PrivateConnection {
        sd_bus *bus;
        bool running; /* past authentication, and what came with BEGIN was dispatched */
};

/* Closed, not flushed: flushing waits (in berthd's only loop) for a peer that may never read. */
static void drop_connection(Manager *m, sd_bus *bus) {
        for (size_t i = 0; i < m->n_private_connections; i++)
                if (m->private_connections[i].bus == bus) {
                        m->private_connections[i] = m->private_connections[--m->n_private_connections];
                        /* A message being dispatched holds its own reference. Replies still due to
                         * this peer (a Wait, say) hold theirs and fail quietly when sent. */
                        sd_bus_close_unref(bus);
                        return;
                }
}

static int on_disconnected(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        drop_connection(userdata, sd_bus_message_get_bus(message));
        return 0;
}

/* A client that sends its first call in the same write as BEGIN (libdbus does) leaves that call in
 * sd-bus's read buffer when authentication ends, and sd-bus (252) waits for the socket to become
 * readable again before it looks at it: the call would sit there until the client gives up. So
 * after every loop iteration, each connection that just finished authenticating is processed
 * until it has nothing left. */
static int on_post(sd_event_source *s, void *userdata) {
        Manager *m = userdata;

        for (size_t i = 0; i < m->n_private_connections; i++) {
                PrivateConnection *c = &m->private_connections[i];
                if (c->running || sd_bus_is_ready(c->bus) <= 0)
                        continue;
                c->running = true;
                sd_bus *bus = sd_bus_ref(c->bus); /* a Disconnected handler may drop c meanwhile */
                int r;
                while ((r = sd_bus_process(bus, NULL)) > 0)
                        ;
                if (r < 0) /* as sd-bus's own loop would: the connection is done */
                        drop_connection(m, bus);
                sd_bus_unref(bus);
                i = (size_t) -1; /* the array may have changed: look again from the start */
        }
        return 0;
}

static int serve_connection(Manager *m, int fd) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        sd_id128_t id;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_fd(bus, fd, fd);
        if (r < 0) {
                close(fd);
                return r;
        }
        if ((r = sd_id128_randomize(&id)) < 0 || (r = sd_bus_set_server(bus, 1, id)) < 0 ||
            (r = sd_bus_negotiate_fds(bus, 1)) < 0 || (r = sd_bus_set_description(bus, "private-connection")) < 0 ||
            /* Replies carry the name the caller addressed: libdbus drops those without it. */
            (r = sd_bus_set_sender(bus, "org.berth1")) < 0)
                return r;
        if ((r = sd_bus_add_match(bus, NULL,
                                  "type='signal',path='/org/freedesktop/DBus/Local',"
                                  "interface='org.freedesktop.DBus.Local',member='Disconnected'",
                                  on_disconnected, m)) < 0 ||
            (r = manager_bus_add_objects(m, bus)) < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        PrivateConnection *list = reallocarray(m->private_connections, m->n_private_connections + 1,
                                               sizeof(PrivateConnection));
        if (!list)
                return -ENOMEM;
        m->private_connections = list;
        m->private_connections[m->n_private_connections++] = (PrivateConnection){ .bus = TAKE_PTR(bus) };
        return 0;
}

/* A floating one-shot timer: the loop owns it, and it stays off once fired. */
static int on_accept_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        if (m->private_source)
                (void) sd_event_source_set_enabled(m->private_source, SD_EVENT_ON);
        return 0;
}

static int on_connection(sd_event_source *s, int listen_fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int fd, r;

        fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
                if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                        return 0;
                /* Out of descriptors or memory: the connection stays queued and the socket
                 * readable, so pause accepting for a moment rather than spin on it. */
                log_error("Failed to accept a private bus connection: %m");
                if (sd_event_source_set_enabled(s, SD_EVENT_OFF) >= 0 &&
                    sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC, USEC_PER_SEC / 10, 0, on_accept_retry,
                                               m) < 0)
                        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
                return 0;
        }
        /* The socket is root's alone (0600); the connecting peer is checked again all the same. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
                close(fd);
                return 0;
        }
        r = serve_connection(m, fd); /* takes fd, also when it fails */
        if (r < 0)
                log_warning("Failed to serve a private bus connection: %s", strerror(-r));
        return 0;
}

int private_bus_listen(Manager *m) {
        _cleanup_free_ char *path = manager_run_path(m, "private");
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r;

        if (!path)
                return -ENOMEM;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        r = mkdir_p(m->run_dir, 0755);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(path); /* a previous berthd's */
        /* Created 0600 under a umask, so there is no moment in which others could connect. */
        mode_t old = umask(0177);
        r = bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? -errno : 0;
        umask(old);
        if (r < 0)
                return r;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        m->private_fd = TAKE_FD(fd); /* from here on private_bus_done() undoes it all */
        r = sd_event_add_post(m->event, &m->private_post, on_post, m);
        if (r >= 0)
                r = sd_event_add_io(m->event, &m->private_source, m->private_fd, EPOLLIN, on_connection, m);
        if (r < 0)
                private_bus_done(m);
        return r;
}

void private_bus_done(Manager *m) {
        m->private_source = sd_event_source_disable_unref(m->private_source);
        m->private_post = sd_event_source_disable_unref(m->private_post);
        if (m->private_fd >= 0) {
                _cleanup_free_ char *path = manager_run_path(m, "private");
                if (path)
                        (void) unlink(path);
                m->private_fd = safe_close(m->private_fd);
        }
        /* Detached from m first, then closed without a flush (which would dispatch messages, and
         * with them handlers that look for these connections in m). */
        PrivateConnection *list = TAKE_PTR(m->private_connections);
        size_t n = m->n_private_connections;
        m->n_private_connections = 0;
        for (size_t i = 0; i < n; i++)
                sd_bus_close_unref(list[i].bus);
        free(list);
}
