#!/usr/bin/env bash
# fuzz/run.sh TIME [HARNESS...]: build the libFuzzer harnesses with clang in a separate build
# directory (build-fuzz, or $NR_FUZZ_BUILD) and run each for TIME seconds (single job, nice),
# starting from the in-tree seeds (fuzz/corpus/<harness>/) plus seeds generated from recipes
# (fuzz/mkseeds.sh). New corpus entries go to the build directory, never into the tree.
# Exit status: 0 when no harness crashed; 1 otherwise (the crash files are listed).
# Environment: NR_FUZZ_BUILD (build dir), NR_FUZZ_ARGS (extra libFuzzer flags, e.g. -runs=N).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
time=${1:?usage: fuzz/run.sh TIME [HARNESS...]}
shift
build=${NR_FUZZ_BUILD:-$src/build-fuzz}
cc=${NR_FUZZ_CC:-clang}

if ! command -v "$cc" >/dev/null; then
	echo "fuzz/run.sh: $cc not found (scripts/install-deps installs clang)" >&2
	exit 1
fi
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
	-DNR_WERROR=OFF -DNR_BUILD_TESTS=OFF -DNR_BUILD_PYTHON=OFF -DNR_BUILD_SWIG=OFF \
	-DNR_STATIC_CLI=OFF >/dev/null
cmake --build "$build" --target fuzzers -j 2 >/dev/null

harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
	for f in "$here"/fuzz_*.c; do
		harnesses+=("$(basename "$f" .c)")
	done
fi

seeds="$build/fuzz-seeds"
bash "$here/mkseeds.sh" "$seeds"

status=0 passed=0 failed=0
for h in "${harnesses[@]}"; do
	h=${h#fuzz_}
	bin="$build/fuzz/fuzz_$h"
	[ -x "$bin" ] || { echo "fuzz/run.sh: no harness $h" >&2; exit 1; }
	work="$build/fuzz-corpus/$h"
	art="$build/fuzz-crashes/$h"
	mkdir -p "$work" "$art"
	dirs=("$work")
	[ -d "$here/corpus/$h" ] && dirs+=("$here/corpus/$h")
	[ -d "$seeds/$h" ] && dirs+=("$seeds/$h")
	dict=()
	[ -f "$here/dict/$h.dict" ] && dict=("-dict=$here/dict/$h.dict")
	log="$build/fuzz-$h.log"
	echo "fuzz/run.sh: $h for ${time}s"
	# -rss_limit_mb: each harness stays small; -timeout: a hang is a finding too.
	if ! nice -n 10 "$bin" -max_total_time="$time" -timeout=25 -rss_limit_mb=2048 \
		-max_len=262144 -print_final_stats=1 -artifact_prefix="$art/" \
		"${dict[@]}" ${NR_FUZZ_ARGS:-} "${dirs[@]}" >"$log" 2>&1; then
		status=1
		failed=$((failed + 1))
		echo "fuzz/run.sh: $h FAILED:" >&2
		grep -E 'ERROR|property broken|SUMMARY|Test unit written' "$log" | head -20 >&2 || true
		ls "$art" >&2 || true
	else
		passed=$((passed + 1))
	fi
	awk '/stat::number_of_executed_units/ {n=$2} /stat::average_exec_per_sec/ {s=$2}
		/cov: / {c=$0} END {printf "fuzz/run.sh:   %s execs, %s/s\n", n, s}' "$log"
done
echo "fuzz: $passed passed, $failed failed"
exit $status
