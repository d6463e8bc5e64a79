# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bad input gets a named error over D-Bus and exit code 125 from berthctl, and changes nothing."""
import json
import os
import uuid

import pytest

from conftest import LAYERS

# What this file tests does not depend on the cgroup layout or the storage driver: first pass only.
pytestmark = pytest.mark.once

BUS_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_call.py")


def call(bed, path, interface, method, *args):
    proc = bed.run(["/usr/bin/python3", BUS_CALL, path, interface, method, json.dumps(list(args))])
    return proc


def manager(bed, method, *args):
    return call(bed, "/org/berth1", "org.berth1.Manager", method, *args)


def error_name(proc):
    assert proc.returncode == 1, proc
    line = proc.stdout.strip()
    assert line.startswith("ERROR "), proc
    return line.split()[1]


def container_count(bed):
    return len(json.loads(manager(bed, "ListContainers").stdout))


@pytest.mark.parametrize("name", ["-bad", "a", "a/b", "../x", "x" * 300, "spa ce", "ünï"])
def test_bad_container_name_is_invalid_name(busybox_image, berthd, name):
    before = container_count(berthd)
    proc = manager(berthd, "CreateContainer", busybox_image, name, ["true"], [], {})
    assert error_name(proc) == "org.berth1.Error.InvalidName"
    assert "Invalid container name" in proc.stdout
    assert container_count(berthd) == before
    cli = berthd.berthctl("create", "--name", name, busybox_image, "true")
    assert cli.returncode == 125
    assert cli.stderr.startswith("berthctl: ") and len(cli.stderr.strip().splitlines()) == 1, cli.stderr


def test_name_in_use(busybox_image, berthd):
    name = f"dup-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, busybox_image, "true", check=True)
    proc = manager(berthd, "CreateContainer", busybox_image, name, ["true"], [], {})
    assert error_name(proc) == "org.berth1.Error.NameInUse"
    cli = berthd.berthctl("create", "--name", name, busybox_image, "true")
    assert cli.returncode == 125 and "already in use" in cli.stderr
    berthd.berthctl("rm", name, check=True)


@pytest.mark.parametrize("what", ["nosuch", "0" * 64, "zz", ""])
def test_unknown_container_is_no_such_container(berthd, what):
    proc = manager(berthd, "GetContainer", what)
    assert error_name(proc) == "org.berth1.Error.NoSuchContainer"
    if what:
        for verb in (["start"], ["stop"], ["rm"], ["rm", "-f"], ["kill"], ["wait"], ["logs"]):
            cli = berthd.berthctl(*verb, what)
            assert cli.returncode == 125, (verb, cli)
            assert "No such container" in cli.stderr, (verb, cli.stderr)


def test_unknown_image_is_no_such_image(berthd):
    proc = manager(berthd, "CreateContainer", "nothere:latest", "", ["true"], [], {})
    assert error_name(proc) == "org.berth1.Error.NoSuchImage"


@pytest.mark.parametrize("options,needle", [
    ({"Bogus": "x"}, "Unknown container option"),
    ({"MemoryMax": "lots"}, "must have type"),
    ({"Hostname": "bad_host!"}, "Invalid host name"),
])
def test_bad_options_are_invalid_argument(busybox_image, berthd, options, needle):
    before = container_count(berthd)
    proc = manager(berthd, "CreateContainer", busybox_image, "", ["true"], [], options)
    assert error_name(proc) == "org.berth1.Error.InvalidArgument"
    assert needle in proc.stdout
    assert container_count(berthd) == before


@pytest.mark.parametrize("args,needle", [
    (["-m", "12x"], "memory"),
    (["-m", "1k"], "MemoryMax must be at least"),
    (["--cpus", "abc"], "cpus"),
    (["--cpus", "-1"], "cpus"),
    (["--cpus", "1000"], "CPU"),
    (["-e", "=nokey"], "environment"),
    (["--hostname", "-bad"], "host"),
    (["--frobnicate"], "frobnicate"),
])
def test_bad_cli_flags_exit_125(busybox_image, berthd, args, needle):
    before = container_count(berthd)
    proc = berthd.berthctl("run", *args, busybox_image, "true")
    assert proc.returncode == 125, proc
    assert needle.lower() in proc.stderr.lower(), proc.stderr
    assert container_count(berthd) == before


def test_empty_command_without_image_default(busybox_image, berthd):
    proc = manager(berthd, "CreateContainer", busybox_image, "", [], [], {})
    assert error_name(proc) == "org.berth1.Error.InvalidArgument"
    assert "No command specified" in proc.stdout


def test_running_container_errors(busybox_image, berthd):
    name = f"busy-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sleep", "300", check=True)
    try:
        path = json.loads(manager(berthd, "GetContainer", name).stdout)
        assert error_name(call(berthd, path, "org.berth1.Container", "Start")) == \
            "org.berth1.Error.ContainerRunning"
        assert error_name(call(berthd, path, "org.berth1.Container", "Remove", False)) == \
            "org.berth1.Error.ContainerRunning"
        assert error_name(call(berthd, path, "org.berth1.Container", "Kill", 0)) == \
            "org.berth1.Error.InvalidArgument"
        assert error_name(call(berthd, path, "org.berth1.Container", "Kill", 999)) == \
            "org.berth1.Error.InvalidArgument"
        for options, message in [({"Tty": "yes"}, 'Exec option "Tty" must have type "b", not "s".'),
                                 ({"Rows": {"@t": 5}}, 'Exec option "Rows" must have type "u", not "t".'),
                                 ({"Bogus": "x"}, 'Unknown exec option "Bogus".')]:
            proc = berthd.run(["/usr/bin/python3", BUS_CALL, path, "org.berth1.Container", "ExecWithOptions",
                               json.dumps([["true"], [], {"@a{sv}": options}, "@fd", "@fd", "@fd"]),
                               "--fd", "/dev/null"])
            assert error_name(proc) == "org.berth1.Error.InvalidArgument" and message in proc.stdout, proc
    finally:
        berthd.berthctl("rm", "-f", name, check=True)
    berthd.berthctl("create", "--name", name, busybox_image, "true", check=True)
    path = json.loads(manager(berthd, "GetContainer", name).stdout)
    assert error_name(call(berthd, path, "org.berth1.Container", "Kill", 15)) == \
        "org.berth1.Error.ContainerNotRunning"
    berthd.berthctl("rm", name, check=True)


def test_unprivileged_callers_cannot_change_anything(busybox_image, berthd):
    proc = berthd.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", BUS_CALL,
                       "/org/berth1", "org.berth1.Manager", "CreateContainer",
                       json.dumps([busybox_image, "", ["true"], [], {}])])
    assert error_name(proc) == "org.berth1.Error.AccessDenied"
    # berthd remembers a caller's uid per connection: asked again on the same connection, the
    # answer is the same, and a root caller before does not change it.
    berthd.berthctl("create", "--name", "uidcache", busybox_image, "true", check=True)
    berthd.berthctl("rm", "uidcache", check=True)
    script = ("import dbus\n"
              "m = dbus.Interface(dbus.SystemBus().get_object('org.berth1', '/org/berth1'), 'org.berth1.Manager')\n"
              "for i in range(3):\n"
              "    try:\n"
              "        m.CreateContainer(%r, '', ['true'], dbus.Array([], signature='s'),\n"
              "                          dbus.Dictionary({}, signature='sv'))\n"
              "        print('created')\n"
              "    except dbus.exceptions.DBusException as e:\n"
              "        print(e.get_dbus_name())\n") % busybox_image
    proc = berthd.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
                       script])
    assert proc.stdout.split() == ["org.berth1.Error.AccessDenied"] * 3, proc
    # Reading is fine.
    proc = berthd.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", BUS_CALL,
                       "/org/berth1", "org.berth1.Manager", "ListImages", "[]"])
    assert proc.returncode == 0, proc


@pytest.mark.parametrize("ref", ["UPPER", "a:b:c", "-x", "x/", ""])
def test_import_with_bad_reference_is_invalid_name(berthd, busybox_tar, ref):
    """The daemon checks references itself (berthctl also does, before calling)."""
    before = berthd.sh(f"ls -A {LAYERS} /var/lib/berth/images", check=True).stdout
    proc = berthd.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "ImportImage",
                       json.dumps(["@fd", ref]), "--fd", busybox_tar])
    assert error_name(proc) == "org.berth1.Error.InvalidName"
    assert berthd.sh(f"ls -A {LAYERS} /var/lib/berth/images", check=True).stdout == before


@pytest.mark.parametrize("options,message", [
    ({"Level": "9"}, "Unknown import option \"Level\""),
    ({"Changes": "CMD true"}, "Import option \"Changes\" must have type \"as\""),
    ({"Message": {"@u": 1}}, "Import option \"Message\" must have type \"s\""),
    ({"Changes": ["FROB x"]}, "Invalid change"),
])
def test_import_with_bad_options_is_invalid_argument(berthd, busybox_tar, options, message):
    before = berthd.sh(f"ls -A {LAYERS} /var/lib/berth/images", check=True).stdout
    proc = berthd.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "ImportImageWithOptions",
                       json.dumps(["@fd", "badopts:1", {"@a{sv}": options}]), "--fd", busybox_tar])
    assert error_name(proc) == "org.berth1.Error.InvalidArgument", proc
    assert message in proc.stdout, proc
    assert berthd.sh(f"ls -A {LAYERS} /var/lib/berth/images", check=True).stdout == before


def test_import_with_options_over_dbus(berthd, busybox_tar):
    proc = berthd.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "ImportImageWithOptions",
                       json.dumps(["@fd", "goodopts:1", {"@a{sv}": {"Changes": ["CMD [\"sh\"]", "ENV A=b"],
                                                                   "Message": "over the bus"}}]),
                       "--fd", busybox_tar], check=True)
    assert json.loads(proc.stdout).startswith("/org/berth1/image/"), proc
    try:
        info = json.loads(berthd.berthctl("image", "inspect", "goodopts:1", check=True).stdout)[0]
        assert info["Config"]["Cmd"] == ["sh"] and "A=b" in info["Config"]["Env"], info
        assert "over the bus" in berthd.berthctl("history", "--no-trunc", "goodopts:1", check=True).stdout
    finally:
        berthd.berthctl("rmi", "goodopts:1")


def test_run_rm_that_fails_to_start_leaves_nothing(busybox_image, berthd):
    # As Docker: an AutoRemove container whose start fails is removed, whatever failed.
    name = f"rmfail-{uuid.uuid4().hex[:6]}"
    proc = berthd.berthctl("run", "--rm", "--name", name, busybox_image, "nonexistent-cmd")
    assert proc.returncode == 127, proc
    assert "executable file not found" in proc.stderr, proc
    assert error_name(manager(berthd, "GetContainer", name)) == "org.berth1.Error.NoSuchContainer"
    # A failure in setup (a working directory that cannot be made), with an anonymous volume: gone too.
    volumes = berthd.berthctl("volume", "ls", "-q", check=True).stdout.split()
    proc = berthd.berthctl("run", "--rm", "--name", name, "-v", "/data", "-w", "/proc/nodir", busybox_image, "true")
    assert proc.returncode == 125, proc
    assert error_name(manager(berthd, "GetContainer", name)) == "org.berth1.Error.NoSuchContainer"
    assert berthd.berthctl("volume", "ls", "-q", check=True).stdout.split() == volumes
    # Without --rm the container stays, with the reason.
    proc = berthd.berthctl("run", "--name", name, busybox_image, "nonexistent-cmd")
    assert proc.returncode == 127, proc
    info = json.loads(berthd.berthctl("inspect", name, check=True).stdout)[0]
    assert "nonexistent-cmd" in info["State"]["Error"], info
    berthd.berthctl("rm", name, check=True)


def test_secrets_are_for_root_only(busybox_image, berthd):
    # A container's environment and a volume's driver options are where passwords go: only root
    # reads them (by name; they are in no GetAll, GetManagedObjects or signal). State, names, ids
    # and limits stay readable by anyone.
    name = f"secret-{uuid.uuid4().hex[:6]}"
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    berthd.berthctl("create", "--name", name, "-e", "PASSWORD=hunter2", "-m", "64m", busybox_image, "true", check=True)
    berthd.berthctl("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m,uid=7", name,
                    check=True)
    try:
        path = json.loads(manager(berthd, "GetContainer", name).stdout)
        vpath = json.loads(manager(berthd, "GetVolume", name).stdout)
        proc = berthd.run([*nobody, "busctl", "get-property", "org.berth1", path, "org.berth1.Container", "Env"])
        assert proc.returncode != 0 and "hunter2" not in proc.stdout, proc
        assert "Only root may read the environment" in proc.stderr, proc
        proc = berthd.run([*nobody, "busctl", "get-property", "org.berth1", vpath, "org.berth1.Volume", "Options"])
        assert proc.returncode != 0 and "uid=7" not in proc.stdout, proc
        for who in (nobody, []):
            dump = berthd.run([*who, "busctl", "call", "--json=short", "org.berth1", "/org/berth1",
                               "org.freedesktop.DBus.ObjectManager", "GetManagedObjects"], check=True).stdout
            assert name in dump and "hunter2" not in dump and "uid=7" not in dump, who
            props = berthd.run([*who, "busctl", "call", "--json=short", "org.berth1", path,
                                "org.freedesktop.DBus.Properties", "GetAll", "s", "org.berth1.Container"],
                               check=True).stdout
            assert "hunter2" not in props and '"MemoryMax"' in props, who
        # berthctl inspect: everything for root; without the secrets for anybody else.
        info = json.loads(berthd.berthctl("inspect", name, check=True).stdout)[0]
        assert "PASSWORD=hunter2" in info["Config"]["Env"], info
        info = json.loads(berthd.run([*nobody, "berthctl", "inspect", name], check=True).stdout)[0]
        assert info["Config"]["Env"] is None and info["Name"] == "/" + name, info
        assert info["HostConfig"]["Memory"] == 64 * 1024 * 1024, info
        vinfo = json.loads(berthd.berthctl("volume", "inspect", name, check=True).stdout)[0]
        assert vinfo["Options"]["o"] == "size=1m,uid=7", vinfo
        vinfo = json.loads(berthd.run([*nobody, "berthctl", "volume", "inspect", name], check=True).stdout)[0]
        assert vinfo["Options"] is None and vinfo["Name"] == name, vinfo
    finally:
        berthd.berthctl("rm", "-f", name)
        berthd.berthctl("volume", "rm", name)
