#!/usr/bin/env bash
# The seed's gradual migration (issue 12, case 6): `patch --mode compat --user web --uid 10001`
# (the user and the 8080 binding added beside 80, still root: exit 1 by design), then
# `patch --user web --uid 10001` finishes it (drops the privileged bindings compat kept,
# keeps the new ones, switches the user, says so: exit 0), and a third run changes nothing.
# Each step is checked with skopeo and run with runc without CAP_NET_BIND_SERVICE.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

e2e_build_rootful "$T/img:latest" --nologin
# both bindings in one variable, so the stand-in server (last URL) shows which one it binds
listens() {
	local bundle=$1
	e2e_bundle_args "$bundle" sh -c '/app/serve & sleep 1; id; netstat -ltn; kill $!'
	e2e_run "$bundle"
}

e2e_step "1. compat: user web added, 8080 beside 80, User kept (root): exit 1, NR001 remains"
rc=0; out=$(e2e_patch "oci:$T/img:latest" --mode compat --user web --uid 10001 2>&1) || rc=$?
echo "$out"
[ "$rc" = 1 ]
e2e_expect_contains "$out" "compat mode keeps the image's user: patch again without --mode compat"
cfg=$("${E2E_SKOPEO[@]}" inspect --config "oci:$T/img:latest")
[ "$(jq -r '.config.User // ""' <<<"$cfg")" = "" ]
jq -e '.config.Env | index("ASPNETCORE_URLS=http://+:80;http://+:8080")' <<<"$cfg" >/dev/null
[ "$(jq -r '.config.ExposedPorts | keys | join(",")' <<<"$cfg")" = "80/tcp,8080/tcp" ]
if e2e_can_run; then
	e2e_bundle "$T/img:latest" "$T/b1"
	e2e_bundle_user "$T/b1" 10001 10001
	out=$(listens "$T/b1")
	echo "$out"
	e2e_expect_contains "$out" "uid=10001(web) gid=10001(web)"
	e2e_expect_contains "$out" ":8080"
fi

e2e_step "2. the same user without compat: the migration finishes (exit 0, says so)"
out=$(e2e_patch "oci:$T/img:latest" --user web --uid 10001)
echo "$out"
e2e_expect_contains "$out" "~ env ASPNETCORE_URLS: http://+:80;http://+:8080 -> http://+:8080"
e2e_expect_contains "$out" "finish the gradual migration"
e2e_expect_contains "$out" "+ config User: 10001:10001"
e2e_expect_contains "$out" "audit of the result: clean at error level"
if grep -q "etc/passwd" <<<"$out"; then echo "user added twice" >&2; exit 1; fi
cfg=$("${E2E_SKOPEO[@]}" inspect --config "oci:$T/img:latest")
[ "$(jq -r .config.User <<<"$cfg")" = "10001:10001" ]
jq -e '.config.Env | index("ASPNETCORE_URLS=http://+:8080")' <<<"$cfg" >/dev/null
[ "$(jq -r '.config.ExposedPorts | keys | join(",")' <<<"$cfg")" = "8080/tcp" ]
if e2e_can_run; then
	e2e_bundle "$T/img:latest" "$T/b2"     # runs as the image's User
	[ "$(jq -c .process.user "$T/b2/config.json")" = '{"uid":10001,"gid":10001}' ]
	out=$(listens "$T/b2")
	echo "$out"
	e2e_expect_contains "$out" "uid=10001(web) gid=10001(web)"
	e2e_expect_contains "$out" ":8080"
	if grep -qE ':80 ' <<<"$out"; then echo "listening on 80" >&2; exit 1; fi
fi

e2e_step "3. a third run changes nothing"
before=$(cat "$T/img/index.json")
out=$(e2e_patch "oci:$T/img:latest" --user web --uid 10001)
e2e_expect_contains "$out" "already patched: nothing to change"
[ "$before" = "$(cat "$T/img/index.json")" ]

e2e_step "the same with ASPNETCORE_HTTP_PORTS=80 (compat: 80;8080)"
e2e_build_rootful "$T/hp:latest" --nologin
umoci config --image "$T/hp:latest" --clear=config.env --config.env PATH=/bin:/sbin:/app \
	--config.env ASPNETCORE_HTTP_PORTS=80 >/dev/null
rc=0; e2e_patch "oci:$T/hp:latest" --mode compat >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ]
jq -e '.config.Env | index("ASPNETCORE_HTTP_PORTS=80;8080")' <<<"$(e2e_config_of "$T/hp:latest")" >/dev/null
out=$(e2e_patch "oci:$T/hp:latest")
e2e_expect_contains "$out" "ASPNETCORE_HTTP_PORTS: 80;8080 -> 8080"
out=$(e2e_patch "oci:$T/hp:latest")
e2e_expect_contains "$out" "already patched"
echo ok
