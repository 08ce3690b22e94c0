#!/usr/bin/env bash
# CTest driver of the SWIG bindings' tests: builds a tiny rootful image with the e2e helpers
# (umoci), then runs the language's test with its reference and a scratch directory:
#   run.sh TMPROOT COMMAND...   → COMMAND oci:DIR/layout:latest DIR
set -euo pipefail
: "${NR_SRC:?}"
export TMPDIR=${TMPDIR:-/tmp}
. "$NR_SRC/tests/e2e/lib.sh"
e2e_init
e2e_build_rootful "$E2E_TMP/layout:latest" >/dev/null
"$@" "oci:$E2E_TMP/layout:latest" "$E2E_TMP"
