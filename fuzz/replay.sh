#!/usr/bin/env bash
# fuzz/replay.sh REPLAY_BINARY HARNESS: CTest driver: run a harness (built with replay.c, no
# libFuzzer) over its committed corpus (fuzz/corpus/HARNESS: seeds and every crash found,
# kept as regression inputs) and the seeds fuzz/mkseeds.sh makes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1 h=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$here/mkseeds.sh" "$tmp" >/dev/null
dirs=()
[ -d "$here/corpus/$h" ] && dirs+=("$here/corpus/$h")
[ -d "$tmp/$h" ] && dirs+=("$tmp/$h")
[ ${#dirs[@]} -gt 0 ] || { echo "replay.sh: no inputs for $h" >&2; exit 1; }
exec ${NR_REPLAY_WRAPPER:-} "$bin" "${dirs[@]}"
