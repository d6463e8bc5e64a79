/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "macro.h"

/*
 * .dockerignore as Docker reads it (moby/patternmatcher): one pattern a line, "#" lines are
 * comments, white space around a pattern is dropped, a leading "!" makes an exception, patterns
 * are cleaned as Go's filepath.Clean does and a leading "/" is dropped. A pattern is Go's
 * filepath.Match syntax ("*", "?", "[a-z]", "\\" escapes) over slash-separated paths, where "**"
 * matches any number of directories. The last pattern that matches a path, or one of its parent
 * directories, decides.
 */

typedef struct DockerIgnore DockerIgnore;

int dockerignore_parse(const char *text, DockerIgnore **ret);
DockerIgnore *dockerignore_free(DockerIgnore *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(DockerIgnore *, dockerignore_free);

/* Whether path (relative to the context, "a/b", no leading "./") is excluded. */
bool dockerignore_excludes(const DockerIgnore *d, const char *path);
/* Whether some exception pattern could re-include something below the excluded directory path
 * (then the directory must still be walked). */
bool dockerignore_has_exceptions(const DockerIgnore *d);

/* A pattern against a whole path with the rules above (exposed for the tests). */
bool dockerignore_pattern_match(const char *pattern, const char *path);
