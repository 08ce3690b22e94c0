#!/usr/bin/env bash
# End to end: a rootful busybox image → umoci unpack → nonroot bundle harden → runc run.
#   --user 1654:1654                uid 1654, CapEff 0, port 80 refused, 8080 bound
#   --allow-low-ports               port 80 bound as uid 1654 (CAP_NET_BIND_SERVICE, ambient)
#   --unprivileged-port-start 0     port 80 bound as uid 1654 with no capability at all
. "$(dirname "$0")/lib.sh"
e2e_init
: "${NONROOT:?}"
e2e_can_run || e2e_skip "needs root and runc"

img="$E2E_TMP/img:rootful"
e2e_build_rootful "$img"

# In the container: who am I, which capabilities, then try to listen on 80 and 8080 at once
# and list what listens (busybox nc and netstat).
probe='id -u; id -g; grep -E "^Cap(Eff|Prm|Amb):" /proc/self/status
nc -l -p 80 </dev/null & p80=$!
nc -l -p 8080 </dev/null & p8080=$!
sleep 1
netstat -ltn | grep -E ":(80|8080) " | sed "s/^/listening: /"
kill $p80 $p8080 2>/dev/null; wait; echo probe-done'

bundle_with() {   # bundle_with NAME [harden options...]: unpack, harden, set the probe
	local b="$E2E_TMP/$1"; shift
	umoci unpack --image "$img" "$b" >/dev/null
	e2e_bundle_args "$b" /bin/sh -c "$probe"
	jq '.process.terminal = false' "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	"$NONROOT" bundle harden "$b" "$@" >"$b.report"
	echo "$b"
}

expect_line() {   # expect_line OUTPUT REGEX
	if ! grep -qE -- "$2" <<<"$1"; then
		printf 'e2e: expected a line matching <%s> in:\n%s\n' "$2" "$1" >&2
		exit 1
	fi
}
expect_no_line() {
	if grep -qE -- "$2" <<<"$1"; then
		printf 'e2e: unexpected line matching <%s> in:\n%s\n' "$2" "$1" >&2
		exit 1
	fi
}

e2e_step "--allow-root: still uid 0, capabilities dropped"
b=$(bundle_with plain --allow-root)
out=$(e2e_run "$b")
expect_line "$out" '^0$'

e2e_step "harden --user 1654:1654: uid 1654, no capabilities, 80 refused, 8080 bound"
b=$(bundle_with h1 --user 1654:1654)
e2e_expect_contains "$(cat "$b.report")" "capabilities: none"
jq -e '.process.user == {"uid":1654,"gid":1654} and .process.noNewPrivileges == true
	and ([.process.capabilities[]] | all(length == 0))' "$b/config.json" >/dev/null
out=$(e2e_run "$b")
echo "$out"
expect_line "$out" '^1654$'
expect_line "$out" $'^CapEff:\t0000000000000000$'
expect_line "$out" $'^CapPrm:\t0000000000000000$'
expect_line "$out" $'^CapAmb:\t0000000000000000$'
expect_line "$out" 'nc: bind: Permission denied'
expect_line "$out" '^listening: .*:8080 '
expect_no_line "$out" '^listening: .*:80 '
expect_line "$out" '^probe-done$'

e2e_step "harden --user 1654:1654 --allow-low-ports: 80 bound as uid 1654"
b=$(bundle_with h2 --user 1654:1654 --allow-low-ports)
out=$(e2e_run "$b")
echo "$out"
expect_line "$out" '^1654$'
# CAP_NET_BIND_SERVICE is bit 10: 0x400, and nothing else.
expect_line "$out" $'^CapEff:\t0000000000000400$'
expect_line "$out" $'^CapAmb:\t0000000000000400$'
expect_no_line "$out" 'Permission denied'
expect_line "$out" '^listening: .*:80 '
expect_line "$out" '^listening: .*:8080 '

e2e_step "why inheritable too: without it in inheritable, runc cannot raise the ambient capability"
jq '.process.capabilities.inheritable = []' "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
out=$(e2e_run "$b")
expect_line "$out" $'^CapAmb:\t0000000000000000$'
expect_line "$out" 'nc: bind: Permission denied'

e2e_step "harden --user 1654:1654 --unprivileged-port-start 0: 80 bound with no capability"
b=$(bundle_with h3 --user 1654:1654 --unprivileged-port-start 0)
e2e_expect_contains "$(cat "$b.report")" "bindable through net.ipv4.ip_unprivileged_port_start=0"
out=$(e2e_run "$b")
echo "$out"
expect_line "$out" '^1654$'
expect_line "$out" $'^CapEff:\t0000000000000000$'
expect_no_line "$out" 'Permission denied'
expect_line "$out" '^listening: .*:80 '

e2e_step "patched image (nonroot patch) hardened with --user app: resolved in the rootfs"
umoci tag --image "$img" patched
e2e_patch "oci:${img%:*}:patched" >/dev/null
b="$E2E_TMP/h5"
umoci unpack --image "${img%:*}:patched" "$b" >/dev/null
e2e_bundle_args "$b" /bin/sh -c 'id; grep CapEff /proc/self/status'
"$NONROOT" bundle harden "$b" --user app --format json >"$b.json"
jq -e '.user.name == "app" and .user.uid == 1654 and .user.gid == 1654
	and .user.home == "/home/app" and .grants.low_ports == []' "$b.json" >/dev/null
jq '.process.terminal = false' "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
out=$(e2e_run "$b")
echo "$out"
expect_line "$out" '^uid=1654\(app\) gid=1654\(app\)'
expect_line "$out" $'^CapEff:\t0000000000000000$'

e2e_step "uid 0 is refused without --allow-root, and the bundle is left alone"
b="$E2E_TMP/h4"
umoci unpack --image "$img" "$b" >/dev/null
cp "$b/config.json" "$E2E_TMP/h4.orig"
e2e_expect_fail "$NONROOT" bundle harden "$b" 2>"$E2E_TMP/h4.err"
e2e_expect_contains "$(cat "$E2E_TMP/h4.err")" "runs as uid 0 (root)"
cmp "$b/config.json" "$E2E_TMP/h4.orig"
e2e_expect_fail "$NONROOT" bundle harden "$b" --user 0 2>"$E2E_TMP/h4.err"
e2e_expect_contains "$(cat "$E2E_TMP/h4.err")" "user '0' is uid 0 (root)"

echo "bundle_runc: all checks passed"
