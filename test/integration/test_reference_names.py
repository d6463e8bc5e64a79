# SPDX-License-Identifier: LGPL-2.1-or-later
"""Image references follow Docker's grammar (github.com/distribution/reference): a domain component is
alphanumeric with inner hyphens, a path component lowercase alphanumerics with single separators, so
"../x", "./x" or "..:5000/x" name nothing. They are refused by berthctl (exit code 125, one clear line)
and over D-Bus (org.berth1.Error.InvalidName), and leave no tag behind; what Docker accepts works."""
import json
import os

import pytest

# What this file tests does not depend on the cgroup layout or the storage driver: first pass only.
pytestmark = pytest.mark.once

BUS_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_call.py")
DIGEST = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

INVALID = [
    "../x",
    "./x",
    "..:5000/x",
    ".:5000/x",
    "../x:latest",
    "..",
    "x/..",
    "x/./y",
    ".x/y",
    "x./y",
    "-a.com/x",
    "a-.com/x",
    "a..b/x",
    "[0]/x",
    "localhost:/x",
    "a/B",
    "a___b",
    "a._b",
    "busybox:-x",
    "busybox@" + DIGEST,  # a tag has no digest (docker tag refuses one, too)
]

# Accepted by Docker; berth refused some of them before (uppercase domains, IPv6, long ports).
VALID = [
    ("localhost:5000/x", "localhost:5000/x:latest"),
    ("[::1]:5000/x:v1", "[::1]:5000/x:v1"),
    ("127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b:latest"),
    ("A/b", "A/b:latest"),
    ("localhost:123456/x", "localhost:123456/x:latest"),
    ("a__b", "a__b:latest"),
    ("a--b:1", "a--b:1"),
    ("a_b.c/x", "a_b.c/x:latest"),
]


def image_obj(bed, ref):
    proc = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetImage", "s", ref, check=True)
    return proc.stdout.split('"')[1]


def repo_tags(bed, ref):
    proc = bed.busctl("--json=short", "get-property", "org.berth1", image_obj(bed, ref), "org.berth1.Image",
                      "RepoTags", check=True)
    return json.loads(proc.stdout)["data"]


def images(bed):
    return bed.berthctl("images", "--format", "{{.Repository}}:{{.Tag}}", check=True).stdout.splitlines()


def bus_error_name(proc):
    """The error name bus_call.py prints (busctl only prints the message)."""
    assert proc.returncode == 1, proc
    line = proc.stdout.strip()
    assert line.startswith("ERROR "), proc
    return line.split()[1]


@pytest.mark.parametrize("ref", INVALID)
def test_tag_with_invalid_reference_fails(busybox_image, berthd, ref):
    before, tags = images(berthd), repo_tags(berthd, busybox_image)
    proc = berthd.berthctl("tag", busybox_image, ref)
    assert proc.returncode == 125, proc
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1, proc
    assert err.startswith("berthctl: ") and "Invalid image reference" in err and f'"{ref}"' in err, proc
    assert images(berthd) == before  # no new tag
    assert repo_tags(berthd, busybox_image) == tags


@pytest.mark.parametrize("ref", INVALID)
def test_dbus_tag_with_invalid_reference_is_invalid_name(busybox_image, berthd, ref):
    obj = image_obj(berthd, busybox_image)
    tags = repo_tags(berthd, busybox_image)
    # "--": busctl would take "-a.com/x" for options.
    proc = berthd.busctl("--", "call", "org.berth1", obj, "org.berth1.Image", "Tag", "s", ref)
    assert proc.returncode != 0 and "Invalid image reference" in proc.stderr, proc
    proc = berthd.run(["/usr/bin/python3", BUS_CALL, obj, "org.berth1.Image", "Tag", json.dumps([ref])])
    assert bus_error_name(proc) == "org.berth1.Error.InvalidName"
    assert "Invalid image reference" in proc.stdout, proc
    assert repo_tags(berthd, busybox_image) == tags


@pytest.mark.parametrize("ref", ["../x", "./x", "..:5000/x"])
def test_dbus_untag_with_invalid_reference_is_invalid_name(busybox_image, berthd, ref):
    obj = image_obj(berthd, busybox_image)
    proc = berthd.run(["/usr/bin/python3", BUS_CALL, obj, "org.berth1.Image", "Untag", json.dumps([ref])])
    assert bus_error_name(proc) == "org.berth1.Error.InvalidName"


@pytest.mark.parametrize("ref", ["../x", "./x", "..:5000/x", "../x:latest"])
def test_run_with_invalid_reference_fails(busybox_image, berthd, ref):
    before = berthd.berthctl("ps", "-aq", check=True).stdout
    berthd.berthctl("tag", busybox_image, ref)  # refused; if it were not, run would find the image
    proc = berthd.berthctl("run", "--rm", ref, "true")
    assert proc.returncode == 125, proc
    assert proc.stderr.startswith("berthctl: ") and ref in proc.stderr, proc
    assert berthd.berthctl("ps", "-aq", check=True).stdout == before


def test_import_with_invalid_reference_fails(busybox_tar, berthd):
    before = images(berthd)
    proc = berthd.berthctl("import", busybox_tar, "../x")
    assert proc.returncode == 125, proc
    assert proc.stderr.startswith("berthctl: ") and len(proc.stderr.strip().splitlines()) == 1, proc
    proc = berthd.run(["/usr/bin/python3", BUS_CALL, "/org/berth1", "org.berth1.Manager", "ImportImage",
                       json.dumps(["@fd", "..:5000/x"]), "--fd", busybox_tar])
    assert bus_error_name(proc) == "org.berth1.Error.InvalidName"
    assert images(berthd) == before


@pytest.mark.parametrize("ref,tag", VALID)
def test_tag_with_valid_reference(busybox_image, berthd, ref, tag):
    berthd.berthctl("tag", busybox_image, ref, check=True)
    try:
        assert tag in repo_tags(berthd, busybox_image)
        assert tag in images(berthd)
        assert image_obj(berthd, ref) == image_obj(berthd, busybox_image)
        out = berthd.berthctl("run", "--rm", ref, "echo", "ok", check=True).stdout
        assert out.strip() == "ok"
    finally:
        proc = berthd.berthctl("rmi", ref, check=True)
    assert proc.stdout.strip() == f"Untagged: {tag}"
    assert tag not in repo_tags(berthd, busybox_image)
