/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>

/* berth's default seccomp filter: deny by default (EPERM), allow what a container with the
 * capability set 'caps' may do — equivalent to Docker's default profile for that set. */
int seccomp_default_rules(scmp_filter_ctx ctx, uint64_t caps);
/* Whether 'caps' holds a capability that opens more system calls than the default set does
 * (then the shared filter does not fit and the container gets its own). */
bool seccomp_default_depends_on(uint64_t caps);

/* The default filter for Docker's default capability set, compiled to BPF once (berthd does it at
 * startup: building it with libseccomp takes milliseconds) into a sealed memfd that every
 * berth-nspawn of a container with that set gets and loads with a single seccomp(2) call. */
int seccomp_default_filter_memfd(int *ret_fd);
