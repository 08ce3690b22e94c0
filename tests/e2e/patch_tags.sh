#!/usr/bin/env bash
# Destinations and tags of nonroot patch (issue 12, cases 5 and 7), checked with skopeo:
#  - archive to archive (-o): a new destination holds only the patched image, under the
#    requested tag (skopeo inspect works: one image); docker-archive: one RepoTags entry;
#  - an existing oci: layout keeps its other entries; the tag is added or moved;
#  - tags follow the OCI distribution grammar everywhere; a dry run validates exactly what
#    the real run validates; a destination tag and a different --tag are a usage error.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

e2e_build_rootful "$T/img:latest"
e2e_convert "oci:$T/img:latest" "oci-archive:$T/a.tar:latest"
e2e_convert "oci:$T/img:latest" "docker-archive:$T/d.tar:example/app:1"

e2e_step "oci-archive -> new oci-archive:B:v1 holds only the patched image, tagged v1"
e2e_patch "oci-archive:$T/a.tar:latest" -o "oci-archive:$T/b.tar:v1" >/dev/null
"${E2E_SKOPEO[@]}" inspect "oci-archive:$T/b.tar" >/dev/null    # one image: no tag needed
[ "$("${E2E_SKOPEO[@]}" inspect --config "oci-archive:$T/b.tar:v1" | jq -r .config.User)" = 1654:1654 ]
mkdir "$T/bx" && tar -xf "$T/b.tar" -C "$T/bx"
[ "$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | join(",")' "$T/bx/index.json")" = v1 ]

e2e_step "docker-archive -> new docker-archive: one entry, RepoTags [example/app:2]"
e2e_patch "docker-archive:$T/d.tar" -o "docker-archive:$T/e.tar:example/app:2" >/dev/null
"${E2E_SKOPEO[@]}" inspect "docker-archive:$T/e.tar" >/dev/null
[ "$(tar -xOf "$T/e.tar" manifest.json | jq -c '[.[].RepoTags]')" = '[["example/app:2"]]' ]

e2e_step "an existing oci: layout keeps its other entries; the tag is moved or added"
e2e_build_rootful "$T/L:keep"
e2e_convert "oci:$T/img:latest" "oci:$T/L:v1"
keep=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="keep") | .digest' "$T/L/index.json")
e2e_patch "oci:$T/img:latest" -o "oci:$T/L:v1" >/dev/null
e2e_patch "oci:$T/img:latest" -o "oci:$T/L:v2" >/dev/null
[ "$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(",")' "$T/L/index.json")" = keep,v1,v2 ]
[ "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="keep") | .digest' "$T/L/index.json")" = "$keep" ]
[ "$("${E2E_SKOPEO[@]}" inspect --config "oci:$T/L:v1" | jq -r .config.User)" = 1654:1654 ]
[ "$("${E2E_SKOPEO[@]}" inspect --config "oci:$T/L:keep" | jq -r '.config.User // ""')" = "" ]

e2e_step "tag grammar, the same in a dry run and a real run (exit 2, nothing written)"
for bad in bad/tag -x .x a:b UPPER..x _x x- a.-b "$(printf 'x%.0s' $(seq 129))"; do
	for dry in --dry-run ""; do
		rc=0; err=$("$NONROOT" patch "oci:$T/img:latest" --tag "$bad" $dry 2>&1) || rc=$?
		[ "$rc" = 2 ] || { echo "--tag '$bad' $dry: exit $rc" >&2; exit 1; }
		e2e_expect_contains "$err" "invalid tag '$bad'"
	done
	rc=0; err=$("$NONROOT" patch "oci:$T/img:latest" -o "oci:$T/n1:$bad" --dry-run 2>&1) || rc=$?
	[ "$rc" = 2 ] || { echo "-o oci:...:'$bad': exit $rc" >&2; exit 1; }
done
rc=0; err=$("$NONROOT" patch "oci:$T/img:latest" -o "docker-archive:$T/n2.tar:example/app:-x" 2>&1) || rc=$?
[ "$rc" = 2 ]
e2e_expect_contains "$err" "invalid tag '-x'"
[ ! -e "$T/n1" ] && [ ! -e "$T/n2.tar" ]
[ "$(jq -r '.config.User // ""' <<<"$(e2e_config_of "$T/img:latest")")" = "" ]

e2e_step "-o oci:DIR:b --tag c: a usage error naming both, in a dry run too"
for dry in --dry-run ""; do
	rc=0; err=$("$NONROOT" patch "oci:$T/img:latest" -o "oci:$T/n3:b" --tag c $dry 2>&1) || rc=$?
	[ "$rc" = 2 ]
	e2e_expect_contains "$err" "two tags: the destination oci:$T/n3:b names 'b' and --tag names 'c'"
done
[ ! -e "$T/n3" ]

e2e_step "valid tags (skopeo reads each): UPPER.x, a--b, a_b, 9, 128 characters; -o oci:DIR:b --tag b"
e2e_patch "oci:$T/img:latest" -o "oci:$T/ok:b" --tag b >/dev/null
long=$(printf 'y%.0s' $(seq 128))
for t in UPPER.x a--b a_b 9 "$long"; do
	e2e_patch "oci:$T/ok:b" --tag "$t" >/dev/null
	"${E2E_SKOPEO[@]}" inspect "oci:$T/ok:$t" >/dev/null
done
[ "$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(",")' "$T/ok/index.json")" = "9,UPPER.x,a--b,a_b,b,$long" ]
echo ok
