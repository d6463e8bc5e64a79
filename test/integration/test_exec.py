# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exec: a process run in a running container shares its namespaces, scope and confinement."""
import json
import re
import os
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXEC = os.path.join(HERE, "exec_call.py")


@pytest.fixture()
def running(busybox_image, berthd):
    name = f"exec-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "-e", "FROM_RUN=1", busybox_image, "sleep", "300", check=True)
    yield name
    berthd.berthctl("rm", "-f", name)


def exec_in(bed, name, argv, env=(), cwd="", stdin=None):
    return bed.run(["/usr/bin/python3", EXEC, name, json.dumps(list(argv)), json.dumps(list(env)), cwd],
                   input=stdin)


def test_exec_joins_namespaces_scope_and_confinement(berthd, running):
    proc = exec_in(berthd, running, ["sh", "-c",
                                     "echo pid=$$; hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; "
                                     "grep -E '^(CapBnd|Seccomp):' /proc/self/status; cat /proc/self/cgroup; "
                                     "echo $FROM_RUN$EXTRA; pwd; ls /proc/self/fd | tr '\\n' ' '; exit 7"],
                   env=["EXTRA=x"], cwd="/tmp")
    assert proc.returncode == 7, proc
    lines = proc.stdout.splitlines()
    assert lines[0] != "pid=1" and int(lines[0][4:]) > 1  # in the container's PID namespace
    obj = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", running,
                        check=True).stdout.split('"')[1]
    cid = json.loads(berthd.busctl("--json=short", "get-property", "org.berth1", obj, "org.berth1.Container", "Id",
                                   check=True).stdout)["data"]
    assert lines[1] == cid[:12]
    assert lines[2].strip() == "sleep 300"
    assert "CapBnd:\t00000000a80425fb" in proc.stdout
    assert "Seccomp:\t2" in proc.stdout
    # cgroup namespace: the container's scope is its root
    assert any(line.endswith("::/") for line in lines)
    assert "1x" in lines and "/tmp" in lines
    assert lines[-1].split() in (["0", "1", "2"], ["0", "1", "2", "3"])
    # the exec'd process ran in the container's scope (the host view of its cgroup)
    assert berthd.systemctl("is-active", f"berth-{cid[:12]}.scope").stdout.strip() == "active"


def test_exec_stdin_and_errors(berthd, running):
    proc = exec_in(berthd, running, ["cat"], stdin="piped input\n")
    assert proc.returncode == 0 and proc.stdout == "piped input\n"
    proc = exec_in(berthd, running, ["/no/such"])
    assert "ERROR org.berth1.Error.ExecFailed" in proc.stderr
    proc = exec_in(berthd, running, ["true"], cwd="relative")
    assert "ERROR org.berth1.Error.InvalidArgument" in proc.stderr
    berthd.berthctl("stop", "-t", "0", running, check=True)
    proc = exec_in(berthd, running, ["true"])
    assert "ERROR org.berth1.Error.ContainerNotRunning" in proc.stderr


def test_exec_cannot_escape(berthd, running):
    proc = exec_in(berthd, running, ["sh", "-c", "mount -t tmpfs x /mnt || unshare -m true || echo confined"])
    assert proc.stdout.strip().endswith("confined")


def test_exec_terminal_follows_our_window_size(berthd, running):
    # berthctl exec -it under script(1); a second later our terminal is resized from the side
    # (TIOCSWINSZ on it sends berthctl SIGWINCH), which must reach the exec'd process's terminal.
    resize = ('/usr/bin/python3 -c "import fcntl, struct, termios; '
              "fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack('4H', 41, 123, 0, 0))\"")
    inner = (f"stty rows 20 cols 70; (sleep 2; {resize}) & "
             f"berthctl exec -it {running} sh -c 'trap \"stty size; exit 0\" WINCH; stty size; "
             f"while :; do sleep 0.1; done'")
    proc = berthd.run(["script", "-qec", inner, "/dev/null"], input="", timeout=30)
    sizes = re.findall(r"(\d+) (\d+)", proc.stdout)  # script may echo stray control characters too
    assert sizes[:2] == [("20", "70"), ("41", "123")], proc


HOLDERS = os.path.join(HERE, "terminal_holders.py")


def in_pty(bed, argv, *extra, timeout=90):
    """argv run with a fresh terminal as stdin, stdout and stderr (see terminal_holders.py)."""
    proc = bed.run(["/usr/bin/python3", HOLDERS, json.dumps(argv), *extra], check=True, timeout=timeout)
    return json.loads(proc.stdout)


def test_exec_leaves_nothing_of_the_callers_terminal(berthd, running):
    # A process the exec leaves behind once held the caller's terminal and read what was typed next.
    steal = 'setsid sh -c "read l; echo got:\\$l > /tmp/stolen" <&1 >&1 2>&1 &'
    result = in_pty(berthd, ["berthctl", "exec", running, "sh", "-c", steal], "--type", "secret-line")
    assert result["rc"] == 0, result
    assert result["holders"] == [], result
    stolen = berthd.berthctl("exec", running, "sh", "-c", "sleep 0.5; cat /tmp/stolen 2>/dev/null; true", check=True)
    assert "secret" not in stolen.stdout, stolen
    # With -i the same: its stdin is a pipe relayed while the exec lasts, and it gets the exec's
    # output until it ends.
    result = in_pty(berthd, ["berthctl", "exec", "-i", running, "sh", "-c",
                             "for f in 0 1 2; do readlink /proc/self/fd/$f; done; setsid sleep 300 <&0 >&1 2>&1 &"],
                    "--type", "secret-line")
    assert result["rc"] == 0, result
    assert result["holders"] == [], result
    assert [line.split(":")[0] for line in result["output"].split()] == ["pipe"] * 3, result
    # A terminal of its own with -t: the caller's is only relayed.
    result = in_pty(berthd, ["berthctl", "exec", "-it", running, "sh", "-c",
                             "readlink /proc/self/fd/0; setsid sleep 300 <&0 >&0 2>&0 &"], "--type", "secret-line")
    assert result["rc"] == 0, result
    assert result["holders"] == [], result
    assert "/dev/pts/" in result["output"], result


def test_exec_output_of_leftovers_ends_with_the_exec(berthd, running):
    # The exec's own output all arrives; a leftover holding the pipes does not keep the exec (or the
    # caller's pipe) beyond Docker's short drain after the process's exit.
    start = time.monotonic()
    proc = berthd.run(["sh", "-c", f"berthctl exec {running} sh -c 'seq 1 20000; sleep 300 &' | tail -n1"],
                      timeout=60)
    assert proc.returncode == 0, proc
    assert proc.stdout.strip() == "20000", proc
    assert time.monotonic() - start < 20, proc


def test_exec_runs_as_the_containers_user(busybox_image, berthd):
    """A container created with --user 1000: exec (no -u) must run as 1000, as Docker does."""
    name = f"xuser-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, "--user", "1000:1000", busybox_image, "sleep", "300", check=True)
    try:
        payload = exec_in(berthd, name, ["sh", "-c", "grep ^Uid: /proc/1/status"])
        mine = exec_in(berthd, name, ["sh", "-c", "id -u; grep -E '^Cap(Eff|Prm):' /proc/self/status"])
        assert "1000" in payload.stdout
        assert mine.stdout.splitlines()[0] == "1000", f"exec ran as uid {mine.stdout.splitlines()[0]}"
    finally:
        berthd.berthctl("rm", "-f", name)


def test_exec_detach_env_file_privileged_and_detach_keys(berthd, running):
    name = running
    import pathlib
    import tempfile
    from conftest import SHARED_TMP
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="berth-exec.", dir=SHARED_TMP))
    # -d: back at once with 0; the command goes on in the container.
    t0 = time.monotonic()
    proc = berthd.berthctl("exec", "-d", name, "sh", "-c", "sleep 2; echo done > /tmp/detached")
    assert proc.returncode == 0 and proc.stdout == "" and time.monotonic() - t0 < 1.8, proc
    assert berthd.berthctl("exec", name, "test", "-e", "/tmp/detached").returncode != 0
    berthd.wait_until(lambda: berthd.berthctl("exec", name, "cat", "/tmp/detached").stdout == "done\n",
                      timeout=15, what="the detached command")
    # A command that cannot start is still an error, with Docker's words and exit code.
    proc = berthd.berthctl("exec", "-d", name, "no-such-command")
    assert proc.returncode == 127 and "executable file not found" in proc.stderr, proc
    # --env-file: KEY=VALUE lines, comments and blank lines skipped, KEY alone from our environment.
    env_file = tmp_path / "env"
    env_file.write_text("# a comment\nA=1\n\nB=two words\nFROM_US\n")
    os.chmod(tmp_path, 0o755)
    os.chmod(env_file, 0o644)
    proc = berthd.run(["env", "FROM_US=here", "berthctl", "exec", "--env-file", str(env_file), name, "sh", "-c",
                       'echo "$A|$B|$FROM_US"'], check=True)
    assert proc.stdout == "1|two words|here\n"
    proc = berthd.berthctl("exec", "--env-file", str(tmp_path / "missing"), name, "true")
    assert proc.returncode == 125 and "missing" in proc.stderr
    # --privileged: every capability for that command only.
    caps = lambda *flags: int(re.search(r"CapEff:\s*([0-9a-f]+)", berthd.berthctl(
        "exec", *flags, name, "cat", "/proc/self/status", check=True).stdout).group(1), 16)
    default, full = caps(), caps("--privileged")
    assert full > default and full & (1 << 21)  # CAP_SYS_ADMIN
    assert not default & (1 << 21)
    # --detach-keys: checked as Docker does.
    assert berthd.berthctl("exec", "--detach-keys", "ctrl-p,ctrl-q", name, "true").returncode == 0
    proc = berthd.berthctl("exec", "--detach-keys", "ctrl-", name, "true")
    assert proc.returncode == 125 and "Invalid detach keys" in proc.stderr, proc
    import shutil
    shutil.rmtree(tmp_path, ignore_errors=True)
