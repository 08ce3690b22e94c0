#!/usr/bin/env bash
# The whole default build (library, CLI, tests, fuzz replays, examples) with -DNR_WERROR=ON at
# each optimisation level the users build with, and with both compilers: gcc -O3 (Release),
# clang -O2 (RelWithDebInfo) and clang -O3 (Release). gcc -O2 and -O0 are the main and ASan
# builds of `make test`, which also run with -Werror. Optimisation changes the warnings
# (-Wmaybe-uninitialized, -Wstringop-*, -Warray-bounds come from the optimisers' analyses).
# Usage: compilers.sh SRC WORK [CMAKE] [cc:BuildType ...]
set -euo pipefail
src=$1 work=$2 cmake=${3:-cmake}
shift $(( $# < 3 ? $# : 3 ))
[ $# -gt 0 ] || set -- gcc:Release clang:RelWithDebInfo clang:Release
fail=0
for cfg in "$@"; do
	cc=${cfg%%:*} bt=${cfg#*:}
	command -v "$cc" >/dev/null || { echo "$cc: not installed (scripts/install-deps)"; exit 1; }
	b=$work/$cc-$bt
	# SWIG: generated wrappers are built with -w; Python: its own flags (python/ tests).
	"$cmake" -S "$src" -B "$b" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE="$bt" \
		-DNR_WERROR=ON -DNR_BUILD_SWIG=OFF -DNR_BUILD_PYTHON=OFF >/dev/null
	if log=$("$cmake" --build "$b" -j2 2>&1); then
		n=$(grep -c 'warning:' <<<"$log" || true)
		echo "ok: $cc $bt ($n warnings)"
		[ "$n" = 0 ] || { grep 'warning:' <<<"$log"; fail=1; }
	else
		grep -E 'error:|warning:' <<<"$log" | head -40
		echo "FAIL: $cc $bt"
		fail=1
	fi
done
exit $fail
