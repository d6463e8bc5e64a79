/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "macro.h"
#include "nspawn-caps.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(cap_t, cap_free);

/* Docker's default set (moby oci/caps/defaults.go). */
static const cap_value_t default_caps[] = {
        CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FSETID,  CAP_FOWNER,           CAP_MKNOD,      CAP_NET_RAW, CAP_SETGID,
        CAP_SETUID, CAP_SETFCAP,      CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,    CAP_AUDIT_WRITE,
};

static bool is_default(cap_value_t c) {
        for (size_t i = 0; i < ELEMENTSOF(default_caps); i++)
                if (default_caps[i] == c)
                        return true;
        return false;
}

int drop_capabilities_to_default(void) {
        _cleanup_(cap_freep) cap_t caps = NULL;
        int max = (int) cap_max_bits();

        /* The bounding set first: dropping from it needs CAP_SETPCAP, which we still hold. */
        for (int c = 0; c < max; c++)
                if (!is_default(c) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;

        caps = cap_init();
        if (!caps)
                return -errno;
        if (cap_set_flag(caps, CAP_EFFECTIVE, ELEMENTSOF(default_caps), default_caps, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_PERMITTED, ELEMENTSOF(default_caps), default_caps, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_INHERITABLE, ELEMENTSOF(default_caps), default_caps, CAP_SET) < 0)
                return -errno;
        if (cap_set_proc(caps) < 0)
                return -errno;
        return 0;
}
