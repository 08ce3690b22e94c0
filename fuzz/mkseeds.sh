#!/usr/bin/env bash
# fuzz/mkseeds.sh DIR: seeds made at run time from recipes (binary tars are not committed):
#   DIR/layer_scan/*   tar, tar.gz and tar.zst layers with passwd files, whiteouts, opaque
#                      dirs, symlinks, hard links, set-id files, a cut-short member
#   DIR/imgconfig/*, DIR/bundle/*   the JSON documents of tests/data (valid and invalid)
#   DIR/passwd/*, DIR/group/*, DIR/shadow/*   the accounts inputs of tests/data
# The first byte of a layer_scan seed is the harness's selector byte (see fuzz_layer_scan.c).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
out=${1:?usage: mkseeds.sh DIR}
mkdir -p "$out/layer_scan" "$out/imgconfig" "$out/bundle" "$out/passwd" "$out/group" \
	"$out/shadow" "$out/scancache"

for f in "$src"/tests/data/imgconfig/*/*/input.json; do
	[ -f "$f" ] || continue
	c=$(basename "$(dirname "$f")")
	cp "$f" "$out/imgconfig/$c.json"
done
for f in "$src"/tests/data/bundle/*/*/config.json; do
	[ -f "$f" ] || continue
	c=$(basename "$(dirname "$f")")
	cp "$f" "$out/bundle/$c.json"
done

# The accounts test data: every input file; shadow seeds get the selector byte (0 shadow,
# 1 gshadow).
for m in passwd group; do
	for f in "$src"/tests/data/$m/*/*/input; do
		[ -f "$f" ] || continue
		cp "$f" "$out/$m/$(basename "$(dirname "$f")")"
	done
done
for f in "$src"/tests/data/shadow/*/input "$src"/tests/data/shadow/*/*/input; do
	[ -f "$f" ] || continue
	{ printf '\000'; cat "$f"; } > "$out/shadow/s-$(basename "$(dirname "$f")")"
done
for f in "$src"/tests/data/gshadow/*/input "$src"/tests/data/gshadow/*/*/input; do
	[ -f "$f" ] || continue
	{ printf '\001'; cat "$f"; } > "$out/shadow/g-$(basename "$(dirname "$f")")"
done

# Layer-scan cache records without their MAC (fuzz_scancache appends one): MAGIC, digest,
# entries (flags, type, perm, uid, gid, mtime, size, path[, hardlink][, symlink][, content]
# [, capabilities]).
python3 - "$out/scancache" <<'PY'
import struct, sys, os
out = sys.argv[1]
def s(b): return struct.pack("<I", len(b)) + b
def ent(flags, ft, perm, path, extra=()):
    r = struct.pack("<IIIQQqq", flags, ft, perm, 0, 0, 1700000000, 12) + s(path)
    for x in extra:
        r += s(x)
    return r
d = b"sha256:" + b"ab" * 32
recs = {
    "empty": b"NRSCAN4\n" + s(d) + s(b"sha256:" + b"cd" * 32) + struct.pack("<Q", 0),
    "passwd": b"NRSCAN4\n" + s(d) + s(b"sha256:" + b"cd" * 32) + struct.pack("<Q", 3) +
        ent(4, 0o100000, 0o644, b"etc/passwd", [b"root:x:0:0::/root:/bin/sh\n"]) +
        ent(2, 0o120000, 0o777, b"bin/sh", [b"busybox"]) +
        ent(1, 0o100000, 0o4755, b"usr/bin/su", [b"bin/busybox"]),
    "caps": b"NRSCAN4\n" + s(d) + s(b"sha256:" + b"cd" * 32) + struct.pack("<Q", 2) +
        ent(8, 0o100000, 0o755, b"bin/ping", [b"\x01\x00\x00\x02\x00\x20" + b"\x00" * 14]) +
        ent(9, 0o100000, 0o755, b"bin/p2", [b"bin/ping", b"\x01\x00\x00\x01\x00\x04\x00\x00\x00\x00\x00\x00"]),
    "truncated": b"NRSCAN4\n" + s(d) + s(b"sha256:" + b"cd" * 32) + struct.pack("<Q", 2) + ent(0, 0o40000, 0o755, b"etc"),
}
for k, v in recs.items():
    open(os.path.join(out, k), "wb").write(v)
PY

python3 - "$out/layer_scan" <<'PY'
import gzip, io, sys, tarfile, subprocess, os
out = sys.argv[1]

def tar(members, fmt=tarfile.GNU_FORMAT):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for m in members:
            kind, name = m[0], m[1]
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if kind == "f":
                data = m[2]
                ti.size = len(data)
                ti.mode = m[3] if len(m) > 3 else 0o644
                t.addfile(ti, io.BytesIO(data))
            elif kind == "d":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif kind == "l":
                ti.type = tarfile.SYMTYPE
                ti.linkname = m[2]
                t.addfile(ti)
            elif kind == "h":
                ti.type = tarfile.LNKTYPE
                ti.linkname = m[2]
                t.addfile(ti)
    return b.getvalue()

passwd = b"root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/sbin/nologin\n"
base = tar([("d", "etc"), ("f", "etc/passwd", passwd), ("f", "etc/group", b"root:x:0:\n"),
            ("f", "usr/bin/su", b"ELF", 0o4755), ("l", "usr/sbin/nologin", "/bin/false")])
upper = tar([("f", "etc/.wh.group", b""), ("d", "home"), ("f", "home/.wh..wh..opq", b""),
             ("h", "etc/shadow", "etc/passwd"), ("l", "a", "a/b"), ("l", "x", "../../etc")])
pax = tar([("f", "etc/passwd", b"p:x:1:1::/:\n"), ("l", "a", "/etc")], tarfile.PAX_FORMAT)
seeds = {
    "plain": b"\x00" + base,                       # 1 layer, tar
    "two": b"\x01" + base + upper[:len(base)],     # 2 layers cut at the half
    "gzip": b"\x04" + gzip.compress(base, mtime=0),
    "pax-b": b"\x30" + pax,                        # paths_b, set-id listing
    "cut": b"\x20" + base[:700],                   # a member cut short
    "small": b"\x40" + upper,                      # content limit 16
}
try:
    z = subprocess.run(["zstd", "-q", "-c"], input=base, capture_output=True, check=True).stdout
    seeds["zstd"] = b"\x08" + z
except (OSError, subprocess.CalledProcessError):
    pass
for k, v in seeds.items():
    with open(os.path.join(out, k), "wb") as f:
        f.write(v)
PY
