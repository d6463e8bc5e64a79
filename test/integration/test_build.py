# SPDX-License-Identifier: LGPL-2.1-or-later
"""berthctl build: Dockerfiles built over berthd's methods, the images asserted."""
import json
import os
import shutil
import tarfile
import tempfile

import pytest

from conftest import SHARED_TMP


@pytest.fixture()
def ctx():
    d = tempfile.mkdtemp(prefix="berth-build.", dir=SHARED_TMP)
    os.chmod(d, 0o755)

    def write(files):
        for name, data in files.items():
            path = os.path.join(d, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(data)
        return d
    write.dir = d
    yield write
    shutil.rmtree(d, ignore_errors=True)


def build(bed, path, *args, check=True, **kw):
    kw.setdefault("timeout", 300)
    proc = bed.berthctl("build", *args, path, **kw)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def prop(bed, ref, name):
    obj = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetImage", "s", ref,
                     check=True).stdout.split('"')[1]
    out = bed.busctl("--json=short", "get-property", "org.berth1", obj, "org.berth1.Image", name, check=True)
    return json.loads(out.stdout)["data"]


def run_out(bed, image, *cmd):
    proc = bed.berthctl("run", "--rm", image, *cmd, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def containers(bed):
    return bed.berthctl("ps", "-a", "-q", "--no-trunc", check=True).stdout.split()


def images(bed):
    return set(bed.berthctl("images", "-a", "-q", "--no-trunc", check=True).stdout.split())


def test_instructions(berthd, busybox_image, ctx):
    d = ctx({
        "Dockerfile": """# a comment
FROM busybox
ARG GREETING=hello
ENV A=1 B="two words" \\
    C=${A:-x}
ENV OLD some value
LABEL org.example.k="v 1" other=2
EXPOSE 80 53/udp
VOLUME ["/data"]
WORKDIR /app
WORKDIR sub
COPY file.txt ./
COPY dir /app/copied/
ADD archive.tar /unpacked/
RUN echo "$GREETING $B" > /greeting && echo run-output-marker
USER 1000:1000
STOPSIGNAL SIGUSR1
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
""",
        "file.txt": "file contents\n",
        "dir/a": "a\n",
        "dir/sub/b": "b\n",
    })
    with tarfile.open(os.path.join(d, "archive.tar"), "w") as t:
        p = os.path.join(d, "file.txt")
        t.add(p, arcname="inner/from-tar.txt")
    proc = build(berthd, d, "-t", "built/instr:1")
    assert "Step 1/17 : FROM busybox" in proc.stdout
    assert "run-output-marker" in proc.stdout
    assert "Successfully built " in proc.stdout
    assert "Successfully tagged built/instr:1" in proc.stdout

    env = prop(berthd, "built/instr:1", "Env")
    # Substitution in ENV sees the values from before the instruction, as Docker's.
    assert "A=1" in env and "B=two words" in env and "C=x" in env and "OLD=some value" in env
    assert not any(e.startswith("GREETING=") for e in env)
    assert prop(berthd, "built/instr:1", "Labels") == {"org.example.k": "v 1", "other": "2"}
    assert sorted(prop(berthd, "built/instr:1", "ExposedPorts")) == ["53/udp", "80/tcp"]
    assert prop(berthd, "built/instr:1", "Volumes") == ["/data"]
    assert prop(berthd, "built/instr:1", "WorkingDir") == "/app/sub"
    assert prop(berthd, "built/instr:1", "User") == "1000:1000"
    assert prop(berthd, "built/instr:1", "StopSignal") == "SIGUSR1"
    assert prop(berthd, "built/instr:1", "Entrypoint") == ["/bin/sh", "-c"]
    assert prop(berthd, "built/instr:1", "Cmd") == ["echo hi"]

    out = run_out(berthd, "built/instr:1",
                  "cat /app/sub/file.txt /app/copied/a /app/copied/sub/b /unpacked/inner/from-tar.txt "
                  "/greeting; pwd")
    assert out == "file contents\na\nb\nfile contents\nhello two words\n/app/sub\n"

    history = prop(berthd, "built/instr:1", "History")
    created_by = [h[1] for h in history]
    assert any(c == '/bin/sh -c echo "$GREETING $B" > /greeting && echo run-output-marker' for c in created_by)
    assert "/bin/sh -c #(nop) ENV A=1 B=two words C=x" in created_by
    assert "/bin/sh -c #(nop) WORKDIR /app/sub" in created_by
    # Config-only steps add no layer (empty_layer, as Docker's); the others one each.
    empty = {h[1]: h[3] for h in history}
    assert empty["/bin/sh -c #(nop) ENV A=1 B=two words C=x"] and empty["/bin/sh -c #(nop) USER 1000:1000"]
    assert not empty["/bin/sh -c #(nop) WORKDIR /app/sub"]
    base_layers = len(prop(berthd, "busybox", "Layers"))
    assert len(prop(berthd, "built/instr:1", "Layers")) == base_layers + 6
    assert sum(1 for h in history if not h[3]) == base_layers + 6
    assert any(c.startswith("/bin/sh -c #(nop) COPY file:") and c.endswith(" in /app/sub/") for c in created_by), "\n".join(created_by)
    # No step's container is left.
    assert not [c for c in containers(berthd)
                if "org.berth.build" in berthd.berthctl("inspect", c).stdout]


def image_config(bed, ref, workdir):
    """The config blob of an image, from a docker-archive save of it."""
    path = os.path.join(workdir, "saved.tar")
    bed.sh(f"berthctl save {ref} > {path}", check=True)
    with tarfile.open(path) as t:
        manifest = json.load(t.extractfile("manifest.json"))
        return json.load(t.extractfile(manifest[0]["Config"]))


def test_healthcheck_onbuild_shell(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": """FROM busybox
SHELL ["/bin/sh", "-ec"]
RUN echo "$0 $-" > /shell-flags
HEALTHCHECK --interval=5s --timeout=1m30s --start-period=500ms --retries=3 CMD curl -f http://x/ || exit 1
ONBUILD RUN echo triggered
CMD echo from-shell-form
"""})
    build(berthd, d, "-t", "built/health:1")
    config = image_config(berthd, "built/health:1", d)["config"]
    assert config["Healthcheck"] == {"Test": ["CMD-SHELL", "curl -f http://x/ || exit 1"],
                                     "Interval": 5_000_000_000, "Timeout": 90_000_000_000,
                                     "StartPeriod": 500_000_000, "Retries": 3}
    assert config["OnBuild"] == ["RUN echo triggered"]
    assert config["Shell"] == ["/bin/sh", "-ec"]
    assert config["Cmd"] == ["/bin/sh", "-ec", "echo from-shell-form"]
    assert "e" in run_out(berthd, "built/health:1", "cat", "/shell-flags").split()[1]

    ctx({"Dockerfile": 'FROM built/health:1\nHEALTHCHECK CMD ["/bin/true", "x"]\n'})
    build(berthd, d, "-t", "built/health:2")
    assert image_config(berthd, "built/health:2", d)["config"]["Healthcheck"] == {"Test": ["CMD", "/bin/true", "x"]}
    ctx({"Dockerfile": "FROM built/health:1\nHEALTHCHECK NONE\n"})
    build(berthd, d, "-t", "built/health:3")
    assert image_config(berthd, "built/health:3", d)["config"]["Healthcheck"] == {"Test": ["NONE"]}

    ctx({"Dockerfile": "FROM busybox\nHEALTHCHECK --interval=soon CMD true\n"})
    proc = build(berthd, d, check=False)
    assert proc.returncode == 1 and "Invalid change" in proc.stderr
    assert "Dockerfile:2: HEALTHCHECK --interval=soon CMD true: the step failed" in proc.stderr


def test_onbuild_triggers_run_once(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": "FROM busybox\nONBUILD COPY trig /trig\nONBUILD RUN echo ran >> /trig\n",
             "trig": "copied\n"})
    build(berthd, d, "-t", "built/onbuild-base:1")
    assert prop(berthd, "built/onbuild-base:1", "OnBuild") == ["COPY trig /trig", "RUN echo ran >> /trig"]

    ctx({"Dockerfile": "FROM built/onbuild-base:1\nENV CHILD=1\n"})
    out = build(berthd, d, "-t", "built/onbuild-child:1").stdout
    assert "# Executing 2 build triggers" in out and "Step 2/2 : ENV CHILD=1" in out
    assert run_out(berthd, "built/onbuild-child:1", "cat", "/trig") == "copied\nran\n"
    assert prop(berthd, "built/onbuild-child:1", "OnBuild") == []
    # Triggers are not passed on to grandchildren.
    ctx({"Dockerfile": "FROM built/onbuild-child:1\nENV GRANDCHILD=1\n"})
    out = build(berthd, d, "-t", "built/onbuild-grandchild:1").stdout
    assert "Executing" not in out
    assert run_out(berthd, "built/onbuild-grandchild:1", "cat", "/trig") == "copied\nran\n"


def test_copy_destinations(berthd, busybox_image, ctx):
    d = ctx({
        "Dockerfile": """FROM busybox
COPY f /bin
COPY f /renamed
COPY f /new/parents/here
COPY f g /multi/
COPY *.glob /globbed/
RUN mkdir -p /usr/target && ln -s /usr/target /linkdir
COPY f g /linkdir/
COPY emptydir /made/empty/
""",
        "f": "f\n",
        "g": "g\n",
        "a.glob": "a\n",
        "b.glob": "b\n",
    })
    os.mkdir(os.path.join(d, "emptydir"))
    build(berthd, d, "-t", "built/dest:1")
    out = run_out(berthd, "built/dest:1", "sh", "-c",
                  "cat /bin/f /renamed /new/parents/here /multi/f /multi/g /globbed/a.glob /globbed/b.glob; "
                  "stat -c %a /new /new/parents; test -x /bin/sh && echo bin-intact; "
                  "cat /usr/target/f /usr/target/g; test -L /linkdir && test -d /made/empty && echo kept")
    # Through a symlink in the image (as /bin -> usr/bin), as Docker follows it; an empty source
    # directory still makes its destination.
    assert out == "f\nf\nf\nf\ng\na\nb\n755\n755\nbin-intact\nf\ng\nkept\n"

    ctx({"Dockerfile": "FROM busybox\nCOPY f g /notadir\n"})
    proc = build(berthd, d, check=False)
    assert proc.returncode == 1 and "the destination must be a directory and end with a /" in proc.stderr


def test_chown_chmod(berthd, busybox_image, ctx):
    d = ctx({
        "Dockerfile": """FROM busybox
COPY --chown=1000:1001 f /numeric
COPY --chown=nobody dir /named/
COPY --chmod=0600 f /moded
COPY --chown=nobody:nobody --chmod=750 f /both
COPY f /plain
""",
        "f": "f\n",
        "dir/inner": "i\n",
    })
    os.chown(os.path.join(d, "f"), 4321, 4321)
    build(berthd, d, "-t", "built/chown:1")
    out = run_out(berthd, "built/chown:1", "stat", "-c", "%n %u %g %a",
                  "/numeric", "/named/inner", "/moded", "/both", "/plain")
    # Without --chown a file of the context is root's, whoever owns it on the host.
    assert out.splitlines() == ["/numeric 1000 1001 644", "/named/inner 65534 65534 644",
                                "/moded 0 0 600", "/both 65534 65534 750", "/plain 0 0 644"]

    ctx({"Dockerfile": "FROM busybox\nCOPY --chown=nosuchuser f /x\n"})
    proc = build(berthd, d, check=False)
    assert proc.returncode == 1 and "unable to find user nosuchuser" in proc.stderr


def test_cache(berthd, busybox_image, ctx):
    d = ctx({
        "Dockerfile": "FROM busybox\nCOPY a /a\nRUN cat /a > /b\nCOPY c /c\nRUN echo done\n",
        "a": "one\n",
        "c": "c\n",
    })
    first = build(berthd, d, "-t", "built/cache:1").stdout
    assert "Using cache" not in first
    second = build(berthd, d, "-t", "built/cache:2").stdout
    assert second.count(" ---> Using cache") == 4
    assert prop(berthd, "built/cache:1", "Id") == prop(berthd, "built/cache:2", "Id")
    # A new modification time alone changes nothing (Docker's checksum leaves mtimes out).
    os.utime(os.path.join(d, "a"), (1234567890, 1234567890))
    assert build(berthd, d).stdout.count(" ---> Using cache") == 4

    # A changed file: its COPY and every later step run again; the steps before are cached.
    ctx({"c": "changed\n"})
    third = build(berthd, d, "-t", "built/cache:3").stdout
    steps = third.split("Step ")[1:]
    assert " ---> Using cache" in steps[1] and " ---> Using cache" in steps[2]
    assert " ---> Using cache" not in steps[3] and " ---> Using cache" not in steps[4]
    assert run_out(berthd, "built/cache:3", "cat", "/b", "/c") == "one\nchanged\n"

    # A build arg in scope is part of RUN's key.
    ctx({"Dockerfile": "FROM busybox\nARG V=1\nRUN echo $V > /v\n"})
    build(berthd, d, "-t", "built/arg:1")
    out = build(berthd, d, "--build-arg", "V=2", "-t", "built/arg:2").stdout
    assert out.split("Step 3/3")[1].count("Using cache") == 0
    assert run_out(berthd, "built/arg:2", "cat", "/v") == "2\n"

    # --no-cache runs everything.
    out = build(berthd, d, "--no-cache", "--build-arg", "V=2").stdout
    assert "Using cache" not in out


def test_label_network_and_unused_args(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": "FROM busybox\nLABEL from=dockerfile\nRUN cat /proc/net/dev > /netdev\n"})
    proc = build(berthd, d, "--no-cache", "--label", "cli=yes", "--label", "spaced=a b", "--network", "none",
                 "--build-arg", "NOBODY_USES=1", "-t", "built/label:1")
    assert "[Warning] One or more build-args [NOBODY_USES] were not consumed" in proc.stderr
    assert prop(berthd, "built/label:1", "Labels") == {"from": "dockerfile", "cli": "yes", "spaced": "a b"}
    netdev = run_out(berthd, "built/label:1", "cat", "/netdev")
    assert "lo:" in netdev and "eth0" not in netdev


def test_from_pulls_missing_and_pull_flag(berthd, registry, ctx):
    import uuid
    repo = "build/base-" + uuid.uuid4().hex[:8]
    registry.push_busybox(repo, "1")
    ref = registry.ref(repo, "1")
    d = ctx({"Dockerfile": f"ARG REF\nFROM $REF\nRUN echo pulled-base > /p\n"})
    # Not here yet: FROM pulls it, quietly with -q.
    proc = build(berthd, d, "-q", "--build-arg", f"REF={ref}", "-t", "built/pulled:1")
    assert proc.stdout.startswith("sha256:") and len(proc.stdout.splitlines()) == 1, proc.stdout
    assert run_out(berthd, "built/pulled:1", "cat", "/p") == "pulled-base\n"
    # --pull asks the registry again; the same base keeps the cache.
    out = build(berthd, d, "--pull", "--build-arg", f"REF={ref}").stdout
    assert "Status: Image is up to date for" in out and " ---> Using cache" in out


def test_cache_survives_restart(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": "FROM busybox\nRUN echo restart-cache > /r\n"})
    build(berthd, d, "-t", "built/restart:1")
    berthd.systemctl("restart", "berthd.service", check=True)
    out = build(berthd, d).stdout
    assert " ---> Using cache" in out
    assert len(prop(berthd, "built/restart:1", "BuildCacheKey")) == 64
    assert prop(berthd, "built/restart:1", "History")[-1][2] == ""  # the key is no comment


def test_loaded_image_is_no_cache(berthd, busybox_image, ctx):
    """The key is in berthd's record only: a saved and loaded step image does not pose as cache."""
    d = ctx({"Dockerfile": "FROM busybox\nRUN echo loaded-cache > /l\n"})
    build(berthd, d, "-t", "built/loaded:1")
    archive = os.path.join(d, "saved.tar")
    berthd.sh(f"berthctl save built/loaded:1 > {archive}", check=True)
    berthd.berthctl("rmi", "built/loaded:1", check=True)
    berthd.sh(f"berthctl load -i {archive}", check=True)
    assert prop(berthd, "built/loaded:1", "BuildCacheKey") == ""
    out = build(berthd, d).stdout
    assert "loaded-cache" in out and " ---> Using cache" not in out.split("Step 2/2")[1]


def test_multi_stage_target_and_copy_from(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": """ARG BASE=busybox
FROM ${BASE} AS builder
RUN mkdir /out && echo built > /out/artifact
FROM busybox AS unused
RUN echo never-runs-marker
FROM $BASE
ARG BASE
COPY --from=builder /out/artifact /final/artifact
RUN echo "base=$BASE" > /final/base
"""})
    proc = build(berthd, d, "-t", "built/multi:1")
    assert "never-runs-marker" not in proc.stdout
    assert "Step 1/6 :" in proc.stdout and "Step 6/6 :" in proc.stdout
    assert run_out(berthd, "built/multi:1", "cat", "/final/artifact", "/final/base") == "built\nbase=busybox\n"

    proc = build(berthd, d, "--target", "builder", "-t", "built/multi:builder")
    assert "Step 2/2 :" in proc.stdout
    assert run_out(berthd, "built/multi:builder", "cat", "/out/artifact") == "built\n"

    proc = build(berthd, d, "--target", "nope", check=False)
    assert proc.returncode == 1 and 'target stage "nope" could not be found' in proc.stderr


def test_from_scratch_and_copy_from_image(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": """FROM scratch
COPY --from=busybox /bin/busybox /bin/busybox
ENTRYPOINT ["/bin/busybox"]
CMD ["echo", "from-scratch"]
"""})
    build(berthd, d, "-t", "built/scratch:1")
    assert run_out(berthd, "built/scratch:1") == "from-scratch\n"
    # The scratch base is found again: the whole build comes from the cache.
    out = build(berthd, d, "-t", "built/scratch:2").stdout
    assert out.count(" ---> Using cache") == 3
    assert not [line for line in berthd.berthctl("images", check=True).stdout.splitlines()
                if "berth-build-scratch" in line]


def test_dockerignore(berthd, busybox_image, ctx):
    d = ctx({
        "Dockerfile": "FROM busybox\nCOPY . /ctx/\n",
        ".dockerignore": "*.md\n!README.md\n**/secret\nbuild/\n",
        "README.md": "readme\n",
        "NOTES.md": "notes\n",
        "sub/secret": "s\n",
        "sub/keep": "k\n",
        "build/out": "o\n",
    })
    build(berthd, d, "-t", "built/ignore:1")
    out = run_out(berthd, "built/ignore:1", "find", "/ctx", "-type", "f")
    assert sorted(out.split()) == ["/ctx/.dockerignore", "/ctx/Dockerfile", "/ctx/README.md", "/ctx/sub/keep"]

    ctx({"Dockerfile": "FROM busybox\nCOPY NOTES.md /\n"})
    proc = build(berthd, d, check=False)
    assert proc.returncode == 1 and "excluded by .dockerignore" in proc.stderr


def test_failing_run_leaves_nothing(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": "FROM busybox\nRUN echo before\nRUN false\n"})
    before_containers, before_images = set(containers(berthd)), images(berthd)
    proc = build(berthd, d, "--no-cache", check=False)
    assert proc.returncode == 1
    assert "The command '/bin/sh -c false' returned a non-zero code: 1" in proc.stderr
    assert set(containers(berthd)) == before_containers
    # The step before the failure is kept (its image is cache); nothing of the failed step.
    assert len(images(berthd) - before_images) <= 1


def test_interrupted_build_leaves_nothing(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": "FROM busybox\nRUN echo started-marker && sleep 120\n"})
    log = os.path.join(d, "log")
    before = set(containers(berthd))
    proc = berthd.sh(f"berthctl build --no-cache {d} > {log} 2>&1 & pid=$!; "
                     f"for i in $(seq 100); do grep -q started-marker {log} && break; sleep 0.1; done; "
                     f"kill -TERM $pid; wait $pid; echo rc=$?", timeout=120)
    output = open(log).read()
    assert "rc=1" in proc.stdout, (proc.stdout, output)
    assert "started-marker" in output and "interrupted" in output
    assert set(containers(berthd)) == before


def test_copy_outside_context_refused(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": "FROM busybox\nCOPY ../x /x\n"})
    proc = build(berthd, d, check=False)
    assert proc.returncode == 1
    assert "forbidden path outside the build context: ../x" in proc.stderr
    assert "Dockerfile:2: COPY ../x /x" in proc.stderr

    # A symlink that points out of the context resolves inside it.
    os.symlink("/etc/hostname", os.path.join(d, "link"))
    ctx({"Dockerfile": "FROM busybox\nCOPY link /x\n"})
    proc = build(berthd, d, check=False)
    assert proc.returncode == 1 and "file not found in build context" in proc.stderr


def test_hostile_add_archive_stays_inside(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": "FROM busybox\nADD evil.tar /dest/\n"})
    with tarfile.open(os.path.join(d, "evil.tar"), "w") as t:
        data = b"escaped\n"
        info = tarfile.TarInfo("../../../../etc/berth-build-escape")
        info.size = len(data)
        import io
        t.addfile(info, io.BytesIO(data))
    before_containers = set(containers(berthd))
    proc = build(berthd, d, "--no-cache", check=False)
    assert proc.returncode == 1
    assert "Dockerfile:2: ADD evil.tar /dest/" in proc.stderr
    assert berthd.run(["test", "-e", "/etc/berth-build-escape"]).returncode != 0
    assert set(containers(berthd)) == before_containers


def test_tar_context_on_stdin(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": "FROM busybox\nCOPY . /ctx/\n", "sub/file": "from-tar\n"})
    archive = os.path.join(SHARED_TMP, os.path.basename(d) + ".tar.gz")
    with tarfile.open(archive, "w:gz") as t:
        t.add(d, arcname=".")
    try:
        proc = berthd.run(["sh", "-c", f"berthctl build -t built/stdin-tar:1 - < {archive}"], timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert run_out(berthd, "built/stdin-tar:1", "cat", "/ctx/sub/file") == "from-tar\n"
        # The archive as a file context too.
        build(berthd, archive, "-t", "built/file-tar:1")
        assert run_out(berthd, "built/file-tar:1", "cat", "/ctx/sub/file") == "from-tar\n"
    finally:
        os.unlink(archive)


def test_history_and_prune(berthd, busybox_image, ctx):
    d = ctx({"Dockerfile": "FROM busybox\nENV H=1\nRUN echo history-run > /h\n"})
    build(berthd, d, "--no-cache", "-t", "built/history:1")
    out = berthd.berthctl("history", "--no-trunc", "built/history:1", check=True).stdout
    assert "/bin/sh -c echo history-run > /h" in out
    # The ENV step made no layer: its row is "<missing>" with 0 bytes, as in docker history.
    rows = berthd.berthctl("history", "--no-trunc", "--format", "{{.ID}}|{{.Size}}|{{.CreatedBy}}",
                           "built/history:1", check=True).stdout.splitlines()
    assert rows[0].endswith("|/bin/sh -c echo history-run > /h") and rows[0].startswith("sha256:")
    assert rows[1] == "<missing>|0B|/bin/sh -c #(nop) ENV H=1", rows
    # The step images are dangling: prune takes them; the tagged image keeps working.
    berthd.berthctl("image", "prune", "-f", check=True)
    assert run_out(berthd, "built/history:1", "cat", "/h") == "history-run\n"
    out = build(berthd, d, "-t", "built/history:2").stdout
    assert out.split("Step 3/3")[1].count("Using cache") == 0


def test_parse_errors_name_line(berthd, ctx):
    d = ctx({"Dockerfile": "FROM busybox\nRUNN echo\n"})
    proc = build(berthd, d, check=False)
    assert proc.returncode == 1
    assert "Dockerfile: line 2: unknown instruction: RUNN" in proc.stderr
    proc = build(berthd, d, "-t", "Bad:Name", check=False)
    assert proc.returncode == 125 and "invalid reference format" in proc.stderr


def test_stdin_dockerfile_quiet_iidfile(berthd, busybox_image, ctx):
    iid = os.path.join(ctx.dir, "iid")
    proc = berthd.run(["berthctl", "build", "-q", "--iidfile", iid, "-"], input="FROM busybox\nENV Q=1\n",
                      timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("sha256:") and len(proc.stdout.strip()) == 71
    assert open(iid).read() == proc.stdout.strip()


# A peer's run (podman's crun), once, not per layout: in the unified-only testbed crun cannot raise
# RLIMIT_MEMLOCK, which says nothing of what berth built.
@pytest.mark.peers
def test_podman_runs_built_image(berthd, busybox_image, ctx):
    if berthd.run(["sh", "-c", "command -v podman"]).returncode != 0:
        pytest.fail("podman is not installed (tools/install-deps.sh installs it)")
    d = ctx({"Dockerfile": "FROM busybox\nCOPY f /f\nRUN echo ran >> /f\nCMD [\"cat\", \"/f\"]\n", "f": "copied\n"})
    build(berthd, d, "-t", "built/podman:1")
    archive = os.path.join(d, "image.tar")
    berthd.sh(f"berthctl save built/podman:1 > {archive}", check=True)
    root = tempfile.mkdtemp(prefix="berth-podman.", dir=SHARED_TMP)
    flags = ["--cgroup-manager=systemd", "--events-backend=file", "--storage-driver=vfs",
             "--root", os.path.join(root, "root"), "--runroot", os.path.join(root, "run")]
    try:
        berthd.run(["podman", *flags, "load", "-i", archive], check=True, timeout=180)
        proc = berthd.run(["podman", *flags, "run", "--rm", "--network=none", "built/podman:1"], timeout=180)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "copied\nran\n"
    finally:
        berthd.run(["podman", *flags, "system", "reset", "--force"], timeout=120)
        shutil.rmtree(root, ignore_errors=True)
