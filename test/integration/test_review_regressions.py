# SPDX-License-Identifier: LGPL-2.1-or-later
"""Regression tests for a security review: exec confinement, --init with --user, volumes in use
through --volumes-from, and unreadable volume metadata."""
import json
import os
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
EXEC = os.path.join(HERE, "exec_call.py")


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def exec_in(bed, name, argv, env=(), cwd="", stdin=None, timeout=60):
    return bed.run(["/usr/bin/python3", EXEC, name, json.dumps(list(argv)), json.dumps(list(env)), cwd],
                   input=stdin, timeout=timeout)


def volume_names(bed):
    return bed.berthctl("volume", "ls", "-q", check=True).stdout.split()


def test_exec_runs_as_the_containers_user(busybox_image, berthd):
    """A container created with --user 1000: exec (no -u) must run as 1000, as Docker does."""
    name = uniq("xuser")
    berthd.berthctl("run", "-d", "--name", name, "--user", "1000:1000", busybox_image, "sleep", "300", check=True)
    try:
        payload = exec_in(berthd, name, ["sh", "-c", "grep ^Uid: /proc/1/status"])
        mine = exec_in(berthd, name, ["sh", "-c", "id -u; grep -E '^Cap(Eff|Prm):' /proc/self/status"])
        assert "1000" in payload.stdout
        assert mine.stdout.splitlines()[0] == "1000", f"exec ran as uid {mine.stdout.splitlines()[0]}"
    finally:
        berthd.berthctl("rm", "-f", name)


def test_init_runs_as_the_containers_user(busybox_image, berthd):
    """--init --user 1000: PID 1 (the init) keeps uid 0 and Docker's capability set."""
    out = berthd.berthctl("run", "--rm", "--init", "--user", "1000", busybox_image, "sh", "-c",
                          "grep -E '^(Uid|CapEff):' /proc/1/status; kill -0 1 && echo signalled || echo EPERM",
                          check=True).stdout
    print(out)
    assert "Uid:\t1000" in out, out
    assert out.strip().endswith("signalled"), out  # the payload may signal its own init


def test_volume_used_through_volumes_from_is_kept(busybox_image, berthd):
    """A volume that a running container has through --volumes-from is removable (prune / rm -v)."""
    a, b = uniq("xsrc"), uniq("xuser")
    berthd.berthctl("create", "--name", a, "-v", "/data", busybox_image, "true", check=True)
    before = set(volume_names(berthd))
    berthd.berthctl("run", "-d", "--name", b, "--volumes-from", a, busybox_image, "sh", "-c",
                    "echo precious > /data/f; sleep 300", check=True)
    try:
        vols = [v for v in before if len(v) == 64]
        assert exec_in(berthd, b, ["cat", "/data/f"]).stdout == "precious\n"
        berthd.berthctl("rm", a, check=True)  # plain rm keeps the anonymous volume (Docker)
        berthd.berthctl("volume", "prune")
        after = set(volume_names(berthd))
        gone = [v for v in vols if v not in after]
        data = exec_in(berthd, b, ["sh", "-c", "ls -la /data; cat /data/f"])
        assert not gone and data.stdout.endswith("precious\n"), f"removed {gone} under running {b}"
    finally:
        berthd.berthctl("rm", "-f", b)
        berthd.berthctl("volume", "prune")  # A's anonymous volume is unused now


def test_unreadable_volume_metadata_keeps_the_data(busybox_image, berthd):
    """A volume whose volume.json cannot be parsed is rm -rf'ed with its data at startup."""
    vol = uniq("xvol")
    berthd.berthctl("volume", "create", vol, check=True)
    mp = json.loads(berthd.berthctl("volume", "inspect", vol, check=True).stdout)[0]["Mountpoint"]
    berthd.sh(f"echo precious > {mp}/f && printf '{{\"name\": ' > {mp}/../volume.json", check=True)
    berthd.systemctl("restart", "berthd.service", check=True)
    exists = berthd.sh(f"cat {mp}/f")
    print(exists.stdout, exists.stderr)
    assert exists.stdout == "precious\n", "the volume's data was removed"


def test_exec_cannot_signal_berthds_process_group(busybox_image, berthd):
    """An exec'd process shares berthd's process group: kill(0, SIGKILL) inside the container kills
    berthd and the supervisors of other containers."""
    a, b = uniq("xa"), uniq("xb")
    berthd.berthctl("run", "-d", "--name", a, busybox_image, "sleep", "300", check=True)
    berthd.berthctl("run", "-d", "--name", b, busybox_image, "sleep", "300", check=True)
    try:
        pid_before = berthd.systemctl("show", "-P", "MainPID", "berthd.service").stdout.strip()
        exec_in(berthd, a, ["sh", "-c", "kill -9 0"], timeout=60)
        berthd.systemctl("start", "berthd.service")
        pid_after = berthd.systemctl("show", "-P", "MainPID", "berthd.service").stdout.strip()
        insp = berthd.berthctl("inspect", b).stdout
        assert pid_before == pid_after, "berthd was killed from inside a container"
        assert '"running"' in insp, "container b's supervisor was killed from inside container a"
    finally:
        berthd.systemctl("start", "berthd.service")
        berthd.berthctl("rm", "-f", a)
        berthd.berthctl("rm", "-f", b)
