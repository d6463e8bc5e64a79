# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench case "network" (issue #16): berth's container networking against podman's (netavark and
aardvark-dns from Debian, rootful), side by side in the same rounds, tools in a rotating order.

  start       `run --rm IMAGE /bin/true` on the default bridge (hyperfine, 10 runs per tool and
              round): berth (bridge berth0) and podman (--network=bridge: its default network
              "podman", bridge podman0), plus berth --network none in the same rounds, so the
              bridge's own cost shows.
  parallel    50 detached `sleep 1000` containers on the default bridge, 10 start commands at a
              time (harness.sh_timed_start, as case 2a), then their removal in one call: berth,
              berth --network none, podman.
  throughput  TCP into a container: a sink in the container (busybox `nc -ll -p 80 -e` running
              `dd of=/dev/null bs=1M` per connection) published with `-p HOSTPORT:80`, fed from the
              testbed by this harness (one Python socket: sendall of 1 MiB buffers, shutdown of
              the write side, read until the sink closes after its EOF; busybox nc as the sender
              tops out near 100 MB/s on its small buffer and would hide what the network costs).
              Paths: (a) straight to the container's address, (b) the published port on the
              testbed's own non-loopback address (192.0.2.1/24 on bench0, a dummy interface added
              here, or a veth pair where the kernel lacks the dummy driver; DNAT in the output chain), (c) the published port on 127.0.0.1.
"""
import concurrent.futures
import json
import os
import re
import socket
import subprocess
import time

BENCH_IF = "bench0"
BENCH_ADDR = "192.0.2.1"
PORTS = {"berth": 18080, "podman": 18081}
SINK_NAME = "bench-net-sink"
SINK = ["nc", "-ll", "-p", "80", "-e", "sh", "-c", "exec dd of=/dev/null bs=1M 2>/dev/null"]
PATHS = ("direct", "host", "loopback")


def run_case(h):
    """h: the harness module (A, sh, stats, rotated, record_error, log, settle, IMAGE, PODMAN,
    RESULTS, sh_timed_start)."""
    # podman picks its network backend once per store; netavark is the one to compare with.
    podman = h.PODMAN + ["--network-backend=netavark"]
    out = {}
    r = h.sh(podman + ["info", "--format", "{{.Host.NetworkBackend}}"], check=False)
    out["podman_network_backend"] = r.stdout.strip() or f"unknown ({r.stderr.strip()[-200:]})"
    for name, fn in (("start", start), ("parallel", parallel), ("throughput", throughput)):
        h.log(f"network: {name}")
        try:
            out[name] = fn(h, podman)
        except Exception as e:  # noqa: BLE001 — one part must not lose the others
            h.record_error(f"network-{name}", "harness", e)
    h.RESULTS["network"] = out


def addresses_of(h, cli, names):
    """The containers' IPv4 addresses on their (first) network, from one `inspect`."""
    docs = json.loads(h.sh(cli + ["inspect"] + names).stdout)
    if not isinstance(docs, list):
        docs = [docs]
    out = []
    for name, doc in zip(names, docs):
        ns = doc.get("NetworkSettings") or {}
        found = [net["IPAddress"] for net in (ns.get("Networks") or {}).values() if net.get("IPAddress")]
        found += [ns["IPAddress"]] if ns.get("IPAddress") else []
        if not found:
            raise RuntimeError(f"{name} has no IPv4 address in inspect's NetworkSettings")
        out.append(found[0])
    if len(out) != len(names):
        raise RuntimeError(f"inspect of {len(names)} containers gave {len(out)}")
    return out


def address_of(h, cli, name):
    return addresses_of(h, cli, [name])[0]


# ------------------------------------------------------------------------------------------
# start on the default bridge

def start(h, podman):
    img = h.IMAGE
    cmds = {"berth": f"berthctl run --rm {img} /bin/true",
            "berth-none": f"berthctl run --rm --network none {img} /bin/true",
            "podman": " ".join(podman) + f" run --rm --network=bridge {img} /bin/true"}
    # Each must work before it is timed, and the bridge ones must really get an address.
    checks = {"berth": f"berthctl run --rm {img} ip -4 addr show dev eth0",
              "podman": " ".join(podman) + f" run --rm --network=bridge {img} ip -4 addr show dev eth0"}
    ok = {}
    addresses = {}
    for t, c in cmds.items():
        r = h.sh(["sh", "-c", c], check=False)
        ok[t] = r.returncode == 0
        if not ok[t]:
            h.record_error("network-start", t, f"`{c}` exit {r.returncode}: {r.stderr}")
            continue
        if t in checks:
            r = h.sh(["sh", "-c", checks[t]], check=False)
            m = re.search(r"inet (\d+\.\d+\.\d+\.\d+/\d+)", r.stdout) if r.returncode == 0 else None
            addresses[t] = m.group(1) if m else None
            if not addresses[t]:
                ok[t] = False
                h.record_error("network-start", t, f"no IPv4 address on eth0: `{checks[t]}` exit "
                               f"{r.returncode}: {r.stdout} {r.stderr}")
    samples = {t: [] for t in cmds}
    for rnd in range(h.A.start_runs // 10):
        for t in h.rotated(list(cmds), rnd):
            if not ok[t]:
                continue
            hf = os.path.join(h.A.work, f"hf-net-{t}.json")
            h.settle()
            h.sh(["hyperfine", "-N", "--style=none", "--runs", "10",
                  "--warmup", "2" if rnd == 0 else "0", "--export-json", hf, cmds[t]])
            with open(hf) as f:
                samples[t] += json.load(f)["results"][0]["times"]
    return {"commands": cmds, "eth0": addresses,
            "tools": {t: h.stats(s) for t, s in samples.items() if s}}


# ------------------------------------------------------------------------------------------
# 50 parallel starts on the default bridge

def par_cmd(h, podman, tool, i):
    name = f"bnet{i}"
    if tool == "berth":
        return ["berthctl", "run", "-d", "--name", name, h.IMAGE, "sleep", "1000"]
    if tool == "berth-none":
        return ["berthctl", "run", "-d", "--network", "none", "--name", name, h.IMAGE, "sleep", "1000"]
    return podman + ["run", "-d", "--network=bridge", "--name", name, h.IMAGE, "sleep", "1000"]


def par_cli(tool, podman):
    return podman if tool == "podman" else ["berthctl"]


def par_remove(h, podman, tool, n, check=True):
    names = [f"bnet{i}" for i in range(n)]
    if tool == "podman":
        return h.sh(podman + ["rm", "-f", "-t", "0"] + names, check=check)
    return h.sh(["berthctl", "rm", "-f"] + names, check=check)


def parallel(h, podman):
    n, width = 50, 10
    tools = ["berth", "berth-none", "podman"]
    start_s = {t: [] for t in tools}
    remove_s = {t: [] for t in tools}
    addresses = {}
    broken = set()
    for rnd in range(h.A.par_rounds):
        for t in h.rotated(tools, rnd):
            if t in broken:
                continue
            h.log(f"network: parallel round {rnd + 1}/{h.A.par_rounds} {t}")
            h.settle()
            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(width) as ex:
                res = list(ex.map(lambda i, t=t: h.sh_timed_start(
                    par_cmd(h, podman, t, i), stdout=subprocess.DEVNULL), range(n)))
            dt = time.monotonic() - t0
            bad = [r for r in res if r.returncode != 0]
            running = len(h.sh(par_cli(t, podman) + ["ps", "-q"]).stdout.split())
            if bad or running != n:
                h.record_error("network-parallel", t, f"{len(bad)} starts failed, {running} running; "
                               f"first error: {bad[0].stderr if bad else ''}")
                broken.add(t)
            else:
                start_s[t].append(dt)
                if t != "berth-none":
                    # every one on the bridge, each with an address of its own
                    try:
                        got = set(addresses_of(h, par_cli(t, podman), [f"bnet{i}" for i in range(n)]))
                        addresses[t] = len(got)
                    except Exception as e:  # noqa: BLE001
                        h.record_error("network-parallel", t, f"addresses: {e}")
            t0 = time.monotonic()
            r = par_remove(h, podman, t, n, check=False)
            if r.returncode == 0:
                remove_s[t].append(time.monotonic() - t0)
            else:
                h.record_error("network-parallel-rm", t, r.stderr)
                broken.add(t)
                for i in range(n):
                    h.sh(par_cli(t, podman) + ["rm", "-f", f"bnet{i}"], check=False)
    return {"n": n, "width": width, "distinct_addresses": addresses,
            "start": {t: h.stats(s) for t, s in start_s.items() if s},
            "remove": {t: h.stats(s) for t, s in remove_s.items() if s}}


# ------------------------------------------------------------------------------------------
# TCP throughput through a published port

def send(addr, port, mib, timeout=120):
    """Seconds to push mib MiB to addr:port until the sink has read them all (it closes after
    EOF)."""
    buf = bytes(1 << 20)
    with socket.create_connection((addr, port), timeout=10) as s:
        s.settimeout(timeout)
        t0 = time.monotonic()
        for _ in range(mib):
            s.sendall(buf)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
        return time.monotonic() - t0


def wait_listening(addr, port, limit=15.0):
    end = time.monotonic() + limit
    while True:
        try:
            send(addr, port, 0, timeout=5)
            return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def throughput(h, podman):
    # ~0.5 s per run at this testbed's 2 GB/s (256 MiB took 0.15 s and scattered by ±30%)
    mib = 1024 if h.A.quick else 4096
    rounds = 5
    made_if = False
    if h.sh(["ip", "link", "show", BENCH_IF], check=False).returncode != 0:
        # A dummy interface, or where the kernel has no dummy driver (these VMs) a veth pair
        # with both ends in the testbed: either way an address of the testbed's own that is
        # not loopback; traffic to it is local (fib daddr type local), as to any host address.
        if h.sh(["ip", "link", "add", BENCH_IF, "type", "dummy"], check=False).returncode != 0:
            h.sh(["ip", "link", "add", BENCH_IF, "type", "veth", "peer", "name", BENCH_IF + "p"])
            h.sh(["ip", "link", "set", BENCH_IF + "p", "up"])
        made_if = True
        h.sh(["ip", "addr", "add", f"{BENCH_ADDR}/24", "dev", BENCH_IF])
        h.sh(["ip", "link", "set", BENCH_IF, "up"])
    iface = h.sh(["ip", "-d", "-o", "link", "show", BENCH_IF]).stdout
    clis = {"berth": ["berthctl"], "podman": podman}
    runs = {"berth": ["berthctl", "run", "-d", "--name", SINK_NAME, "-p", f"{PORTS['berth']}:80"],
            "podman": podman + ["run", "-d", "--network=bridge", "--name", SINK_NAME,
                                "-p", f"{PORTS['podman']}:80"]}
    targets = {}
    commands = {}
    try:
        for t, run in runs.items():
            h.sh(clis[t] + ["rm", "-f", SINK_NAME], check=False)
            commands[t] = " ".join(run + [h.IMAGE] + [f"'{a}'" if " " in a else a for a in SINK])
            try:
                h.sh(run + [h.IMAGE] + SINK)
                ip = address_of(h, clis[t], SINK_NAME)
                wait_listening(ip, 80)
            except Exception as e:  # noqa: BLE001
                h.record_error("network-throughput", t, e)
                continue
            for path, (addr, port) in (("direct", (ip, 80)), ("host", (BENCH_ADDR, PORTS[t])),
                                       ("loopback", ("127.0.0.1", PORTS[t]))):
                try:  # each path must carry data before it is timed
                    send(addr, port, 1, timeout=10)
                    targets[(t, path)] = (addr, port)
                except OSError as e:
                    h.record_error("network-throughput", t,
                                   f"{path} ({addr}:{port}) carries nothing: {e!r}")
        samples = {k: [] for k in targets}
        for rnd in range(rounds):
            for k in h.rotated(sorted(targets), rnd):
                h.settle()
                try:
                    dt = send(*targets[k], mib)
                    samples[k].append(mib * (1 << 20) / 1e6 / dt)
                except OSError as e:
                    h.record_error("network-throughput", k[0], f"{k[1]}: {e!r}")
    finally:
        for t in runs:
            h.sh(clis[t] + ["rm", "-f", SINK_NAME], check=False)
        if made_if:
            h.sh(["ip", "link", "del", BENCH_IF], check=False)
    return {"mib": mib, "unit": "MB/s", "commands": commands,
            "interface": "veth" if " veth " in iface else "dummy" if " dummy " in iface else iface.strip(),
            "addresses": {f"{t} {p}": f"{a}:{port}" for (t, p), (a, port) in targets.items()},
            "tools": {t: {p: h.stats(samples[(t, p)]) for p in PATHS if samples.get((t, p))}
                      for t in runs}}
