# SPDX-License-Identifier: LGPL-2.1-or-later
"""--userns=auto: a user namespace of the container's own, its ids 0..65535 mapped to a host range
that berthd allocates, keeps for the container's lifetime and gives to no other container."""
import json
import os
import uuid

import pytest

from conftest import DRIVER, SHARED_TMP
from test_daemon import prop, restart_berthd
from test_security_options import bus_create, container_count

RANGE = 65536


def name():
    return f"uns-{uuid.uuid4().hex[:8]}"


def uid_map(berthd, ref, *exec_args):
    out = berthd.berthctl("exec", *exec_args, ref, "cat", "/proc/self/uid_map", check=True).stdout.split()
    return [int(x) for x in out]


def run_auto(berthd, n, *args):
    berthd.berthctl("run", "-d", "--name", n, "--userns=auto", *args, "busybox:latest", "sleep", "1000",
                    check=True)
    return prop(berthd, n, "UidMapBase")


def test_uid_map_and_inspect(busybox_image, berthd):
    n = name()
    base = run_auto(berthd, n)
    try:
        assert base >= RANGE and base % RANGE == 0
        assert uid_map(berthd, n) == [0, base, RANGE]
        gid_map = berthd.berthctl("exec", n, "cat", "/proc/self/gid_map", check=True).stdout.split()
        assert [int(x) for x in gid_map] == [0, base, RANGE]
        info = json.loads(berthd.berthctl("inspect", n, check=True).stdout)[0]
        assert info["HostConfig"]["UsernsMode"] == "auto"
        assert info["Berth"]["UidMapBase"] == base
        assert prop(berthd, n, "UsernsMode") == "auto"
        # The payload is container root, and host uid BASE seen from the host.
        pid = prop(berthd, n, "Pid")
        status = berthd.run(["cat", f"/proc/{pid}/status"], check=True).stdout
        uids = [line.split()[1:] for line in status.splitlines() if line.startswith(("Uid:", "Gid:"))]
        assert uids == [[str(base)] * 4, [str(base)] * 4]
    finally:
        berthd.berthctl("rm", "-f", n)


def test_two_containers_do_not_share_ids(busybox_image, berthd):
    a, b = name(), name()
    try:
        base_a, base_b = run_auto(berthd, a), run_auto(berthd, b)
        assert base_a != base_b
        assert base_a + RANGE <= base_b or base_b + RANGE <= base_a
        assert uid_map(berthd, a)[1] == base_a and uid_map(berthd, b)[1] == base_b
    finally:
        berthd.berthctl("rm", "-f", a, b)


def test_range_is_stable_and_freed_at_removal(busybox_image, berthd):
    n = name()
    base = run_auto(berthd, n)
    try:
        berthd.berthctl("restart", "-t", "0", n, check=True)
        assert prop(berthd, n, "UidMapBase") == base and uid_map(berthd, n)[1] == base
        restart_berthd(berthd)
        assert prop(berthd, n, "UidMapBase") == base and uid_map(berthd, n)[1] == base
        berthd.berthctl("stop", "-t", "0", n, check=True)
        berthd.berthctl("start", n, check=True)
        assert uid_map(berthd, n)[1] == base
        # Taken while it exists, even stopped: a new container gets another range.
        berthd.berthctl("stop", "-t", "0", n, check=True)
        other = name()
        assert run_auto(berthd, other) != base
        berthd.berthctl("rm", "-f", other, check=True)
    finally:
        berthd.berthctl("rm", "-f", n)
    # Freed with the container: the next one may have it again (the lowest free one is taken).
    again = name()
    try:
        assert run_auto(berthd, again) <= base
    finally:
        berthd.berthctl("rm", "-f", again)


def test_root_is_nobody_on_the_host(busybox_image, berthd):
    d = os.path.join(SHARED_TMP, f"userns-{uuid.uuid4().hex[:8]}")
    berthd.sh(f"mkdir -m 0777 {d} && echo secret > {d}/secret && chmod 0600 {d}/secret", check=True)
    n = name()
    try:
        base = run_auto(berthd, n, "-v", f"{d}:/data")
        berthd.berthctl("exec", n, "sh", "-c", "echo hi > /data/made && mkdir /data/dir", check=True)
        owners = berthd.run(["stat", "-c", "%u:%g", f"{d}/made", f"{d}/dir"], check=True).stdout.split()
        assert owners == [f"{base}:{base}"] * 2
        # The host's root-owned 0600 file: container root has no power over it.
        proc = berthd.berthctl("exec", n, "cat", "/data/secret")
        assert proc.returncode != 0 and "Permission denied" in proc.stderr and "secret" not in proc.stdout
        proc = berthd.berthctl("exec", n, "stat", "-c", "%u", "/data/secret", check=True)
        assert proc.stdout.strip() == "65534"  # unmapped: the overflow id
        assert berthd.berthctl("exec", n, "chown", "0", "/data/secret").returncode != 0
    finally:
        berthd.berthctl("rm", "-f", n)
        berthd.run(["rm", "-rf", d])


def test_image_is_root_owned_and_writable(busybox_image, berthd):
    out = berthd.berthctl("run", "--rm", "--userns=auto", busybox_image, "sh", "-c",
                          "stat -c %u:%g /bin/busybox /etc /; id -u; "
                          "echo x > /etc/added && mkdir -p /root/r && touch /root/r/f && "
                          "chown 1000:1000 /root/r/f && stat -c %u /root/r/f && rm /etc/passwd && echo ok",
                          check=True).stdout.split()
    assert out == ["0:0", "0:0", "0:0", "0", "1000", "ok"]


def test_upper_layer_is_stored_unshifted(busybox_image, berthd):
    """Files the container writes are stored with the container's ids in its upper layer, so the
    layer keeps no trace of the host range."""
    n = name()
    try:
        berthd.berthctl("run", "--name", n, "--userns=auto", busybox_image, "sh", "-c",
                        "echo x > /etc/made && touch /tmp/u && chown 7:8 /tmp/u", check=True)
        cid = prop(berthd, n, "Id")
        upper = f"/var/lib/berth/containers/{cid}/{'upper' if DRIVER == 'overlay' else 'rootfs'}"
        out = berthd.run(["stat", "-c", "%u:%g", f"{upper}/etc/made", f"{upper}/tmp/u"], check=True).stdout.split()
        assert out == ["0:0", "7:8"]
    finally:
        berthd.berthctl("rm", "-f", n)


def test_exec_joins_the_user_namespace(busybox_image, berthd):
    n = name()
    base = run_auto(berthd, n)
    try:
        out = berthd.berthctl("exec", n, "sh", "-c", "id -u; readlink /proc/self/ns/user; readlink /proc/1/ns/user",
                              check=True).stdout.split()
        assert out[0] == "0" and out[1] == out[2]
        pid = prop(berthd, n, "Pid")
        host_ns = berthd.run(["readlink", f"/proc/{pid}/ns/user", "/proc/self/ns/user"], check=True).stdout.split()
        assert host_ns[0] == out[1] and host_ns[0] != host_ns[1]
        # exec -u: a user of the image, in the same range.
        assert berthd.berthctl("exec", "-u", "nobody", n, "id", "-u", check=True).stdout.strip() == "65534"
        assert uid_map(berthd, n, "-u", "1000")[1] == base
    finally:
        berthd.berthctl("rm", "-f", n)


def test_options_keep_working(busybox_image, berthd):
    # --init, -u, --read-only, a named volume (filled from the image), tmpfs, capabilities.
    vol = f"uns-{uuid.uuid4().hex[:8]}"
    try:
        out = berthd.berthctl("run", "--rm", "--userns=auto", "--init", "-u", "1000:1000", "--read-only",
                              "-v", f"{vol}:/etc", "--tmpfs", "/scratch", busybox_image, "sh", "-c",
                              "cat /proc/1/cmdline | tr '\\0' ' '; echo; id -u; "
                              "touch /x 2>/dev/null || echo ro; touch /scratch/y && echo tmpfs; "
                              "test -s /etc/passwd && echo copied",
                              check=True).stdout.splitlines()
        assert out[1:] == ["1000", "ro", "tmpfs", "copied"], out
        assert "sh" not in out[0]  # PID 1 is the init, not the payload
        out = berthd.berthctl("run", "--rm", "--userns=auto", "-v", f"{vol}:/data", busybox_image, "sh", "-c",
                              "touch /data/z && stat -c %u /data", check=True).stdout.split()
        assert out == ["0"]
    finally:
        berthd.berthctl("volume", "rm", "-f", vol)
    # Capabilities are those of the namespace: CAP_NET_ADMIN works on the container's own network.
    out = berthd.berthctl("run", "--rm", "--userns=auto", "--cap-add", "NET_ADMIN", busybox_image, "sh", "-c",
                          "ip link set lo down && echo down; grep CapEff /proc/self/status", check=True).stdout
    assert "down" in out
    # The masked paths and the seccomp filter are still there.
    out = berthd.berthctl("run", "--rm", "--userns=auto", busybox_image, "sh", "-c",
                          "wc -c < /proc/timer_list; grep Seccomp: /proc/self/status", check=True).stdout.split()
    assert out == ["0", "Seccomp:", "2"]
    # A terminal of the container's devpts.
    out = berthd.berthctl("run", "--rm", "-t", "--userns=auto", busybox_image, "tty", check=True).stdout
    assert "/dev/pts/0" in out


def test_device_is_bound(busybox_image, berthd):
    out = berthd.berthctl("run", "--rm", "--userns=auto", "--device", "/dev/null:/dev/mynull", busybox_image,
                          "sh", "-c", "echo x > /dev/mynull && stat -c %t,%T /dev/mynull", check=True).stdout
    assert out.strip() == "1,3"


def test_host_is_the_default(busybox_image, berthd):
    n = name()
    berthd.berthctl("run", "-d", "--name", n, busybox_image, "sleep", "1000", check=True)
    try:
        assert uid_map(berthd, n) == [0, 0, 4294967295]
        assert prop(berthd, n, "UsernsMode") == "" and prop(berthd, n, "UidMapBase") == 0
        info = json.loads(berthd.berthctl("inspect", n, check=True).stdout)[0]
        assert info["HostConfig"]["UsernsMode"] == ""
    finally:
        berthd.berthctl("rm", "-f", n)
    out = berthd.berthctl("run", "--rm", "--userns=host", busybox_image, "cat", "/proc/self/uid_map",
                          check=True).stdout.split()
    assert out == ["0", "0", "4294967295"]


@pytest.mark.parametrize("options, message", [
    ({"UsernsMode": "keep-id"}, "Invalid user namespace mode \"keep-id\""),
    ({"UsernsMode": "private"}, "Invalid user namespace mode \"private\""),
    ({"UsernsMode": {"@b": True}}, "Container option \"UsernsMode\" must have type \"s\""),
    ({"UsernsMode": "auto", "Privileged": {"@b": True}}, "Privileged mode cannot be combined with a user namespace"),
])
def test_bad_values_are_refused(busybox_image, berthd, options, message):
    before = container_count(berthd)
    proc = bus_create(berthd, options)
    assert proc.returncode == 1 and proc.stdout.startswith("ERROR org.berth1.Error.InvalidArgument "), proc
    assert message in proc.stdout, proc
    proc = berthd.berthctl("create", "--userns=nope", busybox_image)
    assert proc.returncode == 125 and "Invalid user namespace mode \"nope\"" in proc.stderr
    assert container_count(berthd) == before


def test_cp_and_diff_see_container_ids(busybox_image, berthd):
    """cp into and out of a running container works as its root, with the container's ids (as in a
    stopped one, whose upper layer holds them as they are)."""
    n = name()
    src = os.path.join(SHARED_TMP, f"userns-cp-{uuid.uuid4().hex[:8]}")
    out = src + ".out"
    berthd.sh(f"echo hi > {src} && chown 5:6 {src}", check=True)
    base = run_auto(berthd, n)
    try:
        berthd.berthctl("exec", n, "sh", "-c", "echo a > /etc/made && chown 7:8 /etc/made", check=True)
        assert "A /etc/made" in berthd.berthctl("diff", n, check=True).stdout
        # -a: the source's owners, as the container sees them (without it: the container's root).
        berthd.berthctl("cp", "-a", src, f"{n}:/root/in", check=True)
        assert berthd.berthctl("exec", n, "stat", "-c", "%u:%g", "/root/in", check=True).stdout.strip() == "5:6"
        berthd.berthctl("cp", src, f"{n}:/root/plain", check=True)
        assert berthd.berthctl("exec", n, "stat", "-c", "%u:%g", "/root/plain", check=True).stdout.strip() == "0:0"
        berthd.berthctl("cp", "-a", f"{n}:/etc/made", out, check=True)
        assert berthd.run(["stat", "-c", "%u:%g", out], check=True).stdout.strip() == "7:8"
        cid = prop(berthd, n, "Id")
        on_disk = berthd.run(["stat", "-c", "%u:%g", f"/var/lib/berth/containers/{cid}/{'upper' if DRIVER == 'overlay' else 'rootfs'}/root/in"],
                             check=True).stdout.strip()
        assert on_disk == "5:6" and base > 0
        # Stopped: the same view.
        berthd.berthctl("stop", "-t", "0", n, check=True)
        berthd.berthctl("cp", "-a", src, f"{n}:/root/in2", check=True)
        berthd.berthctl("start", n, check=True)
        assert berthd.berthctl("exec", n, "stat", "-c", "%u:%g", "/root/in2", check=True).stdout.strip() == "5:6"
    finally:
        berthd.berthctl("rm", "-f", n)
        berthd.run(["rm", "-f", src, out])


def test_layers_whiteouts_and_opaque_directories(busybox_image, berthd):
    """An image of two layers whose top one deletes a file and replaces a directory (a whiteout and
    an opaque directory, which overlayfs reads from trusted.* xattrs): seen the same with
    --userns=auto as without."""
    n, tag = name(), f"uns-layers-{uuid.uuid4().hex[:8]}:1"
    try:
        # /root, not /etc: /etc/hosts and /etc/resolv.conf are mount points in a running container.
        berthd.berthctl("run", "--name", n, busybox_image, "sh", "-c",
                        "rm /bin/ls && rm -rf /root && mkdir /root && echo x > /root/only", check=True)
        berthd.berthctl("commit", n, tag, check=True)
        script = "test -e /bin/ls && echo ls; ls -a /root | tr '\\n' ' '"
        host = berthd.berthctl("run", "--rm", tag, "sh", "-c", script, check=True).stdout
        auto = berthd.berthctl("run", "--rm", "--userns=auto", tag, "sh", "-c", script, check=True).stdout
        assert host == auto == ". .. only "
    finally:
        berthd.berthctl("rm", "-f", n)
        berthd.berthctl("rmi", tag)
