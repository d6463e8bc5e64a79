# SPDX-License-Identifier: LGPL-2.1-or-later
"""Container networking (docs/NETWORKING.md): berthctl network, run/create's network flags, port,
ps/inspect's network fields, and what berthd does in the testbed (bridges, veths, nftables, DNS).

Tests marked `network` make bridges, veths and nftables rules: they run in a testbed with a network
namespace of its own, never on a host, and in one storage/cgroup layout only (tools/test.sh). The
others check berthctl's own validation, which fails before anything reaches berthd, the fields of
inspect and ps, and the test namespaces themselves (netns.py)."""

import json
import re
import shlex
import socket
import time
import uuid

import pytest

from netns import BUSYBOX, connect_from, ext_ns, inet_ns, nc_client_cmd  # noqa: F401 (fixtures)

network = pytest.mark.network


@pytest.fixture(autouse=True)
def _not_on_the_host(request, bed):
    """The network tests make bridges, veths and nftables rules: only inside a testbed with a network
    namespace of its own, never on a host (host mode)."""
    if request.node.get_closest_marker("network") and bed.mode != "ns":
        pytest.skip("host mode: network tests would change the host's interfaces and firewall")


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def ok(bed, *args, **kw):
    return bed.berthctl(*args, check=True, **kw).stdout


def inspect(bed, name):
    return json.loads(ok(bed, "inspect", "--type", "container", name))[0]


def net_inspect(bed, name):
    return json.loads(ok(bed, "network", "inspect", name))[0]


def server_cmd(reply, port=80):
    """A container command: a TCP server on port answering every connection with one line."""
    return ["nc", "-ll", "-p", str(port), "-e", "echo", reply]


def links(bed):
    return [line.split(":")[1].strip().split("@")[0]
            for line in bed.nsenter(["ip", "-o", "link", "show"], check=True).stdout.splitlines()]


def nft_table(bed):
    proc = bed.nsenter(["nft", "list", "table", "inet", "berth"])
    return proc.stdout if proc.returncode == 0 else ""


def normalize_nft(text):
    """The table's text with each `elements = { ... }` sorted: the order of set elements is the kernel's
    (hash sets), not part of the rules."""
    def sort_elements(m):
        items = sorted(e.strip() for e in m.group(2).replace("\n", " ").split(",") if e.strip())
        return m.group(1) + ", ".join(items) + m.group(3)
    return re.sub(r"(elements = \{)(.*?)(\})", sort_elements, text, flags=re.S)


def free_port():
    """A TCP port free in the testbed's namespace (pytest has joined it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_from(host, port, timeout=3):
    """What a TCP server at host:port sends, from pytest's own socket (in the testbed's namespace)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            data = b""
            while True:
                chunk = s.recv(1024)
                if not chunk:
                    return data.decode(errors="replace")
                data += chunk
    except OSError:
        return ""


class Cleanup:
    """Containers and networks a test made, removed at its end whatever happened."""

    def __init__(self, bed):
        self.bed = bed
        self.containers = []
        self.networks = []

    def container(self, name):
        self.containers.append(name)
        return name

    def network(self, name):
        self.networks.append(name)
        return name

    def done(self):
        for c in reversed(self.containers):
            self.bed.berthctl("rm", "-f", c)
        for n in reversed(self.networks):
            self.bed.berthctl("network", "rm", n)


@pytest.fixture
def made(berthd):
    c = Cleanup(berthd)
    try:
        yield c
    finally:
        c.done()


def run_d(bed, made, image, *args, name=None, cmd=("sleep", "300")):
    name = made.container(name or unique("net"))
    ok(bed, "run", "-d", "--name", name, *args, image, *cmd)
    return name


def address_on(bed, container, network_name):
    return inspect(bed, container)["NetworkSettings"]["Networks"][network_name]["IPAddress"]


def in_container(bed, image, *args, cmd, timeout=60):
    """berthctl run --rm ARGS IMAGE sh -c CMD"""
    return bed.berthctl("run", "--rm", *args, image, "sh", "-c", cmd, timeout=timeout)


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
    assert "from-ext" in read_from("192.0.2.2", 7001)
    inet_ns.serve(7002, "from-inet")
    assert "from-inet" in connect_from(bed, [], "198.51.100.1", 7002).stdout
    assert "default" not in inet_ns.run(["ip", "route"], check=True).stdout
    # The testbed's default route goes to inet while the fixture lives.
    assert "via 198.51.100.1" in bed.nsenter(["ip", "route", "show", "default"], check=True).stdout


# -- berthctl's validation: refused before anything reaches berthd ------------------------------

BAD_PUBLISH = [
    ("8080:abc", 'Invalid containerPort "abc"'),
    ("abc:80", 'Invalid hostPort "abc"'),
    ("8080:0", "Invalid containerPort"),
    ("8080:65536", "Invalid containerPort"),
    ("8080:", "No container port specified"),
    ("80/quic", 'Invalid protocol "quic"'),
    ("1.2.3:8080:80", 'Invalid IP address "1.2.3"'),
    ("[::1]:8080:80", "IPv6 is not supported"),
    ("8080-8082:80-81", "not of the same length"),
    ("81-80", "first port is above the last"),
    ("1.2.3.4:1:2:3", "at most two colons"),
]


@pytest.mark.parametrize("spec,error", BAD_PUBLISH, ids=[b[0] for b in BAD_PUBLISH])
def test_bad_publish_is_refused_by_berthctl(busybox_image, berthd, spec, error):
    name = unique("badp")
    proc = berthd.berthctl("create", "--name", name, "-p", spec, busybox_image, "true")
    assert proc.returncode == 125, proc
    assert error in proc.stderr, proc.stderr
    assert proc.stderr.rstrip().endswith("."), "a full sentence"
    # Nothing was created: the CLI refused it itself.
    assert berthd.berthctl("inspect", "--type", "container", name).returncode == 1


BAD_FLAGS = [
    (["--ip", "10.0.0.5"], "user specified IP address is supported on user defined networks only"),
    (["--network", "bridge", "--ip", "172.17.0.9"], "user defined networks only"),
    (["--network-alias", "x"], "network-scoped aliases are only supported for user-defined networks"),
    (["--net", "host", "--net-alias", "x"], "only supported for user-defined networks"),
    (["--network", "host", "--mac-address", "02:42:ac:11:00:09"], "conflicting options: mac-address"),
    (["--network", "none", "-p", "8080:80"], "conflicting options: port publishing"),
    (["--network", "container:other", "-P"], "conflicting options: port publishing"),
    (["--network", "container:other", "--dns", "1.1.1.1"], "conflicting options: dns"),
    (["--network", "container:other", "--add-host", "a:1.2.3.4"], "conflicting options: dns"),
    (["--network", "container:"], "expected container:NAME|ID"),
    (["--network", "a", "--network", "b"], "--network was given twice"),
    (["--ip", "1.2.3"], 'invalid IPv4 address "1.2.3"'),
    (["--network", "n", "--ip", "fd00::1"], "IPv4 only"),
    (["--mac-address", "02:42:ac:11:00"], 'invalid MAC address "02:42:ac:11:00"'),
    (["--dns", "not-an-ip"], 'invalid argument "not-an-ip" for "--dns" flag'),
    (["--dns-search", "-bad"], '"--dns-search" flag'),
    (["--dns-option", ""], '"--dns-option" flag'),
    (["--add-host", "nohost"], 'invalid argument "nohost" for "--add-host" flag'),
    (["--add-host", "h:1.2.3"], "invalid IP address"),
    (["--expose", "0"], "Invalid range format for --expose"),
    (["--expose", "80/quic"], "Invalid protocol"),
]


@pytest.mark.parametrize("flags,error", BAD_FLAGS, ids=[" ".join(f[0]) for f in BAD_FLAGS])
def test_bad_network_flags_are_refused_by_berthctl(busybox_image, berthd, flags, error):
    name = unique("badf")
    proc = berthd.berthctl("run", "-d", "--name", name, *flags, busybox_image, "true")
    assert proc.returncode == 125, proc
    assert error in proc.stderr, proc.stderr
    assert berthd.berthctl("inspect", "--type", "container", name).returncode == 1


BAD_NETWORK_CREATE = [
    (["--ipv6"], "--ipv6 is not supported"),
    (["--subnet", "10.0.0.0/33"], "invalid CIDR address: 10.0.0.0/33"),
    (["--subnet", "10.0.0.0"], "invalid CIDR address"),
    (["--subnet", "fd00::/64"], "IPv6 networks are not supported"),
    (["--gateway", "10.0.0.1"], "every ip-range or gateway must have a corresponding subnet"),
    (["--ip-range", "10.0.0.0/25"], "every ip-range or gateway must have a corresponding subnet"),
    (["--subnet", "10.1.0.0/16", "--gateway", "10.2.0.1"], "no matching subnet for gateway 10.2.0.1"),
    (["--subnet", "10.1.0.0/16", "--ip-range", "10.2.0.0/24"], "no matching subnet for range 10.2.0.0/24"),
    (["--subnet", "10.1.0.0/24", "--ip-range", "10.1.0.0/16"], "no matching subnet for range"),
    (["--subnet", "10.1.0.0/16", "--subnet", "10.2.0.0/16"], "--subnet was given twice"),
    (["-d", "overlay"], 'invalid driver "overlay"'),
    (["--label", "=x"], 'invalid label "=x"'),
    (["-o", ""], "invalid driver option"),
]


@pytest.mark.parametrize("flags,error", BAD_NETWORK_CREATE, ids=[" ".join(f[0]) for f in BAD_NETWORK_CREATE])
def test_bad_network_create_is_refused_by_berthctl(berthd, flags, error):
    proc = berthd.berthctl("network", "create", *flags, unique("badnet"))
    assert proc.returncode == 125, proc
    assert error in proc.stderr, proc.stderr


def test_network_usage_errors(berthd):
    for args, error in [
        (["network", "create"], "requires exactly 1 argument"),
        (["network", "create", "a/b"], 'invalid network name "a/b"'),
        (["network", "inspect"], "requires at least 1 argument"),
        (["network", "rm"], "requires at least 1 argument"),
        (["network", "connect", "n"], "requires exactly 2 arguments"),
        (["network", "disconnect", "n", "c", "x"], "requires exactly 2 arguments"),
        (["network", "connect", "--ip", "300.1.1.1", "n", "c"], 'invalid IPv4 address "300.1.1.1"'),
        (["network", "connect", "--ip6", "fd00::2", "n", "c"], "IPv4 only"),
        (["network", "ls", "--filter", "colour=red"], "invalid filter 'colour'"),
        (["network", "ls", "--filter", "type=other"], "expected custom or builtin"),
        (["network", "ls", "--filter", "name"], "bad format of filter"),
        (["network", "prune", "extra"], "accepts no arguments"),
        (["network", "prune", "-f", "--filter", "colour=red"], "invalid filter 'colour=red'"),
        (["network", "prune", "-f", "--filter", "until=soon"], "invalid filter 'until=soon'"),
        (["network", "frobnicate"], 'unknown command "network frobnicate"'),
        (["port"], "requires 1 or 2 arguments"),
        (["port", "c", "80/quic"], 'invalid port "80/quic"'),
        (["port", "c", "0"], 'invalid port "0"'),
    ]:
        proc = berthd.berthctl(*args)
        assert proc.returncode == 125, (args, proc)
        assert error in proc.stderr, (args, proc.stderr)


def test_inspect_type_network_without_such_a_network(berthd):
    name = unique("nonet")
    proc = berthd.berthctl("inspect", "--type", "network", name)
    assert proc.returncode == 1 and f"Error: No such network: {name}" in proc.stderr, proc
    proc = berthd.berthctl("inspect", name)
    assert proc.returncode == 1 and f"Error: No such object: {name}" in proc.stderr, proc
    assert berthd.berthctl("inspect", "--type", "volume", name).returncode == 125


def test_help_documents_the_network_flags(berthd):
    run_help = ok(berthd, "run", "--help")
    for flag in ("--network=", "--network-alias=", "--ip=", "--mac-address=", "--dns=", "--dns-search=",
                 "--dns-option=", "--add-host=", "-p, --publish=", "-P, --publish-all", "--expose="):
        assert flag in run_help, flag
    assert "--publish=" in ok(berthd, "create", "--help")
    net_help = ok(berthd, "network", "--help")
    for sub in ("create", "ls", "inspect", "rm", "connect", "disconnect", "prune"):
        assert f"  {sub} " in net_help, sub
    assert "--subnet=" in ok(berthd, "network", "create", "--help")
    assert "--no-trunc" in ok(berthd, "network", "ls", "--help")
    assert "PORT[/PROTO]" in ok(berthd, "port", "--help")
    top = ok(berthd, "--help")
    assert re.search(r"^  network ", top, re.M) and re.search(r"^  port ", top, re.M)


def test_inspect_and_ps_have_the_network_fields(busybox_image, berthd, made):
    """With whatever berthd has (before its network support: none of the properties), inspect and ps
    show Docker's network fields with their types, and nothing breaks."""
    name = run_d(berthd, made, busybox_image)
    data = inspect(berthd, name)
    ns = data["NetworkSettings"]
    assert isinstance(ns["Networks"], dict) and isinstance(ns["Ports"], dict)
    for key in ("IPAddress", "Gateway", "MacAddress", "EndpointID"):
        assert isinstance(ns[key], str), key
    assert isinstance(ns["IPPrefixLen"], int)
    host = data["HostConfig"]
    assert host["NetworkMode"] == "bridge"
    assert host["PortBindings"] == {} and host["PublishAllPorts"] is False
    assert host["Dns"] == [] and host["DnsSearch"] == [] and host["DnsOptions"] == [] and host["ExtraHosts"] is None
    assert "ExposedPorts" not in data["Config"]
    assert ok(berthd, "inspect", "-f", "{{.HostConfig.NetworkMode}}", name) == "bridge\n"
    header = ok(berthd, "ps", "--filter", f"name={name}").splitlines()[0]
    assert re.search(r"STATUS\s+PORTS\s+NAMES", header), header
    row = json.loads(ok(berthd, "ps", "--filter", f"name={name}", "--format", "{{json .}}"))
    assert "Ports" in row and "Networks" in row
    assert ok(berthd, "port", name) == ""
    proc = berthd.berthctl("port", name, "80")
    assert proc.returncode == 1 and f"No public port '80/tcp' published for {name}" in proc.stderr


# -- networks -----------------------------------------------------------------------------------


@network
def test_builtin_networks(busybox_image, berthd, made):
    run_d(berthd, made, busybox_image)  # the default bridge exists, with its subnet, once a container uses it
    out = ok(berthd, "network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}").splitlines()
    for line in ("bridge bridge local", "host host local", "none null local"):
        assert line in out, out
    bridge = net_inspect(berthd, "bridge")
    assert re.fullmatch(r"[0-9a-f]{64}", bridge["Id"])
    assert bridge["IPAM"]["Config"] == [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]
    assert net_inspect(berthd, "host")["IPAM"]["Config"] == []
    assert "172.17.0.1/16" in berthd.nsenter(["ip", "-o", "-4", "addr", "show", "berth0"], check=True).stdout
    for builtin in ("bridge", "host", "none"):
        proc = berthd.berthctl("network", "rm", builtin)
        assert proc.returncode != 0, proc
    ids = {net_inspect(berthd, n)["Id"][:12] for n in ("bridge", "host", "none")}
    assert set(ok(berthd, "network", "ls", "-q", "--filter", "type=builtin").split()) == ids


@network
def test_network_create_ls_inspect_rm(berthd, made):
    name = unique("net")
    nid = ok(berthd, "network", "create", "--subnet", "10.89.0.0/24", "--gateway", "10.89.0.254",
             "--ip-range", "10.89.0.128/25", "--label", "tier=test", "-o", "com.docker.network.bridge.name=brtest0",
             name).strip()
    made.network(name)
    assert re.fullmatch(r"[0-9a-f]{64}", nid), nid
    data = net_inspect(berthd, name)
    assert data["Name"] == name and data["Id"] == nid and data["Driver"] == "bridge" and data["Scope"] == "local"
    assert data["EnableIPv6"] is False and data["Internal"] is False and data["Attachable"] is False
    assert data["IPAM"]["Driver"] == "default"
    assert data["IPAM"]["Config"] == [{"Subnet": "10.89.0.0/24", "Gateway": "10.89.0.254",
                                       "IPRange": "10.89.0.128/25"}]
    assert data["Labels"] == {"tier": "test"}
    assert data["Options"].get("com.docker.network.bridge.name") == "brtest0"
    assert data["Containers"] == {}
    assert re.match(r"\d{4}-\d\d-\d\dT", data["Created"])
    # Through the generic inspect too.
    assert json.loads(ok(berthd, "inspect", "--type", "network", name))[0] == data
    assert json.loads(ok(berthd, "inspect", name))[0]["Id"] == nid
    # By id and by a unique id prefix too.
    assert net_inspect(berthd, nid)["Name"] == name
    assert net_inspect(berthd, nid[:12])["Name"] == name
    assert ok(berthd, "network", "inspect", "-f", "{{.Driver}} {{.Internal}}", name) == "bridge false\n"
    # The bridge, with the gateway's address.
    assert "brtest0" in links(berthd)
    assert "10.89.0.254/24" in berthd.nsenter(["ip", "-o", "-4", "addr", "show", "brtest0"], check=True).stdout

    ls = ok(berthd, "network", "ls")
    assert re.search(r"^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$", ls.splitlines()[0])
    assert re.search(rf"^{nid[:12]}\s+{name}\s+bridge\s+local$", ls, re.M), ls
    assert ok(berthd, "network", "ls", "-q", "--filter", f"name={name}").split() == [nid[:12]]
    assert ok(berthd, "network", "ls", "-q", "--no-trunc", "--filter", f"name={name}").split() == [nid]
    assert ok(berthd, "network", "ls", "-q", "--filter", "label=tier=test").split() == [nid[:12]]
    assert ok(berthd, "network", "ls", "-q", "--filter", "label=tier=other").split() == []
    assert nid[:12] in ok(berthd, "network", "ls", "-q", "--filter", "type=custom").split()
    assert nid[:12] not in ok(berthd, "network", "ls", "-q", "--filter", "type=builtin").split()
    assert ok(berthd, "network", "ls", "--filter", f"id={nid[:10]}", "--format", "{{.Name}}") == f"{name}\n"

    proc = berthd.berthctl("network", "create", name)
    assert proc.returncode == 125 and "exists" in proc.stderr.lower(), proc
    proc = berthd.berthctl("network", "create", "--subnet", "10.89.0.0/24", unique("overlap"))
    assert proc.returncode == 125, "a subnet in use by another network"

    assert ok(berthd, "network", "rm", name) == f"{name}\n"
    assert "brtest0" not in links(berthd)
    proc = berthd.berthctl("network", "inspect", name)
    assert proc.returncode == 1 and name in proc.stderr
    assert berthd.berthctl("network", "rm", name).returncode == 1
    assert berthd.berthctl("network", "rm", "-f", name).returncode == 0


@network
def test_default_subnets_come_from_the_pool(berthd, made):
    a, b = made.network(unique("pa")), made.network(unique("pb"))
    ok(berthd, "network", "create", a)
    ok(berthd, "network", "create", b)
    subnets = [net_inspect(berthd, n)["IPAM"]["Config"][0]["Subnet"] for n in (a, b)]
    pool = [f"172.{k}.0.0/16" for k in range(18, 32)] + [f"192.168.{k}.0/20" for k in range(0, 256, 16)]
    assert all(s in pool for s in subnets) and subnets[0] != subnets[1], subnets
    for n, s in zip((a, b), subnets):
        gw = net_inspect(berthd, n)["IPAM"]["Config"][0]["Gateway"]
        assert gw == s.split("/")[0][:-1] + "1", (s, gw)
        nid = net_inspect(berthd, n)["Id"]
        assert f"br-{nid[:12]}" in links(berthd)


@network
def test_network_prune(busybox_image, berthd, made):
    keep, gone, used = made.network(unique("keep")), made.network(unique("gone")), made.network(unique("used"))
    ok(berthd, "network", "create", "--label", "prune=no", keep)
    ok(berthd, "network", "create", "--label", "prune=yes", gone)
    ok(berthd, "network", "create", "--label", "prune=yes", used)
    run_d(berthd, made, busybox_image, "--network", used)
    out = ok(berthd, "network", "prune", "-f", "--filter", "label=prune=yes")
    assert out == f"Deleted Networks:\n{gone}\n\n", out
    names = ok(berthd, "network", "ls", "--format", "{{.Name}}").split()
    assert keep in names and used in names and gone not in names and "bridge" in names
    # until: nothing is older than an hour ago.
    out = ok(berthd, "network", "prune", "-f", "--filter", "until=1h")
    assert keep not in out
    # system prune takes them too, with the same filters.
    again = made.network(unique("sys"))
    ok(berthd, "network", "create", "--label", "prune=sys", again)
    out = ok(berthd, "system", "prune", "-f", "--filter", "label=prune=sys")
    assert f"Deleted Networks:\n{again}\n" in out, out
    assert again not in ok(berthd, "network", "ls", "--format", "{{.Name}}").split()
    # Without -f it asks, and "n" keeps everything.
    proc = berthd.berthctl("network", "prune", input="n\n")
    assert "WARNING! This will remove all custom networks not used by at least one container." in proc.stdout
    assert keep in ok(berthd, "network", "ls", "--format", "{{.Name}}").split()


# -- publishing ports ---------------------------------------------------------------------------


@network
def test_publish_reachable_from_ext_loopback_and_host_address(busybox_image, berthd, made, ext_ns):
    port = free_port()
    name = run_d(berthd, made, busybox_image, "-p", f"{port}:80", cmd=server_cmd("hello-published"))
    ext_ns.wait_connect("192.0.2.1", port, "hello-published")
    assert "hello-published" in read_from("127.0.0.1", port)
    assert "hello-published" in read_from("192.0.2.1", port)
    assert "hello-published" in connect_from(berthd, [], "127.0.0.1", port).stdout
    assert "hello-published" in connect_from(berthd, [], "192.0.2.1", port).stdout

    assert ok(berthd, "port", name) == f"80/tcp -> 0.0.0.0:{port}\n"
    assert ok(berthd, "port", name, "80") == f"0.0.0.0:{port}\n"
    assert ok(berthd, "port", name, "80/tcp") == f"0.0.0.0:{port}\n"
    assert berthd.berthctl("port", name, "80/udp").returncode == 1
    assert f"0.0.0.0:{port}->80/tcp" in ok(berthd, "ps", "--filter", f"name={name}")
    assert ok(berthd, "ps", "--filter", f"name={name}", "--format", "{{.Ports}}") == f"0.0.0.0:{port}->80/tcp\n"
    data = inspect(berthd, name)
    assert data["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(port)}]}
    assert data["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": str(port)}]}
    assert data["Config"]["ExposedPorts"] == {"80/tcp": {}}
    bridge = data["NetworkSettings"]["Networks"]["bridge"]
    assert bridge["IPAddress"].startswith("172.17.") and bridge["IPPrefixLen"] == 16
    assert bridge["Gateway"] == "172.17.0.1"
    assert data["NetworkSettings"]["IPAddress"] == bridge["IPAddress"]
    octets = [int(o) for o in bridge["IPAddress"].split(".")]
    assert bridge["MacAddress"] == "02:42:" + ":".join(f"{o:02x}" for o in octets)
    assert re.fullmatch(r"[0-9a-f]{64}", bridge["EndpointID"])
    # The host end of its veth, on berth0.
    cid = data["Id"]
    assert f"vb{cid[:10]}0" in links(berthd)

    ok(berthd, "stop", "-t", "1", name)
    assert ok(berthd, "port", name) == ""
    assert read_from("127.0.0.1", port, timeout=1) == ""
    assert inspect(berthd, name)["NetworkSettings"]["Ports"] == {}


@network
def test_publish_forms(busybox_image, berthd, made, ext_ns):
    # 127.0.0.1::80: a random port on the loopback only.
    local = run_d(berthd, made, busybox_image, "-p", "127.0.0.1::80", cmd=server_cmd("local-only"))
    line = ok(berthd, "port", local, "80").strip()
    assert re.fullmatch(r"127\.0\.0\.1:\d+", line), line
    lport = int(line.split(":")[1])
    assert lport > 0
    berthd.wait_until(lambda: "local-only" in read_from("127.0.0.1", lport), what="the loopback port")
    assert "local-only" not in ext_ns.connect("192.0.2.1", lport).stdout

    # One free port of a range, a range port by port, a random port, udp.
    p = free_port()
    ranged = run_d(berthd, made, busybox_image, "-p", f"{p + 100}-{p + 110}:80", "-p", "90-91",
                   "-p", "5353:53/udp", cmd=server_cmd("ranged"))
    lines = ok(berthd, "port", ranged).splitlines()
    got = {line.split(" -> ")[0]: line.split(" -> ")[1] for line in lines}
    assert set(got) == {"80/tcp", "90/tcp", "91/tcp", "53/udp"}, lines
    assert p + 100 <= int(got["80/tcp"].split(":")[1]) <= p + 110
    assert got["53/udp"] == "0.0.0.0:5353"
    assert got["90/tcp"] != got["91/tcp"]
    assert "ranged" in read_from("127.0.0.1", int(got["80/tcp"].split(":")[1]))

    pair = run_d(berthd, made, busybox_image, "-p", f"{p + 200}-{p + 201}:80-81", cmd=server_cmd("pair"))
    assert ok(berthd, "port", pair) == f"80/tcp -> 0.0.0.0:{p + 200}\n81/tcp -> 0.0.0.0:{p + 201}\n"
    bindings = inspect(berthd, pair)["HostConfig"]["PortBindings"]
    assert bindings == {"80/tcp": [{"HostIp": "", "HostPort": str(p + 200)}],
                        "81/tcp": [{"HostIp": "", "HostPort": str(p + 201)}]}

    # --expose with -P: a random port; --expose alone: listed without a binding.
    exposed = run_d(berthd, made, busybox_image, "--expose", "80", "--expose", "7000-7001/udp", "-P",
                    cmd=server_cmd("exposed"))
    out = ok(berthd, "port", exposed)
    assert re.search(r"^80/tcp -> 0\.0\.0\.0:\d+$", out, re.M), out
    settings = inspect(berthd, exposed)
    assert set(settings["Config"]["ExposedPorts"]) == {"80/tcp", "7000/udp", "7001/udp"}
    assert settings["HostConfig"]["PublishAllPorts"] is True
    quiet = run_d(berthd, made, busybox_image, "--expose", "8443")
    assert inspect(berthd, quiet)["NetworkSettings"]["Ports"] == {"8443/tcp": None}
    assert ok(berthd, "ps", "--filter", f"name={quiet}", "--format", "{{.Ports}}") == "8443/tcp\n"

    # ps --filter publish= (container ports published now) and expose= (exposed ones), as Docker.
    def ps_names(*filters):
        args = [a for f in filters for a in ("--filter", f)]
        return set(ok(berthd, "ps", *args, "--format", "{{.Names}}").split())

    assert ps_names("publish=53/udp") >= {ranged} and pair not in ps_names("publish=53/udp")
    assert ps_names("publish=80-81") >= {ranged, pair} and quiet not in ps_names("publish=80-81")
    assert quiet not in ps_names("publish=8443") and quiet in ps_names("expose=8443/tcp")
    assert exposed in ps_names("expose=7000-7001/udp") and exposed not in ps_names("expose=7000")
    for bad in ("publish=0", "publish=x", "expose=80/quic", "publish=90-80"):
        proc = berthd.berthctl("ps", "--filter", bad)
        assert proc.returncode != 0 and "invalid filter" in proc.stderr, (bad, proc)


@network
def test_port_conflicts(busybox_image, berthd, made):
    port = free_port()
    run_d(berthd, made, busybox_image, "-p", f"{port}:80")
    second = made.container(unique("conflict"))
    proc = berthd.berthctl("run", "-d", "--name", second, "-p", f"{port}:80", busybox_image, "sleep", "300")
    assert proc.returncode == 125, proc
    assert f"Port {port}/tcp on 0.0.0.0 is already in use." in proc.stderr, proc.stderr
    assert inspect(berthd, second)["State"]["Running"] is False
    # A port another program holds (pytest, in the testbed's namespace).
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        held = s.getsockname()[1]
        third = made.container(unique("held"))
        proc = berthd.berthctl("run", "-d", "--name", third, "-p", f"{held}:80", busybox_image, "sleep", "300")
        assert proc.returncode == 125 and f"Port {held}/tcp on 0.0.0.0 is already in use." in proc.stderr, proc
    # The same port on udp is another port.
    run_d(berthd, made, busybox_image, "-p", f"{port}:80/udp")


# -- user networks: names, isolation, the way out -----------------------------------------------


@network
def test_containers_resolve_and_reach_each_other_on_a_user_network(busybox_image, berthd, made):
    net = made.network(unique("dns"))
    ok(berthd, "network", "create", net)
    a = run_d(berthd, made, busybox_image, "--network", net, "--network-alias", "alpha",
              "--network-alias", "first", cmd=server_cmd("hello-from-a"))
    ip = address_on(berthd, a, net)
    short = inspect(berthd, a)["Id"][:12]
    gateway = net_inspect(berthd, net)["IPAM"]["Config"][0]["Gateway"]
    for target in (a, "alpha", "first", short):
        proc = in_container(berthd, busybox_image, "--network", net,
                            cmd=f"nslookup -type=a {target}")
        assert proc.returncode == 0 and f"Address: {ip}" in proc.stdout, (target, proc)
    proc = in_container(berthd, busybox_image, "--network", net, cmd=f"ping -c1 -W2 {a} && ping -c1 -W2 alpha")
    assert proc.returncode == 0, proc
    proc = in_container(berthd, busybox_image, "--network", net, cmd=nc_client_cmd("alpha", 80))
    assert "hello-from-a" in proc.stdout, proc
    proc = in_container(berthd, busybox_image, "--network", net, cmd="cat /etc/resolv.conf")
    assert f"nameserver {gateway}" in proc.stdout, proc.stdout
    # An unknown name is NXDOMAIN (forwarded upstream, which knows it neither), not a hang.
    proc = in_container(berthd, busybox_image, "--network", net, cmd="nslookup -type=a no-such-name.invalid")
    assert proc.returncode != 0
    # On the default bridge there is no name resolution between containers.
    b = run_d(berthd, made, busybox_image)
    proc = in_container(berthd, busybox_image, cmd=f"nslookup -type=a {b}")
    assert proc.returncode != 0 or address_on(berthd, b, "bridge") not in proc.stdout
    # Inspect shows the network, with the aliases.
    endpoint = inspect(berthd, a)["NetworkSettings"]["Networks"][net]
    assert set(endpoint["Aliases"]) >= {"alpha", "first"}
    assert endpoint["Gateway"] == gateway
    assert inspect(berthd, a)["NetworkSettings"]["IPAddress"] == ""  # only for the default bridge
    containers = net_inspect(berthd, net)["Containers"]
    cid = inspect(berthd, a)["Id"]
    assert containers[cid]["Name"] == a and containers[cid]["IPv4Address"].startswith(ip + "/")
    assert containers[cid]["EndpointID"] == endpoint["EndpointID"]
    assert ok(berthd, "ps", "--filter", f"name={a}", "--format", "{{.Networks}}") == f"{net}\n"
    assert ok(berthd, "ps", "-q", "--filter", f"network={net}").split() == [cid[:12]]
    # In use: not removable.
    proc = berthd.berthctl("network", "rm", net)
    assert proc.returncode == 1, proc


@network
def test_static_ip_mac_dns_and_hosts(busybox_image, berthd, made):
    net = made.network(unique("static"))
    ok(berthd, "network", "create", "--subnet", "10.91.0.0/24", net)
    name = run_d(berthd, made, busybox_image, "--network", net, "--ip", "10.91.0.50",
                 "--mac-address", "02:42:0a:5b:00:99", "--dns", "198.51.100.53", "--dns-search", "example.test",
                 "--dns-option", "ndots:2", "--add-host", "db:10.1.2.3", "--add-host", "gw=host-gateway")
    out = ok(berthd, "exec", name, "sh", "-c", "ip -o -4 addr show eth0; ip link show eth0; cat /etc/resolv.conf "
             "/etc/hosts")
    assert "10.91.0.50/24" in out and "02:42:0a:5b:00:99" in out
    assert "search example.test" in out and "options ndots:2" in out
    assert re.search(r"^10\.1\.2\.3\s+db$", out, re.M) and re.search(r"^10\.91\.0\.1\s+gw$", out, re.M), out
    data = inspect(berthd, name)
    assert data["NetworkSettings"]["Networks"][net]["IPAMConfig"] == {"IPv4Address": "10.91.0.50"}
    assert data["HostConfig"]["Dns"] == ["198.51.100.53"]
    assert data["HostConfig"]["DnsSearch"] == ["example.test"]
    assert data["HostConfig"]["DnsOptions"] == ["ndots:2"]
    assert data["HostConfig"]["ExtraHosts"] == ["db:10.1.2.3", "gw=host-gateway"]
    assert data["HostConfig"]["NetworkMode"] == net
    # The address is taken.
    other = made.container(unique("taken"))
    proc = berthd.berthctl("run", "-d", "--name", other, "--network", net, "--ip", "10.91.0.50", busybox_image,
                           "sleep", "300")
    assert proc.returncode == 125, proc


@network
def test_networks_are_isolated(busybox_image, berthd, made):
    one, two = made.network(unique("iso1")), made.network(unique("iso2"))
    ok(berthd, "network", "create", one)
    ok(berthd, "network", "create", two)
    server = run_d(berthd, made, busybox_image, "--network", one, cmd=server_cmd("on-one"))
    ip = address_on(berthd, server, one)
    proc = in_container(berthd, busybox_image, "--network", one, cmd=nc_client_cmd(ip, 80))
    assert "on-one" in proc.stdout, proc
    proc = in_container(berthd, busybox_image, "--network", two, cmd=nc_client_cmd(ip, 80))
    assert "on-one" not in proc.stdout, proc
    proc = in_container(berthd, busybox_image, "--network", two, cmd=f"ping -c1 -W2 {ip}")
    assert proc.returncode != 0, proc
    # Nor from the default bridge.
    proc = in_container(berthd, busybox_image, cmd=nc_client_cmd(ip, 80))
    assert "on-one" not in proc.stdout, proc


@network
def test_masquerade_to_inet_and_internal_networks(busybox_image, berthd, made, inet_ns):
    inet_ns.serve(7100, "hello-from-inet")
    # inet has no route back to 172.17.0.0/16: the answer comes only if the source was masqueraded.
    proc = in_container(berthd, busybox_image, cmd=nc_client_cmd("198.51.100.1", 7100))
    assert "hello-from-inet" in proc.stdout, proc
    net = made.network(unique("out"))
    ok(berthd, "network", "create", net)
    proc = in_container(berthd, busybox_image, "--network", net, cmd=nc_client_cmd("198.51.100.1", 7100))
    assert "hello-from-inet" in proc.stdout, proc
    internal = made.network(unique("internal"))
    ok(berthd, "network", "create", "--internal", internal)
    assert net_inspect(berthd, internal)["Internal"] is True
    proc = in_container(berthd, busybox_image, "--network", internal, cmd=nc_client_cmd("198.51.100.1", 7100))
    assert "hello-from-inet" not in proc.stdout, proc


@network
def test_network_modes_host_none_container(busybox_image, berthd, made, ext_ns):
    proc = in_container(berthd, busybox_image, "--network", "none", cmd="ip -o link show; ip -o -4 addr show")
    assert proc.returncode == 0
    assert [line.split(":")[1].strip() for line in proc.stdout.splitlines() if ": " in line and "link/" in line] \
        == ["lo"], proc.stdout
    proc = in_container(berthd, busybox_image, "--network", "host", cmd="ip -o -4 addr show")
    assert "192.0.2.1/24" in proc.stdout, proc.stdout  # the testbed's own link to ext
    # Published ports mean nothing there: Docker's warning, and they are not kept.
    hosted = made.container(unique("hostp"))
    proc = berthd.berthctl("create", "--name", hosted, "--network", "host", "-p", "8080:80", busybox_image, "true")
    assert proc.returncode == 0 and "Published ports are discarded when using host network mode" in proc.stderr
    assert inspect(berthd, hosted)["HostConfig"]["PortBindings"] == {}
    assert inspect(berthd, hosted)["HostConfig"]["NetworkMode"] == "host"
    target = run_d(berthd, made, busybox_image, cmd=server_cmd("in-target"))
    ip = address_on(berthd, target, "bridge")
    proc = in_container(berthd, busybox_image, "--network", f"container:{target}",
                        cmd="ip -o -4 addr show eth0; " + nc_client_cmd("127.0.0.1", 80))
    assert f"{ip}/16" in proc.stdout and "in-target" in proc.stdout, proc
    assert inspect(berthd, target)["HostConfig"]["NetworkMode"] == "bridge"
    sharing = run_d(berthd, made, busybox_image, "--network", f"container:{target}")
    assert inspect(berthd, sharing)["HostConfig"]["NetworkMode"] == f"container:{target}"
    assert inspect(berthd, sharing)["NetworkSettings"]["Networks"] == {}


@network
def test_connect_and_disconnect_a_running_container(busybox_image, berthd, made):
    net = made.network(unique("conn"))
    ok(berthd, "network", "create", "--subnet", "10.92.0.0/24", net)
    name = run_d(berthd, made, busybox_image, cmd=server_cmd("hello-connected"))
    ok(berthd, "network", "connect", "--alias", "beta", "--ip", "10.92.0.77", net, name)
    out = ok(berthd, "exec", name, "ip", "-o", "-4", "addr", "show", "eth1")
    assert "10.92.0.77/24" in out, out
    proc = in_container(berthd, busybox_image, "--network", net, cmd="nslookup -type=a beta; " + nc_client_cmd("beta", 80))
    assert "Address: 10.92.0.77" in proc.stdout and "hello-connected" in proc.stdout, proc
    cid = inspect(berthd, name)["Id"]
    assert net_inspect(berthd, net)["Containers"][cid]["IPv4Address"] == "10.92.0.77/24"
    assert set(inspect(berthd, name)["NetworkSettings"]["Networks"]) == {"bridge", net}
    assert ok(berthd, "ps", "--filter", f"name={name}", "--format", "{{.Networks}}").strip().split(",") in (
        ["bridge", net], [net, "bridge"])
    ok(berthd, "network", "disconnect", net, name)
    assert berthd.berthctl("exec", name, "ip", "link", "show", "eth1").returncode != 0
    assert cid not in net_inspect(berthd, net)["Containers"]
    assert set(inspect(berthd, name)["NetworkSettings"]["Networks"]) == {"bridge"}
    # A stopped container is attached at its next start.
    stopped = made.container(unique("later"))
    ok(berthd, "create", "--name", stopped, busybox_image, "sleep", "300")
    ok(berthd, "network", "connect", net, stopped)
    ok(berthd, "start", stopped)
    assert "10.92.0." in ok(berthd, "exec", stopped, "ip", "-o", "-4", "addr", "show", "eth1")


# -- berthd's own state: a kill -9, a restart ---------------------------------------------------


def wait_berthd_dead(bed):
    bed.wait_until(lambda: bed.systemctl("is-active", "berthd.service").stdout.strip() != "active",
                   what="berthd to die")


@network
def test_cleanup_after_berthd_was_killed(busybox_image, berthd, made):
    """kill -9 berthd, the container exits while berthd is down: once berthd is back, nothing of the
    container's networking is left (veths, nftables elements, the lease)."""
    net = made.network(unique("crash"))
    ok(berthd, "network", "create", "--subnet", "10.93.0.0/24", net)
    port = free_port()
    name = run_d(berthd, made, busybox_image, "--network", net, "-p", f"{port}:80",
                 cmd=["sh", "-c", "trap 'exit 5' USR1; while true; do sleep 0.1; done"])
    data = inspect(berthd, name)
    cid, pid = data["Id"], data["State"]["Pid"]
    ip = data["NetworkSettings"]["Networks"][net]["IPAddress"]
    assert f"vb{cid[:10]}0" in links(berthd)
    assert str(port) in nft_table(berthd) and ip in nft_table(berthd)

    berthd.systemctl("kill", "--signal=SIGKILL", "berthd.service", check=True)
    wait_berthd_dead(berthd)
    berthd.sh(f"kill -USR1 {pid}", check=True)
    berthd.wait_until(lambda: berthd.sh(f"test -d /proc/{pid}").returncode != 0, what="the payload to exit")
    berthd.systemctl("start", "berthd.service", check=True)
    assert inspect(berthd, name)["State"]["Status"] == "exited"

    # The kernel removes the veth with the namespace, a moment after the exit; berthd removes what
    # would stay behind.
    berthd.wait_until(lambda: not [link for link in links(berthd) if link.startswith("vb")],
                      what="no veth of the container left")
    table = nft_table(berthd)
    assert table, "the table is there again"
    assert f" {port} " not in table and f":{port}" not in table and f". {port}" not in table, table
    assert ip not in table, table
    state = berthd.sh(f"cat /run/berth/containers/{cid}.json 2>/dev/null").stdout
    assert ip not in state, state
    # The address is free again: another container can have it.
    again = run_d(berthd, made, busybox_image, "--network", net, "--ip", ip)
    assert address_on(berthd, again, net) == ip


@network
def test_nft_table_survives_a_restart_unchanged(busybox_image, berthd, made):
    net = made.network(unique("restart"))
    ok(berthd, "network", "create", "--internal", net)
    port = free_port()
    run_d(berthd, made, busybox_image, "-p", f"{port}:80", "-p", f"127.0.0.1:{port + 1}:81/udp")
    run_d(berthd, made, busybox_image, "--network", net)
    before = nft_table(berthd)
    assert str(port) in before and "table inet berth" in before
    berthd.systemctl("restart", "berthd.service", check=True)
    time.sleep(0.5)
    after = nft_table(berthd)
    assert normalize_nft(after) == normalize_nft(before)
    # And after a kill -9 too.
    berthd.systemctl("kill", "--signal=SIGKILL", "berthd.service", check=True)
    wait_berthd_dead(berthd)
    berthd.systemctl("start", "berthd.service", check=True)
    assert normalize_nft(nft_table(berthd)) == normalize_nft(before)


@network
def test_machinectl_status_shows_the_address(busybox_image, berthd, made):
    """machined gets the host ends of the container's interfaces (RegisterMachineWithNetwork) and
    reads the addresses inside: machinectl status shows them."""
    name = run_d(berthd, made, busybox_image)
    data = inspect(berthd, name)
    ip = data["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    machine = berthd.run(["machinectl", "list", "--no-legend"], check=True).stdout
    line = next((line for line in machine.splitlines() if line.split()[0] in (name, data["Id"][:12])), None)
    assert line, machine
    status = berthd.run(["machinectl", "status", line.split()[0]], check=True).stdout
    assert re.search(rf"Address:\s+{re.escape(ip)}", status), status
    assert re.search(r"Iface:\s+vb" + data["Id"][:10] + "0", status), status


@network
def test_a_forward_drop_of_another_table_is_warned_about(berthd, made):
    """Docker's iptables FORWARD policy DROP (here made with nft, as iptables-nft makes it) would drop
    what berth forwards: berthd says so in its log when it starts."""
    berthd.nsenter(["nft", "add table ip filter; add chain ip filter FORWARD "
                    "{ type filter hook forward priority filter; policy drop; }"], check=True)
    try:
        since = berthd.sh("date +%s.%N", check=True).stdout.strip()
        berthd.systemctl("restart", "berthd.service", check=True)
        log = berthd.run(["journalctl", "-u", "berthd.service", "--no-pager", f"--since=@{since}"],
                         check=True).stdout
        assert "FORWARD" in log and "berth0" in log, log
    finally:
        berthd.nsenter(["nft", "delete table ip filter"], check=True)


DNS_STUB = r"""
import socket, struct, sys
# A DNS server of the "internet": outside.example A 203.0.113.7, every other name NXDOMAIN.
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.1", 53))
while True:
    q, peer = s.recvfrom(512)
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += q[i] + 1
    question = q[12:i + 5]
    known = ".".join(labels).lower() == "outside.example"
    flags = 0x8180 if known else 0x8183
    answer = (b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 30, 4) + socket.inet_aton("203.0.113.7")) if known else b""
    s.sendto(q[:2] + struct.pack(">HHHHH", flags, 1, 1 if known else 0, 0, 0) + question + answer, peer)
"""


@network
def test_other_names_go_to_the_hosts_nameservers(busybox_image, berthd, made, inet_ns):
    """On a user network a name that is no container's is forwarded by berthd's DNS to the host's
    nameservers (here one in inet, named by the testbed's /etc/resolv.conf); on the default bridge
    the container asks them itself."""
    unit = f"berth-dns-stub-{uuid.uuid4().hex[:6]}"
    berthd.run(["systemd-run", "--quiet", "--collect", f"--unit={unit}", "--",
                *inet_ns.argv(["/usr/bin/python3", "-c", DNS_STUB])], check=True)
    saved = berthd.sh("cat /etc/resolv.conf 2>/dev/null").stdout
    try:
        berthd.wait_until(lambda: ":53 " in inet_ns.run(["ss", "-Hlun"]).stdout, what="the DNS stub")
        berthd.sh("rm -f /etc/resolv.conf && echo 'nameserver 198.51.100.1' > /etc/resolv.conf", check=True)
        net = made.network(unique("fwd"))
        ok(berthd, "network", "create", net)
        proc = in_container(berthd, busybox_image, "--network", net, cmd="nslookup -type=a outside.example")
        assert proc.returncode == 0 and "203.0.113.7" in proc.stdout, proc
        proc = in_container(berthd, busybox_image, "--network", net, cmd="nslookup -type=a nowhere.example")
        assert proc.returncode != 0, proc
        proc = in_container(berthd, busybox_image, cmd="cat /etc/resolv.conf; nslookup -type=a outside.example")
        assert "nameserver 198.51.100.1" in proc.stdout and "203.0.113.7" in proc.stdout, proc
    finally:
        berthd.systemctl("stop", unit)
        berthd.sh(f"rm -f /etc/resolv.conf && printf %s {shlex.quote(saved)} > /etc/resolv.conf")


@network
def test_udp_through_a_published_port(busybox_image, berthd, made, ext_ns, probe_bin):
    """Datagrams reach a published UDP port from another host and from the host's 127.0.0.1 (the
    probe in the container prints what arrives: its log is the container's output)."""
    for source, address in ((ext_ns, "192.0.2.1"), (None, "127.0.0.1")):
        port = free_port()
        name = run_d(berthd, made, busybox_image, "-p", f"{port}:53/udp", "-v", f"{probe_bin}:/probe:ro",
                     cmd=["/probe", "udp-sink", "53"])
        line = f"udp-via-{address}"
        send = ["/usr/bin/python3", "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                f".sendto(b'{line}\\n', ('{address}', {port}))"]

        def arrived():
            (source.run(send) if source else berthd.nsenter(send))
            return line in berthd.berthctl("logs", name).stdout

        berthd.wait_until(arrived, timeout=15, what=f"a datagram through {address}:{port}")
