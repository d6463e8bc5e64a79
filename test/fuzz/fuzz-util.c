/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the fuzz targets share: their inputs as memfds, and cleaning up what an archive left. */

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "macro.h"
#include "util.h"

int fuzz_memfd(const char *name, const uint8_t *data, size_t size) {
        int fd = memfd_create(name, MFD_CLOEXEC);
        require(fd >= 0);
        require(loop_write(fd, data, size) == 0);
        require(lseek(fd, 0, SEEK_SET) == 0);
        return fd;
}

void fuzz_force_remove(int dirfd, const char *name) {
        struct stat st;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return;
        if (S_ISDIR(st.st_mode)) {
                (void) fchmodat(dirfd, name, 0700, 0);
                int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0) {
                        DIR *d = fdopendir(fd);
                        require(d);
                        for (struct dirent *de; (de = readdir(d));)
                                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                        fuzz_force_remove(fd, de->d_name);
                        closedir(d);
                }
                require(unlinkat(dirfd, name, AT_REMOVEDIR) >= 0);
        } else
                require(unlinkat(dirfd, name, 0) >= 0);
}
