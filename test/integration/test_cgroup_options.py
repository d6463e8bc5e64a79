# SPDX-License-Identifier: LGPL-2.1-or-later
"""run/create flags that map onto the scope's unit properties or the container's processes:
--cpuset-cpus/--cpuset-mems, --cpu-period/--cpu-quota, -c, --memory-reservation, --oom-score-adj,
--blkio-weight, the per-device I/O limits, --cgroup-parent, and the flags discarded with Docker's
warning. Each row: the flags, what the scope's properties say (systemctl show), what inspect's
HostConfig says, and, where the testbed's cgroup layout enforces it, what the container sees."""
import json
import uuid

import pytest


def inspect(bed, name):
    return json.loads(bed.berthctl("inspect", name, check=True).stdout)[0]


def unit_props(bed, name, props):
    unit = inspect(bed, name)["Berth"]["Unit"]
    out = bed.systemctl("show", unit, *[f"-p{p}" for p in props], check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def n_containers(bed):
    return len(bed.berthctl("ps", "-aq", check=True).stdout.split())


def unified_controller(bed, controller):
    """Whether systemd applies this controller's unit properties here: the unified hierarchy at
    /sys/fs/cgroup with the controller enabled (AllowedCPUs=, MemoryLow= have no v1 form)."""
    return bed.sh(f"grep -qw {controller} /sys/fs/cgroup/cgroup.controllers").returncode == 0


def a_block_device(bed):
    out = bed.sh("for d in /dev/vda /dev/sda /dev/loop0 /dev/loop1; do [ -b $d ] && echo $d && break; done").stdout
    return out.strip() or None


# (flags, unit properties, HostConfig fields, (command in the container, its output, the controller
# that must be enforced for it, or None when it holds everywhere)).
ROWS = [
    (["--cpuset-cpus", "0", "--cpuset-mems", "0"],
     {"AllowedCPUs": "0", "AllowedMemoryNodes": "0"},
     {"CpusetCpus": "0", "CpusetMems": "0"},
     ("grep Cpus_allowed_list /proc/self/status | cut -f2", "0", "cpuset")),
    (["--cpu-period", "50000", "--cpu-quota", "25000"],
     {"CPUQuotaPeriodUSec": "50ms", "CPUQuotaPerSecUSec": "500ms"},
     {"CpuPeriod": 50000, "CpuQuota": 25000, "NanoCpus": 0},
     None),
    (["--cpu-quota", "150000"],
     {"CPUQuotaPeriodUSec": "100ms", "CPUQuotaPerSecUSec": "1.500000s"},
     {"CpuPeriod": 100000, "CpuQuota": 150000, "NanoCpus": 0},
     None),
    (["--cpus", "0.5"],
     {"CPUQuotaPerSecUSec": "500ms"},
     {"NanoCpus": 500000000, "CpuPeriod": 0, "CpuQuota": 0},
     None),
    (["-c", "512"],
     {"CPUWeight": "20"},  # 1 + (512 - 2) * 9999 / 262142, as crun and podman convert it
     {"CpuShares": 512},
     None),
    (["-m", "128m", "--memory-reservation", "64m"],
     {"MemoryLow": str(64 << 20), "MemoryMax": str(128 << 20)},
     {"MemoryReservation": 64 << 20, "Memory": 128 << 20},
     None),
    (["--oom-score-adj", "500"],
     {},
     {"OomScoreAdj": 500},
     ("cat /proc/self/oom_score_adj", "500", None)),
    ([],
     {"Slice": "machine.slice"},
     {"OomScoreAdj": 0, "CgroupParent": "", "BlkioWeight": 0, "CpusetCpus": "", "MemoryReservation": 0,
      "MemorySwappiness": None, "OomKillDisable": None, "BlkioDeviceReadBps": []},
     ("cat /proc/self/oom_score_adj", "0", None)),
    (["--blkio-weight", "500"],
     {"IOWeight": "4950"},  # 1 + (500 - 10) * 9999 / 990, as runc and crun convert it
     {"BlkioWeight": 500},
     None),
    (["--cgroup-parent", "berthtest.slice"],
     {"Slice": "berthtest.slice"},
     {"CgroupParent": "berthtest.slice"},
     None),
    (["--memory-swappiness", "10", "--kernel-memory", "50m", "--oom-kill-disable"],
     {},
     {"MemorySwappiness": None, "OomKillDisable": None},
     None),
]


@pytest.mark.parametrize("flags,props,host,inside", ROWS, ids=[" ".join(r[0]) or "defaults" for r in ROWS])
def test_flag_effect(busybox_image, berthd, flags, props, host, inside):
    name = f"cg-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, *flags, busybox_image, "sleep", "300", check=True)
    try:
        got = unit_props(berthd, name, list(props) + ["ControlGroup"])
        for p, want in props.items():
            assert got[p] == want, p
        if "Slice" in props:
            assert got["ControlGroup"].startswith(f"/{props['Slice']}/")
        hc = inspect(berthd, name)["HostConfig"]
        for f, want in host.items():
            assert hc[f] == want, f
        if inside:
            command, want, controller = inside
            if controller is None or unified_controller(berthd, controller):
                assert berthd.berthctl("exec", name, "sh", "-c", command, check=True).stdout.strip() == want
                if "oom_score_adj" in command:  # the payload's too, not only exec'd processes'
                    assert berthd.berthctl("exec", name, "cat", "/proc/1/oom_score_adj",
                                           check=True).stdout.strip() == want
        berthd.systemctl("restart", "berthd.service", check=True)
        hc = inspect(berthd, name)["HostConfig"]  # persisted in the record
        for f, want in host.items():
            assert hc[f] == want, f
    finally:
        berthd.berthctl("rm", "-f", name)


def test_oom_score_adj_lowered(busybox_image, berthd):
    """Lowering it needs CAP_SYS_RESOURCE on the host, which some sandboxes drop: the start then fails
    with the reason, as Docker's does."""
    cap_eff = int(berthd.sh("sed -n 's/^CapEff:\\t//p' /proc/self/status", check=True).stdout, 16)
    proc = berthd.berthctl("run", "--rm", "--oom-score-adj", "-400", busybox_image, "cat", "/proc/self/oom_score_adj")
    if cap_eff & (1 << 24):  # CAP_SYS_RESOURCE
        assert proc.returncode == 0 and proc.stdout.strip() == "-400"
    else:
        assert proc.returncode == 125
        assert "Failed to set the OOM score adjustment to -400: Permission denied." in proc.stderr


def test_oom_score_adj_userns(busybox_image, berthd):
    """In a user namespace of its own the container's process inherits it from the supervisor."""
    out = berthd.berthctl("run", "--rm", "--userns=auto", "--oom-score-adj", "300", busybox_image, "cat",
                          "/proc/self/oom_score_adj", check=True).stdout.strip()
    assert out == "300"


def test_cpu_quota_enforced(busybox_image, berthd):
    name = f"cg-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "--cpu-period", "50000", "--cpu-quota", "25000", busybox_image,
                    "sleep", "300", check=True)
    try:
        cg = unit_props(berthd, name, ["ControlGroup"])["ControlGroup"]
        period = berthd.controller_file("cpu", cg, "cpu.cfs_period_us", "cpu.max")
        assert period in ("50000", "25000 50000", None)
    finally:
        berthd.berthctl("rm", "-f", name)


def test_io_device_limits(busybox_image, berthd):
    dev = a_block_device(berthd)
    if dev is None:
        pytest.skip("no block device in the testbed")
    name = f"cg-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "--device-read-bps", f"{dev}:1mb", "--device-write-bps",
                    f"{dev}:2mb", "--device-read-iops", f"{dev}:100", "--device-write-iops", f"{dev}:200",
                    "--blkio-weight-device", f"{dev}:300", busybox_image, "sleep", "300", check=True)
    try:
        got = unit_props(berthd, name, ["IOReadBandwidthMax", "IOWriteBandwidthMax", "IOReadIOPSMax",
                                        "IOWriteIOPSMax", "IODeviceWeight"])
        assert got["IOReadBandwidthMax"] == f"{dev} {1 << 20}"
        assert got["IOWriteBandwidthMax"] == f"{dev} {2 << 20}"
        assert got["IOReadIOPSMax"] == f"{dev} 100"
        assert got["IOWriteIOPSMax"] == f"{dev} 200"
        assert got["IODeviceWeight"] == f"{dev} 2930"  # 1 + (300 - 10) * 9999 / 990
        hc = inspect(berthd, name)["HostConfig"]
        assert hc["BlkioDeviceReadBps"] == [{"Path": dev, "Rate": 1 << 20}]
        assert hc["BlkioDeviceWriteBps"] == [{"Path": dev, "Rate": 2 << 20}]
        assert hc["BlkioDeviceReadIOps"] == [{"Path": dev, "Rate": 100}]
        assert hc["BlkioDeviceWriteIOps"] == [{"Path": dev, "Rate": 200}]
        assert hc["BlkioWeightDevice"] == [{"Path": dev, "Weight": 300}]
        berthd.systemctl("restart", "berthd.service", check=True)
        assert inspect(berthd, name)["HostConfig"]["BlkioDeviceReadIOps"] == [{"Path": dev, "Rate": 100}]
    finally:
        berthd.berthctl("rm", "-f", name)


# (flags, Docker's words in berthctl's error); nothing is created.
REFUSED = [
    (["--cpus", "1", "--cpu-period", "50000"], "Conflicting options: Nano CPUs and CPU Period cannot both be set"),
    (["--cpus", "1", "--cpu-quota", "50000"], "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
    (["--cpu-period", "999"],
     "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
    (["--cpu-period", "1000001"],
     "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
    (["--cpu-quota", "999"], "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
    (["--cpuset-cpus", "0-x"], "Invalid value 0-x for cpuset cpus: invalid format: 0-x"),
    (["--cpuset-cpus", "4000"], "Requested CPUs are not available - requested 4000, available: "),
    (["--cpuset-mems", "7"], "Requested memory nodes are not available - requested 7, available: "),
    (["--memory-reservation", "1m"], "Minimum memory reservation allowed is 6MB"),
    (["-m", "64m", "--memory-reservation", "128m"],
     "Minimum memory limit can not be less than memory reservation limit, see usage"),
    (["--oom-score-adj", "1001"], "Invalid value 1001, range for oom score adj is [-1000, 1000]"),
    (["--oom-score-adj", "-1001"], "Invalid value -1001, range for oom score adj is [-1000, 1000]"),
    (["--blkio-weight", "5"], "Range of blkio weight is from 10 to 1000"),
    (["--blkio-weight", "1001"], "Range of blkio weight is from 10 to 1000"),
    (["--blkio-weight-device", "/dev/vda:5"], "invalid weight for device: /dev/vda:5"),
    (["--blkio-weight-device", "vda:500"], "bad format for device path: vda:500"),
    (["--device-read-bps", "/dev/vda"], "bad format: /dev/vda"),
    (["--device-read-bps", "/dev/vda:fast"], "invalid rate for device: /dev/vda:fast. The correct format is "
     "<device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb"),
    (["--device-write-iops", "/dev/vda:1k"], "invalid rate for device: /dev/vda:1k. The correct format is "
     "<device-path>:<number>. Number must be a positive integer"),
    (["--device-read-iops", "/dev/nonexistent:100"],
     "Cannot limit the I/O of \"/dev/nonexistent\": not a block device on the host."),
    (["--device-read-iops", "/dev/null:100"], "Cannot limit the I/O of \"/dev/null\": not a block device on the host."),
    (["--cgroup-parent", "batch"], "cgroup-parent for systemd cgroup should be a valid slice named as \"xxx.slice\""),
    (["--cgroup-parent", "../x.slice"],
     "cgroup-parent for systemd cgroup should be a valid slice named as \"xxx.slice\""),
]


@pytest.mark.parametrize("flags,error", REFUSED, ids=[" ".join(r[0]) for r in REFUSED])
def test_refused(busybox_image, berthd, flags, error):
    before = n_containers(berthd)
    proc = berthd.berthctl("create", *flags, busybox_image, "true")
    assert proc.returncode == 125 and error in proc.stderr, proc.stderr
    assert n_containers(berthd) == before


def test_discarded_with_docker_warnings(busybox_image, berthd):
    proc = berthd.berthctl("run", "--rm", "--memory-swappiness", "10", "--kernel-memory", "50m",
                           "--oom-kill-disable", busybox_image, "true", check=True)
    assert "Memory swappiness discarded." in proc.stderr
    assert ("Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. "
            "Limitation discarded.") in proc.stderr
    assert "Your kernel does not support OomKillDisable. OomKillDisable discarded." in proc.stderr
    # -1 is Docker's "not set": no warning.
    proc = berthd.berthctl("run", "--rm", "--memory-swappiness", "-1", busybox_image, "true", check=True)
    assert "swappiness" not in proc.stderr


def test_domainname(busybox_image, berthd):
    name = f"dn-{uuid.uuid4().hex[:6]}"
    out = berthd.berthctl("run", "--name", name, "--domainname", "example.org", busybox_image, "cat",
                          "/proc/sys/kernel/domainname", check=True).stdout.strip()
    try:
        assert out == "example.org"
        assert inspect(berthd, name)["Config"]["Domainname"] == "example.org"
        berthd.systemctl("restart", "berthd.service", check=True)
        assert inspect(berthd, name)["Config"]["Domainname"] == "example.org"
    finally:
        berthd.berthctl("rm", "-f", name)
    out = berthd.berthctl("run", "--rm", busybox_image, "cat", "/proc/sys/kernel/domainname", check=True).stdout
    assert out.strip() == "(none)"  # the kernel's, as Docker leaves it
    proc = berthd.berthctl("create", "--domainname", "bad name", busybox_image)
    assert proc.returncode == 125 and 'invalid domain name "bad name"' in proc.stderr


def test_label_file_runtime_gpus(busybox_image, berthd, tmp_path):
    labels = berthd.sh("f=$(mktemp); printf '# c\\n\\na=1\\nb\\n  c=x y\\n' > $f; echo $f", check=True).stdout.strip()
    name = f"lf-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, "--label-file", labels, "--label", "a=2", "--runtime", "berth",
                    busybox_image, "true", check=True)
    try:
        got = inspect(berthd, name)["Config"]["Labels"]
        assert got["a"] == "2" and got["b"] == "" and got["c"] == "x y"  # a later --label wins
    finally:
        berthd.berthctl("rm", "-f", name)
    before = n_containers(berthd)
    proc = berthd.berthctl("create", "--label-file", "/nonexistent", busybox_image)
    assert proc.returncode == 125 and "/nonexistent" in proc.stderr
    proc = berthd.berthctl("create", "--runtime", "runc", busybox_image)
    assert proc.returncode == 125 and "unknown or invalid runtime name: runc" in proc.stderr
    proc = berthd.berthctl("create", "--gpus", "all", busybox_image)
    assert proc.returncode == 125 and "--gpus is not supported" in proc.stderr
    assert n_containers(berthd) == before


def test_group_add(busybox_image, berthd):
    # busybox's image has /etc/group with at least root; numbers need no entry.
    name = f"ga-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "--group-add", "1234", "--group-add", "root", busybox_image,
                    "sleep", "300", check=True)
    try:
        groups = berthd.berthctl("exec", name, "sh", "-c", "grep ^Groups: /proc/1/status",
                                 check=True).stdout.split()[1:]
        assert sorted(groups) == ["0", "1234"]
        assert berthd.berthctl("exec", name, "sh", "-c", "grep ^Groups: /proc/self/status",
                               check=True).stdout.split()[1:] == groups  # exec'd processes too
        assert inspect(berthd, name)["HostConfig"]["GroupAdd"] == ["1234", "root"]
        berthd.systemctl("restart", "berthd.service", check=True)
        assert inspect(berthd, name)["HostConfig"]["GroupAdd"] == ["1234", "root"]
    finally:
        berthd.berthctl("rm", "-f", name)
    out = berthd.berthctl("run", "--rm", "-u", "1000:1000", "--group-add", "55", busybox_image, "sh", "-c",
                          "grep ^Groups: /proc/self/status", check=True).stdout.split()[1:]
    assert out == ["55"]
    assert berthd.berthctl("run", "--rm", busybox_image, "true", check=True)
    name = f"ga-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, busybox_image, "true", check=True)
    try:
        assert inspect(berthd, name)["HostConfig"]["GroupAdd"] is None
    finally:
        berthd.berthctl("rm", "-f", name)
    proc = berthd.berthctl("run", "--rm", "--group-add", "nosuchgroup", busybox_image, "true")
    assert proc.returncode == 125
    assert "Unable to find group nosuchgroup: no matching entries in group file" in proc.stderr
    proc = berthd.berthctl("create", "--group-add", "a:b", busybox_image)
    assert proc.returncode == 125 and 'Invalid group "a:b"' in proc.stderr


def test_sysctl(busybox_image, berthd):
    name = f"sc-{uuid.uuid4().hex[:6]}"
    out = berthd.berthctl("run", "--name", name, "--sysctl", "net.ipv4.ip_forward=1", "--sysctl",
                          "kernel.shmmax=123456789", "--sysctl", "fs.mqueue.msg_max=20", busybox_image, "cat",
                          "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmax", "/proc/sys/fs/mqueue/msg_max",
                          check=True).stdout.split()
    try:
        assert out == ["1", "123456789", "20"]
        assert inspect(berthd, name)["HostConfig"]["Sysctls"] == {
            "net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789", "fs.mqueue.msg_max": "20"}
        # The host's are untouched: they were the container's namespaces.
        assert berthd.sh("cat /proc/sys/kernel/shmmax", check=True).stdout.strip() != "123456789"
        berthd.systemctl("restart", "berthd.service", check=True)
        assert inspect(berthd, name)["HostConfig"]["Sysctls"]["net.ipv4.ip_forward"] == "1"
        # Again at the next start.
        out = berthd.berthctl("start", "-a", name, check=True).stdout.split()
        assert out == ["1", "123456789", "20"]
    finally:
        berthd.berthctl("rm", "-f", name)
    name = f"sc-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, busybox_image, "true", check=True)
    try:
        assert "Sysctls" not in inspect(berthd, name)["HostConfig"]
    finally:
        berthd.berthctl("rm", "-f", name)
    before = n_containers(berthd)
    for arg in ("kernel.domainname=x", "vm.swappiness=10", "net.ipv4.ip_forward", "net/../x=1"):
        proc = berthd.berthctl("create", "--sysctl", arg, busybox_image)
        assert proc.returncode == 125 and f"sysctl '{arg}' is not allowed" in proc.stderr, proc.stderr
    assert n_containers(berthd) == before
    proc = berthd.berthctl("run", "--rm", "--sysctl", "net.ipv4.nonexistent=1", busybox_image, "true")
    assert proc.returncode == 125
    assert 'Failed to set sysctl net.ipv4.nonexistent to "1": No such file or directory.' in proc.stderr
    # In a user namespace of its own too: its root owns the network and IPC namespaces.
    out = berthd.berthctl("run", "--rm", "--userns=auto", "--sysctl", "net.ipv4.ip_forward=1", "--sysctl",
                          "kernel.shmmax=12345678", busybox_image, "cat", "/proc/sys/net/ipv4/ip_forward",
                          "/proc/sys/kernel/shmmax", check=True).stdout.split()
    assert out == ["1", "12345678"]


def ns(bed, kind, name=None):
    """The inode of a namespace: of the testbed's shell, or (name) of a running container's exec."""
    if name is None:
        return bed.sh(f"readlink /proc/self/ns/{kind}", check=True).stdout.strip()
    return bed.berthctl("exec", name, "readlink", f"/proc/self/ns/{kind}", check=True).stdout.strip()


# (flags, namespaces shared with the host, namespaces of its own)
NAMESPACE_ROWS = [
    ([], [], ["pid", "ipc", "uts"]),
    (["--pid", "host"], ["pid"], ["ipc", "uts"]),
    (["--ipc", "host"], ["ipc"], ["pid", "uts"]),
    (["--ipc", "shareable"], [], ["pid", "ipc", "uts"]),
    (["--uts", "host"], ["uts"], ["pid", "ipc"]),
    (["--pid", "host", "--ipc", "host", "--uts", "host"], ["pid", "ipc", "uts"], []),
]


@pytest.mark.parametrize("flags,shared,own", NAMESPACE_ROWS, ids=[" ".join(r[0]) or "defaults" for r in NAMESPACE_ROWS])
def test_namespace_modes(busybox_image, berthd, flags, shared, own):
    name = f"ns-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, *flags, busybox_image, "sleep", "300", check=True)
    try:
        for kind in shared:
            assert ns(berthd, kind, name) == ns(berthd, kind), kind
        for kind in own:
            assert ns(berthd, kind, name) != ns(berthd, kind), kind
        hc = inspect(berthd, name)["HostConfig"]
        assert hc["PidMode"] == ("host" if "pid" in shared else "")
        assert hc["UTSMode"] == ("host" if "uts" in shared else "")
        assert hc["IpcMode"] == ("host" if "ipc" in shared else "shareable" if "shareable" in flags else "private")
        first = berthd.berthctl("exec", name, "cat", "/proc/1/comm", check=True).stdout.strip()
        assert first == ("systemd" if "pid" in shared else "sleep")
        if "uts" in shared:
            assert berthd.berthctl("exec", name, "hostname", check=True).stdout == \
                berthd.sh("hostname", check=True).stdout
    finally:
        berthd.berthctl("rm", "-f", name)


def test_ipc_host_and_none_shm(busybox_image, berthd):
    marker = f"berth-{uuid.uuid4().hex[:6]}"
    berthd.sh(f"touch /dev/shm/{marker}", check=True)
    try:
        out = berthd.berthctl("run", "--rm", "--ipc", "host", busybox_image, "ls", "/dev/shm", check=True).stdout
        assert marker in out.split()
        out = berthd.berthctl("run", "--rm", busybox_image, "ls", "/dev/shm", check=True).stdout
        assert marker not in out.split()
    finally:
        berthd.sh(f"rm -f /dev/shm/{marker}")
    out = berthd.berthctl("run", "--rm", "--ipc", "none", busybox_image, "sh", "-c",
                          "grep -c ' /dev/shm ' /proc/mounts || true", check=True).stdout.strip()
    assert out == "0"


def test_pid_host_leftovers_killed(busybox_image, berthd):
    """With the host's PID namespace nothing ends with the payload: the supervisor kills what it
    leaves in the scope, so the run ends and the scope goes."""
    name = f"ns-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "--pid", "host", busybox_image, "sh", "-c",
                    "sleep 1000 & sleep 1000 & sleep 0.5", check=True)
    try:
        unit = inspect(berthd, name)["Berth"]["Unit"]
        assert berthd.berthctl("wait", name, check=True, timeout=20).stdout.strip() == "0"
        berthd.wait_until(lambda: berthd.systemctl("is-active", unit).stdout.strip() != "active",
                          what="the scope to stop")
        assert berthd.sh("pgrep -x 'sleep' -a | grep -c 'sleep 1000' || true").stdout.strip() == "0"
    finally:
        berthd.berthctl("rm", "-f", name)
    # Exec works there too, and an --init reaps as a subreaper.
    out = berthd.berthctl("run", "--rm", "--pid", "host", "--init", busybox_image, "sh", "-c",
                          "sleep 1000 & echo started", check=True, timeout=20).stdout.strip()
    assert out == "started"


NAMESPACE_REFUSED = [
    (["--pid", "container:no-such-container-x"], "No such container: no-such-container-x (to share the PID namespace of)."),
    (["--ipc", "container:no-such-container-x"], "No such container: no-such-container-x (to share the IPC namespace of)."),
    (["--uts", "container:x"], "invalid UTS mode: container:x"),
    (["--pid", "container:"], "invalid PID mode: container:: expected container:NAME or ID"),
    (["--pid", "bogus"], "invalid PID mode: bogus"),
    (["--ipc", "bogus"], "invalid IPC mode: bogus"),
    (["--uts", "private"], "invalid UTS mode: private"),
    (["--uts", "host", "-h", "x"], "Conflicting options: hostname and the UTS mode"),
    (["--pid", "host", "--userns", "auto"], "cannot share the host PID namespace when user namespaces are enabled"),
    (["--ipc", "host", "--userns", "auto"], "cannot share the host IPC namespace when user namespaces are enabled"),
]


@pytest.mark.parametrize("flags,error", NAMESPACE_REFUSED, ids=[" ".join(r[0]) for r in NAMESPACE_REFUSED])
def test_namespace_refused(busybox_image, berthd, flags, error):
    before = n_containers(berthd)
    proc = berthd.berthctl("create", *flags, busybox_image, "true")
    assert proc.returncode == 125 and error in proc.stderr, proc.stderr
    assert n_containers(berthd) == before


def test_update_cpu_io(busybox_image, berthd):
    name = f"up-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "--cpu-period", "50000", "--cpu-quota", "25000", busybox_image,
                    "sleep", "300", check=True)
    try:
        berthd.berthctl("update", "--cpu-quota", "50000", "--blkio-weight", "1000", "--memory-reservation", "32m",
                        name, check=True)
        got = unit_props(berthd, name, ["CPUQuotaPeriodUSec", "CPUQuotaPerSecUSec", "IOWeight", "MemoryLow"])
        assert got == {"CPUQuotaPeriodUSec": "50ms", "CPUQuotaPerSecUSec": "1s", "IOWeight": "10000",
                       "MemoryLow": str(32 << 20)}
        hc = inspect(berthd, name)["HostConfig"]
        assert (hc["CpuPeriod"], hc["CpuQuota"], hc["BlkioWeight"], hc["MemoryReservation"]) == \
            (50000, 50000, 1000, 32 << 20)
        berthd.berthctl("update", "--cpu-period", "100000", name, check=True)
        assert unit_props(berthd, name, ["CPUQuotaPeriodUSec"])["CPUQuotaPeriodUSec"] == "100ms"
        berthd.systemctl("restart", "berthd.service", check=True)
        hc = inspect(berthd, name)["HostConfig"]
        assert (hc["CpuPeriod"], hc["BlkioWeight"]) == (100000, 1000)
        proc = berthd.berthctl("update", "--cpus", "1", "--cpu-quota", "50000", name)
        assert proc.returncode == 125 and "Conflicting options: Nano CPUs and CPU Quota cannot both be set" in proc.stderr
        proc = berthd.berthctl("update", "--blkio-weight", "5", name)
        assert proc.returncode == 125 and "Range of blkio weight is from 10 to 1000" in proc.stderr
    finally:
        berthd.berthctl("rm", "-f", name)


def test_update_cpuset_and_restart_policy(busybox_image, berthd):
    name = f"up-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sleep", "300", check=True)
    try:
        berthd.berthctl("update", "--cpuset-cpus", "0", "--cpuset-mems", "0", "--restart", "on-failure:3", name,
                        check=True)
        assert unit_props(berthd, name, ["AllowedCPUs", "AllowedMemoryNodes"]) == \
            {"AllowedCPUs": "0", "AllowedMemoryNodes": "0"}
        hc = inspect(berthd, name)["HostConfig"]
        assert (hc["CpusetCpus"], hc["CpusetMems"]) == ("0", "0")
        assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
        if unified_controller(berthd, "cpuset"):
            got = berthd.berthctl("exec", name, "sh", "-c", "grep Cpus_allowed_list /proc/self/status | cut -f2",
                                  check=True).stdout.strip()
            assert got == "0"
        # The new policy acts on the running container: killed, it comes back.
        berthd.berthctl("update", "--restart", "always", name, check=True)
        berthd.berthctl("kill", name, check=True)
        berthd.wait_until(lambda: inspect(berthd, name)["RestartCount"] >= 1 and
                          inspect(berthd, name)["State"]["Running"], timeout=30, what="the restart")
        berthd.systemctl("restart", "berthd.service", check=True)
        hc = inspect(berthd, name)["HostConfig"]
        assert hc["RestartPolicy"]["Name"] == "always" and hc["CpusetCpus"] == "0"
        proc = berthd.berthctl("update", "--cpuset-cpus", "0-x", name)
        assert proc.returncode == 125 and "Invalid value 0-x for cpuset cpus" in proc.stderr, proc.stderr
        proc = berthd.berthctl("update", "--restart", "sometimes", name)
        assert proc.returncode == 125 and "invalid restart policy" in proc.stderr, proc.stderr
    finally:
        berthd.berthctl("rm", "-f", name)
    rm = f"uprm-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--rm", "--name", rm, busybox_image, "sleep", "300", check=True)
    try:
        proc = berthd.berthctl("update", "--restart", "always", rm)
        assert proc.returncode == 125
        assert "Restart policy cannot be updated because AutoRemove is enabled for the container" in proc.stderr
    finally:
        berthd.berthctl("rm", "-f", rm)


def test_pid_and_ipc_of_another_container(busybox_image, berthd):
    tag = uuid.uuid4().hex[:6]
    donor, plain, joiner = f"donor-{tag}", f"plain-{tag}", f"joiner-{tag}"
    berthd.berthctl("run", "-d", "--name", donor, "--ipc", "shareable", busybox_image, "sh", "-c",
                    "echo shared > /dev/shm/x && exec sleep 300", check=True)
    berthd.berthctl("run", "-d", "--name", plain, busybox_image, "sleep", "301", check=True)
    try:
        berthd.wait_until(lambda: berthd.berthctl("exec", donor, "test", "-f", "/dev/shm/x").returncode == 0,
                          what="the donor's /dev/shm/x")
        # --pid container: the donor's processes are visible, and this payload is not PID 1.
        out = berthd.berthctl("run", "--rm", "--pid", f"container:{donor}", busybox_image, "ps", "-o", "pid,args",
                              check=True).stdout
        assert "sleep 300" in out and "sleep 301" not in out, out
        # --ipc container: the donor's IPC namespace and its /dev/shm.
        ns_donor = berthd.berthctl("exec", donor, "readlink", "/proc/self/ns/ipc", check=True).stdout
        out = berthd.berthctl("run", "--rm", "--ipc", f"container:{donor}", busybox_image, "sh", "-c",
                              "readlink /proc/self/ns/ipc; cat /dev/shm/x", check=True).stdout
        assert out == ns_donor + "shared\n", out
        # The link is by id: a renamed donor still serves, and inspect names it.
        berthd.berthctl("create", "--name", joiner, "--pid", f"container:{donor}", busybox_image, "sleep", "302",
                        check=True)
        donor_id = json.loads(berthd.berthctl("inspect", donor, check=True).stdout)[0]["Id"]
        assert inspect(berthd, joiner)["HostConfig"]["PidMode"] == f"container:{donor_id}"
        berthd.berthctl("rename", donor, f"{donor}-renamed", check=True)
        donor = f"{donor}-renamed"
        berthd.berthctl("start", joiner, check=True)
        assert "sleep 302" in berthd.berthctl("exec", donor, "ps", "-o", "args", check=True).stdout
        berthd.berthctl("rm", "-f", joiner, check=True)
        # Only a shareable donor lends its IPC namespace (Docker's rule).
        proc = berthd.berthctl("create", "--ipc", f"container:{plain}", busybox_image, "true")
        assert proc.returncode == 125 and "cannot join IPC of a non-shareable container" in proc.stderr, proc.stderr
        # A donor that does not run: the start fails and says which.
        berthd.berthctl("create", "--name", joiner, "--pid", f"container:{plain}", busybox_image, "true", check=True)
        berthd.berthctl("stop", "-t", "0", plain, check=True)
        proc = berthd.berthctl("start", joiner)
        assert proc.returncode != 0 and "is not running" in proc.stderr, proc.stderr
    finally:
        berthd.berthctl("rm", "-f", donor, plain, joiner)


def test_cgroupns(busybox_image, berthd):
    """--cgroupns private (berth's default) shows the container its own cgroup as the root;
    --cgroupns host shows the host's paths (the container's scope among them)."""
    own = berthd.berthctl("run", "--rm", busybox_image, "cat", "/proc/self/cgroup", check=True).stdout
    host = berthd.berthctl("run", "--rm", "--cgroupns", "host", busybox_image, "cat", "/proc/self/cgroup",
                           check=True).stdout
    assert "berth-" not in own and "berth-" in host, (own, host)
    name = f"cgns-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, "--cgroupns", "host", busybox_image, "true", check=True)
    try:
        assert inspect(berthd, name)["HostConfig"]["CgroupnsMode"] == "host"
    finally:
        berthd.berthctl("rm", name)
    proc = berthd.berthctl("create", "--cgroupns", "sideways", busybox_image, "true")
    assert proc.returncode == 125 and "invalid cgroup namespace mode: sideways" in proc.stderr, proc.stderr
