#!/usr/bin/env bash
# Issue 18, class 4: the layer-scan cache is used only when it belongs to the user running
# nonroot and nobody else may write it; records are bound by an HMAC under a per-user key
# (forged records: tests/unit/test_scancache.c "forged records ...").
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP
[ "$(id -u)" = 0 ] || e2e_skip "needs root (to act as root against an unprivileged user)"
command -v setpriv >/dev/null || e2e_skip "no setpriv"
SHARED=$(mktemp -d /tmp/nr-shared.XXXXXX)
chmod 1777 "$SHARED"
trap 'rm -rf "$SHARED"; e2e_cleanup' EXIT
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

e2e_build_rootful "$T/img:latest"

e2e_step "a cache directory owned by another user is not used (warning), nothing written to it"
as_nobody mkdir -m 0700 "$SHARED/cache"
rc=0; out=$("$NONROOT" audit --cache "$SHARED/cache" "oci:$T/img:latest" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 1 ]
e2e_expect_contains "$out" "warning: layer-scan cache $SHARED/cache: owned by uid 65534"
e2e_expect_contains "$out" "NR001"
[ -z "$(ls -A "$SHARED/cache")" ]

e2e_step "nor one that others may write"
mkdir -m 0777 "$T/wcache"
chmod 0777 "$T/wcache"
rc=0; out=$(NONROOT_CACHE=$T/wcache "$NONROOT" patch "oci:$T/img:latest" -o "oci:$T/out:p" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 0 ]
e2e_expect_contains "$out" "writable by others (mode 0777)"
[ -z "$(ls -A "$T/wcache")" ]

e2e_step "a private cache is made 0700 with a 0600 key, and used"
NONROOT_CACHE=$T/pcache "$NONROOT" audit "oci:$T/img:latest" >/dev/null 2>"$T/err" || true
[ ! -s "$T/err" ]
[ "$(stat -c %a "$T/pcache")" = 700 ]
[ "$(stat -c %a "$T/pcache/key")" = 600 ]
[ -n "$(ls "$T/pcache/layers")" ]

e2e_step "a symlinked layers/ in the cache is not followed"
mkdir -m 0700 "$T/lcache" "$T/elsewhere"
ln -s "$T/elsewhere" "$T/lcache/layers"
rc=0; out=$(NONROOT_CACHE=$T/lcache "$NONROOT" audit "oci:$T/img:latest" 2>&1) || rc=$?
[ "$rc" = 1 ]
e2e_expect_contains "$out" "warning: layer-scan cache $T/lcache/layers"
[ -z "$(ls -A "$T/elsewhere")" ]

e2e_step "a cache hit marks the record used; cache prune removes the least recently used first"
n=$(ls "$T/pcache/layers" | wc -l)
for f in "$T/pcache/layers"/*.scan; do touch -d "200 days ago" "$f"; done
# a record of a layer this image does not have, unused for long: the first to go
head -c 4096 /dev/zero >"$T/pcache/layers/$(printf '%064x' 7).scan"
touch -d "300 days ago" "$T/pcache/layers/$(printf '%064x' 7).scan"
NONROOT_CACHE=$T/pcache "$NONROOT" audit "oci:$T/img:latest" >/dev/null 2>&1 || true
# the hits are used now: the default age limit (90 days) keeps them, not the unused record
out=$("$NONROOT" cache prune --cache "$T/pcache")
echo "$out"
e2e_expect_contains "$out" "removed 1 layer-scan record (4.0 KiB)"
e2e_expect_contains "$out" "kept $n record"
[ "$(ls "$T/pcache/layers" | wc -l)" = "$n" ]
"$NONROOT" cache prune --cache "$T/pcache" --max-size 0 -q
[ -z "$(ls "$T/pcache/layers")" ]
# and the cache still works after a prune
NONROOT_CACHE=$T/pcache "$NONROOT" audit "oci:$T/img:latest" >/dev/null 2>&1 || true
[ "$(ls "$T/pcache/layers" | wc -l)" = "$n" ]

echo "hostile_cache: ok"
