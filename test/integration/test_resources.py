# SPDX-License-Identifier: LGPL-2.1-or-later
"""update (live limits), stats, top — all through the container's scope unit."""
import json
import os
import uuid

BUS_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_call.py")


def prop(bed, name, p):
    obj = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                     check=True).stdout.split('"')[1]
    return json.loads(bed.busctl("--json=short", "get-property", "org.berth1", obj, "org.berth1.Container", p,
                                 check=True).stdout)["data"]


def unit_prop(bed, unit, p):
    return bed.systemctl("show", "-P", p, unit, check=True).stdout.strip()


def test_update_changes_limits_live_and_persists(busybox_image, berthd):
    name = f"upd-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "-m", "64m", busybox_image, "sleep", "300", check=True)
    try:
        unit = prop(berthd, name, "Unit")
        pid = prop(berthd, name, "Pid")
        berthd.berthctl("update", "-m", "128m", "--pids-limit", "10", "--cpus", "0.5", name, check=True)
        assert unit_prop(berthd, unit, "MemoryMax") == str(128 << 20)
        assert unit_prop(berthd, unit, "TasksMax") == "10"
        assert unit_prop(berthd, unit, "CPUQuotaPerSecUSec") == "500ms"
        cg = unit_prop(berthd, unit, "ControlGroup")
        assert berthd.controller_file("memory", cg, "memory.limit_in_bytes", "memory.max") in (str(128 << 20), None)
        assert prop(berthd, name, "MemoryMax") == 128 << 20 and prop(berthd, name, "TasksMax") == 10
        assert prop(berthd, name, "Pid") == pid  # the same run, changed in place
        berthd.systemctl("restart", "berthd.service", check=True)
        assert prop(berthd, name, "MemoryMax") == 128 << 20
        # Bad values change nothing.
        proc = berthd.berthctl("update", "-m", "1k", name)
        assert proc.returncode == 125 and "at least 6 MiB" in proc.stderr
        assert unit_prop(berthd, unit, "MemoryMax") == str(128 << 20)
        path = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                             check=True).stdout.split('"')[1]
        proc = berthd.run(["/usr/bin/python3", BUS_CALL, path, "org.berth1.Container", "Update",
                           json.dumps([{"Swap": {"@t": 1}}])])
        assert "ERROR org.berth1.Error.InvalidArgument" in proc.stdout
        for options, message in [({"TasksMax": "5"}, 'Limit "TasksMax" must have type "t", not "s".'),
                                 ({"CPUShares": {"@t": 512}, "CPUWeight": {"@t": 50}},
                                  "CPUShares and CPUWeight set the same limit"),
                                 ({"TasksMax": {"@t": 5}, "MemoryMax": {"@t": 1024}}, "at least 6 MiB")]:
            proc = berthd.run(["/usr/bin/python3", BUS_CALL, path, "org.berth1.Container", "Update",
                               json.dumps([options])])
            assert "ERROR org.berth1.Error.InvalidArgument" in proc.stdout and message in proc.stdout, proc
        # None of them changed anything, not even the valid TasksMax beside the bad MemoryMax.
        assert unit_prop(berthd, unit, "TasksMax") == "10" and prop(berthd, name, "TasksMax") == 10
        # CPUShares is Docker's unit, converted as crun does: 512 shares are weight 20.
        proc = berthd.run(["/usr/bin/python3", BUS_CALL, path, "org.berth1.Container", "Update",
                           json.dumps([{"CPUShares": {"@t": 512}}])])
        assert proc.returncode == 0, proc
        assert prop(berthd, name, "CPUWeight") == 20 and unit_prop(berthd, unit, "CPUWeight") == "20"
    finally:
        berthd.berthctl("rm", "-f", name)


def test_update_of_a_stopped_container_applies_at_next_start(busybox_image, berthd):
    name = f"upd-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, busybox_image, "sleep", "300", check=True)
    berthd.berthctl("update", "--pids-limit", "33", name, check=True)
    berthd.berthctl("start", name, check=True)
    try:
        assert unit_prop(berthd, prop(berthd, name, "Unit"), "TasksMax") == "33"
    finally:
        berthd.berthctl("rm", "-f", name)


def test_stats_and_top(busybox_image, berthd):
    name = f"stats-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "-m", "64m", busybox_image, "sh", "-c",
                    "sleep 300 & while true; do :; done", check=True)
    try:
        out = berthd.berthctl("stats", "--no-stream", name, check=True).stdout.splitlines()
        # Docker's columns: CONTAINER ID, NAME, CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O, PIDS
        assert out[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/", "LIMIT", "MEM", "%",
                                  "NET", "I/O", "BLOCK", "I/O", "PIDS"], out[0]
        row = out[1].split()
        cid = prop(berthd, name, "Id")
        assert row[0] == cid[:12] and row[1] == name
        if unit_prop(berthd, prop(berthd, name, "Unit"), "CPUUsageNSec") == "[not set]":
            # systemd cannot account CPU here (e.g. cpu and cpuacct mounted apart): say so, not 0%.
            assert row[2] == "--"
        else:
            assert float(row[2].rstrip("%")) > 10  # the busy loop
        assert "64MiB" in out[1] or "67.1MB" in out[1], out[1]
        if unit_prop(berthd, prop(berthd, name, "Unit"), "TasksCurrent") == "[not set]":
            assert row[-1] == "--"  # no pids controller (a unified-only testbed on a hybrid host)
        else:
            assert row[-1] == "3"  # sh, sleep, and the helper are the scope's tasks
        top = berthd.berthctl("top", name, check=True).stdout.splitlines()
        assert top[0].split() == ["PID", "CONTAINER", "PID", "CMD"]
        cmds = {line.split(None, 2)[1]: line.split(None, 2)[2] for line in top[1:]}
        assert cmds["1"].startswith("sh -c") and any(c.startswith("sleep 300") for c in cmds.values())
        assert any(c.startswith("berth-nspawn") for c in cmds.values())
        # With ps options, as docker top: the host's ps, only the container's rows.
        out = berthd.berthctl("top", name, "-o", "pid,comm", check=True).stdout.splitlines()
        assert out[0].split() == ["PID", "COMMAND"], out
        comms = [line.split()[1] for line in out[1:]]
        assert "sleep" in comms and "sh" in comms and "systemd" not in comms, out
        proc = berthd.berthctl("top", name, "-o", "comm")
        assert proc.returncode != 0 and "Couldn't find PID field in ps output" in proc.stderr, proc
        # The live view: a new sample every second until interrupted; on a terminal each one
        # replaces the last (clear screen), in a pipe they follow each other.
        out = berthd.sh(f"timeout -s INT 3.8 berthctl stats {name}").stdout
        frames = [f for f in out.split("\n\n") if f.strip()]
        assert len(frames) >= 3 and all(f.startswith("CONTAINER ID") and name in f for f in frames), out
        assert "\033[2J" not in out
        tty = berthd.run(["script", "-qec", f"timeout -s INT 2.8 berthctl stats {name}", "/dev/null"]).stdout
        assert tty.count("\033[2J") >= 2 and tty.count("CONTAINER") >= 2, tty
    finally:
        berthd.berthctl("rm", "-f", name)
    proc = berthd.berthctl("stats", "--no-stream", name)
    assert proc.returncode == 125


def test_stats_of_all_containers_and_formats(busybox_image, berthd):
    tag = uuid.uuid4().hex[:6]
    up, down = f"statsup-{tag}", f"statsdown-{tag}"
    berthd.berthctl("run", "-d", "--name", up, busybox_image, "sleep", "300", check=True)
    berthd.berthctl("create", "--name", down, busybox_image, "true", check=True)
    try:
        # No names: every running container, as docker stats; -a: the stopped ones too (zeros).
        names = berthd.berthctl("stats", "--no-stream", "--format", "{{.Name}}", check=True).stdout.split()
        assert up in names and down not in names, names
        out = berthd.berthctl("stats", "-a", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.PIDs}}",
                              check=True).stdout.splitlines()
        assert f"{down} 0.00% 0" in out, out
        assert any(line.startswith(f"{up} ") for line in out), out
        # json: one object per line with Docker's keys
        rows = [json.loads(line) for line in berthd.berthctl("stats", "--no-stream", "--format", "json", up,
                                                              check=True).stdout.splitlines()]
        assert len(rows) == 1 and rows[0]["Name"] == up and rows[0]["Container"] == up
        assert set(rows[0]) >= {"Container", "ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO",
                                "PIDs"}
        assert rows[0]["NetIO"].count(" / ") == 1 and rows[0]["NetIO"] != "-- / --", rows[0]
        # a table template with Docker's headers
        out = berthd.berthctl("stats", "--no-stream", "--no-trunc", "--format", "table {{.ID}}\t{{.MemPerc}}", up,
                              check=True).stdout.splitlines()
        assert out[0].split() == ["CONTAINER", "ID", "MEM", "%"] and out[1].split()[0] == prop(berthd, up, "Id")
        proc = berthd.berthctl("stats", "--no-stream", "--format", "{{.Nope", up)
        assert proc.returncode != 0 and proc.stderr, proc
    finally:
        berthd.berthctl("rm", "-f", up, down)
