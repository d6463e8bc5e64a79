# SPDX-License-Identifier: LGPL-2.1-or-later
"""A token server for a docker-registry (distribution 2.8) in `auth: token:` mode, for tests.

    registry_token.py CONFIG.json

CONFIG (JSON):
  port            TCP port on 127.0.0.1
  service         the only service it issues tokens for (the registry's auth.token.service)
  issuer          the "iss" claim (the registry's auth.token.issuer)
  key             PEM private key (RSA: RS256, or EC P-256: ES256) that signs the tokens
  cert            PEM certificate of that key (what the registry's rootcertbundle holds)
  header          "kid" (default: the libtrust key ID of the key, looked up by the registry in
                  its rootcertbundle) or "x5c" (the certificate itself, verified against it)
  users           {"name": "password", ...}: Basic credentials it accepts
  acl             optional {"name": {"REPO-REGEX": ["pull", "push", ...]}}: what each user may
                  get (default: whatever they ask for); "*" as the name is the default entry
  anonymous       actions granted without credentials (default []: an empty access list)
  expires_in      token lifetime in seconds (default 300)
  log             file to which one JSON line per request is appended

Endpoints: GET /token?service=S&scope=S1&scope=S2... with optional Basic credentials (the Docker
token protocol), and POST /token with an OAuth2 form (grant_type=password with username/password,
or grant_type=refresh_token with refresh_token; service, scope, client_id). Wrong credentials
get 401, an unknown service 400. The answer is {"token", "access_token", "expires_in",
"issued_at"} (plus "refresh_token" for POST). Each request is logged as
{"time", "method", "path", "service", "scopes": [...], "user", "status", "granted": [...]}.

Tokens are JWTs as distribution 2.8 checks them (registry/auth/token/token.go): "iss" among
its issuer, "aud" (a string) its service, exp/nbf (±60 s leeway), and a signature by a key it
trusts: a "kid" header that is the libtrust fingerprint of a public key in rootcertbundle, or an
"x5c" header whose chain verifies against rootcertbundle. Only python3 and python3-cryptography.
"""

import base64
import binascii
import hashlib
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(public_key):
    """docker/libtrust's KeyID: SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32
    without padding, in 12 groups of 4 joined by ':'."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


def sign_jwt(key, header, claims):
    if isinstance(key, rsa.RSAPrivateKey):
        header = {**header, "alg": "RS256"}
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        header = {**header, "alg": "ES256"}
    else:
        raise ValueError("key must be RSA or EC P-256")
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode())).encode()
    if isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS wants r||s, not DER
    return signing_input.decode() + "." + b64url(sig)


def parse_scope(scope):
    """'repository:name/with:colon?:pull,push' -> (type, name, [actions]); the name may hold ':'
    (a port), so type is the first field and actions the last."""
    parts = scope.split(":")
    if len(parts) < 3:
        return None
    return parts[0], ":".join(parts[1:-1]), [a for a in parts[-1].split(",") if a]


class TokenServer:
    def __init__(self, config):
        self.config = config
        with open(config["key"], "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        with open(config["cert"], "rb") as f:
            self.cert = x509.load_pem_x509_certificate(f.read())
        if config.get("header", "kid") == "x5c":
            self.header = {"typ": "JWT", "x5c": [base64.b64encode(self.cert.public_bytes(
                serialization.Encoding.DER)).decode()]}
        else:
            self.header = {"typ": "JWT", "kid": libtrust_key_id(self.key.public_key())}
        self.refresh_tokens = {}
        self.lock = threading.Lock()

    def log(self, entry):
        path = self.config.get("log")
        if not path:
            return
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.lock, open(path, "a") as f:
            f.write(line)

    def allowed(self, user, typ, name, actions):
        if user is None:
            return [a for a in actions if a in self.config.get("anonymous", [])]
        acl = self.config.get("acl")
        if not acl:
            return actions
        import re
        rules = acl.get(user, acl.get("*", {}))
        granted = set()
        for pattern, acts in rules.items():
            if re.fullmatch(pattern, name):
                granted.update(acts)
        return [a for a in actions if a in granted or "*" in granted]

    def issue(self, user, scopes):
        now = int(time.time())
        expires_in = int(self.config.get("expires_in", 300))
        access = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if not parsed:
                continue
            typ, name, actions = parsed
            granted = self.allowed(user, typ, name, actions)
            access.append({"type": typ, "name": name, "actions": granted})
        claims = {
            "iss": self.config["issuer"],
            "sub": user or "",
            "aud": self.config["service"],
            "exp": now + expires_in,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        token = sign_jwt(self.key, self.header, claims)
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        return {"token": token, "access_token": token, "expires_in": expires_in, "issued_at": issued}, access


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "berth-test-token/1"

    def log_message(self, fmt, *args):  # quiet; requests go to the JSON log
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def basic_user(self):
        """(user or None, ok): ok False when credentials were given and are wrong."""
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("basic "):
            return None, True
        try:
            user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, False
        return self.check(user, password)

    def check(self, user, password):
        users = self.server.ts.config.get("users", {})
        if user in users and secrets.compare_digest(users[user], password):
            return user, True
        return user, False

    def handle_token(self, method, params):
        ts = self.server.ts
        url = urllib.parse.urlsplit(self.path)
        service = params.get("service", [""])[0]
        scopes = []
        for s in params.get("scope", []):
            scopes.extend(s.split(" "))  # OAuth2 joins several scopes with spaces
        entry = {"time": time.time(), "method": method, "path": url.path, "service": service, "scopes": scopes,
                 "client_id": params.get("client_id", [""])[0], "grant_type": params.get("grant_type", [""])[0],
                 "offline_token": params.get("offline_token", [""])[0]}
        refresh = None
        if method == "POST":
            grant = params.get("grant_type", [""])[0]
            if grant == "password":
                user, ok = self.check(params.get("username", [""])[0], params.get("password", [""])[0])
            elif grant == "refresh_token":
                user = ts.refresh_tokens.get(params.get("refresh_token", [""])[0])
                ok = user is not None
            else:
                entry.update(status=400, user=None, granted=[])
                ts.log(entry)
                return self.reply(400, {"error": "unsupported_grant_type"})
        else:
            user, ok = self.basic_user()
        entry["user"] = user
        if not ok:
            entry.update(status=401, granted=[])
            ts.log(entry)
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                              {"WWW-Authenticate": 'Basic realm="berth-test-token"'})
        if service != ts.config["service"]:
            entry.update(status=400, granted=[])
            ts.log(entry)
            return self.reply(400, {"errors": [{"code": "DENIED", "message": f"unknown service {service!r}"}]})
        body, access = ts.issue(user, scopes)
        if method == "POST" and user is not None:
            refresh = secrets.token_hex(16)
            ts.refresh_tokens[refresh] = user
            body["refresh_token"] = refresh
        entry.update(status=200, granted=access)
        ts.log(entry)
        self.reply(200, body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/token":
            return self.reply(404, {"error": "not found"})
        self.handle_token("GET", urllib.parse.parse_qs(url.query))

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if url.path != "/token":
            return self.reply(404, {"error": "not found"})
        params = urllib.parse.parse_qs(url.query)
        params.update(urllib.parse.parse_qs(body))
        self.handle_token("POST", params)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: registry_token.py CONFIG.json")
    with open(sys.argv[1]) as f:
        config = json.load(f)
    server = ThreadingHTTPServer(("127.0.0.1", int(config["port"])), Handler)
    server.daemon_threads = True
    server.ts = TokenServer(config)
    print(f"token server on 127.0.0.1:{config['port']} for {config['service']}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    os.umask(0o022)
    main()
