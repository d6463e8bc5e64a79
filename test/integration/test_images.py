# SPDX-License-Identifier: LGPL-2.1-or-later
"""Image import through berthctl and D-Bus: content-addressed layers, hostile tarballs refused."""
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid

import pytest

from conftest import DRIVER, LAYERS, SHARED_TMP

STATE = "/var/lib/berth"


def store_listing(bed):
    """Everything in berth's layer and image store, to prove a failed import wrote nothing."""
    proc = bed.sh(f"cd {STATE} && find {DRIVER} images -maxdepth 2 | grep -v /.rm- | sort", check=True)
    return proc.stdout


def make_tar(path, members):
    """members: list of (TarInfo, bytes or None)."""
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    os.chmod(path, 0o644)


def file_entry(name, data=b"evil\n"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, data


def dir_entry(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info, None


def link_entry(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def device_entry(name, kind):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.devmajor, info.devminor = 8, 0
    info.mode = 0o600
    return info, None


@pytest.fixture()
def victim():
    """A directory outside berth's store that hostile archives aim at."""
    d = tempfile.mkdtemp(prefix="berth-victim.", dir=SHARED_TMP)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(d + ".tars", ignore_errors=True)


def hostile_archives(victim):
    rel_victim = os.path.relpath(victim, "/")
    return {
        "dotdot": [dir_entry("etc"), file_entry("../" * 12 + rel_victim + "/dotdot")],
        "nested-dotdot": [dir_entry("a"), file_entry("a/../../" + "../" * 10 + rel_victim + "/nested")],
        "absolute": [file_entry(victim + "/absolute")],
        "symlink-escape": [link_entry("link", victim), file_entry("link/through-symlink")],
        "symlink-dotdot": [link_entry("up", "../../../../../../../../.."),
                           file_entry("up/" + rel_victim + "/through-up")],
        "hardlink-out": [link_entry("hl", victim + "/target", tarfile.LNKTYPE)],
        "hardlink-dotdot": [link_entry("hl", "../../../../../../etc/passwd", tarfile.LNKTYPE)],
        "chardev": [device_entry("dev/sda", tarfile.CHRTYPE)],
        "blockdev": [device_entry("sda", tarfile.BLKTYPE)],
    }


def test_import_creates_content_addressed_image(busybox_image, berthd):
    images = berthd.busctl("--json=short", "call", "org.berth1", "/org/berth1", "org.berth1.Manager",
                           "ListImages", check=True)
    assert "busybox:latest" in images.stdout
    obj = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetImage", "s",
                        "busybox", check=True).stdout.split('"')[1]
    layers = berthd.busctl("get-property", "org.berth1", obj, "org.berth1.Image", "Layers",
                           check=True).stdout
    digest = layers.split('"')[1]
    assert digest.startswith("sha256:") and len(digest) == 71
    # The layer is stored under its digest, and the digest is the archive's sha256.
    berthd.sh(f"test -x {LAYERS}/{digest[7:]}/diff/bin/busybox", check=True)
    out = berthd.berthctl("images", check=True).stdout
    assert "busybox" in out and "latest" in out


def test_reimport_shares_the_layer(busybox_image, busybox_tar, berthd):
    before = berthd.sh(f"ls {LAYERS} | wc -l", check=True).stdout
    berthd.berthctl("import", busybox_tar, "busybox-copy:v1", check=True)
    after = berthd.sh(f"ls {LAYERS} | wc -l", check=True).stdout
    assert before == after
    assert "busybox-copy" in berthd.berthctl("images", check=True).stdout


@pytest.mark.parametrize("case", sorted(hostile_archives("/x").keys()))
def test_hostile_archive_is_refused_and_writes_nothing(case, berthd, victim):
    path = os.path.join(victim + ".tars", case + ".tar")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.chmod(os.path.dirname(path), 0o755)
    make_tar(path, hostile_archives(victim)[case])
    with open(os.path.join(victim, "target"), "w") as f:
        f.write("victim\n")
    before = store_listing(berthd)
    images_before = berthd.berthctl("images", "-q", check=True).stdout

    proc = berthd.berthctl("import", path, f"hostile-{case}")
    assert proc.returncode == 125, proc
    assert "berthctl:" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Invalid image archive" in proc.stderr, proc.stderr

    assert sorted(os.listdir(victim)) == ["target"]
    with open(os.path.join(victim, "target")) as f:
        assert f.read() == "victim\n"
    assert store_listing(berthd) == before
    assert berthd.berthctl("images", "-q", check=True).stdout == images_before
    # Also nothing in the testbed's own /etc from the "../etc/passwd" style attempts.
    berthd.sh("! grep -q evil /etc/passwd", check=True)


def test_garbage_archive_is_refused(berthd, victim):
    path = os.path.join(victim, "garbage.tar")
    with open(path, "wb") as f:
        f.write(b"this is not a tarball\n" * 100)
    before = store_listing(berthd)
    proc = berthd.berthctl("import", path, "garbage")
    assert proc.returncode == 125
    assert store_listing(berthd) == before


def test_bad_image_reference_is_invalid_name(berthd, busybox_tar):
    for ref in ["UPPER", "a:b:c", "-x", "x/"]:
        proc = berthd.berthctl("import", busybox_tar, ref)
        assert proc.returncode == 125, (ref, proc)
        assert "invalid" in proc.stderr.lower() and "reference" in proc.stderr.lower(), proc.stderr


def test_unknown_image_is_no_such_image(berthd):
    proc = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetImage", "s", "nope:1")
    assert proc.returncode != 0
    assert "No such image" in proc.stderr
    # (without --pull=never run would try docker.io, which tests never reach)
    proc = berthd.berthctl("run", "--pull=never", "nope:1", "true")
    assert proc.returncode == 125 and "No such image" in proc.stderr


def test_import_with_changes_and_message(busybox_tar, berthd):
    ref = "imported-changed:v1"
    berthd.berthctl("import", "--change", 'CMD ["sh", "-c", "echo $GREETING from $PWD"]', "-c", "ENV GREETING=hi",
                    "-c", "WORKDIR /tmp", "-c", "LABEL team=berth", "-m", "made by a test", busybox_tar, ref,
                    check=True)
    try:
        assert berthd.berthctl("run", "--rm", ref, check=True).stdout == "hi from /tmp\n"
        berthd.berthctl("create", "--name", "labelled-by-import", ref, check=True)
        info = json.loads(berthd.berthctl("inspect", "labelled-by-import", check=True).stdout)[0]
        berthd.berthctl("rm", "labelled-by-import", check=True)
        assert info["Config"]["Labels"] == {"team": "berth"}, info["Config"]  # the image's labels
        assert "made by a test" in berthd.berthctl("history", "--no-trunc", ref, check=True).stdout
        # A bad change is refused before anything is read or stored.
        before = berthd.berthctl("images", "-q", check=True).stdout
        proc = berthd.berthctl("import", "-c", "FROM busybox", busybox_tar, "imported-bad:v1")
        assert proc.returncode == 125 and "Invalid change" in proc.stderr, proc
        assert berthd.berthctl("images", "-q", check=True).stdout == before
    finally:
        berthd.berthctl("rmi", ref)


def test_disk_full_during_import_and_commit_leaves_nothing(busybox_image, berthd, victim):
    """With no space left where layers are made, import and commit fail with a clear error and
    leave neither a half-made layer nor an image record behind."""
    big = os.path.join(victim, "big.tar")
    info = tarfile.TarInfo("big.bin")
    data = os.urandom(4 << 20)
    info.size = len(data)
    with tarfile.open(big, "w") as tar:
        tar.addfile(info, io.BytesIO(data))
    name = "diskfull-" + os.path.basename(victim)[-6:].lower()
    berthd.berthctl("run", "--name", name, busybox_image, "dd", "if=/dev/urandom", "of=/big", "bs=1M", "count=4",
                    check=True)
    before = store_listing(berthd)
    images_before = berthd.berthctl("images", "-q", check=True).stdout
    layers_before = berthd.sh(f"ls -A {LAYERS}", check=True).stdout
    if DRIVER == "overlay":
        # A 1 MiB tmpfs where layers are made.
        berthd.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", LAYERS], check=True)
    else:
        # btrfs layers are snapshots of layers on the same file system: fill that one up instead,
        # leaving less than the 4 MiB either operation needs.
        # fallocate reserves without writing; btrfs keeps some space back, so halve until it fits.
        berthd.sh(f"size=$(df -B1 --output=avail {LAYERS} | tail -1); k=0; "
                  f"while [ $size -gt 65536 ]; do fallocate -l $size {STATE}/filler.$k 2>/dev/null && k=$((k+1)) "
                  f"|| size=$((size / 2)); done", check=True)
    try:
        proc = berthd.berthctl("import", big, "diskfull/import:1")
        assert proc.returncode == 125 and "No space left" in proc.stderr, proc
        proc = berthd.berthctl("commit", name, "diskfull/commit:1")
        assert proc.returncode == 125 and "No space left" in proc.stderr, proc
        # nothing half-made in the full store itself
        expected = "" if DRIVER == "overlay" else layers_before
        assert berthd.sh(f"ls -A {LAYERS}", check=True).stdout == expected
    finally:
        if DRIVER == "overlay":
            berthd.run(["umount", LAYERS], check=True)
        else:
            berthd.sh(f"rm -f {STATE}/filler.*", check=True)
        berthd.berthctl("rm", name)
    assert store_listing(berthd) == before
    assert berthd.berthctl("images", "-q", check=True).stdout == images_before


def test_disk_full_at_create_leaves_no_container(busybox_image, berthd):
    """CreateContainer answers once the container's record is written (by berthd's writer thread,
    see container-save.c); when it cannot be, the answer is the error and the container is gone:
    no half-made directory, no name taken, nothing in ps -a."""
    containers = f"{STATE}/containers"
    name = "full-" + uuid.uuid4().hex[:6]
    ps_before = berthd.berthctl("ps", "-a", "-q", "--no-trunc", check=True).stdout
    # One page of tmpfs, taken by a filler: directories still fit (tmpfs charges no pages for
    # them), the record does not.
    berthd.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", containers], check=True)
    try:
        berthd.sh(f"head -c 4096 /dev/zero > {containers}/filler", check=True)
        proc = berthd.berthctl("create", "--name", name, busybox_image, "true")
        assert proc.returncode == 125, proc
        if DRIVER == "overlay":
            assert "No space left on device" in proc.stderr, proc
            # It was the record that did not fit, not the directories before it.
            log = berthd.run(["journalctl", "-u", "berthd", "-n", "20", "-o", "cat"], check=True).stdout
            assert "/container.json: No space left on device" in log, log
        assert berthd.sh(f"ls -A {containers}", check=True).stdout == "filler\n"
        # Twelve at once: while berthd has callers waiting, records go through its writer thread
        # (container-save.c), and a failed one is undone there too.
        out = berthd.sh(f"for i in $(seq 12); do (berthctl create --name {name}-$i {busybox_image} true "
                        ">/dev/null 2>&1; echo $?) & done; wait", check=True).stdout
        assert out.split() == ["125"] * 12, out
        assert berthd.sh(f"ls -A {containers}", check=True).stdout == "filler\n"
    finally:
        berthd.run(["umount", containers], check=True)
    assert berthd.berthctl("ps", "-a", "-q", "--no-trunc", check=True).stdout == ps_before
    # The name is free again, and creating works once there is room.
    berthd.berthctl("create", "--name", name, busybox_image, "true", check=True)
    berthd.berthctl("rm", name, check=True)
