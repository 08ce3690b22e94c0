#!/usr/bin/env bash
# A tampered blob is refused (naming the blob) by patch and audit, and the image stays as it
# was; a failed patch (conflict) leaves the source unchanged too.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

e2e_build_rootful "$T/img:latest"
cp -a "$T/img" "$T/orig"
layer=$(e2e_blob_of "$T/img:latest" layer0)
chmod u+w "$layer"
# flip one byte in the middle of the layer (same size, other digest)
off=$(( $(stat -c %s "$layer") / 2 ))
b=$(dd if="$layer" bs=1 skip="$off" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(( (b + 1) % 256 )))" | dd of="$layer" bs=1 seek="$off" conv=notrunc 2>/dev/null

e2e_step "patch refuses the tampered layer"
rc=0; out=$(e2e_patch "oci:$T/img:latest" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ]
e2e_expect_contains "$out" "$(basename "$layer")"
diff -r "$T/img/index.json" "$T/orig/index.json"
[ "$(ls "$T/img/blobs/sha256" | wc -l)" = "$(ls "$T/orig/blobs/sha256" | wc -l)" ]

e2e_step "a warm layer-scan cache does not hide the tampering"
rm -rf "$T/img"; cp -a "$T/orig" "$T/img"
"$NONROOT" audit "oci:$T/img:latest" >/dev/null || true     # scans and caches the good layer
layer=$(e2e_blob_of "$T/img:latest" layer0)
[ -n "$(ls "$NONROOT_CACHE/layers")" ]
chmod u+w "$layer"
printf "$(printf '\\%03o' $(( (b + 1) % 256 )))" | dd of="$layer" bs=1 seek="$off" conv=notrunc 2>/dev/null
rc=0; out=$(e2e_patch "oci:$T/img:latest" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ]
e2e_expect_contains "$out" "does not match its digest"
diff -r "$T/img/index.json" "$T/orig/index.json"

e2e_step "audit refuses it too"
rc=0; out=$("$NONROOT" audit "oci:$T/img:latest" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ]
e2e_expect_contains "$out" "$(basename "$layer")"

e2e_step "with --no-cache too (every layer read and verified)"
rc=0; out=$(e2e_patch "oci:$T/img:latest" --no-cache 2>&1) || rc=$?
[ "$rc" = 2 ]
e2e_expect_contains "$out" "$(basename "$layer")"

e2e_step "a tampered config is refused"
rm -rf "$T/img"; cp -a "$T/orig" "$T/img"
cfgblob=$(e2e_blob_of "$T/img:latest" config)
chmod u+w "$cfgblob"
sed -i 's/http:\/\/+:80/http:\/\/+:81/' "$cfgblob"
rc=0; out=$(e2e_patch "oci:$T/img:latest" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ]

e2e_step "skopeo agrees the untouched image is fine, and a conflict leaves it unchanged"
rm -rf "$T/img"; cp -a "$T/orig" "$T/img"
rc=0; e2e_patch "oci:$T/img:latest" --user root --uid 1654 2>&1 || rc=$?
[ "$rc" = 2 ]
diff -r "$T/img" "$T/orig"
e2e_convert "oci:$T/img:latest" "oci:$T/copy:latest"
echo ok
