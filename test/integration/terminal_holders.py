# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run a command with a fresh pseudo-terminal as its stdin, stdout and stderr, then tell who still
holds that terminal: no process of a container may keep the caller's terminal once the command
(exec, run, attach) is over.

    terminal_holders.py ARGV_JSON [--kill-after SECONDS] [--type LINE]

Waits for the command (or SIGKILLs it after SECONDS), then types LINE into the terminal (a process
that kept it would read it) and prints JSON: {"rc": exit status, "output": what the terminal showed,
"holders": ["pid comm", ...] of every other process with a descriptor of the terminal}."""
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time


def holders(rdev):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if st.st_rdev == rdev and (st.st_mode & 0o170000) == 0o020000:
                with open(f"/proc/{pid}/comm") as f:
                    found.append(f"{pid} {f.read().strip()}")
                break
    return found


def main():
    argv = json.loads(sys.argv[1])
    kill_after = float(sys.argv[sys.argv.index("--kill-after") + 1]) if "--kill-after" in sys.argv else None
    line = sys.argv[sys.argv.index("--type") + 1] if "--type" in sys.argv else None
    master, slave = pty.openpty()
    rdev = os.fstat(slave).st_rdev
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    output = b""
    deadline = time.monotonic() + (kill_after if kill_after is not None else 60)
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                output += os.read(master, 65536)
            except OSError:
                pass
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    rc = proc.wait()
    while select.select([master], [], [], 0.2)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        output += data
    if line is not None:
        os.write(master, line.encode() + b"\n")
        time.sleep(0.5)
    print(json.dumps({"rc": rc, "output": output.decode(errors="replace"), "holders": holders(rdev)}))


if __name__ == "__main__":
    main()
