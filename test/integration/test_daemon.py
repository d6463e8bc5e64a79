# SPDX-License-Identifier: LGPL-2.1-or-later
"""berthd as a service: bus name, object tree, persistence, and surviving kill -9."""
import json
import os
import time
import uuid


def prop(bed, name, prop_name):
    obj = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                     check=True).stdout.split('"')[1]
    out = bed.busctl("--json=short", "get-property", "org.berth1", obj, "org.berth1.Container", prop_name,
                     check=True).stdout
    return json.loads(out)["data"]


def restart_berthd(bed, kill=False):
    if kill:
        bed.systemctl("kill", "--signal=SIGKILL", "berthd.service", check=True)
        bed.wait_until(lambda: bed.systemctl("is-active", "berthd.service").stdout.strip() != "active",
                       what="berthd to die")
    else:
        bed.systemctl("stop", "berthd.service", check=True)
    bed.systemctl("start", "berthd.service", check=True)


def test_service_and_object_tree(busybox_image, berthd):
    show = berthd.systemctl("show", "berthd.service", "-p", "Type", "-p", "BusName", "-p", "ActiveState",
                            check=True).stdout
    assert "Type=notify" in show and "BusName=org.berth1" in show and "ActiveState=active" in show
    intro = berthd.busctl("introspect", "org.berth1", "/org/berth1", check=True).stdout
    assert "org.berth1.Manager" in intro and "org.freedesktop.DBus.ObjectManager" in intro
    name = f"tree-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, busybox_image, "true", check=True)
    cid = prop(berthd, name, "Id")
    tree = berthd.busctl("tree", "org.berth1", check=True).stdout
    assert f"/org/berth1/container/{cid}" in tree
    managed = berthd.busctl("--json=short", "call", "org.berth1", "/org/berth1",
                            "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", check=True).stdout
    assert f"/org/berth1/container/{cid}" in managed
    berthd.berthctl("rm", name, check=True)
    assert f"/org/berth1/container/{cid}" not in berthd.busctl("tree", "org.berth1", check=True).stdout


def test_dbus_activation(berthd):
    berthd.systemctl("stop", "berthd.service", check=True)
    # Any call to org.berth1 starts the service again through bus activation.
    berthd.busctl("get-property", "org.berth1", "/org/berth1", "org.berth1.Manager", "Version", check=True)
    assert berthd.systemctl("is-active", "berthd.service").stdout.strip() == "active"


def test_properties_changed_signals(busybox_image, berthd):
    name = f"sig-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, busybox_image, "sh", "-c", "sleep 0.3", check=True)
    cid = prop(berthd, name, "Id")
    # Watch the bus while the container starts and exits.
    proc = berthd.sh(
        f"(busctl --json=short --match=type=signal,sender=org.berth1,path=/org/berth1/container/{cid},"
        f"member=PropertiesChanged monitor > /var/tmp/sig-{cid}.json 2>/dev/null & echo $! > /var/tmp/sig-{cid}.pid); "
        f"sleep 0.5; berthctl start {name} && berthctl wait {name}; sleep 0.5; kill $(cat /var/tmp/sig-{cid}.pid); "
        f"cat /var/tmp/sig-{cid}.json; rm -f /var/tmp/sig-{cid}.*", check=True, timeout=30)
    states = []
    for line in proc.stdout.splitlines():
        if not line.startswith("{"):
            continue
        msg = json.loads(line)
        changed = msg["payload"]["data"][1]
        if "State" in changed:
            states.append(changed["State"]["data"])
    assert states == ["running", "exited"], proc.stdout


def test_state_survives_restart(busybox_image, berthd):
    name = f"persist-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c", "exit 4")
    cid = prop(berthd, name, "Id")
    # What a crash between writing a record and its rename leaves: gone at the next start.
    berthd.sh(f"echo '{{\"torn' > /var/lib/berth/containers/{cid}/container.json.tmp.99.0", check=True)
    restart_berthd(berthd)
    assert prop(berthd, name, "Id") == cid
    assert prop(berthd, name, "State") == "exited"
    assert prop(berthd, name, "ExitCode") == 4
    assert "busybox" in berthd.berthctl("images", check=True).stdout
    berthd.sh(f"test -z \"$(find /var/lib/berth -name '*.tmp.*')\"", check=True)


def test_runtime_state_lives_in_run(busybox_image, berthd):
    """An exit, an automatic restart, a start by hand: runtime state, written to
    /run/berth/containers/<id>.json without fsync; the fsynced record (configuration) is not
    rewritten. A restarted or killed berthd finds the state there; after a reboot (/run empty) a
    container that ran is exited (137), one never started is created."""
    name = f"runstate-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "--restart", "on-failure:2", busybox_image, "sh", "-c", "exit 3",
                    check=True)
    cid = prop(berthd, name, "Id")
    berthd.wait_until(lambda: prop(berthd, name, "RestartCount") == 2 and prop(berthd, name, "State") == "exited",
                      what="two automatic restarts")
    record = f"/var/lib/berth/containers/{cid}/container.json"
    state = f"/run/berth/containers/{cid}.json"

    def stamp():
        return berthd.sh(f"stat -c %y {record} && cat {record}", check=True).stdout

    def run_state():
        return json.loads(berthd.sh(f"cat {state}", check=True).stdout)

    before = stamp()
    assert '"exit_code"' not in before and '"restart_count"' not in before, before
    st = run_state()
    assert (st["id"], st["state"], st["exit_code"], st["restart_count"]) == (cid, "exited", 3, 2), st
    # Once more by hand: the run state changes, the record does not.
    finished = st["finished_at"]
    berthd.berthctl("start", name, check=True)
    berthd.wait_until(lambda: run_state()["finished_at"] > finished and prop(berthd, name, "State") == "exited"
                      and prop(berthd, name, "RestartCount") == 2, what="the second series of runs")
    assert stamp() == before
    for kill in (True, False):
        restart_berthd(berthd, kill=kill)
        assert (prop(berthd, name, "State"), prop(berthd, name, "ExitCode"), prop(berthd, name, "RestartCount")) \
            == ("exited", 3, 2)
        assert stamp() == before

    berthd.berthctl("rm", name, check=True)
    berthd.sh(f"test ! -e {state}", check=True)

    # A reboot empties /run: what ran is exited, with 137 as for a supervisor gone without an exit
    # file; what never started is created.
    ran, created = (f"runstate-{x}-{uuid.uuid4().hex[:6]}" for x in ("ran", "created"))
    berthd.berthctl("run", "--name", ran, busybox_image, "sh", "-c", "exit 3")
    berthd.berthctl("create", "--name", created, busybox_image, "true", check=True)
    ids = [prop(berthd, n, "Id") for n in (ran, created)]
    berthd.systemctl("stop", "berthd.service", check=True)
    berthd.sh(" ".join(["rm -rf"] + [f"/run/berth/containers/{i}*" for i in ids]), check=True)
    berthd.systemctl("start", "berthd.service", check=True)
    try:
        assert (prop(berthd, ran, "State"), prop(berthd, ran, "ExitCode")) == ("exited", 137)
        assert prop(berthd, created, "State") == "created"
        # Written to /run again: the same after a restart of berthd.
        restart_berthd(berthd)
        assert (prop(berthd, ran, "State"), prop(berthd, ran, "ExitCode")) == ("exited", 137)
    finally:
        berthd.berthctl("rm", "-f", ran, created)


def test_container_survives_berthd_sigkill(busybox_image, berthd):
    """berthd killed with SIGKILL while a container runs: it keeps running and logging; the restarted
    berthd re-adopts it, controls it, and reports its later output and exit code correctly."""
    name = f"survivor-{uuid.uuid4().hex[:6]}"
    script = ("trap 'echo during' USR2; trap 'echo after; exit 7' USR1; echo before; "
              "while true; do sleep 0.1; done")
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sh", "-c", script, check=True)
    pid = prop(berthd, name, "Pid")
    unit = prop(berthd, name, "Unit")
    helper_pids_before = berthd.systemctl("show", unit, "-p", "ControlGroup", check=True).stdout

    berthd.systemctl("kill", "--signal=SIGKILL", "berthd.service", check=True)
    berthd.wait_until(lambda: berthd.systemctl("is-active", "berthd.service").stdout.strip() != "active",
                      what="berthd to die")
    # While berthd is down the container runs and logs.
    berthd.sh(f"kill -USR2 {pid}", check=True)
    berthd.wait_until(lambda: any(e["MESSAGE"] == "during"
                                  for e in berthd.journal_json(f"CONTAINER_NAME={name}")),
                      what="the line logged while berthd was down")
    assert berthd.systemctl("is-active", unit).stdout.strip() == "active"

    berthd.systemctl("start", "berthd.service", check=True)
    assert prop(berthd, name, "State") == "running"
    assert prop(berthd, name, "Pid") == pid
    assert berthd.systemctl("show", unit, "-p", "ControlGroup", check=True).stdout == helper_pids_before

    # The re-adopted container is fully controllable, and its exit is seen.
    berthd.berthctl("kill", "-s", "USR1", name, check=True)
    assert berthd.berthctl("wait", name, check=True, timeout=30).stdout.strip() == "7"
    assert prop(berthd, name, "State") == "exited"
    msgs = [e["MESSAGE"] for e in berthd.journal_json(f"CONTAINER_NAME={name}")]
    assert msgs == ["before", "during", "after"]


def test_container_exit_while_berthd_down(busybox_image, berthd):
    name = f"exitdown-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sh", "-c",
                    "trap 'exit 5' USR1; while true; do sleep 0.1; done", check=True)
    pid = prop(berthd, name, "Pid")
    berthd.systemctl("kill", "--signal=SIGKILL", "berthd.service", check=True)
    berthd.wait_until(lambda: berthd.systemctl("is-active", "berthd.service").stdout.strip() != "active",
                      what="berthd to die")
    berthd.sh(f"kill -USR1 {pid}", check=True)
    berthd.wait_until(lambda: berthd.sh(f"test -d /proc/{pid}").returncode != 0, what="the payload to exit")
    time.sleep(0.2)
    berthd.systemctl("start", "berthd.service", check=True)
    assert prop(berthd, name, "State") == "exited"
    assert prop(berthd, name, "ExitCode") == 5


PRIVATE = "/run/berth/private"


def manager_calls_on_system_bus(bed, command):
    """Run command inside the testbed while watching the system bus; the org.berth1.Manager
    method calls that went through dbus-daemon meanwhile."""
    tag = uuid.uuid4().hex[:8]
    out = bed.sh(
        f"(busctl --json=short --match=type=method_call,interface=org.berth1.Manager monitor "
        f"> /var/tmp/mon-{tag}.json 2>/dev/null & echo $! > /var/tmp/mon-{tag}.pid); sleep 0.5; "
        f"{command}; sleep 0.5; kill $(cat /var/tmp/mon-{tag}.pid); "
        f"cat /var/tmp/mon-{tag}.json; rm -f /var/tmp/mon-{tag}.*", check=True, timeout=30).stdout
    return [json.loads(line)["member"] for line in out.splitlines() if line.startswith("{")]


def test_private_socket_is_roots_alone(busybox_image, berthd):
    mode = berthd.run(["stat", "-c", "%F %a %U", PRIVATE], check=True).stdout.split()
    assert mode == ["socket", "600", "root"]
    # The same objects as on the system bus, peer to peer (no Hello, no bus names), for any
    # D-Bus library: libdbus here, sd-bus in berthctl. libdbus sends its first call in the same
    # write as BEGIN, which sd-bus 252 left unread until the client gave up: ten calls in a row.
    call = ["dbus-send", f"--peer=unix:path={PRIVATE}", "--print-reply", "--reply-timeout=5000",
            "--dest=org.berth1", "/org/berth1", "org.berth1.Manager.GetImage", f"string:{busybox_image}"]
    for _ in range(10):
        out = berthd.run(call, check=True).stdout
        assert "sender=org.berth1" in out and 'object path "/org/berth1/image/' in out
    proc = berthd.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *call])
    assert proc.returncode != 0 and "ermission denied" in proc.stderr, proc.stderr


def test_berthctl_as_root_skips_dbus_daemon(busybox_image, berthd):
    name = f"priv-{uuid.uuid4().hex[:6]}"
    seen = manager_calls_on_system_bus(berthd, f"berthctl create --name {name} {busybox_image} true")
    assert "CreateContainer" not in seen
    assert berthd.berthctl("start", "-a", name, check=True).returncode == 0
    berthd.berthctl("rm", name, check=True)
    # BERTH_PRIVATE_BUS=0: through the system bus, as an unprivileged caller always goes.
    seen = manager_calls_on_system_bus(
        berthd, f"BERTH_PRIVATE_BUS=0 berthctl create --name {name} {busybox_image} true")
    assert "CreateContainer" in seen
    berthd.berthctl("rm", name, check=True)


def test_berthctl_after_berthd_sigkill_left_a_stale_socket(busybox_image, berthd):
    berthd.systemctl("kill", "--signal=SIGKILL", "berthd.service", check=True)
    berthd.wait_until(lambda: berthd.systemctl("is-active", "berthd.service").stdout.strip() != "active",
                      what="berthd to die")
    assert berthd.run(["test", "-S", PRIVATE]).returncode == 0  # nobody removed it
    # Refused on the socket: berthctl falls back to the system bus, which activates berthd.
    berthd.berthctl("images", check=True)
    assert berthd.systemctl("is-active", "berthd.service").stdout.strip() == "active"
    name = f"stale-{uuid.uuid4().hex[:6]}"
    seen = manager_calls_on_system_bus(
        berthd, f"berthctl create --name {name}a {busybox_image} true && "
                f"BERTH_PRIVATE_BUS=0 berthctl create --name {name}b {busybox_image} true")
    # Only the second: after the restart, berthctl is back on the private socket.
    assert seen.count("CreateContainer") == 1
    berthd.berthctl("rm", f"{name}a", f"{name}b", check=True)


def test_unusable_records_are_quarantined(busybox_image, berthd):
    # A record in another container's directory, or one whose name is taken, once made two
    # containers of one name (and rm of the name removed the other's files). Now it is reported
    # and moved aside; a running container whose record cannot be read stays listable and
    # stoppable.
    tag = os.urandom(3).hex()
    a, b, c, d = (f"q{x}-{tag}" for x in "abcd")
    berthd.berthctl("run", "-d", "--name", a, busybox_image, "sleep", "300", check=True)
    berthd.berthctl("create", "--name", b, busybox_image, "true", check=True)
    berthd.berthctl("run", "-d", "--name", c, busybox_image, "sleep", "300", check=True)
    ids = {n: berthd.berthctl("inspect", "-f", "{{.Id}}", n, check=True).stdout.strip() for n in (a, b, c)}
    base = "/var/lib/berth/containers"
    # A directory of its own, with a's record and its own id: only the name clashes.
    dup = ("d" if ids[a][0] != "d" else "e") + ids[a][1:]
    berthd.systemctl("stop", "berthd.service", check=True)
    berthd.sh(f"cp {base}/{ids[a]}/container.json {base}/{ids[b]}/container.json && "
              f"mkdir {base}/{dup} && sed 's/{ids[a]}/{dup}/; s/\"created_at\": *[0-9]*/\"created_at\": 99999999999999999/' "
              f"{base}/{ids[a]}/container.json > {base}/{dup}/container.json && "
              f"echo '{{garbage' > {base}/{ids[c]}/container.json", check=True)
    berthd.systemctl("start", "berthd.service", check=True)
    try:
        ps = berthd.berthctl("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}}", check=True).stdout
        rows = [line.split() for line in ps.splitlines()]
        assert [r for r in rows if r[1] == a] == [[ids[a], a, "running"]], ps
        assert not any(r[0] in (ids[b], dup) for r in rows), ps
        # The one whose record is garbage still runs: listed by its short id, stoppable, removable.
        assert [ids[c], ids[c][:12], "running"] in rows, ps
        berthd.berthctl("stop", "-t", "1", ids[c][:12], check=True)
        proc = berthd.berthctl("start", ids[c][:12])
        assert proc.returncode == 125 and "configuration could not be read" in proc.stderr, proc
        berthd.berthctl("rm", ids[c][:12], check=True)
        assert berthd.sh(f"test ! -e {base}/{ids[c]}").returncode == 0
        # The others were moved aside, whole, for a person to look at; the journal says why.
        listing = berthd.sh(f"ls {base}/.quarantine", check=True).stdout.split()
        assert ids[b] in listing and dup in listing, listing
        log = berthd.run(["journalctl", "-u", "berthd.service", "-p", "err", "--no-pager", "-o", "cat"]).stdout
        assert f"Failed to load container {ids[b]}: it belongs to another container" in log, log
        assert f"Container {dup} claims the name \"{a}\"" in log, log
        # rm of the name removes a's own files, nobody else's.
        berthd.berthctl("rm", "-f", a, check=True)
        assert berthd.sh(f"test -d {base}/.quarantine/{ids[b]} && test -d {base}/.quarantine/{dup}").returncode == 0
    finally:
        berthd.berthctl("rm", "-f", a, ids[c][:12])
        berthd.sh(f"rm -rf {base}/.quarantine/{ids[b]} {base}/.quarantine/{dup}")


def test_log_priorities(berthd):
    # berthd's messages carry their priority: `journalctl -u berthd -p err` shows errors only.
    conf = "/etc/berth/berthd.conf"
    saved = berthd.sh(f"cat {conf} 2>/dev/null").stdout
    tag = os.urandom(3).hex()
    try:
        berthd.sh(f"mkdir -p /etc/berth && printf '%s[Storage]\\nBogus{tag}=1\\n' '{saved}' > {conf}", check=True)
        restart_berthd(berthd)
        entries = [e for e in berthd.journal_json("-u", "berthd.service") if f"Bogus{tag}" in e.get("MESSAGE", "")]
        assert entries and all(e["PRIORITY"] == "4" for e in entries), entries
        assert not entries[0]["MESSAGE"].startswith("<"), entries
        errors = berthd.run(["journalctl", "-u", "berthd.service", "-p", "err", "--no-pager", "-o", "cat"]).stdout
        assert f"Bogus{tag}" not in errors
    finally:
        berthd.run(["sh", "-c", f"cat > {conf}"], input=saved, check=True)
        restart_berthd(berthd)
