/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Load berth's default seccomp filter: deny by default (EPERM), allow what a container with
 * Docker's default capability set may do — equivalent to Docker's default profile for that set. */
int load_default_seccomp_filter(void);
