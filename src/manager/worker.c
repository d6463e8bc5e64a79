/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "util.h"
#include "worker.h"

#define WORKER_KEEP_MAX 8

struct Worker {
        pid_t pid;
        int result_fd;
        sd_event_source *source;
        WorkerDoneFunc done;
        void *userdata;
        char result[2048];
        size_t result_len;
};

void worker_free(Worker *w) {
        if (!w)
                return;
        if (w->pid > 0) {
                (void) kill(w->pid, SIGKILL);
                (void) waitpid(w->pid, NULL, 0);
        }
        sd_event_source_disable_unref(w->source);
        safe_close(w->result_fd);
        free(w);
}

static void worker_complete(Worker *w) {
        WorkerDoneFunc done = w->done;
        void *userdata = w->userdata;
        int err, consumed = 0;

        (void) waitpid(w->pid, NULL, 0);
        w->pid = 0;
        w->result[w->result_len] = 0;
        /* The callback usually frees the operation that owns w: nothing of w is used after it. */
        if (streq(w->result, "OK") || !strncmp(w->result, "OK ", 3))
                done(userdata, 0, w->result[2] ? w->result + 3 : "");
        else if (sscanf(w->result, "ERR %d %n", &err, &consumed) >= 1 && consumed > 0 && err > 0)
                done(userdata, -err, w->result + consumed);
        else
                done(userdata, -EPROTO, NULL);
}

static int on_worker_result(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Worker *w = userdata;
        ssize_t n = read(fd, w->result + w->result_len, sizeof(w->result) - 1 - w->result_len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n > 0) {
                w->result_len += (size_t) n;
                if (w->result_len < sizeof(w->result) - 1)
                        return 0;
        }
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        worker_complete(w);
        return 0;
}

int worker_start(Manager *m, const int keep[], size_t n_keep, WorkerFunc work, WorkerDoneFunc done, void *userdata,
                 Worker **ret) {
        int pipes[2], r;

        if (n_keep >= WORKER_KEEP_MAX)
                return -E2BIG;
        Worker *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (Worker){ .result_fd = -1, .done = done, .userdata = userdata };
        if (pipe2(pipes, O_CLOEXEC) < 0) {
                free(w);
                return -errno;
        }
        w->result_fd = pipes[0];
        w->pid = fork();
        if (w->pid < 0) {
                r = -errno;
                safe_close(pipes[1]);
                worker_free(w);
                return r;
        }
        if (w->pid == 0) {
                _cleanup_free_ char *message = NULL, *payload = NULL;
                int fds[WORKER_KEEP_MAX + 1];
                char line[2048];
                /* Die with berthd: an orphaned worker would write into a dir the next berthd removes. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) signal(SIGPIPE, SIG_IGN);
                for (size_t k = 0; k < n_keep; k++)
                        fds[k] = keep[k];
                fds[n_keep] = pipes[1];
                r = close_all_fds_except(fds, n_keep + 1);
                if (r >= 0)
                        r = work(userdata, &payload, &message);
                if (r < 0)
                        snprintf(line, sizeof(line), "ERR %d %s", -r, message ?: strerror(-r));
                else
                        snprintf(line, sizeof(line), "OK%s%s", payload ? " " : "", payload ?: "");
                (void) loop_write(pipes[1], line, strlen(line));
                _exit(r < 0 ? 1 : 0);
        }
        safe_close(pipes[1]);
        r = sd_event_add_io(m->event, &w->source, w->result_fd, EPOLLIN, on_worker_result, w);
        if (r < 0) {
                worker_free(w);
                return r;
        }
        *ret = w;
        return 0;
}
