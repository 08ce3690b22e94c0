#!/usr/bin/env bash
# Issue 12 case 9: patching a docker-archive in place leaves nothing that describes the old
# image under its tag: `repositories` no longer maps the tag to the old image's v1 id, and
# that id's legacy "<id>/json" (the old config, User root) and "<id>/VERSION" are gone.
# skopeo writes these legacy files (docker save does too); loaders since Docker 1.10 and
# skopeo read manifest.json.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

e2e_step "a rootful image as docker-archive with two tags (skopeo: repositories, <id>/json)"
e2e_build_rootful "$T/img:latest"
e2e_convert "oci:$T/img:latest" "docker-archive:$T/x.tar:app:1"
tar -tf "$T/x.tar" | sort
old=$(tar -xOf "$T/x.tar" repositories | jq -r '.["docker.io/library/app"]["1"]')
[ ${#old} = 64 ]
tar -xOf "$T/x.tar" "$old/json" | jq -e '.config.User // "" | . == "" or . == "root" or . == "0"'
# another image in the same archive, with its own legacy metadata: kept as it is
e2e_build_rootful "$T/other:latest"
mkdir -p "$T/o/etc"
echo other >"$T/o/etc/marker"
e2e_image_add_dir "$T/other:latest" "$T/o"
e2e_convert "oci:$T/other:latest" "docker-archive:$T/y.tar:other:2"
other=$(tar -xOf "$T/y.tar" repositories | jq -r '.["docker.io/library/other"]["2"]')

cp "$T/x.tar" "$T/x0.tar"

e2e_step "patch it in place"
e2e_patch "docker-archive:$T/x.tar" >/dev/null
tar -tf "$T/x.tar" | sort
# nothing maps app:1 to the old id any more, and the old id's json and VERSION are gone
if tar -tf "$T/x.tar" | grep -x repositories >/dev/null; then
	tar -xOf "$T/x.tar" repositories | jq -e --arg o "$old" \
		'[.. | strings | select(. == $o)] | length == 0'
fi
! tar -tf "$T/x.tar" | grep -E "^$old/(json|VERSION)$"
# its layer.tar (a link to a layer the patched image still has) stays
tar -tf "$T/x.tar" | grep -x "$old/layer.tar" >/dev/null
# the old config (User root) is not carried along either
oldcfg=$(tar -xOf "$T/x0.tar" manifest.json | jq -r '.[0].Config')
! tar -tf "$T/x.tar" | grep -x "$oldcfg"
# every legacy json left does not describe a root image under app:1; manifest.json does
! tar -tf "$T/x.tar" | grep -E '^[0-9a-f]{64}/json$'
tar -xOf "$T/x.tar" manifest.json | jq -e '.[0].RepoTags == ["docker.io/library/app:1"]'
user=$("${E2E_SKOPEO[@]}" inspect --config "docker-archive:$T/x.tar" | jq -r .config.User)
echo "User: $user"
[ "$user" = 1654:1654 ]

e2e_step "an archive with another image's legacy metadata: only the patched tag's go"
# both images in one archive: y's entry and legacy files appended to x's
mkdir -p "$T/m" && (cd "$T/m" && tar -xf "$T/x0.tar" && tar -xf "$T/y.tar" --exclude manifest.json --exclude repositories)
jq -s '.[0] + .[1]' <(tar -xOf "$T/x0.tar" manifest.json) <(tar -xOf "$T/y.tar" manifest.json) >"$T/m/manifest.json"
jq -s '.[0] + .[1]' <(tar -xOf "$T/y.tar" repositories) <(tar -xOf "$T/x0.tar" repositories) >"$T/m/repositories"
(cd "$T/m" && tar -cf "$T/both.tar" *)
e2e_patch "docker-archive:$T/both.tar:app:1" >/dev/null
tar -xOf "$T/both.tar" repositories | jq -c .
tar -xOf "$T/both.tar" repositories | jq -e --arg o "$other" '. == {"docker.io/library/other": {"2": $o}}'
tar -tf "$T/both.tar" | grep -x "$other/json" >/dev/null
tar -tf "$T/both.tar" | grep -x "$other/layer.tar" >/dev/null
! tar -tf "$T/both.tar" | grep -E "^$old/(json|VERSION)$"
echo ok
