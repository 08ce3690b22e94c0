# tests/cli/lib.sh: what every CLI test script shares (sourced after `set -euo pipefail`; the
# script makes $tmp, a scratch directory, itself). Each check counts one pass or one failure;
# `finish NAME` prints the counts and fails the script when any check failed.
fails=0 passes=0

check() {     # check NAME EXPECTED ACTUAL: exactly equal
	if [ "$2" == "$3" ]; then
		passes=$((passes + 1))
	else
		echo "FAIL: $1"; echo "  expected: $2"; echo "  actual:   $3"
		fails=$((fails + 1))
	fi
}
contains() {  # contains NAME NEEDLE TEXT: NEEDLE is a substring of TEXT
	if [[ "$3" == *"$2"* ]]; then
		passes=$((passes + 1))
	else
		echo "FAIL: $1"; echo "  missing: $2"; echo "  in:      $3"
		fails=$((fails + 1))
	fi
}
lacks() {     # lacks NAME NEEDLE TEXT: NEEDLE is not in TEXT
	if [[ "$3" == *"$2"* ]]; then
		echo "FAIL: $1"; echo "  unexpected: $2"; echo "  in: $3"
		fails=$((fails + 1))
	else
		passes=$((passes + 1))
	fi
}
run() {       # run COMMAND ARGS...: sets rc, out, err
	set +e
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	set -e
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
nrun() {      # nrun ARGS...: run "$NONROOT" ARGS...
	run "$NONROOT" "$@"
}
finish() {    # finish NAME: the counts; exit status 1 when a check failed
	echo "$1: $passes passed, $fails failed"
	[ "$fails" -eq 0 ]
}
