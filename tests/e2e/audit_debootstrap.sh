#!/usr/bin/env bash
# nonroot audit as a CI gate on a real Debian base (issue 13): a debootstrap bookworm minbase
# image (the rootfs tar is cached in $NR_BUILD/test-cache: debootstrap needs a Debian mirror
# and a few minutes once), patched by nonroot patch:
#  - its 11 set-id files are 11 NR008 findings, one line in text;
#  - the checked-in tests/data/debootstrap/nonroot.yaml (allow-setid) makes the patched image
#    clean even with --fail-on note;
#  - a baseline (JSON and SARIF) of the patched image fails only on a set-id file added
#    afterwards;
#  - fingerprints are equal for the same findings on two builds with different layer digests;
#  - the SARIF of the unpatched and the patched image validates against the 2.1.0 schema.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP
[ "$(id -u)" = 0 ] || e2e_skip "debootstrap and the rootfs tar need root"

schema=
for d in "$NR_SRC/../shared/schemas" "$(git -C "$NR_SRC" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../../shared/schemas"; do
	if [ -f "$d/sarif-schema-2.1.0.json" ]; then schema="$d/sarif-schema-2.1.0.json"; break; fi
done
[ -n "$schema" ] || { echo "e2e: sarif-schema-2.1.0.json not found beside the repository (../shared/schemas)" >&2; exit 1; }
validate_sarif() {
	python3 -c 'import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' "$schema" "$1"
}

cache=${NR_BUILD:-$T}/test-cache/debootstrap-bookworm-minbase.tar
if [ ! -f "$cache" ]; then
	e2e_step "debootstrap --variant=minbase bookworm (once; cached in $cache)"
	command -v debootstrap >/dev/null || { echo "e2e: debootstrap missing (scripts/install-deps)" >&2; exit 1; }
	mkdir -p "$(dirname "$cache")"
	debootstrap --variant=minbase bookworm "$T/rootfs" "${NR_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$T/debootstrap.log" 2>&1 ||
		{ tail -20 "$T/debootstrap.log"; exit 1; }
	rm -rf "$T/rootfs/var/cache/apt/archives/"*.deb "$T/rootfs/var/lib/apt/lists/"*_Packages
	e2e_layer_tar "$T/rootfs" "$cache.tmp.$$"
	mv "$cache.tmp.$$" "$cache"
	rm -rf "$T/rootfs"
fi

# build IMAGE [EXTRA_DIR...]: the minbase rootfs as one layer, plus a layer per EXTRA_DIR
build() {
	local image=$1 d
	shift
	e2e_image_new "$image"
	umoci raw add-layer --image "$image" --history.created "$E2E_CREATED" \
		--history.created_by "debootstrap --variant=minbase bookworm" "$cache"
	for d in "$@"; do
		e2e_image_add_dir "$image" "$d"
	done
	umoci config --image "$image" --created "$E2E_CREATED" --no-history \
		--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--config.cmd /bin/bash
}
count_id() { jq "[.platforms[].findings[] | select(.id == \"$1\")] | length" "$2"; }

e2e_step "the minbase image, unpatched: runs as root, 11 set-id files"
build "$T/img:base"
rc=0; "$NONROOT" audit "oci:$T/img:base" --format sarif > "$T/base.sarif" || rc=$?
[ "$rc" = 1 ] || { echo "unpatched audit exit $rc"; exit 1; }
validate_sarif "$T/base.sarif"
[ "$(jq '[.runs[0].results[] | select(.ruleId == "NR008")] | length' "$T/base.sarif")" = 11 ]
jq -e '.runs[0].results[] | select(.ruleId == "NR001")' "$T/base.sarif" >/dev/null
out=$("$NONROOT" audit "oci:$T/img:base" || true)
[ "$(grep -c NR008 <<<"$out")" = 1 ]
e2e_expect_contains "$out" "NR008 warning 11 set-uid/set-gid files: /usr/bin/chage /usr/bin/chfn"

e2e_step "patched: NR001 gone, the set-id files remain (exit 1 with --fail-on warning)"
"$NONROOT" patch "oci:$T/img:base" -o "oci:$T/img:patched" >/dev/null
rc=0; "$NONROOT" audit "oci:$T/img:patched" --format json > "$T/patched.json" || rc=$?
[ "$(count_id NR001 "$T/patched.json")" = 0 ]
[ "$(count_id NR008 "$T/patched.json")" = 11 ]
rc=0; "$NONROOT" audit "oci:$T/img:patched" --fail-on warning >/dev/null || rc=$?
[ "$rc" = 1 ]
"$NONROOT" audit "oci:$T/img:patched" --format sarif > "$T/patched.sarif" || true
validate_sarif "$T/patched.sarif"

e2e_step "the checked-in config allows the set-id files: clean, even with --fail-on note"
out=$("$NONROOT" audit "oci:$T/img:patched" --config "$NR_SRC/tests/data/debootstrap/nonroot.yaml" --fail-on note)
e2e_expect_contains "$out" "clean: no findings"
e2e_expect_contains "$out" "(11 findings accepted by the config or options)"
# found as ./.nonroot.yaml too
mkdir "$T/proj" && cp "$NR_SRC/tests/data/debootstrap/nonroot.yaml" "$T/proj/.nonroot.yaml"
(cd "$T/proj" && "$NONROOT" audit "oci:$T/img:patched" --fail-on note -q)
[ -z "$(cd "$T/proj" && "$NONROOT" audit "oci:$T/img:patched" --fail-on note -q)" ]

e2e_step "a baseline fails only on a set-id file added afterwards"
mkdir -p "$T/added/usr/local/bin"
cp "$E2E_BUSYBOX" "$T/added/usr/local/bin/newtool"
chmod 4755 "$T/added/usr/local/bin/newtool"
cp -r "$T/img" "$T/img2"
e2e_image_add_dir "$T/img2:patched" "$T/added"
for base in patched.json patched.sarif; do
	"$NONROOT" audit "oci:$T/img:patched" --baseline "$T/$base" --fail-on note >/dev/null
	rc=0; out=$("$NONROOT" audit "oci:$T/img2:patched" --baseline "$T/$base" --fail-on warning -q) || rc=$?
	[ "$rc" = 1 ] || { echo "baseline $base: exit $rc"; exit 1; }
	e2e_expect_contains "$out" "/usr/local/bin/newtool"
	"$NONROOT" audit "oci:$T/img2:patched" --baseline "$T/$base" --format json > "$T/new.json" || true
	[ "$(jq -c '[.platforms[].findings[] | select(.baseline | not) | .location]' "$T/new.json")" = '["usr/local/bin/newtool"]' ]
done
"$NONROOT" audit "oci:$T/img2:patched" --baseline "$T/patched.sarif" --format sarif > "$T/new.sarif" || true
validate_sarif "$T/new.sarif"
[ "$(jq -c '[.runs[0].results[] | select(.baselineState == "new") | .locations[0].physicalLocation.artifactLocation.uri]' "$T/new.sarif")" = '["usr/local/bin/newtool"]' ]

e2e_step "fingerprints: equal on a second build with different layer digests"
mkdir -p "$T/extra/etc"
echo "build 2" > "$T/extra/etc/build-id"
build "$T/img3:base" "$T/extra"
"$NONROOT" audit "oci:$T/img3:base" --format sarif > "$T/rebuilt.sarif" || true
validate_sarif "$T/rebuilt.sarif"
[ "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "base") | .digest' "$T/img/index.json")" != \
  "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "base") | .digest' "$T/img3/index.json")" ]
fp() { jq -c '[.runs[0].results[] | [.ruleId, .locations[0].physicalLocation.artifactLocation.uri // .locations[0].logicalLocations[0].fullyQualifiedName, .partialFingerprints["nonroot/v1"]]] | sort' "$1"; }
[ "$(fp "$T/base.sarif")" = "$(fp "$T/rebuilt.sarif")" ] || { echo "fingerprints differ:"; fp "$T/base.sarif"; fp "$T/rebuilt.sarif"; exit 1; }
[ "$(jq '[.runs[0].results[].partialFingerprints["nonroot/v1"]] | unique | length' "$T/base.sarif")" = \
  "$(jq '.runs[0].results | length' "$T/base.sarif")" ]
echo "audit_debootstrap: ok"
