#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# demo.sh — see berth work, as root, on a fresh Debian 12: install the dependencies, build,
# boot a systemd testbed if PID 1 is not systemd (else use this host), install berth into it,
# start berthd, import a busybox image and run a container whose output lands in the journal.
#
# Environment: BUILD (build directory, default build), BERTH_TESTBED_KEEP=1 (keep the testbed
# for poking around; the script prints how to enter and remove it).

# shellcheck disable=SC2317 # cleanup is called through trap
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD="${BUILD:-build}"
TESTBED=test/testbed.sh

[ "$(id -u)" = 0 ] || {
        echo "demo.sh: must run as root" >&2
        exit 1
}

banner() {
        printf '\n\033[1m==> %s\033[0m\n' "$*"
}

# Show a command, then run it inside the testbed.
inside() {
        printf '\033[2m# %s\033[0m\n' "$*"
        "$TESTBED" run "$STATE" "$@"
}

banner "Installing dependencies"
tools/install-deps.sh

banner "Building ($BUILD)"
if [ ! -f "$BUILD/meson-private/coredata.dat" ]; then
        meson setup "$BUILD" --prefix=/usr
fi
meson compile -C "$BUILD"

STATE="$(mktemp -d /var/tmp/berth-demo.XXXXXX)"
IMAGE_DIR="$(mktemp -d /var/tmp/berth-demo-image.XXXXXX)"
chmod 755 "$IMAGE_DIR"

cleanup() {
        local rc=$?
        if [ "${BERTH_TESTBED_KEEP:-0}" = 1 ]; then
                echo
                echo "demo.sh: testbed kept. Enter:  $TESTBED shell $STATE 'berthctl ps -a'"
                echo "          remove:              $TESTBED down $STATE; rm -rf $IMAGE_DIR"
        else
                if [ "$("$TESTBED" status "$STATE" 2>/dev/null)" = host ]; then
                        # Leave the host as we found it.
                        "$TESTBED" run "$STATE" berthctl rm -f hello >/dev/null 2>&1 || true
                fi
                "$TESTBED" down "$STATE" || true
                rm -rf "$IMAGE_DIR"
        fi
        if [ "$rc" != 0 ]; then
                echo "demo.sh: failed (exit status $rc)" >&2
        fi
        exit "$rc"
}
trap cleanup EXIT

if [ "$(cat /proc/1/comm)" = systemd ]; then
        banner "PID 1 is systemd: using this host"
else
        banner "PID 1 is not systemd: booting a systemd testbed in $STATE"
fi
"$TESTBED" up "$STATE"
inside systemctl is-system-running || true

banner "Installing berth into it and starting berthd"
"$TESTBED" install "$STATE" "$BUILD"
inside systemctl start berthd.service
inside systemctl --no-pager status berthd.service || true

banner "Building a busybox image and importing it"
test/make-busybox-image.sh "$IMAGE_DIR/busybox.tar"
inside berthctl import "$IMAGE_DIR/busybox.tar" busybox
inside berthctl images

banner "Running a container"
inside berthctl run --name hello busybox echo 'hello from berth'

banner "What the journal got from it"
inside journalctl --sync
inside journalctl --no-pager -o verbose CONTAINER_NAME=hello

banner "All containers"
inside berthctl ps -a

banner "Done"
