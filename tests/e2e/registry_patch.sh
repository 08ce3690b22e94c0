#!/usr/bin/env bash
# docker:// against a real registry (docker-registry on 127.0.0.1, plain HTTP): images pushed
# with skopeo, audited and patched in place by nonroot, checked with skopeo inspect / copy and
# run with runc. Covers: the seed's change uploads only the new layer + config (< 64 KiB,
# counted from the registry's storage), a second image on the same base with a warm cache
# downloads no layer, a multi-platform index patched to another repository (blobs mounted,
# the source tag untouched), a Docker schema 2 manifest kept Docker, docker:// -> oci: and
# oci: -> docker://, unpack and verify of a docker:// image, and a tag that does not exist.
. "$(dirname "$0")/lib.sh"
e2e_init
. "$(dirname "$0")/registry.bash"
T=$E2E_TMP

e2e_step "images: the seed's rootful image, a two-platform index"
e2e_build_rootful "$T/img:latest" --urlserve --nologin
e2e_build_multiplatform "$T/mp" latest

e2e_step "start the registry, push with skopeo (OCI, Docker schema 2, an index)"
reg_start plain
reg_skopeo copy -q "oci:$T/img:latest" "docker://$REG/seed:v1"
reg_skopeo copy -q "oci:$T/img:latest" "docker://$REG/seed2:v1"
reg_skopeo copy -q --format v2s2 "oci:$T/img:latest" "docker://$REG/d2:v1"
reg_skopeo copy -q --all "oci:$T/mp:latest" "docker://$REG/mp:v1"
old_digest=$(reg_inspect "docker://$REG/seed:v1" | jq -r .Digest)

e2e_step "audit docker://: findings, exit 1"
rc=0; out=$("$NONROOT" audit "${REG_FLAGS[@]}" "docker://$REG/seed:v1") || rc=$?
echo "$out"
[ "$rc" = 1 ]
e2e_expect_contains "$out" "NR001 error   User is not set"

e2e_step "patch in place: uploads only the new layer and the config"
reg_mark
"$NONROOT" patch "${REG_FLAGS[@]}" "docker://$REG/seed:v1"
reg_requests
up=$(reg_uploaded_bytes)
echo "uploaded blob bytes: $up"
[ "$up" -gt 0 ] && [ "$up" -lt 65536 ]
# exactly two blobs went up (layer + config), nothing was re-uploaded
[ "$(reg_requests | grep -c '^PUT /v2/seed/blobs/uploads/')" = 2 ]
[ "$(reg_requests | grep -c '^PUT /v2/seed/manifests/v1 201')" = 1 ]
cfg=$(reg_inspect --config "docker://$REG/seed:v1")
[ "$(jq -r .config.User <<<"$cfg")" = "1654:1654" ]
[ "$(jq -r '.config.ExposedPorts | keys | join(",")' <<<"$cfg")" = "8080/tcp" ]
[ "$(reg_inspect "docker://$REG/seed:v1" | jq -r .Digest)" != "$old_digest" ]

e2e_step "audit the result: clean; user resolve and k8s read it too"
"$NONROOT" audit "${REG_FLAGS[@]}" "docker://$REG/seed:v1" --fail-on warning
[ "$("$NONROOT" user resolve app --image "docker://$REG/seed:v1" "${REG_FLAGS[@]}" --json | jq -c '[.uid, .gid, .home]')" = '[1654,1654,"/home/app"]' ]
"$NONROOT" k8s "${REG_FLAGS[@]}" "docker://$REG/seed:v1" | grep 'runAsUser: 1654' >/dev/null 

e2e_step "unpack and verify read docker:// (layers downloaded and digest-checked)"
"$NONROOT" unpack -q "${REG_FLAGS[@]}" "docker://$REG/seed:v1" "$T/unpacked"
grep -q '^app:x:1654:1654:' "$T/unpacked/etc/passwd"
[ "$(stat -c %u:%g "$T/unpacked/home/app")" = "1654:1654" ] || [ "$(id -u)" != 0 ]
"$NONROOT" unpack -q "${REG_FLAGS[@]}" --bundle "docker://$REG/seed:v1" "$T/unpacked-bundle"
[ "$(jq -c .process.user "$T/unpacked-bundle/config.json")" = '{"uid":1654,"gid":1654}' ]
rc=0; err=$("$NONROOT" unpack "docker://$REG/seed:v1" "$T/no-tls" 2>&1) || rc=$?
[ "$rc" = 2 ]
[ ! -e "$T/no-tls" ]
e2e_can_run && {
	"$NONROOT" verify "${REG_FLAGS[@]}" "docker://$REG/seed:v1" --timeout 30
	"$NONROOT" patch "${REG_FLAGS[@]}" "docker://$REG/seed:v1" --verify --timeout 30
}

e2e_step "same base, warm layer-scan cache: no layer is downloaded"
reg_mark
"$NONROOT" patch "${REG_FLAGS[@]}" "docker://$REG/seed2:v1" >/dev/null
reg_requests
layer_gets=$(reg_requests | awk '$1 == "GET" && $2 ~ /\/blobs\// && $3 == 200' | wc -l)
# one GET: the config (the layer's scan came from the cache)
echo "blob GETs: $layer_gets"
[ "$layer_gets" = 1 ]

e2e_step "skopeo copy docker:// -> oci: verifies every digest; runc runs the result"
reg_skopeo copy -q "docker://$REG/seed:v1" "oci:$T/pulled:latest"
e2e_can_run && {
	e2e_bundle "$T/pulled:latest" "$T/b1"
	[ "$(jq -c .process.user "$T/b1/config.json")" = '{"uid":1654,"gid":1654}' ]
	e2e_bundle_args "$T/b1" id
	out=$(e2e_run "$T/b1")
	echo "$out"
	e2e_expect_contains "$out" "uid=1654(app) gid=1654(app)"
}

e2e_step "multi-platform index -> another repository: blobs mounted, source tag unchanged"
src_digest=$(reg_inspect --raw "docker://$REG/mp:v1" | sha256sum | cut -d' ' -f1)
reg_mark
"$NONROOT" patch "${REG_FLAGS[@]}" "docker://$REG/mp:v1" -o "docker://$REG/team/mp-nonroot:v1" >/dev/null
reg_requests
reg_requests | grep '^POST /v2/team/mp-nonroot/blobs/uploads/?mount=sha256:.*&from=mp 201' >/dev/null
[ "$(reg_inspect --raw "docker://$REG/mp:v1" | sha256sum | cut -d' ' -f1)" = "$src_digest" ]
raw=$(reg_inspect --raw "docker://$REG/team/mp-nonroot:v1")
[ "$(jq -r .mediaType <<<"$raw")" = "application/vnd.oci.image.index.v1+json" ]
[ "$(jq '.manifests | length' <<<"$raw")" = 2 ]
for p in amd64 arm64; do
	u=$(reg_inspect --config --override-arch "$p" "docker://$REG/team/mp-nonroot:v1" | jq -r .config.User)
	[ "$u" = "1654:1654" ]
	u=$(reg_inspect --config --override-arch "$p" "docker://$REG/mp:v1" | jq -r '.config.User // ""')
	[ "$u" = "" ]
done
reg_skopeo copy -q --all "docker://$REG/team/mp-nonroot:v1" "oci:$T/mp-pulled:latest"

e2e_step "Docker schema 2 manifest: patched in place, stays Docker schema 2"
[ "$(reg_inspect --raw "docker://$REG/d2:v1" | jq -r .mediaType)" = "application/vnd.docker.distribution.manifest.v2+json" ]
"$NONROOT" patch "${REG_FLAGS[@]}" "docker://$REG/d2:v1" >/dev/null
[ "$(reg_inspect --raw "docker://$REG/d2:v1" | jq -r .mediaType)" = "application/vnd.docker.distribution.manifest.v2+json" ]
[ "$(reg_inspect --config "docker://$REG/d2:v1" | jq -r .config.User)" = "1654:1654" ]
reg_skopeo copy -q "docker://$REG/d2:v1" "oci:$T/d2:latest"

e2e_step "docker:// -> oci: (layers fetched) and oci: -> docker:// (pushed from the layout)"
"$NONROOT" patch "${REG_FLAGS[@]}" "docker://$REG/mp:v1" -o "oci:$T/mp-out:patched" >/dev/null
reg_skopeo copy -q --all "oci:$T/mp-out:patched" "oci:$T/mp-out2:x"
"$NONROOT" patch "${REG_FLAGS[@]}" "oci:$T/img:latest" -o "docker://$REG/fromoci:v2" >/dev/null
[ "$(reg_inspect --config "docker://$REG/fromoci:v2" | jq -r .config.User)" = "1654:1654" ]
reg_skopeo copy -q "docker://$REG/fromoci:v2" "oci:$T/fromoci:latest"

e2e_step "a tag that does not exist: exit 2, the registry, repository, status and a hint"
rc=0; err=$("$NONROOT" audit "${REG_FLAGS[@]}" "docker://$REG/seed:nope" 2>&1) || rc=$?
echo "$err"
[ "$rc" = 2 ]
e2e_expect_contains "$err" "registry $REG, repository seed: manifest nope: HTTP 404"
e2e_expect_contains "$err" "no such repository, tag or digest"
e2e_step "--tag outside the registry's tag grammar: refused before any upload, not echoed"
reg_mark
rc=0; err=$("$NONROOT" patch "${REG_FLAGS[@]}" "docker://$REG/seed2:v1" --tag 'v2?x=1#' 2>&1) || rc=$?
echo "$err"
[ "$rc" = 2 ]
e2e_expect_contains "$err" "invalid tag for a registry"
if grep -qF 'v2?x' <<<"$err"; then echo "the tag was echoed"; exit 1; fi
if reg_requests | grep '^PUT ' >/dev/null; then echo "something was uploaded"; exit 1; fi
echo "e2e: registry_patch OK"
