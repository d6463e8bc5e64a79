# SPDX-License-Identifier: LGPL-2.1-or-later
"""Restart policies: no, on-failure[:N], always, unless-stopped (through D-Bus options)."""
import json
import os
import uuid

BUS_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_call.py")


def manager(bed, method, *args):
    return bed.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", method, json.dumps(list(args))])


def container(bed, path, method, *args):
    return bed.run(["/usr/bin/python3", BUS_CALL, path, "org.berth1.Container", method, json.dumps(list(args))])


def create(bed, image, name, command, options):
    proc = manager(bed, "CreateContainer", image, name, command, [], options)
    assert proc.returncode == 0, proc
    return json.loads(proc.stdout)


def prop(bed, path, name):
    out = bed.busctl("--json=short", "get-property", "org.berth1", path, "org.berth1.Container", name,
                     check=True).stdout
    return json.loads(out)["data"]


def test_on_failure_with_max_retries(busybox_image, berthd):
    path = create(berthd, busybox_image, f"onfail-{uuid.uuid4().hex[:6]}", ["sh", "-c", "exit 3"],
                  {"RestartPolicy": "on-failure", "RestartMaxRetries": {"@u": 2}})
    assert prop(berthd, path, "RestartPolicy") == "on-failure"
    assert container(berthd, path, "Start").returncode == 0
    berthd.wait_until(lambda: prop(berthd, path, "RestartCount") == 2 and prop(berthd, path, "State") == "exited",
                      timeout=20, what="two restarts")
    berthd.sh("sleep 1")
    assert prop(berthd, path, "RestartCount") == 2  # and no third
    assert prop(berthd, path, "ExitCode") == 3
    # Back-off doubles: 100 ms, then 200 ms.
    assert prop(berthd, path, "RestartDelayUSec") >= 200000


def test_on_failure_does_not_restart_success(busybox_image, berthd):
    path = create(berthd, busybox_image, f"onok-{uuid.uuid4().hex[:6]}", ["true"], {"RestartPolicy": "on-failure"})
    container(berthd, path, "Start")
    assert container(berthd, path, "Wait").stdout.strip() == "0"
    berthd.sh("sleep 0.5")
    assert prop(berthd, path, "RestartCount") == 0 and prop(berthd, path, "State") == "exited"


def test_always_restarts_until_stopped_and_comes_back_with_berthd(busybox_image, berthd):
    path = create(berthd, busybox_image, f"always-{uuid.uuid4().hex[:6]}", ["sh", "-c", "sleep 0.2"],
                  {"RestartPolicy": "always"})
    container(berthd, path, "Start")
    berthd.wait_until(lambda: prop(berthd, path, "RestartCount") >= 2, timeout=20, what="restarts")
    assert container(berthd, path, "Stop", 5).returncode == 0
    berthd.sh("sleep 1")
    assert prop(berthd, path, "State") == "exited"
    count = prop(berthd, path, "RestartCount")
    berthd.sh("sleep 0.5")
    assert prop(berthd, path, "RestartCount") == count
    # Like dockerd, berthd starting (as at boot) brings "always" containers back.
    berthd.systemctl("restart", "berthd.service", check=True)
    berthd.wait_until(lambda: prop(berthd, path, "State") in ("running", "restarting")
                      or prop(berthd, path, "RestartCount") > count, timeout=10, what="berthd to bring it back")
    container(berthd, path, "Remove", True)


def test_unless_stopped_stays_stopped_across_berthd_restart(busybox_image, berthd):
    path = create(berthd, busybox_image, f"unless-{uuid.uuid4().hex[:6]}", ["sleep", "300"],
                  {"RestartPolicy": "unless-stopped"})
    container(berthd, path, "Start")
    assert container(berthd, path, "Stop", 1).returncode == 0
    berthd.systemctl("restart", "berthd.service", check=True)
    berthd.sh("sleep 1")
    assert prop(berthd, path, "State") == "exited"
    assert prop(berthd, path, "RestartCount") == 0
    container(berthd, path, "Remove", True)


def test_always_container_that_died_while_berthd_was_down_is_restarted(busybox_image, berthd):
    path = create(berthd, busybox_image, f"down-{uuid.uuid4().hex[:6]}",
                  ["sh", "-c", "trap 'exit 1' USR1; while true; do sleep 0.1; done"], {"RestartPolicy": "always"})
    container(berthd, path, "Start")
    pid = prop(berthd, path, "Pid")
    berthd.systemctl("kill", "--signal=SIGKILL", "berthd.service", check=True)
    berthd.wait_until(lambda: berthd.systemctl("is-active", "berthd.service").stdout.strip() != "active",
                      what="berthd to die")
    berthd.sh(f"kill -USR1 {pid}", check=True)
    berthd.wait_until(lambda: berthd.sh(f"test -d /proc/{pid}").returncode != 0, what="the payload to exit")
    berthd.systemctl("start", "berthd.service", check=True)
    berthd.wait_until(lambda: prop(berthd, path, "State") == "running" and prop(berthd, path, "Pid") != pid,
                      timeout=10, what="the restart")
    container(berthd, path, "Remove", True)


def test_bad_restart_options(busybox_image, berthd):
    for options, needle in [({"RestartPolicy": "sometimes"}, "Invalid restart policy"),
                            ({"RestartPolicy": "always", "AutoRemove": True}, "cannot be combined"),
                            ({"RestartPolicy": "always", "RestartMaxRetries": {"@u": 3}}, "only to the on-failure")]:
        proc = manager(berthd, "CreateContainer", busybox_image, "", ["true"], [], options)
        assert "ERROR org.berth1.Error.InvalidArgument" in proc.stdout and needle in proc.stdout, proc
