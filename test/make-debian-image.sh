#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# make-debian-image.sh OUT.tar — write a Debian bookworm minbase rootfs tarball (debootstrap
# --variant=minbase from the mirror apt uses), without device nodes: images carry none, and
# berth refuses them. Built once: an existing non-empty OUT.tar is kept. The tests' round trip and
# bench/run's import case use it.

set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

die() {
        echo "make-debian-image: $*" >&2
        exit 1
}

[ $# -eq 1 ] || die "usage: $0 OUT.tar"
out="$1"
[ -s "$out" ] && exit 0
command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"

mirror="$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*debian\)$/\1/p' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)"
[ -n "$mirror" ] || mirror="$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
        /etc/apt/sources.list 2>/dev/null)"
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

stage="$(mktemp -d "$(dirname "$out")/debian-image.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
debootstrap --variant=minbase bookworm "$stage/root" "$mirror" >"$stage/debootstrap.log" 2>&1 || {
        tail -20 "$stage/debootstrap.log" >&2
        die "debootstrap failed"
}
find "$stage/root/dev" -mindepth 1 \( -type c -o -type b -o -type p \) -delete
tar --create --file="$stage/out.tar" --numeric-owner --sort=name -C "$stage/root" .
mv -f "$stage/out.tar" "$out"
