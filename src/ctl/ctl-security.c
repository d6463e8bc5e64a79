/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctl-log.h"
#include "ctl-security.h"
#include "util.h"

#define SECCOMP_PROFILE_MAX (1024 * 1024)

void ctl_security_init(CtlSecurity *s) {
        *s = (CtlSecurity){ .no_new_privileges = -1 };
}

void ctl_security_done(CtlSecurity *s) {
        strv_free(s->cap_add);
        strv_free(s->cap_drop);
        free(s->seccomp_profile);
        free(s->userns);
        ctl_security_init(s);
}

void ctl_security_help(void) {
        printf("      --cap-add=CAP        Add a Linux capability (NET_ADMIN, CAP_SYS_TIME, ALL; repeatable)\n"
               "      --cap-drop=CAP       Drop a Linux capability (CHOWN, ALL; repeatable)\n"
               "      --privileged         All capabilities and devices, no seccomp filter, no masked\n"
               "                           /proc paths, writable /sys\n"
               "      --security-opt=OPT   no-new-privileges[=true|false], seccomp=unconfined,\n"
               "                           seccomp=builtin, seccomp=PROFILE.json (Docker's format)\n"
               "      --userns=MODE        host (default): the host's user namespace; auto: one of the\n"
               "                           container's own, its ids 0-65535 mapped to a host range\n");
}

/* "true", "false", or "" (the option alone means true). */
static int parse_bool_value(const char *v) {
        if (isempty(v) || strcasecmp(v, "true") == 0 || streq(v, "1"))
                return 1;
        if (strcasecmp(v, "false") == 0 || streq(v, "0"))
                return 0;
        return -EINVAL;
}

static int parse_security_opt(CtlSecurity *s, const char *arg) {
        /* Docker takes both KEY=VALUE and the older KEY:VALUE. */
        size_t n = strcspn(arg, "=:");
        const char *value = arg[n] ? arg + n + 1 : NULL;
        int r;

        if (n == strlen("no-new-privileges") && strncmp(arg, "no-new-privileges", n) == 0) {
                r = parse_bool_value(value);
                if (r < 0) {
                        ctl_log_error("invalid --security-opt \"%s\": no-new-privileges takes true or false", arg);
                        return -EINVAL;
                }
                s->no_new_privileges = r;
                return 0;
        }
        if (n == strlen("seccomp") && strncmp(arg, "seccomp", n) == 0 && !isempty(value)) {
                _cleanup_free_ char *text = NULL;
                size_t len;
                if (streq(value, "unconfined"))
                        text = strdup("unconfined");
                else if (streq(value, "builtin"))
                        text = strdup(""); /* Docker's name for the default profile */
                else {
                        r = read_full_file(value, &text, &len);
                        if (r < 0)
                                return ctl_log_errno(r, "Failed to read the seccomp profile %s: %m", value);
                        if (len > SECCOMP_PROFILE_MAX || strlen(text) != len) {
                                ctl_log_error("the seccomp profile %s is not a JSON text of at most 1 MiB", value);
                                return -EINVAL;
                        }
                }
                if (!text)
                        return ctl_log_errno(-ENOMEM, "%m");
                free(s->seccomp_profile);
                s->seccomp_profile = TAKE_PTR(text);
                return 0;
        }
        /* berth confines with no LSM: asking for none is true already (scripts written for Docker pass
         * these along with seccomp=unconfined); asking for a profile is refused below. */
        if (value &&
            ((n == strlen("apparmor") && strncmp(arg, "apparmor", n) == 0 && streq(value, "unconfined")) ||
             (n == strlen("label") && strncmp(arg, "label", n) == 0 && streq(value, "disable"))))
                return 0;
        ctl_log_error("invalid --security-opt \"%s\": berth supports no-new-privileges[=true|false], "
                      "seccomp=unconfined and seccomp=PROFILE.json",
                      arg);
        return -EINVAL;
}

int ctl_security_parse(CtlSecurity *s, int c, const char *arg) {
        int r;
        switch (c) {
        case ARG_CAP_ADD:
        case ARG_CAP_DROP:
                r = strv_push(c == ARG_CAP_ADD ? &s->cap_add : &s->cap_drop, arg);
                return r < 0 ? ctl_log_errno(r, "%m") : 0;
        case ARG_PRIVILEGED:
                s->privileged = true;
                return 0;
        case ARG_SECURITY_OPT:
                return parse_security_opt(s, arg);
        case ARG_USERNS:
                free(s->userns);
                s->userns = strdup(arg);
                return s->userns ? 0 : ctl_log_errno(-ENOMEM, "%m");
        default:
                return -EINVAL;
        }
}

static int append_strv(sd_bus_message *m, const char *key, char **l) {
        int r;
        if (!l)
                return 0;
        if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 || (r = sd_bus_message_append(m, "s", key)) < 0 ||
            (r = sd_bus_message_open_container(m, 'v', "as")) < 0 || (r = sd_bus_message_append_strv(m, l)) < 0 ||
            (r = sd_bus_message_close_container(m)) < 0)
                return r;
        return sd_bus_message_close_container(m);
}

int ctl_security_append(sd_bus_message *m, const CtlSecurity *s) {
        int r;
        if ((r = append_strv(m, "CapAdd", s->cap_add)) < 0 || (r = append_strv(m, "CapDrop", s->cap_drop)) < 0)
                return r;
        if (s->privileged && (r = sd_bus_message_append(m, "{sv}", "Privileged", "b", 1)) < 0)
                return r;
        if (s->no_new_privileges >= 0 &&
            (r = sd_bus_message_append(m, "{sv}", "NoNewPrivileges", "b", s->no_new_privileges)) < 0)
                return r;
        if (s->seccomp_profile && (r = sd_bus_message_append(m, "{sv}", "SeccompProfile", "s", s->seccomp_profile)) < 0)
                return r;
        if (s->userns && (r = sd_bus_message_append(m, "{sv}", "UsernsMode", "s", s->userns)) < 0)
                return r;
        return 0;
}
