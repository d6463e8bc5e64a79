# SPDX-License-Identifier: LGPL-2.1-or-later
"""The testbed itself: a real systemd as PID 1, a system bus, a journal, cgroup limits."""

import os
import re
import uuid

import pytest

from conftest import DRIVER


def token():
    return uuid.uuid4().hex[:16]


def test_pid1_is_systemd(bed):
    exe = bed.nsenter(["readlink", "/proc/1/exe"], check=True).stdout.strip()
    assert os.path.basename(exe) == "systemd", exe
    comm = bed.nsenter(["ps", "-p", "1", "-o", "comm="], check=True).stdout.strip()
    assert comm == "systemd"


def test_system_is_running(bed):
    proc = bed.systemctl("is-system-running")
    assert proc.stdout.strip() in ("running", "degraded"), proc


def test_system_bus_answers(bed):
    proc = bed.busctl("status", "org.freedesktop.DBus")
    assert proc.returncode == 0, proc
    proc = bed.busctl(
        "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId",
        check=True,
    )
    assert re.fullmatch(r's "[0-9a-f]{32}"', proc.stdout.strip()), proc.stdout
    names = bed.busctl("list", "--no-pager", "--no-legend", check=True).stdout.split()
    assert "org.freedesktop.systemd1" in names


def test_run_passes_stdio_and_exit_code(bed):
    proc = bed.sh("cat; echo to-stderr >&2; exit 3", input="to-stdin\n")
    assert proc.returncode == 3
    assert proc.stdout == "to-stdin\n"
    assert "to-stderr" in proc.stderr


def test_run_is_in_a_transient_scope(bed):
    cgroups = bed.run(["cat", "/proc/self/cgroup"], check=True).stdout
    unified = [line for line in cgroups.splitlines() if line.startswith(("0::", "1:name=systemd:"))]
    assert unified, cgroups
    for line in unified:
        assert re.search(r"/system\.slice/run-[^/]+\.scope$", line), cgroups
    if bed.mode == "ns":
        # Nothing run inside is left in the host's cgroups ("/.." from inside).
        assert "/.." not in cgroups, cgroups


def test_journal_sees_lines_from_inside(bed):
    tag = "berth-tb-" + token()
    msg = "hello from the testbed " + token()
    # The writer stays alive a moment: journald reads the sender's unit from /proc, which a
    # process that has already exited no longer has.
    bed.run(["systemd-cat", "-t", tag, "sh", "-c", f"echo '{msg}'; sleep 0.5"], check=True)
    entries = bed.journal_json(f"SYSLOG_IDENTIFIER={tag}")
    mine = [e for e in entries if e.get("MESSAGE") == msg]
    assert len(mine) == 1, entries
    assert re.fullmatch(r"run-.+\.scope", mine[0].get("_SYSTEMD_UNIT", "")), mine[0]
    assert mine[0].get("_TRANSPORT") == "stdout"

    # ... and through the syslog socket.
    msg2 = "logger line " + token()
    bed.run(["logger", "-t", tag, msg2], check=True)
    entries = bed.journal_json(f"SYSLOG_IDENTIFIER={tag}")
    assert [e for e in entries if e.get("MESSAGE") == msg2 and e.get("_TRANSPORT") == "syslog"]


def test_scope_memory_limit_lands_in_cgroup(bed):
    unit = f"berth-tb-mem-{token()}.scope"
    script = r"""
cg=$(systemctl show -P ControlGroup "$1")
echo "cg=$cg"
if [ -d /sys/fs/cgroup/memory ]; then
        echo "memory=$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")"
        echo "pids=$(cat "/sys/fs/cgroup/pids$cg/pids.max")"
elif ! grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
        # unified-only testbed of a hybrid host: the controllers are bound to the host's v1
        echo "memory=none"
        echo "pids=none"
else
        echo "memory=$(cat "/sys/fs/cgroup$cg/memory.max")"
        echo "pids=$(cat "/sys/fs/cgroup$cg/pids.max")"
fi
"""
    proc = bed.run(
        [
            "systemd-run", "--quiet", "--scope", "--collect", f"--unit={unit}",
            "-p", "MemoryMax=64M", "-p", "TasksMax=42",
            "sh", "-c", script, "sh", unit,
        ],
        check=True,
    )
    values = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    assert values["cg"].endswith("/" + unit), proc.stdout
    if values["memory"] == "none":
        assert os.environ.get("BERTH_TESTBED_CGROUP") == "unified", proc.stdout
        return
    assert values["memory"] == str(64 * 1024 * 1024), proc.stdout
    assert values["pids"] == "42", proc.stdout


def test_var_tmp_is_shared_and_tmp_is_private(bed):
    if bed.mode != "ns":
        pytest.skip("host mode: there is no inside and outside")
    name = "berth-tb-" + token()
    shared = os.path.join("/var/tmp", name)
    try:
        bed.sh(f"echo shared > {shared}; echo private > /tmp/{name}", check=True)
        with open(shared) as f:
            assert f.read() == "shared\n"
        assert not os.path.exists(f"/tmp/{name}")
    finally:
        if os.path.exists(shared):
            os.unlink(shared)


def test_var_lib_berth_is_the_testbeds_own(bed):
    if bed.mode != "ns":
        pytest.skip("host mode uses the host's /var/lib/berth")
    name = "probe-" + token()
    bed.sh(f"touch /var/lib/berth/{name}", check=True)
    if DRIVER == "btrfs":  # a btrfs of its own (BERTH_TESTBED_STORAGE=btrfs)
        assert bed.sh("stat -f -c %T /var/lib/berth", check=True).stdout.strip() == "btrfs"
    else:
        assert os.path.exists(os.path.join(bed.state_dir, "berth", name))
    assert not os.path.exists(f"/var/lib/berth/{name}")


def test_network_namespace_of_its_own(bed):
    """The testbed has a network namespace with only lo, up, and what berthd made there (berth0,
    br-*, vb*); pytest has joined it (conftest.py)."""
    if bed.mode != "ns":
        pytest.skip("host mode: the testbed is the host")
    inside = bed.nsenter(["readlink", "/proc/self/ns/net"], check=True).stdout.strip()
    assert os.readlink("/proc/self/ns/net") == inside
    import conftest
    assert conftest.HOST_NETNS_FD is not None
    assert os.readlink(f"/proc/self/fd/{conftest.HOST_NETNS_FD}") != inside, "the testbed shares the host's netns"
    def own(name):
        return not (name == "berth0" or name.startswith(("br-", "vb")))

    links = bed.nsenter(["ip", "-o", "link", "show"], check=True).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()]
    assert [n for n in names if own(n)] == ["lo"], links
    assert "UP" in bed.nsenter(["ip", "link", "show", "lo"], check=True).stdout
    assert [n for n in bed.nsenter(["ls", "/sys/class/net"], check=True).stdout.split() if own(n)] == ["lo"]
    # A server on the testbed's loopback answers pytest's own sockets.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = bed.run(["systemd-run", "--unit", f"tb-nc-{token()}", "--collect", "--", "busybox", "nc", "-l",
                   "-p", str(port), "-e", "echo", "hello"], check=False)
    if srv.returncode != 0:
        pytest.skip(f"no busybox nc: {srv.stderr}")
    got = bed.wait_until(lambda: _connect_read(port), timeout=10, what=f"a server on 127.0.0.1:{port}")
    assert got.strip() == b"hello"


def _connect_read(port):
    import socket
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(100) or None
    except OSError:
        return None
