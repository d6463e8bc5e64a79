/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Socket activation of containers: see container-listen.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-listen.h"
#include "errors.h"
#include "helper-protocol.h"
#include "macro.h"
#include "util.h"

static int read_fds(sd_bus_message *m, ContainerListen *l, sd_bus_error *error) {
        int r = sd_bus_message_enter_container(m, 'v', "ah");
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "h");
        while (r >= 0) {
                int fd;
                struct stat st;
                r = sd_bus_message_read(m, "h", &fd);
                if (r <= 0)
                        break;
                if (l->n >= CONTAINER_LISTEN_FDS_MAX)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "At most %d listening descriptors can be passed to a container.",
                                                 CONTAINER_LISTEN_FDS_MAX);
                if (fstat(fd, &st) < 0 || !(S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode)))
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "ListenFds must be sockets or FIFOs, as systemd passes them.");
                int *fds = reallocarray(l->fds, l->n + 1, sizeof(int));
                if (!fds)
                        return -ENOMEM;
                l->fds = fds;
                l->fds[l->n++] = fd;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
}

int container_listen_parse_option(sd_bus_message *m, const char *key, const char *contents, ContainerListen *l,
                                  sd_bus_error *error) {
        int r;
        if (streq(key, "ListenFds")) {
                if (!streq(contents, "ah"))
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "Container option \"ListenFds\" must have type \"ah\".");
                l->n = 0;
                r = read_fds(m, l, error);
                return r < 0 ? r : 1;
        }
        if (streq(key, "ListenFdNames")) {
                const char *names;
                if (!streq(contents, "s"))
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "Container option \"ListenFdNames\" must have type \"s\".");
                r = sd_bus_message_read(m, "v", "s", &names);
                if (r < 0)
                        return r;
                /* systemd's FileDescriptorName= rules: printable, no colon within a name, no newline. */
                for (const char *p = names; *p; p++)
                        if ((unsigned char) *p < 0x20 || *p == 0x7f)
                                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                        "ListenFdNames must be printable names separated by colons.");
                free(l->names);
                l->names = isempty(names) ? NULL : strdup(names);
                return isempty(names) || l->names ? 1 : -ENOMEM;
        }
        return 0;
}

int container_listen_copy(const ContainerListen *src, ContainerListen *dst) {
        *dst = (ContainerListen){};
        if (src->n == 0)
                return 0;
        dst->fds = calloc(src->n, sizeof(int));
        if (!dst->fds)
                return -ENOMEM;
        for (size_t i = 0; i < src->n; i++) {
                dst->fds[i] = fcntl(src->fds[i], F_DUPFD_CLOEXEC, 3);
                if (dst->fds[i] < 0) {
                        int r = -errno;
                        dst->n = i;
                        container_listen_done(dst);
                        return r;
                }
        }
        dst->n = src->n;
        if (src->names && !(dst->names = strdup(src->names))) {
                container_listen_done(dst);
                return -ENOMEM;
        }
        return 0;
}

void container_listen_config_done(ContainerListen *l) {
        free(l->fds);
        free(l->names);
        *l = (ContainerListen){};
}

void container_listen_done(ContainerListen *l) {
        for (size_t i = 0; i < l->n; i++)
                safe_close(l->fds[i]);
        container_listen_config_done(l);
}

void container_listen_to_spec(const ContainerListen *l, json_object *spec) {
        if (l->n == 0)
                return;
        json_object_object_add(spec, SPEC_KEY_LISTEN_FDS, json_object_new_int((int) l->n));
        if (l->names)
                json_object_object_add(spec, SPEC_KEY_LISTEN_FDNAMES, json_object_new_string(l->names));
}
