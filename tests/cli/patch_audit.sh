#!/usr/bin/env bash
# nonroot patch / audit over the real binary on tiny OCI layouts made here with Python's
# stdlib (no umoci needed): exit codes, text/JSON/SARIF shapes, dry run, -o, patching twice,
# conflicts named, --fail-on, usage errors, NR_E* from tampered blobs.
set -euo pipefail
: "${NONROOT:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"


# mkimage DIR PASSWD CONFIG_JSON: an OCI layout with one gzip layer (etc/passwd, etc/group).
mkimage() {
	python3 - "$@" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
d, passwd, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
os.makedirs(d + "/blobs/sha256", exist_ok=True)
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    open(d + "/blobs/sha256/" + h, "wb").write(data)
    return "sha256:" + h, len(data)
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    for name, data, mode in (("etc/passwd", passwd, 0o644), ("etc/group", "root:x:0:\n", 0o644)):
        b = data.encode(); ti = tarfile.TarInfo(name); ti.size = len(b); ti.mode = mode; ti.mtime = 1704067200
        t.addfile(ti, io.BytesIO(b))
tarb = raw.getvalue()
gz = gzip.compress(tarb, mtime=0)
ldig, lsize = blob(gz)
cfg = {"created": "2024-01-01T00:00:00Z", "architecture": "amd64", "os": "linux", "config": config,
       "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tarb).hexdigest()]},
       "history": [{"created_by": "test"}]}
cdig, csize = blob(json.dumps(cfg).encode())
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdig, "size": csize},
       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ldig, "size": lsize}]}
mdig, msize = blob(json.dumps(man).encode())
open(d + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": mdig, "size": msize, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
    open(d + "/index.json", "w"))
PY
}
export NONROOT_CACHE=off
rootful='{"Env":["ASPNETCORE_URLS=http://+:80"],"ExposedPorts":{"80/tcp":{}}}'
mkimage "$tmp/img" $'root:x:0:0:root:/root:/bin/sh\n' "$rootful"
img=oci:$tmp/img:latest

# audit before
run "$NONROOT" audit "$img"
check "audit rootful exit" 1 "$rc"
contains "audit NR001" "NR001 error   User is not set: the container runs as root (uid 0)" "$out"
contains "audit NR005" "NR005 warning ASPNETCORE_URLS=http://+:80 makes Kestrel bind privileged port 80" "$out"
check "audit quiet stderr (not a TTY)" "" "$err"
run "$NONROOT" audit "$img" --fail-on never
check "--fail-on never" 0 "$rc"
run "$NONROOT" audit "$img" --format json
check "audit json ids" "NR001 NR005 NR004" "$(jq -r '[.platforms[0].findings[].id] | join(" ")' <<<"$out")"
check "audit json max_level" "error" "$(jq -r .max_level <<<"$out")"
run "$NONROOT" audit "$img" --format sarif
check "sarif version" "2.1.0" "$(jq -r .version <<<"$out")"
check "sarif rules" 15 "$(jq '.runs[0].tool.driver.rules | length' <<<"$out")"
check "sarif result rule" "NR001" "$(jq -r '.runs[0].results[0].ruleId' <<<"$out")"

# dry run changes nothing
cp -a "$tmp/img" "$tmp/orig"
run "$NONROOT" patch "$img" --dry-run --format json
check "dry run exit" 0 "$rc"
check "dry run changed" "true" "$(jq -r .changed <<<"$out")"
check "dry run written" "null" "$(jq -r .written <<<"$out")"
check "dry run env" "http://+:8080" "$(jq -r '.changes[] | select(.target == "ASPNETCORE_URLS") | .after' <<<"$out")"
check "dry run shell" "app:x:1654:1654::/home/app:/bin/false" "$(jq -r '.changes[] | select(.target == "etc/passwd") | .after' <<<"$out")"
run diff -r "$tmp/img" "$tmp/orig"
check "dry run left the image alone" 0 "$rc"

# patch to another layout, then again
run "$NONROOT" patch "$img" -o "oci:$tmp/patched:latest"
check "patch -o exit" 0 "$rc"; [ "$rc" = 0 ] || echo "$err"
contains "patch -o says where" "wrote oci:$tmp/patched:latest" "$out"
run "$NONROOT" audit "oci:$tmp/patched:latest" --fail-on note
check "patched audits clean" 0 "$rc"
contains "clean" "clean: no findings" "$out"
run "$NONROOT" patch "oci:$tmp/patched:latest" --format json
check "patch twice: changed" "false" "$(jq -r .changed <<<"$out")"
check "patch twice: no changes" 0 "$(jq '.changes | length' <<<"$out")"
run "$NONROOT" patch "oci:$tmp/patched:latest"
contains "patch twice says so" "already patched: nothing to change (user 1654:1654)" "$out"
run "$NONROOT" patch "$img" --mode compat --dry-run --format json
check "compat env" "http://+:80;http://+:8080" "$(jq -r '.changes[] | select(.target == "ASPNETCORE_URLS") | .after' <<<"$out")"
check "compat keeps User" "" "$(jq -r '.changes[] | select(.target == "User") | .after' <<<"$out")"

# conflicts are input errors, named
mkimage "$tmp/cf" $'root:x:0:0:root:/root:/bin/sh\nweb:x:1654:1654::/srv:/bin/sh\n' "$rootful"
run "$NONROOT" patch "oci:$tmp/cf:latest"
check "conflict exit" 2 "$rc"
contains "conflict named" "etc/passwd:2: uid 1654 is taken by user 'web': choose another with --uid N" "$err"
run "$NONROOT" patch "oci:$tmp/cf:latest" --user web --dry-run --format json
check "reuse web" "0" "$(jq '[.changes[] | select(.target == "etc/passwd")] | length' <<<"$out")"
run "$NONROOT" patch "oci:$tmp/cf:latest" --uid 1700 --port-map 80:8081 --dry-run --format json
check "other uid" 1700 "$(jq -r .uid <<<"$out")"
check "port map" "http://+:8081" "$(jq -r '.changes[] | select(.target == "ASPNETCORE_URLS") | .after' <<<"$out")"

# a privileged port without a mapping
mkimage "$tmp/p22" $'root:x:0:0:root:/root:/bin/sh\n' '{"Env":["ASPNETCORE_URLS=http://+:81"]}'
run "$NONROOT" patch "oci:$tmp/p22:latest" --dry-run
check "unmapped port exit" 2 "$rc"
contains "unmapped port named" "81" "$err"

# tampered config blob
cfgblob=$(jq -r .config.digest "$tmp/orig/blobs/sha256/$(jq -r '.manifests[0].digest' "$tmp/orig/index.json" | cut -d: -f2)" | cut -d: -f2)
printf ' ' >> "$tmp/orig/blobs/sha256/$cfgblob"
run "$NONROOT" audit "oci:$tmp/orig:latest"
check "tampered exit" 2 "$rc"
contains "tampered blob named" "sha256:$cfgblob" "$err"

# usage
run "$NONROOT" patch
check "patch no image" 2 "$rc"
run "$NONROOT" patch "$img" --format xml
check "patch bad format" 2 "$rc"
run "$NONROOT" patch "$img" --mode sideways
check "patch bad mode" 2 "$rc"
run "$NONROOT" patch "$img" --uid abc
check "patch bad uid" 2 "$rc"
run "$NONROOT" patch "$img" --port-map 80
check "patch bad port map" 2 "$rc"
run "$NONROOT" audit "$img" --format yaml
check "audit bad format" 2 "$rc"
run "$NONROOT" audit "$img" --fail-on sometimes
check "audit bad fail-on" 2 "$rc"
run "$NONROOT" audit "oci:$tmp/nope:latest"
check "audit missing image" 2 "$rc"
run "$NONROOT" patch --help
check "patch help" 0 "$rc"
contains "patch help text" "--mode MODE" "$out"
run "$NONROOT" audit --help
contains "audit help lists rules" "NR008 setid-file" "$out"

finish patch_audit
