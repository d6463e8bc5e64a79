/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <linux/filter.h>

/* The BPF program berthd compiled once (fd 8: a sealed memfd); see src/manager/seccomp-default.c. */
int seccomp_program_read(int fd, struct sock_fprog *ret);
void seccomp_program_done(struct sock_fprog *p);
/* Install it; CAP_SYS_ADMIN (still held at that point) stands in for no_new_privs. */
int seccomp_program_load(const struct sock_fprog *p);
