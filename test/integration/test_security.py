# SPDX-License-Identifier: LGPL-2.1-or-later
"""Default isolation: each escape attempt from a default container must fail."""
import os

import pytest


ATTEMPTS = {
    "mount": "mount -t tmpfs none /mnt",
    "umount": "umount /proc",
    "unshare-user": "unshare -U true",
    "unshare-mount": "unshare -m true",
    "sysrq-trigger": "echo h > /proc/sysrq-trigger",
    "write-sys": "echo 1 > /sys/kernel/mm/ksm/run",
    "write-proc-sys": "echo 1 > /proc/sys/vm/drop_caches",
    # CAP_MKNOD is in Docker's default set, so mknod works; the device cgroup refuses the open.
    "mknod-block": "mknod /tmp/sda b 8 0; head -c 1 /tmp/sda | wc -c | grep -q 1",
    "load-module": "insmod /nonexistent.ko || modprobe dummy",
    "read-kcore": "test -s /proc/kcore && head -c 1 /proc/kcore | wc -c | grep -q 1",
    "set-hostname": "hostname evil",
    "ptrace-init-host": "test -r /proc/1/root/etc/shadow && cat /proc/1/root/etc/shadow",
    "cgroup-release-agent": "mkdir -p /tmp/cg && mount -t cgroup -o memory none /tmp/cg",
    "keyctl": "keyctl show 2>/dev/null || cat /proc/keys | grep -q .",
    "chroot-escape": "chroot / true && ls /proc/1/cwd/.. | grep -q berth",
}


@pytest.mark.parametrize("case", sorted(ATTEMPTS))
def test_escape_attempt_fails(busybox_image, berthd, case):
    proc = berthd.berthctl("run", "--rm", busybox_image, "sh", "-c", ATTEMPTS[case] + " && echo ESCAPED")
    assert "ESCAPED" not in proc.stdout, (case, proc)
    assert proc.returncode != 0, (case, proc)


def test_masked_and_readonly_paths(busybox_image, berthd):
    out = berthd.berthctl("run", "--rm", busybox_image, "sh", "-c",
                          "cat /proc/kcore | wc -c; cat /proc/keys 2>/dev/null | wc -c; ls /sys/firmware | wc -l; "
                          "grep -E ' /proc/(sys|sysrq-trigger|irq|bus) ' /proc/self/mountinfo | "
                          "awk '{print $6}' | cut -d, -f1 | sort -u", check=True).stdout.split()
    assert out[:3] == ["0", "0", "0"], out
    assert out[3:] == ["ro"], out


def test_seccomp_filter_is_loaded(busybox_image, berthd):
    out = berthd.berthctl("run", "--rm", busybox_image, "grep", "-E", "^(Seccomp|NoNewPrivs):", "/proc/self/status",
                          check=True).stdout
    fields = dict(line.split(":\t") for line in out.strip().splitlines())
    assert fields["Seccomp"] == "2"  # filter mode
    # Plain busybox still works normally under it: fork, pipes, signals, sockets, time.
    out = berthd.berthctl("run", "--rm", busybox_image, "sh", "-c",
                          "echo a | cat | wc -l; date +%Y >/dev/null && nc -l -p 1234 -s 127.0.0.1 & sleep 0.2; "
                          "echo hi | nc 127.0.0.1 1234; wait", check=True).stdout
    assert out.splitlines()[0] == "1"


def test_supervisor_is_out_of_reach(busybox_image, berthd):
    # The supervisor lives outside the container's PID namespace: nothing of it is visible.
    out = berthd.berthctl("run", "--rm", busybox_image, "sh", "-c", "cat /proc/[0-9]*/comm | sort -u",
                          check=True).stdout.split()
    assert "berth-nspawn" not in out, out
    # With --init, PID 1 is berth-nspawn confined like the payload and not dumpable: its
    # descriptors, memory and executable cannot be opened from the container.
    out = berthd.berthctl("run", "--rm", "--init", busybox_image, "sh", "-c",
                          "cat /proc/1/comm; readlink /proc/1/fd/0 >/dev/null 2>&1 && echo FD-READABLE; "
                          "readlink /proc/1/exe >/dev/null 2>&1 && echo EXE-READABLE; "
                          "head -c1 /proc/1/mem >/dev/null 2>&1 && echo MEM-READABLE; true", check=True).stdout
    assert out.split() == ["berth-nspawn"], out


def test_host_helper_binary_is_out_of_reach(busybox_image, berthd):
    # CVE-2019-5736: a process whose executable is berth-nspawn (a container's PID 1 or an exec'd
    # process before their execve) re-executes it through /proc/self/exe, and the container then
    # holds the file. berth-nspawn runs from a sealed in-memory copy of itself: the container
    # reaches only that copy, which nobody can change, never the binary on the host's disk.
    digest = "find /usr -name berth-nspawn -type f -exec sha256sum {} + | sort"
    before = berthd.sh(digest, check=True).stdout
    assert before.strip(), "no berth-nspawn installed?"
    name = f"selfexe-{os.urandom(3).hex()}"
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sh", "-c", "sleep 300; true", check=True)
    try:
        cid = berthd.berthctl("inspect", "-f", "{{.Id}}", name, check=True).stdout.strip()
        exec_helper = berthd.sh(f"berthctl exec {name} sleep 30 & sleep 1; "
                                f"for p in $(pgrep -f '^berth-nspawn {cid[:12]}'); do readlink /proc/$p/exe; done; "
                                f"for p in $(pgrep -f '^berth-nspawn {cid[:12]}'); do "
                                f"  echo X >> /proc/$p/exe && echo WROTE; "
                                f"  exec 5</proc/$p/exe && echo X >> /proc/self/fd/5 && echo WROTE-REOPENED; "
                                f"done; true").stdout.splitlines()
        exes = [line for line in exec_helper if not line.startswith("WROTE")]
        assert len(exes) == 2, exec_helper  # the supervisor and the exec's helper
        assert all(e.startswith("/memfd:berth-nspawn") for e in exes), exec_helper
        assert not any(line.startswith("WROTE") for line in exec_helper), exec_helper
        # The re-execution itself still happens (as in runc), and reaches only the copy: it finds no
        # spec and exits 255. (A sanitizer build's helper is linked dynamically, and the container
        # has no loader for it: 127.)
        proc = berthd.berthctl("exec", name, "/proc/self/exe")
        assert proc.returncode in (255, 127), proc
        proc = berthd.berthctl("run", "--rm", "--entrypoint", "/proc/self/exe", busybox_image)
        assert proc.returncode in (255, 127), proc
    finally:
        berthd.berthctl("rm", "-f", name)
    assert berthd.sh(digest, check=True).stdout == before


def test_exec_cannot_signal_berthds_process_group(busybox_image, berthd):
    """An exec'd process shares berthd's process group: kill(0, SIGKILL) inside the container kills
    berthd and the supervisors of other containers."""
    a, b = f"xa-{os.urandom(3).hex()}", f"xb-{os.urandom(3).hex()}"
    berthd.berthctl("run", "-d", "--name", a, busybox_image, "sleep", "300", check=True)
    berthd.berthctl("run", "-d", "--name", b, busybox_image, "sleep", "300", check=True)
    try:
        pid_before = berthd.systemctl("show", "-P", "MainPID", "berthd.service").stdout.strip()
        berthd.berthctl("exec", a, "sh", "-c", "kill -9 0", timeout=60)
        berthd.systemctl("start", "berthd.service")
        pid_after = berthd.systemctl("show", "-P", "MainPID", "berthd.service").stdout.strip()
        insp = berthd.berthctl("inspect", b).stdout
        assert pid_before == pid_after, "berthd was killed from inside a container"
        assert '"running"' in insp, "container b's supervisor was killed from inside container a"
    finally:
        berthd.systemctl("start", "berthd.service")
        berthd.berthctl("rm", "-f", a)
        berthd.berthctl("rm", "-f", b)
