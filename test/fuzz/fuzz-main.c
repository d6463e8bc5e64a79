/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays inputs through a fuzz target without libFuzzer, so that corpora and past crashes run as
 * ordinary tests: every argument is a file, or a directory whose regular files are all replayed. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "macro.h"
#include "util.h"

static int replay_file(int dirfd, const char *path) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "FAIL cannot open %s: %m\n", path);
                return -errno;
        }
        r = read_full_fd(fd, &data, &len);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "FAIL cannot read %s: %m\n", path);
                return r;
        }
        /* A crash or abort here is the failure; the return value of the target carries no meaning. */
        (void) LLVMFuzzerTestOneInput((const uint8_t *) data, len);
        printf("ok %s (%zu bytes)\n", path, len);
        fflush(stdout);
        return 0;
}

static int replay_dir(const char *path) {
        struct dirent **names = NULL;
        _cleanup_close_ int dfd = -1;
        int n, r = 0;

        dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        n = scandir(path, &names, NULL, alphasort);
        if (n < 0)
                return -errno;
        for (int i = 0; i < n; i++) {
                struct stat st;

                if (r >= 0 && fstatat(dfd, names[i]->d_name, &st, 0) >= 0 && S_ISREG(st.st_mode)) {
                        _cleanup_free_ char *full = NULL;

                        if (asprintf(&full, "%s/%s", path, names[i]->d_name) < 0)
                                r = -ENOMEM;
                        else
                                r = replay_file(AT_FDCWD, full);
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char *argv[]) {
        if (argc < 2) {
                fprintf(stderr, "Usage: %s FILE|DIR...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                struct stat st;
                int r;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "FAIL %s: %m\n", argv[i]);
                        return 1;
                }
                r = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(AT_FDCWD, argv[i]);
                if (r < 0) {
                        errno = -r;
                        fprintf(stderr, "FAIL %s: %m\n", argv[i]);
                        return 1;
                }
        }
        return 0;
}
