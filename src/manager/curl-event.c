/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcurl's multi interface on sd-event: curl tells which sockets to watch (socket callback) and
 * when to call back (timer callback); the loop tells curl what happened (curl_multi_socket_action)
 * and then collects finished transfers (curl_multi_info_read). */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "curl-event.h"
#include "macro.h"
#include "util.h"

struct CurlEvent {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        struct Transfer *transfers; /* the running ones */
};

/* What an easy handle carries through CURLOPT_PRIVATE while it runs. */
typedef struct Transfer {
        CURL *easy;
        CurlDoneFunc done;
        void *userdata;
        struct Transfer *prev, *next;
} Transfer;

static void transfer_unlink_free(CurlEvent *g, Transfer *t) {
        if (t->prev)
                t->prev->next = t->next;
        else
                g->transfers = t->next;
        if (t->next)
                t->next->prev = t->prev;
        free(t);
}

static void collect_finished(CurlEvent *g) {
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(g->multi, &left))) {
                if (msg->msg != CURLMSG_DONE)
                        continue;
                CURL *easy = msg->easy_handle;
                CURLcode result = msg->data.result;
                Transfer *t = NULL;
                (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &t);
                (void) curl_multi_remove_handle(g->multi, easy);
                (void) curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
                if (t) {
                        CurlDoneFunc done = t->done;
                        void *userdata = t->userdata;
                        transfer_unlink_free(g, t);
                        done(easy, result, userdata); /* may add or remove other transfers */
                }
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CurlEvent *g = userdata;
        int action = ((revents & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((revents & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                ((revents & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
        int running;
        (void) s;
        (void) curl_multi_socket_action(g->multi, fd, action, &running);
        collect_finished(g);
        return 0;
}

/* curl's socket callback: watch 'fd' for 'what', or stop watching it. The source is the socket's
 * curl_multi_assign()ed pointer. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        CurlEvent *g = userp;
        sd_event_source *s = socketp;
        (void) easy;
        if (what == CURL_POLL_REMOVE) {
                if (s) {
                        sd_event_source_disable_unref(s);
                        (void) curl_multi_assign(g->multi, fd, NULL);
                }
                return 0;
        }
        uint32_t events = (what == CURL_POLL_IN || what == CURL_POLL_INOUT ? EPOLLIN : 0) |
                (what == CURL_POLL_OUT || what == CURL_POLL_INOUT ? EPOLLOUT : 0);
        if (s) {
                if (sd_event_source_set_io_events(s, events) < 0 || sd_event_source_set_enabled(s, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }
        if (sd_event_add_io(g->event, &s, fd, events, on_io, g) < 0)
                return -1;
        (void) sd_event_source_set_description(s, "curl-socket");
        if (curl_multi_assign(g->multi, fd, s) != CURLM_OK) {
                sd_event_source_disable_unref(s);
                return -1;
        }
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        CurlEvent *g = userdata;
        int running;
        (void) s;
        (void) usec;
        (void) curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        collect_finished(g);
        return 0;
}

/* curl's timer callback: call back after timeout_ms (0: at once, from the loop), or never (-1). */
static int on_timer_change(CURLM *multi, long timeout_ms, void *userp) {
        CurlEvent *g = userp;
        (void) multi;
        if (timeout_ms < 0)
                return g->timer && sd_event_source_set_enabled(g->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        uint64_t now;
        if (sd_event_now(g->event, CLOCK_MONOTONIC, &now) < 0)
                return -1;
        uint64_t when = now + (uint64_t) timeout_ms * USEC_PER_MSEC;
        if (g->timer)
                return sd_event_source_set_time(g->timer, when) < 0 ||
                                sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT) < 0
                        ? -1
                        : 0;
        if (sd_event_add_time(g->event, &g->timer, CLOCK_MONOTONIC, when, 0, on_timer, g) < 0)
                return -1;
        (void) sd_event_source_set_description(g->timer, "curl-timer");
        return 0;
}

int curl_event_new(sd_event *event, CurlEvent **ret) {
        CurlEvent *g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->event = sd_event_ref(event);
        g->multi = curl_multi_init();
        if (!g->multi) {
                curl_event_free(g);
                return -ENOMEM;
        }
        if (curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, on_timer_change) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g) != CURLM_OK) {
                curl_event_free(g);
                return -EINVAL;
        }
        *ret = g;
        return 0;
}

CurlEvent *curl_event_free(CurlEvent *g) {
        if (!g)
                return NULL;
        while (g->transfers)
                curl_event_remove(g, g->transfers->easy);
        if (g->multi) {
                curl_multi_cleanup(g->multi); /* its sockets' sources go through on_socket(REMOVE) */
        }
        sd_event_source_disable_unref(g->timer);
        sd_event_unref(g->event);
        free(g);
        return NULL;
}

int curl_event_add(CurlEvent *g, CURL *easy, CurlDoneFunc done, void *userdata) {
        Transfer *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        *t = (Transfer){ .easy = easy, .done = done, .userdata = userdata, .next = g->transfers };
        if (curl_easy_setopt(easy, CURLOPT_PRIVATE, t) != CURLE_OK ||
            curl_multi_add_handle(g->multi, easy) != CURLM_OK) {
                (void) curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
                free(t);
                return -EIO;
        }
        if (g->transfers)
                g->transfers->prev = t;
        g->transfers = t;
        return 0;
}

void curl_event_remove(CurlEvent *g, CURL *easy) {
        Transfer *t = NULL;
        if (!g || !easy)
                return;
        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &t);
        (void) curl_multi_remove_handle(g->multi, easy);
        (void) curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        if (t)
                transfer_unlink_free(g, t);
}
