#!/usr/bin/env bash
# tests/cli/run-cases.sh [--update] DIR...: the data-driven CLI tests (tests/cli/cases/README.md).
# Each DIR is a suite (a directory of cases) or one case (a directory with an `args` file). A case
# runs "$NONROOT" with its args in a clean environment, in a fresh temporary working directory,
# and compares stdout, stderr and the exit status exactly. A mismatch prints a diff; the summary
# counts the cases; the exit status is 1 when any case failed.
# --update writes what the program printed into the case's expectation files (review the diff!).
set -euo pipefail
: "${NONROOT:?NONROOT must name the nonroot binary}"
NONROOT=$(realpath "$NONROOT")
. "$(dirname "$0")/lib.sh"

update=0
if [ "${1:-}" = --update ]; then update=1; shift; fi
[ $# -gt 0 ] || { echo "usage: run-cases.sh [--update] SUITE_OR_CASE_DIR..." >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
known=" args env stdin files stdout stderr status "

fail() {      # fail CASE MESSAGE...
	echo "FAIL: $1: ${*:2}"
	fails=$((fails + 1))
}

run_case() {  # run_case DIR
	local c=$1 name f ok=1 rc expected
	name=${c%/}; name=${name#"$(dirname "$(dirname "$name")")/"}
	for f in "$c"/* "$c"/.[!.]*; do
		[ -e "$f" ] || continue
		case "$known" in *" ${f##*/} "*) ;; *) fail "$name" "unknown file '${f##*/}' (a typo?)"; return ;; esac
	done
	[ -f "$c/status" ] || { fail "$name" "no 'status' file"; return; }
	local -a args=() envs=()
	mapfile -t args <"$c/args"
	if [ -f "$c/env" ]; then
		local line
		while IFS= read -r line || [ -n "$line" ]; do
			[[ -z "$line" || "$line" == \#* ]] && continue
			[[ "$line" == *=* ]] || { fail "$name" "env: '$line' is not VAR=value"; return; }
			envs+=("$line")
		done <"$c/env"
	fi
	local w=$tmp/work out=$tmp/stdout err=$tmp/stderr
	rm -rf "$w"; mkdir "$w"
	local suite_files
	suite_files=$(dirname "${c%/}")/files
	[ ! -d "$suite_files" ] || cp -a "$suite_files/." "$w/"
	[ ! -d "$c/files" ] || cp -a "$c/files/." "$w/"
	local in=/dev/null
	[ ! -f "$c/stdin" ] || in=$(realpath "$c/stdin")
	set +e
	(cd "$w" && exec env -i PATH=/usr/bin:/bin LC_ALL=C ${envs[@]+"${envs[@]}"} \
		timeout 30 "$NONROOT" ${args[@]+"${args[@]}"} <"$in" >"$out" 2>"$err")
	rc=$?
	set -e
	if [ "$update" = 1 ]; then
		echo "$rc" >"$c/status"
		for f in stdout stderr; do
			if [ -s "$tmp/$f" ]; then cp "$tmp/$f" "$c/$f"; else rm -f "$c/$f"; fi
		done
	fi
	expected=$(cat "$c/status")
	if [ "$rc" != "$expected" ]; then
		fail "$name" "exit status $rc, expected $expected"
		ok=0
	fi
	for f in stdout stderr; do
		local want=/dev/null
		[ ! -f "$c/$f" ] || want=$c/$f
		if ! cmp -s "$want" "$tmp/$f"; then
			[ "$ok" = 0 ] || fail "$name" "$f differs"
			ok=0
			echo "--- expected $f, +++ actual:"
			diff -u "$want" "$tmp/$f" | tail -n +3 || true
		fi
	done
	if [ "$ok" = 1 ]; then passes=$((passes + 1)); fi
}

for d in "$@"; do
	d=${d%/}
	if [ -f "$d/args" ]; then
		run_case "$d"
	elif [ -d "$d" ]; then
		n=0
		for c in "$d"/*/; do
			[ -f "$c/args" ] || continue
			run_case "$c"; n=$((n + 1))
		done
		[ "$n" -gt 0 ] || fail "$d" "no cases (no */args)"
	else
		fail "$d" "no such suite or case"
	fi
done
finish "run-cases $*"
