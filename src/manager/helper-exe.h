/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* berth-nspawn runs from a sealed in-memory copy of itself (defence in depth for CVE-2019-5736):
 * a container that re-executes its helper (an entrypoint linked to /proc/self/exe) or opens a
 * helper's /proc/<pid>/exe reaches only that copy, which nobody can write, never the binary on
 * the host's disk. The copy is made once, when berthd starts; every helper is spawned from it. */

/* The copy's descriptor in the spawned helper, which closes it first thing, is HELPER_FD_EXE; it
 * is executed by HELPER_EXE_PATH. */
#include "helper-protocol.h"

/* Copy the file at path into a memfd sealed against any change (write, grow, shrink, reseal).
 * Returns the memfd (close-on-exec), or a negative errno. */
int helper_exe_seal(const char *path);
