/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl exec: Container.Exec with our own stdin/stdout/stderr. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <systemd/sd-event.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "ctl-attach.h"
#include "ctl-bus.h"
#include "ctl-log.h"
#include "ctl.h"
#include "util.h"

static void exec_help(void) {
        printf("Usage: berthctl exec [OPTIONS] CONTAINER COMMAND [ARG...]\n"
               "\n"
               "Run a command in a running container: in its namespaces and scope, with its seccomp\n"
               "filter and capabilities, and its environment. Exits with the command's exit code.\n"
               "\n"
               "Options:\n"
               "  -d, --detach             Start the command and return (its exit code is not waited for)\n"
               "  -i, --interactive        Keep standard input open (else the command reads /dev/null)\n"
               "  -e, --env=KEY[=VALUE]    Set an environment variable; KEY alone takes the value\n"
               "                           from berthctl's environment\n"
               "  -w, --workdir=DIR        Working directory inside the container (absolute)\n"
               "  -t, --tty                A terminal of the container's devpts (raw mode here with -i)\n"
               "  -u, --user=USER[:GROUP]  Run as this user (default: the container's)\n"
               "      --env-file=FILE      Read environment variables from FILE (KEY[=VALUE] lines)\n"
               "      --privileged         Every capability for the command (the seccomp filter stays)\n"
               "      --detach-keys=KEYS   Accepted and checked as Docker's; the session ends with the\n"
               "                           command (its terminal is relayed by berthd's helper)\n"
               "  -h, --help               Show this help\n");
}

typedef struct ExecCall {
        sd_bus_message *reply;
        int resize_fd;
} ExecCall;

static int on_exec_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ExecCall *call = userdata;
        call->reply = sd_bus_message_ref(reply);
        return 0;
}

static int on_exec_winch(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        ExecCall *call = userdata;
        struct winsize ws = {};
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                return 0;
        uint16_t size[2] = { ws.ws_row, ws.ws_col };
        (void) !write(call->resize_fd, size, sizeof(size)); /* atomic on a pipe; dropped if it is full */
        return 0;
}

/* sd_bus_call(), with our terminal's size changes passed on meanwhile. */
static int call_forwarding_resizes(sd_bus *bus, sd_bus_message *m, int resize_fd, sd_bus_error *error,
                                   sd_bus_message **ret_reply) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        ExecCall call = { .resize_fd = resize_fd };
        int r;

        if ((r = sd_event_new(&event)) < 0 ||
            (r = sd_event_add_signal(event, NULL, SIGWINCH | SD_EVENT_SIGNAL_PROCMASK, on_exec_winch, &call)) < 0 ||
            (r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL)) < 0)
                return r;
        r = sd_bus_call_async(bus, &slot, m, on_exec_reply, &call, CTL_TIMEOUT_INFINITE);
        while (r >= 0 && !call.reply)
                r = sd_event_run(event, UINT64_MAX);
        (void) sd_bus_detach_event(bus);
        if (r < 0)
                return r;
        if (sd_bus_message_is_method_error(call.reply, NULL)) {
                r = sd_bus_error_copy(error, sd_bus_message_get_error(call.reply));
                sd_bus_message_unref(call.reply);
                return r < 0 ? r : -EIO;
        }
        *ret_reply = call.reply;
        return 0;
}

int verb_exec(int argc, char *argv[], Ctl *ctl) {
        enum { ARG_HELP = 0x100, ARG_ENV_FILE, ARG_PRIVILEGED, ARG_DETACH_KEYS };
        static const struct option options[] = {
                { "detach", no_argument, NULL, 'd' },
                { "env-file", required_argument, NULL, ARG_ENV_FILE },
                { "privileged", no_argument, NULL, ARG_PRIVILEGED },
                { "detach-keys", required_argument, NULL, ARG_DETACH_KEYS },
                { "interactive", no_argument, NULL, 'i' },
                { "tty", no_argument, NULL, 't' },
                { "env", required_argument, NULL, 'e' },
                { "workdir", required_argument, NULL, 'w' },
                { "user", required_argument, NULL, 'u' },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_strv_free_ char **env = NULL;
        size_t n_env = 0;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int null_fd = -1;
        const char *workdir = "", *user = NULL;
        bool interactive = false, tty = false, detach = false, privileged = false;
        sd_bus *bus;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:dite:w:u:h", options, NULL)) >= 0)
                switch (c) {
                case 'd':
                        detach = true;
                        break;
                case ARG_ENV_FILE:
                        r = ctl_env_add_file(&env, &n_env, optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_PRIVILEGED:
                        privileged = true;
                        break;
                case ARG_DETACH_KEYS: {
                        /* Checked as Docker does; the exec's terminal is relayed by berthd's helper, not
                         * by us, so there is no key to watch for: the session ends with the process. */
                        char keys[16];
                        if (ctl_parse_detach_keys(optarg, keys, sizeof(keys)) < 0) {
                                ctl_log_error("Invalid detach keys (%s) provided", optarg);
                                return -EINVAL;
                        }
                        break;
                }
                case 'i':
                        interactive = true;
                        break;
                case 't':
                        tty = true;
                        break;
                case 'u':
                        user = optarg;
                        break;
                case 'e':
                        r = ctl_env_add(&env, &n_env, optarg);
                        if (r < 0)
                                return r;
                        break;
                case 'w':
                        if (optarg[0] != '/') {
                                ctl_log_error("the working directory \"%s\" is not an absolute path", optarg);
                                return -EINVAL;
                        }
                        workdir = optarg;
                        break;
                case 'h':
                case ARG_HELP:
                        exec_help();
                        return 0;
                default:
                        return ctl_log_getopt_error("exec", c, argv);
                }
        if (argc - optind < 2) {
                ctl_log_error("\"exec\" requires a container and a command (see 'berthctl exec --help')");
                return -EINVAL;
        }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        if (!ctl_bus_can_pass_fds(bus)) {
                ctl_log_error("exec needs a connection that can pass file descriptors (not -H)");
                return -EOPNOTSUPP;
        }
        r = ctl_get_container(bus, argv[optind], &error, &path);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        if (detach)
                interactive = tty = false; /* as docker exec -d: no input, no terminal, no output here */
        if (!interactive || detach) {
                null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null_fd < 0)
                        return ctl_log_errno(-errno, "Failed to open /dev/null: %m");
        }

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        struct winsize ws = {};
        if (tty && (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0))
                ws = (struct winsize){ .ws_row = 24, .ws_col = 80 };
        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_CONTAINER, "ExecWithOptions");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv + optind + 1);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, env);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && !isempty(workdir))
                r = sd_bus_message_append(m, "{sv}", "WorkingDir", "s", workdir);
        if (r >= 0 && user)
                r = sd_bus_message_append(m, "{sv}", "User", "s", user);
        if (r >= 0 && detach)
                r = sd_bus_message_append(m, "{sv}", "Detach", "b", 1);
        if (r >= 0 && privileged)
                r = sd_bus_message_append(m, "{sv}", "Privileged", "b", 1);
        if (r >= 0 && tty)
                r = sd_bus_message_append(m, "{sv}", "Tty", "b", 1);
        if (r >= 0 && tty)
                r = sd_bus_message_append(m, "{sv}", "Rows", "u", (uint32_t) ws.ws_row);
        if (r >= 0 && tty)
                r = sd_bus_message_append(m, "{sv}", "Cols", "u", (uint32_t) ws.ws_col);
        /* New sizes of our terminal go to the exec's through a pipe (SIGWINCH → two uint16). */
        _cleanup_close_ int resize_r = -1, resize_w = -1;
        int resize[2];
        if (r >= 0 && tty && pipe2(resize, O_CLOEXEC | O_NONBLOCK) >= 0) {
                resize_r = resize[0], resize_w = resize[1];
                r = sd_bus_message_append(m, "{sv}", "ResizeFd", "h", resize_r);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = detach ? sd_bus_message_append(m, "hhh", null_fd, null_fd, null_fd)
                           : sd_bus_message_append(m, "hhh", interactive ? STDIN_FILENO : null_fd, STDOUT_FILENO,
                                                   STDERR_FILENO);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the Exec call: %m");
        struct termios saved;
        bool raw = tty && interactive && ctl_terminal_make_raw(&saved);
        r = resize_w >= 0 ? call_forwarding_resizes(bus, m, resize_w, &error, &reply)
                          : sd_bus_call(bus, m, CTL_TIMEOUT_INFINITE, &error, &reply);
        ctl_terminal_restore(raw, &saved);
        if (r < 0) {
                (void) ctl_log_bus_error(&error, r);
                return ctl_start_error_exit_status(&error);
        }
        int32_t code;
        r = sd_bus_message_read(reply, "i", &code);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the Exec reply: %m");
        return detach ? 0 : code;
}
