/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Applies arbitrary bytes as a layer with TAR_EXTRACT_APPLY_WHITEOUTS over a small lower tree (as the
 * btrfs driver applies a layer to a snapshot of its parent) and checks that nothing outside of the
 * destination was created or deleted: the lower tree has symlinks, absolute and relative, to a
 * directory beside the destination that holds a canary. */

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "macro.h"
#include "tar-extract.h"
#include "util.h"

static char *base; /* per process: <tmp>/fuzz-tar-apply-XXXXXX, holds only "root" */
static int basefd = -1;

static void cleanup_base(void) {
        (void) rm_rf(base);
}

static void setup(void) {
        const char *tmp = getenv("TMPDIR") ?: "/tmp";

        if (base)
                return;
        require(asprintf(&base, "%s/fuzz-tar-apply-XXXXXX", tmp) > 0);
        require(mkdtemp(base));
        basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        require(basefd >= 0);
        atexit(cleanup_base);
}

static void write_file(int dirfd, const char *path, const char *content) {
        int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        require(fd >= 0);
        require(loop_write(fd, content, strlen(content)) == 0);
        close(fd);
}

/* Entries of dirfd/path other than "." and ".."; anything but the two names aborts. */
static void check_only(int dirfd, const char *path, const char *a, const char *b) {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bool seen_a = false, seen_b = !b;
        DIR *d;

        require(fd >= 0);
        d = fdopendir(fd);
        require(d);
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (streq(de->d_name, a))
                        seen_a = true;
                else if (b && streq(de->d_name, b))
                        seen_b = true;
                else {
                        fprintf(stderr, "escaped: '%s' appeared in %s\n", de->d_name, path);
                        abort();
                }
        }
        closedir(d);
        if (!seen_a || !seen_b) {
                fprintf(stderr, "escaped: something was deleted from %s\n", path);
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int input = -1, destfd = -1;
        _cleanup_free_ char *error = NULL, *outside = NULL;
        int r;

        setup();

        input = fuzz_memfd("fuzz-tar-apply", data, size);

        /* root/outside/canary beside root/dest, which holds the "lower layers". */
        require(mkdirat(basefd, "root", 0755) >= 0);
        require(mkdirat(basefd, "root/outside", 0755) >= 0);
        write_file(basefd, "root/outside/canary", "canary\n");
        require(mkdirat(basefd, "root/dest", 0755) >= 0);
        destfd = openat(basefd, "root/dest", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        require(destfd >= 0);
        require(mkdirat(destfd, "d", 0755) >= 0);
        require(mkdirat(destfd, "d/sub", 0755) >= 0);
        write_file(destfd, "d/f", "f\n");
        write_file(destfd, "d/sub/g", "g\n");
        write_file(destfd, "top", "top\n");
        require(linkat(destfd, "top", destfd, "d/hl", 0) >= 0);
        require(asprintf(&outside, "%s/root/outside", base) > 0);
        require(symlinkat(outside, destfd, "abs") >= 0);
        require(symlinkat("../outside", destfd, "rel") >= 0);
        require(symlinkat("../../outside", destfd, "d/up") >= 0);

        r = tar_extract_full(input, destfd, TAR_EXTRACT_APPLY_WHITEOUTS, NULL, &error);
        if (r >= 0)
                require(!error);
        else
                require(error || r == -ENOMEM);

        check_only(basefd, ".", "root", NULL);
        check_only(basefd, "root", "dest", "outside");
        check_only(basefd, "root/outside", "canary", NULL);

        destfd = safe_close(destfd);
        fuzz_force_remove(basefd, "root");
        return 0;
}
