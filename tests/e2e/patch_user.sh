#!/usr/bin/env bash
# Which user patch makes the image run as (issue 12, case 1), on umoci-built images checked
# with skopeo and run with runc as the image's User without CAP_NET_BIND_SERVICE:
#  - User www-data (33:33 in passwd) is kept, written numeric "33:33"; only ports move;
#  - User 1000 without a passwd entry is kept and gets one (app:1000:1000), written
#    "1000:1000"; --no-passwd-entry keeps it without;
#  - --user www-data on a root image reuses 33:33 without --uid/--gid;
#  - --new-user forces the default new user 1654; --gid 100 joins an existing group.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

# a rootful-style image (ASPNETCORE_URLS=http://+:80, EXPOSE 80) with www-data and users
build() {
	local image=$1 user=$2 root
	root=$(mktemp -d "$T/rootfs.XXXXXX")
	e2e_rootfs "$root" --nologin
	printf 'www-data:x:33:33:www-data:/var/www:/sbin/nologin\n' >> "$root/etc/passwd"
	printf 'www-data:x:33:\nusers:x:100:\n' >> "$root/etc/group"
	e2e_image_new "$image"
	e2e_image_add_dir "$image" "$root" "e2e: rootfs with www-data"
	e2e_image_rootful "$image"
	[ -z "$user" ] || umoci config --image "$image" --config.user "$user" >/dev/null
}

cfg_of() { "${E2E_SKOPEO[@]}" inspect --config "oci:$1"; }

# run the image as its User (umoci resolves it) with /app/serve: prints id and what it binds
run_serve() {
	local image=$1 bundle=$2
	e2e_bundle "$image" "$bundle"
	e2e_bundle_args "$bundle" sh -c '/app/serve & sleep 1; id; netstat -ltn; kill $!'
	e2e_run "$bundle"
}

e2e_step "User www-data: kept, written 33:33, ports moved, no new passwd entry"
build "$T/www:latest" www-data
out=$(e2e_patch "oci:$T/www:latest")
echo "$out"
e2e_expect_contains "$out" "~ config User: www-data -> 33:33"
e2e_expect_contains "$out" "keep the image's non-root user"
if grep -q "etc/passwd" <<<"$out"; then echo "passwd changed" >&2; exit 1; fi
cfg=$(cfg_of "$T/www:latest")
[ "$(jq -r .config.User <<<"$cfg")" = "33:33" ]
[ "$(jq -r '.config.ExposedPorts | keys | join(",")' <<<"$cfg")" = "8080/tcp" ]
jq -e '.config.Env | index("ASPNETCORE_URLS=http://+:8080")' <<<"$cfg" >/dev/null
out=$(e2e_patch "oci:$T/www:latest")
e2e_expect_contains "$out" "already patched"
if e2e_can_run; then
	out=$(run_serve "$T/www:latest" "$T/b1")
	echo "$out"
	[ "$(jq -c .process.user "$T/b1/config.json")" = '{"uid":33,"gid":33}' ]
	e2e_expect_contains "$out" "uid=33(www-data) gid=33(www-data)"
	e2e_expect_contains "$out" ":8080"
	if grep -qE ':80 ' <<<"$out"; then echo "listening on 80" >&2; exit 1; fi
fi

e2e_step "User 33:33 (numeric, has an entry): nothing to change for the user"
build "$T/n33:latest" 33:33
out=$(e2e_patch "oci:$T/n33:latest")
if grep -q "config User" <<<"$out"; then echo "User changed" >&2; exit 1; fi
[ "$(jq -r .config.User <<<"$(cfg_of "$T/n33:latest")")" = "33:33" ]

e2e_step "User 1000 without a passwd entry: kept, gets app:1000:1000, written 1000:1000"
build "$T/u1000:latest" 1000
out=$(e2e_patch "oci:$T/u1000:latest")
echo "$out"
e2e_expect_contains "$out" "app:x:1000:1000::/home/app:/sbin/nologin"
[ "$(jq -r .config.User <<<"$(cfg_of "$T/u1000:latest")")" = "1000:1000" ]
[ "$("$NONROOT" user resolve 1000 --image "oci:$T/u1000:latest" --json | jq -c '[.uid,.gid,.name]')" = '[1000,1000,"app"]' ]
if e2e_can_run; then
	out=$(run_serve "$T/u1000:latest" "$T/b2")
	echo "$out"
	e2e_expect_contains "$out" "uid=1000(app) gid=1000(app)"
	e2e_expect_contains "$out" ":8080"
fi

e2e_step "User 1000 with --no-passwd-entry: kept without an entry"
build "$T/ne:latest" 1000
out=$(e2e_patch "oci:$T/ne:latest" --no-passwd-entry)
if grep -q "etc/passwd" <<<"$out"; then echo "passwd changed" >&2; exit 1; fi
[ "$(jq -r .config.User <<<"$(cfg_of "$T/ne:latest")")" = "1000:1000" ]

e2e_step "--user www-data on a root image: reuses 33:33 without --uid/--gid"
build "$T/ru:latest" ""
out=$(e2e_patch "oci:$T/ru:latest" --user www-data)
[ "$(jq -r .config.User <<<"$(cfg_of "$T/ru:latest")")" = "33:33" ]
if grep -q "etc/passwd" <<<"$out"; then echo "passwd changed" >&2; exit 1; fi

e2e_step "--new-user on a www-data image: the default new user 1654"
build "$T/nu:latest" www-data
out=$(e2e_patch "oci:$T/nu:latest" --new-user)
e2e_expect_contains "$out" "app:x:1654:1654::/home/app:/sbin/nologin"
[ "$(jq -r .config.User <<<"$(cfg_of "$T/nu:latest")")" = "1654:1654" ]

e2e_step "root image, --gid 100 (group 'users' exists): joined, not refused"
build "$T/g:latest" ""
out=$(e2e_patch "oci:$T/g:latest" --gid 100)
e2e_expect_contains "$out" "app:x:1654:100::/home/app:/sbin/nologin"
if grep -q "etc/group" <<<"$out"; then echo "group added" >&2; exit 1; fi
[ "$(jq -r .config.User <<<"$(cfg_of "$T/g:latest")")" = "1654:100" ]
if e2e_can_run; then
	out=$(run_serve "$T/g:latest" "$T/b3")
	e2e_expect_contains "$out" "uid=1654(app) gid=100(users)"
fi

e2e_step "User root (0): a new user as before"
build "$T/r0:latest" 0
e2e_patch "oci:$T/r0:latest" >/dev/null
[ "$(jq -r .config.User <<<"$(cfg_of "$T/r0:latest")")" = "1654:1654" ]
echo ok
