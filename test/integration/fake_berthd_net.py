#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A stand-in for berthd's network API (docs/NETWORKING.md) on the system bus, for testing berthctl
against the contract before berthd has it: org.berth1 with the Manager's network methods, Network
objects, one Container object, GetContainer, GetManagedObjects and a CreateContainer that records
its options and fails. Every call is appended to LOG (one JSON object per line: method, args).

    fake_berthd_net.py LOG

Canned state: networks bridge, host, none and "front" (10.77.0.0/24, label tier=web, container "web"
attached); container "web" running with 80/tcp published on 0.0.0.0:8080 and 53/udp on
127.0.0.1:5353, exposing 443/tcp too."""

import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

BUS = "org.berth1"
MANAGER = "org.berth1.Manager"
NETWORK = "org.berth1.Network"
CONTAINER = "org.berth1.Container"
PROPS = "org.freedesktop.DBus.Properties"
LOG = sys.argv[1]

WEB_ID = "c" * 64
FRONT_ID = "f" * 63 + "1"


def nid(n):
    return f"{n:064x}"


def log(method, *args):
    with open(LOG, "a") as f:
        f.write(json.dumps({"method": method, "args": json.loads(json.dumps(args, default=str))}) + "\n")


def ss(d):
    return dbus.Dictionary(d, signature="ss")


def network_props(net_id, name, driver, subnet="", gateway="", ip_range="", labels=None, containers=()):
    return {
        "Id": net_id, "Name": name, "Driver": driver, "Scope": "local", "Subnet": subnet, "Gateway": gateway,
        "IPRange": ip_range, "Internal": dbus.Boolean(False), "IPv6": dbus.Boolean(False),
        "Labels": ss(labels or {}), "Options": ss({}), "CreatedAt": dbus.UInt64(1700000000000000),
        "BridgeName": "", "Containers": dbus.Array(list(containers), signature="(ssss)"),
    }


NETWORKS = {
    nid(1): network_props(nid(1), "bridge", "bridge", "172.17.0.0/16", "172.17.0.1"),
    nid(2): network_props(nid(2), "host", "host"),
    nid(3): network_props(nid(3), "none", "null"),
    FRONT_ID: network_props(FRONT_ID, "front", "bridge", "10.77.0.0/24", "10.77.0.1", "10.77.0.128/25",
                            {"tier": "web"}, [(WEB_ID, "web", "10.77.0.2/24", "02:42:0a:4d:00:02")]),
}

WEB = {
    "Id": WEB_ID, "Name": "web", "Image": "busybox:latest", "ImageId": "sha256:" + "a" * 64,
    "Command": dbus.Array(["sleep", "300"], signature="s"), "Env": dbus.Array([], signature="s"), "State": "running", "Pid": dbus.UInt32(4242),
    "CreatedAt": dbus.UInt64(1700000000000000), "StartedAt": dbus.UInt64(1700000001000000),
    "NetworkMode": "front", "NetworkAliases": dbus.Array(["www"], signature="s"),
    "IPAddress": "10.77.0.2", "MacAddress": "", "Dns": dbus.Array(["198.51.100.53"], signature="s"),
    "DnsSearch": dbus.Array([], signature="s"), "DnsOptions": dbus.Array([], signature="s"),
    "ExtraHosts": dbus.Array(["db:10.1.2.3"], signature="s"),
    "PortBindings": dbus.Array([("tcp", dbus.UInt16(80), "", dbus.UInt16(8080), dbus.UInt16(8080)),
                                ("udp", dbus.UInt16(53), "127.0.0.1", dbus.UInt16(5353), dbus.UInt16(5353))],
                               signature="(sqsqq)"),
    "ExposedPorts": dbus.Array([("tcp", dbus.UInt16(443))], signature="(sq)"),
    "PublishAllPorts": dbus.Boolean(False),
    "Ports": dbus.Array([("tcp", dbus.UInt16(80), "", dbus.UInt16(8080)),
                         ("udp", dbus.UInt16(53), "127.0.0.1", dbus.UInt16(5353))], signature="(sqsq)"),
    "Networks": dbus.Array([("front", FRONT_ID, "10.77.0.2", dbus.UInt32(24), "10.77.0.1", "02:42:0a:4d:00:02",
                             "e" * 64, dbus.Array(["www"], signature="s"))], signature="(sssusssas)"),
}


class Error(dbus.DBusException):
    def __init__(self, name, message):
        super().__init__(message)
        self._dbus_error_name = name


def find_network(name_or_id):
    for i, p in NETWORKS.items():
        if name_or_id in (p["Name"], i):
            return i
    found = [i for i in NETWORKS if i.startswith(name_or_id)]
    if len(found) == 1 and name_or_id:
        return found[0]
    raise Error("org.berth1.Error.NoSuchNetwork", f"network {name_or_id} not found")


class Network(dbus.service.Object):
    def __init__(self, bus, net_id):
        self.net_id = net_id
        super().__init__(bus, f"/org/berth1/network/{net_id}")

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return NETWORKS[self.net_id] if interface == NETWORK else {}

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, interface, name):
        return NETWORKS[self.net_id][name]

    @dbus.service.method(NETWORK, in_signature="sa{sv}")
    def Connect(self, container, options):
        log("Connect", self.net_id, container, options)

    @dbus.service.method(NETWORK, in_signature="sb")
    def Disconnect(self, container, force):
        log("Disconnect", self.net_id, container, bool(force))


class Container(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, f"/org/berth1/container/{WEB_ID}")

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return WEB if interface == CONTAINER else {}

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, interface, name):
        if name not in WEB:
            raise Error("org.freedesktop.DBus.Error.UnknownProperty", name)
        return WEB[name]


class Manager(dbus.service.Object):
    def __init__(self, bus):
        self.bus = bus
        self.objects = {i: Network(bus, i) for i in NETWORKS}
        self.container = Container(bus)
        super().__init__(bus, "/org/berth1")

    @dbus.service.method("org.freedesktop.DBus.ObjectManager", out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        return {f"/org/berth1/container/{WEB_ID}": {CONTAINER: WEB}}

    @dbus.service.method(MANAGER, in_signature="sa{sv}", out_signature="o")
    def CreateNetwork(self, name, options):
        log("CreateNetwork", name, options)
        if any(p["Name"] == name for p in NETWORKS.values()):
            raise Error("org.berth1.Error.NetworkExists", f"network with name {name} already exists")
        i = nid(100 + len(NETWORKS))
        NETWORKS[i] = network_props(i, name, str(options.get("Driver", "")), str(options.get("Subnet", "")),
                                    str(options.get("Gateway", "")), labels=dict(options.get("Labels", {})))
        self.objects[i] = Network(self.bus, i)
        return f"/org/berth1/network/{i}"

    @dbus.service.method(MANAGER, in_signature="s", out_signature="o")
    def GetNetwork(self, name):
        return f"/org/berth1/network/{find_network(name)}"

    @dbus.service.method(MANAGER, out_signature="a(sso)")
    def ListNetworks(self):
        return [(i, p["Name"], f"/org/berth1/network/{i}") for i, p in NETWORKS.items()]

    @dbus.service.method(MANAGER, in_signature="s")
    def RemoveNetwork(self, name):
        log("RemoveNetwork", name)
        i = find_network(name)
        if NETWORKS[i]["Containers"]:
            raise Error("org.berth1.Error.NetworkInUse", f"network {name} is in use")
        self.objects.pop(i).remove_from_connection()
        del NETWORKS[i]

    @dbus.service.method(MANAGER, in_signature="a{sv}", out_signature="as")
    def PruneNetworks(self, filters):
        log("PruneNetworks", filters)
        return dbus.Array([], signature="s")

    @dbus.service.method(MANAGER, in_signature="s", out_signature="o")
    def GetContainer(self, name):
        if name not in ("web", WEB_ID, WEB_ID[:12]):
            raise Error("org.berth1.Error.NoSuchContainer", f"No such container: {name}")
        return f"/org/berth1/container/{WEB_ID}"

    @dbus.service.method(MANAGER, in_signature="s", out_signature="o")
    def GetImage(self, name):
        raise Error("org.berth1.Error.NoSuchImage", f"No such image: {name}")

    @dbus.service.method(MANAGER, in_signature="ssasasa{sv}", out_signature="o")
    def CreateContainer(self, image, name, command, env, options):
        log("CreateContainer", image, name, options)
        raise Error("org.berth1.Error.InvalidArgument", "recorded by the fake")


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    name = dbus.service.BusName(BUS, bus, do_not_queue=True)  # noqa: F841 (kept while running)
    Manager(bus)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
