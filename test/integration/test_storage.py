# SPDX-License-Identifier: LGPL-2.1-or-later
"""The storage driver: which one berthd runs, how berthd.conf chooses it, and that it refuses a
driver that cannot work or that the stored images were not made with (the suite runs once per
driver: BERTH_TESTBED_STORAGE=btrfs)."""

import json
import uuid

import pytest

from conftest import DRIVER, LAYERS

CONF = "/etc/berth/berthd.conf"


def storage_driver(bed):
    out = bed.busctl("get-property", "org.berth1", "/org/berth1", "org.berth1.Manager", "StorageDriver",
                     check=True).stdout
    return out.split('"')[1]


@pytest.fixture()
def config(berthd):
    """Write berthd.conf; afterwards remove it and bring berthd back as it was."""
    def write(text):
        berthd.sh(f"mkdir -p /etc/berth && cat > {CONF}", input=text, check=True)
    yield write
    berthd.run(["rm", "-f", CONF], check=True)
    berthd.systemctl("reset-failed", "berthd.service")
    berthd.systemctl("restart", "berthd.service", check=True)
    assert storage_driver(berthd) == DRIVER


def start_fails_saying(bed, text):
    """berthd does not start, and its journal says why."""
    cursor = bed.sh("journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p'", check=True).stdout.strip()
    proc = bed.systemctl("restart", "berthd.service")
    assert proc.returncode != 0, proc

    def said():
        messages = [e.get("MESSAGE", "") for e in bed.journal_json("-u", "berthd.service", f"--after-cursor={cursor}")]
        return any(text in m for m in messages if isinstance(m, str)) or print(messages)

    bed.wait_until(said, timeout=15, interval=0.5, what=f"berthd's journal to say {text!r}")


def test_the_driver_in_use_is_the_expected_one(busybox_image, berthd):
    assert storage_driver(berthd) == DRIVER
    assert berthd.sh("cat /var/lib/berth/storage-driver", check=True).stdout.strip() == DRIVER
    image = json.loads(berthd.berthctl("image", "inspect", busybox_image, check=True).stdout)[0]
    layer = image["RootFS"]["Layers"][0]
    berthd.sh(f"test -x {LAYERS}/{layer[7:]}/diff/bin/busybox", check=True)
    if DRIVER == "btrfs":
        # Layers are read-only subvolumes; a container is a writable snapshot.
        assert berthd.sh(f"btrfs property get -ts {LAYERS}/{layer[7:]}/diff ro", check=True).stdout.strip() == "ro=true"
        name = "stor-" + uuid.uuid4().hex[:8]
        berthd.berthctl("create", "--name", name, busybox_image, "true", check=True)
        try:
            cid = json.loads(berthd.berthctl("inspect", name, check=True).stdout)[0]["Id"]
            berthd.sh(f"btrfs subvolume show /var/lib/berth/containers/{cid}/rootfs >/dev/null", check=True)
        finally:
            berthd.berthctl("rm", name, check=True)


def test_config_naming_the_running_driver_changes_nothing(busybox_image, berthd, config):
    config(f"# comment\n[Storage]\nDriver = {DRIVER}\n")
    berthd.systemctl("restart", "berthd.service", check=True)
    assert storage_driver(berthd) == DRIVER
    berthd.berthctl("run", "--rm", busybox_image, "true", check=True)


def test_unknown_driver_is_refused(busybox_image, berthd, config):
    config("[Storage]\nDriver=zfs\n")
    start_fails_saying(berthd, 'unknown storage driver "zfs"')


def test_switching_driver_with_images_stored_is_refused(busybox_image, berthd, config):
    """Images made by one driver are not there for the other: berthd says so instead of starting
    with an empty store (Docker's silent behaviour)."""
    other = "overlay" if DRIVER == "btrfs" else "btrfs"
    config(f"[Storage]\nDriver={other}\n")
    if DRIVER == "btrfs":
        start_fails_saying(berthd, "were stored by btrfs")
    else:
        # Either message is right: the state directory is not on btrfs, and it holds overlay images.
        start_fails_saying(berthd, "btrfs")
    # Nothing was lost: the images are all there once the configuration is back.
    berthd.run(["rm", "-f", CONF], check=True)
    berthd.systemctl("reset-failed", "berthd.service")
    berthd.systemctl("restart", "berthd.service", check=True)
    berthd.berthctl("image", "inspect", busybox_image, check=True)


def test_a_lost_driver_record_is_inferred_from_the_layers(busybox_image, berthd):
    berthd.run(["rm", "/var/lib/berth/storage-driver"], check=True)
    berthd.systemctl("restart", "berthd.service", check=True)
    assert storage_driver(berthd) == DRIVER
    assert berthd.sh("cat /var/lib/berth/storage-driver", check=True).stdout.strip() == DRIVER
    berthd.berthctl("run", "--rm", busybox_image, "true", check=True)
