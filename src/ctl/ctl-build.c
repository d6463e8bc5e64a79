/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl build: the verb, the context, the stages and the steps (see ctl-build.h). */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl-build.h"
#include "ctl-bus.h"
#include "ctl-log.h"
#include "image-ref.h"
#include "json-util.h"
#include "util.h"

typedef struct Stage {
        char *name; /* "AS name", lower case, or NULL */
        size_t from; /* the index of its FROM */
        size_t end; /* one past its last instruction */
        bool needed;
        char *image; /* its result, once built */
} Stage;

/* A stage as it is being built. */
typedef struct StageRun {
        char *image;
        char **env; /* the image's Env, as ENV changes it */
        char *workdir;
        char **shell;
        DockerfileVars args; /* the ARGs in scope, with their values */
        bool clear_on_build; /* the base had triggers: the next commit drops them from the config */
} StageRun;

static void stage_run_done(StageRun *s) {
        free(s->image);
        strv_free(s->env);
        free(s->workdir);
        strv_free(s->shell);
        strv_free(s->args.env);
}

static void build_done(Build *b) {
        safe_close(b->context_fd);
        if (b->context_tmp) {
                (void) rm_rf(b->context_tmp);
                free(b->context_tmp);
        }
        dockerignore_free(b->ignore);
        dockerfile_free(b->df);
        strv_free(b->cache);
        strv_free(b->used_args);
}

/* "Dockerfile:3: " and the instruction, before an error about it. */
static int step_error(Build *b, const DockerfileInstruction *i, const char *error) {
        b->reported = true;
        ctl_log_error("%s:%u: %s: %s", b->dockerfile_name, i->line, i->original, error);
        return -EINVAL;
}

/* The variables a word of this stage is expanded with: ARGs, then ENV (which wins). */
static int stage_vars(const StageRun *s, DockerfileVars *ret) {
        ret->env = strv_copy(s->args.env);
        if (!ret->env)
                return -ENOMEM;
        for (char **e = s->env; e && *e; e++)
                if (strv_push(&ret->env, *e) < 0)
                        return -ENOMEM;
        return 0;
}

/* A word that image-changes.c's split_words() gives back as it is. */
static char *change_word(const char *s) {
        char *r = malloc(strlen(s) * 2 + 1), *p = r;
        if (!r)
                return NULL;
        for (; *s; s++) {
                if (strchr(" \t\"\\", *s))
                        *p++ = '\\';
                *p++ = *s;
        }
        *p = 0;
        return r;
}

static char *json_strv(char **l) {
        _cleanup_json_ json_object *a = json_object_new_array();
        for (char **i = l; a && i && *i; i++)
                json_object_array_add(a, json_object_new_string(*i));
        return a ? strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))
                 : NULL;
}

/* The build args of this ARG: "name=value" into the stage's scope (or the global ones, s NULL). */
static int do_arg(Build *b, StageRun *s, const DockerfileInstruction *i, DockerfileVars *meta, char **ret_error) {
        DockerfileVars vars = {};
        int r = s ? stage_vars(s, &vars) : 0;
        if (r >= 0)
                r = dockerfile_apply_arg(i->rest, b->df->escape, s ? &vars : meta, b->options->build_args,
                                         s ? meta : NULL, s ? &s->args : meta, &b->used_args, ret_error);
        strv_free(vars.env);
        return r;
}

/* The args in scope that are not overridden by ENV: the environment of RUN, part of its cache key. */
static int run_args(const StageRun *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (char **a = s->args.env; a && *a; a++) {
                size_t n = strcspn(*a, "=");
                bool shadowed = false;
                for (char **e = s->env; e && *e; e++)
                        if (strncmp(*e, *a, n) == 0 && (*e)[n] == '=')
                                shadowed = true;
                if (!shadowed && strv_push(&l, *a) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static void print_id(Build *b, const char *id) {
        fprintf(b->out, " ---> %.12s\n", id);
}

/* A step that makes a new image from s->image: command for the container (RUN), a copy into it, or
 * neither (only the config changes). Cached under its key. */
typedef struct StepSpec {
        char **command; /* RUN: run this; else a "#(nop)" that is never run */
        char **env;
        const char *mkdir; /* a directory to make when missing (WORKDIR) */
        bool start; /* run the container (RUN) */
        char **changes;
        CopyPlan *copy;
        const char *key_text;
        char **key_args;
} StepSpec;

static int do_step(Build *b, StageRun *s, const DockerfileInstruction *i, const StepSpec *spec) {
        _cleanup_(build_step_remove_p) BuildStep step = {};
        char key[SHA256_HEX_LEN + 1];
        int r, code = 0;

        /* Dropping the base's triggers is part of what the step does, so of its key. */
        _cleanup_free_ char *key_text = strjoin(spec->key_text, s->clear_on_build ? "\n(triggers dropped)" : "");
        _cleanup_strv_free_ char **changes = strv_copy(spec->changes ?: STRV_MAKE(NULL));
        if (!key_text || !changes || (s->clear_on_build && strv_push(&changes, "ONBUILD") < 0))
                return -ENOMEM;
        r = build_cache_key(b, s->image, key_text, spec->key_args, spec->copy ? spec->copy->digest : NULL, key);
        if (r < 0)
                return ctl_log_errno(r, "Failed to compute the cache key: %m");
        const char *hit = b->options->no_cache ? NULL : build_cache_lookup(b, key);
        if (hit) {
                s->clear_on_build = false;
                fprintf(b->out, " ---> Using cache\n");
                print_id(b, hit);
                free(s->image);
                s->image = strdup(hit);
                return s->image ? 0 : -ENOMEM;
        }
        step.build = b;
        r = build_step_create(b, s->image, spec->command, spec->env, &step);
        if (r < 0)
                return r;
        if (spec->start) {
                if (spec->command == NULL || strv_length(spec->command) == 0)
                        return step_error(b, i, "nothing to run");
                fprintf(b->out, " ---> Running in %.12s\n", step.id);
                r = build_step_run(b, &step, &code);
                if (r < 0)
                        return r;
                if (code != 0) {
                        _cleanup_free_ char *cmd = strv_join(spec->command, " ");
                        ctl_log_error("The command '%s' returned a non-zero code: %d", cmd ?: "?", code);
                        return -ECANCELED;
                }
        }
        if (spec->mkdir) {
                r = build_step_mkdir(b, &step, spec->mkdir);
                if (r < 0)
                        return r;
        }
        if (spec->copy) {
                CopyPlan *p = spec->copy;
                r = p->make_dest ? build_step_mkdir(b, &step, p->path) : 0;
                if (r >= 0)
                        r = build_step_copy_to(b, &step, p->path, p->fd, p->fallback_fd >= 0 || p->archive);
                if (r < 0 && p->fallback_fd >= 0)
                        r = build_step_copy_to(b, &step, "/", p->fallback_fd, false);
                else if (r < 0 && p->archive) {
                        /* The destination is missing: make it, then extract into it. */
                        r = build_step_mkdir(b, &step, p->path);
                        if (r >= 0)
                                r = build_step_copy_to(b, &step, p->path, p->fd, false);
                }
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *image = NULL;
        /* Config-only steps add no layer, as Docker's (empty_layer in the history). */
        r = build_step_commit(b, &step, changes, key, !spec->start && !spec->copy, &image);
        if (r < 0)
                return r;
        s->clear_on_build = false;
        if (spec->start)
                fprintf(b->out, " ---> Removed intermediate container %.12s\n", step.id);
        print_id(b, image);
        free(s->image);
        s->image = TAKE_PTR(image);
        return 0;
}

/* "#(nop) TEXT" as the never-run command of a config-only step: history shows it as Docker's
 * classic builder did ("/bin/sh -c #(nop) ENV A=1"). */
static int nop_step(Build *b, StageRun *s, const DockerfileInstruction *i, const char *text, char **changes,
                    const char *mkdir) {
        _cleanup_free_ char *nop = strjoin("#(nop) ", text);
        if (!nop)
                return -ENOMEM;
        StepSpec spec = {
                .command = STRV_MAKE("/bin/sh", "-c", nop),
                .changes = changes,
                .mkdir = mkdir,
                .key_text = nop,
        };
        return do_step(b, s, i, &spec);
}

/* The absolute, clean path of a WORKDIR or a destination relative to the working directory: "."
 * and ".." resolved (never above "/"), no trailing "/". */
static char *resolve_path(const char *workdir, const char *p) {
        _cleanup_free_ char *joined = p[0] == '/' ? strdup(p) : strjoin(isempty(workdir) ? "/" : workdir, "/", p);
        _cleanup_strv_free_ char **parts = NULL;
        size_t n = 0;
        if (!joined)
                return NULL;
        for (char *c = strtok(joined, "/"); c; c = strtok(NULL, "/"))
                if (streq(c, "..")) {
                        if (n > 0) {
                                free(parts[--n]);
                                parts[n] = NULL;
                        }
                } else if (!streq(c, ".") && strv_push_counted(&parts, &n, c) < 0)
                        return NULL;
        _cleanup_free_ char *inner = n > 0 ? strv_join(parts, "/") : strdup("");
        return inner ? strjoin("/", inner) : NULL;
}

static int do_run(Build *b, StageRun *s, const DockerfileInstruction *i) {
        _cleanup_strv_free_ char **command = NULL, **args = NULL;
        int r = run_args(s, &args);
        if (r < 0)
                return r;
        if (i->json)
                command = strv_copy(i->json);
        else {
                command = strv_copy(s->shell);
                if (command && strv_push(&command, i->rest) < 0) {
                        strv_free(command);
                        command = NULL;
                }
        }
        if (!command)
                return -ENOMEM;
        /* The key has the command as JSON: ["a b"] and ["a", "b"] are different commands. */
        _cleanup_free_ char *json = json_strv(command), *text = json ? strjoin("RUN ", json) : NULL;
        if (!text)
                return -ENOMEM;
        StepSpec spec = { .command = command, .env = args, .start = true, .key_text = text, .key_args = args };
        return do_step(b, s, i, &spec);
}

/* --chown (names looked up in the image's /etc/passwd and /etc/group) and --chmod (octal). */
static int copy_owner(Build *b, StageRun *s, const DockerfileInstruction *i, const DockerfileVars *vars,
                      CopyOwner *owner) {
        _cleanup_free_ char *chown = NULL, *error = NULL, *passwd = NULL, *group = NULL;
        const char *c = dockerfile_flag(i, "chown"), *m = dockerfile_flag(i, "chmod");
        int r;

        if (m) {
                char *end;
                errno = 0;
                unsigned long mode = strtoul(m, &end, 8);
                if (!*m || *end || errno != 0 || mode > 07777)
                        return step_error(b, i, "invalid --chmod: expected an octal mode such as 0755");
                owner->mode = (int) mode;
        }
        if (!c)
                return 0;
        r = dockerfile_expand_word(c, b->df->escape, vars, &chown, &error);
        if (r < 0)
                return r == -EINVAL ? step_error(b, i, error) : r;
        if (strspn(chown, "0123456789:") != strlen(chown))
                /* Names: the image's own files say what they are. */
                if ((r = build_read_image_file(b, s->image, "/etc/passwd", &passwd)) < 0 ||
                    (r = build_read_image_file(b, s->image, "/etc/group", &group)) < 0)
                        return r;
        r = build_parse_owner(chown, passwd, group, owner, &error);
        if (r < 0)
                return r == -EINVAL ? step_error(b, i, error) : r;
        return 0;
}

static int do_copy(Build *b, StageRun *s, const DockerfileInstruction *i, Stage *stages, size_t n_stages,
                   const DockerfileVars *vars) {
        _cleanup_strv_free_ char **words = NULL;
        _cleanup_free_ char *error = NULL, *dest = NULL, *from_tmp = NULL, *text = NULL, *nop = NULL;
        _cleanup_(copy_plan_done) CopyPlan plan = { .fd = -1, .fallback_fd = -1 };
        _cleanup_close_ int from_fd = -1;
        const char *from = dockerfile_flag(i, "from");
        bool add = streq(i->keyword, "add");
        CopyOwner owner = { .mode = -1 };
        int r;

        if (i->json)
                r = (words = strv_copy(i->json)) ? 0 : -ENOMEM;
        else
                r = dockerfile_expand_words(i->rest, b->df->escape, vars, &words, &error);
        if (r < 0)
                return r == -EINVAL ? step_error(b, i, error) : r;
        size_t n = strv_length(words);
        if (n < 2)
                return step_error(b, i, "requires at least two arguments (source and destination)");
        dest = resolve_path(s->workdir, words[n - 1]);
        if (!dest)
                return -ENOMEM;
        if (endswith(words[n - 1], "/") || endswith(words[n - 1], "/.") || streq(words[n - 1], ".")) {
                char *d = endswith(dest, "/") ? strdup(dest) : strjoin(dest, "/");
                free(dest);
                dest = d;
                if (!dest)
                        return -ENOMEM;
        }
        free(words[n - 1]);
        words[n - 1] = NULL;

        int root = b->context_fd;
        const DockerIgnore *ignore = b->ignore;
        if (from) {
                /* A stage's or an image's files: each source copied out of a container of it. */
                _cleanup_(build_step_remove_p) BuildStep src = { .build = b };
                _cleanup_free_ char *image = NULL;
                if (add)
                        return step_error(b, i, "ADD does not take --from; use COPY --from");
                for (size_t k = 0; k < n_stages && !image; k++) {
                        char idx[24];
                        snprintf(idx, sizeof(idx), "%zu", k);
                        if ((stages[k].name && strcasecmp(stages[k].name, from) == 0) || streq(idx, from)) {
                                if (!stages[k].image)
                                        return step_error(b, i,
                                                          "the stage named by --from is not built before this one");
                                image = strdup(stages[k].image);
                                if (!image)
                                        return -ENOMEM;
                        }
                }
                if (!image && (r = build_resolve_image(b, from, NULL, false, &image)) < 0)
                        return r;
                from_tmp = strdup("/var/tmp/berthctl-build-from-XXXXXX"); /* may be big: not tmpfs */
                if (!from_tmp || !mkdtemp(from_tmp))
                        return ctl_log_errno(errno ?: ENOMEM, "Failed to create a directory: %m");
                from_fd = open(from_tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (from_fd < 0)
                        return ctl_log_errno(errno, "Failed to open %s: %m", from_tmp);
                r = build_step_create(b, image, STRV_MAKE("/bin/sh", "-c", "#(nop) COPY --from"), NULL, &src);
                if (r < 0)
                        goto finish;
                for (char **w = words; *w; w++) {
                        _cleanup_free_ char *abs = resolve_path("/", *w), *dir = NULL;
                        if (!abs) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        if (strpbrk(abs, "*?[")) {
                                r = step_error(b, i, "wildcards in sources of COPY --from are not supported");
                                goto finish;
                        }
                        /* Mirror the path below our directory, so the sources keep their names. */
                        const char *slash = strrchr(abs, '/');
                        dir = strndup(abs + 1, (size_t) (slash - abs - (slash > abs ? 1 : 0)));
                        if (!dir) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        _cleanup_free_ char *full = strjoin(from_tmp, "/", dir);
                        if (!full || mkdir_p(full, 0755) < 0) {
                                r = ctl_log_errno(ENOMEM, "Failed to create a directory: %m");
                                goto finish;
                        }
                        _cleanup_close_ int dfd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        r = dfd < 0 ? -errno : build_step_copy_from(b, &src, streq(abs, "/") ? "/." : abs, dfd);
                        if (r < 0)
                                goto finish;
                        free(*w);
                        *w = strdup(abs + 1);
                        if (!*w) {
                                r = -ENOMEM;
                                goto finish;
                        }
                }
                root = from_fd;
                ignore = NULL;
        }
        r = copy_owner(b, s, i, vars, &owner);
        if (r < 0)
                goto finish;
        /* Files from the context are root's in the image, whoever owns them here (as Docker);
         * files from a stage or image keep their owners (as BuildKit's COPY --from). */
        if (!from && !owner.set)
                owner = (CopyOwner){ .set = true, .uid = 0, .gid = 0, .mode = owner.mode };
        r = build_copy_plan(b, root, ignore, words, dest, add, &owner, &plan, &error);
        if (r == -EINVAL)
                r = step_error(b, i, error ?: "invalid source");
        else if (r < 0)
                r = step_error(b, i, error ?: strerror(-r));
        if (r < 0)
                goto finish;
        if (asprintf(&text, "%s %s:%s in %s", add ? "ADD" : "COPY", plan.archive ? "archive" : "file", plan.digest,
                     dest) < 0) {
                r = -ENOMEM;
                goto finish;
        }
        nop = strjoin("#(nop) ", text);
        if (!nop) {
                r = -ENOMEM;
                goto finish;
        }
        StepSpec spec = { .command = STRV_MAKE("/bin/sh", "-c", nop), .copy = &plan, .key_text = nop };
        r = do_step(b, s, i, &spec);
finish:
        if (from_tmp)
                (void) rm_rf(from_tmp);
        return r;
}

/* The instructions that only change the config: the change strings for Commit. */
static int config_changes(Build *b, StageRun *s, const DockerfileInstruction *i, const DockerfileVars *vars,
                          char ***ret_changes, char **ret_text, char **ret_mkdir, char **ret_error) {
        _cleanup_strv_free_ char **changes = NULL, **words = NULL;
        _cleanup_free_ char *change = NULL, *w = NULL;
        const char *k = i->keyword;
        int r = 0;

        if (streq(k, "env") || streq(k, "label")) {
                _cleanup_strv_free_ char **pairs = NULL;
                r = dockerfile_parse_pairs(i->rest, b->df->escape, vars, &pairs, ret_error);
                if (r < 0)
                        return r;
                _cleanup_free_ char *line = strdup(streq(k, "env") ? "ENV" : "LABEL");
                for (char **p = pairs; line && *p; p++) {
                        _cleanup_free_ char *e = change_word(*p);
                        char *n = e ? strjoin(line, " ", e) : NULL;
                        free(line);
                        line = n;
                        if (n && streq(k, "env")) {
                                char *eq = strchr(*p, '=');
                                *eq = 0;
                                DockerfileVars env = { .env = s->env };
                                r = dockerfile_vars_set(&env, *p, eq + 1);
                                *eq = '=';
                                s->env = env.env;
                                if (r < 0)
                                        return r;
                        }
                }
                if (!line || strv_push(&changes, line) < 0)
                        return -ENOMEM;
                /* History shows the pairs as they are, without change_word()'s escapes. */
                _cleanup_free_ char *joined = strv_join(pairs, " ");
                *ret_text = joined ? strjoin(streq(k, "env") ? "ENV " : "LABEL ", joined) : NULL;
                if (!*ret_text)
                        return -ENOMEM;
        } else if (streq(k, "cmd") || streq(k, "entrypoint")) {
                _cleanup_strv_free_ char **command = i->json ? strv_copy(i->json) : strv_copy(s->shell);
                if (!command || (!i->json && strv_push(&command, i->rest) < 0))
                        return -ENOMEM;
                if (!i->json && !i->rest[0] && streq(k, "entrypoint")) {
                        strv_free(command);
                        command = calloc(1, sizeof(char *));
                        if (!command)
                                return -ENOMEM;
                }
                _cleanup_free_ char *json = json_strv(command);
                change = json ? strjoin(streq(k, "cmd") ? "CMD " : "ENTRYPOINT ", json) : NULL;
        } else if (streq(k, "expose") || streq(k, "volume")) {
                if (i->json)
                        words = strv_copy(i->json);
                else if ((r = dockerfile_expand_words(i->rest, b->df->escape, vars, &words, ret_error)) < 0)
                        return r;
                if (!words)
                        return -ENOMEM;
                if (streq(k, "volume")) {
                        _cleanup_free_ char *json = json_strv(words);
                        change = json ? strjoin("VOLUME ", json) : NULL;
                } else {
                        _cleanup_free_ char *joined = strv_join(words, " ");
                        change = joined ? strjoin("EXPOSE ", joined) : NULL;
                }
        } else if (streq(k, "user") || streq(k, "stopsignal") || streq(k, "workdir")) {
                if ((r = dockerfile_expand_word(i->rest, b->df->escape, vars, &w, ret_error)) < 0)
                        return r;
                if (streq(k, "workdir")) {
                        char *dir = resolve_path(s->workdir, w);
                        if (!dir)
                                return -ENOMEM;
                        free(s->workdir);
                        s->workdir = dir;
                        *ret_mkdir = strdup(dir);
                        if (!*ret_mkdir)
                                return -ENOMEM;
                        change = strjoin("WORKDIR ", dir);
                } else
                        change = strjoin(streq(k, "user") ? "USER " : "STOPSIGNAL ", w);
        } else if (streq(k, "shell")) {
                strv_free(s->shell);
                s->shell = strv_copy(i->json);
                _cleanup_free_ char *json = json_strv(i->json);
                if (!s->shell || !json)
                        return -ENOMEM;
                change = strjoin("SHELL ", json);
        } else if (streq(k, "healthcheck")) {
                _cleanup_free_ char *flags = strv_join(i->flags, " ");
                change = flags ? strjoin("HEALTHCHECK ", flags, *flags ? " " : "", i->rest) : NULL;
        } else if (streq(k, "onbuild"))
                change = strjoin("ONBUILD ", i->rest);
        else {
                *ret_error = strdup("this instruction is not supported by berth's builder yet");
                return -EINVAL;
        }
        if (!changes && (!change || strv_push(&changes, change) < 0))
                return -ENOMEM;
        *ret_changes = TAKE_PTR(changes);
        return 0;
}

static int do_config(Build *b, StageRun *s, const DockerfileInstruction *i) {
        _cleanup_strv_free_ char **changes = NULL;
        _cleanup_free_ char *error = NULL, *mkdir = NULL, *text = NULL;
        DockerfileVars vars = {};
        int r = stage_vars(s, &vars);
        if (r >= 0)
                r = config_changes(b, s, i, &vars, &changes, &text, &mkdir, &error);
        strv_free(vars.env);
        if (r == -EINVAL)
                return step_error(b, i, error ?: "invalid arguments");
        if (r < 0)
                return r;
        if (!changes) {
                print_id(b, s->image);
                return 0;
        }
        /* The history shows the instruction as applied (after substitution). */
        if (!text && !(text = strv_join(changes, " ")))
                return -ENOMEM;
        return nop_step(b, s, i, text, changes, mkdir);
}

/* FROM [--platform=P] IMAGE [AS NAME]: the stage's base. */
static int do_from(Build *b, StageRun *s, const DockerfileInstruction *i, Stage *stages, size_t index,
                   const DockerfileVars *meta) {
        _cleanup_strv_free_ char **words = NULL, **env = NULL;
        _cleanup_free_ char *error = NULL, *id = NULL, *workdir = NULL, *platform = NULL;
        const char *p = dockerfile_flag(i, "platform");
        int r;

        r = dockerfile_expand_words(i->rest, b->df->escape, meta, &words, &error);
        if (r < 0)
                return r == -EINVAL ? step_error(b, i, error) : r;
        if (p && (r = dockerfile_expand_word(p, b->df->escape, meta, &platform, &error)) < 0)
                return r == -EINVAL ? step_error(b, i, error) : r;
        if (streq(words[0], "scratch")) {
                r = build_scratch_image(b, &id);
                if (r < 0)
                        return r;
        }
        for (size_t k = 0; k < index && !id; k++)
                if (stages[k].name && strcasecmp(stages[k].name, words[0]) == 0 && stages[k].image)
                        id = strdup(stages[k].image);
        if (!id) {
                r = build_resolve_image(b, words[0], platform, b->options->pull, &id);
                if (r < 0)
                        return r;
        }
        r = build_image_config(b, id, &env, &workdir);
        if (r < 0)
                return r;
        s->image = TAKE_PTR(id);
        s->env = TAKE_PTR(env);
        s->workdir = TAKE_PTR(workdir);
        s->shell = strv_copy(STRV_MAKE("/bin/sh", "-c"));
        if (!s->shell)
                return -ENOMEM;
        print_id(b, s->image);
        return 0;
}

static int run_instruction(Build *b, StageRun *s, const DockerfileInstruction *i, Stage *stages, size_t n_stages,
                           DockerfileVars *meta) {
        const char *k = i->keyword;
        _cleanup_free_ char *error = NULL;
        int r;

        if (streq(k, "run"))
                return do_run(b, s, i);
        if (streq(k, "arg")) {
                r = do_arg(b, s, i, meta, &error);
                if (r == -EINVAL)
                        return step_error(b, i, error ?: "invalid argument");
                if (r >= 0)
                        print_id(b, s->image);
                return r;
        }
        if (streq(k, "copy") || streq(k, "add")) {
                DockerfileVars vars = {};
                r = stage_vars(s, &vars);
                if (r >= 0)
                        r = do_copy(b, s, i, stages, n_stages, &vars);
                strv_free(vars.env);
                return r;
        }
        if (streq(k, "maintainer")) {
                print_id(b, s->image);
                return 0; /* deprecated; berth's Commit has no author change, the step changes nothing */
        }
        return do_config(b, s, i);
}

/* The stages: where they start and end, their names; the ARGs before the first FROM into meta. */
static int plan_stages(Build *b, DockerfileVars *meta, Stage **ret, size_t *ret_n) {
        Dockerfile *df = b->df;
        Stage *stages = NULL;
        size_t n = 0;
        int r = 0;

        for (size_t k = 0; k < df->n_instructions; k++) {
                DockerfileInstruction *i = &df->instructions[k];
                _cleanup_free_ char *error = NULL;
                if (!streq(i->keyword, "from")) {
                        if (n > 0)
                                continue;
                        if (!streq(i->keyword, "arg")) {
                                r = step_error(
                                        b, i,
                                        "no build stage in current context (only ARG may come before the first FROM)");
                                break;
                        }
                        r = do_arg(b, NULL, i, meta, &error);
                        if (r < 0) {
                                r = r == -EINVAL ? step_error(b, i, error ?: "invalid argument") : r;
                                break;
                        }
                        continue;
                }
                _cleanup_strv_free_ char **words = NULL;
                r = dockerfile_expand_words(i->rest, df->escape, meta, &words, &error);
                if (r < 0) {
                        r = r == -EINVAL ? step_error(b, i, error) : r;
                        break;
                }
                size_t nw = strv_length(words);
                if (!(nw == 1 || (nw == 3 && strcasecmp(words[1], "as") == 0))) {
                        r = step_error(b, i, "FROM requires either one or three arguments (IMAGE [AS NAME])");
                        break;
                }
                Stage *a = realloc(stages, (n + 1) * sizeof(Stage));
                if (!a) {
                        r = -ENOMEM;
                        break;
                }
                stages = a;
                stages[n] = (Stage){ .from = k, .end = df->n_instructions };
                if (n > 0)
                        stages[n - 1].end = k;
                if (nw == 3) {
                        for (char *c = words[2]; *c; c++)
                                *c = (char) tolower((unsigned char) *c);
                        for (size_t j = 0; j < n; j++)
                                if (stages[j].name && streq(stages[j].name, words[2]))
                                        r = step_error(b, i, "duplicate stage name");
                        stages[n].name = strdup(words[2]);
                        if (!stages[n].name)
                                r = -ENOMEM;
                }
                n++;
                if (r < 0)
                        break;
        }
        if (r >= 0 && n == 0) {
                ctl_log_error("%s: no FROM instruction: a build needs a base image", b->dockerfile_name);
                r = -EINVAL;
        }
        if (r < 0) {
                for (size_t k = 0; k < n; k++)
                        free(stages[k].name);
                free(stages);
                return r;
        }
        *ret = stages;
        *ret_n = n;
        return 0;
}

static ssize_t stage_index(Stage *stages, size_t n, const char *ref) {
        for (size_t k = 0; k < n; k++) {
                char idx[24];
                snprintf(idx, sizeof(idx), "%zu", k);
                if ((stages[k].name && strcasecmp(stages[k].name, ref) == 0) || streq(idx, ref))
                        return (ssize_t) k;
        }
        return -1;
}

/* Only the stages the target needs are built: through FROM and COPY --from. */
static int mark_needed(Build *b, Stage *stages, size_t n, const DockerfileVars *meta, size_t *ret_target) {
        size_t target = n - 1;
        if (b->options->target) {
                ssize_t t = stage_index(stages, n, b->options->target);
                if (t < 0 || !stages[t].name) {
                        ctl_log_error("target stage \"%s\" could not be found", b->options->target);
                        return -EINVAL;
                }
                target = (size_t) t;
        }
        stages[target].needed = true;
        for (size_t k = target + 1; k-- > 0;) {
                if (!stages[k].needed)
                        continue;
                for (size_t j = stages[k].from; j < stages[k].end; j++) {
                        DockerfileInstruction *i = &b->df->instructions[j];
                        _cleanup_strv_free_ char **words = NULL;
                        const char *ref = NULL;
                        if (streq(i->keyword, "from")) {
                                if (dockerfile_expand_words(i->rest, b->df->escape, meta, &words, NULL) >= 0)
                                        ref = words[0];
                        } else if (streq(i->keyword, "copy"))
                                ref = dockerfile_flag(i, "from");
                        ssize_t d = ref ? stage_index(stages, k, ref) : -1;
                        if (d >= 0 && (streq(i->keyword, "copy") || stages[d].name))
                                stages[d].needed = true;
                }
        }
        *ret_target = target;
        return 0;
}

/* The base image's ONBUILD triggers, right after FROM, as Docker's builder runs them. */
static int run_triggers(Build *b, StageRun *s, const DockerfileInstruction *from, Stage *stages, size_t n,
                        DockerfileVars *meta) {
        _cleanup_strv_free_ char **triggers = NULL;
        int r = build_image_triggers(b, s->image, &triggers);
        if (r < 0 || strv_length(triggers) == 0)
                return r;
        fprintf(b->out, "# Executing %zu build trigger%s\n", strv_length(triggers), triggers[1] ? "s" : "");
        s->clear_on_build = true;
        for (char **t = triggers; *t; t++) {
                _cleanup_(dockerfile_freep) Dockerfile *df = NULL;
                _cleanup_free_ char *error = NULL;
                r = dockerfile_parse(*t, strlen(*t), &df, &error);
                if (r >= 0 &&
                    (df->n_instructions != 1 || streq(df->instructions[0].keyword, "from") ||
                     streq(df->instructions[0].keyword, "onbuild"))) {
                        free(error);
                        error = strdup("not a single instruction other than FROM and ONBUILD");
                        r = -EINVAL;
                }
                if (r < 0) {
                        _cleanup_free_ char *why = strjoin("the base image's trigger \"", *t, "\": ", error ?: "?");
                        return step_error(b, from, why ?: "invalid trigger");
                }
                DockerfileInstruction *i = &df->instructions[0];
                i->line = from->line;
                r = run_instruction(b, s, i, stages, n, meta);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int build_stage(Build *b, Stage *stages, size_t n, size_t k, DockerfileVars *meta) {
        _cleanup_(stage_run_done) StageRun s = {};
        for (size_t j = stages[k].from; j < stages[k].end; j++) {
                DockerfileInstruction *i = &b->df->instructions[j];
                int r;
                if (build_interrupted()) {
                        ctl_log_error("interrupted");
                        return -EINTR;
                }
                fprintf(b->out, "Step %u/%u : %s\n", ++b->step, b->n_steps, i->original);
                if (j == stages[k].from) {
                        r = do_from(b, &s, i, stages, k, meta);
                        if (r >= 0)
                                r = run_triggers(b, &s, i, stages, n, meta);
                } else
                        r = run_instruction(b, &s, i, stages, n, meta);
                /* What failed was logged; say where, unless a RUN's exit code was the reason. */
                if (r < 0 && r != -ECANCELED && r != -EINTR && !b->reported)
                        ctl_log_error("%s:%u: %s: the step failed", b->dockerfile_name, i->line, i->original);
                if (r < 0)
                        return r;
        }
        stages[k].image = TAKE_PTR(s.image);
        return 0;
}

/* A tar context (a file or stdin) is unpacked by the checked tar code into a directory of ours. */
static int unpack_context(Build *b, int fd) {
        _cleanup_free_ char *error = NULL;
        b->context_tmp = strdup("/var/tmp/berthctl-build-XXXXXX");
        if (!b->context_tmp || !mkdtemp(b->context_tmp)) {
                b->context_tmp = mfree(b->context_tmp);
                return ctl_log_errno(errno ?: ENOMEM, "Failed to create a directory for the build context: %m");
        }
        b->context_fd = open(b->context_tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b->context_fd < 0)
                return ctl_log_errno(errno, "Failed to open %s: %m", b->context_tmp);
        if (fd < 0)
                return 0;
        int r = b->tar->extract(fd, b->context_fd, TAR_EXTRACT_LITERAL_NAMES, NULL, &error);
        if (r < 0)
                return ctl_log_errno(r, "Failed to unpack the build context: %s", error ?: strerror(-r));
        return 0;
}

/* The context and the Dockerfile's text. */
static int open_context(Build *b, const char *context, char **ret_text, size_t *ret_len) {
        const char *file = b->options->file;
        _cleanup_close_ int stdin_copy = -1;
        int r;

        if (startswith(context, "http://") || startswith(context, "https://") || startswith(context, "git@") ||
            startswith(context, "git://")) {
                ctl_log_error("remote build contexts (URLs and git repositories) are not supported: %s", context);
                return -EOPNOTSUPP;
        }
        if (streq(context, "-")) {
                if (isatty(STDIN_FILENO)) {
                        ctl_log_error("the build context \"-\" is read from standard input, but it is a terminal");
                        return -EINVAL;
                }
                stdin_copy = memfd_create("berthctl-build-stdin", MFD_CLOEXEC);
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                if (stdin_copy < 0 || read_full_fd(STDIN_FILENO, &data, &len) < 0 ||
                    loop_write(stdin_copy, data, len) < 0 || lseek(stdin_copy, 0, SEEK_SET) < 0)
                        return ctl_log_errno(errno ?: EIO, "Failed to read standard input: %m");
                if (ctl_build_looks_like_archive(stdin_copy))
                        r = unpack_context(b, stdin_copy);
                else {
                        /* A Dockerfile alone: the context is empty. */
                        r = unpack_context(b, -1);
                        if (r >= 0) {
                                *ret_text = TAKE_PTR(data);
                                *ret_len = len;
                                b->dockerfile_name = "Dockerfile";
                                return 0;
                        }
                }
                if (r < 0)
                        return r;
        } else {
                struct stat st;
                if (stat(context, &st) < 0)
                        return ctl_log_errno(errno, "unable to prepare context: path \"%s\" not found: %m", context);
                if (S_ISDIR(st.st_mode)) {
                        b->context_fd = open(context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (b->context_fd < 0)
                                return ctl_log_errno(errno, "Failed to open %s: %m", context);
                } else {
                        _cleanup_close_ int fd = open(context, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                return ctl_log_errno(errno, "Failed to open %s: %m", context);
                        if (!ctl_build_looks_like_archive(fd)) {
                                ctl_log_error("unable to prepare context: %s is neither a directory nor a tar archive",
                                              context);
                                return -EINVAL;
                        }
                        r = unpack_context(b, fd);
                        if (r < 0)
                                return r;
                }
        }

        /* -f: a path of ours (or "-"), else the name inside the context. */
        b->dockerfile_name = file ?: "Dockerfile";
        if (file && streq(file, "-")) {
                if (streq(context, "-")) {
                        ctl_log_error("standard input cannot be both the context and the Dockerfile");
                        return -EINVAL;
                }
                r = read_full_fd(STDIN_FILENO, ret_text, ret_len);
        } else if (file && access(file, F_OK) == 0 && !b->context_tmp)
                r = read_full_file(file, ret_text, ret_len);
        else {
                const char *name = file ?: "Dockerfile";
                _cleanup_close_ int fd = -1;
                /* Inside the context, without following a symlink out of it. */
                _cleanup_free_ char *rel = strdup(name + strspn(name, "/"));
                if (!rel)
                        return -ENOMEM;
                fd = openat(b->context_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && !file)
                        fd = openat(b->context_fd, "dockerfile", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                r = fd < 0 ? -errno : read_full_fd(fd, ret_text, ret_len);
        }
        if (r < 0)
                return ctl_log_errno(r, "failed to read the Dockerfile %s: %m", b->dockerfile_name);
        return 0;
}

static int read_dockerignore(Build *b) {
        _cleanup_close_ int fd = openat(b->context_fd, ".dockerignore", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (fd < 0)
                return errno == ENOENT ? 0 : ctl_log_errno(errno, "Failed to open .dockerignore: %m");
        int r = read_full_fd(fd, &text, &len);
        if (r >= 0)
                r = dockerignore_parse(text, &b->ignore);
        if (r < 0)
                return ctl_log_errno(r, "Failed to read .dockerignore: %m");
        return 0;
}

/* After the last step: --label, the tags, the id. */
static int finish_build(Build *b, const char *image) {
        _cleanup_free_ char *final = strdup(image), *path = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!final)
                return -ENOMEM;
        for (char **a = b->options->build_args; a && *a; a++) {
                _cleanup_free_ char *name = strndup(*a, strcspn(*a, "="));
                if (name && !strv_contains(b->used_args, name))
                        fprintf(stderr, "[Warning] One or more build-args [%s] were not consumed\n", name);
        }
        r = ctl_get_image(b->bus, final, &error, &path);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        for (char **t = b->options->tags; t && *t; t++) {
                r = ctl_bus_call(b->bus, path, BERTH_BUS_IMAGE, "Tag", CTL_TIMEOUT_DEFAULT, &error, NULL, "s", *t);
                if (r < 0)
                        return ctl_log_bus_error(&error, r);
        }
        fprintf(b->out, "Successfully built %.12s\n", final);
        for (char **t = b->options->tags; t && *t; t++)
                fprintf(b->out, "Successfully tagged %s%s\n", *t, strchr(strrchr(*t, '/') ?: *t, ':') ? "" : ":latest");
        if (b->options->quiet)
                printf("sha256:%s\n", final);
        if (b->options->iidfile) {
                _cleanup_free_ char *line = strjoin("sha256:", final);
                if (!line || write_file_replace(b->options->iidfile, line, strlen(line), 0644) < 0)
                        return ctl_log_errno(errno ?: ENOMEM, "Failed to write %s: %m", b->options->iidfile);
        }
        return 0;
}

static int run_build(Build *b, const char *context) {
        _cleanup_free_ char *text = NULL, *error = NULL;
        DockerfileVars meta = {};
        Stage *stages = NULL;
        size_t n = 0, target = 0, len = 0;
        int r;

        r = ctl_tar_load(&b->tar);
        if (r < 0)
                return r;
        r = open_context(b, context, &text, &len);
        if (r < 0)
                return r;
        r = read_dockerignore(b);
        if (r < 0)
                return r;
        r = dockerfile_parse(text, len, &b->df, &error);
        if (r < 0) {
                ctl_log_error("failed to parse %s: %s", b->dockerfile_name, error ?: strerror(-r));
                return r;
        }
        if (b->df->syntax) {
                if (!startswith(b->df->syntax, "docker/dockerfile")) {
                        ctl_log_error("%s: the syntax directive names the frontend \"%s\"; berth parses Dockerfiles "
                                      "itself and cannot run a frontend",
                                      b->dockerfile_name, b->df->syntax);
                        return -EOPNOTSUPP;
                }
                fprintf(stderr,
                        "[Warning] %s: ignoring the syntax directive \"%s\": berth parses the Dockerfile "
                        "itself\n",
                        b->dockerfile_name, b->df->syntax);
        }
        r = plan_stages(b, &meta, &stages, &n);
        if (r < 0)
                goto finish;
        r = mark_needed(b, stages, n, &meta, &target);
        if (r < 0)
                goto finish;
        if (!b->options->no_cache && (r = build_load_cache(b)) < 0)
                goto finish;
        for (size_t k = 0; k <= target; k++)
                if (stages[k].needed)
                        b->n_steps += (unsigned) (stages[k].end - stages[k].from);
        for (size_t k = 0; k <= target && r >= 0; k++)
                if (stages[k].needed)
                        r = build_stage(b, stages, n, k, &meta);
        if (r >= 0 && b->options->labels) {
                /* --label: one more step on the result, as a LABEL instruction would be. */
                _cleanup_free_ char *line = strdup("LABEL");
                for (char **l = b->options->labels; line && *l; l++) {
                        _cleanup_free_ char *kv = strchr(*l, '=') ? strdup(*l) : strjoin(*l, "=");
                        char *w = kv ? change_word(kv) : NULL, *n2 = w ? strjoin(line, " ", w) : NULL;
                        free(w);
                        free(line);
                        line = n2;
                }
                _cleanup_(stage_run_done) StageRun s = { .image = strdup(stages[target].image) };
                DockerfileInstruction i = { .original = (char *) "--label", .line = 0 };
                if (!line || !s.image)
                        r = -ENOMEM;
                else {
                        r = nop_step(b, &s, &i, line, STRV_MAKE(line), NULL);
                        if (r >= 0) {
                                free(stages[target].image);
                                stages[target].image = TAKE_PTR(s.image);
                        }
                }
        }
        if (r >= 0)
                r = finish_build(b, stages[target].image);
finish:
        for (size_t k = 0; k < n; k++) {
                free(stages[k].name);
                free(stages[k].image);
        }
        free(stages);
        strv_free(meta.env);
        return r;
}

int verb_build(int argc, char *argv[], Ctl *ctl) {
        enum {
                ARG_HELP = 0x100,
                ARG_BUILD_ARG,
                ARG_TARGET,
                ARG_NO_CACHE,
                ARG_PULL,
                ARG_LABEL,
                ARG_NETWORK,
                ARG_IIDFILE,
                ARG_RM,
                ARG_FORCE_RM,
        };
        static const struct option options[] = {
                { "tag", required_argument, NULL, 't' },
                { "file", required_argument, NULL, 'f' },
                { "build-arg", required_argument, NULL, ARG_BUILD_ARG },
                { "target", required_argument, NULL, ARG_TARGET },
                { "no-cache", no_argument, NULL, ARG_NO_CACHE },
                { "pull", no_argument, NULL, ARG_PULL },
                { "label", required_argument, NULL, ARG_LABEL },
                { "network", required_argument, NULL, ARG_NETWORK },
                { "quiet", no_argument, NULL, 'q' },
                { "iidfile", required_argument, NULL, ARG_IIDFILE },
                { "rm", optional_argument, NULL, ARG_RM },
                { "force-rm", optional_argument, NULL, ARG_FORCE_RM },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        _cleanup_strv_free_ char **tags = NULL, **build_args = NULL, **labels = NULL;
        BuildOptions o = {};
        Build b = { .context_fd = -1, .options = &o };
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:t:f:qh", options, NULL)) >= 0)
                switch (c) {
                case 't':
                        if (strv_push(&tags, optarg) < 0)
                                return ctl_log_errno(ENOMEM, "Out of memory");
                        break;
                case 'f':
                        o.file = optarg;
                        break;
                case ARG_BUILD_ARG:
                        if (strv_push(&build_args, optarg) < 0)
                                return ctl_log_errno(ENOMEM, "Out of memory");
                        break;
                case ARG_TARGET:
                        o.target = optarg;
                        break;
                case ARG_NO_CACHE:
                        o.no_cache = true;
                        break;
                case ARG_PULL:
                        o.pull = true;
                        break;
                case ARG_LABEL:
                        if (strv_push(&labels, optarg) < 0)
                                return ctl_log_errno(ENOMEM, "Out of memory");
                        break;
                case ARG_NETWORK:
                        o.network = optarg;
                        break;
                case 'q':
                        o.quiet = true;
                        break;
                case ARG_IIDFILE:
                        o.iidfile = optarg;
                        break;
                case ARG_RM:
                case ARG_FORCE_RM:
                        break; /* intermediate containers are always removed */
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl build [OPTIONS] PATH | - | ARCHIVE\n"
                               "\n"
                               "Build an image from a Dockerfile. The context is a directory, a tar archive\n"
                               "(plain or compressed), or \"-\": a tar archive or a Dockerfile on standard input.\n"
                               "Each step runs in a container of the step before, which is committed and\n"
                               "removed; steps whose inputs did not change reuse the earlier image.\n"
                               "\n"
                               "Options:\n"
                               "  -t, --tag=NAME[:TAG]    Name the image (repeatable)\n"
                               "  -f, --file=PATH         The Dockerfile (default: PATH/Dockerfile; \"-\": stdin)\n"
                               "      --build-arg=K[=V]   Set a build-time variable (repeatable; without =V, from\n"
                               "                          the environment)\n"
                               "      --target=STAGE      Build the stage of this name and what it needs\n"
                               "      --no-cache          Do not reuse images of earlier builds\n"
                               "      --pull              Pull the base images even when they are present\n"
                               "      --label=K=V         Set a label on the image (repeatable)\n"
                               "      --network=MODE      The network of the RUN steps' containers\n"
                               "  -q, --quiet             Print only the image id\n"
                               "      --iidfile=FILE      Write the image id to FILE\n"
                               "  -h, --help              Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error("build", c, argv);
                }
        if (argc - optind != 1) {
                ctl_log_error("\"berthctl build\" requires exactly 1 argument (see 'berthctl build --help')");
                return -EINVAL;
        }
        o.tags = tags;
        o.build_args = build_args;
        o.labels = labels;
        /* Checked before anything is built, as Docker does. */
        for (char **t = tags; t && *t; t++) {
                _cleanup_(image_ref_done) ImageRef ref = {};
                if (image_ref_parse(*t, &ref) < 0 || ref.digest) {
                        ctl_log_error("invalid argument \"%s\" for \"-t, --tag\" flag: invalid reference format "
                                      "(expected NAME[:TAG] with a lowercase name)",
                                      *t);
                        return -EINVAL;
                }
        }
        ctl->signals = true; /* the pulls' progress */
        r = ctl_acquire_bus(ctl, &b.bus);
        if (r < 0)
                return r;
        if (!ctl_bus_can_pass_fds(b.bus)) {
                /* The steps' output and COPY's archives travel as descriptors. */
                ctl_log_error(
                        "This connection cannot pass file descriptors (as with -H), so build cannot work over it");
                return -EOPNOTSUPP;
        }
        b.out = o.quiet ? fopen("/dev/null", "we") : stdout;
        if (!b.out)
                return ctl_log_errno(errno, "Failed to open /dev/null: %m");
        build_catch_signals();
        r = run_build(&b, argv[optind]);
        if (o.quiet)
                fclose(b.out);
        else
                fflush(stdout);
        build_done(&b);
        /* As docker build: a failed build exits with 1. */
        return r < 0 ? 1 : 0;
}
