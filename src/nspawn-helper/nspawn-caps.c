/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "macro.h"
#include "nspawn-caps.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(cap_t, cap_free);

int drop_capabilities(uint64_t keep) {
        _cleanup_(cap_freep) cap_t caps = NULL, have = cap_get_proc();
        int max = (int) cap_max_bits();
        cap_value_t list[64];
        int n = 0;

        if (!have)
                return -errno;
        /* Capabilities this kernel does not know, or that we do not hold ourselves (berthd may run
         * with a reduced bounding set), are not there to keep: --privileged asks for all. */
        for (int c = 0; c < max && c < 64; c++) {
                cap_flag_value_t v = CAP_CLEAR;
                if ((keep >> c) & 1 && cap_get_flag(have, c, CAP_PERMITTED, &v) >= 0 && v == CAP_SET)
                        list[n++] = c;
        }

        /* The bounding set first: dropping from it needs CAP_SETPCAP, which we still hold. */
        for (int c = 0; c < max; c++)
                if (!(c < 64 && ((keep >> c) & 1)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;

        caps = cap_init();
        if (!caps)
                return -errno;
        /* The inheritable set stays empty (CVE-2022-24769): otherwise a non-root user in the
         * container gains whatever a file's inheritable file capabilities name. */
        if (n > 0 &&
            (cap_set_flag(caps, CAP_EFFECTIVE, n, list, CAP_SET) < 0 ||
             cap_set_flag(caps, CAP_PERMITTED, n, list, CAP_SET) < 0))
                return -errno;
        if (cap_set_proc(caps) < 0)
                return -errno;
        return 0;
}
