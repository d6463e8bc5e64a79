/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

/* PullImage with the caller's credentials, printing what docker pull prints (with quiet: the
 * image's full name only). Logs on failure. */
int ctl_pull_image(sd_bus *bus, const char *reference, const char *platform, bool quiet);
