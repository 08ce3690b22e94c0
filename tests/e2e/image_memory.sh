#!/usr/bin/env bash
# image_memory: scanning a layer of ~200 MB must not grow the reader's memory with the layer:
# peak RSS (GNU time) of a scan of a 200 MB layer stays within 16 MiB of a scan of a tiny one.
set -euo pipefail
T=${NR_BUILD:?}/tests/nr-imgtool
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
umoci init --layout img
umoci new --image img:small
printf 'root:x:0:0:root:/root:/bin/sh\n' > passwd
umoci insert --image img:small passwd /etc/passwd >/dev/null
head -c 200M /dev/urandom > big.bin
umoci insert --image img:small --tag big big.bin /opt/big.bin >/dev/null
rm big.bin
rss() {
	/usr/bin/time -v "$T" scan "$1" etc/passwd opt/big.bin --setid 2>time.txt >out.json
	grep 'Maximum resident set size' time.txt | awk '{print $NF}'
}
small=$(rss oci:img:small)
big=$(rss oci:img:big)
secs=$(grep 'Elapsed (wall clock)' time.txt | awk '{print $NF}')
size=$(jq '.platforms[0].entries["opt/big.bin"].size' out.json)
echo "peak RSS: small image ${small} KiB, 200 MB layer ${big} KiB (scan took $secs)"
[ "$size" -eq $((200 * 1024 * 1024)) ] || { echo "FAIL: size $size"; exit 1; }
jq -e '.platforms[0].entries["opt/big.bin"].too_big' out.json >/dev/null ||
	{ echo "FAIL: a 200 MB file must not be read into memory"; exit 1; }
[ "$big" -lt $((small + 16384)) ] || { echo "FAIL: RSS grew with the layer"; exit 1; }
echo "ok - memory bounded"
