/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A static probe run inside test containers (busybox has no way to make these calls):
 *   probe io_uring            try io_uring_setup(2); prints "ok" or the errno name
 *   probe hold-fd3            block reading descriptor 3 (keeps the process alive with its exe) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
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
        if (argc == 2 && strcmp(argv[1], "hold-fd3") == 0) {
                char c;
                return read(3, &c, 1) < 0 ? 1 : 0;
        }
        fprintf(stderr, "usage: probe io_uring|hold-fd3\n");
        return 2;
}
