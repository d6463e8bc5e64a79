/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* events: Docker's event stream (ctl-event-source.c) printed as it arrives; with --since in the
 * past, first the container events berthd journaled since then. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl-bus.h"
#include "ctl-event-source.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-output.h"
#include "ctl-template.h"
#include "ctl.h"
#include "util.h"

typedef struct Events {
        EventSource *source;
        char **filters;
        const char *format;
        uint64_t since, until;
        int error;
} Events;

static void events_done(Events *e) {
        event_source_free(e->source);
        strv_free(e->filters);
}

/* RFC 3339 with nanoseconds as Go's RFC3339Nano prints it: trailing zeros of the fraction dropped,
 * "Z" for UTC. */
static void format_time_nano(uint64_t usec, char *buf, size_t size) {
        time_t s = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;
        char frac[16] = "", zone[48] = "Z";
        localtime_r(&s, &tm);
        if (usec % USEC_PER_SEC) {
                snprintf(frac, sizeof(frac), ".%06u", (unsigned) (usec % USEC_PER_SEC));
                for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
                        frac[n - 1] = 0;
        }
        if (tm.tm_gmtoff != 0)
                snprintf(zone, sizeof(zone), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+', labs(tm.tm_gmtoff) / 3600,
                         labs(tm.tm_gmtoff) % 3600 / 60);
        size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, size - n, "%s%s", frac, zone);
}

/* One event: "TIME TYPE ACTION ID (k=v, ...)", or the --format. */
static void print_event(EventSource *s, const char *type, const char *action, const char *actor, char **attrs,
                        uint64_t now, void *userdata) {
        Events *e = userdata;
        char when[64];

        if (e->error < 0)
                return;
        if (e->format) {
                _cleanup_(json_object_putp) json_object *o = event_json(type, action, actor, attrs, now);
                _cleanup_free_ char *out = NULL, *why = NULL;
                if (!o)
                        goto oom;
                if (streq(e->format, "json"))
                        printf("%s\n",
                               json_object_to_json_string_ext(o,
                                                              JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                else if (ctl_render_template(e->format, o, &out, &why) < 0) {
                        ctl_log_error("invalid --format: %s", why ?: "out of memory");
                        e->error = -EINVAL;
                        return;
                } else
                        printf("%s\n", out);
        } else {
                _cleanup_free_ char *joined = strv_join(attrs, ", ");
                if (!joined)
                        goto oom;
                format_time_nano(now, when, sizeof(when));
                printf("%s %s %s %s (%s)\n", when, type, action, actor, joined);
        }
        fflush(stdout);
        return;
oom:
        e->error = ctl_log_errno(-ENOMEM, "%m");
}

static int parse_events_argv(int argc, char *argv[], Events *e) {
        enum { ARG_SINCE = 0x100, ARG_UNTIL, ARG_FORMAT, ARG_HELP };
        static const struct option options[] = {
                { "filter", required_argument, NULL, 'f' },      { "format", required_argument, NULL, ARG_FORMAT },
                { "since", required_argument, NULL, ARG_SINCE }, { "until", required_argument, NULL, ARG_UNTIL },
                { "help", no_argument, NULL, ARG_HELP },         {},
        };
        static const char *const keys[] = { "container=", "event=", "image=", "label=", "type=", "volume=" };
        uint64_t now = now_realtime_usec();
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:f:h", options, NULL)) >= 0)
                switch (c) {
                case 'f': {
                        bool known = false;
                        for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                                known = known || startswith(optarg, keys[k]);
                        if (!strchr(optarg, '=')) {
                                ctl_log_error("bad format of filter (expected name=value)");
                                return -EINVAL;
                        }
                        if (!known) {
                                ctl_log_error("invalid filter '%.*s'", (int) (strchr(optarg, '=') - optarg), optarg);
                                return -EINVAL;
                        }
                        if (strv_push(&e->filters, optarg) < 0)
                                return ctl_log_errno(-ENOMEM, "%m");
                        break;
                }
                case ARG_FORMAT:
                        e->format = optarg;
                        break;
                case ARG_SINCE:
                case ARG_UNTIL:
                        if (ctl_parse_timestamp(optarg, now, c == ARG_SINCE ? &e->since : &e->until) < 0) {
                                ctl_log_error("invalid --%s \"%s\": expected a timestamp or a duration",
                                              c == ARG_SINCE ? "since" : "until", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl events [OPTIONS]\n"
                               "\n"
                               "Print events of containers, images and volumes as they happen, until\n"
                               "interrupted or --until; with --since, first the past container events\n"
                               "berthd journaled (create, start, die, pause, unpause, rename, destroy).\n"
                               "\n"
                               "Options:\n"
                               "  -f, --filter=KEY=VALUE  container=NAME|ID, event=ACTION, image=NAME,\n"
                               "                   label=KEY[=VALUE], type=container|image|volume,\n"
                               "                   volume=NAME; repeatable\n"
                               "      --format=TMPL  A Go template over Type, Action, Actor.ID,\n"
                               "                   Actor.Attributes, Scope, Time, TimeNano; or \"json\"\n"
                               "      --since=TIME   Leave out events before TIME\n"
                               "      --until=TIME   Stop at TIME (a timestamp or unix seconds)\n"
                               "  -h, --help       Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("events", c, argv);
                }
        if (optind < argc) {
                ctl_log_error("\"berthctl events\" accepts no arguments (see 'berthctl events --help')");
                return -EINVAL;
        }
        return 1;
}

int verb_events(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(events_done) Events e = {};
        sd_bus *bus;
        int r;

        r = parse_events_argv(argc, argv, &e);
        if (r <= 0)
                return r;
        /* The past first, from the journal; then, unless --until is past too, what happens from now on. */
        uint64_t start = now_realtime_usec();
        if (e.since > 0 && e.since < start) {
                r = event_source_replay_journal(e.filters, e.since, e.until > 0 && e.until < start ? e.until : start,
                                                print_event, &e);
                if (r < 0)
                        return ctl_log_errno(r, "Failed to read past events from the journal: %m");
                if (e.error < 0 || (e.until > 0 && e.until <= start))
                        return e.error;
        }
        ctl->signals = true; /* the system bus, where berthd's signals are */
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        r = event_source_new(bus, e.filters, e.since > start ? e.since : start, print_event, &e, &error, &e.source);
        if (r < 0)
                return error.message ? ctl_log_bus_error(&error, r)
                                     : ctl_log_errno(r, "Failed to subscribe to berthd's signals: %m");
        while (r >= 0 && e.error >= 0 && event_source_error(e.source) >= 0) {
                uint64_t now = now_realtime_usec();
                if (e.until > 0 && now >= e.until)
                        break;
                r = sd_bus_process(bus, NULL);
                if (r > 0)
                        continue;
                if (r >= 0)
                        r = sd_bus_wait(bus, e.until > 0 ? e.until - now : UINT64_MAX);
                if (r < 0)
                        r = ctl_log_errno(r, "Failed to read berthd's signals: %m");
        }
        if (r >= 0 && event_source_error(e.source) < 0)
                r = ctl_log_errno(event_source_error(e.source), "%m");
        return r < 0 ? r : e.error;
}
