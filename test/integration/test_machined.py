# SPDX-License-Identifier: LGPL-2.1-or-later
"""Running containers are registered with systemd-machined."""
import json
import uuid


def prop(bed, name, prop_name):
    obj = bed.busctl("call", "org.berth1", "/org/berth1", "org.berth1.Manager", "GetContainer", "s", name,
                     check=True).stdout.split('"')[1]
    out = bed.busctl("--json=short", "get-property", "org.berth1", obj, "org.berth1.Container", prop_name,
                     check=True).stdout
    return json.loads(out)["data"]


def test_machinectl_list_status_terminate(busybox_image, berthd):
    name = f"mach-{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sh", "-c",
                    "trap 'exit 0' TERM; while true; do sleep 0.1; done", check=True)
    unit = prop(berthd, name, "Unit")
    berthd.wait_until(lambda: name in berthd.run(["machinectl", "list", "--no-legend"]).stdout,
                      what="the machine to be registered")
    status = berthd.run(["machinectl", "show", name], check=True).stdout
    fields = dict(line.split("=", 1) for line in status.splitlines() if "=" in line)
    assert fields["Class"] == "container"
    assert fields["Service"] == "berth"
    assert fields["Unit"] == unit
    assert fields["Leader"] == str(prop(berthd, name, "Pid"))
    assert fields["Id"] == prop(berthd, name, "Id")[:32]
    # systemctl status shows a description naming the container.
    assert f"berth container {name}" in berthd.systemctl("status", "--no-pager", unit).stdout

    berthd.run(["machinectl", "terminate", name], check=True)
    assert berthd.berthctl("wait", name, check=True, timeout=30).stdout.strip() == "0"
    berthd.wait_until(lambda: name not in berthd.run(["machinectl", "list", "--no-legend"]).stdout,
                      what="the machine to be gone")


def test_names_machined_cannot_take_use_berth_id(busybox_image, berthd):
    name = f"under_score_{uuid.uuid4().hex[:6]}"
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sleep", "300", check=True)
    try:
        machine = "berth-" + prop(berthd, name, "Id")[:12]
        berthd.wait_until(lambda: machine in berthd.run(["machinectl", "list", "--no-legend"]).stdout,
                          what="the machine to be registered")
    finally:
        berthd.berthctl("rm", "-f", name, check=True)
