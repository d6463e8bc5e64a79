/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthd: the berth manager, org.berth1 on the system bus. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "config.h"
#include "container.h"
#include "manager.h"

static int help(void) {
        printf("Usage: berthd [OPTIONS]\n\n"
               "The berth container manager: serves org.berth1 on the system bus.\n"
               "Normally started by systemd as berthd.service.\n\n"
               "  -h --help      Show this help\n"
               "     --version  Show the version\n");
        return 0;
}

static int run(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        _cleanup_(manager_freep) Manager *m = NULL;
        sigset_t mask;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        return help();
                case 'V':
                        printf("berthd %s\n", BERTH_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("berthd takes no arguments.");
                return -EINVAL;
        }

        /* Children's exits are watched through pidfds; SIGTERM/SIGINT end the loop. Containers
         * keep running when berthd stops: they live in their own scopes. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        /* Two pidfds per running container and one fd per pending bus call add up: use the hard
         * limit systemd grants. (The payload gets the classic soft limit back: see berth-nspawn.) */
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) >= 0 && nofile.rlim_cur < nofile.rlim_max) {
                nofile.rlim_cur = nofile.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &nofile);
        }
        /* The descriptor table grown now, while berthd has one thread: grown later, with the writer
         * thread sharing it, the kernel first waits for an RCU grace period, milliseconds of a
         * stopped loop in the middle of a burst of starts. 4096 slots: some 33 KiB of kernel memory. */
        if (getrlimit(RLIMIT_NOFILE, &nofile) >= 0 && nofile.rlim_cur > 16) {
                rlim_t top = nofile.rlim_cur - 1 < 4095 ? nofile.rlim_cur - 1 : 4095;
                int high = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, (int) top);
                if (high >= 0)
                        close(high);
        }

        r = manager_new(&m);
        if (r < 0)
                return r;
        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        (void) sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);

        r = sd_bus_open_system(&m->bus);
        if (r < 0) {
                log_error("Failed to connect to the system bus: %s", strerror(-r));
                return r;
        }
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;

        r = manager_startup(m);
        if (r < 0) {
                log_error("Failed to load state from %s: %s", m->state_dir, strerror(-r));
                return r;
        }
        r = container_saves_start(m);
        if (r < 0) {
                log_error("Failed to start the writer thread: %s", strerror(-r));
                return r;
        }
        r = manager_bus_setup(m);
        if (r < 0) {
                log_error("Failed to set up the D-Bus service: %s", strerror(-r));
                return r;
        }
        /* After the system bus: a berthctl finding the socket finds org.berth1 set up as well. */
        r = private_bus_listen(m);
        if (r < 0)
                log_warning("Failed to listen on %s/private, serving the system bus only: %s", m->run_dir,
                            strerror(-r));
        manager_start_restartable_containers(m);
        (void) sd_notify(false, "READY=1\nSTATUS=Managing containers.");
        r = sd_event_loop(m->event);
        (void) sd_notify(false, "STOPPING=1");
        return r;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);
        return r < 0 ? 1 : 0;
}
