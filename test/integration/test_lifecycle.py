# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pause/unpause, restart and rename, through D-Bus."""
import json
import os
import uuid

BUS_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_call.py")


def call(bed, path, method, *args, interface="org.berth1.Container"):
    return bed.run(["/usr/bin/python3", BUS_CALL, path, interface, method, json.dumps(list(args))])


def path_of(bed, name):
    return json.loads(call(bed, "/org/berth1", "GetContainer", name, interface="org.berth1.Manager").stdout)


def prop(bed, name, prop_name):
    out = bed.busctl("--json=short", "get-property", "org.berth1", path_of(bed, name), "org.berth1.Container",
                     prop_name, check=True).stdout
    return json.loads(out)["data"]


def journal_messages(bed, name):
    return [e["MESSAGE"] for e in bed.journal_json(f"CONTAINER_NAME={name}")]


def test_pause_freezes_and_unpause_thaws(busybox_image, berthd):
    name = f"pause-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sh", "-c",
                    "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done", check=True)
    path = path_of(berthd, name)
    try:
        assert call(berthd, path, "Pause").returncode == 0
        assert prop(berthd, name, "State") == "paused"
        pid = prop(berthd, name, "Pid")
        state = berthd.sh(f"grep ^State: /proc/{pid}/status", check=True).stdout
        assert "(stopped)" in state or "S (sleeping)" in state
        frozen = len(journal_messages(berthd, name))
        berthd.sh("sleep 0.5")
        assert len(journal_messages(berthd, name)) == frozen  # no output while frozen
        second = call(berthd, path, "Pause")
        assert "ERROR org.berth1.Error.ContainerPaused" in second.stdout
        assert call(berthd, path, "Unpause").returncode == 0
        assert prop(berthd, name, "State") == "running"
        berthd.wait_until(lambda: len(journal_messages(berthd, name)) > frozen, what="output after unpause")
        assert "ERROR org.berth1.Error.ContainerNotPaused" in call(berthd, path, "Unpause").stdout
        # Stopping a paused container works (it is thawed first).
        assert call(berthd, path, "Pause").returncode == 0
        assert call(berthd, path, "Stop", 1).returncode == 0
        assert prop(berthd, name, "State") == "exited"
        assert "ERROR org.berth1.Error.ContainerNotRunning" in call(berthd, path, "Pause").stdout
    finally:
        berthd.berthctl("rm", "-f", name)


def test_restart_runs_again(busybox_image, berthd):
    name = f"restart-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sh", "-c",
                    "echo started; trap 'exit 3' TERM; while true; do sleep 0.1; done", check=True)
    path = path_of(berthd, name)
    try:
        pid1 = prop(berthd, name, "Pid")
        assert call(berthd, path, "Restart", 10).returncode == 0
        assert prop(berthd, name, "State") == "running"
        assert prop(berthd, name, "Pid") != pid1
        berthd.wait_until(lambda: journal_messages(berthd, name).count("started") == 2, what="second start")
    finally:
        berthd.berthctl("rm", "-f", name)
    # Restart of a stopped container just starts it.
    name2 = f"restart-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name2, busybox_image, "true", check=True)
    assert call(berthd, path_of(berthd, name2), "Restart", 1).returncode == 0
    assert berthd.berthctl("wait", name2, check=True).stdout.strip() == "0"


def test_rename(busybox_image, berthd):
    name = f"old-{uuid.uuid4().hex[:6]}"
    other = f"other-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, busybox_image, "true", check=True)
    berthd.berthctl("create", "--name", other, busybox_image, "true", check=True)
    path = path_of(berthd, name)
    assert "ERROR org.berth1.Error.InvalidName" in call(berthd, path, "Rename", "bad/name").stdout
    assert "ERROR org.berth1.Error.NameInUse" in call(berthd, path, "Rename", other).stdout
    new = f"new-{uuid.uuid4().hex[:6]}"
    assert call(berthd, path, "Rename", new).returncode == 0
    assert path_of(berthd, new) == path
    assert call(berthd, "/org/berth1", "GetContainer", name, interface="org.berth1.Manager").returncode == 1
    berthd.systemctl("restart", "berthd.service", check=True)
    assert path_of(berthd, new) == path  # persisted
