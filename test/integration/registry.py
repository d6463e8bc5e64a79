# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real OCI registries for berth's tests: Debian's docker-registry (distribution 2.8), started
inside the testbed on 127.0.0.1 with a config and storage of its own, in one of four modes, plus a
fault-injecting proxy (fault_proxy.py) to put in front of one.

    reg = Registry(bed, busybox_tar, mode="plain" | "tls" | "basic" | "bearer", tls=None,
                   user="berth", password=<random>, token_header="kid" | "x5c",
                   token_algorithm="RS256" | "ES256", token_acl=None, token_anonymous=(),
                   token_expires_in=300)
        tls=True adds HTTPS to basic or bearer (the "tls" mode is plain + tls); the token_*
        options configure registry_token.py (see there: acl, anonymous actions, lifetime)
    reg.url                      "127.0.0.1:PORT" (what an image reference starts with)
    reg.ref(repo, tag, via=None)  "127.0.0.1:PORT/repo:tag" (via: another address, e.g. a proxy's)
    reg.base_url                 "http://127.0.0.1:PORT" or "https://..."
    reg.user, reg.password       the credentials of the basic and bearer modes (else None)
    reg.creds                    "user:password" or None
    reg.tls, reg.scheme          whether it speaks HTTPS; "https" or "http"
    reg.ca_cert                  path of the CA certificate (with TLS; else None), installed
                                 in the testbed as /etc/{docker,containers}/certs.d/URL/ca.crt (and
                                 for localhost:PORT) while the registry runs
    reg.push_busybox(repo, tag="latest", fmt="oci"|"docker", compression="gzip"|"zstd",
                     arch="amd64", creds=<reg.creds>, via=None) -> manifest digest ("sha256:...")
        the busybox rootfs for linux/ARCH (one layer: the busybox_tar bytes, gzip'd or zstd'd, so
        its diff id is what berthctl import gives the same tarball; only the config says ARCH),
        pushed with skopeo from inside the testbed as an OCI or a Docker schema 2 manifest (to the
        address via instead when given, e.g. proxy.url); creds=None pushes anonymously
    reg.push_multiplatform(repo, tag="latest", platforms=("linux/amd64", "linux/arm64/v8"),
                           attestation=True, creds=..., via=None) -> index digest
        an OCI image index: one manifest per platform (the busybox layer plus a layer with
        /etc/berth-platform holding "linux/arm64/v8" etc.; the config says that platform) and,
        with attestation, a BuildKit-style attestation manifest (platform unknown/unknown,
        annotation vnd.docker.reference.type=attestation-manifest, an in-toto layer)
    reg.push_layout(repo, tag, layout_dir, layout_ref=None, all=False, fmt=None, creds=..., via=None)
        skopeo copy oci:LAYOUT_DIR:LAYOUT_REF (default: tag) to it; returns the digest
    reg.skopeo(*args, check=False)  skopeo inside the testbed -> CompletedProcess
    reg.tls_args(prefix)         ["--PREFIX-tls-verify=false"], or =true with TLS (verification
                                 works through certs.d)
    reg.manifest(repo, ref, creds=...) -> dict   the manifest (or index) JSON, any media type accepted;
                                         its digest and type in d["_digest"], d["_media_type"]
    reg.request(method, path, headers=None, data=None, creds=<reg.creds>)
        -> (status, headers dict, body bytes): HTTP from the test process (the testbed shares the
        host's network), answering Basic and Bearer challenges itself
    reg.manifest_raw(repo, ref) -> (bytes, media type, digest)
    reg.blob(repo, digest) -> bytes
    reg.token(scope, creds=...) -> str or None   a token from the token server (bearer mode)
    reg.token_requests() -> [dict]   bearer mode: the token server's log, one entry a request
                                     ({"method", "service", "scopes", "user", "status",
                                     "granted", ...}; see registry_token.py)
    reg.log() -> str                 the registry's own log (logrus lines and access log lines)
    reg.access_log() -> [dict]       the requests it served ({"method", "path", "status", "size",
                                     "agent"}), parsed from its access log
    reg.proxy() -> FaultProxy        a fault proxy in front of it (stopped with it)
    reg.stop()

    proxy = FaultProxy(bed, upstream="http://127.0.0.1:PORT")
    proxy.url                    "127.0.0.1:PPORT": use it as the registry's address (plain HTTP
                                 on the client's side, whatever the upstream speaks)
    proxy.set_rules([{"match": "/blobs/", "fault": "reset", "times": 1}, ...])  see fault_proxy.py
    proxy.clear()                no more faults
    proxy.requests(clear=False) -> [dict]   its log (clear: and forget it), one entry a request ({"method", "path", "headers",
                                 "status", "fault", "rule", "sent"})
    proxy.stop()

Everything a registry writes lives in a temporary directory under /var/tmp (seen from both sides);
its processes are transient units of the testbed's systemd (berth-test-registry-*,
berth-test-regtoken-*, berth-test-faultproxy-*), so they show in its journal and die with it.
"""

import base64
import datetime
import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_TMP = "/var/tmp"  # seen by both sides; /tmp inside the testbed is private
TOKEN_SERVER = os.path.join(HERE, "registry_token.py")
FAULT_PROXY = os.path.join(HERE, "fault_proxy.py")
PYTHON = "/usr/bin/python3"  # Debian's, with python3-cryptography

MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_IN_TOTO = "application/vnd.in-toto+json"
ACCEPT_ALL = ", ".join([MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST, MEDIA_DOCKER_LIST, MEDIA_DOCKER_MANIFEST,
                        "application/vnd.docker.distribution.manifest.v1+prettyjws"])
CREATED = "2024-01-01T00:00:00Z"
BUSYBOX_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class RegistryError(Exception):
    pass


def free_port():
    """A TCP port free on 127.0.0.1 just now (pytest is in the testbed's network namespace: conftest.py)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _uniq():
    return uuid.uuid4().hex[:8]


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# -- certificates and keys -------------------------------------------------------------------


def _pem_key(key):
    from cryptography.hazmat.primitives import serialization
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _pem_cert(cert):
    from cryptography.hazmat.primitives import serialization
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def make_tls_files(directory):
    """A CA and a server certificate it signed, for 127.0.0.1, ::1 and localhost. Writes ca.crt,
    server.crt, server.key into directory; returns their paths."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"berth test CA {_uniq()}")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1")),
                x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {name: os.path.join(directory, name) for name in ("ca.crt", "server.crt", "server.key")}
    _write(paths["ca.crt"], _pem_cert(ca))
    _write(paths["server.crt"], _pem_cert(cert))
    _write(paths["server.key"], _pem_key(key), 0o600)
    return paths


def make_token_signing_files(directory, algorithm="RS256"):
    """The token server's signing key and a self-signed certificate of it (the registry's
    rootcertbundle). Returns (key path, cert path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    if algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "berth test token signer")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_path, cert_path = os.path.join(directory, "signing.key"), os.path.join(directory, "signing.crt")
    _write(key_path, _pem_key(key), 0o600)
    _write(cert_path, _pem_cert(cert))
    return key_path, cert_path


# -- OCI layouts -------------------------------------------------------------------------------


class Layout:
    """An OCI image layout directory being written (blobs, index.json, oci-layout)."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        _write(os.path.join(path, "oci-layout"), b'{"imageLayoutVersion":"1.0.0"}')
        self.refs = []

    def blob(self, data, media_type, **extra):
        digest = sha256_digest(data)
        path = os.path.join(self.path, "blobs", "sha256", digest.split(":", 1)[1])
        if not os.path.exists(path):
            _write(path, data)
        return {"mediaType": media_type, "digest": digest, "size": len(data), **extra}

    def json_blob(self, obj, media_type, **extra):
        return self.blob(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode(), media_type, **extra)

    def tag(self, descriptor, name):
        annotations = {**descriptor.get("annotations", {}), "org.opencontainers.image.ref.name": name}
        self.refs.append({**descriptor, "annotations": annotations})
        _write(os.path.join(self.path, "index.json"),
               json.dumps({"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX, "manifests": self.refs}).encode())


def tar_of(files):
    """A tarball (bytes) of {path: bytes}, owned by root, mtime 0."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        dirs = sorted({os.path.dirname(p) for p in files if os.path.dirname(p)})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gzip_of(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


def zstd_of(data):
    return subprocess.run(["zstd", "-q", "-c", "-3", "--no-check"], input=data, check=True,
                          capture_output=True).stdout


def parse_platform(platform):
    parts = platform.split("/")
    p = {"os": parts[0], "architecture": parts[1]}
    if len(parts) > 2:
        p["variant"] = parts[2]
    return p


def image_manifest(layout, layers, platform="linux/amd64", cmd=("sh",), labels=None, compression="gzip"):
    """Writes an image (config + manifest) of these layer tarballs (bytes, compressed here with
    gzip or zstd) into layout; returns the manifest's descriptor (with platform)."""
    plat = parse_platform(platform)
    descs, diff_ids, history = [], [], []
    for tar in layers:
        if compression == "zstd":
            descs.append(layout.blob(zstd_of(tar), MEDIA_OCI_LAYER_ZSTD))
        else:
            descs.append(layout.blob(gzip_of(tar), MEDIA_OCI_LAYER_GZIP))
        diff_ids.append(sha256_digest(tar))
        history.append({"created": CREATED, "created_by": "berth test registry.py"})
    config = {"created": CREATED, **plat,
              "config": {"Cmd": list(cmd), "Env": [BUSYBOX_PATH_ENV], "Labels": labels or {}},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": history}
    manifest = {"schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST,
                "config": layout.json_blob(config, MEDIA_OCI_CONFIG), "layers": descs}
    return layout.json_blob(manifest, MEDIA_OCI_MANIFEST, platform=plat)


def attestation_manifest(layout, subject):
    """A BuildKit-style attestation manifest for the image whose descriptor is subject."""
    statement = {"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://spdx.dev/Document",
                 "subject": [{"name": "berth-test", "digest": {"sha256": subject["digest"].split(":", 1)[1]}}],
                 "predicate": {"spdxVersion": "SPDX-2.3", "name": "berth-test-sbom"}}
    layer = layout.json_blob(statement, MEDIA_IN_TOTO,
                             annotations={"in-toto.io/predicate-type": "https://spdx.dev/Document"})
    config = {"architecture": "unknown", "os": "unknown", "config": {},
              "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}
    manifest = {"schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST,
                "config": layout.json_blob(config, MEDIA_OCI_CONFIG), "layers": [layer]}
    return layout.json_blob(manifest, MEDIA_OCI_MANIFEST, platform={"architecture": "unknown", "os": "unknown"},
                            annotations={"vnd.docker.reference.type": "attestation-manifest",
                                         "vnd.docker.reference.digest": subject["digest"]})


# -- processes in the testbed ------------------------------------------------------------------


def _start_unit(bed, unit, argv, log):
    bed.run(["systemd-run", f"--unit={unit}", "--collect", "--quiet",
             f"--property=StandardOutput=append:{log}", f"--property=StandardError=append:{log}", *argv],
            check=True)


def _wait_port(bed, unit, port, log, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not _port_open(port):
        if bed.systemctl("is-active", "--quiet", unit).returncode != 0:
            raise RegistryError(f"{what} ({unit}) is not running:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise RegistryError(f"{what} ({unit}) did not listen on 127.0.0.1:{port} within {timeout}s:\n{_tail(log)}")
        time.sleep(0.1)


def _tail(path, n=4000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError as e:
        return f"({e})"


class FaultProxy:
    """fault_proxy.py in front of upstream (a URL), as a unit of the testbed's systemd."""

    def __init__(self, bed, upstream, workdir=None):
        self.bed = bed
        self.upstream = upstream
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="berth-faultproxy.", dir=SHARED_TMP)
        os.chmod(self.dir, 0o755)
        self.id = _uniq()
        self.rules_path = os.path.join(self.dir, f"proxy-{self.id}.rules.json")
        self.log_path = os.path.join(self.dir, f"proxy-{self.id}.requests.jsonl")
        self.out_path = os.path.join(self.dir, f"proxy-{self.id}.log")
        self.unit = f"berth-test-faultproxy-{self.id}.service"
        self.port = free_port()
        self.url = f"127.0.0.1:{self.port}"
        self.base_url = f"http://{self.url}"
        self.set_rules([])
        _start_unit(bed, self.unit, [PYTHON, FAULT_PROXY, "--port", str(self.port), "--upstream", upstream,
                                     "--rules", self.rules_path, "--log", self.log_path], self.out_path)
        self._running = True
        _wait_port(bed, self.unit, self.port, self.out_path, "the fault proxy")

    def set_rules(self, rules):
        tmp = self.rules_path + ".tmp"
        _write(tmp, json.dumps({"rules": rules}, indent=1).encode())
        os.rename(tmp, self.rules_path)

    def clear(self):
        self.set_rules([])

    def requests(self, clear=False):
        entries = []
        if os.path.exists(self.log_path):
            with open(self.log_path) as f:
                entries = [json.loads(line) for line in f if line.endswith("\n")]
            if clear:
                os.unlink(self.log_path)
        return entries

    def stop(self):
        if getattr(self, "_running", False):
            self._running = False
            self.bed.systemctl("stop", self.unit)
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class Registry:
    MODES = ("plain", "tls", "basic", "bearer")
    SERVICE = "berth-test-registry"
    ISSUER = "berth-test-token-issuer"

    def __init__(self, bed, busybox_tar, mode="plain", user="berth", password=None, token_header="kid",
                 token_algorithm="RS256", token_acl=None, token_anonymous=(), token_expires_in=300, tls=None):
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}")
        self.bed = bed
        self.busybox_tar = busybox_tar
        self.mode = mode
        self.user = user if mode in ("basic", "bearer") else None
        self.password = (password or secrets.token_hex(8)) if self.user else None
        self.id = _uniq()
        self.dir = tempfile.mkdtemp(prefix=f"berth-registry-{mode}.", dir=SHARED_TMP)
        os.chmod(self.dir, 0o755)
        self.storage = os.path.join(self.dir, "storage")
        os.makedirs(self.storage)
        self.port = free_port()
        self.url = f"127.0.0.1:{self.port}"
        self.tls = mode == "tls" if tls is None else bool(tls)
        self.scheme = "https" if self.tls else "http"
        self.base_url = f"{self.scheme}://{self.url}"
        self.unit = f"berth-test-registry-{self.id}.service"
        self.token_unit = f"berth-test-regtoken-{self.id}.service"
        self.log_path = os.path.join(self.dir, "registry.log")
        self.token_log = os.path.join(self.dir, "token-requests.jsonl")
        self.token_out = os.path.join(self.dir, "token-server.log")
        self.ca_cert = None
        self.token_port = None
        self.realm = None
        self._certs_dirs = []
        self._proxies = []
        self._units = []
        self._tokens = {}
        self._layouts = {}
        self._token_opts = dict(header=token_header, algorithm=token_algorithm, acl=token_acl,
                                anonymous=list(token_anonymous), expires_in=token_expires_in)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    @property
    def creds(self):
        return f"{self.user}:{self.password}" if self.user else None

    def ref(self, repo, tag="latest", via=None):
        """REPO:TAG (or REPO@DIGEST) at this registry, or at address via (a proxy's url)."""
        sep = "@" if tag.startswith("sha256:") else ":"
        return f"{via or self.url}/{repo}{sep}{tag}"

    # -- lifecycle -------------------------------------------------------------------------

    def _start(self):
        config = {
            "version": "0.1",
            "log": {"level": "info", "formatter": "text", "fields": {"service": "registry", "test": self.id}},
            "storage": {"filesystem": {"rootdirectory": self.storage}, "delete": {"enabled": True},
                        "cache": {"blobdescriptor": "inmemory"},
                        "maintenance": {"uploadpurging": {"enabled": False}}},
            "http": {"addr": f"127.0.0.1:{self.port}", "secret": secrets.token_hex(16),
                     "headers": {"X-Content-Type-Options": ["nosniff"]}},
        }
        if self.tls:
            tls = make_tls_files(self.dir)
            self.ca_cert = tls["ca.crt"]
            config["http"]["tls"] = {"certificate": tls["server.crt"], "key": tls["server.key"]}
            self._install_ca()
        if self.mode == "basic":
            htpasswd = os.path.join(self.dir, "htpasswd")
            out = subprocess.run(["htpasswd", "-Bbn", self.user, self.password], check=True, capture_output=True,
                                 text=True, stdin=subprocess.DEVNULL).stdout
            _write(htpasswd, out.strip().encode() + b"\n")
            config["auth"] = {"htpasswd": {"realm": "berth-test-realm", "path": htpasswd}}
        elif self.mode == "bearer":
            self._start_token_server()
            config["auth"] = {"token": {"realm": self.realm, "service": self.SERVICE, "issuer": self.ISSUER,
                                        "rootcertbundle": self.signing_cert}}
        self.config_path = os.path.join(self.dir, "config.yml")
        _write(self.config_path, json.dumps(config, indent=1).encode())  # YAML is a superset of JSON
        _start_unit(self.bed, self.unit, ["/usr/bin/docker-registry", "serve", self.config_path], self.log_path)
        self._units.append(self.unit)
        _wait_port(self.bed, self.unit, self.port, self.log_path, "docker-registry")

    def _start_token_server(self):
        opts = self._token_opts
        key, cert = make_token_signing_files(self.dir, opts["algorithm"])
        self.signing_cert = cert
        self.token_port = free_port()
        self.realm = f"http://127.0.0.1:{self.token_port}/token"
        conf = {"port": self.token_port, "service": self.SERVICE, "issuer": self.ISSUER, "key": key, "cert": cert,
                "header": opts["header"], "users": {self.user: self.password}, "anonymous": opts["anonymous"],
                "expires_in": opts["expires_in"], "log": self.token_log}
        if opts["acl"] is not None:
            conf["acl"] = opts["acl"]
        path = os.path.join(self.dir, "token-server.json")
        _write(path, json.dumps(conf, indent=1).encode(), 0o600)
        _start_unit(self.bed, self.token_unit, [PYTHON, TOKEN_SERVER, path], self.token_out)
        self._units.append(self.token_unit)
        _wait_port(self.bed, self.token_unit, self.token_port, self.token_out, "the token server")

    def _install_ca(self):
        hosts = [self.url, f"localhost:{self.port}"]
        script = []
        for base in ("/etc/docker/certs.d", "/etc/containers/certs.d"):
            for host in hosts:
                d = f"{base}/{host}"
                self._certs_dirs.append(d)
                script.append(f"mkdir -p '{d}' && cp '{self.ca_cert}' '{d}/ca.crt'")
        self.bed.sh(" && ".join(script), check=True)

    def proxy(self):
        """A FaultProxy in front of this registry (plain HTTP on its side; to the registry it
        speaks the registry's scheme). Stopped with the registry."""
        p = FaultProxy(self.bed, self.base_url, workdir=self.dir)
        self._proxies.append(p)
        return p

    def stop(self):
        for p in self._proxies:
            p.stop()
        self._proxies = []
        for unit in reversed(self._units):
            self.bed.systemctl("stop", unit)
        self._units = []
        if self._certs_dirs:
            self.bed.run(["rm", "-rf", *self._certs_dirs])
            self._certs_dirs = []
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- logs ------------------------------------------------------------------------------

    def log(self):
        return _tail(self.log_path, n=10 ** 7)

    def access_log(self):
        """The requests the registry served, from its access log: [{"method", "path", "status",
        "size", "agent"}]. Each line is written once its answer has gone out, so a client that has
        just finished may be a moment ahead of it (poll, e.g. with bed.wait_until)."""
        import re
        out = []
        for line in self.log().splitlines():
            m = re.match(r'\S+ \S+ \S+ \[[^]]*\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"', line)
            if m:
                out.append({"method": m[1], "path": m[2], "status": int(m[3]),
                            "size": 0 if m[4] == "-" else int(m[4]), "agent": m[5]})
        return out

    def token_requests(self):
        if not os.path.exists(self.token_log):
            return []
        with open(self.token_log) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]

    # -- skopeo ----------------------------------------------------------------------------

    def tls_args(self, prefix="dest"):
        """skopeo's TLS option: verify (through certs.d) in tls mode, plain HTTP otherwise."""
        return [f"--{prefix}-tls-verify={'true' if self.tls else 'false'}"]

    def skopeo(self, *args, check=False, timeout=300):
        return self.bed.run(["skopeo", *args], check=check, timeout=timeout)

    def push_layout(self, repo, tag, layout_dir, layout_ref=None, all=False, fmt=None, compression=None,
                    creds=True, via=None):
        """skopeo copy oci:layout_dir:layout_ref docker://REGISTRY/repo:tag (REGISTRY: via, when
        given, e.g. a FaultProxy's url); returns the digest."""
        digestfile = os.path.join(self.dir, f"digest-{_uniq()}")
        args = ["copy", "--quiet", *self.tls_args("dest"), f"--digestfile={digestfile}"]
        if creds is True:
            creds = self.creds
        if creds:
            args.append(f"--dest-creds={creds}")
        if all:
            args.append("--all")
        if fmt == "oci" and not compression:
            # As built, blob for blob: skopeo's blob info cache would otherwise put a blob the
            # registry already has with the same content (a gzip'd one for a zstd one) in its place.
            args.append("--preserve-digests")
        if fmt:
            args.append(f"--format={fmt}")
        if compression:
            args.append(f"--dest-compress-format={compression}")
        args += [f"oci:{layout_dir}:{layout_ref or tag}", f"docker://{self.ref(repo, tag, via)}"]
        self.skopeo(*args, check=True)
        with open(digestfile) as f:
            digest = f.read().strip()
        os.unlink(digestfile)
        return digest

    def _layout(self, key, build):
        if key not in self._layouts:
            path = os.path.join(self.dir, "layouts", _uniq())
            layout = Layout(path)
            build(layout)
            self._layouts[key] = path
        return self._layouts[key]

    def _busybox_bytes(self):
        with open(self.busybox_tar, "rb") as f:
            return f.read()

    def push_busybox(self, repo, tag="latest", fmt="oci", compression="gzip", arch="amd64", creds=True, via=None):
        """The busybox rootfs as a one-layer image for linux/ARCH, pushed as an OCI (fmt="oci") or
        Docker schema 2 (fmt="docker") manifest with gzip or zstd (OCI only) layers. Returns the
        manifest digest."""
        if fmt not in ("oci", "docker"):
            raise ValueError("fmt must be oci or docker")
        if compression not in ("gzip", "zstd"):
            raise ValueError("compression must be gzip or zstd")
        if fmt == "docker" and compression == "zstd":
            raise ValueError("Docker schema 2 has no zstd layers")

        # The layout holds the layer compressed as wanted (skopeo would not recompress a layer
        # the registry already has, e.g. from an earlier push of the gzip one): copied as it is.
        def build(layout):
            layout.tag(image_manifest(layout, [self._busybox_bytes()], f"linux/{arch}", compression=compression),
                       "image")

        path = self._layout(("busybox", arch, compression), build)
        return self.push_layout(repo, tag, path, "image", fmt="oci" if fmt == "oci" else "v2s2", creds=creds,
                                via=via)

    def push_multiplatform(self, repo, tag="latest", platforms=("linux/amd64", "linux/arm64/v8"),
                           attestation=True, creds=True, via=None):
        """An OCI image index of busybox images, one per platform (each with a second layer holding
        /etc/berth-platform = the platform), plus an attestation manifest for the first. Returns
        the index digest."""

        def build(layout):
            manifests = []
            busybox = self._busybox_bytes()
            for platform in platforms:
                marker = tar_of({"etc/berth-platform": platform.encode() + b"\n"})
                manifests.append(image_manifest(layout, [busybox, marker], platform,
                                                labels={"org.berth.test.platform": platform}))
            if attestation:
                manifests.append(attestation_manifest(layout, manifests[0]))
            index = {"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX, "manifests": manifests}
            layout.tag(layout.json_blob(index, MEDIA_OCI_INDEX), "index")

        path = self._layout(("multi", tuple(platforms), attestation), build)
        return self.push_layout(repo, tag, path, "index", all=True, creds=creds, via=via)

    # -- HTTP from the test process ----------------------------------------------------------

    def _ssl_context(self):
        if self.scheme != "https":
            return None
        return ssl.create_default_context(cafile=self.ca_cert)

    def _open(self, req):
        try:
            with urllib.request.urlopen(req, timeout=60, context=self._ssl_context()) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers.items()), e.read()

    @staticmethod
    def _challenge(header):
        scheme, _, rest = (header or "").partition(" ")
        params = {}
        for part in _split_params(rest):
            k, _, v = part.partition("=")
            params[k.strip().lower()] = v.strip().strip('"')
        return scheme.lower(), params

    def token(self, scope, creds=True):
        """A bearer token from the token server for scope (a string or a list), or None if refused."""
        if creds is True:
            creds = self.creds
        scopes = [scope] if isinstance(scope, str) else list(scope)
        query = urllib.parse.urlencode([("service", self.SERVICE)] + [("scope", s) for s in scopes])
        req = urllib.request.Request(f"{self.realm}?{query}")
        if creds:
            req.add_header("Authorization", "Basic " + base64.b64encode(creds.encode()).decode())
        status, _, body = self._open(req)
        if status != 200:
            return None
        return json.loads(body)["token"]

    def request(self, method, path, headers=None, data=None, creds=True):
        """An HTTP request to the registry (path starts with /v2/); answers a 401 challenge with
        creds ("user:password", None for anonymous; default: the registry's own) and repeats it
        once. Returns (status, headers, body); never raises for an HTTP status."""
        if creds is True:
            creds = self.creds
        headers = dict(headers or {})

        def attempt(extra):
            req = urllib.request.Request(self.base_url + path, data=data, method=method, headers={**headers, **extra})
            return self._open(req)

        status, resp_headers, body = attempt({})
        if status != 401:
            return status, resp_headers, body
        scheme, params = self._challenge(resp_headers.get("WWW-Authenticate") or resp_headers.get("Www-Authenticate"))
        if scheme == "basic" and creds:
            return attempt({"Authorization": "Basic " + base64.b64encode(creds.encode()).decode()})
        if scheme == "bearer":
            scopes = params.get("scope", "").split(" ") if params.get("scope") else []
            query = urllib.parse.urlencode([("service", params.get("service", ""))] + [("scope", s) for s in scopes])
            req = urllib.request.Request(f"{params['realm']}?{query}")
            if creds:
                req.add_header("Authorization", "Basic " + base64.b64encode(creds.encode()).decode())
            tstatus, _, tbody = self._open(req)
            if tstatus != 200:
                return status, resp_headers, body
            return attempt({"Authorization": "Bearer " + json.loads(tbody)["token"]})
        return status, resp_headers, body

    def manifest_raw(self, repo, ref, creds=True):
        """(bytes, media type, digest) of a manifest; raises RegistryError if not there."""
        status, headers, body = self.request("GET", f"/v2/{repo}/manifests/{ref}", {"Accept": ACCEPT_ALL},
                                             creds=creds)
        if status != 200:
            raise RegistryError(f"GET manifest {repo}:{ref}: HTTP {status}: {body[:500]!r}")
        h = {k.lower(): v for k, v in headers.items()}
        return body, h.get("content-type", ""), h.get("docker-content-digest") or sha256_digest(body)

    def manifest(self, repo, ref, creds=True):
        body, media_type, digest = self.manifest_raw(repo, ref, creds)
        m = json.loads(body)
        m["_digest"], m["_media_type"] = digest, media_type
        return m

    def blob(self, repo, digest, creds=True):
        status, _, body = self.request("GET", f"/v2/{repo}/blobs/{digest}", creds=creds)
        if status != 200:
            raise RegistryError(f"GET blob {repo}@{digest}: HTTP {status}")
        return body


def _split_params(s):
    """Splits 'a="x,y",b=z' at the commas outside quotes."""
    out, cur, quoted = [], "", False
    for ch in s:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out
