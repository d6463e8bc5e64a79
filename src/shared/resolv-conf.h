/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* resolv.conf(5) and hosts(5) as a container's /etc gets them: the host's resolver configuration
 * read, Docker's --dns, --dns-search and --dns-option applied, the files' text made. Pure: only
 * resolv_conf_load_host() reads files. */

#include <stdbool.h>
#include <stddef.h>

typedef struct ResolvConf {
        char **nameservers; /* IPv4 or IPv6 literals (an IPv6 one may have a %scope) */
        char **search; /* domains, in order */
        char **options; /* "ndots:2", "edns0", ... as written */
} ResolvConf;

void resolv_conf_done(ResolvConf *c);

/* resolv.conf's text: "nameserver ADDR" (a value that is no address literal is skipped, as glibc
 * does), "search D..." and "domain D" (the last of them wins, as in glibc), "options O..." (they
 * add up), comments from '#' or ';' at the start of a line, other keywords ignored. Only -ENOMEM. */
int resolv_conf_parse(const char *text, size_t len, ResolvConf *ret);

/* 127.0.0.0/8, ::1 (and ::ffff:127.x.y.z). */
bool nameserver_is_loopback(const char *s);
/* An IPv4 or IPv6 literal (an IPv6 one with an optional %scope). */
bool nameserver_is_valid(const char *s);

/* What containers get from the host, Docker's way: etc is /etc/resolv.conf's text. When it names
 * nameservers and all are loopback (systemd-resolved's 127.0.0.53 stub, or any resolver on the
 * host itself, which a container cannot reach), the whole configuration (search, options too) is
 * taken from resolved instead (/run/systemd/resolve/resolv.conf, the servers the stub uses; NULL
 * when it could not be read). Then loopback nameservers are dropped and, only when none is left,
 * Google's 8.8.8.8 and 8.8.4.4 are put in (as Docker does: a container without any nameserver
 * cannot resolve anything, while these usually work). *ret_fallback (may be NULL) says whether that
 * happened, for a warning. */
int resolv_conf_host(const char *etc, size_t etc_len, const char *resolved, size_t resolved_len, ResolvConf *ret,
                     bool *ret_fallback);
/* resolv_conf_host() on <root>/etc/resolv.conf and <root>/run/systemd/resolve/resolv.conf (root
 * "" for the real ones; a missing file counts as empty). Reads files: not for the event loop when
 * they could sit on a slow file system. */
int resolv_conf_load_host(const char *root, ResolvConf *ret, bool *ret_fallback);

/* A container's configuration from base (the host's, or on a user network the gateway as only
 * nameserver with the host's search and options), with Docker's precedence: a non-empty dns
 * replaces the nameservers, dns_search the search domains (exactly "." means none), dns_options the
 * options. -EINVAL for a dns entry that is no address literal. */
int resolv_conf_for_container(const ResolvConf *base, char *const *dns, char *const *dns_search,
                              char *const *dns_options, ResolvConf *ret);
/* resolv.conf's text for c: "nameserver" lines, then "search" and "options" when there are any.
 * NULL on ENOMEM. */
char *resolv_conf_format(const ResolvConf *c);

/* One --add-host: "name:address" or "name=address", the address an IPv4 or IPv6 literal (the IPv6
 * one maybe in brackets, "[::1]"), or "host-gateway" for host_gateway (-EINVAL when that is NULL).
 * -EINVAL when malformed. */
int extra_host_parse(const char *s, const char *host_gateway, char **ret_name, char **ret_address);

/* One line of a container's own addresses: "address names...". */
typedef struct HostsLine {
        const char *address;
        char *const *names; /* hostname, then container name, aliases... */
} HostsLine;
/* A container's /etc/hosts: localhost (127.0.0.1 and ::1), the IPv6 names Docker writes (ip6-*,
 * fe00::0, ff00::0, ff02::1, ff02::2), the --add-host entries (extra_hosts, as extra_host_parse()
 * takes them), then the container's own lines. -EINVAL for a bad extra host, -ENOMEM. */
int etc_hosts_format(const HostsLine *own, size_t n_own, char *const *extra_hosts, const char *host_gateway,
                     char **ret);
