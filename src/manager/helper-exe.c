/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper-exe.h"
#include "util.h"

int helper_exe_seal(const char *path) {
        _cleanup_close_ int src = open(path, O_RDONLY | O_CLOEXEC), memfd = -1;
        struct stat st;

        if (src < 0 || fstat(src, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -ENOEXEC;
        memfd = memfd_create("berth-nspawn", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (memfd < 0)
                return -errno;
        for (off_t done = 0; done < st.st_size;) {
                ssize_t n = sendfile(memfd, src, NULL, (size_t) (st.st_size - done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                done += n;
        }
        if (fchmod(memfd, 0555) < 0 ||
            fcntl(memfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
                return -errno;
        return TAKE_FD(memfd);
}
