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
out=$(e2e_patch "oci:$T/mp:multi" --platform linux/arm64/v8 --format json)
[ "$("${E2E_SKOPEO[@]}" inspect --config --override-arch arm64 "oci:$T/mp:multi" | jq -r .config.User)" = 1654:1654 ]
