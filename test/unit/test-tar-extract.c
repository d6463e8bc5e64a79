/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "digest.h"
#include "macro.h"
#include "tar-extract.h"
#include "tests.h"
#include "util.h"

#define MTIME 1600000000

/* ---- building archives in memory ---- */

typedef struct Builder {
        struct archive *a;
        int fd;
} Builder;

static bool have_utf8_locale;

static Builder builder_new(bool gzip) {
        Builder b = { .fd = memfd_create("test-tar", MFD_CLOEXEC) };

        /* Write names as UTF-8 pax records, as image builders do; extraction runs in the C locale. */
        have_utf8_locale = setlocale(LC_CTYPE, "C.UTF-8");

        ASSERT(b.fd >= 0);
        b.a = archive_write_new();
        ASSERT(b.a);
        ASSERT(archive_write_set_format_pax(b.a) == ARCHIVE_OK);
        if (gzip)
                ASSERT(archive_write_add_filter_gzip(b.a) == ARCHIVE_OK);
        ASSERT(archive_write_open_fd(b.a, b.fd) == ARCHIVE_OK);
        return b;
}

typedef struct Entry {
        const char *path;
        unsigned type; /* AE_IF*, ignored for hard links */
        unsigned perm;
        const char *data; /* regular files */
        size_t size; /* when data has NULs or is generated; else strlen(data) */
        const char *link; /* symlink target */
        const char *hardlink;
        dev_t rdev;
        int64_t uid, gid; /* -1: our own */
        time_t mtime; /* 0: MTIME */
        long mtime_nsec;
} Entry;

static void builder_add(Builder *b, const Entry *e) {
        struct archive_entry *ae = archive_entry_new();
        size_t size = e->data ? (e->size ?: strlen(e->data)) : 0;

        ASSERT(ae);
        archive_entry_set_pathname(ae, e->path);
        archive_entry_set_uid(ae, e->uid > 0 ? e->uid : (e->uid == 0 ? 0 : (int64_t) getuid()));
        archive_entry_set_gid(ae, e->gid > 0 ? e->gid : (e->gid == 0 ? 0 : (int64_t) getgid()));
        archive_entry_set_mtime(ae, e->mtime ?: MTIME, e->mtime_nsec);
        if (e->hardlink) {
                archive_entry_set_filetype(ae, AE_IFREG);
                archive_entry_set_perm(ae, 0644);
                archive_entry_set_hardlink(ae, e->hardlink);
                archive_entry_set_size(ae, 0);
        } else {
                archive_entry_set_filetype(ae, e->type);
                archive_entry_set_perm(ae, e->perm);
                if (e->link)
                        archive_entry_set_symlink(ae, e->link);
                if (e->type == AE_IFCHR || e->type == AE_IFBLK)
                        archive_entry_set_rdev(ae, e->rdev);
                archive_entry_set_size(ae, e->type == AE_IFREG ? (int64_t) size : 0);
        }
        int r = archive_write_header(b->a, ae);
        if (r != ARCHIVE_OK)
                printf("# archive_write_header(%s): %d %s\n", e->path, r, archive_error_string(b->a));
        ASSERT(r == ARCHIVE_OK);
        if (size > 0)
                ASSERT(archive_write_data(b->a, e->data, size) == (la_ssize_t) size);
        archive_entry_free(ae);
}

/* Use -1 for "our own" owner so the tests also pass unprivileged. */
#define ADD_FILE(p, m, d) \
        builder_add(&b, &(Entry){ .path = (p), .type = AE_IFREG, .perm = (m), .data = (d), .uid = -1, .gid = -1 })
#define ADD_DIR(p, m) builder_add(&b, &(Entry){ .path = (p), .type = AE_IFDIR, .perm = (m), .uid = -1, .gid = -1 })
#define ADD_SYMLINK(p, t) \
        builder_add(&b, &(Entry){ .path = (p), .type = AE_IFLNK, .perm = 0777, .link = (t), .uid = -1, .gid = -1 })
#define ADD_HARDLINK(p, t) builder_add(&b, &(Entry){ .path = (p), .hardlink = (t), .uid = -1, .gid = -1 })

static int builder_finish(Builder *b) {
        ASSERT(archive_write_close(b->a) == ARCHIVE_OK);
        archive_write_free(b->a);
        ASSERT(setlocale(LC_CTYPE, "C"));
        ASSERT(lseek(b->fd, 0, SEEK_SET) == 0);
        return b->fd;
}

static void fd_sha256(int fd, char hex[SHA256_HEX_LEN + 1], uint64_t *ret_size) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0;

        ASSERT(lseek(fd, 0, SEEK_SET) == 0);
        ASSERT(read_full_fd(fd, &data, &len) == 0);
        ASSERT(sha256_hex_of(data, len, hex) == 0);
        *ret_size = len;
        ASSERT(lseek(fd, 0, SEEK_SET) == 0);
}

/* ---- a scratch root: <root>/dest receives the archive, <root>/victim must stay untouched ---- */

typedef struct Env {
        char *root;
        char *victim;
        int rootfd;
        int destfd;
} Env;

static Env env_new(void) {
        const char *tmp = getenv("TMPDIR") ?: "/tmp";
        Env e = {};

        ASSERT(asprintf(&e.root, "%s/test-tar-extract-XXXXXX", tmp) > 0);
        ASSERT(mkdtemp(e.root));
        ASSERT(asprintf(&e.victim, "%s/victim", e.root) > 0);
        e.rootfd = open(e.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT(e.rootfd >= 0);
        ASSERT(mkdirat(e.rootfd, "dest", 0755) == 0);
        ASSERT(mkdirat(e.rootfd, "victim", 0755) == 0);
        int fd = openat(e.rootfd, "victim/keep", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        ASSERT(fd >= 0);
        ASSERT(write(fd, "keep", 4) == 4);
        ASSERT(fchmod(fd, 0644) == 0);
        ASSERT(futimens(fd, (const struct timespec[2]){ { 1000, 0 }, { 1000, 0 } }) == 0);
        close(fd);
        ASSERT(fchmodat(e.rootfd, "victim", 0755, 0) == 0);
        ASSERT(utimensat(e.rootfd, "victim", (const struct timespec[2]){ { 1000, 0 }, { 1000, 0 } }, 0) == 0);
        e.destfd = openat(e.rootfd, "dest", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT(e.destfd >= 0);
        return e;
}

static size_t count_dir(int dirfd, const char *path, const char *only1, const char *only2) {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t n = 0;
        DIR *d;

        ASSERT(fd >= 0);
        d = fdopendir(fd);
        ASSERT(d);
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (!(only1 && streq(de->d_name, only1)) && !(only2 && streq(de->d_name, only2)))
                        printf("# unexpected entry '%s' in %s\n", de->d_name, path);
                else
                        n++;
        }
        closedir(d);
        return n;
}

static size_t dir_size(int dirfd, const char *path) {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t n = 0;
        DIR *d;

        ASSERT(fd >= 0);
        d = fdopendir(fd);
        ASSERT(d);
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* Nothing may have appeared beside dest, and the victim must be exactly as created. */
static void env_check_untouched(Env *e) {
        struct stat st;
        char buf[16] = {};

        CHECK_INT(dir_size(e->rootfd, "."), 2);
        CHECK_INT(count_dir(e->rootfd, ".", "dest", "victim"), 2);
        CHECK_INT(dir_size(e->rootfd, "victim"), 1);
        CHECK_INT(count_dir(e->rootfd, "victim", "keep", NULL), 1);
        CHECK(fstatat(e->rootfd, "victim", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
              (st.st_mode & 07777) == 0755 && st.st_mtim.tv_sec == 1000);
        CHECK(fstatat(e->rootfd, "victim/keep", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
              (st.st_mode & 07777) == 0644 && st.st_size == 4 && st.st_nlink == 1 && st.st_mtim.tv_sec == 1000);
        int fd = openat(e->rootfd, "victim/keep", O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == 4 && streq(buf, "keep"));
        safe_close(fd);
}

static void env_free(Env *e) {
        safe_close(e->destfd);
        safe_close(e->rootfd);
        /* Make everything removable even when an archive made directories read-only. */
        _cleanup_free_ char *cmd = NULL;
        ASSERT(asprintf(&cmd, "chmod -R u+rwx '%s' 2>/dev/null", e->root) > 0);
        (void) !system(cmd);
        CHECK_INT(rm_rf(e->root), 0);
        free(e->root);
        free(e->victim);
}

static char *read_at(int dirfd, const char *path, size_t *ret_len) {
        int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        char *data = NULL;

        if (fd < 0)
                return NULL;
        if (read_full_fd(fd, &data, ret_len) < 0)
                data = NULL;
        close(fd);
        return data;
}

static bool content_is(int dirfd, const char *path, const char *expected) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0;

        data = read_at(dirfd, path, &len);
        if (!data) {
                printf("# cannot read %s\n", path);
                return false;
        }
        if (len != strlen(expected) || memcmp(data, expected, len) != 0) {
                printf("# %s has unexpected content \"%.*s\"\n", path, (int) len, data);
                return false;
        }
        return true;
}

static mode_t mode_of(int dirfd, const char *path) {
        struct stat st;

        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return (mode_t) -1;
        return st.st_mode;
}

static bool link_is(int dirfd, const char *path, const char *target) {
        char buf[PATH_MAX] = {};

        if (readlinkat(dirfd, path, buf, sizeof(buf) - 1) < 0)
                return false;
        return streq(buf, target);
}

/* ---- tar_path_is_safe() / tar_path_normalize() ---- */

static void test_path_table(void) {
        static const struct {
                const char *in, *out; /* out == NULL: unsafe */
        } table[] = {
                { "a", "a" },
                { "./a", "a" },
                { "a/", "a" },
                { "./a/b/", "a/b" },
                { "././a", "a" },
                { ".", "." },
                { "./", "." },
                { ".//./", "." },
                { "a//b", "a/b" },
                { "a/./b", "a/b" },
                { "a/b/.", "a/b" },
                { "...", "..." },
                { "..a", "..a" },
                { "a..", "a.." },
                { ".hidden", ".hidden" },
                { "a/...b/c", "a/...b/c" },
                { "a b/\n", "a b/\n" },
                { "", NULL },
                { "/", NULL },
                { "//a", NULL },
                { "/abs/evil", NULL },
                { "..", NULL },
                { "../", NULL },
                { "../evil", NULL },
                { "./../evil", NULL },
                { "a/..", NULL },
                { "a/../b", NULL },
                { "a/../../evil", NULL },
                { "a/b/..", NULL },
                { "a/b/../", NULL },
                { "a//..//b", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *n = NULL;
                int r = tar_path_normalize(table[i].in, &n);

                if (table[i].out) {
                        CHECK(tar_path_is_safe(table[i].in));
                        CHECK_INT(r, 0);
                        CHECK_STR(n, table[i].out);
                        /* Normalizing is idempotent. */
                        _cleanup_free_ char *again = NULL;
                        CHECK_INT(tar_path_normalize(n, &again), 0);
                        CHECK_STR(again, n);
                } else {
                        if (tar_path_is_safe(table[i].in))
                                printf("# \"%s\" should be unsafe\n", table[i].in);
                        CHECK(!tar_path_is_safe(table[i].in));
                        CHECK_INT(r, -EINVAL);
                        CHECK(!n);
                }
                CHECK_INT(tar_path_normalize(table[i].in, NULL), table[i].out ? 0 : -EINVAL);
        }
        CHECK(!tar_path_is_safe(NULL));
        CHECK_INT(tar_path_normalize(NULL, NULL), -EINVAL);
}

/* ---- a well-formed tree ---- */

#define BIG_SIZE (300 * 1024 + 17)

static char *big_content(void) {
        char *p = malloc(BIG_SIZE + 1);

        ASSERT(p);
        for (size_t i = 0; i < BIG_SIZE; i++)
                p[i] = (char) ('A' + (i * 31 + i / 1000) % 57);
        p[BIG_SIZE] = 0;
        return p;
}

static int build_tree(bool gzip, size_t *ret_n_entries) {
        _cleanup_free_ char *big = big_content();
        Builder b = builder_new(gzip);
        bool root = geteuid() == 0;
        size_t n = 0;

        builder_add(&b, &(Entry){ .path = "./", .type = AE_IFDIR, .perm = 0750, .uid = -1, .gid = -1, .mtime = 1111 }),
                n++;
        builder_add(
                &b,
                &(Entry){
                        .path = "./etc/", .type = AE_IFDIR, .perm = 0755, .uid = -1, .gid = -1, .mtime = 1000000000 }),
                n++;
        builder_add(&b,
                    &(Entry){ .path = "./etc/passwd",
                              .type = AE_IFREG,
                              .perm = 0644,
                              .data = "root:x:0:0::/root:/bin/sh\n",
                              .uid = -1,
                              .gid = -1,
                              .mtime = 1500000000,
                              .mtime_nsec = 500000000 }),
                n++;
        ADD_FILE("./etc/shadow", 0600, ""), n++;
        ADD_DIR("bin/", 0755), n++;
        builder_add(&b,
                    &(Entry){ .path = "bin/busybox",
                              .type = AE_IFREG,
                              .perm = 0755,
                              .data = big,
                              .size = BIG_SIZE,
                              .uid = -1,
                              .gid = -1 }),
                n++;
        ADD_SYMLINK("bin/sh", "busybox"), n++;
        ADD_HARDLINK("bin/ls", "bin/busybox"), n++;
        ADD_HARDLINK("./bin/cat", "./bin/ls"), n++;
        ADD_FILE("bin/su", 04755, "su"), n++;
        ADD_FILE("usr/bin/sgid", 02711, "sgid"), n++;
        ADD_DIR("tmp", 01777), n++;
        builder_add(&b, &(Entry){ .path = "run/fifo", .type = AE_IFIFO, .perm = 0640, .uid = -1, .gid = -1 }), n++;
        builder_add(
                &b,
                &(Entry){ .path = "ro/", .type = AE_IFDIR, .perm = 0555, .uid = -1, .gid = -1, .mtime = 1234567890 }),
                n++;
        ADD_FILE("ro/file", 0444, "r/o"), n++;
        ADD_DIR("ro/sub", 0500), n++;
        ADD_FILE("ro/sub/deeper", 0400, "deep"), n++;
        ADD_SYMLINK("abs-link", "/etc/passwd"), n++;
        ADD_SYMLINK("dangling", "../../../../nowhere"), n++;
        if (have_utf8_locale)
                ADD_FILE("sp ace/\xc3\xbc-\xc3\xb1\n", 0644, "utf8"), n++;
        ADD_FILE("./dup", 0644, "first"), n++;
        ADD_FILE("dup", 0600, "second"), n++;
        /* A duplicate directory entry: the last one wins, as with tar -x. */
        builder_add(
                &b,
                &(Entry){ .path = "etc", .type = AE_IFDIR, .perm = 0751, .uid = -1, .gid = -1, .mtime = 1000000000 }),
                n++;
        if (root) {
                builder_add(&b,
                            &(Entry){ .path = "owned",
                                      .type = AE_IFREG,
                                      .perm = 0640,
                                      .data = "o",
                                      .uid = 1234,
                                      .gid = 5678 }),
                        n++;
                builder_add(&b,
                            &(Entry){ .path = "owned-dir", .type = AE_IFDIR, .perm = 0700, .uid = 4321, .gid = 8765 }),
                        n++;
                builder_add(&b,
                            &(Entry){ .path = "owned-link",
                                      .type = AE_IFLNK,
                                      .perm = 0777,
                                      .link = "x",
                                      .uid = 11,
                                      .gid = 12 }),
                        n++;
                builder_add(&b,
                            &(Entry){ .path = "root-owned",
                                      .type = AE_IFREG,
                                      .perm = 04755,
                                      .data = "r",
                                      .uid = 0,
                                      .gid = 0 }),
                        n++;
        }
        *ret_n_entries = n;
        return builder_finish(&b);
}

static void check_tree(int dfd) {
        _cleanup_free_ char *big = big_content(), *data = NULL;
        struct stat st, st2;
        size_t len = 0;

        CHECK(fstatat(dfd, ".", &st, 0) == 0 && (st.st_mode & 07777) == 0750 && st.st_mtim.tv_sec == 1111);

        CHECK(fstatat(dfd, "etc", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
              (st.st_mode & 07777) == 0751);
        /* Directory times are applied after the entries inside were created. */
        CHECK_INT(st.st_mtim.tv_sec, 1000000000);

        /* Before reading it, which moves the atime. */
        CHECK(fstatat(dfd, "etc/passwd", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
              (st.st_mode & 07777) == 0644);
        CHECK_INT(st.st_mtim.tv_sec, 1500000000);
        CHECK_INT(st.st_mtim.tv_nsec, 500000000);
        CHECK_INT(st.st_atim.tv_sec, 1500000000);
        CHECK(content_is(dfd, "etc/passwd", "root:x:0:0::/root:/bin/sh\n"));
        CHECK_INT(st.st_uid, getuid());
        CHECK_INT(st.st_gid, getgid());

        CHECK(content_is(dfd, "etc/shadow", ""));
        CHECK_INT(mode_of(dfd, "etc/shadow"), S_IFREG | 0600);

        data = read_at(dfd, "bin/busybox", &len);
        CHECK(data && len == BIG_SIZE && memcmp(data, big, BIG_SIZE) == 0);
        CHECK_INT(mode_of(dfd, "bin/busybox"), S_IFREG | 0755);
        CHECK(fstatat(dfd, "bin/busybox", &st, AT_SYMLINK_NOFOLLOW) == 0);
        CHECK(fstatat(dfd, "bin/ls", &st2, AT_SYMLINK_NOFOLLOW) == 0);
        CHECK(st.st_ino == st2.st_ino && st.st_dev == st2.st_dev);
        CHECK(fstatat(dfd, "bin/cat", &st2, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == st2.st_ino);
        CHECK_INT(st.st_nlink, 3);

        CHECK_INT(mode_of(dfd, "bin/sh") & S_IFMT, S_IFLNK);
        CHECK(link_is(dfd, "bin/sh", "busybox"));
        CHECK(fstatat(dfd, "bin/sh", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtim.tv_sec == MTIME);

        CHECK_INT(mode_of(dfd, "bin/su"), S_IFREG | 04755);
        CHECK(content_is(dfd, "bin/su", "su"));
        CHECK_INT(mode_of(dfd, "usr/bin/sgid"), S_IFREG | 02711);
        /* Parents the archive didn't list are 0755 whatever the umask. */
        CHECK_INT(mode_of(dfd, "usr"), S_IFDIR | 0755);
        CHECK_INT(mode_of(dfd, "usr/bin"), S_IFDIR | 0755);
        CHECK_INT(mode_of(dfd, "run"), S_IFDIR | 0755);

        CHECK_INT(mode_of(dfd, "tmp"), S_IFDIR | 01777);
        CHECK_INT(mode_of(dfd, "run/fifo"), S_IFIFO | 0640);

        CHECK_INT(mode_of(dfd, "ro"), S_IFDIR | 0555);
        CHECK(fstatat(dfd, "ro", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtim.tv_sec == 1234567890);
        CHECK_INT(mode_of(dfd, "ro/sub"), S_IFDIR | 0500);
        CHECK_INT(mode_of(dfd, "ro/file"), S_IFREG | 0444);
        CHECK(content_is(dfd, "ro/file", "r/o"));
        CHECK(content_is(dfd, "ro/sub/deeper", "deep"));

        CHECK(link_is(dfd, "abs-link", "/etc/passwd"));
        CHECK(link_is(dfd, "dangling", "../../../../nowhere"));
        if (have_utf8_locale)
                CHECK(content_is(dfd, "sp ace/\xc3\xbc-\xc3\xb1\n", "utf8"));
        else
                printf("# no C.UTF-8 locale, skipped the UTF-8 name\n");
        CHECK(content_is(dfd, "dup", "second"));
        CHECK_INT(mode_of(dfd, "dup"), S_IFREG | 0600);

        if (geteuid() == 0) {
                CHECK(fstatat(dfd, "owned", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == 1234 && st.st_gid == 5678 &&
                      (st.st_mode & 07777) == 0640);
                CHECK(fstatat(dfd, "owned-dir", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == 4321 &&
                      st.st_gid == 8765 && (st.st_mode & 07777) == 0700);
                CHECK(fstatat(dfd, "owned-link", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
                      st.st_uid == 11 && st.st_gid == 12);
                CHECK(fstatat(dfd, "root-owned", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == 0 && st.st_gid == 0 &&
                      (st.st_mode & 07777) == 04755);
        }
}

static void run_tree(bool gzip) {
        char hex[SHA256_HEX_LEN + 1];
        TarExtractResult result = {};
        _cleanup_free_ char *error = NULL;
        uint64_t size;
        size_t n_entries;
        Env e = env_new();
        int fd = build_tree(gzip, &n_entries);

        fd_sha256(fd, hex, &size);
        CHECK_INT(tar_extract(fd, e.destfd, &result, &error), 0);
        if (error)
                printf("# unexpected error: %s\n", error);
        CHECK(!error);
        CHECK_STR(result.digest, hex);
        CHECK_INT(result.size, size);
        CHECK_INT(result.n_entries, n_entries);
        check_tree(e.destfd);
        env_check_untouched(&e);
        close(fd);
        env_free(&e);
}

static void test_tree_plain(void) {
        run_tree(false);
}

static void test_tree_gzip(void) {
        run_tree(true);
}

/* The digest covers the whole input, also bytes after the end-of-archive blocks. */
static void test_digest_covers_trailing_bytes(void) {
        char hex[SHA256_HEX_LEN + 1];
        TarExtractResult result = {};
        Env e = env_new();
        Builder b = builder_new(false);
        uint64_t size;

        ADD_FILE("f", 0644, "x");
        int fd = builder_finish(&b);
        ASSERT(lseek(fd, 0, SEEK_END) > 0);
        char junk[50000];
        memset(junk, 0, sizeof(junk));
        memcpy(junk + 30000, "trailing", 8);
        ASSERT(write(fd, junk, sizeof(junk)) == (ssize_t) sizeof(junk));
        fd_sha256(fd, hex, &size);

        CHECK_INT(tar_extract(fd, e.destfd, &result, NULL), 0);
        CHECK_STR(result.digest, hex);
        CHECK_INT(result.size, size);
        CHECK_INT(result.n_entries, 1);
        close(fd);
        env_free(&e);
}

/* Later entries replace earlier ones, whatever the types. */
static void test_replace(void) {
        _cleanup_free_ char *error = NULL;
        Env e = env_new();
        Builder b = builder_new(false);
        _cleanup_free_ char *victim_keep = NULL;

        ASSERT(asprintf(&victim_keep, "%s/keep", e.victim) > 0);

        ADD_FILE("x", 0644, "content");
        ADD_DIR("x/", 0755); /* file → directory */
        ADD_FILE("x/inner", 0644, "in");
        ADD_DIR("y/", 0755);
        ADD_FILE("y/sub/f", 0644, "f");
        ADD_FILE("y", 0644, "now a file"); /* directory with contents → file */
        ADD_SYMLINK("z", "target");
        ADD_FILE("z", 0644, "file"); /* symlink → file */
        ADD_FILE("h", 0644, "h");
        ADD_HARDLINK("h2", "h");
        ADD_FILE("h2", 0600, "h2"); /* breaks the link, must not write into h */
        ADD_SYMLINK("s", victim_keep);
        ADD_FILE("s", 0644, "not through"); /* must replace the link, not write to the victim */
        builder_add(&b, &(Entry){ .path = "w/", .type = AE_IFDIR, .perm = 0700, .uid = -1, .gid = -1, .mtime = 5 });
        ADD_SYMLINK("w", e.victim); /* w's deferred metadata must not reach the victim */
        ADD_SYMLINK("v", e.victim);
        ADD_DIR("v", 0711); /* symlink → directory, again without following */
        ADD_FILE("q", 0644, "q");
        ADD_SYMLINK("q", "elsewhere"); /* file → symlink */
        ADD_DIR("fifo-dir", 0755);
        builder_add(&b, &(Entry){ .path = "fifo-dir", .type = AE_IFIFO, .perm = 0600, .uid = -1, .gid = -1 });
        ADD_FILE("a/b/c/f", 0644, "old");
        ADD_FILE("a", 0644, "a file now"); /* removes the tree the parent stack is in */
        ADD_DIR("a", 0755);
        ADD_FILE("a/b/c/g", 0644, "new");
        ADD_HARDLINK("self", "h");
        ADD_HARDLINK("self", "self"); /* a link to itself is a no-op, not a loss */

        int fd = builder_finish(&b);
        CHECK_INT(tar_extract(fd, e.destfd, NULL, &error), 0);
        if (error)
                printf("# unexpected error: %s\n", error);

        CHECK_INT(mode_of(e.destfd, "x") & S_IFMT, S_IFDIR);
        CHECK(content_is(e.destfd, "x/inner", "in"));
        CHECK_INT(mode_of(e.destfd, "y"), S_IFREG | 0644);
        CHECK(content_is(e.destfd, "y", "now a file"));
        CHECK_INT(mode_of(e.destfd, "z") & S_IFMT, S_IFREG);
        CHECK(content_is(e.destfd, "z", "file"));
        CHECK(content_is(e.destfd, "h", "h"));
        CHECK(content_is(e.destfd, "h2", "h2"));
        CHECK_INT(mode_of(e.destfd, "s") & S_IFMT, S_IFREG);
        CHECK(content_is(e.destfd, "s", "not through"));
        CHECK(link_is(e.destfd, "w", e.victim));
        CHECK_INT(mode_of(e.destfd, "v"), S_IFDIR | 0711);
        CHECK(link_is(e.destfd, "q", "elsewhere"));
        CHECK_INT(mode_of(e.destfd, "fifo-dir"), S_IFIFO | 0600);
        CHECK(content_is(e.destfd, "self", "h"));
        CHECK(content_is(e.destfd, "a/b/c/g", "new"));
        CHECK_INT(dir_size(e.destfd, "a/b/c"), 1);

        env_check_untouched(&e);
        close(fd);
        env_free(&e);
}

/* ---- hostile archives ---- */

typedef void (*BuildFunc)(Builder *b, const Env *e);

static void run_hostile(const char *label, BuildFunc build, int expected, const char *expected_error) {
        _cleanup_free_ char *error = NULL;
        TarExtractResult result = { .size = 4711 };
        Env e = env_new();
        Builder b = builder_new(false);

        build(&b, &e);
        int fd = builder_finish(&b);
        int r = tar_extract(fd, e.destfd, &result, &error);
        printf("# %s: %d %s\n", label, r, error ?: "(no message)");
        CHECK_INT(r, expected);
        CHECK(error);
        if (expected_error)
                CHECK_STR(error, expected_error);
        CHECK_INT(result.size, 4711); /* untouched on failure */
        env_check_untouched(&e);
        close(fd);
        env_free(&e);
}

static void build_dotdot(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_FILE("ok", 0644, "fine");
        ADD_FILE("../etc/passwd", 0644, "evil");
}

static void build_dotdot_victim(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_FILE("../victim/keep", 0644, "evil");
}

static void build_absolute(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_FILE("/abs/evil", 0644, "evil");
}

static void build_absolute_victim(Builder *bb, const Env *e) {
        _cleanup_free_ char *p = NULL;
        Builder b = *bb;

        ASSERT(asprintf(&p, "%s/evil", e->victim) > 0);
        ADD_FILE(p, 0644, "evil");
}

static void build_inner_dotdot(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_DIR("a", 0755);
        ADD_FILE("a/../../evil", 0644, "evil");
}

static void build_dotdot_dir(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_DIR("..", 0777);
}

static void build_empty_name(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_FILE("", 0644, "evil");
}

static void build_symlink_abs(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_SYMLINK("link", e->victim);
        ADD_FILE("link/file", 0644, "evil");
}

static void build_symlink_abs_dir(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_SYMLINK("link", e->victim);
        ADD_DIR("link/sub", 0755);
}

static void build_symlink_abs_existing(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_SYMLINK("link", e->victim);
        ADD_FILE("link/keep", 0644, "evil");
}

static void build_symlink_dotdot(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_SYMLINK("l", "..");
        ADD_FILE("l/evil", 0644, "evil");
}

static void build_symlink_nested(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_DIR("a", 0755);
        ADD_SYMLINK("a/b", "../../victim");
        ADD_FILE("a/b/c/evil", 0644, "evil");
}

static void build_symlink_fifo(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_SYMLINK("l", "..");
        builder_add(&b, &(Entry){ .path = "l/fifo", .type = AE_IFIFO, .perm = 0644, .uid = -1, .gid = -1 });
}

static void build_file_as_parent(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_FILE("f", 0644, "file");
        ADD_FILE("f/evil", 0644, "evil");
}

static void build_hardlink_dotdot(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_HARDLINK("h", "../victim/keep");
}

static void build_hardlink_outside(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_HARDLINK("h", "../outside");
}

static void build_hardlink_abs(Builder *bb, const Env *e) {
        _cleanup_free_ char *p = NULL;
        Builder b = *bb;

        ASSERT(asprintf(&p, "%s/keep", e->victim) > 0);
        ADD_HARDLINK("h", p);
}

static void build_hardlink_through_symlink(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_SYMLINK("s", e->victim);
        ADD_HARDLINK("h", "s/keep");
}

static void build_hardlink_to_symlink(Builder *bb, const Env *e) {
        _cleanup_free_ char *p = NULL;
        Builder b = *bb;

        ASSERT(asprintf(&p, "%s/keep", e->victim) > 0);
        ADD_SYMLINK("s", p);
        ADD_HARDLINK("h", "s");
}

static void build_hardlink_to_dir(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_DIR("d", 0755);
        ADD_HARDLINK("h", "d");
}

static void build_hardlink_missing(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_HARDLINK("h", "nope");
}

static void build_hardlink_dot(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_HARDLINK("h", ".");
}

static void build_chardev(Builder *bb, const Env *e) {
        Builder b = *bb;
        builder_add(&b,
                    &(Entry){ .path = "dev/null",
                              .type = AE_IFCHR,
                              .perm = 0666,
                              .rdev = makedev(1, 3),
                              .uid = -1,
                              .gid = -1 });
}

static void build_whiteout_chardev(Builder *bb, const Env *e) {
        Builder b = *bb;
        builder_add(
                &b,
                &(Entry){ .path = "gone", .type = AE_IFCHR, .perm = 0, .rdev = makedev(0, 0), .uid = -1, .gid = -1 });
}

static void build_blockdev(Builder *bb, const Env *e) {
        Builder b = *bb;
        builder_add(&b,
                    &(Entry){ .path = "dev/sda",
                              .type = AE_IFBLK,
                              .perm = 0660,
                              .rdev = makedev(8, 0),
                              .uid = -1,
                              .gid = -1 });
}

static void build_root_file(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_FILE(".", 0644, "evil");
}

static void build_root_symlink(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_SYMLINK(".", e->victim);
}

static void build_bad_owner(Builder *bb, const Env *e) {
        Builder b = *bb;
        builder_add(
                &b,
                &(Entry){ .path = "f", .type = AE_IFREG, .perm = 0644, .data = "x", .uid = 4294967295LL, .gid = -1 });
}

/* A file replacing a directory the parent stack is inside of, one level down. */
static void test_replace_below_parent(void) {
        _cleanup_free_ char *error = NULL;
        Env e = env_new();
        Builder b = builder_new(false);

        ADD_FILE("a/b/c/f", 0644, "old");
        ADD_FILE("a/b", 0644, "now a file");
        ADD_FILE("a/b2", 0644, "sibling");

        int fd = builder_finish(&b);
        CHECK_INT(tar_extract(fd, e.destfd, NULL, &error), 0);
        if (error)
                printf("# unexpected error: %s\n", error);
        CHECK(content_is(e.destfd, "a/b", "now a file"));
        CHECK(content_is(e.destfd, "a/b2", "sibling"));
        env_check_untouched(&e);
        close(fd);
        env_free(&e);
}

static bool is_whiteout(int dirfd, const char *path) {
        struct stat st;

        return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
                st.st_rdev == makedev(0, 0);
}

static bool is_opaque(int dirfd, const char *path) {
        char value[8] = {};
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return false;
        n = fgetxattr(fd, "trusted.overlay.opaque", value, sizeof(value) - 1);
        close(fd);
        return n == 1 && value[0] == 'y';
}

/* OCI whiteouts become overlayfs whiteouts; that needs root (trusted.* xattrs, and mknod before 5.8). */
static void test_whiteouts(void) {
        _cleanup_free_ char *error = NULL;
        TarExtractResult result = {};

        if (geteuid() != 0) {
                printf("# skipping whiteouts: not root\n");
                return;
        }

        Env e = env_new();
        Builder b = builder_new(false);
        ADD_DIR("etc/", 0755);
        ADD_FILE("etc/.wh.passwd", 0644, "");
        ADD_FILE(".wh.top", 0600, "");
        ADD_DIR("opaque/", 0750);
        ADD_FILE("opaque/.wh..wh..opq", 0644, "");
        ADD_FILE("opaque/kept", 0644, "kept");
        ADD_FILE("implied/parent/.wh..wh..opq", 0644, ""); /* parents the archive does not list */
        ADD_FILE("x/.wh..wh.plnk", 0644, ""); /* AUFS bookkeeping: skipped */
        ADD_FILE("replaced", 0644, "a file of this very layer"); /* the whiteout hides only lower layers */
        ADD_FILE(".wh.replaced", 0644, "");
        ADD_DIR("tree/sub/", 0755);
        ADD_FILE("tree/sub/f", 0644, "f");
        ADD_FILE(".wh.tree", 0644, ""); /* ... and the entries of a lower "tree" */
        builder_add(&b,
                    &(Entry){ .path = "own/.wh.x", .type = AE_IFREG, .perm = 0644, .data = "", .uid = 7, .gid = 8 });

        int fd = builder_finish(&b);
        CHECK_INT(tar_extract(fd, e.destfd, &result, &error), 0);
        if (error)
                printf("# unexpected error: %s\n", error);
        CHECK_INT(result.n_entries, 14);
        CHECK(is_whiteout(e.destfd, "etc/passwd"));
        CHECK(is_whiteout(e.destfd, "top"));
        CHECK(content_is(e.destfd, "replaced", "a file of this very layer"));
        CHECK(is_opaque(e.destfd, "tree"));
        CHECK(content_is(e.destfd, "tree/sub/f", "f"));
        CHECK(!is_opaque(e.destfd, "tree/sub"));
        CHECK_INT(mode_of(e.destfd, "etc/.wh.passwd"), (mode_t) -1);
        CHECK_INT(mode_of(e.destfd, ".wh.top"), (mode_t) -1);
        CHECK(is_opaque(e.destfd, "opaque"));
        CHECK_INT(mode_of(e.destfd, "opaque"), S_IFDIR | 0750);
        CHECK(content_is(e.destfd, "opaque/kept", "kept"));
        CHECK_INT(dir_size(e.destfd, "opaque"), 1);
        CHECK(is_opaque(e.destfd, "implied/parent"));
        CHECK(!is_opaque(e.destfd, "implied"));
        CHECK(!is_opaque(e.destfd, "etc"));
        CHECK_INT(mode_of(e.destfd, "x"), (mode_t) -1);
        struct stat st;
        CHECK(fstatat(e.destfd, "own/x", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == 7 && st.st_gid == 8);
        env_check_untouched(&e);
        close(fd);
        env_free(&e);
}

/* ---- a whiteout and an entry of the same name in one layer ----
 *
 * The OCI image spec: "Whiteout files MUST only apply to resources in lower/parent layers. Files that
 * are present in the same layer as a whiteout file can only be hidden by whiteout files in subsequent
 * layers." Whatever the order in the archive, the layer's own entry stays and, when it is a directory,
 * hides the lower directory's entries. Each case is a layer over the same lower layer, applied both
 * ways: with TAR_EXTRACT_APPLY_WHITEOUTS onto the lower tree (btrfs), and in overlay form beside it,
 * looked at through a real read-only overlayfs mount of the two when one can be made (as root). */

/* Entries by name: "x/" a directory, "x -> t" a symlink, else a file with this content. */
static void add_named(Builder *bb, const char *spec, const char *content) {
        Builder b = *bb;
        const char *arrow = strstr(spec, " -> ");

        if (arrow) {
                _cleanup_free_ char *path = strndup(spec, (size_t) (arrow - spec));
                ASSERT(path);
                ADD_SYMLINK(path, arrow + 4);
        } else if (spec[strlen(spec) - 1] == '/')
                ADD_DIR(spec, 0755);
        else
                ADD_FILE(spec, 0644, content);
}

static int build_named(const char *const *specs, const char *content) {
        Builder b = builder_new(false);

        for (; *specs; specs++)
                add_named(&b, *specs, content);
        return builder_finish(&b);
}

static const char *const same_name_lower[] = {
        "etc/",    "etc/foo", "etc/keep", "etc/ln -> old-target",
        "d/",      "d/a",     "d/b",      "p/",
        "p/a",     "p/b",     "n/",       "n/sub/",
        "n/sub/x", "q/",      "q/a",      "s/",
        "s/a",     "s/sub/",  "s/sub/z",  "s/sub/k",
        "gone",    "o/",      "o/x",      "w/",
        "w/a",     NULL,
};

typedef struct SameNameCase {
        const char *label;
        const char *upper[6];
        struct {
                const char *path, *expected; /* describe() of path in the merged view */
        } checks[4];
        const char *opaque; /* overlay form: a directory of the layer that must be marked opaque */
} SameNameCase;

#define CASE(l, u, c, ...) \
        { .label = (l), .upper = u, .checks = c, __VA_ARGS__ }
#define L(...) \
        { __VA_ARGS__ }

static const SameNameCase same_name_cases[] = {
        CASE("file, whiteout first", L("etc/.wh.foo", "etc/foo"),
             L({ "etc/foo", "file:new" }, { "etc", "dir:foo,keep,ln" })),
        CASE("file, whiteout after", L("etc/foo", "etc/.wh.foo"),
             L({ "etc/foo", "file:new" }, { "etc", "dir:foo,keep,ln" })),
        CASE("symlink, whiteout first", L("etc/.wh.ln", "etc/ln -> new-target"), L({ "etc/ln", "link:new-target" })),
        CASE("symlink, whiteout after", L("etc/ln -> new-target", "etc/.wh.ln"), L({ "etc/ln", "link:new-target" })),
        CASE("directory, whiteout first", L(".wh.d", "d/", "d/c"), L({ "d", "dir:c" }), .opaque = "d"),
        CASE("directory, whiteout after", L("d/", "d/c", ".wh.d"), L({ "d", "dir:c" }), .opaque = "d"),
        CASE("implied directory, whiteout first", L(".wh.p", "p/c"), L({ "p", "dir:c" }), .opaque = "p"),
        CASE("implied directory, whiteout after", L("p/c", ".wh.p"), L({ "p", "dir:c" }), .opaque = "p"),
        CASE("implied directories, whiteout first", L(".wh.n", "n/sub/y"), L({ "n", "dir:sub" }, { "n/sub", "dir:y" }),
             .opaque = "n"),
        CASE("implied directories, whiteout after", L("n/sub/y", ".wh.n"), L({ "n", "dir:sub" }, { "n/sub", "dir:y" }),
             .opaque = "n"),
        CASE("file, whiteout, then directory", L("q", ".wh.q", "q/", "q/c"), L({ "q", "dir:c" }), .opaque = "q"),
        CASE("whiteout, file, then directory", L(".wh.q", "q", "q/", "q/c"), L({ "q", "dir:c" }), .opaque = "q"),
        /* A whiteout below it first: the lower s/sub is looked at (and on the parent stack) before the
         * whiteout of s hides it. Not s/sub's listing: overlayfs lists the whiteout z in a directory of
         * one layer only (here below an opaque one), as it does for any layer's whiteouts there. */
        CASE("directory, whiteouts below it and after", L("s/c", "s/sub/.wh.z", ".wh.s", "s/sub/new"),
             L({ "s", "dir:c,sub" }, { "s/sub/new", "file:new" }, { "s/sub/k", "absent" }, { "s/sub/z", "absent" }),
             .opaque = "s"),
        CASE("whiteout, whiteout below it, directory", L(".wh.s", "s/sub/.wh.z", "s/c", "s/sub/new"),
             L({ "s", "dir:c,sub" }, { "s/sub/new", "file:new" }, { "s/sub/k", "absent" }, { "s/sub/z", "absent" }),
             .opaque = "s"),
        /* As before: alone, a whiteout deletes, an opaque marker empties. */
        CASE("whiteout alone", L(".wh.gone", "etc/.wh.keep"), L({ "gone", "absent" }, { "etc", "dir:foo,ln" })),
        CASE("opaque directory", L("o/", "o/.wh..wh..opq", "o/y"), L({ "o", "dir:y" }), .opaque = "o"),
        CASE("opaque directory, implied", L("o/.wh..wh..opq", "o/y"), L({ "o", "dir:y" }), .opaque = "o"),
        /* Whiteouts below a whiteout have nothing left to hide, in either order. */
        CASE("whiteout below a whiteout", L(".wh.w", "w/.wh.a"), L({ "w", "absent" })),
        CASE("opaque marker below a whiteout", L(".wh.w", "w/.wh..wh..opq"), L({ "w", "absent" })),
        CASE("whiteout above a whiteout", L("w/.wh.a", ".wh.w"), L({ "w", "absent" })),
};

#undef CASE
#undef L

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* "absent", "whiteout", "file:CONTENT", "link:TARGET", "dir:NAME,NAME" (sorted) or "other". */
static char *describe(int dirfd, const char *path) {
        struct stat st;
        char *r = NULL;

        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return strdup(errno == ENOENT ? "absent" : "error");
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
                return strdup("whiteout");
        if (S_ISREG(st.st_mode)) {
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                data = read_at(dirfd, path, &len);
                ASSERT(asprintf(&r, "file:%.*s", (int) len, data ?: "") > 0);
                return r;
        }
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX] = {};
                ASSERT(readlinkat(dirfd, path, target, sizeof(target) - 1) >= 0);
                ASSERT(asprintf(&r, "link:%s", target) > 0);
                return r;
        }
        if (!S_ISDIR(st.st_mode))
                return strdup("other");

        char *names[64];
        size_t n = 0, len = strlen("dir:") + 1;
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT(fd >= 0);
        DIR *d = fdopendir(fd);
        ASSERT(d);
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        ASSERT(n < ELEMENTSOF(names));
                        names[n] = strdup(de->d_name);
                        ASSERT(names[n]);
                        len += strlen(names[n++]) + 1;
                }
        closedir(d);
        qsort(names, n, sizeof(char *), strcmp_ptr);
        r = malloc(len);
        ASSERT(r);
        strcpy(r, "dir:");
        for (size_t k = 0; k < n; k++) {
                if (k > 0)
                        strcat(r, ",");
                strcat(r, names[k]);
                free(names[k]);
        }
        return r;
}

static void check_same_name_view(const SameNameCase *c, const char *how, int viewfd) {
        for (size_t k = 0; k < ELEMENTSOF(c->checks) && c->checks[k].path; k++) {
                _cleanup_free_ char *got = describe(viewfd, c->checks[k].path);
                if (!streq(got, c->checks[k].expected))
                        printf("# %s (%s): %s is %s\n", c->label, how, c->checks[k].path, got);
                CHECK_STR(got, c->checks[k].expected);
        }
}

/* The lower layer's files say "old", the upper layer's "new". */
static void extract_named(const char *const *specs, int destfd, TarExtractFlags flags, const char *label) {
        _cleanup_free_ char *error = NULL;
        int fd = build_named(specs, specs == same_name_lower ? "old" : "new");
        int r = tar_extract_full(fd, destfd, flags, NULL, &error);

        if (r < 0)
                printf("# %s: %d %s\n", label, r, error ?: "(no message)");
        CHECK_INT(r, 0);
        close(fd);
}

/* The btrfs way: the layer applied onto the lower tree. */
static void test_same_name_apply(void) {
        for (size_t i = 0; i < ELEMENTSOF(same_name_cases); i++) {
                const SameNameCase *c = &same_name_cases[i];
                Env e = env_new();

                extract_named(same_name_lower, e.destfd, TAR_EXTRACT_APPLY_WHITEOUTS, "lower layer");
                extract_named(c->upper, e.destfd, TAR_EXTRACT_APPLY_WHITEOUTS, c->label);
                check_same_name_view(c, "applied", e.destfd);
                env_check_untouched(&e);
                env_free(&e);
        }
}

/* 0 when checked (failures counted), 77 when no overlayfs can be mounted here. */
static int check_overlay_view(const SameNameCase *c, const Env *e) {
        _cleanup_free_ char *options = NULL, *target = NULL;
        int status;

        ASSERT(asprintf(&options, "lowerdir=%s/dest/upper:%s/dest/lower", e->root, e->root) > 0);
        ASSERT(asprintf(&target, "%s/dest/merged", e->root) > 0);
        fflush(stdout);
        pid_t pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
                unsigned before = tests_failed;
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("overlay", target, "overlay", MS_RDONLY, options) < 0)
                        _exit(77);
                int fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ASSERT(fd >= 0);
                check_same_name_view(c, "overlayfs", fd);
                fflush(stdout);
                _exit(tests_failed == before ? 0 : 1);
        }
        ASSERT(waitpid(pid, &status, 0) == pid);
        ASSERT(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                return 77;
        CHECK_INT(WEXITSTATUS(status), 0);
        return 0;
}

/* The overlay way: each layer on its own, whiteouts as overlayfs's; needs root, as test_whiteouts. */
static void test_same_name_overlay(void) {
        bool mounted = false;

        if (geteuid() != 0) {
                printf("# skipping same-name whiteouts in overlay form: not root\n");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(same_name_cases); i++) {
                const SameNameCase *c = &same_name_cases[i];
                Env e = env_new();

                ASSERT(mkdirat(e.destfd, "lower", 0755) == 0 && mkdirat(e.destfd, "upper", 0755) == 0 &&
                       mkdirat(e.destfd, "merged", 0755) == 0);
                _cleanup_close_ int lower = openat(e.destfd, "lower", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                                    upper = openat(e.destfd, "upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ASSERT(lower >= 0 && upper >= 0);
                extract_named(same_name_lower, lower, 0, "lower layer");
                extract_named(c->upper, upper, 0, c->label);

                /* The layer as stored: this layer's entries are real ones, their directories opaque. */
                for (size_t k = 0; k < ELEMENTSOF(c->checks) && c->checks[k].path; k++) {
                        const char *expected = c->checks[k].expected;
                        if (!startswith(expected, "file:") && !startswith(expected, "link:"))
                                continue;
                        _cleanup_free_ char *got = describe(upper, c->checks[k].path);
                        if (!streq(got, expected))
                                printf("# %s (upper layer): %s is %s\n", c->label, c->checks[k].path, got);
                        CHECK_STR(got, expected);
                }
                if (c->opaque) {
                        if (!is_opaque(upper, c->opaque))
                                printf("# %s (upper layer): %s is not an opaque directory\n", c->label, c->opaque);
                        CHECK(is_opaque(upper, c->opaque));
                }

                if (check_overlay_view(c, &e) == 0)
                        mounted = true;
                env_check_untouched(&e);
                env_free(&e);
        }
        if (!mounted)
                printf("# skipping the merged view of same-name whiteouts: cannot mount overlayfs here\n");
}

static void build_whiteout_dotdot(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_FILE("../victim/.wh.keep", 0644, "");
}

static void build_whiteout_through_symlink(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_SYMLINK("l", e->victim);
        ADD_FILE("l/.wh.keep", 0644, "");
}

static void build_opaque_through_symlink(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_SYMLINK("l", e->victim);
        ADD_FILE("l/.wh..wh..opq", 0644, "");
}

static void build_whiteout_empty_name(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_FILE("d/.wh.", 0644, "");
}

static void build_whiteout_dot_name(Builder *bb, const Env *e) {
        Builder b = *bb;
        ADD_FILE("d/.wh...", 0644, "");
}

static void test_hostile(void) {
        run_hostile("../etc/passwd", build_dotdot, -EPERM,
                    "Refusing archive entry '../etc/passwd': path escapes the image root");
        run_hostile("../victim/keep", build_dotdot_victim, -EPERM, NULL);
        run_hostile("/abs/evil", build_absolute, -EPERM,
                    "Refusing archive entry '/abs/evil': path escapes the image root");
        run_hostile("absolute into victim", build_absolute_victim, -EPERM, NULL);
        run_hostile("a/../../evil", build_inner_dotdot, -EPERM, NULL);
        run_hostile("..", build_dotdot_dir, -EPERM, NULL);
        run_hostile("empty name", build_empty_name, -EPERM, NULL);
        run_hostile("link -> victim, link/file", build_symlink_abs, -EPERM,
                    "Refusing archive entry 'link/file': path goes through a symlink");
        run_hostile("link -> victim, link/sub/", build_symlink_abs_dir, -EPERM, NULL);
        run_hostile("link -> victim, link/keep", build_symlink_abs_existing, -EPERM, NULL);
        run_hostile("l -> .., l/evil", build_symlink_dotdot, -EPERM,
                    "Refusing archive entry 'l/evil': path goes through a symlink");
        run_hostile("a/b -> ../../victim, a/b/c/evil", build_symlink_nested, -EPERM, NULL);
        run_hostile("l -> .., l/fifo", build_symlink_fifo, -EPERM, NULL);
        run_hostile("f, f/evil", build_file_as_parent, -EPERM, NULL);
        run_hostile("hardlink ../victim/keep", build_hardlink_dotdot, -EPERM,
                    "Refusing archive entry 'h': hard link target escapes the image root");
        run_hostile("hardlink ../outside", build_hardlink_outside, -EPERM, NULL);
        run_hostile("hardlink absolute", build_hardlink_abs, -EPERM, NULL);
        run_hostile("hardlink through symlink", build_hardlink_through_symlink, -EPERM,
                    "Refusing archive entry 'h': hard link target path goes through a symlink");
        run_hostile("hardlink to symlink", build_hardlink_to_symlink, -EPERM,
                    "Refusing archive entry 'h': hard link target is not a regular file");
        run_hostile("hardlink to directory", build_hardlink_to_dir, -EPERM, NULL);
        run_hostile("hardlink to missing", build_hardlink_missing, -EPERM, NULL);
        run_hostile("hardlink to .", build_hardlink_dot, -EPERM, NULL);
        run_hostile("char device", build_chardev, -EPERM,
                    "Refusing archive entry 'dev/null': device nodes are not allowed in images");
        run_hostile("whiteout char device", build_whiteout_chardev, -EPERM, NULL);
        run_hostile("block device", build_blockdev, -EPERM,
                    "Refusing archive entry 'dev/sda': device nodes are not allowed in images");
        run_hostile("file as root", build_root_file, -EPERM, NULL);
        run_hostile("symlink as root", build_root_symlink, -EPERM, NULL);
        run_hostile("uid -1", build_bad_owner, -EPERM, NULL);
        run_hostile("whiteout ../victim/.wh.keep", build_whiteout_dotdot, -EPERM, NULL);
        run_hostile("whiteout through symlink", build_whiteout_through_symlink, -EPERM,
                    "Refusing archive entry 'l/.wh.keep': path goes through a symlink");
        run_hostile("opaque through symlink", build_opaque_through_symlink, -EPERM, NULL);
        run_hostile("whiteout of ''", build_whiteout_empty_name, -EPERM,
                    "Refusing archive entry 'd/.wh.': whiteout without a valid name");
        run_hostile("whiteout of '..'", build_whiteout_dot_name, -EPERM, NULL);
}

/* Hostile names are escaped in messages. */
static void test_error_escaping(void) {
        _cleanup_free_ char *error = NULL;
        Env e = env_new();
        Builder b = builder_new(false);

        ADD_FILE("../a\nb'\x1b[31m", 0644, "x");
        int fd = builder_finish(&b);
        CHECK_INT(tar_extract(fd, e.destfd, NULL, &error), -EPERM);
        CHECK_STR(error, "Refusing archive entry '../a\\x0ab\\x27\\x1b[31m': path escapes the image root");
        close(fd);
        env_free(&e);
}

/* ---- corrupt input ---- */

static int memfd_with(const void *data, size_t len) {
        int fd = memfd_create("test-tar", MFD_CLOEXEC);

        ASSERT(fd >= 0);
        if (len > 0)
                ASSERT(write(fd, data, len) == (ssize_t) len);
        ASSERT(lseek(fd, 0, SEEK_SET) == 0);
        return fd;
}

static void run_corrupt(const char *label, const void *data, size_t len, int expected) {
        _cleanup_free_ char *error = NULL;
        Env e = env_new();
        int fd = memfd_with(data, len);
        int r = tar_extract(fd, e.destfd, NULL, &error);

        printf("# %s: %d %s\n", label, r, error ?: "(no message)");
        CHECK_INT(r, expected);
        CHECK(error);
        env_check_untouched(&e);
        close(fd);
        env_free(&e);
}

static void test_corrupt(void) {
        _cleanup_free_ char *archive = NULL, *big = big_content();
        size_t len = 0;

        Builder b = builder_new(false);
        ADD_FILE("a", 0644, "hello");
        builder_add(&b,
                    &(Entry){ .path = "big",
                              .type = AE_IFREG,
                              .perm = 0644,
                              .data = big,
                              .size = BIG_SIZE,
                              .uid = -1,
                              .gid = -1 });
        int fd = builder_finish(&b);
        ASSERT(read_full_fd(fd, &archive, &len) == 0);
        close(fd);
        ASSERT(len > 20000);

        /* Truncated inside the data of the second file, and inside its header. */
        run_corrupt("truncated data", archive, 20000, -EBADMSG);
        run_corrupt("truncated header", archive, 512 * 3 + 100, -EBADMSG);

        /* A damaged header checksum, first entry. */
        _cleanup_free_ char *bad = malloc(len);
        ASSERT(bad);
        memcpy(bad, archive, len);
        for (size_t i = 0; i < 100; i++)
                bad[i] ^= 0x55;
        run_corrupt("bad first header", bad, len, -EBADMSG);

        /* Garbage, not a tar at all. */
        char garbage[4096];
        for (size_t i = 0; i < sizeof(garbage); i++)
                garbage[i] = (char) (i * 131 + 7);
        run_corrupt("garbage", garbage, sizeof(garbage), -EBADMSG);
        run_corrupt("empty", "", 0, -EBADMSG);

        /* Truncated gzip stream. */
        _cleanup_free_ char *gz = NULL;
        size_t gz_len = 0;
        b = builder_new(true);
        builder_add(&b,
                    &(Entry){ .path = "big",
                              .type = AE_IFREG,
                              .perm = 0644,
                              .data = big,
                              .size = BIG_SIZE,
                              .uid = -1,
                              .gid = -1 });
        fd = builder_finish(&b);
        ASSERT(read_full_fd(fd, &gz, &gz_len) == 0);
        close(fd);
        run_corrupt("truncated gzip", gz, gz_len / 2, -EBADMSG);
}

/* ---- real errors surface with their errno ---- */

static void test_read_error(void) {
        _cleanup_free_ char *error = NULL;
        Env e = env_new();

        /* read() on a directory fails with EISDIR. */
        CHECK_INT(tar_extract(e.rootfd, e.destfd, NULL, &error), -EISDIR);
        printf("# read error: %s\n", error ?: "(no message)");
        CHECK(error);
        CHECK_INT(tar_extract(-1, e.destfd, NULL, NULL), -EBADF);
        CHECK_INT(tar_extract(e.rootfd, -1, NULL, NULL), -EBADF);
        env_free(&e);
}

/* Run extraction of a big file in a child with limits; returns the result code. */
static int extract_in_child(bool with_tmpfs, rlim_t fsize) {
        _cleanup_free_ char *big = big_content();
        Builder b = builder_new(false);
        int pipefd[2];
        Env e = env_new();

        builder_add(&b,
                    &(Entry){ .path = "big",
                              .type = AE_IFREG,
                              .perm = 0644,
                              .data = big,
                              .size = BIG_SIZE,
                              .uid = -1,
                              .gid = -1 });
        int fd = builder_finish(&b);
        ASSERT(pipe(pipefd) == 0);

        pid_t pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
                int r = 1;
                if (with_tmpfs) {
                        if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
                            mount("tmpfs", e.root, "tmpfs", 0, "size=64k") < 0)
                                r = 1000;
                        else {
                                safe_close(e.destfd);
                                e.destfd = open(e.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        }
                } else {
                        signal(SIGXFSZ, SIG_IGN);
                        struct rlimit rl = { fsize, fsize };
                        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
                                r = 1000;
                }
                if (r != 1000) {
                        _cleanup_free_ char *error = NULL;
                        r = tar_extract(fd, e.destfd, NULL, &error);
                        printf("# child: %d %s\n", r, error ?: "(no message)");
                        fflush(stdout);
                }
                (void) !write(pipefd[1], &r, sizeof(r));
                _exit(0);
        }
        int r = 0, status;
        close(pipefd[1]);
        ASSERT(read(pipefd[0], &r, sizeof(r)) == sizeof(r));
        close(pipefd[0]);
        ASSERT(waitpid(pid, &status, 0) == pid);
        close(fd);
        env_free(&e);
        return r;
}

static void test_io_errors(void) {
        CHECK_INT(extract_in_child(false, 100000), -EFBIG);

        int r = extract_in_child(true, 0);
        if (r == 1000)
                printf("# skipping ENOSPC check, cannot mount a tmpfs here\n");
        else
                CHECK_INT(r, -ENOSPC);
}

/* ---- sparse files, as GNU tar writes them ---- */

static void test_sparse(void) {
        _cleanup_free_ char *src = NULL, *cmd = NULL, *archive = NULL, *data = NULL;
        const char *formats[] = { "gnu", "pax", "posix" };
        size_t len = 0;

        if (system("tar --version >/dev/null 2>&1") != 0) {
                printf("# skipping, no tar\n");
                return;
        }
        Env e = env_new();
        ASSERT(asprintf(&src, "%s/src", e.root) > 0);
        ASSERT(mkdir(src, 0755) == 0);
        int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT(sfd >= 0);
        int fd = openat(sfd, "sparse", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT(fd >= 0);
        ASSERT(pwrite(fd, "middle", 6, 512 * 1024) == 6);
        ASSERT(pwrite(fd, "later", 5, 3 * 1024 * 1024) == 5);
        ASSERT(ftruncate(fd, 8 * 1024 * 1024) == 0); /* ends in a hole */
        close(fd);
        close(sfd);

        for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
                _cleanup_free_ char *error = NULL;
                TarExtractResult result = {};
                struct stat st;

                free(cmd);
                free(archive);
                ASSERT(asprintf(&archive, "%s/a.tar", e.root) > 0);
                ASSERT(asprintf(&cmd, "tar --sparse --format=%s -cf '%s' -C '%s' sparse", formats[i], archive, src) >
                       0);
                ASSERT(system(cmd) == 0);
                int afd = open(archive, O_RDONLY | O_CLOEXEC);
                ASSERT(afd >= 0);
                ASSERT(unlink(archive) == 0);
                CHECK_INT(tar_extract(afd, e.destfd, &result, &error), 0);
                if (error)
                        printf("# %s: %s\n", formats[i], error);
                close(afd);

                free(data);
                data = read_at(e.destfd, "sparse", &len);
                CHECK_INT(len, 8 * 1024 * 1024);
                CHECK(data && memcmp(data + 512 * 1024, "middle", 6) == 0);
                CHECK(data && memcmp(data + 3 * 1024 * 1024, "later", 5) == 0);
                size_t nonzero = 0;
                for (size_t k = 0; data && k < len; k++)
                        nonzero += data[k] != 0;
                CHECK_INT(nonzero, 11);
                CHECK(fstatat(e.destfd, "sparse", &st, 0) == 0);
                printf("# %s: %lld blocks allocated\n", formats[i], (long long) st.st_blocks);
                ASSERT(unlinkat(e.destfd, "sparse", 0) == 0);
        }
        ASSERT(rm_rf(src) == 0);
        env_free(&e);
}

/* Many entries in many directories, to exercise the parent cache. */
static void test_many(void) {
        _cleanup_free_ char *error = NULL;
        TarExtractResult result = {};
        Env e = env_new();
        Builder b = builder_new(false);
        char path[128], content[64];

        for (int i = 0; i < 40; i++) {
                snprintf(path, sizeof(path), "d%d/", i);
                ADD_DIR(path, 0755);
                for (int j = 0; j < 25; j++) {
                        snprintf(path, sizeof(path), "d%d/sub%d/f%d", i, j % 3, j);
                        snprintf(content, sizeof(content), "%d-%d", i, j);
                        ADD_FILE(path, 0644, content);
                }
        }
        /* Going back to an earlier directory, and up and down one branch. */
        ADD_FILE("d0/late", 0644, "late");
        ADD_FILE("d0/sub1/later", 0644, "later");
        ADD_FILE("p/q/r/f1", 0644, "f1");
        ADD_FILE("p/q/f2", 0644, "f2");
        ADD_FILE("p/f3", 0644, "f3");
        ADD_FILE("p/q/r/s/f4", 0644, "f4");
        ADD_FILE("p/q/f5", 0644, "f5");
        ADD_FILE("p/q/r/s/t/f6", 0644, "f6");
        ADD_FILE("f7", 0644, "f7");
        ADD_FILE("p/q/r/s/t/f8", 0644, "f8");

        /* Deeper than the parent stack, moving around down there. */
        char deep[512] = "";
        for (int i = 0; i < 45; i++) {
                snprintf(path, sizeof(path), "x%d/", i);
                strcat(deep, path);
                if (i == 20 || i == 30 || i == 31 || i == 32 || i == 33 || i == 44) {
                        _cleanup_free_ char *f = NULL;
                        ASSERT(asprintf(&f, "%sfile", deep) > 0);
                        ADD_FILE(f, 0644, path);
                }
        }
        ADD_FILE("x0/x1/x2/back", 0644, "back");
        strcat(deep, "again");
        ADD_FILE(deep, 0644, "again");
        ADD_FILE("x0/x1/x2/x3/x4/x5/x6/x7/x8/x9/x10/x11/x12/x13/x14/x15/x16/x17/x18/x19/x20/x21/x22/x23/x24/x25/x26/"
                 "x27/x28/x29/x30/x31/x32/other",
                 0644, "other");
        ADD_FILE("x0/x1/x2/x3/x4/x5/x6/x7/x8/x9/x10/x11/x12/x13/x14/x15/x16/x17/x18/x19/x20/x21/x22/x23/x24/x25/x26/"
                 "x27/x28/x29/x30/x31/x32/x33/x34/x35/x36/x37/x38/x39/x40/x41/x42/x43/x44/file2",
                 0644, "file2");

        int fd = builder_finish(&b);
        CHECK_INT(tar_extract(fd, e.destfd, &result, &error), 0);
        if (error)
                printf("# unexpected error: %s\n", error);
        CHECK_INT(result.n_entries, 40 + 40 * 25 + 2 + 8 + 6 + 4);
        CHECK(content_is(e.destfd, "p/q/r/f1", "f1"));
        CHECK(content_is(e.destfd, "p/q/f2", "f2"));
        CHECK(content_is(e.destfd, "p/f3", "f3"));
        CHECK(content_is(e.destfd, "p/q/r/s/f4", "f4"));
        CHECK(content_is(e.destfd, "p/q/f5", "f5"));
        CHECK(content_is(e.destfd, "p/q/r/s/t/f6", "f6"));
        CHECK(content_is(e.destfd, "f7", "f7"));
        CHECK(content_is(e.destfd, "p/q/r/s/t/f8", "f8"));
        CHECK_INT(dir_size(e.destfd, "p"), 2);
        CHECK_INT(dir_size(e.destfd, "p/q"), 3);
        CHECK(content_is(e.destfd, deep, "again"));
        CHECK(content_is(e.destfd, "x0/x1/x2/back", "back"));
        CHECK(content_is(e.destfd,
                         "x0/x1/x2/x3/x4/x5/x6/x7/x8/x9/x10/x11/x12/x13/x14/x15/x16/x17/x18/x19/x20/x21/x22/x23/x24/"
                         "x25/x26/x27/x28/x29/x30/x31/x32/other",
                         "other"));
        CHECK(content_is(e.destfd,
                         "x0/x1/x2/x3/x4/x5/x6/x7/x8/x9/x10/x11/x12/x13/x14/x15/x16/x17/x18/x19/x20/x21/x22/x23/x24/"
                         "x25/x26/x27/x28/x29/x30/x31/x32/x33/x34/x35/x36/x37/x38/x39/x40/x41/x42/x43/x44/file2",
                         "file2"));
        CHECK(content_is(e.destfd,
                         "x0/x1/x2/x3/x4/x5/x6/x7/x8/x9/x10/x11/x12/x13/x14/x15/x16/x17/x18/x19/x20/x21/x22/x23/x24/"
                         "x25/x26/x27/x28/x29/x30/x31/x32/x33/file",
                         "x33/"));
        CHECK_INT(dir_size(e.destfd,
                           "x0/x1/x2/x3/x4/x5/x6/x7/x8/x9/x10/x11/x12/x13/x14/x15/x16/x17/x18/x19/x20/x21/x22/x23/x24/"
                           "x25/x26/x27/x28/x29/x30/x31/x32"),
                  3);
        CHECK(content_is(e.destfd, "d39/sub2/f23", "39-23"));
        CHECK(content_is(e.destfd, "d0/sub0/f0", "0-0"));
        CHECK(content_is(e.destfd, "d0/late", "late"));
        CHECK(content_is(e.destfd, "d0/sub1/later", "later"));
        CHECK_INT(dir_size(e.destfd, "d17/sub1"), 8);
        close(fd);
        env_free(&e);
}

int main(void) {
        /* Prove that modes don't depend on it. */
        umask(077);

        TEST(test_path_table);
        TEST(test_tree_plain);
        TEST(test_tree_gzip);
        TEST(test_digest_covers_trailing_bytes);
        TEST(test_replace);
        TEST(test_replace_below_parent);
        TEST(test_whiteouts);
        TEST(test_same_name_apply);
        TEST(test_same_name_overlay);
        TEST(test_hostile);
        TEST(test_error_escaping);
        TEST(test_corrupt);
        TEST(test_read_error);
        TEST(test_io_errors);
        TEST(test_sparse);
        TEST(test_many);
        return tests_exit_status();
}
