#!/usr/bin/env bash
# The seed's scenario, for real: a rootful ASP.NET-style image (example server, passwd with only
# root, ASPNETCORE_URLS=http://+:80, EXPOSE 80) run as uid 1654 without CAP_NET_BIND_SERVICE
# fails to bind 80; after `nonroot patch` skopeo copies it (verifying every digest), umoci
# unpacks it (resolving User from the patched passwd) and runc runs it: `id` prints
# uid=1654(app) gid=1654(app) and the server listens on 8080. Audit before (findings) and
# after (clean); patching twice changes nothing.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP
e2e_can_run || e2e_skip "runc needs root"

e2e_step "build the rootful image (example server: $(e2e_server_path || echo 'busybox httpd stand-in'))"
e2e_build_rootful "$T/img:latest" --urlserve --nologin

e2e_step "audit before: findings (exit 1)"
rc=0; out=$("$NONROOT" audit "oci:$T/img:latest") || rc=$?
echo "$out"
[ "$rc" = 1 ]
e2e_expect_contains "$out" "NR001 error   User is not set"
e2e_expect_contains "$out" "NR005 warning ASPNETCORE_URLS=http://+:80"
e2e_expect_contains "$out" "NR004 warning ExposedPorts has privileged port 80/tcp"

e2e_step "unpatched, as uid 1654 without CAP_NET_BIND_SERVICE: bind 80 fails"
e2e_bundle "$T/img:latest" "$T/b0"
e2e_bundle_user "$T/b0" 1654 1654
e2e_bundle_args "$T/b0" /app/serve
rc=0; out=$(e2e_run "$T/b0") || rc=$?
echo "$out"
[ "$rc" != 0 ]
e2e_expect_contains "$out" "Permission denied"

e2e_step "the suite's runc property check (e2e_patch) catches a root image that stays up"
# (the image as it is exits at once, bind: Permission denied, and leaves nothing to observe)
cp -a "$T/img" "$T/rootimg"
umoci config --image "$T/rootimg:latest" --config.env ASPNETCORE_URLS=http://+:8080
if e2e_runc_property "oci:$T/rootimg:latest" 1024 "" "(self-check of the property)" 2>/dev/null; then
	echo "e2e_runc_property passed a root image" >&2
	exit 1
fi
rm -f "$E2E_TMP/property-violations"

e2e_step "nonroot patch (in place)"
e2e_patch "oci:$T/img:latest"
cfg=$(e2e_config_of "$T/img:latest")
[ "$(jq -r .config.User <<<"$cfg")" = "1654:1654" ]
[ "$(jq -r '.config.ExposedPorts | keys | join(",")' <<<"$cfg")" = "8080/tcp" ]
jq -e '.config.Env | index("ASPNETCORE_URLS=http://+:8080")' <<<"$cfg" >/dev/null
jq -e '.config.Env | index("APP_UID=1654")' <<<"$cfg" >/dev/null
[ "$(jq '.rootfs.diff_ids | length' <<<"$cfg")" = "$(jq '[.history[] | select(.empty_layer != true)] | length' <<<"$cfg")" ]

e2e_step "skopeo copy verifies every digest"
e2e_convert "oci:$T/img:latest" "oci:$T/copy:latest"

e2e_step "nonroot user resolve app --image: the patched passwd resolves it as runc would"
[ "$("$NONROOT" user resolve app --image "oci:$T/img:latest" --json | jq -c '[.uid, .gid, .home]')" = '[1654,1654,"/home/app"]' ]

e2e_step "audit after: clean (exit 0)"
"$NONROOT" audit "oci:$T/img:latest" --fail-on warning | tee "$T/audit.txt"
e2e_expect_contains "$(cat "$T/audit.txt")" "clean: no findings"

e2e_step "run the patched image: id, then the server on 8080 (no CAP_NET_BIND_SERVICE)"
e2e_bundle "$T/copy:latest" "$T/b1"
[ "$(jq -c .process.user "$T/b1/config.json")" = '{"uid":1654,"gid":1654}' ]
e2e_bundle_args "$T/b1" id
out=$(e2e_run "$T/b1")
echo "$out"
e2e_expect_contains "$out" "uid=1654(app) gid=1654(app)"
e2e_bundle_args "$T/b1" sh -c '/app/serve & sleep 1; netstat -ltn; wget -qO- http://127.0.0.1:8080/ ; echo; kill $!'
out=$(e2e_run "$T/b1")
echo "$out"
e2e_expect_contains "$out" ":8080"
e2e_expect_contains "$out" "LISTEN"
if grep -qE ':80 ' <<<"$out"; then echo "still listening on 80" >&2; exit 1; fi
[ -d "$T/b1/rootfs/home/app" ] && [ "$(stat -c %u:%g:%a "$T/b1/rootfs/home/app")" = "1654:1654:755" ]

e2e_step "patch twice: nothing changes, and it says so"
before=$(cat "$T/img/index.json")
out=$(e2e_patch "oci:$T/img:latest")
echo "$out"
e2e_expect_contains "$out" "already patched: nothing to change"
[ "$before" = "$(cat "$T/img/index.json")" ]
echo ok
