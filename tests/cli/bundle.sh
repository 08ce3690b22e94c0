#!/usr/bin/env bash
# nonroot bundle harden: options, exit codes, output formats, dry run, errors.
set -euo pipefail
: "${NONROOT:?}" "${NR_TEST_DATA:?}"
data=$NR_TEST_DATA/bundle
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

bundle() {  # bundle NAME CASE: a fresh copy of a data case's config.json
	rm -rf "${tmp:?}/$1"
	mkdir -p "$tmp/$1"
	cp "$data/$2/config.json" "$tmp/$1/config.json"
}

# Help and usage errors.
nrun bundle --help
check "help exit" 0 "$rc"
check "help names every option" 6 "$(grep -cE -- '--user|--allow-low-ports|--unprivileged-port-start|--allow-root|--dry-run|--format' <<<"$out")"
nrun bundle harden --help
check "harden --help exit" 0 "$rc"
nrun bundle
check "no subcommand exit" 2 "$rc"
nrun bundle frobnicate x
check "unknown subcommand" "2 nonroot bundle: unknown subcommand 'frobnicate' (expected harden)" "$rc $(head -1 <<<"$err")"
nrun bundle harden
check "missing dir" "2 nonroot bundle: harden needs a BUNDLE_DIR" "$rc $(head -1 <<<"$err")"
nrun bundle harden a b
check "extra arg" 2 "$rc"
nrun bundle harden "$tmp" --format yaml
check "bad format" "2 nonroot bundle harden: --format: 'yaml' is not one of text, json" "$rc $(head -1 <<<"$err")"
nrun bundle harden "$tmp" --unprivileged-port-start 65536
check "port out of range" "2 nonroot: --unprivileged-port-start: 65536 is out of range (0-65535)" "$rc $err"
nrun bundle harden "$tmp" --unprivileged-port-start -1
check "port negative" 2 "$rc"

# Dry run: the report, nothing written.
bundle b1 valid/umoci-nonroot
cp "$tmp/b1/config.json" "$tmp/orig.json"
nrun bundle harden "$tmp/b1" --dry-run
check "dry run exit" 0 "$rc"
check "dry run headline" "bundle $tmp/b1: 5 changes, dry run: config.json not written" "$(head -1 <<<"$out")"
check "dry run leaves config.json" "" "$(cmp "$tmp/orig.json" "$tmp/b1/config.json" 2>&1 || true)"

# For real, JSON report.
nrun bundle harden "$tmp/b1" --format json
check "json exit" 0 "$rc"
check "json written" "true 5 1000 true []" "$(jq -c '[.written, (.changes|length), .grants.uid, .grants.no_new_privileges, .grants.capabilities.ambient] | map(tostring) | join(" ")' -r <<<"$out")"
check "json user: the bundle's own" '{"spec":null,"uid":1000,"gid":1000,"additional_gids":[10,1000],"name":null,"home":null}' "$(jq -c .user <<<"$out")"
check "json change fields" '["process.capabilities.bounding","process.capabilities.effective","process.capabilities.inheritable","process.capabilities.permitted","process.capabilities.ambient"]' "$(jq -c '[.changes[].field]' <<<"$out")"
check "file as expected.json" "" "$(cmp "$data/valid/umoci-nonroot/expected.json" "$tmp/b1/config.json" 2>&1 || true)"
check "untouched fields kept" "$(jq -S 'del(.process.capabilities, .process.noNewPrivileges)' "$tmp/orig.json")" "$(jq -S 'del(.process.capabilities, .process.noNewPrivileges)' "$tmp/b1/config.json")"
nrun bundle harden "$tmp/b1"
check "second run: nothing to do" "0 bundle $tmp/b1: 0 changes, already hardened" "$rc $(head -1 <<<"$out")"

# --allow-low-ports and --unprivileged-port-start.
nrun bundle harden "$tmp/b1" --allow-low-ports --unprivileged-port-start 0 --format json
check "low ports json" '[["CAP_NET_BIND_SERVICE"],["CAP_NET_BIND_SERVICE"],["CAP_NET_BIND_SERVICE"],["CAP_NET_BIND_SERVICE"],["CAP_NET_BIND_SERVICE"]]' "$(jq -c '[.grants.capabilities[]]' <<<"$out")"
check "low ports means" '["CAP_NET_BIND_SERVICE","net.ipv4.ip_unprivileged_port_start=0"]' "$(jq -c '.grants.low_ports' <<<"$out")"
check "sysctl in file" '"0"' "$(jq -c '.linux.sysctl["net.ipv4.ip_unprivileged_port_start"]' "$tmp/b1/config.json")"
check "ambient in file" '["CAP_NET_BIND_SERVICE"]' "$(jq -c '.process.capabilities.ambient' "$tmp/b1/config.json")"

# Root is refused unless --allow-root; nothing is written.
bundle b2 invalid/root-refused
cp "$tmp/b2/config.json" "$tmp/orig2.json"
nrun bundle harden "$tmp/b2"
check "root refused" "2 nonroot: bundle harden $tmp/b2: config.json: process.user.uid: the bundle runs as uid 0 (root); give a non-root user (--user) or allow it with allow_root (--allow-root)" "$rc $err"
check "refused: not written" "" "$(cmp "$tmp/orig2.json" "$tmp/b2/config.json" 2>&1 || true)"
nrun bundle harden "$tmp/b2" --allow-root
check "root allowed" 0 "$rc"
check "root allowed warns" "  process.user.uid: the process runs as root (uid 0), allowed by allow_root" "$(grep 'runs as root' <<<"$out")"

# --user is resolved in the bundle's root filesystem (root.path), like runc.
rm -rf "$tmp/b5"; cp -r "$data/valid/user-name" "$tmp/b5"; rm -f "$tmp/b5/expected.json"
nrun bundle harden "$tmp/b5" --user app --format json
check "user by name" "1654 1654 [50,33] app /home/app" "$(jq -r '"\(.user.uid) \(.user.gid) \(.user.additional_gids|tojson) \(.user.name) \(.user.home)"' <<<"$out")"
check "user written" '{"uid":1654,"gid":1654,"additionalGids":[50,33],"umask":18}' "$(jq -c .process.user "$tmp/b5/config.json")"
nrun bundle harden "$tmp/b5" --user nobody
check "unknown user: runc's words" "2 nonroot: bundle harden $tmp/b5: unable to find user nobody: no matching entries in passwd file" "$rc $err"
nrun bundle harden "$tmp/b5" --user root
check "root by name refused" "2 nonroot: bundle harden $tmp/b5: config.json: process.user.uid: user 'root' is uid 0 (root); allow it with allow_root (--allow-root)" "$rc $err"
nrun bundle harden "$tmp/b5" --user 2147483648
check "id out of range" "2 nonroot: bundle harden $tmp/b5: uids and gids must be in range 0-2147483647" "$rc $err"
check "failures wrote nothing" '{"uid":1654,"gid":1654,"additionalGids":[50,33],"umask":18}' "$(jq -c .process.user "$tmp/b5/config.json")"

# Broken JSON names file, line and column.
mkdir -p "$tmp/b3"
printf '{\n  "process": {\n    "user": {"uid": 1000,, "gid": 1}\n  }\n}\n' >"$tmp/b3/config.json"
nrun bundle harden "$tmp/b3"
check "syntax error" "2 nonroot: bundle harden $tmp/b3: config.json:3:26: string or '}' expected near ','" "$rc $err"
printf '{"process": {"user": {"uid": "1000", "gid": 1}}}' >"$tmp/b3/config.json"
nrun bundle harden "$tmp/b3"
check "type error names the field" "2 nonroot: bundle harden $tmp/b3: config.json: process.user.uid: expected an integer, got a string" "$rc $err"
nrun bundle harden "$tmp/nonexistent"
check "missing bundle" "2 nonroot: bundle harden $tmp/nonexistent: $tmp/nonexistent: open bundle directory: No such file or directory" "$rc $err"
mkdir -p "$tmp/b4"
nrun bundle harden "$tmp/b4"
check "missing config.json" "2 nonroot: bundle harden $tmp/b4: config.json: open: No such file or directory" "$rc $err"

# nonroot k8s: help and usage errors (images are in tests/e2e/k8s_securitycontext.sh).
nrun k8s --help
check "k8s help" "0 2" "$rc $(grep -c -- '--container NAME' <<<"$out")"
nrun k8s
check "k8s no image" "2 nonroot k8s: missing IMAGE" "$rc $(head -1 <<<"$err")"
nrun k8s a b
check "k8s extra arg" "2 nonroot k8s: unexpected argument 'b'" "$rc $(head -1 <<<"$err")"
nrun k8s "oci:$tmp/none:x" --container -x
check "k8s bad container" 2 "$rc"
nrun k8s "oci:$tmp/none:x"
check "k8s missing image" 2 "$rc"

finish bundle
