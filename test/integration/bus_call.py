#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Call an org.berth1 method and print the D-Bus error *name* on failure (busctl prints only the
message). Usage: bus_call.py OBJECT_PATH INTERFACE METHOD JSON_ARGS [--fd FILE]
JSON_ARGS is a JSON list; the string "@fd" in it is replaced by FILE opened for reading, and an
object {"@u": 5} (or "@t", "@i", "@b", "@s") is a value of that D-Bus type (inside variants too), and
{"@a(sssb)": [[...], ...]} an array of such structs, {"@a{sv}": {...}} / {"@a{ss}": {...}} a typed dict."""
import json
import sys

import dbus


TYPES = {"@u": dbus.UInt32, "@t": dbus.UInt64, "@i": dbus.Int32, "@b": dbus.Boolean, "@s": dbus.String}


def typed(value):
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) == "@a(sssb)":
            return dbus.Array([dbus.Struct((t, s, d, dbus.Boolean(b)), signature="sssb")
                               for t, s, d, b in next(iter(value.values()))], signature="(sssb)")
        if len(value) == 1 and next(iter(value)) in ("@a{sv}", "@a{ss}"):
            key, v = next(iter(value.items()))
            return dbus.Dictionary({k: typed(x) for k, x in v.items()}, signature=key[3:5])
        if len(value) == 1 and next(iter(value)) in TYPES:
            key, v = next(iter(value.items()))
            return TYPES[key](v)
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return value


def main():
    path, interface, method, args = sys.argv[1:5]
    args = typed(json.loads(args))
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
