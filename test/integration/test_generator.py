# SPDX-License-Identifier: LGPL-2.1-or-later
"""berth-generator: /etc/berth/systemd/NAME.container files become NAME.service units (Quadlet's
syntax) that run the container attached through berthctl run."""
import time
import uuid

import pytest

SOURCE_DIR = "/etc/berth/systemd"
GENERATOR_DIR = "/run/systemd/generator"

# The example: prints "started", answers SIGTERM with "bye" and a clean exit.
TRAPPING = """sh -c 'echo started; trap "echo bye; exit 0" TERM; while :; do sleep 1; done'"""


class ContainerUnits:
    """Writes .container files into the testbed and removes them (and their units) afterwards."""

    def __init__(self, bed):
        self.bed = bed
        self.names = []

    def write(self, name, text):
        self.names.append(name)
        self.bed.run(["mkdir", "-p", SOURCE_DIR], check=True)
        self.bed.run(["tee", f"{SOURCE_DIR}/{name}.container"], input=text, check=True)

    def reload(self):
        self.bed.systemctl("daemon-reload", check=True)

    def cleanup(self):
        for name in self.names:
            self.bed.systemctl("stop", f"{name}.service")
            self.bed.run(["rm", "-f", f"{SOURCE_DIR}/{name}.container"])
        self.bed.systemctl("daemon-reload")
        for name in self.names:
            self.bed.systemctl("reset-failed", f"{name}.service")


@pytest.fixture()
def units(busybox_image, berthd):
    u = ContainerUnits(berthd)
    try:
        yield u
    finally:
        u.cleanup()


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def unit_log(bed, unit):
    bed.run(["journalctl", "--sync"])
    return bed.run(["journalctl", "-q", "--no-pager", "-o", "cat", "-u", unit]).stdout


def container_names(bed, *flags):
    return bed.berthctl("ps", *flags, "--format", "{{.Names}}", check=True).stdout.split()


def test_service_runs_the_container_attached_and_stop_sends_term(units):
    bed = units.bed
    name = unique("web")
    units.write(name, f"[Container]\nImage=busybox:latest\nExec={TRAPPING}\n")
    units.reload()
    text = bed.run(["cat", f"{GENERATOR_DIR}/{name}.service"], check=True).stdout
    assert "KillMode=mixed" in text and f"SyslogIdentifier={name}" in text

    # systemd accepts the generated unit as it is.
    verify = bed.run(["systemd-analyze", "verify", f"{GENERATOR_DIR}/{name}.service"])
    assert verify.returncode == 0, verify.stderr

    bed.systemctl("start", f"{name}.service", check=True)
    assert bed.systemctl("is-active", f"{name}.service").stdout.strip() == "active"
    container = f"systemd-{name}"
    # systemctl status says where the container runs (its own scope) and what its payload is.
    status = bed.systemctl("status", "--no-pager", f"{name}.service").stdout
    assert f"Container {container} runs in berth-" in status and "sh -c echo started" in status, status
    bed.wait_until(lambda: container in container_names(bed), what="the container in berthctl ps")
    bed.wait_until(lambda: "started" in unit_log(bed, f"{name}.service"), what="'started' in journalctl -u")
    # The supervisor's own journal entries, with the container's fields, are still there.
    bed.wait_until(lambda: any(e.get("MESSAGE") == "started" for e in bed.journal_json(f"CONTAINER_NAME={container}")),
                   what="'started' under CONTAINER_NAME")

    bed.systemctl("stop", f"{name}.service", check=True)
    assert "bye" in unit_log(bed, f"{name}.service")  # the container got SIGTERM and exited by itself
    assert container not in container_names(bed, "-a")
    state = bed.systemctl("is-active", f"{name}.service").stdout.strip()
    assert state == "inactive", state  # a clean stop, not "failed"


def test_unknown_key_gives_no_unit_and_an_error_in_the_journal(units):
    bed = units.bed
    name = unique("bad")
    units.write(name, "[Container]\nImage=busybox:latest\nFrobnicate=yes\n")
    units.reload()
    assert bed.run(["test", "-e", f"{GENERATOR_DIR}/{name}.service"]).returncode != 0
    assert bed.systemctl("cat", f"{name}.service").returncode != 0

    def error_logged():
        entries = bed.journal_json("SYSLOG_IDENTIFIER=berth-generator")
        return [e for e in entries if f"{name}.container" in e.get("MESSAGE", "")]

    entries = bed.wait_until(error_logged, what="the generator's error in the journal")
    assert "Unknown key Frobnicate= in section [Container]" in entries[-1]["MESSAGE"]
    assert entries[-1]["PRIORITY"] == "3"


def test_install_wanted_by_makes_the_wants_link(units):
    bed = units.bed
    name = unique("wanted")
    units.write(name, f"[Container]\nImage=busybox:latest\nExec=true\n[Install]\nWantedBy=multi-user.target\n")
    units.reload()
    link = f"{GENERATOR_DIR}/multi-user.target.wants/{name}.service"
    assert bed.run(["readlink", link], check=True).stdout.strip() == f"../{name}.service"
    wants = bed.systemctl("show", "-p", "Wants", "--value", "multi-user.target", check=True).stdout.split()
    assert f"{name}.service" in wants


def test_restart_passes_through(units):
    bed = units.bed
    name = unique("restart")
    units.write(name, f"[Container]\nImage=busybox:latest\nExec={TRAPPING}\n"
                      "[Service]\nRestart=always\nRestartSec=100ms\n")
    units.reload()
    bed.systemctl("start", f"{name}.service", check=True)
    container = f"systemd-{name}"
    bed.wait_until(lambda: container in container_names(bed), what="the container")
    first = bed.berthctl("inspect", "--format", "{{.Id}}", container, check=True).stdout.strip()
    bed.berthctl("kill", container, check=True)  # SIGKILL: berthctl run exits 137, systemd restarts it

    def restarted():
        n = bed.systemctl("show", "-p", "NRestarts", "--value", f"{name}.service").stdout.strip()
        if n in ("", "0"):
            return None
        proc = bed.berthctl("inspect", "--format", "{{.Id}} {{.State.Status}}", container)
        if proc.returncode != 0:
            return None
        cid, status = proc.stdout.split()
        return cid != first and status == "running"

    bed.wait_until(restarted, timeout=20, what="the service restarted with a new container")
    assert bed.systemctl("is-active", f"{name}.service").stdout.strip() == "active"


def test_stop_signal_and_timeout(units):
    bed = units.bed
    sig = unique("sig")
    units.write(sig, "[Container]\nImage=busybox:latest\nStopSignal=SIGUSR1\n"
                     """Exec=sh -c 'echo up; trap "echo got usr1; exit 0" USR1; while :; do sleep 1; done'\n""")
    stubborn = unique("stubborn")
    # PID 1 of the container ignores SIGTERM (no handler): only the timeout ends it.
    units.write(stubborn, "[Container]\nImage=busybox:latest\nStopTimeout=2\n"
                          "Exec=sh -c 'echo up; while :; do sleep 1; done'\n")
    units.reload()
    for name in (sig, stubborn):
        bed.systemctl("start", f"{name}.service", check=True)
        bed.wait_until(lambda: "up" in unit_log(bed, f"{name}.service"), what=f"{name} up")

    assert bed.systemctl("show", "-p", "KillSignal", "--value", f"{sig}.service").stdout.strip() == "10"
    bed.systemctl("stop", f"{sig}.service", check=True)
    assert "got usr1" in unit_log(bed, f"{sig}.service")
    assert bed.systemctl("is-active", f"{sig}.service").stdout.strip() == "inactive"

    start = time.monotonic()
    bed.systemctl("stop", f"{stubborn}.service", check=True)
    took = time.monotonic() - start
    assert 1.5 <= took < 30, took
    assert f"systemd-{stubborn}" not in container_names(bed, "-a")  # ExecStopPost= removed it


def test_environment_quoting_and_specifiers(units):
    bed = units.bed
    name = unique("env")
    units.write(name, "[Container]\nImage=busybox:latest\nContainerName=" + name + "-ctr\n"
                      'Environment="GREETING=hello   world" PRICE=5$\n'
                      """Exec=sh -c 'echo "$GREETING costs $PRICE in %N"'\n""")
    units.reload()
    bed.systemctl("start", f"{name}.service", check=True)
    bed.wait_until(lambda: f"hello   world costs 5$ in {name}" in unit_log(bed, f"{name}.service"),
                   what="the container's line")
    bed.wait_until(lambda: bed.systemctl("is-active", f"{name}.service").stdout.strip() == "inactive",
                   what="the service to end with its container")
    assert f"{name}-ctr" not in container_names(bed, "-a")


def test_start_waits_for_the_container_and_fails_with_it(units):
    # Type=notify: systemctl start returns once the payload runs, and fails when the start fails.
    bed = units.bed
    good, bad = unique("ready"), unique("broken")
    units.write(good, f"[Container]\nImage=busybox:latest\nExec={TRAPPING}\n")
    units.write(bad, "[Container]\nImage=no-such-image:1\nPull=never\nExec=true\n")
    units.reload()
    bed.systemctl("start", f"{good}.service", check=True)
    assert f"systemd-{good}" in container_names(bed)  # running by the time start returned
    proc = bed.systemctl("start", f"{bad}.service")
    assert proc.returncode != 0, proc
    assert "No such image" in unit_log(bed, f"{bad}.service")


def test_socket_activation_hands_the_listening_socket_to_the_container(units, probe_bin):
    """NAME.socket starts NAME.service on the first connection; berthctl run passes the listening
    socket on, and the payload finds it as descriptor 3 with LISTEN_FDS, LISTEN_PID (its own) and
    LISTEN_FDNAMES, as a service does (sd_listen_fds())."""
    import socket
    bed = units.bed
    name = unique("sock")
    port = 18200 + int(uuid.uuid4().hex[:3], 16) % 500
    units.write(name, f"[Container]\nImage=busybox:latest\nVolume={probe_bin}:/probe:ro\nExec=/probe accept-fd3\n")
    bed.run(["tee", f"/etc/systemd/system/{name}.socket"],
            input=f"[Socket]\nListenStream=127.0.0.1:{port}\nFileDescriptorName=web\n", check=True)
    try:
        units.reload()
        bed.systemctl("start", f"{name}.socket", check=True)
        assert bed.systemctl("is-active", f"{name}.service").stdout.strip() == "inactive"
        def ask():
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.settimeout(60)
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        return data
                    data += chunk

        data = ask()
        assert data == b"hello LISTEN_FDS=1 LISTEN_FDNAMES=web\n", (data, unit_log(bed, f"{name}.service"))
        # The payload answered one connection and exited with the service; the next connection
        # starts both again, with the same socket.
        bed.wait_until(lambda: bed.systemctl("is-active", f"{name}.service").stdout.strip() != "active",
                       timeout=30, what="the service to finish")
        assert ask() == b"hello LISTEN_FDS=1 LISTEN_FDNAMES=web\n", unit_log(bed, f"{name}.service")
    finally:
        bed.systemctl("stop", f"{name}.socket")
        bed.run(["rm", "-f", f"/etc/systemd/system/{name}.socket"])


def test_ordering_between_two_container_units(units):
    """[Unit] Requires= and After= between two generated services: starting the second starts the first
    before it, and its container runs first."""
    bed = units.bed
    first, second = unique("db"), unique("app")
    units.write(first, f"[Container]\nImage=busybox:latest\nExec={TRAPPING}\n")
    units.write(second, f"[Unit]\nRequires={first}.service\nAfter={first}.service\n"
                        f"[Container]\nImage=busybox:latest\nExec={TRAPPING}\n")
    units.reload()
    bed.systemctl("start", f"{second}.service", check=True)
    try:
        assert bed.systemctl("is-active", f"{first}.service").stdout.strip() == "active"
        started = {}
        for n in (first, second):
            out = bed.berthctl("inspect", "--format", "{{.State.StartedAt}}", f"systemd-{n}", check=True).stdout
            started[n] = out.strip()
        assert started[first] <= started[second], started  # RFC 3339 in UTC: ordered as text
        # Requires=: stopping the first stops the second too.
        bed.systemctl("stop", f"{first}.service", check=True)
        assert bed.systemctl("is-active", f"{second}.service").stdout.strip() == "inactive"
    finally:
        bed.systemctl("stop", f"{second}.service", f"{first}.service")
