#!/usr/bin/env bash
# docker:// with authentication and TLS against a real registry: TLS with a CA made by openssl
# now (--cert-dir) and htpasswd basic auth; credentials from --creds, --authfile,
# $REGISTRY_AUTH_FILE and ~/.docker/config.json; wrong or missing credentials and an unknown
# CA fail with exit 2, the registry, the status and a hint, never the password; bearer tokens
# (a token server in front of the registry: regproxy.py --bearer) fetched with the repository
# scope and fetched again when one expires. The patched image is checked with skopeo and runc.
. "$(dirname "$0")/lib.sh"
e2e_init
. "$(dirname "$0")/registry.bash"
T=$E2E_TMP

e2e_build_rootful "$T/img:latest" --nologin

e2e_step "registry with TLS (test CA) and htpasswd auth; skopeo pushes the image"
reg_start secure --tls --htpasswd alice:wonderland
reg_skopeo copy -q "oci:$T/img:latest" "docker://$REG/app:v1"
CD=(--cert-dir "$REG_DIR/certs")

e2e_step "no credentials: 401 with a hint"
rc=0; err=$("$NONROOT" audit "${CD[@]}" "docker://$REG/app:v1" 2>&1) || rc=$?
echo "$err"
[ "$rc" = 2 ]
e2e_expect_contains "$err" "registry $REG, repository app"
e2e_expect_contains "$err" "HTTP 401"
e2e_expect_contains "$err" "--creds"

e2e_step "wrong credentials: 401, the password is not printed"
rc=0; err=$("$NONROOT" audit "${CD[@]}" --creds alice:S3cretWrong "docker://$REG/app:v1" 2>&1) || rc=$?
echo "$err"
[ "$rc" = 2 ]
e2e_expect_contains "$err" "HTTP 401"
! grep -q S3cretWrong <<<"$err"

e2e_step "TLS without the CA: a TLS error naming --cert-dir and --tls-verify"
rc=0; err=$("$NONROOT" audit --creds alice:wonderland "docker://$REG/app:v1" 2>&1) || rc=$?
echo "$err"
[ "$rc" = 2 ]
e2e_expect_contains "$err" "--cert-dir"
e2e_expect_contains "$err" "--tls-verify=false"

e2e_step "--tls-verify=false: TLS without verification works"
rc=0; "$NONROOT" audit --tls-verify=false --creds alice:wonderland "docker://$REG/app:v1" >/dev/null || rc=$?
[ "$rc" = 1 ]

e2e_step "--creds, --authfile, \$REGISTRY_AUTH_FILE, ~/.docker/config.json"
rc=0; "$NONROOT" audit "${CD[@]}" --creds alice:wonderland "docker://$REG/app:v1" >/dev/null || rc=$?
[ "$rc" = 1 ]
auth=$(printf 'alice:wonderland' | base64)
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG" "$auth" >"$T/auth.json"
rc=0; "$NONROOT" audit "${CD[@]}" --authfile "$T/auth.json" "docker://$REG/app:v1" >/dev/null || rc=$?
[ "$rc" = 1 ]
rc=0; REGISTRY_AUTH_FILE=$T/auth.json "$NONROOT" audit "${CD[@]}" "docker://$REG/app:v1" >/dev/null || rc=$?
[ "$rc" = 1 ]
mkdir -p "$T/home/.docker"
printf '{"auths":{"https://%s/v1/":{"auth":"%s"}}}\n' "$REG" "$auth" >"$T/home/.docker/config.json"
rc=0; HOME=$T/home XDG_RUNTIME_DIR= "$NONROOT" audit "${CD[@]}" "docker://$REG/app:v1" >/dev/null || rc=$?
[ "$rc" = 1 ]
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG" "$(printf 'alice:nope' | base64)" >"$T/bad.json"
rc=0; err=$("$NONROOT" audit "${CD[@]}" --authfile "$T/bad.json" "docker://$REG/app:v1" 2>&1) || rc=$?
[ "$rc" = 2 ]
e2e_expect_contains "$err" "HTTP 401"

e2e_step "patch in place over TLS with the auth file; skopeo verifies, runc runs it"
"$NONROOT" patch "${CD[@]}" --authfile "$T/auth.json" "docker://$REG/app:v1" >/dev/null
[ "$(reg_inspect --config "docker://$REG/app:v1" | jq -r .config.User)" = "1654:1654" ]
reg_skopeo copy -q "docker://$REG/app:v1" "oci:$T/pulled:latest"
if e2e_can_run; then
	e2e_bundle "$T/pulled:latest" "$T/b1"
	e2e_bundle_args "$T/b1" id
	out=$(e2e_run "$T/b1")
	echo "$out"
	e2e_expect_contains "$out" "uid=1654(app) gid=1654(app)"
fi
reg_stop

e2e_step "bearer tokens: a token server in front of an open registry"
reg_start open
reg_skopeo copy -q "oci:$T/img:latest" "docker://$REG/team/app:v1"
reg_proxy_start --bearer bob:builder --token-uses 6
"$NONROOT" patch --tls-verify=false --creds bob:builder "docker://$PROXY/team/app:v1" >/dev/null
cat "$PROXY_LOG"
grep -q '^GET /token?service=regproxy&scope=repository%3Ateam%2Fapp%3Apull%2Cpush 200' "$PROXY_LOG"
grep -q '^GET /token?service=regproxy&scope=repository%3Ateam%2Fapp%3Apull 200' "$PROXY_LOG"
# tokens expire after 6 requests: a fresh one was fetched mid-run, nothing failed after it
[ "$(grep -c '^GET /token' "$PROXY_LOG")" -ge 2 ]
[ "$(reg_inspect --config "docker://$REG/team/app:v1" | jq -r .config.User)" = "1654:1654" ]
rc=0; err=$("$NONROOT" audit --tls-verify=false --creds bob:wrongpass "docker://$PROXY/team/app:v1" 2>&1) || rc=$?
echo "$err"
[ "$rc" = 2 ]
e2e_expect_contains "$err" "token request: HTTP 401"
! grep -q wrongpass <<<"$err"
echo "e2e: registry_auth OK"
