/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /events: Docker's event stream, from berthd's signals as berthctl events reads them
 * (ctl-event-source.c), one JSON object a line, until `until` or the client goes. berthd keeps no
 * past events but the container events berthd journaled, which `since` replays first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ctl-event-source.h"
#include "json-util.h"
#include "util.h"

typedef struct ApiEvents {
        ApiConn *conn;
        EventSource *source;
        sd_event_source *until; /* the end of the stream, when asked for */
        sd_event_source *kick; /* writes what the sink queued, outside the source's callbacks */
} ApiEvents;

static void api_events_free(void *p) {
        ApiEvents *e = p;
        if (!e)
                return;
        event_source_free(e->source);
        sd_event_source_disable_unref(e->until);
        sd_event_source_disable_unref(e->kick);
        free(e);
}

static int on_kick(sd_event_source *s, void *userdata) {
        ApiEvents *e = userdata;
        /* May free the connection, e with it (unref'ing s in its own callback is allowed). */
        (void) api_conn_kick(e->conn);
        return 0;
}

/* berthctl's message carries the Go template's field names (Scope, Time, TimeNano); on the wire
 * Docker's keys are scope, time, timeNano, and a container's event has its image as "from"
 * (docker-compose reads time). */
static int wire_keys(json_object *o) {
        static const char *const keys[][2] = { { "Scope", "scope" }, { "Time", "time" }, { "TimeNano", "timeNano" } };
        json_object *v, *actor, *attrs, *image;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (json_object_object_get_ex(o, keys[i][0], &v)) {
                        if (json_object_object_add(o, keys[i][1], json_object_get(v)) < 0)
                                return -ENOMEM;
                        json_object_object_del(o, keys[i][0]);
                }
        if (json_object_object_get_ex(o, "Actor", &actor) && json_object_object_get_ex(actor, "Attributes", &attrs) &&
            json_object_object_get_ex(attrs, "image", &image) &&
            json_object_object_add(o, "from", json_object_get(image)) < 0)
                return -ENOMEM;
        return 0;
}

static void sink(EventSource *s, const char *type, const char *action, const char *actor, char **attrs, uint64_t usec,
                 void *userdata) {
        ApiEvents *e = userdata;
        _cleanup_json_ json_object *o = event_json(type, action, actor, attrs, usec);
        if (!o || wire_keys(o) < 0 || api_stream_json(e->conn, o) < 0)
                api_conn_abort(e->conn);
        /* The source goes on using itself after this returns: the write (which may end the
         * connection and free the source) waits for the next turn of the loop. */
        (void) sd_event_source_set_enabled(e->kick, SD_EVENT_ONESHOT);
}

/* The past (berthd's journaled container events), written out at once before the live ones. */
static void past_sink(EventSource *s, const char *type, const char *action, const char *actor, char **attrs,
                      uint64_t usec, void *userdata) {
        ApiConn *c = userdata;
        _cleanup_json_ json_object *o = event_json(type, action, actor, attrs, usec);
        if (!o || wire_keys(o) < 0 || api_stream_json(c, o) < 0)
                api_conn_abort(c);
}

static int on_until(sd_event_source *s, uint64_t usec, void *userdata) {
        ApiEvents *e = userdata;
        if (api_stream_end(e->conn) < 0)
                api_conn_abort(e->conn);
        (void) api_conn_kick(e->conn);
        return 0;
}

/* Unix seconds with an optional fraction ("1700000000.5"), as Docker's clients send since and
 * until, into µs. */
static int parse_unix_time(const char *s, uint64_t *ret) {
        char *end = NULL;
        errno = 0;
        double d = strtod(s, &end);
        if (errno != 0 || !end || *end != 0 || end == s || d < 0 || d > 1e11)
                return -EINVAL;
        *ret = (uint64_t) (d * 1e6);
        return 0;
}

/* The query's filters as "key=value" (Docker's {"key": ["value", ...]} or {"key": {"value": true}}).
 * -EINVAL for a key events do not filter by. */
static int events_filters(const char *f, char ***ret) {
        static const char *const known[] = { "container", "event", "image", "label", "type", "volume" };
        _cleanup_json_ json_object *filters = NULL;
        _cleanup_strv_free_ char **l = NULL;

        *ret = NULL;
        if (isempty(f))
                return 0;
        if (json_parse_buffer(f, strlen(f), &filters) < 0 || !json_object_is_type(filters, json_type_object))
                return -EINVAL;
        json_object_object_foreach(filters, key, values) {
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(known); i++)
                        ok = ok || streq(key, known[i]);
                if (!ok)
                        return -EINVAL;
                _cleanup_strv_free_ char **vals = NULL;
                if (json_object_is_type(values, json_type_array)) {
                        for (size_t i = 0; i < json_object_array_length(values); i++) {
                                const char *v = json_object_get_string(json_object_array_get_idx(values, i));
                                if (strv_push(&vals, v ?: "") < 0)
                                        return -ENOMEM;
                        }
                } else if (json_object_is_type(values, json_type_object)) {
                        json_object_object_foreach(values, k, v) {
                                (void) v;
                                if (strv_push(&vals, k) < 0)
                                        return -ENOMEM;
                        }
                } else
                        return -EINVAL;
                for (char **v = vals; v && *v; v++) {
                        _cleanup_free_ char *kv = strjoin(key, "=", *v);
                        if (!kv || strv_push(&l, kv) < 0)
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int api_events(ApiConn *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_strv_free_ char **filters = NULL;
        const char *since_s = api_query(c, "since"), *until_s = api_query(c, "until");
        uint64_t since = 0, until = 0, now = now_realtime_usec();
        int r;

        if ((!isempty(since_s) && parse_unix_time(since_s, &since) < 0) ||
            (!isempty(until_s) && parse_unix_time(until_s, &until) < 0))
                return api_reply_error(c, 400, "invalid since or until: expected unix seconds");
        r = events_filters(api_query(c, "filters"), &filters);
        if (r == -EINVAL)
                return api_reply_error(c, 400,
                                       "invalid filters: expected container, event, image, label, type, volume");
        if (r < 0)
                return r;
        if (until > 0 && until <= now) {
                /* Only the past: what berthd journaled. */
                r = api_stream_begin(c, 200, "application/json");
                if (r >= 0 && since > 0)
                        r = event_source_replay_journal(filters, since, until, past_sink, c);
                return r < 0 ? r : api_stream_end(c);
        }

        ApiEvents *e = calloc(1, sizeof(ApiEvents));
        if (!e)
                return -ENOMEM;
        e->conn = c;
        c->userdata = e;
        c->userdata_free = api_events_free;
        r = sd_event_add_defer(c->server->event, &e->kick, on_kick, e);
        if (r >= 0)
                r = sd_event_source_set_enabled(e->kick, SD_EVENT_OFF);
        if (r >= 0 && until > 0)
                r = sd_event_add_time(c->server->event, &e->until, CLOCK_REALTIME, until, 0, on_until, e);
        if (r < 0)
                return r;
        r = event_source_new(c->server->bus, filters, since > now ? since : now, sink, e, &error, &e->source);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);
        r = api_stream_begin(c, 200, "application/json");
        /* The past first (what berthd journaled), then the live stream. */
        if (r >= 0 && since > 0 && since < now)
                r = event_source_replay_journal(filters, since, now, past_sink, c);
        return r;
}
