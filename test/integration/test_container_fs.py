# SPDX-License-Identifier: LGPL-2.1-or-later
"""A container's file system: diff, export, commit, cp."""
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid

import pytest

from conftest import DRIVER, LAYERS, SHARED_TMP, layer_dir

BUS_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_call.py")


@pytest.fixture()
def workdir():
    d = tempfile.mkdtemp(prefix="berth-fs.", dir=SHARED_TMP)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run_named(bed, image, *cmd):
    n = name("fs")
    bed.berthctl("run", "--name", n, image, *cmd, check=True)
    return n


def container_call(bed, container, method, args, fd=None):
    obj = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", container,
                     check=True).stdout.split('"')[1]
    return bed.run(["/usr/bin/python3", BUS_CALL, obj, "org.berth1.Container", method, json.dumps(args),
                    *(["--fd", fd] if fd else [])])


def diff_lines(bed, container):
    return bed.berthctl("diff", container, check=True).stdout.splitlines()


# ---- diff ----

def test_diff_shows_added_changed_deleted(busybox_image, berthd):
    c = run_named(berthd, busybox_image, "sh", "-c",
                  "mkdir -p /data/sub && echo hi > /data/sub/f && echo x >> /etc/passwd && rm /etc/group")
    try:
        assert diff_lines(berthd, c) == [
            "A /data", "A /data/sub", "A /data/sub/f", "C /etc", "D /etc/group", "C /etc/passwd",
        ]
    finally:
        berthd.berthctl("rm", c)


def test_diff_of_running_container_and_recreated_directory(busybox_image, berthd):
    c = name("fs")
    berthd.berthctl("run", "-d", "--name", c, busybox_image, "sh", "-c",
                    "rm -r /root && mkdir /root && touch /root/new && rm /bin/true && exec sleep 60", check=True)
    try:
        berthd.wait_until(lambda: "A /root/new" in diff_lines(berthd, c), what="the changes")
        lines = diff_lines(berthd, c)
        assert "C /root" in lines and "D /bin/true" in lines and "C /bin" in lines
        paths = [line[2:] for line in lines]
        assert paths == sorted(paths)
    finally:
        berthd.berthctl("rm", "-f", c)


def test_diff_of_unknown_container(berthd):
    proc = berthd.berthctl("diff", "no-such-container-here")
    assert proc.returncode == 125 and "no-such-container-here" in proc.stderr


# ---- export ----

LISTING = ("cd / && find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev \\) -print -prune -o -print "
           "| sort | while read -r p; do if [ -f \"$p\" ] && [ ! -L \"$p\" ]; then "
           "echo \"$p $(sha256sum < \"$p\" | cut -c1-64)\"; else echo \"$p\"; fi; done")


def tar_listing(path):
    lines = []
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            p = "./" + m.name.rstrip("/") if m.name not in (".", "./") else "."
            if p.split("/")[1:2] and p.split("/")[1] in ("proc", "sys", "dev") and p.count("/") > 1:
                continue
            if m.isfile():
                lines.append(f"{p} {hashlib.sha256(tar.extractfile(m).read()).hexdigest()}")
            else:
                lines.append(p)
    lines.append(".")
    return sorted(set(lines))


def test_export_equals_the_running_container(busybox_image, berthd, workdir):
    c = name("fs")
    berthd.berthctl("run", "-d", "--name", c, busybox_image, "sh", "-c",
                    "mkdir /data && echo hello > /data/f && rm /etc/group && exec sleep 60", check=True)
    try:
        berthd.wait_until(lambda: "A /data/f" in diff_lines(berthd, c), what="the changes")
        out = os.path.join(workdir, "rootfs.tar")
        berthd.berthctl("export", "-o", out, c, check=True)
        inside = berthd.berthctl("exec", c, "sh", "-c", LISTING, check=True).stdout.splitlines()
        # As docker export: the container's files, not what is mounted on them. /etc/hosts and
        # /etc/resolv.conf are mounted; the export has the empty files under them.
        mounted = ("./etc/hosts ", "./etc/resolv.conf ")
        empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        exported = tar_listing(out)
        assert sorted(line for line in exported if line.startswith(mounted)) == [f"{m}{empty}" for m in mounted]
        assert [line for line in exported if not line.startswith(mounted)] == \
            sorted(set(line for line in inside if not line.startswith(mounted)))
        assert any(line.startswith("./data/f ") for line in inside)
        assert "./etc/group" not in tar_listing(out)
        # The same through standard output, of the stopped container.
        berthd.berthctl("stop", "-t", "0", c, check=True)
        berthd.sh(f"berthctl export {c} > {workdir}/again.tar", check=True)
        assert tar_listing(os.path.join(workdir, "again.tar")) == tar_listing(out)
    finally:
        berthd.berthctl("rm", "-f", c)


# ---- commit ----

def test_commit_with_changes_and_whiteouts(busybox_image, berthd):
    c = run_named(berthd, busybox_image, "sh", "-c", "echo committed > /x && rm /etc/group")
    ref = name("committed") + ":v1"
    try:
        out = berthd.berthctl("commit", "--pause=false", "-m", "a message", "--author", "Me <me@example.org>",
                              "--change", 'CMD ["cat","/x"]', "-c", "ENV FOO=bar", "-c", "WORKDIR /etc",
                              c, ref, check=True).stdout.strip()
        assert out.startswith("sha256:") and len(out) == 71
        run = berthd.berthctl("run", "--rm", ref, check=True)
        assert run.stdout == "committed\n"
        proc = berthd.berthctl("run", "--rm", ref, "sh", "-c", "echo $FOO $PWD; ls /etc/group", check=False)
        assert proc.stdout.startswith("bar /etc\n") and proc.returncode != 0  # still deleted
        history = berthd.berthctl("history", "--no-trunc", ref, check=True).stdout
        assert "a message" in history
        inspect = berthd.berthctl("image", "inspect", ref, check=True).stdout
        assert out[7:] in inspect
        # Committed twice, the same content makes the same layer (content addressed).
        c2 = run_named(berthd, ref, "true")
        berthd.berthctl("commit", c2, ref + "-again", check=True)
        berthd.berthctl("rm", c2)
        berthd.berthctl("rmi", ref + "-again", check=True)
    finally:
        berthd.berthctl("rm", c)
        berthd.berthctl("rmi", ref)


def test_commit_with_options_skip_empty_layer(busybox_image, berthd):
    unchanged = name("unchanged")
    berthd.berthctl("create", "--name", unchanged, busybox_image, "true", check=True)
    changed = run_named(berthd, busybox_image, "sh", "-c", "echo x > /x")
    refs = []
    try:
        def layers_of(container, skip):
            ref = name("skip") + ":1"
            refs.append(ref)
            proc = container_call(berthd, container, "CommitWithOptions",
                                  [ref, ["ENV SKIPPED=1"], "a comment", "", {"@a{sv}": {"SkipEmptyLayer": {"@b": skip}}}])
            assert proc.returncode == 0, proc
            obj = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetImage", "s", ref,
                                check=True).stdout.split('"')[1]
            get = lambda p: json.loads(berthd.busctl("--json=short", "get-property", "org.berth1", obj,
                                                     "org.berth1.Image", p, check=True).stdout)["data"]
            return len(get("Layers")), get("History")[-1], get("Env")

        base = len(json.loads(berthd.busctl("--json=short", "get-property", "org.berth1", berthd.busctl(
            "call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetImage", "s", busybox_image,
            check=True).stdout.split('"')[1], "org.berth1.Image", "Layers", check=True).stdout)["data"])
        n, last, env = layers_of(unchanged, True)
        assert n == base and last[3] is True and last[2] == "a comment" and "SKIPPED=1" in env
        assert berthd.berthctl("run", "--rm", refs[-1], "sh", "-c", "echo $SKIPPED").stdout == "1\n"
        n, last, _ = layers_of(unchanged, False)
        assert n == base + 1 and last[3] is False
        n, last, _ = layers_of(changed, True)  # changes: a layer all the same
        assert n == base + 1 and last[3] is False
        proc = container_call(berthd, unchanged, "CommitWithOptions",
                              ["", [], "", "", {"@a{sv}": {"Squash": {"@b": True}}}])
        assert proc.stdout.startswith("ERROR org.berth1.Error.InvalidArgument Unknown commit option"), proc
        proc = container_call(berthd, unchanged, "CommitWithOptions",
                              ["", [], "", "", {"@a{sv}": {"BuildCacheKey": {"@s": "not-hex"}}}])
        assert proc.stdout.startswith("ERROR org.berth1.Error.InvalidArgument Commit option \"BuildCacheKey\""), proc
    finally:
        berthd.berthctl("rm", unchanged, changed)
        for ref in refs:
            berthd.berthctl("rmi", ref)


@pytest.mark.parametrize("change", ["CMD", "FROB x", "EXPOSE 99999", "STOPSIGNAL SIGNOPE", 'CMD ["a", 1]',
                                    "ENV", 'LABEL "unterminated', "HEALTHCHECK --interval=soon CMD true",
                                    "HEALTHCHECK --retries=3 NONE", "HEALTHCHECK --bogus=1 CMD true",
                                    "HEALTHCHECK CMD", "ONBUILD FROM x", "SHELL sh -c", "SHELL []"])
def test_commit_bad_change_is_invalid_argument(busybox_image, berthd, change):
    c = run_named(berthd, busybox_image, "true")
    try:
        before = berthd.sh(f"ls {LAYERS} /var/lib/berth/images | sort", check=True).stdout
        proc = container_call(berthd, c, "Commit", ["x:y", [change], "", ""])
        assert proc.stdout.startswith("ERROR org.berth1.Error.InvalidArgument Invalid change"), proc
        after = berthd.sh(f"ls {LAYERS} /var/lib/berth/images | sort", check=True).stdout
        assert before == after
    finally:
        berthd.berthctl("rm", c)


# ---- cp ----

def test_cp_in_and_out(busybox_image, berthd, workdir):
    c = name("fs")
    berthd.berthctl("create", "--name", c, busybox_image, "sleep", "60", check=True)
    try:
        src = os.path.join(workdir, "in.txt")
        with open(src, "w") as f:
            f.write("from the host\n")
        tree = os.path.join(workdir, "tree")
        os.makedirs(os.path.join(tree, "sub"))
        with open(os.path.join(tree, "sub", "a"), "w") as f:
            f.write("a\n")
        os.symlink("sub/a", os.path.join(tree, "link"))
        open(os.path.join(tree, "sub", ".wh.a"), "w").close()  # a file name, not a whiteout, here
        # Stopped: into the overlay.
        berthd.berthctl("cp", src, f"{c}:/in.txt", check=True)
        berthd.berthctl("cp", tree, f"{c}:/tmp", check=True)
        berthd.berthctl("start", c, check=True)
        # Running: through the payload's root.
        berthd.berthctl("cp", src, f"{c}:/root/renamed", check=True)
        got = berthd.berthctl("exec", c, "sh", "-c", "cat /in.txt /tmp/tree/sub/a /root/renamed; readlink /tmp/tree/link",
                              check=True).stdout
        assert got == "from the host\na\nfrom the host\nsub/a\n"
        assert berthd.berthctl("exec", c, "ls", "-a", "/tmp/tree/sub", check=True).stdout.split() == [
            ".", "..", ".wh.a", "a"]
        berthd.berthctl("exec", c, "sh", "-c", "mkdir -p /out/d && echo out > /out/d/f", check=True)
        dest = os.path.join(workdir, "copied")
        berthd.berthctl("cp", f"{c}:/out", dest, check=True)
        assert open(os.path.join(dest, "d", "f")).read() == "out\n"
        berthd.berthctl("cp", f"{c}:/out/d/f", workdir, check=True)
        assert open(os.path.join(workdir, "f")).read() == "out\n"
        # "-": a tar stream on standard output.
        berthd.sh(f"berthctl cp {c}:/etc/passwd - > {workdir}/p.tar", check=True)
        with tarfile.open(os.path.join(workdir, "p.tar")) as tar:
            assert tar.getnames() == ["passwd"]
        berthd.berthctl("stop", "-t", "0", c, check=True)
        berthd.berthctl("cp", f"{c}:/root/renamed", os.path.join(workdir, "stopped"), check=True)
        assert open(os.path.join(workdir, "stopped")).read() == "from the host\n"
    finally:
        berthd.berthctl("rm", "-f", c)


@pytest.mark.parametrize("running", [False, True])
def test_cp_never_follows_a_symlink_out_of_the_container(busybox_image, berthd, workdir, running):
    c = name("fs")
    if running:  # through the payload's root
        berthd.berthctl("run", "-d", "--name", c, busybox_image, "sh", "-c", "ln -s /etc /data && exec sleep 60",
                        check=True)
        berthd.wait_until(lambda: "A /data" in diff_lines(berthd, c), what="the symlink")
    else:  # through the overlay
        berthd.berthctl("run", "--name", c, busybox_image, "ln", "-s", "/etc", "/data", check=True)
    host_before = berthd.sh("sha256sum /etc/passwd", check=True).stdout
    try:
        x = os.path.join(workdir, "passwd")
        with open(x, "w") as f:
            f.write("evil\n")
        berthd.berthctl("cp", x, f"{c}:/data/passwd", check=True)
        assert berthd.sh("sha256sum /etc/passwd", check=True).stdout == host_before
        out = os.path.join(workdir, "back")
        berthd.berthctl("cp", f"{c}:/etc/passwd", out, check=True)
        assert open(out).read() == "evil\n"
        # A symlink as the source is copied as a symlink, not followed.
        berthd.berthctl("cp", f"{c}:/data", os.path.join(workdir, "link"), check=True)
        assert os.readlink(os.path.join(workdir, "link")) == "/etc"
    finally:
        berthd.berthctl("rm", "-f", c)


def test_cp_owners_follow_links_and_relative_paths(busybox_image, berthd, workdir):
    c = name("fs")
    berthd.berthctl("run", "-d", "--name", c, busybox_image, "sh", "-c",
                    "mkdir /o && echo x > /o/f && chown -R 1234:2345 /o && ln -s /o/f /o/link && ln -s link /o/link2 "
                    "&& ln -s /etc /etclink && touch /ready && exec sleep 60", check=True)
    berthd.wait_until(lambda: "A /ready" in diff_lines(berthd, c), what="the files")
    try:
        src = os.path.join(workdir, "mine")
        with open(src, "w") as f:
            f.write("mine\n")
        os.chown(src, 4321, 5432)
        # Into the container: the container's root owns the copy, unless -a keeps the source's owner.
        berthd.berthctl("cp", src, f"{c}:/plain", check=True)
        berthd.berthctl("cp", "-a", src, f"{c}:/kept", check=True)
        assert berthd.berthctl("exec", c, "stat", "-c", "%u:%g", "/plain", "/kept", check=True).stdout == \
            "0:0\n4321:5432\n"
        # Out of it: whoever runs berthctl (root here) owns the copy, unless -a.
        berthd.berthctl("cp", f"{c}:/o/f", os.path.join(workdir, "f1"), check=True)
        berthd.berthctl("cp", "--archive", f"{c}:/o/f", os.path.join(workdir, "f2"), check=True)
        st1, st2 = os.stat(os.path.join(workdir, "f1")), os.stat(os.path.join(workdir, "f2"))
        assert (st1.st_uid, st1.st_gid) == (0, 0) and (st2.st_uid, st2.st_gid) == (1234, 2345)
        # -L: a symlink as SRC stands for what it points to (link after link), under the link's name.
        berthd.berthctl("cp", "-L", f"{c}:/o/link2", workdir, check=True)
        got = os.path.join(workdir, "link2")
        assert not os.path.islink(got) and open(got).read() == "x\n"
        berthd.berthctl("cp", f"{c}:/o/link2", os.path.join(workdir, "nolink"), check=True)
        assert os.readlink(os.path.join(workdir, "nolink")) == "link"
        # An absolute link is followed inside the container's root: its /etc, not the host's.
        berthd.berthctl("cp", "--follow-link", f"{c}:/etclink", os.path.join(workdir, "etc"), check=True)
        assert os.path.isdir(os.path.join(workdir, "etc")) and \
            open(os.path.join(workdir, "etc", "passwd")).read() == \
            berthd.berthctl("exec", c, "cat", "/etc/passwd", check=True).stdout
        os.symlink(src, os.path.join(workdir, "hostlink"))
        berthd.berthctl("cp", "-L", os.path.join(workdir, "hostlink"), f"{c}:/", check=True)
        assert berthd.berthctl("exec", c, "sh", "-c", "test -f /hostlink && ! test -L /hostlink && cat /hostlink",
                               check=True).stdout == "mine\n"
        # A path in the container without its leading slash is relative to its root, as in docker cp.
        berthd.berthctl("cp", "-q", src, f"{c}:tmp/rel", check=True)
        assert berthd.berthctl("exec", c, "cat", "/tmp/rel", check=True).stdout == "mine\n"
        berthd.berthctl("cp", f"{c}:tmp/rel", os.path.join(workdir, "rel"), check=True)
        assert open(os.path.join(workdir, "rel")).read() == "mine\n"
        # Without a terminal there is no message; -q is accepted either way.
        proc = berthd.berthctl("cp", src, f"{c}:/quiet", check=True)
        assert proc.stderr == "" and proc.stdout == ""
        proc = berthd.run(["script", "-qec", f"berthctl cp {src} {c}:/loud", "/dev/null"], check=True)
        assert f"Successfully copied" in proc.stdout and f"to {c}:/loud" in proc.stdout, proc.stdout
    finally:
        berthd.berthctl("rm", "-f", c)


def test_cp_nonexistent_path_is_a_named_error(busybox_image, berthd, workdir):
    c = run_named(berthd, busybox_image, "true")
    try:
        proc = berthd.berthctl("cp", f"{c}:/no/such/file", workdir)
        assert proc.returncode == 125 and "No such file or directory in container" in proc.stderr
        assert "/no/such/file" in proc.stderr
        src = os.path.join(workdir, "f")
        open(src, "w").close()
        proc = container_call(berthd, c, "CopyFrom", ["/nope", "@fd"], fd=src)
        assert proc.stdout.startswith("ERROR org.berth1.Error.NoSuchPath No such file or directory in container"), proc
        proc = berthd.berthctl("cp", src, f"{c}:/no/such/dir/f")
        assert proc.returncode == 125 and "No such directory in container" in proc.stderr
    finally:
        berthd.berthctl("rm", c)


def test_commit_keeps_an_opaque_directory_opaque(busybox_image, berthd, workdir):
    # Not /etc: /etc/hosts and /etc/resolv.conf are mount points while a container runs (in Docker
    # too), so /etc cannot be removed.
    base = run_named(berthd, busybox_image, "sh", "-c", "mkdir /srv && echo a > /srv/group && echo b > /srv/passwd")
    base_ref = name("opaque-base") + ":1"
    berthd.berthctl("commit", base, base_ref, check=True)
    berthd.berthctl("rm", base, check=True)
    c = run_named(berthd, base_ref, "sh", "-c", "rm -r /srv && mkdir /srv && echo new > /srv/only")
    ref = name("opaque") + ":1"
    try:
        assert "D /srv/group" in diff_lines(berthd, c) and "A /srv/only" in diff_lines(berthd, c)
        berthd.berthctl("commit", c, ref, check=True)
        out = berthd.berthctl("run", "--rm", ref, "ls", "/srv", check=True).stdout
        assert out.split() == ["only"]
        # The committed layer is stored as a load stores it: with overlay the opaque marker as an
        # xattr; with btrfs the directory's old entries are gone from the snapshot.
        layers = json.loads(berthd.berthctl("image", "inspect", ref, check=True).stdout)[0]["RootFS"]["Layers"]
        top = layer_dir(layers, len(layers) - 1)
        if DRIVER == "overlay":
            xattr = berthd.run(["/usr/bin/python3", "-c", f"import os; print(os.getxattr('{top}/srv', "
                                "'trusted.overlay.opaque').decode())"], check=True).stdout
            assert xattr == "y\n"
        else:
            assert berthd.sh(f"ls -A {top}/srv", check=True).stdout.split() == ["only"]
        # Its diff id is the sha256 of its tarball: save makes the same bytes again, so the same name.
        saved = os.path.join(workdir, "saved.tar")
        berthd.berthctl("save", "-o", saved, ref, check=True)
        with tarfile.open(saved) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
            assert manifest[0]["Layers"][-1] == layers[-1][7:] + ".tar"
            data = tar.extractfile(manifest[0]["Layers"][-1]).read()
            assert "sha256:" + hashlib.sha256(data).hexdigest() == layers[-1]
            names = sorted(tarfile.open(fileobj=io.BytesIO(data)).getnames())
            # /etc may come as a header alone: the upper directory holds it for the empty files that
            # /etc/hosts and /etc/resolv.conf are mounted on (left out of the layer).
            assert not [n for n in names if n.startswith("etc/")], names
            names = [n for n in names if n != "etc"]
            if DRIVER == "overlay":
                assert names == ["srv", "srv/.wh..wh..opq", "srv/only"]
            else:  # a tree comparison: one whiteout for each entry that went
                assert "srv/only" in names and "srv/.wh.group" in names and "srv/.wh.passwd" in names
                assert all(n in ("srv", "srv/only") or n.startswith("srv/.wh.") for n in names), names
    finally:
        berthd.berthctl("rm", c)
        berthd.berthctl("rmi", ref, base_ref)


def test_fs_methods_need_authorization(busybox_image, berthd):
    c = run_named(berthd, busybox_image, "true")
    try:
        obj = berthd.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", c,
                            check=True).stdout.split('"')[1]
        proc = berthd.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "busctl", "call",
                           "org.berth1", obj, "org.berth1.Container", "GetChanges"])
        # polkit's answer (test_polkit.py): nobody has no grant for org.berth1.manage-containers.
        assert proc.returncode != 0 and "Not authorized to manage containers" in proc.stderr, proc
    finally:
        berthd.berthctl("rm", c)


def test_export_does_not_block_the_bus(busybox_image, berthd):
    c = run_named(berthd, busybox_image, "true")
    try:
        # The export fills the pipe (busybox alone is larger than it) and waits for the slow reader;
        # berthd answers other calls meanwhile.
        out = berthd.sh(f"berthctl export {c} | {{ sleep 3; wc -c; }} & sleep 0.5; "
                        "start=$(date +%s%N); berthctl ps -a >/dev/null; end=$(date +%s%N); "
                        "echo $(( (end - start) / 1000000 )); wait", check=True).stdout.split()
        assert int(out[0]) < 2000 and int(out[1]) > 1000000, out
    finally:
        berthd.berthctl("rm", c)


def image_property(bed, ref, prop):
    obj = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetImage", "s", ref,
                     check=True).stdout.split('"')[1]
    out = bed.busctl("--json=short", "get-property", "org.berth1", obj, "org.berth1.Image", prop, check=True)
    return json.loads(out.stdout)["data"]


def test_commit_change_forms(busybox_image, berthd):
    c = run_named(berthd, busybox_image, "true")
    ref = name("changes") + ":1"
    changes = ["ENTRYPOINT /bin/echo hi", "cmd [\"x\"]", "ENV A 1 2", 'ENV B="x y" C=z', "ENV PATH=/x:/bin",
               'LABEL a=b "c d"=e', "EXPOSE 80 53/udp", 'VOLUME ["/v1", "/v2"]', "STOPSIGNAL SIGINT",
               "USER nobody", "WORKDIR rel", "WORKDIR sub"]
    try:
        berthd.berthctl("commit", *[f"--change={ch}" for ch in changes], c, ref, check=True)
        assert image_property(berthd, ref, "Entrypoint") == ["/bin/sh", "-c", "/bin/echo hi"]
        assert image_property(berthd, ref, "Cmd") == ["x"]
        env = image_property(berthd, ref, "Env")
        assert "A=1 2" in env and "B=x y" in env and "C=z" in env
        assert [e for e in env if e.startswith("PATH=")] == ["PATH=/x:/bin"]
        assert image_property(berthd, ref, "Labels") == {"a": "b", "c d": "e"}
        assert sorted(image_property(berthd, ref, "ExposedPorts")) == ["53/udp", "80/tcp"]
        assert sorted(image_property(berthd, ref, "Volumes")) == ["/v1", "/v2"]
        assert image_property(berthd, ref, "StopSignal") == "SIGINT"
        assert image_property(berthd, ref, "User") == "nobody"
        assert image_property(berthd, ref, "WorkingDir") == "/rel/sub"
        history = image_property(berthd, ref, "History")
        assert history[-1][1] == "true"  # created_by: the container's command
    finally:
        berthd.berthctl("rm", c)
        berthd.berthctl("rmi", ref)
