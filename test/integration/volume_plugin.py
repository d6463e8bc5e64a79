#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A small Docker volume plugin for the tests: JSON over HTTP on a unix socket.

    volume_plugin.py SOCKET BASEDIR LOGFILE

Volumes are the directories in BASEDIR (so a test can make one "out of band" with mkdir).
Every call is appended to LOGFILE as one JSON line {"call": ..., "body": ...}. A volume created
with the option fail=Mount refuses to be mounted; fail=Remove refuses to be removed. While the
file BASEDIR/.stall exists, every call waits that many seconds (its content) before it is answered.
"""
import http.server
import json
import os
import shutil
import socketserver
import sys
import time

SOCKET, BASE, LOG = sys.argv[1:4]
OPTS = os.path.join(BASE, ".opts")
mounts = {}  # name -> set of mount ids


def opts(name):
    try:
        with open(os.path.join(OPTS, name)) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def volume(name):
    return {"Name": name, "Mountpoint": os.path.join(BASE, name), "Status": {"mounts": len(mounts.get(name, ()))}}


def exists(name):
    return name and not name.startswith(".") and os.path.isdir(os.path.join(BASE, name))


def handle(call, body):
    name = body.get("Name", "")
    if call == "Plugin.Activate":
        return {"Implements": ["VolumeDriver"]}
    if call == "VolumeDriver.Capabilities":
        return {"Capabilities": {"Scope": "local"}}
    if call == "VolumeDriver.Create":
        if (body.get("Opts") or {}).get("fail") == "Create":
            return {"Err": "creation refused by the test plugin"}
        os.makedirs(os.path.join(BASE, name), exist_ok=True)
        with open(os.path.join(OPTS, name), "w") as f:
            json.dump(body.get("Opts") or {}, f)
        return {"Err": ""}
    if not exists(name) and call != "VolumeDriver.List":
        return {"Err": f"no such volume: {name}"}
    if call == "VolumeDriver.Remove":
        if opts(name).get("fail") == "Remove" or mounts.get(name):
            return {"Err": "volume busy"}
        shutil.rmtree(os.path.join(BASE, name))
        return {"Err": ""}
    if call == "VolumeDriver.Mount":
        if opts(name).get("fail") == "Mount":
            return {"Err": "mount refused by the test plugin"}
        mounts.setdefault(name, set()).add(body["ID"])
        return {"Mountpoint": os.path.join(BASE, name), "Err": ""}
    if call == "VolumeDriver.Unmount":
        mounts.get(name, set()).discard(body["ID"])
        return {"Err": ""}
    if call == "VolumeDriver.Path":
        return {"Mountpoint": os.path.join(BASE, name), "Err": ""}
    if call == "VolumeDriver.Get":
        return {"Volume": volume(name), "Err": ""}
    if call == "VolumeDriver.List":
        return {"Volumes": [volume(n) for n in sorted(os.listdir(BASE)) if exists(n)], "Err": ""}
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw.strip() else {}
        call = self.path.lstrip("/")
        try:
            with open(os.path.join(BASE, ".stall")) as f:
                time.sleep(float(f.read()))
        except FileNotFoundError:
            pass
        with open(LOG, "a") as f:
            f.write(json.dumps({"call": call, "body": body}) + "\n")
        out = handle(call, body)
        data = json.dumps(out if out is not None else {"Err": "unknown call"}).encode()
        self.send_response(200 if out is not None else 404)
        self.send_header("Content-Type", "application/vnd.docker.plugins.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Server(socketserver.UnixStreamServer):
    def get_request(self):
        request, _ = super().get_request()
        return request, ("plugin", 0)


os.makedirs(OPTS, exist_ok=True)
os.makedirs(os.path.dirname(SOCKET), exist_ok=True)
if os.path.exists(SOCKET):
    os.unlink(SOCKET)
Server(SOCKET, Handler).serve_forever()
