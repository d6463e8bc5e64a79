# SPDX-License-Identifier: LGPL-2.1-or-later
"""The registry test infrastructure (registry.py, registry_token.py, fault_proxy.py) against real
peers only: Debian's docker-registry, skopeo, podman and curl. No berth client involved."""
import hashlib
import json
import os
import shutil
import tempfile

import pytest

from registry import (MEDIA_DOCKER_MANIFEST, MEDIA_OCI_INDEX, MEDIA_OCI_LAYER_GZIP, MEDIA_OCI_MANIFEST, Registry,
                      SHARED_TMP)

PODMAN_FLAGS = ["--cgroup-manager=systemd", "--events-backend=file", "--storage-driver=vfs"]

pytestmark = pytest.mark.peers  # they test no berth code: once, not per layout


def sha256_file(path):
    with open(path, "rb") as f:
        return "sha256:" + hashlib.sha256(f.read()).hexdigest()


def inspect(reg, repo, tag="latest", *extra, creds=True):
    """skopeo inspect of REPO:TAG (credentials: the registry's own by default, None for none)."""
    if creds is True:
        creds = reg.creds
    args = ["inspect", f"--tls-verify={'true' if reg.tls else 'false'}", *extra]
    args += [f"--creds={creds}"] if creds else ["--no-creds"]
    return reg.skopeo(*args, f"docker://{reg.ref(repo, tag)}")


def test_packaged_registry_never_runs(bed):
    # The docker-registry package's own unit is masked (tools/install-deps.sh): in the testbed too.
    assert bed.systemctl("is-enabled", "docker-registry.service").stdout.strip() == "masked"
    assert bed.systemctl("is-active", "docker-registry.service").stdout.strip() == "inactive"
    assert bed.run(["test", "-e", "/etc/systemd/system/multi-user.target.wants/docker-registry.service"]
                   ).returncode != 0


def test_plain_push_and_inspect(registry, busybox_tar):
    digest = registry.push_busybox("bb/plain", "v1")
    proc = inspect(registry, "bb/plain", "v1")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["Digest"] == digest and info["Architecture"] == "amd64" and info["Os"] == "linux"

    m = registry.manifest("bb/plain", "v1")
    assert m["_digest"] == digest and m["_media_type"] == MEDIA_OCI_MANIFEST
    assert [layer["mediaType"] for layer in m["layers"]] == [MEDIA_OCI_LAYER_GZIP]
    config = json.loads(registry.blob("bb/plain", m["config"]["digest"]))
    # The one layer is the busybox tarball itself: the diff id berthctl import gives it.
    assert config["rootfs"]["diff_ids"] == [sha256_file(busybox_tar)]
    assert registry.manifest("bb/plain", digest)["_digest"] == digest
    # Tags list, over HTTP from the test process.
    status, _, body = registry.request("GET", "/v2/bb/plain/tags/list")
    assert status == 200 and json.loads(body)["tags"] == ["v1"]
    # The registry's access log, parsed.
    registry.bed.wait_until(lambda: any(e["path"] == "/v2/bb/plain/tags/list" for e in registry.access_log()),
                            what="the tags request in the access log")
    log = registry.access_log()
    assert {"method": "PUT", "path": "/v2/bb/plain/manifests/v1", "status": 201} in [
        {k: e[k] for k in ("method", "path", "status")} for e in log]
    assert any(e["agent"].startswith("skopeo/") for e in log)


def test_docker_and_zstd_formats(registry):
    registry.push_busybox("bb/docker", "v2s2", fmt="docker")
    m = registry.manifest("bb/docker", "v2s2")
    assert m["_media_type"] == MEDIA_DOCKER_MANIFEST
    assert m["layers"][0]["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar.gzip"

    registry.push_busybox("bb/zstd", "z", compression="zstd")
    m = registry.manifest("bb/zstd", "z")
    assert m["_media_type"] == MEDIA_OCI_MANIFEST
    assert m["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd"
    assert registry.blob("bb/zstd", m["layers"][0]["digest"])[:4] == b"\x28\xb5\x2f\xfd"  # zstd magic

    with pytest.raises(ValueError):
        registry.push_busybox("bb/bad", fmt="docker", compression="zstd")


def test_tls_trusted_through_certs_d(registry_tls, bed):
    reg = registry_tls
    for base in ("/etc/docker/certs.d", "/etc/containers/certs.d"):
        assert bed.run(["cmp", reg.ca_cert, f"{base}/{reg.url}/ca.crt"]).returncode == 0
    digest = reg.push_busybox("bb/tls")  # --dest-tls-verify=true
    proc = inspect(reg, "bb/tls")  # --tls-verify=true
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["Digest"] == digest
    assert reg.manifest("bb/tls", "latest")["_digest"] == digest  # urllib with the CA
    # curl: trusts it with the CA, not without; plain HTTP is refused.
    assert bed.run(["curl", "-sf", "--cacert", reg.ca_cert, f"https://{reg.url}/v2/"]).returncode == 0
    assert bed.run(["curl", "-sf", f"https://{reg.url}/v2/"]).returncode == 60
    assert bed.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://{reg.url}/v2/"]
                   ).stdout == "400"


def test_tls_certs_removed_on_stop(bed, busybox_tar):
    reg = Registry(bed, busybox_tar, mode="tls")
    dirs = [f"/etc/docker/certs.d/{reg.url}", f"/etc/containers/certs.d/{reg.url}",
            f"/etc/containers/certs.d/localhost:{reg.port}"]
    assert all(bed.run(["test", "-f", f"{d}/ca.crt"]).returncode == 0 for d in dirs)
    reg.stop()
    assert all(bed.run(["test", "-e", d]).returncode != 0 for d in dirs)
    assert not os.path.exists(reg.dir)
    assert bed.systemctl("is-active", reg.unit).stdout.strip() in ("inactive", "unknown")


def test_basic_auth(registry_basic):
    reg = registry_basic
    digest = reg.push_busybox("bb/basic")
    proc = inspect(reg, "bb/basic")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["Digest"] == digest
    for creds in (None, f"{reg.user}:wrong", f"nobody:{reg.password}"):
        proc = inspect(reg, "bb/basic", creds=creds)
        assert proc.returncode != 0 and "unauthorized" in proc.stderr.lower(), (creds, proc.stderr)
    with pytest.raises(Exception):
        reg.push_busybox("bb/basic2", creds=f"{reg.user}:wrong")
    status, headers, _ = reg.request("GET", "/v2/", creds=None)
    assert status == 401 and headers["Www-Authenticate"].startswith("Basic ")


def test_bearer_auth(registry_bearer):
    reg = registry_bearer
    digest = reg.push_busybox("bb/bearer", "t1")
    pushes = [r for r in reg.token_requests() if r["status"] == 200]
    assert pushes, reg.token_requests()
    assert all(r["user"] == reg.user and r["service"] == Registry.SERVICE for r in pushes)
    asked = {s for r in pushes for s in r["scopes"]}
    assert "repository:bb/bearer:pull,push" in asked, asked
    granted = [a for r in pushes for a in r["granted"]]
    assert {"type": "repository", "name": "bb/bearer", "actions": ["pull", "push"]} in granted

    before = len(reg.token_requests())
    proc = inspect(reg, "bb/bearer", "t1")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["Digest"] == digest
    pulls = reg.token_requests()[before:]
    assert any("repository:bb/bearer:pull" in r["scopes"] and r["status"] == 200 for r in pulls), pulls

    # Wrong credentials: the token server says 401; no credentials: a token without access.
    before = len(reg.token_requests())
    proc = inspect(reg, "bb/bearer", "t1", creds=f"{reg.user}:wrong")
    assert proc.returncode != 0, proc.stdout
    assert any(r["status"] == 401 and r["user"] == reg.user for r in reg.token_requests()[before:])
    proc = inspect(reg, "bb/bearer", "t1", creds=None)
    assert proc.returncode != 0 and "unauthorized" in proc.stderr.lower(), proc.stderr
    assert reg.token(["repository:bb/bearer:pull"], creds=f"{reg.user}:wrong") is None

    # The registry checks the token: a foreign signer's token is refused.
    status, headers, _ = reg.request("GET", "/v2/bb/bearer/manifests/t1", creds=None)
    assert status == 401 and 'service="berth-test-registry"' in headers["Www-Authenticate"]
    token = reg.token("repository:bb/bearer:pull")
    status, _, _ = reg.request("GET", "/v2/bb/bearer/tags/list", {"Authorization": f"Bearer {token}"}, creds=None)
    assert status == 200
    forged = token[:-8] + ("AAAAAAAA" if not token.endswith("AAAAAAAA") else "BBBBBBBB")
    status, _, _ = reg.request("GET", "/v2/bb/bearer/tags/list", {"Authorization": f"Bearer {forged}"}, creds=None)
    assert status == 401


def test_bearer_x5c_es256(bed, busybox_tar):
    # The other way distribution 2.8 finds the signing key: an x5c chain instead of a kid; ES256.
    reg = Registry(bed, busybox_tar, mode="bearer", token_header="x5c", token_algorithm="ES256")
    try:
        digest = reg.push_busybox("bb/x5c")
        proc = inspect(reg, "bb/x5c")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["Digest"] == digest
    finally:
        reg.stop()


@pytest.mark.parametrize("mode", ["basic", "bearer"])
def test_auth_over_tls(bed, busybox_tar, mode):
    reg = Registry(bed, busybox_tar, mode=mode, tls=True)
    try:
        digest = reg.push_busybox("bb/secure")  # --dest-tls-verify=true --dest-creds
        proc = inspect(reg, "bb/secure")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["Digest"] == digest
        assert inspect(reg, "bb/secure", creds=f"{reg.user}:wrong").returncode != 0
    finally:
        reg.stop()


def test_multiplatform_index(registry):
    digest = registry.push_multiplatform("bb/multi", "1")
    index = registry.manifest("bb/multi", "1")
    assert index["_digest"] == digest and index["_media_type"] == MEDIA_OCI_INDEX
    platforms = [(m["platform"]["os"], m["platform"]["architecture"], m["platform"].get("variant"))
                 for m in index["manifests"]]
    assert platforms == [("linux", "amd64", None), ("linux", "arm64", "v8"), ("unknown", "unknown", None)]
    att = index["manifests"][2]
    assert att["annotations"]["vnd.docker.reference.type"] == "attestation-manifest"
    assert att["annotations"]["vnd.docker.reference.digest"] == index["manifests"][0]["digest"]
    # Each child is there by digest, with its platform in its config and its marker layer.
    for entry, plat in zip(index["manifests"][:2], ["linux/amd64", "linux/arm64/v8"]):
        m = registry.manifest("bb/multi", entry["digest"])
        config = json.loads(registry.blob("bb/multi", m["config"]["digest"]))
        assert f"{config['os']}/{config['architecture']}/{config.get('variant', '')}".rstrip("/") == plat
        assert config["config"]["Labels"]["org.berth.test.platform"] == plat
        assert len(m["layers"]) == 2
    att_m = registry.manifest("bb/multi", att["digest"])
    assert att_m["layers"][0]["mediaType"] == "application/vnd.in-toto+json"
    # skopeo picks a platform from the index.
    for arch in ("amd64", "arm64"):
        proc = inspect(registry, "bb/multi", "1", f"--override-arch={arch}")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["Architecture"] == arch
    proc = inspect(registry, "bb/multi", "1", "--raw")
    assert len(json.loads(proc.stdout)["manifests"]) >= 2


def test_podman_pull_and_run(registry, bed):
    registry.push_busybox("bb/podman", "p1", fmt="docker")
    root = tempfile.mkdtemp(prefix="berth-podman-reg.", dir=SHARED_TMP)
    flags = PODMAN_FLAGS + ["--root", os.path.join(root, "root"), "--runroot", os.path.join(root, "run")]
    try:
        ref = registry.ref("bb/podman", "p1")
        bed.run(["podman", *flags, "pull", "--tls-verify=false", ref], check=True, timeout=180)
        proc = bed.run(["podman", *flags, "run", "--rm", "--net=none", ref, "sh", "-c", "echo pulled-$((6*7))"],
                       timeout=180)
        if proc.returncode == 126 and "setrlimit" in proc.stderr and "Operation not permitted" in proc.stderr:
            # crun raises RLIMIT_MEMLOCK on cgroup v2 (BPF device filter); without CAP_SYS_RESOURCE
            # (some sandboxes drop it) it cannot, whatever the image. The pull above did work.
            pytest.skip(f"podman cannot run any container in this testbed: {proc.stderr.strip()}")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "pulled-42"
    finally:
        bed.run(["podman", *flags, "system", "reset", "--force"], timeout=120)
        shutil.rmtree(root, ignore_errors=True)


def test_fault_proxy(fault_proxy, registry, bed):
    registry.push_busybox("bb/faults")
    m = registry.manifest("bb/faults", "latest")
    layer = m["layers"][0]
    blob = f"http://{fault_proxy.url}/v2/bb/faults/blobs/{layer['digest']}"
    manifest = f"http://{fault_proxy.url}/v2/bb/faults/manifests/latest"

    def curl(*args):
        return bed.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", *args], timeout=60)

    # Passed through untouched.
    proc = curl(blob)
    assert proc.returncode == 0 and proc.stdout == f"200 {layer['size']}", proc
    # 500 once, then through.
    fault_proxy.set_rules([{"match": "/manifests/", "fault": "status", "status": 500, "times": 1}])
    assert curl("-H", f"Accept: {MEDIA_OCI_MANIFEST}", manifest).stdout.startswith("500 ")
    assert curl("-H", f"Accept: {MEDIA_OCI_MANIFEST}", manifest).stdout.startswith("200 ")
    # 429 with Retry-After: 1, once.
    fault_proxy.set_rules([{"match": "/blobs/", "fault": "status", "status": 429, "headers": {"Retry-After": "1"},
                            "times": 1}])
    proc = bed.run(["curl", "-s", "-D", "-", "-o", "/dev/null", blob])
    assert proc.stdout.startswith("HTTP/1.1 429") and "Retry-After: 1" in proc.stdout, proc.stdout
    assert curl(blob).stdout.startswith("200 ")
    # A reset mid-body: curl sees the connection reset (56) after some bytes.
    fault_proxy.set_rules([{"match": "/blobs/", "fault": "reset", "after": 1000}])
    proc = curl(blob)
    assert proc.returncode == 56 and proc.stdout == "200 1000", proc
    # Truncated: the promised length never comes (18: partial file).
    fault_proxy.set_rules([{"match": "/blobs/", "fault": "truncate", "after": 2000}])
    proc = curl(blob)
    assert proc.returncode == 18 and proc.stdout == "200 2000", proc
    # Corrupted: full length, wrong digest.
    fault_proxy.set_rules([{"match": "/blobs/", "fault": "corrupt"}])
    out = os.path.join(registry.dir, "corrupt.blob")
    assert bed.run(["curl", "-sf", "-o", out, blob]).returncode == 0
    assert os.path.getsize(out) == layer["size"] and sha256_file(out) != layer["digest"]
    # Hang: no answer at all (28: curl's timeout); HEAD requests are not affected by a GET rule.
    fault_proxy.set_rules([{"match": "/blobs/", "method": "GET", "fault": "hang"}])
    proc = curl("--max-time", "2", blob)
    assert proc.returncode == 28 and proc.stdout == "000 0", proc
    assert curl("-I", blob).stdout.startswith("200 ")
    fault_proxy.clear()
    assert curl(blob).stdout == f"200 {layer['size']}"

    log = fault_proxy.requests()
    faults = [e["fault"] for e in log]
    for f in ("status", "reset", "truncate", "corrupt", "hang"):
        assert f in faults, faults
    assert log[-1]["fault"] is None and log[-1]["status"] == 200 and log[-1]["sent"] == layer["size"]
    assert any(e["status"] == 429 for e in log)

    # skopeo through the proxy: it does not retry a 500 (so the first try fails), the second gets
    # through once the rule has run out; the proxy logged both.
    fault_proxy.requests(clear=True)
    fault_proxy.set_rules([{"match": "/manifests/", "method": "GET", "fault": "status", "status": 500, "times": 1}])
    ref = f"docker://{fault_proxy.url}/bb/faults:latest"
    proc = bed.run(["skopeo", "inspect", "--tls-verify=false", ref])
    assert proc.returncode != 0 and "500" in proc.stderr, proc.stderr
    proc = bed.run(["skopeo", "inspect", "--tls-verify=false", ref])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["Digest"] == m["_digest"]
    gets = [(e["status"], e["fault"]) for e in fault_proxy.requests() if e["method"] == "GET" and
            "/manifests/latest" in e["path"]]
    assert gets == [(500, "status"), (200, None)], gets

    # Pushing through the proxy: uploads (POST, PATCH, PUT) pass, and the registry's Location
    # URLs point back at the proxy (it keeps the Host header), so every request goes through it.
    fault_proxy.requests(clear=True)
    bed.run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false",
             f"docker://{registry.ref('bb/faults')}", f"docker://{fault_proxy.url}/bb/via-proxy:1"], check=True)
    methods = {e["method"] for e in fault_proxy.requests() if e["fault"] is None}
    assert {"POST", "PUT"} <= methods, fault_proxy.requests()
    assert registry.manifest("bb/via-proxy", "1")["_digest"] == m["_digest"]
    # New blobs (zstd: never pushed before) go up in POST + PATCH + PUT, all through the proxy.
    fault_proxy.requests(clear=True)
    digest = registry.push_busybox("bb/via-proxy-zstd", compression="zstd", via=fault_proxy.url)
    methods = [e["method"] for e in fault_proxy.requests()]
    assert {"POST", "PATCH", "PUT"} <= set(methods), methods
    assert registry.manifest("bb/via-proxy-zstd", "latest")["_digest"] == digest
