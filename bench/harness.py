#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""berth benchmark harness: runs inside the testbed (bench/run starts it there).

Every case runs each tool in rounds, the tools in a rotating order within a round, so that
noise (page cache, journald compaction, other load) hits all of them alike. Writes
OUT/latest.json (all samples) and OUT/latest.md (the table with ratios and targets).
"""

import argparse
import concurrent.futures
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PODMAN = ["podman", "--cgroup-manager=systemd", "--events-backend=file"]
NSPAWN = ["systemd-nspawn", "-q", "--read-only", "--timezone=off", "--resolv-conf=off",
          "--console=pipe"]
IMAGE = "benchbox"
TOOLS = ["berth", "podman", "crun", "nspawn", "floor"]
TERM_PAYLOAD = ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]

A = None          # parsed arguments
RESULTS = {}      # case -> {...}
ERRORS = []       # human-readable peer/berth failures
LAST_CASE_END = None  # time.monotonic() when the previous case ended (see case_import)
CLEANUPS = []         # commands run after the last case (see case_import)


def log(msg):
    print(f"harness: {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def sh(cmd, check=True, timeout=600, **kw):
    """Run cmd (list), return CompletedProcess with text output."""
    r = subprocess.run(cmd, stdout=kw.pop("stdout", subprocess.PIPE),
                       stderr=kw.pop("stderr", subprocess.PIPE), text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): "
                           f"{(r.stderr or '').strip()[-500:]}")
    return r


@contextlib.contextmanager
def killed_after(p, limit):
    """A timer that kills p after limit seconds, in place of subprocess's own timeouts: its
    wait(timeout) polls with sleeps that double up to 50 ms, so a command that takes 50 ms is
    seen to end at 63.5 ms, and whichever tool is waited for that way looks slower than it is.
    Inside, wait without a timeout (in waitpid())."""
    timer = threading.Timer(limit, p.kill)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def wait_precisely(p, limit):
    with killed_after(p, limit):
        return p.wait()


def sh_timed_start(cmd, limit=600, **kw):
    """sh(cmd, check=False) for a command whose duration is measured: waited for precisely."""
    with subprocess.Popen(cmd, stdout=kw.pop("stdout", subprocess.PIPE),
                          stderr=kw.pop("stderr", subprocess.PIPE), text=True,
                          stdin=subprocess.DEVNULL, **kw) as p, killed_after(p, limit):
        out, err = p.communicate()  # no timeout: selectors on the pipes, then waitpid()
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def machine_ticks():
    """The machine's CPU time so far, in clock ticks (/proc/stat): (busy, all). Busy is all but
    idle and iowait."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


def cpu_busy_fraction(window=0.2):
    """The share of the machine's CPU time that was busy over the next window seconds."""
    b0, t0 = machine_ticks()
    time.sleep(window)
    b1, t1 = machine_ticks()
    return (b1 - b0) / max(1, t1 - t0)


def settle(limit=10.0):
    """Wait until the machine is idle (under 10% busy over 200 ms), at most limit seconds. A tool's
    removal returns before the kernel and systemd are done with it (scopes stopping, network
    namespaces freed: about 100 ms of CPU after 50 containers); without this, whichever tool runs
    next pays for that."""
    end = time.monotonic() + limit
    while cpu_busy_fraction() > 0.1 and time.monotonic() < end:
        pass


def timed(cmd, **kw):
    t0 = time.monotonic()
    sh(cmd, **kw)
    return time.monotonic() - t0


def stats(samples):
    if not samples:
        return None
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "runs": len(samples), "samples": samples}


def rotated(items, k):
    k %= len(items)
    return items[k:] + items[:k]


def record_error(case, tool, err):
    msg = f"{case}/{tool}: {str(err).strip()[:400]}"
    log("ERROR " + msg)
    ERRORS.append({"case": case, "tool": tool, "error": str(err).strip()[:2000]})


# ------------------------------------------------------------------------------------------
# preparation: the same rootfs for every tool

def bundle(name, args, readonly=True):
    """An OCI bundle for crun around the shared rootfs, running args."""
    d = os.path.join(A.work, "bundles", name)
    os.makedirs(d, exist_ok=True)
    if not os.path.exists(os.path.join(A.work, "bundles", "spec.json")):
        sh(["crun", "spec"], cwd=os.path.join(A.work, "bundles"))
        os.rename(os.path.join(A.work, "bundles", "config.json"),
                  os.path.join(A.work, "bundles", "spec.json"))
    with open(os.path.join(A.work, "bundles", "spec.json")) as f:
        spec = json.load(f)
    spec["process"]["terminal"] = False
    spec["process"]["args"] = args
    spec["root"] = {"path": os.path.join(A.work, "rootfs"), "readonly": readonly}
    spec["hostname"] = name
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(spec, f, indent=1)
    return d


def prepare():
    log("importing the busybox image into berth and podman")
    tar = os.path.join(A.work, "busybox.tar")
    sh(["berthctl", "import", tar, IMAGE])
    sh(PODMAN + ["import", tar, IMAGE])
    for name, args in (("true", ["/bin/true"]), ("sleep", ["sleep", "1000"]),
                       ("term", TERM_PAYLOAD), ("log", ["seq", "1", str(A.lines)])):
        bundle(name, args)


def versions():
    v = {}
    for tool, cmd in (("berth", ["berthctl", "--version"]), ("podman", ["podman", "--version"]),
                      ("crun", ["crun", "--version"]), ("systemd", ["systemctl", "--version"]),
                      ("hyperfine", ["hyperfine", "--version"])):
        try:
            v[tool] = sh(cmd, check=False).stdout.strip().splitlines()[0]
        except Exception as e:  # noqa: BLE001 — a version string is informational
            v[tool] = f"unknown ({e})"
    return v


# ------------------------------------------------------------------------------------------
# case 1: start latency (hyperfine)

def case_start():
    rootfs = os.path.join(A.work, "rootfs")
    cmds = {
        "berth": f"berthctl run --rm --network none {IMAGE} /bin/true",
        "podman": " ".join(PODMAN) + f" run --rm --network=none {IMAGE} /bin/true",
        "crun": f"crun run --bundle {os.path.join(A.work, 'bundles', 'true')} bench-true",
        # Informational: crun with a transient systemd scope per container, as berth has.
        "crun-systemd": f"crun --systemd-cgroup run --bundle {os.path.join(A.work, 'bundles', 'true')} "
                        "bench-true-sd",
        "nspawn": " ".join(NSPAWN) + f" -D {rootfs} /bin/true",
        "floor": "systemd-run --scope -q /bin/true",
    }
    samples = {t: [] for t in cmds}
    ok = {}
    # Every command must work before it is timed; a failing peer is recorded, not dropped.
    for t, c in cmds.items():
        r = sh(["sh", "-c", c], check=False)
        ok[t] = r.returncode == 0
        if not ok[t]:
            record_error("start", t, f"`{c}` exit {r.returncode}: {r.stderr}")
    rounds = A.start_runs // 10
    for rnd in range(rounds):
        for t in rotated(list(cmds), rnd):
            if not ok[t]:
                continue
            out = os.path.join(A.work, f"hf-{t}.json")
            settle()
            sh(["hyperfine", "-N", "--style=none", "--runs", "10",
                "--warmup", "2" if rnd == 0 else "0", "--export-json", out, cmds[t]])
            with open(out) as f:
                samples[t] += json.load(f)["results"][0]["times"]
    RESULTS["start"] = {"commands": cmds,
                        "tools": {t: stats(s) for t, s in samples.items() if s}}


# ------------------------------------------------------------------------------------------
# cases 2 and 3: 50 parallel starts, memory with 50 running, removal of 50

def proc_info(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            comm = f.read().strip()
        rss = 0
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
        priv = 0
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    priv += int(line.split()[1]) * 1024
        cg = ""
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                _, ctrl, path = line.rstrip("\n").split(":", 2)
                if ctrl == "name=systemd" or (ctrl == "" and not cg):
                    cg = path
        return {"pid": pid, "comm": comm, "rss": rss, "private": priv, "cgroup": cg}
    except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
        return None


def all_pids():
    return {int(p) for p in os.listdir("/proc") if p.isdigit()}


def pid_of(comm):
    for p in all_pids():
        i = proc_info(p)
        if i and i["comm"] == comm:
            return i
    return None


def container_scope_re(tool):
    return {"berth": r"/berth-[0-9a-f]{12}\.scope",
            "podman": r"/libpod-[0-9a-f]{64}\.scope",
            "nspawn": r"/bench-nspawn-par-[^/]*\.service",
            "crun": r"/bench-par-",
            "crun-systemd": r"/crun-bench-sdpar-[^/]*\.scope",
            "floor": r"/bench-floor-par-"}[tool]


def crun_par(tool):
    """crun's command and the id prefix of its parallel containers: plain, or with a systemd
    scope per container."""
    if tool == "crun":
        return ["crun"], "bench-par-"
    return ["crun", "--systemd-cgroup"], "bench-sdpar-"


def par_start_cmd(tool, i, rnd):
    name = f"bpar{i}"
    if tool == "berth":
        return ["berthctl", "run", "-d", "--network", "none", "--name", name, IMAGE, "sleep", "1000"]
    if tool == "podman":
        return PODMAN + ["run", "-d", "--network=none", "--name", name, IMAGE, "sleep", "1000"]
    if tool in ("crun", "crun-systemd"):
        crun, prefix = crun_par(tool)
        return crun + ["run", "-d", "--bundle", os.path.join(A.work, "bundles", "sleep"),
                       f"{prefix}{i}"]
    if tool == "nspawn":
        # Type=notify: systemd-run returns once nspawn reported READY=1 (container started).
        # --keep-unit (as systemd-nspawn@.service): the container stays in the service, so
        # stopping it stops the payload too. Without it the payload lives on in a machine-*.scope
        # of its own after its supervisor is killed: 50 containers left running per round.
        return ["systemd-run", "-q", "--collect", f"--unit=bench-nspawn-par-{rnd}-{i}",
                "-p", "Type=notify", "-p", "KillSignal=SIGKILL"] + NSPAWN + \
               ["--keep-unit", f"--machine=bnsp{rnd}x{i}", "-D", os.path.join(A.work, "rootfs"),
                "sleep", "1000"]
    raise ValueError(tool)


def par_remove(tool, n, rnd):
    if tool == "berth":
        sh(["berthctl", "rm", "-f"] + [f"bpar{i}" for i in range(n)])
    elif tool == "podman":
        sh(PODMAN + ["rm", "-f", "-t", "0"] + [f"bpar{i}" for i in range(n)])
    elif tool in ("crun", "crun-systemd"):
        crun, prefix = crun_par(tool)
        for i in range(n):
            sh(crun + ["delete", "-f", f"{prefix}{i}"])
    elif tool == "nspawn":
        sh(["systemctl", "stop"] + [f"bench-nspawn-par-{rnd}-{i}.service" for i in range(n)])


def running_count(tool):
    if tool == "berth":
        return len(sh(["berthctl", "ps", "-q"]).stdout.split())
    if tool == "podman":
        return len(sh(PODMAN + ["ps", "-q"]).stdout.split())
    if tool in ("crun", "crun-systemd"):
        prefix = crun_par(tool)[1]
        return sum(1 for c in json.loads(sh(["crun", "list", "-f", "json"]).stdout or "[]")
                   if c.get("status") == "running" and c["id"].startswith(prefix))
    if tool == "nspawn":
        out = sh(["machinectl", "list", "--no-legend"], check=False).stdout
        return sum(1 for line in out.splitlines() if line.split() and
                   line.split()[0].startswith("bnsp"))
    return 0


def memory_snapshot(tool, baseline, berthd0):
    """Every process that is not a payload (sleep) and is new since baseline, plus berthd."""
    procs = []
    for p in all_pids() - baseline:
        i = proc_info(p)
        if i is None or i["comm"] == "sleep":
            continue
        procs.append(i)
    scope = re.compile(container_scope_re(tool))
    groups = {}
    for i in procs:
        inscope = bool(scope.search(i["cgroup"]))
        key = (i["comm"], inscope)
        g = groups.setdefault(key, {"comm": i["comm"], "in_container_scope": inscope,
                                    "count": 0, "rss": 0, "private": 0})
        g["count"] += 1
        g["rss"] += i["rss"]
        g["private"] += i["private"]
    snap = {"new_processes": sorted(groups.values(), key=lambda g: -g["rss"])}
    if tool == "berth":
        b = pid_of("berthd")
        snap["berthd_rss_0"] = berthd0["rss"] if berthd0 else None
        snap["berthd_private_0"] = berthd0["private"] if berthd0 else None
        snap["berthd_rss_50"] = b["rss"] if b else None
        snap["berthd_private_50"] = b["private"] if b else None
    return snap


# The long-running processes a start may go through, by comm (as the kernel truncates it).
SYSTEM_DAEMONS = {"systemd": "PID 1", "dbus-daemon": "dbus-daemon", "systemd-machine": "machined",
                  "systemd-journal": "journald", "berthd": "berthd"}


def cpu_snapshot():
    """CPU time so far, in seconds: the whole machine's busy time (/proc/stat), this harness
    itself and the commands it started and reaped (getrusage: berthctl, crun, podman, ...), and
    each process in SYSTEM_DAEMONS (the sum of its threads' schedstat, in ns). A difference of
    two snapshots tells where a case's CPU time went."""
    snap = {"machine": machine_ticks()[0] / os.sysconf("SC_CLK_TCK")}
    for who, key in ((resource.RUSAGE_SELF, "harness"), (resource.RUSAGE_CHILDREN, "cli")):
        ru = resource.getrusage(who)
        snap[key] = ru.ru_utime + ru.ru_stime
    daemons = {}
    for p in all_pids():
        try:
            with open(f"/proc/{p}/comm") as f:
                comm = f.read().strip()
            if comm not in SYSTEM_DAEMONS or (comm == "systemd" and p != 1):
                continue  # a user's systemd is not PID 1
            ns = 0
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/schedstat") as f:
                    ns += int(f.read().split()[0])
        except (OSError, ValueError):
            continue
        daemons[p] = (SYSTEM_DAEMONS[comm], ns / 1e9)
    snap["daemons"] = daemons
    return snap


def cpu_spent(before, after):
    """Seconds of CPU by part between two snapshots; "rest" is what no part accounts for (the
    runtimes and supervisors that outlive their command, the payloads, kernel threads)."""
    out = {k: after[k] - before[k] for k in ("machine", "harness", "cli")}
    for pid, (name, t) in after["daemons"].items():
        t0 = before["daemons"].get(pid, (name, 0.0))[1]  # started meanwhile: all of it
        out[name] = out.get(name, 0.0) + t - t0
    out["rest"] = out["machine"] - sum(v for k, v in out.items() if k != "machine")
    return out


def case_parallel():
    n, width = 50, 10
    tools = ["berth", "podman", "crun", "crun-systemd", "nspawn"]
    start = {t: [] for t in tools}
    remove = {t: [] for t in tools}
    mem = {t: [] for t in tools}
    cpu = {t: [] for t in tools}
    broken = set()
    for rnd in range(A.par_rounds):
        for t in rotated(tools, rnd):
            if t in broken:
                continue
            log(f"parallel: round {rnd + 1}/{A.par_rounds} {t}")
            berthd0 = pid_of("berthd") if t == "berth" else None
            baseline = all_pids()
            settle()
            cpu0 = cpu_snapshot()
            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(width) as ex:
                # Output is not needed, only errors: one pipe read to its end by the thread,
                # not two through a selector loop (ten Python threads share one GIL). crun -d
                # leaves the payload holding its stdio: never hand it a pipe at all.
                quiet = {"stdout": subprocess.DEVNULL,
                         "stderr": subprocess.DEVNULL if t.startswith("crun") else subprocess.PIPE}
                res = list(ex.map(lambda i, t=t, q=quiet: sh_timed_start(par_start_cmd(t, i, rnd),
                                                                         **q), range(n)))
            dt = time.monotonic() - t0
            spent = cpu_spent(cpu0, cpu_snapshot())
            bad = [r for r in res if r.returncode != 0]
            running = running_count(t)
            if bad or running != n:
                record_error("parallel", t, f"{len(bad)} starts failed, {running} running; "
                             f"first error: {bad[0].stderr if bad else ''}")
                broken.add(t)
            else:
                start[t].append(dt)
                cpu[t].append({k: v / n for k, v in spent.items()})
                time.sleep(0.5)  # let the helpers settle before measuring memory
                mem[t].append(memory_snapshot(t, baseline, berthd0))
            try:
                remove[t].append(timed_remove(t, n, rnd))
            except Exception as e:  # noqa: BLE001
                record_error("parallel-rm", t, e)
                broken.add(t)
                cleanup_parallel(t, n, rnd)
    RESULTS["parallel"] = {"n": n, "width": width,
                           "start": {t: stats(s) for t, s in start.items() if s},
                           "remove": {t: stats(s) for t, s in remove.items() if s},
                           "cpu_per_container": {t: {k: stats([r.get(k, 0.0) for r in rs])
                                                     for k in sorted(set().union(*rs))}
                                                 for t, rs in cpu.items() if rs}}
    RESULTS["memory"] = summarize_memory(mem, n)


def timed_remove(tool, n, rnd):
    t0 = time.monotonic()
    par_remove(tool, n, rnd)
    return time.monotonic() - t0


def cleanup_parallel(tool, n, rnd):
    for i in range(n):
        if tool == "berth":
            sh(["berthctl", "rm", "-f", f"bpar{i}"], check=False)
        elif tool == "podman":
            sh(PODMAN + ["rm", "-f", "-t", "0", f"bpar{i}"], check=False)
        elif tool in ("crun", "crun-systemd"):
            crun, prefix = crun_par(tool)
            sh(crun + ["delete", "-f", f"{prefix}{i}"], check=False)
        elif tool == "nspawn":
            sh(["systemctl", "stop", f"bench-nspawn-par-{rnd}-{i}.service"], check=False)


def summarize_memory(mem, n):
    out = {}
    for t, snaps in mem.items():
        if not snaps:
            continue
        per = {"rss_in_scope": [], "private_in_scope": [], "rss_outside": [],
               "private_outside": []}
        for s in snaps:
            tot = {k: 0 for k in per}
            for g in s["new_processes"]:
                where = "in_scope" if g["in_container_scope"] else "outside"
                tot["rss_" + where] += g["rss"]
                tot["private_" + where] += g["private"]
            if t == "berth" and s.get("berthd_rss_50") is not None:
                # berthd is not new: its growth with 50 containers is what it costs per container
                tot["rss_outside"] += max(0, s["berthd_rss_50"] - s["berthd_rss_0"])
                tot["private_outside"] += max(0, s["berthd_private_50"] - s["berthd_private_0"])
            for k in per:
                per[k].append(tot[k] / n)
        out[t] = {"per_container": {k: stats(v) for k, v in per.items()},
                  "snapshots": snaps}
    return out


# ------------------------------------------------------------------------------------------
# case 4: log throughput

def journal_lines(match, last_only=False):
    cmd = ["journalctl", "-q", "-o", "cat", "--no-pager"] + match
    if last_only:
        cmd += ["-n", "1"]
    return sh(cmd, check=False).stdout


def log_run(tool, tag):
    """Start the flood, wait for the last line; return (wall seconds or None, lines)."""
    n = A.lines
    last = str(n)
    ident = f"bench-{tag}"
    if tool == "berth":
        start = ["berthctl", "run", "-d", "--network", "none", "--name", ident, IMAGE, "seq", "1", last]

        def read(last_only):
            if last_only:
                return sh(["berthctl", "logs", "--tail", "1", ident], check=False).stdout
            return sh(["berthctl", "logs", ident], check=False).stdout
        cleanup = [["berthctl", "rm", "-f", ident]]
    else:
        if tool == "podman":
            start = PODMAN + ["run", "-d", "--network=none", "--log-driver=journald",
                              "--name", ident, IMAGE, "seq", "1", last]
            match = [f"CONTAINER_NAME={ident}"]
            cleanup = [PODMAN + ["rm", "-f", "-t", "0", ident]]
        else:
            unit = f"{ident}.service"
            run = ["systemd-run", "-q", "--collect", f"--unit={unit}",
                   "-p", f"SyslogIdentifier={ident}"]
            if tool == "crun":
                start = run + ["crun", "run", "--bundle",
                               os.path.join(A.work, "bundles", "log"), ident]
            elif tool == "nspawn":
                start = run + NSPAWN + ["-D", os.path.join(A.work, "rootfs"), "seq", "1", last]
            else:  # floor
                start = run + ["sh", "-c", f"busybox seq 1 {last} | systemd-cat -t {ident}"]
            match = [f"SYSLOG_IDENTIFIER={ident}"]
            cleanup = [["systemctl", "stop", unit]]

        def read(last_only, match=match):
            return journal_lines(match, last_only)

    since = time.time()
    t0 = time.monotonic()
    sh(start)
    wall = None
    deadline = t0 + A.log_timeout
    prev, stable = -1, 0
    while time.monotonic() < deadline:
        out = read(True).strip().splitlines()
        if out and out[-1].strip() == last:
            wall = time.monotonic() - t0
            break
        time.sleep(0.05)
        # The last line may never come (rate limit): stop once the count stays still for 3 s.
        if time.monotonic() - t0 > 2 and int((time.monotonic() - t0) * 20) % 20 == 0:
            cnt = len(read(False).splitlines())
            stable = stable + 1 if cnt == prev else 0
            prev = cnt
            if stable >= 3:
                break
    lines = read(False).splitlines()
    entries = len(lines)
    # Lines are the numbers 1..n: count each once (podman's journald driver may store some
    # twice), and only those of the generator.
    got = len({x.strip() for x in lines if x.strip().isdigit()})
    # berth reports what it dropped in the container's log, on stderr (docs/LOGGING.md).
    reported = berth_reported_drops(ident) if tool == "berth" else 0
    for c in cleanup:
        sh(c, check=False)
    suppressed = journald_suppressed(since)
    return {"wall": wall, "lines": got, "entries": entries, "lost": n - got, "reported": reported,
            "journald_suppressed": suppressed,
            "last_line_seen": wall is not None}


DROP_REPORT = re.compile(r"^berth: (\d+) lines? dropped \(", re.M)


def berth_reported_drops(ident):
    """The lines berth's supervisor reported as dropped ("berth: N lines dropped (...)")."""
    err = sh(["berthctl", "logs", ident], check=False).stderr
    return sum(int(m.group(1)) for m in DROP_REPORT.finditer(err))


def journald_suppressed(since):
    out = sh(["journalctl", "-q", "-o", "cat", "--no-pager", "-u", "systemd-journald.service",
              f"--since=@{since:.0f}"], check=False).stdout
    total = 0
    msgs = []
    for line in out.splitlines():
        m = re.search(r"Suppressed (\d+) messages from (\S+)", line)
        if m:
            total += int(m.group(1))
            msgs.append(line.strip())
    return {"total": total, "messages": msgs[:10]}


def set_ratelimit(raised):
    d = "/run/systemd/journald.conf.d"
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "zz-berth-bench.conf")
    if raised:
        with open(p, "w") as f:
            f.write("[Journal]\nRateLimitBurst=0\nRateLimitIntervalSec=0\n")
    elif os.path.exists(p):
        os.unlink(p)
    sh(["systemctl", "restart", "systemd-journald.service"])
    time.sleep(0.5)


def case_logs():
    out = {"lines": A.lines}
    tools = TOOLS
    for mode in ("raised", "default"):
        set_ratelimit(mode == "raised")
        res = {t: [] for t in tools}
        for rnd in range(A.log_rounds):
            for t in rotated(tools, rnd):
                log(f"logs: {mode} limit, round {rnd + 1}/{A.log_rounds} {t}")
                try:
                    res[t].append(log_run(t, f"log-{mode}-{rnd}-{t}"))
                except Exception as e:  # noqa: BLE001
                    record_error(f"logs-{mode}", t, e)
                # Journal files of a flood are big; rotate and vacuum so the next run starts
                # from comparable journal state.
                sh(["journalctl", "--rotate"], check=False)
                sh(["journalctl", "--vacuum-files=1"], check=False)
        out[mode] = {}
        for t, runs in res.items():
            if not runs:
                continue
            walls = [r["wall"] for r in runs if r["wall"] is not None]
            out[mode][t] = {"wall": stats(walls), "lines": stats([r["lines"] for r in runs]),
                            "runs": runs}
    set_ratelimit(False)
    RESULTS["logs"] = out


# ------------------------------------------------------------------------------------------
# case 5: image import

def case_import():
    base = A.minbase
    size = os.path.getsize(base)
    stage = os.path.join(A.work, "import")
    os.makedirs(stage, exist_ok=True)
    tools = ["berth", "podman", "tar"]
    res = {t: [] for t in tools}
    # ext4 without a journal (as on these VMs) passes over every inode freed in the last minute
    # (five, while its inode table block is dirty) when it allocates one (recently_deleted() in
    # fs/ext4/ialloc.c): right after a mass deletion, extracting 10,000 files is quadratic (tar
    # -x of this tarball: 0.3 s, or 4.5 s after the previous tree was removed). So nothing is
    # deleted until the whole run is done, and a case that ran before this one gets its minute.
    if LAST_CASE_END is not None:
        wait = LAST_CASE_END + 61 - time.monotonic()
        if wait > 0:
            log(f"import: waiting {wait:.0f} s for the inodes freed by the last case to age")
            time.sleep(wait)
    # The tarball sits on a tmpfs: in the page cache it is not safe from this VM's proactive
    # reclaim (kdamond).
    src = tempfile.mkdtemp(prefix="berth-bench-import-", dir="/dev/shm")
    try:
        import_rounds(base, stage, src, tools, res)
    finally:
        shutil.rmtree(src, ignore_errors=True)
    # Removed at the very end: 1 GB of freed inodes would slow every case after this one
    # (berth's and podman's, which make files; not crun's).
    for rnd in range(A.import_rounds):
        CLEANUPS.append(["berthctl", "rmi", "-f", f"minbase:r{rnd}"])
        CLEANUPS.append(PODMAN + ["rmi", "-f", f"minbase:r{rnd}"])
    CLEANUPS.append(["rm", "-rf", stage])
    RESULTS["import"] = {"tarball_bytes": size,
                         "tools": {t: stats(s) for t, s in res.items() if s}}


def import_rounds(base, stage, src, tools, res):
    for rnd in range(A.import_rounds):
        # A distinct tarball per round (one extra file appended), the same for all tools:
        # berth shares layers by tarball digest and would skip the extraction otherwise.
        tar = os.path.join(src, f"minbase-{rnd}.tar")
        shutil.copyfile(base, tar)
        nonce = os.path.join(src, f"nonce-{rnd}")
        with open(nonce, "w") as f:
            f.write(f"{time.time()} {rnd}\n")
        sh(["tar", "-rf", tar, "-C", src, f"nonce-{rnd}"])
        for t in rotated(tools, rnd):
            log(f"import: round {rnd + 1}/{A.import_rounds} {t}")
            sh(["sync"])
            try:
                if t == "berth":
                    res[t].append(timed(["berthctl", "import", tar, f"minbase:r{rnd}"]))
                elif t == "podman":
                    res[t].append(timed(PODMAN + ["import", "-q", tar, f"minbase:r{rnd}"]))
                else:
                    d = tempfile.mkdtemp(dir=stage)
                    res[t].append(timed(["tar", "-xf", tar, "-C", d]))
            except Exception as e:  # noqa: BLE001
                record_error("import", t, e)
        os.unlink(tar)


# ------------------------------------------------------------------------------------------
# case 7: create from a small and from a large image (constant time: no copying of the image)

def case_create():
    big = "benchbig"
    sh(["berthctl", "import", A.minbase, big])
    sh(PODMAN + ["import", "-q", A.minbase, big])
    images = {"small": IMAGE, "large": big}
    cmds = {}
    for size, img in images.items():
        cmds[("berth", size)] = (f"berthctl create --name bench-create {img} /bin/true",
                                 "berthctl rm -f bench-create")
        cmds[("podman", size)] = (" ".join(PODMAN) + f" create --name bench-create {img} /bin/true",
                                  " ".join(PODMAN) + " rm -f bench-create")
    samples = {k: [] for k in cmds}
    runs = 10 if A.quick else 30
    for rnd in range(runs // 10):
        for k in rotated(list(cmds), rnd):
            create, remove = cmds[k]
            out = os.path.join(A.work, "hf-create.json")
            try:
                sh(["sh", "-c", remove], check=False)
                sh(["hyperfine", "-N", "--style=none", "--runs", "10",
                    "--prepare", f"sh -c '{remove} >/dev/null 2>&1 || true'", "--export-json", out, create])
                sh(["sh", "-c", remove], check=False)
                with open(out) as f:
                    samples[k] += json.load(f)["results"][0]["times"]
            except Exception as e:  # noqa: BLE001
                record_error("create", f"{k[0]} ({k[1]})", e)
    sh(["berthctl", "rmi", big], check=False)
    sh(PODMAN + ["rmi", "-f", big], check=False)
    try:
        create_on_btrfs(images, samples, runs)
    except Exception as e:  # noqa: BLE001
        record_error("create", "berth-btrfs", e)
    RESULTS["create"] = {"image_bytes": {"small": os.path.getsize(os.path.join(A.work, "busybox.tar")),
                                         "large": os.path.getsize(A.minbase)},
                         "tools": {f"{t} ({size})": stats(v) for (t, size), v in samples.items() if v}}


BTRFS_STATE = "/var/lib/berth-bench-btrfs"
BTRFS_DROPIN = "/run/systemd/system/berthd.service.d/bench-btrfs.conf"


def create_on_btrfs(images, samples, runs):
    """The same creates with berthd's btrfs driver: berthd restarted on a state directory on a
    fresh loop-mounted btrfs (BERTH_STATE_DIR), then back to its own."""
    img = os.path.join(A.work, "btrfs.img")
    sh(["truncate", "-s", "4G", img])
    sh(["mkfs.btrfs", "-q", img])
    os.makedirs(BTRFS_STATE, exist_ok=True)
    sh(["mount", "-o", "loop", img, BTRFS_STATE])
    os.makedirs(os.path.dirname(BTRFS_DROPIN), exist_ok=True)
    try:
        with open(BTRFS_DROPIN, "w") as f:
            f.write(f"[Service]\nEnvironment=BERTH_STATE_DIR={BTRFS_STATE}\n")
        sh(["systemctl", "daemon-reload"])
        sh(["systemctl", "restart", "berthd.service"])
        if sh(["busctl", "get-property", "org.berth1", "/org/berth1", "org.berth1.Manager",
               "StorageDriver"]).stdout.split()[-1] != '"btrfs"':
            raise RuntimeError("berthd did not pick its btrfs driver")
        sh(["berthctl", "import", os.path.join(A.work, "busybox.tar"), images["small"]])
        sh(["berthctl", "import", A.minbase, images["large"]])
        for size, image in images.items():
            samples[("berth-btrfs", size)] = []
        for rnd in range(runs // 10):
            for size in rotated(list(images), rnd):
                create = f"berthctl create --name bench-create {images[size]} /bin/true"
                remove = "berthctl rm -f bench-create"
                out = os.path.join(A.work, "hf-create.json")
                sh(["hyperfine", "-N", "--style=none", "--runs", "10",
                    "--prepare", f"sh -c '{remove} >/dev/null 2>&1 || true'", "--export-json", out, create])
                sh(["sh", "-c", remove], check=False)
                with open(out) as f:
                    samples[("berth-btrfs", size)] += json.load(f)["results"][0]["times"]
    finally:
        if os.path.exists(BTRFS_DROPIN):
            os.unlink(BTRFS_DROPIN)
        sh(["systemctl", "daemon-reload"], check=False)
        sh(["systemctl", "stop", "berthd.service"], check=False)
        sh(["umount", BTRFS_STATE], check=False)
        sh(["systemctl", "start", "berthd.service"], check=False)
        os.unlink(img)


# ------------------------------------------------------------------------------------------
# case 6: stop latency

def wait_running(tool, ident, proc=None):
    for _ in range(100):
        if tool == "crun":
            r = sh(["crun", "state", ident], check=False)
            if r.returncode == 0 and json.loads(r.stdout).get("status") == "running":
                break
        elif tool == "nspawn":
            if sh(["machinectl", "show", ident], check=False).returncode == 0:
                break
        else:
            break
        time.sleep(0.02)
    # The payload must have installed its SIGTERM trap before we stop it.
    time.sleep(0.3)


def stop_once(tool, k):
    ident = f"bstop{k}"
    rootfs = os.path.join(A.work, "rootfs")
    if tool == "berth":
        sh(["berthctl", "run", "-d", "--network", "none", "--name", ident, IMAGE] + TERM_PAYLOAD)
        wait_running(tool, ident)
        dt = timed(["berthctl", "stop", ident])
        sh(["berthctl", "rm", "-f", ident], check=False)
    elif tool == "podman":
        sh(PODMAN + ["run", "-d", "--network=none", "--name", ident, IMAGE] + TERM_PAYLOAD)
        wait_running(tool, ident)
        dt = timed(PODMAN + ["stop", ident])
        sh(PODMAN + ["rm", "-f", "-t", "0", ident], check=False)
    elif tool == "crun":
        p = subprocess.Popen(["crun", "run", "--bundle", os.path.join(A.work, "bundles", "term"),
                              ident], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        wait_running(tool, ident)
        t0 = time.monotonic()
        sh(["crun", "kill", ident, "TERM"])
        wait_precisely(p, 60)
        dt = time.monotonic() - t0
    elif tool == "nspawn":
        unit = f"bench-{ident}.service"
        sh(["systemd-run", "-q", "--collect", f"--unit={unit}", "-p", "Type=notify"] + NSPAWN +
           ["--kill-signal=SIGTERM", f"--machine={ident}", "-D", rootfs] + TERM_PAYLOAD)
        wait_running(tool, ident)
        dt = timed(["systemctl", "stop", unit])
    else:  # floor: a plain service, stopped by systemd
        unit = f"bench-{ident}.service"
        sh(["systemd-run", "-q", "--collect", f"--unit={unit}", "busybox"] + TERM_PAYLOAD)
        wait_running(tool, ident)
        dt = timed(["systemctl", "stop", unit])
    return dt


def case_stop():
    res = {t: [] for t in TOOLS}
    broken = set()
    k = 0
    for rnd in range(A.stop_runs):
        for t in rotated(TOOLS, rnd):
            if t in broken:
                continue
            k += 1
            try:
                res[t].append(stop_once(t, k))
            except Exception as e:  # noqa: BLE001
                record_error("stop", t, e)
                broken.add(t)
    RESULTS["stop"] = {"tools": {t: stats(s) for t, s in res.items() if s}}


# ------------------------------------------------------------------------------------------
# case 8: streams relayed by berth (exec's output, run -i's input) against podman's and a pipe

def case_stream():
    mib = A.stream_mib
    name = "bench-stream"
    sh(["berthctl", "rm", "-f", name], check=False)
    sh(PODMAN + ["rm", "-f", "-t", "0", name], check=False)
    sh(["berthctl", "run", "-d", "--network", "none", "--name", name, IMAGE, "sleep", "1000"])
    sh(PODMAN + ["run", "-d", "--network=none", "--name", name, IMAGE, "sleep", "1000"])
    zero = f"head -c {mib}m /dev/zero"
    cmds = {
        "exec": {"berth": f"berthctl exec {name} {zero} > /dev/null",
                 "podman": " ".join(PODMAN) + f" exec {name} {zero} > /dev/null",
                 "floor": f"{zero} | cat > /dev/null"},
        "input": {"berth": f"{zero} | berthctl run --rm -i --network none {IMAGE} wc -c > /dev/null",
                  "podman": f"{zero} | " + " ".join(PODMAN) + f" run --rm -i --network=none {IMAGE} wc -c > /dev/null",
                  "floor": f"{zero} | wc -c > /dev/null"},
    }
    out = {"mib": mib, "commands": cmds}
    for kind, tools in cmds.items():
        res = {t: [] for t in tools}
        for rnd in range(A.stream_rounds):
            for t in rotated(list(tools), rnd):
                settle()
                try:
                    res[t].append(timed(["sh", "-c", tools[t]]))
                except Exception as e:  # noqa: BLE001
                    record_error(f"stream-{kind}", t, e)
        out[kind] = {t: stats(v) for t, v in res.items() if v}
    sh(["berthctl", "rm", "-f", name], check=False)
    sh(PODMAN + ["rm", "-f", "-t", "0", name], check=False)
    RESULTS["stream"] = out


# ------------------------------------------------------------------------------------------

# ------------------------------------------------------------------------------------------
# case 9: pull and push through a local docker-registry (bench/registry_case.py)

def case_registry():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import registry_case  # noqa: E402
    registry_case.run_case(A, sh, timed, stats, rotated, record_error, log, PODMAN, RESULTS, CLEANUPS)


# ------------------------------------------------------------------------------------------
# case 10: networking — start on the bridge, 50 parallel on it, TCP through a published port
# (bench/network_case.py)

def case_network():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import network_case  # noqa: E402
    network_case.run_case(sys.modules[__name__])


# ------------------------------------------------------------------------------------------
# case 11: the Docker Engine API — the docker CLI against berth-api and podman's service
# (bench/api_case.py)

def case_api():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import api_case  # noqa: E402
    api_case.run_case(sys.modules[__name__])


def main():
    global A
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    # import first: it must not follow a mass deletion (see case_import)
    p.add_argument("--cases", default="import,start,parallel,logs,stop,create,stream,registry,network,api")
    p.add_argument("--work", required=True)
    p.add_argument("--minbase", required=True)
    p.add_argument("--rev", default="")
    p.add_argument("--storage", default="")
    p.add_argument("--out", required=True)
    A = p.parse_args()
    q = A.quick
    A.start_runs = 30 if q else 100
    A.par_rounds = 1 if q else 5
    A.lines = 20000 if q else 200000
    A.log_rounds = 1 if q else 2
    A.log_timeout = 60 if q else 240
    A.import_rounds = 1 if q else 5
    A.stop_runs = 5 if q else 20
    A.stream_mib = 64 if q else 512
    A.stream_rounds = 2 if q else 5
    A.registry_rounds = 1 if q else 3

    t_start = time.time()
    prepare()
    cases = {"start": case_start, "parallel": case_parallel, "logs": case_logs,
             "import": case_import, "stop": case_stop, "create": case_create, "stream": case_stream,
             "registry": case_registry, "network": case_network, "api": case_api}
    global LAST_CASE_END
    for c in A.cases.split(","):
        log(f"case {c}")
        try:
            cases[c]()
        except Exception as e:  # noqa: BLE001 — one broken case must not lose the others
            record_error(c, "harness", e)
        LAST_CASE_END = time.monotonic()
    for cmd in CLEANUPS:
        sh(cmd, check=False)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "mode": "quick" if q else "full",
            "host": platform.node(), "kernel": platform.release(),
            "cpus": os.cpu_count(), "berth_rev": A.rev, "storage": A.storage, "duration_s": round(time.time() - t_start, 1),
            "versions": versions(),
            "settings": {k: getattr(A, k) for k in ("start_runs", "par_rounds", "lines",
                                                    "log_rounds", "import_rounds",
                                                    "stop_runs", "stream_mib", "stream_rounds",
                                                    "registry_rounds")}}
    doc = {"meta": meta, "results": RESULTS, "errors": ERRORS}
    os.makedirs(A.out, exist_ok=True)
    with open(os.path.join(A.out, "latest.json"), "w") as f:
        json.dump(doc, f, indent=1)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import report  # noqa: E402
    with open(os.path.join(A.out, "latest.md"), "w") as f:
        f.write(report.render(doc))
    log(f"done in {meta['duration_s']} s")


if __name__ == "__main__":
    main()
