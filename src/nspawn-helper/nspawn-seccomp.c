/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"
#include "nspawn-seccomp.h"

int seccomp_program_read(int fd, struct sock_fprog *ret) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
            st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -EBADMSG;
        _cleanup_free_ struct sock_filter *insns = malloc((size_t) st.st_size);
        if (!insns)
                return -ENOMEM;
        /* pread: the memfd is shared with berthd and every other helper, so is its file offset. */
        for (size_t done = 0; done < (size_t) st.st_size;) {
                ssize_t n = pread(fd, (char *) insns + done, (size_t) st.st_size - done, (off_t) done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EBADMSG;
                done += (size_t) n;
        }
        *ret = (struct sock_fprog){
                .len = (unsigned short) (st.st_size / sizeof(struct sock_filter)),
                .filter = TAKE_PTR(insns),
        };
        return 0;
}

void seccomp_program_done(struct sock_fprog *p) {
        free(p->filter);
        p->filter = NULL;
        p->len = 0;
}

int seccomp_program_load(const struct sock_fprog *p) {
        if (!p || p->len == 0)
                return -ENOEXEC; /* never run a container without its filter */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, p) < 0)
                return -errno;
        return 0;
}
