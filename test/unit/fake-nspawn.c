/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for berth-nspawn in test-lifecycle: the same descriptors, "go" handshake, status line,
 * running and exit files (helper-protocol.h), but no container. Its payload is a child process
 * whose behaviour the container's command picks:
 *   exit CODE MSEC   exits with CODE after MSEC milliseconds
 *   run              waits for a signal (SIGTERM, SIGKILL end it: 128 + the signal)
 *   fail             no payload: "ERR" on the status socket
 *   vanish           reports OK, then the supervisor dies without an exit file */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper-protocol.h"
#include "json-util.h"
#include "util.h"

static const char *rundir;

static void write_file(const char *name, const char *line) {
        char path[4096], tmp[4200];
        snprintf(path, sizeof(path), "%s/%s", rundir, name);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || loop_write(fd, line, strlen(line)) < 0 || rename(tmp, path) < 0)
                _exit(70);
        close(fd);
}

static void send_status(const HelperStatus *s) {
        char line[HELPER_STATUS_LINE_MAX];
        if (helper_status_format(s, line, sizeof(line)) < 0 || loop_write(HELPER_FD_STATUS, line, strlen(line)) < 0)
                _exit(71);
        close(HELPER_FD_STATUS);
}

int main(int argc, char **argv) {
        _cleanup_free_ char *spec = NULL;
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_json_ json_object *o = NULL;
        size_t len;
        char go;

        close(HELPER_FD_EXE);
        /* Whatever becomes of the test, nothing of it outlives it. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (read_full_fd(HELPER_FD_SPEC, &spec, &len) < 0 || json_parse_buffer(spec, len, &o) < 0 ||
            json_get_strv(o, SPEC_KEY_ARGV, &args) < 0 || !args || !args[0] ||
            !(rundir = json_get_string(o, SPEC_KEY_RUNDIR)))
                return 72;
        if (read(HELPER_FD_GO, &go, 1) != 1)
                return 0; /* berthd gave up: start nothing */
        close(HELPER_FD_GO);

        HelperStatus status;
        if (streq(args[0], "fail")) {
                helper_status_failure(&status, HELPER_FAILURE_SETUP, ENOENT, "set up the fake container");
                send_status(&status);
                return 1;
        }
        uint64_t started = now_realtime_usec();
        pid_t payload = fork();
        if (payload < 0)
                return 73;
        if (payload == 0) {
                close(HELPER_FD_STATUS); /* EOF for berthd once the helper sent its line */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (streq(args[0], "exit") && args[1] && args[2]) {
                        usleep((useconds_t) atoi(args[2]) * 1000);
                        _exit(atoi(args[1]));
                }
                for (;;)
                        pause();
        }
        char line[HELPER_RUNTIME_LINE_MAX];
        HelperRunning running = { .helper_pid = getpid(), .payload_pid = payload, .started_usec = started };
        if (helper_running_format(&running, line, sizeof(line)) < 0)
                return 74;
        write_file(HELPER_RUNNING_FILE, line);
        helper_status_ok(&status, payload, started);
        send_status(&status);
        if (streq(args[0], "vanish")) {
                kill(payload, SIGKILL);
                raise(SIGKILL);
        }
        int ws;
        while (waitpid(payload, &ws, 0) < 0)
                ;
        HelperExit e = { .exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws),
                         .finished_usec = now_realtime_usec() };
        if (helper_exit_format(&e, line, sizeof(line)) < 0)
                return 75;
        write_file(HELPER_EXIT_FILE, line);
        return 0;
}
