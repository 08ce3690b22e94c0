#!/usr/bin/env bash
# Machine-readable results of nonroot patch (issue 13): --format json gives the new layer
# (digest, size, diff_id), the new config and manifest and the written image's digest;
# --digestfile FILE writes that digest as `skopeo copy --digestfile` does. Each digest is
# checked against the written layout, against skopeo (inspect --raw, copy --digestfile), and
# the report against docs/schemas/patch.json (Python: python/tests/test_consistency.py).
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

validate_patch() {   # validate_patch REPORT.json: against docs/schemas/patch.json (+ urls.json)
	python3 - "$NR_SRC/docs/schemas" "$1" <<'PY'
import json, os, sys
import jsonschema
from referencing import Registry, Resource
d = sys.argv[1]
schemas = {n: json.load(open(os.path.join(d, n + ".json"))) for n in ("urls", "patch")}
reg = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in schemas.values()])
jsonschema.Draft202012Validator(schemas["patch"], registry=reg).validate(json.load(open(sys.argv[2])))
PY
}

e2e_build_rootful "$T/img:latest"

e2e_step "patch -o oci:... --format json --digestfile"
"$NONROOT" patch "oci:$T/img:latest" -o "oci:$T/out:v1" --format json --digestfile "$T/digest" \
	> "$T/p.json"
validate_patch "$T/p.json"
digest=$(cat "$T/digest")
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "e2e: digestfile holds '$digest'" >&2; exit 1; }
[ "$(wc -l < "$T/digest")" = 0 ]   # no newline, as skopeo writes it
m=$(e2e_blob_of "$T/out:v1" manifest)
[ "sha256:$(sha256sum "$m" | cut -d' ' -f1)" = "$digest" ]
[ "$(jq -r .result.digest "$T/p.json")" = "$digest" ]
[ "$(jq -r .result.size "$T/p.json")" = "$(stat -c %s "$m")" ]
[ "$(jq -r .result.media_type "$T/p.json")" = "application/vnd.oci.image.manifest.v1+json" ]
[ "$(jq -r '.platforms[0].manifest.digest' "$T/p.json")" = "$digest" ]
# layer and config as the manifest and the config name them
[ "$(jq -r '.layers[-1].digest' "$m")" = "$(jq -r '.platforms[0].layer.digest' "$T/p.json")" ]
[ "$(jq -r '.layers[-1].size' "$m")" = "$(jq -r '.platforms[0].layer.size' "$T/p.json")" ]
[ "$(jq -r '.layers[-1].mediaType' "$m")" = "$(jq -r '.platforms[0].layer.media_type' "$T/p.json")" ]
[ "$(jq -r .config.digest "$m")" = "$(jq -r '.platforms[0].config.digest' "$T/p.json")" ]
[ "$(jq -r '.rootfs.diff_ids[-1]' "$(e2e_blob_of "$T/out:v1" config)")" = \
	"$(jq -r '.platforms[0].layer.diff_id' "$T/p.json")" ]
# the diff_id is the sha256 of the uncompressed layer
[ "sha256:$(gzip -dc "$(e2e_blob_of "$T/out:v1" layer-1)" | sha256sum | cut -d' ' -f1)" = \
	"$(jq -r '.platforms[0].layer.diff_id' "$T/p.json")" ]

e2e_step "skopeo agrees: inspect --raw and copy --digestfile"
[ "sha256:$("${E2E_SKOPEO[@]}" inspect --raw "oci:$T/out:v1" | sha256sum | cut -d' ' -f1)" = "$digest" ]
e2e_convert "oci:$T/out:v1" "oci:$T/copy:v1" --digestfile "$T/skopeo-digest"
[ "$(cat "$T/skopeo-digest")" = "$digest" ]

e2e_step "a dry run: the layer it would add, no result"
"$NONROOT" patch "oci:$T/img:latest" --dry-run --format json > "$T/dry.json"
validate_patch "$T/dry.json"
[ "$(jq -r .result "$T/dry.json")" = null ]
[ "$(jq -r '.platforms[0].config' "$T/dry.json")" = null ]
[ "$(jq -r '.platforms[0].layer.digest' "$T/dry.json")" = "$(jq -r '.platforms[0].layer.digest' "$T/p.json")" ]

e2e_step "already patched, in place: the digest of what is there"
"$NONROOT" patch "oci:$T/out:v1" --digestfile "$T/again" --format json > "$T/again.json"
[ "$(jq -r .changed "$T/again.json")" = false ]
[ "$(jq -r '.platforms[0].layer' "$T/again.json")" = null ]
[ "$(cat "$T/again")" = "$digest" ]

e2e_step "multi-platform: the index digest, one manifest per platform"
e2e_build_multiplatform "$T/multi" all
"$NONROOT" patch "oci:$T/multi:all" -o "oci:$T/mout:all" --format json --digestfile "$T/mdigest" > "$T/m.json"
validate_patch "$T/m.json"
idx=$(e2e_blob_of "$T/mout:all" manifest)
[ "sha256:$(sha256sum "$idx" | cut -d' ' -f1)" = "$(cat "$T/mdigest")" ]
[ "$(jq -r .result.media_type "$T/m.json")" = "application/vnd.oci.image.index.v1+json" ]
[ "$(jq -c '[.manifests[].digest]' "$idx")" = "$(jq -c '[.platforms[].manifest.digest]' "$T/m.json")" ]
e2e_convert "oci:$T/mout:all" "oci:$T/mcopy:all" --all --digestfile "$T/mskopeo"
[ "$(cat "$T/mskopeo")" = "$(cat "$T/mdigest")" ]

e2e_step "refused: --dry-run, a docker-archive destination, several images"
rc=0; "$NONROOT" patch "oci:$T/img:latest" --dry-run --digestfile "$T/x" 2>/dev/null || rc=$?
[ "$rc" = 2 ]
rc=0; "$NONROOT" patch "oci:$T/img:latest" -o "docker-archive:$T/d.tar:a/b:c" --digestfile "$T/x" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && e2e_expect_contains "$(cat "$T/err")" "stores no manifest digest"
[ ! -e "$T/d.tar" ] && [ ! -e "$T/x" ]
rc=0; "$NONROOT" patch "oci:$T/img:latest" "oci:$T/out:v1" --digestfile "$T/x" 2>/dev/null || rc=$?
[ "$rc" = 2 ]

echo "e2e.patch_digest: ok"
