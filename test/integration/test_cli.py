# SPDX-License-Identifier: LGPL-2.1-or-later
"""berthctl commands beyond run/ps/rm: exec, pause, restart, rename, --restart, logs -f, inspect."""
import json
import uuid


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def inspect(bed, name):
    return json.loads(bed.berthctl("inspect", name, check=True).stdout)[0]


def test_exec(busybox_image, berthd):
    name = uniq("cliexec")
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sleep", "300", check=True)
    try:
        proc = berthd.berthctl("exec", "-e", "A=b", "-w", "/etc", name, "sh", "-c", 'echo "$A $(pwd)"; exit 4')
        assert proc.returncode == 4 and proc.stdout == "b /etc\n", proc
        proc = berthd.berthctl("exec", "-i", name, "cat", input="hello\n")
        assert proc.returncode == 0 and proc.stdout == "hello\n", proc
        # Without -i stdin is /dev/null.
        assert berthd.berthctl("exec", name, "cat", input="ignored\n").stdout == ""
        assert berthd.berthctl("exec", name, "nonexistent-cmd").returncode == 127
        assert berthd.berthctl("exec", "-u", "nobody", name, "id", "-u", check=True).stdout == "65534\n"
        assert berthd.berthctl("exec", "-u", "nosuchuser", name, "true").returncode == 125
        # -t under a real terminal (script(1)): a pty of the container's devpts, keys in, output out.
        proc = berthd.run(["script", "-qec", f"berthctl exec -it {name} sh -c 'tty; read l; echo got:$l'",
                           "/dev/null"], input="key\n", timeout=30)
        out = proc.stdout.replace("\r", "")
        assert "/dev/pts/" in out and "got:key" in out, proc
        assert berthd.berthctl("exec", name).returncode == 125
    finally:
        berthd.berthctl("rm", "-f", name)
    assert berthd.berthctl("exec", name, "true").returncode == 125


def test_pause_unpause_restart_rename(busybox_image, berthd):
    name = uniq("clictl")
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sleep", "300", check=True)
    try:
        assert berthd.berthctl("pause", name, check=True).stdout.strip() == name
        assert inspect(berthd, name)["State"]["Status"] == "paused"
        assert "(Paused)" in berthd.berthctl("ps", check=True).stdout
        assert berthd.berthctl("pause", name).returncode == 125
        berthd.berthctl("unpause", name, check=True)
        assert inspect(berthd, name)["State"]["Status"] == "running"
        pid = inspect(berthd, name)["State"]["Pid"]
        berthd.berthctl("restart", "-t", "1", name, check=True, timeout=30)
        assert inspect(berthd, name)["State"]["Pid"] not in (0, pid)
        new = uniq("renamed")
        berthd.berthctl("rename", name, new, check=True)
        assert inspect(berthd, new)["Name"] == "/" + new
        name = new
    finally:
        berthd.berthctl("rm", "-f", name)


def test_restart_flag(busybox_image, berthd):
    name = uniq("clirestart")
    berthd.berthctl("run", "-d", "--name", name, "--restart", "on-failure:1", busybox_image, "sh", "-c", "exit 2",
                    check=True)
    obj = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                        check=True).stdout.split('"')[1]

    def count():
        out = berthd.busctl("--json=short", "get-property", "org.berth1", obj, "org.berth1.Container",
                            "RestartCount", check=True).stdout
        return json.loads(out)["data"]

    berthd.wait_until(lambda: count() == 1, timeout=10, what="one restart")
    for bad in ["sometimes", "on-failure:x", "always:3"]:
        proc = berthd.berthctl("create", "--restart", bad, busybox_image, "true")
        assert proc.returncode == 125, (bad, proc)
    assert berthd.berthctl("create", "--rm", "--restart", "always", busybox_image, "true").returncode == 125


def test_logs_follow_ends_with_the_container(busybox_image, berthd):
    name = uniq("follow")
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sh", "-c",
                    "for i in 1 2 3; do echo line $i; sleep 0.3; done", check=True)
    proc = berthd.berthctl("logs", "-f", name, check=True, timeout=30)
    assert proc.stdout == "line 1\nline 2\nline 3\n"
    ts = berthd.berthctl("logs", "-t", "--tail", "1", name, check=True).stdout
    assert ts.endswith(" line 3\n") and ts[:4].isdigit() and "T" in ts.split()[0]


def test_inspect_image_and_unknown(busybox_image, berthd):
    data = json.loads(berthd.berthctl("inspect", busybox_image, check=True).stdout)[0]
    assert data["Id"].startswith("sha256:") and "busybox:latest" in data["RepoTags"]
    assert data["RootFS"]["Layers"][0].startswith("sha256:")
    proc = berthd.berthctl("inspect", "no-such-thing")
    assert proc.returncode == 1 and "No such object" in proc.stderr


def test_help_for_every_command(berthd):
    out = berthd.berthctl("--help", check=True).stdout
    commands = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.startswith("  ")]
    assert "exec" in commands and "run" in commands
    for command in commands:
        if command == "help":
            continue
        proc = berthd.berthctl(command, "--help")
        assert proc.returncode == 0 and proc.stdout.startswith("Usage: berthctl"), (command, proc)


def test_ps_filters(busybox_image, berthd):
    tag = uuid.uuid4().hex[:6]
    running, exited = f"flt-run-{tag}", f"flt-exit-{tag}"
    berthd.berthctl("run", "-d", "--name", running, busybox_image, "sleep", "300", check=True)
    berthd.berthctl("run", "--name", exited, busybox_image, "true", check=True)
    try:
        out = berthd.berthctl("ps", "-a", "--filter", f"name={tag}", check=True).stdout
        assert running in out and exited in out
        out = berthd.berthctl("ps", "--filter", f"name={tag}", "--filter", "status=exited", check=True).stdout
        assert exited in out and running not in out
        out = berthd.berthctl("ps", "-q", "--filter", f"name={running}", check=True).stdout.split()
        assert len(out) == 1 and len(out[0]) == 12
        assert berthd.berthctl("ps", "--filter", "colour=blue").returncode == 125
        out = berthd.berthctl("ps", "-a", "--filter", f"name={tag}", "--format", "{{.Names}}:{{.State}}",
                              check=True).stdout.split()
        assert sorted(out) == sorted([f"{running}:running", f"{exited}:exited"])
        proc = berthd.berthctl("ps", "-a", "--filter", f"name={tag}", "--format", "{{.Bogus}}")
        assert proc.returncode == 125 and "Bogus" in proc.stderr
    finally:
        berthd.berthctl("rm", "-f", running, exited)


def test_inspect_format(busybox_image, berthd):
    name = uniq("fmt")
    berthd.berthctl("create", "--name", name, busybox_image, "sleep", "1", check=True)
    try:
        out = berthd.berthctl("inspect", "-f", "{{.State.Status}} {{.Name}} {{json .Config.Cmd}}", name,
                              check=True).stdout
        assert out == f'created /{name} ["sleep","1"]\n'
        cid = berthd.berthctl("inspect", "--format", "{{.Id}}", name, check=True).stdout.strip()
        assert len(cid) == 64
        proc = berthd.berthctl("inspect", "-f", "{{.Nope}}", name)
        assert proc.returncode == 125 and "Nope" in proc.stderr
    finally:
        berthd.berthctl("rm", name)


def test_labels(busybox_image, berthd):
    tag = uuid.uuid4().hex[:6]
    a, b = f"lbl-a-{tag}", f"lbl-b-{tag}"
    berthd.berthctl("create", "--name", a, "--label", f"tier=web-{tag}", "--label", "flag", busybox_image, "true",
                    check=True)
    berthd.berthctl("create", "--name", b, "--label", f"tier=db-{tag}", busybox_image, "true", check=True)
    try:
        labels = json.loads(berthd.berthctl("inspect", a, check=True).stdout)[0]["Config"]["Labels"]
        assert labels == {"tier": f"web-{tag}", "flag": ""}
        out = berthd.berthctl("ps", "-a", "--filter", f"label=tier=web-{tag}", "--format", "{{.Names}}",
                              check=True).stdout.split()
        assert out == [a]
        out = berthd.berthctl("ps", "-a", "--filter", f"name={tag}", "--filter", "label=tier", "--format",
                              "{{.Names}}", check=True).stdout.split()
        assert sorted(out) == sorted([a, b])
        assert berthd.berthctl("create", "--label", "=x", busybox_image, "true").returncode == 125
    finally:
        berthd.berthctl("rm", a, b)


def test_help_of_every_subcommand_needs_no_berthd(berthd):
    """--help is answered before anything talks to berthd, and a subcommand never takes --help for
    the name of an object (volume rm --help once tried to remove a volume named so)."""
    berthd.systemctl("stop", "berthd.service", check=True)
    try:
        for argv in (["volume", "ls"], ["volume", "rm"], ["volume", "create"], ["volume", "prune"],
                     ["volume", "inspect"], ["system", "df"], ["system", "prune"], ["network", "ls"],
                     ["stats"], ["cp"], ["exec"], ["update"], ["run"]):
            proc = berthd.run(["env", "DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent", "berthctl", *argv, "--help"])
            assert proc.returncode == 0 and proc.stdout.startswith("Usage: berthctl"), (argv, proc)
    finally:
        berthd.systemctl("start", "berthd.service", check=True)


def test_events_since_replays_what_berthd_journaled(busybox_image, berthd):
    """events --since in the past: the container events before berthctl ran, from the journal, in
    order, with the live stream's attributes and filters."""
    import time
    since = f"{time.time() - 1:.3f}"
    name = uniq("past")
    berthd.berthctl("run", "--name", name, "--label", "team=blue", busybox_image, "sh", "-c", "exit 3", check=False)
    berthd.berthctl("rename", name, f"{name}-2", check=True)
    berthd.berthctl("rm", f"{name}-2", check=True)
    berthd.run(["journalctl", "--sync"])
    until = f"{time.time():.3f}"
    fmt = "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.team}} {{.Actor.Attributes.exitCode}}"
    out = berthd.berthctl("events", "--since", since, "--until", until, "--filter", "label=team=blue",
                          "--format", fmt, check=True, timeout=30).stdout.split("\n")
    got = [line.split() for line in out if line]
    assert got == [["create", name, "blue", "<no", "value>"], ["start", name, "blue", "<no", "value>"],
                   ["die", name, "blue", "3"], ["rename", f"{name}-2", "blue", "<no", "value>"],
                   ["destroy", f"{name}-2", "blue", "<no", "value>"]], got
    # Filters apply to the past too; a window wholly in the past ends at once.
    out = berthd.berthctl("events", "--since", since, "--until", until, "--filter", "event=die",
                          "--filter", f"container={name}", check=True, timeout=30).stdout
    assert out.count(" container die ") == 1 and "exitCode=3" in out, out
