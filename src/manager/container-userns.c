/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --userns=auto: each such container gets 65536 host uids and gids (the same numbers for both) of
 * its own, allocated at create, kept in container.json for the container's lifetime and freed with
 * it. The pool is the overlap of the /etc/subuid and /etc/subgid entries of user "berth" when both
 * files have one (as an administrator reserves ranges for Podman or Docker's userns-remap), else
 * 0x70000000..0x7FFDFFFF, which systemd leaves unused (docs/DESIGN.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "container.h"
#include "errors.h"

/* The first "user:start:count" line of a subordinate id file. */
static int subid_entry(const char *content, const char *user, uint64_t *ret_start, uint64_t *ret_end) {
        size_t n = strlen(user);
        for (const char *line = content; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                unsigned long long start, count;
                if (strncmp(line, user, n) || line[n] != ':')
                        continue;
                if (sscanf(line + n + 1, "%llu:%llu", &start, &count) != 2 || count == 0 || start > UINT32_MAX)
                        return -EINVAL;
                *ret_start = start;
                *ret_end = start + count;
                return 0;
        }
        return -ENOENT;
}

int userns_pool_from_subid(const char *subuid, const char *subgid, const char *user, uint32_t *ret_start,
                           uint32_t *ret_end) {
        uint64_t us, ue, gs, ge;
        int r;
        if (!subuid || !subgid)
                return -ENOENT;
        if ((r = subid_entry(subuid, user, &us, &ue)) < 0 || (r = subid_entry(subgid, user, &gs, &ge)) < 0)
                return r;
        /* One range serves as uids and gids: only what both files give. 0 (root) never. */
        uint64_t start = us > gs ? us : gs, end = ue < ge ? ue : ge;
        if (start == 0)
                start = 1;
        if (end > (uint64_t) UINT32_MAX)
                end = UINT32_MAX; /* (uid_t) -1 is no id */
        if (end < start)
                end = start;
        *ret_start = (uint32_t) start;
        *ret_end = (uint32_t) end;
        return 0;
}

int userns_pick_base(uint32_t start, uint32_t end, const uint32_t *used, size_t n_used, uint32_t *ret) {
        for (uint64_t b = start; b + USERNS_RANGE <= end; b += USERNS_RANGE) {
                bool taken = false;
                for (size_t i = 0; i < n_used && !taken; i++)
                        taken = used[i] < b + USERNS_RANGE && b < (uint64_t) used[i] + USERNS_RANGE;
                if (!taken) {
                        *ret = (uint32_t) b;
                        return 0;
                }
        }
        return -ENOSPC;
}

int container_userns_allocate(Manager *m, ContainerSecurity *s, sd_bus_error *error) {
        _cleanup_free_ char *subuid = NULL, *subgid = NULL;
        _cleanup_free_ uint32_t *used = NULL;
        uint32_t start = USERNS_POOL_START, end = USERNS_POOL_END;
        size_t n = 0;
        int r;

        s->uid_base = 0;
        if (!streq_ptr(s->userns_mode, "auto"))
                return 0;
        (void) read_full_file("/etc/subuid", &subuid, NULL);
        (void) read_full_file("/etc/subgid", &subgid, NULL);
        r = userns_pool_from_subid(subuid, subgid, "berth", &start, &end);
        if (r == -EINVAL)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        "The entry of user berth in /etc/subuid or /etc/subgid is malformed.");
        for (Container *c = m->containers; c; c = c->next)
                n++;
        used = calloc(n + 1, sizeof(uint32_t));
        if (!used)
                return -ENOMEM;
        n = 0;
        /* Every other container that has a range, wherever it came from (the pool may have changed). */
        for (Container *c = m->containers; c; c = c->next)
                if (c->security.uid_base > 0)
                        used[n++] = c->security.uid_base;
        r = userns_pick_base(start, end, used, n, &s->uid_base);
        if (r < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "No free range of %u user ids is left in %u..%u for --userns=auto.",
                                         USERNS_RANGE, start, end - 1);
        return 0;
}
