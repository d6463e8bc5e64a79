/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Record a tar-split file while extracting, replay it, and compare with the original bytes. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "macro.h"
#include "tar-extract.h"
#include "tar-split.h"
#include "tests.h"
#include "util.h"

typedef struct Entry {
        const char *path;
        mode_t type;
        const char *data; /* content, or link target */
        bool hardlink;
        int64_t size; /* -1: strlen(data) */
} Entry;

/* A tar built by libarchive in the given format (and filter), plus trailing bytes when asked. */
static int make_tar(int format, int filter, const Entry *entries, size_t n, const char *trailer) {
        int fd = memfd_create("tar", MFD_CLOEXEC);
        struct archive *a = archive_write_new();

        ASSERT(fd >= 0 && a);
        ASSERT(archive_write_set_format(a, format) == ARCHIVE_OK);
        ASSERT(archive_write_add_filter(a, filter) == ARCHIVE_OK);
        ASSERT(archive_write_open_fd(a, fd) == ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                size_t len = entries[i].data && entries[i].type == AE_IFREG && !entries[i].hardlink
                        ? strlen(entries[i].data)
                        : 0;
                archive_entry_set_pathname(e, entries[i].path);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_mtime(e, 1700000000, 0);
                if (entries[i].hardlink)
                        archive_entry_set_hardlink(e, entries[i].data);
                else {
                        archive_entry_set_filetype(e, entries[i].type);
                        if (entries[i].type == AE_IFLNK)
                                archive_entry_set_symlink(e, entries[i].data);
                }
                archive_entry_set_size(e, (int64_t) len);
                ASSERT(archive_write_header(a, e) == ARCHIVE_OK);
                if (len > 0)
                        ASSERT(archive_write_data(a, entries[i].data, len) == (la_ssize_t) len);
                archive_entry_free(e);
        }
        ASSERT(archive_write_close(a) == ARCHIVE_OK);
        archive_write_free(a);
        if (trailer)
                ASSERT(write(fd, trailer, strlen(trailer)) == (ssize_t) strlen(trailer));
        ASSERT(lseek(fd, 0, SEEK_SET) == 0);
        return fd;
}

/* All bytes of fd, decompressed when compressed. */
static char *slurp(int fd, size_t *ret_len) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        char *buf = NULL;
        size_t len = 0;

        ASSERT(a && lseek(fd, 0, SEEK_SET) == 0);
        ASSERT(archive_read_support_filter_all(a) == ARCHIVE_OK && archive_read_support_format_raw(a) == ARCHIVE_OK);
        ASSERT(archive_read_open_fd(a, fd, 4096) == ARCHIVE_OK && archive_read_next_header(a, &e) == ARCHIVE_OK);
        for (;;) {
                char chunk[4096];
                la_ssize_t k = archive_read_data(a, chunk, sizeof(chunk));
                ASSERT(k >= 0);
                if (k == 0)
                        break;
                buf = realloc(buf, len + (size_t) k);
                ASSERT(buf);
                memcpy(buf + len, chunk, (size_t) k);
                len += (size_t) k;
        }
        archive_read_free(a);
        *ret_len = len;
        return buf;
}

/* Extract with recording into a fresh directory; returns whether a split file was kept, and with
 * one, checks the replay gives the stream again. */
static bool no_openat2; /* round_trip() replays in a child where openat2() fails with ENOSYS */

/* As on Linux < 5.6. */
static void forbid_openat2(void) {
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = ELEMENTSOF(filter), .filter = filter };
        ASSERT(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        ASSERT(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0);
}

static int replay(int split_fd, int root_fd, int out, char hex[SHA256_HEX_LEN + 1], uint64_t *size, char **error) {
        int pipefd[2];

        if (!no_openat2)
                return tar_split_replay(split_fd, root_fd, out, hex, size, error);
        ASSERT(pipe(pipefd) == 0);
        pid_t pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
                char h[SHA256_HEX_LEN + 1] = {};
                uint64_t n = 0;
                forbid_openat2();
                int r = tar_split_replay(split_fd, root_fd, out, h, &n, NULL);
                ASSERT(write(pipefd[1], &r, sizeof(r)) == sizeof(r) && write(pipefd[1], h, sizeof(h)) == sizeof(h) &&
                       write(pipefd[1], &n, sizeof(n)) == sizeof(n));
                _exit(0);
        }
        int r = -EIO, status;
        char h[SHA256_HEX_LEN + 1];
        uint64_t n;
        close(pipefd[1]);
        ASSERT(read(pipefd[0], &r, sizeof(r)) == sizeof(r) && read(pipefd[0], h, sizeof(h)) == sizeof(h) &&
               read(pipefd[0], &n, sizeof(n)) == sizeof(n));
        close(pipefd[0]);
        ASSERT(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
        if (hex)
                memcpy(hex, h, sizeof(h));
        if (size)
                *size = n;
        if (r < 0 && error)
                *error = strdup("(in the child)");
        return r;
}

static bool round_trip(int tar_fd, bool expect_same) {
        char dir[] = "/tmp/test-tar-split-XXXXXX";
        _cleanup_free_ char *error = NULL, *orig = NULL, *again = NULL, *diff = NULL;
        size_t orig_len, again_len;
        TarExtractResult result = {};
        bool kept;

        ASSERT(mkdtemp(dir));
        ASSERT(asprintf(&diff, "%s/diff", dir) >= 0 && mkdir(diff, 0755) == 0);
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int difffd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT(dirfd >= 0 && difffd >= 0);
        CHECK_INT(tar_extract_split(tar_fd, difffd, 0, dirfd, TAR_SPLIT_FILE, &result, &error), 0);
        if (error)
                printf("  %s\n", error);

        _cleanup_close_ int split_fd = openat(dirfd, TAR_SPLIT_FILE, O_RDONLY | O_CLOEXEC);
        kept = split_fd >= 0;
        if (kept) {
                _cleanup_close_ int out = memfd_create("replay", MFD_CLOEXEC);
                char hex[SHA256_HEX_LEN + 1];
                uint64_t size = 0;
                ASSERT(out >= 0);
                CHECK_INT(replay(split_fd, difffd, out, hex, &size, &error), 0);
                if (error)
                        printf("  %s\n", error);
                orig = slurp(tar_fd, &orig_len);
                ASSERT(lseek(out, 0, SEEK_SET) == 0);
                struct stat st;
                ASSERT(fstat(out, &st) == 0);
                again_len = (size_t) st.st_size;
                again = malloc(again_len + 1);
                ASSERT(again && read(out, again, again_len) == (ssize_t) again_len);
                CHECK_INT(again_len, orig_len);
                CHECK_INT(size, orig_len);
                CHECK(again_len == orig_len && memcmp(again, orig, orig_len) == 0);
                char want[SHA256_HEX_LEN + 1];
                ASSERT(sha256_hex_of(orig, orig_len, want) == 0);
                CHECK_STR(hex, want);
                CHECK_STR(result.diff_digest, want);
                CHECK_INT(result.diff_size, orig_len);
                if (expect_same)
                        CHECK_STR(hex, result.digest); /* uncompressed: the diff id is the blob's digest */

                /* A file changed on disk: the replay refuses rather than making other bytes. */
                _cleanup_close_ int f = openat(difffd, "a/file", O_WRONLY | O_APPEND | O_CLOEXEC);
                if (f >= 0) {
                        _cleanup_close_ int out2 = memfd_create("replay2", MFD_CLOEXEC);
                        ASSERT(write(f, "x", 1) == 1);
                        free(error);
                        error = NULL;
                        CHECK_INT(replay(split_fd, difffd, out2, NULL, NULL, &error), -ESTALE);
                        CHECK(error && (no_openat2 || strstr(error, "a/file")));
                }
        }
        ASSERT(rm_rf(dir) >= 0);
        return kept;
}

static const Entry tree[] = {
        { "a/", AE_IFDIR, NULL, false, 0 },
        { "a/file", AE_IFREG, "hello\n", false, 0 },
        { "a/empty", AE_IFREG, "", false, 0 },
        { "a/link", AE_IFLNK, "../etc/passwd", false, 0 },
        { "a/hard", AE_IFREG, "a/file", true, 0 },
        { "a/.wh.gone", AE_IFREG, "", false, 0 },
        { "a/sub/.wh..wh..opq", AE_IFREG, "", false, 0 },
        { "a/this-is-a-very-long-directory-name-that-does-not-fit-the-ustar-name-field-at-all/"
          "and-this-is-a-long-file-name-beneath-it-too-which-makes-it-longer-still.txt",
          AE_IFREG, "long name content, a bit more than nothing", false, 0 },
        { "b/big", AE_IFREG,
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          false, 0 },
};

static void test_formats(void) {
        static const int formats[] = { ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE,
                                       ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FORMAT_TAR_USTAR };
        for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
                /* ustar can't hold the long name: leave that entry out there. */
                size_t n = ELEMENTSOF(tree) - (formats[i] == ARCHIVE_FORMAT_TAR_USTAR ? 2 : 0);
                _cleanup_close_ int fd = make_tar(formats[i], ARCHIVE_FILTER_NONE, tree, n, NULL);
                CHECK(round_trip(fd, true));
        }
}

/* The same without openat2(): the fallback walk. */
static void test_formats_without_openat2(void) {
        no_openat2 = true;
        test_formats();
        no_openat2 = false;
}

static void test_compressed_and_trailer(void) {
        _cleanup_close_ int gz = make_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, tree,
                                          ELEMENTSOF(tree), NULL);
        CHECK(round_trip(gz, false));
        _cleanup_close_ int zst = make_tar(ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FILTER_ZSTD, tree, ELEMENTSOF(tree),
                                           NULL);
        CHECK(round_trip(zst, false));
        /* Bytes after the end-of-archive blocks are part of the stream, and of its digest. */
        _cleanup_close_ int tr = make_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, tree,
                                          ELEMENTSOF(tree), "trailing garbage");
        CHECK(round_trip(tr, true));
}

static void test_not_recorded(void) {
        /* The same path with content twice: the first file is gone, no split. */
        static const Entry twice[] = {
                { "f", AE_IFREG, "one", false, 0 },
                { "f", AE_IFREG, "two", false, 0 },
        };
        _cleanup_close_ int fd = make_tar(ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_NONE, twice, 2, NULL);
        CHECK(!round_trip(fd, true));

        /* A file later whited out by a directory of the same name. */
        static const Entry replaced[] = {
                { "d", AE_IFREG, "data", false, 0 },
                { "d/", AE_IFDIR, NULL, false, 0 },
        };
        _cleanup_close_ int fd2 = make_tar(ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_NONE, replaced, 2, NULL);
        CHECK(!round_trip(fd2, true));
}

/* Raw blocks, for what libarchive's writer never makes. size_field: NULL for octal of size. */
static size_t raw_header(uint8_t *b, const char *name, char type, uint64_t size, const uint8_t *size_field,
                         const char *link) {
        unsigned sum = 0;

        memset(b, 0, 512);
        strncpy((char *) b, name, 100);
        memcpy(b + 100, "0000644", 7);
        memcpy(b + 108, "0000000", 7);
        memcpy(b + 116, "0000000", 7);
        if (size_field)
                memcpy(b + 124, size_field, 12);
        else
                snprintf((char *) b + 124, 12, "%011llo", (unsigned long long) size);
        memcpy(b + 136, "14000000000", 11);
        b[156] = (uint8_t) type;
        if (link)
                strncpy((char *) b + 157, link, 100);
        memcpy(b + 257, "ustar\00000", 8);
        memset(b + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++)
                sum += b[i];
        snprintf((char *) b + 148, 8, "%06o", sum);
        return 512;
}

/* data padded to a block */
static size_t raw_data(uint8_t *b, const char *data, size_t len) {
        size_t padded = (len + 511) / 512 * 512;
        memset(b, 0, padded);
        memcpy(b, data, len);
        return padded;
}

static int raw_tar(const uint8_t *b, size_t len) {
        int fd = memfd_create("raw", MFD_CLOEXEC);
        ASSERT(fd >= 0 && write(fd, b, len) == (ssize_t) len && lseek(fd, 0, SEEK_SET) == 0);
        return fd;
}

static void test_raw_headers(void) {
        static uint8_t b[64 * 512];
        static const char pax_size[] = "9 size=5\n";
        const uint8_t base256[12] = { 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5 };
        size_t n;

        /* An empty pax header, then a file. */
        n = raw_header(b, "PaxHeaders/f", 'x', 0, NULL, NULL);
        n += raw_header(b + n, "f", '0', 5, NULL, NULL);
        n += raw_data(b + n, "hello", 5);
        memset(b + n, 0, 1024);
        _cleanup_close_ int fd1 = raw_tar(b, n + 1024);
        CHECK(round_trip(fd1, true));

        /* The size in base-256, and in a pax record overriding a ustar size of 0. */
        n = raw_header(b, "g", '0', 0, base256, NULL);
        n += raw_data(b + n, "hello", 5);
        n += raw_header(b + n, "PaxHeaders/h", 'x', strlen(pax_size), NULL, NULL);
        n += raw_data(b + n, pax_size, strlen(pax_size));
        n += raw_header(b + n, "h", '0', 0, NULL, NULL);
        n += raw_data(b + n, "world", 5);
        memset(b + n, 0, 1024);
        _cleanup_close_ int fd2 = raw_tar(b, n + 1024);
        CHECK(round_trip(fd2, true));

        /* Data behind a symlink: libarchive reads it as the next header; no split, and no hang. */
        n = raw_header(b, "l", '2', 512, NULL, "target");
        n += raw_header(b + n, "f", '0', 0, NULL, NULL);
        memset(b + n, 0, 1024);
        _cleanup_close_ int fd3 = raw_tar(b, n + 1024);
        CHECK(!round_trip(fd3, true));

        /* A global pax header with a size. */
        n = raw_header(b, "g", 'g', strlen(pax_size), NULL, NULL);
        n += raw_data(b + n, pax_size, strlen(pax_size));
        n += raw_header(b + n, "f", '0', 5, NULL, NULL);
        n += raw_data(b + n, "hello", 5);
        memset(b + n, 0, 1024);
        _cleanup_close_ int fd4 = raw_tar(b, n + 1024);
        CHECK(!round_trip(fd4, true));
}

static void test_corrupt_split(void) {
        char dir[] = "/tmp/test-tar-split-XXXXXX";
        ASSERT(mkdtemp(dir));
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int bad = memfd_create("bad", MFD_CLOEXEC), out = memfd_create("out", MFD_CLOEXEC);
        _cleanup_free_ char *error = NULL;
        ASSERT(dirfd >= 0 && bad >= 0 && out >= 0 && write(bad, "nonsense", 8) == 8);
        CHECK_INT(tar_split_replay(bad, dirfd, out, NULL, NULL, &error), -EBADMSG);
        CHECK(error != NULL);
        ASSERT(rm_rf(dir) >= 0);
}

int main(void) {
        TEST(test_formats);
        TEST(test_formats_without_openat2);
        TEST(test_compressed_and_trailer);
        TEST(test_not_recorded);
        TEST(test_raw_headers);
        TEST(test_corrupt_split);
        return tests_exit_status();
}
