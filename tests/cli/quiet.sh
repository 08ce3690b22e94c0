#!/usr/bin/env bash
# -q/--quiet on every command (issue 13): each command's --help lists it, each accepts both
# spellings, and each prints findings and errors only: nothing on a success that has nothing to
# report (passwd add, unpack, patch of a clean image), fewer lines than without -q, and errors
# still on stderr. verify -q: a usage or input error is still printed (the proof itself is
# checked with runc in tests/e2e/verify.sh).
set -euo pipefail
: "${NONROOT:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fewer() { if [ "$(wc -l <<<"$2")" -lt "$(wc -l <<<"$3")" ] || [ -z "$2" -a -n "$3" ]; then passes=$((passes + 1)); else echo "FAIL: $1: -q printed no less"; echo "  quiet: $2"; echo "  normal: $3"; fails=$((fails + 1)); fi; }
export NONROOT_CACHE=off
cd "$tmp"

# Every command of `nonroot --help` documents -q, --quiet, and none refuses either spelling.
cmds=$("$NONROOT" --help | awk '/^Commands:/{on=1;next} on&&/^  [a-z]/{print $1} on&&/^$/{on=0}')
[ "$(wc -w <<<"$cmds")" -ge 9 ] && passes=$((passes + 1)) || { echo "FAIL: commands parsed: $cmds"; fails=$((fails + 1)); }
for c in $cmds; do
	case $c in user) c="user resolve" ;; passwd) c="passwd add" ;; bundle) c="bundle harden" ;; cache) c="cache prune" ;; esac
	run "$NONROOT" $c --help
	contains "$c --help lists -q" "-q, --quiet" "$out"
	for q in -q --quiet; do
		run "$NONROOT" $c $q --no-such-option
		contains "$c $q: the bad option is the one refused" "no-such-option" "$err"
		lacks "$c $q is accepted" "'$q'" "$err"
		lacks "$c $q is accepted" "option requires" "$err"
	done
done

# an image: root, ASP.NET Core on 80, a set-uid file
python3 - "$tmp/img" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
d = sys.argv[1]
os.makedirs(d + "/blobs/sha256", exist_ok=True)
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    open(d + "/blobs/sha256/" + h, "wb").write(data)
    return "sha256:" + h, len(data)
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    for name, data, mode in [("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644),
                             ("etc/group", "root:x:0:\n", 0o644), ("usr/bin/su", "#!/bin/true\n", 0o4755)]:
        b = data.encode(); ti = tarfile.TarInfo(name); ti.size = len(b); ti.mode = mode; ti.mtime = 1704067200
        t.addfile(ti, io.BytesIO(b))
tarb = raw.getvalue()
ldig, lsize = blob(gzip.compress(tarb, mtime=0))
cfg = {"created": "2024-01-01T00:00:00Z", "architecture": "amd64", "os": "linux",
       "config": {"Env": ["ASPNETCORE_URLS=http://+:80"], "ExposedPorts": {"80/tcp": {}}},
       "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tarb).hexdigest()]}}
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
img=oci:$tmp/img:latest

run "$NONROOT" audit "$img"; normal=$out
run "$NONROOT" audit "$img" -q
check "audit -q exit" 1 "$rc"
fewer "audit" "$out" "$normal"
contains "audit -q: the findings" "NR001" "$out"

run env -i ASPNETCORE_URLS='http://+:80;http://+:8080' "$NONROOT" urls; normal=$out
run env -i ASPNETCORE_URLS='http://+:80;http://+:8080' "$NONROOT" urls -q
fewer "urls" "$out" "$normal"
contains "urls -q: the privileged binding" "port 80" "$out"
lacks "urls -q: not the unprivileged one" "8080" "$out"

run "$NONROOT" user resolve 0 --root "$tmp" -q
check "user resolve -q: the answer" 0 "$rc"
[ -n "$out" ] && passes=$((passes + 1)) || { echo "FAIL: user resolve -q printed nothing"; fails=$((fails + 1)); }

mkdir -p "$tmp/root/etc"
run "$NONROOT" passwd add --root "$tmp/root" --user app --uid 1654 -q
check "passwd add -q exit" 0 "$rc"
check "passwd add -q stdout" "" "$out"
run "$NONROOT" passwd add --root "$tmp/root" --user app --uid 1654 -q
check "passwd add -q: the error is printed" 2 "$rc"
[ -n "$err" ] && passes=$((passes + 1)) || { echo "FAIL: passwd add -q hid the error"; fails=$((fails + 1)); }

run "$NONROOT" unpack "$img" "$tmp/u1" --rootless; normal=$out
run "$NONROOT" unpack "$img" "$tmp/u2" --rootless -q
check "unpack -q exit" 0 "$rc"
check "unpack -q stdout" "" "$out"
[ -n "$normal" ] && passes=$((passes + 1)) || { echo "FAIL: unpack without -q printed nothing"; fails=$((fails + 1)); }

cp -r "$tmp/img" "$tmp/p1"
run "$NONROOT" patch "oci:$tmp/p1:latest"; normal=$out
check "patch exit" 0 "$rc"
cp -r "$tmp/img" "$tmp/p2"
run "$NONROOT" patch "oci:$tmp/p2:latest" -q
check "patch -q exit" 0 "$rc"
fewer "patch" "$out" "$normal"
lacks "patch -q: no change list" "etc/passwd" "$out"

run "$NONROOT" k8s "oci:$tmp/p1:latest"; normal=$out
run "$NONROOT" k8s "oci:$tmp/p1:latest" -q
fewer "k8s" "$out" "$normal"
contains "k8s -q: the fragment" "runAsNonRoot: true" "$out"

# verify -q: errors are still printed (stderr), stdout stays empty
run "$NONROOT" verify -q "oci:$tmp/missing:latest" --runtime /nonexistent/runc
check "verify -q input error exit" 2 "$rc"
check "verify -q input error stdout" "" "$out"
[ -n "$err" ] && passes=$((passes + 1)) || { echo "FAIL: verify -q hid the error"; fails=$((fails + 1)); }
run "$NONROOT" verify --quiet "$img" --timeout 0
check "verify --quiet usage error" 2 "$rc"
contains "verify --quiet usage error names the option" "--timeout" "$err"

echo "quiet: $passes passed, $fails failed"
[ "$fails" = 0 ]
