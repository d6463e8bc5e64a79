/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A static probe run inside test containers (busybox has no way to make these calls):
 *   probe io_uring            try io_uring_setup(2); prints "ok" or the errno name
 *   probe hold-fd3            block reading descriptor 3 (keeps the process alive with its exe)
 *   probe udp-sink PORT       print every UDP datagram that arrives on PORT (busybox nc has no -u)
 *   probe notify LINE...      send the lines (e.g. READY=1) to $NOTIFY_SOCKET as one datagram, as
 *                             sd_notify() does
 *   probe accept-fd3          socket activation as sd_listen_fds() checks it (LISTEN_PID is ours): accept
 *                             one connection on descriptor 3 and answer with LISTEN_FDS and
 *                             LISTEN_FDNAMES */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

int main(int argc, char *argv[]) {
        if (argc == 2 && strcmp(argv[1], "io_uring") == 0) {
                unsigned char params[120] = { 0 }; /* struct io_uring_params */
                long fd = syscall(SYS_io_uring_setup, 1, params);
                if (fd >= 0) {
                        puts("ok");
                        return 0;
                }
                puts(strerrorname_np(errno) ? strerrorname_np(errno) : "unknown");
                return 1;
        }
        if (argc == 2 && strcmp(argv[1], "accept-fd3") == 0) {
                const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS"), *names = getenv("LISTEN_FDNAMES");
                char answer[256];
                if (!pid || atoi(pid) != getpid() || !fds || atoi(fds) < 1) {
                        fprintf(stderr, "not socket-activated: LISTEN_PID=%s (we are %d) LISTEN_FDS=%s\n",
                                pid ? pid : "", (int) getpid(), fds ? fds : "");
                        return 1;
                }
                int c = accept(3, NULL, NULL);
                if (c < 0) {
                        perror("accept on descriptor 3");
                        return 1;
                }
                int n = snprintf(answer, sizeof(answer), "hello LISTEN_FDS=%s LISTEN_FDNAMES=%s\n", fds,
                                 names ? names : "");
                return write(c, answer, (size_t) n) == n ? 0 : 1;
        }
        if (argc == 2 && strcmp(argv[1], "hold-fd3") == 0) {
                char c;
                return read(3, &c, 1) < 0 ? 1 : 0;
        }
        if (argc == 3 && strcmp(argv[1], "udp-sink") == 0) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(argv[2])) };
                int fd = socket(AF_INET, SOCK_DGRAM, 0);
                char buf[2048];
                if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                        return 1;
                setvbuf(stdout, NULL, _IONBF, 0);
                for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) >= 0;)
                        fwrite(buf, 1, (size_t) n, stdout);
                return 1;
        }
        if (argc >= 3 && strcmp(argv[1], "notify") == 0) {
                const char *path = getenv("NOTIFY_SOCKET");
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                char msg[4096] = "";
                int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
                if (!path || strlen(path) >= sizeof(sa.sun_path) || fd < 0)
                        return 1;
                strcpy(sa.sun_path, path);
                for (int i = 2; i < argc; i++)
                        if (snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%s%s", i > 2 ? "\n" : "", argv[i]) <
                            0)
                                return 1;
                return sendto(fd, msg, strlen(msg), 0, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? 1 : 0;
        }
        fprintf(stderr, "usage: probe io_uring|hold-fd3|udp-sink PORT|notify LINE...\n");
        return 2;
}
