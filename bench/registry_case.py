# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench case "registry": pull and push through a local docker-registry (Debian's, on 127.0.0.1
with a config and storage of its own, started and stopped here).

The image: the Debian minbase rootfs split into four gzip'd layers (usr/lib, the rest of usr,
var, everything else) plus the busybox rootfs as a fifth, pushed once with skopeo. Then, in
rounds, in a rotating order:
  pull   berth: berthctl pull (the image removed again after); podman: podman pull (removed
         after); skopeo: skopeo copy to a directory plus the extraction of its layers with tar,
         as a pull that unpacks must do
  repull berth: berthctl pull of the image it has (one manifest request)
  push   berth: berthctl push to a new repository each round; podman: podman push the same
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def layer_of(members, src):
    """An uncompressed tar of these members of src (a TarFile)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for m in members:
            t.addfile(m, src.extractfile(m) if m.isreg() else None)
    return out.getvalue()


def split_minbase(path):
    groups = {"usr/lib": [], "usr": [], "var": [], "rest": []}
    with tarfile.open(path) as src:
        for m in src.getmembers():
            name = m.name.lstrip("./")
            key = ("usr/lib" if name.startswith("usr/lib/") else "usr" if name.startswith("usr/")
                   else "var" if name.startswith("var/") else "rest")
            groups[key].append(m)
        return [layer_of(ms, src) for ms in groups.values() if ms]


def write_layout(directory, layers):
    """An OCI layout with one image of these uncompressed layers, tagged "bench"."""
    blobs = os.path.join(directory, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def blob(data, media_type):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}

    descriptors = [blob(gzip.compress(layer, 6, mtime=0), MEDIA_LAYER) for layer in layers]
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
              "rootfs": {"type": "layers",
                         "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]},
              "history": [{"created_by": f"bench layer {k}"} for k in range(len(layers))]}
    manifest = {"schemaVersion": 2, "mediaType": MEDIA_MANIFEST,
                "config": blob(json.dumps(config).encode(), MEDIA_CONFIG), "layers": descriptors}
    m = blob(json.dumps(manifest).encode(), MEDIA_MANIFEST)
    m["annotations"] = {"org.opencontainers.image.ref.name": "bench"}
    with open(os.path.join(directory, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [m]}, f)
    with open(os.path.join(directory, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    return sum(d["size"] for d in descriptors)


class LocalRegistry:
    def __init__(self, workdir):
        self.dir = tempfile.mkdtemp(prefix="registry-", dir=workdir)
        self.port = free_port()
        self.url = f"127.0.0.1:{self.port}"
        config = {"version": "0.1", "log": {"level": "error"},
                  "storage": {"filesystem": {"rootdirectory": os.path.join(self.dir, "storage")},
                              "delete": {"enabled": True}},
                  "http": {"addr": self.url}}
        path = os.path.join(self.dir, "config.yml")
        with open(path, "w") as f:
            json.dump(config, f)  # JSON is YAML
        self.log = open(os.path.join(self.dir, "registry.log"), "w")
        self.proc = subprocess.Popen(["/usr/bin/docker-registry", "serve", path], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("docker-registry did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_case(A, sh, timed, stats, rotated, record_error, log, podman, results, cleanups):
    work = os.path.join(A.work, "registry")
    os.makedirs(work, exist_ok=True)
    reg = LocalRegistry(work)
    try:
        log("registry: building the five-layer image")
        layers = split_minbase(A.minbase)
        with open(os.path.join(A.work, "busybox.tar"), "rb") as f:
            layers.append(f.read())
        layout = os.path.join(work, "layout")
        compressed = write_layout(layout, layers)
        ref = f"{reg.url}/bench/minbase:1"
        sh(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:bench", f"docker://{ref}"], timeout=900)
        shutil.rmtree(layout, ignore_errors=True)
        rounds = A.registry_rounds
        tools = ["berth", "podman", "skopeo"]
        pull = {t: [] for t in tools}
        for rnd in range(rounds):
            for t in rotated(tools, rnd):
                log(f"registry: pull round {rnd + 1}/{rounds} {t}")
                sh(["sync"])
                try:
                    if t == "berth":
                        pull[t].append(timed(["berthctl", "pull", "-q", ref]))
                        if rnd < rounds - 1:
                            sh(["berthctl", "rmi", ref])
                    elif t == "podman":
                        pull[t].append(timed(podman + ["pull", "-q", "--tls-verify=false", ref]))
                        if rnd < rounds - 1:
                            sh(podman + ["rmi", ref])
                    else:
                        d = tempfile.mkdtemp(dir=work)
                        script = (f"skopeo copy -q --src-tls-verify=false docker://{ref} dir:{d}/blobs && "
                                  f"mkdir {d}/rootfs && for l in $(python3 -c 'import json,sys; "
                                  f"print(*(x[\"digest\"][7:] for x in json.load(open(sys.argv[1]))[\"layers\"]))'"
                                  f" {d}/blobs/manifest.json); do tar -xzf {d}/blobs/$l -C {d}/rootfs; done")
                        pull[t].append(timed(["sh", "-c", script]))
                        cleanups.append(["rm", "-rf", d])
                except Exception as e:  # noqa: BLE001
                    record_error("registry", t, e)
        repull = []
        for _ in range(max(10, rounds * 4)):
            try:
                repull.append(timed(["berthctl", "pull", "-q", ref]))
            except Exception as e:  # noqa: BLE001
                record_error("registry", "berth-repull", e)
                break
        push = {t: [] for t in ("berth", "podman")}
        for rnd in range(rounds):
            for t in rotated(list(push), rnd):
                target = f"{reg.url}/bench/pushed-{t}-{rnd}:1"
                log(f"registry: push round {rnd + 1}/{rounds} {t}")
                try:
                    if t == "berth":
                        sh(["berthctl", "tag", ref, target])
                        push[t].append(timed(["berthctl", "push", "-q", target]))
                        sh(["berthctl", "rmi", target])
                    else:
                        sh(podman + ["tag", ref, target])
                        push[t].append(timed(podman + ["push", "-q", "--tls-verify=false", target]))
                        sh(podman + ["rmi", target])
                except Exception as e:  # noqa: BLE001
                    record_error("registry", t, e)
        cleanups.append(["berthctl", "rmi", "-f", ref])
        cleanups.append(podman + ["rmi", "-f", ref])
        results["registry"] = {
            "layers": len(layers), "compressed_bytes": compressed,
            "uncompressed_bytes": sum(len(x) for x in layers),
            "pull": {t: stats(s) for t, s in pull.items() if s},
            "repull": {"berth": stats(repull)} if repull else {},
            "push": {t: stats(s) for t, s in push.items() if s},
        }
    finally:
        reg.stop()
