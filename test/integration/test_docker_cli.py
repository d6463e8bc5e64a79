# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a docker user types works (issue #20, commands and flags other than run/create's): version,
info, the management commands (container, image, system), prune, stop/restart -s, wait --condition,
ps and images and volume ls flags and filters. Each case checks the effect, not only that the
command is accepted."""
import json
import re
import uuid

import pytest

# What this file tests does not depend on the cgroup layout or the storage driver: first pass only.
pytestmark = pytest.mark.once


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def ok(bed, *args, **kw):
    return bed.berthctl(*args, check=True, **kw).stdout


def fails(bed, *args, code=125, **kw):
    proc = bed.berthctl(*args, **kw)
    assert proc.returncode == code, proc
    return proc.stderr


# -- version and info --------------------------------------------------------------------------


def test_version(berthd):
    out = ok(berthd, "version")
    server_version = berthd.busctl("get-property", "org.berth1", "/org/berth1", "org.berth1.Manager",
                                   "Version", check=True).stdout.split('"')[1]
    assert re.search(r"^Client:\n Version: +\S+\n API version: +1\n OS/Arch: +linux/\w+\n", out, re.M), out
    assert "\nServer: berth\n Engine:\n" in out, out
    assert re.search(rf"^  Version: +{re.escape(server_version)}$", out, re.M), out
    assert re.search(r"^  API version: +1$", out, re.M), out
    # The value column starts where Docker's does (column 20).
    assert all(line.index(line.split()[-1]) == 20 for line in out.splitlines()
               if line.strip().startswith(("Version:", "API version:"))), out


@pytest.mark.parametrize("fmt,want", [
    ("{{.Server.Version}}", lambda v, k: v),
    ("{{.Client.ApiVersion}}/{{.Server.ApiVersion}}", lambda v, k: "1/1"),
    ("{{.Server.KernelVersion}}", lambda v, k: k),
    ("{{.Client.Os}}", lambda v, k: "linux"),
])
def test_version_format(berthd, fmt, want):
    version = berthd.busctl("get-property", "org.berth1", "/org/berth1", "org.berth1.Manager",
                            "Version", check=True).stdout.split('"')[1]
    kernel = berthd.run(["uname", "-r"], check=True).stdout.strip()
    assert ok(berthd, "version", "--format", fmt) == want(version, kernel) + "\n"


def test_version_json_and_bad_template(berthd):
    v = json.loads(ok(berthd, "version", "-f", "json"))
    assert v["Client"]["ApiVersion"] == "1" and v["Server"]["Platform"]["Name"] == "berth"
    err = fails(berthd, "version", "--format", "{{.Nope}}")
    assert "template" in err, err


def test_info_counts_and_fields(busybox_image, berthd):
    running, paused, stopped = uniq("info-run"), uniq("info-pause"), uniq("info-stop")
    try:
        ok(berthd, "run", "-d", "--name", running, busybox_image, "sleep", "300")
        ok(berthd, "run", "-d", "--name", paused, busybox_image, "sleep", "300")
        ok(berthd, "pause", paused)
        ok(berthd, "create", "--name", stopped, busybox_image, "true")
        info = json.loads(ok(berthd, "info", "--format", "{{json .}}"))
        states = [json.loads(line)["State"] for line in
                  ok(berthd, "ps", "-a", "--format", "{{json .}}").splitlines()]
        assert info["Containers"] == len(states)
        assert info["ContainersPaused"] == states.count("paused") >= 1
        assert info["ContainersRunning"] == states.count("running") + states.count("restarting") >= 1
        assert info["ContainersStopped"] == len(states) - info["ContainersRunning"] - info["ContainersPaused"] >= 1
        assert info["Images"] == len(set(ok(berthd, "images", "-q", "-a").split()))
        driver = berthd.busctl("get-property", "org.berth1", "/org/berth1", "org.berth1.Manager",
                               "StorageDriver", check=True).stdout.split('"')[1]
        assert info["Driver"] == driver
        assert info["DockerRootDir"] == "/var/lib/berth"
        assert info["CgroupDriver"] == "systemd" and info["LoggingDriver"] == "journald"
        unified = berthd.run(["stat", "-fc", "%T", "/sys/fs/cgroup"], check=True).stdout.strip() == "cgroup2fs"
        assert info["CgroupVersion"] == ("2" if unified else "1")
        assert info["CgroupLayout"] in (("unified",) if unified else ("hybrid", "legacy"))
        assert "name=seccomp,profile=builtin" in info["SecurityOptions"]
        assert info["KernelVersion"] == berthd.run(["uname", "-r"], check=True).stdout.strip()
        assert info["NCPU"] >= 1 and info["MemTotal"] > 0 and info["OSType"] == "linux"
        assert ok(berthd, "info", "-f", "{{.ContainersPaused}}") == f"{info['ContainersPaused']}\n"
        text = ok(berthd, "info")
        for line in (f" Containers: {info['Containers']}", f"  Paused: {info['ContainersPaused']}",
                     f" Storage Driver: {driver}", " Cgroup Driver: systemd",
                     f" Cgroup Version: {info['CgroupVersion']}", " Security Options:", "  seccomp",
                     "   Profile: builtin", " Berth Root Dir: /var/lib/berth"):
            assert f"\n{line}\n" in text, (line, text)
        assert re.search(r"^ Total Memory: [\d.]+[KMGT]iB$", text, re.M), text
    finally:
        berthd.berthctl("rm", "-f", running, paused, stopped)


def test_info_refuses_arguments(berthd):
    err = fails(berthd, "info", "extra")
    assert "accepts no arguments" in err, err


# -- management commands -----------------------------------------------------------------------


def state(bed, name):
    return ok(bed, "inspect", "--format", "{{.State.Status}}", name).strip()


@pytest.fixture()
def sleeper(busybox_image, berthd):
    name = uniq("mgmt")
    ok(berthd, "run", "-d", "--name", name, busybox_image, "sleep", "300")
    yield name
    berthd.berthctl("rm", "-f", name)


# (the management command's argv, the top-level one): the same output.
SAME_OUTPUT = [
    (["container", "ls", "-a", "-q"], ["ps", "-a", "-q"]),
    (["container", "list", "-a", "-q"], ["ps", "-a", "-q"]),
    (["container", "ps", "-a", "-q"], ["ps", "-a", "-q"]),
    (["container", "inspect", "{c}"], ["inspect", "{c}"]),
    (["container", "top", "{c}"], ["top", "{c}"]),
    (["container", "diff", "{c}"], ["diff", "{c}"]),
    (["container", "logs", "{c}"], ["logs", "{c}"]),
    (["container", "exec", "{c}", "echo", "hi"], ["exec", "{c}", "echo", "hi"]),
    (["image", "ls", "-q"], ["images", "-q"]),
    (["image", "list", "-q"], ["images", "-q"]),
    (["image", "inspect", "busybox"], ["inspect", "--type=image", "busybox"]),
    (["image", "history", "--no-trunc", "--format", "{{.ID}} {{.Size}} {{.CreatedBy}}", "busybox"],
     ["history", "--no-trunc", "--format", "{{.ID}} {{.Size}} {{.CreatedBy}}", "busybox"]),
    (["system", "info", "-f", "{{.Driver}} {{.Images}}"], ["info", "-f", "{{.Driver}} {{.Images}}"]),
]


@pytest.mark.parametrize("mgmt,plain", SAME_OUTPUT, ids=[" ".join(m[:2]) for m, _ in SAME_OUTPUT])
def test_management_command_is_the_verb(berthd, sleeper, mgmt, plain):
    fill = lambda argv: [a.replace("{c}", sleeper) for a in argv]
    assert ok(berthd, *fill(mgmt)) == ok(berthd, *fill(plain))


def test_container_commands_act(busybox_image, berthd):
    name, new = uniq("mgmt-life"), uniq("mgmt-renamed")
    try:
        cid = ok(berthd, "container", "create", "--name", name, busybox_image, "sleep", "300").strip()
        assert state(berthd, cid) == "created"
        ok(berthd, "container", "start", name)
        assert state(berthd, name) == "running"
        ok(berthd, "container", "pause", name)
        assert state(berthd, name) == "paused"
        ok(berthd, "container", "unpause", name)
        assert state(berthd, name) == "running"
        ok(berthd, "container", "update", "--memory", "64m", name)
        assert ok(berthd, "inspect", "-f", "{{.HostConfig.Memory}}", name).strip() == str(64 << 20)
        ok(berthd, "container", "rename", name, new)
        assert state(berthd, new) == "running"
        ok(berthd, "container", "kill", "-s", "KILL", new)
        assert ok(berthd, "container", "wait", new) == "137\n"
        ok(berthd, "container", "restart", "-t", "0", new)
        assert state(berthd, new) == "running"
        ok(berthd, "container", "stop", "-t", "0", new)
        assert state(berthd, new) == "exited"
        ok(berthd, "container", "cp", "/etc/hostname", f"{new}:/copied")
        assert "A /copied" in ok(berthd, "container", "diff", new)
        export = berthd.run(["sh", "-c", f"berthctl container export {new} | tar -t"], check=True).stdout
        assert "copied" in export.split()
        image = uniq("mgmt-commit")
        ok(berthd, "container", "commit", new, image)
        try:
            assert ok(berthd, "run", "--rm", image, "cat", "/copied").strip()
        finally:
            ok(berthd, "image", "rm", image)
        ok(berthd, "container", "rm", new)
        assert berthd.berthctl("inspect", new).returncode != 0
        assert ok(berthd, "container", "run", "--rm", busybox_image, "echo", "ran") == "ran\n"
    finally:
        berthd.berthctl("rm", "-f", name, new)


def test_container_inspect_is_only_containers(berthd, busybox_image):
    err = fails(berthd, "container", "inspect", busybox_image, code=1)
    assert "No such container" in err, err


def test_unknown_management_subcommand(berthd):
    err = fails(berthd, "container", "frobnicate")
    assert 'unknown command "container frobnicate"' in err, err


def test_container_prune(busybox_image, berthd):
    keep, gone, labeled, running = uniq("prune-keep"), uniq("prune-gone"), uniq("prune-lab"), uniq("prune-run")
    t = uniq("t")  # a label key of this test only: other tests' containers are never selected
    try:
        ok(berthd, "create", "--name", keep, "--label", f"{t}=keep", busybox_image, "true")
        ok(berthd, "run", "--name", gone, "--label", f"{t}=x", busybox_image, "sh", "-c", "echo data > /f")
        ok(berthd, "create", "--name", labeled, "--label", f"{t}=y", busybox_image, "true")
        ok(berthd, "run", "-d", "--name", running, "--label", f"{t}=x", busybox_image, "sleep", "300")
        gone_id, labeled_id = (ok(berthd, "inspect", "-f", "{{.Id}}", n).strip() for n in (gone, labeled))
        # Without -f it asks; anything but y keeps everything.
        proc = berthd.berthctl("container", "prune", "--filter", f"label={t}=x", input="n\n")
        assert proc.returncode == 0 and "WARNING! This will remove all stopped containers." in proc.stdout
        assert berthd.berthctl("inspect", gone).returncode == 0
        out = ok(berthd, "container", "prune", "-f", "--filter", f"label={t}=x")
        assert out.startswith(f"Deleted Containers:\n{gone_id}\n\nTotal reclaimed space: "), out
        assert re.search(r"Total reclaimed space: [1-9][\d.]*k?B\n$", out), out
        assert berthd.berthctl("inspect", gone).returncode != 0
        for still in (keep, labeled, running):
            assert berthd.berthctl("inspect", still).returncode == 0, still
        # until: none of them was created before an hour ago.
        out = ok(berthd, "container", "prune", "-f", "--filter", f"label={t}", "--filter", "until=1h")
        assert out == "Total reclaimed space: 0B\n", out
        out = ok(berthd, "container", "prune", "-f", "--filter", f"label={t}", "--filter", f"label!={t}=keep")
        assert out.startswith(f"Deleted Containers:\n{labeled_id}\n\n"), out
        assert berthd.berthctl("inspect", keep).returncode == 0
        assert berthd.berthctl("inspect", running).returncode == 0
        err = fails(berthd, "container", "prune", "-f", "--filter", "bogus=1")
        assert "invalid filter" in err, err
        err = fails(berthd, "container", "prune", "extra")
        assert "accepts no arguments" in err, err
    finally:
        berthd.berthctl("rm", "-f", keep, gone, labeled, running)


# -- stop -s, restart -s, wait --condition ----------------------------------------------------

TRAPS = ("trap 'echo got TERM; exit 4' TERM; trap 'echo got USR1; exit 3' USR1; "
         "trap 'echo got HUP; exit 5' HUP; echo ready; while :; do sleep 0.1; done")


def wait_ready(bed, name):
    bed.wait_until(lambda: "ready" in bed.berthctl("logs", name).stdout, what=f"{name} ready")


@pytest.mark.parametrize("flags,code,line", [
    ([], 4, "got TERM"),
    (["-s", "USR1"], 3, "got USR1"),
    (["--signal", "SIGHUP"], 5, "got HUP"),
    (["--signal=10"], 3, "got USR1"),  # by number (SIGUSR1 on x86 and arm)
    (["-s", "hup", "-t", "5"], 5, "got HUP"),
])
def test_stop_signal(busybox_image, berthd, flags, code, line):
    name = uniq("stopsig")
    try:
        ok(berthd, "run", "-d", "--name", name, busybox_image, "sh", "-c", TRAPS)
        wait_ready(berthd, name)
        assert ok(berthd, "stop", *flags, name) == f"{name}\n"
        assert ok(berthd, "inspect", "-f", "{{.State.ExitCode}}", name) == f"{code}\n"
        assert line in ok(berthd, "logs", name)
    finally:
        berthd.berthctl("rm", "-f", name)


def test_stop_signal_paused_and_ignored(busybox_image, berthd):
    name = uniq("stopsig-p")
    try:
        ok(berthd, "run", "-d", "--name", name, busybox_image, "sh", "-c", TRAPS)
        wait_ready(berthd, name)
        ok(berthd, "pause", name)
        ok(berthd, "stop", "-s", "USR1", name)  # thawed, then the signal
        assert ok(berthd, "inspect", "-f", "{{.State.ExitCode}}", name) == "3\n"
        # A signal the payload ignores: killed after the grace period.
        ok(berthd, "start", name)
        ok(berthd, "stop", "-s", "WINCH", "-t", "1", name)
        assert ok(berthd, "inspect", "-f", "{{.State.ExitCode}}", name) == "137\n"
    finally:
        berthd.berthctl("rm", "-f", name)


def test_restart_signal(busybox_image, berthd):
    name = uniq("restartsig")
    try:
        ok(berthd, "run", "-d", "--name", name, busybox_image, "sh", "-c", TRAPS)
        wait_ready(berthd, name)
        started = ok(berthd, "inspect", "-f", "{{.State.StartedAt}}", name)
        assert ok(berthd, "restart", "-s", "USR1", name) == f"{name}\n"
        assert state(berthd, name) == "running"
        assert ok(berthd, "inspect", "-f", "{{.State.StartedAt}}", name) != started
        assert "got USR1" in ok(berthd, "logs", name)
        ok(berthd, "container", "restart", "--signal", "HUP", name)
        assert "got HUP" in ok(berthd, "logs", name)
    finally:
        berthd.berthctl("rm", "-f", name)


@pytest.mark.parametrize("verb", ["stop", "restart"])
def test_stop_bad_signal(berthd, verb):
    err = fails(berthd, verb, "-s", "NOSUCHSIG", "whatever")
    assert "Invalid signal: NOSUCHSIG" in err, err


def in_background(bed, *args):
    import concurrent.futures
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(bed.berthctl, *args, timeout=60)
    pool.shutdown(wait=False)
    return future


AGAIN = "if [ -f /ran ]; then sleep 2; exit 9; fi; touch /ran; exit 7"


def test_wait_conditions(busybox_image, berthd):
    created, name = uniq("wait-created"), uniq("wait-cond")
    try:
        ok(berthd, "create", "--name", created, busybox_image, "true")
        # not-running: at once for a created container (0) and an exited one (its code).
        assert ok(berthd, "wait", "--condition", "not-running", created, timeout=10) == "0\n"
        assert berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c", AGAIN).returncode == 7
        assert ok(berthd, "wait", "--condition", "not-running", name, timeout=10) == "7\n"
        assert ok(berthd, "container", "wait", "--condition=not-running", name, timeout=10) == "7\n"
        # next-exit: not the exit that happened, the next one.
        future = in_background(berthd, "wait", "--condition", "next-exit", name)
        ok(berthd, "start", name)
        proc = future.result(timeout=30)
        assert proc.returncode == 0 and proc.stdout == "9\n", proc
        # not-running of a running container: at its exit.
        ok(berthd, "start", name)
        assert ok(berthd, "wait", "--condition", "not-running", name, timeout=30) == "9\n"
        # removed: not at the exit, at the removal.
        future = in_background(berthd, "wait", "--condition", "removed", name)
        import time
        time.sleep(1)
        assert not future.done()
        ok(berthd, "rm", name)
        proc = future.result(timeout=30)
        assert proc.returncode == 0 and proc.stdout == "9\n", proc
    finally:
        berthd.berthctl("rm", "-f", created, name)


def test_wait_bad_condition(berthd):
    err = fails(berthd, "wait", "--condition", "whenever", "x")
    assert 'invalid condition: "whenever"' in err, err


# -- ps: -n, -l, -s, filters, --format ----------------------------------------------------------


@pytest.fixture(scope="module")
def psbed(busybox_image, berthd):
    """Five containers of this module only, created in order a..e: a created (a volume at /data),
    b exited 3, c running (from child, an image built on busybox), d exited 0 (from child, a label),
    e paused. Each has the label <tag>."""
    tag = uniq("ps")
    names = {k: f"{tag}-{k}" for k in "abcde"}
    child = f"{tag}-child:1"
    base = uniq("ps-base")
    lab = ["--label", f"{tag}=1"]
    ok(berthd, "run", "--name", base, busybox_image, "sh", "-c", "echo child > /child")
    ok(berthd, "commit", base, child)
    ok(berthd, "rm", base)
    ok(berthd, "create", *lab, "--name", names["a"], "-v", f"{tag}-vol:/data", busybox_image, "true")
    berthd.berthctl("run", *lab, "--name", names["b"], busybox_image, "sh", "-c", "exit 3")
    ok(berthd, "run", "-d", *lab, "--name", names["c"], child, "sleep", "300")
    ok(berthd, "run", *lab, "--label", f"{tag}x=1", "--name", names["d"], child,
       "dd", "if=/dev/zero", "of=/big", "bs=1000", "count=100")
    ok(berthd, "run", "-d", *lab, "--name", names["e"], busybox_image, "sleep", "300")
    ok(berthd, "pause", names["e"])
    ids = {k: ok(berthd, "inspect", "-f", "{{.Id}}", n).strip() for k, n in names.items()}
    yield {"tag": tag, "names": names, "ids": ids, "child": child}
    berthd.berthctl("rm", "-f", *names.values())
    berthd.berthctl("rmi", child)
    berthd.berthctl("volume", "rm", f"{tag}-vol")


# (flags, with {tag}/{child}/{id:c}/{name:c} filled in; the containers listed, newest first).
PS_CASES = [
    (["-a"], "edcba"),
    ([], "ec"),
    (["--filter", "status=exited"], "db"),
    (["-a", "--filter", "status=created"], "a"),
    (["--filter", "status=paused"], "e"),
    (["--filter", "status=exited", "--filter", "status=created"], "dba"),
    (["-a", "--filter", "exited=3"], "b"),
    (["-a", "--filter", "exited=0"], "d"),
    (["-a", "--filter", "status=exited", "--filter", "exited=0"], "d"),
    (["-a", "--filter", "ancestor=busybox"], "edcba"),
    (["-a", "--filter", "ancestor={child}"], "dc"),
    (["-a", "--filter", "ancestor=no-such-image"], ""),
    (["-a", "--filter", "before={name:c}"], "ba"),
    (["-a", "--filter", "since={name:c}"], "ed"),
    (["-a", "--filter", "since={name:a}", "--filter", "before={id:e}"], "dcb"),
    (["-a", "--filter", "volume={tag}-vol"], "a"),
    (["-a", "--filter", "volume=/data"], "a"),
    (["-a", "--filter", "id={id:c}"], "c"),
    (["-a", "--filter", "id=^{short:d}"], "d"),
    (["-n", "2"], "ed"),
    (["--last=3"], "edc"),
    (["-l"], "e"),
    (["-a", "-n", "-1"], "edcba"),
    (["-n", "2", "--filter", "status=exited"], "db"),
]
# Filters that select by themselves (no label scope added: same-key values are alternatives).
PS_SELF_SCOPED = [
    (["-a", "--filter", "name={tag}-[ab]$"], "ba"),
    (["-a", "--filter", "name=^/{tag}-c$"], "c"),
    (["-a", "--filter", "name={tag}-a", "--filter", "name={tag}-e"], "ea"),
    (["-a", "--filter", "label={tag}x=1"], "d"),
    (["-a", "--filter", "label={tag}x"], "d"),
    (["-a", "--filter", "label={tag}=1", "--filter", "status=running"], "c"),
]


def fill(bed, argv):
    out = []
    for a in argv:
        a = a.replace("{tag}", bed["tag"]).replace("{child}", bed["child"])
        for k in "abcde":
            a = a.replace(f"{{name:{k}}}", bed["names"][k]).replace(f"{{id:{k}}}", bed["ids"][k])
            a = a.replace(f"{{short:{k}}}", bed["ids"][k][:12])
        out.append(a)
    return out


@pytest.mark.parametrize("flags,want", PS_CASES + PS_SELF_SCOPED,
                         ids=[" ".join(f) or "default" for f, _ in PS_CASES + PS_SELF_SCOPED])
def test_ps_filters_and_limits(berthd, psbed, flags, want):
    scope = [] if (flags, want) in PS_SELF_SCOPED else ["--filter", f"label={psbed['tag']}"]
    out = ok(berthd, "ps", *fill(psbed, flags), *scope, "--format", "{{.Names}}")
    assert out.split() == [psbed["names"][k] for k in want], out
    # -q lists the same containers by id.
    quiet = ok(berthd, "ps", "-q", *fill(psbed, flags), *scope)
    assert quiet.split() == [psbed["ids"][k][:12] for k in want], quiet


@pytest.mark.parametrize("flt,message", [
    ("is-task=true", "invalid filter 'is-task=true'"),
    ("is-task=false", "invalid filter 'is-task=false'"),
    ("colour=blue", "invalid filter 'colour'"),
    ("status=sleeping", "invalid filter 'status=sleeping'"),
    ("exited=zero", "invalid filter 'exited=zero'"),
    ("name", "bad format of filter (expected name=value)"),
    ("name=a(b", "error parsing regexp"),
    ("before=no-such-container-x", "No such container: no-such-container-x"),
])
def test_ps_bad_filters(berthd, flt, message):
    err = fails(berthd, "ps", "--filter", flt)
    assert message in err, err


def test_ps_size(berthd, psbed):
    d = psbed["names"]["d"]
    out = ok(berthd, "ps", "-a", "-s", "--filter", f"name=^{d}$")
    header, row = out.splitlines()
    assert header.split()[-1] == "SIZE" and header.startswith("CONTAINER ID"), out
    m = re.search(r"([\d.]+)(B|kB|MB) \(virtual ([\d.]+)(kB|MB)\)$", row)
    assert m, row
    scale = {"B": 1, "kB": 1e3, "MB": 1e6}
    rw, virtual = float(m[1]) * scale[m[2]], float(m[3]) * scale[m[4]]
    assert rw >= 100e3 and virtual > rw, row
    # The same as system df -v's writable layer; a template asking for .Size gets it without -s.
    assert ok(berthd, "ps", "-a", "--filter", f"name=^{d}$", "--format", "{{.Size}}").strip() == \
        row[row.index(m[0]):]
    assert "SIZE" not in ok(berthd, "ps", "-a", "--filter", f"name=^{d}$")


def test_ps_format_fields(berthd, psbed):
    a = psbed["names"]["a"]
    row = json.loads(ok(berthd, "ps", "-a", "--filter", f"name=^{a}$", "--format", "json"))
    assert row["Names"] == a and row["State"] == "created" and row["Status"] == "Created"
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$", row["CreatedAt"]), row
    assert row["RunningFor"].endswith("ago"), row
    assert row["Mounts"] == f"{psbed['tag']}-vol" and row["LocalVolumes"] == "1", row
    assert row["Labels"] == f"{psbed['tag']}=1", row
    assert row["Command"] == '"true"' and row["ID"] == psbed["ids"]["a"][:12]
    out = ok(berthd, "ps", "-a", "--filter", f"name=^{a}$", "--format", "table {{.Names}}\\t{{.State}}")
    assert re.match(rf"^NAMES +STATE\n{a} +created\n$", out), out
    err = fails(berthd, "ps", "--format", "{{.Bogus}}")
    assert "invalid --format" in err, err


# -- volume ls, volume prune -------------------------------------------------------------------


@pytest.fixture(scope="module")
def volbed(busybox_image, berthd):
    """v1 (label <tag>=a, used by a container), v2 (<tag>=b, unused), v4 (<tag>=c, unused)."""
    tag = uniq("vol")
    vols = {k: f"{tag}-{k}" for k in ("v1", "v2", "v4")}
    for k, lab in (("v1", "a"), ("v2", "b"), ("v4", "c")):
        ok(berthd, "volume", "create", "--label", f"{tag}={lab}", vols[k])
    user = uniq("vol-user")
    ok(berthd, "create", "--name", user, "-v", f"{vols['v1']}:/data", busybox_image, "true")
    yield {"tag": tag, "vols": vols, "user": user}
    berthd.berthctl("rm", "-f", user)
    berthd.berthctl("volume", "rm", "-f", *vols.values())


VOLUME_LS_CASES = [
    (["--filter", "name={tag}-"], ["v1", "v2", "v4"]),
    (["--filter", "name={tag}-v[12]$"], ["v1", "v2"]),
    (["--filter", "name=^{tag}-v4$", "--filter", "name=^{tag}-v1$"], ["v1", "v4"]),
    (["--filter", "name={tag}-", "--filter", "dangling=true"], ["v2", "v4"]),
    (["--filter", "name={tag}-", "--filter", "dangling=0"], ["v1"]),
    (["--filter", "label={tag}=a"], ["v1"]),
    (["--filter", "label={tag}"], ["v1", "v2", "v4"]),
    (["--filter", "label={tag}=b", "--filter", "label={tag}=c"], ["v2", "v4"]),
    (["--filter", "name={tag}-", "--filter", "driver=local"], ["v1", "v2", "v4"]),
    (["--filter", "name={tag}-", "--filter", "driver=nosuchdriver"], []),
]


@pytest.mark.parametrize("flags,want", VOLUME_LS_CASES, ids=[" ".join(f) for f, _ in VOLUME_LS_CASES])
def test_volume_ls_filters(berthd, volbed, flags, want):
    flags = [f.replace("{tag}", volbed["tag"]) for f in flags]
    names = [volbed["vols"][k] for k in want]
    assert ok(berthd, "volume", "ls", "-q", *flags).split() == names
    table = ok(berthd, "volume", "ls", *flags).splitlines()
    assert table[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert [line.split() for line in table[1:]] == [["local", n] for n in names]


def test_volume_ls_format(berthd, volbed):
    v1, tag = volbed["vols"]["v1"], volbed["tag"]
    out = ok(berthd, "volume", "ls", "--filter", f"name=^{v1}$", "--format",
             "{{.Name}}|{{.Driver}}|{{.Scope}}|{{.Labels}}|{{.Links}}")
    assert out == f"{v1}|local|local|{tag}=a|1\n"
    row = json.loads(ok(berthd, "volume", "ls", "--filter", f"name=^{v1}$", "--format", "json"))
    assert row["Name"] == v1 and row["Mountpoint"].endswith(f"/volumes/{v1}/_data"), row
    out = ok(berthd, "volume", "ls", "--filter", f"name=^{v1}$", "--format", "table {{.Name}}\\t{{.Labels}}")
    assert re.match(rf"^VOLUME NAME +LABELS\n{v1} +{tag}=a\n$", out), out


@pytest.mark.parametrize("flt,message", [
    ("colour=blue", "invalid filter 'colour'"),
    ("dangling=maybe", "invalid filter 'dangling=maybe'"),
    ("name", "bad format of filter (expected name=value)"),
])
def test_volume_ls_bad_filters(berthd, flt, message):
    err = fails(berthd, "volume", "ls", "--filter", flt)
    assert message in err, err


def test_volume_prune(busybox_image, berthd):
    tag = uniq("vprune")
    named, other, used = f"{tag}-named", f"{tag}-other", f"{tag}-used"
    user, anon_user = uniq("vprune-user"), uniq("vprune-anon")
    try:
        for v, lab in ((named, "x"), (other, "y"), (used, "x")):
            ok(berthd, "volume", "create", "--label", f"{tag}={lab}", v)
        ok(berthd, "create", "--name", user, "-v", f"{used}:/d", busybox_image, "true")
        ok(berthd, "create", "--name", anon_user, "-v", "/scratch", busybox_image, "true")
        (anon,) = [m.split("\t")[0] for m in ok(berthd, "inspect", "-f",
                   "{{range .Mounts}}{{.Name}}\t{{.Destination}}\n{{end}}", anon_user).splitlines()
                   if m.endswith("\t/scratch")]
        ok(berthd, "rm", anon_user)  # without -v: its anonymous volume stays, unused
        berthd.run(["sh", "-c", f"echo 12345 > /var/lib/berth/volumes/{named}/_data/f"], check=True)
        # Asks first; "n" keeps everything.
        proc = berthd.berthctl("volume", "prune", "-a", "--filter", f"label={tag}", input="n\n")
        assert "WARNING! This will remove all local volumes not used by at least one container." in proc.stdout
        assert named in ok(berthd, "volume", "ls", "-q")
        # -a with a label filter: the unused named volumes it selects, not the used one.
        out = ok(berthd, "volume", "prune", "-a", "-f", "--filter", f"label={tag}=x")
        assert out == f"Deleted Volumes:\n{named}\n\nTotal reclaimed space: 6B\n", out
        left = ok(berthd, "volume", "ls", "-q").split()
        assert named not in left and other in left and used in left and anon in left
        # label!= and all=true (Docker's filter for -a).
        out = ok(berthd, "volume", "prune", "-f", "--filter", "all=true", "--filter", f"label={tag}",
                 "--filter", f"label!={tag}=x")
        assert out.startswith(f"Deleted Volumes:\n{other}\n\n"), out
        # Without -a: anonymous ones only (named ones stay).
        proc = berthd.berthctl("volume", "prune", input="y\n")
        assert "WARNING! This will remove anonymous local volumes not used by at least one container." in proc.stdout
        assert anon in proc.stdout and "Total reclaimed space:" in proc.stdout
        left = ok(berthd, "volume", "ls", "-q").split()
        assert anon not in left and used in left
        err = fails(berthd, "volume", "prune", "-f", "--filter", "dangling=true")
        assert "invalid filter 'dangling'" in err, err
    finally:
        berthd.berthctl("rm", "-f", user, anon_user)
        berthd.berthctl("volume", "rm", "-f", named, other, used)


# -- images --filter and --format ---------------------------------------------------------------


@pytest.fixture(scope="module")
def imgbed(busybox_image, berthd):
    """Images committed in order a, b, c, d (labels <tag>=a.. ), then d again, which leaves the
    first d untagged (dangling, label <tag>=d; the new d has <tag>=d2)."""
    tag = uniq("img")
    base = uniq("img-base")
    ok(berthd, "run", "--name", base, busybox_image, "sh", "-c", "echo x > /x")
    ids = {}
    for k, lab in (("a", "a"), ("b", "b"), ("c", "c"), ("d-old", "d"), ("d", "d2")):
        ref = f"{tag}-{k[0]}:1"
        ids[k] = ok(berthd, "commit", "-c", f"LABEL {tag}={lab}", base, ref).strip()
    ok(berthd, "rm", base)
    yield {"tag": tag, "ids": ids}
    for k in ids:
        berthd.berthctl("rmi", ids[k])


IMAGES_CASES = [
    (["--filter", "reference={tag}-*"], ["{tag}-d:1", "{tag}-c:1", "{tag}-b:1", "{tag}-a:1"]),
    (["--filter", "reference={tag}-a:*"], ["{tag}-a:1"]),
    (["--filter", "reference={tag}-[bc]"], ["{tag}-c:1", "{tag}-b:1"]),
    (["{tag}-b"], ["{tag}-b:1"]),
    (["{tag}-b:1"], ["{tag}-b:1"]),
    (["--filter", "label={tag}=b"], ["{tag}-b:1"]),
    (["--filter", "label={tag}=b", "--filter", "label={tag}=c"], []),  # labels: all must hold
    (["--filter", "label={tag}=d"], ["<none>:<none>"]),
    (["--filter", "label={tag}=d", "--filter", "dangling=true"], ["<none>:<none>"]),
    (["--filter", "label={tag}=d", "--filter", "dangling=false"], []),
    (["--filter", "reference={tag}-*", "--filter", "dangling=false"],
     ["{tag}-d:1", "{tag}-c:1", "{tag}-b:1", "{tag}-a:1"]),
    (["--filter", "reference={tag}-*", "--filter", "before={tag}-c:1"], ["{tag}-b:1", "{tag}-a:1"]),
    (["--filter", "reference={tag}-*", "--filter", "since={tag}-b:1"], ["{tag}-d:1", "{tag}-c:1"]),
]


@pytest.mark.parametrize("flags,want", IMAGES_CASES, ids=[" ".join(f) for f, _ in IMAGES_CASES])
def test_images_filters_table(berthd, imgbed, flags, want):
    t = imgbed["tag"]
    flags = [f.replace("{tag}", t) for f in flags]
    out = ok(berthd, "images", *flags, "--format", "{{.Repository}}:{{.Tag}}")
    assert out.split() == [w.replace("{tag}", t) for w in want], out


def test_images_quiet_and_format(berthd, imgbed):
    t, ids = imgbed["tag"], imgbed["ids"]
    assert ok(berthd, "images", "-q", "--filter", f"label={t}=a").split() == [ids["a"].split(":")[-1][:12]]
    out = ok(berthd, "images", "--filter", f"reference={t}-a", "--format", "table {{.Repository}}\\t{{.Tag}}")
    assert re.match(rf"^REPOSITORY +TAG\n{t}-a +1\n$", out), out
    row = json.loads(ok(berthd, "images", "--filter", f"reference={t}-b", "--format", "json"))
    assert row["Repository"] == f"{t}-b" and row["Tag"] == "1" and row["ID"] == ids["b"].split(":")[-1][:12]
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$", row["CreatedAt"]), row
    out = ok(berthd, "image", "ls", "--no-trunc", "--filter", f"reference={t}-c", "--format", "{{.ID}}")
    assert out == f"sha256:{ids['c'].split(':')[-1]}\n"


@pytest.mark.parametrize("flt,message", [
    ("colour=blue", "invalid filter 'colour'"),
    ("dangling=maybe", "invalid filter 'dangling=maybe'"),
    ("before=no-such-image-x", "no-such-image-x"),
])
def test_images_bad_filters(berthd, flt, message):
    err = fails(berthd, "images", "--filter", flt)
    assert message in err, err


# -- events ------------------------------------------------------------------------------------


def events_until(bed, seconds, *flags):
    """berthctl events in the background until `seconds` from now; its CompletedProcess later."""
    import time
    future = in_background(bed, "events", "--until", f"{time.time() + seconds:.3f}", *flags)
    time.sleep(1.5)  # subscribed by then
    return future


EVENT_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)) (\w+) (\w+) (\S+) \((.*)\)$")


def test_events_container_lifecycle(busybox_image, berthd):
    name, new = uniq("ev"), uniq("ev-new")
    future = events_until(berthd, 12, "--filter", f"container={name}", "--filter", f"container={new}")
    try:
        cid = ok(berthd, "create", "--name", name, "--label", "evl=1", busybox_image, "sleep", "300").strip()
        ok(berthd, "start", name)
        ok(berthd, "pause", name)
        ok(berthd, "unpause", name)
        ok(berthd, "kill", name)
        ok(berthd, "rename", name, new)
        ok(berthd, "rm", new)
    finally:
        berthd.berthctl("rm", "-f", name, new)
    proc = future.result(timeout=30)
    assert proc.returncode == 0, proc
    events = [EVENT_LINE.match(line) for line in proc.stdout.splitlines()]
    assert all(events), proc.stdout
    assert [(m[4], m[5]) for m in events] == [("container", a) for a in
                                              ("create", "start", "pause", "unpause", "die", "rename", "destroy")]
    assert {m[6] for m in events} == {cid}
    assert events[0][7] == f"evl=1, image={busybox_image}, name={name}", events[0][0]
    assert events[4][7] == f"evl=1, exitCode=137, image={busybox_image}, name={name}", events[4][0]
    assert events[5][7] == f"evl=1, image={busybox_image}, name={new}, oldName={name}", events[5][0]


def test_events_filters_and_format(busybox_image, berthd):
    name, vol = uniq("ev-f"), uniq("ev-vol")
    future = events_until(berthd, 8, "--filter", "type=volume", "--filter", f"volume={vol}",
                          "--format", "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}")
    future_ev = events_until(berthd, 8, "--filter", f"container={name}", "--filter", "event=start",
                             "--format", "json")
    try:
        ok(berthd, "volume", "create", vol)
        ok(berthd, "run", "--rm", "--name", name, busybox_image, "true")
        ok(berthd, "volume", "rm", vol)
    finally:
        berthd.berthctl("volume", "rm", vol)
    proc = future.result(timeout=30)
    assert proc.stdout == f"volume create {vol} local\nvolume destroy {vol} <no value>\n", proc
    proc = future_ev.result(timeout=30)
    (line,) = proc.stdout.splitlines()
    ev = json.loads(line)
    assert ev["Type"] == "container" and ev["Action"] == "start" and ev["Actor"]["Attributes"]["name"] == name
    assert ev["Scope"] == "local" and ev["TimeNano"] // 10**9 == ev["Time"]


def test_events_image_tags(busybox_image, berthd):
    tag = f"{uniq('ev-img')}:1"
    future = events_until(berthd, 6, "--filter", "type=image")
    ok(berthd, "tag", busybox_image, tag)
    ok(berthd, "rmi", tag)
    proc = future.result(timeout=30)
    actions = [(m[5], m[6]) for m in map(EVENT_LINE.match, proc.stdout.splitlines())]
    assert ("tag", tag) in actions and ("untag", tag) in actions, proc.stdout


@pytest.mark.parametrize("flt,message", [
    ("colour=blue", "invalid filter 'colour'"),
    ("type", "bad format of filter (expected name=value)"),
])
def test_events_bad_filters(berthd, flt, message):
    err = fails(berthd, "events", "--filter", flt)
    assert message in err, err


def test_system_events_is_events(berthd):
    import time
    out = ok(berthd, "system", "events", "--until", f"{time.time() + 1:.3f}")
    assert out == ""


def test_volume_inspect_format(berthd, volbed):
    v1, v2, tag = volbed["vols"]["v1"], volbed["vols"]["v2"], volbed["tag"]
    out = ok(berthd, "volume", "inspect", "--format", "{{.Name}} {{.Driver}} {{index .Labels \"" + tag + "\"}}",
             v1, v2)
    assert out == f"{v1} local a\n{v2} local b\n", out
    mp = ok(berthd, "volume", "inspect", "-f", "{{.Mountpoint}}", v1).strip()
    assert berthd.run(["test", "-d", mp]).returncode == 0
    row = json.loads(ok(berthd, "volume", "inspect", "-f", "json", v1))
    assert row["Name"] == v1 and row["UsedBy"], row
    assert "Usage: berthctl volume create" in ok(berthd, "volume", "create", "--help")
    assert "Usage: berthctl volume inspect" in ok(berthd, "volume", "inspect", "--help")
    err = fails(berthd, "volume", "create", "--bogus")
    assert "unknown flag: --bogus" in err, err


# -- history -q, -H, --format -------------------------------------------------------------------


def test_history_flags(busybox_image, berthd):
    layers = json.loads(berthd.busctl("--json=short", "get-property", "org.berth1",
                                      berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager",
                                                    "GetImage", "s", busybox_image, check=True).stdout.split('"')[1],
                                      "org.berth1.Image", "Layers", check=True).stdout)["data"]
    top_first = list(reversed(layers))
    assert ok(berthd, "history", "-q", busybox_image).split() == [l[7:19] for l in top_first]
    assert ok(berthd, "image", "history", "-q", "--no-trunc", busybox_image).split() == top_first
    # Flags after the image, as Docker takes them.
    assert ok(berthd, "history", busybox_image, "-q").split() == [l[7:19] for l in top_first]
    out = ok(berthd, "history", "--format", "{{.ID}}|{{.Size}}|{{.CreatedBy}}", busybox_image)
    ids, sizes, bys = zip(*(line.split("|") for line in out.splitlines()))
    assert list(ids) == [l[7:19] for l in top_first] and all(re.match(r"^[\d.]+k?M?B$", s) for s in sizes), out
    raw = ok(berthd, "history", "-H=false", "--format", "{{.Size}} {{.CreatedAt}}", busybox_image)
    size, created = raw.splitlines()[0].split(" ", 1)
    assert size.isdigit() and int(size) > 0, raw
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", created), raw
    assert ok(berthd, "history", "--human=false", "--format", "{{.Size}}", busybox_image) == \
        "\n".join(raw.split(" ", 1)[0] for raw in raw.splitlines()) + "\n"
    table = ok(berthd, "history", "--format", "table {{.ID}}\\t{{.Size}}", busybox_image).splitlines()
    assert table[0].split() == ["LAYER", "SIZE"] and len(table) == 1 + len(layers)
    err = fails(berthd, "history", "-H=maybe", busybox_image)
    assert "strconv.ParseBool" in err, err


def test_system_df_format(busybox_image, berthd):
    table = ok(berthd, "system", "df").splitlines()
    rows = [json.loads(line) for line in ok(berthd, "system", "df", "--format", "json").splitlines()]
    assert [r["Type"] for r in rows] == ["Images", "Containers", "Local Volumes"]
    assert table[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    for row, line in zip(rows, table[1:]):
        assert line.startswith(row["Type"]) and row["TotalCount"] in line and row["Size"] in line, (row, line)
    out = ok(berthd, "system", "df", "--format", "{{.Type}}={{.TotalCount}}")
    assert out.splitlines()[0] == f"Images={rows[0]['TotalCount']}", out
    assert int(rows[0]["TotalCount"]) == len(set(ok(berthd, "images", "-q").split()))
    err = fails(berthd, "system", "df", "-v", "--format", "json")
    assert "--format cannot be combined with --verbose" in err, err


def test_inspect_size(berthd, psbed):
    d = psbed["names"]["d"]
    (c,) = json.loads(ok(berthd, "container", "inspect", "-s", d))
    assert c["SizeRw"] >= 100_000 and c["SizeRootFs"] > c["SizeRw"], c
    assert ok(berthd, "inspect", "--size", "-f", "{{.SizeRw}}", d) == f"{c['SizeRw']}\n"
    (plain,) = json.loads(ok(berthd, "inspect", d))
    assert "SizeRw" not in plain and "SizeRootFs" not in plain
    # An image has no such fields, with or without -s.
    (image,) = json.loads(ok(berthd, "inspect", "-s", "busybox"))
    assert "SizeRw" not in image
