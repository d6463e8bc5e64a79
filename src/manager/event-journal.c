/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container events as Docker names them (create, start, die, pause, unpause, rename, destroy), into
 * the journal with MESSAGE_ID=BERTH_EVENT_MESSAGE_ID, so that `berthctl events --since` (and the
 * API's) can show what happened before it ran: the live stream comes from berthd's signals, the
 * past from here. At debug priority: `journalctl -u berthd -p info` stays as it was. */
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "container.h"
#include "event-journal.h"
#include "util.h"

static void journal_container_event(const Container *c, const char *action, const char *extra) {
        /* Attributes as the live stream gives them: labels, image, name (and extra), one field each. */
        size_t n_labels = strv_length(c->labels), n = 0;
        struct iovec *iov = calloc(n_labels + 10, sizeof(struct iovec));
        char **owned = calloc(n_labels + 10, sizeof(char *));
        if (!iov || !owned)
                goto finish;
#define ADD(...)                                                                              \
        do {                                                                                  \
                if (asprintf(&owned[n], __VA_ARGS__) < 0) {                                   \
                        owned[n] = NULL;                                                      \
                        goto finish;                                                          \
                }                                                                             \
                iov[n] = (struct iovec){ .iov_base = owned[n], .iov_len = strlen(owned[n]) }; \
                n++;                                                                          \
        } while (0)
        ADD("MESSAGE=Container %s: %s", c->name, action);
        ADD("MESSAGE_ID=%s", BERTH_EVENT_MESSAGE_ID);
        ADD("PRIORITY=7");
        ADD("BERTH_EVENT_TYPE=container");
        ADD("BERTH_EVENT_ACTION=%s", action);
        ADD("BERTH_EVENT_ACTOR=%s", c->id);
        ADD("BERTH_EVENT_ATTRIBUTE=image=%s", c->image_ref ?: "");
        ADD("BERTH_EVENT_ATTRIBUTE=name=%s", c->name ?: "");
        if (extra)
                ADD("BERTH_EVENT_ATTRIBUTE=%s", extra);
        for (char **l = c->labels; l && *l; l++)
                ADD("BERTH_EVENT_ATTRIBUTE=%s", *l);
#undef ADD
        (void) sd_journal_sendv(iov, (int) n);
finish:
        for (size_t i = 0; owned && i < n; i++)
                free(owned[i]);
        free(owned);
        free(iov);
}

void container_journal_event(Container *c, const char *action, const char *extra) {
        journal_container_event(c, action, extra);
}

/* What the State property says, as the events see it. */
enum { SEEN_NONE, SEEN_RUNNING, SEEN_PAUSED, SEEN_STOPPED };

static int seen(const Container *c) {
        return c->paused                        ? SEEN_PAUSED
                : c->state == CONTAINER_RUNNING ? SEEN_RUNNING
                : c->state == CONTAINER_EXITED  ? SEEN_STOPPED
                                                : SEEN_NONE;
}

void container_journal_state_quietly(Container *c) {
        c->journaled_state = (uint8_t) seen(c);
}

void container_journal_state(Container *c) {
        int now = seen(c);
        int before = c->journaled_state;
        if (now == before)
                return;
        c->journaled_state = (uint8_t) now;
        if (now == SEEN_RUNNING)
                container_journal_event(c, before == SEEN_PAUSED ? "unpause" : "start", NULL);
        else if (now == SEEN_PAUSED)
                container_journal_event(c, "pause", NULL);
        else if (now == SEEN_STOPPED && (before == SEEN_RUNNING || before == SEEN_PAUSED)) {
                char extra[32];
                snprintf(extra, sizeof(extra), "exitCode=%d", c->exit_code);
                container_journal_event(c, "die", extra);
        }
}
