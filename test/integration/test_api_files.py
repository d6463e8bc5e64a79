# SPDX-License-Identifier: LGPL-2.1-or-later
"""berth-api's file and image endpoints driven by the real docker CLI: cp both ways (archive),
diff (changes), export, commit, update; plus the status codes of bad input over raw HTTP."""
import base64
import io
import json
import tarfile
import tempfile

import pytest

from test_api import SOCK, api, docker, http, http_json  # noqa: F401 (api is a fixture)

# What this file tests does not depend on the cgroup layout or the storage driver: first pass only.
pytestmark = pytest.mark.once

GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27


def out(bed, *args, **kw):
    return docker(bed, *args, **kw).stdout


@pytest.fixture()
def box(api):
    """A running busybox container, removed after the test."""
    name = "api-files"
    docker(api, "rm", "-f", name, check=False)
    docker(api, "run", "-d", "--name", name, "busybox", "sleep", "600")
    api.sh("rm -rf /tmp/apicp && mkdir -p /tmp/apicp/src/dir/sub && echo hello > /tmp/apicp/src/file.txt && "
           "echo deep > /tmp/apicp/src/dir/sub/f && chown -R 1234:1234 /tmp/apicp/src", check=True)
    yield name
    docker(api, "rm", "-f", name, check=False)
    api.run(["rm", "-rf", "/tmp/apicp"])


def stat_header(headers):
    return json.loads(base64.b64decode(headers["x-docker-container-path-stat"]))


def copy_round_trip(bed, name, tag):
    # In: a file into an existing directory, a directory to a new name.
    docker(bed, "cp", "/tmp/apicp/src/file.txt", f"{name}:/tmp/")
    docker(bed, "cp", "/tmp/apicp/src/dir", f"{name}:/tmp/new-{tag}")
    # Out: a file, a directory, and a tar stream to stdout.
    docker(bed, "cp", f"{name}:/tmp/file.txt", f"/tmp/apicp/file-{tag}")
    docker(bed, "cp", f"{name}:/tmp/new-{tag}", f"/tmp/apicp/dir-{tag}")
    assert bed.run(["cat", f"/tmp/apicp/file-{tag}"]).stdout == "hello\n"
    assert bed.run(["cat", f"/tmp/apicp/dir-{tag}/sub/f"]).stdout == "deep\n"
    listing = bed.sh(f"env DOCKER_HOST=unix:///run/berth/docker.sock /usr/local/bin/docker cp {name}:/tmp/new-{tag} - "
                     "| tar t", check=True).stdout.split()
    assert f"new-{tag}/sub/f" in listing


def test_cp_running(api, box):
    copy_round_trip(api, box, "run")
    # Without -a the files belong to the container's root, as in Docker.
    owner = out(api, "exec", box, "stat", "-c", "%u:%g", "/tmp/file.txt").strip()
    assert owner == "0:0"
    assert out(api, "exec", box, "cat", "/tmp/new-run/sub/f") == "deep\n"
    # -a keeps them.
    docker(api, "cp", "-a", "/tmp/apicp/src/file.txt", f"{box}:/tmp/kept.txt")
    assert out(api, "exec", box, "stat", "-c", "%u:%g", "/tmp/kept.txt").strip() == "1234:1234"
    # Docker's noOverwriteDirNonDir: no directory replaced by a file nor the reverse; files are.
    api.sh("echo new > /tmp/apicp/src/file.txt && echo f > /tmp/apicp/src/clash && mkdir /tmp/apicp/src/clashdir",
           check=True)
    docker(api, "cp", "/tmp/apicp/src/file.txt", f"{box}:/tmp/")
    assert out(api, "exec", box, "cat", "/tmp/file.txt") == "new\n"
    docker(api, "exec", box, "sh", "-c", "mkdir -p /tmp/clash/keep && touch /tmp/clashdir")
    proc = docker(api, "cp", "/tmp/apicp/src/clash", f"{box}:/tmp/", check=False)
    assert proc.returncode != 0 and "cannot overwrite directory" in proc.stderr, proc.stderr
    proc = docker(api, "cp", "/tmp/apicp/src/clashdir", f"{box}:/tmp/", check=False)
    assert proc.returncode != 0 and "cannot overwrite non-directory" in proc.stderr, proc.stderr
    assert docker(api, "exec", box, "test", "-d", "/tmp/clash/keep").returncode == 0
    assert docker(api, "exec", box, "test", "-f", "/tmp/clashdir").returncode == 0
    api.sh("echo hello > /tmp/apicp/src/file.txt", check=True)
    docker(api, "cp", "/tmp/apicp/src/file.txt", f"{box}:/tmp/")
    # -L: the CLI reads the link's target from the stat (HEAD) and copies what it points to.
    docker(api, "exec", box, "ln", "-s", "file.txt", "/tmp/link")
    docker(api, "cp", "-L", f"{box}:/tmp/link", "/tmp/apicp/followed")
    assert api.run(["cat", "/tmp/apicp/followed"]).stdout == "hello\n"
    status, headers, _ = http(api, "HEAD", f"/containers/{box}/archive?path=/tmp/link")
    assert status == 200 and stat_header(headers)["linkTarget"] == "file.txt"
    assert stat_header(headers)["mode"] & GO_MODE_SYMLINK
    # A missing source fails and says so.
    proc = docker(api, "cp", f"{box}:/nope", "/tmp/apicp/nope", check=False)
    assert proc.returncode != 0


def test_cp_stopped(api, box):
    docker(api, "stop", "-t", "1", box)
    copy_round_trip(api, box, "stopped")
    docker(api, "start", box)
    assert out(api, "exec", box, "cat", "/tmp/file.txt") == "hello\n"


def test_archive_raw_http(api, box):
    status, headers, body = http(api, "HEAD", f"/containers/{box}/archive?path=/etc")
    assert status == 200
    st = stat_header(headers)
    assert st["name"] == "etc" and st["mode"] & GO_MODE_DIR and st["mtime"].endswith("Z")
    status, headers, body = http(api, "HEAD", f"/containers/{box}/archive?path=/etc/passwd")
    st = stat_header(headers)
    assert status == 200 and st["name"] == "passwd" and not st["mode"] & GO_MODE_DIR and st["size"] > 0
    assert st["mode"] & 0o777 == 0o644
    status, headers, body = http(api, "GET", f"/containers/{box}/archive?path=/etc/passwd")
    assert status == 200 and headers["content-type"] == "application/x-tar"
    assert stat_header(headers)["name"] == "passwd"
    assert body[:6] == b"passwd" and len(body) % 512 == 0
    # Bad input.
    assert http(api, "HEAD", f"/containers/{box}/archive?path=/nope")[0] == 404
    status, data = http_json(api, "GET", f"/containers/{box}/archive?path=/nope")
    assert status == 404, data
    status, data = http_json(api, "GET", "/containers/api-nope/archive?path=/etc")
    assert status == 404 and "No such container" in data["message"]
    status, data = http_json(api, "GET", f"/containers/{box}/archive")
    assert status == 400 and "path" in data["message"]
    status, data = http_json(api, "PUT", f"/containers/{box}/archive?path=/tmp", b"this is no tar" * 100)
    assert status == 400, data
    status, data = http_json(api, "PUT", f"/containers/{box}/archive")
    assert status == 400
    # Docker extracts only into a directory: a file as the extraction point is left alone.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("raw.txt")
        info.size = 3
        t.addfile(info, io.BytesIO(b"raw"))
    status, data = http_json(api, "PUT", f"/containers/{box}/archive?path=/etc/passwd", buf.getvalue())
    assert status == 400 and "not a directory" in data["message"]
    assert "root:" in out(api, "exec", box, "cat", "/etc/passwd")
    status, data = http_json(api, "PUT", f"/containers/{box}/archive?path=/nope", buf.getvalue())
    assert status == 404, data
    status, data = http_json(api, "PUT", f"/containers/{box}/archive?path=/tmp", buf.getvalue())
    assert status == 200, data
    assert out(api, "exec", box, "cat", "/tmp/raw.txt") == "raw"
    status, data = http_json(api, "PUT", "/containers/api-nope/archive?path=/tmp", b"x")
    assert status == 404


def test_diff_export_commit(api, box):
    docker(api, "exec", box, "sh", "-c", "echo added > /added && rm /etc/group")
    changes = out(api, "diff", box).splitlines()
    assert "A /added" in changes and "D /etc/group" in changes and "C /etc" in changes
    status, data = http_json(api, "GET", f"/containers/{box}/changes")
    assert status == 200 and {"Path": "/added", "Kind": 1} in data and {"Path": "/etc/group", "Kind": 2} in data
    assert http_json(api, "GET", "/containers/api-nope/changes")[0] == 404

    listing = api.sh(f"env DOCKER_HOST=unix:///run/berth/docker.sock /usr/local/bin/docker export {box} | tar t",
                     check=True).stdout.split()
    assert "added" in listing or "./added" in listing
    assert not any(x.endswith("etc/group") for x in listing)
    assert http_json(api, "GET", "/containers/api-nope/export")[0] == 404

    image = "api-committed:v1"
    try:
        iid = out(api, "commit", "-m", "from the api", "-a", "Me <me@example.com>", "-c", 'CMD ["cat", "/added"]',
                  box, image).strip()
        assert iid.startswith("sha256:")
        assert out(api, "run", "--rm", image) == "added\n"
        info = json.loads(out(api, "image", "inspect", image))[0]
        assert info["Config"]["Cmd"] == ["cat", "/added"]
        assert info["Id"] == iid
        # Bad input: no container, an unknown one, a bad change.
        assert http_json(api, "POST", "/commit")[0] == 400
        assert http_json(api, "POST", "/commit?container=api-nope")[0] == 404
        assert http_json(api, "POST", f"/commit?container={box}&changes=BOGUS%20x")[0] == 400
    finally:
        docker(api, "rmi", "-f", image, check=False)


def test_update(api, box):
    docker(api, "update", "--memory", "64m", "--memory-swap", "128m", "--cpus", "0.5", "--pids-limit", "50",
           "--restart", "on-failure:3", box)
    host = json.loads(out(api, "inspect", box))[0]["HostConfig"]
    assert host["Memory"] == 64 * 1024 * 1024
    assert host["NanoCpus"] == 500000000
    assert host["PidsLimit"] == 50
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    status, data = http_json(api, "POST", f"/containers/{box}/update", {"CpuShares": 512})
    assert status == 200 and data == {"Warnings": []}
    assert json.loads(out(api, "inspect", box))[0]["HostConfig"]["CpuShares"] == 512
    # Bad input.
    assert http_json(api, "POST", "/containers/api-nope/update", {"Memory": 1 << 26})[0] == 404
    assert http_json(api, "POST", f"/containers/{box}/update", {"Memory": "lots"})[0] == 400
    assert http_json(api, "POST", f"/containers/{box}/update", b"{bad")[0] == 400
    assert http_json(api, "POST", f"/containers/{box}/update", {"NanoCpus": 10**9, "CpuQuota": 50000})[0] == 400


def test_save_load_round_trip(api):
    bed = api
    docker(bed, "tag", "busybox", "api-saved:v1")
    try:
        bed.run(["rm", "-f", "/tmp/api-saved.tar"])
        docker(bed, "save", "-o", "/tmp/api-saved.tar", "api-saved:v1")
        listing = bed.run(["tar", "tf", "/tmp/api-saved.tar"], check=True).stdout.split()
        assert "manifest.json" in listing
        iid = json.loads(out(bed, "image", "inspect", "api-saved:v1"))[0]["Id"]
        docker(bed, "rmi", "api-saved:v1")
        assert docker(bed, "image", "inspect", "api-saved:v1", check=False).returncode != 0
        proc = docker(bed, "load", "-i", "/tmp/api-saved.tar")
        assert "Loaded image: api-saved:v1" in proc.stdout
        assert json.loads(out(bed, "image", "inspect", "api-saved:v1"))[0]["Id"] == iid
        assert out(bed, "run", "--rm", "api-saved:v1", "echo", "loaded") == "loaded\n"
        # /images/{name}/get, the SDK's image.save(), is the same archive.
        status, headers, body = http(bed, "GET", "/images/api-saved:v1/get")
        assert status == 200 and headers["content-type"] == "application/x-tar" and len(body) > 1024
        # Bad input.
        assert http_json(bed, "GET", "/images/get")[0] == 400
        assert http_json(bed, "GET", "/images/get?names=api-nope:v9")[0] == 404
        assert http_json(bed, "POST", "/images/load", b"no archive at all" * 64)[0] == 400
        assert http_json(bed, "POST", "/images/load")[0] == 400
    finally:
        docker(bed, "rmi", "api-saved:v1", check=False)
        bed.run(["rm", "-f", "/tmp/api-saved.tar"])


def test_push_to_registry(api, registry):
    bed = api
    ref = registry.ref("api/pushed", "v1")
    docker(bed, "tag", "busybox", ref)
    try:
        proc = docker(bed, "push", ref, timeout=300)
        assert "v1: digest: sha256:" in proc.stdout, proc.stdout
        digest = proc.stdout.split("digest: ")[1].split()[0]
        docker(bed, "rmi", ref)
        proc = docker(bed, "pull", ref, timeout=300)
        assert f"Digest: {digest}" in proc.stdout
        # --all-tags (no tag in the API): every tag of the repository, one after another.
        ref2 = registry.ref("api/pushed", "v2")
        docker(bed, "tag", "busybox", ref2)
        proc = docker(bed, "push", "--all-tags", ref.rsplit(":", 1)[0], timeout=300)
        assert "v1: digest: sha256:" in proc.stdout and "v2: digest: sha256:" in proc.stdout, proc.stdout
        docker(bed, "rmi", ref2)
        # An image that is not there: 404 before anything goes out.
        status, data = http_json(bed, "POST", f"/images/{registry.url}/api/none/push?tag=v9")
        assert status == 404 and "does not exist locally" in data["message"]
        assert docker(bed, "push", registry.ref("api/none", "v9"), check=False).returncode != 0
    finally:
        docker(bed, "rmi", ref, check=False)
        docker(bed, "rmi", registry.ref("api/pushed", "v2"), check=False)


def test_system_df(api, box):
    docker(api, "exec", box, "sh", "-c", "head -c 100000 /dev/zero > /grown")
    docker(api, "volume", "create", "api-df-vol")
    try:
        status, data = http_json(api, "GET", "/system/df")
        assert status == 200 and data["LayersSize"] > 0 and data["BuildCache"] == []
        mine = [x for x in data["Containers"] if x["Names"] == [f"/{box}"]]
        assert len(mine) == 1 and mine[0]["SizeRw"] >= 100000 and mine[0]["SizeRootFs"] > mine[0]["SizeRw"]
        bb = [x for x in data["Images"] if "busybox:latest" in x["RepoTags"]]
        assert bb and bb[0]["Containers"] >= 1 and bb[0]["Size"] > 0
        vol = [x for x in data["Volumes"] if x["Name"] == "api-df-vol"]
        assert vol and vol[0]["UsageData"] == {"Size": 0, "RefCount": 0}
        text = out(api, "system", "df")
        assert text.splitlines()[0].split()[:2] == ["TYPE", "TOTAL"]
        assert "Images" in text and "Containers" in text and "Local Volumes" in text
        verbose = out(api, "system", "df", "-v")
        assert box in verbose and "api-df-vol" in verbose
    finally:
        docker(api, "volume", "rm", "api-df-vol", check=False)


def test_import(api, box):
    image = "api-imported:v1"
    docker(api, "exec", box, "sh", "-c", "echo imported > /marker")
    try:
        proc = api.sh(f"env DOCKER_HOST=unix:///run/berth/docker.sock /usr/local/bin/docker export {box} | "
                      f"env DOCKER_HOST=unix:///run/berth/docker.sock /usr/local/bin/docker import "
                      f"-c 'CMD [\"cat\", \"/marker\"]' -m 'from export' - {image}", check=True)
        assert proc.stdout.strip().startswith("sha256:")
        assert out(api, "run", "--rm", image) == "imported\n"
        assert json.loads(out(api, "image", "inspect", image))[0]["Config"]["Cmd"] == ["cat", "/marker"]
        # A URL as the source, no body, a bad change.
        status, data = http_json(api, "POST", "/images/create?fromSrc=http://example.com/x.tar&repo=api-x")
        assert status == 501
        assert http_json(api, "POST", "/images/create?fromSrc=-&repo=api-x")[0] == 400
        status, data = http_json(api, "POST", "/images/create?fromSrc=-&repo=api-x&changes=BOGUS%201", b"x" * 1024)
        assert status == 400, data
    finally:
        docker(api, "rmi", image, check=False)


def test_large_bodies(api, box):
    """Bodies that are files (cp in, load) are spooled, not held to the 16 MiB of other bodies."""
    bed = api
    image = "api-large:v1"
    bed.sh("head -c 20971520 /dev/urandom > /tmp/apicp/big && sha256sum /tmp/apicp/big | cut -d' ' -f1 "
           "> /tmp/apicp/big.sum", check=True)
    want = bed.run(["cat", "/tmp/apicp/big.sum"]).stdout.strip()
    try:
        docker(bed, "cp", "/tmp/apicp/big", f"{box}:/big")
        assert out(bed, "exec", box, "sha256sum", "/big").split()[0] == want
        docker(bed, "commit", box, image)
        docker(bed, "save", "-o", "/tmp/apicp/large.tar", image)
        docker(bed, "rmi", image)
        assert "Loaded image: api-large:v1" in out(bed, "load", "-i", "/tmp/apicp/large.tar")
        assert out(bed, "run", "--rm", image, "sha256sum", "/big").split()[0] == want
    finally:
        docker(bed, "rmi", image, check=False)


def test_push_with_credentials(api, registry_basic):
    """docker push sends what docker login stored as X-Registry-Auth; berthd pushes with it."""
    bed = api
    ref = registry_basic.ref("api/private", "v1")
    docker(bed, "tag", "busybox", ref)
    config = tempfile.mkdtemp(prefix="berth-docker-config.", dir="/var/tmp")
    env = ["env", f"DOCKER_HOST=unix://{SOCK}", f"DOCKER_CONFIG={config}", "/usr/local/bin/docker"]
    try:
        proc = bed.run(env + ["push", ref], timeout=300)
        assert proc.returncode != 0, proc.stdout
        proc = bed.run(env + ["login", "-u", registry_basic.user, "--password-stdin", registry_basic.url],
                       input=registry_basic.password, timeout=120)
        assert proc.returncode == 0, (proc.stdout, proc.stderr)
        proc = bed.run(env + ["push", ref], timeout=300)
        assert proc.returncode == 0 and "v1: digest: sha256:" in proc.stdout, (proc.stdout, proc.stderr)
        journal = bed.run(["journalctl", "--no-pager", "-o", "cat"], timeout=60).stdout
        assert registry_basic.password not in journal
    finally:
        docker(bed, "rmi", ref, check=False)
        bed.run(["rm", "-rf", config])
