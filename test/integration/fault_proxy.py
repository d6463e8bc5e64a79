# SPDX-License-Identifier: LGPL-2.1-or-later
"""An HTTP reverse proxy on 127.0.0.1 that injects faults, for registry tests.

    fault_proxy.py --port PORT --upstream http://127.0.0.1:RPORT --rules RULES.json --log LOG.jsonl

Forwards every request (any method, bodies plain or chunked, the Host header kept as the client
sent it, so a registry's Location URLs point back at the proxy) to UPSTREAM, unless a rule of
RULES.json matches. RULES.json is re-read whenever it changes (write it atomically: a temporary
file renamed over it); its counters start again then. It holds a list of rules, or
{"rules": [...]}; the first rule that matches and has not run out applies:

  match     regular expression searched in the request target (path and query), e.g. "/blobs/"
  method    optional: only this method (GET, HEAD, PUT, ...)
  times     optional: how many requests it applies to (default: all); 1 = "once"
  fault     what to do:
    status    answer STATUS (default 500) with HEADERS and BODY without asking upstream, e.g.
              {"fault": "status", "status": 429, "headers": {"Retry-After": "1"}, "times": 1}
    reset     forward, send the status line, headers and AFTER bytes of the body (default half),
              then reset the connection (RST)
    truncate  the same but close cleanly (FIN) after AFTER bytes; Content-Length still promises
              the whole body. With "fix_length": true, Content-Length says AFTER instead and the
              connection stays usable (a complete but short answer)
    corrupt   forward, flipping the byte at OFFSET (default: the middle) of the body: same
              length, wrong digest
    stall     forward, send the headers and AFTER bytes, then wait SECONDS (default 3600) and close
    hang      never answer: wait SECONDS (default 3600) without sending anything, then close
    delay     wait SECONDS, then forward
    close     close the connection at once, without an answer

Each request is logged to LOG as one JSON line just before its answer goes out (so a client that
has its answer finds it logged; for hang and close: before the wait or the close): {"time", "method", "path", "headers", "status", "fault", "rule", "sent"}, where "fault" is
null and "rule" -1 for a request passed through untouched, and "sent" is the body bytes sent.
Only the Python standard library.
"""

import argparse
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "proxy-connection"}


class Rules:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.key = None
        self.rules = []
        self.used = []

    def _reload(self):
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            data = b"[]"
        key = hashlib.sha256(data).hexdigest()
        if key == self.key:
            return
        try:
            rules = json.loads(data or b"[]")
        except ValueError as e:
            print(f"fault_proxy: ignoring {self.path}: {e}", file=sys.stderr, flush=True)
            return
        if isinstance(rules, dict):
            rules = rules.get("rules", [])
        self.key, self.rules, self.used = key, rules, [0] * len(rules)

    def pick(self, method, target):
        """(index, rule) of the rule for this request, counted as used; (-1, None) for none."""
        with self.lock:
            self._reload()
            for i, rule in enumerate(self.rules):
                if rule.get("method") and rule["method"].upper() != method:
                    continue
                if not re.search(rule.get("match", ""), target):
                    continue
                times = rule.get("times")
                if times is not None and self.used[i] >= int(times):
                    continue
                self.used[i] += 1
                return i, rule
            return -1, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "berth-test-fault-proxy/1"

    def log_message(self, fmt, *args):
        pass

    # -- plumbing ---------------------------------------------------------------------------

    def log_request_entry(self, status, fault, rule, sent):
        entry = {"time": time.time(), "method": self.command, "path": self.path,
                 "headers": self.header_dict(), "status": status, "fault": fault,
                 "rule": rule, "sent": sent}
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.server.log_lock, open(self.server.log_path, "a") as f:
            f.write(line)

    def header_dict(self):
        """The request's headers; one that came several times has its values joined by ", "."""
        headers = {}
        for k, v in self.headers.items():
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        return headers

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else None

    def forward(self, body):
        up = self.server.upstream
        if up.scheme == "https":
            conn = http.client.HTTPSConnection(up.hostname, up.port or 443, timeout=120,
                                               context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection(up.hostname, up.port or 80, timeout=120)
        # A list, not a dict: a header may come several times (Accept does, from containers/image).
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"content-length"}]
        if body is not None or self.command in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(body or b""))))
        has_host = any(k.lower() == "host" for k, _ in headers)
        conn.putrequest(self.command, self.path, skip_host=has_host, skip_accept_encoding=True)
        for k, v in headers:
            conn.putheader(k, v)
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        resp_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        conn.close()
        return resp.status, resp.reason, resp_headers, data

    def send_head(self, status, reason, headers, length):
        self.send_response_only(status, reason)
        for k, v in headers:
            if k.lower() != "content-length":
                self.send_header(k, v)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def upstream_length(self, headers, data):
        if self.command == "HEAD":
            for k, v in headers:
                if k.lower() == "content-length":
                    return int(v)
            return None
        return len(data)

    def reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def wait(self, seconds):
        self.server.stopping.wait(float(seconds))

    # -- the one handler for every method ---------------------------------------------------

    def handle_any(self):
        body = self.read_body()
        index, rule = self.server.rules.pick(self.command, self.path)
        fault = rule.get("fault", "status") if rule else None

        if fault in ("hang", "close"):
            self.log_request_entry(None, fault, index, 0)
            if fault == "hang":
                self.wait(rule.get("seconds", 3600))
            self.reset()
            return
        if fault == "status":
            status = int(rule.get("status", 500))
            payload = rule.get("body")
            if payload is None:
                code = {429: "TOOMANYREQUESTS", 401: "UNAUTHORIZED", 404: "NOT_FOUND"}.get(status, "UNKNOWN")
                payload = json.dumps({"errors": [{"code": code, "message": f"injected by fault_proxy ({status})"}]})
            data = payload.encode() if isinstance(payload, str) else bytes(payload)
            headers = [("Content-Type", "application/json")] + list(rule.get("headers", {}).items())
            self.log_request_entry(status, fault, index, len(data))
            self.send_head(status, None, headers, len(data))
            if self.command != "HEAD":
                self.wfile.write(data)
            return
        if fault == "delay":
            self.wait(rule.get("seconds", 1))

        status, reason, headers, data = self.forward(body)
        length = self.upstream_length(headers, data)
        send_body = self.command != "HEAD"

        if fault in ("reset", "truncate", "stall") and send_body:
            after = int(rule.get("after", len(data) // 2))
            after = max(0, min(after, len(data)))
            self.log_request_entry(status, fault, index, after)
            if fault == "truncate" and rule.get("fix_length"):
                self.send_head(status, reason, headers, after)
                self.wfile.write(data[:after])
                return
            self.send_head(status, reason, headers, length)
            self.wfile.write(data[:after])
            self.wfile.flush()
            if fault == "reset":
                time.sleep(0.05)  # let the bytes leave before the RST
                self.reset()
            elif fault == "truncate":
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self.close_connection = True
            else:
                self.wait(rule.get("seconds", 3600))
                self.close_connection = True
            return
        if fault == "corrupt" and send_body and data:
            offset = int(rule.get("offset", len(data) // 2)) % len(data)
            data = data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1:]

        self.log_request_entry(status, fault, index, len(data) if send_body else 0)
        self.send_head(status, reason, headers, length)
        if send_body:
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.upstream = urllib.parse.urlsplit(args.upstream)
    server.rules = Rules(args.rules)
    server.log_path = args.log
    server.log_lock = threading.Lock()
    server.stopping = threading.Event()
    print(f"fault proxy on 127.0.0.1:{args.port} -> {args.upstream}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.stopping.set()


if __name__ == "__main__":
    os.umask(0o022)
    main()
