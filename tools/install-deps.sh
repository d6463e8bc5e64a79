#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# install-deps.sh — install (as root, from Debian's packages) everything needed to build and
# test berth. Idempotent: does nothing, not even apt-get update, when all is installed.

set -euo pipefail

PACKAGES=(
        meson ninja-build pkg-config gcc libc6-dev
        libsystemd-dev libarchive-dev libmount-dev libcap-dev libseccomp-dev libjson-c-dev
        libssl-dev libcurl4-openssl-dev libbtrfsutil-dev btrfs-progs zlib1g-dev libzstd-dev
        libnftables-dev nftables iproute2 libhttp-parser-dev
        systemd systemd-container dbus
        busybox-static debootstrap
        python3 python3-pytest python3-dbus
        util-linux procps jq clang-format shellcheck polkitd bash-completion
        podman
        docker-registry skopeo apache2-utils openssl python3-cryptography curl zstd
)

# Debian's docker-registry ships docker-registry.service (enabled by its postinst) and a SysV
# script: the tests start registries of their own, on 127.0.0.1 only, and the packaged one must
# never run, neither on the host nor in the testbed (which overlays the host's /etc and would see
# the multi-user.target.wants link). Masked and disabled, and stopped should it be running.
quiet_registry() {
        [ "$(id -u)" = 0 ] || return 0
        if [ -d /run/systemd/system ]; then
                systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
        else
                systemctl disable docker-registry.service >/dev/null 2>&1 || true
                if [ -x /etc/init.d/docker-registry ]; then
                        /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
                fi
        fi
        rm -f /etc/systemd/system/multi-user.target.wants/docker-registry.service
        # Masked by hand (not systemctl mask): works the same whether systemd runs or not, and
        # before the package is there, so that its postinst cannot start it either.
        mkdir -p /etc/systemd/system
        ln -sfn /dev/null /etc/systemd/system/docker-registry.service
}

missing=()
for pkg in "${PACKAGES[@]}"; do
        status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
        [ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
        quiet_registry
        echo "install-deps: all ${#PACKAGES[@]} packages are installed"
        exit 0
fi

if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages (run as root to install): ${missing[*]}" >&2
        exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
quiet_registry
apt-get update -q
apt-get install -y -q "${missing[@]}"
quiet_registry
