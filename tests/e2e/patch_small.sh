#!/usr/bin/env bash
# nonroot patch, the smaller cases of issue 12 (case 9), on images built with umoci and checked
# with skopeo: --platform normalized as containerd does (arm64 = arm64/v8).
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

e2e_step "--platform linux/arm64/v8 matches an arm64 entry without a variant, and back"
e2e_build_multiplatform "$T/mp" multi ""
out=$(e2e_patch "oci:$T/mp:multi" --platform linux/arm64/v8 --dry-run --format json)
[ "$(jq -r '[.changes[].platform] | unique | join(" ")' <<<"$out")" = linux/arm64 ]
e2e_build_multiplatform "$T/mv" multi v8
for p in linux/arm64 linux/arm64/v8 linux/aarch64; do
	out=$(e2e_patch "oci:$T/mv:multi" --platform "$p" --dry-run --format json)
	[ "$(jq -r '[.changes[].platform] | unique | join(" ")' <<<"$out")" = linux/arm64/v8 ]
done
e2e_expect_fail "$NONROOT" patch "oci:$T/mv:multi" --platform linux/arm64/v9 --dry-run 2>/dev/null
out=$(e2e_patch "oci:$T/mp:multi" --platform linux/arm64/v8 --format json 2>"$T/mp.err")
# the other platform was left as it was (root): a warning names it
cat "$T/mp.err"
e2e_expect_contains "$(cat "$T/mp.err")" "warning: oci:$T/mp:multi: patched linux/arm64 only; left untouched (as they were: still root if they ran as root): linux/amd64"
[ "$("${E2E_SKOPEO[@]}" inspect --config --override-arch amd64 "oci:$T/mp:multi" | jq -r '.config.User // ""')" = "" ] ||
[ "$("${E2E_SKOPEO[@]}" inspect --config --override-arch amd64 "oci:$T/mp:multi" | jq -r '.config.User // ""')" = 0 ]
[ "$("${E2E_SKOPEO[@]}" inspect --config --override-arch arm64 "oci:$T/mp:multi" | jq -r .config.User)" = 1654:1654 ]

e2e_step "a missing tag: the error lists the tags that exist"
e2e_build_rootful "$T/tg:one"
e2e_convert "oci:$T/tg:one" "oci:$T/tg:two"
rc=0; err=$("$NONROOT" patch "oci:$T/tg:three" --dry-run 2>&1) || rc=$?
[ "$rc" = 2 ]
e2e_expect_contains "$err" "no image tagged three in the layout (tags: one, two)"
e2e_convert "oci:$T/tg:one" "docker-archive:$T/d.tar:example/app:1"
rc=0; err=$("$NONROOT" patch "docker-archive:$T/d.tar:example/app:9" --dry-run 2>&1) || rc=$?
[ "$rc" = 2 ]
e2e_expect_contains "$err" "no image tagged example/app:9 in the archive (tags: docker.io/example/app:1)"

e2e_step "oci-archive:DIR and oci:FILE: did you mean"
e2e_convert "oci:$T/tg:one" "oci-archive:$T/a.tar:one"
rc=0; err=$("$NONROOT" patch "oci-archive:$T/tg:one" --dry-run 2>&1) || rc=$?
[ "$rc" = 2 ]
e2e_expect_contains "$err" "this is a directory: did you mean oci:$T/tg:one?"
rc=0; err=$("$NONROOT" patch "oci:$T/a.tar:one" --dry-run 2>&1) || rc=$?
[ "$rc" = 2 ]
e2e_expect_contains "$err" "this is a file: did you mean oci-archive:$T/a.tar:one?"

e2e_step "the new history entry is never earlier than the last one"
e2e_build_rootful "$T/hc:latest"
umoci config --image "$T/hc:latest" --created 2001-01-01T00:00:00Z --no-history
last=$(e2e_config_of "$T/hc:latest" | jq -r '.history[-1].created')
e2e_convert "oci:$T/hc:latest" "oci:$T/hc0:latest"
for sde in "" 0; do
	if [ -n "$sde" ]; then
		SOURCE_DATE_EPOCH=$sde e2e_patch "oci:$T/hc$sde:latest" >/dev/null
	else
		e2e_patch "oci:$T/hc:latest" >/dev/null
	fi
	new=$(e2e_config_of "$T/hc$sde:latest" | jq -r '.history[-1].created')
	[ "$(jq -r '.history[-1].created_by' <<<"$(e2e_config_of "$T/hc$sde:latest")")" != null ]
	[ "$(date -d "$new" +%s)" -ge "$(date -d "$last" +%s)" ] ||
		{ echo "history goes back: $last then $new" >&2; exit 1; }
done
