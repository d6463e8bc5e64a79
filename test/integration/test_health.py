# SPDX-License-Identifier: LGPL-2.1-or-later
"""Health checks (Docker's --health-*, podman's --health-on-failure) and run --sdnotify."""
import json
import time
import uuid

import pytest

from test_docker_cli import events_until
from test_generator import ContainerUnits, unique


@pytest.fixture()
def names(busybox_image, berthd):
    made = []

    def make(prefix="hc"):
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        made.append(name)
        return name

    yield make
    if made:
        berthd.berthctl("rm", "-f", *made)


def run_d(bed, name, *args, image="busybox:latest", cmd=("sleep", "300")):
    return bed.berthctl("run", "-d", "--name", name, *args, image, *cmd, check=True)


def inspect(bed, name):
    return json.loads(bed.berthctl("inspect", name, check=True).stdout)[0]


def health(bed, name):
    return inspect(bed, name)["State"].get("Health")


def wait_health(bed, name, predicate, timeout=20, what="health"):
    def check():
        h = health(bed, name)
        return h if h and predicate(h) else None
    return bed.wait_until(check, timeout=timeout, interval=0.2, what=what)


def ps_status(bed, name):
    return bed.berthctl("ps", "-a", "--filter", f"name=^{name}$", "--format", "{{.Status}}",
                        check=True).stdout.strip()


def ps_names(bed, *filters):
    args = []
    for f in filters:
        args += ["--filter", f]
    return bed.berthctl("ps", "-a", *args, "--format", "{{.Names}}", check=True).stdout.split()


def bus_property(bed, name, prop):
    path = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                      check=True).stdout.split('"')[1]
    return json.loads(bed.busctl("--json=short", "get-property", "org.berth1", path, "org.berth1.Container", prop,
                                 check=True).stdout)["data"]


def test_passing_probe_is_healthy_with_its_output(berthd, names):
    name, plain = names(), names()
    run_d(berthd, name, "--health-cmd", "echo ok; echo err >&2", "--health-interval", "1s")
    run_d(berthd, plain)
    # Right after the start: starting, shown as Docker does.
    assert health(berthd, name)["Status"] in ("starting", "healthy")
    h = wait_health(berthd, name, lambda h: h["Status"] == "healthy", what="healthy")
    assert h["FailingStreak"] == 0
    entry = h["Log"][-1]
    assert entry["ExitCode"] == 0
    assert entry["Output"] in ("ok\nerr\n", "err\nok\n")
    assert entry["Start"] <= entry["End"]
    assert ps_status(berthd, name).startswith("Up ") and ps_status(berthd, name).endswith(" (healthy)")
    assert "(" not in ps_status(berthd, plain)
    assert name in ps_names(berthd, "health=healthy") and plain not in ps_names(berthd, "health=healthy")
    assert plain in ps_names(berthd, "health=none") and name not in ps_names(berthd, "health=none")
    assert name not in ps_names(berthd, "health=unhealthy")
    # The same on the bus.
    assert bus_property(berthd, name, "HealthStatus") == "healthy"
    assert bus_property(berthd, name, "HealthFailingStreak") == 0
    log = bus_property(berthd, name, "HealthLog")
    assert log[-1][2] == 0 and "ok" in log[-1][3]
    cfg = inspect(berthd, name)["Config"]["Healthcheck"]
    assert cfg == {"Test": ["CMD-SHELL", "echo ok; echo err >&2"], "Interval": 1000000000}
    assert "Health" not in inspect(berthd, plain)["State"]
    assert "Healthcheck" not in inspect(berthd, plain)["Config"]


def test_output_that_is_no_utf8_is_kept_readable(berthd, names):
    # D-Bus strings must be UTF-8: bytes that are not (and NULs) become U+FFFD, nothing breaks.
    name = names()
    run_d(berthd, name, "--health-cmd", "printf '\\377ok\\000!'", "--health-interval", "500ms")
    h = wait_health(berthd, name, lambda h: h["Status"] == "healthy", what="healthy")
    assert h["Log"][-1]["Output"] == "\ufffdok\ufffd!"
    assert name in ps_names(berthd, "health=healthy")


def test_failing_probe_becomes_unhealthy_after_retries(berthd, names):
    name = names()
    run_d(berthd, name, "--health-cmd", "echo bad >&2; exit 3", "--health-interval", "1s",
          "--health-retries", "2")
    h = wait_health(berthd, name, lambda h: h["FailingStreak"] >= 1, what="a failure")
    assert h["Status"] == "starting" and h["FailingStreak"] == 1  # one failure is not enough
    h = wait_health(berthd, name, lambda h: h["Status"] == "unhealthy", what="unhealthy")
    assert h["FailingStreak"] >= 2
    assert h["Log"][-1]["ExitCode"] == 3 and h["Log"][-1]["Output"] == "bad\n"
    assert ps_status(berthd, name).endswith(" (unhealthy)")
    assert name in ps_names(berthd, "health=unhealthy")
    # The streak grows; the log keeps the last five.
    h = wait_health(berthd, name, lambda h: h["FailingStreak"] >= 6, timeout=30, what="six failures")
    assert len(h["Log"]) == 5
    assert inspect(berthd, name)["State"]["Status"] == "running"  # no --health-on-failure: nothing done


def test_probe_that_outlives_its_timeout_is_killed(berthd, names):
    name = names()
    run_d(berthd, name, "--health-cmd", "sleep 30", "--health-interval", "1s", "--health-timeout", "500ms",
          "--health-retries", "1")
    h = wait_health(berthd, name, lambda h: h["Status"] == "unhealthy", what="unhealthy by timeout")
    entry = h["Log"][-1]
    assert entry["ExitCode"] == -1
    assert entry["Output"] == "Health check exceeded timeout (500ms)"
    # Probes never overlap: one runs at a time, each killed at its timeout.
    time.sleep(2)
    procs = berthd.berthctl("exec", name, "ps", "-o", "args", check=True).stdout
    assert procs.count("sleep 30") <= 1, procs


def test_start_period_does_not_count_failures(berthd, names):
    name = names()
    run_d(berthd, name, "--health-cmd", "exit 1", "--health-interval", "10s", "--health-start-interval", "500ms",
          "--health-start-period", "1h", "--health-retries", "1")
    # The start interval applies within the start period, and failures there are not counted.
    h = wait_health(berthd, name, lambda h: len(h["Log"]) >= 3, timeout=10, what="three probes")
    assert h["Status"] == "starting" and h["FailingStreak"] == 0


def test_image_healthcheck_is_kept_by_commit_and_overridden_per_field(berthd, names):
    src, inherit, override, disabled = names(), names(), names(), names()
    image = f"hc-image-{uuid.uuid4().hex[:6]}:1"
    run_d(berthd, src, "--health-cmd", "exit 0", "--health-interval", "2s", "--health-retries", "4")
    berthd.berthctl("commit", src, image, check=True)
    try:
        berthd.berthctl("create", "--name", inherit, image, "true", check=True)
        berthd.berthctl("create", "--name", override, "--health-interval", "3s", image, "true", check=True)
        berthd.berthctl("create", "--name", disabled, "--no-healthcheck", image, "true", check=True)
        assert inspect(berthd, inherit)["Config"]["Healthcheck"] == {
            "Test": ["CMD-SHELL", "exit 0"], "Interval": 2000000000, "Retries": 4}
        assert inspect(berthd, override)["Config"]["Healthcheck"] == {
            "Test": ["CMD-SHELL", "exit 0"], "Interval": 3000000000, "Retries": 4}
        assert inspect(berthd, disabled)["Config"]["Healthcheck"] == {"Test": ["NONE"], "Retries": 4,
                                                                      "Interval": 2000000000}
        berthd.berthctl("start", disabled, check=True)
        berthd.berthctl("start", inherit, check=True)
        assert "Health" not in inspect(berthd, disabled)["State"]
        # The inherited check runs: it passed while the container ran (true exits at once).
        berthd.berthctl("rm", "-f", inherit, check=True)
        run_d(berthd, inherit, image=image)
        wait_health(berthd, inherit, lambda h: h["Status"] == "healthy", what="the image's check to pass")
    finally:
        berthd.berthctl("rm", "-f", src, inherit, override, disabled)
        berthd.berthctl("rmi", image)


def test_probes_stop_with_the_container_and_while_paused(berthd, names):
    name = names()
    run_d(berthd, name, "--health-cmd", "exit 0", "--health-interval", "500ms", "--stop-timeout", "1")
    wait_health(berthd, name, lambda h: h["Status"] == "healthy", what="healthy")
    berthd.berthctl("pause", name, check=True)
    before = health(berthd, name)["Log"]
    time.sleep(1.5)
    assert health(berthd, name)["Log"] == before  # no probe while frozen
    berthd.berthctl("unpause", name, check=True)
    wait_health(berthd, name, lambda h: h["Log"] != before, what="probes again after unpause")
    berthd.berthctl("stop", "-t", "0", name, check=True)
    h = health(berthd, name)
    assert h["Status"] == "unhealthy"  # Docker's: a stopped container's checks say unhealthy
    time.sleep(1.5)
    assert health(berthd, name)["Log"] == h["Log"]
    assert ps_status(berthd, name).startswith("Exited")


def test_events_say_each_change_of_health(berthd, names):
    # Docker's "health_status: healthy|unhealthy" on a probe's change; nothing at a stop.
    name = names()
    future = events_until(berthd, 10, "--filter", f"container={name}", "--filter", "event=health_status",
                          "--format", "{{.Action}}")
    run_d(berthd, name, "--health-cmd", "test ! -e /tmp/bad", "--health-interval", "500ms",
          "--health-retries", "1")
    wait_health(berthd, name, lambda h: h["Status"] == "healthy", what="healthy")
    berthd.berthctl("exec", name, "touch", "/tmp/bad", check=True)
    wait_health(berthd, name, lambda h: h["Status"] == "unhealthy", what="unhealthy")
    berthd.berthctl("stop", "-t", "0", name, check=True)
    proc = future.result(timeout=30)
    assert proc.stdout.splitlines() == ["health_status: healthy", "health_status: unhealthy"], proc


def test_a_restarted_berthd_probes_again(berthd, names):
    # The health state is runtime only: an adopted container begins again at "starting".
    name = names()
    run_d(berthd, name, "--health-cmd", "echo again", "--health-interval", "500ms")
    wait_health(berthd, name, lambda h: h["Status"] == "healthy", what="healthy")
    berthd.systemctl("stop", "berthd.service", check=True)
    berthd.systemctl("start", "berthd.service", check=True)
    h = wait_health(berthd, name, lambda h: h["Status"] == "healthy" and h["Log"], what="healthy again")
    assert h["Log"][-1]["Output"] == "again\n"


@pytest.mark.parametrize("action", ["kill", "stop", "restart"])
def test_health_on_failure(berthd, names, action):
    name = names()
    run_d(berthd, name, "--health-cmd", "exit 1", "--health-interval", "500ms", "--health-retries", "1",
          "--health-on-failure", action, "--stop-timeout", "1")
    first = inspect(berthd, name)["State"]["StartedAt"]
    assert inspect(berthd, name)["Config"]["HealthcheckOnFailureAction"] == action
    if action == "restart":
        def restarted():
            s = inspect(berthd, name)["State"]
            return s["Status"] == "running" and s["StartedAt"] != first
        berthd.wait_until(restarted, timeout=20, what="a restart by the health check")
        return
    berthd.wait_until(lambda: inspect(berthd, name)["State"]["Status"] == "exited", timeout=20,
                      what=f"the container {action}ped")
    assert inspect(berthd, name)["State"]["ExitCode"] == 137
    time.sleep(1.5)
    assert inspect(berthd, name)["State"]["Status"] == "exited"  # and it stays so


@pytest.mark.parametrize("args, message", [
    (["--health-interval", "-1s"], "--health-interval cannot be negative"),
    (["--health-timeout", "-1s"], "--health-timeout cannot be negative"),
    (["--health-retries", "-1"], "--health-retries cannot be negative"),
    (["--health-start-period", "-5m"], "--health-start-period cannot be negative"),
    (["--health-start-interval", "-5m"], "--health-start-interval cannot be negative"),
    (["--health-interval", "5"], 'invalid argument "5" for "--health-interval" flag: time: missing unit in '
                                 'duration "5"'),
    (["--health-timeout", "soon"], 'invalid argument "soon" for "--health-timeout" flag: time: invalid '
                                   'duration "soon"'),
    (["--health-retries", "x"], 'invalid argument "x" for "--health-retries" flag: strconv.ParseInt: parsing '
                                '"x": invalid syntax'),
    (["--no-healthcheck", "--health-cmd", "true"], "--no-healthcheck conflicts with --health-* options"),
    (["--health-cmd", "true", "--health-timeout", "500us"], "Timeout in Healthcheck cannot be less than 1ms"),
    (["--health-on-failure", "explode"], 'invalid on-failure action "explode"'),
])
def test_bad_flags_give_dockers_errors(berthd, busybox_image, args, message):
    proc = berthd.berthctl("create", *args, busybox_image, "true")
    assert proc.returncode != 0 and message in proc.stderr, proc


def test_empty_health_cmd_is_not_given(berthd, names):
    name = names()
    berthd.berthctl("create", "--name", name, "--health-cmd", "", "busybox:latest", "true", check=True)
    assert "Healthcheck" not in inspect(berthd, name)["Config"]


def test_ps_refuses_an_unknown_health_value(berthd):
    proc = berthd.berthctl("ps", "--filter", "health=bogus")
    assert proc.returncode != 0 and "Unrecognised filter value for health: bogus" in proc.stderr


# -- --sdnotify, through the generator's Notify= ----------------------------------------------------

@pytest.fixture()
def units(busybox_image, berthd):
    u = ContainerUnits(berthd)
    try:
        yield u
    finally:
        u.cleanup()


def stays_activating_then_active(bed, unit, seconds):
    bed.systemctl("start", "--no-block", unit, check=True)
    deadline = time.monotonic() + seconds - 1
    while time.monotonic() < deadline:
        state = bed.systemctl("is-active", unit).stdout.strip()
        assert state == "activating", state
        time.sleep(0.3)
    bed.wait_until(lambda: bed.systemctl("is-active", unit).stdout.strip() == "active", timeout=20,
                   what=f"{unit} active")


def test_sdnotify_container_passes_the_payloads_ready(units, probe_bin):
    bed = units.bed
    name = unique("notify")
    units.write(name, "[Container]\nImage=busybox:latest\nNotify=true\n"
                      f"Volume={probe_bin}:/probe:ro\n"
                      "Exec=sh -c 'trap \"exit 0\" TERM; sleep 4; /probe notify MAINPID=1 STATUS=up READY=1; "
                      "while :; do sleep 1; done'\n")
    units.reload()
    stays_activating_then_active(bed, f"{name}.service", 4)
    # STATUS= went through; berthctl stays the main process whatever MAINPID= the payload sends.
    show = bed.systemctl("show", "-p", "StatusText", "-p", "MainPID", f"{name}.service", check=True).stdout
    assert "StatusText=up" in show, show
    main = show.split("MainPID=")[1].split()[0]
    assert bed.run(["cat", f"/proc/{main}/comm"], check=True).stdout.strip() == "berthctl"
    env = inspect(bed, f"systemd-{name}")["Config"]["Env"]
    assert "NOTIFY_SOCKET=/run/notify/notify.sock" in env


def test_sdnotify_healthy_waits_for_the_first_passing_check(units):
    bed = units.bed
    name = unique("healthy")
    units.write(name, "[Container]\nImage=busybox:latest\nNotify=healthy\n"
                      "HealthCmd=test -e /tmp/ready\nHealthInterval=1s\n"
                      "Exec=sh -c 'trap \"exit 0\" TERM; sleep 4; touch /tmp/ready; while :; do sleep 1; done'\n")
    units.reload()
    stays_activating_then_active(bed, f"{name}.service", 4)
    assert health(bed, f"systemd-{name}")["Status"] == "healthy"
