/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "image-ref.h"

/* Registry configuration as containers-registries.conf(5) (version 2) and Docker's daemon.json
 * have it: short-name search and aliases, [[registry]] prefix → location rewriting, blocked and
 * insecure registries, and Docker's "insecure-registries". */
typedef struct RegistriesConf RegistriesConf;

/* An empty configuration: no aliases, no search registries (short names go to docker.io). */
RegistriesConf *registries_conf_new(void);
RegistriesConf *registries_conf_free(RegistriesConf *c);
static inline void registries_conf_freep(RegistriesConf **c) {
        registries_conf_free(*c);
}

/* Reads <root>/etc/containers/registries.conf, then <root>/etc/containers/registries.conf.d/\*.conf
 * in byte order of their names, each later file overriding what it sets (the search list as a
 * whole, aliases one by one, an alias set to "" removing one, registries by prefix), and
 * <root>/etc/docker/daemon.json's "insecure-registries". root is "" for the real files. A missing
 * file counts as an empty one. -EBADMSG for a malformed file; then *ret_error, when asked for,
 * says "<path>:<line>: <what>" (files hold no secrets, but the message quotes no value either). */
int registries_conf_load_full(const char *root, RegistriesConf **ret, char **ret_error);
static inline int registries_conf_load(const char *root, RegistriesConf **ret) {
        return registries_conf_load_full(root, ret, NULL);
}
/* One registries.conf's text, merged over c as a later drop-in; c is unchanged on failure
 * (-EBADMSG with "line <n>: <what>" in *ret_error when asked for, -ENOMEM). The TOML subset: comments,
 * bare and quoted keys, basic strings (escapes \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX), literal
 * strings, booleans, arrays of strings, [tables] and [[arrays of tables]] with dotted names. */
int registries_conf_parse(RegistriesConf *c, const char *text, size_t len, char **ret_error);
/* Docker's daemon.json: "insecure-registries", CIDRs and host[:port] names ("http://" or
 * "https://" before one is dropped, as Docker does); other keys are ignored. */
int registries_conf_parse_daemon_json(RegistriesConf *c, const char *text, size_t len, char **ret_error);

/* The references to try for s, in order: a fully qualified s (one image_ref_is_qualified()) →
 * itself; a short name → its alias if any (the tag or digest of s carried over), else one per
 * unqualified-search registry, else docker.io (Docker's default). c may be NULL (no
 * configuration). -EINVAL when s is no reference. */
int image_ref_candidates(const RegistriesConf *c, const char *s, ImageRef **ret, size_t *ret_n);
void image_ref_array_free(ImageRef *a, size_t n);

/* Where to fetch r from: the [[registry]] with the longest prefix matching r's repository
 * replaces that prefix with its location ("example.com/foo" → "mirror.internal/bar" makes
 * example.com/foo/x come from mirror.internal/bar/x); r itself when none matches. -EACCES when that
 * registry is blocked. c may be NULL. */
int registries_conf_pull_source(const RegistriesConf *c, const ImageRef *r, ImageRef *ret);

/* Whether registry host "host[:port]" may be talked to over plain HTTP or without verifying its
 * certificate: a [[registry]] (matched by prefix or location) with insecure = true, Docker's
 * "insecure-registries" (an exact host[:port], or a CIDR holding the host when it is an IP address
 * literal: names are not resolved), or a loopback host (localhost, 127.0.0.0/8, ::1, as Docker
 * allows). Docker Hub never is. c may be NULL. */
bool registry_is_insecure(const RegistriesConf *c, const char *host);
