# SPDX-License-Identifier: LGPL-2.1-or-later
"""Long lines in the journal: 16 KiB partial pieces and the closing piece that ends every split line.

As Docker's copier and journald driver: a line is cut into pieces of 16 KiB with
CONTAINER_PARTIAL_MESSAGE=true, and the last piece of it goes without; when the line's length is a
multiple of 16 KiB that closing piece is an empty MESSAGE. `berthctl logs` joins the pieces."""
import json
import uuid

import pytest

# What this file tests does not depend on the cgroup layout or the storage driver: first pass only.
pytestmark = pytest.mark.once

PIECE = 16384


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def container_id(bed, name):
    return json.loads(bed.berthctl("inspect", name, check=True).stdout)[0]["Id"]


def pieces(bed, name, priority=None):
    """(length of MESSAGE, CONTAINER_PARTIAL_MESSAGE) of the container's entries, in order."""
    entries = bed.journal_json(f"CONTAINER_NAME={name}")
    return [(len(e["MESSAGE"]), e.get("CONTAINER_PARTIAL_MESSAGE")) for e in entries
            if priority is None or e["PRIORITY"] == priority]


def k_line(n, newline=True):
    """Shell: n bytes of K, then a newline if asked."""
    return f"head -c {n} /dev/zero | tr '\\0' K" + ("; echo" if newline else "")


@pytest.mark.parametrize("length", [PIECE, 2 * PIECE])
def test_line_of_a_multiple_of_16k_ends_with_an_empty_piece(busybox_image, berthd, length):
    name = unique("e16")
    berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c", f"{k_line(length)}; echo next", check=True)
    full = [(PIECE, "true")] * (length // PIECE)
    assert pieces(berthd, name) == full + [(0, None), (4, None)]
    logs = berthd.berthctl("logs", name, check=True).stdout
    assert logs == "K" * length + "\nnext\n", (len(logs), logs[-20:])
    # --tail counts lines: the pieces of a line are one.
    assert berthd.berthctl("logs", "--tail", "1", name, check=True).stdout == "next\n"
    assert berthd.berthctl("logs", "--tail", "2", name, check=True).stdout == logs
    assert berthd.berthctl("logs", "--tail", "3", name, check=True).stdout == logs
    # -t: one time stamp per line, none in front of the closing piece.
    lines = berthd.berthctl("logs", "-t", name, check=True).stdout.split("\n")
    assert len(lines) == 3 and lines[2] == "", [line[:40] for line in lines]
    assert [line.split(" ", 1)[1] for line in lines[:2]] == ["K" * length, "next"]
    assert all(line[:4].isdigit() and "T" in line.split(" ", 1)[0] for line in lines[:2])


def test_line_of_16k_on_stderr(busybox_image, berthd):
    name = unique("e16err")
    proc = berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c",
                           f"({k_line(PIECE)}) >&2; echo out; echo err >&2", check=True)
    assert proc.stderr == "K" * PIECE + "\nerr\n" and proc.stdout == "out\n"
    assert pieces(berthd, name, priority="3") == [(PIECE, "true"), (0, None), (3, None)]
    logs = berthd.berthctl("logs", name, check=True)
    assert logs.stderr == "K" * PIECE + "\nerr\n" and logs.stdout == "out\n"


def test_line_of_16k_on_a_terminal(busybox_image, berthd):
    # The terminal ends lines with "\r\n": the closing piece is "\r", not part of the line.
    name = unique("e16tty")
    berthd.berthctl("run", "-d", "-t", "--name", name, busybox_image, "sh", "-c",
                    f"{k_line(PIECE)}; echo next", check=True)
    berthd.berthctl("wait", name, check=True, timeout=30)
    assert pieces(berthd, name) == [(PIECE, "true"), (0, None), (4, None)]
    assert berthd.berthctl("logs", name, check=True).stdout == "K" * PIECE + "\nnext\n"


@pytest.mark.parametrize("length,last", [(PIECE, 0), (2 * PIECE, 0), (20000, 20000 - PIECE)])
def test_long_line_without_newline_is_closed_at_the_end(busybox_image, berthd, length, last):
    # The first run ends in the middle of a long line; the second run's output must not continue it.
    name = unique("eof")
    script = f"if [ -e /ran ]; then echo next; else touch /ran; {k_line(length, newline=False)}; fi"
    berthd.berthctl("create", "--name", name, busybox_image, "sh", "-c", script, check=True)
    out = berthd.berthctl("start", "-a", name, check=True).stdout
    assert out == "K" * length
    assert berthd.berthctl("start", "-a", name, check=True).stdout == "next\n"
    full = [(PIECE, "true")] * (length // PIECE)
    assert pieces(berthd, name) == full + [(last, None), (4, None)]
    logs = berthd.berthctl("logs", name, check=True).stdout
    assert logs == "K" * length + "\nnext\n", (len(logs), logs[-20:])
    assert berthd.berthctl("logs", "--tail", "1", name, check=True).stdout == "next\n"


def test_tail_counts_lines_not_pieces(busybox_image, berthd):
    name = unique("tail")
    berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c",
                    f"echo a; {k_line(40000)}; echo b", check=True)
    long_line = "K" * 40000 + "\n"
    assert berthd.berthctl("logs", "--tail", "1", name, check=True).stdout == "b\n"
    assert berthd.berthctl("logs", "--tail", "2", name, check=True).stdout == long_line + "b\n"
    assert berthd.berthctl("logs", "--tail", "3", name, check=True).stdout == "a\n" + long_line + "b\n"
    assert berthd.berthctl("logs", "--tail", "9", name, check=True).stdout == "a\n" + long_line + "b\n"


def test_a_line_left_open_ends_with_its_run(busybox_image, berthd):
    # A partial piece whose closing piece never came (its supervisor was killed, or a berth that sent
    # none wrote it): logs ends that line where the next sender's entries begin. Here another process
    # sends the dangling piece between two runs.
    name = unique("open")
    berthd.berthctl("run", "--name", name, busybox_image, "echo", "run", check=True)
    cid = container_id(berthd, name)
    fields = f"/var/tmp/{name}.fields"
    berthd.sh(f"printf '%s\\n' MESSAGE=dangling PRIORITY=6 CONTAINER_PARTIAL_MESSAGE=true "
              f"CONTAINER_NAME={name} CONTAINER_ID_FULL={cid} > {fields} && "
              f"logger --journald={fields}; rm -f {fields}", check=True)
    berthd.berthctl("start", "-a", name, check=True)
    assert pieces(berthd, name) == [(3, None), (8, "true"), (3, None)]
    assert berthd.berthctl("logs", name, check=True).stdout == "run\ndangling\nrun\n"
    assert berthd.berthctl("logs", "--tail", "2", name, check=True).stdout == "dangling\nrun\n"
    ts = berthd.berthctl("logs", "-t", name, check=True).stdout.split("\n")
    assert [line.split(" ", 1)[1] for line in ts[:3]] == ["run", "dangling", "run"] and ts[3:] == [""]
