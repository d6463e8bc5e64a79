#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Call org.berth1.Container.Exec with this process's stdin/stdout/stderr.
Usage: exec_call.py CONTAINER JSON_ARGV JSON_ENV CWD. Exits with the command's exit code; a D-Bus
error is printed as "ERROR <name> <message>" on stderr, exit 125."""
import json
import sys

import dbus


def main():
    name, argv, env, cwd = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
    bus = dbus.SystemBus()
    manager = dbus.Interface(bus.get_object("org.berth1", "/org/berth1"), "org.berth1.Manager")
    try:
        path = manager.GetContainer(name)
        c = dbus.Interface(bus.get_object("org.berth1", path), "org.berth1.Container")
        code = c.Exec(argv, env, cwd, dbus.types.UnixFd(0), dbus.types.UnixFd(1), dbus.types.UnixFd(2),
                      timeout=3600)
    except dbus.exceptions.DBusException as e:
        sys.stderr.write(f"ERROR {e.get_dbus_name()} {e.get_dbus_message()}\n")
        return 125
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
