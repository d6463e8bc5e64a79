# SPDX-License-Identifier: LGPL-2.1-or-later
"""berthctl pull (PullImage) and the pull of run/create, against Debian's docker-registry on
127.0.0.1 (registry.py): formats, platforms, digests, TLS through certs.d, Basic and Bearer auth,
and faults injected by a proxy."""
import json
import os
import shutil
import threading
import time
import uuid

import pytest


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def image_info(bed, ref):
    proc = bed.berthctl("image", "inspect", ref)
    return json.loads(proc.stdout)[0] if proc.returncode == 0 else None


def store_leftovers(bed):
    """Work directories of pulls under the storage driver's directory (.pull-*)."""
    out = bed.sh("ls -a /var/lib/berth/*/ 2>/dev/null | grep '^\\.pull-' || true", check=True).stdout
    return out.split()


def test_pull_run_and_repull(berthd, registry):
    repo = uniq("t/bb")
    digest = registry.push_busybox(repo, "1")
    ref = registry.ref(repo, "1")
    proc = berthd.berthctl("pull", ref, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"1: Pulling from {repo}" in proc.stdout
    assert f"Digest: {digest}" in proc.stdout
    assert f"Status: Downloaded newer image for {ref}" in proc.stdout
    assert proc.stdout.splitlines()[-1] == ref
    info = image_info(berthd, ref)
    assert info and ref in info["RepoTags"]
    assert f"{registry.url}/{repo}@{digest}" in info["RepoDigests"]
    out = berthd.berthctl("run", "--rm", ref, "echo", "pulled", check=True).stdout
    assert out == "pulled\n"
    # Again: the manifest only, and the image is the same one.
    before = len(registry.log().splitlines())
    proc = berthd.berthctl("pull", ref, timeout=60)
    assert proc.returncode == 0 and f"Status: Image is up to date for {ref}" in proc.stdout, proc.stdout
    blob_gets = [line for line in registry.log().splitlines()[before:] if "/blobs/" in line and "GET" in line]
    assert blob_gets == [], blob_gets
    assert image_info(berthd, ref)["Id"] == info["Id"]
    # -q: the name only
    assert berthd.berthctl("pull", "-q", ref, check=True).stdout == ref + "\n"
    berthd.berthctl("rmi", ref, check=True)
    assert store_leftovers(berthd) == []


def test_run_pulls_a_missing_image(berthd, registry):
    repo = uniq("t/run")
    registry.push_busybox(repo, "v1")
    ref = registry.ref(repo, "v1")
    proc = berthd.berthctl("run", "--rm", "--pull=never", ref, "true")
    assert proc.returncode == 125 and "No such image" in proc.stderr, proc.stderr
    proc = berthd.berthctl("run", "--rm", ref, "echo", "ran", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"Unable to find image '{ref}' locally" in proc.stderr
    assert proc.stdout.endswith("ran\n"), proc.stdout
    # --pull=always asks the registry even though the image is here.
    proc = berthd.berthctl("create", "--pull=always", ref, "true", timeout=120)
    assert proc.returncode == 0 and "Image is up to date" in proc.stdout, proc.stdout + proc.stderr
    berthd.berthctl("rm", proc.stdout.split()[-1], check=True)
    proc = berthd.berthctl("run", "--pull=sometimes", ref, "true")
    assert proc.returncode == 125 and "invalid pull option" in proc.stderr, proc.stderr
    berthd.berthctl("rmi", ref, check=True)


@pytest.mark.parametrize("fmt,compression", [("docker", "gzip"), ("oci", "zstd")])
def test_pull_formats(berthd, registry, fmt, compression):
    repo = uniq(f"t/{fmt}-{compression}")
    registry.push_busybox(repo, "x", fmt=fmt, compression=compression)
    ref = registry.ref(repo, "x")
    berthd.berthctl("pull", ref, check=True, timeout=120)
    assert berthd.berthctl("run", "--rm", ref, "echo", fmt, check=True).stdout == f"{fmt}\n"
    berthd.berthctl("rmi", ref, check=True)


def test_pull_platforms_of_an_index(berthd, registry):
    repo = uniq("t/multi")
    index = registry.push_multiplatform(repo, "m")
    ref = registry.ref(repo, "m")
    proc = berthd.berthctl("pull", ref, check=True, timeout=120)
    assert f"Digest: {index}" in proc.stdout  # the index's, as docker shows it
    assert berthd.berthctl("run", "--rm", ref, "cat", "/etc/berth-platform",
                           check=True).stdout == "linux/amd64\n"
    assert f"{registry.url}/{repo}@{index}" in image_info(berthd, ref)["RepoDigests"]
    berthd.berthctl("rmi", ref, check=True)
    proc = berthd.berthctl("pull", "--platform", "linux/arm64/v8", ref, check=True, timeout=120)
    info = image_info(berthd, ref)
    assert info["Architecture"] == "arm64", info
    proc = berthd.berthctl("pull", "--platform", "linux/s390x", ref)
    assert proc.returncode == 125 and "no matching manifest for linux/s390x" in proc.stderr.lower(), proc.stderr
    proc = berthd.berthctl("pull", "--platform", "linux", ref)
    assert proc.returncode == 125 and "Invalid platform" in proc.stderr, proc.stderr
    berthd.berthctl("rmi", ref, check=True)


def test_pull_by_digest(berthd, registry):
    repo = uniq("t/dig")
    digest = registry.push_busybox(repo, "d")
    forget_image(berthd, registry.manifest(repo, "d"))
    ref = registry.ref(repo, digest)
    proc = berthd.berthctl("pull", ref, check=True, timeout=120)
    assert f"Digest: {digest}" in proc.stdout
    assert image_info(berthd, ref)["RepoDigests"] == [ref]
    assert berthd.berthctl("run", "--rm", ref, "echo", "by-digest", check=True).stdout == "by-digest\n"
    wrong = "sha256:" + "0" * 64
    proc = berthd.berthctl("pull", registry.ref(repo, wrong))
    assert proc.returncode == 125 and "not found" in proc.stderr, proc.stderr
    proc = berthd.berthctl("pull", f"{registry.url}/{repo}@sha256:../x")
    assert proc.returncode == 125 and "invalid reference format" in proc.stderr.lower(), proc.stderr
    berthd.berthctl("rmi", "-f", image_info(berthd, ref)["Id"], check=True)


def test_pull_errors_name_the_registry(berthd, registry):
    missing = registry.ref(uniq("t/none"), "latest")
    proc = berthd.berthctl("pull", missing)
    assert proc.returncode == 125 and registry.url in proc.stderr and "not found" in proc.stderr, proc.stderr
    proc = berthd.berthctl("pull", "127.0.0.1:1/x:y")
    assert proc.returncode == 125 and "127.0.0.1:1" in proc.stderr, proc.stderr
    proc = berthd.berthctl("pull", "Upper/Case")
    assert proc.returncode == 125 and "invalid reference format" in proc.stderr.lower(), proc.stderr
    assert store_leftovers(berthd) == []


def test_pull_over_tls_trusting_certs_d(berthd, registry_tls):
    repo = uniq("t/tls")
    registry_tls.push_busybox(repo, "s")
    ref = registry_tls.ref(repo, "s")
    berthd.berthctl("pull", ref, check=True, timeout=120)
    berthd.berthctl("rmi", ref, check=True)


def docker_config(bed, entries):
    """Writes root's ~/.docker/config.json in the testbed; returns a function that removes it."""
    home = bed.sh("echo ~root", check=True).stdout.strip()
    path = f"{home}/.docker/config.json"
    bed.sh(f"mkdir -p {home}/.docker && cat > {path} && chmod 600 {path}", input=json.dumps(entries), check=True)
    return lambda: bed.run(["rm", "-f", path])


def basic_auth(user, password):
    import base64
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_pull_with_basic_auth(berthd, registry_basic):
    repo = uniq("t/basic")
    registry_basic.push_busybox(repo, "b")
    ref = registry_basic.ref(repo, "b")
    proc = berthd.berthctl("pull", ref)
    assert proc.returncode == 125 and registry_basic.url in proc.stderr, proc.stderr
    remove = docker_config(berthd, {"auths": {registry_basic.url: {
        "auth": basic_auth(registry_basic.user, registry_basic.password)}}})
    try:
        berthd.berthctl("pull", ref, check=True, timeout=120)
        # The password is in no log of berthd.
        log = berthd.run(["journalctl", "--no-pager", "-u", "berthd.service"]).stdout
        assert registry_basic.password not in log
    finally:
        remove()
    berthd.berthctl("rmi", ref, check=True)


def test_pull_with_bearer_tokens(berthd, registry_bearer):
    repo = uniq("t/bearer")
    registry_bearer.push_busybox(repo, "t")
    ref = registry_bearer.ref(repo, "t")
    remove = docker_config(berthd, {"auths": {registry_bearer.url: {
        "auth": basic_auth(registry_bearer.user, registry_bearer.password)}}})
    try:
        before = len(registry_bearer.token_requests())
        berthd.berthctl("pull", ref, check=True, timeout=120)
        asked = registry_bearer.token_requests()[before:]
        assert asked and all(r["service"] == Registry_service(registry_bearer) for r in asked), asked
        assert any(f"repository:{repo}:pull" in r["scopes"] for r in asked), asked
        assert all(r["user"] == registry_bearer.user for r in asked), asked
    finally:
        remove()
    berthd.berthctl("rmi", ref, check=True)


def Registry_service(reg):
    return reg.SERVICE


@pytest.mark.parametrize("fault", [
    {"match": "/blobs/", "fault": "reset", "times": 1},
    {"match": "/blobs/", "fault": "truncate", "times": 1},
    {"match": "/blobs/", "fault": "status", "status": 500, "times": 1},
    {"match": "/manifests/", "fault": "status", "status": 429, "headers": {"Retry-After": "1"}, "times": 1},
])
def test_pull_survives_transient_faults(berthd, registry, fault):
    repo = uniq("t/flaky")
    registry.push_busybox(repo, "f")
    proxy = registry.proxy()
    proxy.set_rules([fault])
    ref = registry.ref(repo, "f", via=proxy.url)
    proc = berthd.berthctl("pull", ref, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert any(r.get("fault") for r in proxy.requests()), proxy.requests()
    assert berthd.berthctl("run", "--rm", ref, "echo", "ok", check=True).stdout == "ok\n"
    berthd.berthctl("rmi", ref, check=True)


def test_pull_refuses_a_corrupt_blob_and_leaves_nothing(berthd, registry):
    repo = uniq("t/bad")
    registry.push_busybox(repo, "c")
    proxy = registry.proxy()
    proxy.set_rules([{"match": "/blobs/", "fault": "corrupt"}])
    ref = registry.ref(repo, "c", via=proxy.url)
    proc = berthd.berthctl("pull", ref, timeout=120)
    assert proc.returncode == 125 and "does not match its digest" in proc.stderr, proc.stderr
    assert image_info(berthd, ref) is None
    assert store_leftovers(berthd) == []


def stored_layer_dirs(bed):
    """The entries of the storage driver's directory (layers and work directories)."""
    return sorted(bed.sh("ls -a /var/lib/berth/*/ 2>/dev/null || true", check=True).stdout.split())


def test_pull_refuses_a_layer_whose_diff_id_differs_and_leaves_nothing(berthd, registry):
    # The blobs match their digests, but the second layer is not what the config's diff id names:
    # found while it is extracted (decompressed once), so its layer directory, and the first
    # layer's made before it, must go with the pull's work directory.
    from registry import (CREATED, MEDIA_OCI_CONFIG, MEDIA_OCI_LAYER_GZIP, MEDIA_OCI_MANIFEST, Layout, gzip_of,
                          sha256_digest, tar_of)

    repo, tag = uniq("t/diffid"), uniq("x")
    first = tar_of({"etc/berth-first": tag.encode()})
    second = tar_of({"etc/berth-second": tag.encode()})
    claimed = tar_of({"etc/berth-second": b"something else"})
    path = os.path.join(registry.dir, "layouts", uniq("diffid"))
    layout = Layout(path)
    config = {"created": CREATED, "os": "linux", "architecture": "amd64", "config": {"Cmd": ["sh"]},
              "rootfs": {"type": "layers", "diff_ids": [sha256_digest(first), sha256_digest(claimed)]},
              "history": [{"created": CREATED}, {"created": CREATED}]}
    manifest = {"schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST,
                "config": layout.json_blob(config, MEDIA_OCI_CONFIG),
                "layers": [layout.blob(gzip_of(first), MEDIA_OCI_LAYER_GZIP),
                           layout.blob(gzip_of(second), MEDIA_OCI_LAYER_GZIP)]}
    layout.tag(layout.json_blob(manifest, MEDIA_OCI_MANIFEST), "image")
    registry.push_layout(repo, tag, path, "image", fmt="oci")
    ref = registry.ref(repo, tag)
    before = stored_layer_dirs(berthd)
    proc = berthd.berthctl("pull", ref, timeout=120)
    assert proc.returncode == 125 and "does not match the diff id" in proc.stderr, proc
    assert sha256_digest(second) in proc.stderr, proc.stderr
    assert image_info(berthd, ref) is None
    assert store_leftovers(berthd) == []
    assert stored_layer_dirs(berthd) == before


def test_a_hanging_registry_stalls_only_its_pull(berthd, registry, busybox_image):
    repo = uniq("t/hang")
    registry.push_busybox(repo, "h")
    proxy = registry.proxy()
    proxy.set_rules([{"match": "/blobs/", "fault": "hang"}])
    ref = registry.ref(repo, "h", via=proxy.url)
    result = {}
    t = threading.Thread(target=lambda: result.update(proc=berthd.berthctl("pull", ref, timeout=180)))
    t.start()
    berthd.wait_until(lambda: any("/blobs/" in r["path"] for r in proxy.requests()), what="the blob request")
    started = time.monotonic()
    berthd.berthctl("ps", "-a", check=True)
    berthd.berthctl("run", "--rm", busybox_image, "true", check=True)
    assert time.monotonic() - started < 10
    assert t.is_alive()
    t.join(timeout=180)
    proc = result["proc"]
    assert proc.returncode == 125 and registry.url.split(":")[0] in proc.stderr, proc.stderr
    assert store_leftovers(berthd) == []


def test_push_then_skopeo_podman_and_berth_read_it(berthd, registry, busybox_image):
    repo = uniq("t/pushed")
    ref = registry.ref(repo, "p1")
    berthd.berthctl("tag", busybox_image, ref, check=True)
    proc = berthd.berthctl("push", ref, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert f"The push refers to repository [{registry.url}/{repo}]" in proc.stdout
    digest = proc.stdout.split("digest: ")[-1].split()[0]
    assert digest.startswith("sha256:") and len(digest) == 71
    assert ": Pushed" in proc.stdout, proc.stdout
    # What images --digests and inspect show is what the registry has.
    info = image_info(berthd, ref)
    assert f"{registry.url}/{repo}@{digest}" in info["RepoDigests"]
    assert digest in berthd.berthctl("images", "--digests", check=True).stdout
    assert registry.manifest(repo, "p1")["_digest"] == digest
    # skopeo inspects it, podman pulls and runs it.
    out = registry.skopeo("inspect", "--tls-verify=false", f"docker://{ref}", check=True).stdout
    assert json.loads(out)["Digest"] == digest
    pulled = berthd.run(["podman", "pull", "--tls-verify=false", ref], timeout=180)
    assert pulled.returncode == 0, pulled.stderr
    ran = berthd.run(["podman", "run", "--rm", "--network=none", ref, "echo", "from-podman"], timeout=180)
    if ran.returncode == 126 and "setrlimit" in ran.stderr and "Operation not permitted" in ran.stderr:
        pass  # crun cannot raise RLIMIT_MEMLOCK on cgroup v2 without CAP_SYS_RESOURCE: no podman container runs here
    else:
        assert ran.stdout == "from-podman\n", ran.stderr
    berthd.run(["podman", "rmi", "-f", ref])
    # A second push sends no blob again.
    before = len(registry.log().splitlines())
    berthd.berthctl("push", "-q", ref, check=True, timeout=180)
    uploads = [line for line in registry.log().splitlines()[before:] if "/blobs/uploads/" in line]
    assert uploads == [], uploads
    # Back into berth from the registry.
    berthd.berthctl("rmi", ref, check=True)
    berthd.berthctl("pull", ref, check=True, timeout=120)
    assert berthd.berthctl("run", "--rm", ref, "echo", "round-trip", check=True).stdout == "round-trip\n"
    berthd.berthctl("rmi", ref, check=True)


def test_push_errors(berthd, registry, registry_basic, busybox_image):
    proc = berthd.berthctl("push", registry.ref(uniq("t/none"), "x"))
    assert proc.returncode == 125 and "does not exist locally" in proc.stderr, proc.stderr
    ref = registry_basic.ref(uniq("t/auth"), "a")
    berthd.berthctl("tag", busybox_image, ref, check=True)
    proc = berthd.berthctl("push", ref, timeout=120)
    assert proc.returncode == 125 and registry_basic.url in proc.stderr, proc.stderr
    berthd.berthctl("rmi", ref, check=True)


def test_login_logout(berthd, registry_basic, busybox_image):
    home = berthd.sh("echo ~root", check=True).stdout.strip()
    config = f"{home}/.docker/config.json"
    berthd.run(["rm", "-f", config])
    server = registry_basic.url
    proc = berthd.run(["berthctl", "login", "-u", registry_basic.user, "--password-stdin", server],
                      input="wrong\n")
    assert proc.returncode == 125 and "unauthorized" in proc.stderr.lower(), proc.stderr
    assert berthd.run(["test", "-e", config]).returncode != 0
    proc = berthd.run(["berthctl", "login", "-u", registry_basic.user, "--password-stdin", server],
                      input=registry_basic.password + "\n")
    assert proc.returncode == 0 and "Login Succeeded" in proc.stdout, proc.stderr
    assert berthd.sh(f"stat -c %a {config}", check=True).stdout.strip() == "600"
    # Logged in: a push and a pull need nothing more.
    ref = registry_basic.ref(uniq("t/login"), "l")
    berthd.berthctl("tag", busybox_image, ref, check=True)
    berthd.berthctl("push", ref, check=True, timeout=180)
    berthd.berthctl("rmi", ref, check=True)
    berthd.berthctl("pull", ref, check=True, timeout=120)
    berthd.berthctl("rmi", ref, check=True)
    # The password is in no log.
    assert registry_basic.password not in berthd.run(["journalctl", "--no-pager", "-q"]).stdout
    proc = berthd.berthctl("logout", server, check=True)
    assert f"Removing login credentials for {server}" in proc.stdout
    assert f"Not logged in to {server}" in berthd.berthctl("logout", server, check=True).stdout
    proc = berthd.berthctl("pull", ref)
    assert proc.returncode == 125
    berthd.run(["rm", "-f", config])


def test_pull_shows_layers_and_is_a_transfer_object(berthd, registry, busybox_image):
    repo = uniq("t/progress")
    registry.push_multiplatform(repo, "g", platforms=("linux/amd64",), attestation=False)
    ref = registry.ref(repo, "g")
    entry = registry.manifest(repo, "g")["manifests"][0]
    manifest = registry.manifest(repo, entry["digest"])
    base, marker = [d["digest"].split(":")[1][:12] for d in manifest["layers"]]
    forget_image(berthd, manifest)
    try:
        proc = berthd.berthctl("pull", ref, timeout=120)
        assert proc.returncode == 0, proc.stderr
        states = [line.split(": ", 1)[1] for line in proc.stdout.splitlines() if line.startswith(marker + ": ")]
        assert states[-3:] == ["Download complete", "Extracting", "Pull complete"], proc.stdout
        # busybox's layer is stored already (the session's busybox image has it)
        assert f"{base}: Already exists" in proc.stdout, proc.stdout
        proc = berthd.berthctl("pull", ref, timeout=120)
        assert f"{marker}: Already exists" in proc.stdout, proc.stdout
    finally:
        berthd.berthctl("rmi", ref)


def forget_image(bed, manifest):
    """Removes the image with this manifest's config, so a pull of it downloads (the busybox images
    the registry fixture pushes share their config)."""
    bed.berthctl("rmi", "-f", manifest["config"]["digest"].split(":")[1])


def transfers(bed):
    out = bed.busctl("tree", "--list", "org.berth1", check=True).stdout.split()
    return [p for p in out if p.startswith("/org/berth1/transfer/")]


def test_cancel_a_pull_through_its_transfer_object(berthd, registry):
    repo = uniq("t/cancel")
    registry.push_busybox(repo, "c")
    forget_image(berthd, registry.manifest(repo, "c"))
    proxy = registry.proxy()
    proxy.set_rules([{"match": "/blobs/", "fault": "hang"}])
    ref = registry.ref(repo, "c", via=proxy.url)
    result = {}
    t = threading.Thread(target=lambda: result.update(proc=berthd.berthctl("pull", ref, timeout=180)))
    t.start()
    berthd.wait_until(lambda: transfers(berthd), what="the transfer object")
    path = transfers(berthd)[0]
    props = berthd.busctl("get-property", "org.berth1", path, "org.berth1.Transfer", "Type", "Reference",
                          check=True).stdout
    assert '"pull"' in props and f'"{ref}"' in props, props
    berthd.busctl("call", "org.berth1", path, "org.berth1.Transfer", "Cancel", check=True)
    t.join(timeout=60)
    proc = result["proc"]
    assert proc.returncode == 125 and "cancelled" in proc.stderr, proc.stderr
    assert transfers(berthd) == []
    assert image_info(berthd, ref) is None
    assert store_leftovers(berthd) == []


def test_push_of_a_pulled_image_mounts_its_blobs(berthd, registry):
    src = uniq("t/src")
    digest = registry.push_busybox(src, "1")
    forget_image(berthd, registry.manifest(src, "1"))
    berthd.berthctl("pull", "-q", registry.ref(src, "1"), check=True, timeout=120)
    dst = registry.ref(uniq("t/dst"), "2")
    berthd.berthctl("tag", registry.ref(src, "1"), dst, check=True)
    before = len(registry.log().splitlines())
    proc = berthd.berthctl("push", dst, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"digest: {digest}" in proc.stdout  # the same manifest, sent again as it was
    assert "Mounted from" in proc.stdout or "Layer already exists" in proc.stdout, proc.stdout
    lines = registry.log().splitlines()[before:]
    assert any("mount=" in line for line in lines), lines
    assert not any('"PATCH ' in line or ('"PUT ' in line and "/blobs/uploads/" in line) for line in lines), lines
    for ref in (dst, registry.ref(src, "1")):
        berthd.berthctl("rmi", ref, check=True)


def test_pull_all_tags(berthd, registry):
    repo = uniq("t/all")
    for tag in ("a", "b", "c"):
        registry.push_busybox(repo, tag)
    proc = berthd.berthctl("pull", "-a", f"{registry.url}/{repo}", timeout=180)
    assert proc.returncode == 0, proc.stderr
    for tag in ("a", "b", "c"):
        assert image_info(berthd, registry.ref(repo, tag)) is not None
        berthd.berthctl("rmi", registry.ref(repo, tag), check=True)
    proc = berthd.berthctl("pull", "-a", registry.ref(repo, "a"))
    assert proc.returncode == 125 and "tag can't be used with --all-tags" in proc.stderr, proc.stderr


def test_layers_berth_has_are_not_downloaded_again(berthd, registry):
    base, multi = uniq("t/base"), uniq("t/multi")
    registry.push_busybox(base, "1")
    registry.push_multiplatform(multi, "1", attestation=False)
    amd64 = next(m for m in registry.manifest(multi, "1")["manifests"] if m["platform"]["architecture"] == "amd64")
    shared, extra = [d["digest"] for d in registry.manifest(multi, amd64["digest"])["layers"]]
    forget_image(berthd, registry.manifest(base, "1"))
    berthd.berthctl("pull", "-q", registry.ref(base, "1"), check=True, timeout=120)
    before = len(registry.log().splitlines())
    proc = berthd.berthctl("pull", registry.ref(multi, "1"), check=True, timeout=120)
    assert f"{shared[7:19]}: Already exists" in proc.stdout, proc.stdout
    assert f"{extra[7:19]}: Pull complete" in proc.stdout, proc.stdout
    gets = [line for line in registry.log().splitlines()[before:] if "GET" in line and "/blobs/" in line]
    assert not any(shared in line for line in gets) and any(extra in line for line in gets), gets
    assert berthd.berthctl("run", "--rm", registry.ref(multi, "1"), "cat", "/etc/berth-platform",
                           check=True).stdout == "linux/amd64\n"
    for ref in (registry.ref(multi, "1"), registry.ref(base, "1")):
        berthd.berthctl("rmi", ref, check=True)


def test_cancel_a_push(berthd, registry, busybox_image):
    proxy = registry.proxy()
    proxy.set_rules([{"match": "/blobs/uploads/", "method": "PUT", "fault": "hang"}])
    ref = registry.ref(uniq("t/cpush"), "x", via=proxy.url)
    berthd.berthctl("tag", busybox_image, ref, check=True)
    result = {}
    t = threading.Thread(target=lambda: result.update(proc=berthd.berthctl("push", ref, timeout=180)))
    t.start()
    berthd.wait_until(lambda: any(r["method"] == "PUT" for r in proxy.requests()), timeout=60,
                      what="the blob upload")
    path = transfers(berthd)[0]
    berthd.busctl("call", "org.berth1", path, "org.berth1.Transfer", "Cancel", check=True)
    t.join(timeout=60)
    proc = result["proc"]
    assert proc.returncode == 125 and "cancelled" in proc.stderr, proc.stderr
    assert transfers(berthd) == []
    berthd.berthctl("rmi", ref, check=True)


def test_ctrl_c_of_berthctl_cancels_its_pull(berthd, registry):
    repo = uniq("t/ctrlc")
    registry.push_busybox(repo, "c")
    forget_image(berthd, registry.manifest(repo, "c"))
    proxy = registry.proxy()
    proxy.set_rules([{"match": "/blobs/", "fault": "hang"}])
    ref = registry.ref(repo, "c", via=proxy.url)
    result = {}
    t = threading.Thread(target=lambda: result.update(proc=berthd.berthctl("pull", ref, timeout=180)))
    t.start()
    berthd.wait_until(lambda: transfers(berthd), what="the transfer object")
    berthd.run(["pkill", "-INT", "-f", f"berthctl pull {ref}"], check=True)
    t.join(timeout=60)
    proc = result["proc"]
    assert proc.returncode == 125 and "cancelled" in proc.stderr, proc.stderr
    berthd.wait_until(lambda: not transfers(berthd), what="the transfer to end")
    assert image_info(berthd, ref) is None
    assert store_leftovers(berthd) == []


def test_concurrent_pulls_share_a_download(berthd, registry, busybox_image):
    a, b = uniq("t/sa"), uniq("t/sb")
    for repo in (a, b):
        registry.push_multiplatform(repo, "1", platforms=("linux/amd64",), attestation=False)
    entry = registry.manifest(a, "1")["manifests"][0]
    manifest = registry.manifest(a, entry["digest"])
    marker = manifest["layers"][1]["digest"]
    forget_image(berthd, manifest)
    proxy = registry.proxy()
    proxy.set_rules([{"match": "/blobs/", "fault": "delay", "seconds": 2}])
    results = {}
    threads = [threading.Thread(target=lambda r=r: results.update({r: berthd.berthctl("pull", "-q", registry.ref(
        r, "1", via=proxy.url), timeout=120)})) for r in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(p.returncode == 0 for p in results.values()), {r: p.stderr for r, p in results.items()}
    gets = [r for r in proxy.requests() if r["method"] == "GET" and r["path"].endswith(marker)]
    assert len(gets) == 1, gets
    for repo in (a, b):
        berthd.berthctl("rmi", registry.ref(repo, "1", via=proxy.url), check=True)


def test_push_in_chunks(berthd, registry, busybox_image):
    repo = uniq("t/chunks")
    ref = registry.ref(repo, "c")
    berthd.berthctl("tag", busybox_image, ref, check=True)
    before = len(registry.log().splitlines())
    out = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "PushImage", "sa{sv}", ref, "1",
                        "ChunkSize", "t", "65536", check=True, timeout=180).stdout
    digest = out.split('"')[1]
    patches = [line for line in registry.log().splitlines()[before:] if '"PATCH ' in line]
    assert len(patches) >= 2, patches  # the busybox layer is larger than two chunks
    assert registry.manifest(repo, "c")["_digest"] == digest
    berthd.berthctl("rmi", ref, check=True)
    berthd.berthctl("pull", "-q", ref, check=True, timeout=120)
    assert berthd.berthctl("run", "--rm", ref, "echo", "chunked", check=True).stdout == "chunked\n"
    berthd.berthctl("rmi", ref, check=True)
    bad = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "PushImage", "sa{sv}", ref, "1",
                        "ChunkSize", "t", "10")
    assert bad.returncode != 0 and "ChunkSize" in bad.stderr, bad.stderr
