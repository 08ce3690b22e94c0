#!/usr/bin/env bash
# bench/verify-image.sh BUILD DIR: the demo's image (tests/e2e/lib.sh: the urlserve example,
# ASPNETCORE_URLS=http://+:80, no User), patched with nonroot, as oci:DIR:latest; for timing
# `nonroot verify` in bench/run. Kept when DIR exists.
set -euo pipefail
build=$1 dir=$2
[ -d "$dir" ] && exit 0
src=$(cd "$(dirname "$0")/.." && pwd)
export NR_BUILD=$build
# shellcheck source=../tests/e2e/lib.sh
. "$src/tests/e2e/lib.sh"
e2e_init
e2e_build_rootful "$E2E_TMP/img:latest" --urlserve --nologin >/dev/null
"$build/nonroot" patch "oci:$E2E_TMP/img:latest" >/dev/null
mkdir -p "$(dirname "$dir")"
cp -a "$E2E_TMP/img" "$dir"
