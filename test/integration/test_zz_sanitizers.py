# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs last (file order): no sanitizer report from berthd, berth-nspawn or berthctl anywhere in the
testbed's journal. With a SANITIZE=1 build this turns every integration test into an ASan/UBSan run."""


def test_no_sanitizer_reports_in_the_journal(berthd):
    # Stop berthd so LeakSanitizer's exit-time check runs and lands in the journal too.
    berthd.systemctl("stop", "berthd.service", check=True)
    berthd.run(["journalctl", "--sync"])
    proc = berthd.run(["journalctl", "--no-pager", "-q", "-o", "cat", "--grep",
                       "AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:"])
    # journalctl --grep exits 1 when nothing matches.
    assert proc.returncode == 1 and proc.stdout == "", proc.stdout
    berthd.systemctl("start", "berthd.service", check=True)
