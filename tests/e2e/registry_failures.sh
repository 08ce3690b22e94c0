#!/usr/bin/env bash
# docker:// when things go wrong, against a real registry: the registry dies mid-upload (the
# tag still names the old image, and a second run completes), a blob download that drops is
# resumed with a Range request, blob GETs redirected to another host are followed, 503 and 429
# answers are retried with backoff, and a layer
# whose content does not match its digest (edited in the registry's storage) is refused.
# regproxy.py (tests/e2e) sits between nonroot and the registry for the first three.
. "$(dirname "$0")/lib.sh"
e2e_init
. "$(dirname "$0")/registry.bash"
T=$E2E_TMP

e2e_build_rootful "$T/img:latest" --nologin
reg_start main
port=${REG##*:}
reg_skopeo copy -q "oci:$T/img:latest" "docker://$REG/app:v1"
old=$(reg_inspect --raw "docker://$REG/app:v1" | sha256sum | cut -d' ' -f1)

e2e_step "the registry dies at the first blob upload: exit 2, the old tag is intact"
reg_proxy_start --kill-on-blob-put "$REG_PID"
rc=0; err=$("$NONROOT" patch --tls-verify=false "docker://$PROXY/app:v1" 2>&1) || rc=$?
echo "$err" | tail -3
cat "$PROXY_LOG"
[ "$rc" = 2 ]
e2e_expect_contains "$err" "registry $PROXY, repository app"
grep -q 'DROP registry killed' "$PROXY_LOG"
reg_proxy_stop
reg_start main --port "$port"
[ "$(reg_inspect --raw "docker://$REG/app:v1" | sha256sum | cut -d' ' -f1)" = "$old" ]
reg_skopeo copy -q "docker://$REG/app:v1" "oci:$T/old:latest"
[ "$(jq -r '.config.User // ""' < <(reg_inspect --config "docker://$REG/app:v1"))" = "" ]

e2e_step "run again: completes"
"$NONROOT" patch --tls-verify=false "docker://$REG/app:v1" >/dev/null
[ "$(reg_inspect --config "docker://$REG/app:v1" | jq -r .config.User)" = "1654:1654" ]

e2e_step "a blob download drops half-way: resumed with a Range request"
reg_proxy_start --drop-blob-get
rc=0; "$NONROOT" audit --no-cache --tls-verify=false "docker://$PROXY/app:v1" >/dev/null || rc=$?
cat "$PROXY_LOG"
[ "$rc" = 0 ]
grep -q 'DROP after' "$PROXY_LOG"
grep -qE '^GET /v2/app/blobs/sha256:[0-9a-f]+ 206 0 [0-9]+ range=bytes=[1-9][0-9]*-$' "$PROXY_LOG"
reg_proxy_stop

e2e_step "blobs redirected to another host (as to blob storage): followed"
reg_proxy_start --redirect-blobs
rc=0; "$NONROOT" audit --no-cache --tls-verify=false "docker://$PROXY/app:v1" >/dev/null || rc=$?
cat "$PROXY_LOG"
[ "$rc" = 0 ]
grep -qE '^GET /v2/app/blobs/sha256:[0-9a-f]+ 307 ' "$PROXY_LOG"
reg_proxy_stop

e2e_step "503 three times, then 429 with Retry-After: retried with backoff"
reg_proxy_start --fail 3
rc=0; "$NONROOT" audit --no-cache --tls-verify=false "docker://$PROXY/app:v1" >/dev/null || rc=$?
cat "$PROXY_LOG"
[ "$rc" = 0 ]
[ "$(grep -c ' 503 ' "$PROXY_LOG")" = 3 ]
[ "$(grep -c ' 429 ' "$PROXY_LOG")" = 1 ]
reg_proxy_stop

e2e_step "a layer whose content does not match its digest (edited in the registry's storage)"
layer=$(reg_inspect --raw "docker://$REG/app:v1" | jq -r '.layers[0].digest')
data=$REG_DIR/data/docker/registry/v2/blobs/sha256/${layer:7:2}/${layer:7}/data
printf 'X' | dd of="$data" bs=1 seek=100 conv=notrunc 2>/dev/null
rc=0; err=$("$NONROOT" audit --no-cache --tls-verify=false "docker://$REG/app:v1" 2>&1) || rc=$?
echo "$err"
[ "$rc" = 2 ]
e2e_expect_contains "$err" "blob $layer does not match its digest"
echo "e2e: registry_failures OK"
