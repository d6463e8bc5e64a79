/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Extracts arbitrary bytes into a fresh directory and checks that nothing appeared outside of it:
 * not beside it, not in its parent, and not in the fixed sentinel directory the seed corpus aims
 * symlinks at. */

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
#include "util.h"

/* Seeds in corpus-tar-extract/ point absolute symlinks and hard links here. */
#define VICTIM_DIR "/tmp/berth-fuzz-victim"

static char *base; /* per process: <tmp>/fuzz-tar-extract-XXXXXX, holds only "root" */
static int basefd = -1;

static void cleanup_victim(void) {
        (void) rmdir(VICTIM_DIR);
}

static void cleanup_base(void) {
        (void) rmdir(base);
}

/* Shared by concurrent runs: whoever creates it removes it at exit (if still empty), so recreate it
 * whenever it went missing. */
static void ensure_victim(void) {
        static bool registered = false;
        struct stat st;

        for (;;) {
                if (mkdir(VICTIM_DIR, 0755) >= 0 && !registered) {
                        atexit(cleanup_victim);
                        registered = true;
                }
                if (lstat(VICTIM_DIR, &st) >= 0) {
                        require(S_ISDIR(st.st_mode));
                        return;
                }
                require(errno == ENOENT);
        }
}

static void setup(void) {
        const char *tmp = getenv("TMPDIR") ?: "/tmp";

        if (base)
                return;
        require(asprintf(&base, "%s/fuzz-tar-extract-XXXXXX", tmp) > 0);
        require(mkdtemp(base));
        basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        require(basefd >= 0);
        atexit(cleanup_base);
}

/* Entries of dirfd/path other than "." and ".."; if only is set, anything else aborts. */
static size_t count_entries(int dirfd, const char *path, const char *only) {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t n = 0;
        DIR *d;

        require(fd >= 0);
        d = fdopendir(fd);
        require(d);
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (only && !streq(de->d_name, only)) {
                        fprintf(stderr, "escaped: '%s' appeared in %s\n", de->d_name, path);
                        abort();
                }
                n++;
        }
        closedir(d);
        return n;
}

static void check_victim(void) {
        int fd = open(VICTIM_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d;

        if (fd < 0) {
                /* Removed by a concurrent run in the meantime: then nothing had been written into it. */
                require(errno == ENOENT);
                return;
        }
        d = fdopendir(fd);
        require(d);
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        fprintf(stderr, "escaped: '%s' appeared in " VICTIM_DIR "\n", de->d_name);
                        abort();
                }
        closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int input = -1, destfd = -1;
        _cleanup_free_ char *error = NULL;
        TarExtractResult result = {};
        int r;

        setup();
        ensure_victim();

        input = fuzz_memfd("fuzz-tar-extract", data, size);

        require(mkdirat(basefd, "root", 0755) >= 0);
        require(mkdirat(basefd, "root/dest", 0755) >= 0);
        destfd = openat(basefd, "root/dest", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        require(destfd >= 0);

        r = tar_extract(input, destfd, &result, &error);
        if (r >= 0) {
                char hex[SHA256_HEX_LEN + 1];

                require(!error);
                require(sha256_hex_of(data, size, hex) == 0);
                require(streq(hex, result.digest));
                require(result.size == size);
        } else
                require(error || r == -ENOMEM);

        count_entries(basefd, ".", "root");
        count_entries(basefd, "root", "dest");
        check_victim();

        destfd = safe_close(destfd);
        fuzz_force_remove(basefd, "root");
        return 0;
}
