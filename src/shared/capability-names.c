/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capability-names.h"
#include "macro.h"

/* Our own table rather than libcap's: berthd and berthctl need no libcap, and the names are
 * those of Docker (upper case, CAP_ prefix) in every libcap version. */
static const char *const names[CAPABILITY_LAST + 1] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

#define BIT(n) (UINT64_C(1) << (n))
const uint64_t capabilities_default = BIT(0) /* CHOWN */ | BIT(1) /* DAC_OVERRIDE */ | BIT(3) /* FOWNER */ |
        BIT(4) /* FSETID */ | BIT(5) /* KILL */ | BIT(6) /* SETGID */ | BIT(7) /* SETUID */ | BIT(8) /* SETPCAP */ |
        BIT(10) /* NET_BIND_SERVICE */ | BIT(13) /* NET_RAW */ | BIT(18) /* SYS_CHROOT */ | BIT(27) /* MKNOD */ |
        BIT(29) /* AUDIT_WRITE */ | BIT(31) /* SETFCAP */;

int capability_from_name(const char *name) {
        if (!name)
                return -EINVAL;
        const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
        for (int i = 0; i <= CAPABILITY_LAST; i++)
                if (strcasecmp(names[i] + 4, bare) == 0)
                        return i;
        return -EINVAL;
}

const char *capability_to_name(int cap) {
        return cap >= 0 && cap <= CAPABILITY_LAST ? names[cap] : NULL;
}

int capability_normalize(const char *name, char **ret) {
        const char *canonical;
        if (name && strcasecmp(name, "ALL") == 0)
                canonical = "ALL";
        else {
                int cap = capability_from_name(name);
                if (cap < 0)
                        return cap;
                canonical = names[cap];
        }
        *ret = strdup(canonical);
        return *ret ? 0 : -ENOMEM;
}

static bool contains(char *const *l, const char *s) {
        for (char *const *i = l; i && *i; i++)
                if (streq(*i, s))
                        return true;
        return false;
}

static uint64_t mask_of(char *const *l) {
        uint64_t m = 0;
        for (char *const *i = l; i && *i; i++) {
                int cap = capability_from_name(*i);
                if (cap >= 0)
                        m |= BIT(cap);
        }
        return m;
}

uint64_t capabilities_effective(char *const *add, char *const *drop, bool privileged) {
        if (privileged)
                return CAPABILITIES_ALL;
        if (contains(add, "ALL"))
                return CAPABILITIES_ALL & ~mask_of(drop);
        if (contains(drop, "ALL"))
                return mask_of(add);
        return (capabilities_default & ~mask_of(drop)) | mask_of(add);
}
