/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* berth's default seccomp filter: deny by default (EPERM), allow what a container with Docker's
 * default capability set may do — equivalent to Docker's default profile for that set.
 * Compiled to BPF once (berthd does it at startup: building it with libseccomp takes milliseconds)
 * into a sealed memfd that every berth-nspawn gets and loads with a single seccomp(2) call. */
int seccomp_default_filter_memfd(int *ret_fd);
