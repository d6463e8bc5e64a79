/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Extracts arbitrary bytes with a tar-split recorder; when a split file was kept, its replay must give
 * the uncompressed stream again, byte for byte. The same bytes also go to the replayer as a split file,
 * which must fail cleanly (or succeed) and never read outside of the directory it is given. */

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fuzz.h"
#include "macro.h"
#include "tar-extract.h"
#include "tar-split.h"
#include "util.h"

static char *base;
static int basefd = -1;

static void cleanup_base(void) {
        (void) rmdir(base);
}

static void setup(void) {
        const char *tmp = getenv("TMPDIR") ?: "/tmp";

        if (base)
                return;
        require(asprintf(&base, "%s/fuzz-tar-split-XXXXXX", tmp) > 0);
        require(mkdtemp(base));
        basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        require(basefd >= 0);
        atexit(cleanup_base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int input = fuzz_memfd("fuzz-tar-split", data, size), rootfd = -1, destfd = -1, split = -1,
                            out = -1;
        _cleanup_free_ char *error = NULL;
        TarExtractResult result = {};
        char hex[SHA256_HEX_LEN + 1];
        uint64_t n = 0;
        int r;

        setup();
        require(mkdirat(basefd, "root", 0755) >= 0);
        require(mkdirat(basefd, "root/dest", 0755) >= 0);
        rootfd = openat(basefd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        destfd = openat(basefd, "root/dest", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        require(rootfd >= 0 && destfd >= 0);

        r = tar_extract_split(input, destfd, 0, rootfd, TAR_SPLIT_FILE, &result, &error);
        split = openat(rootfd, TAR_SPLIT_FILE, O_RDONLY | O_CLOEXEC);
        if (r < 0)
                require(split < 0);
        if (split >= 0) {
                out = memfd_create("replay", MFD_CLOEXEC);
                require(out >= 0);
                error = mfree(error);
                r = tar_split_replay(split, destfd, out, hex, &n, &error);
                if (r < 0)
                        fprintf(stderr, "replay failed: %s\n", error ?: "(no message)");
                require(r >= 0);
                require(streq(hex, result.diff_digest));
                if (streq(result.digest, result.diff_digest)) {
                        /* Not compressed: the stream is the input. */
                        require(n == size);
                        void *p = mmap(NULL, size ?: 1, PROT_READ, MAP_SHARED, out, 0);
                        require(p != MAP_FAILED);
                        require(size == 0 || memcmp(p, data, size) == 0);
                        munmap(p, size ?: 1);
                }
                out = safe_close(out);
                split = safe_close(split);
        }

        /* The input as a split file, replayed against what was extracted (if anything). */
        out = memfd_create("replay2", MFD_CLOEXEC);
        require(out >= 0);
        error = mfree(error);
        r = tar_split_replay(input, destfd, out, NULL, NULL, &error);
        require(r >= 0 || error || r == -ENOMEM);

        destfd = safe_close(destfd);
        rootfd = safe_close(rootfd);
        fuzz_force_remove(basefd, "root");
        return 0;
}
