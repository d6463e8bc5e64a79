/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "ctl-tar.h"
#include "ctl.h"
#include "dockerfile.h"
#include "dockerignore.h"

/*
 * berthctl build: Docker's classic builder, client-side, over berthd's methods. Each step that
 * changes the image is a container made from the step's parent image (Manager.CreateContainer),
 * run (RUN) or filled (COPY/ADD: Container.CopyTo) or left as it is (instructions that only change
 * the config), then committed (Container.Commit with the config changes) and removed. The history
 * entry's comment holds the step's cache key: a later build finds the step's image among all
 * images by it (docs/DESIGN.md, "Building images").
 */

typedef struct BuildOptions {
        char **tags;
        const char *file;
        char **build_args; /* "K=V" or "K" (from the environment) */
        const char *target;
        char **labels;
        const char *network;
        const char *iidfile;
        bool no_cache, pull, quiet;
} BuildOptions;

/* One step's container and what the step needs of it. */
typedef struct Build Build;
typedef struct BuildStep {
        Build *build;
        char *container; /* object path */
        char *id; /* container id */
} BuildStep;

struct Build {
        sd_bus *bus;
        const CtlTar *tar;
        const BuildOptions *options;
        const char *dockerfile_name;
        int context_fd; /* the context's root directory */
        char *context_tmp; /* a directory we made for a tar context: removed at the end */
        DockerIgnore *ignore;
        Dockerfile *df;
        char **cache; /* "key id" of the images with a build cache key */
        char **used_args;
        FILE *out; /* progress: stdout, or /dev/null with -q */
        unsigned step, n_steps;
        bool reported; /* the failure was logged with the Dockerfile's line */
};

/* ctl-build-step.c: the D-Bus side. SIGINT, SIGTERM and SIGHUP only set a flag during a build:
 * a RUN step's container is killed, and the build stops before its next step, leaving nothing. */
void build_catch_signals(void);
bool build_interrupted(void);
int build_load_cache(Build *b);
/* Whether the bytes at the start of fd are a tar archive, plain or compressed (ADD unpacks those). */
bool ctl_build_looks_like_archive(int fd);
const char *build_cache_lookup(Build *b, const char *key);
int build_cache_key(Build *b, const char *parent, const char *text, char **args, const char *content,
                    char ret[SHA256_HEX_LEN + 1]);
/* Create the step's container from image (an id): a never started one for config-only steps. */
int build_step_create(Build *b, const char *image, char **command, char **env, BuildStep *ret);
/* Start it with its output on ours and wait: the exit code. */
int build_step_run(Build *b, BuildStep *s, int *ret_exit_code);
int build_step_copy_to(Build *b, BuildStep *s, const char *path, int fd, bool quiet_errors);
/* Commit with changes, the cache key as comment; the new image's id. With skip_empty_layer, no
 * layer when the container has no changes (CommitWithOptions' SkipEmptyLayer). */
int build_step_commit(Build *b, BuildStep *s, char **changes, const char *key, bool skip_empty_layer, char **ret_image);
/* CopyFrom(path) into a directory: COPY --from. */
int build_step_copy_from(Build *b, BuildStep *s, const char *path, int dest_fd);
void build_step_remove(Build *b, BuildStep *s);
/* The image's ONBUILD triggers. */
int build_image_triggers(Build *b, const char *id, char ***ret);
/* FROM scratch's image (see docs/DESIGN.md). */
int build_scratch_image(Build *b, char **ret_id);
/* A file of an image (NULL when it has none): for --chown's names. */
int build_read_image_file(Build *b, const char *image, const char *path, char **ret);
static inline void build_step_remove_p(BuildStep *s) {
        if (s->build)
                build_step_remove(s->build, s);
}
/* Make the directory path (absolute) in the container unless it exists, leaving an existing one
 * alone; missing parents are made too (root, 0755). */
int build_step_mkdir(Build *b, BuildStep *s, const char *path);
/* The image's id (pulled when missing or pull is set) and its Env, WorkingDir. */
int build_resolve_image(Build *b, const char *name, const char *platform, bool pull, char **ret_id);
int build_image_config(Build *b, const char *id, char ***ret_env, char **ret_workdir);

/* ctl-build-copy.c: COPY and ADD. The stream for CopyTo of the sources (expanded, relative to the
 * root root_fd, checked against ignore) below dest (absolute), and its digest. */
typedef struct CopyPlan {
        int fd; /* a memfd with the tar stream, read from its start */
        char *path; /* CopyTo's path */
        char digest[SHA256_HEX_LEN + 1];
        bool archive; /* ADD of a local archive: fd is the archive, extracted into path */
        bool make_dest; /* path is a directory to make first when missing */
        char *fallback_as; /* for a single file: its name below "/" when path's parent is missing */
        int fallback_fd;
} CopyPlan;
void copy_plan_done(CopyPlan *p);
/* --chown and --chmod: the owner of every copied entry (when set), its permission bits (mode >= 0). */
typedef struct CopyOwner {
        bool set;
        unsigned uid, gid;
        int mode;
} CopyOwner;
int build_copy_plan(Build *b, int root_fd, const DockerIgnore *ignore, char **sources, const char *dest, bool add,
                    const CopyOwner *owner, CopyPlan *ret, char **ret_error);
/* "user[:group]" by number, or by name from the image's /etc/passwd and /etc/group (their text,
 * NULL when the image has none); a user alone gives its uid as gid too, as Docker. */
int build_parse_owner(const char *s, const char *passwd, const char *group, CopyOwner *owner, char **ret_error);
