#!/usr/bin/env bash
# Hostile inputs (issue #8): tests/hostile/run.py builds each crafted input (images, layers,
# archives, bundles, environment strings) in a temp dir and checks nonroot's exact exit status
# and error text. See tests/hostile/cases.py; expectations in tests/hostile/expected.json.
set -euo pipefail
: "${NONROOT:?}" "${NR_SRC:?}"
exec python3 "$NR_SRC/tests/hostile/run.py" "$NONROOT"
