/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Exit codes as Docker uses them: the CLI or the engine failed (bad flags, daemon errors), the
 * payload could not be executed, the payload was not found. Anything else is the container's
 * own exit code. */
#define CTL_EXIT_ENGINE        125
#define CTL_EXIT_CANNOT_INVOKE 126
#define CTL_EXIT_NOT_FOUND     127

typedef enum CtlTransport {
        CTL_TRANSPORT_LOCAL,
        CTL_TRANSPORT_REMOTE, /* -H [user@]host, through ssh */
        CTL_TRANSPORT_MACHINE, /* -M machine, through machined */
} CtlTransport;

/* Global state of one invocation: the parsed global options and the lazily opened bus. */
typedef struct Ctl {
        CtlTransport transport;
        const char *host; /* argument of -H or -M */
        bool signals; /* the verb subscribes to signals: the system bus, never the private socket */
        sd_bus *bus;
} Ctl;

/* A verb gets its own argv (argv[0] is the verb). It returns the exit status of the program
 * (>= 0), or a negative errno after it has logged why; that becomes CTL_EXIT_ENGINE. */
typedef int (*CtlVerbFunc)(int argc, char *argv[], Ctl *ctl);

int verb_build(int argc, char *argv[], Ctl *ctl);
int verb_import(int argc, char *argv[], Ctl *ctl);
int verb_images(int argc, char *argv[], Ctl *ctl);
int verb_create(int argc, char *argv[], Ctl *ctl);
int verb_run(int argc, char *argv[], Ctl *ctl);
int verb_start(int argc, char *argv[], Ctl *ctl);
int verb_attach(int argc, char *argv[], Ctl *ctl);
int verb_stop(int argc, char *argv[], Ctl *ctl);
int verb_restart(int argc, char *argv[], Ctl *ctl);
int verb_kill(int argc, char *argv[], Ctl *ctl);
int verb_pause(int argc, char *argv[], Ctl *ctl);
int verb_unpause(int argc, char *argv[], Ctl *ctl);
int verb_rename(int argc, char *argv[], Ctl *ctl);
int verb_rm(int argc, char *argv[], Ctl *ctl);
int verb_wait(int argc, char *argv[], Ctl *ctl);
int verb_ps(int argc, char *argv[], Ctl *ctl);
int verb_logs(int argc, char *argv[], Ctl *ctl);
int verb_inspect(int argc, char *argv[], Ctl *ctl);
int verb_exec(int argc, char *argv[], Ctl *ctl);
int verb_volume(int argc, char *argv[], Ctl *ctl);
int verb_update(int argc, char *argv[], Ctl *ctl);
int verb_stats(int argc, char *argv[], Ctl *ctl);
int verb_top(int argc, char *argv[], Ctl *ctl);
int verb_tag(int argc, char *argv[], Ctl *ctl);
int verb_rmi(int argc, char *argv[], Ctl *ctl);
int verb_history(int argc, char *argv[], Ctl *ctl);
int verb_image(int argc, char *argv[], Ctl *ctl);
int verb_load(int argc, char *argv[], Ctl *ctl);
int verb_save(int argc, char *argv[], Ctl *ctl);
int verb_diff(int argc, char *argv[], Ctl *ctl);
int verb_export(int argc, char *argv[], Ctl *ctl);
int verb_commit(int argc, char *argv[], Ctl *ctl);
int verb_cp(int argc, char *argv[], Ctl *ctl);
int verb_image_prune(int argc, char *argv[], Ctl *ctl);
/* The "label" and "label!" entries (as) of a prune's filters a{sv}, for those given (ctl-system.c). */
int ctl_append_label_filters(sd_bus_message *m, char **labels, char **not_labels);
/* The prune verbs' --filter (until=, label=, label!=) as the filters a{sv} of a Prune* call; logs. */
int ctl_append_prune_filters(sd_bus_message *m, char **filters);
int verb_network(int argc, char *argv[], Ctl *ctl);
int verb_port(int argc, char *argv[], Ctl *ctl);
int verb_system(int argc, char *argv[], Ctl *ctl);
int verb_pull(int argc, char *argv[], Ctl *ctl);
int verb_push(int argc, char *argv[], Ctl *ctl);
int verb_login(int argc, char *argv[], Ctl *ctl);
int verb_logout(int argc, char *argv[], Ctl *ctl);
int verb_version(int argc, char *argv[], Ctl *ctl);
int verb_info(int argc, char *argv[], Ctl *ctl);
int verb_container(int argc, char *argv[], Ctl *ctl);
int verb_container_prune(int argc, char *argv[], Ctl *ctl);
int verb_events(int argc, char *argv[], Ctl *ctl);

/* Append a -e/--env argument to *env, *n_env entries long (ctl-create.c). Logs on failure. */
int ctl_env_add(char ***env, size_t *n_env, const char *arg);
/* --env-file: KEY[=VALUE] lines as -e options; blank lines and # comments skipped. Logs. */
int ctl_env_add_file(char ***env, size_t *n_env, const char *path);
