# SPDX-License-Identifier: LGPL-2.1-or-later
"""Non-root users through polkit: the real polkitd of the testbed (D-Bus activated), a real
unprivileged user, rules files as an administrator writes them (docs: berthd(8))."""
import json
import uuid

import pytest

USER = "berthuser"
GROUP = "berthers"
RULES = "/etc/polkit-1/rules.d/50-berth-test.rules"


def as_user(bed, *argv, **kw):
    return bed.run(["setpriv", f"--reuid={USER}", f"--regid={USER}", "--init-groups", *argv], **kw)


def ctl(bed, *args, **kw):
    return as_user(bed, "berthctl", *args, **kw)


def grant(bed, actions):
    """A rules file that says yes to GROUP for these actions (none: the file goes)."""
    if not actions:
        bed.run(["rm", "-f", RULES], check=True)
    else:
        ids = " || ".join(f'action.id == "{a}"' for a in actions)
        rule = ("polkit.addRule(function(action, subject) {\n"
                f'    if (({ids}) && subject.isInGroup("{GROUP}"))\n'
                "        return polkit.Result.YES;\n"
                "});\n")
        bed.run(["sh", "-c", f"cat > {RULES}.tmp && mv {RULES}.tmp {RULES}"], input=rule, check=True)
    # polkitd rereads rules.d on inotify; pkcheck asks it as that user would be asked.
    want = set(actions)
    for action in ("org.berth1.manage-containers", "org.berth1.manage-images", "org.berth1.privileged"):
        def settled(action=action):
            uid = bed.run(["id", "-u", USER], check=True).stdout.strip()
            proc = bed.run(["setpriv", f"--reuid={USER}", f"--regid={USER}", "--init-groups", "sh", "-c",
                            f"exec pkcheck --action-id {action} --process $$"])
            assert uid
            return (proc.returncode == 0) == (action in want)
        bed.wait_until(settled, timeout=20, what=f"polkit to apply the rules for {action}")


@pytest.fixture(scope="module")
def user(berthd, busybox_image):
    berthd.run(["groupadd", "-f", GROUP], check=True)
    if berthd.run(["id", USER]).returncode != 0:
        berthd.run(["useradd", "-M", "-G", GROUP, "-s", "/bin/sh", USER], check=True)
    berthd.run(["mkdir", "-p", "/etc/polkit-1/rules.d"], check=True)
    yield USER
    grant(berthd, [])


def container_names(bed):
    out = bed.berthctl("ps", "-a", "--format", "{{.Names}}", check=True).stdout
    return set(out.split())


def test_policy_is_installed(berthd):
    for action in ("org.berth1.manage-containers", "org.berth1.manage-images", "org.berth1.privileged"):
        proc = berthd.run(["pkaction", "--verbose", "--action-id", action], check=True)
        assert "implicit any:" in proc.stdout and "auth_admin" in proc.stdout, proc.stdout


def test_reading_needs_no_grant(user, berthd, busybox_image):
    grant(berthd, [])
    proc = ctl(berthd, "ps", "-a")
    assert proc.returncode == 0 and "CONTAINER ID" in proc.stdout, proc
    proc = ctl(berthd, "images")
    assert proc.returncode == 0 and "busybox" in proc.stdout, proc


def test_without_a_grant_nothing_changes(user, berthd, busybox_image):
    grant(berthd, [])
    before = container_names(berthd)
    name = f"pk-{uuid.uuid4().hex[:6]}"
    proc = ctl(berthd, "create", "--name", name, busybox_image, "true")
    assert proc.returncode != 0
    assert "Not authorized to manage containers" in proc.stderr, proc.stderr
    assert "org.berth1.manage-containers" in proc.stderr, proc.stderr
    assert container_names(berthd) == before
    proc = ctl(berthd, "volume", "create", f"v-{name}")
    assert proc.returncode != 0 and "org.berth1.manage-images" in proc.stderr, proc.stderr
    assert berthd.berthctl("volume", "inspect", f"v-{name}").returncode != 0
    proc = ctl(berthd, "tag", busybox_image, f"pk/{name}:x")
    assert proc.returncode != 0 and "org.berth1.manage-images" in proc.stderr, proc.stderr
    # A container root made cannot be stopped or removed by the user either.
    berthd.berthctl("run", "-d", "--name", name, busybox_image, "sleep", "300", check=True)
    try:
        proc = ctl(berthd, "rm", "-f", name)
        assert proc.returncode != 0 and "Not authorized" in proc.stderr, proc.stderr
        state = json.loads(berthd.berthctl("inspect", name, check=True).stdout)[0]["State"]
        assert state["Running"] is True
    finally:
        berthd.berthctl("rm", "-f", name)


def test_a_granted_group_manages_containers_and_images(user, berthd, busybox_image):
    grant(berthd, ["org.berth1.manage-containers", "org.berth1.manage-images"])
    name = f"pk-{uuid.uuid4().hex[:6]}"
    try:
        proc = ctl(berthd, "run", "--name", name, busybox_image, "sh", "-c", "echo hello from $(id -u)")
        assert proc.returncode == 0 and proc.stdout == "hello from 0\n", proc
        assert ctl(berthd, "rm", name).returncode == 0
        assert name not in container_names(berthd)
        assert ctl(berthd, "volume", "create", f"v-{name}").returncode == 0
        assert ctl(berthd, "volume", "rm", f"v-{name}").returncode == 0
        assert ctl(berthd, "tag", busybox_image, f"pk/{name}:x").returncode == 0
        assert ctl(berthd, "rmi", f"pk/{name}:x").returncode == 0
    finally:
        berthd.berthctl("rm", "-f", name)
        berthd.berthctl("volume", "rm", f"v-{name}")


PRIVILEGED_OPTIONS = [
    ["--privileged"],
    ["-v", "/etc:/host-etc"],
    ["--mount", "type=bind,source=/,target=/host"],
    ["--device", "/dev/null:/dev/x"],
    ["--network", "host"],
    ["--pid", "host"],
    ["--uts", "host"],
    ["--ipc", "host"],
    ["--cap-add", "SYS_ADMIN"],
    ["--security-opt", "seccomp=unconfined"],
]


@pytest.mark.parametrize("options", PRIVILEGED_OPTIONS, ids=lambda o: " ".join(o))
def test_privileged_options_need_the_privileged_action(user, berthd, busybox_image, options):
    grant(berthd, ["org.berth1.manage-containers", "org.berth1.manage-images"])
    before = container_names(berthd)
    proc = ctl(berthd, "create", *options, busybox_image, "true")
    assert proc.returncode != 0, proc
    assert "org.berth1.privileged" in proc.stderr, proc.stderr
    assert container_names(berthd) == before


def test_a_bind_volume_needs_the_privileged_action(user, berthd):
    grant(berthd, ["org.berth1.manage-containers", "org.berth1.manage-images"])
    name = f"pkv-{uuid.uuid4().hex[:6]}"
    proc = ctl(berthd, "volume", "create", "--opt", "type=none", "--opt", "device=/etc", "--opt", "o=bind", name)
    assert proc.returncode != 0 and "org.berth1.privileged" in proc.stderr, proc.stderr
    assert berthd.berthctl("volume", "inspect", name).returncode != 0


def test_the_privileged_action_admits_them(user, berthd, busybox_image):
    grant(berthd, ["org.berth1.manage-containers", "org.berth1.privileged"])
    proc = ctl(berthd, "run", "--rm", "-v", "/etc:/host-etc:ro", busybox_image, "cat", "/host-etc/hostname")
    assert proc.returncode == 0, proc
    # The grant is per action: images stay out of reach.
    proc = ctl(berthd, "tag", busybox_image, "pk/priv:x")
    assert proc.returncode != 0 and "org.berth1.manage-images" in proc.stderr, proc.stderr


def test_without_polkitd_root_only(user, berthd, busybox_image):
    grant(berthd, ["org.berth1.manage-containers", "org.berth1.manage-images"])
    berthd.systemctl("mask", "--runtime", "polkit.service", check=True)
    berthd.systemctl("stop", "polkit.service", check=True)
    try:
        before = container_names(berthd)
        proc = ctl(berthd, "create", busybox_image, "true")
        assert proc.returncode != 0
        assert "Only root may change containers and images (polkit is not running)" in proc.stderr, proc.stderr
        assert container_names(berthd) == before
        # root needs no polkit
        name = f"pk-{uuid.uuid4().hex[:6]}"
        assert berthd.berthctl("run", "--rm", "--name", name, busybox_image, "true").returncode == 0
    finally:
        berthd.systemctl("unmask", "--runtime", "polkit.service", check=True)


def test_many_waiting_callers_do_not_block_others(user, berthd, busybox_image):
    """Each non-root call waits on polkit asynchronously: a burst of them and root's calls at the
    same time all get their answers."""
    grant(berthd, ["org.berth1.manage-images"])
    script = " & ".join(f"berthctl tag {busybox_image} pk/burst:{k} >/dev/null 2>&1" for k in range(20)) + "; wait"
    proc = as_user(berthd, "sh", "-c", script, timeout=120)
    assert proc.returncode == 0
    assert berthd.berthctl("ps", "-a").returncode == 0
    tags = berthd.berthctl("images", "--format", "{{.Repository}}:{{.Tag}}", check=True).stdout.split()
    assert {f"pk/burst:{k}" for k in range(20)} <= set(tags)
    for k in range(20):
        berthd.berthctl("rmi", f"pk/burst:{k}", check=True)
