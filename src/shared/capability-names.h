/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Linux capabilities by name, as Docker spells them, and the sets berth derives from --cap-add,
 * --cap-drop and --privileged. A set is a bit mask (bit N = capability N); capabilities the
 * running kernel does not know are ignored where the set is applied. */

#define CAPABILITY_LAST  40 /* CAP_CHECKPOINT_RESTORE, Linux 5.9 */
#define CAPABILITIES_ALL UINT64_MAX

/* Docker's default set (moby oci/caps/defaults.go). */
extern const uint64_t capabilities_default;

/* "NET_ADMIN", "cap_net_admin", "CAP_NET_ADMIN" → 12; -EINVAL for anything else ("ALL" too). */
int capability_from_name(const char *name);
/* 12 → "CAP_NET_ADMIN"; NULL when out of range. */
const char *capability_to_name(int cap);
/* The canonical spelling of a --cap-add/--cap-drop value: "CAP_NET_ADMIN" or "ALL" (newly
 * allocated), or -EINVAL for an unknown capability. */
int capability_normalize(const char *name, char **ret);

/* Docker's semantics (moby oci/caps TweakCapabilities): privileged → all; "ALL" added → all but
 * the dropped ones; "ALL" dropped → only the added ones; else the default set minus the dropped
 * plus the added. The names must be normalized already (capability_normalize()). */
uint64_t capabilities_effective(char *const *add, char *const *drop, bool privileged);
