# SPDX-License-Identifier: LGPL-2.1-or-later
"""Log modes and options: no output line is lost without a word (docs/LOGGING.md).

The testbed's journald runs with its default configuration (RateLimitIntervalSec=30s,
RateLimitBurst=10000, scaled with the free space: at most some 40,000 entries per 30 s), so a
burst of 50,000 lines is more than journald's own rate limit lets through."""
import datetime
import json
import re
import uuid

import pytest

BURST = 50000
DROPPED = re.compile(r"^berth: (\d+) lines? dropped \((log buffer full|rate limit)\)$")


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def inspect(bed, name):
    return json.loads(bed.berthctl("inspect", name, check=True).stdout)[0]


def dropped_property(bed, name):
    path = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                      check=True).stdout.split('"')[1]
    out = bed.busctl("get-property", "org.berth1", path, "org.berth1.Container", "LogLinesDropped",
                     check=True).stdout.split()
    assert out[0] == "t", out
    return int(out[1])


def numbers_and_reports(text):
    """The numbers a `seq` printed, and the drop reports, of logs' output."""
    numbers, reports = [], []
    for line in text.splitlines():
        m = DROPPED.match(line)
        if m:
            reports.append((int(m.group(1)), m.group(2)))
        else:
            numbers.append(int(line))
    return numbers, reports


def test_blocking_default_loses_nothing_of_a_burst(busybox_image, berthd):
    name = unique("burst")
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "seq", "1", str(BURST), check=True)
    berthd.berthctl("wait", name, check=True, timeout=120)
    logs = berthd.berthctl("logs", name, check=True, timeout=120)
    numbers, reports = numbers_and_reports(logs.stdout + logs.stderr)
    assert reports == []
    assert numbers == list(range(1, BURST + 1)), (len(numbers), numbers[-3:])
    assert dropped_property(berthd, name) == 0
    assert inspect(berthd, name)["State"]["LogLinesDropped"] == 0
    # journald suppressed nothing of the container's scope.
    cid = inspect(berthd, name)["Id"]
    suppressed = [e["MESSAGE"] for e in berthd.journal_json("-u", "systemd-journald.service")
                  if f"berth-{cid[:12]}.scope" in e.get("MESSAGE", "")]
    assert suppressed == []
    # The scope's rate limit files are gone with its supervisor.
    left = berthd.sh(f"ls /run/systemd/units/ | grep -c berth-{cid[:12]} || true", check=True).stdout.strip()
    assert left == "0"


def test_non_blocking_with_a_tiny_buffer_drops_and_reports(busybox_image, berthd):
    name = unique("nb")
    berthd.berthctl("run", "-d", "--name", name, "--log-opt", "mode=non-blocking", "--log-opt",
                    "max-buffer-size=1k", busybox_image, "seq", "1", str(BURST), check=True)
    berthd.berthctl("wait", name, check=True, timeout=120)
    logs = berthd.berthctl("logs", name, check=True, timeout=120)
    numbers, reports = numbers_and_reports(logs.stdout)
    assert numbers == sorted(set(numbers)) and set(numbers) <= set(range(1, BURST + 1))
    _, reports = numbers_and_reports(logs.stderr)
    assert reports and all(reason == "log buffer full" for _, reason in reports), logs.stderr[:500]
    total = sum(n for n, _ in reports)
    # Every line is either there or counted.
    assert len(numbers) + total == BURST, (len(numbers), total)
    assert dropped_property(berthd, name) == total
    info = inspect(berthd, name)
    assert info["State"]["LogLinesDropped"] == total
    assert info["HostConfig"]["LogConfig"] == {"Type": "journald",
                                               "Config": {"mode": "non-blocking", "max-buffer-size": "1024"}}


def test_non_blocking_with_room_drops_nothing(busybox_image, berthd):
    name = unique("nbroom")
    proc = berthd.berthctl("run", "--name", name, "--log-opt", "mode=non-blocking", busybox_image,
                           "sh", "-c", "seq 1 200; seq 1 3 >&2", check=True)
    assert proc.stdout == "".join(f"{i}\n" for i in range(1, 201)) and proc.stderr == "1\n2\n3\n"
    logs = berthd.berthctl("logs", name, check=True)
    assert logs.stdout == proc.stdout and logs.stderr == proc.stderr
    assert dropped_property(berthd, name) == 0


def test_rate_limit_is_honoured_and_counted(busybox_image, berthd):
    name = unique("rate")
    berthd.berthctl("run", "--name", name, "--log-opt", "rate-limit-interval=10m", "--log-opt",
                    "rate-limit-burst=100", busybox_image, "sh", "-c", "seq 1 1000; echo done >&2",
                    check=True)
    logs = berthd.berthctl("logs", name, check=True)
    assert logs.stdout == "".join(f"{i}\n" for i in range(1, 101))
    # "done" came after the window was used up: dropped too, and reported at the end.
    assert logs.stderr == "berth: 901 lines dropped (rate limit)\n"
    assert dropped_property(berthd, name) == 901
    info = inspect(berthd, name)
    assert info["State"]["LogLinesDropped"] == 901
    assert info["HostConfig"]["LogConfig"]["Config"] == {"rate-limit-interval": "600s", "rate-limit-burst": "100"}


def test_rate_limit_window_starts_again(busybox_image, berthd):
    name = unique("window")
    berthd.berthctl("run", "--name", name, "--log-opt", "rate-limit-interval=1s", "--log-opt",
                    "rate-limit-burst=2", busybox_image, "sh", "-c",
                    "echo a; echo b; echo c; echo d; sleep 1.5; echo e", check=True)
    logs = berthd.berthctl("logs", name, check=True)
    # The report comes before the first line that passes again, on stderr.
    assert logs.stdout == "a\nb\ne\n"
    assert logs.stderr == "berth: 2 lines dropped (rate limit)\n"


def test_details_show_the_labels_and_env_named(busybox_image, berthd):
    name = unique("details")
    berthd.berthctl("run", "--name", name, "--label", "com.example.tier=web", "--label", "other=x",
                    "--label", "nl=x\nPRIORITY=0", "-e", "REGION=eu", "--log-opt", "labels=com.example.tier,missing,nl",
                    "--log-opt", "env=REGION", busybox_image, "sh", "-c", "echo hello; echo oops >&2",
                    check=True)
    entries = berthd.journal_json(f"CONTAINER_NAME={name}")
    # A value with a newline is left out (it would end the field in the native protocol).
    assert [(e["MESSAGE"], e.get("COM_EXAMPLE_TIER"), e.get("REGION"), e.get("OTHER"), e.get("NL"), e["PRIORITY"])
            for e in entries] == [("hello", "web", "eu", None, None, "6"), ("oops", "web", "eu", None, None, "3")]
    logs = berthd.berthctl("logs", "--details", name, check=True)
    assert logs.stdout == "com.example.tier=web,REGION=eu hello\n"
    assert logs.stderr == "com.example.tier=web,REGION=eu oops\n"
    assert berthd.berthctl("logs", name, check=True).stdout == "hello\n"
    ts = berthd.berthctl("logs", "-t", "--details", name, check=True).stdout
    assert re.match(r"^\d{4}-\d\d-\d\dT\S+ com\.example\.tier=web,REGION=eu hello\n$", ts), ts
    # Without labels= or env=, --details adds nothing.
    plain = unique("plain")
    berthd.berthctl("run", "--name", plain, busybox_image, "echo", "x", check=True)
    assert berthd.berthctl("logs", "--details", plain, check=True).stdout == "x\n"


def test_since_and_until_in_dockers_formats(busybox_image, berthd):
    name = unique("since")
    berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c", "echo first; sleep 2; echo second",
                    check=True)
    entries = berthd.journal_json(f"CONTAINER_NAME={name}")
    t1, t2 = (int(e["__REALTIME_TIMESTAMP"]) for e in entries)
    assert t2 - t1 > 1500000
    mid = (t1 + t2) // 2
    utc = datetime.datetime.fromtimestamp(mid // 1000000, datetime.timezone.utc)
    frac = mid % 1000000
    plus2 = utc.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    forms = [
        f"{mid // 1000000}.{frac:06d}",  # unix time with a fraction
        f"{mid // 1000000}.{frac:06d}123",  # ... to the nanosecond
        utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:06d}000Z",  # RFC 3339 with nanoseconds
        plus2.strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:06d}+02:00",  # with a zone
    ]
    for form in forms:
        assert berthd.berthctl("logs", "--since", form, name, check=True).stdout == "second\n", form
        assert berthd.berthctl("logs", "--until", form, name, check=True).stdout == "first\n", form
    # RFC 3339 without a fraction, in whole seconds: a second after t1, before t2.
    after_first = datetime.datetime.fromtimestamp(t1 // 1000000 + 1, datetime.timezone.utc)
    if (t1 // 1000000 + 1) * 1000000 < t2:
        whole = after_first.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert berthd.berthctl("logs", "--until", whole, name, check=True).stdout == "first\n"
    # Relative: both lines are younger than 10 minutes, and than 1h30m.
    for rel in ("10m", "1h30m"):
        assert berthd.berthctl("logs", "--since", rel, name, check=True).stdout == "first\nsecond\n"
    assert berthd.berthctl("logs", "--until", "1h30m", name, check=True).stdout == ""
    bad = berthd.berthctl("logs", "--since", "yesterday", name)
    assert bad.returncode != 0 and 'invalid --since value "yesterday"' in bad.stderr


@pytest.mark.parametrize("mode", ["blocking", "non-blocking"])
def test_a_100k_line_comes_back_as_one(busybox_image, berthd, mode):
    name = unique("long")
    length = 100 * 1024
    berthd.berthctl("run", "--name", name, "--log-opt", f"mode={mode}", busybox_image, "sh", "-c",
                    f"head -c {length} /dev/zero | tr '\\0' K; echo; echo next", check=True)
    logs = berthd.berthctl("logs", name, check=True).stdout
    assert logs == "K" * length + "\nnext\n", (len(logs), logs[-20:])
    assert berthd.berthctl("logs", "--tail", "2", name, check=True).stdout == logs


def test_log_driver_none(busybox_image, berthd):
    name = unique("none")
    proc = berthd.berthctl("run", "--name", name, "--log-driver", "none", busybox_image, "echo", "hello",
                           check=True)
    assert proc.stdout == "hello\n"  # the attached client still gets it
    assert berthd.journal_json(f"CONTAINER_NAME={name}") == []
    logs = berthd.berthctl("logs", name)
    assert logs.returncode != 0 and "configured logging driver does not support reading" in logs.stderr
    assert inspect(berthd, name)["HostConfig"]["LogConfig"] == {"Type": "none", "Config": {}}


@pytest.mark.parametrize("args,message", [
    (["--log-driver", "syslog"], "logger: no log driver named 'syslog' is registered"),
    (["--log-opt", "foo=bar"], "unknown log opt 'foo' for journald log driver"),
    (["--log-opt", "foo"], "invalid key value pair format in driver options"),
    (["--log-opt", "mode=fast"], "logger: logging mode not supported: fast"),
    (["--log-opt", "max-buffer-size=1m"], "logger: max-buffer-size option is only supported with "
                                          "'mode=non-blocking'"),
    (["--log-opt", "mode=non-blocking", "--log-opt", "max-buffer-size=lots"], "invalid max-buffer-size"),
    (["--log-opt", "mode=non-blocking", "--log-opt", "max-buffer-size=2g"], "larger than the most"),
    (["--log-opt", "rate-limit-burst=10"], "needs both an interval and a burst"),
    (["--log-opt", "rate-limit-interval=never"], "invalid rate-limit-interval"),
    (["--log-opt", "rate-limit-burst=0"], "invalid rate-limit-burst"),
    (["--log-opt", "labels=message"], "cannot be a journal field"),
    (["--log-opt", "env=A,,B"], "expected names separated by commas"),
    (["--log-opt", "tag=x"], "not supported by berth"),
    (["--log-driver", "none", "--log-opt", "mode=non-blocking"], "takes no log options"),
])
def test_bad_options_are_refused(busybox_image, berthd, args, message):
    name = unique("bad")
    proc = berthd.berthctl("create", "--name", name, *args, busybox_image, "true")
    assert proc.returncode != 0, (proc.returncode, proc.stderr)
    assert message in proc.stderr, proc.stderr
    assert name not in berthd.berthctl("ps", "-a", "--format", "{{.Names}}", check=True).stdout


def test_lines_split_by_journalds_line_max_are_joined(busybox_image, berthd):
    # A journald whose LineMax is below berth's 16 KiB pieces splits the stream's lines itself,
    # marking all but the last piece _LINE_BREAK=line-max; logs joins them as berth's own.
    conf = "/run/systemd/journald.conf.d/zz-test-line-max.conf"
    berthd.sh(f"mkdir -p /run/systemd/journald.conf.d && printf '[Journal]\\nLineMax=1K\\n' > {conf} && "
              "systemctl restart systemd-journald", check=True)
    try:
        name = unique("linemax")
        berthd.berthctl("run", "--name", name, busybox_image, "sh", "-c",
                        "head -c 5000 /dev/zero | tr '\\0' K; echo; echo next; "
                        "(head -c 3000 /dev/zero | tr '\\0' E; echo) >&2", check=True)
        entries = berthd.journal_json(f"CONTAINER_NAME={name}")
        breaks = [e.get("_LINE_BREAK") for e in entries]
        assert breaks.count("line-max") >= 6, breaks
        logs = berthd.berthctl("logs", name, check=True)
        assert logs.stdout == "K" * 5000 + "\nnext\n"
        assert logs.stderr == "E" * 3000 + "\n"
        # --tail counts the line once: the last three lines are all of it.
        tail = berthd.berthctl("logs", "--tail", "2", name, check=True)
        assert tail.stdout == "next\n" and tail.stderr == logs.stderr
        tail = berthd.berthctl("logs", "--tail", "3", name, check=True)
        assert tail.stdout == logs.stdout and tail.stderr == logs.stderr
    finally:
        berthd.sh(f"rm -f {conf} && systemctl restart systemd-journald", check=True)
