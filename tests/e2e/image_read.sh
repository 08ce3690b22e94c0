#!/usr/bin/env bash
# image_read: real images built with umoci 0.4.7 (its `insert` layers end without padding or
# end-of-archive blocks), read through the image API (nr-imgtool prints the scan as JSON):
# whiteout + re-add, opaque /etc, symlinked /etc/passwd, set-id files, a multi-platform
# index, a tampered blob.
set -euo pipefail
T=${NR_BUILD:?}/tests/nr-imgtool
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
# expect DESC ACTUAL WANTED
expect() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1: got [$2], want [$3]"; fi; }
q() { jq -r "$1"; }

# ---- a busybox image: one repacked layer (a regular tar) --------------------------------
umoci init --layout base
umoci new --image base:t
umoci unpack --image base:t bundle >/dev/null
r=bundle/rootfs
mkdir -p "$r/bin" "$r/etc" "$r/usr/lib" "$r/home" "$r/sbin"
cp /bin/busybox "$r/bin/busybox"
ln -s busybox "$r/bin/sh"
cp /bin/busybox "$r/bin/su" && chmod 4755 "$r/bin/su"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
printf 'root:x:0:\n' > "$r/etc/group"
umoci repack --image base:t bundle >/dev/null
mkdir -p stage

s=$($T scan oci:base:t etc/passwd etc/group bin/sh --setid)
expect "base passwd" "$(echo "$s" | q '.platforms[0].entries["etc/passwd"].content')" \
	"root:x:0:0:root:/root:/bin/sh"
expect "bin/sh resolves to bin/busybox" "$(echo "$s" | q '.platforms[0].entries["bin/sh"].resolved')" \
	"bin/busybox"
expect "setid files" "$(echo "$s" | q '[.platforms[0].setid[].path] | join(",")')" "bin/su"
expect "setuid mode" "$(echo "$s" | q '.platforms[0].setid[0].mode')" "$((04755))"

# ---- whiteout in an upper layer, re-added above it ----------------------------------------
cp -a base wo
umoci insert --image wo:t --whiteout /etc/passwd >/dev/null
s=$($T scan oci:wo:t etc/passwd etc/group)
expect "whited out" "$(echo "$s" | q '.platforms[0].entries["etc/passwd"].type')" "none"
expect "sibling kept" "$(echo "$s" | q '.platforms[0].entries["etc/group"].type')" "file"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/sbin/nologin\n' > stage/passwd2
umoci insert --image wo:t stage/passwd2 /etc/passwd >/dev/null
# the insert layer really lacks the end-of-archive blocks
m=$(jq -r '.manifests[0].digest' wo/index.json | cut -d: -f2)
l=$(jq -r '.layers[-1].digest' "wo/blobs/sha256/$m" | cut -d: -f2)
if zcat "wo/blobs/sha256/$l" | tail -c 1024 | tr -d '\0' | grep . >/dev/null; then
	ok "umoci insert layer has no end blocks"
else
	bad "umoci insert layer unexpectedly ends with zero blocks"
fi
s=$($T scan oci:wo:t etc/passwd)
expect "re-added" "$(echo "$s" | q '.platforms[0].entries["etc/passwd"].content | split("\n")[1]')" \
	"app:x:1654:1654::/home/app:/sbin/nologin"
expect "re-added in layer 2" "$(echo "$s" | q '.platforms[0].entries["etc/passwd"].layer')" "2"

# ---- opaque /etc ---------------------------------------------------------------------------
cp -a base op
mkdir -p stage/etc && printf 'app:x:1654:\n' > stage/etc/group
umoci insert --image op:t --opaque stage/etc /etc >/dev/null
s=$($T scan oci:op:t etc/passwd etc/group)
expect "opaque hides passwd" "$(echo "$s" | q '.platforms[0].entries["etc/passwd"].type')" "none"
expect "opaque keeps its own group" "$(echo "$s" | q '.platforms[0].entries["etc/group"].content')" \
	"app:x:1654:"

# ---- symlinked /etc/passwd (relative and absolute, resolved inside the root) --------------
cp -a base sl
printf 'lib:x:7:7::/:/bin/false\n' > stage/libpasswd
umoci insert --image sl:t stage/libpasswd /usr/lib/passwd >/dev/null
ln -sf ../usr/lib/passwd stage/rel
ln -sf /usr/lib/passwd stage/abs
umoci insert --image sl:t stage/rel /etc/passwd >/dev/null
umoci insert --image sl:t stage/abs /etc/group >/dev/null
s=$($T scan oci:sl:t etc/passwd etc/group)
expect "relative link target" "$(echo "$s" | q '.platforms[0].entries["etc/passwd"].link_target')" \
	"../usr/lib/passwd"
expect "relative link resolved" "$(echo "$s" | q '.platforms[0].entries["etc/passwd"].resolved')" \
	"usr/lib/passwd"
expect "relative link content" "$(echo "$s" | q '.platforms[0].entries["etc/passwd"].content')" \
	"lib:x:7:7::/:/bin/false"
expect "absolute link stays in the root" \
	"$(echo "$s" | q '.platforms[0].entries["etc/group"].content')" "lib:x:7:7::/:/bin/false"

# ---- multi-platform index (two manifests under one name) -----------------------------------
cp -a base mp
umoci config --image mp:t --tag arm --architecture arm64 >/dev/null
printf 'arm:x:0:0::/:/bin/sh\n' > stage/armpasswd
umoci insert --image mp:arm stage/armpasswd /etc/passwd >/dev/null
jq '.manifests |= ([.[] | select(.annotations["org.opencontainers.image.ref.name"] == "t")
		| .platform = {"os":"linux","architecture":"amd64"}]
	+ [.[] | select(.annotations["org.opencontainers.image.ref.name"] == "arm")
		| .platform = {"os":"linux","architecture":"arm64"}]
	| map(.annotations["org.opencontainers.image.ref.name"] = "multi"))' mp/index.json > mp/i.json
mv mp/i.json mp/index.json
s=$($T scan oci:mp:multi etc/passwd)
expect "two platforms" "$(echo "$s" | q '[.platforms[].platform] | join(",")')" "linux/amd64,linux/arm64"
expect "arm passwd" "$(echo "$s" | q '.platforms[1].entries["etc/passwd"].content')" "arm:x:0:0::/:/bin/sh"
s=$($T scan oci:mp:multi --platform linux/arm64 etc/passwd)
expect "--platform picks one" "$(echo "$s" | q '[.platforms[].platform] | join(",")')" "linux/arm64"
if $T scan oci:mp:multi --platform linux/s390x etc/passwd 2>err.txt; then
	bad "unknown platform accepted"
else
	grep -q 'linux/s390x' err.txt && ok "unknown platform refused, named" || bad "$(cat err.txt)"
fi

# ---- a tampered blob is refused, naming it -------------------------------------------------
cp -a wo tp
m=$(jq -r '.manifests[0].digest' tp/index.json | cut -d: -f2)
l=$(jq -r '.layers[0].digest' "tp/blobs/sha256/$m")
f="tp/blobs/sha256/${l#sha256:}"
chmod u+w "$f"
printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc status=none
if $T scan oci:tp:t etc/passwd 2>err.txt >/dev/null; then
	bad "tampered layer accepted"
else
	grep -q "$l" err.txt && grep -q 'digest mismatch' err.txt && ok "tampered layer refused: $(cat err.txt)" ||
		bad "tampered: $(cat err.txt)"
fi
if skopeo copy -q oci:tp:t oci:tp2:t 2>/dev/null; then bad "skopeo accepted the tampered blob"; else ok "skopeo agrees"; fi

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all image_read checks passed"
