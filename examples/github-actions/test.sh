#!/usr/bin/env bash
# The workflow passes check_workflow.py; broken variants fail with the expected message.
set -uo pipefail
nonroot=$1 dir=$(cd "$(dirname "$0")" && pwd) work=${2:-$(mktemp -d)}
wf=$dir/nonroot-audit.yml
mkdir -p "$work"
python3 "$dir/check_workflow.py" "$nonroot" "$wf"; rc=$?; [ $rc = 0 ] || exit $rc
fail=0
expect() {   # expect NAME SED-EXPR MESSAGE
	sed -e "$2" "$wf" > "$work/$1.yml"
	cmp -s "$wf" "$work/$1.yml" && { echo "FAIL $1: sed changed nothing"; fail=1; return; }
	out=$(python3 "$dir/check_workflow.py" "$nonroot" "$work/$1.yml" 2>&1) && { echo "FAIL $1: accepted"; fail=1; return; }
	grep -q -- "$3" <<<"$out" && echo "ok $1: $out" || { echo "FAIL $1: $out"; fail=1; }
}
expect bad-option   's|--format sarif --fail-on never|--format sarif --fail-at never|' "not an option of nonroot audit"
expect bad-command  's|nonroot audit oci:image:latest --fail-on error|nonroot scan oci:image:latest|' "no such subcommand"
expect no-perms     '/security-events: write/d' 'security-events: write'
expect no-upload    's|github/codeql-action/upload-sarif@v3|actions/upload-artifact@v4|' 'no github/codeql-action/upload-sarif'
expect wrong-file   's|sarif_file: nonroot.sarif|sarif_file: results.sarif|' 'no earlier step writes results.sarif'
expect no-runs-on   '/runs-on:/d' 'no runs-on'
expect bad-yaml     's|^jobs:|jobs: [|' 'rror'
exit $fail
