/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Keep the capabilities in 'keep' (bit N = capability N; berthd computes it from Docker's default
 * set, --cap-add, --cap-drop and --privileged) in the bounding, permitted and effective sets, and
 * drop everything else: the inheritable and ambient sets are empty. */
int drop_capabilities(uint64_t keep);
