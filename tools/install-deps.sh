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
# Clients of berth-api's Docker Engine API (test_api_compose.py, test_api_sdk.py). Installed
# without their recommends: docker-compose recommends docker.io, and dockerd/containerd must never
# be installed or run here.
PACKAGES_NO_RECOMMENDS=(
        docker-compose python3-docker
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

is_installed() {
        [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
        is_installed "$pkg" || missing+=("$pkg")
done
missing_no_recommends=()
for pkg in "${PACKAGES_NO_RECOMMENDS[@]}"; do
        is_installed "$pkg" || missing_no_recommends+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_no_recommends[@]} -eq 0 ]; then
        quiet_registry
        echo "install-deps: all $((${#PACKAGES[@]} + ${#PACKAGES_NO_RECOMMENDS[@]})) packages are installed"
        exit 0
fi

if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages (run as root to install): ${missing[*]} ${missing_no_recommends[*]}" >&2
        exit 1
fi

echo "install-deps: installing ${missing[*]} ${missing_no_recommends[*]}"
export DEBIAN_FRONTEND=noninteractive
quiet_registry
apt-get update -q
if [ ${#missing[@]} -gt 0 ]; then
        apt-get install -y -q "${missing[@]}"
fi
if [ ${#missing_no_recommends[@]} -gt 0 ]; then
        apt-get install -y -q --no-install-recommends "${missing_no_recommends[@]}"
fi
quiet_registry
