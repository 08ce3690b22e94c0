# shellcheck shell=bash
# tests/e2e/lib.sh: build real test images at test time and run them with real clients.
#
# Source it from a tests/e2e/*.sh script:   . "$(dirname "$0")/lib.sh"
# Everything is built under $E2E_TMP (a fresh mktemp -d, removed on exit unless E2E_KEEP=1).
#
# Images are built with umoci from /bin/busybox (busybox-static): each layer is a tar of a
# directory made here (so whiteouts, opaque dirs, symlinks and owners are exact) added with
# `umoci raw add-layer`, the config set with `umoci config`. Conversions use `skopeo copy`,
# runs use `umoci unpack` + `runc run` (as root, process.terminal=false).
#
# Functions (IMAGE is a layout:tag pair like "$E2E_TMP/img:latest"):
#   e2e_init                       strict mode, temp dir, tool checks (call first)
#   e2e_skip WHY                   print "SKIP: WHY" and exit 0 (only for missing privileges)
#   e2e_rootfs DIR [--distroless] [--shadow] [--nologin] [--urlserve]
#                                  a minimal root filesystem: busybox (sh, id, nc, httpd, ...),
#                                  /etc/passwd with only root, /etc/group, /app/serve: the
#                                  example server (examples/urlserve, static) with --urlserve
#                                  when it is built, else a busybox httpd stand-in
#   e2e_layer_tar DIR OUT.tar      reproducible uncompressed tar of DIR's contents
#   e2e_image_new IMAGE            empty image (umoci init + new), created 2024-01-01
#   e2e_image_add_dir IMAGE DIR [CREATED_BY]   append DIR as one layer
#   e2e_image_rootful IMAGE ROOTFS set the seed's rootful config: ASPNETCORE_URLS=http://+:80,
#                                  ExposedPorts 80/tcp, Cmd /app/serve, User empty
#   e2e_build_rootful IMAGE [e2e_rootfs options]   the whole rootful image in one call
#   e2e_build_multilayer IMAGE     base layer + a layer that whites out etc/passwd and re-adds it
#   e2e_build_opaque IMAGE         base layer + a layer with an opaque /etc
#   e2e_build_symlinked IMAGE      /etc/passwd is a symlink to ../usr/lib/passwd
#   e2e_build_multiplatform LAYOUT TAG   an OCI index with linux/amd64 and linux/arm64
#   e2e_convert SRC DST [skopeo copy options]  e.g. oci-archive:F, docker-archive:F:name:tag
#   e2e_bundle IMAGE BUNDLE        umoci unpack, terminal=false, CAP_NET_BIND_SERVICE dropped
#   e2e_bundle_args BUNDLE ARG...  set process.args
#   e2e_bundle_user BUNDLE UID GID set process.user (to run an unpatched image as 1654)
#   e2e_bundle_env BUNDLE NAME=VALUE  add or replace an environment variable
#   e2e_run BUNDLE                 runc run it (timeout 30s); prints its stdout+stderr, returns
#                                  the container's exit status
#   e2e_blob_of IMAGE what         path of the manifest|config|layer0|layerN blob of an oci image
#   e2e_expect_contains TEXT NEEDLE, e2e_expect_fail CMD...   small assertions
#   e2e_server_path                the example server used by /app/serve
#   e2e_patch ARGS...              "$NONROOT patch ARGS..." (same output and exit status), and
#                                  the suite-wide property: whenever patch exits 0 (not a dry
#                                  run), "nonroot audit" of its result is clean at error level
#                                  and, run with runc (nonroot verify, as root), it runs as a
#                                  non-root uid on unprivileged ports only; a violation fails
#                                  the test (checked again at exit)
#
# Test scripts use $NONROOT (the CLI) and exit non-zero on the first failure.

E2E_CREATED="2024-01-01T00:00:00Z"
E2E_MTIME="@1704067200"

e2e_init() {
	set -euo pipefail
	export LC_ALL=C
	E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/nr-e2e.XXXXXX")
	E2E_RUNS=0
	# Hermetic: each test has its own layer-scan cache (never the user's ~/.cache/nonroot).
	export NONROOT_CACHE=${NONROOT_CACHE_FOR_TESTS:-$E2E_TMP/cache}
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		echo "e2e: keeping $E2E_TMP" >&2
	else
		trap 'e2e_cleanup' EXIT
	fi
	local t
	for t in umoci skopeo jq tar gzip sha256sum; do
		command -v "$t" >/dev/null || { echo "e2e: missing tool $t (scripts/install-deps)" >&2; exit 1; }
	done
	E2E_BUSYBOX=${E2E_BUSYBOX:-/bin/busybox}
	[ -x "$E2E_BUSYBOX" ] || { echo "e2e: missing $E2E_BUSYBOX (busybox-static)" >&2; exit 1; }
	if file -L "$E2E_BUSYBOX" 2>/dev/null | grep 'dynamically linked' >/dev/null; then
		echo "e2e: $E2E_BUSYBOX is not static (install busybox-static)" >&2; exit 1
	fi
	E2E_SKOPEO=(skopeo --insecure-policy)
	# A private layer-scan cache per test: the fixtures are reproducible (same layer digests
	# in every test), so a shared cache would serve one test's layers to another.
	export NONROOT_CACHE="$E2E_TMP/scan-cache"
}

e2e_cleanup() {
	local id rc=$?
	for id in $(runc list -q 2>/dev/null | grep "^nr-e2e-$$-" || true); do
		runc delete -f "$id" >/dev/null 2>&1 || true
	done
	if [ -s "$E2E_TMP/property-violations" ]; then
		echo "e2e: PROPERTY VIOLATED (patch exit 0 but its result is not clean):" >&2
		cat "$E2E_TMP/property-violations" >&2
		rc=1
	fi
	rm -rf "$E2E_TMP"
	exit $rc
}

e2e_skip() {
	echo "SKIP: $*"
	exit 0
}

e2e_can_run() {
	[ "$(id -u)" = 0 ] && command -v runc >/dev/null
}

# The example HTTP server: the urls engineer's static urlserve when it is built, else a
# busybox-based stand-in that listens on the port of the last URL in ASPNETCORE_URLS.
e2e_server_path() {
	local c
	for c in "${NR_URLSERVE:-}" "${NR_BUILD:-/nonexistent}/examples/urlserve-static" \
		"${NR_BUILD:-/nonexistent}/examples/urlserve/urlserve-static"; do
		if [ -n "$c" ] && [ -x "$c" ]; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

e2e_rootfs() {
	local dir=$1; shift
	local distroless=0 shadow=0 nologin=0 urlserve=0 a
	for a in "$@"; do
		case $a in
		--urlserve) urlserve=1 ;;
		--distroless) distroless=1 ;;
		--shadow) shadow=1 ;;
		--nologin) nologin=1 ;;
		*) echo "e2e_rootfs: unknown option $a" >&2; return 2 ;;
		esac
	done
	mkdir -p "$dir"/{etc,root,tmp,app}
	chmod 1777 "$dir/tmp"
	chmod 0700 "$dir/root"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$dir/etc/passwd"
	printf 'root:x:0:\n' > "$dir/etc/group"
	chmod 0644 "$dir/etc/passwd" "$dir/etc/group"
	if [ $shadow = 1 ]; then
		printf 'root:*:19000:0:99999:7:::\n' > "$dir/etc/shadow"
		printf 'root:*::\n' > "$dir/etc/gshadow"
		chmod 0640 "$dir/etc/shadow" "$dir/etc/gshadow"
		chown 0:42 "$dir/etc/shadow" "$dir/etc/gshadow"
	fi
	if [ $distroless = 1 ]; then
		# No shell, no /etc/shadow, no nologin: only the server and a tool binary (not named sh).
		cp "$E2E_BUSYBOX" "$dir/app/busybox"
		printf 'root:x:0:0:root:/root:/sbin/nologin\n' > "$dir/etc/passwd"
	else
		mkdir -p "$dir/bin" "$dir/sbin"
		cp "$E2E_BUSYBOX" "$dir/bin/busybox"
		local applet
		for applet in sh id nc httpd netstat sleep cat ls wget kill false true echo; do
			ln -s busybox "$dir/bin/$applet"
		done
		if [ $nologin = 1 ]; then
			ln -s ../bin/busybox "$dir/sbin/nologin"
		fi
	fi
	local srv
	if [ $urlserve = 1 ] && srv=$(e2e_server_path); then
		cp "$srv" "$dir/app/urlserve"
		if [ $distroless = 1 ]; then
			ln -s urlserve "$dir/app/serve"
		else
			printf '#!/bin/sh\nexec /app/urlserve "$@"\n' > "$dir/app/serve"
			chmod 0755 "$dir/app/serve"
		fi
	elif [ $distroless = 1 ]; then
		ln -s busybox "$dir/app/serve"   # serve = busybox (argv[0] "serve" is no applet)
	else
		cat > "$dir/app/serve" <<'EOF'
#!/bin/sh
# Stand-in for the example server: listen on the port of the last URL in ASPNETCORE_URLS.
u=${ASPNETCORE_URLS:-http://+:80}
u=${u##*;}
p=${u##*:}
p=${p%%/*}
mkdir -p /tmp/www && echo "hello from port $p" > /tmp/www/index.html
echo "serve: listening on port $p"
exec httpd -f -v -p "$p" -h /tmp/www
EOF
		chmod 0755 "$dir/app/serve"
	fi
}

# Reproducible tar of DIR's contents, names without "./", numeric owners kept.
e2e_layer_tar() {
	local dir=$1 out=$2
	(cd "$dir" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | sort |
		tar --sort=name --numeric-owner --mtime="$E2E_MTIME" --format=posix \
			--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
			-cf "$out" -T -)
}

e2e_image_new() {
	local image=$1 layout=${1%:*}
	[ -d "$layout" ] || umoci init --layout "$layout"
	umoci new --image "$image"
	umoci config --image "$image" --created "$E2E_CREATED" --no-history \
		--architecture amd64 --os linux
}

e2e_image_add_dir() {
	local image=$1 dir=$2 by=${3:-"e2e: add $(basename "$2")"}
	local t
	t=$(mktemp "$E2E_TMP/layer.XXXXXX.tar")
	e2e_layer_tar "$dir" "$t"
	umoci raw add-layer --image "$image" --history.created "$E2E_CREATED" \
		--history.created_by "$by" "$t"
	rm -f "$t"
}

e2e_image_rootful() {
	local image=$1
	umoci config --image "$image" --created "$E2E_CREATED" \
		--history.created "$E2E_CREATED" --history.created_by "e2e: rootful config" \
		--config.env "ASPNETCORE_URLS=http://+:80" \
		--config.env "PATH=/bin:/sbin:/app" \
		--config.exposedports 80/tcp \
		--config.cmd /app/serve \
		--config.workingdir /app
}

e2e_build_rootful() {
	local image=$1; shift
	local root
	root=$(mktemp -d "$E2E_TMP/rootfs.XXXXXX")
	e2e_rootfs "$root" "$@"
	e2e_image_new "$image"
	e2e_image_add_dir "$image" "$root" "e2e: busybox rootfs"
	e2e_image_rootful "$image"
}

e2e_build_multilayer() {
	local image=$1 root up
	root=$(mktemp -d "$E2E_TMP/rootfs.XXXXXX")
	up=$(mktemp -d "$E2E_TMP/upper.XXXXXX")
	e2e_rootfs "$root" --shadow
	printf 'stale:x:1000:1000::/home/stale:/bin/sh\n' >> "$root/etc/passwd"
	e2e_image_new "$image"
	e2e_image_add_dir "$image" "$root" "e2e: base"
	# Upper layer: whiteout etc/passwd, then re-add it in a third layer without "stale".
	mkdir -p "$up/etc"
	: > "$up/etc/.wh.passwd"
	e2e_image_add_dir "$image" "$up" "e2e: remove passwd"
	rm -rf "$up"; mkdir -p "$up/etc"
	printf 'root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/sbin/nologin\n' > "$up/etc/passwd"
	chmod 0644 "$up/etc/passwd"
	e2e_image_add_dir "$image" "$up" "e2e: re-add passwd"
	e2e_image_rootful "$image"
}

e2e_build_opaque() {
	local image=$1 root up
	root=$(mktemp -d "$E2E_TMP/rootfs.XXXXXX")
	up=$(mktemp -d "$E2E_TMP/upper.XXXXXX")
	e2e_rootfs "$root" --shadow
	printf 'stale:x:1654:1654::/home/stale:/bin/sh\n' >> "$root/etc/passwd"
	e2e_image_new "$image"
	e2e_image_add_dir "$image" "$root" "e2e: base"
	mkdir -p "$up/etc"
	: > "$up/etc/.wh..wh..opq"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$up/etc/passwd"
	printf 'root:x:0:\n' > "$up/etc/group"
	chmod 0644 "$up/etc/passwd" "$up/etc/group"
	e2e_image_add_dir "$image" "$up" "e2e: opaque etc"
	e2e_image_rootful "$image"
}

e2e_build_symlinked() {
	local image=$1 root
	root=$(mktemp -d "$E2E_TMP/rootfs.XXXXXX")
	e2e_rootfs "$root"
	mkdir -p "$root/usr/lib"
	mv "$root/etc/passwd" "$root/usr/lib/passwd"
	ln -s ../usr/lib/passwd "$root/etc/passwd"
	e2e_image_new "$image"
	e2e_image_add_dir "$image" "$root" "e2e: symlinked passwd"
	e2e_image_rootful "$image"
}

# An OCI index (tag TAG in LAYOUT) with two platforms. The arm64 one reuses the same
# busybox rootfs (it is never run), only its config says arm64. VARIANT (default v8; "" for
# none) is the arm64 entry's platform variant.
e2e_build_multiplatform() {
	local layout=$1 tag=$2 variant=${3-v8} m1 m2 idx digest size
	e2e_build_rootful "$layout:amd64"
	e2e_build_rootful "$layout:arm64"
	umoci config --image "$layout:arm64" --architecture arm64 --no-history
	m1=$(jq -c '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="amd64")
		| del(.annotations) + {platform:{architecture:"amd64",os:"linux"}}' "$layout/index.json")
	m2=$(jq -c '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="arm64")
		| del(.annotations) + {platform:({architecture:"arm64",os:"linux"}
			+ (if $v == "" then {} else {variant:$v} end))}' \
		--arg v "$variant" "$layout/index.json")
	idx=$(mktemp "$E2E_TMP/index.XXXXXX")
	jq -cn --argjson a "$m1" --argjson b "$m2" \
		'{schemaVersion:2, mediaType:"application/vnd.oci.image.index.v1+json", manifests:[$a,$b]}' \
		> "$idx"
	digest=$(sha256sum "$idx" | cut -d' ' -f1)
	size=$(stat -c %s "$idx")
	mv "$idx" "$layout/blobs/sha256/$digest"
	jq --arg d "sha256:$digest" --argjson s "$size" --arg t "$tag" \
		'.manifests = [{mediaType:"application/vnd.oci.image.index.v1+json", digest:$d, size:$s,
		 annotations:{"org.opencontainers.image.ref.name":$t}}]' \
		"$layout/index.json" > "$layout/index.json.new"
	mv "$layout/index.json.new" "$layout/index.json"
}

e2e_convert() {
	local src=$1 dst=$2; shift 2
	"${E2E_SKOPEO[@]}" copy -q "$@" "$src" "$dst"
}

e2e_bundle() {
	local image=$1 bundle=$2
	rm -rf "$bundle"
	umoci unpack --image "$image" "$bundle" >/dev/null
	jq '.process.terminal = false
	    | .process.capabilities |= (if . == null then . else
	        with_entries(.value |= map(select(. != "CAP_NET_BIND_SERVICE"))) end)' \
		"$bundle/config.json" > "$bundle/config.json.new"
	mv "$bundle/config.json.new" "$bundle/config.json"
}

e2e_bundle_args() {
	local bundle=$1; shift
	python3 - "$bundle/config.json" "$@" <<'PY'
import json, sys
path, args = sys.argv[1], sys.argv[2:]
with open(path) as f:
    cfg = json.load(f)
cfg["process"]["args"] = args
with open(path + ".new", "w") as f:
    json.dump(cfg, f, indent="\t")
PY
	mv "$bundle/config.json.new" "$bundle/config.json"
}

e2e_bundle_user() {
	local bundle=$1 uid=$2 gid=$3
	jq --argjson u "$uid" --argjson g "$gid" '.process.user = {uid:$u, gid:$g}' \
		"$bundle/config.json" > "$bundle/config.json.new"
	mv "$bundle/config.json.new" "$bundle/config.json"
}

e2e_bundle_env() {
	local bundle=$1 kv=$2
	jq --arg kv "$kv" '.process.env = ([.process.env[] | select(startswith(($kv | split("=")[0]) + "=") | not)] + [$kv])' \
		"$bundle/config.json" > "$bundle/config.json.new"
	mv "$bundle/config.json.new" "$bundle/config.json"
}

e2e_run() {
	local bundle=$1 id rc=0
	E2E_RUNS=$((E2E_RUNS + 1))
	id="nr-e2e-$$-$E2E_RUNS"
	timeout 30 runc run --bundle "$bundle" "$id" < /dev/null 2>&1 || rc=$?
	runc delete -f "$id" >/dev/null 2>&1 || true
	return $rc
}

# Path of a blob of an OCI layout image: what = manifest | config | layerN (0-based).
e2e_blob_of() {
	local image=$1 what=$2 layout=${1%:*} tag=${1##*:} d m
	m=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .digest' \
		"$layout/index.json")
	case $what in
	manifest) d=$m ;;
	config) d=$(jq -r .config.digest "$layout/blobs/${m/://}") ;;
	layer*) d=$(jq -r ".layers[${what#layer}].digest" "$layout/blobs/${m/://}") ;;
	*) echo "e2e_blob_of: $what?" >&2; return 2 ;;
	esac
	echo "$layout/blobs/${d/://}"
}

e2e_config_of() {
	cat "$(e2e_blob_of "$1" config)"
}

e2e_expect_contains() {
	if ! grep -qF -- "$2" <<<"$1"; then
		printf 'e2e: expected to find <%s> in:\n%s\n' "$2" "$1" >&2
		return 1
	fi
}

e2e_expect_fail() {
	if "$@"; then
		echo "e2e: expected failure from: $*" >&2
		return 1
	fi
}

e2e_step() {
	echo "== $*"
}

# nonroot patch, then the property every e2e test checks: exit 0 means the result audits
# clean at error level (audit --fail-on error exits 0).
e2e_patch() {
	local image="" dest="" tag="" platform="" threshold="" dry=0 rc=0 arow a prev=""
	for a in "$@"; do
		case $prev in
		-o|--output) dest=$a; prev=""; continue ;;
		--tag) tag=$a; prev=""; continue ;;
		--platform) platform=$a; prev=""; continue ;;
		--threshold) threshold=$a; prev=""; continue ;;
		--user|--uid|--gid|--home|--shell|--port-map|--mode|--format|--cache)
			prev=""; continue ;;
		esac
		case $a in
		-o|--output|--platform|--threshold|--tag|--user|--uid|--gid|--home|--shell|--port-map|--mode|--format|--cache)
			prev=$a ;;
		--output=*) dest=${a#--output=} ;;
		--platform=*) platform=${a#--platform=} ;;
		--threshold=*) threshold=${a#--threshold=} ;;
		--dry-run) dry=1 ;;
		-*) ;;
		*) [ -n "$image" ] || image=$a ;;
		esac
	done
	"$NONROOT" patch "$@" || rc=$?
	if [ $rc = 0 ] && [ $dry = 0 ] && [ -n "$image" ]; then
		local target=${dest:-$image} aargs=()
		# In place with --tag: the result is the new tag (the old one keeps the old image).
		if [ -z "$dest" ] && [ -n "$tag" ]; then
			case $image in
			oci:*:*) target=${image%:*}:$tag ;;
			oci:*) target=$image:$tag ;;
			esac
		fi
		[ -z "$platform" ] || aargs+=(--platform "$platform")
		[ -z "$threshold" ] || aargs+=(--threshold "$threshold")
		if ! arow=$("$NONROOT" audit "$target" --fail-on error "${aargs[@]}" 2>&1); then
			printf 'nonroot patch %s exited 0, but audit %s is not clean:\n%s\n' \
				"$*" "$target" "$arow" | tee -a "$E2E_TMP/property-violations" >&2
			return 99
		fi
		e2e_runc_property "$target" "${threshold:-1024}" "$platform" "$*" || return 99
	fi
	return $rc
}

# The runc half of the property: the result, started by nonroot verify with runc (hardened:
# no capabilities), runs as a non-root uid and listens on no port below the threshold. What
# verify observed is checked, not its verdict: an image whose program exits at once (nothing
# to observe) or that cannot start passes this check (the test's own runc runs say more).
# As root with runc only; E2E_RUNC_PROPERTY=0 turns it off.
e2e_runc_property() {
	local target=$1 threshold=$2 platform=$3 what=$4 vj bad vargs=()
	[ "${E2E_RUNC_PROPERTY:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v runc >/dev/null ||
		return 0
	[ -z "$platform" ] || vargs+=(--platform "$platform")
	vj=$("$NONROOT" verify "$target" --timeout 2 --format json "${vargs[@]}" 2>/dev/null) || true
	bad=$(jq -r --argjson t "$threshold" 'if .process == null then empty else
		([if any(.process.uid[]; . == 0) then "runs as uid 0" else empty end] +
		 [.listening[]? | select(.port < $t) | "listens on privileged port \(.port)"]) |
		join(", ") end' <<<"$vj" 2>/dev/null) || bad=""
	if [ -n "$bad" ]; then
		printf 'nonroot patch %s exited 0, but run with runc %s %s\n' "$what" "$target" \
			"$bad" | tee -a "$E2E_TMP/property-violations" >&2
		return 1
	fi
	return 0
}
