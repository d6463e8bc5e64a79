/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* How long output of an exec'd process's leftovers is still relayed after the process exited
 * (Docker waits as long for an exec's streams before it closes them). */
#define EXEC_DRAIN_USEC (2 * 1000 * 1000ULL)

/* The descriptors an exec'd process has and the caller's they are relayed to and from. The
 * process never holds the caller's own: a process it leaves behind keeps nothing of the caller's
 * terminal (or of any file the caller redirected) once the exec ends. */
typedef struct ExecRelay {
        int pidfd; /* the exec'd process */
        int caller_in, caller_out, caller_err; /* the caller's stdin, stdout, stderr */
        int in; /* written with the caller's input: the stdin pipe, or the terminal's master */
        int out, err; /* read: the stdout and stderr pipes; with a terminal out is its master, err -1 */
        int resize; /* terminal size changes (two uint16: rows, columns) for the master, or -1 */
        bool tty;
} ExecRelay;

/* Relays until the process exited and its output ended (or EXEC_DRAIN_USEC passed), then closes
 * every descriptor in 'relay'. Returns the process's exit code (128+N when killed by signal N), or
 * a negative errno. */
int exec_relay_run(ExecRelay *relay);
