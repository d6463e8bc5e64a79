/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Authorization of changing calls through polkit, the way systemd's bus-polkit does it: a caller
 * that is not root gets its answer after an asynchronous CheckAuthorization, and the method call is
 * then dispatched a second time (sd_bus_enqueue_for_read), which finds the answer waiting. Nothing
 * in the loop waits for polkitd. */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-polkit.h"
#include "bus-util.h"
#include "errors.h"
#include "log.h"
#include "macro.h"
#include "util.h"

#define POLKIT_SERVICE   "org.freedesktop.PolicyKit1"
#define POLKIT_PATH      "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"

static const struct {
        const char *id;
        const char *what; /* for the error sentence: "may not <what>" */
} actions[_BERTH_ACTION_MAX] = {
        [BERTH_ACTION_MANAGE_CONTAINERS] = { "org.berth1.manage-containers", "manage containers" },
        [BERTH_ACTION_MANAGE_IMAGES] = { "org.berth1.manage-images", "manage images, volumes and networks" },
        [BERTH_ACTION_PRIVILEGED] = { "org.berth1.privileged",
                                      "use privileged options (--privileged, host bind mounts, devices, host "
                                      "namespaces, added capabilities, unconfined security)" },
};

typedef enum QueryState {
        QUERY_PENDING,
        QUERY_AUTHORIZED,
        QUERY_DENIED,
        QUERY_CHALLENGE, /* polkit would ask for a password, and the caller did not allow that */
        QUERY_UNAVAILABLE, /* no polkitd: root only, as without polkit */
} QueryState;

typedef struct Query {
        sd_bus_message *request; /* a reference: its address identifies the call when it comes again */
        sd_bus_slot *slot;
        BerthAction action;
        QueryState state;
        struct Query *next;
} Query;

static Query *queries;

static void query_free(Query *q) {
        for (Query **p = &queries; *p; p = &(*p)->next)
                if (*p == q) {
                        *p = q->next;
                        break;
                }
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        free(q);
}

void bus_polkit_done(void) {
        while (queries)
                query_free(queries);
}

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Query *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0;

        q->slot = sd_bus_slot_unref(q->slot);
        if (e) {
                /* polkit's own errors are answers; any other (no such service, activation failed,
                 * timeout) means there is no polkitd to ask. */
                bool answered = e->name && startswith(e->name, "org.freedesktop.PolicyKit1.Error.");
                if (answered)
                        log_warning("polkit's CheckAuthorization failed: %s", e->message ?: e->name);
                q->state = answered ? QUERY_DENIED : QUERY_UNAVAILABLE;
        } else if (sd_bus_message_enter_container(reply, 'r', "bba{ss}") < 0 ||
                   sd_bus_message_read(reply, "bb", &authorized, &challenge) < 0) {
                log_warning("polkit's CheckAuthorization answered in an unknown shape.");
                q->state = QUERY_DENIED;
        } else
                q->state = authorized ? QUERY_AUTHORIZED : challenge ? QUERY_CHALLENGE : QUERY_DENIED;

        /* The call again, from its first argument: its handler finds the answer. */
        int r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                (void) sd_bus_reply_method_errnof(q->request, -r,
                                                  "Failed to continue the call after polkit's answer: %m");
                query_free(q);
        }
        return 0;
}

static int start_query(sd_bus_message *message, BerthAction action) {
        const char *sender = sd_bus_message_get_sender(message);
        if (!sender)
                return -EOPNOTSUPP; /* a private connection: only root uses those */
        Query *q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (Query){ .request = sd_bus_message_ref(message), .action = action, .next = queries };
        queries = q;
        uint32_t flags = sd_bus_message_get_allow_interactive_authorization(message) > 0 ? 1 : 0;
        int r = sd_bus_call_method_async(sd_bus_message_get_bus(message), &q->slot, POLKIT_SERVICE, POLKIT_PATH,
                                         POLKIT_INTERFACE, "CheckAuthorization", on_check_reply, q, "(sa{sv})sa{ss}us",
                                         "system-bus-name", 1, "name", "s", sender, actions[action].id, 0, flags, "");
        if (r < 0)
                query_free(q);
        return r;
}

static int deny(sd_bus_message *message, BerthAction action, QueryState state, sd_bus_error *error) {
        if (state == QUERY_UNAVAILABLE)
                return sd_bus_error_set(error, BERTH_ERROR_ACCESS_DENIED,
                                        "Only root may change containers and images (polkit is not running).");
        /* AccessDenied rather than InteractiveAuthorizationRequired: berth's clients run no polkit
         * agent, and a caller that allowed interaction was asked by polkit's own agent already. */
        if (state == QUERY_CHALLENGE)
                return sd_bus_error_setf(error, BERTH_ERROR_ACCESS_DENIED,
                                         "Not authorized to %s: polkit asks for authentication (action %s) and none "
                                         "was given; an administrator can grant it with a polkit rule (berthd(8)).",
                                         actions[action].what, actions[action].id);
        return sd_bus_error_setf(error, BERTH_ERROR_ACCESS_DENIED, "Not authorized to %s (polkit action %s).",
                                 actions[action].what, actions[action].id);
}

int bus_verify_action(sd_bus_message *message, BerthAction action, sd_bus_error *error) {
        uid_t uid;
        int r;

        assert(action >= 0 && action < _BERTH_ACTION_MAX);
        r = bus_sender_uid(message, &uid);
        if (r < 0)
                return r;
        if (uid == 0)
                return 0;

        for (Query *q = queries; q; q = q->next) {
                if (q->request != message)
                        continue;
                if (q->state == QUERY_PENDING) /* dispatched again before the answer: cannot happen */
                        return 1;
                QueryState state = q->state;
                BerthAction asked = q->action;
                query_free(q);
                if (asked != action) /* one check per call: a second one would loop */
                        return sd_bus_error_set(error, BERTH_ERROR_ACCESS_DENIED,
                                                "Internal error: one call asked polkit for two actions.");
                return state == QUERY_AUTHORIZED ? 0 : deny(message, action, state, error);
        }

        r = start_query(message, action);
        if (r < 0)
                return deny(message, action, QUERY_UNAVAILABLE, error);
        return 1;
}
