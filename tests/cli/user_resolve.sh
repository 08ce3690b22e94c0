#!/usr/bin/env bash
# nonroot user resolve: --help, FIFOs, symlinks inside the root, --image (the pure input/output
# cases are tests/cli/cases/user/).
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

# The pure input/output cases over this root (resolution, runc's error wording, --passwd/--group,
# a bare root, usage errors) are data: tests/cli/cases/user/, run by run-cases.sh (CTest
# cli.cases.user). Here stay the help text (substring checks), FIFOs and symlinks that point
# outside the root (git stores neither the FIFO nor the outside file), and --image (built with umoci).
mkfifo "$tmp/fifo"
run "$NONROOT" user resolve app --passwd "$tmp/fifo"
check "fifo --passwd" "nonroot: --passwd: $tmp/fifo: not a regular file" "$err"

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
finish user_resolve
