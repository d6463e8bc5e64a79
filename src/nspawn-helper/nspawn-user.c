/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Users inside the container come from the image's own /etc/passwd and /etc/group, never from the
 * host's NSS: so this parses the files directly instead of calling getpwnam(). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nspawn-user.h"
#include "util.h"

static bool parse_id(const char *s, unsigned *ret) {
        uint64_t v;
        if (parse_uint64(s, &v) < 0 || v >= UINT32_MAX)
                return false;
        *ret = (unsigned) v;
        return true;
}

/* Find the line whose field 0 is 'name' (or, if by_id, whose field 2 is 'id'); fields split on ':'. */
/* The image's file, opened so that a FIFO or device planted there cannot hang or flood us. */
static FILE *open_image_file(const char *path) {
        struct stat st;
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 16 * 1024 * 1024) {
                close(fd);
                errno = EBADF;
                return NULL;
        }
        FILE *f = fdopen(fd, "r");
        if (!f)
                close(fd);
        return f;
}

static int find_entry(const char *path, const char *name, bool by_id, unsigned id, char *fields[], size_t n_fields,
                      char **ret_line) {
        _cleanup_fclose_ FILE *f = open_image_file(path);
        char *line = NULL;
        size_t cap = 0;

        if (!f)
                return -errno;
        while (getline(&line, &cap, f) > 0) {
                line[strcspn(line, "\n")] = 0;
                _cleanup_free_ char *copy = strdup(line);
                if (!copy)
                        break;
                size_t n = 0;
                char *p = copy;
                for (size_t i = 0; i < n_fields; i++)
                        fields[i] = (char *) ""; /* short lines: missing fields read as empty */
                for (; n < n_fields; n++) {
                        fields[n] = p;
                        p = strchr(p, ':');
                        if (!p)
                                break;
                        *p++ = 0;
                }
                if (n + 1 < 3)
                        continue;
                unsigned v;
                bool match = by_id ? (parse_id(fields[2], &v) && v == id) : streq(fields[0], name);
                if (match) {
                        free(line);
                        *ret_line = TAKE_PTR(copy);
                        return 0;
                }
        }
        free(line);
        return -ENOENT;
}

static void add_supplementary_groups(ContainerUser *u, const char *user_name) {
        _cleanup_fclose_ FILE *f = open_image_file("/etc/group");
        char *line = NULL;
        size_t cap = 0;
        if (!f || !user_name)
                return;
        while (getline(&line, &cap, f) > 0 && u->n_groups < sizeof(u->groups) / sizeof(u->groups[0])) {
                line[strcspn(line, "\n")] = 0;
                char *fields[4] = {};
                char *p = line;
                size_t n = 0;
                for (; n < 4 && p; n++) {
                        fields[n] = p;
                        p = strchr(p, ':');
                        if (p)
                                *p++ = 0;
                }
                unsigned gid;
                if (n < 4 || !parse_id(fields[2], &gid))
                        continue;
                char *save = NULL;
                for (char *m = strtok_r(fields[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
                        if (streq(m, user_name) && gid != u->gid)
                                u->groups[u->n_groups++] = gid;
        }
        free(line);
}

int resolve_container_user(const char *spec, ContainerUser *ret, char *message, size_t size) {
        _cleanup_free_ char *copy = strdup(spec), *pw = NULL, *gr = NULL;
        ContainerUser u = {};
        char *fields[7];
        unsigned id;

        if (!copy)
                return -ENOMEM;
        char *group = strchr(copy, ':');
        if (group)
                *group++ = 0;
        const char *user = copy;
        const char *user_name = NULL;

        if (parse_id(user, &id)) {
                u.uid = id;
                if (find_entry("/etc/passwd", NULL, true, id, fields, 7, &pw) >= 0) {
                        user_name = fields[0];
                        if (parse_id(fields[3], &id))
                                u.gid = id;
                }
        } else {
                if (find_entry("/etc/passwd", user, false, 0, fields, 7, &pw) < 0 || !parse_id(fields[2], &id)) {
                        snprintf(message, size, "unable to find user %s: no matching entries in passwd file", user);
                        return -ESRCH;
                }
                u.uid = id;
                user_name = fields[0];
                if (parse_id(fields[3], &id))
                        u.gid = id;
        }
        if (group) {
                char *gfields[4];
                if (parse_id(group, &id))
                        u.gid = id;
                else if (find_entry("/etc/group", group, false, 0, gfields, 4, &gr) >= 0 && parse_id(gfields[2], &id))
                        u.gid = id;
                else {
                        snprintf(message, size, "unable to find group %s: no matching entries in group file", group);
                        return -ESRCH;
                }
        }
        _cleanup_free_ char *name_copy = user_name ? strdup(user_name) : NULL;
        if (!group)
                add_supplementary_groups(&u, name_copy);
        *ret = u;
        return 0;
}

int add_container_groups(char **groups, ContainerUser *u, char *message, size_t size) {
        for (char **g = groups; g && *g; g++) {
                _cleanup_free_ char *line = NULL;
                char *fields[4];
                unsigned gid;
                if (!parse_id(*g, &gid)) {
                        if (find_entry("/etc/group", *g, false, 0, fields, 4, &line) < 0 ||
                            !parse_id(fields[2], &gid)) {
                                /* runc's words, which Docker passes on */
                                snprintf(message, size, "Unable to find group %s: no matching entries in group file",
                                         *g);
                                return -ESRCH;
                        }
                }
                bool have = false;
                for (size_t i = 0; i < u->n_groups; i++)
                        have = have || u->groups[i] == gid;
                if (have)
                        continue;
                if (u->n_groups >= sizeof(u->groups) / sizeof(u->groups[0]))
                        return -E2BIG;
                u->groups[u->n_groups++] = gid;
        }
        return 0;
}

int switch_to_user(const ContainerUser *u) {
        if (setgroups(u->n_groups, u->groups) < 0)
                return -errno;
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return -errno;
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return -errno;
        return 0;
}
