#!/usr/bin/env bash
# Issue 18, class 7 (lost updates) and class 8 items: concurrent in-place patches adding
# different tags both land (flock on the layout, index re-read and merged under it); concurrent
# `passwd add` loses no user (flock on the root); a passwd file missing next to etc/group is
# not replaced by one holding only the new user; tags in a destination reference are
# validated; an index.json over 16 MiB in a destination is refused; a home reached through a
# symlink (/home -> /) is refused.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

e2e_build_rootful "$T/img:latest"

e2e_step "class 7: concurrent in-place patches adding different tags all land"
for i in 1 2 3 4 5 6; do
	"$NONROOT" patch "oci:$T/img:latest" --tag "a$i" >/dev/null 2>"$T/err.a$i" &
	pa=$!
	"$NONROOT" patch "oci:$T/img:latest" --tag "b$i" >/dev/null 2>"$T/err.b$i" &
	pb=$!
	wait $pa
	wait $pb
done
tags=$(jq -r '.manifests[].annotations["org.opencontainers.image.ref.name"]' "$T/img/index.json" | sort | tr '\n' ' ')
echo "tags: $tags"
[ "$tags" = "a1 a2 a3 a4 a5 a6 b1 b2 b3 b4 b5 b6 latest " ]

e2e_step "class 7: concurrent passwd add loses no user"
mkdir -p "$T/root/etc"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$T/root/etc/passwd"
printf 'root:x:0:\n' > "$T/root/etc/group"
pids=()
for i in 1 2 3 4 5 6 7 8; do
	"$NONROOT" passwd add --root "$T/root" --user "u$i" --uid $((2000 + i)) --gid $((2000 + i)) &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
cat "$T/root/etc/passwd"
[ "$(grep -c '^u[0-9]:' "$T/root/etc/passwd")" = 8 ]
[ "$(grep -c '^u[0-9]:' "$T/root/etc/group")" = 8 ]
grep -q '^root:' "$T/root/etc/passwd"

e2e_step "class 7: a passwd missing next to etc/group is not replaced by the new user alone"
mv "$T/root/etc/passwd" "$T/passwd.away"
rc=0; out=$("$NONROOT" passwd add --root "$T/root" --user late 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ]
e2e_expect_contains "$out" "refusing to write a passwd file with only the new user"
[ ! -e "$T/root/etc/passwd" ]

e2e_step "class 8: tags inside the destination reference are validated"
for bad in 'a/b' '..' 'x y' "$(printf 'a\nb')" "$(printf 'a\033[31m')"; do
	rc=0; out=$("$NONROOT" patch "oci:$T/img:latest" -o "oci:$T/tagged:$bad" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" = 2 ]
	e2e_expect_contains "$out" "invalid tag"
	[ ! -e "$T/tagged/index.json" ]
done
"$NONROOT" patch "oci:$T/img:latest" -o "oci:$T/tagged:good-1.0" >/dev/null
jq -e '.manifests[0].annotations["org.opencontainers.image.ref.name"] == "good-1.0"' "$T/tagged/index.json"

e2e_step "class 8: a destination index.json over 16 MiB is refused, not replaced"
mkdir -p "$T/big"
printf '{"schemaVersion":2,"manifests":[],"pad":"' > "$T/big/index.json"
head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' x >> "$T/big/index.json"
printf '"}' >> "$T/big/index.json"
size=$(stat -c %s "$T/big/index.json")
rc=0; out=$("$NONROOT" patch "oci:$T/img:latest" -o "oci:$T/big:p" 2>&1) || rc=$?
echo "$out" | cut -c1-200
[ "$rc" = 2 ]
[ "$(stat -c %s "$T/big/index.json")" = "$size" ]

e2e_step "class 8: a home reached through a symlink (/home -> /) is refused"
e2e_rootfs "$T/rfs"
ln -s / "$T/rfs/home"
e2e_image_new "$T/homelink:latest"
e2e_image_add_dir "$T/homelink:latest" "$T/rfs"
e2e_image_rootful "$T/homelink:latest"
rc=0; out=$("$NONROOT" patch "oci:$T/homelink:latest" --user web 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ]
e2e_expect_contains "$out" "symlink"
"$NONROOT" patch "oci:$T/homelink:latest" --user web --no-home >/dev/null

echo "hostile_races: ok"
