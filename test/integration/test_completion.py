# SPDX-License-Identifier: LGPL-2.1-or-later
"""bash completion of berthctl, installed where bash-completion's pkg-config says, driven as bash
drives it (COMP_WORDS/COMP_CWORD and the function that `complete -p berthctl` names)."""
import shlex
import uuid

import pytest

# What this file tests does not depend on the cgroup layout or the storage driver: first pass only.
pytestmark = pytest.mark.once


def complete(bed, line):
    """The completions bash offers for the last word of line (a trailing space: a new word)."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    script = (
        "set -e\n"
        'dir="$(pkg-config --variable=completionsdir bash-completion)"\n'
        'source "$dir/berthctl"\n'
        'fn="$(complete -p berthctl | sed -E "s/.*-F ([^ ]+).*/\\1/")"\n'
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        '"$fn" berthctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = bed.run(["bash", "-c", script], check=True)
    return [w for w in proc.stdout.split("\n") if w]


@pytest.fixture(scope="module")
def objects(berthd, busybox_image):
    tag = uuid.uuid4().hex[:6]
    names = {"container": f"compl-{tag}", "volume": f"complvol-{tag}", "network": f"complnet-{tag}"}
    berthd.berthctl("run", "-d", "--name", names["container"], busybox_image, "sleep", "300", check=True)
    berthd.berthctl("volume", "create", names["volume"], check=True)
    berthd.berthctl("network", "create", names["network"], check=True)
    yield names
    berthd.berthctl("rm", "-f", names["container"])
    berthd.berthctl("volume", "rm", names["volume"])
    berthd.berthctl("network", "rm", names["network"])


def test_commands(berthd):
    got = complete(berthd, "berthctl st")
    assert set(got) == {"start", "stats", "stop"}, got
    assert complete(berthd, "berthctl sy") == ["system"]
    assert "network" in complete(berthd, "berthctl ")


def test_subcommands_of_management_commands(berthd):
    got = complete(berthd, "berthctl volume ")
    assert {"create", "ls", "inspect", "rm", "prune"} <= set(got), got
    assert complete(berthd, "berthctl network con") == ["connect"]


def test_options_come_from_the_commands_help(berthd):
    got = complete(berthd, "berthctl stop --")
    assert set(got) == {"--signal", "--time", "--help"}, got
    assert "--pull" in complete(berthd, "berthctl run --p")
    assert "--all" in complete(berthd, "berthctl ps --a")


def test_object_names(berthd, objects):
    assert objects["container"] in complete(berthd, "berthctl stop compl-")
    assert objects["container"] in complete(berthd, "berthctl container logs compl-")
    assert objects["volume"] in complete(berthd, "berthctl volume rm complvol-")
    assert objects["network"] in complete(berthd, "berthctl network inspect complnet-")
    assert objects["network"] in complete(berthd, "berthctl run --network complnet-")
    assert "busybox:latest" in complete(berthd, "berthctl run busy")
    assert f"{objects['container']}:" in complete(berthd, "berthctl cp compl-")
