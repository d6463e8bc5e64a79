/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "macro.h"
#include "tar-extract.h"
#include "tar-write.h"
#include "tests.h"
#include "util.h"

static char *make_tree(void) {
        char *dir = strdup("/tmp/test-tar-write-XXXXXX");
        ASSERT(dir && mkdtemp(dir));
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT(fd >= 0);
        ASSERT(mkdirat(fd, "d", 0750) == 0);
        ASSERT(mkdirat(fd, "d/e", 0755) == 0);
        int f = openat(fd, "d/e/file", O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
        ASSERT(f >= 0 && write(f, "hello\n", 6) == 6);
        close(f);
        ASSERT(linkat(fd, "d/e/file", fd, "hard", 0) == 0);
        ASSERT(symlinkat("../etc/passwd", fd, "link") == 0);
        ASSERT(mkfifoat(fd, "fifo", 0600) == 0);
        /* A file with a whiteout's name is a file in a tree of files. */
        f = openat(fd, "d/.wh.x", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT(f >= 0);
        close(f);
        close(fd);
        return dir;
}

/* "type path[ -> link]" of every entry, in order. */
static char *list_archive(int fd) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        _cleanup_free_ char *out = strdup("");

        ASSERT(a && out && lseek(fd, 0, SEEK_SET) == 0);
        ASSERT(archive_read_support_format_tar(a) == ARCHIVE_OK);
        ASSERT(archive_read_open_fd(a, fd, 4096) == ARCHIVE_OK);
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                char *n = NULL;
                const char *link = archive_entry_hardlink(e) ?: archive_entry_symlink(e);
                char type = archive_entry_hardlink(e)           ? 'h'
                        : archive_entry_filetype(e) == AE_IFDIR ? 'd'
                        : archive_entry_filetype(e) == AE_IFLNK ? 'l'
                        : archive_entry_filetype(e) == AE_IFIFO ? 'p'
                                                                : 'f';
                ASSERT(asprintf(&n, "%s%c %s%s%s\n", out, type, archive_entry_pathname(e), link ? " -> " : "",
                                link ?: "") >= 0);
                free(out);
                out = n;
        }
        archive_read_free(a);
        return TAKE_PTR(out);
}

static void test_tree_and_round_trip(void) {
        _cleanup_free_ char *dir = make_tree(), *listing = NULL, *error = NULL, *again = NULL;
        _cleanup_close_ int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int out = memfd_create("tar", MFD_CLOEXEC), out2 = memfd_create("tar2", MFD_CLOEXEC);
        struct stat st1, st2;

        ASSERT(dir_fd >= 0 && out >= 0 && out2 >= 0);
        CHECK_INT(tar_write_tree(dir_fd, out, &error), 0);
        listing = list_archive(out);
        CHECK_STR(listing,
                  "d d/\n"
                  "f d/.wh.x\n"
                  "d d/e/\n"
                  "f d/e/file\n"
                  "p fifo\n"
                  "h hard -> d/e/file\n"
                  "l link -> ../etc/passwd\n");

        /* Deterministic: the same tree gives the same bytes. */
        CHECK_INT(tar_write_tree(dir_fd, out2, &error), 0);
        ASSERT(fstat(out, &st1) == 0 && fstat(out2, &st2) == 0);
        CHECK_INT(st1.st_size, st2.st_size);
        CHECK(st1.st_size % 512 == 0);

        /* One entry, renamed; a directory recursively. */
        _cleanup_close_ int one = memfd_create("one", MFD_CLOEXEC);
        CHECK_INT(tar_write_entry(dir_fd, "d", "copy", one, &error), 0);
        again = list_archive(one);
        CHECK_STR(again, "d copy/\nf copy/.wh.x\nd copy/e/\nf copy/e/file\n");

        /* Extracted as files, ".wh.x" stays a file and everything comes back. */
        char dest[] = "/tmp/test-tar-write-dest-XXXXXX";
        ASSERT(mkdtemp(dest));
        _cleanup_close_ int dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT(dest_fd >= 0 && lseek(out, 0, SEEK_SET) == 0);
        free(error);
        error = NULL;
        CHECK_INT(tar_extract_full(out, dest_fd, TAR_EXTRACT_LITERAL_NAMES, NULL, &error), 0);
        CHECK(fstatat(dest_fd, "d/.wh.x", &st1, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st1.st_mode));
        CHECK(fstatat(dest_fd, "d", &st1, AT_SYMLINK_NOFOLLOW) == 0 && (st1.st_mode & 07777) == 0750);
        CHECK(fstatat(dest_fd, "hard", &st1, 0) == 0 && fstatat(dest_fd, "d/e/file", &st2, 0) == 0 &&
              st1.st_ino == st2.st_ino && st1.st_size == 6);
        CHECK(fstatat(dest_fd, "fifo", &st1, AT_SYMLINK_NOFOLLOW) == 0 && S_ISFIFO(st1.st_mode));
        (void) rm_rf(dest);
        (void) rm_rf(dir);
}

/* Overlay whiteouts (root only: mknod of 0/0, trusted.* xattrs) become OCI ones. */
static void test_whiteouts(void) {
        if (geteuid() != 0) {
                printf("skip test_whiteouts (not root)\n");
                return;
        }
        char dir[] = "/tmp/test-tar-write-wh-XXXXXX";
        ASSERT(mkdtemp(dir));
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int out = memfd_create("tar", MFD_CLOEXEC);
        _cleanup_free_ char *error = NULL, *listing = NULL;
        ASSERT(fd >= 0 && out >= 0);
        ASSERT(mkdirat(fd, "opq", 0755) == 0);
        ASSERT(mknodat(fd, "gone", S_IFCHR | 0, makedev(0, 0)) == 0);
        _cleanup_close_ int opq = openat(fd, "opq", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fsetxattr(opq, "trusted.overlay.opaque", "y", 1, 0) < 0) {
                printf("skip test_whiteouts (no trusted xattrs here: %m)\n");
                (void) rm_rf(dir);
                return;
        }
        CHECK_INT(tar_write_tree(fd, out, &error), 0);
        listing = list_archive(out);
        CHECK_STR(listing, "f .wh.gone\nd opq/\nf opq/.wh..wh..opq\n");
        (void) rm_rf(dir);
}

int main(void) {
        TEST(test_tree_and_round_trip);
        TEST(test_whiteouts);
        return tests_exit_status();
}
