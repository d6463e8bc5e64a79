# SPDX-License-Identifier: LGPL-2.1-or-later
"""docker-compose (Debian's 1.29.2, the Python one) drives berth through berth-api unchanged: a
two-service project (one service reaching the other by its service name on the project network, a
named volume, a published port): up -d, ps, logs, exec, restart, down -v."""
import os
import shutil
import tempfile
import time
import urllib.request

import pytest

from test_api import SOCK, api, docker, http_json  # noqa: F401 (api is a fixture)

# What this file tests does not depend on the cgroup layout or the storage driver: first pass only.
pytestmark = pytest.mark.once

COMPOSE = "/usr/bin/docker-compose"
PORT = 18431

COMPOSE_FILE = f"""\
version: "3.7"
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo hello-from-web > /www/index.html; echo web started; exec httpd -f -p 8080 -h /www"]
    volumes:
      - data:/www
    ports:
      - "{PORT}:8080"
    labels:
      berth.test: web
  client:
    image: busybox
    command: ["sh", "-c", "echo client started; exec sleep 600"]
    depends_on:
      - web
volumes:
  data:
"""


# A project whose services end by themselves: `up` in the foreground.
SHORT_FILE = """\
version: "3.7"
services:
  a:
    image: busybox
    command: ["sh", "-c", "echo hello-a; sleep 2; echo bye-a"]
  b:
    image: busybox
    command: ["sh", "-c", "echo hello-b"]
"""


def make_project(api, text):
    if not os.path.exists(COMPOSE):
        pytest.fail("docker-compose is not installed (tools/install-deps.sh)")
    # /var/tmp is seen by both sides (/tmp inside the testbed is private).
    workdir = tempfile.mkdtemp(prefix="berth-compose.", dir="/var/tmp")
    os.chmod(workdir, 0o755)
    with open(os.path.join(workdir, "docker-compose.yml"), "w") as f:
        f.write(text)
    return workdir


@pytest.fixture()
def project(api):
    workdir = make_project(api, COMPOSE_FILE)
    yield workdir
    compose(api, workdir, "down", "-v", "-t", "1", check=False)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture()
def short_project(api):
    workdir = make_project(api, SHORT_FILE)
    yield workdir
    compose(api, workdir, "down", "-t", "1", check=False)
    shutil.rmtree(workdir, ignore_errors=True)


def compose(bed, workdir, *args, check=True, timeout=180):
    proc = bed.run(["env", f"DOCKER_HOST=unix://{SOCK}", "COMPOSE_PROJECT_NAME=bp", "sh", "-c",
                    'cd "$0" && exec "$@"', workdir, COMPOSE, "--ansi", "never", *args], timeout=timeout)
    if check:
        assert proc.returncode == 0, f"docker-compose {' '.join(args)}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def fetch(url, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_compose_up_ps_logs_exec_restart_down(api, project):
    bed = api
    proc = compose(bed, project, "up", "-d")
    out = proc.stdout + proc.stderr
    assert "bp_web_1" in out and "bp_client_1" in out

    # What compose made: a project network, a named volume, two containers with its labels.
    status, nets = http_json(bed, "GET", "/networks")
    assert "bp_default" in [n["Name"] for n in nets]
    status, vol = http_json(bed, "GET", "/volumes/bp_data")
    assert status == 200 and vol["Labels"]["com.docker.compose.project"] == "bp"
    status, web = http_json(bed, "GET", "/containers/bp_web_1/json")
    assert status == 200 and web["State"]["Running"] is True
    assert web["Config"]["Labels"]["com.docker.compose.service"] == "web"
    assert web["Config"]["Labels"]["berth.test"] == "web"
    assert "bp_default" in web["NetworkSettings"]["Networks"]
    assert "web" in web["NetworkSettings"]["Networks"]["bp_default"]["Aliases"]
    assert any(m["Destination"] == "/www" and m["Name"] == "bp_data" for m in web["Mounts"])

    # Again: nothing changed, nothing is recreated (compose compares its config-hash label).
    web_id = web["Id"]
    proc = compose(bed, project, "up", "-d")
    assert "bp_web_1 is up-to-date" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert http_json(bed, "GET", "/containers/bp_web_1/json")[1]["Id"] == web_id

    ps = compose(bed, project, "ps").stdout
    lines = {line.split()[0]: line for line in ps.splitlines() if line.startswith("bp_")}
    assert set(lines) == {"bp_web_1", "bp_client_1"}, ps
    assert "Up" in lines["bp_web_1"] and f"{PORT}->8080/tcp" in lines["bp_web_1"], ps
    assert compose(bed, project, "ps", "-q").stdout.split().__len__() == 2

    # The published port, from the test process (it shares the testbed's network).
    assert fetch(f"http://127.0.0.1:{PORT}/") == "hello-from-web\n"

    # One service reaches the other by its service name on the project network.
    def reach():
        p = compose(bed, project, "exec", "-T", "client", "wget", "-qO-", "http://web:8080/", check=False)
        return p.returncode == 0 and p.stdout
    assert bed.wait_until(reach, timeout=30, interval=0.5, what="client reaching web") == "hello-from-web\n"

    # exec with compose's default TTY (a real terminal on the client's side).
    cmd = (f"cd {project} && DOCKER_HOST=unix://{SOCK} COMPOSE_PROJECT_NAME=bp {COMPOSE} exec client "
           "sh -c 'tty; echo tty-ok; exit 3'")
    p = bed.run(["script", "-qec", cmd, "/dev/null"], timeout=120)
    out = p.stdout.replace("\r", "")
    assert "/dev/pts/" in out and "tty-ok" in out, (p.stdout, p.stderr)
    assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)

    # A changed service is recreated (stop, rename the old one away, create, start, remove).
    with open(os.path.join(project, "docker-compose.yml"), "w") as f:
        f.write(COMPOSE_FILE.replace("    depends_on:", "    environment:\n      - CHANGED=yes\n    depends_on:"))
    proc = compose(bed, project, "up", "-d")
    assert "Recreating bp_client_1" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert compose(bed, project, "exec", "-T", "client", "sh", "-c", "echo $CHANGED").stdout == "yes\n"
    names = [c["Names"][0] for c in http_json(bed, "GET", "/containers/json?all=1")[1]]
    assert sorted(n for n in names if n.startswith("/bp_") or "_bp_" in n) == ["/bp_client_1", "/bp_web_1"], names

    logs = compose(bed, project, "logs", "--no-color").stdout
    assert "web started" in logs and "client started" in logs, logs
    assert any(line.startswith("web_1") and "web started" in line for line in logs.splitlines()), logs

    before = http_json(bed, "GET", "/containers/bp_web_1/json")[1]["State"]["StartedAt"]
    compose(bed, project, "restart", "-t", "1", "web")
    after = http_json(bed, "GET", "/containers/bp_web_1/json")[1]
    assert after["State"]["Running"] is True and after["State"]["StartedAt"] != before
    assert fetch(f"http://127.0.0.1:{PORT}/") == "hello-from-web\n"

    # down -v: containers, the network and the named volume are gone; other objects stay.
    compose(bed, project, "down", "-v", "-t", "1")
    status, lst = http_json(bed, "GET", "/containers/json?all=1")
    assert not [c for c in lst if c["Labels"].get("com.docker.compose.project") == "bp"]
    assert http_json(bed, "GET", "/volumes/bp_data")[0] == 404
    assert "bp_default" not in [n["Name"] for n in http_json(bed, "GET", "/networks")[1]]
    assert "busybox:latest" in docker(bed, "images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()


def test_compose_up_foreground_run_logs_follow(api, short_project):
    """up without -d attaches to every service and follows berth-api's event stream until they
    have all exited; run --rm is a one-off container; logs -f ends with the container."""
    bed = api
    proc = compose(bed, short_project, "up", timeout=120)
    lines = proc.stdout.splitlines()
    assert "a_1  | hello-a" in lines and "a_1  | bye-a" in lines and "b_1  | hello-b" in lines, proc.stdout
    assert "bp_a_1 exited with code 0" in lines and "bp_b_1 exited with code 0" in lines, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    proc = compose(bed, short_project, "run", "--rm", "-T", "b", "sh", "-c", "echo in-run; exit 5", check=False)
    assert (proc.returncode, proc.stdout.splitlines()[-1:]) == (5, ["in-run"]), (proc.stdout, proc.stderr)
    assert not [c for c in http_json(bed, "GET", "/containers/json?all=1")[1] if c["Names"][0].startswith("/bp_b_run")]
    proc = compose(bed, short_project, "logs", "-f", "--no-color", "a", timeout=60)
    assert "a_1  | bye-a" in proc.stdout.splitlines(), proc.stdout
