#!/usr/bin/env bash
# The example Dockerfiles pass check_dockerfile.py, and each broken variant of them fails
# with the expected message (so the check can fail).
set -uo pipefail
dir=$(cd "$(dirname "$0")" && pwd) src=$(cd "$dir/../.." && pwd) work=${1:-$(mktemp -d)}
chk="python3 $dir/check_dockerfile.py"
mkdir -p "$work"
$chk "$dir/Dockerfile" "$src/examples/shell-less/Dockerfile" || exit 1
fail=0
expect() {   # expect NAME SED-EXPR MESSAGE
	sed -e "$2" "$dir/Dockerfile" > "$work/$1.Dockerfile"
	cmp -s "$dir/Dockerfile" "$work/$1.Dockerfile" && { echo "FAIL $1: sed changed nothing"; fail=1; return; }
	out=$($chk "$work/$1.Dockerfile") && { echo "FAIL $1: accepted"; fail=1; return; }
	grep -q -- "$3" <<<"$out" && echo "ok $1: $out" || { echo "FAIL $1: $out"; fail=1; }
}
expect bad-json      's|"--create-home"\]|"--create-home"|' 'not valid JSON'
expect shell-form    's|^RUN \["/nonroot", "user".*|RUN /nonroot user resolve app --root /|' 'shell form in a shell-less stage'
expect not-copied    's|^COPY --from=build /src/build/nonroot-static /nonroot|COPY --from=build /src/build/nonroot-static /tool|' "did not COPY in"
expect from-unknown  's|--from=accounts /etc/passwd|--from=acounts /etc/passwd|' "no earlier stage named 'acounts'"
expect user-name     's|^USER 1654:1654|USER app|' 'not numeric'
expect user-root     's|^USER 1654:1654|USER 0|' 'USER 0 is root'
expect no-user       '/^USER /d' 'sets no USER'
expect unknown-ins   's|^WORKDIR /home/app|WORKDIRR /home/app|' 'unknown instruction'
expect dup-stage     's|^FROM \${BASE} AS accounts|FROM ${BASE} AS build|' 'used twice'
expect bad-chown     's|--chown=1654:1654|--chown=|' 'chown wants'
exit $fail
