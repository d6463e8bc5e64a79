# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python Docker SDK (Debian's python3-docker 5.0.3) drives berth through berth-api unchanged:
docker.from_env() with DOCKER_HOST on berth's socket."""
import base64
import io
import json
import shutil
import tarfile
import tempfile
import threading
import time

import pytest

from test_api import SOCK, api, connect, http_json, sock_path  # noqa: F401 (api is a fixture)

# What this file tests does not depend on the cgroup layout or the storage driver: first pass only.
pytestmark = pytest.mark.once

docker_sdk = pytest.importorskip("docker")


@pytest.fixture(scope="module")
def client(api):
    # The socket as the test process reaches it (the testbed's mount namespace).
    cl = docker_sdk.from_env(environment={"DOCKER_HOST": f"unix://{sock_path(api, SOCK)}"}, timeout=120)
    yield cl
    cl.close()


def test_sdk_ping_version(client):
    assert client.ping() is True
    assert client.version()["ApiVersion"] == "1.41"


def test_sdk_run_remove(client):
    out = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], remove=True)
    assert out == b"out\n"
    out = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], remove=True,
                                stdout=True, stderr=True)
    assert out in (b"out\nerr\n", b"err\nout\n")
    with pytest.raises(docker_sdk.errors.ContainerError) as e:
        client.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 7"], remove=True)
    assert e.value.exit_status == 7 and b"bad" in e.value.stderr
    with pytest.raises(docker_sdk.errors.ImageNotFound):
        client.containers.run("sdk-nope:latest", "true", remove=True)


def test_sdk_detach_logs_wait_exec(client):
    c = client.containers.run("busybox", ["sh", "-c", "echo one; echo two >&2; sleep 600"], detach=True,
                              name="sdk-det", labels={"sdk": "yes"})
    try:
        assert c.name == "sdk-det" and c.labels == {"sdk": "yes"}
        c.reload()
        assert c.status == "running"
        assert [x.name for x in client.containers.list(filters={"label": "sdk=yes"})] == ["sdk-det"]
        deadline = time.monotonic() + 10
        while c.logs() != b"one\ntwo\n":
            assert time.monotonic() < deadline, c.logs()
            time.sleep(0.2)
        assert c.logs(stderr=False) == b"one\n"
        # docker-py reads a hijacked stream from the socket under http.client's buffered reader:
        # output that arrives with the 101 response is lost (docker/docker-py#3332, #2042; with
        # dockerd too). The commands wait a little before they write, as that workaround.
        r = c.exec_run(["sh", "-c", "sleep 0.5; echo in-exec; exit 4"])
        assert (r.exit_code, r.output) == (4, b"in-exec\n")
        r = c.exec_run(["sh", "-c", "sleep 0.5; pwd; echo $A"], workdir="/tmp", environment={"A": "b"})
        assert (r.exit_code, r.output) == (0, b"/tmp\nb\n")
        r = c.exec_run(["sh", "-c", "sleep 0.5; echo o; echo e >&2"], demux=True)
        assert r.output == (b"o\n", b"e\n")
        # A TTY exec: output unframed.
        r = c.exec_run(["sh", "-c", "sleep 0.5; tty"], tty=True)
        assert r.exit_code == 0 and r.output.startswith(b"/dev/pts/"), r
        # Streaming logs follow until the container stops.
        stream = c.logs(stream=True, follow=True)
        got = []
        t = threading.Thread(target=lambda: got.extend(stream))
        t.start()
        time.sleep(1)
        c.kill()
        t.join(30)
        assert not t.is_alive() and b"".join(got) == b"one\ntwo\n"
        assert c.wait(timeout=30)["StatusCode"] == 137
        c.reload()
        assert c.status == "exited"
        stats = c.stats(stream=False)
        assert "memory_stats" in stats and "cpu_stats" in stats
    finally:
        c.remove(force=True)
    with pytest.raises(docker_sdk.errors.NotFound):
        client.containers.get("sdk-det")


def test_sdk_images_pull_history_prune(client, registry):
    registry.push_busybox("sdk/bb", "v1")
    img = client.images.pull(f"{registry.url}/sdk/bb", tag="v1")
    try:
        assert f"{registry.url}/sdk/bb:v1" in img.tags
        assert img.id.startswith("sha256:")
        hist = img.history()
        assert hist and all("Created" in h and "CreatedBy" in h for h in hist)
        assert client.images.get(f"{registry.url}/sdk/bb:v1").id == img.id
    finally:
        client.images.remove(f"{registry.url}/sdk/bb:v1")
    r = client.images.prune()
    assert "ImagesDeleted" in r and "SpaceReclaimed" in r


def test_sdk_pull_with_credentials(client, registry_basic, api):
    registry_basic.push_busybox("sdk/private", "v1")
    ref = f"{registry_basic.url}/sdk/private"
    with pytest.raises(docker_sdk.errors.APIError):
        client.images.pull(ref, tag="v1")
    img = client.images.pull(ref, tag="v1", auth_config={"username": registry_basic.user,
                                                         "password": registry_basic.password})
    try:
        assert f"{ref}:v1" in img.tags
    finally:
        client.images.remove(f"{ref}:v1")
    # The password lands in no log.
    journal = api.run(["journalctl", "--no-pager", "-o", "cat"], timeout=60).stdout
    assert registry_basic.password not in journal
    # POST /auth (client.login, docker login) checks credentials with berthd's Login.
    assert client.login(registry_basic.user, registry_basic.password, registry=registry_basic.url,
                        reauth=True)["Status"] == "Login Succeeded"
    with pytest.raises(docker_sdk.errors.APIError) as e:
        client.login(registry_basic.user, "wrong", registry=registry_basic.url, reauth=True)
    assert e.value.status_code == 401
    # The docker CLI: login (its config in a directory of its own), then a pull with what it stored.
    config = tempfile.mkdtemp(prefix="berth-docker-config.", dir="/var/tmp")
    try:
        env = ["env", f"DOCKER_HOST=unix://{SOCK}", f"DOCKER_CONFIG={config}", "/usr/local/bin/docker"]
        proc = api.run(env + ["login", "-u", registry_basic.user, "--password-stdin", registry_basic.url],
                       input=registry_basic.password, timeout=120)
        assert proc.returncode == 0 and "Login Succeeded" in proc.stdout, (proc.stdout, proc.stderr)
        proc = api.run(env + ["pull", f"{ref}:v1"], timeout=300)
        assert proc.returncode == 0, (proc.stdout, proc.stderr)
        client.images.remove(f"{ref}:v1")
    finally:
        shutil.rmtree(config, ignore_errors=True)
    journal = api.run(["journalctl", "--no-pager", "-o", "cat"], timeout=60).stdout
    assert registry_basic.password not in journal
    # A header that is no JSON: 400, before any pull.
    bad = base64.urlsafe_b64encode(b"{not json").decode()
    status, msg = http_json_headers(api, "POST", f"/images/create?fromImage={ref}&tag=v1",
                                    {"X-Registry-Auth": bad})
    assert status == 400, msg


def http_json_headers(bed, method, path, headers):
    from test_api import connect, read_response
    with connect(bed) as s:
        req = f"{method} {path} HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n"
        for k, v in headers.items():
            req += f"{k}: {v}\r\n"
        s.sendall(req.encode() + b"\r\n")
        status, h, data = read_response(s)
        return status, (json.loads(data) if data.strip() else None)


def test_sdk_volumes_networks(client):
    v = client.volumes.create("sdk-vol", labels={"k": "v"})
    n = client.networks.create("sdk-net", labels={"k": "v"})
    try:
        assert v.name == "sdk-vol" and client.volumes.get("sdk-vol").attrs["Labels"] == {"k": "v"}
        assert "sdk-vol" in [x.name for x in client.volumes.list()]
        assert n.name == "sdk-net" and client.networks.get(n.id).name == "sdk-net"
        assert "sdk-net" in [x.name for x in client.networks.list(names=["sdk-net"])]
        c = client.containers.run("busybox", "sleep 600", detach=True, name="sdk-net-c",
                                  volumes={"sdk-vol": {"bind": "/v", "mode": "rw"}})
        try:
            n.connect(c, aliases=["sdk-alias"])
            c.reload()
            assert "sdk-alias" in c.attrs["NetworkSettings"]["Networks"]["sdk-net"]["Aliases"]
            n.reload()
            assert c.id in n.attrs["Containers"]
            n.disconnect(c)
            c.reload()
            assert "sdk-net" not in c.attrs["NetworkSettings"]["Networks"]
            c.exec_run(["sh", "-c", "echo x > /v/file"])
        finally:
            c.remove(force=True)
    finally:
        n.remove()
        v.remove()
    assert "sdk-vol" not in [x.name for x in client.volumes.list()]
    # Prunes answer in Docker's shape.
    unused = client.volumes.create("sdk-unused")
    r = client.volumes.prune()
    assert "VolumesDeleted" in r and "SpaceReclaimed" in r
    client.networks.create("sdk-unused-net")
    r = client.networks.prune()
    assert "sdk-unused-net" in (r["NetworksDeleted"] or [])
    c = client.containers.create("busybox", "true", name="sdk-stopped")
    r = client.containers.prune()
    assert c.id in (r["ContainersDeleted"] or [])
    del unused


def test_sdk_events(client):
    # The live stream while the container comes and goes; then the same from the journal.
    until = int(time.time()) + 6
    stream = client.events(until=until, decode=True, filters={"type": "container", "label": "sdk-ev=1"})
    got = []
    t = threading.Thread(target=lambda: got.extend(stream))
    t.start()
    time.sleep(1)
    c = client.containers.run("busybox", ["sh", "-c", "exit 3"], detach=True, name="sdk-ev", labels={"sdk-ev": "1"})
    c.wait(timeout=30)
    c.remove()
    client.containers.create("busybox", "true", name="sdk-ev-other").remove()
    t.join(30)
    assert not t.is_alive(), "the stream did not end at until"
    actions = [e["Action"] for e in got]
    assert actions[:1] == ["create"] and "start" in actions and actions[-1] == "destroy", got
    die = next(e for e in got if e["Action"] == "die")
    assert die["Actor"]["ID"] == c.id and die["Actor"]["Attributes"]["exitCode"] == "3"
    assert die["Actor"]["Attributes"]["name"] == "sdk-ev" and die["Type"] == "container"
    # Docker's wire keys (docker-compose reads time).
    assert die["status"] == "die" and die["id"] == c.id and die["from"] == "busybox"
    assert abs(die["time"] - time.time()) < 60 and die["timeNano"] // 10**9 == die["time"] and die["scope"] == "local"
    assert all(e["Actor"]["Attributes"].get("name") == "sdk-ev" for e in got)
    # Only the past: what berthd journaled, at once (nothing in 1970).
    assert list(client.events(since=1, until=2, decode=True)) == []
    past = list(client.events(since=until - 7, until=int(time.time()), decode=True,
                              filters={"type": "container", "label": "sdk-ev=1"}))
    assert [e["Action"] for e in past] == ["create", "start", "die", "destroy"], past
    assert past[2]["Actor"]["Attributes"]["exitCode"] == "3" and past[2]["id"] == c.id



def test_events_raw(api):
    for query in ("filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D", "filters=%7Bbad", "since=yesterday"):
        status, msg = http_json(api, "GET", f"/events?{query}")
        assert status == 400 and msg["message"], (query, msg)
    # A client that goes away mid-stream: the server drops the stream and serves on.
    with connect(api) as s:
        s.sendall(b"GET /events HTTP/1.1\r\nHost: d\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        assert head.startswith(b"HTTP/1.1 200")
    api.run(["berthctl", "volume", "create", "sdk-ev-vol"], check=True)
    api.run(["berthctl", "volume", "rm", "sdk-ev-vol"], check=True)
    assert http_json(api, "GET", "/_ping")[0] == 200


def test_sdk_mounts(client):
    """HostConfig.Mounts (the long syntax): a named volume, a read-only one, a tmpfs."""
    client.volumes.create("sdk-mnt")
    try:
        mounts = [docker_sdk.types.Mount("/data", "sdk-mnt", type="volume"),
                  docker_sdk.types.Mount("/ro", "sdk-mnt", type="volume", read_only=True),
                  docker_sdk.types.Mount("/scratch", None, type="tmpfs")]
        out = client.containers.run("busybox", ["sh", "-c", "echo hi > /data/f && cat /ro/f && "
                                                "grep -q ' /scratch tmpfs ' /proc/mounts && echo tmpfs && "
                                                "! touch /ro/g 2>/dev/null && echo ro"],
                                    mounts=mounts, remove=True)
        assert out == b"hi\ntmpfs\nro\n"
        # HostConfig.Tmpfs (compose's tmpfs:), its "ro" taken.
        out = client.containers.run("busybox", ["sh", "-c", "grep -q ' /t1 tmpfs rw' /proc/mounts && "
                                                "grep -q ' /t2 tmpfs ro' /proc/mounts && echo ok"],
                                    tmpfs={"/t1": "size=1m", "/t2": "ro"}, remove=True)
        assert out == b"ok\n"
        with pytest.raises(docker_sdk.errors.APIError) as e:
            client.containers.create("busybox", "true", mounts=[docker_sdk.types.Mount("relative", "sdk-mnt")])
        assert e.value.status_code == 400
    finally:
        client.volumes.get("sdk-mnt").remove(force=True)


def test_sdk_stats_stream(client, api):
    c = client.containers.run("busybox", ["sleep", "600"], detach=True, name="sdk-stats")
    try:
        stream = c.stats(decode=True)  # Docker's default: a sample a second
        first, second = next(stream), next(stream)
        assert first["id"] == c.id and first["name"] == "/sdk-stats"
        assert second["precpu_stats"]["cpu_usage"]["total_usage"] == first["cpu_stats"]["cpu_usage"]["total_usage"]
        assert second["memory_stats"]["usage"] > 0 and second["pids_stats"]["current"] >= 1
        stream.close()
        # The docker CLI's one-shot table.
        proc = api.run(["env", f"DOCKER_HOST=unix://{SOCK}", "/usr/local/bin/docker", "stats", "--no-stream",
                        "--format", "{{.Name}} {{.PIDs}}", "sdk-stats"], timeout=60)
        assert proc.returncode == 0 and proc.stdout.split()[0] == "sdk-stats", proc.stderr
        assert int(proc.stdout.split()[1]) >= 1  # the scope's tasks: sleep, and berth's init when there is one
    finally:
        c.remove(force=True)
    # Of a removed container: 404 (the stream of one that goes ends).
    assert http_json(api, "GET", "/containers/sdk-stats/stats?stream=0")[0] == 404


def test_sdk_files_and_images(client):
    """The SDK's put_archive/get_archive, diff, export, commit, update, save and load."""
    c = client.containers.run("busybox", ["sleep", "600"], detach=True, name="sdk-files")
    image = None
    try:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            info = tarfile.TarInfo("sdk.txt")
            info.size = 4
            t.addfile(info, io.BytesIO(b"sdk\n"))
        assert c.put_archive("/tmp", buf.getvalue()) is True
        stream, stat = c.get_archive("/tmp/sdk.txt")
        data = b"".join(stream)
        assert stat["name"] == "sdk.txt" and stat["size"] == 4
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            assert t.extractfile("sdk.txt").read() == b"sdk\n"
        assert {"Path": "/tmp/sdk.txt", "Kind": 1} in c.diff()
        assert len(b"".join(c.export())) > 1024
        c.update(mem_limit="64m")
        c.reload()
        assert c.attrs["HostConfig"]["Memory"] == 64 * 1024 * 1024
        image = c.commit("sdk-committed", "v1", message="sdk", changes=['CMD ["cat", "/tmp/sdk.txt"]'])
        assert client.containers.run("sdk-committed:v1", remove=True) == b"sdk\n"
        archive = b"".join(image.save())
        client.images.remove("sdk-committed:v1")
        loaded = client.images.load(archive)
        assert [i.id for i in loaded] == [image.id]
    finally:
        c.remove(force=True)
        if image is not None:
            try:
                client.images.remove("sdk-committed:v1")
            except docker_sdk.errors.ImageNotFound:
                pass
