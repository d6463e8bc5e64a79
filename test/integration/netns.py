# SPDX-License-Identifier: LGPL-2.1-or-later
"""More network namespaces for the network tests, made inside the testbed's own (see test/testbed.sh and
docs/NETWORKING.md, "Tests"):

  ext   another host on the testbed's link: a veth from the testbed's namespace, testbed side
        192.0.2.1/24 (link "tbext0"), ext 192.0.2.2/24 (its "eth0"); ext routes everything to the testbed.
  inet  the internet behind the testbed: 198.51.100.1/24 (its "eth0"), testbed side 198.51.100.254/24
        (link "tbinet0") and the testbed's default route through it. inet has no route to any
        container subnet, so a container reaches it only masqueraded.

Both are made with `ip netns add` and `ip link add ... type veth` run inside the testbed (nothing on
the host changes) and deleted at the end of the module that used them. busybox (busybox-static) is
the tool kit inside: nc, nslookup, ping, httpd.

Fixtures (module scope; in host mode they skip: there is no testbed namespace to put them behind):

  ext_ns, inet_ns   a Netns. Methods:
      run(argv, **kw)           argv in the namespace (ip netns exec), as bed.nsenter
      sh(cmd, **kw)             run(["sh", "-c", cmd])
      serve(port, reply)        a TCP server in the namespace, as a transient service: every
                                connection gets the line `reply`; stopped at teardown
      connect(host, port, timeout=3)
                                busybox nc from the namespace: CompletedProcess, stdout what came back
      wait_connect(host, port, expect, timeout=10)
                                connect until stdout holds `expect`; the last stdout
  Attributes: name, addr (its address), peer (the testbed side's address), link (testbed side's name).

Module functions (no fixture): connect_from(bed, argv_prefix, host, port) is what connect() uses
(prefix [] for the testbed itself); nc_client_cmd(host, port) is its shell command, for containers too.
"""

import uuid

import pytest

EXT_NAME = "berth-ext"
INET_NAME = "berth-inet"
BUSYBOX = "/bin/busybox"


class Netns:
    def __init__(self, bed, name, addr, peer, link, prefix=24):
        self.bed = bed
        self.name = name
        self.addr = addr
        self.peer = peer
        self.link = link
        self.prefix = prefix
        self.units = []

    # -- running things in it -----------------------------------------------------------------

    def argv(self, argv):
        return ["ip", "netns", "exec", self.name, *[str(a) for a in argv]]

    def run(self, argv, **kw):
        return self.bed.nsenter(self.argv(argv), **kw)

    def sh(self, cmd, **kw):
        return self.run(["sh", "-c", cmd], **kw)

    def serve(self, port, reply):
        """busybox nc -ll: a server that answers every TCP connection on port with one line."""
        unit = f"berth-netns-{self.name}-{port}-{uuid.uuid4().hex[:6]}"
        self.bed.run(["systemd-run", "--quiet", "--collect", f"--unit={unit}", "--",
                      *self.argv([BUSYBOX, "nc", "-ll", "-p", port, "-e", BUSYBOX, "echo", reply])], check=True)
        self.units.append(unit)
        # Listening once ss sees it.
        self.bed.wait_until(lambda: f":{port} " in self.run(["ss", "-Htln"]).stdout, timeout=10,
                            what=f"a server on port {port} in {self.name}")
        return unit

    def connect(self, host, port, timeout=3):
        return connect_from(self.bed, self.argv([]), host, port, timeout=timeout)

    def wait_connect(self, host, port, expect, timeout=10):
        last = {}

        def once():
            last["proc"] = self.connect(host, port, timeout=2)
            return expect in last["proc"].stdout

        self.bed.wait_until(once, timeout=timeout, interval=0.3,
                            what=f"{expect!r} from {host}:{port} in {self.name} (last: {last.get('proc')})")
        return last["proc"].stdout

    # -- lifecycle ----------------------------------------------------------------------------

    def delete(self):
        for unit in self.units:
            self.bed.systemctl("stop", unit)
        self.units = []
        self.bed.nsenter(["ip", "netns", "delete", self.name])
        self.bed.nsenter(["ip", "link", "delete", self.link])


def nc_client_cmd(host, port, timeout=3):
    """A shell command for busybox nc to host:port that keeps its input open a little (busybox nc ends at
    the end of its input), so what the server sends comes back on stdout before the server closes."""
    return f"sleep {timeout} | {BUSYBOX} timeout {timeout + 2} {BUSYBOX} nc -w {timeout} {host} {port}"


def connect_from(bed, prefix, host, port, timeout=3):
    """busybox nc HOST PORT run with argv prefix (an `ip netns exec NAME`, or [] for the testbed itself);
    what comes back until the peer closes (or the timeout) is stdout."""
    return bed.nsenter([*prefix, BUSYBOX, "sh", "-c", nc_client_cmd(host, port, timeout)], timeout=timeout + 30)


def _make(bed, name, link, addr, peer, default_route_in_ns=True):
    bed.nsenter(["ip", "netns", "delete", name])  # a leftover of an interrupted run
    bed.nsenter(["ip", "link", "delete", link])
    cmds = [
        ["ip", "netns", "add", name],
        ["ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", name],
        ["ip", "addr", "add", f"{peer}/24", "dev", link],
        ["ip", "link", "set", link, "up"],
        ["ip", "-n", name, "link", "set", "lo", "up"],
        ["ip", "-n", name, "addr", "add", f"{addr}/24", "dev", "eth0"],
        ["ip", "-n", name, "link", "set", "eth0", "up"],
    ]
    if default_route_in_ns:
        cmds.append(["ip", "-n", name, "route", "add", "default", "via", peer])
    ns = Netns(bed, name, addr, peer, link)
    try:
        for argv in cmds:
            bed.nsenter(argv, check=True)
    except Exception:
        ns.delete()
        raise
    return ns


def _need_ns(bed):
    if bed.mode != "ns":
        pytest.skip("host mode: no testbed network namespace to put ext/inet behind")


@pytest.fixture(scope="module")
def ext_ns(bed):
    """Another host: 192.0.2.2 on a veth whose testbed end is 192.0.2.1."""
    _need_ns(bed)
    ns = _make(bed, EXT_NAME, "tbext0", "192.0.2.2", "192.0.2.1")
    try:
        yield ns
    finally:
        ns.delete()


@pytest.fixture(scope="module")
def inet_ns(bed):
    """The internet: 198.51.100.1, the testbed's default route. It has no route back to container
    subnets (only to its own /24): what reaches it from a container was masqueraded."""
    _need_ns(bed)
    # No default route inside: replies to anything but 198.51.100.0/24 have nowhere to go.
    ns = _make(bed, INET_NAME, "tbinet0", "198.51.100.1", "198.51.100.254", default_route_in_ns=False)
    try:
        bed.nsenter(["ip", "route", "replace", "default", "via", "198.51.100.1"], check=True)
        yield ns
    finally:
        bed.nsenter(["ip", "route", "delete", "default", "via", "198.51.100.1"])
        ns.delete()
