# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for berth's integration tests: a real systemd, system bus and journal.

On a machine whose PID 1 is not systemd, test/testbed.sh boots systemd as PID 1 of fresh
namespaces (see its header); on a systemd host the tests run against the host itself.

Fixtures (all session-scoped):

  bed            the booted testbed, with the build in BERTH_BUILD_DIR (default <repo>/build)
                 installed into it when that is a meson build directory. Methods:
                   run(argv, input=None, check=False, timeout=60, env=None)
                       -> subprocess.CompletedProcess (text stdout/stderr); argv runs inside,
                          in a transient scope (systemd-run --scope)
                   sh(cmd_string, **kw)          run(["sh", "-c", cmd_string], **kw)
                   nsenter(argv, **kw)           like run() but without a scope
                   berthctl(*args, **kw)         run(["berthctl", *args], **kw)
                   busctl(*args, **kw)           run(["busctl", *args], **kw)
                   systemctl(*args, **kw)        run(["systemctl", *args], **kw)
                   journal_json(*matches)        list of dicts: journalctl -o json MATCH...
                   wait_until(predicate, timeout=10, interval=0.1, what=...)
                 Attributes: state_dir, build_dir, mode ("ns" or "host"), installed.
  berthd         the bed, with berthd.service started (fails loudly if it cannot be); after the
                 last test, the journal must hold no sanitizer report (an error at teardown)
  busybox_tar    path of a busybox rootfs tarball under /var/tmp (visible inside the testbed;
                 /tmp inside is private)
  busybox_image  "busybox:latest", imported with berthctl import

Network: in ns mode the testbed has a network namespace of its own (test/testbed.sh), and the pytest
process joins it right after the testbed boots (join_netns(): setns() on the main thread, before any
thread starts; threads and subprocesses made later inherit it). So sockets opened by the tests, and
every command they run, see the testbed's loopback and links, never the host's. What must reach the
host's network (debootstrap's mirror) runs through host_net_argv(). netns.py makes more namespaces
("ext", "inet") for the network tests.

Environment: BERTH_BUILD_DIR (absolute, or relative to the repository root),
BERTH_TESTBED_KEEP=1 keeps the testbed (and says how to tear it down) for debugging,
BERTH_TESTBED_STORAGE=btrfs puts /var/lib/berth on a fresh btrfs (testbed.sh), so the whole suite
runs on berthd's btrfs storage driver. DRIVER names the driver the suite expects, LAYERS its
directory; layer_dir(diff_ids, k) is where layer k (0 = bottom) of an image is stored.
"""

import atexit
import ctypes
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TESTBED_SH = REPO / "test" / "testbed.sh"
MAKE_BUSYBOX = REPO / "test" / "make-busybox-image.sh"
MAKE_DEBIAN = REPO / "test" / "make-debian-image.sh"
SHARED_TMP = "/var/tmp"  # seen by both sides; /tmp inside the testbed is private
DRIVER = "btrfs" if os.environ.get("BERTH_TESTBED_STORAGE") == "btrfs" else "overlay"
LAYERS = f"/var/lib/berth/{DRIVER}"


def layer_key(diff_ids, k):
    """The name layer k (0 = bottom) of an image with these diff ids is stored under: its diff id
    with overlay, its OCI chain id with btrfs (a btrfs layer holds everything below it)."""
    if DRIVER == "overlay" or k == 0:
        return diff_ids[k].split(":", 1)[1]
    import hashlib
    chain = diff_ids[0]
    for d in diff_ids[1:k + 1]:
        chain = "sha256:" + hashlib.sha256(f"{chain} {d}".encode()).hexdigest()
    return chain.split(":", 1)[1]


def layer_dir(diff_ids, k):
    return f"{LAYERS}/{layer_key(diff_ids, k)}/diff"


def build_dir():
    value = os.environ.get("BERTH_BUILD_DIR", "build")
    path = Path(value)
    if not path.is_absolute():
        path = REPO / path
    return path


def keep_testbed():
    return os.environ.get("BERTH_TESTBED_KEEP", "") not in ("", "0", "no", "false")


class CommandFailed(subprocess.CalledProcessError):
    """CalledProcessError whose message carries the command's output."""

    def __str__(self):
        return (
            f"{super().__str__()}\n--- stdout ---\n{self.stdout or ''}"
            f"--- stderr ---\n{self.stderr or ''}"
        )


class Testbed:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, state_dir, build):
        self.state_dir = str(state_dir)
        self.build_dir = Path(build)
        self.mode = None
        self.installed = False
        self._down = False

    # -- lifecycle -------------------------------------------------------------------------

    def _testbed(self, *args, check=True, timeout=120):
        proc = subprocess.run(
            [str(TESTBED_SH), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise CommandFailed(proc.returncode, proc.args, proc.stdout, proc.stderr)
        return proc

    def up(self):
        self._testbed("up", self.state_dir)
        with open(os.path.join(self.state_dir, "mode")) as f:
            self.mode = f.read().strip()

    def install(self):
        self._testbed("install", self.state_dir, str(self.build_dir), timeout=600)
        self.installed = True

    def down(self):
        if self._down:
            return
        self._down = True
        if keep_testbed():
            KEPT.append(self.state_dir)
            return
        self._testbed("down", self.state_dir, check=False)

    # -- running things inside ---------------------------------------------------------------

    def _exec(self, verb, argv, input=None, check=False, timeout=60, env=None):
        if isinstance(argv, (str, bytes)):
            raise TypeError("argv must be a list; use bed.sh() for a shell string")
        argv = [str(a) for a in argv]
        proc = subprocess.run(
            [str(TESTBED_SH), verb, self.state_dir, "--", *argv],
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        proc.args = argv
        if check and proc.returncode != 0:
            raise CommandFailed(proc.returncode, argv, proc.stdout, proc.stderr)
        return proc

    def run(self, argv, input=None, check=False, timeout=60, env=None):
        """Run argv inside the testbed in a transient scope."""
        return self._exec("run", argv, input=input, check=check, timeout=timeout, env=env)

    def nsenter(self, argv, input=None, check=False, timeout=60, env=None):
        """Run argv inside the testbed's namespaces, but in no scope of its own."""
        return self._exec("nsenter", argv, input=input, check=check, timeout=timeout, env=env)

    def sh(self, cmd, **kw):
        return self.run(["sh", "-c", cmd], **kw)

    def berthctl(self, *args, **kw):
        return self.run(["berthctl", *args], **kw)

    def busctl(self, *args, **kw):
        return self.run(["busctl", *args], **kw)

    def systemctl(self, *args, **kw):
        return self.run(["systemctl", *args], **kw)

    def journal_json(self, *matches, timeout=60):
        """Journal entries matching MATCHES (journalctl syntax: FIELD=VALUE, -u UNIT, ...)."""
        self.run(["journalctl", "--sync"], timeout=timeout)
        proc = self.run(
            ["journalctl", "-q", "--all", "--no-pager", "-o", "json", *matches], check=True, timeout=timeout
        )
        return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]

    def controller_file(self, controller, cgroup, v1_file, v2_file):
        """The content of a controller's file of a cgroup: from the v1 hierarchy of that controller
        (hybrid hosts) or the unified one (v2_file), or None when the controller is not available
        in the testbed (a unified-only testbed on a hybrid host): limits are then accepted as unit
        properties but not enforced, and only the property can be checked."""
        if not self.has_controller(controller):
            return None
        return self.sh(f"cat /sys/fs/cgroup/{controller}{cgroup}/{v1_file} 2>/dev/null || "
                       f"cat /sys/fs/cgroup{cgroup}/{v2_file}", check=True).stdout.strip()

    def has_controller(self, controller):
        """Whether the testbed's systemd can enforce limits with this cgroup controller."""
        return self.sh(f"test -d /sys/fs/cgroup/{controller} || "
                       f"grep -qw {controller} /sys/fs/cgroup/cgroup.controllers").returncode == 0

    def wait_until(self, predicate, timeout=10, interval=0.1, what="condition"):
        """Poll predicate() until it returns something truthy; return that, or fail."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                pytest.fail(f"timed out after {timeout}s waiting for {what}")
            time.sleep(interval)


KEPT = []  # state dirs of testbeds left up by BERTH_TESTBED_KEEP=1

CLONE_NEWNET = 0x40000000
HOST_NETNS_FD = None  # the network namespace pytest started in, kept open once it joined the testbed's


def join_netns(pid):
    """Move the pytest process into the network namespace of process pid (the testbed's init).
    setns() changes the calling thread only: this runs on the main thread before the tests start any
    thread, so every thread and subprocess made afterwards is in the new namespace (a thread some
    plugin started earlier stays where it was, which concerns no test)."""
    global HOST_NETNS_FD
    host = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            os.close(host)
            raise OSError(err, f"setns() into the network namespace of {pid}: {os.strerror(err)}")
    finally:
        os.close(fd)
    if HOST_NETNS_FD is None:
        HOST_NETNS_FD = host
    else:
        os.close(host)


def host_net_argv(argv):
    """argv as run in the host's network namespace (for what needs the host's network, such as a
    package mirror), whatever namespace the pytest process is in; pass pass_fds=host_net_fds()."""
    if HOST_NETNS_FD is None:
        return list(argv)
    return ["nsenter", f"--net=/proc/self/fd/{HOST_NETNS_FD}", "--", *argv]


def host_net_fds():
    return () if HOST_NETNS_FD is None else (HOST_NETNS_FD,)


def pytest_terminal_summary(terminalreporter):
    for state_dir in KEPT:
        terminalreporter.write_line(
            f"BERTH_TESTBED_KEEP: testbed kept in {state_dir}; enter it with\n"
            f"  {TESTBED_SH} shell {state_dir} 'journalctl -b --no-pager'\n"
            f"and tear it down with\n  {TESTBED_SH} down {state_dir}"
        )


def _raise_keyboard_interrupt(signum, frame):
    # SIGTERM/SIGHUP go the KeyboardInterrupt way, so fixtures tear down.
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def bed():
    state_dir = tempfile.mkdtemp(prefix="berth-testbed.", dir=SHARED_TMP)
    tb = Testbed(state_dir, build_dir())
    atexit.register(tb.down)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_keyboard_interrupt)
    try:
        tb.up()
        if tb.mode == "ns":
            pid = tb._testbed("pid", tb.state_dir).stdout.strip()
            join_netns(int(pid))
        if (tb.build_dir / "build.ninja").exists():
            tb.install()
        yield tb
    finally:
        tb.down()


@pytest.fixture(scope="session")
def berthd(bed):
    if not bed.installed:
        pytest.fail(
            f"berth is not built: {bed.build_dir} is no meson build directory "
            "(set BERTH_BUILD_DIR, or run: meson setup build && meson compile -C build)"
        )
    proc = bed.systemctl("start", "berthd.service")
    if proc.returncode != 0:
        status = bed.systemctl("status", "--no-pager", "berthd.service")
        log = bed.run(["journalctl", "--no-pager", "-n", "50", "-u", "berthd.service"])
        pytest.fail(
            f"systemctl start berthd.service failed ({proc.returncode}):\n{proc.stderr}\n"
            f"{status.stdout}\n{log.stdout}"
        )
    yield bed
    check_no_sanitizer_reports(bed)


def check_no_sanitizer_reports(bed):
    """After the last test that used berthd, whatever the order: no sanitizer report from berthd,
    berth-nspawn or berthctl anywhere in the testbed's journal. With a SANITIZE=1 build this turns
    every integration test into an ASan/UBSan run; a report fails the session (an error at teardown)."""
    # Stop berthd so LeakSanitizer's exit-time check runs and lands in the journal too.
    bed.systemctl("stop", "berthd.service", check=True)
    bed.run(["journalctl", "--sync"])
    proc = bed.run(["journalctl", "--no-pager", "-q", "-o", "cat", "--grep",
                    "AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:"])
    # journalctl --grep exits 1 when nothing matches.
    if proc.returncode != 1 or proc.stdout:
        pytest.fail(f"sanitizer reports in the testbed's journal:\n{proc.stdout[:20000]}", pytrace=False)


@pytest.fixture(scope="session")
def busybox_tar():
    workdir = tempfile.mkdtemp(prefix="berth-busybox.", dir=SHARED_TMP)
    os.chmod(workdir, 0o755)
    tar = os.path.join(workdir, "busybox.tar")
    try:
        subprocess.run(
            [str(MAKE_BUSYBOX), tar], check=True, stdin=subprocess.DEVNULL, timeout=120
        )
        yield tar
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def debian_tar():
    """A Debian bookworm minbase rootfs tarball (debootstrap, ~200 MB), built once per machine and
    kept in /var/tmp/berth-test-cache (bench/run's is reused when there)."""
    bench = "/var/tmp/berth-bench-cache/debian-minbase-bookworm-nodev.tar"
    if os.path.getsize(bench) if os.path.exists(bench) else 0:
        return bench
    cache = os.path.join(SHARED_TMP, "berth-test-cache")
    os.makedirs(cache, exist_ok=True)
    tar = os.path.join(cache, "debian-minbase-bookworm.tar")
    subprocess.run(host_net_argv([str(MAKE_DEBIAN), tar]), pass_fds=host_net_fds(), check=True,
                   stdin=subprocess.DEVNULL, timeout=900)
    return tar


@pytest.fixture(scope="session")
def busybox_image(berthd, busybox_tar):
    """The busybox rootfs imported as busybox:latest (tests must not remove this tag)."""
    proc = berthd.berthctl("import", busybox_tar, "busybox:latest", timeout=120)
    assert proc.returncode == 0, (
        f"berthctl import failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    )
    return "busybox:latest"


@pytest.fixture(scope="session")
def probe_bin():
    """test/integration/probe.c built statically, under /var/tmp (seen by the testbed): bind-mount it
    into a container (`-v PATH:/probe:ro`) for the system calls busybox cannot make."""
    workdir = tempfile.mkdtemp(prefix="berth-probe.", dir=SHARED_TMP)
    os.chmod(workdir, 0o755)
    binary = os.path.join(workdir, "probe")
    try:
        subprocess.run(["gcc", "-static", "-O2", "-o", binary, str(REPO / "test" / "integration" / "probe.c")],
                       check=True, stdin=subprocess.DEVNULL, timeout=120)
        yield binary
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# -- OCI registries (test/integration/registry.py) ---------------------------------------------
# Each yields a started Registry (Debian's docker-registry inside the testbed, on 127.0.0.1) and
# stops it after the test; see registry.py's docstring for its methods.


def _registry(bed, busybox_tar, mode, **kw):
    from registry import Registry
    reg = Registry(bed, busybox_tar, mode=mode, **kw)
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture()
def registry(bed, busybox_tar):
    """A registry over plain HTTP, no authentication."""
    yield from _registry(bed, busybox_tar, "plain")


@pytest.fixture()
def registry_tls(bed, busybox_tar):
    """A registry over HTTPS whose CA is in the testbed's /etc/{docker,containers}/certs.d/URL/."""
    yield from _registry(bed, busybox_tar, "tls")


@pytest.fixture()
def registry_basic(bed, busybox_tar):
    """A registry over plain HTTP with htpasswd (bcrypt) Basic auth: registry_basic.creds."""
    yield from _registry(bed, busybox_tar, "basic")


@pytest.fixture()
def registry_bearer(bed, busybox_tar):
    """A registry over plain HTTP with token auth, and its token server (registry_token.py):
    Basic credentials registry_bearer.creds get tokens; token_requests() lists the requests."""
    yield from _registry(bed, busybox_tar, "bearer")


@pytest.fixture()
def fault_proxy(registry):
    """A FaultProxy (fault_proxy.py) in front of the registry fixture: fault_proxy.url is the
    address to use; fault_proxy.set_rules([...]) injects faults."""
    yield registry.proxy()
