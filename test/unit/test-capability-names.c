/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>

#include "capability-names.h"
#include "macro.h"

static int failures;

#define CHECK(cond)                                                                     \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
                        failures++;                                                     \
                }                                                                       \
        } while (0)

static void expect_normalized(const char *in, const char *out) {
        char *n = NULL;
        int r = capability_normalize(in, &n);
        if (out ? r < 0 || !streq(n, out) : r >= 0) {
                fprintf(stderr, "FAIL: \"%s\" → r=%d \"%s\"\n", in, r, n ?: "");
                failures++;
        }
        free(n);
}

int main(void) {
        /* The table is the kernel's numbering. */
        CHECK(CAPABILITY_LAST == CAP_LAST_CAP);
        CHECK(capability_from_name("NET_ADMIN") == CAP_NET_ADMIN);
        CHECK(capability_from_name("cap_sys_admin") == CAP_SYS_ADMIN);
        CHECK(capability_from_name("Checkpoint_Restore") == CAP_CHECKPOINT_RESTORE);
        CHECK(capability_from_name("AUDIT_READ") == CAP_AUDIT_READ);
        CHECK(capability_from_name("ALL") < 0);
        CHECK(capability_from_name("12") < 0);
        CHECK(capability_from_name("") < 0);
        CHECK(streq(capability_to_name(CAP_MKNOD), "CAP_MKNOD"));
        CHECK(capability_to_name(CAPABILITY_LAST + 1) == NULL);

        expect_normalized("net_admin", "CAP_NET_ADMIN");
        expect_normalized("CAP_NET_ADMIN", "CAP_NET_ADMIN");
        expect_normalized("all", "ALL");
        expect_normalized("CAP_ALL", NULL);
        expect_normalized("NET_FOO", NULL);
        expect_normalized("CAP_", NULL);

        char *chown[] = { (char *) "CAP_CHOWN", NULL }, *all[] = { (char *) "ALL", NULL },
             *net_admin[] = { (char *) "CAP_NET_ADMIN", NULL };
        CHECK(capabilities_effective(NULL, NULL, false) == capabilities_default);
        CHECK(capabilities_effective(NULL, NULL, true) == CAPABILITIES_ALL);
        CHECK(capabilities_effective(NULL, chown, false) == (capabilities_default & ~(1ULL << CAP_CHOWN)));
        CHECK(capabilities_effective(net_admin, NULL, false) == (capabilities_default | 1ULL << CAP_NET_ADMIN));
        CHECK(capabilities_effective(chown, all, false) == 1ULL << CAP_CHOWN);
        CHECK(capabilities_effective(NULL, all, false) == 0);
        CHECK(capabilities_effective(all, chown, false) == (CAPABILITIES_ALL & ~(1ULL << CAP_CHOWN)));
        /* Dropped and added: added wins, as in Docker. */
        CHECK(capabilities_effective(chown, chown, false) == capabilities_default);
        CHECK(capabilities_effective(NULL, all, true) == CAPABILITIES_ALL);
        /* Docker's default set, as moby oci/caps/defaults.go lists it. */
        CHECK(capabilities_default == 0xa80425fbULL);

        if (failures)
                return 1;
        printf("all capability name tests passed\n");
        return 0;
}
