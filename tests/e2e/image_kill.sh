#!/usr/bin/env bash
# image_kill: an in-place write killed (SIGKILL) at staggered moments leaves the image
# readable: our reader and `skopeo copy` (which verifies every digest) accept it, and it holds
# either the old or the new /etc/passwd, never anything else.
set -euo pipefail
T=${NR_BUILD:?}/tests/nr-imgtool
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
umoci init --layout base
umoci new --image base:t
printf 'root:x:0:0:root:/root:/bin/sh\n' > passwd
umoci insert --image base:t passwd /etc/passwd >/dev/null
head -c 3M /dev/urandom > filler
umoci insert --image base:t filler /opt/filler >/dev/null
OLD='root:x:0:0:root:/root:/bin/sh'
NEW="$OLD
app:x:1654:1654::/home/app:/sbin/nologin"
killed=0 completed=0
for i in $(seq 1 24); do
	rm -rf img && cp -a base img
	delay=$(printf '0.%03d' $((i * 3)))
	if timeout -s KILL "$delay" "$T" addfile oci:img:t - etc/passwd "$NEW
" --gzip >/dev/null 2>&1; then
		completed=$((completed + 1))
	else
		killed=$((killed + 1))
	fi
	got=$("$T" scan oci:img:t etc/passwd | jq -r '.platforms[0].entries["etc/passwd"].content') ||
		{ echo "FAIL: unreadable after a kill at ${delay}s"; exit 1; }
	if [ "$got" != "$OLD" ] && [ "$got" != "$NEW" ]; then
		echo "FAIL: passwd is [$got] after a kill at ${delay}s"
		exit 1
	fi
	skopeo copy -q oci:img:t oci:check:x || { echo "FAIL: skopeo after a kill at ${delay}s"; exit 1; }
	rm -rf check
done
echo "ok - 24 in-place writes ($killed killed, $completed completed): every result readable"
