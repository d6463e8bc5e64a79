/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Docker's normalized references (github.com/distribution/reference: ParseNormalizedNamed,
 * FamiliarString), on top of the grammar in names.h. */

#define IMAGE_REF_DEFAULT_DOMAIN "docker.io"
#define IMAGE_REF_DEFAULT_HOST   "registry-1.docker.io"

typedef struct ImageRef {
        char *domain; /* "docker.io", "localhost:5000", "quay.io" */
        char *path; /* "library/busybox", "user/app" */
        char *tag; /* NULL when only a digest was given; "latest" when neither */
        char *digest; /* "sha256:<64 hex>" or NULL */
} ImageRef;

void image_ref_done(ImageRef *r);

/* Docker's rules: a first component is a domain when it has a '.' or ':', is "localhost" or has an
 * uppercase letter; otherwise there is none and it is docker.io. docker.io/x is docker.io/library/x,
 * index.docker.io is docker.io. -EINVAL for what Docker refuses (an uppercase path, an image id, a
 * bad tag or digest, ...), and when the normalized "domain/path" is over IMAGE_NAME_MAX (names.h
 * counts the domain). *ret is written on success only. */
int image_ref_parse(const char *s, ImageRef *ret);
/* Whether s names its domain itself (what image_ref_parse() would not have to default). For s that
 * image_ref_parse() accepts. */
bool image_ref_is_qualified(const char *s);

/* "docker.io/library/busybox:latest", the whole normalized reference (tag and/or digest as present). */
char *image_ref_string(const ImageRef *r);
/* "docker.io/library/busybox": the normalized repository. */
char *image_ref_name(const ImageRef *r);
/* The familiar form, as `docker images` shows it: "busybox:latest", "user/app:1",
 * "localhost:5000/x:tag", "quay.io/a/b@sha256:..." (tag and/or digest as present). It parses
 * back to r: unlike Docker's, it keeps docker.io/ before a path whose first component would be taken
 * for a domain ("docker.io/example.com/x"). */
char *image_ref_familiar(const ImageRef *r);
/* The familiar repository without tag and digest: "busybox", "localhost:5000/x". */
char *image_ref_familiar_name(const ImageRef *r);
/* The registry host to talk to: docker.io → "registry-1.docker.io"; any other domain as it is. */
const char *image_ref_registry_host(const ImageRef *r);
/* A deep copy; -ENOMEM. */
int image_ref_copy(const ImageRef *r, ImageRef *ret);
