# SPDX-License-Identifier: LGPL-2.1-or-later
"""LoadImage / SaveImages: docker-archive and OCI archives, by hand and with the real podman."""
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile

import pytest

from conftest import DRIVER, SHARED_TMP, layer_dir

STATE = "/var/lib/berth"
BUS_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_call.py")


@pytest.fixture()
def workdir():
    d = tempfile.mkdtemp(prefix="berth-archive.", dir=SHARED_TMP)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def tar_bytes(members):
    """members: list of (name, bytes | None for a directory)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def docker_archive(path, layers, tags, config_extra=None, diff_ids=None, compress=False):
    """A docker-archive as docker save writes it; layers are uncompressed tar bytes."""
    blobs = [gzip.compress(layer) if compress else layer for layer in layers]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-05-01T10:00:00.5Z",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/bin:/usr/bin", "FOO=bar"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids or ["sha256:" + sha256(layer) for layer in layers]},
        "history": [{"created": "2024-05-01T10:00:00Z", "created_by": f"step {k}"} for k in range(len(layers))],
    }
    config["config"].update(config_extra or {})
    config_bytes = json.dumps(config).encode()
    config_name = sha256(config_bytes) + ".json"
    members = [(f"{sha256(blob)}/layer.tar", blob) for blob in blobs]
    members.append((config_name, config_bytes))
    manifest = [{"Config": config_name, "RepoTags": tags, "Layers": [f"{sha256(b)}/layer.tar" for b in blobs]}]
    members.append(("manifest.json", json.dumps(manifest).encode()))
    with open(path, "wb") as f:
        f.write(tar_bytes(members))
    os.chmod(path, 0o644)
    return sha256(config_bytes)


def store_listing(bed):
    return bed.sh(f"cd {STATE} && find {DRIVER} images -maxdepth 2 | grep -v /.rm- | sort", check=True).stdout


def image_prop(bed, ref, prop):
    obj = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetImage", "s", ref,
                     check=True).stdout.split('"')[1]
    out = bed.busctl("--json=short", "get-property", "org.berth1", obj, "org.berth1.Image", prop, check=True)
    return json.loads(out.stdout)["data"]


def whiteout_layers():
    base = tar_bytes([("bin/", None), ("etc/", None), ("etc/keep", b"keep\n"), ("etc/gone", b"gone\n"),
                      ("data/", None), ("data/old1", b"1\n"), ("data/old2", b"2\n")])
    top = tar_bytes([("etc/", None), ("etc/.wh.gone", b""), ("data/", None), ("data/.wh..wh..opq", b""),
                     ("data/new", b"new\n")])
    return base, top


def test_load_multilayer_docker_archive_with_whiteouts(busybox_image, berthd, workdir):
    base, top = whiteout_layers()
    path = os.path.join(workdir, "wh.tar")
    image_id = docker_archive(path, [base, top], ["layered/wh:1"],
                              config_extra={"Entrypoint": ["/bin/sh", "-c"], "WorkingDir": "/data",
                                            "Labels": {"a": "b"}, "ExposedPorts": {"80/tcp": {}},
                                            "Volumes": {"/vol": {}}, "StopSignal": "SIGINT", "User": "0"},
                              compress=True)
    proc = berthd.berthctl("load", "-i", path, check=True)
    assert proc.stdout.strip() == "Loaded image: layered/wh:1"
    assert image_prop(berthd, "layered/wh:1", "Id") == image_id
    assert image_prop(berthd, "layered/wh:1", "Layers") == ["sha256:" + sha256(base), "sha256:" + sha256(top)]
    assert image_prop(berthd, "layered/wh:1", "Entrypoint") == ["/bin/sh", "-c"]
    assert image_prop(berthd, "layered/wh:1", "WorkingDir") == "/data"
    assert image_prop(berthd, "layered/wh:1", "Labels") == {"a": "b"}
    assert image_prop(berthd, "layered/wh:1", "ExposedPorts") == ["80/tcp"]
    assert image_prop(berthd, "layered/wh:1", "Volumes") == ["/vol"]
    assert image_prop(berthd, "layered/wh:1", "StopSignal") == "SIGINT"
    assert image_prop(berthd, "layered/wh:1", "Env") == ["PATH=/bin:/usr/bin", "FOO=bar"]
    assert image_prop(berthd, "layered/wh:1", "LayerSizes") == [len(base), len(top)]
    history = berthd.berthctl("history", "layered/wh:1", check=True).stdout.splitlines()
    assert len(history) == 3 and "step 1" in history[1] and "step 0" in history[2]

    # Stored as the driver wants it: overlay, a 0/0 character device; btrfs, the file is gone
    # from the top layer's snapshot (and still in the base layer's).
    top_dir = layer_dir(["sha256:" + sha256(base), "sha256:" + sha256(top)], 1)
    if DRIVER == "overlay":
        berthd.sh(f"test -c {top_dir}/etc/gone", check=True)
    else:
        berthd.sh(f"test ! -e {top_dir}/etc/gone && test -e {layer_dir(['sha256:' + sha256(base)], 0)}/etc/gone",
                  check=True)
    berthd.sh(f"test ! -e {top_dir}/etc/.wh.gone", check=True)
    berthd.berthctl("rmi", "layered/wh:1", check=True)


def test_run_loaded_image_with_whiteouts(busybox_image, busybox_tar, berthd, workdir):
    with open(busybox_tar, "rb") as f:
        bb = f.read()
    base, top = whiteout_layers()
    path = os.path.join(workdir, "run.tar")
    docker_archive(path, [bb, base, top], ["layered/run:1"])
    berthd.berthctl("load", "-i", path, check=True)
    out = berthd.berthctl("run", "--rm", "layered/run:1", "sh", "-c",
                          "ls /etc/gone 2>&1; cat /etc/keep; ls /data; echo FOO=$FOO", check=True).stdout
    assert "No such file" in out and "keep" in out and "new" in out and "old1" not in out, out
    assert "FOO=bar" in out, out

    # berthctl save → berthctl load keeps the whiteouts (in .wh. form in the archive).
    saved = os.path.join(workdir, "saved.tar")
    berthd.sh(f"berthctl save layered/run:1 > {saved}", check=True)
    with tarfile.open(saved) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert manifest[0]["RepoTags"] == ["layered/run:1"] and len(manifest[0]["Layers"]) == 3
        names = tar.extractfile(manifest[0]["Layers"][2]).read()
        with tarfile.open(fileobj=io.BytesIO(names)) as layer:
            members = layer.getnames()
        assert "etc/.wh.gone" in members and "data/.wh..wh..opq" in members, members
    berthd.berthctl("rmi", "layered/run:1", check=True)
    proc = berthd.berthctl("load", "-i", saved, check=True)
    assert proc.stdout.strip() == "Loaded image: layered/run:1"
    out = berthd.berthctl("run", "--rm", "layered/run:1", "sh", "-c", "ls /etc/gone 2>&1; ls /data",
                          check=True).stdout
    assert "No such file" in out and "new" in out and "old1" not in out, out


def test_hundred_layer_image_runs(busybox_image, busybox_tar, berthd, workdir):
    """A long layer chain still mounts: overlay names lower dirs by short links, as the kernel takes
    one page of mount options (100 full layer paths are about 9 KiB)."""
    with open(busybox_tar, "rb") as f:
        layers = [f.read()]
    for k in range(1, 100):
        layers.append(tar_bytes([("layers/", None), (f"layers/{k:03}", f"{k}\n".encode())]))
    path = os.path.join(workdir, "hundred.tar")
    docker_archive(path, layers, ["layered/hundred:1"])
    berthd.berthctl("load", "-i", path, check=True)
    try:
        for userns in ([], ["--userns=auto"]):  # the userns overlay is built with fsconfig() (256-byte values)
            out = berthd.berthctl("run", "--rm", *userns, "layered/hundred:1", "sh", "-c",
                                  "ls /layers | wc -l; cat /layers/001 /layers/099", check=True).stdout
            assert out.split() == ["99", "1", "99"], (userns, out)
        # The overlay's file system (export, cp) is mounted the same way.
        c = berthd.berthctl("create", "layered/hundred:1", "true", check=True).stdout.strip()
        out = berthd.berthctl("diff", c, check=True).stdout
        assert out == "", out
        berthd.sh(f"berthctl cp {c}:/layers/050 {workdir}/050", check=True)
        with open(os.path.join(workdir, "050"), "rb") as f:
            assert f.read() == b"50\n"
        berthd.berthctl("rm", c, check=True)
    finally:
        berthd.berthctl("rmi", "layered/hundred:1")


def test_more_than_125_layers_are_refused(berthd, workdir):
    """Docker's limit: refused at load with a sentence, nothing stored."""
    layers = [tar_bytes([(f"f{k:03}", f"{k}\n".encode())]) for k in range(126)]
    path = os.path.join(workdir, "toomany.tar")
    docker_archive(path, layers, ["layered/toomany:1"])
    before = store_listing(berthd)
    proc = berthd.berthctl("load", "-i", path)
    assert proc.returncode == 125 and "has 126 layers; at most 125 are supported" in proc.stderr, proc
    assert store_listing(berthd) == before


def test_loading_twice_gives_the_same_image(berthd, workdir):
    path = os.path.join(workdir, "twice.tar")
    layer = tar_bytes([("etc/", None), ("etc/twice", b"2\n")])
    docker_archive(path, [layer], ["twice:a"])
    berthd.berthctl("load", "-i", path, check=True)
    docker_archive(path, [layer], ["twice:b"])
    berthd.berthctl("load", "-i", path, check=True)
    assert sorted(image_prop(berthd, "twice:a", "RepoTags")) == ["twice:a", "twice:b"]
    berthd.berthctl("rmi", "-f", "twice:a", check=True)


def test_diff_id_mismatch_is_refused(berthd, workdir):
    path = os.path.join(workdir, "bad.tar")
    layer = tar_bytes([("etc/", None), ("etc/evil", b"evil\n")])
    docker_archive(path, [layer], ["bad:1"], diff_ids=["sha256:" + "0" * 64], compress=True)
    before = store_listing(berthd)
    proc = berthd.berthctl("load", "-i", path)
    assert proc.returncode == 125 and "does not match the diff id" in proc.stderr, proc
    assert store_listing(berthd) == before
    assert berthd.berthctl("image", "inspect", "bad:1").returncode != 0


@pytest.mark.parametrize("content", [b"", b"garbage" * 1000, "tar-without-manifest"])
def test_garbage_is_refused(berthd, workdir, content):
    path = os.path.join(workdir, "garbage.tar")
    with open(path, "wb") as f:
        f.write(tar_bytes([("x", b"x")]) if content == "tar-without-manifest" else content)
    before = store_listing(berthd)
    proc = berthd.berthctl("load", "-i", path)
    assert proc.returncode == 125 and "Invalid image archive" in proc.stderr, proc
    assert store_listing(berthd) == before


def test_image_without_layers_is_refused(berthd, workdir):
    """Nothing to make a root file system of: refused at load, not at the first start."""
    path = os.path.join(workdir, "empty.tar")
    docker_archive(path, [], ["layered/empty:1"])
    before = store_listing(berthd)
    proc = berthd.berthctl("load", "-i", path)
    assert proc.returncode == 125 and "has no layers" in proc.stderr, proc
    assert store_listing(berthd) == before


def test_hostile_layer_is_refused(berthd, workdir):
    path = os.path.join(workdir, "hostile.tar")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../../../../../../etc/evil")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"evil\n"))
    docker_archive(path, [buf.getvalue()], ["hostile:1"])
    before = store_listing(berthd)
    proc = berthd.berthctl("load", "-i", path)
    assert proc.returncode == 125 and "escapes" in proc.stderr, proc
    assert store_listing(berthd) == before
    berthd.sh("test ! -e /etc/evil", check=True)


def test_load_from_stdin_and_format_errors(berthd, workdir):
    path = os.path.join(workdir, "stdin.tar")
    docker_archive(path, [tar_bytes([("etc/", None), ("etc/stdin", b"s\n")])], ["stdin:1"])
    proc = berthd.sh(f"berthctl load < {path}", check=True)
    assert proc.stdout.strip() == "Loaded image: stdin:1"
    proc = berthd.sh(f"berthctl load --format oci-archive < {path}")
    assert proc.returncode == 125 and "oci-layout" in proc.stderr, proc
    proc = berthd.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "LoadImage",
                       json.dumps(["@fd", "zip"]), "--fd", path])
    assert proc.stdout.startswith("ERROR org.berth1.Error.InvalidArgument Unknown archive format"), proc
    proc = berthd.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "SaveImages",
                       json.dumps([["stdin:1"], "tar", "@fd"]), "--fd", path])
    assert proc.stdout.startswith("ERROR org.berth1.Error.InvalidArgument Unknown archive format"), proc
    proc = berthd.berthctl("save", "-o", os.path.join(workdir, "none.tar"), "no-such:image")
    assert proc.returncode == 125 and "No such image" in proc.stderr, proc
    assert not os.path.exists(os.path.join(workdir, "none.tar"))
    berthd.berthctl("rmi", "stdin:1", check=True)


def test_save_oci_archive_roundtrip(busybox_image, berthd, workdir):
    saved = os.path.join(workdir, "oci.tar")
    berthd.berthctl("save", "--format", "oci-archive", "-o", saved, "busybox", check=True)
    with tarfile.open(saved) as tar:
        index = json.load(tar.extractfile("index.json"))
        assert json.load(tar.extractfile("oci-layout")) == {"imageLayoutVersion": "1.0.0"}
    desc = index["manifests"][0]
    assert desc["annotations"]["org.opencontainers.image.ref.name"] == "busybox:latest"
    # Layers travel gzip-compressed (as registries and podman keep them); the config's diff ids
    # stay the digests of the uncompressed tarballs; compressing is deterministic.
    with tarfile.open(saved) as tar:
        manifest = json.load(tar.extractfile("blobs/sha256/" + desc["digest"].split(":")[1]))
        config = json.load(tar.extractfile("blobs/sha256/" + manifest["config"]["digest"].split(":")[1]))
        for layer, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"]):
            assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip", layer
            blob = tar.extractfile("blobs/sha256/" + layer["digest"].split(":")[1]).read()
            assert "sha256:" + sha256(blob) == layer["digest"] and len(blob) == layer["size"]
            assert "sha256:" + sha256(gzip.decompress(blob)) == diff_id
    again = os.path.join(workdir, "oci-again.tar")
    berthd.berthctl("save", "--format", "oci-archive", "-o", again, "busybox", check=True)
    with tarfile.open(again) as tar:
        index_again = json.load(tar.extractfile("index.json"))
    assert index_again["manifests"][0]["digest"] == desc["digest"]
    berthd.berthctl("tag", "busybox", "oci-rt:keep", check=True)
    berthd.berthctl("rmi", "oci-rt:keep", check=True)  # only untags
    proc = berthd.berthctl("load", "-i", saved, check=True)
    assert proc.stdout.strip() == "Loaded image: busybox:latest"
    berthd.run(["berthctl", "run", "--rm", "busybox", "true"], check=True)


# ---- interop with the real podman -------------------------------------------------------------

PODMAN_FLAGS = ["--cgroup-manager=systemd", "--events-backend=file", "--storage-driver=vfs"]


@pytest.fixture(scope="module")
def podman(berthd, busybox_tar):
    """podman inside the testbed, with its own store under /var/tmp, holding busybox as pm/busybox:1."""
    if berthd.run(["sh", "-c", "command -v podman"]).returncode != 0:
        pytest.fail("podman is not installed (tools/install-deps.sh installs it)")
    root = tempfile.mkdtemp(prefix="berth-podman.", dir=SHARED_TMP)
    flags = PODMAN_FLAGS + ["--root", os.path.join(root, "root"), "--runroot", os.path.join(root, "run")]

    def run(*args, **kw):
        kw.setdefault("timeout", 180)
        return berthd.run(["podman", *flags, *args], **kw)

    run("import", busybox_tar, "localhost/pm/busybox:1", check=True)
    run.root = root
    yield run
    run("system", "reset", "--force", timeout=120)
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_podman_save_berthctl_load(podman, berthd, workdir, fmt):
    path = os.path.join(workdir, f"podman-{fmt}.tar")
    podman("save", "--format", fmt, "-o", path, "localhost/pm/busybox:1", check=True)
    proc = berthd.berthctl("load", "-i", path, check=True)
    assert proc.stdout.strip() == "Loaded image: localhost/pm/busybox:1", proc.stdout
    podman_id = podman("image", "inspect", "--format", "{{.Id}}", "localhost/pm/busybox:1",
                       check=True).stdout.strip()
    assert image_prop(berthd, "localhost/pm/busybox:1", "Id") == podman_id.removeprefix("sha256:")
    out = berthd.berthctl("run", "--rm", "localhost/pm/busybox:1", "echo", "hello", check=True).stdout
    assert out.strip() == "hello"


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_berthctl_save_podman_load(podman, busybox_image, berthd, workdir, fmt):
    berthd.berthctl("tag", "busybox", f"to-podman/{fmt}:1", check=True)
    path = os.path.join(workdir, "to-podman.tar")
    berthd.sh(f"berthctl save --format {fmt} to-podman/{fmt}:1 > {path}", check=True)
    proc = podman("load", "-i", path, check=True)
    assert f"to-podman/{fmt}:1" in proc.stdout, proc.stdout
    # On a unified-only testbed of a hybrid host crun's cgroup v2 device filter (eBPF) needs a
    # higher RLIMIT_MEMLOCK than the testbed may set; the image interop is what is tested here.
    no_cgroups = ["--cgroups=disabled"] if os.environ.get("BERTH_TESTBED_CGROUP") == "unified" else []
    out = podman("run", "--rm", "--network=none", *no_cgroups, f"localhost/to-podman/{fmt}:1", "echo", "ok",
                 check=True)
    assert out.stdout.strip() == "ok"
    berthd.berthctl("rmi", f"to-podman/{fmt}:1", check=True)


def test_podman_build_multilayer_whiteout(podman, berthd, workdir):
    ctx = os.path.join(workdir, "ctx")
    os.makedirs(ctx)
    os.chmod(ctx, 0o755)
    with open(os.path.join(ctx, "Containerfile"), "w") as f:
        f.write("FROM localhost/pm/busybox:1\n"
                "RUN rm /etc/group && mkdir /added && echo layered > /added/f\n"
                "CMD [\"cat\", \"/added/f\"]\n")
    proc = podman("build", "--isolation=chroot", "-t", "localhost/pm/layered:1", ctx)
    if proc.returncode != 0:
        pytest.skip(f"podman build does not work in this testbed: {proc.stderr[-500:]}")
    path = os.path.join(workdir, "layered.tar")
    podman("save", "--format", "docker-archive", "-o", path, "localhost/pm/layered:1", check=True)
    berthd.berthctl("load", "-i", path, check=True)
    assert len(image_prop(berthd, "localhost/pm/layered:1", "Layers")) == 2
    assert image_prop(berthd, "localhost/pm/layered:1", "Cmd") == ["cat", "/added/f"]
    out = berthd.berthctl("run", "--rm", "localhost/pm/layered:1", "sh", "-c",
                          "cat /added/f; test -e /etc/group && echo present || echo absent", check=True).stdout
    assert out.split() == ["layered", "absent"], out


# 200 MB of files through an AddressSanitizer build of berthd's workers takes minutes.
SLOW = 900 if os.environ.get("BERTH_SANITIZE", "") not in ("", "0") else 300


def test_debian_rootfs_imports_runs_commits_and_round_trips(debian_tar, berthd, workdir):
    """A real distribution: debootstrap's minbase imports, apt runs, a commit on top of it and a
    save/load round trip keep both layers and the change."""
    name = "deb-" + os.path.basename(workdir)[-6:].lower()
    berthd.berthctl("import", debian_tar, "debian/minbase:1", timeout=SLOW, check=True)
    try:
        out = berthd.berthctl("run", "--rm", "debian/minbase:1", "apt", "--version", check=True).stdout
        assert out.startswith("apt 2."), out
        berthd.berthctl("run", "--name", name, "debian/minbase:1", "sh", "-c",
                        "echo committed > /root/mark && rm /etc/debian_version", check=True)
        berthd.berthctl("commit", "-c", 'CMD ["cat", "/root/mark"]', name, "debian/committed:1", timeout=SLOW,
                        check=True)
        berthd.berthctl("rm", name, check=True)
        saved = os.path.join(workdir, "debian.tar")
        berthd.sh(f"berthctl save debian/committed:1 > {saved}", timeout=SLOW, check=True)
        berthd.berthctl("rmi", "debian/committed:1", "debian/minbase:1", check=True)
        # The removal thread deletes the 200 MB of files first. (Under AddressSanitizer a fork of
        # berthd while that thread allocates can leave the child stuck on the sanitizer's allocator
        # lock: glibc's malloc is fork-safe, the instrumented build's is not.)
        berthd.wait_until(lambda: berthd.sh("ls -A /var/lib/berth/*/ | grep -q '^\\.rm-'").returncode != 0,
                          timeout=SLOW, interval=0.5, what="the removal thread to finish")
        berthd.berthctl("load", "-i", saved, timeout=SLOW, check=True)
        assert berthd.berthctl("run", "--rm", "debian/committed:1", check=True).stdout == "committed\n"
        out = berthd.berthctl("run", "--rm", "debian/committed:1", "sh", "-c",
                              "test -e /etc/debian_version || apt --version", check=True).stdout
        assert out.startswith("apt 2."), out  # the deletion survived as a whiteout, apt still runs
        assert len(image_prop(berthd, "debian/committed:1", "Layers")) == 2
    finally:
        berthd.berthctl("rm", "-f", name)
        berthd.berthctl("rmi", "-f", "debian/committed:1")
        berthd.berthctl("rmi", "-f", "debian/minbase:1")
