/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* logs: a container's output read back from the journal (CONTAINER_ID_FULL=<id>). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <systemd/sd-journal.h>

#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl.h"
#include "log-fields.h"
#include "util.h"

/* How often the container's State is polled while following (besides PropertiesChanged), and
 * how long the journal is still read after the container stopped, for lines journald had not
 * written yet. */
#define LOGS_POLL_USEC            (1ULL * USEC_PER_SEC)
#define LOGS_SETTLE_USEC          (500ULL * 1000ULL)
#define LOGS_SETTLE_ACCURACY_USEC (10ULL * 1000ULL) /* 0 would mean sd-event's default, 250 ms */

typedef struct LogsArgs {
        bool follow;
        bool timestamps;
        bool details;
        uint64_t tail; /* UINT64_MAX: all */
        uint64_t since; /* 0: from the start */
        uint64_t until; /* UINT64_MAX: to the end */
        const char *container;
} LogsArgs;

typedef struct Logs {
        const LogsArgs *args;
        sd_journal *journal;
        bool need_next; /* the read position is not on an unshown entry */
        bool line_start[2]; /* stdout, stderr: at the start of a line (for -t) */
        char open_pid[2][16]; /* stdout, stderr: the sender (_PID) of the line left open */
        int line_max_stream; /* the stream of the line journald split at its LineMax, else -1 (below) */
        char line_max_pid[16];
        bool done; /* --until passed, stop reading */
        char **detail_keys; /* --details: "key\tFIELD" of the container's labels= and env= log opts */
        sd_bus *bus;
        const char *path;
        sd_event *event;
        bool stopping; /* the container stopped, reading the last lines */
        bool finished; /* leave the event loop */
        int result;
} Logs;

static void help_logs(void) {
        printf("Usage: berthctl logs [OPTIONS] CONTAINER\n"
               "\n"
               "Show what a container wrote to stdout and stderr, read from the local journal\n"
               "(entries with CONTAINER_ID_FULL=<id>); stderr lines go to stderr.\n"
               "\n"
               "Options:\n"
               "  -f, --follow           Keep printing new output until the container stops\n"
               "  -n, --tail=N|all       Only the last N lines (default all)\n"
               "  -t, --timestamps       Prefix each line with its RFC 3339 time stamp\n"
               "      --details          Prefix each line with the labels and environment variables\n"
               "                         named by --log-opt labels= and env= (key=value,...)\n"
               "      --since=TIME       Only output since TIME\n"
               "      --until=TIME       Only output until TIME\n"
               "  -h, --help             Show this help\n"
               "\n"
               "TIME is RFC 3339 (2024-05-01T10:00:00Z), \"YYYY-MM-DD[ HH:MM[:SS]]\" in local\n"
               "time, unix seconds (1714557600.5), or a duration back from now (30s, 10m, 1h30m).\n"
               "Lines the container's supervisor dropped are reported where they were dropped, as\n"
               "\"berth: N lines dropped (REASON)\" on stderr.\n");
}

static int parse_time_option(const char *name, const char *arg, uint64_t now, uint64_t *ret) {
        int r = ctl_parse_timestamp(arg, now, ret);
        if (r < 0) {
                ctl_log_error("invalid %s value \"%s\"", name, arg);
                return -EINVAL;
        }
        return 0;
}

static int parse_logs_argv(int argc, char *argv[], LogsArgs *a) {
        enum { ARG_SINCE = 0x100, ARG_UNTIL, ARG_DETAILS, ARG_HELP };
        static const struct option options[] = {
                { "follow", no_argument, NULL, 'f' },
                { "tail", required_argument, NULL, 'n' },
                { "timestamps", no_argument, NULL, 't' },
                { "since", required_argument, NULL, ARG_SINCE },
                { "until", required_argument, NULL, ARG_UNTIL },
                { "details", no_argument, NULL, ARG_DETAILS },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        uint64_t now = now_realtime_usec();
        int c, r;

        *a = (LogsArgs){ .tail = UINT64_MAX, .until = UINT64_MAX };
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:fn:th", options, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        a->follow = true;
                        break;
                case 'n':
                        if (ctl_parse_tail(optarg, &a->tail) < 0) {
                                ctl_log_error("invalid --tail value \"%s\": expected a number or \"all\"", optarg);
                                return -EINVAL;
                        }
                        break;
                case 't':
                        a->timestamps = true;
                        break;
                case ARG_DETAILS:
                        a->details = true;
                        break;
                case ARG_SINCE:
                        r = parse_time_option("--since", optarg, now, &a->since);
                        if (r < 0)
                                return r;
                        break;
                case ARG_UNTIL:
                        r = parse_time_option("--until", optarg, now, &a->until);
                        if (r < 0)
                                return r;
                        break;
                case 'h':
                case ARG_HELP:
                        help_logs();
                        return 0;
                default:
                        return ctl_log_getopt_error("logs", c, argv);
                }
        }
        if (argc - optind != 1) {
                ctl_log_error("\"berthctl logs\" requires exactly 1 argument (see 'berthctl logs --help')");
                return -EINVAL;
        }
        a->container = argv[optind];
        return 1;
}

/* The value of FIELD in the current entry, not NUL-terminated. */
static int get_field(sd_journal *j, const char *field, const char **ret, size_t *ret_len) {
        const void *data;
        size_t len, l = strlen(field);
        int r;

        r = sd_journal_get_data(j, field, &data, &len);
        if (r < 0)
                return r;
        if (len < l + 1 || memcmp(data, field, l) != 0 || ((const char *) data)[l] != '=')
                return -EBADMSG;
        *ret = (const char *) data + l + 1;
        *ret_len = len - l - 1;
        return 0;
}

static bool field_equals(sd_journal *j, const char *field, const char *value) {
        const char *v;
        size_t n;

        return get_field(j, field, &v, &n) >= 0 && n == strlen(value) && memcmp(v, value, n) == 0;
}

/* The current entry's sender, the container's supervisor: a new one for each run. "" if unknown. */
static void get_sender(sd_journal *j, char ret[static 16]) {
        const char *v;
        size_t n;

        if (get_field(j, "_PID", &v, &n) < 0 || n >= 16)
                n = 0;
        else
                memcpy(ret, v, n);
        ret[n] = 0;
}

/* A piece of a longer line: berth's (Docker's) pieces of 16 KiB, or journald's own split of a
 * stream line longer than its LineMax (a journald configured below 16 KiB). */
static bool entry_is_partial(sd_journal *j) {
        return field_equals(j, "CONTAINER_PARTIAL_MESSAGE", "true") || field_equals(j, "_LINE_BREAK", "line-max");
}

/* --details: "key=value,..." of the fields the entry has, and a space; nothing when it has none. */
static void print_details(Logs *l, FILE *f) {
        bool first = true;
        for (char **k = l->detail_keys; k && *k; k++) {
                const char *tab = strchr(*k, '\t'), *v;
                size_t n;
                if (get_field(l->journal, tab + 1, &v, &n) < 0)
                        continue;
                fprintf(f, "%s%.*s=%.*s", first ? "" : ",", (int) (tab - *k), *k, (int) n, v);
                first = false;
        }
        if (!first)
                fputc(' ', f);
}

static int print_entry(Logs *l, uint64_t realtime) {
        const char *message;
        size_t len;
        bool is_stderr = field_equals(l->journal, "PRIORITY", "3");
        bool partial = entry_is_partial(l->journal);
        char sender[16];
        int r;

        get_sender(l->journal, sender);
        /* journald takes the level prefix of a stream's line into the first of the pieces it splits
         * the line into; the others have the stream's default priority: they go where it went. */
        if (l->line_max_stream >= 0 && streq(sender, l->line_max_pid))
                is_stderr = l->line_max_stream;
        l->line_max_stream = field_equals(l->journal, "_LINE_BREAK", "line-max") ? is_stderr : -1;
        memcpy(l->line_max_pid, sender, sizeof(sender));
        FILE *f = is_stderr ? stderr : stdout;

        /* A line split into pieces ends with a piece without CONTAINER_PARTIAL_MESSAGE (an empty
         * MESSAGE when the line's length is a multiple of 16 KiB): it prints the newline. */
        r = get_field(l->journal, "MESSAGE", &message, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (is_stderr)
                fflush(stdout); /* Keep the two streams in the order the container wrote them. */
        if (!l->line_start[is_stderr] && !streq(sender, l->open_pid[is_stderr])) {
                /* The line was left open by an earlier run (its supervisor killed before the
                 * closing piece, or a berth that sent none): it ends here, not glued to this one. */
                fputc('\n', f);
                l->line_start[is_stderr] = true;
        }
        if (partial)
                memcpy(l->open_pid[is_stderr], sender, sizeof(sender));
        if (l->args->timestamps && l->line_start[is_stderr]) {
                _cleanup_free_ char *ts = format_timestamp_rfc3339(realtime);
                if (!ts)
                        return -ENOMEM;
                fprintf(f, "%s ", ts);
        }
        if (l->args->details && l->line_start[is_stderr])
                print_details(l, f);
        fwrite(message, 1, len, f);
        if (!partial)
                fputc('\n', f);
        l->line_start[is_stderr] = !partial;
        return 0;
}

/* Print everything that is there now, from the current position on. */
static int print_available(Logs *l) {
        int r;

        while (!l->done) {
                uint64_t t;

                if (l->need_next) {
                        r = sd_journal_next(l->journal);
                        if (r <= 0)
                                return r;
                }
                l->need_next = true;
                r = sd_journal_get_realtime_usec(l->journal, &t);
                if (r < 0)
                        return r;
                if (t > l->args->until) {
                        l->done = true;
                        break;
                }
                if (t < l->args->since)
                        continue;
                r = print_entry(l, t);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --tail counts lines, not entries: a line split into pieces is one, so no line is shown cut.
 * From the current position (after the last entry to show), go back to the first entry of the
 * last n lines. An entry ends a line unless it is a partial piece of the line that the entry after
 * it continues (from the same sender: a line an earlier run left open ends with that run). The
 * last line may still be open. Returns 1 if standing on that entry, 0 if there is none. */
static int seek_back_lines(sd_journal *j, uint64_t n) {
        char later[16] = "", sender[16];
        uint64_t lines = 0;
        bool first = true;
        int r;

        for (;; first = false) {
                r = sd_journal_previous(j);
                if (r < 0)
                        return r;
                if (r == 0)
                        return !first; /* on the oldest entry, if there was one */
                get_sender(j, sender);
                if (first || !entry_is_partial(j) || !streq(sender, later)) {
                        if (lines == n)
                                break; /* the end of the line before them */
                        lines++;
                }
                memcpy(later, sender, sizeof(later));
        }
        r = sd_journal_next(j);
        return r < 0 ? r : 1;
}

/* Where to start: --tail counts back from the end (or from --until), else --since or the head. */
static int seek_start(Logs *l) {
        const LogsArgs *a = l->args;
        sd_journal *j = l->journal;
        int r;

        l->need_next = true;
        if (a->tail == UINT64_MAX) {
                if (a->since > 0)
                        return sd_journal_seek_realtime_usec(j, a->since);
                return sd_journal_seek_head(j);
        }
        if (a->until != UINT64_MAX)
                r = sd_journal_seek_realtime_usec(j, a->until + 1);
        else
                r = sd_journal_seek_tail(j);
        if (r < 0)
                return r;
        if (a->tail == 0) {
                /* Stand on the last entry, as if it had been shown: only newer ones follow. */
                r = sd_journal_previous(j);
                if (r < 0)
                        return r;
        } else {
                r = seek_back_lines(j, a->tail);
                if (r < 0)
                        return r;
                if (r > 0) {
                        l->need_next = false;
                        return 0;
                }
        }
        return r > 0 ? 0 : sd_journal_seek_head(j);
}

/* With -M, the machine's journal, found through its root directory from machined. */
static int open_machine_journal(const char *machine, sd_journal **ret, int *ret_fd) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *host = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int fd = -1;
        int r, received;

        r = sd_bus_open_system(&host);
        if (r < 0)
                return ctl_log_errno(r, "Failed to connect to the system bus: %m");
        r = sd_bus_call_method(host, "org.freedesktop.machine1", "/org/freedesktop/machine1",
                               "org.freedesktop.machine1.Manager", "OpenMachineRootDirectory", &error, &reply, "s",
                               machine);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "h", &received);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply of OpenMachineRootDirectory: %m");
        fd = fcntl(received, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return ctl_log_errno(errno, "Failed to duplicate the root directory of %s: %m", machine);
        r = sd_journal_open_directory_fd(ret, fd, SD_JOURNAL_OS_ROOT);
        if (r < 0)
                return ctl_log_errno(r, "Failed to open the journal of %s: %m", machine);
        *ret_fd = TAKE_FD(fd); /* The journal uses it and does not take it over. */
        return 0;
}

static int open_journal(const Ctl *ctl, const char *id, sd_journal **ret, int *ret_fd) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_free_ char *match = NULL;
        int r;

        *ret_fd = -1;
        if (ctl->transport == CTL_TRANSPORT_MACHINE)
                r = open_machine_journal(ctl->host, &j, ret_fd);
        else {
                /* System and user journals: the lines are sent by the container's supervisor, a
                 * system process, but with SplitMode=uid an unprivileged sender lands in a user
                 * journal. Root reads all of them; the match picks the container's entries. */
                r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
                if (r < 0)
                        r = ctl_log_errno(r, "Failed to open the journal: %m");
        }
        if (r < 0)
                return r;
        if (sd_journal_has_runtime_files(j) <= 0 && sd_journal_has_persistent_files(j) <= 0)
                ctl_log_warning("No journal files could be opened; reading the system journal needs root or "
                                "membership in the systemd-journal group");
        (void) sd_journal_set_data_threshold(j, 0);
        if (asprintf(&match, "CONTAINER_ID_FULL=%s", id) < 0)
                return ctl_log_errno(-ENOMEM, "%m");
        r = sd_journal_add_match(j, match, 0);
        if (r < 0)
                return ctl_log_errno(r, "Failed to add the journal match: %m");
        *ret = TAKE_PTR(j);
        return 0;
}

static void finish(Logs *l, int r) {
        l->finished = true;
        if (r < 0 && l->result >= 0)
                l->result = r;
}

static int on_settled(sd_event_source *s, uint64_t usec, void *userdata) {
        Logs *l = userdata;

        (void) sd_journal_process(l->journal);
        finish(l, print_available(l));
        return 0;
}

/* The container stopped: read on for a moment, then drain the journal and exit. */
static void begin_stop(Logs *l) {
        if (l->stopping)
                return;
        l->stopping = true;
        if (sd_event_add_time_relative(l->event, NULL, CLOCK_MONOTONIC, LOGS_SETTLE_USEC, LOGS_SETTLE_ACCURACY_USEC,
                                       on_settled, l) < 0)
                finish(l, 0);
}

/* Running, paused or restarting: there may be more output. */
static bool state_is_running(sd_bus *bus, const char *path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *state = NULL;

        /* Gone (e.g. --rm) or unreachable counts as not running. */
        if (sd_bus_get_property_string(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "State", &error, &state) < 0)
                return false;
        return ctl_state_is_active(state);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Logs *l = userdata;

        /* Which property changed hardly matters: ask for the State, it is one round trip. */
        if (!state_is_running(l->bus, l->path))
                begin_stop(l);
        return 0;
}

static int on_journal(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Logs *l = userdata;
        int r;

        r = sd_journal_process(l->journal);
        if (r >= 0)
                r = print_available(l);
        fflush(stdout);
        if (r < 0 || l->done)
                finish(l, r);
        return 0;
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        Logs *l = userdata;
        int r;

        (void) on_journal(NULL, -1, 0, l);
        if (!l->stopping && !state_is_running(l->bus, l->path))
                begin_stop(l);
        r = sd_event_source_set_time_relative(s, LOGS_POLL_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                finish(l, r);
        return 0;
}

static int follow(Logs *l) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *changed = NULL;
        int r;

        r = sd_event_new(&event);
        if (r < 0)
                return r;
        l->event = event;
        r = sd_bus_match_signal(l->bus, &changed, BERTH_BUS_SERVICE, l->path, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_properties_changed, l);
        if (r < 0)
                return r;
        /* Subscribed first, checked second: a stop in between is not missed. */
        if (!state_is_running(l->bus, l->path))
                return 0;
        r = sd_event_add_io(event, NULL, sd_journal_get_fd(l->journal), (uint32_t) sd_journal_get_events(l->journal),
                            on_journal, l);
        if (r < 0)
                return r;
        /* Floating sources: they go away with the event loop. */
        r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, LOGS_POLL_USEC, 0, on_poll, l);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(l->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        /* sd_event_run() rather than sd_event_loop()+sd_event_exit(), which would close the bus. */
        while (!l->finished && r >= 0)
                r = sd_event_run(event, UINT64_MAX);
        (void) sd_bus_detach_event(l->bus);
        return r < 0 ? r : l->result;
}

/* --details: the names of the container's labels= and env= log opts with their journal fields. */
static int get_detail_keys(sd_bus *bus, const char *path, char ***ret) {
        static const char *const properties[] = { "LogLabels", "LogEnv" };
        _cleanup_strv_free_ char **keys = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(properties); i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *list = NULL;
                r = sd_bus_get_property_string(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, properties[i], &error,
                                               &list);
                if (r < 0)
                        return ctl_log_bus_error(&error, r);
                for (char *p = list; !isempty(p);) {
                        size_t n = strcspn(p, ",");
                        _cleanup_free_ char *key = strndup(p, n), *field = NULL, *entry = NULL;
                        if (!key)
                                return ctl_log_errno(-ENOMEM, "%m");
                        if (log_field_name_from_key(key, &field) >= 0) {
                                if (asprintf(&entry, "%s\t%s", key, field) < 0 || strv_push(&keys, entry) < 0)
                                        return ctl_log_errno(-ENOMEM, "%m");
                        }
                        p += n + (p[n] == ',');
                }
        }
        *ret = TAKE_PTR(keys);
        return 0;
}

int verb_logs(int argc, char *argv[], Ctl *ctl) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_free_ char *path = NULL, *id = NULL, *driver = NULL;
        _cleanup_strv_free_ char **detail_keys = NULL;
        _cleanup_close_ int root_fd = -1;
        LogsArgs a;
        Logs l = {};
        sd_bus *bus;
        int r;

        r = parse_logs_argv(argc, argv, &a);
        if (r <= 0)
                return r;
        if (ctl->transport == CTL_TRANSPORT_REMOTE) {
                ctl_log_error("logs reads the journal of the machine it runs on and does not work with -H");
                return -EOPNOTSUPP;
        }
        ctl->signals = a.follow; /* it learns of the container's stop from PropertiesChanged */
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = ctl_get_container(bus, a.container, &error, &path);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_get_property_string(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "Id", &error, &id);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        /* An older berthd has no LogDriver: journald, then. */
        if (sd_bus_get_property_string(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "LogDriver", NULL, &driver) >=
                    0 &&
            streq(driver, "none")) {
                /* Docker's words */
                ctl_log_error("configured logging driver does not support reading");
                return -EOPNOTSUPP;
        }
        if (a.details) {
                r = get_detail_keys(bus, path, &detail_keys);
                if (r < 0)
                        return r;
        }

        r = open_journal(ctl, id, &j, &root_fd);
        if (r < 0)
                return r;
        l = (Logs){
                .args = &a,
                .journal = j,
                .line_start = { true, true },
                .line_max_stream = -1,
                .bus = bus,
                .path = path,
                .detail_keys = detail_keys,
        };
        if (a.follow) {
                /* Set up inotify before reading, so nothing written meanwhile goes unnoticed. */
                r = sd_journal_get_fd(j);
                if (r < 0)
                        return ctl_log_errno(r, "Failed to watch the journal: %m");
        }
        r = seek_start(&l);
        if (r < 0)
                return ctl_log_errno(r, "Failed to seek in the journal: %m");
        r = print_available(&l);
        if (r >= 0 && a.follow && !l.done)
                r = follow(&l);
        fflush(stdout);
        if (r < 0)
                return ctl_log_errno(r, "Failed to read the journal: %m");
        return 0;
}
