/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "capability-names.h"
#include "macro.h"
#include "seccomp-profile.h"

static int failures;

/* 'want' NULL: the profile compiles; else it is refused with a message containing 'want'. */
static void expect(const char *profile, uint64_t caps, const char *want) {
        _cleanup_free_ char *message = NULL;
        _cleanup_close_ int fd = -1;
        int r = seccomp_compile(profile, caps, &fd, &message);
        struct stat st;
        bool ok = want ? r == -EINVAL && message && strstr(message, want)
                       : r == 0 && fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size % 8 == 0;
        if (!ok) {
                fprintf(stderr, "FAIL: %.60s… → r=%d message=%s\n", profile ?: "(default)", r, message ?: "(none)");
                failures++;
        }
}

int main(void) {
        expect(NULL, capabilities_default, NULL);
        expect(NULL, CAPABILITIES_ALL, NULL);
        expect("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", capabilities_default, NULL);
        expect("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1, \"archMap\": [{\"architecture\": "
               "\"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]}, "
               "{\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": [\"SCMP_ARCH_ARM\"]}], "
               "\"syscalls\": [{\"names\": [\"read\", \"write\", \"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"}, "
               "{\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": "
               "2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}], \"excludes\": {\"caps\": "
               "[\"CAP_SYS_ADMIN\"]}}, {\"names\": [\"clone3\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}, "
               "{\"names\": [\"set_tls\", \"cacheflush\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": "
               "{\"arches\": [\"arm\", \"arm64\"]}}, {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", "
               "\"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 8, "
               "\"op\": \"SCMP_CMP_EQ\"}]}, {\"name\": \"kill\", \"action\": \"SCMP_ACT_LOG\"}, {\"names\": "
               "[\"ptrace\"], \"action\": \"SCMP_ACT_KILL_PROCESS\", \"includes\": {\"minKernel\": \"4.8\"}}]}",
               capabilities_default, NULL);

        expect("", capabilities_default, NULL); /* "" is the default too */
        expect("{", capabilities_default, "not a JSON object");
        expect("[]", capabilities_default, "not a JSON object");
        expect("{}", capabilities_default, "an action is missing");
        expect("{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}", capabilities_default, "unsupported action");
        expect("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": \"EPERM\"}", capabilities_default,
               "errno number");
        expect("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_PDP11\"]}",
               capabilities_default, "unknown architecture \"SCMP_ARCH_PDP11\"");
        expect("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}", capabilities_default, "must be a list");
        expect("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": \"SCMP_ACT_ERRNO\"}]}",
               capabilities_default, "has no \"names\"");
        expect("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdri\"], \"action\": "
               "\"SCMP_ACT_ERRNO\"}]}",
               capabilities_default, "unknown system call \"mkdri\"");
        /* Checked even where the entry does not apply to this container. */
        expect("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdri\"], \"action\": "
               "\"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}}]}",
               capabilities_default, "unknown system call \"mkdri\"");
        expect("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], \"action\": "
               "\"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
               capabilities_default, "index must be 0 to 5");
        expect("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], \"action\": "
               "\"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 1, \"value\": \"9\", \"op\": \"SCMP_CMP_EQ\"}]}]}",
               capabilities_default, "non-negative integer");
        expect("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], \"action\": "
               "\"SCMP_ACT_ERRNO\", \"includes\": []}]}",
               capabilities_default, "\"includes\" must be an object");

        if (failures)
                return 1;
        printf("all seccomp profile tests passed\n");
        return 0;
}
