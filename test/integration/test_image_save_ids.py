# SPDX-License-Identifier: LGPL-2.1-or-later
"""save keeps image ids: layers carry a tar-split file, so their original tarballs come back byte for
byte; and save's layer compression (gzip, zstd, none) for OCI archives."""
import gzip
import io
import json
import os
import subprocess
import tarfile

import pytest

from conftest import DRIVER, layer_dir
from test_image_archive import BUS_CALL, docker_archive, image_prop, podman, sha256, workdir  # noqa: F401


def layer_tar(fmt, members, pad=True):
    """members: (name, kind, data): kind "f" file (data bytes), "d" dir, "l" symlink / "h" hardlink (data target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            info.mode = 0o755 if kind == "d" else 0o644
            if kind == "d":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "l":
                info.type, info.linkname = tarfile.SYMTYPE, data
                tar.addfile(info)
            elif kind == "h":
                info.type, info.linkname = tarfile.LNKTYPE, data
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        end = tar.offset
    data = buf.getvalue()
    return data if pad else data[:end] + b"\0" * 1024  # just the two end blocks


LONG = "a-rather-long-directory-name-that-ustar-cannot-hold-in-its-name-field/" * 2 + "file-with-a-long-name.txt"


def odd_layers():
    """Two layers the way other tools write them: GNU long names and pax headers, links, whiteouts,
    non-ASCII names, empty and block-sized files, tarfile's 10 KiB record padding."""
    base = layer_tar(tarfile.GNU_FORMAT, [
        ("etc/", "d", None), ("etc/keep", "f", b"keep\n"), ("etc/gone", "f", b"gone\n"),
        ("etc/empty", "f", b""), ("etc/block", "f", b"x" * 512), ("etc/link", "l", "keep"),
        ("etc/hard", "h", "etc/keep"), ("data/", "d", None), ("data/old", "f", b"old\n"),
        (LONG, "f", b"long\n")])
    top = layer_tar(tarfile.PAX_FORMAT, [
        ("etc/", "d", None), ("etc/.wh.gone", "f", b""), ("data/", "d", None), ("data/.wh..wh..opq", "f", b""),
        ("data/new", "f", b"new\n" * 1000), ("data/caf\u00e9-\u2603", "f", b"unicode\n"),
        (LONG.replace("file", "other"), "f", b"other\n")], pad=False)
    return base, top


def read_docker_archive(path):
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]
        config = tar.extractfile(manifest["Config"]).read()
        layers = [tar.extractfile(name).read() for name in manifest["Layers"]]
    return manifest, config, layers


def read_oci_archive(path):
    """(manifest, config bytes, [(media type, blob bytes)])."""
    with tarfile.open(path) as tar:
        index = json.load(tar.extractfile("index.json"))
        blob = lambda d: tar.extractfile("blobs/sha256/" + d["digest"].split(":")[1]).read()  # noqa: E731
        manifest = json.loads(blob(index["manifests"][0]))
        config = blob(manifest["config"])
        layers = [(d["mediaType"], blob(d)) for d in manifest["layers"]]
        for (_, data), d in zip(layers, manifest["layers"]):
            assert "sha256:" + sha256(data) == d["digest"] and len(data) == d["size"]
    return manifest, config, layers


def unzstd(data):
    return subprocess.run(["zstd", "-d", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout


def layer_dirs(bed, ref):
    """Where the image's layers are stored (their diff directory's parent), bottom first."""
    ids = image_prop(bed, ref, "Layers")
    return [os.path.dirname(layer_dir(ids, k)) for k in range(len(ids))]


@pytest.mark.parametrize("compress", [False, True])
def test_load_save_keeps_id_and_layer_bytes(berthd, workdir, compress):
    base, top = odd_layers()
    path = os.path.join(workdir, "odd.tar")
    image_id = docker_archive(path, [base, top], ["split/odd:1"], compress=compress)
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]
        original_config = tar.extractfile(manifest["Config"]).read()
    berthd.berthctl("load", "-i", path, check=True)
    assert image_prop(berthd, "split/odd:1", "Id") == image_id
    for d in layer_dirs(berthd, "split/odd:1"):
        berthd.sh(f"test -s {d}/tar-split", check=True)

    saved = os.path.join(workdir, "saved.tar")
    berthd.berthctl("save", "-o", saved, "split/odd:1", check=True)
    manifest, config, layers = read_docker_archive(saved)
    assert manifest["Config"] == image_id + ".json"
    assert config == original_config
    assert [sha256(x) for x in layers] == [sha256(base), sha256(top)]

    for compression, media in [("gzip", "tar+gzip"), ("zstd", "tar+zstd"), ("none", "tar")]:
        oci = os.path.join(workdir, f"saved-{compression}.tar")
        berthd.berthctl("save", "--format", "oci-archive", "--compression", compression, "-o", oci, "split/odd:1",
                        check=True)
        manifest, config, blobs = read_oci_archive(oci)
        assert "sha256:" + image_id == manifest["config"]["digest"] and config == original_config
        assert [m for m, _ in blobs] == ["application/vnd.oci.image.layer.v1." + media] * 2
        plain = [gzip.decompress(b) if compression == "gzip" else unzstd(b) if compression == "zstd" else b
                 for _, b in blobs]
        assert plain == [base, top]

    # Saved archives load back as the same image, in either format.
    berthd.berthctl("rmi", "split/odd:1", check=True)
    berthd.berthctl("load", "-i", os.path.join(workdir, "saved-zstd.tar"), check=True)
    assert image_prop(berthd, "split/odd:1", "Id") == image_id
    gone = f"{layer_dirs(berthd, 'split/odd:1')[1]}/diff/etc/gone"
    berthd.sh(f"test -c {gone}" if DRIVER == "overlay" else f"test ! -e {gone}", check=True)
    berthd.berthctl("rmi", "split/odd:1", check=True)
    berthd.berthctl("load", "-i", saved, check=True)
    assert image_prop(berthd, "split/odd:1", "Id") == image_id
    berthd.berthctl("rmi", "split/odd:1", check=True)


def test_layer_without_split_or_changed(berthd, workdir):
    base, top = odd_layers()
    path = os.path.join(workdir, "odd2.tar")
    image_id = docker_archive(path, [base, top], ["split/old:1"])
    berthd.berthctl("load", "-i", path, check=True)
    dirs = layer_dirs(berthd, "split/old:1")
    try:
        # A file changed under the layer: no tarball with other bytes, a clear error instead. (btrfs
        # layers are read-only snapshots.)
        if DRIVER == "overlay":
            berthd.sh(f"cp -a {dirs[0]}/diff/etc/keep /var/tmp/keep.bak && echo more >> {dirs[0]}/diff/etc/keep",
                      check=True)
            out = os.path.join(workdir, "bad.tar")
            proc = berthd.berthctl("save", "-o", out, "split/old:1")
            assert proc.returncode != 0 and "etc/keep" in proc.stderr and "changed" in proc.stderr, proc
            assert not os.path.exists(out)
            berthd.sh(f"mv /var/tmp/keep.bak {dirs[0]}/diff/etc/keep", check=True)

        # Layers stored by an older berth have no split: made anew, as before (a new id).
        berthd.sh(f"rm {dirs[1]}/tar-split", check=True)
        saved = os.path.join(workdir, "old.tar")
        berthd.berthctl("save", "-o", saved, "split/old:1", check=True)
        manifest, config, layers = read_docker_archive(saved)
        assert sha256(layers[0]) == sha256(base)  # still replayed
        assert sha256(layers[1]) != sha256(top) and manifest["Config"] != image_id + ".json"
        assert json.loads(config)["rootfs"]["diff_ids"] == ["sha256:" + sha256(x) for x in layers]
    finally:
        berthd.berthctl("rmi", "split/old:1")


def test_import_save_load_keeps_id(busybox_tar, berthd, workdir):
    gz = os.path.join(workdir, "busybox.tar.gz")
    with open(busybox_tar, "rb") as f, open(gz, "wb") as g:
        plain = f.read()
        g.write(gzip.compress(plain))
    os.chmod(gz, 0o644)
    berthd.berthctl("import", gz, "split/imported:1", check=True)
    image_id = image_prop(berthd, "split/imported:1", "Id")
    # The layer is named by the diff id, the digest of the uncompressed tarball.
    assert image_prop(berthd, "split/imported:1", "Layers") == ["sha256:" + sha256(plain)]
    assert image_prop(berthd, "split/imported:1", "LayerSizes") == [len(plain)]
    saved = os.path.join(workdir, "imported.tar")
    berthd.berthctl("save", "-o", saved, "split/imported:1", check=True)
    manifest, _, layers = read_docker_archive(saved)
    assert manifest["Config"] == image_id + ".json" and layers == [plain]
    berthd.berthctl("rmi", "split/imported:1", check=True)
    berthd.berthctl("load", "-i", saved, check=True)
    assert image_prop(berthd, "split/imported:1", "Id") == image_id
    assert berthd.berthctl("run", "--rm", "split/imported:1", "echo", "ok", check=True).stdout == "ok\n"
    berthd.berthctl("rmi", "split/imported:1", check=True)


def test_commit_save_load_keeps_id(busybox_image, berthd, workdir):
    name = "split-commit-" + os.path.basename(workdir)[-6:].lower()
    berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c",
                    "echo committed > /root-mark; mkdir -p /x/y; ln -s /root-mark /x/y/l; rm /bin/true", check=True)
    try:
        berthd.berthctl("commit", name, "split/committed:1", check=True)
        image_id = image_prop(berthd, "split/committed:1", "Id")
        saved = os.path.join(workdir, "committed.tar")
        berthd.berthctl("save", "--format", "oci-archive", "--compression", "zstd", "-o", saved, "split/committed:1",
                        check=True)
        manifest, _, _ = read_oci_archive(saved)
        assert manifest["config"]["digest"] == "sha256:" + image_id
        berthd.berthctl("rmi", "split/committed:1", check=True)
        berthd.berthctl("load", "-i", saved, check=True)
        assert image_prop(berthd, "split/committed:1", "Id") == image_id
        out = berthd.berthctl("run", "--rm", "split/committed:1", "sh", "-c",
                              "cat /x/y/l; test -e /bin/true && echo present || echo absent", check=True).stdout
        assert out.split() == ["committed", "absent"], out
    finally:
        berthd.berthctl("rm", "-f", name)
        berthd.berthctl("rmi", "-f", "split/committed:1")


def test_bad_compression_is_refused(busybox_image, berthd, workdir):
    path = os.path.join(workdir, "none.tar")
    with open(path, "wb"):
        pass
    os.chmod(path, 0o644)
    call = ["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "SaveImagesWithOptions"]
    for fmt, options, message in [
            ("oci-archive", {"Compression": "lz4"}, "Unknown compression \"lz4\""),
            ("docker-archive", {"Compression": "zstd"}, "docker-archive holds uncompressed layers"),
            ("oci-archive", {"Level": "9"}, "Unknown save option \"Level\""),
            ("oci-archive", {"Compression": {"@u": 1}}, "must have type")]:
        proc = berthd.run(call + [json.dumps([[busybox_image], fmt, "@fd", {"@a{sv}": options}]), "--fd", path])
        assert proc.stdout.startswith("ERROR org.berth1.Error.InvalidArgument "), proc
        assert message in proc.stdout, proc
    proc = berthd.berthctl("save", "--compression", "zstd", "-o", path + ".2", busybox_image)
    assert proc.returncode == 125 and "needs --format oci-archive" in proc.stderr, proc
    assert not os.path.exists(path + ".2")


def test_podman_saved_archive_keeps_id_and_bytes(podman, berthd, workdir):
    path = os.path.join(workdir, "from-podman.tar")
    podman("save", "--format", "docker-archive", "-o", path, "localhost/pm/busybox:1", check=True)
    _, _, original_layers = read_docker_archive(path)
    berthd.berthctl("load", "-i", path, check=True)
    image_id = image_prop(berthd, "localhost/pm/busybox:1", "Id")
    saved = os.path.join(workdir, "again.tar")
    berthd.berthctl("save", "-o", saved, "localhost/pm/busybox:1", check=True)
    manifest, _, layers = read_docker_archive(saved)
    assert manifest["Config"] == image_id + ".json"
    assert [sha256(x) for x in layers] == [sha256(x) for x in original_layers]
    berthd.berthctl("rmi", "localhost/pm/busybox:1", check=True)


def test_zstd_archive_podman_loads_and_runs(podman, busybox_image, berthd, workdir):
    berthd.berthctl("tag", busybox_image, "to-podman/zstd:1", check=True)
    image_id = image_prop(berthd, "to-podman/zstd:1", "Id")
    path = os.path.join(workdir, "zstd.tar")
    berthd.berthctl("save", "--format", "oci-archive", "--compression", "zstd", "-o", path, "to-podman/zstd:1",
                    check=True)
    proc = podman("load", "-i", path, check=True)
    assert "to-podman/zstd:1" in proc.stdout, proc.stdout
    podman_id = podman("image", "inspect", "--format", "{{.Id}}", "localhost/to-podman/zstd:1",
                       check=True).stdout.strip()
    assert podman_id.removeprefix("sha256:") == image_id
    no_cgroups = ["--cgroups=disabled"] if os.environ.get("BERTH_TESTBED_CGROUP") == "unified" else []
    out = podman("run", "--rm", "--network=none", *no_cgroups, "localhost/to-podman/zstd:1", "echo", "ok",
                 check=True)
    assert out.stdout.strip() == "ok"
    berthd.berthctl("rmi", "to-podman/zstd:1", check=True)
