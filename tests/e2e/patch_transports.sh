#!/usr/bin/env bash
# nonroot patch in every transport: oci-archive, docker-archive, zstd layers, and across
# transports; each result is copied by skopeo (digests verified), unpacked by umoci and run.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

e2e_build_rootful "$T/img:latest" --shadow
e2e_convert "oci:$T/img:latest" "oci-archive:$T/img-oci.tar:latest"
e2e_convert "oci:$T/img:latest" "docker-archive:$T/img-docker.tar:example/app:1"
e2e_convert "oci:$T/img:latest" "oci:$T/zst:latest" --dest-compress-format zstd

check_result() {   # check_result SKOPEO_REF NAME [skopeo copy options]
	local ref=$1 name=$2 out
	shift 2
	e2e_convert "$ref" "oci:$T/check-$name:latest" "$@"
	"$NONROOT" audit "oci:$T/check-$name:latest" --fail-on warning >/dev/null
	cfg=$(e2e_config_of "$T/check-$name:latest")
	[ "$(jq -r .config.User <<<"$cfg")" = "1654:1654" ]
	if e2e_can_run; then
		e2e_bundle "$T/check-$name:latest" "$T/b-$name"
		e2e_bundle_args "$T/b-$name" id
		out=$(e2e_run "$T/b-$name")
		e2e_expect_contains "$out" "uid=1654(app) gid=1654(app)"
		grep -q '^app:!:' "$T/b-$name/rootfs/etc/shadow"
	fi
	echo "   $name: ok"
}

e2e_step "oci-archive -> oci-archive"
rc=0; "$NONROOT" audit "oci-archive:$T/img-oci.tar:latest" >/dev/null || rc=$?
[ "$rc" = 1 ]
e2e_patch "oci-archive:$T/img-oci.tar:latest" -o "oci-archive:$T/out-oci.tar:latest" >/dev/null
check_result "oci-archive:$T/out-oci.tar:latest" oci-archive

e2e_step "docker-archive -> docker-archive (Docker media types kept)"
e2e_patch "docker-archive:$T/img-docker.tar" -o "docker-archive:$T/out-docker.tar:example/app:1-nonroot" \
	--format json > "$T/p.json"
jq -e '.changes[] | select(.what == "layer") | .after | test("docker")' "$T/p.json" >/dev/null
check_result "docker-archive:$T/out-docker.tar:example/app:1-nonroot" docker-archive

e2e_step "zstd layers -> oci (new layer: gzip, the others unchanged)"
e2e_patch "oci:$T/zst:latest" -o "oci:$T/out-zst:latest" >/dev/null
m=$(cat "$(e2e_blob_of "$T/out-zst:latest" manifest)")
[ "$(jq -r '.layers[0].mediaType' <<<"$m")" = "application/vnd.oci.image.layer.v1.tar+zstd" ]
[ "$(jq '.layers | length' <<<"$m")" = 2 ]
# umoci 0.4.7 cannot unpack zstd layers: skopeo recompresses them with gzip for the run.
check_result "oci:$T/out-zst:latest" zstd --dest-compress --dest-compress-format gzip

e2e_step "oci -> docker-archive and --tag keeps the old tag"
e2e_patch "oci:$T/img:latest" -o "docker-archive:$T/cross.tar:example/app:2" >/dev/null
check_result "docker-archive:$T/cross.tar:example/app:2" cross
e2e_patch "oci:$T/img:latest" --tag nonroot >/dev/null
jq -r '.manifests[].annotations["org.opencontainers.image.ref.name"]' "$T/img/index.json" | sort | tr '\n' ' ' | grep '^latest nonroot $' >/dev/null
[ "$(jq -r .config.User <<<"$(e2e_config_of "$T/img:latest")")" != "1654:1654" ]
[ "$(jq -r .config.User <<<"$(e2e_config_of "$T/img:nonroot")")" = "1654:1654" ]

e2e_step "an archive patched in place (no -o) is rewritten and stays valid"
e2e_patch "oci-archive:$T/img-oci.tar:latest" >/dev/null
check_result "oci-archive:$T/img-oci.tar:latest" inplace-archive
out=$(e2e_patch "oci-archive:$T/img-oci.tar:latest")
e2e_expect_contains "$out" "already patched"
echo ok
