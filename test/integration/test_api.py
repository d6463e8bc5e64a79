# SPDX-License-Identifier: LGPL-2.1-or-later
"""berth-api (the Docker Engine API, docs/API.md): socket-activated on /run/berth/docker.sock,
driven by the real docker CLI inside the testbed and by raw HTTP from the test process."""
import json
import os
import socket
import struct
import time

import pytest

# What this file tests does not depend on the cgroup layout or the storage driver: first pass only.
pytestmark = pytest.mark.once

DOCKER = "/usr/local/bin/docker"
SOCK = "/run/berth/docker.sock"


def sock_path(bed, path):
    """path inside the testbed's mount namespace, as the test process reaches it."""
    pid = bed._testbed("pid", bed.state_dir).stdout.strip() if bed.mode == "ns" else ""
    return f"/proc/{pid}/root{path}" if pid else path


@pytest.fixture(scope="module")
def api(berthd, busybox_image):
    bed = berthd
    assert bed.run(["test", "-f", "/usr/lib/systemd/system/berth-api.socket"]).returncode == 0 or \
        bed.run(["test", "-f", "/lib/systemd/system/berth-api.socket"]).returncode == 0, \
        "berth-api.socket is not installed"
    # A short idle timeout, to see the service go and come back.
    bed.run(["mkdir", "-p", "/run/systemd/system/berth-api.service.d"], check=True)
    bed.sh("printf '[Service]\\nExecStart=\\nExecStart=/usr/sbin/berth-api --idle-timeout=3 --request-timeout=4\\n' "
           "> /run/systemd/system/berth-api.service.d/idle.conf", check=True)
    bed.systemctl("daemon-reload", check=True)
    proc = bed.systemctl("start", "berth-api.socket")
    assert proc.returncode == 0, proc.stderr
    yield bed
    bed.systemctl("stop", "berth-api.socket", "berth-api.service")
    bed.run(["rm", "-rf", "/run/systemd/system/berth-api.service.d"])
    bed.systemctl("daemon-reload")


def docker(bed, *args, check=True, timeout=120):
    proc = bed.run(["env", f"DOCKER_HOST=unix://{SOCK}", DOCKER, *args], timeout=timeout)
    if check:
        assert proc.returncode == 0, f"docker {' '.join(args)}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def connect(bed):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(sock_path(bed, SOCK))
    return s


def read_response(s, head_request=False):
    """(status, headers, body bytes) of one response; chunked bodies are joined. head: the answer
    to a HEAD request (a length but no body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed before the headers: {buf!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()

    def more():
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("connection closed in the body")
        return chunk

    if head_request:
        return status, headers, rest
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += more()
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line, 16)
            while len(rest) < size + 2:
                rest += more()
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                return status, headers, body
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        rest += more()
    return status, headers, rest[:n]


def http(bed, method, path, body=None, raw=None):
    with connect(bed) as s:
        if raw is not None:
            s.sendall(raw)
        else:
            data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            req = f"{method} {path} HTTP/1.1\r\nHost: docker\r\nContent-Length: {len(data)}\r\n"
            if body is not None:
                req += "Content-Type: application/json\r\n"
            s.sendall(req.encode() + b"\r\n" + data)
        return read_response(s, head_request=method == "HEAD")


def http_json(bed, method, path, body=None):
    status, headers, data = http(bed, method, path, body)
    return status, (json.loads(data) if data.strip() and "json" in headers.get("content-type", "") else data)


def test_socket_unit(api):
    bed = api
    assert bed.systemctl("is-active", "berth-api.socket").stdout.strip() == "active"
    st = bed.run(["stat", "-c", "%a %U %G %F", SOCK], check=True).stdout.split(None, 3)
    assert st[:3] == ["660", "root", "root"] and st[3].strip() == "socket"
    # A real Docker's path stays untouched.
    assert bed.run(["test", "-e", "/run/docker.sock"]).returncode != 0


def test_ping_and_versions(api):
    bed = api
    status, headers, body = http(bed, "GET", "/_ping")
    assert (status, body) == (200, b"OK")
    assert headers["api-version"] == "1.41"
    status, headers, body = http(bed, "HEAD", "/_ping")
    assert status == 200 and headers["api-version"] == "1.41" and body == b""
    assert http(bed, "GET", "/v1.41/_ping")[0] == 200
    assert http(bed, "GET", "/v1.24/version")[0] == 200
    status, msg = http_json(bed, "GET", "/v1.50/version")
    assert status == 400 and "too new" in msg["message"] and "1.41" in msg["message"]
    status, msg = http_json(bed, "GET", "/v1.12/version")
    assert status == 400 and "too old" in msg["message"]
    status, v = http_json(bed, "GET", "/v1.41/version")
    assert status == 200 and v["ApiVersion"] == "1.41" and v["MinAPIVersion"] == "1.24"
    assert v["Os"] == "linux" and v["Components"][0]["Name"] == "Engine"
    # The CLI negotiates down to 1.41.
    out = docker(bed, "version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}").stdout.split()
    assert out[0] == "1.41"


def test_info(api):
    bed = api
    status, info = http_json(bed, "GET", "/info")
    assert status == 200
    for key in ("Containers", "ContainersRunning", "Images", "Driver", "OSType", "NCPU", "MemTotal",
                "ServerVersion", "CgroupDriver", "LoggingDriver", "SecurityOptions"):
        assert key in info, key
    assert info["Images"] >= 1 and info["LoggingDriver"] == "journald"
    out = docker(bed, "info", "--format", "{{.OSType}} {{.CgroupDriver}} {{.Images}}").stdout.split()
    assert out[:2] == ["linux", "systemd"] and int(out[2]) >= 1


# (method, path, body, expected status, substring of the message or None)
STATUS_TABLE = [
    ("GET", "/nothing", None, 404, "page not found"),
    ("GET", "/v1.41/containers/api-nope/json", None, 404, "No such container: api-nope"),
    ("POST", "/containers/api-nope/start", None, 404, "No such container: api-nope"),
    ("POST", "/containers/api-nope/stop", None, 404, "No such container"),
    ("POST", "/containers/api-nope/kill", None, 404, "No such container"),
    ("POST", "/containers/api-nope/wait", None, 404, "No such container"),
    ("DELETE", "/containers/api-nope", None, 404, "No such container"),
    ("GET", "/containers/api-nope/logs?stdout=1", None, 404, "No such container"),
    ("GET", "/images/api-nope:latest/json", None, 404, "No such image: api-nope:latest"),
    ("POST", "/containers/create", {"Image": "api-nope:latest"}, 404, "No such image: api-nope:latest"),
    ("POST", "/containers/create", b"{not json", 400, "invalid JSON"),
    ("POST", "/containers/create", {}, 400, None),
    ("POST", "/containers/create", {"Image": "busybox", "Cmd": 5}, 400, None),
    ("POST", "/containers/create", {"Image": "busybox", "HostConfig": {"Binds": ["nocolon"]}}, 400, None),
    ("POST", "/containers/create", {"Image": "busybox", "HostConfig": {"PortBindings": {"x/tcp": []}}}, 400, None),
    ("GET", "/containers/json?filters=%7Bbad", None, 400, "invalid filters"),
    ("GET", "/containers/json?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D", None, 400, "invalid filter"),
    ("POST", "/containers/api-nope/wait?condition=bogus", None, 400, "invalid condition"),
    ("GET", "/volumes/api-nope", None, 404, "no such volume"),
    ("DELETE", "/volumes/api-nope", None, 404, "no such volume"),
    ("GET", "/networks/api-nope", None, 404, "not found"),
    ("POST", "/images/create", None, 400, "fromImage"),
    ("GET", "/containers/json", None, 200, None),
    ("GET", "/images/json", None, 200, None),
    ("GET", "/volumes", None, 200, None),
    ("GET", "/networks", None, 200, None),
    ("GET", "/v1.41/images/busybox:latest/json", None, 200, None),
]


@pytest.mark.parametrize("method,path,body,expected,message", STATUS_TABLE,
                         ids=[f"{m} {p} {s}" for m, p, _, s, _ in STATUS_TABLE])
def test_status_table(api, method, path, body, expected, message):
    status, headers, data = http(api, method, path, body)
    assert status == expected, data
    if expected >= 400:
        assert headers["content-type"] == "application/json"
        msg = json.loads(data)["message"]
        if message:
            assert message in msg
    elif expected == 200:
        json.loads(data)


def test_list_shapes(api):
    bed = api
    status, images = http_json(bed, "GET", "/images/json")
    assert status == 200 and any("busybox:latest" in (i["RepoTags"] or []) for i in images)
    img = next(i for i in images if "busybox:latest" in (i["RepoTags"] or []))
    assert img["Id"].startswith("sha256:") and isinstance(img["Created"], int) and img["Size"] > 0
    status, vols = http_json(bed, "GET", "/volumes")
    assert status == 200 and isinstance(vols["Volumes"], list)
    status, nets = http_json(bed, "GET", "/networks")
    assert {"bridge", "host", "none"} <= {n["Name"] for n in nets}
    assert all(len(n["Id"]) == 64 for n in nets)


def test_container_lifecycle_with_docker_cli(api):
    bed = api
    cid = docker(bed, "create", "--name", "api-life", "--label", "x=y", "busybox", "sleep", "300").stdout.strip()
    try:
        assert len(cid) == 64
        ps = docker(bed, "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.Status}} {{.Labels}}").stdout
        assert f"{cid} api-life Created x=y" in ps
        status, lst = http_json(bed, "GET", "/containers/json?all=1&filters=" +
                                "%7B%22label%22%3A%5B%22x%3Dy%22%5D%7D")
        assert status == 200 and [c["Id"] for c in lst] == [cid]
        assert lst[0]["Names"] == ["/api-life"] and lst[0]["State"] == "created"
        # Only running ones without all.
        assert cid not in [c["Id"] for c in http_json(bed, "GET", "/containers/json")[1]]

        docker(bed, "start", "api-life")
        assert docker(bed, "inspect", "-f", "{{.State.Running}} {{.Name}}", "api-life").stdout.split() == \
            ["true", "/api-life"]
        assert http(bed, "POST", "/containers/api-life/start")[0] == 304
        assert "Up " in docker(bed, "ps", "--format", "{{.Names}} {{.Status}}").stdout
        status, c = http_json(bed, "GET", f"/containers/{cid[:12]}/json")
        assert status == 200 and c["Id"] == cid and c["State"]["Status"] == "running"

        assert http(bed, "POST", "/containers/api-life/pause")[0] == 204
        assert http_json(bed, "GET", "/containers/api-life/json")[1]["State"]["Status"] == "paused"
        assert http(bed, "POST", "/containers/api-life/unpause")[0] == 204

        assert http(bed, "POST", "/containers/api-life/kill?signal=BOGUS")[0] == 400
        docker(bed, "stop", "-t", "1", "api-life")
        assert http(bed, "POST", "/containers/api-life/stop")[0] == 304
        status, msg = http_json(bed, "POST", "/containers/api-life/kill")
        assert status == 409 and "is not running" in msg["message"]

        docker(bed, "restart", "-t", "1", "api-life")
        assert docker(bed, "inspect", "-f", "{{.State.Status}}", "api-life").stdout.strip() == "running"
        status, msg = http_json(bed, "DELETE", "/containers/api-life")
        assert status == 409
        docker(bed, "kill", "api-life")
        assert docker(bed, "inspect", "-f", "{{.State.Status}}", "api-life").stdout.strip() == "exited"
    finally:
        docker(bed, "rm", "-f", "api-life", check=False)
    assert http(bed, "GET", "/containers/api-life/json")[0] == 404
    assert docker(bed, "inspect", "api-life", check=False).returncode != 0


def test_run_detached_wait_logs(api):
    bed = api
    cid = docker(bed, "run", "-d", "--name", "api-logs", "busybox", "sh", "-c",
                 "echo one; echo two; echo err >&2; exit 3").stdout.strip()
    try:
        assert len(cid) == 64
        assert docker(bed, "wait", "api-logs").stdout.strip() == "3"
        proc = docker(bed, "logs", "api-logs")
        assert proc.stdout == "one\ntwo\n" and proc.stderr == "err\n"
        proc = docker(bed, "logs", "--tail", "2", "api-logs")
        assert (proc.stdout, proc.stderr) == ("two\n", "err\n")
        # Docker's stream framing: [stream, 0, 0, 0, size] + payload.
        status, headers, data = http(bed, "GET", "/containers/api-logs/logs?stdout=1&stderr=1")
        assert status == 200 and headers["content-type"] == "application/vnd.docker.raw-stream"
        frames = []
        while data:
            kind, size = struct.unpack(">BxxxI", data[:8])
            frames.append((kind, data[8:8 + size]))
            data = data[8 + size:]
        assert (1, b"one\n") in frames and (2, b"err\n") in frames
        assert http(bed, "GET", "/containers/api-logs/logs")[0] == 400
        status, headers, data = http(bed, "GET", "/containers/api-logs/logs?stdout=1&timestamps=1")
        assert data[8:].split(b" ", 1)[0].endswith(b"Z")
        status, headers, body = http(bed, "POST", "/containers/api-logs/wait")
        assert status == 200 and json.loads(body) == {"StatusCode": 3, "Error": None}
    finally:
        docker(bed, "rm", "-f", "api-logs", check=False)


def test_wait_sends_headers_at_once(api):
    bed = api
    docker(bed, "create", "--name", "api-wait", "busybox", "sleep", "2")
    try:
        with connect(bed) as s:
            s.sendall(b"POST /containers/api-wait/wait?condition=next-exit HTTP/1.1\r\nHost: d\r\n"
                      b"Content-Length: 0\r\n\r\n")
            s.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(4096)
            assert head.startswith(b"HTTP/1.1 200")
            docker(bed, "start", "api-wait")
            s.settimeout(30)
            rest = head.split(b"\r\n\r\n", 1)[1]
            while b"0\r\n\r\n" not in rest:
                rest += s.recv(4096)
            assert b'"StatusCode":0' in rest
    finally:
        docker(bed, "rm", "-f", "api-wait", check=False)


def test_create_options(api):
    bed = api
    body = {"Image": "busybox", "Cmd": ["-c", "echo $FOO"], "Entrypoint": ["sh"], "Env": ["FOO=bar"],
            "Labels": {"a": "b"}, "WorkingDir": "/tmp", "ExposedPorts": {"80/tcp": {}},
            "HostConfig": {"AutoRemove": False, "Binds": ["api-vol:/data:ro"], "NetworkMode": "none",
                           "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": ""}]}}}
    status, r = http_json(bed, "POST", "/containers/create?name=api-opts", body)
    assert status == 201, r
    try:
        assert len(r["Id"]) == 64 and r["Warnings"] == []
        status, r2 = http_json(bed, "POST", "/containers/create?name=api-opts", body)
        assert status == 409
        c = http_json(bed, "GET", "/containers/api-opts/json")[1]
        assert c["Config"]["Entrypoint"] == ["sh"] and c["Config"]["Cmd"] == ["-c", "echo $FOO"]
        assert "FOO=bar" in c["Config"]["Env"] and c["Config"]["Labels"] == {"a": "b"}
        assert c["Config"]["WorkingDir"] == "/tmp" and c["HostConfig"]["NetworkMode"] == "none"
        assert any(m["Destination"] == "/data" for m in c["Mounts"]) or \
            any(b.startswith("api-vol:/data") for b in c["HostConfig"]["Binds"] or [])
        assert http(bed, "POST", "/containers/api-opts/start")[0] == 204
        status, headers, body = http(bed, "POST", "/containers/api-opts/wait")
        assert status == 200 and json.loads(body)["StatusCode"] == 0, (headers, body)
        assert docker(bed, "logs", "api-opts").stdout == "bar\n"
    finally:
        http(bed, "DELETE", "/containers/api-opts?force=1&v=1")
        docker(bed, "volume", "rm", "api-vol", check=False)


def test_volumes_and_networks_with_docker_cli(api):
    bed = api
    docker(bed, "volume", "create", "--label", "k=v", "api-v1")
    try:
        assert "api-v1" in docker(bed, "volume", "ls", "--format", "{{.Name}}").stdout.split()
        v = json.loads(docker(bed, "volume", "inspect", "api-v1").stdout)[0]
        assert v["Name"] == "api-v1" and v["Driver"] == "local" and v["Labels"] == {"k": "v"}
        status, v2 = http_json(bed, "POST", "/volumes/create", {})
        assert status == 201 and len(v2["Name"]) == 64
        assert http(bed, "DELETE", f"/volumes/{v2['Name']}")[0] == 204
    finally:
        docker(bed, "volume", "rm", "api-v1", check=False)
    assert http(bed, "GET", "/volumes/api-v1")[0] == 404
    names = docker(bed, "network", "ls", "--format", "{{.Name}}").stdout.split()
    assert {"bridge", "host", "none"} <= set(names)
    assert json.loads(docker(bed, "network", "inspect", "bridge").stdout)[0]["Name"] == "bridge"


def test_pull_from_registry(api, registry):
    bed = api
    registry.push_busybox("api/bb", "v1")
    ref = registry.ref("api/bb", "v1")
    proc = docker(bed, "pull", ref, timeout=300)
    assert "Digest: sha256:" in proc.stdout
    assert ref in docker(bed, "images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    # An in-stream error: status 200 first, then {"error"}.
    status, headers, body = http(bed, "POST", f"/images/create?fromImage={registry.url}/api/none&tag=v9")
    assert status == 200
    last = json.loads(body.strip().splitlines()[-1])
    assert "error" in last and last["errorDetail"]["message"]
    assert docker(bed, "pull", registry.ref("api/none", "v9"), check=False).returncode != 0
    # docker run pulls on 404 "No such image".
    ref2 = registry.ref("api/bb", "v2")
    registry.push_busybox("api/bb", "v2")
    cid = docker(bed, "run", "-d", "--name", "api-pulled", ref2, "true", timeout=300).stdout.strip().splitlines()[-1]
    try:
        assert len(cid) == 64
    finally:
        docker(bed, "rm", "-f", "api-pulled", check=False)


def test_bad_input_keeps_serving(api):
    bed = api
    # Malformed request line.
    with connect(bed) as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        status, headers, body = read_response(s)
        assert status == 400 and headers.get("connection") == "close"
        assert s.recv(100) == b""
    # A huge header.
    with connect(bed) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
        status, _, _ = read_response(s)
        assert status == 431
    # A body over the limit.
    with connect(bed) as s:
        s.sendall(b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 20000000\r\n\r\n")
        try:
            s.sendall(b"x" * 20000000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, _, _ = read_response(s)
        assert status == 413
    # A NUL in the path.
    assert http(bed, "GET", "/containers/a%00b/json")[0] == 400
    # A client that goes away mid-request and one mid-wait.
    s = connect(bed)
    s.sendall(b"GET /_ping HTTP/1.1\r\nHo")
    s.close()
    s = connect(bed)
    s.sendall(b"POST /containers/busybox-none/wait HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n")
    s.close()
    # Two requests on one connection (keep-alive, pipelined).
    with connect(bed) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\nGET /version HTTP/1.1\r\nHost: d\r\n\r\n")
        assert read_response(s)[0] == 200
        status, _, body = read_response(s)
        assert status == 200 and json.loads(body)["ApiVersion"] == "1.41"
    assert http(bed, "GET", "/_ping")[2] == b"OK"
    docker(bed, "ps")


def test_request_timeout(api):
    bed = api
    # A request that never completes (slow loris): 408, closed; others are served meanwhile.
    with connect(bed) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\nX-Slow: ")
        assert http(bed, "GET", "/_ping")[0] == 200
        start = time.monotonic()
        status, headers, body = read_response(s)
        assert status == 408 and headers.get("connection") == "close"
        assert s.recv(100) == b"" and 2 < time.monotonic() - start < 20
    # An idle keep-alive connection is closed without a word.
    with connect(bed) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
        assert read_response(s)[0] == 200
        assert s.recv(100) == b""


def test_idle_exit_and_reactivation(api):
    bed = api
    assert http(bed, "GET", "/_ping")[0] == 200
    deadline = time.monotonic() + 30
    while bed.systemctl("is-active", "berth-api.service").stdout.strip() == "active":
        assert time.monotonic() < deadline, "berth-api did not exit when idle"
        time.sleep(0.5)
    assert bed.systemctl("is-active", "berth-api.socket").stdout.strip() == "active"
    assert http(bed, "GET", "/_ping")[0] == 200
    assert bed.run(["journalctl", "--no-pager", "-u", "berth-api.service", "-p", "err"]).stdout.count("berth-api[") == 0


def test_logs_follow(api):
    bed = api
    docker(bed, "run", "-d", "--name", "api-follow", "busybox", "sh", "-c",
           "echo first; sleep 2; echo second; echo third >&2")
    try:
        # Follows until the container stops, then ends.
        start = time.monotonic()
        proc = docker(bed, "logs", "-f", "api-follow", timeout=60)
        assert (proc.stdout, proc.stderr) == ("first\nsecond\n", "third\n")
        assert time.monotonic() - start < 30
        # Of a stopped container: what there is, at once.
        assert docker(bed, "logs", "-f", "--tail", "1", "api-follow").stderr == "third\n"
        status, headers, data = http(bed, "GET", "/containers/api-follow/logs?stdout=1&follow=1&since=99999999999")
        assert status == 200 and data == b""
    finally:
        docker(bed, "rm", "-f", "api-follow", check=False)


def test_logs_follow_client_goes_away(api):
    bed = api
    docker(bed, "run", "-d", "--name", "api-follow2", "busybox", "sh", "-c", "while :; do echo x; sleep 0.2; done")
    try:
        with connect(bed) as s:
            s.sendall(b"GET /containers/api-follow2/logs?stdout=1&follow=1 HTTP/1.1\r\nHost: d\r\n\r\n")
            got = b""
            while got.count(b"x\n") < 3:
                got += s.recv(4096)
        # The server dropped that stream and serves on.
        assert http(bed, "GET", "/_ping")[0] == 200
        # Much output in pieces, the client reading slowly.
        with connect(bed) as s:
            s.sendall(b"GET /containers/api-follow2/logs?stdout=1&tail=3 HTTP/1.1\r\nHost: d\r\n\r\n")
            status, _, data = read_response(s)
            assert status == 200 and data.count(b"x\n") == 3
    finally:
        docker(bed, "rm", "-f", "api-follow2", check=False)


def test_logs_large_slow_reader(api):
    bed = api
    docker(bed, "run", "-d", "--name", "api-big", "busybox", "sh", "-c", "seq 1 40000")
    try:
        assert docker(bed, "wait", "api-big").stdout.strip() == "0"
        with connect(bed) as s:
            s.sendall(b"GET /containers/api-big/logs?stdout=1 HTTP/1.1\r\nHost: d\r\n\r\n")
            time.sleep(1)  # the server fills the socket and waits for room
            status, _, data = read_response(s)
        payload = b""
        while data:
            kind, size = struct.unpack(">BxxxI", data[:8])
            assert kind == 1
            payload += data[8:8 + size]
            data = data[8 + size:]
        lines = payload.decode().split()
        # What the journal kept (it may rate-limit), as berthctl reads it.
        expected = bed.berthctl("logs", "api-big").stdout.split()
        assert status == 200 and len(lines) == len(expected) > 5000 and lines == expected
    finally:
        docker(bed, "rm", "-f", "api-big", check=False)


def test_run_attached(api):
    """docker run without -d: create, attach (the hijack), wait, start."""
    bed = api
    proc = docker(bed, "run", "--rm", "busybox", "echo", "hi")
    assert proc.stdout == "hi\n"
    proc = docker(bed, "run", "--name", "api-att", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3",
                  check=False)
    try:
        assert (proc.returncode, proc.stdout, proc.stderr) == (3, "out\n", "err\n")
    finally:
        docker(bed, "rm", "-f", "api-att", check=False)
    # One attach waits for a start; a second one is refused.
    docker(bed, "create", "--name", "api-att3", "busybox", "echo", "x")
    try:
        with connect(bed) as s:
            s.sendall(b"POST /containers/api-att3/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: d\r\n"
                      b"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 101")
            assert http(bed, "POST", "/containers/api-att3/attach?stream=1&stdout=1")[0] == 409
        # The first client went away: its attach goes with it.
        deadline = time.monotonic() + 10
        while True:
            with connect(bed) as s:
                s.sendall(b"POST /containers/api-att3/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: d\r\n"
                          b"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n")
                if s.recv(4096).startswith(b"HTTP/1.1 101"):
                    break
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        docker(bed, "rm", "-f", "api-att3", check=False)
    # stdin: the socket itself is the container's stdin; its half-close is the container's EOF.
    proc = bed.sh(f"printf 'one\\ntwo\\n' | DOCKER_HOST=unix://{SOCK} {DOCKER} run --rm -i busybox sort -r",
                  timeout=120)
    assert (proc.returncode, proc.stdout) == (0, "two\none\n"), proc.stderr


def test_run_with_tty(api):
    """docker run -it through a real terminal (script): the socket is the terminal's input and
    output, the size follows the client's."""
    bed = api
    cmd = (f"stty rows 33 cols 111; DOCKER_HOST=unix://{SOCK} {DOCKER} run -it --rm busybox "
           "sh -c 'sleep 1; stty size; tty; read x; echo got \\$x; exit 4'")
    proc = bed.run(["sh", "-c", f"(sleep 3; echo hello; sleep 4) | script -qec \"{cmd}\" /dev/null"], timeout=120)
    out = proc.stdout.replace("\r", "")
    assert "33 111" in out and "/dev/pts/" in out and "got hello" in out, (proc.stdout, proc.stderr)
    assert proc.returncode == 4, (proc.stdout, proc.stderr)
    assert http(bed, "POST", "/containers/api-nope/resize?h=1&w=1")[0] == 404
    assert http(bed, "POST", "/containers/api-nope/resize?h=x&w=1")[0] == 400


def test_attach_to_running(api):
    bed = api
    docker(bed, "run", "-d", "--name", "api-att2", "busybox", "sh", "-c", "sleep 1; echo late; sleep 1")
    try:
        with connect(bed) as s:
            s.sendall(b"POST /containers/api-att2/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: d\r\n"
                      b"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101")
        assert body == b"\x01\x00\x00\x00\x00\x00\x00\x05late\n"
        assert http(bed, "POST", "/containers/api-att2/attach?stream=1&logs=1&stdout=1")[0] == 501
    finally:
        docker(bed, "rm", "-f", "api-att2", check=False)


def test_exec(api):
    bed = api
    docker(bed, "run", "-d", "--name", "api-ex", "busybox", "sleep", "300")
    try:
        assert docker(bed, "exec", "api-ex", "echo", "hi").stdout == "hi\n"
        proc = docker(bed, "exec", "api-ex", "sh", "-c", "echo o; echo e >&2; exit 5", check=False)
        assert (proc.returncode, proc.stdout, proc.stderr) == (5, "o\n", "e\n")
        proc = bed.sh(f"printf 'b\\na\\n' | DOCKER_HOST=unix://{SOCK} {DOCKER} exec -i api-ex sort", timeout=120)
        assert (proc.returncode, proc.stdout) == (0, "a\nb\n"), proc.stderr
        docker(bed, "exec", "-d", "-w", "/tmp", "api-ex", "sh", "-c", "pwd > /tmp/where")
        deadline = time.monotonic() + 10
        while docker(bed, "exec", "api-ex", "cat", "/tmp/where", check=False).stdout != "/tmp\n":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        status, r = http_json(bed, "POST", "/containers/api-ex/exec", {"Cmd": ["true"], "AttachStdout": True})
        assert status == 201 and len(r["Id"]) == 64
        status, e = http_json(bed, "GET", f"/exec/{r['Id']}/json")
        assert status == 200 and e["Running"] is False and e["ContainerID"] and e["ProcessConfig"]["entrypoint"] == "true"
        assert http(bed, "GET", "/exec/nope/json")[0] == 404
        assert http(bed, "POST", "/exec/nope/start", {})[0] == 404
        assert http(bed, "POST", "/containers/api-ex/exec", {"Cmd": []})[0] == 400
        docker(bed, "stop", "-t", "1", "api-ex")
        status, msg = http_json(bed, "POST", "/containers/api-ex/exec", {"Cmd": ["true"]})
        assert status == 409 and "is not running" in msg["message"]
    finally:
        docker(bed, "rm", "-f", "api-ex", check=False)


def test_socket_group_and_permissions(api):
    bed = api
    # Not root, not in the group: no connection.
    proc = bed.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "env",
                    f"DOCKER_HOST=unix://{SOCK}", DOCKER, "version"])
    assert proc.returncode != 0 and "permission denied" in proc.stderr.lower()
    # The group is the admin's choice (a drop-in); members may connect.
    bed.run(["mkdir", "-p", "/run/systemd/system/berth-api.socket.d"], check=True)
    bed.sh("printf '[Socket]\\nSocketGroup=adm\\n' > /run/systemd/system/berth-api.socket.d/group.conf", check=True)
    try:
        bed.systemctl("daemon-reload", check=True)
        bed.systemctl("stop", "berth-api.service", "berth-api.socket", check=True)
        bed.systemctl("start", "berth-api.socket", check=True)
        assert bed.run(["stat", "-c", "%a %G", SOCK], check=True).stdout.split() == ["660", "adm"]
        proc = bed.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--groups=adm", "env",
                        f"DOCKER_HOST=unix://{SOCK}", DOCKER, "version", "--format", "{{.Server.APIVersion}}"])
        assert (proc.returncode, proc.stdout.strip()) == (0, "1.41"), proc.stderr
    finally:
        bed.run(["rm", "-rf", "/run/systemd/system/berth-api.socket.d"])
        bed.systemctl("daemon-reload")
        bed.systemctl("stop", "berth-api.service", "berth-api.socket")
        bed.systemctl("start", "berth-api.socket", check=True)
    assert bed.run(["stat", "-c", "%G", SOCK], check=True).stdout.strip() == "root"


def test_rename_top_tag_rmi_network_create(api):
    bed = api
    docker(bed, "run", "-d", "--name", "api-r1", "busybox", "sleep", "300")
    try:
        docker(bed, "rename", "api-r1", "api-r2")
        assert docker(bed, "inspect", "-f", "{{.Name}}", "api-r2").stdout.strip() == "/api-r2"
        assert http(bed, "POST", "/containers/api-r2/rename")[0] == 400
        top = docker(bed, "top", "api-r2").stdout
        assert "PID" in top and "sleep 300" in top
    finally:
        docker(bed, "rm", "-f", "api-r2", "api-r1", check=False)
    assert http(bed, "GET", "/containers/api-r2/top")[0] == 404

    docker(bed, "tag", "busybox", "api-tagged:v1")
    assert "api-tagged:v1" in docker(bed, "images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert "Untagged: api-tagged:v1" in docker(bed, "rmi", "api-tagged:v1").stdout
    assert "busybox:latest" in docker(bed, "images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert http(bed, "DELETE", "/images/api-nope:latest")[0] == 404
    assert http(bed, "POST", "/images/api-nope/tag?repo=x")[0] == 404

    nid = docker(bed, "network", "create", "--subnet", "10.213.7.0/24", "api-net").stdout.strip()
    try:
        assert len(nid) == 64
        n = json.loads(docker(bed, "network", "inspect", "api-net").stdout)[0]
        assert n["Id"] == nid and n["IPAM"]["Config"][0]["Subnet"] == "10.213.7.0/24"
        status, msg = http_json(bed, "POST", "/networks/create", {"Name": "api-net"})
        assert status == 409, msg
    finally:
        docker(bed, "network", "rm", "api-net", check=False)
    assert http(bed, "DELETE", "/networks/api-net")[0] == 404


def test_logs_join_pieces_of_journalds_line_max(api):
    # A journald with LineMax below berth's 16 KiB pieces splits a line itself (_LINE_BREAK=line-max);
    # the pieces after the first lose the line's stderr priority. The API's logs join them, on the
    # line's own stream.
    bed = api
    conf = "/run/systemd/journald.conf.d/zz-test-line-max.conf"
    bed.sh(f"mkdir -p /run/systemd/journald.conf.d && printf '[Journal]\\nLineMax=1K\\n' > {conf} && "
           "systemctl restart systemd-journald", check=True)
    try:
        bed.berthctl("run", "--name", "api-linemax", "busybox", "sh", "-c",
                     "head -c 5000 /dev/zero | tr '\\0' K; echo; (head -c 3000 /dev/zero | tr '\\0' E; echo) >&2",
                     check=True)
        status, headers, data = http(bed, "GET", "/containers/api-linemax/logs?stdout=1&stderr=1")
        assert status == 200
        streams = {1: b"", 2: b""}
        while data:
            kind, size = struct.unpack(">BxxxI", data[:8])
            streams[kind] += data[8:8 + size]
            data = data[8 + size:]
        assert streams == {1: b"K" * 5000 + b"\n", 2: b"E" * 3000 + b"\n"}
    finally:
        bed.sh(f"rm -f {conf} && systemctl restart systemd-journald", check=True)
        bed.berthctl("rm", "-f", "api-linemax")


def test_create_log_config(api):
    # HostConfig.LogConfig as docker run --log-driver/--log-opt sends it (docs/LOGGING.md).
    bed = api
    try:
        proc = docker(bed, "run", "--name", "api-logopt", "--log-opt", "mode=non-blocking", "--log-opt",
                      "max-buffer-size=4m", "--log-opt", "rate-limit-interval=1m", "--log-opt",
                      "rate-limit-burst=2", "busybox", "sh", "-c", "echo 1; echo 2; echo 3")
        assert proc.stdout == "1\n2\n3\n"  # attached: not limited
        c = http_json(bed, "GET", "/containers/api-logopt/json")[1]
        assert c["HostConfig"]["LogConfig"] == {"Type": "journald", "Config": {
            "mode": "non-blocking", "max-buffer-size": "4194304", "rate-limit-interval": "60s",
            "rate-limit-burst": "2"}}
        assert c["State"]["LogLinesDropped"] == 1
        logs = docker(bed, "logs", "api-logopt")
        assert logs.stdout == "1\n2\n" and logs.stderr == "berth: 1 line dropped (rate limit)\n"
        for config, message in (({"Type": "syslog"}, "logger: no log driver named 'syslog' is registered"),
                                ({"Config": {"foo": "bar"}}, "unknown log opt 'foo' for journald log driver"),
                                ({"Config": {"max-buffer-size": "lots"}}, "invalid log opt max-buffer-size"),
                                ({"Config": {"max-buffer-size": "1m"}}, "only supported with 'mode=non-blocking'")):
            status, r = http_json(bed, "POST", "/containers/create?name=api-logbad",
                                  {"Image": "busybox", "HostConfig": {"LogConfig": config}})
            assert status == 400 and message in r["message"], (config, status, r)
    finally:
        http(bed, "DELETE", "/containers/api-logopt?force=1")
        http(bed, "DELETE", "/containers/api-logbad?force=1")


def test_healthcheck_through_the_docker_cli(api):
    # Healthcheck of the create body runs; inspect and ps show the health as Docker's do.
    bed = api
    docker(bed, "run", "-d", "--name", "api-health", "--health-cmd", "echo fine", "--health-interval", "1s",
           "busybox", "sleep", "300")
    try:
        bed.wait_until(lambda: docker(bed, "inspect", "-f", "{{.State.Health.Status}}", "api-health",
                                      check=False).stdout.strip() == "healthy", timeout=20, what="healthy")
        status, c = http_json(bed, "GET", "/containers/api-health/json")
        assert c["Config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "echo fine"], "Interval": 1000000000}
        assert c["State"]["Health"]["Log"][-1]["Output"] == "fine\n"
        ps = docker(bed, "ps", "--filter", "health=healthy", "--format", "{{.Names}} {{.Status}}").stdout
        assert "api-health Up " in ps and ps.strip().endswith("(healthy)")
    finally:
        docker(bed, "rm", "-f", "api-health", check=False)


def test_exec_with_tty(api):
    """docker exec -it through a real terminal (script): the socket is the terminal's input and
    output, the size follows the client's (POST /exec/{id}/resize)."""
    bed = api
    docker(bed, "run", "-d", "--name", "api-ext", "busybox", "sleep", "300")
    try:
        cmd = (f"stty rows 27 cols 91; DOCKER_HOST=unix://{SOCK} {DOCKER} exec -it api-ext "
               "sh -c 'sleep 1; stty size; tty; read x; echo got \\$x; exit 6'")
        proc = bed.run(["sh", "-c", f"(sleep 3; echo hello; sleep 4) | script -qec \"{cmd}\" /dev/null"], timeout=120)
        out = proc.stdout.replace("\r", "")
        assert "27 91" in out and "/dev/pts/" in out and "got hello" in out, (proc.stdout, proc.stderr)
        assert proc.returncode == 6, (proc.stdout, proc.stderr)
        status, r = http_json(bed, "POST", "/containers/api-ext/exec", {"Cmd": ["true"], "Tty": True})
        assert status == 201
        assert http(bed, "POST", f"/exec/{r['Id']}/resize?h=10&w=10")[0] == 409  # not started
        assert http(bed, "POST", f"/exec/{r['Id']}/resize?h=0&w=10")[0] == 400
        assert http(bed, "POST", "/exec/nope/resize?h=10&w=10")[0] == 404
    finally:
        docker(bed, "rm", "-f", "api-ext", check=False)
