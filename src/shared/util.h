/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

#define BERTH_ID_LEN       64
#define BERTH_SHORT_ID_LEN 12

/* NULL-terminated string vectors. */
void strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
size_t strv_length(char *const *l);
char **strv_copy(char *const *l);
int strv_push(char ***l, const char *value);
/* strv_push() for lists built only by it, with *n their length (0 with *l NULL at first): O(1)
 * amortized, for lists as long as a user may make them. */
int strv_push_counted(char ***l, size_t *n, const char *value);
char *strv_join(char *const *l, const char *separator);
bool strv_contains(char *const *l, const char *s);
#define STRV_MAKE(...) ((char *[]){ __VA_ARGS__, NULL })
/* The rest of s after prefix, or NULL when s does not start with it. */
const char *startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);
/* Docker's label filter over "key=value" strings: "KEY" matches a label KEY with any value,
 * "KEY=VALUE" only that value. */
bool labels_match(char *const *labels, const char *filter);
/* The concatenation of the strings (a NULL-terminated list; the macro adds the NULL). */
char *strjoin_real(const char *first, ...) _sentinel_;
#define strjoin(a, ...) strjoin_real((a), __VA_ARGS__, NULL)

/* 64 lowercase hex digits from the kernel's CSPRNG. */
int random_hex_id(char ret[BERTH_ID_LEN + 1]);
bool id_is_valid(const char *s);
bool hex_prefix_is_valid(const char *s);
/* The value of one hex digit (either case), -1 for anything else. */
int unhexchar(char c);

/* Files. write_file_atomic() writes a temporary file beside path, fsyncs it, renames it into
 * place and fsyncs the directory, so readers see the old or the new content, never a mix. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same for n files at once (each gets its own result in r), in two journal commits; without
 * sync_dirs in one: the new content is on disk before it replaces the old, so a crash leaves the
 * one or the other, but the replacement itself lasts only once the file system commits it (ext4:
 * within 5 s), as with Docker's container records. */
typedef struct AtomicFile {
        const char *path;
        const void *data;
        size_t len;
        mode_t mode;
        int r;
} AtomicFile;
void write_files_atomic(AtomicFile *files, size_t n, bool sync_dirs);
/* Replaces path the same way (a temporary file beside it, renamed over it: never torn for a
 * reader), but syncs nothing: for files on a tmpfs, or whose loss in a crash of the machine does
 * not matter. */
int write_file_replace(const char *path, const void *data, size_t len, mode_t mode);
int read_full_file(const char *path, char **ret, size_t *ret_len);
int read_full_fd(int fd, char **ret, size_t *ret_len);
int mkdir_p(const char *path, mode_t mode);
/* A copy of the path with repeated and trailing slashes removed ("/a//b/" → "/a/b"). */
char *path_simplify_dup(const char *path);
/* Remove a tree without ever following a symlink; ENOENT counts as success. */
int rm_rf(const char *path);
/* Apparent bytes of the files under path (as Docker counts them), 0 when it does not exist. Only
 * lists directories and lstat()s, never crossing mounts nor reading a file: a tree that changes
 * mid-walk can at most make the number wrong. Not thread-safe. */
uint64_t dir_apparent_size(const char *path);
int rm_rf_at(int dirfd, const char *name);
/* A DIR of its own (its own file offset) for the directory behind dirfd, which may be O_PATH;
 * NULL with errno set. */
DIR *opendir_at(int dirfd);
int loop_write(int fd, const void *buf, size_t len);
/* Close every descriptor above 2 except these (at most 16): for a forked worker, which must not
 * hold the bus connection, pidfds or clients' pipes of the daemon it came from. */
int close_all_fds_except(const int keep[], size_t n);
/* sendmsg() of data (at least one byte) with 'fd' attached (SCM_RIGHTS): bytes sent, or -errno. */
ssize_t send_with_fd(int socket, const void *data, size_t len, int fd);
ssize_t send_with_fds(int socket, const void *data, size_t len, const int *fds, size_t n_fds);
/* recvmsg() with up to max_fds descriptors (O_CLOEXEC); further ones are closed. */
ssize_t receive_with_fds(int socket, void *buf, size_t size, int *fds, size_t max_fds, size_t *ret_n_fds);

uint64_t now_realtime_usec(void);
/* RFC 3339 with nanoseconds in UTC, as Docker's inspect prints; "0001-01-01T00:00:00Z" for 0. */
char *format_timestamp_rfc3339(uint64_t usec);
/* "5 seconds", "About a minute", "3 hours" as docker ps prints relative times. */
char *format_duration_human(uint64_t usec);
/* Parse "512m", "1g", "1048576", "2.5k" into bytes; binary units like Docker's --memory. */
int parse_size(const char *s, uint64_t *ret);
int parse_uint64(const char *s, uint64_t *ret);
int parse_int(const char *s, int *ret);
