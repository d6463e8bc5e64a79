# SPDX-License-Identifier: LGPL-2.1-or-later
"""berthctl's network commands against the contract (docs/NETWORKING.md), with fake_berthd_net.py
standing in for berthd on the system bus: what berthctl sends (CreateContainer's network options,
CreateNetwork, Connect, PruneNetworks) and how it shows what it reads (network ls/inspect, port, ps,
inspect's NetworkSettings). Runs with any berthd: berthd is stopped for the module and started again
after it."""

import json
import os
import re
import subprocess
import tempfile
import uuid

import pytest

from conftest import REPO, SHARED_TMP

FAKE = REPO / "test" / "integration" / "fake_berthd_net.py"
WEB_ID = "c" * 64
FRONT_ID = "f" * 63 + "1"


@pytest.fixture(scope="module")
def fake(bed):
    """The fake on the bus instead of berthd; yields a function returning the calls logged so far."""
    if not bed.installed:
        pytest.fail("berth is not built (BERTH_BUILD_DIR)")
    was_active = bed.systemctl("is-active", "berthd.service").stdout.strip() == "active"
    bed.systemctl("stop", "berthd.service", check=True)
    fd, log = tempfile.mkstemp(prefix="fake-berthd.", suffix=".jsonl", dir=SHARED_TMP)
    os.close(fd)
    os.chmod(log, 0o666)
    unit = f"fake-berthd-{uuid.uuid4().hex[:6]}"
    bed.run(["systemd-run", "--quiet", "--collect", f"--unit={unit}", "--", "/usr/bin/python3", str(FAKE), log],
            check=True)
    try:
        bed.wait_until(lambda: bed.busctl("status", "org.berth1").returncode == 0 and
                       "fake_berthd_net" in bed.busctl("status", "org.berth1").stdout, timeout=20,
                       what="the fake on the bus")

        def calls(method=None):
            with open(log) as f:
                entries = [json.loads(line) for line in f if line.strip()]
            return [e["args"] for e in entries if method is None or e["method"] == method]

        yield calls
    finally:
        bed.systemctl("stop", unit)
        os.unlink(log)
        if was_active:
            bed.systemctl("start", "berthd.service", check=True)


def ok(bed, *args):
    return bed.berthctl(*args, check=True).stdout


def test_network_ls(bed, fake):
    out = ok(bed, "network", "ls").splitlines()
    assert re.fullmatch(r"NETWORK ID\s+NAME\s+DRIVER\s+SCOPE", out[0]), out
    names = [line.split()[1] for line in out[1:]]
    assert names == sorted(names) and {"bridge", "front", "host", "none"} <= set(names), out
    assert re.search(rf"^{FRONT_ID[:12]}\s+front\s+bridge\s+local$", "\n".join(out), re.M), out
    assert ok(bed, "network", "ls", "-q", "--filter", "label=tier=web") == f"{FRONT_ID[:12]}\n"
    assert ok(bed, "network", "ls", "-q", "--no-trunc", "--filter", "name=^fr") == f"{FRONT_ID}\n"
    assert ok(bed, "network", "ls", "--filter", "type=builtin", "--format", "{{.Name}}").split() == \
        ["bridge", "host", "none"]
    assert ok(bed, "network", "ls", "--filter", "driver=null", "--format", "{{.Name}}") == "none\n"
    assert ok(bed, "network", "ls", "--filter", "dangling=false", "--filter", "type=custom",
              "--format", "{{.Name}}") == "front\n"
    row = json.loads(ok(bed, "network", "ls", "--filter", "name=front", "--format", "json"))
    assert row["Name"] == "front" and row["Labels"] == "tier=web" and row["Internal"] == "false"
    table = ok(bed, "network", "ls", "--filter", "name=front", "--format", "table {{.Name}}\t{{.Labels}}")
    assert re.fullmatch(r"NAME\s+LABELS\nfront\s+tier=web\n", table), table


def test_network_inspect(bed, fake):
    data = json.loads(ok(bed, "network", "inspect", "front"))
    assert len(data) == 1
    n = data[0]
    assert n["Name"] == "front" and n["Id"] == FRONT_ID and n["Driver"] == "bridge" and n["Scope"] == "local"
    assert n["EnableIPv6"] is False and n["Internal"] is False and n["Attachable"] is False
    assert n["IPAM"] == {"Driver": "default", "Options": None,
                         "Config": [{"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.1", "IPRange": "10.77.0.128/25"}]}
    assert n["Containers"] == {WEB_ID: {"Name": "web", "EndpointID": "e" * 64, "MacAddress": "02:42:0a:4d:00:02",
                                        "IPv4Address": "10.77.0.2/24", "IPv6Address": ""}}
    assert n["Labels"] == {"tier": "web"} and n["Options"] == {}
    assert n["Created"].startswith("2023-11-14T")
    # By id, id prefix, and through the generic inspect.
    assert json.loads(ok(bed, "network", "inspect", FRONT_ID[:8]))[0]["Name"] == "front"
    assert json.loads(ok(bed, "inspect", "--type", "network", "front")) == data
    assert json.loads(ok(bed, "inspect", "front")) == data
    assert json.loads(ok(bed, "network", "inspect", "host"))[0]["IPAM"]["Config"] == []
    assert ok(bed, "network", "inspect", "-f", "{{.Name}} {{(index .IPAM.Config 0).Subnet}}", "front", "bridge") == \
        "front 10.77.0.0/24\nbridge 172.17.0.0/16\n"
    proc = bed.berthctl("network", "inspect", "front", "nosuch")
    assert proc.returncode == 1 and "network nosuch not found" in proc.stderr
    assert json.loads(proc.stdout)[0]["Name"] == "front"


def test_network_create_rm_connect_prune(bed, fake):
    out = ok(bed, "network", "create", "--subnet", "10.78.0.0/24", "--gateway", "10.78.0.254", "--internal",
             "--label", "a=b", "--label", "c", "-o", "com.docker.network.bridge.name=br9", "made")
    assert re.fullmatch(r"[0-9a-f]{64}\n", out), out
    (name, options), = [c for c in fake("CreateNetwork") if c[0] == "made"]
    assert options == {"Driver": "bridge", "Subnet": "10.78.0.0/24", "Gateway": "10.78.0.254", "Internal": 1,
                       "Labels": {"a": "b", "c": ""}, "Options": {"com.docker.network.bridge.name": "br9"}}
    ok(bed, "network", "create", "plain")
    assert [c[1] for c in fake("CreateNetwork") if c[0] == "plain"] == [{"Driver": "bridge"}]
    proc = bed.berthctl("network", "create", "front")
    assert proc.returncode == 125 and "already exists" in proc.stderr
    assert ok(bed, "network", "rm", "made", "plain") == "made\nplain\n"
    proc = bed.berthctl("network", "rm", "front", "nosuch")
    assert proc.returncode == 1 and "in use" in proc.stderr and "not found" in proc.stderr
    assert bed.berthctl("network", "rm", "-f", "nosuch").returncode == 0

    ok(bed, "network", "connect", "--alias", "w1", "--alias", "w2", "--ip", "10.77.0.9", "front", "web")
    assert fake("Connect")[-1] == [FRONT_ID, "web", {"Aliases": ["w1", "w2"], "IPAddress": "10.77.0.9"}]
    ok(bed, "network", "connect", "front", "web")
    assert fake("Connect")[-1] == [FRONT_ID, "web", {}]
    ok(bed, "network", "disconnect", "-f", FRONT_ID[:12], "web")
    assert fake("Disconnect")[-1] == [FRONT_ID, "web", True]
    proc = bed.berthctl("network", "connect", "nosuch", "web")
    assert proc.returncode == 125 and "not found" in proc.stderr

    assert ok(bed, "network", "prune", "-f", "--filter", "label=x=y", "--filter", "label!=keep") == ""
    assert fake("PruneNetworks")[-1] == [{"label": ["x=y"], "label!": ["keep"]}]
    ok(bed, "network", "prune", "-f", "--filter", "until=2h")
    until = fake("PruneNetworks")[-1][0]["until"]
    assert isinstance(until, int) and until > 1700000000000000


def test_port_ps_and_inspect_of_a_container(bed, fake):
    assert ok(bed, "port", "web") == "53/udp -> 127.0.0.1:5353\n80/tcp -> 0.0.0.0:8080\n"
    assert ok(bed, "port", "web", "80") == "0.0.0.0:8080\n"
    assert ok(bed, "port", "web", "53/udp") == "127.0.0.1:5353\n"
    proc = bed.berthctl("port", "web", "53")
    assert proc.returncode == 1 and "No public port '53/tcp' published for web" in proc.stderr
    assert ok(bed, "container", "port", WEB_ID[:12], "80") == "0.0.0.0:8080\n"

    assert ok(bed, "ps", "--format", "{{.Ports}}|{{.Networks}}") == \
        "443/tcp, 127.0.0.1:5353->53/udp, 0.0.0.0:8080->80/tcp|front\n"
    table = ok(bed, "ps").splitlines()
    assert re.search(r"STATUS\s+PORTS\s+NAMES$", table[0]) and "0.0.0.0:8080->80/tcp" in table[1], table
    assert ok(bed, "ps", "-q", "--filter", "network=front") == f"{WEB_ID[:12]}\n"
    assert ok(bed, "ps", "-q", "--filter", f"network={FRONT_ID[:6]}") == f"{WEB_ID[:12]}\n"
    assert ok(bed, "ps", "-q", "--filter", "network=bridge") == ""

    c = json.loads(ok(bed, "inspect", "web"))[0]
    ns = c["NetworkSettings"]
    assert ns["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
                           "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}], "443/tcp": None}
    front = ns["Networks"]["front"]
    assert front == {"IPAMConfig": {"IPv4Address": "10.77.0.2"}, "Links": None, "Aliases": ["www"],
                     "MacAddress": "02:42:0a:4d:00:02", "NetworkID": FRONT_ID, "EndpointID": "e" * 64,
                     "Gateway": "10.77.0.1", "IPAddress": "10.77.0.2", "IPPrefixLen": 24, "IPv6Gateway": "",
                     "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DriverOpts": None}
    # The top-level fields are the default bridge's only.
    assert ns["IPAddress"] == "" and ns["Gateway"] == "" and ns["IPPrefixLen"] == 0 and ns["EndpointID"] == ""
    host = c["HostConfig"]
    assert host["NetworkMode"] == "front"
    assert host["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                                    "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}]}
    assert host["Dns"] == ["198.51.100.53"] and host["DnsSearch"] == [] and host["ExtraHosts"] == ["db:10.1.2.3"]
    assert c["Config"]["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}, "443/tcp": {}}
    assert ok(bed, "inspect", "-f", "{{.NetworkSettings.Networks.front.IPAddress}}", "web") == "10.77.0.2\n"


def test_run_sends_the_network_options(bed, fake):
    proc = bed.berthctl("run", "-d", "--name", "sent", "--network", "front", "--network-alias", "a1",
                        "--net-alias", "a2", "--ip", "10.77.0.50", "--mac-address", "02:42:0a:4d:00:32",
                        "--dns", "1.1.1.1", "--dns", "2606:4700::1111", "--dns-search", "x.test", "--dns-opt", "ndots:2",
                        "--add-host", "h:1.2.3.4", "--add-host", "gw=host-gateway",
                        "-p", "8080-8081:80-81", "-p", "127.0.0.1::90/udp", "-p", "8000-8010:100", "-p", "110",
                        "-P", "--expose", "7000-7001", "--expose", "7100/sctp", "busybox:latest", "true")
    assert proc.returncode == 125 and "recorded by the fake" in proc.stderr, proc
    image, name, options = fake("CreateContainer")[-1]
    assert (image, name) == ("busybox:latest", "sent")
    assert options["PortBindings"] == [["tcp", 80, "", 8080, 8080], ["tcp", 81, "", 8081, 8081],
                                       ["udp", 90, "127.0.0.1", 0, 0], ["tcp", 100, "", 8000, 8010],
                                       ["tcp", 110, "", 0, 0]]
    assert options["ExposedPorts"] == [["tcp", 7000], ["tcp", 7001], ["sctp", 7100]]
    assert options["PublishAllPorts"] == 1
    assert options["NetworkMode"] == "front" and options["NetworkAliases"] == ["a1", "a2"]
    assert options["IPAddress"] == "10.77.0.50" and options["MacAddress"] == "02:42:0a:4d:00:32"
    assert options["Dns"] == ["1.1.1.1", "2606:4700::1111"] and options["DnsSearch"] == ["x.test"]
    assert options["DnsOptions"] == ["ndots:2"] and options["ExtraHosts"] == ["h:1.2.3.4", "gw=host-gateway"]

    # Nothing of it when not given; -p with host is dropped (with Docker's warning).
    bed.berthctl("create", "--name", "bare", "busybox:latest", "true")
    options = fake("CreateContainer")[-1][2]
    assert not set(options) & {"NetworkMode", "PortBindings", "ExposedPorts", "PublishAllPorts", "Dns",
                               "ExtraHosts", "NetworkAliases", "IPAddress", "MacAddress"}, options
    proc = bed.berthctl("create", "--name", "hosted", "--net", "host", "-p", "80", "-P", "busybox:latest", "true")
    assert "Published ports are discarded when using host network mode" in proc.stderr
    options = fake("CreateContainer")[-1][2]
    assert options["NetworkMode"] == "host" and "PortBindings" not in options and "PublishAllPorts" not in options
