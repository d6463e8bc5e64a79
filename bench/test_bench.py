#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Unit tests of the bench's pure logic: how report.py judges targets and renders the tables, and
how harness.py splits CPU time between two snapshots. Run by `meson test` (suite bench)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import report  # noqa: E402


def st(median, runs=5):
    return {"median": median, "min": median * 0.9, "max": median * 1.1, "runs": runs,
            "samples": [median] * runs}


def doc(results, errors=None):
    return {"meta": {"date": "2026-12-05 00:00:00 +0000", "mode": "quick", "duration_s": 1.0,
                     "kernel": "6.1", "cpus": 2, "host": "h", "berth_rev": "abc", "storage": "ext4",
                     "versions": {"berth": "berthctl 0.1"}, "settings": {}},
            "results": results, "errors": errors or []}


def rows(text, metric):
    """The table rows of a metric: {tool: [cells]}."""
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 9 and cells[0] == metric:
            out[cells[1]] = cells
    return out


class ReportTargets(unittest.TestCase):
    def test_start_targets_met_and_missed(self):
        text = report.render(doc({"start": {"commands": {"berth": "berthctl run"},
                                            "tools": {"berth": st(0.012), "crun": st(0.006),
                                                      "podman": st(0.2), "nspawn": st(0.03)}}}))
        r = rows(text, "start")
        self.assertEqual(r["crun"][6], "2.00")
        self.assertEqual(r["crun"][8], "**NO**")  # 2× crun > 1.5×
        self.assertEqual(r["podman"][8], "yes")  # 0.06 ≤ 1/10
        self.assertEqual(r["nspawn"][8], "yes")  # 0.4 ≤ 1/2
        self.assertIn("- start vs crun: berth / crun = 2.00, target ≤ 1.5× crun", text)

    def test_parallel_miss_points_at_cpu_table(self):
        cpu = {"berth": {"machine": st(0.0116), "PID 1": st(0.002), "dbus-daemon": st(0.001),
                         "machined": st(0.0005), "cli": st(0.002)},
               "crun": {"machine": st(0.010), "PID 1": st(0.0002), "cli": st(0.0036)}}
        text = report.render(doc({"parallel": {"n": 50, "width": 10,
                                               "start": {"berth": st(0.325), "crun": st(0.260)},
                                               "remove": {"berth": st(0.07), "podman": st(2.0)},
                                               "cpu_per_container": cpu}}))
        self.assertEqual(rows(text, "start 50")["crun"][8], "**NO**")
        self.assertEqual(rows(text, "remove 50")["podman"][8], "yes")
        self.assertIn("berth / crun = 1.25, target ≤ crun (where its CPU time goes: 2c)", text)
        self.assertIn("| berth | 11.60 ms | 2.00 ms | — | 2.00 ms | 1.00 ms | 0.50 ms | — |", text)
        self.assertIn("berth used 11.60 ms of CPU per container, crun 10.00 ms (1.16×). Of berth's, "
                      "3.50 ms went to PID 1", text)

    def test_nothing_missed(self):
        text = report.render(doc({"start": {"commands": {}, "tools": {"berth": st(0.01),
                                                                      "crun": st(0.01)}}}))
        self.assertIn("## Targets missed by berth\n\nNone.", text)

    def test_a_peer_without_data_is_not_a_pass(self):
        text = report.render(doc({"start": {"commands": {}, "tools": {"berth": st(0.01)}}}))
        self.assertEqual(rows(text, "start")["crun"][8], "no data")


class ApiCase(unittest.TestCase):
    def test_api_targets(self):
        text = report.render(doc({"api": {
            "run": {"commands": {"berth": "docker -H unix:///run/berth/docker.sock run --rm benchbox /bin/true"},
                    "tools": {"berth": st(0.05), "podman": st(0.4)}},
            "ps": {"n": 100, "commands": {}, "tools": {"berth": st(0.03), "podman": st(0.1)}}}}))
        self.assertEqual(rows(text, "docker run")["podman"][6], "0.12")
        self.assertEqual(rows(text, "docker run")["podman"][8], "yes")  # 0.125 ≤ 1/5
        self.assertEqual(rows(text, "docker ps")["podman"][8], "**NO**")  # 0.3 > 1/5
        self.assertIn("- docker ps vs podman: berth / podman = 0.30, target ≤ 1/5 of podman", text)
        self.assertIn("## 11b. `docker ps -a` with 100 containers (hyperfine)", text)

    def test_api_without_podman(self):
        text = report.render(doc({"api": {"run": {"commands": {}, "tools": {"berth": st(0.05)}}}}))
        self.assertEqual(rows(text, "docker run")["podman"][8], "no data")


def net_doc(start=None, throughput=None):
    n = {"podman_network_backend": "netavark"}
    if start is not None:
        n["start"] = {"commands": {"berth": "berthctl run --rm benchbox /bin/true"}, "tools": start}
    if throughput is not None:
        n["throughput"] = {"mib": 256, "unit": "MB/s", "commands": {}, "tools": throughput}
    return doc({"network": n})


class NetworkTargets(unittest.TestCase):
    def test_bridge_start_both_met(self):
        text = report.render(net_doc({"berth": st(0.018), "berth-none": st(0.016), "podman": st(0.3)}))
        self.assertEqual(rows(text, "start (none)")["berth --network none"][8], "yes")  # +2 ms
        self.assertEqual(rows(text, "start (none)")["berth --network none"][6], "1.12 (+2.0 ms)")
        self.assertEqual(rows(text, "start (bridge)")["podman"][8], "yes")  # 0.06 ≤ 1/10
        self.assertIn("## Targets missed by berth\n\nNone.", text)

    def test_bridge_start_both_missed(self):
        text = report.render(net_doc({"berth": st(0.040), "berth-none": st(0.016), "podman": st(0.3)}))
        self.assertEqual(rows(text, "start (none)")["berth --network none"][8], "**NO**")  # +24 ms
        self.assertEqual(rows(text, "start (bridge)")["podman"][8], "**NO**")  # 0.13 > 1/10
        self.assertIn("- start on the bridge vs berth --network none: berth / none = 2.50 (+24.0 ms), "
                      "target bridge ≤ none + 3 ms", text)
        self.assertIn("- start (bridge) vs podman: berth / podman = 0.133, target ≤ 1/10 of podman", text)

    def test_bridge_start_just_over_a_tenth_is_a_miss_shown_as_such(self):
        text = report.render(net_doc({"berth": st(0.0528), "berth-none": st(0.050), "podman": st(0.5168)}))
        self.assertEqual(rows(text, "start (bridge)")["podman"][6], "0.102")
        self.assertEqual(rows(text, "start (bridge)")["podman"][8], "**NO**")

    def test_bridge_start_without_peer_data(self):
        text = report.render(net_doc({"berth": st(0.018)}))
        self.assertEqual(rows(text, "start (none)")["berth --network none"][8], "no data")
        self.assertEqual(rows(text, "start (bridge)")["podman"][8], "no data")
        text = report.render(net_doc({"berth-none": st(0.016), "podman": st(0.3)}))
        self.assertEqual(rows(text, "start (none)")["berth --network none"][8], "no data")
        self.assertEqual(rows(text, "start (bridge)")["podman"][8], "no data")

    def test_throughput_published_port(self):
        text = report.render(net_doc(throughput={
            "berth": {"direct": st(1000.0), "host": st(950.0), "loopback": st(800.0)},
            "podman": {"direct": st(1000.0), "host": st(500.0)}}))
        host = rows(text, "TCP (b) published port, host address")
        self.assertEqual(host["berth"][2], "950 MB/s")
        self.assertEqual(host["berth"][8], "yes (0.95×)")
        self.assertEqual(host["podman"][6], "1.90")  # berth's MB/s over podman's
        self.assertEqual(host["podman"][8], "")  # no target for podman
        self.assertEqual(rows(text, "TCP (c) published port, 127.0.0.1")["podman"][8], "no data")
        self.assertIn("berth: (b)/(a) 0.95, (c)/(a) 0.80; podman: (b)/(a) 0.50", text)
        self.assertIn("None.", text)

    def test_throughput_missed_and_no_data(self):
        text = report.render(net_doc(throughput={"berth": {"direct": st(1000.0), "host": st(800.0)}}))
        self.assertEqual(rows(text, "TCP (b) published port, host address")["berth"][8], "**NO** (0.80×)")
        self.assertIn("- TCP (b) published port, host address: berth 800 MB/s, target ≥ 0.9 × (a), "
                      "got 0.80×", text)
        text = report.render(net_doc(throughput={"berth": {"host": st(800.0)}}))
        self.assertEqual(rows(text, "TCP (b) published port, host address")["berth"][8], "no data")


class NetworkParallel(unittest.TestCase):
    def test_rows_and_no_target(self):
        text = report.render(doc({"network": {"parallel": {
            "n": 50, "width": 10, "distinct_addresses": {"berth": 50, "podman": 50},
            "start": {"berth": st(0.8), "berth-none": st(0.6), "podman": st(8.0)},
            "remove": {"berth": st(0.3), "podman": st(4.0)}}}}))
        start = rows(text, "net start 50")
        self.assertEqual(start["podman (bridge)"][6], "0.10")
        self.assertEqual(start["berth --network none"][6], "1.33")
        self.assertEqual(start["berth (bridge)"][6], "—")
        self.assertEqual(rows(text, "net remove 50")["berth --network none"][8], "no data")
        self.assertIn("Distinct addresses among the 50: berth 50, podman 50.", text)
        self.assertIn("None.", text)


def log_run(lost, reported=0, n=1000):
    return {"wall": 1.0, "lines": n - lost, "entries": n - lost, "lost": lost, "reported": reported,
            "journald_suppressed": {"total": 0, "messages": []}, "last_line_seen": lost == 0}


def logs_doc(default_runs, n=1000):
    res = {"berth": {"wall": st(1.0), "lines": st(n - default_runs[0]["lost"]), "runs": default_runs}}
    return doc({"logs": {"lines": n, "default": res}})


class LogTargets(unittest.TestCase):
    LABEL = "lines (lost: {}; journald reported suppressed: 0; berth reported dropped: {})"

    def test_nothing_lost_is_met(self):
        text = report.render(logs_doc([log_run(0), log_run(0)]))
        row = rows(text, self.LABEL.format(0, 0))["berth"]
        self.assertEqual((row[7], row[8]), ("none lost without a report", "yes"))

    def test_lost_and_reported_is_met(self):
        text = report.render(logs_doc([log_run(300, 300)]))
        self.assertEqual(rows(text, self.LABEL.format(300, 300))["berth"][8], "yes")

    def test_lost_without_a_report_fails(self):
        # The bench's old finding: 200,000 lines, 35,000 kept, no word about the rest.
        text = report.render(logs_doc([log_run(0), log_run(165000, 0, n=200000)], n=200000))
        self.assertEqual(rows(text, self.LABEL.format(82500, 0))["berth"][8], "**NO**")
        self.assertRegex(text, r"\n- log lines: berth kept \d+, lost: 82500; journald reported suppressed: 0; "
                               r"berth reported dropped: 0, target none lost without a report\n")
        # A run of an older harness, without the count, reported nothing.
        old = log_run(10)
        del old["reported"]
        text = report.render(logs_doc([old]))
        self.assertEqual(rows(text, self.LABEL.format(10, 0))["berth"][8], "**NO**")


class CpuSpent(unittest.TestCase):
    def test_parts_and_rest(self):
        before = {"machine": 10.0, "harness": 1.0, "cli": 2.0,
                  "daemons": {1: ("PID 1", 5.0), 7: ("berthd", 1.0)}}
        after = {"machine": 10.5, "harness": 1.01, "cli": 2.1,
                 "daemons": {1: ("PID 1", 5.1), 7: ("berthd", 1.05), 9: ("machined", 0.02)}}
        spent = harness.cpu_spent(before, after)
        self.assertAlmostEqual(spent["machine"], 0.5)
        self.assertAlmostEqual(spent["cli"], 0.1)
        self.assertAlmostEqual(spent["PID 1"], 0.1)
        self.assertAlmostEqual(spent["machined"], 0.02)  # started meanwhile: all of its time
        self.assertAlmostEqual(spent["rest"], 0.5 - 0.01 - 0.1 - 0.1 - 0.05 - 0.02)

    def test_snapshot_sees_this_process_and_pid1(self):
        snap = harness.cpu_snapshot()
        self.assertGreater(snap["machine"], 0)
        self.assertGreater(snap["harness"], 0)
        for name, seconds in snap["daemons"].values():
            self.assertIn(name, harness.SYSTEM_DAEMONS.values())
            self.assertGreaterEqual(seconds, 0)


if __name__ == "__main__":
    unittest.main()
