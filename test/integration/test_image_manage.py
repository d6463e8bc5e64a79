# SPDX-License-Identifier: LGPL-2.1-or-later
"""Image management: tag, untag, remove (refused while in use), history, layer garbage collection."""
import io
import json
import os
import tarfile
import tempfile

import pytest

from conftest import LAYERS, SHARED_TMP

STATE = "/var/lib/berth"


def unique_tarball(label):
    """A tiny rootfs tarball whose layer no other test shares."""
    fd, path = tempfile.mkstemp(prefix=f"berth-{label}.", suffix=".tar", dir=SHARED_TMP)
    os.close(fd)
    with tarfile.open(path, "w") as tar:
        data = f"{label} {os.urandom(8).hex()}\n".encode()
        info = tarfile.TarInfo("etc/unique")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    os.chmod(path, 0o644)
    return path


def image_obj(bed, ref):
    proc = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetImage", "s", ref, check=True)
    return proc.stdout.split('"')[1]


def image_prop(bed, ref, prop):
    proc = bed.busctl("--json=short", "get-property", "org.berth1", image_obj(bed, ref), "org.berth1.Image", prop,
                      check=True)
    return json.loads(proc.stdout)["data"]


def layer_dirs(bed):
    return set(bed.sh(f"ls -A {LAYERS}", check=True).stdout.split())


def test_tag_and_untag(busybox_image, berthd):
    berthd.berthctl("tag", "busybox", "tagged/one:v1", check=True)
    berthd.berthctl("tag", "busybox", "tagged/two", check=True)
    tags = image_prop(berthd, "busybox", "RepoTags")
    assert {"busybox:latest", "tagged/one:v1", "tagged/two:latest"} <= set(tags)
    assert image_obj(berthd, "tagged/two") == image_obj(berthd, "busybox")

    # rmi of one of several tags only untags.
    proc = berthd.berthctl("rmi", "tagged/one:v1", check=True)
    assert proc.stdout.strip() == "Untagged: tagged/one:v1"
    berthd.busctl("call", "org.berth1", image_obj(berthd, "busybox"), "org.berth1.Image", "Untag", "s",
                  "tagged/two", check=True)
    assert "tagged/one:v1" not in image_prop(berthd, "busybox", "RepoTags")
    assert berthd.berthctl("image", "inspect", "tagged/two").returncode != 0


def test_tag_errors(busybox_image, berthd):
    proc = berthd.berthctl("tag", "busybox", "UPPER:case")
    assert proc.returncode == 125 and "Invalid image reference" in proc.stderr, proc
    proc = berthd.busctl("call", "org.berth1", image_obj(berthd, "busybox"), "org.berth1.Image", "Tag", "s", "a:b:c")
    assert proc.returncode != 0 and "Invalid image reference" in proc.stderr, proc
    proc = berthd.berthctl("tag", "no-such-image:1", "x:1")
    assert proc.returncode == 125 and "No such image" in proc.stderr, proc
    proc = berthd.berthctl("rmi", "no-such-image:1")
    assert proc.returncode == 125 and "No such image" in proc.stderr, proc
    proc = berthd.busctl("call", "org.berth1", image_obj(berthd, "busybox"), "org.berth1.Image", "Untag", "s",
                         "never:tagged")
    assert proc.returncode != 0 and "has no tag" in proc.stderr, proc


def test_tag_moves_between_images(busybox_image, busybox_tar, berthd):
    berthd.berthctl("import", busybox_tar, "mover:a", check=True)
    berthd.berthctl("tag", "mover:a", "mover:shared", check=True)
    other = berthd.berthctl("import", busybox_tar, "mover:b", check=True).stdout.strip()
    berthd.berthctl("tag", "mover:b", "mover:shared", check=True)
    assert image_obj(berthd, "mover:shared").endswith(other)
    assert "mover:shared" not in image_prop(berthd, "mover:a", "RepoTags")
    berthd.berthctl("rmi", "mover:a", "mover:b", check=True)


def test_rmi_removes_unshared_layers(berthd):
    tar = unique_tarball("rmi")
    try:
        image_id = berthd.berthctl("import", tar, "rmi-me:1", check=True).stdout.strip()
        layer = image_prop(berthd, "rmi-me:1", "Layers")[0][7:]
        assert layer in layer_dirs(berthd)
        proc = berthd.berthctl("rmi", "rmi-me:1", check=True)
        assert proc.stdout.splitlines() == ["Untagged: rmi-me:1", f"Deleted: sha256:{image_id}"]
        assert layer not in layer_dirs(berthd)
        berthd.sh(f"test ! -e {STATE}/images/{image_id}.json", check=True)
        assert berthd.berthctl("image", "inspect", image_id).returncode != 0
    finally:
        os.unlink(tar)


def test_rmi_keeps_shared_layers(busybox_image, busybox_tar, berthd):
    berthd.berthctl("import", busybox_tar, "sharer:1", check=True)
    layer = image_prop(berthd, "busybox", "Layers")[0][7:]
    berthd.berthctl("rmi", "sharer:1", check=True)
    assert layer in layer_dirs(berthd)
    berthd.run(["berthctl", "run", "--rm", "busybox", "true"], check=True)


def test_rmi_refused_while_a_container_uses_it(busybox_tar, berthd):
    tar = unique_tarball("inuse")
    try:
        berthd.berthctl("import", tar, "inuse:1", check=True)
        berthd.berthctl("tag", "inuse:1", "inuse:2", check=True)
        obj = image_obj(berthd, "inuse:1")
        layer = image_prop(berthd, "inuse:1", "Layers")[0][7:]
        berthd.berthctl("create", "--name", "inuse-c", "inuse:1", "/bin/true", check=True)

        proc = berthd.busctl("call", "org.berth1", obj, "org.berth1.Image", "Remove", "b", "false")
        assert proc.returncode != 0 and "used by 1 container" in proc.stderr, proc
        proc = berthd.berthctl("rmi", "inuse:1")  # one of two tags: only untagged
        assert proc.returncode == 0 and proc.stdout.strip() == "Untagged: inuse:1"
        proc = berthd.berthctl("rmi", "inuse:2")
        assert proc.returncode == 125 and "used by 1 container" in proc.stderr, proc
        assert layer in layer_dirs(berthd)

        proc = berthd.berthctl("rmi", "-f", "inuse:2")
        assert proc.returncode == 0, proc
        assert layer not in layer_dirs(berthd)
        proc = berthd.berthctl("start", "inuse-c")
        assert proc.returncode == 125 and "gone" in proc.stderr, proc
    finally:
        berthd.berthctl("rm", "-f", "inuse-c")
        os.unlink(tar)


def test_rmi_force_refused_while_running(busybox_tar, berthd):
    berthd.berthctl("import", busybox_tar, "running-img:1", check=True)
    berthd.berthctl("run", "-d", "--name", "running-c", "running-img:1", "sleep", "1000", check=True)
    try:
        proc = berthd.berthctl("rmi", "-f", "running-img:1")
        assert proc.returncode == 125 and "running container" in proc.stderr, proc
    finally:
        berthd.berthctl("rm", "-f", "running-c", check=True)
    berthd.berthctl("rmi", "running-img:1", check=True)


def test_rmi_by_id_with_several_tags_needs_force(berthd):
    tar = unique_tarball("multi")
    try:
        image_id = berthd.berthctl("import", tar, "multi:1", check=True).stdout.strip()
        berthd.berthctl("tag", "multi:1", "multi:2", check=True)
        proc = berthd.berthctl("rmi", image_id[:12])
        assert proc.returncode == 125 and "must be forced" in proc.stderr, proc
        proc = berthd.berthctl("rmi", "-f", image_id[:12], check=True)
        assert sorted(proc.stdout.splitlines()) == sorted(
            ["Untagged: multi:1", "Untagged: multi:2", f"Deleted: sha256:{image_id}"])
    finally:
        os.unlink(tar)


def test_history_and_image_aliases(busybox_image, berthd):
    proc = berthd.berthctl("history", "busybox", check=True)
    lines = proc.stdout.splitlines()
    layers = image_prop(berthd, "busybox", "Layers")
    assert lines[0].split() == ["LAYER", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert len(lines) == 1 + len(layers)
    assert lines[1].startswith(layers[-1][7:19])
    assert "berthctl import" in lines[1]
    assert berthd.berthctl("image", "history", "busybox", check=True).stdout.splitlines()[0] == lines[0]

    ls = berthd.berthctl("image", "ls", "-q", check=True).stdout
    assert ls == berthd.berthctl("images", "-q", check=True).stdout
    assert "REPOSITORY" in berthd.berthctl("image", "ls", check=True).stdout
    inspect = json.loads(berthd.berthctl("image", "inspect", "busybox", check=True).stdout)
    assert inspect[0]["Id"].startswith("sha256:") and "busybox:latest" in inspect[0]["RepoTags"]


def test_image_id_is_the_config_digest(busybox_image, berthd):
    """Imported images get an OCI config blob whose sha256 is the id, as in Docker."""
    image_id = image_prop(berthd, "busybox", "Id")
    assert image_prop(berthd, "busybox", "Architecture")
    assert image_prop(berthd, "busybox", "Os") == "linux"
    history = image_prop(berthd, "busybox", "History")
    assert len(history) == len(image_prop(berthd, "busybox", "Layers"))
    berthd.sh(f"test -s {STATE}/images/{image_id}.json", check=True)


def test_unreferenced_layers_are_dropped_at_startup(busybox_image, berthd):
    """What a crash between removing an image record and its layers leaves is collected."""
    stale = "ab" * 32
    berthd.sh(f"mkdir -p {LAYERS}/{stale}/diff/etc {LAYERS}/.remove-x && touch {LAYERS}/{stale}/diff/etc/f",
              check=True)
    kept = layer_dirs(berthd) - {stale, ".remove-x"}
    berthd.systemctl("restart", "berthd.service", check=True)
    assert layer_dirs(berthd) == kept
    berthd.run(["berthctl", "run", "--rm", "busybox", "true"], check=True)
