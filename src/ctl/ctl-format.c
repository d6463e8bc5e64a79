/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl-format.h"
#include "util.h"

const char *ctl_format_size(uint64_t bytes, char buf[static CTL_FORMAT_SIZE_MAX]) {
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
        double v = (double) bytes;
        size_t i = 0;

        while (v >= 1000.0 && i < ELEMENTSOF(units) - 1) {
                v /= 1000.0;
                i++;
        }
        /* Three significant digits would print 999.7 as "1e+03": use the next unit then. */
        if (v >= 999.5 && i < ELEMENTSOF(units) - 1) {
                v /= 1000.0;
                i++;
        }
        snprintf(buf, CTL_FORMAT_SIZE_MAX, "%.3g%s", v, units[i]);
        return buf;
}

const char *ctl_format_size_binary(uint64_t bytes, char buf[static CTL_FORMAT_SIZE_MAX]) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double v = (double) bytes;
        size_t i = 0;

        while (v >= 1024.0 && i < ELEMENTSOF(units) - 1) {
                v /= 1024.0;
                i++;
        }
        snprintf(buf, CTL_FORMAT_SIZE_MAX, "%.4g%s", v, units[i]);
        return buf;
}

char *ctl_format_go_time(uint64_t usec) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        char buf[64];
        if (!localtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z %Z", &tm) == 0)
                return strdup("");
        return strdup(buf);
}

char *ctl_format_ago(uint64_t usec, uint64_t now) {
        _cleanup_free_ char *d = NULL;
        char *r;

        if (usec == 0)
                return strdup("N/A");
        d = format_duration_human(now > usec ? now - usec : 0);
        if (!d)
                return NULL;
        if (asprintf(&r, "%s ago", d) < 0)
                return NULL;
        return r;
}

char *ctl_format_status_health(const char *state, const char *health, int exit_code, uint64_t started_at,
                               uint64_t finished_at, uint64_t now) {
        _cleanup_free_ char *status = ctl_format_status(state, exit_code, started_at, finished_at, now);
        char *r;
        if (!status || isempty(health) || !streq_ptr(state, "running"))
                return TAKE_PTR(status);
        if (asprintf(&r, "%s (%s%s)", status, streq(health, "starting") ? "health: " : "", health) < 0)
                return NULL;
        return r;
}

char *ctl_format_status(const char *state, int exit_code, uint64_t started_at, uint64_t finished_at, uint64_t now) {
        _cleanup_free_ char *d = NULL;
        char *r;

        if (isempty(state))
                return strdup("Unknown");
        if (streq(state, "created"))
                return strdup("Created");
        if (streq(state, "running") || streq(state, "paused")) {
                d = format_duration_human(started_at > 0 && now > started_at ? now - started_at : 0);
                if (!d || asprintf(&r, "Up %s%s", d, streq(state, "paused") ? " (Paused)" : "") < 0)
                        return NULL;
                return r;
        }
        if (streq(state, "restarting")) {
                d = ctl_format_ago(finished_at, now);
                if (!d || asprintf(&r, "Restarting (%d) %s", exit_code, d) < 0)
                        return NULL;
                return r;
        }
        if (streq(state, "exited")) {
                if (finished_at == 0) {
                        if (asprintf(&r, "Exited (%d)", exit_code) < 0)
                                return NULL;
                        return r;
                }
                d = ctl_format_ago(finished_at, now);
                if (!d || asprintf(&r, "Exited (%d) %s", exit_code, d) < 0)
                        return NULL;
                return r;
        }
        /* A state this client does not know yet: show it capitalized, as Docker's "Removal In
         * Progress" or "Dead". */
        r = strdup(state);
        if (r)
                r[0] = (char) toupper((unsigned char) r[0]);
        return r;
}

size_t ctl_utf8_width(const char *s) {
        size_t n = 0;

        for (const char *p = s; p && *p; p++)
                if (((unsigned char) *p & 0xc0) != 0x80)
                        n++;
        return n;
}

/* The first n code points of s. */
static size_t utf8_prefix_bytes(const char *s, size_t n) {
        size_t i = 0;

        for (; s[i]; i++)
                if (((unsigned char) s[i] & 0xc0) != 0x80) {
                        if (n == 0)
                                break;
                        n--;
                }
        return i;
}

/* Go's strconv.Quote for (valid UTF-8) text. */
static char *quote_go(const char *s) {
        static const char escaped[] = "\"\\\a\b\f\n\r\t\v", letters[] = "\"\\abfnrtv";
        char *r = malloc(strlen(s) * 4 + 3), *p = r;

        if (!r)
                return NULL;
        *p++ = '"';
        for (const char *i = s; *i; i++) {
                unsigned char c = (unsigned char) *i;
                const char *e = strchr(escaped, c);

                if (e) {
                        *p++ = '\\';
                        *p++ = letters[e - escaped];
                } else if (c < 0x20 || c == 0x7f)
                        p += sprintf(p, "\\x%02x", c);
                else
                        *p++ = (char) c;
        }
        *p++ = '"';
        *p = 0;
        return r;
}

char *ctl_format_command(char *const *argv, bool truncate) {
        const size_t max_width = 20;
        _cleanup_free_ char *joined = strv_join(argv, " ");

        if (!joined)
                return NULL;
        if (truncate && ctl_utf8_width(joined) > max_width) {
                size_t n = utf8_prefix_bytes(joined, max_width - 1);
                char *t = malloc(n + strlen("…") + 1);
                if (!t)
                        return NULL;
                memcpy(t, joined, n);
                strcpy(t + n, "…");
                free(joined);
                joined = t;
        }
        return quote_go(joined);
}

static const struct {
        const char *name;
        int signo;
} signal_table[] = {
        { "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "BUS", SIGBUS },       { "CHLD", SIGCHLD },
        { "CLD", SIGCHLD },  { "CONT", SIGCONT }, { "FPE", SIGFPE },       { "HUP", SIGHUP },
        { "ILL", SIGILL },   { "INT", SIGINT },   { "IO", SIGIO },         { "IOT", SIGIOT },
        { "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "POLL", SIGPOLL },     { "PROF", SIGPROF },
        { "PWR", SIGPWR },   { "QUIT", SIGQUIT }, { "SEGV", SIGSEGV },     { "STKFLT", SIGSTKFLT },
        { "STOP", SIGSTOP }, { "SYS", SIGSYS },   { "TERM", SIGTERM },     { "TRAP", SIGTRAP },
        { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
        { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH },
        { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
};

static int parse_rt_signal(const char *name, int *ret) {
        int base, n = 0, sign;
        const char *rest;

        if (strncmp(name, "RTMIN", 5) == 0) {
                base = SIGRTMIN;
                sign = 1;
        } else if (strncmp(name, "RTMAX", 5) == 0) {
                base = SIGRTMAX;
                sign = -1;
        } else
                return -EINVAL;
        rest = name + 5;
        if (*rest) {
                if (*rest != (sign > 0 ? '+' : '-') || !isdigit((unsigned char) rest[1]))
                        return -EINVAL;
                if (parse_int(rest + 1, &n) < 0)
                        return -EINVAL;
        }
        int s = base + sign * n;
        if (s < SIGRTMIN || s > SIGRTMAX)
                return -EINVAL;
        *ret = s;
        return 0;
}

int ctl_parse_signal(const char *s, int *ret) {
        char name[16];
        const char *p;
        size_t i;

        if (isempty(s))
                return -EINVAL;
        if (isdigit((unsigned char) s[0])) {
                int n;
                if (parse_int(s, &n) < 0 || n < 1 || n > SIGRTMAX)
                        return -EINVAL;
                *ret = n;
                return 0;
        }
        p = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (i = 0; p[i]; i++) {
                if (i + 1 >= sizeof(name))
                        return -EINVAL;
                name[i] = (char) toupper((unsigned char) p[i]);
        }
        name[i] = 0;
        for (i = 0; i < ELEMENTSOF(signal_table); i++)
                if (streq(signal_table[i].name, name)) {
                        *ret = signal_table[i].signo;
                        return 0;
                }
        return parse_rt_signal(name, ret);
}

/* "123", "1.5", ".5" into units of 10^-9. Up to 9 fractional digits. */
static int parse_decimal_nano(const char *s, uint64_t max_int, uint64_t *ret) {
        uint64_t whole = 0, frac = 0;
        size_t n_whole = 0, n_frac = 0;
        const char *p = s;

        for (; isdigit((unsigned char) *p); p++, n_whole++) {
                whole = whole * 10 + (uint64_t) (*p - '0');
                if (whole > max_int)
                        return -ERANGE;
        }
        if (*p == '.') {
                for (p++; isdigit((unsigned char) *p); p++, n_frac++) {
                        if (n_frac >= 9)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t) (*p - '0');
                }
        }
        if (*p || n_whole + n_frac == 0)
                return -EINVAL;
        for (size_t k = n_frac; k < 9; k++)
                frac *= 10;
        *ret = whole * 1000000000ULL + frac;
        return 0;
}

int ctl_parse_cpus(const char *s, uint64_t *ret_usec) {
        uint64_t nano;
        int r;

        if (isempty(s))
                return -EINVAL;
        if (s[0] == '-' || s[0] == '+') {
                /* A number, just not a positive one: a range error, not a syntax error. */
                if (parse_decimal_nano(s + 1, UINT64_MAX / 1000000000ULL, &nano) < 0)
                        return -EINVAL;
                if (s[0] == '-' || nano > CTL_CPUS_MAX * 1000000000ULL)
                        return -ERANGE;
        } else {
                r = parse_decimal_nano(s, CTL_CPUS_MAX, &nano);
                if (r < 0)
                        return r;
        }
        if (nano / 1000 < CTL_CPUS_MIN_USEC || nano > CTL_CPUS_MAX * 1000000000ULL)
                return -ERANGE;
        *ret_usec = nano / 1000;
        return 0;
}

int ctl_parse_pids_limit(const char *s, uint64_t *ret) {
        char *end;
        long long v;

        if (isempty(s) || !(isdigit((unsigned char) s[0]) || s[0] == '-'))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (*end || end == s)
                return -EINVAL;
        if (errno == ERANGE || v < -1)
                return -ERANGE;
        *ret = v <= 0 ? UINT64_MAX : (uint64_t) v;
        return 0;
}

int ctl_parse_tail(const char *s, uint64_t *ret) {
        int n;

        if (isempty(s))
                return -EINVAL;
        if (streq(s, "all")) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (s[0] == '-') {
                if (parse_int(s, &n) < 0)
                        return -EINVAL;
                *ret = UINT64_MAX;
                return 0;
        }
        return parse_uint64(s, ret);
}

static uint64_t duration_unit(const char **p) {
        static const struct {
                const char *suffix;
                uint64_t nsec;
        } units[] = {
                /* Longer suffixes first: "ms" before "m". */
                { "ns", 1ULL },
                { "us", 1000ULL },
                { "µs", 1000ULL },
                { "ms", 1000000ULL },
                { "s", 1000000000ULL },
                { "m", 60ULL * 1000000000ULL },
                { "h", 3600ULL * 1000000000ULL },
                { "d", 86400ULL * 1000000000ULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                size_t l = strlen(units[i].suffix);
                if (strncmp(*p, units[i].suffix, l) == 0) {
                        *p += l;
                        return units[i].nsec;
                }
        }
        return 0;
}

int ctl_parse_duration(const char *s, uint64_t *ret_usec) {
        long double total = 0;
        const char *p = s;

        if (isempty(s))
                return -EINVAL;
        while (*p) {
                char buf[64];
                size_t n = 0;
                uint64_t unit;

                while ((isdigit((unsigned char) p[n]) || p[n] == '.') && n < sizeof(buf) - 1)
                        n++;
                if (n == 0 || (n == 1 && p[0] == '.'))
                        return -EINVAL;
                memcpy(buf, p, n);
                buf[n] = 0;
                if (strchr(buf, '.') != strrchr(buf, '.'))
                        return -EINVAL;
                p += n;
                unit = duration_unit(&p);
                if (unit == 0)
                        return -EINVAL; /* Go requires a unit on every number, as does Docker. */
                total += strtold(buf, NULL) * (long double) unit;
                if (total / 1000.0L >= (long double) UINT64_MAX)
                        return -ERANGE;
        }
        *ret_usec = (uint64_t) (total / 1000.0L);
        return 0;
}

static int parse_unix_seconds(const char *s, uint64_t *ret_usec) {
        uint64_t nano;

        if (parse_decimal_nano(s, UINT64_MAX / 1000000000ULL, &nano) < 0)
                return -EINVAL;
        *ret_usec = nano / 1000;
        return 0;
}

/* "Z", "+01:00", "-0530", "" → seconds east of UTC; ret_has_zone says whether one was given. */
static int parse_zone(const char *p, long *ret_offset, bool *ret_has_zone) {
        int h, m;
        char sign;

        if (*p == 0) {
                *ret_offset = 0;
                *ret_has_zone = false;
                return 0;
        }
        if ((p[0] == 'Z' || p[0] == 'z') && p[1] == 0) {
                *ret_offset = 0;
                *ret_has_zone = true;
                return 0;
        }
        sign = p[0];
        if ((sign != '+' && sign != '-') || !isdigit((unsigned char) p[1]) || !isdigit((unsigned char) p[2]))
                return -EINVAL;
        h = (p[1] - '0') * 10 + (p[2] - '0');
        p += 3;
        if (*p == ':')
                p++;
        if (!isdigit((unsigned char) p[0]) || !isdigit((unsigned char) p[1]) || p[2] != 0)
                return -EINVAL;
        m = (p[0] - '0') * 10 + (p[1] - '0');
        if (h > 23 || m > 59)
                return -EINVAL;
        *ret_offset = (sign == '-' ? -1 : 1) * (long) (h * 3600 + m * 60);
        *ret_has_zone = true;
        return 0;
}

static int parse_date_time(const char *s, uint64_t *ret_usec) {
        struct tm tm = {};
        const char *p;
        uint64_t frac_usec = 0;
        long offset;
        bool has_zone;
        time_t t;

        p = strptime(s, "%Y-%m-%d", &tm);
        if (!p)
                return -EINVAL;
        if (*p == 'T' || *p == 't' || *p == ' ') {
                const char *q = strptime(p + 1, "%H:%M", &tm);
                if (!q)
                        return -EINVAL;
                p = q;
                if (*p == ':') {
                        q = strptime(p + 1, "%S", &tm);
                        if (!q || !isdigit((unsigned char) p[1]))
                                return -EINVAL;
                        p = q;
                }
                if (*p == '.' || *p == ',') {
                        uint64_t scale = 100000;
                        if (!isdigit((unsigned char) p[1]))
                                return -EINVAL;
                        for (p++; isdigit((unsigned char) *p); p++, scale /= 10)
                                frac_usec += (uint64_t) (*p - '0') * scale;
                }
        }
        if (parse_zone(p, &offset, &has_zone) < 0)
                return -EINVAL;
        if (has_zone)
                t = timegm(&tm) - offset;
        else {
                tm.tm_isdst = -1;
                t = mktime(&tm);
        }
        if (t == (time_t) -1 || t < 0)
                return -ERANGE;
        *ret_usec = (uint64_t) t * USEC_PER_SEC + frac_usec;
        return 0;
}

int ctl_parse_timestamp(const char *s, uint64_t now, uint64_t *ret_usec) {
        uint64_t d;
        size_t span;

        if (isempty(s))
                return -EINVAL;
        span = strspn(s, "0123456789.");
        if (s[span] == 0)
                return parse_unix_seconds(s, ret_usec);
        if (s[span] == '-')
                return parse_date_time(s, ret_usec);
        if (ctl_parse_duration(s, &d) < 0)
                return -EINVAL;
        if (d > now)
                return -ERANGE;
        *ret_usec = now - d;
        return 0;
}

int ctl_parse_restart_policy(const char *s, char **ret_policy, uint32_t *ret_max_retries) {
        static const char *const policies[] = { "no", "on-failure", "always", "unless-stopped" };
        const char *colon = s ? strchr(s, ':') : NULL;
        size_t n = colon ? (size_t) (colon - s) : (s ? strlen(s) : 0);
        uint64_t retries = 0;
        char *p;

        if (isempty(s))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(policies); i++) {
                if (strlen(policies[i]) != n || strncmp(s, policies[i], n) != 0)
                        continue;
                if (colon) {
                        /* Docker: only on-failure takes a count. */
                        if (i != 1 || parse_uint64(colon + 1, &retries) < 0 || retries > UINT32_MAX)
                                return -EINVAL;
                }
                p = strdup(policies[i]);
                if (!p)
                        return -ENOMEM;
                *ret_policy = p;
                *ret_max_retries = (uint32_t) retries;
                return 0;
        }
        return -EINVAL;
}

bool ctl_labels_match(char *const *labels, const char *filter) {
        return labels_match(labels, filter);
}

static int compare_ports(const void *a, const void *b) {
        const CtlPort *x = a, *y = b;
        int r;
        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        if ((r = strcmp(x->host_ip, y->host_ip)) != 0)
                return r;
        if (x->host_port != y->host_port)
                return x->host_port < y->host_port ? -1 : 1;
        return strcmp(x->protocol, y->protocol);
}

int ctl_ports_collect(char *const *ports, char *const *exposed, CtlPort **ret, size_t *ret_n) {
        size_t n = 0, max = strv_length(ports) + strv_length(exposed);
        _cleanup_free_ CtlPort *l = calloc(max + 1, sizeof(CtlPort));
        if (!l)
                return -ENOMEM;
        for (char *const *p = ports; p && *p; p++) {
                CtlPort *e = &l[n];
                if (sscanf(*p, "%7[^\t]\t%u\t%63[^\t]\t%u", e->protocol, &e->port, e->host_ip, &e->host_port) == 4)
                        n++;
                else if (sscanf(*p, "%7[^\t]\t%u\t\t%u", e->protocol, &e->port, &e->host_port) == 3) {
                        strcpy(e->host_ip, "0.0.0.0");
                        n++;
                }
        }
        for (char *const *p = exposed; p && *p; p++) {
                CtlPort *e = &l[n];
                bool seen = false;
                *e = (CtlPort){};
                if (sscanf(*p, "%7[^\t]\t%u", e->protocol, &e->port) != 2)
                        continue;
                for (size_t k = 0; k < n && !seen; k++)
                        seen = l[k].port == e->port && streq(l[k].protocol, e->protocol);
                if (!seen)
                        n++;
        }
        qsort(l, n, sizeof(CtlPort), compare_ports);
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

/* Docker's formGroup(): "80-81/tcp" or "IP:80-81->80-81/tcp". */
static int add_port_group(char ***l, const CtlPort *g, unsigned last) {
        _cleanup_free_ char *range = NULL, *s = NULL;
        if ((last != g->port ? asprintf(&range, "%u-%u", g->port, last) : asprintf(&range, "%u", g->port)) < 0)
                return -ENOMEM;
        if ((g->host_port > 0 ? asprintf(&s, "%s:%s->%s/%s", g->host_ip, range, range, g->protocol)
                              : asprintf(&s, "%s/%s", range, g->protocol)) < 0)
                return -ENOMEM;
        return strv_push(l, s);
}

char *ctl_format_ports(const CtlPort *ports, size_t n) {
        _cleanup_strv_free_ char **groups = NULL, **mappings = NULL;
        _cleanup_free_ size_t *first = calloc(n + 1, sizeof(size_t)), *last = calloc(n + 1, sizeof(size_t));
        size_t n_groups = 0;
        if (!first || !last)
                return NULL;
        /* As DisplayablePorts: a mapping to another port stands alone; exposed ports and ports
         * published on the same number group by (address, protocol) into runs. */
        for (size_t i = 0; i < n; i++) {
                const CtlPort *p = &ports[i];
                if (p->host_port > 0 && p->host_port != p->port) {
                        _cleanup_free_ char *m = NULL;
                        if (asprintf(&m, "%s:%u->%u/%s", p->host_ip, p->host_port, p->port, p->protocol) < 0 ||
                            strv_push(&mappings, m) < 0)
                                return NULL;
                        continue;
                }
                size_t g = 0;
                while (g < n_groups &&
                       !(streq(ports[first[g]].protocol, p->protocol) && streq(ports[first[g]].host_ip, p->host_ip) &&
                         (ports[first[g]].host_port > 0) == (p->host_port > 0)))
                        g++;
                if (g == n_groups) {
                        first[n_groups] = last[n_groups] = i;
                        n_groups++;
                } else if (p->port == ports[last[g]].port + 1)
                        last[g] = i;
                else {
                        if (add_port_group(&groups, &ports[first[g]], ports[last[g]].port) < 0)
                                return NULL;
                        first[g] = last[g] = i;
                }
        }
        for (size_t g = 0; g < n_groups; g++)
                if (add_port_group(&groups, &ports[first[g]], ports[last[g]].port) < 0)
                        return NULL;
        for (char **m = mappings; m && *m; m++)
                if (strv_push(&groups, *m) < 0)
                        return NULL;
        return groups ? strv_join(groups, ", ") : strdup("");
}

bool ctl_regex_matches(const char *pattern, const char *s) {
        regex_t re;
        if (!s || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
                return false;
        bool m = regexec(&re, s, 0, NULL, 0) == 0;
        regfree(&re);
        return m;
}

bool ctl_filters_match(char *const *filters, const char *const *keys, size_t n_keys, CtlFilterMatchFunc match,
                       const void *userdata) {
        for (size_t k = 0; k < n_keys; k++) {
                size_t n = strlen(keys[k]);
                bool seen = false, matched = false;
                for (char *const *f = filters; f && *f && !matched; f++) {
                        if (strncmp(*f, keys[k], n) || (*f)[n] != '=')
                                continue;
                        seen = true;
                        matched = match(keys[k], *f + n + 1, userdata);
                }
                if (seen && !matched)
                        return false;
        }
        return true;
}

bool ctl_state_is_active(const char *state) {
        return state && (streq(state, "running") || streq(state, "paused") || streq(state, "restarting"));
}

int ctl_exec_failed_exit_code(const char *message) {
        if (message && (strcasestr(message, "not found") || strcasestr(message, "no such file")))
                return 127;
        return 126;
}

int ctl_exit_status(int exit_code) {
        return exit_code & 0xff;
}
