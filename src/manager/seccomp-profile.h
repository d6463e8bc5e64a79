/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Compile a seccomp filter to BPF into a sealed memfd. 'profile' NULL or "": berth's default (see
 * seccomp-default.h), else a profile in Docker's JSON format. 'caps' is the container's capability
 * set: the default filter and the profile's includes/excludes depend on it. A bad profile gives
 * -EINVAL and a sentence for the user in *ret_message (free()d by the caller; may stay NULL). */
int seccomp_compile(const char *profile, uint64_t caps, int *ret_fd, char **ret_message);
