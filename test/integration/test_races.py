# SPDX-License-Identifier: LGPL-2.1-or-later
"""Regression tests for races found in review: calls that cross each other must all be answered,
and berthd must never touch a container that is gone."""
import json
import os
import subprocess
import time
import uuid

import pytest

from conftest import TESTBED_SH

BUS_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_call.py")


def create(bed, image, command, options=None):
    proc = bed.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "CreateContainer",
                    json.dumps([image, f"race-{uuid.uuid4().hex[:6]}", command, [], options or {}])])
    assert proc.returncode == 0, proc
    return json.loads(proc.stdout)


def call(bed, path, *args, timeout=10):
    return bed.nsenter(["busctl", f"--timeout={timeout}", "call", "org.berth1", path, "org.berth1.Container", *args])


def call_in_background(bed, path, out, *args, timeout=10):
    cmd = " ".join(["busctl", f"--timeout={timeout}", "call", "org.berth1", path, "org.berth1.Container", *args])
    # The subshell must not hold our stdout/stderr pipes, or this would wait for it to finish.
    bed.nsenter(["sh", "-c", f"({cmd} >{out} 2>&1; echo rc=$? >>{out}) </dev/null >/dev/null 2>&1 &"])


def wait_for_file_line(bed, out, needle="rc=", timeout=15):
    return bed.wait_until(lambda: needle in bed.nsenter(["cat", out]).stdout and bed.nsenter(["cat", out]).stdout,
                          timeout=timeout, what=f"the background call to finish ({out})")


def prop(bed, path, name):
    out = bed.busctl("--json=short", "get-property", "org.berth1", path, "org.berth1.Container", name,
                     check=True).stdout
    return json.loads(out)["data"]


def test_restart_then_force_remove_answers_restart(busybox_image, berthd):
    path = create(berthd, busybox_image, ["sleep", "1000"])
    assert call(berthd, path, "Start").returncode == 0
    out = f"/var/tmp/race-{uuid.uuid4().hex[:6]}.out"
    call_in_background(berthd, path, out, "Restart", "u", "30")
    time.sleep(0.5)
    assert call(berthd, path, "Remove", "b", "true").returncode == 0
    result = wait_for_file_line(berthd, out)
    assert "rc=1" in result and "removed" in result, result
    berthd.nsenter(["rm", "-f", out])


def test_stop_during_restart_wins(busybox_image, berthd):
    path = create(berthd, busybox_image, ["sleep", "1000"])
    assert call(berthd, path, "Start").returncode == 0
    out = f"/var/tmp/race-{uuid.uuid4().hex[:6]}.out"
    call_in_background(berthd, path, out, "Restart", "u", "30")
    time.sleep(0.5)
    stop = call(berthd, path, "Stop", "u", "0")
    assert stop.returncode == 0, stop
    assert prop(berthd, path, "State") == "exited"
    result = wait_for_file_line(berthd, out)
    assert "cancelled by a stop" in result, result
    berthd.nsenter(["rm", "-f", out])
    call(berthd, path, "Remove", "b", "true")


def test_quick_restarts_never_trip_over_the_old_scope(busybox_image, berthd):
    path = create(berthd, busybox_image, ["sleep", "1000"])
    assert call(berthd, path, "Start").returncode == 0
    failures = [r.stderr for r in (call(berthd, path, "Restart", "u", "0") for _ in range(20)) if r.returncode]
    call(berthd, path, "Remove", "b", "true")
    assert failures == []


def test_pause_answer_after_the_container_is_gone(busybox_image, berthd, bed):
    if bed.mode != "ns":
        pytest.skip("needs to freeze the testbed's systemd, which only exists in namespace mode")
    path = create(berthd, busybox_image, ["sleep", "1000"])
    assert call(berthd, path, "Start").returncode == 0
    init = int(subprocess.run([str(TESTBED_SH), "pid", bed.state_dir], capture_output=True, text=True,
                              check=True).stdout.strip())
    berthd_pid = berthd.systemctl("show", "-P", "MainPID", "berthd.service", check=True).stdout.strip()
    out = f"/var/tmp/race-{uuid.uuid4().hex[:6]}.out"
    os.kill(init, 19)  # SIGSTOP systemd: its answer to FreezeUnit is held back
    try:
        call_in_background(berthd, path, out, "Pause", timeout=20)
        time.sleep(0.5)
        removed = call(berthd, path, "Remove", "b", "true")
    finally:
        os.kill(init, 18)  # SIGCONT
    assert removed.returncode == 0, removed
    result = wait_for_file_line(berthd, out, timeout=25)
    assert "rc=1" in result, result
    assert berthd.systemctl("show", "-P", "MainPID", "berthd.service", check=True).stdout.strip() == berthd_pid
    berthd.nsenter(["rm", "-f", out])
