#!/usr/bin/env bash
# nonroot user resolve: --root / --passwd / --group, text and JSON, runc's error wording,
# exit codes, symlinks inside the root, usage errors.
set -euo pipefail
: "${NONROOT:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"


root=$tmp/root
mkdir -p "$root/etc"
cat >"$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
# a comment that runc would turn into a uid-0 user
app:x:1654:1654:App:/home/app:/sbin/nologin
odd:x:111:112::/home/odd:::::
P
cat >"$root/etc/group" <<'G'
root:x:0:
app:x:1654:
docker:x:999:app
video:x:44:app,root
G

run "$NONROOT" user resolve --help
check "help rc" 0 "$rc"
case "$out" in *"Usage: nonroot user resolve SPEC"*"--root DIR"*"--json"*"Exit status"*) passes=$((passes + 1)) ;;
	*) echo "FAIL: help text: $out"; fails=$((fails + 1)) ;; esac
run "$NONROOT" user --help
check "user help rc" 0 "$rc"

run "$NONROOT" user resolve app --root "$root" --json
check "app json rc" 0 "$rc"
check "app json" '{"uid":1654,"gid":1654,"additional_gids":[999,44],"home":"/home/app","name":"app"}' "$out"
run "$NONROOT" user resolve app --root "$root"
check "app text" 'uid=1654(app) gid=1654 additional_gids=999,44 home=/home/app' "$out"
run "$NONROOT" user resolve app:video --root "$root" --json
check "app:video" '{"uid":1654,"gid":44,"additional_gids":[],"home":"/home/app","name":"app"}' "$out"
run "$NONROOT" user resolve 111 --root "$root" --json
check "odd by uid" '{"uid":111,"gid":112,"additional_gids":[],"home":"/home/odd","name":"odd"}' "$out"
run "$NONROOT" user resolve 1654:1654 --root "$root" --json
check "numeric (explicit group: no memberships)" '{"uid":1654,"gid":1654,"additional_gids":[],"home":"/home/app","name":"app"}' "$out"
run "$NONROOT" user resolve 4242:4343 --root "$root" --json
check "unknown numeric" '{"uid":4242,"gid":4343,"additional_gids":[],"home":"/","name":null}' "$out"
run "$NONROOT" user resolve "" --root "$root" --json
check "empty spec: default uid 0" '{"uid":0,"gid":0,"additional_gids":[44],"home":"/root","name":"root"}' "$out"

# runc's wording, exit 2
run "$NONROOT" user resolve nobody --root "$root" --json
check "unknown user rc" 2 "$rc"
check "unknown user err" "nonroot: user resolve: unable to find user nobody: no matching entries in passwd file" "$err"
check "unknown user stdout" "" "$out"
run "$NONROOT" user resolve "app:staff" --root "$root"
check "unknown group" "nonroot: user resolve: unable to find group staff: no matching entries in group file" "$err"
run "$NONROOT" user resolve 2147483648 --root "$root"
check "range rc" 2 "$rc"
check "range err" "nonroot: user resolve: uids and gids must be in range 0-2147483647" "$err"
run "$NONROOT" user resolve "#" --root "$root"
check "comment is no user" "nonroot: user resolve: unable to find user #: no matching entries in passwd file" "$err"

# --passwd / --group on the host
run "$NONROOT" user resolve app --passwd "$root/etc/passwd" --json
check "passwd only" '{"uid":1654,"gid":1654,"additional_gids":[],"home":"/home/app","name":"app"}' "$out"
run "$NONROOT" user resolve app --passwd "$root/etc/passwd" --group "$root/etc/group" --json
check "passwd+group" '{"uid":1654,"gid":1654,"additional_gids":[999,44],"home":"/home/app","name":"app"}' "$out"
run "$NONROOT" user resolve app --passwd "$tmp/nope"
check "missing --passwd rc" 2 "$rc"
check "missing --passwd" "nonroot: --passwd: $tmp/nope: No such file or directory" "$err"
mkfifo "$tmp/fifo"
run "$NONROOT" user resolve app --passwd "$tmp/fifo"
check "fifo --passwd" "nonroot: --passwd: $tmp/fifo: not a regular file" "$err"

# A root without etc/passwd: like runc, names fail and numbers pass.
mkdir -p "$tmp/bare"
run "$NONROOT" user resolve 1654 --root "$tmp/bare" --json
check "bare numeric" '{"uid":1654,"gid":0,"additional_gids":[],"home":"/","name":null}' "$out"
run "$NONROOT" user resolve app --root "$tmp/bare"
check "bare name" "nonroot: user resolve: unable to find user app: no matching entries in passwd file" "$err"

# Symlinks resolve inside the root: etc/passwd -> /../../host-passwd is ROOT/host-passwd.
mkdir -p "$tmp/esc/etc"
printf 'evil:x:0:0::/:/bin/sh\n' >"$tmp/host-passwd"
ln -s /../../host-passwd "$tmp/esc/etc/passwd"
run "$NONROOT" user resolve evil --root "$tmp/esc"
check "escape rc" 2 "$rc"
check "escape err" "nonroot: user resolve: unable to find user evil: no matching entries in passwd file" "$err"
printf 'inside:x:5:5::/in:/bin/sh\n' >"$tmp/esc/host-passwd"
run "$NONROOT" user resolve inside --root "$tmp/esc" --json
check "escape resolves inside" '{"uid":5,"gid":5,"additional_gids":[],"home":"/in","name":"inside"}' "$out"
# A FIFO etc/passwd is refused with a clear error, not a hang.
mkdir -p "$tmp/fifo-root/etc"
mkfifo "$tmp/fifo-root/etc/passwd"
run timeout 10 "$NONROOT" user resolve app --root "$tmp/fifo-root"
check "fifo root rc" 2 "$rc"
check "fifo root err" "nonroot: user resolve: etc/passwd: not a regular file (a FIFO)" "$err"

# --image: the effective /etc/passwd and /etc/group of an OCI image built with umoci.
if command -v umoci >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	umoci init --layout "$tmp/oci" >/dev/null
	umoci new --image "$tmp/oci:v1" >/dev/null
	umoci unpack --image "$tmp/oci:v1" "$tmp/bundle" >/dev/null 2>&1
	mkdir -p "$tmp/bundle/rootfs/etc"
	cp "$root/etc/passwd" "$root/etc/group" "$tmp/bundle/rootfs/etc/"
	umoci repack --image "$tmp/oci:v1" "$tmp/bundle" >/dev/null 2>&1
	run "$NONROOT" user resolve app --image "oci:$tmp/oci:v1" --json
	check "image rc" 0 "$rc"
	check "image json" '{"uid":1654,"gid":1654,"additional_gids":[999,44],"home":"/home/app","name":"app"}' "$out"
	run "$NONROOT" user resolve app --image "$tmp/oci" --json
	check "image bare path" '{"uid":1654,"gid":1654,"additional_gids":[999,44],"home":"/home/app","name":"app"}' "$out"
	run "$NONROOT" user resolve nobody --image "oci:$tmp/oci:v1"
	check "image unknown rc" 2 "$rc"
	check "image unknown" "nonroot: user resolve: unable to find user nobody: no matching entries in passwd file" "$err"
	run "$NONROOT" user resolve app --image "oci:$tmp/oci:v1" --platform linux/s390x
	check "image platform rc" 2 "$rc"
	# an image without /etc/passwd: numeric ids pass, names fail (as runc)
	umoci init --layout "$tmp/oci2" >/dev/null
	umoci new --image "$tmp/oci2:v1" >/dev/null
	run "$NONROOT" user resolve 1654:1654 --image "oci:$tmp/oci2:v1" --json
	check "image without passwd" '{"uid":1654,"gid":1654,"additional_gids":[],"home":"/","name":null}' "$out"
else
	echo "note: umoci or root missing: --image checks skipped"
fi
run "$NONROOT" user resolve app --platform linux/amd64 --root "$root"
check "platform without image rc" 2 "$rc"

# usage errors
run "$NONROOT" user resolve app
check "no source rc" 2 "$rc"
case "$err" in *"give exactly one of --root DIR, --image IMAGE, --passwd FILE"*"Try 'nonroot user resolve --help'"*) passes=$((passes + 1)) ;;
	*) echo "FAIL: no source: $err"; fails=$((fails + 1)) ;; esac
run "$NONROOT" user resolve --root "$root"
check "no spec rc" 2 "$rc"
run "$NONROOT" user resolve a b --root "$root"
check "two specs rc" 2 "$rc"
run "$NONROOT" user resolve app --root "$root" --passwd "$root/etc/passwd"
check "two sources rc" 2 "$rc"
run "$NONROOT" user frobnicate
check "unknown subcommand rc" 2 "$rc"
run "$NONROOT" user resolve app --root "$tmp/missing"
check "missing root rc" 2 "$rc"
case "$err" in "nonroot: user resolve: --root: $tmp/missing: open: No such file or directory") passes=$((passes + 1)) ;;
	*) echo "FAIL: missing root: $err"; fails=$((fails + 1)) ;; esac

finish user_resolve
