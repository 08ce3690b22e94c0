#!/usr/bin/env bash
# Fleets: `nonroot audit|patch IMAGE... [--from FILE] [-j N]`: parallel workers, one report per
# image in argument order, the worst exit status, and with --format json one document listing
# every image (an image that fails has its error there). Real images built with umoci.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

e2e_build_rootful "$T/a:latest" --nologin
cp -r "$T/a" "$T/b"
cp -r "$T/a" "$T/c"
printf '# the fleet\n\n  oci:%s/b:latest  \noci:%s/c:latest\n' "$T" "$T" >"$T/list"

e2e_step "audit: reports in order, worst exit status (1: findings)"
rc=0; out=$("$NONROOT" audit -j 2 "oci:$T/a:latest" --from "$T/list") || rc=$?
echo "$out"
[ "$rc" = 1 ]
[ "$(grep -o '^oci:[^ ]*' <<<"$out" | tr '\n' ' ')" = "oci:$T/a:latest oci:$T/b:latest oci:$T/c:latest " ]

e2e_step "a missing image makes it 2; the others are still reported"
rc=0; out=$("$NONROOT" audit "oci:$T/a:latest" "oci:$T/missing:x" "oci:$T/b:latest" 2>"$T/err") || rc=$?
[ "$rc" = 2 ]
[ "$(grep -c 'NR001' <<<"$out")" = 2 ]
e2e_expect_contains "$(cat "$T/err")" "oci:$T/missing:x"

e2e_step "--format json: one document listing every image"
rc=0; "$NONROOT" audit --format json "oci:$T/a:latest" "oci:$T/missing:x" --from "$T/list" >"$T/all.json" || rc=$?
[ "$rc" = 2 ]
jq -e '.images | length == 4' "$T/all.json" >/dev/null
[ "$(jq -c '[.images[] | .exit]' "$T/all.json")" = "[1,2,1,1]" ]
[ "$(jq -r '.images[1].image' "$T/all.json")" = "oci:$T/missing:x" ]
jq -e '.images[1].report == null and (.images[1].error | test("no such directory"))' "$T/all.json" >/dev/null
jq -e '.images[0].report.platforms[0].findings | map(.id) | index("NR001")' "$T/all.json" >/dev/null

e2e_step "patch a fleet in place, then the audit is clean (exit 0)"
"$NONROOT" patch -j 3 --from "$T/list" "oci:$T/a:latest" >"$T/patch.txt"
[ "$(grep -c '^wrote ' "$T/patch.txt")" = 3 ]
"$NONROOT" audit "oci:$T/a:latest" "oci:$T/b:latest" "oci:$T/c:latest" >/dev/null
"$NONROOT" patch --format json "oci:$T/a:latest" "oci:$T/b:latest" | jq -e '.images | length == 2' >/dev/null

e2e_step "usage errors: -o or SARIF with several images, an empty --from"
rc=0; "$NONROOT" patch "oci:$T/a:latest" "oci:$T/b:latest" -o "oci:$T/out" 2>/dev/null || rc=$?
[ "$rc" = 2 ]
rc=0; "$NONROOT" audit --format sarif "oci:$T/a:latest" "oci:$T/b:latest" 2>/dev/null || rc=$?
[ "$rc" = 2 ]
: >"$T/empty"
rc=0; "$NONROOT" audit --from "$T/empty" 2>/dev/null || rc=$?
[ "$rc" = 2 ]
echo "e2e: fleet OK"
