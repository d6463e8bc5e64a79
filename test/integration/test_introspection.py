# SPDX-License-Identifier: LGPL-2.1-or-later
"""The installed introspection files (dbus/*.xml) say exactly what berthd's vtables register:
every method with its arguments, every property with its type and access, every signal."""
import os
import xml.etree.ElementTree as ET

import pytest

# What this file tests does not depend on the cgroup layout or the storage driver: first pass only.
pytestmark = pytest.mark.once

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INTERFACES = ["Manager", "Container", "Image", "Volume", "Network"]


def members(iface):
    """{("method"|"signal"|"property", name): description} of one <interface> element."""
    out = {}
    for el in iface:
        if el.tag in ("method", "signal"):
            args = tuple((a.get("type"), a.get("direction", "out" if el.tag == "signal" else "in"))
                         for a in el.findall("arg"))
            out[(el.tag, el.get("name"))] = args
        elif el.tag == "property":
            out[("property", el.get("name"))] = (el.get("type"), el.get("access"))
    return out


def live_interface(bed, path, name):
    xml = bed.busctl("introspect", "--xml-interface", "org.berth1", path, check=True).stdout
    for iface in ET.fromstring(xml).findall("interface"):
        if iface.get("name") == name:
            return members(iface)
    pytest.fail(f"{name} not found on {path}")


@pytest.fixture(scope="module")
def objects(busybox_image, berthd):
    name = f"intro-{os.urandom(3).hex()}"
    berthd.berthctl("create", "--name", name, busybox_image, "true", check=True)
    berthd.berthctl("volume", "create", name, check=True)
    paths = {"Manager": "/org/berth1"}
    for kind, method in (("Container", "GetContainer"), ("Image", "GetImage"), ("Volume", "GetVolume"),
                         ("Network", "GetNetwork")):
        arg = busybox_image if kind == "Image" else "bridge" if kind == "Network" else name
        out = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", method, "s", arg,
                            check=True).stdout
        paths[kind] = out.split('"')[1]
    yield paths
    berthd.berthctl("rm", "-f", name)
    berthd.berthctl("volume", "rm", name)


@pytest.mark.parametrize("kind", INTERFACES)
def test_installed_xml_matches_the_vtable(berthd, objects, kind):
    name = f"org.berth1.{kind}"
    path = os.path.join(REPO, "dbus", f"{name}.xml")
    assert os.path.exists(path), f"no dbus/{name}.xml"
    files = [i for i in ET.parse(path).getroot().findall("interface") if i.get("name") == name]
    assert len(files) == 1, path
    want, have = members(files[0]), live_interface(berthd, objects[kind], name)
    missing = sorted(f"{k[0]} {k[1]} {v}" for k, v in have.items() if want.get(k) != v)
    extra = sorted(f"{k[0]} {k[1]} {v}" for k, v in want.items() if k not in have)
    assert not missing and not extra, (f"dbus/{name}.xml differs from berthd's vtable:\n"
                                       f"registered but not (or not so) in the file: {missing}\n"
                                       f"in the file but not registered: {extra}")
    # And the file is what is installed.
    installed = berthd.sh(f"cat /usr/share/dbus-1/interfaces/{name}.xml", check=True).stdout
    with open(path) as f:
        assert installed == f.read()
