/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gen-container.h"
#include "gen-split.h"
#include "gen-unit-file.h"
#include "names.h"
#include "util.h"

typedef struct List {
        char **items;
        size_t n;
} List;

/* The [Container] section: single values point into the parsed file (the last assignment wins),
 * lists are copies (an empty assignment empties them, as in unit files). */
typedef struct Container {
        const char *image, *container_name, *user, *group, *workdir, *entrypoint, *pull, *hostname, *stop_timeout,
                *pids_limit, *log_driver;
        const char *health_cmd, *health_interval, *health_timeout, *health_retries, *health_start_period,
                *health_on_failure;
        const char *notify; /* --sdnotify: NULL (berthctl's default), "container" or "healthy" */
        char **exec;
        int read_only, run_init, no_new_privileges; /* -1: not set */
        int stop_signal; /* 0: not set */
        List env, env_files, volumes, labels, mounts, tmpfs, cap_add, cap_drop, berth_args, log_opts;
} Container;

static void list_done(List *l) {
        strv_free(l->items);
        *l = (List){};
}

static void container_done(Container *c) {
        strv_free(c->exec);
        list_done(&c->env);
        list_done(&c->env_files);
        list_done(&c->volumes);
        list_done(&c->labels);
        list_done(&c->mounts);
        list_done(&c->tmpfs);
        list_done(&c->cap_add);
        list_done(&c->cap_drop);
        list_done(&c->berth_args);
        list_done(&c->log_opts);
}

void generated_unit_done(GeneratedUnit *u) {
        free(u->text);
        free(u->container);
        strv_free(u->wanted_by);
        strv_free(u->required_by);
        strv_free(u->upheld_by);
        strv_free(u->aliases);
        *u = (GeneratedUnit){};
}

typedef enum KeyKind {
        KEY_STRING, /* a single value */
        KEY_BOOL, /* yes/no */
        KEY_LINE_LIST, /* each assignment one item */
        KEY_WORD_LIST, /* each assignment split into words, each an item */
        KEY_ASSIGNMENTS, /* words, each KEY=VALUE */
        KEY_EXEC,
        KEY_SIGNAL,
        KEY_PULL,
        KEY_NOTIFY,
} KeyKind;

typedef struct KeyDef {
        const char *key;
        KeyKind kind;
        size_t offset;
} KeyDef;

#define FIELD(f) offsetof(Container, f)

static const KeyDef container_keys[] = {
        { "Image", KEY_STRING, FIELD(image) },
        { "Exec", KEY_EXEC, FIELD(exec) },
        { "ContainerName", KEY_STRING, FIELD(container_name) },
        { "Environment", KEY_ASSIGNMENTS, FIELD(env) },
        { "EnvironmentFile", KEY_LINE_LIST, FIELD(env_files) },
        { "Volume", KEY_LINE_LIST, FIELD(volumes) },
        { "Mount", KEY_LINE_LIST, FIELD(mounts) },
        { "Tmpfs", KEY_LINE_LIST, FIELD(tmpfs) },
        { "User", KEY_STRING, FIELD(user) },
        { "Group", KEY_STRING, FIELD(group) },
        { "WorkingDir", KEY_STRING, FIELD(workdir) },
        { "Entrypoint", KEY_STRING, FIELD(entrypoint) },
        { "HostName", KEY_STRING, FIELD(hostname) },
        { "Label", KEY_ASSIGNMENTS, FIELD(labels) },
        { "BerthArgs", KEY_WORD_LIST, FIELD(berth_args) },
        { "Pull", KEY_PULL, FIELD(pull) },
        { "ReadOnly", KEY_BOOL, FIELD(read_only) },
        { "RunInit", KEY_BOOL, FIELD(run_init) },
        { "NoNewPrivileges", KEY_BOOL, FIELD(no_new_privileges) },
        { "AddCapability", KEY_WORD_LIST, FIELD(cap_add) },
        { "DropCapability", KEY_WORD_LIST, FIELD(cap_drop) },
        { "StopSignal", KEY_SIGNAL, FIELD(stop_signal) },
        { "StopTimeout", KEY_STRING, FIELD(stop_timeout) },
        { "PidsLimit", KEY_STRING, FIELD(pids_limit) },
        { "LogDriver", KEY_STRING, FIELD(log_driver) },
        { "LogOpt", KEY_LINE_LIST, FIELD(log_opts) },
        { "Notify", KEY_NOTIFY, FIELD(notify) },
        /* Quadlet's names for the --health-* options (the values are berthctl's to check). */
        { "HealthCmd", KEY_STRING, FIELD(health_cmd) },
        { "HealthInterval", KEY_STRING, FIELD(health_interval) },
        { "HealthTimeout", KEY_STRING, FIELD(health_timeout) },
        { "HealthRetries", KEY_STRING, FIELD(health_retries) },
        { "HealthStartPeriod", KEY_STRING, FIELD(health_start_period) },
        { "HealthOnFailure", KEY_STRING, FIELD(health_on_failure) },
};

/* Quadlet's other [Container] keys: known, so the error can say berth lacks them rather than
 * that they do not exist. */
static const char *const quadlet_unsupported[] = {
        "AddDevice",
        "AddHost",
        "Annotation",
        "AutoUpdate",
        "CgroupsMode",
        "ContainersConfModule",
        "DNS",
        "DNSOption",
        "DNSSearch",
        "EnvironmentHost",
        "ExposeHostPort",
        "GIDMap",
        "GlobalArgs",
        "GroupAdd",
        "IP",
        "IP6",
        "Mask",
        "Network",
        "NetworkAlias",
        "Pod",
        "PublishPort",
        "ReloadCmd",
        "ReloadSignal",
        "Retry",
        "RetryDelay",
        "Rootfs",
        "SeccompProfile",
        "Secret",
        "SecurityLabelDisable",
        "SecurityLabelFileType",
        "SecurityLabelLevel",
        "SecurityLabelNested",
        "SecurityLabelType",
        "ShmSize",
        "StartWithPod",
        "SubGIDMap",
        "SubUIDMap",
        "Sysctl",
        "Timezone",
        "UIDMap",
        "Ulimit",
        "Unmask",
        "UserNS",
        "ServiceName",
};

typedef struct Gen {
        unsigned line;
        char *message;
} Gen;

_printf_(3, 4) static int gen_error(Gen *g, unsigned line, const char *format, ...) {
        va_list ap;
        g->line = line;
        free(g->message);
        va_start(ap, format);
        if (vasprintf(&g->message, format, ap) < 0)
                g->message = NULL;
        va_end(ap);
        return g->message ? -EINVAL : -ENOMEM;
}

static int parse_bool(const char *s) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

/* "SIGTERM", "TERM" or "15" (1..31). */
static int parse_signal(const char *s) {
        const char *name = startswith(s, "SIG") ?: s;
        int n;
        if (parse_int(s, &n) >= 0)
                return n >= 1 && n < 32 ? n : -EINVAL;
        for (n = 1; n < 32; n++) {
                const char *abbrev = sigabbrev_np(n);
                if (abbrev && streq(abbrev, name))
                        return n;
        }
        return -EINVAL;
}

static bool signal_is_forwarded(int sig) {
        static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGKILL };
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                if (forwarded[i] == sig)
                        return true;
        return false;
}

static int list_add(List *l, const char *value) {
        return strv_push_counted(&l->items, &l->n, value);
}

static int set_container_key(Gen *g, Container *c, const KeyDef *def, const UnitEntry *e) {
        void *field = (char *) c + def->offset;
        _cleanup_strv_free_ char **words = NULL;
        int r;

        switch (def->kind) {
        case KEY_STRING:
        case KEY_PULL:
                if (def->kind == KEY_PULL && !isempty(e->value) && !streq(e->value, "always") &&
                    !streq(e->value, "missing") && !streq(e->value, "never"))
                        return gen_error(g, e->line, "Pull=%s is not supported: berth pulls always, missing or never.",
                                         e->value);
                *(const char **) field = isempty(e->value) ? NULL : e->value;
                return 0;
        case KEY_BOOL:
                if (isempty(e->value)) {
                        *(int *) field = -1;
                        return 0;
                }
                r = parse_bool(e->value);
                if (r < 0)
                        return gen_error(g, e->line, "%s=%s is not a boolean (yes or no).", e->key, e->value);
                *(int *) field = r;
                return 0;
        case KEY_SIGNAL:
                if (isempty(e->value)) {
                        *(int *) field = 0;
                        return 0;
                }
                r = parse_signal(e->value);
                if (r < 0)
                        return gen_error(g, e->line, "StopSignal=%s is not a signal.", e->value);
                /* systemd signals berthctl, and berthctl forwards only these (SIGKILL kills it,
                 * and ExecStopPost= the container). */
                if (!signal_is_forwarded(r))
                        return gen_error(g, e->line,
                                         "StopSignal=%s: berthctl forwards only SIGTERM, SIGINT, SIGHUP, SIGQUIT, "
                                         "SIGUSR1 and SIGUSR2.",
                                         e->value);
                *(int *) field = r;
                return 0;
        case KEY_NOTIFY:
                /* Quadlet's: true lets the payload notify (--sdnotify=container), healthy waits for the
                 * first passing health check, false is berthctl's default (ready once started). */
                if (strcasecmp(e->value, "healthy") == 0) {
                        *(const char **) field = "healthy";
                        return 0;
                }
                r = isempty(e->value) ? 0 : parse_bool(e->value);
                if (r < 0)
                        return gen_error(g, e->line, "Notify=%s is not a boolean (yes or no) or healthy.", e->value);
                *(const char **) field = r > 0 ? "container" : NULL;
                return 0;
        case KEY_EXEC:
                r = unit_split_words(e->value, &words);
                if (r == -EINVAL)
                        return gen_error(g, e->line, "Exec=%s: unbalanced quotes or a bad escape.", e->value);
                if (r < 0)
                        return r;
                strv_free(*(char ***) field);
                *(char ***) field = TAKE_PTR(words);
                return 0;
        case KEY_LINE_LIST:
                if (isempty(e->value)) {
                        list_done(field);
                        return 0;
                }
                return list_add(field, e->value);
        case KEY_WORD_LIST:
        case KEY_ASSIGNMENTS:
                if (isempty(e->value)) {
                        list_done(field);
                        return 0;
                }
                r = unit_split_words(e->value, &words);
                if (r == -EINVAL)
                        return gen_error(g, e->line, "%s=%s: unbalanced quotes or a bad escape.", e->key, e->value);
                if (r < 0)
                        return r;
                for (char **w = words; *w; w++) {
                        if (def->kind == KEY_ASSIGNMENTS && (!strchr(*w, '=') || **w == '='))
                                return gen_error(g, e->line, "%s=: \"%s\" is not KEY=VALUE.", e->key, *w);
                        if (def->kind == KEY_ASSIGNMENTS && streq(e->key, "Environment") &&
                            !env_assignment_is_valid(*w))
                                return gen_error(g, e->line, "Environment=: \"%s\" is not a valid variable.", *w);
                        r = list_add(field, *w);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        return -EINVAL;
}

static int parse_container_entry(Gen *g, Container *c, const UnitEntry *e) {
        for (size_t i = 0; i < ELEMENTSOF(container_keys); i++)
                if (streq(container_keys[i].key, e->key))
                        return set_container_key(g, c, &container_keys[i], e);
        if (startswith(e->key, "Health"))
                return gen_error(g, e->line,
                                 "%s= is not supported by berth yet (of the health keys, only HealthCmd=, "
                                 "HealthInterval=, HealthTimeout=, HealthRetries=, HealthStartPeriod= and "
                                 "HealthOnFailure= are).",
                                 e->key);
        if (streq(e->key, "PodmanArgs"))
                return gen_error(g, e->line, "PodmanArgs= is called BerthArgs= here (berthctl run options).");
        for (size_t i = 0; i < ELEMENTSOF(quadlet_unsupported); i++)
                if (streq(quadlet_unsupported[i], e->key))
                        return gen_error(g, e->line, "%s= is not supported by berth yet.", e->key);
        return gen_error(g, e->line, "Unknown key %s= in section [Container].", e->key);
}

/* Every word of an [Install] assignment, each a unit name (an empty one resets the list). */
static int install_words(Gen *g, const UnitEntry *e, char ***list) {
        _cleanup_strv_free_ char **words = NULL;
        int r;
        if (isempty(e->value)) {
                strv_free(*list);
                *list = NULL;
                return 0;
        }
        r = unit_split_words(e->value, &words);
        if (r == -EINVAL)
                return gen_error(g, e->line, "%s=%s: unbalanced quotes or a bad escape.", e->key, e->value);
        if (r < 0)
                return r;
        for (char **w = words; *w; w++) {
                if (!strchr(*w, '.') || strchr(*w, '/') || **w == '.')
                        return gen_error(g, e->line, "%s=: \"%s\" is not a unit name.", e->key, *w);
                if (!strv_contains(*list, *w) && (r = strv_push(list, *w)) < 0)
                        return r;
        }
        return 0;
}

static int add_option(List *args, const char *option, const char *value) {
        _cleanup_free_ char *word = value ? strjoin(option, "=", value) : strdup(option);
        return word ? list_add(args, word) : -ENOMEM;
}

static int add_options(List *args, const char *option, const List *values) {
        for (size_t i = 0; i < values->n; i++) {
                int r = add_option(args, option, values->items[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* berthctl run's arguments after "run", unquoted. */
static int container_run_args(Gen *g, const Container *c, const char *name, List *args) {
        int r;

        if (!c->image)
                return gen_error(g, 0, "Image= is required in [Container].");
        if (c->image[0] == '-')
                return gen_error(g, 0, "Image=%s is not an image reference.", c->image);
        if (c->group && !c->user)
                return gen_error(g, 0, "Group= needs User= (berth runs USER:GROUP).");
        if (c->stop_timeout && c->stop_timeout[strspn(c->stop_timeout, "0123456789")])
                return gen_error(g, 0, "StopTimeout=%s is not a number of seconds.", c->stop_timeout);
        if ((r = add_option(args, "--rm", NULL)) < 0 || (r = add_option(args, "--name", name)) < 0)
                return r;
        if (c->pull && (r = add_option(args, "--pull", c->pull)) < 0)
                return r;
        if (c->user) {
                _cleanup_free_ char *user = c->group ? strjoin(c->user, ":", c->group) : strdup(c->user);
                if (!user || (r = add_option(args, "--user", user)) < 0)
                        return user ? r : -ENOMEM;
        }
        if (c->workdir && (r = add_option(args, "--workdir", c->workdir)) < 0)
                return r;
        if (c->entrypoint && (r = add_option(args, "--entrypoint", c->entrypoint)) < 0)
                return r;
        if (c->hostname && (r = add_option(args, "--hostname", c->hostname)) < 0)
                return r;
        if (c->stop_signal > 0) {
                char sig[16];
                snprintf(sig, sizeof(sig), "SIG%s", sigabbrev_np(c->stop_signal));
                if ((r = add_option(args, "--stop-signal", sig)) < 0)
                        return r;
        }
        if (c->pids_limit && (r = add_option(args, "--pids-limit", c->pids_limit)) < 0)
                return r;
        if (c->log_driver && (r = add_option(args, "--log-driver", c->log_driver)) < 0)
                return r;
        if (c->read_only > 0 && (r = add_option(args, "--read-only", NULL)) < 0)
                return r;
        if (c->run_init > 0 && (r = add_option(args, "--init", NULL)) < 0)
                return r;
        if (c->no_new_privileges > 0 && (r = add_option(args, "--security-opt", "no-new-privileges")) < 0)
                return r;
        const struct {
                const char *option, *value;
        } health[] = {
                { "--health-cmd", c->health_cmd },
                { "--health-interval", c->health_interval },
                { "--health-timeout", c->health_timeout },
                { "--health-retries", c->health_retries },
                { "--health-start-period", c->health_start_period },
                { "--health-on-failure", c->health_on_failure },
                { "--sdnotify", c->notify },
        };
        for (size_t i = 0; i < ELEMENTSOF(health); i++)
                if (health[i].value && (r = add_option(args, health[i].option, health[i].value)) < 0)
                        return r;
        if ((r = add_options(args, "--env-file", &c->env_files)) < 0 || (r = add_options(args, "--env", &c->env)) < 0 ||
            (r = add_options(args, "--volume", &c->volumes)) < 0 ||
            (r = add_options(args, "--mount", &c->mounts)) < 0 || (r = add_options(args, "--tmpfs", &c->tmpfs)) < 0 ||
            (r = add_options(args, "--label", &c->labels)) < 0 ||
            (r = add_options(args, "--cap-add", &c->cap_add)) < 0 ||
            (r = add_options(args, "--cap-drop", &c->cap_drop)) < 0 ||
            (r = add_options(args, "--log-opt", &c->log_opts)) < 0)
                return r;
        for (size_t i = 0; i < c->berth_args.n; i++)
                if ((r = list_add(args, c->berth_args.items[i])) < 0)
                        return r;
        if ((r = list_add(args, c->image)) < 0)
                return r;
        for (char **w = c->exec; w && *w; w++)
                if ((r = list_add(args, *w)) < 0)
                        return r;
        return 0;
}

/* "ExecStart=BERTHCTL WORD..." with every word quoted. */
static int write_command(FILE *f, const char *setting, const char *berthctl, char *const *words) {
        fprintf(f, "%s=%s", setting, berthctl);
        for (char *const *w = words; *w; w++) {
                _cleanup_free_ char *q = unit_quote_word(*w);
                if (!q)
                        return -ENOMEM;
                fprintf(f, " %s", q);
        }
        fputc('\n', f);
        return 0;
}

static void write_section(FILE *f, const UnitFile *u, const char *section) {
        for (size_t i = 0; i < u->n_entries; i++)
                if (streq(u->entries[i].section, section))
                        fprintf(f, "%s=%s\n", u->entries[i].key, u->entries[i].value);
}

static int write_unit(FILE *f, const UnitFile *u, const Container *c, const char *unit_name, const char *name,
                      const char *source_path, const char *berthctl, char *const *run_args) {
        int sig = c->stop_signal > 0 ? c->stop_signal : SIGTERM;
        _cleanup_free_ char *qname = unit_quote_word(name);
        int r;

        if (!qname)
                return -ENOMEM;
        fprintf(f,
                "# Generated by berth-generator from %s: edit that file, then run systemctl daemon-reload.\n"
                "[Unit]\n"
                "SourcePath=%s\n"
                /* Wants=, not Requires=: containers outlive berthd, and a restart of berthd must
                 * not stop the services. berthctl activates berthd through the bus anyway. */
                "Wants=berthd.service\n"
                "After=berthd.service\n",
                source_path, source_path);
        write_section(f, u, "Unit");
        fprintf(f,
                "\n[Service]\n"
                /* berthctl run says READY=1 once the container's payload has started (or passes on
                 * the payload's own, or waits for its first passing health check: Notify=). */
                "Type=notify\n"
                "NotifyAccess=main\n"
                /* The signal goes to berthctl, which forwards it to the container (in its own
                 * scope); after TimeoutStopSec= systemd kills berthctl, and ExecStopPost= the
                 * container. */
                "KillMode=mixed\n"
                "KillSignal=SIG%s\n"
                /* berthctl exits 128+N when the container dies of the stop signal. */
                "SuccessExitStatus=%d\n"
                "SyslogIdentifier=%s\n",
                sigabbrev_np(sig), 128 + sig, unit_name);
        if (c->stop_timeout)
                fprintf(f, "TimeoutStopSec=%s\n", c->stop_timeout);
        /* A container of this name left by a crash would make the start fail; as Quadlet's
         * --replace. */
        fprintf(f, "ExecStartPre=-%s rm -f %s\n", berthctl, qname);
        r = write_command(f, "ExecStart", berthctl, run_args);
        if (r < 0)
                return r;
        fprintf(f, "ExecStopPost=-%s rm -f %s\n", berthctl, qname);
        write_section(f, u, "Service");
        for (size_t i = 0; i < u->n_sections; i++) {
                const char *s = u->sections[i];
                if (streq(s, "Install") || startswith(s, "X-")) {
                        fprintf(f, "\n[%s]\n", s);
                        write_section(f, u, s);
                }
        }
        return 0;
}

/* A container name from the unit's name as Quadlet makes it: systemd-NAME. */
static int default_container_name(Gen *g, const char *unit_name, char **ret) {
        char *name = strjoin("systemd-", unit_name);
        if (!name)
                return -ENOMEM;
        if (!container_name_is_valid(name)) {
                free(name);
                return gen_error(g, 0, "systemd-%s is not a valid container name: set ContainerName=.", unit_name);
        }
        *ret = name;
        return 0;
}

static int generate(Gen *g, const char *unit_name, const char *source_path, const char *text, const char *berthctl,
                    GeneratedUnit *ret) {
        _cleanup_(unit_file_done) UnitFile u = {};
        _cleanup_(container_done) Container c = { .read_only = -1, .run_init = -1, .no_new_privileges = -1 };
        _cleanup_(generated_unit_done) GeneratedUnit out = {};
        _cleanup_(list_done) List args = {};
        _cleanup_free_ char *text_out = NULL;
        size_t size = 0;
        unsigned line = 0;
        bool has_container = false;
        int r;

        if (strchr(unit_name, '@'))
                return gen_error(g, 0, "Template units (NAME@.container) are not supported yet.");
        /* systemd's unit name characters; the name and ".service" within its 255. */
        if (isempty(unit_name) || strlen(unit_name) > 255 - strlen(".service") ||
            unit_name[strspn(unit_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\")])
                return gen_error(g, 0, "\"%s\" is not a valid unit name.", unit_name);
        r = unit_file_parse(text, &u, &line);
        if (r == -EINVAL)
                return gen_error(g, line, "Not a [Section] header or Key=Value assignment.");
        if (r < 0)
                return r;
        for (size_t i = 0; i < u.n_sections; i++) {
                const char *s = u.sections[i];
                if (streq(s, "Container"))
                        has_container = true;
                else if (!streq(s, "Unit") && !streq(s, "Service") && !streq(s, "Install") && !startswith(s, "X-"))
                        return gen_error(
                                g, 0, "Unknown section [%s] (berth knows [Unit], [Container], [Service], [Install]).",
                                s);
        }
        if (!has_container)
                return gen_error(g, 0, "No [Container] section.");
        for (size_t i = 0; i < u.n_entries; i++) {
                const UnitEntry *e = &u.entries[i];
                if (streq(e->section, "Container"))
                        r = parse_container_entry(g, &c, e);
                else if (streq(e->section, "Install") && streq(e->key, "WantedBy"))
                        r = install_words(g, e, &out.wanted_by);
                else if (streq(e->section, "Install") && streq(e->key, "RequiredBy"))
                        r = install_words(g, e, &out.required_by);
                else if (streq(e->section, "Install") && streq(e->key, "UpheldBy"))
                        r = install_words(g, e, &out.upheld_by);
                else if (streq(e->section, "Install") && streq(e->key, "Alias"))
                        r = install_words(g, e, &out.aliases);
                else
                        r = 0;
                if (r < 0)
                        return r;
        }
        if (c.container_name) {
                if (!container_name_is_valid(c.container_name))
                        return gen_error(g, 0, "ContainerName=%s is not a valid container name.", c.container_name);
                out.container = strdup(c.container_name);
                if (!out.container)
                        return -ENOMEM;
        } else if ((r = default_container_name(g, unit_name, &out.container)) < 0)
                return r;
        r = container_run_args(g, &c, out.container, &args);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **run = NULL;
        if ((r = strv_push(&run, "run")) < 0)
                return r;
        for (size_t i = 0; i < args.n; i++)
                if ((r = strv_push(&run, args.items[i])) < 0)
                        return r;

        FILE *f = open_memstream(&text_out, &size);
        if (!f)
                return -ENOMEM;
        r = write_unit(f, &u, &c, unit_name, out.container, source_path, berthctl, run);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        out.text = TAKE_PTR(text_out);
        *ret = out;
        out = (GeneratedUnit){};
        return 0;
}

int container_unit_generate(const char *unit_name, const char *source_path, const char *text, const char *berthctl,
                            GeneratedUnit *ret, unsigned *ret_line, char **ret_message) {
        Gen g = {};
        int r = generate(&g, unit_name, source_path, text, berthctl, ret);
        if (r == -EINVAL) {
                *ret_line = g.line;
                *ret_message = TAKE_PTR(g.message);
        }
        free(g.message);
        return r;
}
