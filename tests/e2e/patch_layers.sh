#!/usr/bin/env bash
# nonroot patch over layer stacks and image shapes: passwd whited out and re-added, an opaque
# /etc, a symlinked /etc/passwd, a multi-platform index, a distroless-like image (no shell,
# no /etc/shadow, no nologin), compat mode; each result verified by skopeo, umoci and runc.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

run_id() {   # run_id IMAGE [ID_COMMAND...]
	local image=$1 out; shift
	e2e_can_run || return 0
	e2e_bundle "$image" "$T/b"
	e2e_bundle_args "$T/b" "${@:-id}"
	out=$(e2e_run "$T/b")
	echo "   $out"
	e2e_expect_contains "$out" "uid=1654(app) gid=1654(app)"
}

e2e_step "passwd whited out in an upper layer and re-added: the effective one is patched"
e2e_build_multilayer "$T/ml:latest"
e2e_patch "oci:$T/ml:latest" >/dev/null
e2e_convert "oci:$T/ml:latest" "oci:$T/ml2:latest"
e2e_bundle "$T/ml2:latest" "$T/b"
diff <(printf 'root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/sbin/nologin\napp:x:1654:1654::/home/app:/bin/false\n') "$T/b/rootfs/etc/passwd"
grep -q '^app:!:' "$T/b/rootfs/etc/shadow"
run_id "$T/ml2:latest"

e2e_step "opaque /etc: the lower layer's uid-1654 user is hidden, so no conflict"
e2e_build_opaque "$T/op:latest"
out=$(e2e_patch "oci:$T/op:latest" --format json)
jq -e '[.changes[] | select(.target == "etc/shadow")] | length == 0' <<<"$out" >/dev/null
run_id "$T/op:latest"

e2e_step "a stale user with uid 1654 in a visible passwd is a conflict, named"
e2e_build_rootful "$T/cf:latest"
root=$(mktemp -d "$T/up.XXXXXX"); mkdir -p "$root/etc"
printf 'root:x:0:0:root:/root:/bin/sh\nstale:x:1654:1654::/home/stale:/bin/sh\n' > "$root/etc/passwd"
e2e_image_add_dir "$T/cf:latest" "$root"
rc=0; out=$(e2e_patch "oci:$T/cf:latest" 2>&1) || rc=$?
echo "   $out"
[ "$rc" = 2 ]
e2e_expect_contains "$out" "uid 1654 is taken by user 'stale'"
out=$(e2e_patch "oci:$T/cf:latest" --uid 1655 --gid 1655 --format json)
[ "$(jq -r .uid <<<"$out")" = 1655 ]

e2e_step "symlinked /etc/passwd: the target is patched, the link kept"
e2e_build_symlinked "$T/sl:latest"
out=$(e2e_patch "oci:$T/sl:latest" --format json)
jq -e '.changes[] | select(.what == "file" and .target == "usr/lib/passwd")' <<<"$out" >/dev/null
e2e_bundle "$T/sl:latest" "$T/b"
[ "$(readlink "$T/b/rootfs/etc/passwd")" = ../usr/lib/passwd ]
grep -q '^app:x:1654:1654:' "$T/b/rootfs/usr/lib/passwd"
run_id "$T/sl:latest"

e2e_step "multi-platform index: both platforms patched"
e2e_build_multiplatform "$T/mp" multi
out=$(e2e_patch "oci:$T/mp:multi" --format json)
[ "$(jq '[.changes[] | select(.what == "layer")] | length' <<<"$out")" = 2 ]
jq -r '[.changes[].platform] | unique | join(" ")' <<<"$out" | grep 'linux/amd64 linux/arm64' >/dev/null
e2e_convert "oci:$T/mp:multi" "oci:$T/mp2:multi" --all
idx=$(cat "$(e2e_blob_of "$T/mp2:multi" manifest)")
for d in $(jq -r '.manifests[].digest' <<<"$idx"); do
	c=$(jq -r .config.digest "$T/mp2/blobs/sha256/${d#sha256:}")
	[ "$(jq -r .config.User "$T/mp2/blobs/sha256/${c#sha256:}")" = "1654:1654" ]
done
out=$("$NONROOT" audit "oci:$T/mp:multi" --format json --fail-on warning)
[ "$(jq '.platforms | length' <<<"$out")" = 2 ]
out=$(e2e_patch "oci:$T/mp:multi" --platform linux/arm64)
e2e_expect_contains "$out" "already patched"

e2e_step "distroless-like: no shell, no /etc/shadow, no nologin -> shell /bin/false"
e2e_build_rootful "$T/dl:latest" --distroless
out=$(e2e_patch "oci:$T/dl:latest" --format json)
jq -e '.changes[] | select(.target == "etc/passwd") | .after | endswith(":/bin/false")' <<<"$out" >/dev/null
jq -e '[.changes[] | select(.target == "etc/shadow" or .target == "etc/gshadow")] | length == 0' <<<"$out" >/dev/null
run_id "$T/dl:latest" /app/busybox id
"$NONROOT" audit "oci:$T/dl:latest" --fail-on warning >/dev/null

e2e_step "compat mode: user added, ports added beside the old ones, still runs as root"
e2e_build_rootful "$T/cm:latest" --nologin
# compat keeps the image running as root: written, but not done (exit 1, NR001 remains)
rc=0; out=$(e2e_patch "oci:$T/cm:latest" --mode compat 2>&1) || rc=$?
[ $rc = 1 ] || { echo "compat: exit $rc, expected 1" >&2; exit 1; }
e2e_expect_contains "$out" "NOT DONE: 1 error-level finding remains"
e2e_expect_contains "$out" "NR001 config.User"
cfg=$(e2e_config_of "$T/cm:latest")
[ "$(jq -r '.config.User // ""' <<<"$cfg")" = "" ]
jq -e '.config.Env | index("ASPNETCORE_URLS=http://+:80;http://+:8080")' <<<"$cfg" >/dev/null
[ "$(jq -r '.config.ExposedPorts | keys | join(",")' <<<"$cfg")" = "80/tcp,8080/tcp" ]
rc=0; out=$(e2e_patch "oci:$T/cm:latest" --mode compat) || rc=$?
[ $rc = 1 ]
e2e_expect_contains "$out" "already patched"
if e2e_can_run; then
	e2e_bundle "$T/cm:latest" "$T/b"
	e2e_bundle_args "$T/b" id
	e2e_expect_contains "$(e2e_run "$T/b")" "uid=0(root)"
	# the same image as the added non-root user: the 8080 binding is there for it
	e2e_bundle_user "$T/b" 1654 1654
	e2e_bundle_args "$T/b" id
	e2e_expect_contains "$(e2e_run "$T/b")" "uid=1654(app) gid=1654(app)"
fi
echo ok
