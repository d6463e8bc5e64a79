# SPDX-License-Identifier: LGPL-2.1-or-later
"""Volumes: named, anonymous, bind, tmpfs, --volumes-from all or nothing, symlink-safe targets."""
import json
import os
import shutil
import tarfile
import tempfile
import uuid

import pytest

from conftest import SHARED_TMP

BUS_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_call.py")


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def manager(bed, method, *args):
    return bed.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", method, json.dumps(list(args))])


def volume_names(bed):
    return bed.berthctl("volume", "ls", "-q", check=True).stdout.split()


def mounts_of(bed, name):
    obj = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                     check=True).stdout.split('"')[1]
    out = bed.busctl("--json=short", "get-property", "org.berth1", obj, "org.berth1.Container", "Mounts",
                     check=True).stdout
    return json.loads(out)["data"]


@pytest.fixture()
def hostdir():
    d = tempfile.mkdtemp(prefix="berth-bind.", dir=SHARED_TMP)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_named_volume_outlives_its_container(busybox_image, berthd):
    vol = uniq("data")
    berthd.berthctl("run", "--rm", "-v", f"{vol}:/data", busybox_image, "sh", "-c", "echo kept > /data/f", check=True)
    assert vol in volume_names(berthd)  # created on first use, kept after --rm
    out = berthd.berthctl("run", "--rm", "-v", f"{vol}:/data", busybox_image, "cat", "/data/f", check=True).stdout
    assert out == "kept\n"
    info = json.loads(berthd.berthctl("volume", "inspect", vol, check=True).stdout)[0]
    assert info["Name"] == vol and info["Driver"] == "local"
    berthd.sh(f"test -f {info['Mountpoint']}/f", check=True)
    berthd.berthctl("volume", "rm", vol, check=True)
    assert vol not in volume_names(berthd)
    berthd.sh(f"test ! -e {info['Mountpoint']}", check=True)


def test_read_only_volume_refuses_writes(busybox_image, berthd):
    vol = uniq("ro")
    proc = berthd.berthctl("run", "--rm", "-v", f"{vol}:/data:ro", busybox_image, "sh", "-c",
                           "touch /data/x && echo WROTE")
    assert "WROTE" not in proc.stdout and proc.returncode != 0
    assert "Read-only" in proc.stderr
    berthd.berthctl("volume", "rm", vol, check=True)


def test_anonymous_volumes_removed_with_rm_v_and_rm(busybox_image, berthd):
    before = set(volume_names(berthd))
    name = uniq("anon")
    berthd.berthctl("run", "--name", name, "-v", "/scratch", busybox_image, "sh", "-c", "echo x > /scratch/y",
                    check=True)
    (anon,) = set(volume_names(berthd)) - before
    assert len(anon) == 64
    berthd.berthctl("rm", "-v", name, check=True)
    assert anon not in volume_names(berthd)
    # --rm removes anonymous volumes too
    berthd.berthctl("run", "--rm", "-v", "/scratch", busybox_image, "true", check=True)
    berthd.wait_until(lambda: set(volume_names(berthd)) == before, what="the anonymous volume to go")
    # plain rm keeps them (docker's rule), prune removes them
    name = uniq("anon")
    berthd.berthctl("run", "--name", name, "-v", "/scratch", busybox_image, "true", check=True)
    berthd.berthctl("rm", name, check=True)
    (left,) = set(volume_names(berthd)) - before
    assert left in berthd.berthctl("volume", "prune", "-f", check=True).stdout
    assert set(volume_names(berthd)) == before


def test_volume_in_use_cannot_be_removed(busybox_image, berthd):
    vol = uniq("busy")
    name = uniq("user")
    berthd.berthctl("run", "-d", "--name", name, "-v", f"{vol}:/data", busybox_image, "sleep", "300", check=True)
    proc = berthd.berthctl("volume", "rm", vol)
    assert proc.returncode == 125 and "in use" in proc.stderr
    proc = manager(berthd, "RemoveVolume", vol, True)
    assert "ERROR org.berth1.Error.VolumeInUse" in proc.stdout  # even forced: it is mounted
    berthd.berthctl("rm", "-f", name, check=True)
    berthd.berthctl("volume", "rm", vol, check=True)


@pytest.mark.parametrize("bad", ["../x", "a/b", "", "x" * 300, "-x"])
def test_bad_volume_names(berthd, bad):
    proc = manager(berthd, "CreateVolume", bad, {})
    if bad == "":
        # an empty name means "generate one", as docker volume create does
        assert proc.returncode == 0
        berthd.berthctl("volume", "prune", "-f")
        name = berthd.busctl("get-property", "org.berth1", json.loads(proc.stdout), "org.berth1.Volume", "Name",
                             check=True).stdout.split('"')[1]
        berthd.berthctl("volume", "rm", name, check=True)
        return
    assert "ERROR org.berth1.Error.InvalidName" in proc.stdout, proc
    assert berthd.berthctl("volume", "create", bad).returncode == 125


def test_bind_mounts(busybox_image, berthd, hostdir):
    with open(os.path.join(hostdir, "in"), "w") as f:
        f.write("from host\n")
    out = berthd.berthctl("run", "--rm", "-v", f"{hostdir}:/mnt/h", busybox_image, "sh", "-c",
                          "cat /mnt/h/in; echo back > /mnt/h/out", check=True).stdout
    assert out == "from host\n"
    with open(os.path.join(hostdir, "out")) as f:
        assert f.read() == "back\n"
    proc = berthd.berthctl("run", "--rm", "-v", f"{hostdir}:/mnt/h:ro", busybox_image, "touch", "/mnt/h/x")
    assert proc.returncode != 0 and not os.path.exists(os.path.join(hostdir, "x"))
    # a single file
    out = berthd.berthctl("run", "--rm", "--mount", f"type=bind,source={hostdir}/in,target=/etc/motd,readonly",
                          busybox_image, "cat", "/etc/motd", check=True).stdout
    assert out == "from host\n"
    # a missing host path is a clear error and creates nothing
    before = berthd.berthctl("ps", "-aq", check=True).stdout
    proc = berthd.berthctl("create", "-v", "/does/not/exist:/x", busybox_image, "true")
    assert proc.returncode == 125 and "does not exist" in proc.stderr
    assert berthd.berthctl("ps", "-aq", check=True).stdout == before


def test_tmpfs(busybox_image, berthd):
    out = berthd.berthctl("run", "--rm", "--tmpfs", "/cache:size=1m", busybox_image, "sh", "-c",
                          "grep ' /cache ' /proc/mounts; dd if=/dev/zero of=/cache/big bs=1k count=2048 2>&1 | "
                          "grep -c 'No space'", check=True).stdout
    assert "tmpfs" in out and "size=1024k" in out
    assert out.strip().endswith("1")
    proc = berthd.berthctl("create", "--tmpfs", "/x:size=1m,exec", busybox_image, "true")
    assert proc.returncode == 125 and "tmpfs options" in proc.stderr


def test_symlinked_target_stays_inside_the_container(busybox_image, berthd, hostdir):
    """An image whose /data is a symlink to /etc: the volume lands on the container's /etc, never the
    host's; and a symlink pointing far out (../../..) is clamped at the container's root."""
    tar = os.path.join(hostdir, "evil.tar")
    img = uniq("evil")
    src = [p for p in os.listdir(SHARED_TMP) if p.startswith("berth-busybox.")]
    assert src
    with tarfile.open(os.path.join(SHARED_TMP, src[0], "busybox.tar")) as base, tarfile.open(tar, "w") as out:
        for member in base.getmembers():
            out.addfile(member, base.extractfile(member) if member.isfile() else None)
        for link, target in [("data", "/etc"), ("escape", "../../../../../../etc")]:
            info = tarfile.TarInfo(link)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            out.addfile(info)
    os.chmod(tar, 0o644)
    berthd.berthctl("import", tar, img, check=True)
    with open(os.path.join(hostdir, "marker"), "w") as f:
        f.write("m\n")
    host_etc_before = berthd.sh("ls /etc | md5sum", check=True).stdout
    out = berthd.berthctl("run", "--rm", "-v", f"{hostdir}:/data", "-v", f"{hostdir}:/escape/sub", img, "sh", "-c",
                          "cat /etc/marker; cat /etc/sub/marker", check=True).stdout
    assert out == "m\nm\n"
    assert berthd.sh("ls /etc | md5sum", check=True).stdout == host_etc_before
    berthd.sh("test ! -e /etc/sub && test ! -e /etc/marker", check=True)
    berthd.berthctl("rmi", img)


def test_volumes_from_is_all_or_nothing(busybox_image, berthd):
    """The regression sequence from the issue."""
    foo, bar, consumer = uniq("data_foo"), uniq("data_bar"), uniq("consumer")
    berthd.berthctl("run", "--name", foo, "-v", "/foo", busybox_image, "sh", "-c", "echo F > /foo/f", check=True)
    proc = berthd.berthctl("run", "--name", consumer, "--volumes-from", foo, "--volumes-from", bar, busybox_image,
                           "sh", "-c", "cat /foo/f /bar/b")
    assert proc.returncode == 125 and bar in proc.stderr and "no such container" in proc.stderr
    proc = berthd.berthctl("start", consumer)
    assert proc.returncode == 125 and bar in proc.stderr
    assert json.loads(berthd.berthctl("inspect", consumer, check=True).stdout)[0]["State"]["Status"] == "created"
    berthd.berthctl("run", "--name", bar, "-v", "/bar", busybox_image, "sh", "-c", "echo B > /bar/b", check=True)
    proc = berthd.berthctl("start", "-a", consumer)
    assert proc.returncode == 0, proc
    assert proc.stdout == "F\nB\n"
    # read-only import of another container's volumes
    proc = berthd.berthctl("run", "--rm", "--volumes-from", f"{foo}:ro", busybox_image, "touch", "/foo/x")
    assert proc.returncode != 0
    for c in (consumer, foo, bar):
        berthd.berthctl("rm", "-v", c, check=True)


def test_mounts_property_and_busctl_create(busybox_image, berthd, hostdir):
    vol = uniq("bus")
    proc = berthd.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "CreateContainer",
                       json.dumps([busybox_image, "", ["true"], [],
                                   {"Mounts": {"@a(sssb)": [["volume", vol, "/v", False],
                                                            ["bind", hostdir, "/h", True],
                                                            ["tmpfs", "size=1m", "/t", False]]}}])])
    assert proc.returncode == 0, proc
    path = json.loads(proc.stdout)
    out = json.loads(berthd.busctl("--json=short", "get-property", "org.berth1", path, "org.berth1.Container",
                                   "Mounts", check=True).stdout)["data"]
    assert out == [["volume", vol, "/v", False], ["bind", hostdir, "/h", True], ["tmpfs", "size=1m", "/t", False]]
    for bad, needle in [([["nfs", "x", "/v", False]], "Unknown mount type"),
                        ([["volume", "", "relative", False]], "Invalid mount target"),
                        ([["volume", "", "/a", False], ["tmpfs", "", "/a", False]], "Duplicate mount target")]:
        proc = berthd.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "CreateContainer",
                           json.dumps([busybox_image, "", ["true"], [], {"Mounts": {"@a(sssb)": bad}}])])
        assert "ERROR org.berth1.Error.InvalidArgument" in proc.stdout and needle in proc.stdout, proc
    berthd.busctl("call", "org.berth1", path, "org.berth1.Container", "RemoveWithVolumes", "b", "true", check=True)
    berthd.berthctl("volume", "rm", vol, check=True)


def test_volumes_from_is_passed_on_and_shown(busybox_image, berthd):
    # Docker copies a source's mount points, those it took with --volumes-from included: a chain
    # A <- B <- C gives C A's volumes, and inspect shows them on B and C.
    a, b, ro = uniq("vf_a"), uniq("vf_b"), uniq("vf_ro")
    berthd.berthctl("run", "--name", a, "-v", "/a", busybox_image, "sh", "-c", "echo A > /a/f", check=True)
    berthd.berthctl("create", "--name", b, "--volumes-from", a, "-v", "/b", busybox_image, "true", check=True)
    try:
        info = json.loads(berthd.berthctl("inspect", b, check=True).stdout)[0]
        mounts = {m["Destination"]: m for m in info["Mounts"]}
        assert sorted(mounts) == ["/a", "/b"], info["Mounts"]
        a_volume = json.loads(berthd.berthctl("inspect", a, check=True).stdout)[0]["Mounts"][0]
        assert mounts["/a"]["Type"] == "volume" and mounts["/a"]["Name"] == a_volume["Name"], mounts
        assert mounts["/a"]["RW"] is True and mounts["/a"]["Driver"] == "local", mounts
        assert berthd.sh(f"test -f {mounts['/a']['Source']}/f").returncode == 0, mounts
        assert info["HostConfig"]["VolumesFrom"] == [a], info["HostConfig"]
        out = berthd.berthctl("run", "--rm", "--volumes-from", b, busybox_image, "sh", "-c", "cat /a/f; ls -d /b",
                              check=True).stdout
        assert out == "A\n/b\n"
        # ":ro" holds along the chain.
        berthd.berthctl("create", "--name", ro, "--volumes-from", f"{b}:ro", busybox_image, "true", check=True)
        info = json.loads(berthd.berthctl("inspect", ro, check=True).stdout)[0]
        assert {m["Destination"]: m["RW"] for m in info["Mounts"]} == {"/a": False, "/b": False}, info["Mounts"]
        proc = berthd.berthctl("start", "-a", ro)
        assert proc.returncode == 0
        proc = berthd.berthctl("run", "--rm", "--volumes-from", f"{b}:ro", busybox_image, "touch", "/a/x")
        assert proc.returncode != 0
        # A cycle (each named before the other existed: --volumes-from is evaluated at start) ends.
        x, y = uniq("vf_x"), uniq("vf_y")
        berthd.berthctl("create", "--name", x, "--volumes-from", y, "-v", "/x", busybox_image, "ls", "-d", "/x", "/y",
                        check=True)
        berthd.berthctl("create", "--name", y, "--volumes-from", x, "-v", "/y", busybox_image, "true", check=True)
        proc = berthd.berthctl("start", "-a", x)
        assert proc.returncode == 0 and proc.stdout == "/x\n/y\n", proc
        for c in (x, y):
            berthd.berthctl("rm", "-v", c, check=True)
    finally:
        for c in (ro, b, a):
            berthd.berthctl("rm", "-v", c)


def test_inspect_shows_the_whole_configuration(busybox_image, berthd):
    name = uniq("insp")
    berthd.berthctl("create", "--name", name, "--entrypoint", "/bin/sh", "-u", "nobody", "-w", "/tmp", "-t",
                    "--restart", "on-failure:3", "--init", "--read-only", "--label", "k=v", "--stop-signal",
                    "SIGUSR1", "-v", "/data", busybox_image, "-c", "echo hi", check=True)
    try:
        info = json.loads(berthd.berthctl("inspect", name, check=True).stdout)[0]
        config, host = info["Config"], info["HostConfig"]
        assert config["Entrypoint"] == ["/bin/sh"] and config["Cmd"] == ["-c", "echo hi"], config
        assert info["Path"] == "/bin/sh" and info["Args"] == ["-c", "echo hi"], info
        assert config["User"] == "nobody" and config["WorkingDir"] == "/tmp" and config["Tty"] is True, config
        assert config["Labels"] == {"k": "v"} and config["StopSignal"] == "SIGUSR1", config
        assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}, host
        assert host["Init"] is True and host["ReadonlyRootfs"] is True, host
        assert info["RestartCount"] == 0
        [mount] = info["Mounts"]
        assert mount["Type"] == "volume" and mount["Destination"] == "/data" and mount["RW"] is True, mount
        assert set(mount) >= {"Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation"}
        # Docker's templates over it.
        fmt = lambda t: berthd.berthctl("inspect", "-f", t, name, check=True).stdout  # noqa: E731
        assert fmt("{{range .Mounts}}{{.Destination}} {{end}}") == "/data \n"
        assert fmt("{{.RestartCount}}") == "0\n"
        assert json.loads(fmt("{{json .Config}}"))["Entrypoint"] == ["/bin/sh"]
        assert fmt("{{.Config.Cmd}} {{index .Config.Labels \"k\"}} {{.HostConfig.RestartPolicy.Name}}") == \
            "[-c echo hi] v on-failure\n"
        assert fmt("{{if .Config.Tty}}tty{{else}}none{{end}} {{len .Mounts}}") == "tty 1\n"
    finally:
        berthd.berthctl("rm", "-v", name)


def volume_names(bed):
    return bed.berthctl("volume", "ls", "-q", check=True).stdout.split()


def test_volume_used_through_volumes_from_is_kept(busybox_image, berthd):
    """A volume that a running container has through --volumes-from is removable (prune / rm -v)."""
    a, b = uniq("xsrc"), uniq("xuser")
    berthd.berthctl("create", "--name", a, "-v", "/data", busybox_image, "true", check=True)
    before = set(volume_names(berthd))
    berthd.berthctl("run", "-d", "--name", b, "--volumes-from", a, busybox_image, "sh", "-c",
                    "echo precious > /data/f; sleep 300", check=True)
    try:
        vols = [v for v in before if len(v) == 64]
        assert berthd.berthctl("exec", b, "cat", "/data/f").stdout == "precious\n"
        berthd.berthctl("rm", a, check=True)  # plain rm keeps the anonymous volume (Docker)
        berthd.berthctl("volume", "prune", "-f")
        after = set(volume_names(berthd))
        gone = [v for v in vols if v not in after]
        data = berthd.berthctl("exec", b, "sh", "-c", "ls -la /data; cat /data/f")
        assert not gone and data.stdout.endswith("precious\n"), f"removed {gone} under running {b}"
    finally:
        berthd.berthctl("rm", "-f", b)
        berthd.berthctl("volume", "prune", "-f")  # A's anonymous volume is unused now


def test_unreadable_volume_metadata_keeps_the_data(busybox_image, berthd):
    """A volume whose volume.json cannot be parsed is rm -rf'ed with its data at startup."""
    vol = uniq("xvol")
    berthd.berthctl("volume", "create", vol, check=True)
    mp = json.loads(berthd.berthctl("volume", "inspect", vol, check=True).stdout)[0]["Mountpoint"]
    berthd.sh(f"echo precious > {mp}/f && printf '{{\"name\": ' > {mp}/../volume.json", check=True)
    berthd.systemctl("restart", "berthd.service", check=True)
    exists = berthd.sh(f"cat {mp}/f")
    assert exists.stdout == "precious\n", "the volume's data was removed"


def test_removed_data_goes_in_a_worker_and_survives_a_crash(busybox_image, berthd):
    # A volume's data is renamed out of the way (.rm-NAME) and removed by a worker, so a large one
    # does not stop berthd; what a crash left behind is swept at the next start.
    vol = uniq("rmvol")
    berthd.berthctl("volume", "create", vol, check=True)
    berthd.berthctl("run", "--rm", "-v", f"{vol}:/v", busybox_image, "sh", "-c",
                    "mkdir -p /v/d && for i in $(seq 1 2000); do : > /v/d/$i; done", check=True)
    berthd.berthctl("volume", "rm", vol, check=True)
    assert berthd.sh(f"test -e /var/lib/berth/volumes/{vol}").returncode != 0
    berthd.wait_until(lambda: berthd.sh(f"test -e /var/lib/berth/volumes/.rm-{vol}").returncode != 0,
                      what="the worker to remove the data")
    # A removal cut short (berthd killed): the next start finishes it.
    berthd.sh("mkdir -p /var/lib/berth/volumes/.rm-leftover/a/b && touch /var/lib/berth/volumes/.rm-leftover/a/b/f",
              check=True)
    berthd.systemctl("restart", "berthd.service", check=True)
    berthd.wait_until(lambda: berthd.sh("test -e /var/lib/berth/volumes/.rm-leftover").returncode != 0,
                      what="startup to sweep the leftover")
    assert vol not in berthd.berthctl("volume", "ls", "-q", check=True).stdout.split()
