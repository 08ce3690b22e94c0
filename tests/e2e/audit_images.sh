#!/usr/bin/env bash
# nonroot audit on real images: text/json/sarif (SARIF validated against the OASIS 2.1.0 schema
# with python3 jsonschema), --fail-on, set-id files listed, before (findings) and after a
# patch (clean).
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

# The SARIF schema: shared/schemas beside the clone (CI), or beside the main clone of a worktree.
schema=
for d in "$NR_SRC/../shared/schemas" "$(git -C "$NR_SRC" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../../shared/schemas"; do
	if [ -f "$d/sarif-schema-2.1.0.json" ]; then schema="$d/sarif-schema-2.1.0.json"; break; fi
done
[ -n "$schema" ] || { echo "e2e: sarif-schema-2.1.0.json not found beside the repository (../shared/schemas)" >&2; exit 1; }
validate_sarif() {
	python3 - "$schema" "$1" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, schema)
run = doc["runs"][0]
ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
# stable ids, ascending and unique
assert all(len(i) == 5 and i[:2] == "NR" and i[2:].isdigit() for i in ids), ids
assert ids == sorted(set(ids)), ids
assert ids[:15] == ["NR%03d" % i for i in range(1, 16)], ids
for r in run["results"]:
    assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
print("sarif: valid, %d rules, %d results" % (len(ids), len(run["results"])))
PY
}

e2e_step "a rootful image with a set-uid file, 443 exposed and both URL variables"
root=$(mktemp -d "$T/rootfs.XXXXXX")
e2e_rootfs "$root" --shadow --nologin
cp "$E2E_BUSYBOX" "$root/bin/su-like"; chmod 4755 "$root/bin/su-like"
e2e_image_new "$T/img:latest"
e2e_image_add_dir "$T/img:latest" "$root"
e2e_image_rootful "$T/img:latest"
umoci config --image "$T/img:latest" --no-history --config.env ASPNETCORE_HTTP_PORTS=80 \
	--config.exposedports 443/tcp

rc=0; "$NONROOT" audit "oci:$T/img:latest" > "$T/a.txt" || rc=$?
cat "$T/a.txt"
[ "$rc" = 1 ]
for id in NR001 NR004 NR005 NR008; do grep -q "$id" "$T/a.txt"; done
grep -q 'NR005 note    ASPNETCORE_HTTP_PORTS=80 asks for privileged port 80, but it has no effect: ASPNETCORE_URLS takes precedence' "$T/a.txt"
grep -q 'NR008 warning 1 set-uid/set-gid file: /bin/su-like' "$T/a.txt"   # one line per image
jq -e '.platforms[0].findings[] | select(.id == "NR008") | .message == "set-uid file /bin/su-like (mode 4755, owner 0:0)"' \
	<("$NONROOT" audit "oci:$T/img:latest" --format json --fail-on never) >/dev/null

e2e_step "json shape"
"$NONROOT" audit "oci:$T/img:latest" --format json --fail-on never > "$T/a.json"
jq -e '.platforms[0].platform == "linux/amd64" and .platforms[0].user == ""' "$T/a.json" >/dev/null
jq -e '[.platforms[0].findings[] | select(.id and .level and .message and .fix)] | length >= 5' "$T/a.json" >/dev/null

e2e_step "sarif validates against the 2.1.0 schema"
rc=0; "$NONROOT" audit "oci:$T/img:latest" --format sarif > "$T/a.sarif" || rc=$?
[ "$rc" = 1 ]
validate_sarif "$T/a.sarif"

e2e_step "--fail-on"
"$NONROOT" audit "oci:$T/img:latest" --fail-on never >/dev/null
rc=0; "$NONROOT" audit "oci:$T/img:latest" --fail-on bogus 2>/dev/null || rc=$?
[ "$rc" = 2 ]

e2e_step "after the patch: the set-uid file and 443 are left (warnings), errors are gone"
e2e_patch "oci:$T/img:latest" --port-map 80:8080,443:8443 >/dev/null
"$NONROOT" audit "oci:$T/img:latest" > "$T/b.txt"      # exit 0: no error left
cat "$T/b.txt"
[ "$(grep -c '^  NR' "$T/b.txt")" = 2 ]
grep -q NR008 "$T/b.txt"
# nothing bound 443, so patch moved no binding off it: ExposedPorts keeps it (issue 12)
grep -q 'NR004 warning ExposedPorts has privileged port 443/tcp' "$T/b.txt"
rc=0; "$NONROOT" audit "oci:$T/img:latest" --fail-on warning >/dev/null || rc=$?
[ "$rc" = 1 ]
"$NONROOT" audit "oci:$T/img:latest" --format sarif > "$T/b.sarif"
validate_sarif "$T/b.sarif"

e2e_step "a clean patched image: clean in every format"
e2e_build_rootful "$T/clean:latest" --nologin
e2e_patch "oci:$T/clean:latest" >/dev/null
"$NONROOT" audit "oci:$T/clean:latest" --fail-on note | grep 'clean: no findings' >/dev/null
"$NONROOT" audit "oci:$T/clean:latest" --format sarif --fail-on note > "$T/c.sarif"
validate_sarif "$T/c.sarif"
jq -e '.runs[0].results | length == 0' "$T/c.sarif" >/dev/null
"$NONROOT" audit "oci:$T/clean:latest" --format json | jq -e '.max_level == "none"' >/dev/null
echo ok
