#!/usr/bin/env bash
# image_transports: a umoci image converted by skopeo to oci-archive, docker-archive and zstd
# layers, read in every transport; then edited (one new layer with etc/passwd, config
# diff_ids extended) and written to every transport, and the results checked by real tools:
# `skopeo copy` (verifies every digest), `oci-image-tool validate`, and our own reader.
# Also: in place with --tag (old tag kept), a Docker 25+ hybrid archive (index.json and
# manifest.json both updated), and the source left untouched when writing elsewhere.
set -euo pipefail
T=${NR_BUILD:?}/tests/nr-imgtool
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
expect() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1: got [$2], want [$3]"; fi; }
passwd_of() { $T scan "$1" etc/passwd | jq -r '.platforms[0].entries["etc/passwd"].content'; }

umoci init --layout base
umoci new --image base:t
umoci unpack --image base:t bundle >/dev/null
mkdir -p bundle/rootfs/bin bundle/rootfs/etc
cp /bin/busybox bundle/rootfs/bin/busybox
printf 'root:x:0:0:root:/root:/bin/sh\n' > bundle/rootfs/etc/passwd
umoci repack --image base:t bundle >/dev/null
ROOT='root:x:0:0:root:/root:/bin/sh'
NEW='root:x:0:0:root:/root:/bin/sh
app:x:1654:1654::/home/app:/sbin/nologin'

skopeo copy -q oci:base:t oci-archive:base-oa.tar:t
skopeo copy -q oci:base:t docker-archive:base-da.tar:ex/base:t
skopeo copy -q --dest-compress-format zstd oci:base:t oci:zstd:t
skopeo copy -q --dest-compress-format zstd oci:base:t oci-archive:zstd-oa.tar:t

sources="oci:base:t oci-archive:base-oa.tar:t docker-archive:base-da.tar:ex/base:t oci:zstd:t
	oci-archive:zstd-oa.tar base-oa.tar base-da.tar"
for src in $sources; do
	expect "read $src" "$(passwd_of "$src")" "$ROOT"
done
expect "zstd layer media type" "$($T info oci:zstd:t | jq -r '.manifests[0].layers[0].mediaType')" \
	"application/vnd.oci.image.layer.v1.tar+zstd"
expect "docker-archive layer media type" \
	"$($T info docker-archive:base-da.tar | jq -r '.manifests[0].layers[0].mediaType')" \
	"application/vnd.docker.image.rootfs.diff.tar"

# ---- every source to every destination -----------------------------------------------------
n=0
for src in oci:base:t oci-archive:base-oa.tar:t docker-archive:base-da.tar oci:zstd:t; do
	for dst in oci:out-o:new oci-archive:out-oa.tar:new docker-archive:out-da.tar:ex/img:new; do
		n=$((n + 1))
		rm -rf out-o out-oa.tar out-da.tar verify
		if ! $T addfile "$src" "$dst" etc/passwd "$NEW
" --gzip 2>err.txt; then
			bad "write $src -> $dst: $(cat err.txt)"
			continue
		fi
		got=$(passwd_of "$dst")
		layers=$($T info "$dst" | jq '.manifests[0].layers | length')
		if [ "$got" == "$NEW" ] && [ "$layers" == 2 ] &&
			skopeo copy -q "$dst" oci:verify:x 2>err.txt; then
			ok "$src -> $dst (skopeo verified)"
		else
			bad "$src -> $dst: passwd [$got], $layers layers, skopeo: $(cat err.txt)"
		fi
		# (oci-image-tool 1.0 predates the zstd layer media type)
		if [ "${dst%%:*}" == oci ] && [ "$src" != oci:zstd:t ]; then
			oci-image-tool validate --type image out-o >/dev/null 2>err.txt &&
				ok "oci-image-tool validate ($src)" || bad "validate: $(cat err.txt)"
		fi
	done
done
expect "source untouched (oci)" "$(passwd_of oci:base:t)" "$ROOT"
expect "source untouched (docker-archive)" "$(passwd_of docker-archive:base-da.tar)" "$ROOT"

# ---- in place, with --tag: the old tag is kept ---------------------------------------------
cp -a base ip
$T addfile oci:ip:t - etc/passwd "$NEW
" --gzip --tag patched
expect "old tag kept" "$(passwd_of oci:ip:t)" "$ROOT"
expect "new tag" "$(passwd_of oci:ip:patched)" "$NEW"
oci-image-tool validate --type image ip >/dev/null 2>err.txt && ok "validate in-place layout" ||
	bad "validate: $(cat err.txt)"
skopeo copy -q oci:ip:patched oci:ipv:x && ok "skopeo reads the in-place result" || bad "skopeo in place"
# without --tag: the tag moves to the edited image
$T addfile oci:ip:t - etc/passwd "$NEW
"
expect "in place, no tag" "$(passwd_of oci:ip:t)" "$NEW"
expect "two tags in index.json" "$(jq '.manifests | length' ip/index.json)" "2"

# ---- archives in place: the file is replaced atomically --------------------------------------
cp base-da.tar ip-da.tar
$T addfile docker-archive:ip-da.tar - etc/passwd "$NEW
"
expect "docker-archive in place" "$(passwd_of ip-da.tar)" "$NEW"
skopeo copy -q docker-archive:ip-da.tar oci:ipdv:x && ok "skopeo reads it" || bad "skopeo docker in place"
tar tvf ip-da.tar | grep '^l.*layer.tar ->' >/dev/null && ok "legacy layer.tar symlinks kept" ||
	bad "symlinks lost: $(tar tvf ip-da.tar)"

# ---- Docker 25+ hybrid archive: index.json + manifest.json both updated ----------------------
mkdir hy
skopeo copy -q oci:base:t oci:hy:t
cfg=$(jq -r '.manifests[0].digest' hy/index.json)
cfg=$(jq -r '.config.digest' "hy/blobs/sha256/${cfg#sha256:}")
lay=$(jq -r '.manifests[0].digest' hy/index.json)
lay=$(jq -r '.layers[0].digest' "hy/blobs/sha256/${lay#sha256:}")
jq -n --arg c "blobs/sha256/${cfg#sha256:}" --arg l "blobs/sha256/${lay#sha256:}" \
	'[{"Config":$c,"RepoTags":["ex/hy:t"],"Layers":[$l]}]' > hy/manifest.json
(cd hy && tar cf ../hy.tar oci-layout index.json manifest.json blobs)
expect "hybrid read" "$(passwd_of docker-archive:hy.tar)" "$ROOT"
# written back in place, a hybrid stays hybrid (a new destination holds only the patched image
# in the destination's own format: plain docker-archive, see e2e.patch_tags)
cp hy.tar hy2.tar
$T addfile docker-archive:hy2.tar docker-archive:hy2.tar etc/passwd "$NEW
" --gzip
mkdir hy2 && tar xf hy2.tar -C hy2
expect "hybrid manifest.json has 2 layers" "$(jq '.[0].Layers | length' hy2/manifest.json)" "2"
m=$(jq -r '.manifests[0].digest' hy2/index.json)
expect "hybrid index.json manifest has 2 layers" "$(jq '.layers | length' "hy2/blobs/sha256/${m#sha256:}")" "2"
expect "hybrid configs agree" "$(jq -r '.[0].Config' hy2/manifest.json)" \
	"blobs/sha256/$(jq -r '.config.digest' "hy2/blobs/sha256/${m#sha256:}" | cut -d: -f2)"
skopeo copy -q docker-archive:hy2.tar oci:hyv:x && ok "skopeo reads hybrid via manifest.json" ||
	bad "skopeo hybrid"
skopeo copy -q oci:hy2:t oci:hyv2:x 2>/dev/null && ok "skopeo reads hybrid via index.json" ||
	bad "skopeo hybrid oci"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all image_transports checks passed ($n conversions)"
