#!/usr/bin/env bash
# Crash safety of nonroot bundle harden: SIGKILL at 100 seeded random points; after each kill
# the result is the old or the new state (details in tests/e2e/kill_lib.py).
# NR_KILL_RUNS and NR_KILL_SEED change the number of runs and the seed.
set -euo pipefail
: "${NONROOT:?}"
exec python3 "$(dirname "$0")/kill_lib.py" bundle --runs "${NR_KILL_RUNS:-100}" --seed "${NR_KILL_SEED:-8}"
