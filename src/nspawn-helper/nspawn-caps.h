/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Keep Docker's default capability set (bounding, permitted, effective, inheritable) and drop
 * everything else, ambient set included. */
int drop_capabilities_to_default(void);
