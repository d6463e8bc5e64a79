# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a docker user types works (issue #20, commands and flags other than run/create's): version,
info, the management commands (container, image, system), prune, stop/restart -s, wait --condition,
ps and images and volume ls flags and filters. Each case checks the effect, not only that the
command is accepted."""
import json
import re
import uuid

import pytest


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
