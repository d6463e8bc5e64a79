# SPDX-License-Identifier: LGPL-2.1-or-later
"""A whiteout and an entry of the same name in one layer: as the OCI image spec says ("Whiteout files
MUST only apply to resources in lower/parent layers"), the whiteout hides only what the layers below
have; the layer's own entry stays, and when it is a directory none of the lower directory's entries
show through. The same with either order of the entries in the tarball, and with either storage
driver (overlay stores the layer in overlayfs form, btrfs applies it onto its parent's snapshot)."""
import io
import json
import os
import tarfile

import pytest

from conftest import DRIVER, layer_dir
from test_image_archive import docker_archive, sha256, tar_bytes, workdir  # noqa: F401

LOWER = [("etc/", None), ("etc/foo", b"old foo\n"), ("d/", None), ("d/a", b"a\n"), ("d/b", b"b\n")]

UPPERS = {
    # The whiteouts before the entries, d listed.
    "whiteout-first": [("etc/", None), ("etc/.wh.foo", b""), ("etc/foo", b"new foo\n"),
                       (".wh.d", b""), ("d/", None), ("d/c", b"c\n")],
    # The whiteouts after them, d only the parent of d/c.
    "whiteout-after": [("etc/", None), ("etc/foo", b"new foo\n"), ("etc/.wh.foo", b""),
                       ("d/c", b"c\n"), (".wh.d", b"")],
}


def opaque(bed, path):
    code = f"import os; print(os.getxattr({path!r}, 'trusted.overlay.opaque').decode())"
    return bed.run(["python3", "-c", code], check=True).stdout.strip()


@pytest.mark.parametrize("order", sorted(UPPERS))
def test_same_layer_whiteout_hides_only_lower_layers(order, busybox_image, busybox_tar, berthd, workdir):
    with open(busybox_tar, "rb") as f:
        bb = f.read()
    lower, upper = tar_bytes(LOWER), tar_bytes(UPPERS[order])
    tag = f"layered/same-name-{order}:1"
    path = os.path.join(workdir, "same-name.tar")
    docker_archive(path, [bb, lower, upper], [tag])
    proc = berthd.berthctl("load", "-i", path, check=True)
    assert proc.stdout.strip() == f"Loaded image: {tag}"
    try:
        out = berthd.berthctl("run", "--rm", tag, "sh", "-c", "cat /etc/foo; ls /d; ls /etc",
                              check=True).stdout.split()
        assert out[:2] == ["new", "foo"], out
        assert out[2:3] == ["c"] and "a" not in out and "b" not in out, out
        assert "foo" in out[3:] and "passwd" in out[3:], out  # the rest of /etc of the layers below

        # Stored as the driver wants it: overlay, this layer's own foo (no 0/0 device) and d marked
        # opaque; btrfs, the lower d's entries deleted from the top layer's snapshot.
        diff_ids = ["sha256:" + sha256(layer) for layer in (bb, lower, upper)]
        top = layer_dir(diff_ids, 2)
        berthd.sh(f"test -f {top}/etc/foo && test ! -e {top}/etc/.wh.foo && test -f {top}/d/c", check=True)
        if DRIVER == "overlay":
            assert opaque(berthd, f"{top}/d") == "y"
        else:
            berthd.sh(f"test ! -e {top}/d/a && test ! -e {top}/d/b && test -e {layer_dir(diff_ids, 1)}/d/a",
                      check=True)

        # Nothing of this layer was lost on the way: save gives its very tarball back.
        saved = os.path.join(workdir, "saved.tar")
        berthd.sh(f"berthctl save {tag} > {saved}", check=True)
        with tarfile.open(saved) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))[0]
            layers = [tar.extractfile(name).read() for name in manifest["Layers"]]
        assert sha256(layers[2]) == sha256(upper)
        with tarfile.open(fileobj=io.BytesIO(layers[2])) as layer:
            names = layer.getnames()
        assert "etc/.wh.foo" in names and "etc/foo" in names and ".wh.d" in names, names
    finally:
        berthd.berthctl("rmi", tag)
