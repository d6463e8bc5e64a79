# SPDX-License-Identifier: LGPL-2.1-or-later
"""attach, start -ai and the detach keys (ctrl-p ctrl-q), under a real pseudo-terminal (script(1))."""
import json
import os
import uuid


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def status(bed, name):
    return json.loads(bed.berthctl("inspect", name, check=True).stdout)[0]["State"]


def messages(bed, name):
    return [e["MESSAGE"] for e in bed.journal_json(f"CONTAINER_NAME={name}")]


def in_terminal(bed, command, keys, timeout=30):
    """Run command with a terminal, typing keys (a shell printf format, with pauses as "|")."""
    typing = "; ".join(f"printf '{part}'; sleep 1" for part in keys.split("|"))
    return bed.run(["sh", "-c", f"({typing}) | script -qec \"{command}\" /dev/null"], timeout=timeout)


LOOP = "while read l; do [ \\\"\\$l\\\" = quit ] && exit 7; echo got:\\$l; done"


def test_detach_from_run_and_attach_again(busybox_image, berthd):
    name = uniq("det")
    proc = in_terminal(berthd, f"berthctl run -it --name {name} {busybox_image} sh -c '{LOOP}'",
                       "one\\n|\\020\\021")
    assert proc.returncode == 0, proc  # detached: berthctl leaves, the container runs on
    try:
        assert status(berthd, name)["Status"] == "running"
        berthd.wait_until(lambda: "got:one" in messages(berthd, name), what="the first line")

        proc = in_terminal(berthd, f"berthctl attach {name}", "two\\n|\\020\\021")
        assert proc.returncode == 0, proc
        assert "got:two" in proc.stdout.replace("\r", ""), proc.stdout
        assert status(berthd, name)["Status"] == "running"

        # Other keys; a broken sequence is typed through (the held "x" goes on when "b" follows).
        proc = in_terminal(berthd, f"berthctl attach --detach-keys=x,y {name}", "three axb\\n|xy")
        assert proc.returncode == 0, proc
        berthd.wait_until(lambda: "got:three axb" in messages(berthd, name), what="the typed line")

        # Attached until the container exits: its exit code is ours.
        proc = in_terminal(berthd, f"berthctl attach {name}", "quit\\n")
        assert proc.returncode == 7, proc
        assert status(berthd, name)["ExitCode"] == 7
    finally:
        berthd.berthctl("rm", "-f", name)


def test_start_ai_and_detach_keys_off(busybox_image, berthd):
    name = uniq("sai")
    berthd.berthctl("create", "-it", "--name", name, busybox_image, "sh", "-c", LOOP.replace("\\", ""), check=True)
    try:
        proc = in_terminal(berthd, f"berthctl start -ai {name}", "hello\\n|\\020\\021")
        assert proc.returncode == 0 and "got:hello" in proc.stdout.replace("\r", ""), proc
        assert status(berthd, name)["Status"] == "running"
        # --detach-keys "" : the sequence is just input, and quit ends it
        berthd.berthctl("stop", "-t", "1", name, check=True)
        proc = in_terminal(berthd, f"berthctl start -ai --detach-keys= {name}", "\\020\\021\\n|quit\\n")
        assert proc.returncode == 7, proc
    finally:
        berthd.berthctl("rm", "-f", name)


def test_attach_without_terminal(busybox_image, berthd):
    name = uniq("plain")
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sh", "-c",
                    "sleep 1; for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.3; done; exit 5", check=True)
    proc = berthd.berthctl("attach", "--no-stdin", name, timeout=30)
    assert proc.returncode == 5, proc
    assert "out3" in proc.stdout and "err3" in proc.stderr and "err3" not in proc.stdout, proc
    # A stopped container cannot be attached to; bad keys are refused.
    proc = berthd.berthctl("attach", name)
    assert proc.returncode == 125 and "start it first" in proc.stderr, proc
    proc = berthd.berthctl("attach", "--detach-keys=ctrl-", name)
    assert proc.returncode == 125 and "invalid --detach-keys" in proc.stderr, proc
    proc = berthd.berthctl("run", "--detach-keys=meta-x", "-it", busybox_image, "true")
    assert proc.returncode == 125 and "invalid --detach-keys" in proc.stderr, proc
    berthd.berthctl("rm", name, check=True)


def test_two_clients_see_the_output(busybox_image, berthd):
    name = uniq("two")
    berthd.berthctl("run", "-d", "-t", "--name", name, busybox_image, "sh", "-c",
                    "sleep 2; echo both-see-this; sleep 1; exit 3", check=True)
    a = berthd.run(["sh", "-c", f"berthctl attach --no-stdin {name} > /var/tmp/{name}.a & "
                                f"berthctl attach --no-stdin {name}; echo rc=$?; wait; cat /var/tmp/{name}.a; "
                                f"rm -f /var/tmp/{name}.a"], timeout=30)
    assert a.stdout.count("both-see-this") == 2 and "rc=3" in a.stdout, a
    berthd.berthctl("rm", name, check=True)


def test_detached_clients_free_their_slots(busybox_image, berthd):
    # 16 clients at most; ones that went away (killed, detached) must not keep their slot even when
    # the container prints nothing that would reveal them.
    name = uniq("slots")
    berthd.berthctl("run", "-d", "-t", "--name", name, busybox_image, "sleep", "300", check=True)
    try:
        berthd.sh(f"for i in $(seq 20); do timeout -s KILL 0.3 berthctl attach --no-stdin {name}; done; true",
                  timeout=60)
        proc = berthd.sh(f"timeout -s KILL 1 berthctl attach --no-stdin {name}; echo rc=$?")
        assert "rc=137" in proc.stdout and "too many" not in proc.stderr, proc  # attached until killed
    finally:
        berthd.berthctl("rm", "-f", name)


HOLDERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "terminal_holders.py")


def in_pty(bed, argv, *extra, timeout=90):
    """argv run with a fresh terminal as stdin, stdout and stderr (see terminal_holders.py)."""
    proc = bed.run(["/usr/bin/python3", HOLDERS, json.dumps(argv), *extra], check=True, timeout=timeout)
    return json.loads(proc.stdout)


def test_containers_never_hold_the_callers_terminal(busybox_image, berthd):
    # run -i, run, start -a and attach relay through berthctl: the container's stdio are pipes,
    # never the caller's terminal.
    show = "for f in 0 1 2; do readlink /proc/self/fd/$f; done"
    for args, stdin in ((["-i"], "pipe"), ([], "/dev/null")):
        name = uniq("pipes")
        result = in_pty(berthd, ["berthctl", "run", *args, "--name", name, busybox_image, "sh", "-c", show])
        assert result["rc"] == 0, result
        assert [line.split(":")[0] for line in result["output"].split()] == [stdin, "pipe", "pipe"], (args, result)
        result = in_pty(berthd, ["berthctl", "start", "-a", *args, name])
        assert [line.split(":")[0] for line in result["output"].split()] == [stdin, "pipe", "pipe"], (args, result)
        berthd.berthctl("rm", name, check=True)
    # berthctl killed while the container runs: nothing keeps its terminal or reads what is
    # typed there afterwards.
    name = uniq("gone")
    try:
        result = in_pty(berthd, ["berthctl", "run", "-i", "--name", name, busybox_image, "sh", "-c",
                                 "echo ready; while read l; do echo got:$l >> /tmp/read; done; sleep 300"],
                        "--kill-after", "3", "--type", "secret-line")
        assert "ready" in result["output"], result
        assert result["holders"] == [], result
        assert status(berthd, name)["Running"], result
        read = berthd.berthctl("exec", name, "sh", "-c", "cat /tmp/read 2>/dev/null; true", check=True).stdout
        assert "secret" not in read
        # attach without a terminal, then gone: the same.
        result = in_pty(berthd, ["berthctl", "attach", name], "--kill-after", "2", "--type", "secret-line")
        assert result["holders"] == [], result
    finally:
        berthd.berthctl("rm", "-f", name)


def test_run_i_reads_a_file_and_a_pipe(busybox_image, berthd):
    # Input relayed by berthctl: from a regular file (which epoll cannot watch) and from a pipe,
    # larger than a pipe's buffer while the container reads slowly at first.
    berthd.sh("seq 1 100000 > /var/tmp/berth-run-i-input", check=True)
    out = berthd.sh(f"berthctl run --rm -i {busybox_image} sh -c 'sleep 1; wc -l' < /var/tmp/berth-run-i-input",
                    check=True).stdout
    assert out.strip() == "100000"
    out = berthd.sh(f"seq 1 100000 | berthctl run --rm -i {busybox_image} sh -c 'sleep 1; tail -n1'",
                    check=True).stdout
    assert out.strip() == "100000"
    # A container that never reads its input still gets its output out.
    out = berthd.sh(f"seq 1 100000 | berthctl run --rm -i {busybox_image} sh -c 'seq 1 50000 | tail -n1; exit 3'")
    assert out.returncode == 3 and out.stdout.strip() == "50000", out


def test_run_attach_chooses_streams(busybox_image, berthd):
    # run -a STREAM (Docker's): only those streams reach the caller (all still go to the journal),
    # through pipes berthctl relays, never the caller's own descriptors.
    both = "echo out; echo err >&2"
    proc = berthd.berthctl("run", "--rm", "-a", "stdout", busybox_image, "sh", "-c", both, check=True)
    assert (proc.stdout, proc.stderr) == ("out\n", ""), proc
    proc = berthd.berthctl("run", "--rm", "-a", "STDERR", busybox_image, "sh", "-c", both, check=True)
    assert (proc.stdout, proc.stderr) == ("", "err\n"), proc
    proc = berthd.berthctl("run", "--rm", "-a", "stdin", "-a", "stdout", busybox_image, "cat", input="typed\n",
                           check=True)
    assert proc.stdout == "typed\n", proc
    result = in_pty(berthd, ["berthctl", "run", "--rm", "-a", "stdin", "-a", "stdout", busybox_image, "sh", "-c",
                             "for f in 0 1 2; do readlink /proc/self/fd/$f; done"])
    assert [line.split(":")[0] for line in result["output"].split()] == ["pipe"] * 3, result
    for bad, needle in ((["-a", "stdrr"], "valid streams are STDIN, STDOUT and STDERR"),
                        (["-d", "-a", "stdout"], "Conflicting options: -a and -d")):
        proc = berthd.berthctl("run", "--rm", *bad, busybox_image, "true")
        assert proc.returncode == 125 and needle in proc.stderr, proc
