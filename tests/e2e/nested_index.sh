#!/usr/bin/env bash
# Nested image indexes deeper than one level (issue 18 class 8): a layout built by umoci
# (linux/amd64 + linux/arm64 under one index, e2e_build_multiplatform) wrapped in two more
# levels of index (index.json -> A -> B -> the platforms' index -> manifests) is followed to
# the image manifests by audit (both platforms; --platform), unpack, patch and verify. patch
# in place writes every level back with new digests: the old chain is left as it was, and
# the new one is what skopeo reads. patch -o to a layout and to a registry (docker://) writes
# the chain, and audit of docker:// follows it. An index nested more than 8 levels deep is
# refused naming its digest.
# Without the fix: "no image manifest found" (the nested-nested entries were skipped).
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP
L=$T/lay
MT_INDEX=application/vnd.oci.image.index.v1+json

# wrap LAYOUT TAG: put the tag's index.json entry (without its annotations) into a new index
# and make index.json list that index under the tag instead.
wrap() {
	local layout=$1 tag=$2 entry idx digest size
	entry=$(jq -c --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t)
		| del(.annotations)' "$layout/index.json")
	idx=$(mktemp "$T/index.XXXXXX")
	jq -cn --argjson e "$entry" --arg mt "$MT_INDEX" '{schemaVersion:2, mediaType:$mt, manifests:[$e]}' > "$idx"
	digest=$(sha256sum "$idx" | cut -d' ' -f1)
	size=$(stat -c %s "$idx")
	mv "$idx" "$layout/blobs/sha256/$digest"
	jq --arg d "sha256:$digest" --argjson s "$size" --arg t "$tag" --arg mt "$MT_INDEX" \
		'.manifests = [.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]!=$t)]
		 + [{mediaType:$mt, digest:$d, size:$s, annotations:{"org.opencontainers.image.ref.name":$t}}]' \
		"$layout/index.json" > "$layout/index.json.new"
	mv "$layout/index.json.new" "$layout/index.json"
}
# blob LAYOUT DIGEST: the path of a blob
blob() { echo "$1/blobs/sha256/${2#sha256:}"; }
# chain LAYOUT TAG: the digests from index.json's entry down to the first manifest, one a line
chain() {
	local d mt f
	d=$(jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .digest' "$1/index.json")
	while :; do
		echo "$d"
		f=$(blob "$1" "$d")
		mt=$(jq -r '.mediaType // ""' "$f")
		[ "$mt" = "$MT_INDEX" ] || break
		d=$(jq -r '.manifests[0].digest' "$f")
	done
}

e2e_step "a umoci layout wrapped in two more levels of index"
e2e_build_multiplatform "$L" multi >/dev/null
wrap "$L" multi
wrap "$L" multi
[ "$(chain "$L" multi | wc -l)" = 4 ]    # A, B, the platforms' index, amd64's manifest
# skopeo reads the layout (it does not follow nested indexes when copying: inspect only)
skopeo inspect --raw "oci:$L:multi" | jq -e --arg mt "$MT_INDEX" '.manifests[0].mediaType == $mt' >/dev/null

e2e_step "audit follows every level: both platforms, and --platform"
rc=0; "$NONROOT" audit "oci:$L:multi" --format json > "$T/a.json" || rc=$?
[ "$rc" = 1 ]
[ "$(jq -r '[.platforms[].platform] | sort | join(",")' "$T/a.json")" = "linux/amd64,linux/arm64/v8" ]
jq -e '[.platforms[] | .findings[] | select(.id == "NR001")] | length == 2' "$T/a.json" >/dev/null
rc=0; "$NONROOT" audit "oci:$L:multi" --platform linux/arm64 --format json > "$T/b.json" || rc=$?
[ "$rc" = 1 ]
[ "$(jq -r '[.platforms[].platform] | join(",")' "$T/b.json")" = "linux/arm64/v8" ]

e2e_step "unpack reaches the image manifest"
"$NONROOT" unpack "oci:$L:multi" "$T/root" --platform linux/amd64
[ -x "$T/root/bin/busybox" ] && [ -f "$T/root/etc/passwd" ]

e2e_step "patch in place writes every level back with new digests"
chain "$L" multi > "$T/before"
cp -a "$L" "$T/copy"
cp "$L/index.json" "$T/index.before"
e2e_patch "oci:$L:multi" >/dev/null
chain "$L" multi > "$T/after"
[ "$(wc -l < "$T/after")" = 4 ]
# every level is new, and each lists the next one by its new digest (size checked too)
paste "$T/before" "$T/after" | while read -r old new; do [ "$old" != "$new" ]; done
prev=""
while read -r d; do
	f=$(blob "$L" "$d")
	[ "sha256:$(sha256sum "$f" | cut -d' ' -f1)" = "$d" ]
	if [ -n "$prev" ]; then
		jq -e --arg d "$d" --argjson s "$(stat -c %s "$f")" \
			'.manifests[0].digest == $d and .manifests[0].size == $s' "$(blob "$L" "$prev")" >/dev/null
	fi
	prev=$d
done < "$T/after"
# the old chain is untouched (other references to it stay valid)
while read -r d; do [ -f "$(blob "$L" "$d")" ]; done < "$T/before"
# both platforms patched: audit is clean at error level, for each
"$NONROOT" audit "oci:$L:multi" --fail-on error --format json > "$T/c.json"
[ "$(jq '.platforms | length' "$T/c.json")" = 2 ]
jq -e '[.platforms[].user] | all(. == "1654:1654")' "$T/c.json" >/dev/null
skopeo inspect --raw "oci:$L:multi" | jq -e --arg d "$(sed -n 2p "$T/after")" '.manifests[0].digest == $d' >/dev/null

if [ "$(id -u)" = 0 ] && command -v runc >/dev/null; then
	"$NONROOT" verify "oci:$L:multi" --platform linux/amd64 --timeout 2 --format json |
		jq -e '.verdict == "pass" and .process.uid[0] == 1654' >/dev/null
fi

e2e_step "patch -o: a new layout with the whole chain"
e2e_patch "oci:$T/copy:multi" -o "oci:$T/out:x" >/dev/null
[ "$(chain "$T/out" x | wc -l)" = 4 ]
[ "$(chain "$T/out" x | tail -1)" = "$(tail -1 "$T/after")" ]   # same patched amd64 manifest
"$NONROOT" audit "oci:$T/out:x" --fail-on error >/dev/null

e2e_step "a registry: patch -o docker:// pushes every level, audit docker:// follows them"
. "$(dirname "$0")/registry.bash"
reg_start plain
"$NONROOT" patch "oci:$T/copy:multi" -o "docker://$REG/nested:v1" "${REG_FLAGS[@]}" >/dev/null
"$NONROOT" audit "docker://$REG/nested:v1" "${REG_FLAGS[@]}" --fail-on error --format json > "$T/r.json"
[ "$(jq -r '[.platforms[].platform] | sort | join(",")' "$T/r.json")" = "linux/amd64,linux/arm64/v8" ]
jq -e '[.platforms[].user] | all(. == "1654:1654")' "$T/r.json" >/dev/null
skopeo inspect --raw --tls-verify=false "docker://$REG/nested:v1" | jq -e --arg mt "$MT_INDEX" '.manifests[0].mediaType == $mt' >/dev/null
reg_stop

e2e_step "nested more than 8 levels deep: refused, naming the index"
e2e_build_multiplatform "$T/deep" d >/dev/null
for _ in 1 2 3 4 5 6 7 8; do wrap "$T/deep" d; done
ninth=$(chain "$T/deep" d | sed -n 9p)   # the 9th index from index.json
rc=0; err=$("$NONROOT" audit "oci:$T/deep:d" 2>&1 >/dev/null) || rc=$?
[ "$rc" = 2 ]
e2e_expect_contains "$err" "$ninth: image index nested more than 8 levels deep: refused"
# one level less is read
e2e_build_multiplatform "$T/deep8" d >/dev/null
for _ in 1 2 3 4 5 6 7; do wrap "$T/deep8" d; done
rc=0; "$NONROOT" audit "oci:$T/deep8:d" >/dev/null || rc=$?
[ "$rc" = 1 ]
echo ok
