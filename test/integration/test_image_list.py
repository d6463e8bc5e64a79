# SPDX-License-Identifier: LGPL-2.1-or-later
"""images --filter/--format/--digests, image prune, RepoDigests and VirtualSize."""
import json
import os
import shutil
import tarfile
import tempfile

import pytest

from conftest import LAYERS, SHARED_TMP, layer_key
from test_image_archive import docker_archive, image_prop, tar_bytes

STATE = "/var/lib/berth"


@pytest.fixture()
def workdir():
    d = tempfile.mkdtemp(prefix="berth-imglist.", dir=SHARED_TMP)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def load(berthd, workdir, name, layers, tags, labels=None, created="2024-05-01T10:00:00.5Z"):
    path = os.path.join(workdir, name + ".tar")
    extra = {"Labels": labels} if labels else None
    image_id = docker_archive(path, layers, tags, config_extra=extra)
    if created:
        # docker_archive writes a fixed creation time; give each image its own.
        with tarfile.open(path) as tar:
            members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
        manifest = json.loads(dict(members)["manifest.json"])
        config_name = manifest[0]["Config"]
        config = json.loads(dict(members)[config_name])
        config["created"] = created
        data = json.dumps(config).encode()
        import hashlib
        image_id = hashlib.sha256(data).hexdigest()
        manifest[0]["Config"] = image_id + ".json"
        members = [(n, d) for n, d in members if n not in (config_name, "manifest.json")]
        members += [(image_id + ".json", data), ("manifest.json", json.dumps(manifest).encode())]
        with open(path, "wb") as f:
            f.write(tar_bytes(members))
    berthd.berthctl("load", "-i", path, check=True)
    return image_id


def untag(berthd, image, tag):
    obj = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetImage", "s", image,
                        check=True).stdout.split('"')[1]
    berthd.busctl("call", "org.berth1", obj, "org.berth1.Image", "Untag", "s", tag, check=True)


def lines(proc):
    return proc.stdout.splitlines()


def test_images_format_and_table(busybox_image, berthd, workdir):
    image_id = load(berthd, workdir, "fmt", [tar_bytes([("fmt", os.urandom(8))])], ["listfmt/one:v1"],
                    created="2024-05-02T10:00:00Z")
    berthd.berthctl("tag", "listfmt/one:v1", "listfmt/two", check=True)

    proc = berthd.berthctl("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", "listfmt/*", check=True)
    assert sorted(lines(proc)) == [f"listfmt/one:v1 {image_id[:12]}", f"listfmt/two:latest {image_id[:12]}"]

    proc = berthd.berthctl("images", "--no-trunc", "--format", "table {{.ID}}\\t{{.Tag}}", "listfmt/two",
                           check=True)
    out = lines(proc)
    assert out[0].split() == ["IMAGE", "ID", "TAG"]
    assert out[1].split() == [f"sha256:{image_id}", "latest"]
    # The columns are aligned: TAG starts where the longest id ends plus three spaces.
    assert out[0].index("TAG") == len("sha256:") + 64 + 3

    proc = berthd.berthctl("images", "--format", "json", "--filter", "reference=listfmt/one", check=True)
    rows = [json.loads(line) for line in lines(proc)]
    assert len(rows) == 1
    row = rows[0]
    assert row["Repository"] == "listfmt/one" and row["Tag"] == "v1" and row["ID"] == image_id[:12]
    assert row["Digest"] == "<none>" and row["CreatedAt"].startswith("2024-05-02 ")
    assert row["Size"] == row["VirtualSize"] and row["CreatedSince"].endswith(" ago")

    # The default table, --digests adding its column, -q one id per image, -a accepted.
    proc = berthd.berthctl("images", "-a", "--digests", "listfmt/one:v1", check=True)
    assert lines(proc)[0].split() == ["REPOSITORY", "TAG", "DIGEST", "IMAGE", "ID", "CREATED", "SIZE"]
    assert lines(proc)[1].split()[:4] == ["listfmt/one", "v1", "<none>", image_id[:12]]
    proc = berthd.berthctl("images", "-q", "--filter", "reference=listfmt/*", check=True)
    assert lines(proc) == [image_id[:12]]

    proc = berthd.berthctl("images", "--format", "{{.Nope}}")
    assert proc.returncode == 125 and "Nope" in proc.stderr, proc
    berthd.berthctl("rmi", "-f", image_id, check=True)


def test_images_filters(busybox_image, berthd, workdir):
    old = load(berthd, workdir, "old", [tar_bytes([("old", os.urandom(8))])], ["flt/old:1"],
               labels={"tier": "db", "flt": ""}, created="2021-01-01T00:00:00Z")
    mid = load(berthd, workdir, "mid", [tar_bytes([("mid", os.urandom(8))])], ["flt/mid:1"],
               labels={"tier": "web"}, created="2022-01-01T00:00:00Z")
    new = load(berthd, workdir, "new", [tar_bytes([("new", os.urandom(8))])], ["flt/new:1"],
               created="2023-01-01T00:00:00Z")

    def ids(*args):
        proc = berthd.berthctl("images", "-q", "--no-trunc", *args, check=True)
        return {line.removeprefix("sha256:") for line in lines(proc)}

    assert ids("--filter", "reference=flt/*") == {old, mid, new}
    assert ids("--filter", "reference=flt/*:1", "--filter", "label=tier") == {old, mid}
    assert ids("--filter", "reference=flt/*", "--filter", "label=tier=web") == {mid}
    assert ids("--filter", "label=tier=db", "--filter", "label=flt") == {old}
    assert ids("--filter", "reference=flt/*", "--filter", "before=flt/mid:1") == {old}
    assert ids("--filter", "reference=flt/*", "--filter", "since=flt/mid:1") == {new}
    assert ids("--filter", "reference=flt/*", "--filter", f"since={old[:12]}", "--filter",
               "before=flt/new:1") == {mid}
    # `*` does not cross a '/', as Go's path.Match.
    assert ids("--filter", "reference=*") & {old, mid, new} == set()

    berthd.berthctl("rmi", "flt/new:1", check=True)
    berthd.berthctl("tag", "flt/mid:1", "flt/keep:1", check=True)
    untag(berthd, old, "flt/old:1")
    assert old in ids("--filter", "dangling=true")
    assert mid not in ids("--filter", "dangling=true")
    assert old not in ids("--filter", "dangling=false") and mid in ids("--filter", "dangling=false")
    proc = berthd.berthctl("images", "--filter", "dangling=true", "--format", "{{.Repository}} {{.Tag}}")
    assert "<none> <none>" in lines(proc)

    for bad, why in [("dangling=maybe", "dangling"), ("color=red", "color"), ("label", "name=value"),
                     ("before=no-such:image", "No such image")]:
        proc = berthd.berthctl("images", "--filter", bad)
        assert proc.returncode == 125 and why in proc.stderr, (bad, proc)
    berthd.berthctl("rmi", "-f", old, mid, check=True)


def test_image_prune(busybox_image, berthd, workdir):
    shared = tar_bytes([("shared", os.urandom(4096))])
    top = tar_bytes([("top", os.urandom(4096))])
    base = load(berthd, workdir, "base", [shared], ["prune/base:1"], labels={"prunetest": "base"})
    upper = load(berthd, workdir, "upper", [shared, top], ["prune/upper:1"], labels={"prunetest": "upper"},
                 created="2024-05-03T00:00:00Z")
    import hashlib
    shared_id, top_id = "sha256:" + hashlib.sha256(shared).hexdigest(), "sha256:" + hashlib.sha256(top).hexdigest()
    shared_hex, top_hex = layer_key([shared_id], 0), layer_key([shared_id, top_id], 1)

    # Tagged images are not dangling: a plain prune keeps them.
    proc = berthd.berthctl("image", "prune", "-f", check=True)
    assert base not in proc.stdout and upper not in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("Total reclaimed space: ")

    # Without -f, only "y" goes on.
    proc = berthd.berthctl("image", "prune", "-a", "--filter", "label=prunetest", input="n\n", check=True)
    assert "WARNING! This will remove all images without at least one container" in proc.stdout
    assert "Deleted" not in proc.stdout

    # An image a (stopped) container uses stays, even with -a.
    berthd.berthctl("create", "--name", "prune-user", "prune/upper:1", "true", check=True)
    proc = berthd.berthctl("image", "prune", "-a", "-f", "--filter", "label=prunetest=upper", check=True)
    assert "Deleted Images" not in proc.stdout and proc.stdout.strip() == "Total reclaimed space: 0B"
    berthd.berthctl("rm", "prune-user", check=True)

    # -a with a label: the upper image goes, its own layer with it; the shared one stays for base.
    proc = berthd.berthctl("image", "prune", "-a", "-f", "--filter", "label=prunetest=upper", check=True)
    assert proc.stdout.splitlines()[:3] == ["Deleted Images:", "untagged: prune/upper:1", f"deleted: sha256:{upper}"]
    assert len(top) == 10240
    assert proc.stdout.splitlines()[-1] == "Total reclaimed space: 10.2kB"  # the top layer's tarball only
    layers = set(berthd.sh(f"ls -A {LAYERS}", check=True).stdout.split())
    assert shared_hex in layers and top_hex not in layers
    berthd.berthctl("image", "inspect", "prune/base:1", check=True)

    # until: only images created before; label!: not those with the label.
    proc = berthd.berthctl("image", "prune", "-a", "-f", "--filter", "label=prunetest", "--filter",
                           "until=2020-01-01T00:00:00Z", check=True)
    assert "Deleted" not in proc.stdout
    proc = berthd.berthctl("image", "prune", "-a", "-f", "--filter", "label=prunetest", "--filter",
                           "label!=prunetest=base", check=True)
    assert "Deleted" not in proc.stdout

    # A dangling image goes with a plain prune.
    untag(berthd, base, "prune/base:1")
    proc = berthd.berthctl("image", "prune", "-f", check=True)
    assert f"deleted: sha256:{base}" in proc.stdout
    # Gone from the store at once; its files (renamed to .rm-KEY) by the removal thread, soon.
    assert shared_hex not in berthd.sh(f"ls {LAYERS}", check=True).stdout.split()
    berthd.wait_until(lambda: shared_hex not in berthd.sh(f"ls -A {LAYERS}", check=True).stdout,
                      what="the removal thread to delete the layer's files")

    for bad in ["dangling=true", "until=soon", "label="]:
        proc = berthd.berthctl("image", "prune", "-f", "--filter", bad)
        assert proc.returncode == 125 and "invalid filter" in proc.stderr, (bad, proc)
    proc = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "PruneImages", "ba{sv}",
                         "false", "1", "color", "s", "red")
    assert proc.returncode != 0 and "Unknown prune filter" in proc.stderr, proc


def test_repo_digests_and_virtual_size(busybox_image, berthd, workdir):
    # A docker-archive load knows no manifest digest: no RepoDigests, as Docker for local images.
    image_id = load(berthd, workdir, "nodigest", [tar_bytes([("nd", os.urandom(8))])], ["digests/none:1"])
    assert image_prop(berthd, "digests/none:1", "RepoDigests") == []
    assert image_prop(berthd, "digests/none:1", "VirtualSize") == image_prop(berthd, "digests/none:1", "Size")
    assert image_prop(berthd, "digests/none:1", "Size") == sum(image_prop(berthd, "digests/none:1", "LayerSizes"))

    # An OCI archive names its manifest by digest: that is the image's repository digest.
    saved = os.path.join(workdir, "oci.tar")
    berthd.berthctl("save", "--format", "oci-archive", "-o", saved, "digests/none:1", check=True)
    with tarfile.open(saved) as tar:
        digest = json.load(tar.extractfile("index.json"))["manifests"][0]["digest"]
    berthd.berthctl("rmi", "-f", image_id, check=True)
    berthd.berthctl("load", "-i", saved, check=True)
    assert image_prop(berthd, "digests/none:1", "RepoDigests") == [f"digests/none@{digest}"]
    berthd.berthctl("tag", "digests/none:1", "digests/other:2", check=True)
    assert sorted(image_prop(berthd, "digests/none:1", "RepoDigests")) == [f"digests/none@{digest}",
                                                                         f"digests/other@{digest}"]
    inspect = json.loads(berthd.berthctl("image", "inspect", "digests/none:1", check=True).stdout)[0]
    assert sorted(inspect["RepoDigests"]) == [f"digests/none@{digest}", f"digests/other@{digest}"]
    assert inspect["VirtualSize"] == inspect["Size"]
    proc = berthd.berthctl("images", "--digests", "--format", "{{.Repository}} {{.Digest}}", "digests/*",
                           check=True)
    assert sorted(lines(proc)) == [f"digests/none {digest}", f"digests/other {digest}"]
    # The digest is part of the record: it survives a restart of berthd.
    berthd.systemctl("restart", "berthd", check=True)
    assert image_prop(berthd, "digests/none:1", "RepoDigests") == [f"digests/none@{digest}",
                                                                 f"digests/other@{digest}"]
    berthd.berthctl("rmi", "-f", "digests/none:1", check=True)


def disk_usage(berthd):
    proc = berthd.busctl("--json=short", "call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetDiskUsage",
                         check=True)
    layers, reclaimable, images, containers, volumes = json.loads(proc.stdout)["data"]
    return layers, reclaimable, images, containers, volumes


def test_system_df(busybox_image, berthd):
    berthd.berthctl("volume", "create", "df-vol", check=True)
    berthd.berthctl("run", "--name", "df-writer", "-v", "df-vol:/data", "busybox", "sh", "-c",
                    "head -c 100000 /dev/zero > /big && head -c 50000 /dev/zero > /data/f", check=True)
    cid = berthd.berthctl("inspect", "--format", "{{.Id}}", "df-writer", check=True).stdout.strip()
    try:
        layers, reclaimable, images, containers, volumes = disk_usage(berthd)
        assert {c[0]: c[1:] for c in containers}[cid] == [100000, 1]
        assert {v[0]: v[1:] for v in volumes}["df-vol"] == [1, 50000]
        busybox = image_prop(berthd, "busybox", "Id")
        by_id = {i[0]: i[1:] for i in images}
        assert by_id[busybox][0] == image_prop(berthd, "busybox", "Size") and by_id[busybox][2] >= 1
        # busybox has a container, so its layers are not reclaimable.
        assert layers >= by_id[busybox][0] and reclaimable <= layers - by_id[busybox][1]

        proc = berthd.berthctl("system", "df", check=True)
        out = [line.split() for line in proc.stdout.splitlines()]
        assert out[0] == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
        assert [row[0] for row in out[1:]] == ["Images", "Containers", "Local"]
        assert out[2][1] == str(len(containers))

        proc = berthd.berthctl("system", "df", "-v", check=True)
        text = proc.stdout
        assert "Images space usage:" in text and "Local Volumes space usage:" in text
        row = next(line.split() for line in text.splitlines() if line.startswith(cid[:12]))
        assert row[-1] == "df-writer" and "100kB" in row
        row = next(line.split() for line in text.splitlines() if line.startswith("df-vol "))
        assert row == ["df-vol", "1", "50kB"]
    finally:
        berthd.berthctl("rm", "df-writer", check=True)
        berthd.berthctl("volume", "rm", "df-vol", check=True)
    proc = berthd.berthctl("system", "df", "--nope")
    assert proc.returncode == 125, proc


def test_system_prune(busybox_image, berthd, workdir):
    image = load(berthd, workdir, "sysprune", [tar_bytes([("sp", os.urandom(8))])], ["sysprune/img:1"],
                 labels={"sysprune": "1"})
    untag(berthd, image, "sysprune/img:1")  # dangling now
    ids = {}
    ids["gone"] = berthd.berthctl("run", "-d", "--label", "sysprune=1", "busybox", "true", check=True).stdout.strip()
    ids["running"] = berthd.berthctl("run", "-d", "--label", "sysprune=1", "busybox", "sleep", "600",
                                     check=True).stdout.strip()
    ids["unlabelled"] = berthd.berthctl("create", "busybox", "true", check=True).stdout.strip()
    berthd.berthctl("wait", ids["gone"], check=True)

    proc = berthd.berthctl("system", "prune", "--filter", "label=sysprune=1", input="no\n", check=True)
    assert ("WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one "
            "container\n  - all dangling images\n") in proc.stdout
    berthd.berthctl("inspect", ids["gone"], check=True)

    proc = berthd.berthctl("system", "prune", "-f", "--filter", "label=sysprune=1", check=True)
    out = proc.stdout.splitlines()
    assert out[:3] == ["Deleted Containers:", ids["gone"], ""], proc.stdout
    assert out[3:5] == ["Deleted Images:", f"deleted: sha256:{image}"], proc.stdout
    assert out[-1].startswith("Total reclaimed space: ")
    assert berthd.berthctl("inspect", ids["gone"]).returncode != 0
    berthd.berthctl("inspect", ids["running"], check=True)
    berthd.berthctl("inspect", ids["unlabelled"], check=True)

    # --volumes: anonymous volumes no container uses go too (without filters).
    before = set(lines(berthd.berthctl("volume", "ls", "-q", check=True)))
    anon = berthd.berthctl("create", "-v", "/anon", "busybox", "true", check=True).stdout.strip()
    (vol,) = set(lines(berthd.berthctl("volume", "ls", "-q", check=True))) - before
    berthd.berthctl("rm", anon, check=True)
    proc = berthd.berthctl("system", "prune", "-f", "--volumes", check=True)
    assert f"Deleted Volumes:\n{vol}\n" in proc.stdout
    assert ids["unlabelled"] in proc.stdout and ids["running"] not in proc.stdout
    proc = berthd.berthctl("system", "prune", "-f", "--volumes", "--filter", "label=x")
    assert proc.returncode == 125, proc
    proc = berthd.berthctl("system", "prune", "-f", "--filter", "color=red")
    assert proc.returncode == 125 and "invalid filter" in proc.stderr, proc
    berthd.berthctl("rm", "-f", ids["running"], check=True)
