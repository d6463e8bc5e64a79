#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Call an org.berth1 method and print the D-Bus error *name* on failure (busctl prints only the
message). Usage: bus_call.py OBJECT_PATH INTERFACE METHOD JSON_ARGS [--fd FILE]
JSON_ARGS is a JSON list; the string "@fd" in it is replaced by FILE opened for reading."""
import json
import sys

import dbus


def main():
    path, interface, method, args = sys.argv[1:5]
    args = json.loads(args)
    if "--fd" in sys.argv:
        f = open(sys.argv[sys.argv.index("--fd") + 1], "rb")
        args = [dbus.types.UnixFd(f) if a == "@fd" else a for a in args]
    bus = dbus.SystemBus()
    obj = bus.get_object("org.berth1", path)
    try:
        result = obj.get_dbus_method(method, interface)(*args, timeout=120)
    except dbus.exceptions.DBusException as e:
        print(f"ERROR {e.get_dbus_name()} {e.get_dbus_message()}")
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
