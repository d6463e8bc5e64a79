# SPDX-License-Identifier: LGPL-2.1-or-later
"""Volume plugins (Docker's protocol, with the test plugin volume_plugin.py), volume labels and options."""
import json
import os
import shutil
import tempfile
import threading
import time
import uuid

import pytest

from conftest import SHARED_TMP
from test_volumes import manager, mounts_of, volume_names

PLUGIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "volume_plugin.py")


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


class Plugin:
    def __init__(self, bed, name):
        self.bed, self.name = bed, name
        self.dir = tempfile.mkdtemp(prefix="berth-plugin.", dir=SHARED_TMP)
        os.chmod(self.dir, 0o755)
        self.base = os.path.join(self.dir, "volumes")
        self.log = os.path.join(self.dir, "calls.log")
        self.socket = f"/run/berth/plugins/{name}.sock"
        self.unit = f"berth-test-plugin-{name}.service"
        self.start()

    def start(self):
        os.makedirs(self.base, exist_ok=True)
        self.bed.run(["rm", "-f", self.socket], check=True)
        self.bed.run(["systemd-run", f"--unit={self.unit}", "--collect", "/usr/bin/python3", PLUGIN, self.socket,
                      self.base, self.log], check=True)
        self.bed.wait_until(lambda: self.bed.run(["test", "-S", self.socket]).returncode == 0,
                            what=f"the plugin socket {self.socket}")

    def stop(self):
        self.bed.systemctl("stop", self.unit)  # leaves a stale socket behind: "not reachable"

    def _read(self, queries):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            lines = [json.loads(line) for line in f if line.endswith("\n")]
        skip = ("Activate", "Capabilities") + (() if queries else ("List", "Get", "Path"))
        return [(c, e["body"]) for e in lines
                if (c := e["call"].removeprefix("VolumeDriver.").removeprefix("Plugin.")) not in skip]

    def calls(self, queries=False, unmounts=0):
        """[(call, body)] and forget them; without Activate and Capabilities, and without the queries
        List, Get and Path unless asked for. berthd does not wait for an Unmount's answer (a
        container's exit is not held up by its plugin), so a test expecting 'unmounts' of them waits
        for them first."""
        if unmounts:
            self.bed.wait_until(lambda: [c for c, _ in self._read(queries)].count("Unmount") >= unmounts,
                                what=f"{unmounts} Unmount call(s)")
        calls = self._read(queries)
        if os.path.exists(self.log):
            os.unlink(self.log)
        return calls

    def names(self, queries=False, unmounts=0):
        return [c for c, _ in self.calls(queries, unmounts)]

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture()
def plugin(berthd):
    p = Plugin(berthd, uniq("tplug"))
    yield p
    p.cleanup()


def container_id(bed, name):
    return bed.berthctl("inspect", "--format", "{{.Id}}", name, check=True).stdout.strip()


def test_create_mount_unmount_remove(busybox_image, berthd, plugin):
    vol = uniq("pv")
    berthd.berthctl("volume", "create", "-d", plugin.name, "-o", "size=5", "--label", "team=a", vol, check=True)
    assert plugin.calls() == [("Create", {"Name": vol, "Opts": {"size": "5"}})]
    info = json.loads(berthd.berthctl("volume", "inspect", vol, check=True).stdout)[0]
    assert info["Driver"] == plugin.name and info["Labels"] == {"team": "a"} and info["Options"] == {"size": "5"}
    assert info["Mountpoint"] == os.path.join(plugin.base, vol)  # from VolumeDriver.Path
    assert plugin.names(queries=True) == ["Path"]
    assert f"{plugin.name}" in berthd.berthctl("volume", "ls", check=True).stdout

    name = uniq("pc")
    berthd.berthctl("run", "--name", name, "-v", f"{vol}:/data", busybox_image, "sh", "-c",
                    "echo through-the-plugin > /data/f", check=True)
    cid = container_id(berthd, name)
    assert plugin.calls(unmounts=1) == [("Mount", {"Name": vol, "ID": cid}), ("Unmount", {"Name": vol, "ID": cid})]
    with open(os.path.join(plugin.base, vol, "f")) as f:
        assert f.read() == "through-the-plugin\n"

    # Running: mounted until stop.
    berthd.berthctl("start", name, check=True)
    berthd.berthctl("run", "-d", "--name", name + "-d", "-v", f"{vol}:/data", busybox_image, "sleep", "300",
                    check=True)
    assert sorted(plugin.names(unmounts=1)) == ["Mount", "Mount", "Unmount"]
    proc = berthd.berthctl("volume", "rm", vol)
    assert proc.returncode == 125 and "in use" in proc.stderr
    assert plugin.names() == []  # refused by berth before asking the plugin
    berthd.berthctl("stop", "-t", "1", name + "-d", check=True)
    assert plugin.names(unmounts=1) == ["Unmount"]
    berthd.berthctl("rm", name, name + "-d", check=True)
    berthd.berthctl("volume", "rm", vol, check=True)
    assert plugin.calls() == [("Remove", {"Name": vol})]
    assert not os.path.exists(os.path.join(plugin.base, vol))


def test_volume_driver_creates_on_first_use(busybox_image, berthd, plugin):
    vol = uniq("auto")
    out = berthd.berthctl("run", "--rm", "--volume-driver", plugin.name, "-v", f"{vol}:/d", "-v", "/anon",
                          busybox_image, "sh", "-c", "touch /d/x /anon/y && echo ok", check=True).stdout
    assert out == "ok\n"
    calls = plugin.names(unmounts=2)
    assert calls.count("Create") == 2 and calls.count("Mount") == 2 and calls.count("Unmount") == 2, calls
    assert calls.index("Create") < calls.index("Mount")
    # --rm removed the anonymous volume through the plugin, and kept the named one.
    assert os.path.exists(os.path.join(plugin.base, vol, "x"))
    berthd.wait_until(lambda: sorted(n for n in os.listdir(plugin.base) if not n.startswith(".")) == [vol],
                      what="the anonymous plugin volume to be removed")
    # An existing volume of another driver is not silently taken.
    proc = berthd.berthctl("run", "--rm", "-v", f"{vol}:/d", "--volume-driver", "local", busybox_image, "true")
    assert proc.returncode == 125 and "already exists with driver" in proc.stderr, proc.stderr
    berthd.berthctl("volume", "rm", vol, check=True)


def test_failed_start_unmounts(busybox_image, berthd, plugin):
    good, bad = uniq("good"), uniq("bad")
    berthd.berthctl("volume", "create", "-d", plugin.name, good, check=True)
    berthd.berthctl("volume", "create", "-d", plugin.name, "-o", "fail=Mount", bad, check=True)
    plugin.calls()
    name = uniq("fs")
    proc = berthd.berthctl("run", "--name", name, "-v", f"{good}:/a", "-v", f"{bad}:/b", busybox_image, "true")
    assert proc.returncode == 125 and "mount refused by the test plugin" in proc.stderr, proc.stderr
    cid = container_id(berthd, name)
    assert plugin.calls(unmounts=1) == [("Mount", {"Name": good, "ID": cid}), ("Mount", {"Name": bad, "ID": cid}),
                              ("Unmount", {"Name": good, "ID": cid})]
    assert berthd.berthctl("inspect", "--format", "{{.State.Status}}", name, check=True).stdout.strip() == "created"
    berthd.berthctl("rm", name, check=True)

    # A failure after the plugin mounted (the command does not exist) unmounts too.
    proc = berthd.berthctl("run", "--name", name, "-v", f"{good}:/a", busybox_image, "/no/such/command")
    assert proc.returncode == 127, proc.stderr
    cid = container_id(berthd, name)
    assert plugin.calls(unmounts=1) == [("Mount", {"Name": good, "ID": cid}), ("Unmount", {"Name": good, "ID": cid})]
    berthd.berthctl("rm", name, check=True)

    # Over D-Bus: RemoveVolume of a volume the plugin refuses to remove fails, unless forced.
    stuck = uniq("stuck")
    berthd.berthctl("volume", "create", "-d", plugin.name, "-o", "fail=Remove", stuck, check=True)
    out = manager(berthd, "RemoveVolume", stuck, False).stdout
    assert "ERROR org.berth1.Error.PluginFailed" in out and "volume busy" in out, out
    assert stuck in volume_names(berthd)
    out = manager(berthd, "RemoveVolume", stuck, True).stdout
    assert "ERROR" not in out, out  # forced: berth forgets it
    # ... but the plugin still has it, so its List brings it back (as in Docker).
    assert stuck in volume_names(berthd)
    os.unlink(os.path.join(plugin.base, ".opts", stuck))
    berthd.berthctl("volume", "rm", stuck, check=True)
    for v in (good, bad):
        berthd.berthctl("volume", "rm", "-f", v, check=True)


def test_stalled_plugin_stalls_no_other_client(busybox_image, berthd, plugin):
    # While the plugin takes 10 s to answer a start's Mount and a volume create, berthd still answers
    # everyone else at once: plugin calls run on its loop, they do not block it.
    vol, other = uniq("slow"), uniq("slow")
    berthd.berthctl("volume", "create", "-d", plugin.name, vol, check=True)
    with open(os.path.join(plugin.base, ".stall"), "w") as f:
        f.write("10")
    results = {}

    def client(key, *args):
        started = time.monotonic()
        results[key] = (berthd.berthctl(*args, timeout=120), time.monotonic() - started)

    waiting = [threading.Thread(target=client, args=("run", "run", "--rm", "-v", f"{vol}:/d", busybox_image, "sh",
                                                     "-c", "echo waited > /d/f")),
               threading.Thread(target=client, args=("create", "volume", "create", "-d", plugin.name, other))]
    for t in waiting:
        t.start()
    time.sleep(1)  # both are waiting for the plugin now
    out = berthd.sh("s=$(date +%s%N); berthctl ps -a >/dev/null && berthctl run --rm " + busybox_image +
                    " true && berthctl ps >/dev/null && echo $(( ($(date +%s%N) - s) / 1000000 ))", check=True)
    elapsed_ms = int(out.stdout.split()[-1])
    assert all(t.is_alive() for t in waiting), results  # the plugin really was stalled meanwhile
    os.unlink(os.path.join(plugin.base, ".stall"))
    assert elapsed_ms < 5000, f"ps, run --rm and ps took {elapsed_ms} ms while a plugin stalled"
    for t in waiting:
        t.join(timeout=120)
    (run, run_s), (create, _) = results["run"], results["create"]
    assert run.returncode == 0, run.stderr
    assert run_s >= 9, run_s  # it did wait for the plugin's Mount
    assert create.returncode == 0 and create.stdout.strip() == other, create.stderr
    with open(os.path.join(plugin.base, vol, "f")) as f:
        assert f.read() == "waited\n"
    assert other in volume_names(berthd)
    for v in (vol, other):
        berthd.berthctl("volume", "rm", v, check=True)


def test_plugin_down_and_unknown(busybox_image, berthd, plugin):
    vol = uniq("down")
    berthd.berthctl("volume", "create", "-d", plugin.name, vol, check=True)
    plugin.stop()
    proc = berthd.berthctl("volume", "create", "-d", plugin.name, uniq("x"))
    assert proc.returncode == 125 and "not reachable" in proc.stderr, proc.stderr
    name = uniq("pd")
    proc = berthd.berthctl("run", "--name", name, "-v", f"{vol}:/d", busybox_image, "true")
    assert proc.returncode == 125 and "not reachable" in proc.stderr, proc.stderr
    assert berthd.berthctl("inspect", "--format", "{{.State.Status}}", name, check=True).stdout.strip() == "created"
    # inspect still answers (with the last known mount point) while the plugin is down
    berthd.berthctl("volume", "inspect", vol, check=True)
    out = manager(berthd, "CreateVolume", uniq("y"), {"@a{sv}": {"Driver": {"@s": "no-such-plugin"}}}).stdout
    assert "ERROR org.berth1.Error.NoSuchPlugin" in out, out
    berthd.run(["rm", plugin.socket], check=True)  # gone altogether
    proc = berthd.berthctl("start", name)
    assert proc.returncode == 125 and "No volume plugin" in proc.stderr, proc.stderr
    out = manager(berthd, "CreateVolume", uniq("y"), {"@a{sv}": {"Driver": {"@s": "../evil"}}}).stdout
    assert "ERROR org.berth1.Error.InvalidName" in out, out
    # back up: the same container starts (and the plugin is activated again)
    plugin.start()
    berthd.berthctl("start", "-a", name, check=True)
    assert plugin.names(unmounts=1)[-2:] == ["Mount", "Unmount"]
    berthd.berthctl("rm", name, check=True)
    berthd.berthctl("volume", "rm", vol, check=True)


def test_volumes_made_behind_berths_back(berthd, plugin):
    # The plugin has volumes berth never created: List (volume ls) and Get (inspect) adopt them.
    a, b = uniq("oob"), uniq("oob")
    os.makedirs(os.path.join(plugin.base, a))
    assert a in volume_names(berthd)
    assert "List" in plugin.names(queries=True)
    os.makedirs(os.path.join(plugin.base, b))
    info = json.loads(berthd.berthctl("volume", "inspect", b, check=True).stdout)[0]
    assert info["Driver"] == plugin.name and info["Mountpoint"] == os.path.join(plugin.base, b)
    assert "Get" in plugin.names(queries=True)
    for v in (a, b):
        berthd.berthctl("volume", "rm", v, check=True)


def test_labels_and_options_over_busctl(berthd):
    vol = uniq("lbl")
    out = manager(berthd, "CreateVolume", vol, {"@a{sv}": {"Labels": {"@a{ss}": {"x": "1", "y": ""}}}}).stdout
    assert "ERROR" not in out, out
    obj = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetVolume", "s", vol,
                        check=True).stdout.split('"')[1]
    labels = json.loads(berthd.busctl("--json=short", "get-property", "org.berth1", obj, "org.berth1.Volume",
                                      "Labels", check=True).stdout)["data"]
    assert labels == {"x": "1", "y": ""}
    berthd.berthctl("volume", "rm", vol, check=True)
    for opts, why in ((["-o", "size=1m"], "only type, device and o"), (["-o", "type=tmpfs"], "both type= and device="),
                      (["-o", "type=none", "-o", "device=rel"], "absolute device path"),
                      (["-o", "=x"], "invalid driver option")):
        proc = berthd.berthctl("volume", "create", *opts, vol)
        assert proc.returncode != 0 and why in proc.stderr, (opts, proc.stderr)
        assert vol not in volume_names(berthd)
    out = manager(berthd, "CreateVolume", vol, {"@a{sv}": {"Colour": {"@s": "red"}}}).stdout
    assert "ERROR org.berth1.Error.InvalidArgument" in out and "Colour" in out, out
    out = manager(berthd, "CreateVolume", vol, {"@a{sv}": {"Labels": {"@s": "x=1"}}}).stdout
    assert 'Volume option "Labels" must have type "a{ss}", not "s".' in out, out
    assert vol not in volume_names(berthd)


def test_local_driver_options(busybox_image, berthd):
    tv = uniq("tmpv")
    berthd.berthctl("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m,noexec", tv,
                    check=True)
    out = berthd.berthctl("run", "--rm", "-v", f"{tv}:/t", busybox_image, "grep", " /t ", "/proc/mounts",
                          check=True).stdout
    assert out.startswith("tmpfs /t tmpfs") and "size=1024k" in out and "noexec" in out, out
    d = tempfile.mkdtemp(prefix="berth-bindvol.", dir=SHARED_TMP)
    try:
        os.chmod(d, 0o755)
        bv = uniq("bindv")
        berthd.berthctl("volume", "create", "-o", "type=none", "-o", "o=bind", "-o", f"device={d}", bv, check=True)
        berthd.berthctl("run", "--rm", "-v", f"{bv}:/b", busybox_image, "sh", "-c", "echo hi > /b/f", check=True)
        with open(os.path.join(d, "f")) as f:
            assert f.read() == "hi\n"
        info = json.loads(berthd.berthctl("volume", "inspect", bv, check=True).stdout)[0]
        assert info["Options"] == {"type": "none", "o": "bind", "device": d}
        # o=bind,ro: read-only in every container, as Docker's bind+ro.
        rov = uniq("robind")
        berthd.berthctl("volume", "create", "-o", "type=none", "-o", "o=bind,ro", "-o", f"device={d}", rov,
                        check=True)
        proc = berthd.berthctl("run", "--rm", "-v", f"{rov}:/b", busybox_image, "sh", "-c", "cat /b/f; touch /b/g")
        assert proc.returncode != 0 and proc.stdout == "hi\n" and "Read-only" in proc.stderr, proc
        berthd.berthctl("volume", "rm", rov, check=True)
        berthd.berthctl("volume", "rm", bv, tv, check=True)
        assert os.path.exists(os.path.join(d, "f"))  # removing the volume leaves the bound directory alone
    finally:
        shutil.rmtree(d, ignore_errors=True)
