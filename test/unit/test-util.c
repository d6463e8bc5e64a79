/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "tests.h"
#include "util.h"

static void test_parse_size(void) {
        uint64_t v = 0;

        CHECK_INT(parse_size("512m", &v), 0);
        CHECK_INT(v, 512ULL << 20);
        CHECK_INT(parse_size("1g", &v), 0);
        CHECK_INT(v, 1ULL << 30);
        CHECK_INT(parse_size("1G", &v), 0);
        CHECK_INT(v, 1ULL << 30);
        CHECK_INT(parse_size("1.5k", &v), 0);
        CHECK_INT(v, 1536);
        CHECK_INT(parse_size("12", &v), 0);
        CHECK_INT(v, 12);
        CHECK_INT(parse_size("0", &v), 0);
        CHECK_INT(v, 0);
        CHECK_INT(parse_size("100mb", &v), 0);
        CHECK_INT(v, 100ULL << 20);
        CHECK_INT(parse_size("7b", &v), 0);
        CHECK_INT(v, 7);

        v = 4242;
        CHECK(parse_size("-1", &v) < 0);
        CHECK(parse_size("1x", &v) < 0);
        CHECK(parse_size("", &v) < 0);
        CHECK(parse_size(NULL, &v) < 0);
        CHECK(parse_size("m", &v) < 0);
        CHECK(parse_size("1mm", &v) < 0);
        CHECK(parse_size(" 1", &v) < 0);
        CHECK(parse_size("99999999999t", &v) < 0);
        CHECK_INT(v, 4242); /* untouched on failure */
}

static void test_parse_numbers(void) {
        uint64_t u = 0;
        int i = 0;

        CHECK_INT(parse_uint64("18446744073709551615", &u), 0);
        CHECK(u == UINT64_MAX);
        CHECK_INT(parse_uint64("18446744073709551616", &u), -ERANGE);
        CHECK(parse_uint64("-1", &u) < 0);
        CHECK(parse_uint64("1 ", &u) < 0);
        CHECK_INT(parse_int("-42", &i), 0);
        CHECK_INT(i, -42);
        CHECK_INT(parse_int("2147483648", &i), -ERANGE);
        CHECK(parse_int("4k", &i) < 0);
}

static void test_ids(void) {
        char a[BERTH_ID_LEN + 1], b[BERTH_ID_LEN + 1];

        CHECK_INT(random_hex_id(a), 0);
        CHECK_INT(random_hex_id(b), 0);
        CHECK_INT(strlen(a), BERTH_ID_LEN);
        CHECK(id_is_valid(a));
        CHECK(id_is_valid(b));
        CHECK(strcmp(a, b) != 0);

        CHECK(hex_prefix_is_valid("0"));
        CHECK(hex_prefix_is_valid("abc123"));
        CHECK(hex_prefix_is_valid(a));
        CHECK(!hex_prefix_is_valid(""));
        CHECK(!hex_prefix_is_valid(NULL));
        CHECK(!hex_prefix_is_valid("ABC"));
        CHECK(!hex_prefix_is_valid("xyz"));
        CHECK(!hex_prefix_is_valid("ab cd"));

        char longer[BERTH_ID_LEN + 2];
        memcpy(longer, a, BERTH_ID_LEN);
        longer[BERTH_ID_LEN] = '0';
        longer[BERTH_ID_LEN + 1] = 0;
        CHECK(!hex_prefix_is_valid(longer));
        CHECK(!id_is_valid(longer));

        a[BERTH_ID_LEN - 1] = 0;
        CHECK(!id_is_valid(a));
        CHECK(hex_prefix_is_valid(a));
        CHECK(!id_is_valid(NULL));
        CHECK(!id_is_valid("G000000000000000000000000000000000000000000000000000000000000000"));
}

static char *make_tmpdir(void) {
        const char *base = getenv("TMPDIR") ?: "/tmp";
        char *p = NULL;

        ASSERT(asprintf(&p, "%s/test-util-XXXXXX", base) > 0);
        ASSERT(mkdtemp(p));
        return p;
}

static void test_files(void) {
        _cleanup_free_ char *dir = make_tmpdir(), *path = NULL, *data = NULL;
        size_t len = 0;
        struct stat st;

        ASSERT(asprintf(&path, "%s/file", dir) > 0);
        CHECK_INT(write_file_atomic(path, "hello\0world", 11, 0640), 0);
        CHECK_INT(read_full_file(path, &data, &len), 0);
        CHECK_INT(len, 11);
        CHECK(data && memcmp(data, "hello\0world", 11) == 0);
        CHECK(data && data[len] == 0);
        CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode));

        /* Replacing keeps no temporary files behind. */
        free(data);
        data = NULL;
        CHECK_INT(write_file_atomic(path, "x", 1, 0600), 0);
        CHECK_INT(read_full_file(path, &data, &len), 0);
        CHECK_INT(len, 1);
        CHECK_STR(data, "x");

        /* Something larger than the initial read buffer. */
        size_t big_len = 100000;
        _cleanup_free_ char *big = malloc(big_len);
        ASSERT(big);
        for (size_t i = 0; i < big_len; i++)
                big[i] = (char) ('a' + i % 26);
        CHECK_INT(write_file_atomic(path, big, big_len, 0600), 0);
        free(data);
        data = NULL;
        CHECK_INT(read_full_file(path, &data, &len), 0);
        CHECK_INT(len, big_len);
        CHECK(data && memcmp(data, big, big_len) == 0);

        _cleanup_free_ char *missing = NULL;
        ASSERT(asprintf(&missing, "%s/missing", dir) > 0);
        char *untouched = (char *) 0x1;
        CHECK_INT(read_full_file(missing, &untouched, NULL), -ENOENT);
        CHECK(untouched == (char *) 0x1);

        _cleanup_free_ char *deep = NULL;
        ASSERT(asprintf(&deep, "%s/a/b/c", dir) > 0);
        CHECK_INT(mkdir_p(deep, 0755), 0);
        CHECK_INT(mkdir_p(deep, 0755), 0);
        CHECK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode));

        CHECK_INT(rm_rf(dir), 0);
        CHECK(access(dir, F_OK) < 0 && errno == ENOENT);
        CHECK_INT(rm_rf(dir), 0); /* ENOENT counts as success */
}

/* write_file_replace(): the same replacement without fsync (runtime state on /run). */
static void test_file_replace(void) {
        _cleanup_free_ char *dir = make_tmpdir(), *path = NULL, *data = NULL;
        size_t len = 0;
        struct stat st;

        ASSERT(dir);
        ASSERT(asprintf(&path, "%s/state.json", dir) > 0);
        CHECK_INT(write_file_replace(path, "{\"a\":1}\n", 8, 0600), 0);
        CHECK_INT(write_file_replace(path, "{}\n", 3, 0600), 0);
        CHECK_INT(read_full_file(path, &data, &len), 0);
        CHECK_INT(len, 3);
        CHECK_STR(data, "{}\n");
        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
        /* Nothing left beside it. */
        DIR *d = opendir(dir);
        ASSERT(d);
        size_t n = 0;
        for (struct dirent *de; (de = readdir(d));)
                n += de->d_name[0] != '.';
        closedir(d);
        CHECK_INT(n, 1);
        /* A directory that is not there: the error, no file. */
        _cleanup_free_ char *missing = NULL;
        ASSERT(asprintf(&missing, "%s/none/state.json", dir) > 0);
        CHECK_INT(write_file_replace(missing, "x", 1, 0600), -ENOENT);
        CHECK_INT(rm_rf(dir), 0);
}

static void test_files_batch(void) {
        _cleanup_free_ char *dir = make_tmpdir(), *a = NULL, *b = NULL, *bad = NULL, *data = NULL;
        size_t len;

        ASSERT(dir);
        ASSERT(asprintf(&a, "%s/a", dir) > 0 && asprintf(&b, "%s/b", dir) > 0);
        ASSERT(asprintf(&bad, "%s/missing/c", dir) > 0);
        CHECK_INT(write_file_atomic(b, "old", 3, 0600), 0);
        AtomicFile files[] = {
                { .path = a, .data = "one", .len = 3, .mode = 0600 },
                { .path = bad, .data = "lost", .len = 4, .mode = 0600 },
                { .path = b, .data = "two", .len = 3, .mode = 0644 },
        };
        write_files_atomic(files, 3, true);
        /* One file that cannot be written fails alone; the others are in place. */
        CHECK_INT(files[0].r, 0);
        CHECK_INT(files[1].r, -ENOENT);
        CHECK_INT(files[2].r, 0);
        CHECK_INT(read_full_file(a, &data, &len), 0);
        CHECK_STR(data, "one");
        free(data);
        data = NULL;
        CHECK_INT(read_full_file(b, &data, &len), 0);
        CHECK_STR(data, "two");
        /* No temporary files left behind. */
        DIR *d = opendir(dir);
        size_t entries = 0;
        ASSERT(d);
        for (struct dirent *de; (de = readdir(d));)
                entries += de->d_name[0] != '.';
        closedir(d);
        CHECK_INT(entries, 2);
        write_files_atomic(NULL, 0, false);
        CHECK_INT(rm_rf(dir), 0);
}

static void test_rm_rf_no_follow(void) {
        _cleanup_free_ char *root = make_tmpdir(), *dir = NULL, *outside = NULL, *victim = NULL, *link = NULL,
                            *filelink = NULL, *sub = NULL;
        struct stat st;

        ASSERT(asprintf(&dir, "%s/dir", root) > 0);
        ASSERT(asprintf(&outside, "%s/outside", root) > 0);
        ASSERT(asprintf(&victim, "%s/outside/precious", root) > 0);
        ASSERT(asprintf(&link, "%s/dir/link", root) > 0);
        ASSERT(asprintf(&filelink, "%s/dir/sub/filelink", root) > 0);
        ASSERT(asprintf(&sub, "%s/dir/sub", root) > 0);
        ASSERT(mkdir(dir, 0755) == 0);
        ASSERT(mkdir(sub, 0755) == 0);
        ASSERT(mkdir(outside, 0755) == 0);
        ASSERT(write_file_atomic(victim, "keep", 4, 0644) == 0);
        ASSERT(symlink(outside, link) == 0);
        ASSERT(symlink(victim, filelink) == 0);

        CHECK_INT(rm_rf(dir), 0);
        CHECK(lstat(dir, &st) < 0 && errno == ENOENT);
        CHECK(stat(victim, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4);
        CHECK(stat(outside, &st) == 0 && S_ISDIR(st.st_mode));

        /* rm_rf() of a symlink removes the link, not its target. */
        ASSERT(symlink(outside, dir) == 0);
        CHECK_INT(rm_rf(dir), 0);
        CHECK(lstat(dir, &st) < 0 && errno == ENOENT);
        CHECK(stat(victim, &st) == 0);

        CHECK_INT(rm_rf(root), 0);
}

/* A tree far deeper than the descriptor limit or a recursive walk's stack would allow. */
static void test_rm_rf_deep(void) {
        char root[] = "/tmp/berth-test-deep-XXXXXX";
        struct rlimit saved, low = { .rlim_cur = 32, .rlim_max = 0 };
        CHECK(mkdtemp(root) != NULL);
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);
        for (int i = 0; i < 5000 && fd >= 0; i++) {
                CHECK_INT(mkdirat(fd, "d", 0755), 0);
                if (i % 100 == 0) {
                        int f = openat(fd, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                        CHECK(f >= 0);
                        close(f);
                }
                int child = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                close(fd);
                fd = child;
        }
        if (fd >= 0)
                close(fd);
        CHECK_INT(getrlimit(RLIMIT_NOFILE, &saved), 0);
        low.rlim_max = saved.rlim_max;
        CHECK_INT(setrlimit(RLIMIT_NOFILE, &low), 0);
        CHECK_INT(rm_rf(root), 0);
        CHECK_INT(setrlimit(RLIMIT_NOFILE, &saved), 0);
        CHECK(access(root, F_OK) < 0 && errno == ENOENT);
}

static void test_close_all_fds_except(void) {
        int fds[6];
        for (int i = 0; i < 6; i++)
                fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        pid_t pid = fork();
        if (pid == 0) {
                if (close_all_fds_except((const int[]){ fds[4], fds[1] }, 2) < 0)
                        _exit(2);
                for (int i = 0; i < 6; i++) {
                        bool open_now = fcntl(fds[i], F_GETFD) >= 0;
                        if (open_now != (i == 1 || i == 4))
                                _exit(1);
                }
                _exit(fcntl(0, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0 ? 0 : 3);
        }
        int status = -1;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        for (int i = 0; i < 6; i++)
                close(fds[i]);
}

static void test_strv(void) {
        _cleanup_strv_free_ char **l = NULL, **copy = NULL;
        _cleanup_free_ char *joined = NULL, *empty = NULL;

        CHECK_INT(strv_length(NULL), 0);
        CHECK_INT(strv_push(&l, "a"), 0);
        CHECK_INT(strv_push(&l, "bb"), 0);
        CHECK_INT(strv_push(&l, ""), 0);
        CHECK_INT(strv_length(l), 3);
        CHECK_STR(l[0], "a");
        CHECK_STR(l[1], "bb");
        CHECK_STR(l[2], "");
        CHECK(l[3] == NULL);

        copy = strv_copy(l);
        ASSERT(copy);
        CHECK_INT(strv_length(copy), 3);
        CHECK(copy[0] != l[0]);
        CHECK_STR(copy[1], "bb");

        joined = strv_join(l, ", ");
        CHECK_STR(joined, "a, bb, ");
        empty = strv_join(NULL, ",");
        CHECK_STR(empty, "");

        strv_free(NULL);
}

static void test_timestamps(void) {
        _cleanup_free_ char *zero = format_timestamp_rfc3339(0), *t = format_timestamp_rfc3339(1700000000123456ULL),
                            *whole = format_timestamp_rfc3339(86400ULL * USEC_PER_SEC);

        CHECK_STR(zero, "0001-01-01T00:00:00Z");
        /* 1700000000 is 2023-11-14 22:13:20 UTC; the fraction must carry the microseconds. */
        CHECK(t && strncmp(t, "2023-11-14T22:13:20.123456", 26) == 0);
        CHECK(t && t[strlen(t) - 1] == 'Z');
        CHECK(whole && strncmp(whole, "1970-01-02T00:00:00", 19) == 0);

        uint64_t now = now_realtime_usec();
        CHECK(now > 1700000000ULL * USEC_PER_SEC);

        _cleanup_free_ char *d1 = format_duration_human(5 * USEC_PER_SEC),
                            *d2 = format_duration_human(3 * 3600 * USEC_PER_SEC);
        CHECK_STR(d1, "5 seconds");
        CHECK_STR(d2, "3 hours");
}

int main(void) {
        TEST(test_parse_size);
        TEST(test_parse_numbers);
        TEST(test_ids);
        TEST(test_files);
        TEST(test_file_replace);
        TEST(test_files_batch);
        TEST(test_rm_rf_no_follow);
        TEST(test_rm_rf_deep);
        TEST(test_close_all_fds_except);
        TEST(test_strv);
        TEST(test_timestamps);
        return tests_exit_status();
}
