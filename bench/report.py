#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Render bench/results/latest.json as Markdown: one table per case with median, min, max,
runs, berth's ratio to each tool and, where the issue sets one, the target and whether berth
met it. Usable alone: `python3 bench/report.py bench/results/latest.json`."""

import json
import sys

KIB = 1024.0


def fmt_time(v):
    if v is None:
        return "—"
    return f"{v * 1000:.1f} ms" if v < 10 else f"{v:.2f} s"


def fmt_bytes(v):
    if v is None:
        return "—"
    if abs(v) < 10 * KIB:
        return f"{v:.0f} B"
    return f"{v / KIB:.0f} KiB" if abs(v) < 10 * 1024 * KIB else f"{v / KIB / KIB:.1f} MiB"


def fmt_num(v):
    return "—" if v is None else f"{v:.0f}"


def ratio_target(ratio, op, limit):
    if ratio is None:
        return "no data"
    ok = ratio <= limit if op == "<=" else ratio < limit
    return "yes" if ok else "**NO**"


class Table:
    def __init__(self, title, note=""):
        self.title = title
        self.note = note
        self.rows = []

    def add(self, metric, tool, st, fmt, berth_med=None, target="", met=""):
        if st is None:
            self.rows.append([metric, tool, "—", "—", "—", "0", "—", target, met or "no data"])
            return
        ratio = "—"
        if berth_med is not None and tool != "berth" and st["median"]:
            ratio = f"{berth_med / st['median']:.2f}"
        self.rows.append([metric, tool, fmt(st["median"]), fmt(st["min"]), fmt(st["max"]),
                          str(st["runs"]), ratio, target, met])

    def render(self):
        out = [f"## {self.title}", ""]
        if self.note:
            out += [self.note, ""]
        out.append("| metric | tool | median | min | max | runs | berth / tool | target "
                   "| target met? |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        out += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(out) + "\n"


def med(d, *path):
    for p in path:
        if d is None:
            return None
        d = d.get(p)
    return d["median"] if isinstance(d, dict) and "median" in d else None


def timing_table(title, note, tools_stats, metric, targets):
    """targets: {tool: (op, limit, text)} — berth/tool ratio compared with limit."""
    t = Table(title, note)
    bm = med(tools_stats, "berth")
    for tool in ("berth", "podman", "crun", "crun-systemd", "nspawn", "floor", "tar", "skopeo"):
        if tool not in tools_stats and tool not in targets:
            continue
        st = tools_stats.get(tool)
        target, met = "", ""
        if tool in targets:
            op, limit, text = targets[tool]
            target = text
            r = (bm / st["median"]) if (bm is not None and st and st["median"]) else None
            met = ratio_target(r, op, limit)
        t.add(metric, tool, st, fmt_time, bm, target, met)
    return t.render()


CPU_PARTS = (("machine", "all"), ("cli", "CLI"), ("berthd", "berthd"), ("PID 1", "PID 1"),
             ("dbus-daemon", "dbus-daemon"), ("machined", "machined"), ("journald", "journald"),
             ("rest", "rest"), ("harness", "harness"))


def cpu_table(p):
    """Where the CPU time of the parallel start went, per container (medians over the rounds)."""
    cpu = p["cpu_per_container"]
    out = [f"## 2c. CPU time per container while starting {p['n']}", "",
           "Medians over the rounds of 2a, each divided by the number of containers. \"all\": the "
           "machine's busy time (/proc/stat) during the start; \"CLI\": the start commands and "
           "what they waited for (getrusage of the reaped children); PID 1, dbus-daemon, machined, "
           "journald and berthd: their CPU time (schedstat); \"rest\": the remainder — runtimes and "
           "supervisors that outlive their command (berth-nspawn, crun's container process, "
           "conmon), the payloads, kernel threads; \"harness\": the benchmark's own Python "
           "process, the same for every tool. Not a target: it shows where the time of 2a goes.",
           "", "| tool | " + " | ".join(label for _, label in CPU_PARTS) + " |",
           "|---|" + "---|" * len(CPU_PARTS)]
    for tool in ("berth", "podman", "crun", "crun-systemd", "nspawn"):
        if tool not in cpu:
            continue
        cells = []
        for key, _ in CPU_PARTS:
            v = med(cpu[tool], key)
            cells.append("—" if v is None or (key not in ("machine", "rest") and abs(v) < 5e-6)
                         else f"{v * 1000:.2f} ms")
        out.append(f"| {tool} | " + " | ".join(cells) + " |")
    systemd = ("PID 1", "dbus-daemon", "machined")
    if "berth" in cpu and "crun" in cpu and med(cpu["berth"], "machine") and med(cpu["crun"], "machine"):
        def part(tool, keys):
            return sum(med(cpu[tool], k) or 0.0 for k in keys) * 1000
        b_all, c_all = part("berth", ["machine"]), part("crun", ["machine"])
        out += ["", f"berth used {b_all:.2f} ms of CPU per container, crun {c_all:.2f} ms "
                f"({b_all / c_all:.2f}×). Of berth's, {part('berth', systemd):.2f} ms went to PID 1, "
                f"dbus-daemon and systemd-machined (the transient scope, its signals, the machine "
                f"registration); while crun ran, which makes its cgroups itself, they used {part('crun', systemd):.2f} ms."]
    return "\n".join(out) + "\n"


def fmt_rate(v):
    return "—" if v is None else f"{v:.0f} MB/s"


NET_PATHS = (("direct", "TCP (a) straight to the container"),
             ("host", "TCP (b) published port, host address"),
             ("loopback", "TCP (c) published port, 127.0.0.1"))


def network_tables(n):
    """Case 10 (issue #16): berth's networking against podman's."""
    out = []
    s = n.get("start")
    if s:
        tools = s["tools"]
        bm, none, pm = med(tools, "berth"), tools.get("berth-none"), tools.get("podman")
        t = Table("10a. Start on the default bridge: `run --rm IMAGE /bin/true` (hyperfine)",
                  "berth on its default network `bridge` (veth on berth0), podman on its default "
                  "network `podman` (`--network=bridge`, netavark), and berth `--network none` "
                  "(lo only) in the same rounds. The berth --network none row's \"berth / tool\" "
                  "is berth on the bridge over berth without a network (and the difference). "
                  "Commands: " + "; ".join(f"{k}: `{v}`" for k, v in s["commands"].items()) + ".")
        t.add("start (bridge)", "berth", tools.get("berth"), fmt_time)
        row = len(t.rows)
        t.add("start (none)", "berth --network none", none, fmt_time, bm, "berth ≤ this + 3 ms",
              "no data" if bm is None or none is None else
              ("yes" if bm - none["median"] <= 0.003 else "**NO**"))
        if bm is not None and none is not None and none["median"]:
            t.rows[row][6] = f"{bm / none['median']:.2f} ({(bm - none['median']) * 1000:+.1f} ms)"
        r = bm / pm["median"] if (bm is not None and pm and pm["median"]) else None
        t.add("start (bridge)", "podman", pm, fmt_time, bm, "≤ 1/10 of podman",
              ratio_target(r, "<=", 0.1))
        if r is not None:  # three digits: 0.102 is a miss that two would show as 0.10
            t.rows[-1][6] = f"{r:.3f}"
        out.append(t.render())
    p = n.get("parallel")
    if p:
        t = Table(f"10b. {p['n']} parallel starts on the default bridge, {p['width']} at a time, "
                  "and their removal",
                  "`run -d --name bnetI IMAGE sleep 1000` (berth: default network; podman: "
                  "`--network=bridge`; berth --network none for comparison), timed until every start "
                  "command has returned; then `rm -f` of all 50 in one call (podman: `-t 0`). "
                  "Distinct addresses among the 50: " +
                  (", ".join(f"{k} {v}" for k, v in p.get("distinct_addresses", {}).items()) or "—") + ".")
        for metric, key in ((f"net start {p['n']}", "start"), (f"net remove {p['n']}", "remove")):
            d = p.get(key, {})
            bm = med(d, "berth")
            for tool, label in (("berth", "berth (bridge)"), ("berth-none", "berth --network none"),
                                ("podman", "podman (bridge)")):
                t.add(metric, label, d.get(tool), fmt_time, None if tool == "berth" else bm)
        out.append(t.render())
    tp = n.get("throughput")
    if tp:
        tools = tp["tools"]
        t = Table(f"10c. TCP throughput into a container, {tp['mib']} MiB per run",
                  "A sink in the container (busybox `nc -ll -p 80 -e sh -c 'exec dd of=/dev/null "
                  "bs=1M'`, published with `-p PORT:80`) fed by the harness from the testbed: one "
                  "socket, `sendall` of 1 MiB buffers, then shutdown and a read until the sink "
                  "closes after its EOF; MB = 10⁶ bytes. (a) the container's own address, port 80; "
                  f"(b) the published port on the testbed's address 192.0.2.1 (on a {tp.get('interface', 'dummy')} "
                  "interface added for it; DNAT); (c) the published port on 127.0.0.1. Higher is better: here \"berth / "
                  "tool\" above 1 means berth is faster on the same path. Target: (b) ≥ 0.9 × (a) "
                  "(in brackets: the ratio). Sinks: " +
                  "; ".join(f"{k}: `{v}`" for k, v in tp.get("commands", {}).items()) + ".")
        for path, metric in NET_PATHS:
            bm = med(tools, "berth", path)
            a = med(tools, "berth", "direct")
            target, met = "", ""
            if path == "host":
                target = "≥ 0.9 × (a)"
                met = ("no data" if bm is None or not a else
                       f"{'yes' if bm / a >= 0.9 else '**NO**'} ({bm / a:.2f}×)")
            t.add(metric, "berth", tools.get("berth", {}).get(path), fmt_rate, None, target, met)
            t.add(metric, "podman", tools.get("podman", {}).get(path), fmt_rate, bm)
        ratios = []
        for tool in ("berth", "podman"):
            a = med(tools, tool, "direct")
            parts = [f"{lbl} {med(tools, tool, p) / a:.2f}" for p, lbl in (("host", "(b)/(a)"), ("loopback", "(c)/(a)"))
                     if a and med(tools, tool, p) is not None]
            if parts:
                ratios.append(f"{tool}: " + ", ".join(parts))
        if ratios:
            t.note += " Through the published port, relative to straight: " + "; ".join(ratios) + "."
        out.append(t.render())
        out.append(f"podman's network backend: `{n.get('podman_network_backend', '?')}`.\n")
    return out


def api_tables(a):
    """Case 11 (issue #17): the docker CLI against berth-api and podman's Docker API service."""
    out = []
    target = {"podman": ("<=", 0.2, "≤ 1/5 of podman")}
    r = a.get("run")
    if r:
        out.append(timing_table(
            "11a. `docker run --rm IMAGE /bin/true` through the Docker Engine API (hyperfine)",
            "The real docker CLI against berth-api (`/run/berth/docker.sock`, socket-activated) and "
            "against `podman system service` (rootful, its own socket); each tool on its default "
            "network. Commands: " + "; ".join(f"{k}: `{v}`" for k, v in r["commands"].items()) + ".",
            r["tools"], "docker run", target))
    p = a.get("ps")
    if p:
        out.append(timing_table(
            f"11b. `docker ps -a` with {p.get('n', 100)} containers (hyperfine)",
            f"{p.get('n', 100)} created containers in each tool's store, listed through its API by the "
            "docker CLI. Commands: " + "; ".join(f"{k}: `{v}`" for k, v in p["commands"].items()) + ".",
            p["tools"], "docker ps", target))
    return out


def render(doc):
    m = doc["meta"]
    r = doc["results"]
    out = ["# berth benchmarks: latest run", "",
           f"{m['date']}, mode **{m['mode']}**, {m['duration_s']} s, kernel {m['kernel']}, "
           f"{m['cpus']} CPUs, host `{m['host']}`, berth `{m.get('berth_rev', '?')}`. Run by `bench/run"
           f"{' --quick' if m['mode'] == 'quick' else ''}` inside the testbed "
           "(test/testbed.sh)" + (f", every tool's state on {m['storage']}" if m.get("storage") else "") + ". Versions: " +
           "; ".join(f"{k}: `{v}`" for k, v in m["versions"].items()) + ".", "",
           f"Settings: `{json.dumps(m['settings'])}`. Tools run in rounds, in a rotating order "
           "within each round. \"berth / tool\" is berth's median divided by the tool's "
           "(below 1: berth is faster or smaller).", ""]
    if m.get("note"):
        out += [f"Note: {m['note']}", ""]
    summary = []

    if "start" in r:
        s = r["start"]
        out.append(timing_table(
            "1. Start latency: `run --rm IMAGE /bin/true`, CLI end to end (hyperfine)",
            "Commands: " + "; ".join(f"{k}: `{v}`" for k, v in s["commands"].items()) + ". "
            "crun-systemd (no target) shows what a transient systemd scope per container costs crun. "
            "berth runs with `--network none` (a network namespace with lo only), as podman with "
            "`--network=none` and as berth before it had networking, so these numbers compare like "
            "with like and with earlier runs; berth on its default bridge is case 10a.",
            s["tools"], "start",
            {"podman": ("<=", 0.1, "≤ 1/10 of podman"),
             "nspawn": ("<=", 0.5, "≤ 1/2 of nspawn"),
             "crun": ("<=", 1.5, "≤ 1.5× crun")}))

    if "parallel" in r:
        p = r["parallel"]
        out.append(timing_table(
            f"2a. Parallel start: {p['n']} detached `sleep` containers, {p['width']} at a time",
            "Time until all are running (each start command returns once its container runs; "
            "nspawn through `systemd-run -p Type=notify`). crun and nspawn share one read-only "
            "rootfs; berth and podman use their overlay stores. crun-systemd (no target, for "
            "comparison): crun with `--systemd-cgroup`, a transient scope per container created "
            "through systemd's D-Bus API, as berth's. berth and podman both with `--network none` "
            "(the bridge: case 10b).",
            p["start"], "start 50", {"crun": ("<=", 1.0, "≤ crun")}))
        if p.get("cpu_per_container"):
            out.append(cpu_table(p))
        out.append(timing_table(
            f"2b. Removal of the {p['n']} running containers",
            "berth: `berthctl rm -f` (all names in one call); podman: `podman rm -f -t 0` (one "
            "call); crun and crun-systemd: `crun delete -f` per container; nspawn: `systemctl stop` of the 50 "
            "units (`--keep-unit`, KillSignal=SIGKILL).",
            p["remove"], "remove 50", {"podman": ("<=", 0.1, "≤ 1/10 of podman")}))

    if "memory" in r:
        mem = r["memory"]
        t = Table("3. Memory per running container outside the payload (50 running)",
                  "Sum over every process that is not the payload and not there before the 50 "
                  "started (plus berthd's growth from 0 to 50 containers), divided by 50. "
                  "\"in scope\": processes inside the container's own scope (berth-nspawn, "
                  "nspawn's supervisor in its service with `--keep-unit`, …); \"outside\": "
                  "anything else (podman's conmon lives in its own libpod-conmon scope).")
        for key, label in (("rss_outside", "RSS outside scope"),
                           ("private_outside", "private outside scope"),
                           ("rss_in_scope", "RSS in scope"),
                           ("private_in_scope", "private in scope")):
            bm = med(mem, "berth", "per_container", key)
            for tool in ("berth", "podman", "crun", "nspawn"):
                st = mem.get(tool, {}).get("per_container", {}).get(key)
                target, met = "", ""
                if tool == "berth":
                    target = {"rss_outside": "0", "private_outside": "0",
                              "rss_in_scope": "≤ 1 MiB", "private_in_scope": "≤ 256 KiB"}[key]
                    lim = {"rss_outside": 0, "private_outside": 0,
                           "rss_in_scope": KIB * KIB, "private_in_scope": 256 * KIB}[key]
                    met = "no data" if bm is None else ("yes" if bm <= lim else "**NO**")
                t.add(label, tool, st, fmt_bytes, bm, target, met)
        out.append(t.render())
        if "berth" in mem:
            snap = mem["berth"]["snapshots"][-1]
            out.append(f"berthd RSS: {fmt_bytes(snap.get('berthd_rss_0'))} with 0 containers, "
                       f"{fmt_bytes(snap.get('berthd_rss_50'))} with 50 (private: "
                       f"{fmt_bytes(snap.get('berthd_private_0'))} → "
                       f"{fmt_bytes(snap.get('berthd_private_50'))}).\n")
        lines = ["New non-payload processes with 50 running (last round): "]
        for tool, v in mem.items():
            procs = ", ".join(
                f"{g['count']}× {g['comm']}{' (in scope)' if g['in_container_scope'] else ''} "
                f"{fmt_bytes(g['rss'] / max(1, g['count']))} RSS each"
                for g in v["snapshots"][-1]["new_processes"]) or "none"
            lines.append(f"- {tool}: {procs}")
        out.append("\n".join(lines) + "\n")

    if "logs" in r:
        lg = r["logs"]
        n = lg["lines"]
        for mode, title in (("raised", "journald rate limit off (RateLimitBurst=0)"),
                            ("default", "journald's default rate limit")):
            if mode not in lg:
                continue
            t = Table(f"4{'a' if mode == 'raised' else 'b'}. Log throughput, {n} lines, {title}",
                      "Wall time from starting the container until its last line is readable "
                      "(`berthctl logs --tail 1` for berth, `journalctl` for the others). crun "
                      "and nspawn run under `systemd-run` (stdout to the journal); the floor is "
                      "`busybox seq | systemd-cat`. Lines: how many arrived; "
                      "lost: lines that never arrived; journald reports \"Suppressed N messages\" only "
                      "when the unit logs again after the window, so its count may be 0; berth "
                      "reports what it drops in the container's log (\"berth: N lines dropped\"), and "
                      "a line lost without that report misses the target. "
                      "No wall time: the last line never arrived.")
            res = lg[mode]
            bm = med(res, "berth", "wall")
            for tool in ("berth", "podman", "crun", "nspawn", "floor"):
                if tool not in res:
                    t.add("wall", tool, None, fmt_time)
                    continue
                target, met = "", ""
                st = res[tool]["wall"]
                if mode == "raised" and tool == "podman":
                    target = "≤ 1/3 of podman"
                    met = ratio_target(bm / st["median"] if (bm and st) else None, "<=", 1 / 3)
                t.add("wall", tool, st, fmt_time, bm, target, met)
            for tool in ("berth", "podman", "crun", "nspawn", "floor"):
                if tool not in res:
                    continue
                runs = res[tool]["runs"]
                lines_med = res[tool]["lines"]["median"]
                drop = sum(x["journald_suppressed"]["total"] for x in runs) / len(runs)
                target, met = "", ""
                if mode == "raised" and tool == "berth":
                    target = f"all {n}"
                    met = "yes" if lines_med == n else "**NO**"
                elif tool == "berth":
                    # The rule: a line may be dropped only with a word in the log.
                    target = "none lost without a report"
                    met = "yes" if all(x["lost"] <= x.get("reported", 0) for x in runs) else "**NO**"
                dup = sum(x.get("entries", x["lines"]) - x["lines"] for x in runs) / len(runs)
                lost = sum(x["lost"] for x in runs) / len(runs)
                label = f"lines (lost: {lost:.0f}; journald reported suppressed: {drop:.0f}"
                if tool == "berth":
                    label += f"; berth reported dropped: {sum(x.get('reported', 0) for x in runs) / len(runs):.0f}"
                label += f", duplicate entries: {dup:.0f})" if dup else ")"
                t.rows.append([label, tool,
                               fmt_num(lines_med), fmt_num(res[tool]["lines"]["min"]),
                               fmt_num(res[tool]["lines"]["max"]), str(len(runs)), "—",
                               target, met])
            out.append(t.render())

    if "import" in r:
        im = r["import"]
        out.append(timing_table(
            f"5. Image import: debootstrap minbase tarball ({im['tarball_bytes'] / 1e6:.0f} MB)",
            "`berthctl import` vs `podman import` vs `tar -xf` into an empty directory on the "
            "same file system (the floor). Tarball on a tmpfs (/dev/shm); `sync` before each run.",
            im["tools"], "import",
            {"tar": ("<=", 1.3, "≤ 1.3× tar -x"), "podman": ("<", 1.0, "< podman")}))

    if "stop" in r:
        out.append(timing_table(
            "6. Stop latency: payload exits on SIGTERM",
            "Payload `sh -c \"trap 'exit 0' TERM; sleep 1000 & wait\"`. berth: `berthctl "
            "stop`; podman: `podman stop`; crun: `crun kill TERM` until `crun run` returns; "
            "nspawn (`--kill-signal=SIGTERM`) and floor (plain service): `systemctl stop`.",
            r["stop"]["tools"], "stop", {}))

    if "create" in r:
        cr = r["create"]
        t = Table("7. Create from a small and a large image (no copying: constant time)",
                  f"`create --name bench-create IMAGE /bin/true` (removed between runs, not timed) from "
                  f"the busybox image ({fmt_bytes(cr['image_bytes']['small'])}) and from the "
                  f"debootstrap minbase image ({fmt_bytes(cr['image_bytes']['large'])}). Here the last "
                  f"column but two is the large image's median over the small one's, per tool. "
                  f"berth-btrfs: berthd restarted with its btrfs driver on a loop-mounted btrfs.")
        tools = cr["tools"]
        for tool in ("berth", "berth-btrfs", "podman"):
            if tool == "berth-btrfs" and "berth-btrfs (small)" not in tools:
                continue  # results from before the btrfs driver
            small, large = tools.get(f"{tool} (small)"), tools.get(f"{tool} (large)")
            t.add("create", f"{tool} (small)", small, fmt_time)
            ratio = large["median"] / small["median"] if (small and large) else None
            target, met = (("≤ 1.2× the small image", ratio_target(ratio, "<=", 1.2)) if tool.startswith("berth")
                           else ("", ""))
            if large:
                t.rows.append(["create", f"{tool} (large)", fmt_time(large["median"]), fmt_time(large["min"]),
                               fmt_time(large["max"]), str(large["runs"]),
                               f"{ratio:.2f}" if ratio is not None else "—", target, met])
            else:
                t.add("create", f"{tool} (large)", None, fmt_time, None, target, met)
        out.append(t.render())

    if "stream" in r:
        st = r["stream"]
        out.append(timing_table(
            f"8a. exec output: {st['mib']} MiB through `exec`",
            "berth relays an exec's stdout through its exec helper (the process never holds the "
            "caller's descriptors); podman through conmon. Commands: "
            + "; ".join(f"{k}: `{v}`" for k, v in st["commands"]["exec"].items()) + ".",
            st.get("exec", {}), "exec out", {}))
        out.append(timing_table(
            f"8b. run -i input: {st['mib']} MiB into `run --rm -i`",
            "berth relays input through berthctl and the supervisor into the payload's own pipe. "
            "Commands: " + "; ".join(f"{k}: `{v}`" for k, v in st["commands"]["input"].items()) + ".",
            st.get("input", {}), "run -i in", {}))

    if "registry" in r:
        g = r["registry"]
        what = (f"a {g['layers']}-layer image (Debian minbase in four layers plus busybox; "
                f"{fmt_bytes(g['compressed_bytes'])} gzip'd, {fmt_bytes(g['uncompressed_bytes'])} unpacked) "
                "from Debian's docker-registry on 127.0.0.1")
        out.append(timing_table(
            "9a. Pull", f"Time to pull {what}, the image removed between rounds. berth: `berthctl pull`; "
            "podman: `podman pull --tls-verify=false`; skopeo: `skopeo copy` to a directory plus `tar -xzf` "
            "of its layers (what a pull that unpacks has to do).",
            g.get("pull", {}), "pull", {"podman": ("<=", 0.5, "≤ 1/2 of podman")}))
        rp = g.get("repull", {}).get("berth")
        t = Table("9b. Re-pull of a present image", "`berthctl pull` of the image berth has: the manifest request only.")
        t.add("re-pull", "berth", rp, fmt_time, None, "≤ 50 ms",
              ratio_target(rp["median"] / 0.05 if rp else None, "<=", 1.0))
        out.append(t.render())
        out.append(timing_table(
            "9c. Push", f"Time to push the same image to a new repository of the registry. berth: "
            "`berthctl push` (layers written again from the store and gzip'd); podman: `podman push --tls-verify=false`.",
            g.get("push", {}), "push", {"podman": ("<=", 0.5, "≤ 1/2 of podman")}))

    if "network" in r:
        out += network_tables(r["network"])
    if "api" in r:
        out += api_tables(r["api"])

    if doc.get("errors"):
        out.append("## Errors (a tool or case that could not run)\n")
        for e in doc["errors"]:
            err = e["error"].replace("\n", " ").replace("|", "\\|")[:600]
            out.append(f"- **{e['case']} / {e['tool']}**: {err}")
        out.append("")

    misses = [line for line in "\n".join(out).splitlines() if "**NO**" in line]
    summary.append("## Targets missed by berth\n")
    if misses:
        for line in misses:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[0].startswith("TCP"):  # throughput: the measured ratio is in the last cell
                summary.append(f"- {cells[0]}: berth {cells[2]}, target {cells[7]}, got "
                               f"{cells[8].replace('**NO**', '').strip(' ()')}")
            elif cells[1] == "berth --network none":  # 10a: the bridge's own cost
                summary.append(f"- start on the bridge vs berth --network none: berth / none = "
                               f"{cells[6]}, target bridge ≤ none + 3 ms")
            elif cells[0].startswith("lines (lost"):  # 4a/4b: log lines kept
                summary.append(f"- log lines: berth kept {cells[2]}, {cells[0][len('lines ('):-1]}, "
                               f"target {cells[7]}")
            elif cells[1] == "berth":
                summary.append(f"- {cells[0]}: berth {cells[2]} per container, target {cells[7]}")
            elif cells[0] == "create":  # the ratio is the large image's over the small one's
                summary.append(f"- create, {cells[1]}: {cells[6]}× the small image's time, target {cells[7]}")
            else:
                where = " (where its CPU time goes: 2c)" if cells[0] == "start 50" else ""
                summary.append(f"- {cells[0]} vs {cells[1]}: berth / {cells[1]} = {cells[6]}, "
                               f"target {cells[7]}{where}")
    else:
        summary.append("None.")
    return "\n".join(out) + "\n" + "\n".join(summary) + "\n"


if __name__ == "__main__":
    with open(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json") as f:
        sys.stdout.write(render(json.load(f)))
