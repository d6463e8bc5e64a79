/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>

/* create/run: --cap-add, --cap-drop, --privileged, --security-opt, --userns. berthd checks the names and
 * the seccomp profile; berthctl only reads the profile file and passes its text on. */
typedef struct CtlSecurity {
        char **cap_add, **cap_drop;
        bool privileged;
        int no_new_privileges; /* -1: not given */
        char *seccomp_profile; /* NULL: not given; "unconfined" or a profile's JSON text */
        char *userns; /* --userns: NULL: not given; berthd checks the value */
} CtlSecurity;

enum {
        ARG_CAP_ADD = 0x300, /* above ctl-resopts.h's options */
        ARG_CAP_DROP,
        ARG_PRIVILEGED,
        ARG_SECURITY_OPT,
        ARG_USERNS,
};

#define CTL_SECURITY_OPTIONS                                                                                        \
        { "cap-add", required_argument, NULL, ARG_CAP_ADD }, { "cap-drop", required_argument, NULL, ARG_CAP_DROP }, \
                { "privileged", no_argument, NULL, ARG_PRIVILEGED },                                                \
                { "security-opt", required_argument, NULL, ARG_SECURITY_OPT }, {                                    \
                "userns", required_argument, NULL, ARG_USERNS                                                       \
        }

void ctl_security_init(CtlSecurity *s);
void ctl_security_done(CtlSecurity *s);
void ctl_security_help(void);
/* One of the options above (c as getopt_long() returned it); logs and returns -EINVAL on bad input. */
int ctl_security_parse(CtlSecurity *s, int c, const char *arg);
/* The CreateContainer options (CapAdd, CapDrop, Privileged, NoNewPrivileges, SeccompProfile, UsernsMode). */
int ctl_security_append(sd_bus_message *m, const CtlSecurity *s);
