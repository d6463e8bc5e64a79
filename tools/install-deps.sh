#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# install-deps.sh — install (as root, from Debian's packages) everything needed to build and
# test berth. Idempotent: does nothing, not even apt-get update, when all is installed.

set -euo pipefail

PACKAGES=(
        meson ninja-build pkg-config gcc libc6-dev
        libsystemd-dev libarchive-dev libmount-dev libcap-dev libseccomp-dev libjson-c-dev
        libssl-dev libcurl4-openssl-dev libbtrfsutil-dev btrfs-progs
        systemd systemd-container dbus
        busybox-static debootstrap
        python3 python3-pytest python3-dbus
        util-linux procps jq clang-format shellcheck
        podman
)

missing=()
for pkg in "${PACKAGES[@]}"; do
        status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
        [ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
        echo "install-deps: all ${#PACKAGES[@]} packages are installed"
        exit 0
fi

if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages (run as root to install): ${missing[*]}" >&2
        exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${missing[@]}"
