/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-bus-errors.h"
#include "util.h"

static int failures;

static void check(const char *name, const char *message, const char *want) {
        sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(name, message);
        char *got = NULL;
        int r = ctl_object_gone_message(&e, &got);
        if (want ? r != 1 || strcmp(got, want) != 0 : r != 0) {
                fprintf(stderr, "FAIL: %s \"%s\": got %d \"%s\", want \"%s\"\n", name, message, r, got ?: "",
                        want ?: "(none)");
                failures++;
        }
        free(got);
}

int main(void) {
        const char *id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        char msg[256];

        snprintf(msg, sizeof(msg), "Unknown object '/org/berth1/container/%s'.", id);
        check(SD_BUS_ERROR_UNKNOWN_OBJECT, msg, "No such container: 0123456789ab");
        snprintf(msg, sizeof(msg), "Unknown interface org.berth1.Container on '/org/berth1/container/%s'.", id);
        check(SD_BUS_ERROR_UNKNOWN_INTERFACE, msg, "No such container: 0123456789ab");
        snprintf(msg, sizeof(msg), "Unknown object '/org/berth1/image/%s'.", id);
        check(SD_BUS_ERROR_UNKNOWN_OBJECT, msg, "No such image: 0123456789ab");
        /* Volume names travel escaped in their paths. */
        check(SD_BUS_ERROR_UNKNOWN_OBJECT, "Unknown object '/org/berth1/volume/my_2dvol'.", "No such volume: my-vol");
        /* Anything else is left as it is. */
        check(SD_BUS_ERROR_UNKNOWN_OBJECT, "Unknown object '/org/berth1'.", NULL);
        check(SD_BUS_ERROR_UNKNOWN_OBJECT, "Unknown object '/org/freedesktop/systemd1/unit/x'.", NULL);
        check("org.berth1.Error.NoSuchContainer", "No such container: web", NULL);
        check(SD_BUS_ERROR_UNKNOWN_OBJECT, "", NULL);
        check(SD_BUS_ERROR_ACCESS_DENIED, "Unknown object '/org/berth1/container/abc'.", NULL);
        if (failures == 0)
                printf("ctl-bus-errors: all passed\n");
        return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
