#!/bin/bash
# umoci-flow.sh IMAGE_DIR TAG WORK: what users do today without nonroot: unpack, add the user
# to passwd/group, make its home, repack, set User/Env/ExposedPorts. Changes IMAGE_DIR.
set -euo pipefail
img=$1 tag=$2 work=$3
rm -rf "$work"
umoci unpack --image "$img:$tag" "$work" >/dev/null
r=$work/rootfs
echo 'app:x:1654:1654::/home/app:/sbin/nologin' >>"$r/etc/passwd"
echo 'app:x:1654:' >>"$r/etc/group"
mkdir -p "$r/home/app" && chown 1654:1654 "$r/home/app" && chmod 0755 "$r/home/app"
umoci repack --image "$img:$tag" "$work" >/dev/null
umoci config --image "$img:$tag" --config.user 1654:1654 --config.env APP_UID=1654 \
	--config.env ASPNETCORE_HTTP_PORTS=8080 --config.exposedports 8080/tcp >/dev/null
rm -rf "$work"
