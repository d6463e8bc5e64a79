/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "macro.h"
#include "tar-extract.h"
#include "tar-write.h"
#include "tests.h"
#include "tree-diff.h"
#include "util.h"

#define T 1000000000 /* every mtime, whole seconds: tarballs carry no nanoseconds */

static bool is_root;

static void set_time(int dir_fd, const char *path, time_t sec, long nsec) {
        struct timespec ts[2] = { { .tv_sec = sec, .tv_nsec = nsec }, { .tv_sec = sec, .tv_nsec = nsec } };
        ASSERT(utimensat(dir_fd, path, ts, AT_SYMLINK_NOFOLLOW) == 0);
}

static void mk_file(int dir_fd, const char *path, const char *content, mode_t mode) {
        (void) unlinkat(dir_fd, path, 0);
        int f = openat(dir_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        ASSERT(f >= 0);
        ASSERT(write(f, content, strlen(content)) == (ssize_t) strlen(content));
        ASSERT(fchmod(f, mode) == 0);
        close(f);
        set_time(dir_fd, path, T, 0);
}

static void mk_dir(int dir_fd, const char *path) {
        ASSERT(mkdirat(dir_fd, path, 0755) == 0);
        set_time(dir_fd, path, T, 0);
}

static void mk_link(int dir_fd, const char *target, const char *path) {
        ASSERT(symlinkat(target, dir_fd, path) == 0);
        set_time(dir_fd, path, T, 0);
}

static char *make_temp(void) {
        char *dir = strdup("/tmp/test-tree-diff-XXXXXX");
        ASSERT(dir && mkdtemp(dir));
        return dir;
}

static int open_dir(const char *base, const char *sub) {
        _cleanup_free_ char *p = strjoin(base, "/", sub);
        ASSERT(p && mkdir(p, 0755) == 0);
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT(fd >= 0);
        return fd;
}

/* The lower tree; built identically every time. */
static void build_lower(int fd) {
        mk_dir(fd, "etc");
        mk_file(fd, "etc/passwd", "root:x:0:0\n", 0644);
        mk_file(fd, "etc/hosts", "127.0.0.1 localhost\n", 0644);
        mk_file(fd, "etc/gone", "bye\n", 0644);
        mk_dir(fd, "bin");
        mk_file(fd, "bin/sh", "#!sh\n", 0755);
        ASSERT(linkat(fd, "bin/sh", fd, "bin/hl", 0) == 0);
        mk_link(fd, "sh", "bin/link");
        mk_dir(fd, "var");
        mk_dir(fd, "var/lib");
        mk_dir(fd, "var/lib/d1");
        mk_dir(fd, "var/lib/d1/d2");
        mk_dir(fd, "var/cache");
        mk_dir(fd, "var/cache/sub");
        mk_file(fd, "var/cache/sub/c", "cache\n", 0644);
        ASSERT(mkfifoat(fd, "fifo", 0600) == 0);
        set_time(fd, "fifo", T, 0);
        mk_file(fd, "t1", "file\n", 0644);
        mk_dir(fd, "t2");
        mk_file(fd, "t2/child", "child\n", 0644);
        mk_file(fd, "m", "mode\n", 0644);
        mk_file(fd, "o", "owner\n", 0644);
        mk_file(fd, "mt", "mtime\n", 0644);
        mk_file(fd, "capf", "cap\n", 0755);
        mk_link(fd, "a", "sl");
        mk_dir(fd, "same");
        mk_file(fd, "same/f", "same\n", 0644);
        mk_dir(fd, "same2");
        mk_file(fd, "same2/f", "same\n", 0644);
        mk_dir(fd, "a-b");
        mk_dir(fd, "a");
        mk_file(fd, "a/x", "x\n", 0644);
        /* Directory times last: creating children changed them. */
        const char *dirs[] = { "etc",     "bin",           "var/lib/d1/d2", "var/lib/d1",
                               "var/lib", "var/cache/sub", "var/cache",     "var",
                               "t2",      "same",          "same2",         "a-b",
                               "a" };
        for (size_t k = 0; k < ELEMENTSOF(dirs); k++)
                set_time(fd, dirs[k], T, 0);
}

/* The changes a container makes. nsec: also change an mtime by nanoseconds only (not in tarballs). */
static void modify_upper(int fd, bool nsec) {
        mk_dir(fd, "new");
        mk_file(fd, "new/a", "a\n", 0644);
        mk_dir(fd, "new/sub");
        mk_file(fd, "new/sub/b", "bb\n", 0600);
        ASSERT(unlinkat(fd, "etc/gone", 0) == 0);
        ASSERT(rm_rf_at(fd, "var/cache") == 0);
        mk_file(fd, "etc/passwd", "root:x:0:0\nuser:x:1000:1000\n", 0644);
        ASSERT(unlinkat(fd, "t1", 0) == 0);
        mk_dir(fd, "t1");
        mk_file(fd, "t1/x", "x\n", 0644);
        ASSERT(rm_rf_at(fd, "t2") == 0);
        mk_file(fd, "t2", "now a file\n", 0644);
        ASSERT(fchmodat(fd, "m", 0600, 0) == 0);
        if (is_root)
                ASSERT(fchownat(fd, "o", 1000, 1000, AT_SYMLINK_NOFOLLOW) == 0);
        else
                ASSERT(fchmodat(fd, "o", 0640, 0) == 0);
        if (nsec)
                set_time(fd, "mt", T, 5);
        else
                set_time(fd, "mt", T + 1, 0);
        ASSERT(unlinkat(fd, "sl", 0) == 0);
        mk_link(fd, "b", "sl"); /* same size, same mtime, another target */
        /* Content changed in place: both names of the inode change. */
        int f = openat(fd, "bin/sh", O_WRONLY | O_TRUNC | O_CLOEXEC);
        ASSERT(f >= 0 && write(f, "#!bash\n", 7) == 7);
        close(f);
        set_time(fd, "bin/sh", T, 0);
        ASSERT(mkfifoat(fd, "bin/newfifo", 0644) == 0);
        set_time(fd, "bin/newfifo", T, 0);
        mk_file(fd, "var/lib/d1/d2/deep", "deep\n", 0644);
        mk_file(fd, "a/y", "y\n", 0644);
        /* Only a directory's mtime: not a change (Docker ignores directory times). */
        set_time(fd, "same2", T + 100, 0);
        /* Directories above changes get new times from the changes; give them whole seconds again. */
        const char *dirs[] = { "etc", "bin", "var/lib/d1/d2", "var", "t1", "new", "new/sub", "a", "." };
        for (size_t k = 0; k < ELEMENTSOF(dirs); k++)
                set_time(fd, dirs[k], T + 50, 0);
}

/* A v2 security.capability value (cap_net_bind_service permitted): root only. */
static bool set_cap(int fd, const char *path) {
        uint32_t v[5] = { 0x02000000, 1U << 10, 0, 0, 0 };
        _cleanup_close_ int f = openat(fd, path, O_RDONLY | O_CLOEXEC);
        ASSERT(f >= 0);
        return fsetxattr(f, "security.capability", v, sizeof(v), 0) == 0;
}

static char *format_changes(TreeChange *c, size_t n) {
        char *out = strdup("");
        ASSERT(out);
        for (size_t k = 0; k < n; k++) {
                char *p = NULL;
                ASSERT(asprintf(&p, "%s%c %s\n", out, c[k].kind, c[k].path) >= 0);
                free(out);
                out = p;
        }
        return out;
}

static char *changes_of(int lower, int upper) {
        TreeChange *c = NULL;
        size_t n = 0;
        int r = tree_changes(lower, upper, &c, &n);
        CHECK_INT(r, 0);
        if (r < 0)
                return strdup("(error)");
        char *s = format_changes(c, n);
        tree_changes_free(c, n);
        return s;
}

static void test_changes(void) {
        _cleanup_free_ char *base = make_temp(), *got = NULL, *expected = NULL;
        _cleanup_close_ int lower = open_dir(base, "lower"), upper = open_dir(base, "upper");
        bool cap;

        build_lower(lower);
        build_lower(upper);
        got = changes_of(lower, upper);
        CHECK_STR(got, ""); /* same contents, other inodes */
        free(got);

        modify_upper(upper, true);
        cap = is_root && set_cap(upper, "capf");
        if (!cap)
                printf("# security.capability not set here: not compared\n");
        got = changes_of(lower, upper);
        ASSERT(asprintf(&expected,
                        "C a\n"
                        "A a/y\n"
                        "C bin\n"
                        "C bin/hl\n"
                        "A bin/newfifo\n"
                        "C bin/sh\n"
                        "%s"
                        "C etc\n"
                        "D etc/gone\n"
                        "C etc/passwd\n"
                        "C m\n"
                        "C mt\n"
                        "A new\n"
                        "A new/a\n"
                        "A new/sub\n"
                        "A new/sub/b\n"
                        "C o\n"
                        "C sl\n"
                        "C t1\n"
                        "A t1/x\n"
                        "C t2\n"
                        "C var\n"
                        "D var/cache\n"
                        "C var/lib\n"
                        "C var/lib/d1\n"
                        "C var/lib/d1/d2\n"
                        "A var/lib/d1/d2/deep\n",
                        cap ? "C capf\n" : "") >= 0);
        CHECK_STR(got, expected);
        free(got);

        /* Against nothing: everything is added. */
        got = changes_of(-1, lower);
        CHECK(startswith(got, "A a\nA a-b\nA a/x\nA bin\nA bin/hl\nA bin/link\nA bin/sh\nA capf\nA etc\n"));
        free(got);

        /* A tree against itself (the same inodes). */
        got = changes_of(upper, upper);
        CHECK_STR(got, "");

        uint64_t size = 0;
        CHECK_INT(tree_diff_size(lower, upper, &size), 0);
        /* a/y 2, bin/sh+hl once 7, capf 4 (if), etc/passwd 28, m 5, mt 6, new/a 2, new/sub/b 3, o 6,
         * sl 1, t1/x 2, t2 11, deep 5; fifos 0 */
        CHECK_INT(size, 2 + 7 + (cap ? 4 : 0) + 28 + 5 + 6 + 2 + 3 + 6 + 1 + 2 + 11 + 5);
        (void) rm_rf(base);
}

static int extract(int tar_fd, int dest_fd, TarExtractFlags flags) {
        _cleanup_free_ char *error = NULL;
        ASSERT(lseek(tar_fd, 0, SEEK_SET) == 0);
        int r = tar_extract_full(tar_fd, dest_fd, flags, NULL, &error);
        if (r < 0)
                printf("# extract: %d %s\n", r, error ?: "");
        return r;
}

static char *list_archive(int fd) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        char *out = strdup("");

        ASSERT(a && out && lseek(fd, 0, SEEK_SET) == 0);
        ASSERT(archive_read_support_format_tar(a) == ARCHIVE_OK);
        ASSERT(archive_read_open_fd(a, fd, 4096) == ARCHIVE_OK);
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                char *n = NULL;
                ASSERT(asprintf(&n, "%s%s%s%s\n", out, archive_entry_pathname(e),
                                archive_entry_hardlink(e) ? " => " : "", archive_entry_hardlink(e) ?: "") >= 0);
                free(out);
                out = n;
        }
        archive_read_free(a);
        return out;
}

/* The diff tarball applied to a copy of lower gives upper. */
static void test_round_trip(void) {
        _cleanup_free_ char *base = make_temp(), *got = NULL, *error = NULL, *listing = NULL;
        _cleanup_close_ int lower = open_dir(base, "lower"), upper = open_dir(base, "upper"),
                            applied = open_dir(base, "applied"), tar = memfd_create("diff", MFD_CLOEXEC),
                            tar2 = memfd_create("diff2", MFD_CLOEXEC);
        struct stat a, b;

        ASSERT(tar >= 0 && tar2 >= 0);
        build_lower(lower);
        build_lower(upper);
        build_lower(applied);
        modify_upper(upper, false);
        CHECK_INT(tree_diff_write(lower, upper, tar, &error), 0);
        listing = list_archive(tar);
        /* Depth first with names sorted per directory ("a/" before "a-b"), as tar_write_tree. */
        CHECK_STR(listing,
                  "a/\n"
                  "a/y\n"
                  "bin/\n"
                  "bin/hl\n"
                  "bin/newfifo\n"
                  "bin/sh => bin/hl\n"
                  "etc/\n"
                  "etc/.wh.gone\n"
                  "etc/passwd\n"
                  "m\n"
                  "mt\n"
                  "new/\n"
                  "new/a\n"
                  "new/sub/\n"
                  "new/sub/b\n"
                  "o\n"
                  "sl\n"
                  "t1/\n"
                  "t1/x\n"
                  "t2\n"
                  "var/\n"
                  "var/.wh.cache\n"
                  "var/lib/\n"
                  "var/lib/d1/\n"
                  "var/lib/d1/d2/\n"
                  "var/lib/d1/d2/deep\n");

        /* Deterministic. */
        CHECK_INT(tree_diff_write(lower, upper, tar2, &error), 0);
        ASSERT(fstat(tar, &a) == 0 && fstat(tar2, &b) == 0);
        CHECK_INT(a.st_size, b.st_size);

        CHECK_INT(extract(tar, applied, TAR_EXTRACT_APPLY_WHITEOUTS), 0);
        got = changes_of(applied, upper);
        CHECK_STR(got, "");
        CHECK(fstatat(applied, "bin/sh", &a, AT_SYMLINK_NOFOLLOW) == 0 &&
              fstatat(applied, "bin/hl", &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino);
        /* Applied again (idempotent): still upper. */
        CHECK_INT(extract(tar, applied, TAR_EXTRACT_APPLY_WHITEOUTS), 0);
        free(got);
        got = changes_of(applied, upper);
        CHECK_STR(got, "");

        /* Against nothing: the whole tree, extracted into an empty directory. */
        _cleanup_close_ int full = memfd_create("full", MFD_CLOEXEC), fresh = open_dir(base, "fresh");
        CHECK_INT(tree_diff_write(-1, upper, full, &error), 0);
        CHECK_INT(extract(full, fresh, TAR_EXTRACT_APPLY_WHITEOUTS), 0);
        /* ... and byte for byte what tar_write_tree() makes of the tree. */
        _cleanup_close_ int whole = memfd_create("whole", MFD_CLOEXEC);
        _cleanup_free_ char *x = NULL, *y = NULL;
        size_t nx = 0, ny = 0;
        CHECK_INT(tar_write_tree(upper, whole, &error), 0);
        ASSERT(lseek(full, 0, SEEK_SET) == 0 && lseek(whole, 0, SEEK_SET) == 0);
        ASSERT(read_full_fd(full, &x, &nx) >= 0 && read_full_fd(whole, &y, &ny) >= 0);
        CHECK(nx == ny && memcmp(x, y, nx) == 0);
        free(got);
        got = changes_of(fresh, upper);
        CHECK_STR(got, "");
        (void) rm_rf(base);
}

/* Deeper than the levels that keep their descriptors open during the walk. */
static void test_deep(void) {
        _cleanup_free_ char *base = make_temp(), *got = NULL, *error = NULL;
        _cleanup_close_ int lower = open_dir(base, "lower"), upper = open_dir(base, "upper"),
                            applied = open_dir(base, "applied"), tar = memfd_create("deep", MFD_CLOEXEC);
        char path[4096] = "";
        const unsigned depth = 300;
        TreeChange *c = NULL;
        size_t n = 0;

        for (unsigned k = 0; k < depth; k++) {
                strcat(path, k ? "/d" : "d");
                mk_dir(lower, path);
                mk_dir(upper, path);
                mk_dir(applied, path);
                _cleanup_free_ char *side = strjoin(path, "/side");
                ASSERT(side);
                mk_dir(upper, side);
        }
        _cleanup_free_ char *leaf = strjoin(path, "/leaf");
        mk_file(upper, leaf, "leaf\n", 0644);
        CHECK_INT(tree_changes(lower, upper, &c, &n), 0);
        /* Each level: C d..., A d.../side; plus the leaf. */
        CHECK_INT(n, 2 * depth + 1);
        if (n == 2 * depth + 1) {
                CHECK_STR(c[0].path, "d");
                CHECK_INT(c[0].kind, 'C');
                CHECK_STR(c[n - 1].path, "d/side"); /* sorted by path: "d/d..." before "d/side" */
                bool found = false;
                for (size_t k = 0; k < n; k++)
                        found = found || (streq(c[k].path, leaf) && c[k].kind == 'A');
                CHECK(found);
        }
        tree_changes_free(c, n);

        CHECK_INT(tree_diff_write(lower, upper, tar, &error), 0);
        CHECK_INT(extract(tar, applied, TAR_EXTRACT_APPLY_WHITEOUTS), 0);
        got = changes_of(applied, upper);
        /* Directory times are not compared, so nothing remains. */
        CHECK_STR(got, "");
        (void) rm_rf(base);
}

/* Neither walked through a symlink nor into another file system mounted in the tree. */
static void test_no_follow_no_mounts(void) {
        _cleanup_free_ char *base = make_temp(), *got = NULL, *outside = NULL, *mnt = NULL;
        _cleanup_close_ int lower = open_dir(base, "lower"), upper = open_dir(base, "upper"),
                            out = open_dir(base, "outside");

        mk_file(out, "secret", "s\n", 0644);
        outside = strjoin(base, "/outside");
        mk_dir(lower, "x");
        mk_file(lower, "x/f", "f\n", 0644);
        mk_link(upper, outside, "x"); /* a directory became a symlink to a directory with contents */
        mk_dir(lower, "m");
        mk_dir(upper, "m");
        mk_link(lower, "outside", "l");
        mk_link(upper, "outside", "l");
        got = changes_of(lower, upper);
        CHECK_STR(got, "C x\n");

        mnt = strjoin(base, "/upper/m");
        if (!is_root || mount("tmpfs", mnt, "tmpfs", 0, "mode=0700") < 0) {
                printf("skip the mount point part (%s)\n", is_root ? "cannot mount" : "not root");
                (void) rm_rf(base);
                return;
        }
        _cleanup_close_ int m = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT(m >= 0);
        mk_file(m, "inside", "i\n", 0644);
        free(got);
        got = changes_of(lower, upper);
        CHECK_STR(got, "C x\n"); /* "m" is another file system now: not compared at all */
        m = safe_close(m);
        ASSERT(umount2(mnt, MNT_DETACH) == 0);
        (void) rm_rf(base);
}

typedef struct Builder {
        struct archive *a;
        int fd;
} Builder;

static Builder builder_new(void) {
        Builder b = { .a = archive_write_new(), .fd = memfd_create("t", MFD_CLOEXEC) };
        ASSERT(b.a && b.fd >= 0);
        ASSERT(archive_write_set_format_pax_restricted(b.a) == ARCHIVE_OK);
        ASSERT(archive_write_open_fd(b.a, b.fd) == ARCHIVE_OK);
        return b;
}

/* type 'f' file (content), 'd' directory, 'l' symlink (content = target), 'h' hard link (content). */
static void add(Builder *b, char type, const char *path, const char *content) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, path);
        archive_entry_set_perm(e, type == 'd' ? 0755 : 0644);
        archive_entry_set_mtime(e, T, 0);
        archive_entry_set_filetype(e, type == 'd' ? AE_IFDIR : type == 'l' ? AE_IFLNK : AE_IFREG);
        if (type == 'l')
                archive_entry_set_symlink(e, content);
        if (type == 'h')
                archive_entry_set_hardlink(e, content);
        if (type == 'f')
                archive_entry_set_size(e, (la_int64_t) strlen(content));
        ASSERT(archive_write_header(b->a, e) == ARCHIVE_OK);
        if (type == 'f')
                ASSERT(archive_write_data(b->a, content, strlen(content)) == (la_ssize_t) strlen(content));
        archive_entry_free(e);
}

static int builder_finish(Builder *b) {
        ASSERT(archive_write_close(b->a) == ARCHIVE_OK);
        archive_write_free(b->a);
        return b->fd;
}

static bool exists(int fd, const char *path) {
        struct stat st;
        return fstatat(fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static char *read_text(int fd, const char *path) {
        _cleanup_close_ int f = openat(fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        char *s = NULL;
        size_t len;
        if (f < 0 || read_full_fd(f, &s, &len) < 0)
                return strdup("(missing)");
        return s;
}

/* A lower tree for the whiteout tests, with a symlink out of it to a victim directory. */
static void build_layer_lower(int fd, const char *victim) {
        mk_dir(fd, "d");
        mk_file(fd, "d/old1", "old\n", 0644);
        mk_dir(fd, "d/keep");
        mk_file(fd, "d/keep/oldk", "old\n", 0644);
        mk_dir(fd, "d/keep/oldsub");
        mk_file(fd, "d/x", "x\n", 0644);
        mk_dir(fd, "e");
        mk_file(fd, "e/f", "f\n", 0644);
        mk_file(fd, "top", "top\n", 0644);
        mk_file(fd, "file2dir", "f\n", 0644);
        mk_dir(fd, "dir2file");
        mk_file(fd, "dir2file/c", "c\n", 0644);
        mk_link(fd, victim, "lnk");
        mk_dir(fd, "kept");
        ASSERT(fchmodat(fd, "kept", 0700, 0) == 0);
        mk_link(fd, "victim", "rel");
        mk_file(fd, "file2", "f\n", 0644);
        mk_file(fd, "kept/lowerchild", "l\n", 0644);
}

static void test_apply_whiteouts(void) {
        _cleanup_free_ char *base = make_temp(), *victim = strjoin(base, "/victim"), *s = NULL;
        _cleanup_close_ int dest = open_dir(base, "dest"), vfd = -1;
        struct stat a, b;

        ASSERT(victim && mkdir(victim, 0755) == 0);
        vfd = open(victim, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT(vfd >= 0);
        mk_file(vfd, "v", "victim\n", 0644);
        build_layer_lower(dest, victim);

        /* The marker after this layer's own entries of the directory, and entries after it. */
        Builder bl = builder_new();
        add(&bl, 'd', "d/", NULL);
        add(&bl, 'f', "d/new1", "new\n");
        add(&bl, 'd', "d/keep/", NULL);
        add(&bl, 'f', "d/keep/newk", "newk\n");
        add(&bl, 'f', "d/implicit/child", "c\n"); /* parent not listed: kept all the same */
        add(&bl, 'f', "d/.wh..wh..opq", "");
        add(&bl, 'f', "d/after", "after\n");
        add(&bl, 'f', ".wh.e", "");
        add(&bl, 'f', ".wh.nonexistent", "");
        add(&bl, 'f', "missing/.wh.x", "");
        add(&bl, 'f', "lnk/.wh.v", ""); /* through a symlink: nothing to delete */
        add(&bl, 'h', "hl", "top"); /* a hard link to a file of the layers below */
        add(&bl, 'd', "file2dir/", NULL);
        add(&bl, 'f', "file2dir/in", "in\n");
        add(&bl, 'f', "dir2file", "now a file\n");
        add(&bl, 'd', "kept/", NULL); /* a directory over a directory keeps its contents */
        add(&bl, 'f', "top", "replaced\n");
        add(&bl, 'f', "rel/through", "t\n"); /* the symlink's place becomes a directory */
        add(&bl, 'f', "file2/under/x", "x\n"); /* so does a file's */
        int tar = builder_finish(&bl);
        CHECK_INT(extract(tar, dest, TAR_EXTRACT_APPLY_WHITEOUTS), 0);
        close(tar);

        CHECK(exists(dest, "d/new1"));
        CHECK(exists(dest, "d/keep/newk"));
        CHECK(exists(dest, "d/implicit/child"));
        CHECK(exists(dest, "d/after"));
        CHECK(!exists(dest, "d/old1"));
        CHECK(!exists(dest, "d/x"));
        CHECK(!exists(dest, "d/keep/oldk"));
        CHECK(!exists(dest, "d/keep/oldsub"));
        CHECK(!exists(dest, "e"));
        CHECK(!exists(dest, "missing"));
        CHECK(exists(vfd, "v"));
        CHECK(exists(dest, "lnk"));
        CHECK(fstatat(dest, "file2dir", &a, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(a.st_mode));
        CHECK(exists(dest, "file2dir/in"));
        CHECK(fstatat(dest, "dir2file", &a, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(a.st_mode));
        CHECK(exists(dest, "kept/lowerchild"));
        CHECK(fstatat(dest, "kept", &a, AT_SYMLINK_NOFOLLOW) == 0 && (a.st_mode & 07777) == 0755);
        CHECK(fstatat(dest, "rel", &a, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(a.st_mode) && (a.st_mode & 07777) == 0755);
        CHECK(exists(dest, "rel/through"));
        CHECK(fstatat(dest, "file2", &a, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(a.st_mode));
        CHECK(exists(dest, "file2/under/x"));
        /* hl linked the lower "top"; the later "top" entry replaced the name, not the inode. */
        s = read_text(dest, "hl");
        CHECK_STR(s, "top\n");
        free(s);
        s = read_text(dest, "top");
        CHECK_STR(s, "replaced\n");
        free(s);
        s = NULL;

        /* The marker first: only what comes after it stays. */
        Builder b2 = builder_new();
        add(&b2, 'f', "d/.wh..wh..opq", "");
        add(&b2, 'f', "d/only", "only\n");
        add(&b2, 'f', ".wh.lnk", ""); /* the symlink goes, not what it points to */
        tar = builder_finish(&b2);
        CHECK_INT(extract(tar, dest, TAR_EXTRACT_APPLY_WHITEOUTS), 0);
        close(tar);
        CHECK(exists(dest, "d/only"));
        CHECK(!exists(dest, "d/new1"));
        CHECK(!exists(dest, "d/after"));
        CHECK(!exists(dest, "d/keep"));
        CHECK(!exists(dest, "lnk"));
        CHECK(exists(vfd, "v"));

        /* An opaque root. */
        Builder b3 = builder_new();
        add(&b3, 'f', "keepme", "k\n");
        add(&b3, 'f', ".wh..wh..opq", "");
        tar = builder_finish(&b3);
        CHECK_INT(extract(tar, dest, TAR_EXTRACT_APPLY_WHITEOUTS), 0);
        close(tar);
        CHECK(exists(dest, "keepme"));
        CHECK(!exists(dest, "d"));
        CHECK(!exists(dest, "top"));
        CHECK(exists(vfd, "v"));

        /* Without the flag, whiteouts stay overlay ones (root: mknod 0/0). */
        if (is_root) {
                _cleanup_close_ int plain = open_dir(base, "plain");
                Builder b4 = builder_new();
                add(&b4, 'f', ".wh.gone", "");
                tar = builder_finish(&b4);
                CHECK_INT(extract(tar, plain, 0), 0);
                close(tar);
                CHECK(fstatat(plain, "gone", &b, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(b.st_mode));
        }
        (void) rm_rf(base);
}

int main(void) {
        umask(022);
        is_root = geteuid() == 0;
        TEST(test_changes);
        TEST(test_round_trip);
        TEST(test_deep);
        TEST(test_no_follow_no_mounts);
        TEST(test_apply_whiteouts);
        return tests_exit_status();
}
