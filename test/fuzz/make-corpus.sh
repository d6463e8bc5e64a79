#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerates the seed corpora of the fuzz targets. The outputs are committed; they are tiny and
# deterministic (fixed times and owners). Hostile seeds aim at /tmp/berth-fuzz-victim, the sentinel
# directory fuzz-tar-extract checks.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/corpus-tar-extract"
mkdir -p "$out" "$here/corpus-names"

python3 - "$out" <<'PY'
import bz2, gzip, io, lzma, os, sys, tarfile

out = sys.argv[1]
# A small record size keeps the seeds small; tar readers don't care.
tarfile.RECORDSIZE = 512
VICTIM = "/tmp/berth-fuzz-victim"

def entry(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, link="", devmajor=0, devminor=0, uid=0, gid=0):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.mtime = 1600000000
    ti.uid, ti.gid = uid, gid
    ti.uname = ti.gname = ""
    ti.linkname = link
    ti.devmajor, ti.devminor = devmajor, devminor
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    return ti, data

def build(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    return buf.getvalue()

def write(name, blob):
    with open(os.path.join(out, name), "wb") as f:
        f.write(blob)

tree = [
    entry("./", tarfile.DIRTYPE, mode=0o755),
    entry("etc/", tarfile.DIRTYPE, mode=0o755),
    entry("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n"),
    entry("bin/busybox", data=b"\x7fELF" + bytes(range(256)), mode=0o755),
    entry("bin/sh", tarfile.SYMTYPE, link="busybox", mode=0o777),
    entry("bin/ls", tarfile.LNKTYPE, link="bin/busybox"),
    entry("bin/su", data=b"su", mode=0o4755),
    entry("tmp/", tarfile.DIRTYPE, mode=0o1777),
    entry("run/fifo", tarfile.FIFOTYPE, mode=0o600),
    entry("ro/", tarfile.DIRTYPE, mode=0o555),
    entry("ro/file", data=b"r/o", mode=0o444),
    entry("usr/lib/os-release", data=b"ID=test\n", uid=1000, gid=1000),
    entry("abs", tarfile.SYMTYPE, link="/etc/passwd", mode=0o777),
]
normal = build(tree)
write("normal.tar", normal)
write("normal.tar.gz", gzip.compress(normal, mtime=0))
write("normal.tar.bz2", bz2.compress(normal))
write("normal.tar.xz", lzma.compress(normal))
write("normal-gnu.tar", build(tree + [entry("long/" + "n" * 150, data=b"long name")], tarfile.GNU_FORMAT))
write("normal-ustar.tar", build(tree[:6], tarfile.USTAR_FORMAT))
write("utf8.tar", build([entry("caf\u00e9/\u00fc\u00f1\u00ee", data=b"x")]))
write("empty.tar", b"\0" * 1024)
write("truncated.tar", normal[:1500])
write("trailing-garbage.tar", normal + b"garbage after the end" * 10)

write("replace.tar", build([
    entry("x", data=b"file"),
    entry("x/", tarfile.DIRTYPE, mode=0o755),
    entry("x/inner", data=b"in"),
    entry("y/", tarfile.DIRTYPE, mode=0o755),
    entry("y/sub/f", data=b"f"),
    entry("y", data=b"now a file"),
    entry("z", tarfile.SYMTYPE, link=VICTIM, mode=0o777),
    entry("z", data=b"replaces the link"),
    entry("w/", tarfile.DIRTYPE, mode=0o700),
    entry("w", tarfile.SYMTYPE, link=VICTIM, mode=0o777),
]))

deep = "/".join("d%d" % i for i in range(40))
write("deep.tar", build([
    entry(deep + "/f", data=b"deep"),
    entry("d0/d1/d2/up", data=b"up"),
    entry(deep + "/d40/g", data=b"deeper"),
    entry("d0/d1/d2", data=b"replaces the tree"),
    entry("d0/d1/d2/", tarfile.DIRTYPE),
    entry("d0/d1/d2/d3/h", data=b"again"),
]))

# Hostile seeds: every one of these must be refused without touching anything outside.
write("dotdot.tar", build([entry("../evil", data=b"evil")]))
write("dotdot-inner.tar", build([entry("a/", tarfile.DIRTYPE), entry("a/../../evil", data=b"evil")]))
write("absolute.tar", build([entry(VICTIM + "/evil", data=b"evil")]))
write("symlink-abs.tar", build([
    entry("link", tarfile.SYMTYPE, link=VICTIM, mode=0o777),
    entry("link/evil", data=b"evil"),
]))
write("symlink-dotdot.tar", build([
    entry("l", tarfile.SYMTYPE, link="..", mode=0o777),
    entry("l/evil", data=b"evil"),
]))
write("symlink-nested.tar", build([
    entry("a/", tarfile.DIRTYPE),
    entry("a/b", tarfile.SYMTYPE, link="../../..", mode=0o777),
    entry("a/b/c/evil", data=b"evil"),
]))
write("hardlink-dotdot.tar", build([entry("h", tarfile.LNKTYPE, link="../outside")]))
write("hardlink-abs.tar", build([entry("h", tarfile.LNKTYPE, link=VICTIM + "/x")]))
write("hardlink-symlink.tar", build([
    entry("s", tarfile.SYMTYPE, link=VICTIM, mode=0o777),
    entry("h", tarfile.LNKTYPE, link="s"),
    entry("h2", tarfile.LNKTYPE, link="s/x"),
]))
write("devices.tar", build([
    entry("dev/null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3),
    entry("dev/sda", tarfile.BLKTYPE, mode=0o660, devmajor=8, devminor=0),
]))
write("whiteout.tar", build([
    entry("etc/.wh.passwd", data=b""),
    entry("etc/.wh..wh..opq", data=b""),
    entry("gone", tarfile.CHRTYPE, mode=0, devmajor=0, devminor=0),
]))
PY

# Layers applied over fuzz-tar-apply's lower tree (d/, d/sub/g, d/f, d/hl, top, and the symlinks abs,
# rel, d/up to the directory with the canary beside the destination).
python3 - "$here/corpus-tar-apply" <<'PY'
import io, os, sys, tarfile

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
tarfile.RECORDSIZE = 512

def entry(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, link=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.mtime = 1600000000
    ti.uname = ti.gname = ""
    ti.linkname = link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    return ti, data

def write(name, entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    with open(os.path.join(out, name), "wb") as f:
        f.write(buf.getvalue())

write("whiteouts.tar", [
    entry("d/.wh.f"), entry(".wh.top"), entry(".wh.nothing"), entry("missing/.wh.x"), entry("d/sub/.wh.g"),
])
write("whiteout-through-symlinks.tar", [
    entry("abs/.wh.canary"), entry("rel/.wh.canary"), entry("d/up/.wh.canary"), entry(".wh.abs"),
    entry("rel/.wh..wh..opq"), entry("d/up/.wh..wh..opq"),
])
write("opaque-after.tar", [
    entry("d/", tarfile.DIRTYPE, mode=0o755), entry("d/new", data=b"new"),
    entry("d/sub/", tarfile.DIRTYPE, mode=0o755), entry("d/sub/h", data=b"h"),
    entry("d/.wh..wh..opq"), entry("d/after", data=b"after"),
])
write("opaque-first.tar", [entry("d/.wh..wh..opq"), entry("d/only", data=b"only")])
write("opaque-root.tar", [entry("keep", data=b"k"), entry(".wh..wh..opq"), entry("after", data=b"a")])
write("replace.tar", [
    entry("top", tarfile.LNKTYPE, link="d/f"), entry("d/f", data=b"replaced"),
    entry("abs/", tarfile.DIRTYPE, mode=0o755), entry("abs/x", data=b"x"),
    entry("rel", data=b"file over symlink"), entry("d", data=b"file over directory"),
    entry("d/", tarfile.DIRTYPE, mode=0o755), entry("hl", tarfile.LNKTYPE, link="top"),
    entry("d/up/x", data=b"through a symlink"),
])
PY

# Sparse files only GNU tar writes.
if tar --version 2>/dev/null | grep -q GNU; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    printf 'data' | dd of="$tmp/sparse" bs=1 seek=40000 conv=notrunc status=none
    truncate -s 100000 "$tmp/sparse"
    tar --sparse --format=gnu --owner=0 --group=0 --numeric-owner --mtime=@1600000000 \
        -cf "$out/sparse-gnu.tar" -C "$tmp" sparse
    tar --sparse --format=pax --owner=0 --group=0 --numeric-owner --mtime=@1600000000 \
        --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
        -cf "$out/sparse-pax.tar" -C "$tmp" sparse
    # GNU tar puts its PID into the name of the sparse member; pin it for reproducible output.
    python3 - "$out/sparse-pax.tar" <<'PY'
import re, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
for off in range(0, len(b), 512):
    h = b[off:off + 512]
    if h[257:262] != b"ustar" or not re.match(rb"[^\0]*GNUSparseFile\.\d+/", bytes(h[:100])):
        continue
    name = re.sub(rb"GNUSparseFile\.\d+/", b"GNUSparseFile.0/", bytes(h[:100]).rstrip(b"\0"))
    h[:100] = name.ljust(100, b"\0")
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    b[off:off + 512] = h
open(p, "wb").write(b)
PY
fi
if command -v zstd >/dev/null; then
    zstd -q -f -19 "$out/normal.tar" -o "$out/normal.tar.zst"
fi

# Names: references, container names, host names, environment and tar paths.
i=0
for s in busybox busybox:1.36 localhost:5000/x/y:tag Busybox a:b:c "" registry.example.com/team/app:v1 \
    a__b/c--d/e.f:_x my-container web.1 -ab "../x" "./a//b/." "a/../../b" /abs "PATH=/usr/bin" "=x" \
    host.example.com "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; do
    printf '%s' "$s" > "$here/corpus-names/seed-$i"
    i=$((i + 1))
done

# DNS messages: queries as resolvers send them (with EDNS, odd case, pointers) and some that are not.
mkdir -p "$here/corpus-dns-packet"
python3 - "$here/corpus-dns-packet" <<'PY'
import os, struct, sys

out = sys.argv[1]

def name(s):
    b = b""
    for label in s.split(".") if s else []:
        b += bytes([len(label)]) + label.encode()
    return b + b"\0"

def query(qid, qname, qtype, flags=0x0100, qdcount=1, extra=b""):
    return struct.pack(">HHHHHH", qid, flags, qdcount, 0, 0, 1 if extra else 0) + qname + struct.pack(">HH", qtype, 1) + extra

opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
seeds = {
    "a-web": query(0x1234, name("web"), 1),
    "aaaa-edns": query(0xbeef, name("Example.COM"), 28, extra=opt),
    "any-root": query(1, name(""), 255),
    "srv": query(2, name("_http._tcp.web.example"), 33),
    "escaped": query(3, b"\x03a.b\x02c\\\x00", 16),
    "pointer-header": query(4, b"\xc0\x00", 1),
    "pointer-self": query(5, b"\x01a\xc0\x0c", 1),
    "label-64": query(6, bytes([64]) + b"a" * 64 + b"\0", 1),
    "name-255": query(7, (bytes([63]) + b"b" * 63) * 3 + bytes([61]) + b"b" * 61 + b"\0", 1),
    "two-questions": query(8, name("a"), 1, qdcount=2),
    "opcode-update": query(9, name("a"), 1, flags=0x2800),
    "response": struct.pack(">HHHHHH", 10, 0x8180, 1, 1, 0, 0) + name("web") + struct.pack(">HH", 1, 1)
                + b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([172, 18, 0, 2]),
    "runt": b"\x12\x34\x01",
    "cut-name": query(11, name("web.example"), 1)[:20],
}
for k, v in seeds.items():
    with open(os.path.join(out, k), "wb") as f:
        f.write(v)
PY

# resolv.conf texts, and --add-host entries one a line.
mkdir -p "$here/corpus-resolv-conf"
printf '# Generated by NetworkManager\nsearch example.com corp.example\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions ndots:2 edns0\n' \
    > "$here/corpus-resolv-conf/networkmanager"
printf 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n' > "$here/corpus-resolv-conf/stub"
printf '; comment\ndomain lan\nnameserver fe80::1%%eth0\nnameserver ::1\nnameserver bogus\nsearch a b c d e f g\ndomain x\n' \
    > "$here/corpus-resolv-conf/mixed"
printf 'db:10.0.0.5\ngw=host-gateway\nv6:[::1]\nbad entry:1.2.3.4\n:1.1.1.1\n' > "$here/corpus-resolv-conf/add-hosts"

# berth-api's stat of a tar stream's first entry: ustar, pax and GNU long names, the end of an
# archive; each cut to its first 2 KiB, all the parser reads.
mkdir -p "$here/corpus-api-tar-stat"
python3 - "$here/corpus-api-tar-stat" <<'PY'
import io, os, sys, tarfile

out = sys.argv[1]
tarfile.RECORDSIZE = 512

def mk(fn, entries, fmt):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for name, kind, data, link in entries:
            ti = tarfile.TarInfo(name)
            ti.type, ti.mtime, ti.mode = kind, 1600000000, 0o755
            ti.uname = ti.gname = ""
            ti.linkname = link
            ti.size = len(data) if kind == tarfile.REGTYPE else 0
            t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    with open(os.path.join(out, fn), "wb") as f:
        f.write(b.getvalue()[:2048])

mk("file", [("passwd", tarfile.REGTYPE, b"root:x:0:0\n", "")], tarfile.USTAR_FORMAT)
mk("dir", [("etc", tarfile.DIRTYPE, b"", ""), ("etc/x", tarfile.REGTYPE, b"x", "")], tarfile.USTAR_FORMAT)
mk("pax-long", [("d/" + "n" * 150, tarfile.SYMTYPE, b"", "/t" * 80)], tarfile.PAX_FORMAT)
mk("gnu-long", [("d/" + "g" * 150, tarfile.REGTYPE, b"abc", "")], tarfile.GNU_FORMAT)
with open(os.path.join(out, "empty"), "wb") as f:
    f.write(b"\0" * 1024)
PY
