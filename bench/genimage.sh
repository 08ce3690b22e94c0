#!/bin/bash
# genimage.sh DIR BYTES LAYERS: an OCI layout DIR (tag "bench") of LAYERS gzip layers holding
# about BYTES of compressed data, built with umoci (unpack once, then per layer: add the tree
# written by genroot.py, `umoci repack --refresh-bundle`); plus
# DIR-zstd (the same layers re-compressed by skopeo with zstd) and DIR.tar (docker-archive,
# uncompressed layers). Reused when DIR/.done says the same parameters.
set -euo pipefail
dir=$1 bytes=$2 layers=$3
here=$(cd "$(dirname "$0")" && pwd)
key="$bytes $layers v2"
if [ -f "$dir/.done" ] && [ "$(cat "$dir/.done")" = "$key" ]; then exit 0; fi
rm -rf "$dir" "$dir-zstd" "$dir.tar" "$dir-trees" "$dir-bundle"
python3 "$here/genroot.py" "$dir-trees" "$bytes" "$layers"
umoci init --layout "$dir"
umoci new --image "$dir:bench"
# (not `umoci insert`: 0.4.7 leaves the last member of such a layer without its padding)
umoci unpack --image "$dir:bench" "$dir-bundle" >/dev/null
for ((k = 0; k < layers; k++)); do
	cp -al "$dir-trees/layer$k/." "$dir-bundle/rootfs/"
	umoci repack --refresh-bundle --image "$dir:bench" "$dir-bundle" >/dev/null
done
rm -rf "$dir-trees" "$dir-bundle"
umoci config --image "$dir:bench" --config.user root --config.env ASPNETCORE_URLS=http://+:80 \
	--config.exposedports 80/tcp --config.cmd /usr/bin/app
umoci gc --layout "$dir"
skopeo copy -q --dest-compress-format zstd "oci:$dir:bench" "oci:$dir-zstd:bench"
skopeo copy -q "oci:$dir:bench" "docker-archive:$dir.tar:bench:latest"
echo "$key" >"$dir/.done"
