#!/usr/bin/env bash
# nonroot unpack: the final rootfs equals umoci unpack's, file by file (type, mode, owner,
# content, symlink target, hard links, mtime), for an image with whiteouts and one with an
# opaque directory; a layer that plants etc -> / (and ../ names, absolute names, a link to
# ../../..) and then writes through it leaves nothing outside the target; a layer that does
# not match its digest fails and leaves no directory behind, and so does one whose plain stream
# does not match the config's diff_id; a non-empty target is refused.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP
[ "$(id -u)" = 0 ] || e2e_skip "owners can only be compared as root"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
cmp_tree() { python3 "$SRC/tests/tools/treecmp.py" "$1" "$2"; }

for kind in multilayer opaque symlinked; do
	e2e_step "$kind image: nonroot unpack == umoci unpack"
	"e2e_build_$kind" "$T/img:$kind" >/dev/null
	"$NONROOT" unpack "oci:$T/img:$kind" "$T/nr-$kind"
	umoci unpack --image "$T/img:$kind" "$T/um-$kind" >/dev/null
	cmp_tree "$T/nr-$kind" "$T/um-$kind/rootfs"
done
# the whiteout and the opaque directory really were applied
[ ! -e "$T/nr-opaque/etc/shadow" ] && [ -e "$T/nr-multilayer/etc/shadow" ]
! grep -q stale "$T/nr-multilayer/etc/passwd"
[ "$(stat -c %a:%U "$T/nr-multilayer/tmp")" = "1777:root" ]

e2e_step "a layer that plants etc -> / and writes etc/x: nothing outside the target"
e2e_image_new "$T/img:hostile" >/dev/null
python3 "$SRC/tests/data/unpack/hostile_layer.py" "$T/hostile.tar"
umoci raw add-layer --image "$T/img:hostile" "$T/hostile.tar"
mkdir "$T/box"
before=$(ls -A "$T")
"$NONROOT" unpack "oci:$T/img:hostile" "$T/box/rootfs"
[ "$(ls -A "$T")" = "$before" ]
[ "$(ls -A "$T/box")" = rootfs ]
[ "$(cat "$T/box/rootfs/x")" = "through etc" ]
[ "$(cat "$T/box/rootfs/y")" = "through up" ]
[ -f "$T/box/rootfs/nr-escape-z" ] && [ -f "$T/box/rootfs/nr-abs-w" ]
[ "$(stat -c %i "$T/box/rootfs/hl")" = "$(stat -c %i "$T/box/rootfs/x")" ]
[ "$(readlink "$T/box/rootfs/etc")" = / ]
for f in /x /y /nr-escape-z /nr-abs-w /hl; do [ ! -e "$f" ]; done
umoci unpack --image "$T/img:hostile" "$T/um-hostile" >/dev/null
cmp_tree "$T/box/rootfs" "$T/um-hostile/rootfs"

e2e_step "a tampered layer: digest error, no directory left"
cp -r "$T/img" "$T/bad"
blob=$(e2e_blob_of "$T/bad:opaque" layer1)
chmod u+w "$blob"
python3 - "$blob" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[-40] ^= 1
open(p, "wb").write(bytes(b))
PY
rc=0; out=$("$NONROOT" unpack "oci:$T/bad:opaque" "$T/nr-bad" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ]
e2e_expect_contains "$out" "sha256:"
[ ! -e "$T/nr-bad" ]
mkdir "$T/nr-bad2"
rc=0; "$NONROOT" unpack "oci:$T/bad:opaque" "$T/nr-bad2" 2>/dev/null || rc=$?
[ "$rc" = 2 ] && [ -d "$T/nr-bad2" ] && [ -z "$(ls -A "$T/nr-bad2")" ]

e2e_step "a layer that does not hash to the config's diff_id: error naming it, no directory left"
cp -r "$T/img" "$T/baddiff"
layer=$(python3 - "$T/baddiff" opaque <<'PY'
import hashlib, json, os, sys
lay, tag = sys.argv[1], sys.argv[2]
def blob(d):
    return os.path.join(lay, "blobs", *d.split(":"))
def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob(d), "wb") as f:
        f.write(data)
    return d, len(data)
with open(os.path.join(lay, "index.json")) as f:
    idx = json.load(f)
m = next(x for x in idx["manifests"]
         if x.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
man = json.load(open(blob(m["digest"])))
cfg = json.load(open(blob(man["config"]["digest"])))
cfg["rootfs"]["diff_ids"][1] = "sha256:" + "0" * 64
man["config"]["digest"], man["config"]["size"] = put(json.dumps(cfg).encode())
m["digest"], m["size"] = put(json.dumps(man).encode())
with open(os.path.join(lay, "index.json"), "w") as f:
    json.dump(idx, f)
print(man["layers"][1]["digest"])
PY
)
rc=0; out=$("$NONROOT" unpack "oci:$T/baddiff:opaque" "$T/nr-baddiff" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ]
e2e_expect_contains "$out" "$layer"
e2e_expect_contains "$out" "diff_id is sha256:0000"
[ ! -e "$T/nr-baddiff" ]

e2e_step "a non-empty target is refused"
rc=0; out=$("$NONROOT" unpack "oci:$T/img:opaque" "$T/nr-opaque" 2>&1) || rc=$?
[ "$rc" = 2 ]
e2e_expect_contains "$out" "not empty"

e2e_step "--bundle: config.json as umoci's (args, env, cwd, user), hardened; runc runs it"
e2e_build_rootful "$T/img:seed" >/dev/null
"$NONROOT" patch "oci:$T/img:seed" >/dev/null
umoci config --image "$T/img:seed" --config.entrypoint /bin/sh --config.entrypoint -c \
	--config.cmd 'id; pwd; echo "HOME=$HOME"' --config.workingdir /tmp >/dev/null
"$NONROOT" unpack --bundle "oci:$T/img:seed" "$T/nb"
umoci unpack --image "$T/img:seed" "$T/ub" >/dev/null
cmp_tree "$T/nb/rootfs" "$T/ub/rootfs"
for f in .process.args .process.env .process.cwd .process.user .linux.namespaces .mounts; do
	[ "$(jq -c "$f" "$T/nb/config.json")" = "$(jq -c "$f" "$T/ub/config.json")" ] ||
		{ echo "config.json $f differs from umoci's" >&2; exit 1; }
done
[ "$(jq -c '[.process.capabilities[] | length] | add' "$T/nb/config.json")" = 0 ]
[ "$(jq -c '[.process.noNewPrivileges, .process.terminal]' "$T/nb/config.json")" = '[true,false]' ]
if e2e_can_run; then
	out=$(e2e_run "$T/nb")
	echo "$out"
	e2e_expect_contains "$out" "uid=1654(app) gid=1654(app)"
	e2e_expect_contains "$out" "/tmp"
	e2e_expect_contains "$out" "HOME=/home/app"
fi

e2e_step "--bundle of an image that runs as root: refused (unless --allow-root), nothing left"
rc=0; out=$("$NONROOT" unpack --bundle "oci:$T/img:opaque" "$T/nb-root" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ] && [ ! -e "$T/nb-root" ]
e2e_expect_contains "$out" "uid 0"
"$NONROOT" unpack -q --bundle --allow-root --read-only "oci:$T/img:opaque" "$T/nb-root"
[ "$(jq -c '[.process.user.uid, .root.readonly]' "$T/nb-root/config.json")" = '[0,true]' ]
echo ok
