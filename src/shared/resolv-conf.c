/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "resolv-conf.h"
#include "util.h"

void resolv_conf_done(ResolvConf *c) {
        if (!c)
                return;
        strv_free(c->nameservers);
        strv_free(c->search);
        strv_free(c->options);
        *c = (ResolvConf){};
}

static void resolv_conf_donep(ResolvConf *c) {
        resolv_conf_done(c);
}

bool nameserver_is_valid(const char *s) {
        struct in6_addr a6;
        struct in_addr a4;
        char buf[INET6_ADDRSTRLEN];

        if (!s)
                return false;
        if (inet_pton(AF_INET, s, &a4) == 1)
                return true;
        const char *pct = strchr(s, '%');
        size_t l = pct ? (size_t) (pct - s) : strlen(s);
        if (l >= sizeof(buf) || (pct && (pct[1] == 0 || strchr(pct + 1, '%'))))
                return false;
        memcpy(buf, s, l);
        buf[l] = 0;
        return inet_pton(AF_INET6, buf, &a6) == 1;
}

bool nameserver_is_loopback(const char *s) {
        struct in6_addr a6;
        struct in_addr a4;

        if (!s)
                return false;
        if (inet_pton(AF_INET, s, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (inet_pton(AF_INET6, s, &a6) == 1)
                return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
        return false;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next token of *p, NUL-terminated in place; NULL at the end or at a comment. */
static char *next_token(char **p) {
        char *s = *p;
        while (is_blank(*s))
                s++;
        if (*s == 0 || *s == '#' || *s == ';') {
                *p = s;
                return NULL;
        }
        char *start = s;
        while (*s && !is_blank(*s))
                s++;
        if (*s)
                *s++ = 0;
        *p = s;
        return start;
}

static int parse_line(char *line, ResolvConf *c) {
        char *p = line, *keyword = next_token(&p), *t;
        int r;

        if (!keyword)
                return 0;
        if (streq(keyword, "nameserver")) {
                t = next_token(&p);
                if (t && nameserver_is_valid(t))
                        return strv_push(&c->nameservers, t);
        } else if (streq(keyword, "search") || streq(keyword, "domain")) {
                bool domain = streq(keyword, "domain");
                strv_free(c->search);
                c->search = NULL;
                while ((t = next_token(&p))) {
                        r = strv_push(&c->search, t);
                        if (r < 0 || domain)
                                return r;
                }
        } else if (streq(keyword, "options"))
                while ((t = next_token(&p))) {
                        r = strv_push(&c->options, t);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int resolv_conf_parse(const char *text, size_t len, ResolvConf *ret) {
        _cleanup_(resolv_conf_donep) ResolvConf c = {};
        size_t pos = 0;
        int r;

        while (pos < len) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                size_t l = nl ? (size_t) (nl - (text + pos)) : len - pos;
                _cleanup_free_ char *line = malloc(l + 1);
                if (!line)
                        return -ENOMEM;
                memcpy(line, text + pos, l);
                line[l] = 0;
                for (size_t i = 0; i < l; i++) /* a NUL byte would end the line early */
                        if (line[i] == 0)
                                line[i] = ' ';
                r = parse_line(line, &c);
                if (r < 0)
                        return r;
                pos += l + 1;
        }
        *ret = c;
        c = (ResolvConf){};
        return 0;
}

static bool only_loopback(char *const *servers) {
        if (!servers || !servers[0])
                return false;
        for (char *const *s = servers; *s; s++)
                if (!nameserver_is_loopback(*s))
                        return false;
        return true;
}

int resolv_conf_host(const char *etc, size_t etc_len, const char *resolved, size_t resolved_len, ResolvConf *ret,
                     bool *ret_fallback) {
        _cleanup_(resolv_conf_donep) ResolvConf c = {}, alt = {};
        _cleanup_strv_free_ char **kept = NULL;
        int r;

        r = resolv_conf_parse(etc ?: "", etc ? etc_len : 0, &c);
        if (r < 0)
                return r;
        if (only_loopback(c.nameservers) && resolved) {
                r = resolv_conf_parse(resolved, resolved_len, &alt);
                if (r < 0)
                        return r;
                if (alt.nameservers) {
                        resolv_conf_done(&c);
                        c = alt;
                        alt = (ResolvConf){};
                }
        }

        for (char **s = c.nameservers; s && *s; s++)
                if (!nameserver_is_loopback(*s)) {
                        r = strv_push(&kept, *s);
                        if (r < 0)
                                return r;
                }
        bool fallback = !kept;
        if (fallback && ((r = strv_push(&kept, "8.8.8.8")) < 0 || (r = strv_push(&kept, "8.8.4.4")) < 0))
                return r;
        strv_free(c.nameservers);
        c.nameservers = TAKE_PTR(kept);

        *ret = c;
        c = (ResolvConf){};
        if (ret_fallback)
                *ret_fallback = fallback;
        return 0;
}

int resolv_conf_load_host(const char *root, ResolvConf *ret, bool *ret_fallback) {
        _cleanup_free_ char *etc_path = strjoin(root ?: "", "/etc/resolv.conf");
        _cleanup_free_ char *run_path = strjoin(root ?: "", "/run/systemd/resolve/resolv.conf");
        _cleanup_free_ char *etc = NULL, *resolved = NULL;
        size_t etc_len = 0, resolved_len = 0;
        int r;

        if (!etc_path || !run_path)
                return -ENOMEM;
        r = read_full_file(etc_path, &etc, &etc_len);
        if (r < 0 && r != -ENOENT)
                return r;
        r = read_full_file(run_path, &resolved, &resolved_len);
        if (r == -ENOMEM)
                return r;
        /* Unreadable or missing: go on with /etc's alone. */
        return resolv_conf_host(etc, etc_len, resolved, resolved_len, ret, ret_fallback);
}

int resolv_conf_for_container(const ResolvConf *base, char *const *dns, char *const *dns_search,
                              char *const *dns_options, ResolvConf *ret) {
        _cleanup_(resolv_conf_donep) ResolvConf c = {};
        char *const *ns = dns && dns[0] ? dns : base->nameservers;
        int r;

        for (char *const *s = dns; s && *s; s++)
                if (!nameserver_is_valid(*s))
                        return -EINVAL;
        for (char *const *s = ns; s && *s; s++) {
                r = strv_push(&c.nameservers, *s);
                if (r < 0)
                        return r;
        }
        if (dns_search && dns_search[0]) {
                for (char *const *s = dns_search; *s; s++)
                        if (!streq(*s, ".") && (r = strv_push(&c.search, *s)) < 0)
                                return r;
        } else
                for (char *const *s = base->search; s && *s; s++)
                        if ((r = strv_push(&c.search, *s)) < 0)
                                return r;
        for (char *const *s = dns_options && dns_options[0] ? dns_options : base->options; s && *s; s++)
                if ((r = strv_push(&c.options, *s)) < 0)
                        return r;

        *ret = c;
        c = (ResolvConf){};
        return 0;
}

static void fputs_list(FILE *f, const char *keyword, char *const *l) {
        if (!l || !l[0])
                return;
        fputs(keyword, f);
        for (; *l; l++)
                fprintf(f, " %s", *l);
        fputc('\n', f);
}

char *resolv_conf_format(const ResolvConf *c) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        for (char *const *s = c->nameservers; s && *s; s++)
                fprintf(f, "nameserver %s\n", *s);
        fputs_list(f, "search", c->search);
        fputs_list(f, "options", c->options);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

static bool host_name_is_valid(const char *s, size_t l) {
        if (l == 0)
                return false;
        for (size_t i = 0; i < l; i++)
                if ((unsigned char) s[i] <= ' ' || s[i] == '#' || s[i] == 0x7f)
                        return false;
        return true;
}

int extra_host_parse(const char *s, const char *host_gateway, char **ret_name, char **ret_address) {
        const char *sep = strchr(s, '=');
        if (!sep)
                sep = strchr(s, ':');
        if (!sep || !host_name_is_valid(s, (size_t) (sep - s)))
                return -EINVAL;

        const char *a = sep + 1;
        size_t l = strlen(a);
        if (l >= 2 && a[0] == '[' && a[l - 1] == ']') {
                a++;
                l -= 2;
        }
        _cleanup_free_ char *address = strndup(a, l);
        _cleanup_free_ char *name = strndup(s, (size_t) (sep - s));
        if (!address || !name)
                return -ENOMEM;
        if (streq(address, "host-gateway")) {
                if (!host_gateway)
                        return -EINVAL;
                free(address);
                address = strdup(host_gateway);
                if (!address)
                        return -ENOMEM;
        } else if (!nameserver_is_valid(address) || strchr(address, '%'))
                return -EINVAL;
        *ret_name = TAKE_PTR(name);
        *ret_address = TAKE_PTR(address);
        return 0;
}

int etc_hosts_format(const HostsLine *own, size_t n_own, char *const *extra_hosts, const char *host_gateway,
                     char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        int r = 0;

        if (!f)
                return -ENOMEM;
        fputs("127.0.0.1\tlocalhost\n"
              "::1\tlocalhost ip6-localhost ip6-loopback\n"
              "fe00::0\tip6-localnet\n"
              "ff00::0\tip6-mcastprefix\n"
              "ff02::1\tip6-allnodes\n"
              "ff02::2\tip6-allrouters\n",
              f);
        for (char *const *e = extra_hosts; e && *e && r >= 0; e++) {
                _cleanup_free_ char *name = NULL, *address = NULL;
                r = extra_host_parse(*e, host_gateway, &name, &address);
                if (r >= 0)
                        fprintf(f, "%s\t%s\n", address, name);
        }
        for (size_t i = 0; i < n_own && r >= 0; i++) {
                if (!own[i].address || !own[i].names || !own[i].names[0])
                        continue;
                fputs(own[i].address, f);
                for (char *const *n = own[i].names; *n; n++)
                        fprintf(f, "%c%s", n == own[i].names ? '\t' : ' ', *n);
                fputc('\n', f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(text);
        return 0;
}
