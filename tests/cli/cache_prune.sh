#!/usr/bin/env bash
# nonroot cache prune (issue 12 case 8): the layer-scan cache is bounded (records least
# recently used first, by --max-size and --max-age; markers by age), dead runs' temp files and
# $TMPDIR/nonroot-* directories go, a symlink is never followed or removed, --dry-run, -q.
set -euo pipefail
: "${NONROOT:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

hex() { printf '%064x' "$1"; }
# a cache with 4 records of 1 KiB used 40, 30, 20 and 5 days ago, 2 markers (40 and 5 days)
mkcache() {
	rm -rf "$tmp/c" "$tmp/t"
	mkdir -m 0700 "$tmp/c" "$tmp/c/layers" "$tmp/c/verified" "$tmp/t"
	local i=1 d
	for d in 40 30 20 5; do
		head -c 1024 /dev/zero >"$tmp/c/layers/$(hex $i).scan"
		touch -d "$d days ago" "$tmp/c/layers/$(hex $i).scan"
		i=$((i + 1))
	done
	touch -d "40 days ago" "$tmp/c/verified/$(hex 91)"
	touch -d "5 days ago" "$tmp/c/verified/$(hex 92)"
}
left() { (cd "$tmp/c/$1" && ls -A | sort | tr '\n' ' '); }

run "$NONROOT" cache prune --help
check "help rc" 0 "$rc"
case "$out" in *"Usage: nonroot cache prune"*"--max-size"*"--max-age"*"--dry-run"*"Exit status"*)
	passes=$((passes + 1)) ;; *) echo "FAIL: help text"; fails=$((fails + 1)) ;; esac
run "$NONROOT" cache
check "no subcommand rc" 2 "$rc"
run "$NONROOT" cache prune --max-size 12Q
check "bad size rc" 2 "$rc"
run "$NONROOT" cache prune --max-age -1
check "bad age rc" 2 "$rc"

# --max-size: least recently used first, until the rest fit
mkcache
run env TMPDIR="$tmp/t" "$NONROOT" cache prune --cache "$tmp/c" --max-size 2K --max-age 0
check "size rc" 0 "$rc"
check "size left" "$(hex 3).scan $(hex 4).scan " "$(left layers)"
check "size markers left (no age limit)" "$(hex 91) $(hex 92) " "$(left verified)"
check "size output" "$tmp/c: removed 2 layer-scan records (2.0 KiB), 0 verification markers, 0 temp files of dead writers
kept 2 records (2.0 KiB), 2 markers
removed 0 temp directories of dead runs in $tmp/t (0 bytes)" "$out"

# --max-age: records and markers unused for longer go
mkcache
run env TMPDIR="$tmp/t" "$NONROOT" cache prune --cache "$tmp/c" --max-age 25 -q
check "age rc" 0 "$rc"
check "age quiet" "" "$out"
check "age left" "$(hex 3).scan $(hex 4).scan " "$(left layers)"
check "age markers left" "$(hex 92) " "$(left verified)"

# the defaults (256M, 90 days) keep all of this
mkcache
run env TMPDIR="$tmp/t" "$NONROOT" cache prune --cache "$tmp/c"
check "defaults left" "$(hex 1).scan $(hex 2).scan $(hex 3).scan $(hex 4).scan " "$(left layers)"
# --max-size 0 empties it
run env TMPDIR="$tmp/t" "$NONROOT" cache prune --cache "$tmp/c" --max-size 0 -q
check "zero left" "" "$(left layers)"

# --dry-run: says what would go, removes nothing
mkcache
dead=$(sh -c 'echo $$')
mkdir -p "$tmp/t/nonroot-archive-$dead-AbCdEf/sub"
head -c 5000 /dev/zero >"$tmp/t/nonroot-archive-$dead-AbCdEf/sub/f"
run env TMPDIR="$tmp/t" "$NONROOT" cache prune --cache "$tmp/c" --max-size 1K --dry-run
check "dry rc" 0 "$rc"
check "dry output" "$tmp/c: would remove 3 layer-scan records (3.0 KiB), 0 verification markers, 0 temp files of dead writers
kept 1 record (1.0 KiB), 2 markers
would remove 1 temp directory of dead runs in $tmp/t (4.9 KiB)" "$out"
check "dry left" "$(hex 1).scan $(hex 2).scan $(hex 3).scan $(hex 4).scan " "$(left layers)"
[ -d "$tmp/t/nonroot-archive-$dead-AbCdEf" ] && passes=$((passes + 1)) || { echo "FAIL: dry run removed a temp dir"; fails=$((fails + 1)); }

# dead runs: temp dirs in TMPDIR and temp files in the cache go; a live run's, a symlink,
# another name stay
echo secret >"$tmp/outside"
mkdir "$tmp/t/nonroot-out-$$-LiVe00" "$tmp/t/nonroot-keepme"
ln -s "$tmp/outside" "$tmp/t/nonroot-blobs-$dead-SymLnk"
touch "$tmp/c/layers/.$(hex 7).scan.nr-$dead-0123456789abcdef01234567"
touch "$tmp/c/layers/.$(hex 8).scan.nr-$$-0123456789abcdef01234567"
ln -s "$tmp/outside" "$tmp/c/layers/$(hex 9).scan"
touch -d "100 days ago" "$tmp/outside"
run env TMPDIR="$tmp/t" "$NONROOT" cache prune --cache "$tmp/c" --max-size 0 --max-age 1
check "dead rc" 0 "$rc"
check "dead output" "$tmp/c: removed 4 layer-scan records (4.0 KiB), 2 verification markers, 1 temp file of dead writers
kept 0 records (0 bytes), 0 markers
removed 1 temp directory of dead runs in $tmp/t (4.9 KiB)" "$out"
check "dead tmp left" "nonroot-blobs-$dead-SymLnk nonroot-keepme nonroot-out-$$-LiVe00 " "$(cd "$tmp/t" && ls -A | sort | tr '\n' ' ')"
check "dead layers left" ".$(hex 8).scan.nr-$$-0123456789abcdef01234567 $(hex 9).scan " "$(left layers)"
check "outside intact" "secret" "$(cat "$tmp/outside")"

# an unsafe cache is refused, and nothing in it is touched
mkcache
chmod 0770 "$tmp/c"
run env TMPDIR="$tmp/t" "$NONROOT" cache prune --cache "$tmp/c" --max-size 0
check "group-writable rc" 2 "$rc"
case "$err" in *"$tmp/c"*"not a private directory"*) passes=$((passes + 1)) ;;
	*) echo "FAIL: group-writable error: $err"; fails=$((fails + 1)) ;; esac
check "group-writable left" "$(hex 1).scan $(hex 2).scan $(hex 3).scan $(hex 4).scan " "$(left layers)"
chmod 0700 "$tmp/c"
rm -rf "$tmp/c/layers"
mkdir -m 0700 "$tmp/elsewhere"
touch "$tmp/elsewhere/$(hex 1).scan"
ln -s "$tmp/elsewhere" "$tmp/c/layers"
run env TMPDIR="$tmp/t" "$NONROOT" cache prune --cache "$tmp/c" --max-size 0
check "symlinked layers rc" 2 "$rc"
check "symlinked layers untouched" "$(hex 1).scan" "$(ls "$tmp/elsewhere")"
# a missing cache is an empty one; NONROOT_CACHE=off: none
run env TMPDIR="$tmp/t" "$NONROOT" cache prune --cache "$tmp/none"
check "missing rc" 0 "$rc"
run env TMPDIR="$tmp/t" NONROOT_CACHE=off "$NONROOT" cache prune -q
check "off rc" 0 "$rc"

echo "cache_prune: $passes passed, $fails failed"
[ "$fails" = 0 ]
