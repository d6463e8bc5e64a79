# SPDX-License-Identifier: LGPL-2.1-or-later
"""--cap-add, --cap-drop, --privileged, --security-opt no-new-privileges and seccomp=...: what the
payload (and an exec'd process) gets, what inspect shows, and how bad input is refused."""
import json
import os
import uuid

import pytest

from test_daemon import restart_berthd

BUS_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_call.py")

# Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE
# NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
DEFAULT_CAPS = 0xA80425FB
CAP_CHOWN, CAP_NET_ADMIN, CAP_SYS_ADMIN = 0, 12, 21


def name():
    return f"sec-{uuid.uuid4().hex[:8]}"


def caps(berthd, *args):
    """CapEff and CapBnd of the payload as ints."""
    proc = berthd.berthctl("run", "--rm", *args, "busybox:latest", "grep", "-E", "^Cap(Eff|Bnd):",
                           "/proc/self/status", check=True)
    fields = dict(line.split(":\t") for line in proc.stdout.strip().splitlines())
    return int(fields["CapEff"], 16), int(fields["CapBnd"], 16)


def status_field(out, field):
    return dict(line.split(":\t") for line in out.strip().splitlines())[field]


def bus_create(bed, options):
    return bed.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "CreateContainer",
                    json.dumps(["busybox:latest", "", ["true"], [], options])])


def container_count(bed):
    proc = bed.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "ListContainers", "[]"],
                   check=True)
    return len(json.loads(proc.stdout))


def write_profile(berthd, profile):
    path = f"/var/tmp/seccomp-{uuid.uuid4().hex[:8]}.json"
    berthd.run(["sh", "-c", f"cat > {path}"], input=profile if isinstance(profile, str) else json.dumps(profile),
               check=True)
    return path


def test_cap_add(busybox_image, berthd):
    for spelling in ("NET_ADMIN", "net_admin", "CAP_NET_ADMIN", "cap_Net_Admin"):
        eff, bnd = caps(berthd, "--cap-add", spelling)
        assert eff == bnd == DEFAULT_CAPS | 1 << CAP_NET_ADMIN, spelling
    # NET_ADMIN really works: the loopback interface can be taken down.
    out = berthd.berthctl("run", "--rm", "--cap-add", "NET_ADMIN", busybox_image, "sh", "-c",
                          "ip link set lo down && echo down", check=True).stdout
    assert out == "down\n"
    assert berthd.berthctl("run", "--rm", busybox_image, "ip", "link", "set", "lo", "down").returncode != 0


def test_cap_drop(busybox_image, berthd):
    assert caps(berthd, "--cap-drop", "ALL") == (0, 0)
    assert caps(berthd, "--cap-drop", "all", "--cap-add", "CHOWN") == (1 << CAP_CHOWN, 1 << CAP_CHOWN)
    assert caps(berthd, "--cap-drop", "chown") == (DEFAULT_CAPS & ~1, DEFAULT_CAPS & ~1)
    # ALL added, one dropped (Docker's TweakCapabilities).
    eff, _ = caps(berthd, "--cap-add", "ALL", "--cap-drop", "SYS_ADMIN")
    assert eff & (1 << CAP_NET_ADMIN) and not eff & (1 << CAP_SYS_ADMIN)
    proc = berthd.berthctl("run", "--rm", "--cap-drop", "CHOWN", busybox_image, "sh", "-c",
                           "touch /tmp/f && chown 1:1 /tmp/f && echo CHOWNED")
    assert proc.returncode != 0 and "CHOWNED" not in proc.stdout
    assert "Operation not permitted" in proc.stderr
    berthd.berthctl("run", "--rm", busybox_image, "sh", "-c", "touch /tmp/f && chown 1:1 /tmp/f", check=True)


def test_cap_add_sys_admin_opens_the_system_calls_it_needs(busybox_image, berthd):
    # As Docker's default profile: with CAP_SYS_ADMIN, mount(2) is no longer filtered.
    out = berthd.berthctl("run", "--rm", "--cap-add", "SYS_ADMIN", busybox_image, "sh", "-c",
                          "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo mounted; grep Seccomp: /proc/self/status",
                          check=True).stdout
    assert out.splitlines() == ["mounted", "Seccomp:\t2"]


def test_exec_gets_the_container_settings(busybox_image, berthd):
    n = name()
    berthd.berthctl("run", "-d", "--name", n, "--cap-drop", "ALL", "--cap-add", "NET_ADMIN", "--security-opt",
                    "no-new-privileges", busybox_image, "sleep", "300", check=True)
    try:
        out = berthd.berthctl("exec", n, "grep", "-E", "^(CapEff|CapBnd|NoNewPrivs|Seccomp):", "/proc/self/status",
                              check=True).stdout
        assert int(status_field(out, "CapEff"), 16) == 1 << CAP_NET_ADMIN
        assert int(status_field(out, "CapBnd"), 16) == 1 << CAP_NET_ADMIN
        assert status_field(out, "NoNewPrivs") == "1"
        assert status_field(out, "Seccomp") == "2"
    finally:
        berthd.berthctl("rm", "-f", n)


def test_no_new_privileges(busybox_image, berthd):
    def nnp(*args):
        return berthd.berthctl("run", "--rm", *args, busybox_image, "grep", "NoNewPrivs:", "/proc/self/status",
                               check=True).stdout.split()[1]

    assert nnp() == "0"
    assert nnp("--security-opt", "no-new-privileges") == "1"
    assert nnp("--security-opt", "no-new-privileges=true") == "1"
    assert nnp("--security-opt", "no-new-privileges:true") == "1"
    assert nnp("--security-opt", "no-new-privileges=false") == "0"
    # With --init and a user too: the init and the payload are confined alike.
    out = berthd.berthctl("run", "--rm", "--init", "-u", "nobody", "--security-opt", "no-new-privileges",
                          busybox_image, "grep", "-E", "^(NoNewPrivs|Seccomp|CapEff):", "/proc/self/status",
                          check=True).stdout
    assert status_field(out, "NoNewPrivs") == "1" and status_field(out, "Seccomp") == "2"
    assert int(status_field(out, "CapEff"), 16) == 0


def test_privileged(busybox_image, berthd):
    n = name()
    berthd.berthctl("run", "-d", "--name", n, "--privileged", busybox_image, "sleep", "300", check=True)
    try:
        out = berthd.berthctl("exec", n, "sh", "-c",
                              "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo mounted; "
                              "grep -c -E ' /proc/(kcore|keys|timer_list) ' /proc/self/mountinfo; "
                              "grep ' /sys ' /proc/self/mountinfo | awk '{print $6}' | cut -d, -f1; "
                              "grep -E '^(Seccomp|CapEff|CapBnd):' /proc/self/status").stdout
        lines = out.splitlines()
        assert lines[:3] == ["mounted", "0", "rw"], out
        fields = dict(line.split(":\t") for line in lines[3:])
        assert fields["Seccomp"] == "0"
        host_bnd = berthd.sh("grep CapBnd: /proc/self/status", check=True).stdout.split()[1]
        assert fields["CapEff"] == fields["CapBnd"] == host_bnd
        unit = json.loads(berthd.berthctl("inspect", n, check=True).stdout)[0]["Berth"]["Unit"]
        policy = berthd.systemctl("show", "-p", "DevicePolicy", "-p", "DeviceAllow", unit, check=True).stdout
        assert "DevicePolicy=auto" in policy and "char-pts" not in policy
        host = json.loads(berthd.berthctl("inspect", n, check=True).stdout)[0]["HostConfig"]
        assert host["Privileged"] is True
    finally:
        berthd.berthctl("rm", "-f", n)
    # With a --device too: its DeviceAllow= entry must not turn the policy into an allowlist.
    d = name()
    berthd.berthctl("run", "-d", "--name", d, "--privileged", "--device", "/dev/null:/dev/mynull", busybox_image,
                    "sleep", "300", check=True)
    try:
        unit = json.loads(berthd.berthctl("inspect", d, check=True).stdout)[0]["Berth"]["Unit"]
        policy = berthd.systemctl("show", "-p", "DevicePolicy", "-p", "DeviceAllow", unit, check=True).stdout
        assert "DevicePolicy=auto" in policy and "/dev/null" not in policy, policy
        assert berthd.berthctl("exec", d, "test", "-c", "/dev/mynull").returncode == 0
    finally:
        berthd.berthctl("rm", "-f", d)
    # Without it: the scope allows only the pseudo devices.
    m = name()
    berthd.berthctl("run", "-d", "--name", m, busybox_image, "sleep", "300", check=True)
    try:
        unit = json.loads(berthd.berthctl("inspect", m, check=True).stdout)[0]["Berth"]["Unit"]
        policy = berthd.systemctl("show", "-p", "DevicePolicy", unit, check=True).stdout
        assert "DevicePolicy=closed" in policy
    finally:
        berthd.berthctl("rm", "-f", m)


def test_seccomp_unconfined(busybox_image, berthd):
    # unshare(2) is refused by the default filter (without CAP_SYS_ADMIN), not by a capability check:
    # a user namespace needs none.
    refused = berthd.berthctl("run", "--rm", busybox_image, "sh", "-c", "unshare -U true && echo unshared")
    assert "unshared" not in refused.stdout
    builtin = berthd.berthctl("run", "--rm", "--security-opt", "seccomp=builtin", busybox_image, "sh", "-c",
                              "unshare -U true && echo unshared")
    assert builtin.returncode != 0 and "unshared" not in builtin.stdout
    out = berthd.berthctl("run", "--rm", "--security-opt", "seccomp=unconfined", busybox_image, "sh", "-c",
                          "grep Seccomp: /proc/self/status; unshare -U true && echo unshared", check=True).stdout
    assert out.splitlines() == ["Seccomp:\t0", "unshared"]


def test_custom_profile(busybox_image, berthd):
    path = write_profile(berthd, {
        "defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"},
            # errnoRet and argument conditions: rmdir gives ENOSYS; kill only for signal 0... refused.
            {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [
                {"index": 1, "value": 10, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
            # Not for this container: it lacks CAP_SYS_ADMIN.
            {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        ],
    })
    n = name()
    proc = berthd.berthctl("run", "--name", n, "--security-opt", f"seccomp={path}", busybox_image, "sh", "-c",
                           "mkdir /tmp/d; echo hi > /tmp/f && cat /tmp/f; rmdir /tmp; kill -USR1 $$; "
                           "kill -0 $$ && echo alive; pwd")
    assert proc.returncode == 0, proc
    assert proc.stdout.splitlines() == ["hi", "alive", "/"], proc
    assert "mkdir: can't create directory '/tmp/d': Operation not permitted" in proc.stderr
    assert "Function not implemented" in proc.stderr  # rmdir
    assert "Operation not permitted" in proc.stderr.split("Function not implemented")[1]  # kill -USR1
    # Stored with the container: inspect shows it, and a restarted berthd still applies it.
    info = json.loads(berthd.berthctl("inspect", n, check=True).stdout)[0]["HostConfig"]
    assert info["SecurityOpt"][0].startswith("seccomp={") and "mkdirat" in info["SecurityOpt"][0]
    restart_berthd(berthd)
    proc = berthd.berthctl("start", "-a", n)
    assert "Operation not permitted" in proc.stderr, proc
    berthd.berthctl("rm", n, check=True)


def test_profile_filters_by_caps_and_arches(busybox_image, berthd):
    """includes/excludes as in Docker's own default profile, and names of other architectures."""
    path = write_profile(berthd, {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            # Other architectures' system calls: compiled (for no architecture here), not refused.
            {"names": ["arm_fadvise64_64", "breakpoint", "cacheflush", "set_tls", "riscv_flush_icache"],
             "action": "SCMP_ACT_ERRNO", "includes": {"arches": ["arm", "arm64", "riscv64"]}},
            # Refused unless the container has CAP_SYS_ADMIN.
            {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
             "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
            # Only on a kernel that does not exist yet.
            {"name": "uname", "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "99.0"}},
        ],
    })
    proc = berthd.berthctl("run", "--rm", "--security-opt", f"seccomp={path}", busybox_image, "sh", "-c",
                           "uname -s; busybox pwd")
    assert proc.stdout.split("\n")[0] == "Linux" and "/" not in proc.stdout, proc
    proc = berthd.berthctl("run", "--rm", "--cap-add", "SYS_ADMIN", "--security-opt", f"seccomp={path}",
                           busybox_image, "sh", "-c", "uname -s; busybox pwd", check=True)
    assert proc.stdout == "Linux\n/\n", proc


def test_lsm_opt_outs_are_accepted(busybox_image, berthd):
    # No AppArmor or SELinux confinement in berth: asking for none is already true.
    berthd.berthctl("run", "--rm", "--security-opt", "apparmor=unconfined", "--security-opt", "label=disable",
                    busybox_image, "true", check=True)


def test_inspect_and_properties(busybox_image, berthd):
    n = name()
    berthd.berthctl("create", "--name", n, "--cap-add", "net_admin", "--cap-add", "SYS_TIME", "--cap-drop", "ALL",
                    "--security-opt", "no-new-privileges", "--security-opt", "seccomp=unconfined", busybox_image,
                    "true", check=True)
    host = json.loads(berthd.berthctl("inspect", n, check=True).stdout)[0]["HostConfig"]
    assert host["CapAdd"] == ["CAP_NET_ADMIN", "CAP_SYS_TIME"]
    assert host["CapDrop"] == ["ALL"]
    assert host["Privileged"] is False
    assert host["SecurityOpt"] == ["no-new-privileges", "seccomp=unconfined"]
    path = json.loads(berthd.berthctl("inspect", n, check=True).stdout)[0]["Berth"]["ObjectPath"]
    out = berthd.busctl("get-property", "org.berth1", path, "org.berth1.Container", "CapAdd", "CapDrop",
                        "Privileged", "NoNewPrivileges", "SeccompProfile", check=True).stdout
    assert out.split("\n")[:5] == ['as 2 "CAP_NET_ADMIN" "CAP_SYS_TIME"', 'as 1 "ALL"', "b false", "b true",
                                   's "unconfined"'], out
    restart_berthd(berthd)
    assert json.loads(berthd.berthctl("inspect", n, check=True).stdout)[0]["HostConfig"] == host
    berthd.berthctl("rm", n, check=True)
    plain = name()
    berthd.berthctl("create", "--name", plain, busybox_image, "true", check=True)
    host = json.loads(berthd.berthctl("inspect", plain, check=True).stdout)[0]["HostConfig"]
    assert host["CapAdd"] is None and host["CapDrop"] is None and host["SecurityOpt"] is None
    assert host["Privileged"] is False
    berthd.berthctl("rm", plain, check=True)


BAD_OPTIONS = {
    "unknown-cap": ({"CapAdd": ["NET_FOO"]}, "Unknown capability \"NET_FOO\""),
    "unknown-cap-drop": ({"CapDrop": ["CAP_ALL"]}, "Unknown capability \"CAP_ALL\""),
    "bad-json": ({"SeccompProfile": "{\"defaultAction\": "}, "not a JSON object"),
    "unknown-action": ({"SeccompProfile": json.dumps({"defaultAction": "SCMP_ACT_MAYBE"})},
                       "unknown or unsupported action \"SCMP_ACT_MAYBE\""),
    "unknown-syscall": ({"SeccompProfile": json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdri"], "action": "SCMP_ACT_ERRNO"}]})}, "unknown system call \"mkdri\""),
    "bad-arch": ({"SeccompProfile": json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                                "architectures": ["SCMP_ARCH_Z80"]})},
                 "unknown architecture \"SCMP_ARCH_Z80\""),
    "bad-op": ({"SeccompProfile": json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_XX"}]}]})},
        "unknown comparison \"SCMP_CMP_XX\""),
    "bad-value": ({"SeccompProfile": json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": -1, "op": "SCMP_CMP_EQ"}]}]})},
        "\"value\" must be a non-negative integer"),
    "notify": ({"SeccompProfile": json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["kill"], "action": "SCMP_ACT_NOTIFY"}]})}, "unsupported action \"SCMP_ACT_NOTIFY\""),
    "wrong-type": ({"Privileged": "yes"}, "Container option \"Privileged\" must have type \"b\""),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_options_are_invalid_argument(busybox_image, berthd, case):
    options, message = BAD_OPTIONS[case]
    before = container_count(berthd)
    proc = bus_create(berthd, options)
    assert proc.returncode == 1 and proc.stdout.startswith("ERROR org.berth1.Error.InvalidArgument "), proc
    assert message in proc.stdout, proc
    assert container_count(berthd) == before


@pytest.mark.parametrize("args", [
    ["--cap-add", "NET_FOO"],
    ["--cap-drop", "bogus"],
    ["--security-opt", "seccomp=/nonexistent.json"],
    ["--security-opt", "seccomp=@BAD"],
    ["--security-opt", "no-new-privileges=maybe"],
    ["--security-opt", "apparmor=docker-default"],
    ["--security-opt", "label=type:svirt_apache_t"],
])
def test_bad_flags_exit_125(busybox_image, berthd, args):
    args = [a.replace("@BAD", write_profile(berthd, "{not json")) for a in args]
    before = container_count(berthd)
    for verb in ("create", "run"):
        proc = berthd.berthctl(verb, *args, busybox_image, "true")
        assert proc.returncode == 125, proc
        assert proc.stderr.startswith("berthctl: ") and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert container_count(berthd) == before


def test_io_uring_is_refused_by_default(busybox_image, berthd, probe_bin):
    # Docker 25 and containerd 2.0 dropped io_uring from the default profile: a ring's operations
    # are not filtered as the system calls they stand for.
    mount = ["-v", f"{probe_bin}:/probe:ro"]
    proc = berthd.berthctl("run", "--rm", *mount, busybox_image, "/probe", "io_uring")
    assert proc.returncode == 1 and proc.stdout.strip() == "EPERM", proc
    # A container that opts out of the filter, or whose profile allows them, still gets them.
    proc = berthd.berthctl("run", "--rm", "--security-opt", "seccomp=unconfined", *mount, busybox_image,
                           "/probe", "io_uring")
    assert proc.stdout.strip() in ("ok", "ENOSYS"), proc  # ENOSYS: a kernel without io_uring
    path = write_profile(berthd, {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []})
    proc = berthd.berthctl("run", "--rm", "--security-opt", f"seccomp={path}", *mount, busybox_image,
                           "/probe", "io_uring")
    assert proc.stdout.strip() in ("ok", "ENOSYS"), proc


def test_inheritable_capabilities_are_empty(busybox_image, berthd):
    # CVE-2022-24769: a non-empty inheritable set hands a non-root user in the container whatever
    # capabilities a file's inheritable file capabilities name. Docker empties it since 20.10.14.
    script = "grep -E '^Cap(Inh|Amb|Bnd):' /proc/self/status"
    for extra in ([], ["-u", "1000"], ["--init"], ["--cap-add", "NET_ADMIN"], ["--privileged"]):
        out = berthd.berthctl("run", "--rm", *extra, busybox_image, "sh", "-c", script, check=True).stdout
        assert status_field(out, "CapInh") == "0000000000000000", (extra, out)
        assert status_field(out, "CapAmb") == "0000000000000000", (extra, out)
    n = name()
    berthd.berthctl("run", "-d", "--name", n, busybox_image, "sleep", "300", check=True)
    try:
        for extra in ([], ["-u", "1000"]):
            out = berthd.berthctl("exec", *extra, n, "sh", "-c", script, check=True).stdout
            assert status_field(out, "CapInh") == "0000000000000000", (extra, out)
            assert int(status_field(out, "CapBnd"), 16) == DEFAULT_CAPS, (extra, out)
    finally:
        berthd.berthctl("rm", "-f", n)
