#!/usr/bin/env bash
# nonroot audit for CI pipelines (issue 13): --ignore, --level, --allow-setid, a config file
# (--config FILE, ./.nonroot.yaml / .json, the YAML subset and its errors), -q, NR008 grouped
# in text, --baseline from an earlier JSON or SARIF report (only new findings count),
# fingerprints equal across two builds with different layer digests, and the SARIF of both
# valid against the 2.1.0 schema.
set -euo pipefail
: "${NONROOT:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# mkimage DIR SETID_PATHS [EXTRA_FILE]: User 1654, port 80, set-uid files; EXTRA_FILE changes
# the layer (and so every digest) without changing any finding.
mkimage() {
	python3 - "$@" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
d, setid = sys.argv[1], [p for p in sys.argv[2].split(",") if p]
extra = sys.argv[3] if len(sys.argv) > 3 else None
os.makedirs(d + "/blobs/sha256", exist_ok=True)
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    open(d + "/blobs/sha256/" + h, "wb").write(data)
    return "sha256:" + h, len(data)
raw = io.BytesIO()
files = [("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/bin/false\n", 0o644),
         ("etc/group", "root:x:0:\napp:x:1654:\n", 0o644)]
files += [(p, "#!/bin/true\n", 0o4755) for p in setid]
if extra:
    files.append((extra, "build " + extra + "\n", 0o644))
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    for name, data, mode in files:
        b = data.encode(); ti = tarfile.TarInfo(name); ti.size = len(b); ti.mode = mode; ti.mtime = 1704067200
        t.addfile(ti, io.BytesIO(b))
    ti = tarfile.TarInfo("home/app"); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; ti.uid = ti.gid = 1654
    t.addfile(ti)
tarb = raw.getvalue()
ldig, lsize = blob(gzip.compress(tarb, mtime=0))
cfg = {"created": "2024-01-01T00:00:00Z", "architecture": "amd64", "os": "linux",
       "config": {"User": "1654:1654", "Env": ["ASPNETCORE_URLS=http://+:80"]},
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
cd "$tmp"   # no ./.nonroot.yaml unless a case writes one
mkimage "$tmp/a" usr/bin/su,usr/bin/passwd,usr/bin/chfn
img=oci:$tmp/a:latest

# NR008 grouped: one line per image in text, one finding per file in JSON
run "$NONROOT" audit "$img" --fail-on warning
check "findings exit" 1 "$rc"
contains "NR008 grouped" "NR008 warning 3 set-uid/set-gid files: /usr/bin/chfn /usr/bin/passwd /usr/bin/su" "$out"
check "NR008 one line" 1 "$(grep -c 'NR008' <<<"$out")"
run "$NONROOT" audit "$img" --format json
check "NR008 per file in JSON" 3 "$(jq '[.platforms[0].findings[] | select(.id == "NR008")] | length' <<<"$out")"

# -q: findings only
run "$NONROOT" audit "$img" -q
lacks "-q no header" "User '1654:1654'" "$out"
lacks "-q no fix lines" "fix:" "$out"
contains "-q finding line" "linux/amd64: NR005 error   ASPNETCORE_URLS=http://+:80" "$out"
contains "-q NR008 line" "linux/amd64: NR008 warning 3 set-uid/set-gid files" "$out"

# --ignore, --level, --allow-setid
run "$NONROOT" audit "$img" --ignore NR008,NR005 --fail-on warning
check "--ignore clean exit" 0 "$rc"
contains "--ignore clean" "clean: no findings" "$out"
contains "--ignore counted" "(4 findings accepted by the config or options)" "$out"
run "$NONROOT" audit "$img" --ignore NR999
check "--ignore unknown rule" 2 "$rc"
contains "--ignore unknown message" "unknown rule 'NR999'" "$err"
run "$NONROOT" audit "$img" --level NR005=note --allow-setid /usr/bin/su --allow-setid 'usr/bin/pass*' --format json
check "--level/--allow-setid exit" 0 "$rc"
check "--level NR005=note" '"note"' "$(jq '.platforms[0].findings[] | select(.id == "NR005") | .level' <<<"$out")"
check "--allow-setid leaves chfn" '"usr/bin/chfn"' "$(jq '.platforms[0].findings[] | select(.id == "NR008") | .location' <<<"$out")"

# a config file: YAML subset (found as ./.nonroot.yaml) and JSON (--config)
cat > "$tmp/.nonroot.yaml" <<'EOF'
# accepted for this image
ignore: [NR005]
levels:
  NR011: none     # a comment after a value
allow-setid:
  - /usr/bin/su
  - "/usr/bin/passwd"
  - 'usr/bin/chfn'
EOF
run "$NONROOT" audit "$img" --fail-on note
check "./.nonroot.yaml clean" 0 "$rc"
contains "./.nonroot.yaml clean text" "clean: no findings" "$out"
run "$NONROOT" audit "$img" --no-config --fail-on warning
check "--no-config" 1 "$rc"
rm "$tmp/.nonroot.yaml"
echo '{"ignore":["NR005"],"allow-setid":["usr/bin/*"]}' > "$tmp/c.json"
run "$NONROOT" audit "$img" --config "$tmp/c.json" --fail-on note
check "--config JSON clean" 0 "$rc"
printf 'ignore: [NR005]\nallow-setid:\n  - usr/bin/su\n   - usr/bin/passwd\n' > "$tmp/bad.yaml"
run "$NONROOT" audit "$img" --config "$tmp/bad.yaml"
check "bad YAML exit" 2 "$rc"
contains "bad YAML names file and line" "nonroot: audit: config $tmp/bad.yaml:4: inconsistent indentation" "$err"
printf 'ignor: [NR005]\n' > "$tmp/typo.yaml"
run "$NONROOT" audit "$img" --config "$tmp/typo.yaml"
check "unknown key exit" 2 "$rc"
contains "unknown key named" "unknown key 'ignor'" "$err"
printf 'levels:\n  NR005: loud\n' > "$tmp/lv.yaml"
run "$NONROOT" audit "$img" --config "$tmp/lv.yaml"
check "bad level exit" 2 "$rc"
contains "bad level named" "levels.NR005: expected error, warning, note or none" "$err"
run "$NONROOT" audit "$img" --config "$tmp/missing.yaml"
check "missing config exit" 2 "$rc"

# baselines: a finding added afterwards fails, the accepted ones do not
"$NONROOT" audit "$img" --format json > "$tmp/base.json" || true
"$NONROOT" audit "$img" --format sarif > "$tmp/base.sarif" || true
run "$NONROOT" audit "$img" --baseline "$tmp/base.json" --fail-on note
check "baseline: same image passes" 0 "$rc"
contains "baseline marked" "[baseline]" "$out"
mkimage "$tmp/b" usr/bin/su,usr/bin/passwd,usr/bin/chfn,usr/bin/newgrp rebuilt.txt
for base in base.json base.sarif; do
	run "$NONROOT" audit "oci:$tmp/b:latest" --baseline "$tmp/$base" --fail-on warning -q
	check "baseline $base: the new finding fails" 1 "$rc"
	contains "baseline $base: new file listed" "/usr/bin/newgrp" "$out"
	run "$NONROOT" audit "oci:$tmp/b:latest" --baseline "$tmp/$base" --format json
	check "baseline $base: exactly one new finding" '["usr/bin/newgrp"]' \
		"$(jq -c '[.platforms[0].findings[] | select(.baseline | not) | .location]' <<<"$out")"
done
run "$NONROOT" audit "$img" --baseline "$tmp/c.json"
check "baseline that is no report" 2 "$rc"

# fleets: the config and the baseline apply to every image; a fleet's JSON is a baseline
run "$NONROOT" audit "$img" "oci:$tmp/b:latest" --baseline "$tmp/base.json" --fail-on warning -j 2
check "fleet with one image's baseline: the new finding of the second fails" 1 "$rc"
run "$NONROOT" audit "$img" "oci:$tmp/b:latest" --ignore NR005 --allow-setid 'usr/bin/*' --fail-on note -j 2
check "fleet: options apply to every image" 0 "$rc"
"$NONROOT" audit "$img" "oci:$tmp/b:latest" --format json > "$tmp/fleet.json" || true
run "$NONROOT" audit "oci:$tmp/b:latest" "$img" --baseline "$tmp/fleet.json" --fail-on note --format json
check "fleet baseline: nothing new" 0 "$rc"
check "fleet baseline: every finding marked" '[true]' \
	"$(jq -c '[.images[].report.platforms[].findings[].baseline] | unique' <<<"$out")"

# fingerprints: a rebuild with different layer digests keeps them
mkimage "$tmp/c" usr/bin/su,usr/bin/passwd,usr/bin/chfn other.txt
"$NONROOT" audit "oci:$tmp/c:latest" --format sarif > "$tmp/c.sarif" || true
a_layer=$(jq -r '.manifests[0].digest' "$tmp/a/index.json")
c_layer=$(jq -r '.manifests[0].digest' "$tmp/c/index.json")
[ "$a_layer" != "$c_layer" ] || { echo "FAIL: the rebuild has the same digest"; fails=$((fails + 1)); }
check "fingerprints survive a rebuild" \
	"$(jq -c '[.runs[0].results[] | [.ruleId, .partialFingerprints["nonroot/v1"]]] | sort' "$tmp/base.sarif")" \
	"$(jq -c '[.runs[0].results[] | [.ruleId, .partialFingerprints["nonroot/v1"]]] | sort' "$tmp/c.sarif")"
check "fingerprints are distinct" 4 "$(jq '[.runs[0].results[].partialFingerprints["nonroot/v1"]] | unique | length' "$tmp/base.sarif")"
check "SARIF physical location is the path in the image" '"usr/bin/su"' \
	"$(jq '[.runs[0].results[] | select(.ruleId == "NR008")][2].locations[0].physicalLocation.artifactLocation.uri' "$tmp/base.sarif")"
check "SARIF logical location of a config field" '"config.Env.ASPNETCORE_URLS"' \
	"$(jq '.runs[0].results[] | select(.ruleId == "NR005") | .locations[0].logicalLocations[0].fullyQualifiedName' "$tmp/base.sarif")"
check "SARIF invocation exit code" 1 "$(jq '.runs[0].invocations[0].exitCode' "$tmp/base.sarif")"
check "SARIF automationDetails per image" "\"nonroot-audit/$img/\"" "$(jq '.runs[0].automationDetails.id' "$tmp/base.sarif")"

# SARIF (with and without a baseline) validates against the OASIS schema
schema=
for d in "${NR_SRC:-.}/../shared/schemas" "$(git -C "${NR_SRC:-.}" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../../shared/schemas" /work/shared/schemas; do
	if [ -f "$d/sarif-schema-2.1.0.json" ]; then schema="$d/sarif-schema-2.1.0.json"; break; fi
done
"$NONROOT" audit "oci:$tmp/b:latest" --format sarif --baseline "$tmp/base.sarif" > "$tmp/b.sarif" || true
check "baselineState" '["new","unchanged","unchanged","unchanged","unchanged"]' \
	"$(jq -c '[.runs[0].results[].baselineState] | sort' "$tmp/b.sarif")"
if [ -n "$schema" ]; then
	for f in base.sarif b.sarif c.sarif; do
		run python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' "$schema" "$tmp/$f"
		check "$f validates against SARIF 2.1.0" "0 " "$rc $err"
	done
else
	echo "FAIL: sarif-schema-2.1.0.json not found"; fails=$((fails + 1))
fi

finish audit_config
