#!/bin/bash
# bench/registry.sh [BUILD] [--size BYTES] [--work DIR] [--smoke]: docker:// against a real
# registry (docker-registry on 127.0.0.1, plain HTTP), measured in one run:
#   1. bytes uploaded by `nonroot patch docker://...` for the seed's change (blob bytes from
#      the registry's storage for each blob PUT, + manifest bytes); target < 64 KiB
#   2. layer GETs when a second image on the same base is patched with a warm layer-scan
#      cache (from the access log); target 0
#   3. wall time: nonroot patch docker:// (cold cache, warm cache) vs the flow users run today:
#      skopeo copy docker:// -> oci:, nonroot patch oci:, skopeo copy oci: -> docker://
#   4. 20 images on one base patched in one call (several IMAGE arguments) vs 20 runs
# The image is bench/genimage.sh's (default 1 GB, 4 gzip layers). Results: stdout and
# WORK/registry-results.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=$src/build
size=1073741824 work=/var/tmp/nonroot-bench smoke=0 fleet=20
while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift ;;
	--work) work=$2; shift ;;
	--fleet) fleet=$2; shift ;;
	--smoke) smoke=1 ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	-*) echo "bench/registry.sh: unknown option $1" >&2; exit 2 ;;
	*) build=$(cd "$1" && pwd) ;;
	esac
	shift
done
case $size in
*K) size=$(( ${size%K} * 1024 )) ;; *M) size=$(( ${size%M} * 1048576 )) ;;
*G) size=$(( ${size%G} * 1073741824 )) ;;
esac
if [ "$smoke" = 1 ]; then
	size=3000000 fleet=3
	work=$(mktemp -d /tmp/nonroot-bench-reg-smoke.XXXXXX)
fi
nonroot=$build/nonroot
[ -x "$nonroot" ] || { echo "bench/registry.sh: $nonroot is not built" >&2; exit 2; }
for t in docker-registry skopeo python3; do
	command -v "$t" >/dev/null || { echo "bench/registry.sh: $t is missing (scripts/install-deps)" >&2; exit 2; }
done
mkdir -p "$work"
img=$work/img-$size-4
bash "$here/genimage.sh" "$img" "$size" 4 >/dev/null

run=$(mktemp -d "$work/registry-run.XXXXXX")
cleanup() {
	[ -z "${regpid:-}" ] || kill -9 "$regpid" 2>/dev/null || true
	rm -rf "$run"
	[ "$smoke" = 0 ] || rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
reg=127.0.0.1:$port
cat >"$run/config.yml" <<CFG
version: 0.1
log: {level: info, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $run/data}}
http: {addr: "$reg", secret: bench}
CFG
docker-registry serve "$run/config.yml" >"$run/log" 2>&1 &
regpid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://$reg/v2/" && break; sleep 0.1; done
sk=(skopeo --insecure-policy)
F=(--tls-verify=false)
mark() { wc -l <"$run/log"; }
reqs() { tail -n +"$(( $1 + 1 ))" "$run/log" | grep -a '^127\.0\.0\.1 - ' | sed -E 's/^[^"]*"([A-Z]+) ([^ ]+) [^"]*" ([0-9]+) .*/\1 \2 \3/'; }
uploaded() {   # blob bytes PUT since mark $1, + the bytes of repo $2's manifest at tag $3
	local total=0 d s man
	for d in $(reqs "$1" | awk '$1 == "PUT" && $3 == 201 && $2 ~ /digest=sha256/ { sub(/.*digest=sha256(:|%3A)/, "", $2); sub(/&.*/, "", $2); print $2 }'); do
		s=$(stat -c %s "$run/data/docker/registry/v2/blobs/sha256/${d:0:2}/$d/data")
		total=$((total + s))
	done
	man=$(curl -s "http://$reg/v2/$2/manifests/$3" -H 'Accept: application/vnd.oci.image.manifest.v1+json' | wc -c)
	echo $((total + man))
}
layer_gets() { reqs "$1" | awk '$1 == "GET" && $2 ~ /\/blobs\// && $3 ~ /^20/' | while read -r _ u _; do
	d=${u##*/}; s=$(stat -c %s "$run/data/docker/registry/v2/blobs/sha256/${d:7:2}/${d:7}/data"); if [ "$s" -gt 65536 ]; then echo "$d"; fi; done | wc -l; }
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

echo "bench/registry.sh: image $(du -sh "$img/blobs" | cut -f1) in 4 layers, registry $reg" >&2
"${sk[@]}" copy -q --dest-tls-verify=false "oci:$img:bench" "docker://$reg/base:v1"
for r in cold warm flow flowwarm; do
	"${sk[@]}" copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$reg/base:v1" "docker://$reg/$r:v1"
done
for k in $(seq 1 "$fleet"); do
	"${sk[@]}" copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$reg/base:v1" "docker://$reg/fleet$k:v1"
	"${sk[@]}" copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$reg/base:v1" "docker://$reg/single$k:v1"
done

export NONROOT_CACHE=$run/cache
# 1 + 3: cold (empty cache)
m=$(mark); t0=$(now)
"$nonroot" patch "${F[@]}" "docker://$reg/cold:v1" >/dev/null
t1=$(now); cold=$(secs "$t0" "$t1")
up=$(uploaded "$m" cold v1); cold_gets=$(layer_gets "$m")
# 2 + 3: warm (another image on the same base)
m=$(mark); t0=$(now)
"$nonroot" patch "${F[@]}" "docker://$reg/warm:v1" >/dev/null
t1=$(now); warm=$(secs "$t0" "$t1")
up_warm=$(uploaded "$m" warm v1); warm_gets=$(layer_gets "$m")
# 3: today's flow, cold cache and warm cache
flow() {
	rm -rf "$run/flow-oci"
	"${sk[@]}" copy -q --src-tls-verify=false "docker://$reg/$1:v1" "oci:$run/flow-oci:x"
	"$nonroot" patch "oci:$run/flow-oci:x" >/dev/null
	"${sk[@]}" copy -q --dest-tls-verify=false "oci:$run/flow-oci:x" "docker://$reg/$1:v1"
}
t0=$(now); NONROOT_CACHE=$run/cache-flow flow flow; t1=$(now); flow_cold=$(secs "$t0" "$t1")
t0=$(now); flow flowwarm; t1=$(now); flow_warm=$(secs "$t0" "$t1")
# 4: fleet: one call vs separate runs (warm cache from above in both)
args=(); for k in $(seq 1 "$fleet"); do args+=("docker://$reg/fleet$k:v1"); done
t0=$(now); "$nonroot" patch "${F[@]}" "${args[@]}" >/dev/null; t1=$(now); fleet_one=$(secs "$t0" "$t1")
t0=$(now); for k in $(seq 1 "$fleet"); do "$nonroot" patch "${F[@]}" "docker://$reg/single$k:v1" >/dev/null; done
t1=$(now); fleet_sep=$(secs "$t0" "$t1")

ratio() { python3 -c "print(f'{$1 / max($2, 0.001):.1f}x')"; }
out=$work/registry-results.md
{
	echo "## docker:// ($(du -sh "$img/blobs" | cut -f1) image, 4 gzip layers; $(date -u +%Y-%m-%d))"
	echo
	echo "| measure | value | target |"
	echo "| --- | --- | --- |"
	echo "| bytes uploaded by the patch (new layer + config + manifest) | $up | < 65536 |"
	echo "| layer GETs, cold cache | $cold_gets | (every layer the scan needs) |"
	echo "| layer GETs, second image on the same base, warm cache | $warm_gets | 0 |"
	echo "| nonroot patch docker://, cold cache | ${cold} s | |"
	echo "| skopeo copy + nonroot patch oci: + skopeo copy, cold cache | ${flow_cold} s | |"
	echo "| ratio, cold | $(ratio "$flow_cold" "$cold") | >= 5x |"
	echo "| nonroot patch docker://, warm cache | ${warm} s | |"
	echo "| skopeo copy + nonroot patch oci: + skopeo copy, warm cache | ${flow_warm} s | |"
	echo "| ratio, warm | $(ratio "$flow_warm" "$warm") | >= 50x |"
	echo "| $fleet images on one base: one nonroot patch call | ${fleet_one} s | |"
	echo "| $fleet images on one base: $fleet separate runs | ${fleet_sep} s | |"
} | tee "$out"
[ "$smoke" = 1 ] || echo "(also in $out)" >&2
if [ "$up" -ge 65536 ] || [ "$warm_gets" != 0 ]; then
	echo "bench/registry.sh: a target was missed (uploaded $up bytes, $warm_gets layer GETs warm)" >&2
	exit 1
fi
