#!/usr/bin/env bash
# nonroot verify with real runc on images built with umoci: the seed's image unpatched fails
# (Permission denied on 80) and patched passes (uid 1654, 8080, GET / answered); a patched
# image whose Cmd still binds 80 fails; an image whose User is empty fails (uid 0); a process
# that crashes at start fails with its exit status and stderr; a program that never listens
# fails after the timeout; SIGINT during verify leaves no container (runc list) and no
# directory; patch --verify passes on the seed image and fails the patch when the proof
# fails; no runtime: exit 2; -q prints nothing on a pass and only the FAIL lines otherwise.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP
e2e_can_run || e2e_skip "verify runs containers with runc as root"
export TMPDIR="$T/vtmp"   # verify's private directories go here: must be empty afterwards
mkdir -p "$TMPDIR"
no_leftovers() {
	[ -z "$(ls -A "$TMPDIR")" ] || { echo "left in TMPDIR: $(ls -A "$TMPDIR")" >&2; return 1; }
	if runc list -q | grep '^nonroot-verify-'; then echo "container left" >&2; return 1; fi
}
verify() {   # verify ARGS...: sets out and rc
	rc=0; out=$("$NONROOT" verify "$@" 2>&1) || rc=$?
	echo "$out"
}

e2e_step "the seed's image, unpatched: fails (Permission denied on 80)"
e2e_build_rootful "$T/img:seed" --urlserve --nologin >/dev/null
verify "oci:$T/img:seed" --timeout 5
[ "$rc" = 1 ]
e2e_expect_contains "$out" "FAIL: exited"
e2e_expect_contains "$out" "Permission denied"
e2e_expect_contains "$out" "80 (ASPNETCORE_URLS=http://+:80)"
no_leftovers
verify "oci:$T/img:seed" --timeout 5 -q
[ "$rc" = 1 ]
e2e_expect_contains "$out" "oci:$T/img:seed: FAIL: exited"
[ -z "$(grep -v "^oci:$T/img:seed: FAIL: " <<<"$out")" ]   # -q: the FAIL lines only
no_leftovers

e2e_step "patched: passes (uid 1654, listens on 8080, GET / answered)"
cp -r "$T/img" "$T/patched"
"$NONROOT" patch "oci:$T/patched:seed" >/dev/null
verify "oci:$T/patched:seed" --http
[ "$rc" = 0 ]
e2e_expect_contains "$out" "PASS: runs as uid 1654 without capabilities and listens on 8080"
e2e_expect_contains "$out" "GET /     8080: HTTP/1."
verify "oci:$T/patched:seed" --quiet
[ "$rc" = 0 ] && [ -z "$out" ]   # -q: nothing when proven
verify "oci:$T/patched:seed" --format json --http
[ "$rc" = 0 ]
jq -e '.verdict == "pass" and .process.uid == [1654,1654,1654,1654] and .process.cap_eff ==
	"0000000000000000" and .process.no_new_privs and .expected_ports[0].port == 8080 and
	([.listening[].port] | index(8080)) != null and (.http[0].status | startswith("HTTP/1."))
	and .exited == false' <<<"$out" >/dev/null
no_leftovers

e2e_step "a patched image whose Cmd still binds 80: fails"
cp -r "$T/patched" "$T/bind80"
umoci config --image "$T/bind80:seed" --config.cmd sh --config.cmd -c \
	--config.cmd 'exec httpd -f -p 80 -h /tmp' >/dev/null
verify "oci:$T/bind80:seed" --timeout 5
[ "$rc" = 1 ]
e2e_expect_contains "$out" "FAIL: exited 1"
e2e_expect_contains "$out" "bind: Permission denied"

e2e_step "User empty: fails (uid 0), even though it listens on the expected port"
cp -r "$T/img" "$T/root8080"
umoci config --image "$T/root8080:seed" --config.env "ASPNETCORE_URLS=http://+:8080" >/dev/null
verify "oci:$T/root8080:seed" --timeout 5 --format json
[ "$rc" = 1 ]
jq -e '.verdict == "fail" and .process.uid[0] == 0 and (.reasons | index("runs as uid 0 (config User is empty)")) != null' <<<"$out" >/dev/null
no_leftovers

e2e_step "a process that crashes at start: fails with its exit status and stderr"
cp -r "$T/patched" "$T/crash"
umoci config --image "$T/crash:seed" --config.cmd sh --config.cmd -c \
	--config.cmd 'echo "fatal: cannot read /app/settings.json" >&2; exit 3' >/dev/null
verify "oci:$T/crash:seed" --timeout 5
[ "$rc" = 1 ]
e2e_expect_contains "$out" "FAIL: exited 3 after"
e2e_expect_contains "$out" "fatal: cannot read /app/settings.json"

e2e_step "a program that never listens: fails after the timeout"
cp -r "$T/patched" "$T/sleeper"
umoci config --image "$T/sleeper:seed" --config.cmd sleep --config.cmd 600 >/dev/null
start=$(date +%s)
verify "oci:$T/sleeper:seed" --timeout 2
[ "$rc" = 1 ]
e2e_expect_contains "$out" "FAIL: no process listens on 8080 after 2 s"
[ $(( $(date +%s) - start )) -lt 30 ]
no_leftovers

e2e_step "--port replaces the expected ports"
verify "oci:$T/patched:seed" --port 9999 --timeout 2
[ "$rc" = 1 ]
e2e_expect_contains "$out" "FAIL: listens on 8080, expected 9999"

e2e_step "SIGINT during verify: no container and no directory left"
"$NONROOT" verify "oci:$T/sleeper:seed" --timeout 60 >"$T/sigint.out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
	runc list -q | grep "^nonroot-verify-$pid-" >/dev/null && break
	sleep 0.1
done
runc list -q | grep "^nonroot-verify-$pid-"
sleep 0.5
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
cat "$T/sigint.out"
[ "$rc" = 130 ]
e2e_expect_contains "$(cat "$T/sigint.out")" "interrupted"
no_leftovers

e2e_step "patch --verify: the proof after the patch; a failed proof fails the patch (exit 1)"
cp -r "$T/img" "$T/pv"
rc=0; out=$("$NONROOT" patch "oci:$T/pv:seed" --verify --http 2>&1) || rc=$?
echo "$out"
[ "$rc" = 0 ]
e2e_expect_contains "$out" "PASS: runs as uid 1654 without capabilities and listens on 8080"
rc=0; out=$("$NONROOT" patch "oci:$T/img:seed" -o "oci:$T/pv2:seed" --verify --port 9999 \
	--timeout 2 --format json 2>"$T/pv2.err") || rc=$?
[ "$rc" = 1 ]
jq -e '.changed' <<<"$out" >/dev/null || jq -e . <<<"$out" >/dev/null
e2e_expect_contains "$(cat "$T/pv2.err")" "FAIL: listens on 8080, expected 9999"
e2e_expect_fail "$NONROOT" patch "oci:$T/img:seed" --port 9999 2>/dev/null
no_leftovers

e2e_step "no runtime: cannot run (exit 2)"
verify "oci:$T/patched:seed" --runtime /nonexistent/runc
[ "$rc" = 2 ]
e2e_expect_contains "$out" "runtime '/nonexistent/runc' not found"
PATH=/nonexistent verify "oci:$T/patched:seed"
[ "$rc" = 2 ]
e2e_expect_contains "$out" "runtime 'runc' not found on PATH"
echo ok
