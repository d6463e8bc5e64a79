# SPDX-License-Identifier: LGPL-2.1-or-later
"""Container networking (docs/NETWORKING.md): berthctl network, run/create's network flags, port,
ps/inspect's network fields, and what berthd does on the host (bridges, veths, nftables, DNS).

Tests marked `network` need berthd's network support; the others check berthctl's own validation
(which fails before anything reaches berthd) and the test namespaces themselves (netns.py)."""

import pytest

from netns import BUSYBOX, connect_from, ext_ns, inet_ns  # noqa: F401 (fixtures)


# -- the test namespaces ------------------------------------------------------------------------


def test_netns_ext_and_inet(bed, ext_ns, inet_ns):
    """ext and inet are reachable from the testbed and answer on their own addresses; ext reaches the
    testbed at 192.0.2.1; inet knows no route to anything but its own /24."""
    assert bed.nsenter([BUSYBOX, "ping", "-c1", "-W2", "192.0.2.2"]).returncode == 0
    assert bed.nsenter([BUSYBOX, "ping", "-c1", "-W2", "198.51.100.1"]).returncode == 0
    assert ext_ns.run([BUSYBOX, "ping", "-c1", "-W2", "192.0.2.1"]).returncode == 0
    ext_ns.serve(7001, "from-ext")
    assert "from-ext" in ext_ns.connect("127.0.0.1", 7001).stdout
    assert "from-ext" in connect_from(bed, [], "192.0.2.2", 7001).stdout
    inet_ns.serve(7002, "from-inet")
    assert "from-inet" in connect_from(bed, [], "198.51.100.1", 7002).stdout
    assert "default" not in inet_ns.run(["ip", "route"], check=True).stdout
    # The testbed's default route goes to inet while the fixture lives.
    assert "via 198.51.100.1" in bed.nsenter(["ip", "route", "show", "default"], check=True).stdout
