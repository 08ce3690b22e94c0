#!/usr/bin/env bash
# The e2e fixtures themselves (tests/e2e/lib.sh): every image variant builds, converts with
# skopeo to each transport, and the rootful image shows the seed's failure: run as uid 1654
# without CAP_NET_BIND_SERVICE it cannot bind port 80.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

e2e_step "build the variants"
e2e_build_rootful "$T/img:latest" --shadow --nologin
e2e_build_rootful "$T/dl:latest" --distroless
e2e_build_multilayer "$T/ml:latest"
e2e_build_opaque "$T/op:latest"
e2e_build_symlinked "$T/sl:latest"
e2e_build_multiplatform "$T/mp" multi
cfg=$(e2e_config_of "$T/img:latest")
[ "$(jq -r '.config.User // ""' <<<"$cfg")" = "" ]
[ "$(jq -r '.config.Env[0]' <<<"$cfg")" = "ASPNETCORE_URLS=http://+:80" ]
[ "$(jq -r '.config.ExposedPorts | keys[0]' <<<"$cfg")" = "80/tcp" ]
[ "$(jq -r '.rootfs.diff_ids | length' <<<"$cfg")" = 1 ]
[ "$(jq -r '.rootfs.diff_ids | length' <<<"$(e2e_config_of "$T/ml:latest")")" = 3 ]

e2e_step "convert to every transport (skopeo verifies digests on the way)"
e2e_convert "oci:$T/img:latest" "oci-archive:$T/img-oci.tar:latest"
e2e_convert "oci:$T/img:latest" "docker-archive:$T/img-docker.tar:example/app:1"
e2e_convert "oci:$T/img:latest" "oci:$T/zst:latest" --dest-compress-format zstd
e2e_convert "oci:$T/mp:multi" "oci:$T/mp2:multi" --all
e2e_expect_contains "$(tar tf "$T/img-docker.tar")" manifest.json
e2e_expect_contains "$(cat "$(e2e_blob_of "$T/zst:latest" manifest)")" "tar+zstd"
[ "$(jq '.manifests | length' "$(e2e_blob_of "$T/mp2:multi" manifest)")" = 2 ]

e2e_step "whiteout + re-add and opaque dirs unpack as expected"
e2e_bundle "$T/ml:latest" "$T/b"
e2e_expect_fail grep -q stale "$T/b/rootfs/etc/passwd"
grep -q '^bin:' "$T/b/rootfs/etc/passwd"
e2e_bundle "$T/op:latest" "$T/b"
[ ! -e "$T/b/rootfs/etc/shadow" ]
e2e_bundle "$T/sl:latest" "$T/b"
[ -L "$T/b/rootfs/etc/passwd" ]

if ! e2e_can_run; then e2e_skip "runc needs root"; fi
e2e_step "rootful image as root: id"
e2e_bundle "$T/img:latest" "$T/b"
e2e_bundle_args "$T/b" id
out=$(e2e_run "$T/b")
e2e_expect_contains "$out" "uid=0(root) gid=0(root)"
e2e_step "the seed's failure: uid 1654 without CAP_NET_BIND_SERVICE cannot bind 80"
e2e_bundle_user "$T/b" 1654 1654
e2e_bundle_args "$T/b" /app/serve
rc=0; out=$(e2e_run "$T/b") || rc=$?
echo "$out"
[ "$rc" != 0 ]
e2e_expect_contains "$out" "Permission denied"
echo "ok"
