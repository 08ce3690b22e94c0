#!/usr/bin/env bash
# nonroot urls: --help, a newline in a value, rewrite then check (the other cases: cases/urls/).
set -euo pipefail
: "${NONROOT:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"


# --help documents the command
run "$NONROOT" urls --help
check "help rc" 0 "$rc"
case "$out" in *"Usage: nonroot urls"*"--rewrite"*"Exit status"*) passes=$((passes + 1)) ;;
	*) echo "FAIL: help text"; fails=$((fails + 1)) ;; esac

# The pure input/output cases (args, env, expected stdout/stderr/status) are data:
# tests/cli/cases/urls/, run by run-cases.sh (CTest cli.cases.urls). Here stay the help text
# (substring checks), an argument with a newline (args files hold one argument per line) and
# the two-step rewrite -> check.

# A newline in a value: exit 2 with Kestrel's message, the byte escaped.
run "$NONROOT" urls "ASPNETCORE_URLS=http://+:80
"
check "newline rc" 2 "$rc"
check "newline msg" "nonroot: urls: ASPNETCORE_URLS: Invalid url: control character 0x0a at byte 12: 'http://+:80\\x0a'" "$err"

# The rewritten value passes --check.
new=$("$NONROOT" urls --rewrite 80:8080,443:8443 'ASPNETCORE_URLS=http://+;https://+:443')
run "$NONROOT" urls --check "$new"
check "rewritten passes check" 0 "$rc"

finish urls.sh
