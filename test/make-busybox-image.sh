#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# make-busybox-image.sh OUT.tar — write a tiny rootfs tarball (what `berthctl import` and
# `docker import` take) built from the static busybox of Debian's busybox-static:
#
#   /bin/busybox, a symlink /bin/<applet> -> busybox for every applet (sh among them),
#   /etc/passwd and /etc/group (root, nobody), empty /proc /sys /dev /root /etc, /tmp (1777).
#
# Owners are numeric root, mtimes fixed and entries sorted, so the same busybox gives the same
# bytes. Environment: BUSYBOX (default /bin/busybox).

set -euo pipefail

die() {
        echo "make-busybox-image: $*" >&2
        exit 1
}

[ $# -eq 1 ] || die "usage: $0 OUT.tar"
out="$1"
busybox="${BUSYBOX:-/bin/busybox}"

[ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static)"
if LC_ALL=C ldd "$busybox" 2>/dev/null | grep -q '=>'; then
        die "$busybox is dynamically linked; the image needs the static one (busybox-static)"
fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/busybox-image.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,etc,proc,sys,dev,tmp,root}
chmod 0755 "$stage" "$stage"/{bin,etc,proc,sys,dev}
chmod 0700 "$stage/root"
chmod 1777 "$stage/tmp"

install -m 0755 "$busybox" "$stage/bin/busybox"
"$busybox" --list | while read -r applet; do
        case "$applet" in
        "" | busybox | */*) continue ;;
        esac
        ln -s busybox "$stage/bin/$applet"
done
[ -L "$stage/bin/sh" ] || die "$busybox has no sh applet"

cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
EOF
chmod 0644 "$stage/etc/passwd" "$stage/etc/group"

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
(
        cd "$stage"
        tar --create --file="$tmp" --format=gnu --sort=name --numeric-owner --owner=0 --group=0 \
                --mtime=@0 -- bin dev etc proc root sys tmp
)
mv -f "$tmp" "$out"
