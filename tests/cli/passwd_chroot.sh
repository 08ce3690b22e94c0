#!/usr/bin/env bash
# The shell-less image case (examples/shell-less): nonroot-static run by chroot inside a root
# filesystem that has no shell and no libc, the way `RUN ["/nonroot", "passwd", "add", ...]`
# runs in a Dockerfile. Needs root (chroot) and the static binary; skipped otherwise.
set -euo pipefail
: "${NONROOT:?}"
static=${NR_BUILD:-}/nonroot-static
if [ -z "${NR_BUILD:-}" ] || [ ! -x "$static" ] || [ "$(id -u)" != 0 ]; then
	echo "skip: needs root and nonroot-static (configure with -DNR_STATIC_CLI=ON)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

chroot=$(command -v chroot)
img=$tmp/img
cp -a "${NR_SRC:?}/examples/rootfs" "$img"
cp "$static" "$img/nonroot"
check "no shell in the image" "no" "$([ -e "$img/bin/sh" ] && echo yes || echo no)"
set +e
out=$(env -i SOURCE_DATE_EPOCH=1700000000 "$chroot" "$img" /nonroot passwd add --root / --user app --uid 1654 --gid 1654 --create-home 2>&1)
rc=$?
set -e
check "RUN passwd add rc" 0 "$rc"
check "RUN passwd add out" "added user app (uid 1654, gid 1654) in /: etc/passwd, etc/group (new group app); created the home directory" "$out"
check "passwd" "$(printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:1654:1654::/home/app:/bin/false')" "$(cat "$img/etc/passwd")"
check "group" "$(printf 'root:x:0:\napp:x:1654:')" "$(cat "$img/etc/group")"
check "home" "1654:1654 755" "$(stat -c '%u:%g %a' "$img/home/app")"
set +e
out=$(env -i "$chroot" "$img" /nonroot user resolve app --root / --json 2>&1)
rc=$?
set -e
check "RUN user resolve rc" 0 "$rc"
check "RUN user resolve" '{"uid":1654,"gid":1654,"additional_gids":[],"home":"/home/app","name":"app"}' "$out"
# the Dockerfile's step, word for word
step=$(grep -o '^RUN \["/nonroot", "passwd".*\]' "$NR_SRC/examples/shell-less/Dockerfile")
check "Dockerfile uses exec form" 'RUN ["/nonroot", "passwd", "add", "--root", "/", "--user", "app", "--uid", "1654", "--gid", "1654", "--create-home"]' "$step"
finish passwd_chroot
