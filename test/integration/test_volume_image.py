# SPDX-License-Identifier: LGPL-2.1-or-later
"""The image's VOLUME entries and Docker's copy-up of image content into empty volumes."""
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid

import pytest

from conftest import SHARED_TMP
from test_image_archive import docker_archive
from test_volumes import mounts_of, volume_names


def seed_layer():
    """/seed with files, a subdirectory, a link and odd owners; /seed itself 1000:1000 0750."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, kind, data=b"", mode=0o644, uid=0, link=""):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.uid, info.gid, info.mtime = kind, mode, uid, uid, 1700000000
            info.linkname = link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
        add("seed", tarfile.DIRTYPE, mode=0o750, uid=1000)
        add("seed/a", tarfile.REGTYPE, b"from the image\n", uid=1000)
        add("seed/sub", tarfile.DIRTYPE, mode=0o700, uid=2000)
        add("seed/sub/b", tarfile.REGTYPE, b"deep\n", mode=0o600, uid=2000)
        add("seed/link", tarfile.SYMTYPE, link="/etc/passwd")
        add("seed/fifo", tarfile.FIFOTYPE)
    return buf.getvalue()


@pytest.fixture(scope="module")
def volume_image(berthd, busybox_tar):
    d = tempfile.mkdtemp(prefix="berth-volimg.", dir=SHARED_TMP)
    os.chmod(d, 0o755)
    with open(busybox_tar, "rb") as f:
        bb = f.read()
    path = os.path.join(d, "img.tar")
    docker_archive(path, [bb, seed_layer()], ["volimg:1"],
                   config_extra={"Volumes": {"/seed": {}, "/fresh//": {}, "relative": {}}})
    berthd.berthctl("load", "-i", path, check=True)
    shutil.rmtree(d, ignore_errors=True)
    yield "volimg:1"
    berthd.berthctl("rmi", "-f", "volimg:1")


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


LIST = "stat -c '%n %u:%g %a %F' /seed /seed/a /seed/sub /seed/sub/b /seed/fifo; readlink /seed/link; cat /seed/a"


def test_image_volumes_become_anonymous_volumes_filled_from_the_image(volume_image, berthd):
    before = set(volume_names(berthd))
    name = uniq("vi")
    out = berthd.berthctl("run", "--name", name, volume_image, "sh", "-c", LIST + "; ls -A /fresh | wc -l",
                          check=True).stdout.splitlines()
    assert out == ["/seed 1000:1000 750 directory", "/seed/a 1000:1000 644 regular file",
                   "/seed/sub 2000:2000 700 directory", "/seed/sub/b 2000:2000 600 regular file",
                   "/seed/fifo 0:0 644 fifo", "/etc/passwd", "from the image", "0"], out
    mounts = {m[2]: m for m in mounts_of(berthd, name)}
    # "/fresh//" is normalised; "relative" is not a path and is ignored.
    assert set(mounts) == {"/seed", "/fresh"}, mounts
    assert all(m[0] == "volume" and len(m[1]) == 64 for m in mounts.values())
    # The content really is in the volume, not only in the image's view.
    info = json.loads(berthd.berthctl("volume", "inspect", mounts["/seed"][1], check=True).stdout)[0]
    assert berthd.sh(f"cat {info['Mountpoint']}/sub/b", check=True).stdout == "deep\n"
    # A change in the volume survives a restart of the container; the copy happens only when empty.
    berthd.berthctl("start", "-a", name, check=True)
    berthd.run(["sh", "-c", f"echo changed > {info['Mountpoint']}/a"], check=True)
    assert "changed" in berthd.berthctl("start", "-a", name, check=True).stdout
    berthd.berthctl("rm", "-v", name, check=True)
    assert set(volume_names(berthd)) == before


def test_named_volume_over_image_content(volume_image, berthd):
    vol = uniq("seedvol")
    out = berthd.berthctl("run", "--rm", "-v", f"{vol}:/seed", volume_image, "sh", "-c", LIST,
                          check=True).stdout.splitlines()
    assert out[0] == "/seed 1000:1000 750 directory" and out[-1] == "from the image", out
    # A volume that is not empty is left alone.
    berthd.berthctl("volume", "rm", vol, check=True)
    berthd.berthctl("run", "--rm", "-v", f"{vol}:/data", volume_image, "sh", "-c", "echo mine > /data/own",
                    check=True)
    out = berthd.berthctl("run", "--rm", "-v", f"{vol}:/seed", volume_image, "ls", "/seed", check=True).stdout
    assert out.split() == ["own"], out
    berthd.berthctl("volume", "rm", vol, check=True)


def test_user_mount_replaces_the_image_volume(volume_image, berthd):
    before = set(volume_names(berthd))
    d = tempfile.mkdtemp(prefix="berth-volbind.", dir=SHARED_TMP)
    try:
        os.chmod(d, 0o755)
        out = berthd.berthctl("run", "--rm", "-v", f"{d}:/seed", "--tmpfs", "/fresh", volume_image,
                              "ls", "-A", "/seed", check=True).stdout
        assert out == "", out  # a bind mount is never filled from the image
        assert os.listdir(d) == []
        berthd.wait_until(lambda: set(volume_names(berthd)) == before, what="no anonymous volume left")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_copy_up_stays_on_the_image_and_mounts_go_parents_first(volume_image, berthd):
    # A volume over a kernel file system gets nothing of it (the copy does not leave the image).
    vol = uniq("sysvol")
    berthd.berthctl("run", "--rm", "-v", f"{vol}:/sys/kernel", volume_image, "true", check=True)
    info = json.loads(berthd.berthctl("volume", "inspect", vol, check=True).stdout)[0]
    assert berthd.sh(f"ls -A {info['Mountpoint']} | wc -l", check=True).stdout.strip() == "0"
    berthd.berthctl("volume", "rm", vol, check=True)
    # A bind mount inside the image's VOLUME /seed is mounted after (over) the volume, not hidden
    # under it, and its content is not copied into the volume.
    d = tempfile.mkdtemp(prefix="berth-nested.", dir=SHARED_TMP)
    try:
        os.chmod(d, 0o755)
        with open(os.path.join(d, "host-file"), "w") as f:
            f.write("from the host\n")
        name = uniq("nested")
        out = berthd.berthctl("run", "--name", name, "-v", f"{d}:/seed/sub/conf", volume_image, "sh", "-c",
                              "cat /seed/sub/conf/host-file; cat /seed/a", check=True).stdout
        assert out == "from the host\nfrom the image\n", out
        seed = {m[2]: m for m in mounts_of(berthd, name)}["/seed"]
        info = json.loads(berthd.berthctl("volume", "inspect", seed[1], check=True).stdout)[0]
        assert berthd.sh(f"test -e {info['Mountpoint']}/sub/conf/host-file").returncode != 0
        berthd.berthctl("rm", "-v", name, check=True)
    finally:
        shutil.rmtree(d, ignore_errors=True)
