#!/usr/bin/env bash
# -Werror is off unless asked for (NR_WERROR, like libgit2's ENABLE_WERROR): a user's plain
# `cmake -S . -B b && cmake --build b` must not fail on a warning that a newer compiler adds.
# Configures the source tree twice (no build): by default no -Werror reaches a compile line,
# with -DNR_WERROR=ON it does.
set -euo pipefail
src=$1 work=$2 cmake=${3:-cmake}
rm -rf "$work"
"$cmake" -S "$src" -B "$work/default" -DNR_BUILD_SWIG=OFF -DNR_BUILD_PYTHON=OFF >/dev/null
grep -qx 'NR_WERROR:BOOL=OFF' "$work/default/CMakeCache.txt" ||
	{ grep NR_WERROR "$work/default/CMakeCache.txt"; echo "NR_WERROR is not OFF by default"; exit 1; }
if grep -rlE --include=flags.make -e '-Werror( |$)' "$work/default"; then
	echo "-Werror is on by default in the files above"; exit 1
fi
"$cmake" -S "$src" -B "$work/on" -DNR_WERROR=ON -DNR_BUILD_SWIG=OFF -DNR_BUILD_PYTHON=OFF >/dev/null
grep -qE -- '-Werror( |$)' "$work/on/CMakeFiles/nonroot_objects.dir/flags.make" ||
	{ echo "-DNR_WERROR=ON does not add -Werror"; exit 1; }
echo "ok: -Werror off by default, on with -DNR_WERROR=ON"
