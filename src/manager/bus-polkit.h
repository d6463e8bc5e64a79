/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The polkit actions of org.berth1.policy that changing calls need (reading needs none). */
typedef enum BerthAction {
        BERTH_ACTION_MANAGE_CONTAINERS,
        BERTH_ACTION_MANAGE_IMAGES, /* and volumes, networks, registry logins */
        BERTH_ACTION_PRIVILEGED, /* a container with options that reach the host (container_needs_privilege) */
        _BERTH_ACTION_MAX,
} BerthAction;

/* May the caller of 'message' do 'action'? Root may always. Others: 0 when polkit said yes, <0 with
 * 'error' set when it said no (AccessDenied; root only when polkitd is not running), or 1 when the
 * answer is on its way: the handler returns 1 then (sd-bus takes 0 for "no such method"), and the
 * same call is dispatched again once polkit answered. So: `if (r != 0) return r;`. A handler asks
 * once per call, after reading its arguments and before it changes anything. */
int bus_verify_action(sd_bus_message *message, BerthAction action, sd_bus_error *error);

/* Forget the questions still open (at exit). */
void bus_polkit_done(void);
