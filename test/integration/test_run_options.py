# SPDX-License-Identifier: LGPL-2.1-or-later
"""run/create options: --user, --workdir, --entrypoint, --stop-signal, and the nofile limit."""
import json
import time
import uuid


def run(bed, *args, **kw):
    return bed.berthctl("run", "--rm", *args, **kw)


def test_user_from_the_image_passwd(busybox_image, berthd):
    out = run(berthd, "-u", "nobody", busybox_image, "sh", "-c", "id -u; id -g; grep CapEff /proc/self/status",
              check=True).stdout.split("\n")
    assert out[0] == "65534" and out[1] == "65534"
    assert out[2].split()[1] == "0000000000000000"  # a user runs without capabilities
    out = run(berthd, "-u", "1234:5678", busybox_image, "sh", "-c", "id -u; id -g", check=True).stdout.split()
    assert out == ["1234", "5678"]
    proc = run(berthd, "-u", "nosuchuser", busybox_image, "true")
    assert proc.returncode == 125 and "unable to find user nosuchuser" in proc.stderr
    proc = run(berthd, "-u", "a:b:c", busybox_image, "true")
    assert proc.returncode == 125 and "Invalid user" in proc.stderr


def test_workdir_is_created(busybox_image, berthd):
    assert run(berthd, "-w", "/new/dir", busybox_image, "pwd", check=True).stdout == "/new/dir\n"
    proc = run(berthd, "-w", "relative", busybox_image, "pwd")
    assert proc.returncode == 125


def test_entrypoint(busybox_image, berthd):
    assert run(berthd, "--entrypoint", "/bin/echo", busybox_image, "a", "b", check=True).stdout == "a b\n"


def test_stop_signal(busybox_image, berthd):
    name = f"stopsig-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "--stop-signal", "USR1", busybox_image, "sh", "-c",
                    "trap 'exit 12' USR1; while true; do sleep 0.1; done", check=True)
    berthd.berthctl("stop", "-t", "20", name, check=True, timeout=15)
    assert json.loads(berthd.berthctl("inspect", name, check=True).stdout)[0]["State"]["ExitCode"] == 12
    berthd.berthctl("rm", name, check=True)
    assert berthd.berthctl("create", "--stop-signal", "NOPE", busybox_image, "true").returncode == 125


def test_nofile_limit_is_dockers(busybox_image, berthd):
    assert run(berthd, busybox_image, "sh", "-c", "ulimit -n", check=True).stdout.strip() == "1024"


def test_init_reaps_and_forwards_signals(busybox_image, berthd):
    # Without --init, PID 1 is the payload; with it, the payload is PID 2 and orphans get reaped.
    out = run(berthd, "--init", busybox_image, "sh", "-c",
              "echo $$; (sleep 0.1 &) ; sleep 0.5; ps -o stat,comm | grep -c '^Z' || true", check=True).stdout.split()
    assert out[0] != "1" and out[-1] == "0"
    name = f"init-{uuid.uuid4().hex[:6]}"
    # A shell as PID 2 gets SIGTERM forwarded by the init and exits with it (143) at once.
    berthd.berthctl("run", "-d", "--init", "--name", name, busybox_image, "sleep", "300", check=True)
    berthd.berthctl("stop", "-t", "20", name, check=True, timeout=10)
    assert json.loads(berthd.berthctl("inspect", name, check=True).stdout)[0]["State"]["ExitCode"] == 143
    berthd.berthctl("rm", name, check=True)


def test_read_only_root(busybox_image, berthd):
    proc = run(berthd, "--read-only", "--tmpfs", "/tmp", busybox_image, "sh", "-c",
               "touch /tmp/ok && echo tmp-ok; touch /etc/x 2>&1; echo shm > /dev/shm/s && echo shm-ok")
    assert "tmp-ok" in proc.stdout and "shm-ok" in proc.stdout
    assert "Read-only file system" in proc.stdout


def test_env_file_and_cidfile(busybox_image, berthd):
    d = f"/var/tmp/envfile-{uuid.uuid4().hex[:6]}"
    berthd.sh(f"mkdir -p {d} && printf '# comment\\n\\nA=1\\nB=two words\\n' > {d}/env", check=True)
    out = run(berthd, "--env-file", f"{d}/env", "-e", "A=override", busybox_image, "sh", "-c", 'echo "$A|$B"',
              check=True).stdout
    assert out == "override|two words\n"
    name = f"cid-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("create", "--name", name, "--cidfile", f"{d}/cid", busybox_image, "true", check=True)
    cid = berthd.sh(f"cat {d}/cid", check=True).stdout
    assert cid == json.loads(berthd.berthctl("inspect", name, check=True).stdout)[0]["Id"]
    proc = berthd.berthctl("create", "--cidfile", f"{d}/cid", busybox_image, "true")
    assert proc.returncode == 125 and "container ID file found" in proc.stderr
    assert run(berthd, "--env-file", f"{d}/missing", busybox_image, "true").returncode == 125
    berthd.berthctl("rm", name, check=True)
    berthd.sh(f"rm -rf {d}")


def test_run_interactive_reads_stdin(busybox_image, berthd):
    out = berthd.berthctl("run", "--rm", "-i", busybox_image, "sh", "-c", "tr a-z A-Z; echo done",
                          input="hello from stdin\n", check=True).stdout
    assert out == "HELLO FROM STDIN\ndone\n"
    # Without -i the container reads /dev/null, as Docker.
    assert run(berthd, busybox_image, "cat", input="ignored\n", check=True).stdout == ""


def test_run_with_a_terminal(busybox_image, berthd):
    """-it under a real pseudo-terminal (script(1) gives berthctl one): the payload sees a terminal of
    the container's own devpts with our size, keys reach it, and its output still reaches journald."""
    name = f"tty-{uuid.uuid4().hex[:6]}"
    cmd = (f"stty cols 100 rows 30; berthctl run -it --name {name} {busybox_image} "
           "sh -c 'tty; stty size; read line; echo got:$line; exit 3'")
    proc = berthd.run(["script", "-qec", cmd, "/dev/null"], input="typed\n", timeout=30)
    out = proc.stdout.replace("\r", "")
    assert "/dev/pts/0" in out, proc
    assert "30 100" in out
    assert "got:typed" in out
    assert json.loads(berthd.berthctl("inspect", name, check=True).stdout)[0]["State"]["ExitCode"] == 3
    msgs = [e["MESSAGE"] for e in berthd.journal_json(f"CONTAINER_NAME={name}")]
    assert "got:typed" in msgs, msgs  # no trailing \r from the terminal
    berthd.berthctl("rm", name, check=True)
    # -t without -i: output only.
    out = berthd.run(["script", "-qec", f"berthctl run --rm -t {busybox_image} sh -c 'tty'", "/dev/null"],
                     timeout=30).stdout
    assert "/dev/pts/0" in out


def test_resize_terminal(busybox_image, berthd):
    name = f"winch-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "-t", "--name", name, busybox_image, "sh", "-c",
                    "trap 'stty size' WINCH; echo ready; while true; do sleep 0.1; done", check=True)
    try:
        berthd.wait_until(lambda: "ready" in [e["MESSAGE"] for e in berthd.journal_json(f"CONTAINER_NAME={name}")],
                          what="the container to be ready")
        obj = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                            check=True).stdout.split('"')[1]
        berthd.busctl("call", "org.berth1", obj, "org.berth1.Container", "ResizeTerminal", "uu", "50", "132",
                      check=True)
        berthd.wait_until(lambda: "50 132" in [e["MESSAGE"] for e in berthd.journal_json(f"CONTAINER_NAME={name}")],
                          what="the container to see the new size")
        proc = berthd.busctl("call", "org.berth1", obj, "org.berth1.Container", "ResizeTerminal", "uu", "0", "10")
        assert proc.returncode != 0 and "Invalid terminal size" in proc.stderr
        # berthd restarted: the supervisor hands the terminal to the new berthd on request.
        berthd.systemctl("restart", "berthd.service", check=True)
        obj = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                            check=True).stdout.split('"')[1]
        berthd.busctl("call", "org.berth1", obj, "org.berth1.Container", "ResizeTerminal", "uu", "33", "77",
                      check=True)
        berthd.wait_until(lambda: "33 77" in [e["MESSAGE"] for e in berthd.journal_json(f"CONTAINER_NAME={name}")],
                          what="the container to see the size set after the restart")
    finally:
        berthd.berthctl("rm", "-f", name)
    plain = f"nowinch-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", plain, busybox_image, "sleep", "30", check=True)
    try:
        obj = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", plain,
                            check=True).stdout.split('"')[1]
        proc = berthd.busctl("call", "org.berth1", obj, "org.berth1.Container", "ResizeTerminal", "uu", "10", "10")
        assert proc.returncode != 0 and "has no terminal" in proc.stderr
    finally:
        berthd.berthctl("rm", "-f", plain)


def test_huge_environment_is_merged_fast_or_refused(busybox_image, berthd):
    # A create with tens of thousands of variables once took berthd's loop tens of seconds (a
    # quadratic merge). Up to 65,536 are merged in linear time, later values replacing earlier ones
    # in place; more are InvalidArgument.
    path = f"/var/tmp/berth-env-{uuid.uuid4().hex[:8]}"
    lines = [f"K{i}=v{i}" for i in range(65534)] + ["K5=last", "HOME=/h"]
    berthd.run(["sh", "-c", f"cat > {path}"], input="\n".join(lines) + "\n", check=True)
    name = f"env-{uuid.uuid4().hex[:8]}"
    start = time.monotonic()
    berthd.berthctl("create", "--name", name, "--env-file", path, busybox_image, "env", check=True, timeout=120)
    assert time.monotonic() - start < 30  # the merge; a shell in the container is what is slow
    env = berthd.berthctl("start", "-a", name, check=True, timeout=120).stdout.splitlines()
    berthd.berthctl("rm", name, check=True)
    keys = [line.split("=", 1)[0] for line in env]
    assert sum(k.startswith("K") for k in keys) == 65534, len(env)
    values = dict(line.split("=", 1) for line in env)
    assert (values["K5"], values["K65533"], values["HOME"]) == ("last", "v65533", "/h")
    assert keys.index("K5") < 10, keys[:12]  # in K5's first place, after PATH and HOSTNAME
    berthd.run(["sh", "-c", f"echo K65536=x >> {path}"], check=True)
    proc = berthd.berthctl("create", "--env-file", path, busybox_image, timeout=120)
    assert proc.returncode == 125 and "Too many environment variables (65537)" in proc.stderr, proc
    berthd.run(["rm", "-f", path])


def test_init_runs_as_the_containers_user(busybox_image, berthd):
    """--init --user 1000: PID 1 (the init) keeps uid 0 and Docker's capability set."""
    out = berthd.berthctl("run", "--rm", "--init", "--user", "1000", busybox_image, "sh", "-c",
                          "grep -E '^(Uid|CapEff):' /proc/1/status; kill -0 1 && echo signalled || echo EPERM",
                          check=True).stdout
    assert "Uid:\t1000" in out, out
    assert out.strip().endswith("signalled"), out  # the payload may signal its own init


def test_sig_proxy_and_quiet(busybox_image, berthd):
    import uuid as _uuid
    name = f"sigp-{_uuid.uuid4().hex[:6]}"
    loop = "trap \"echo got USR1; exit 3\" USR1; echo ready; while :; do sleep 0.2; done"
    # Default (--sig-proxy): a signal to berthctl reaches the container's payload.
    script = (f"berthctl run --rm --name {name} busybox sh -c '{loop}' & pid=$!; "
              f"for i in $(seq 50); do berthctl logs {name} 2>/dev/null | grep -q ready && break; sleep 0.2; done; "
              "kill -USR1 $pid; wait $pid; echo rc=$?")
    out = berthd.sh(script, timeout=60).stdout
    assert "got USR1" in out and "rc=3" in out, out
    # --sig-proxy=false: the signal is berthctl's alone (it ends; the container goes on).
    script = (f"berthctl run --sig-proxy=false --name {name} busybox sh -c '{loop}' & pid=$!; "
              f"for i in $(seq 50); do berthctl logs {name} 2>/dev/null | grep -q ready && break; sleep 0.2; done; "
              "kill -USR1 $pid; wait $pid; echo rc=$?")
    try:
        out = berthd.sh(script, timeout=60).stdout
        assert "got USR1" not in out, out
        state = berthd.berthctl("inspect", "--format", "{{.State.Status}}", name, check=True).stdout.strip()
        assert state == "running"
    finally:
        berthd.berthctl("rm", "-f", name)
    proc = berthd.berthctl("run", "--sig-proxy=maybe", busybox_image, "true")
    assert proc.returncode == 125 and "--sig-proxy" in proc.stderr
    # -q: nothing but the id (create) or the container's output (run).
    proc = berthd.berthctl("create", "-q", busybox_image, "true", check=True)
    assert len(proc.stdout.strip()) == 64 and proc.stderr == ""
    berthd.berthctl("rm", proc.stdout.strip())
    assert berthd.berthctl("run", "--rm", "-q", busybox_image, "echo", "hi", check=True).stdout == "hi\n"
