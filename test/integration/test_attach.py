# SPDX-License-Identifier: LGPL-2.1-or-later
"""attach, start -ai and the detach keys (ctrl-p ctrl-q), under a real pseudo-terminal (script(1))."""
import json
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
