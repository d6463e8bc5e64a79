# SPDX-License-Identifier: LGPL-2.1-or-later
"""run/create resource options: --shm-size, --ulimit, --memory-swap, --cpu-shares/--cpu-weight,
--device, --stop-timeout, and OOMKilled."""
import json
import os
import time
import uuid

BUS_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_call.py")


def inspect(bed, name):
    return json.loads(bed.berthctl("inspect", name, check=True).stdout)[0]


def unit_prop(bed, name, p):
    unit = inspect(bed, name)["Berth"]["Unit"]
    return bed.systemctl("show", "-P", p, unit, check=True).stdout.strip()


def n_containers(bed):
    return len(bed.berthctl("ps", "-aq", check=True).stdout.split())


def create_raw(bed, options):
    """CreateContainer with typed a{sv} options; returns bus_call.py's output."""
    return bed.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "CreateContainer",
                    json.dumps(["busybox:latest", "", ["true"], [], options])]).stdout


def test_shm_size(busybox_image, berthd):
    df = "df -k /dev/shm | tail -1"
    out = berthd.berthctl("run", "--rm", busybox_image, "sh", "-c", df, check=True).stdout.split()
    assert out[1] == "65536"  # Docker's default, 64m
    name = f"shm-{uuid.uuid4().hex[:6]}"
    out = berthd.berthctl("run", "--name", name, "--shm-size", "128m", busybox_image, "sh", "-c", df,
                          check=True).stdout.split()
    try:
        assert out[1] == "131072"
        assert inspect(berthd, name)["HostConfig"]["ShmSize"] == 128 << 20
        berthd.systemctl("restart", "berthd.service", check=True)
        assert inspect(berthd, name)["HostConfig"]["ShmSize"] == 128 << 20  # persisted
    finally:
        berthd.berthctl("rm", "-f", name)
    before = n_containers(berthd)
    assert berthd.berthctl("create", "--shm-size", "lots", busybox_image).returncode == 125
    assert "ERROR org.berth1.Error.InvalidArgument" in create_raw(berthd, {"ShmSize": {"@t": 0}})
    assert n_containers(berthd) == before


def test_ulimit(busybox_image, berthd):
    out = berthd.berthctl("run", "--rm", "--ulimit", "nofile=512:2048", "--ulimit", "core=-1", "--ulimit", "nproc=100",
                          busybox_image, "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c; ulimit -u; ulimit -Hu",
                          check=True).stdout.split()
    assert out == ["512", "2048", "unlimited", "100", "100"]
    name = f"ulimit-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "--ulimit", "nofile=512:2048", "--ulimit", "core=-1",
                    busybox_image, "sleep", "300", check=True)
    try:
        ulimits = {u["Name"]: (u["Soft"], u["Hard"]) for u in inspect(berthd, name)["HostConfig"]["Ulimits"]}
        assert ulimits == {"nofile": (512, 2048), "core": (-1, -1)}
        # exec'd processes get them too, as in Docker.
        assert berthd.berthctl("exec", name, "sh", "-c", "ulimit -n; ulimit -c",
                               check=True).stdout.split() == ["512", "unlimited"]
    finally:
        berthd.berthctl("rm", "-f", name)
    before = n_containers(berthd)
    proc = berthd.berthctl("create", "--ulimit", "bogus=1", busybox_image)
    assert proc.returncode == 125 and 'Unknown ulimit "bogus"' in proc.stderr
    proc = berthd.berthctl("create", "--ulimit", "nofile=10:5", busybox_image)
    assert proc.returncode == 125 and "soft limit" in proc.stderr
    assert berthd.berthctl("create", "--ulimit", "nofile", busybox_image).returncode == 125
    assert n_containers(berthd) == before


def test_memory_swap_and_cpu_weight(busybox_image, berthd):
    name = f"swap-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "-m", "64m", "--memory-swap", "100m", "--cpu-shares", "1024",
                    busybox_image, "sleep", "300", check=True)
    try:
        # Checked on the unit: on hybrid hosts systemd keeps MemorySwapMax but has no v2 memory
        # controller to apply it to.
        assert unit_prop(berthd, name, "MemorySwapMax") == str(36 << 20)
        assert unit_prop(berthd, name, "CPUWeight") == "39"  # crun's conversion of 1024 shares
        host = inspect(berthd, name)["HostConfig"]
        assert host["MemorySwap"] == 100 << 20 and host["CpuShares"] == 1024 and host["CpuWeight"] == 39
        berthd.berthctl("update", "--memory-swap", "200m", "--cpu-weight", "500", name, check=True)
        assert unit_prop(berthd, name, "MemorySwapMax") == str(136 << 20)
        assert unit_prop(berthd, name, "CPUWeight") == "500"
        cg = unit_prop(berthd, name, "ControlGroup")
        shares = berthd.controller_file("cpu", cg, "cpu.shares", "cpu.weight")
        assert shares in ("5120", "500", None)  # v1 cpu.shares as systemd converts the weight, or v2 cpu.weight
        host = inspect(berthd, name)["HostConfig"]
        assert host["MemorySwap"] == 200 << 20 and host["CpuShares"] == 0 and host["CpuWeight"] == 500
        berthd.systemctl("restart", "berthd.service", check=True)
        assert inspect(berthd, name)["HostConfig"]["CpuWeight"] == 500
        proc = berthd.berthctl("update", "--cpu-weight", "0", name)
        assert proc.returncode == 125 and "CPUWeight must be between 1 and 10000" in proc.stderr
    finally:
        berthd.berthctl("rm", "-f", name)
    name = f"swap-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, "-m", "64m", "--memory-swap", "-1", "--cpu-weight", "7",
                    busybox_image, "true", check=True)
    try:
        host = inspect(berthd, name)["HostConfig"]
        assert host["MemorySwap"] == -1 and host["CpuWeight"] == 7 and host["CpuShares"] == 0
    finally:
        berthd.berthctl("rm", "-f", name)
    before = n_containers(berthd)
    proc = berthd.berthctl("create", "--memory-swap", "100m", busybox_image)
    assert proc.returncode == 125 and "memory limit" in proc.stderr
    proc = berthd.berthctl("create", "-m", "64m", "--memory-swap", "32m", busybox_image)
    assert proc.returncode == 125
    proc = berthd.berthctl("create", "--cpu-shares", "1", busybox_image)
    assert proc.returncode == 125 and "CPUShares must be between 2 and 262144" in proc.stderr
    assert "ERROR org.berth1.Error.InvalidArgument" in create_raw(berthd, {"CPUWeight": {"@t": 10001}})
    assert n_containers(berthd) == before


def test_device(busybox_image, berthd):
    out = berthd.berthctl("run", "--rm", "--device", "/dev/null:/dev/mynull", busybox_image, "sh", "-c",
                          "stat -c '%t:%T %a' /dev/mynull; echo hi > /dev/mynull && echo written; "
                          "(mknod /dev/t c 10 200 && : > /dev/t) 2>&1 || echo blocked",
                          check=True).stdout.splitlines()
    assert out[0] == "1:3 666" and out[1] == "written"
    assert out[-1] == "blocked" and "Operation not permitted" in out[-2]  # not listed: stays closed
    # Listed with r only: readable, not writable (the devices controller enforces it).
    out = berthd.berthctl("run", "--rm", "--device", "/dev/net/tun:/dev/tun:r", busybox_image, "sh", "-c",
                          "(: < /dev/tun) && echo read; (: > /dev/tun) 2>/dev/null || echo no-write",
                          check=True).stdout.split()
    assert out == ["read", "no-write"]
    name = f"dev-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, "--device", "/dev/net/tun", busybox_image, "true", check=True)
    try:
        assert inspect(berthd, name)["HostConfig"]["Devices"] == [
            {"PathOnHost": "/dev/net/tun", "PathInContainer": "/dev/net/tun", "CgroupPermissions": "rwm"}]
    finally:
        berthd.berthctl("rm", "-f", name)
    before = n_containers(berthd)
    proc = berthd.berthctl("create", "--device", "/dev/nonexistent", busybox_image)
    assert proc.returncode == 125 and "no such device" in proc.stderr
    proc = berthd.berthctl("create", "--device", "/etc/passwd:/dev/passwd", busybox_image)
    assert proc.returncode == 125 and "not a device" in proc.stderr
    proc = berthd.berthctl("create", "--device", "/dev/null:/etc/null", busybox_image)
    assert proc.returncode == 125 and "under /dev" in proc.stderr
    assert berthd.berthctl("create", "--device", "/dev/null:/dev/n:rwx", busybox_image).returncode == 125
    # berthd (root) stats host paths only for callers polkit allows privileged options: nobody else
    # learns what exists (the authorization comes before the device is looked at).
    for path in ("/root/nonexistent", "/etc/shadow"):
        proc = berthd.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "busctl", "call",
                           "org.berth1", "/org/berth1", "org.berth1.Manager", "CreateContainer", "ssasasa{sv}",
                           busybox_image, "", "1", "true", "0", "1", "Devices", "a(sss)", "1", path, "/dev/x", ""])
        assert proc.returncode != 0 and "org.berth1.privileged" in proc.stderr, proc.stderr
        assert "no such" not in proc.stderr and "not a device" not in proc.stderr
    assert n_containers(berthd) == before


def test_stop_timeout(busybox_image, berthd):
    name = f"stopt-{uuid.uuid4().hex[:6]}"
    # sleep as PID 1 ignores SIGTERM: stop waits the whole timeout, then SIGKILLs.
    berthd.berthctl("run", "-d", "--name", name, "--stop-timeout", "1", busybox_image, "sleep", "300", check=True)
    try:
        assert inspect(berthd, name)["Config"]["StopTimeout"] == 1
        assert unit_prop(berthd, name, "TimeoutStopUSec") == "1s"
        start = time.monotonic()
        berthd.berthctl("stop", name, check=True)
        assert time.monotonic() - start < 8  # not the default 10 s
        assert inspect(berthd, name)["State"]["ExitCode"] == 137
        berthd.berthctl("start", name, check=True)
        start = time.monotonic()
        berthd.berthctl("restart", name, check=True)
        assert time.monotonic() - start < 8
        start = time.monotonic()
        berthd.berthctl("stop", "-t", "3", name, check=True)  # -t still wins
        assert time.monotonic() - start >= 2.5
    finally:
        berthd.berthctl("rm", "-f", name)
    assert "StopTimeout" not in inspect_created(berthd, busybox_image)["Config"]
    assert berthd.berthctl("create", "--stop-timeout", "x", busybox_image).returncode == 125
    assert "ERROR org.berth1.Error.InvalidArgument" in create_raw(berthd, {"StopTimeout": {"@u": 100000}})


def inspect_created(bed, image):
    name = f"plain-{uuid.uuid4().hex[:6]}"
    bed.berthctl("create", "--name", name, image, "true", check=True)
    try:
        return inspect(bed, name)
    finally:
        bed.berthctl("rm", "-f", name)


def test_oom_killed(busybox_image, berthd):
    name = f"oom-{uuid.uuid4().hex[:6]}"
    # Without a memory controller (a unified-only testbed on a hybrid host) -m is accepted but not
    # enforced, and the memory hog below would take the machine's memory: there is no OOM to see.
    assert berthd.has_controller("memory") or os.environ.get("BERTH_TESTBED_CGROUP") == "unified"
    if not berthd.has_controller("memory"):
        return
    # tail keeps every line of /dev/zero (there is no newline): it grows until the OOM killer
    # ends it. The second run finds the marker and exits normally: OOMKilled is reset.
    script = "test -e /marker && exit 0; touch /marker; tail /dev/zero"
    proc = berthd.berthctl("run", "--name", name, "-m", "32m", busybox_image, "sh", "-c", script, timeout=120)
    try:
        assert proc.returncode == 137, proc.stderr
        state = inspect(berthd, name)["State"]
        assert state["OOMKilled"] is True and state["ExitCode"] == 137
        path = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                             check=True).stdout.split('"')[1]
        prop = berthd.busctl("get-property", "org.berth1", path, "org.berth1.Container", "OOMKilled",
                             check=True).stdout.strip()
        assert prop == "b true"
        berthd.systemctl("restart", "berthd.service", check=True)
        assert inspect(berthd, name)["State"]["OOMKilled"] is True  # persisted
        berthd.berthctl("start", name, check=True)
        assert berthd.berthctl("wait", name, check=True).stdout.strip() == "0"
        state = inspect(berthd, name)["State"]
        assert state["OOMKilled"] is False and state["ExitCode"] == 0
    finally:
        berthd.berthctl("rm", "-f", name)
    # A container killed by a signal, not by the OOM killer: 137 but OOMKilled false.
    name = f"oom-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "-m", "32m", busybox_image, "sleep", "300", check=True)
    try:
        berthd.berthctl("kill", name, check=True)
        assert berthd.berthctl("wait", name, check=True).stdout.strip() == "137"
        assert inspect(berthd, name)["State"]["OOMKilled"] is False
    finally:
        berthd.berthctl("rm", "-f", name)
