# SPDX-License-Identifier: LGPL-2.1-or-later
"""Containers end to end: transient scopes, namespaces, limits, journald, lifecycle."""
import json
import re
import uuid

import pytest

from conftest import DRIVER, LAYERS


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def prop(bed, name, prop_name):
    obj = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                     check=True).stdout.split('"')[1]
    out = bed.busctl("--json=short", "get-property", "org.berth1", obj, "org.berth1.Container", prop_name,
                     check=True).stdout
    return json.loads(out)["data"]


def inspect(bed, name):
    return json.loads(bed.berthctl("inspect", name, check=True).stdout)[0]


def scope_units(bed):
    out = bed.systemctl("list-units", "--all", "--no-legend", "--plain", "berth-*.scope").stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def test_run_prints_output_and_exit_code(busybox_image, berthd):
    name = unique("hello")
    proc = berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert proc.returncode == 3, proc
    assert proc.stdout == "out\n"
    assert proc.stderr == "err\n"
    assert prop(berthd, name, "State") == "exited"
    assert prop(berthd, name, "ExitCode") == 3
    assert prop(berthd, name, "Pid") == 0


def test_journal_fields_of_stdout_and_stderr(busybox_image, berthd):
    name = unique("journal")
    berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c", "echo to-stdout; echo to-stderr >&2",
                    check=True)
    cid = prop(berthd, name, "Id")
    entries = berthd.journal_json(f"CONTAINER_NAME={name}")
    by_msg = {e["MESSAGE"]: e for e in entries}
    assert set(by_msg) == {"to-stdout", "to-stderr"}, entries
    out, err = by_msg["to-stdout"], by_msg["to-stderr"]
    assert out["PRIORITY"] == "6" and err["PRIORITY"] == "3"
    for e in (out, err):
        assert e["CONTAINER_ID"] == cid[:12]
        assert e["CONTAINER_ID_FULL"] == cid
        assert e["CONTAINER_NAME"] == name
        assert e["IMAGE_NAME"] == busybox_image
        assert e["SYSLOG_IDENTIFIER"] == name
        # Sent from inside the container's scope, so journald attributes it there.
        assert e["_SYSTEMD_UNIT"] == f"berth-{cid[:12]}.scope"
        assert e["_SYSTEMD_SLICE"] == "machine.slice"
        assert "CONTAINER_PARTIAL_MESSAGE" not in e
    # journalctl -u on the scope works too.
    assert "to-stdout" in berthd.run(["journalctl", "--no-pager", "-o", "cat", "-u",
                                       f"berth-{cid[:12]}.scope"]).stdout


def test_long_lines_are_split_with_partial_flag(busybox_image, berthd):
    name = unique("long")
    berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c",
                    "head -c 40000 /dev/zero | tr '\\0' x; echo; echo short", check=True)
    entries = berthd.journal_json(f"CONTAINER_NAME={name}")
    msgs = [(len(e["MESSAGE"]), e.get("CONTAINER_PARTIAL_MESSAGE")) for e in entries]
    assert msgs == [(16384, "true"), (16384, "true"), (40000 - 2 * 16384, None), (5, None)], msgs
    logs = berthd.berthctl("logs", name, check=True).stdout
    assert logs == "x" * 40000 + "\nshort\n"


def test_payload_is_pid1_in_its_own_namespaces(busybox_image, berthd):
    name = unique("ns")
    proc = berthd.berthctl("run", "--name", name, "--hostname", "box1", busybox_image, "sh", "-c",
                           "echo pid=$$; hostname; ls /proc | grep -c '^[0-9]'; ip link 2>/dev/null | grep -c '^[0-9]'; "
                           "cat /proc/self/status | grep ^CapBnd", check=True)
    lines = proc.stdout.splitlines()
    assert lines[0] == "pid=1"
    assert lines[1] == "box1"
    assert int(lines[2]) <= 3  # sh, ls, grep: nothing of the host's processes
    assert lines[3] == "2"  # lo and eth0 (the default bridge)
    # Docker's default capability set, nothing more: 0x00000000a80425fb
    assert lines[4].split()[1] == "00000000a80425fb"
    # Default hostname is the 12-hex id.
    name2 = unique("ns")
    out = berthd.berthctl("run", "--name", name2, busybox_image, "hostname", check=True).stdout.strip()
    assert out == prop(berthd, name2, "Id")[:12]


def test_rootfs_is_isolated_and_writable(busybox_image, berthd):
    name = unique("fs")
    proc = berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c",
                           "echo data > /written && cat /written && ls /dev && "
                           "cat /proc/self/mountinfo | awk '{print $5}' | sort | tr '\\n' ' ' && "
                           "(echo x > /sys/x 2>/dev/null && echo sys-writable || echo sys-readonly)",
                           check=True)
    out = proc.stdout
    assert out.startswith("data\n")
    for node in ["null", "zero", "full", "random", "urandom", "tty", "pts", "shm"]:
        assert re.search(rf"\b{node}\b", out), (node, out)
    assert "sys-readonly" in out
    # The write landed in the container's own layer, not in the image.
    cid = prop(berthd, name, "Id")
    own = "upper" if DRIVER == "overlay" else "rootfs"
    berthd.sh(f"test -f /var/lib/berth/containers/{cid}/{own}/written", check=True)
    berthd.sh(f"for d in {LAYERS}/*/diff; do test ! -e $d/written; done", check=True)


def test_limits_are_scope_properties_and_enforced(busybox_image, berthd):
    name = unique("limits")
    berthd.berthctl("run", "-d", "--name", name, "-m", "64m", "--pids-limit", "50", "--cpus", "0.5",
                    busybox_image, "sleep", "300", check=True)
    try:
        unit = prop(berthd, name, "Unit")
        assert unit == f"berth-{prop(berthd, name, 'Id')[:12]}.scope"
        show = berthd.systemctl("show", unit, "-p", "MemoryMax", "-p", "TasksMax", "-p", "CPUQuotaPerSecUSec",
                                "-p", "Slice", "-p", "ControlGroup", "-p", "ActiveState", check=True).stdout
        props = dict(line.split("=", 1) for line in show.splitlines())
        assert props["MemoryMax"] == str(64 * 1024 * 1024)
        assert props["TasksMax"] == "50"
        assert props["CPUQuotaPerSecUSec"] == "500ms"
        assert props["Slice"] == "machine.slice"
        assert props["ActiveState"] == "active"
        cg = props["ControlGroup"]
        # Hybrid hosts enforce through v1 controllers, unified ones through cgroup v2 files.
        assert berthd.controller_file("memory", cg, "memory.limit_in_bytes", "memory.max") in (
            str(64 * 1024 * 1024), None)
        assert berthd.controller_file("pids", cg, "pids.max", "pids.max") in ("50", None)
        # The payload's PID is in that scope, and no other process of berth is outside it.
        pid = prop(berthd, name, "Pid")
        assert pid > 0
        assert unit in berthd.sh(f"cat /proc/{pid}/cgroup", check=True).stdout
    finally:
        berthd.berthctl("rm", "-f", name)


def test_stop_sigterm_then_sigkill(busybox_image, berthd):
    # sleep as PID 1 has no SIGTERM handler, so the kernel drops SIGTERM: SIGKILL after the timeout.
    name = unique("stop")
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sleep", "300", check=True)
    assert prop(berthd, name, "State") == "running"
    berthd.berthctl("stop", "-t", "1", name, check=True)
    assert prop(berthd, name, "State") == "exited"
    assert prop(berthd, name, "ExitCode") == 137
    assert scope_units(berthd) == [] or f"berth-{prop(berthd, name, 'Id')[:12]}.scope" not in scope_units(berthd)
    # A payload that handles SIGTERM exits by itself with its own code.
    name2 = unique("stop")
    berthd.berthctl("run", "-d", "--name", name2, busybox_image, "sh", "-c",
                    "trap 'exit 42' TERM; while true; do sleep 0.1; done", check=True)
    berthd.berthctl("stop", "-t", "30", name2, check=True, timeout=20)
    assert prop(berthd, name2, "ExitCode") == 42


def test_kill_and_wait(busybox_image, berthd):
    name = unique("kill")
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sh", "-c",
                    "trap 'exit 9' USR1; while true; do sleep 0.1; done", check=True)
    berthd.berthctl("kill", "-s", "USR1", name, check=True)
    assert berthd.berthctl("wait", name, check=True).stdout.strip() == "9"
    proc = berthd.berthctl("kill", name)
    assert proc.returncode == 125 and "not running" in proc.stderr


def test_start_again_and_timestamps(busybox_image, berthd):
    name = unique("again")
    berthd.berthctl("create", "--name", name, busybox_image, "sh", "-c", "echo run", check=True)
    assert prop(berthd, name, "State") == "created"
    assert prop(berthd, name, "StartedAt") == 0
    berthd.berthctl("start", name, check=True)
    assert berthd.berthctl("wait", name, check=True).stdout.strip() == "0"
    first = prop(berthd, name, "StartedAt")
    assert prop(berthd, name, "FinishedAt") >= first > 0
    berthd.berthctl("start", name, check=True)
    berthd.berthctl("wait", name, check=True)
    assert prop(berthd, name, "StartedAt") > first
    assert berthd.berthctl("logs", name, check=True).stdout == "run\nrun\n"
    assert berthd.berthctl("logs", "--tail", "1", name, check=True).stdout == "run\n"


def test_failed_exec_leaves_nothing_running(busybox_image, berthd):
    name = unique("noexec")
    proc = berthd.berthctl("run", "--name", name, busybox_image, "/no/such/binary")
    assert proc.returncode == 127, proc
    assert "/no/such/binary" in proc.stderr
    assert prop(berthd, name, "State") == "created"
    assert "/no/such/binary" in prop(berthd, name, "Error")
    cid = prop(berthd, name, "Id")
    assert f"berth-{cid[:12]}.scope" not in scope_units(berthd)
    berthd.sh(f"test ! -e /run/berth/containers/{cid}", check=True)
    # The same container starts fine once it can (here: it cannot; still a clean error again).
    proc = berthd.berthctl("start", name)
    assert proc.returncode == 125 and "executable file not found" not in proc.stdout


def test_run_rm_removes_the_container(busybox_image, berthd):
    name = unique("rm")
    proc = berthd.berthctl("run", "--rm", "--name", name, busybox_image, "sh", "-c", "exit 5")
    assert proc.returncode == 5
    berthd.wait_until(lambda: berthd.berthctl("inspect", name).returncode != 0, what="auto-removal")
    assert name not in berthd.berthctl("ps", "-a", check=True).stdout


def test_rm_refuses_running_unless_forced(busybox_image, berthd):
    name = unique("rmrun")
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sleep", "300", check=True)
    cid = prop(berthd, name, "Id")
    proc = berthd.berthctl("rm", name)
    assert proc.returncode == 125 and "running" in proc.stderr
    assert prop(berthd, name, "State") == "running"
    berthd.berthctl("rm", "-f", name, check=True)
    assert berthd.berthctl("inspect", name).returncode != 0
    berthd.sh(f"test ! -e /var/lib/berth/containers/{cid} && test ! -e /run/berth/containers/{cid}", check=True)
    assert f"berth-{cid[:12]}.scope" not in scope_units(berthd)


def test_ps_and_inspect(busybox_image, berthd):
    name = unique("ps")
    berthd.berthctl("run", "-d", "--name", name, "-e", "FOO=bar", busybox_image, "sleep", "300", check=True)
    try:
        ps = berthd.berthctl("ps", check=True).stdout
        assert name in ps and "Up" in ps
        data = inspect(berthd, name)
        assert data["Name"] == "/" + name
        assert data["State"]["Status"] == "running" and data["State"]["Running"] is True
        assert data["State"]["Pid"] == prop(berthd, name, "Pid")
        assert "FOO=bar" in data["Config"]["Env"]
        assert data["Config"]["Cmd"] == ["sleep", "300"]
    finally:
        berthd.berthctl("rm", "-f", name, check=True)
    assert name not in berthd.berthctl("ps", "-a", check=True).stdout


def test_env_reaches_the_payload(busybox_image, berthd):
    proc = berthd.berthctl("run", "--rm", "-e", "FOO=bar baz", "-e", "PATH=/bin", busybox_image, "sh", "-c",
                           "echo \"$FOO|$PATH|$HOME|$HOSTNAME\"", check=True)
    foo, path, home, hostname = proc.stdout.strip().split("|")
    assert (foo, path, home) == ("bar baz", "/bin", "/root")
    assert len(hostname) == 12


def test_no_leaked_fds_in_payload(busybox_image, berthd):
    out = berthd.berthctl("run", "--rm", busybox_image, "ls", "/proc/self/fd", check=True).stdout.split()
    # ls itself opens one directory fd (3) to list.
    assert sorted(out) in (["0", "1", "2"], ["0", "1", "2", "3"]), out
