#!/usr/bin/env bash
# Issue 18, classes 2 and 3: root's nonroot writing into a directory that an unprivileged user
# (nobody, via setpriv) can write. Class 2: no write goes through a planted symlink (temp names
# are unpredictable and created O_EXCL|O_NOFOLLOW; symlinked layout directories are refused).
# Class 3: every blob that ends up in an output was verified in this run (planted same-named
# garbage is replaced, a symlinked source blob is copied as its content, other platforms'
# blobs are verified when copied).
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP
[ "$(id -u)" = 0 ] || e2e_skip "needs root (to act as root against an unprivileged user)"
command -v setpriv >/dev/null || e2e_skip "no setpriv"
SHARED=$(mktemp -d /tmp/nr-shared.XXXXXX)
chmod 1777 "$SHARED"
trap 'rm -rf "$SHARED"; e2e_cleanup' EXIT
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
# every blob of layout $1 hashes to its name
all_blobs_verified() {
	local f
	for f in "$1"/blobs/sha256/*; do
		[ -f "$f" ] && [ ! -L "$f" ] || { echo "not a regular file: $f" >&2; return 1; }
		[ "$(sha256sum < "$f" | cut -c1-64)" = "$(basename "$f")" ] ||
			{ echo "blob does not match its name: $f" >&2; return 1; }
	done
}

e2e_build_rootful "$T/img:latest"
printf 'root secret\n' > "$T/victim"
chmod 0600 "$T/victim"

e2e_step "class 2: a symlink planted at the archive's temp name is not written through"
# The old temp name was DEST.nr-tmp-<pid>: the subshell's pid is nonroot's after exec.
rc=0
( pid=$BASHPID
  as_nobody ln -s "$T/victim" "$SHARED/out.tar.nr-tmp-$pid"
  exec "$NONROOT" patch "oci:$T/img:latest" -o "oci-archive:$SHARED/out.tar" ) || rc=$?
[ "$rc" = 0 ]
[ "$(cat "$T/victim")" = "root secret" ]
[ -f "$SHARED/out.tar" ] && [ ! -L "$SHARED/out.tar" ]
"${E2E_SKOPEO[@]}" inspect "oci-archive:$SHARED/out.tar" >/dev/null

e2e_step "class 2: a destination layout whose blobs/ is a symlink is refused"
mkdir "$T/outside"
as_nobody mkdir "$SHARED/d1"
as_nobody ln -s "$T/outside" "$SHARED/d1/blobs"
rc=0; out=$("$NONROOT" patch "oci:$T/img:latest" -o "oci:$SHARED/d1:p" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ]
e2e_expect_contains "$out" "symlink"
[ -z "$(ls -A "$T/outside")" ]
as_nobody rm "$SHARED/d1/blobs"
as_nobody mkdir -p "$SHARED/d1/blobs"
as_nobody ln -s "$T/outside" "$SHARED/d1/blobs/sha256"
rc=0; "$NONROOT" patch "oci:$T/img:latest" -o "oci:$SHARED/d1:p" 2>&1 || rc=$?
[ "$rc" = 2 ]
[ -z "$(ls -A "$T/outside")" ]

e2e_step "class 3: planted same-size garbage under a blob's name is replaced, not reused"
layer=$(e2e_blob_of "$T/img:latest" layer0)
as_nobody mkdir -p "$SHARED/d2/blobs/sha256"
head -c "$(stat -c %s "$layer")" /dev/zero | as_nobody tee "$SHARED/d2/blobs/sha256/$(basename "$layer")" >/dev/null
"$NONROOT" patch "oci:$T/img:latest" -o "oci:$SHARED/d2:p"
all_blobs_verified "$SHARED/d2"
"${E2E_SKOPEO[@]}" copy -q "oci:$SHARED/d2:p" "oci:$T/check2:p"

e2e_step "class 3: a symlinked source blob is copied as its (verified) content, not as a link"
cp -a "$T/img" "$T/linked"
mkdir "$T/store"
layer=$(e2e_blob_of "$T/linked:latest" layer0)
mv "$layer" "$T/store/"
ln -s "../../../store/$(basename "$layer")" "$layer"
"$NONROOT" patch "oci:$T/linked:latest" -o "oci:$T/d3:p"
all_blobs_verified "$T/d3"
"${E2E_SKOPEO[@]}" copy -q "oci:$T/d3:p" "oci:$T/check3:p"

e2e_step "class 3: a symlinked blob in an archive is written back as a file, never dropped"
mkdir -p "$T/arc/store"
cp -a "$T/img/." "$T/arc/"
layer=$(e2e_blob_of "$T/arc:latest" layer0)
mv "$layer" "$T/arc/store/"
ln -s "../../store/$(basename "$layer")" "$layer"
(cd "$T/arc" && tar -cf "$T/linked.tar" oci-layout index.json blobs store)
"$NONROOT" patch "oci-archive:$T/linked.tar"
tar -tvf "$T/linked.tar" | grep "blobs/sha256/$(basename "$layer")"
tar -tvf "$T/linked.tar" | grep "blobs/sha256/$(basename "$layer")" | grep '^-'
"${E2E_SKOPEO[@]}" copy -q "oci-archive:$T/linked.tar" "oci:$T/check4:p"

e2e_step "class 3: with --platform, the other platforms' blobs are verified when copied"
e2e_build_multiplatform "$T/multi" multi
idx=$(jq -r '.manifests[0].digest' "$T/multi/index.json")
arm=$(jq -r '.manifests[] | select(.platform.architecture=="arm64") | .digest' "$T/multi/blobs/${idx/://}")
# the arm64 config (the platforms share their layers): corrupted, same size
armcfg=$T/multi/blobs/sha256/$(jq -r '.config.digest' "$T/multi/blobs/${arm/://}" | cut -d: -f2)
size=$(stat -c %s "$armcfg")
chmod u+w "$armcfg"
head -c "$size" /dev/zero > "$armcfg"
rc=0; out=$("$NONROOT" patch "oci:$T/multi:multi" --platform linux/amd64 -o "oci:$T/d5:p" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ]
e2e_expect_contains "$out" "$(basename "$armcfg")"
[ ! -e "$T/d5/blobs/sha256/$(basename "$armcfg")" ]

echo "hostile_writes: ok"
