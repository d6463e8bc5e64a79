# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench case "api" (issue #17): berth's Docker Engine API (berth-api on /run/berth/docker.sock,
socket-activated) against podman's Docker-compatible service (`podman system service`, rootful,
on a socket of its own), both driven by the real docker CLI (/usr/local/bin/docker, which
negotiates the API version with each), side by side in the same rounds, tools in a rotating
order.

  run   `docker run --rm IMAGE /bin/true` (hyperfine, 10 runs per tool and round): create, attach,
        wait, start, remove through the API, each tool on its default network, as the issue
        asks.
  ps    `docker ps -a` with 100 created containers in each tool's store (hyperfine, 10 runs per
        tool and round).
"""
import os
import subprocess
import time

DOCKER = "/usr/local/bin/docker"
BERTH_SOCK = "/run/berth/docker.sock"
PODMAN_SOCK = "/run/bench-podman-api.sock"
N_PS = 100


def run_case(h):
    """h: the harness module (A, sh, stats, rotated, record_error, log, settle, IMAGE, PODMAN,
    RESULTS)."""
    out = {}
    if not os.path.exists(DOCKER):
        h.record_error("api", "harness", f"{DOCKER} (the docker CLI) is not installed")
        h.RESULTS["api"] = out
        return
    h.sh(["systemctl", "start", "berth-api.socket"])
    if os.path.exists(PODMAN_SOCK):
        os.unlink(PODMAN_SOCK)
    service = subprocess.Popen(h.PODMAN + ["system", "service", "--time=0", f"unix://{PODMAN_SOCK}"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(PODMAN_SOCK):
            if service.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"podman system service did not come up: {service.stderr.read()[-500:]!r}")
            time.sleep(0.1)
        clis = {"berth": f"{DOCKER} -H unix://{BERTH_SOCK}", "podman": f"{DOCKER} -H unix://{PODMAN_SOCK}"}
        for name, fn in (("run", run), ("ps", ps)):
            h.log(f"api: {name}")
            try:
                out[name] = fn(h, clis)
            except Exception as e:  # noqa: BLE001 — one part must not lose the others
                h.record_error(f"api-{name}", "harness", e)
    finally:
        service.terminate()
        try:
            service.wait(30)
        except subprocess.TimeoutExpired:
            service.kill()
        h.sh(["systemctl", "stop", "berth-api.socket", "berth-api.service"], check=False)
    h.RESULTS["api"] = out


def hyperfine_rounds(h, cmds, ok, rounds, tag):
    import json
    samples = {t: [] for t in cmds}
    for rnd in range(rounds):
        for t in h.rotated(list(cmds), rnd):
            if not ok.get(t):
                continue
            hf = os.path.join(h.A.work, f"hf-api-{tag}-{t}.json")
            h.settle()
            h.sh(["hyperfine", "-N", "--style=none", "--runs", "10",
                  "--warmup", "2" if rnd == 0 else "0", "--export-json", hf, cmds[t]])
            with open(hf) as f:
                samples[t] += json.load(f)["results"][0]["times"]
    return {t: h.stats(s) for t, s in samples.items() if s}


def checked(h, cmds, case):
    """Each command must work before it is timed."""
    ok = {}
    for t, c in cmds.items():
        r = h.sh(["sh", "-c", c], check=False)
        ok[t] = r.returncode == 0
        if not ok[t]:
            h.record_error(case, t, f"`{c}` exit {r.returncode}: {r.stderr[-500:]}")
    return ok


def run(h, clis):
    cmds = {t: f"{cli} run --rm {h.IMAGE} /bin/true" for t, cli in clis.items()}
    ok = checked(h, cmds, "api-run")
    return {"commands": cmds, "tools": hyperfine_rounds(h, cmds, ok, h.A.start_runs // 10, "run")}


def ps(h, clis):
    cmds = {t: f"{cli} ps -a" for t, cli in clis.items()}
    names = [f"bapi{i}" for i in range(N_PS)]
    created = {}
    try:
        for t in clis:
            if t == "berth":
                r = h.sh(["sh", "-c", " && ".join(f"berthctl create --name {n} {h.IMAGE} /bin/true >/dev/null"
                                                  for n in names)], check=False)
            else:
                r = h.sh(["sh", "-c", " && ".join(" ".join(h.PODMAN) + f" create --name {n} {h.IMAGE} /bin/true "
                                                  ">/dev/null" for n in names)], check=False)
            created[t] = r.returncode == 0
            if not created[t]:
                h.record_error("api-ps", t, f"creating {N_PS} containers: exit {r.returncode}: {r.stderr[-500:]}")
        ok = checked(h, cmds, "api-ps")
        for t in cmds:
            if ok.get(t) and created.get(t):
                listed = h.sh(["sh", "-c", cmds[t] + " --format '{{.Names}}'"], check=False).stdout.split()
                if sum(1 for n in listed if n.startswith("bapi")) != N_PS:
                    ok[t] = False
                    h.record_error("api-ps", t, f"`docker ps -a` listed {len(listed)} containers, not {N_PS}+")
            else:
                ok[t] = False
        return {"n": N_PS, "commands": cmds, "tools": hyperfine_rounds(h, cmds, ok, h.A.start_runs // 10, "ps")}
    finally:
        h.sh(["berthctl", "rm", "-f"] + names, check=False)
        h.sh(h.PODMAN + ["rm", "-f", "-t", "0"] + names, check=False)
