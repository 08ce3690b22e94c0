#!/usr/bin/env bash
# nonroot patch never says "done" while the image still needs root (issue 12):
#  - case 3: patch audits its own result: exit 0 only when it is clean at error level; else
#    exit 1 (the image is still written) listing what remains with fixes, in text and JSON
#    ("clean", "remaining");
#  - case 2: a privileged port that patch cannot move (Cmd "-p 80", an nginx "listen 80") is
#    an audit finding with its source (NR012, NR013), ExposedPorts does not move without a
#    binding that moved, and runc shows the claim is true (bind 80: Permission denied);
#  - case 4: a port map onto a privileged port is a usage error naming the threshold.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

# busybox httpd told its port by Cmd, EXPOSE 80, no ASP.NET variable
build_httpd() {
	e2e_build_rootful "$1"
	umoci config --image "$1" --clear=config.env --config.env PATH=/bin:/sbin \
		--clear=config.cmd --config.cmd httpd --config.cmd -f --config.cmd -v \
		--config.cmd -p --config.cmd "$2" --config.cmd -h --config.cmd /tmp >/dev/null
}

e2e_step "Cmd 'httpd -f -v -p 80': written, but exit 1 naming NR012 at config.Cmd[3]"
build_httpd "$T/img:latest" 80
e2e_convert "oci:$T/img:latest" "oci:$T/img2:latest"
rc=0; out=$(e2e_patch "oci:$T/img:latest" 2>"$T/err") || rc=$?
echo "$out"; cat "$T/err"
[ "$rc" = 1 ]
e2e_expect_contains "$out" "NOT DONE: 1 error-level finding remains in the result"
e2e_expect_contains "$out" "linux/amd64 NR012 config.Cmd[3]: Cmd argument '-p 80' makes the server listen on privileged port 80"
e2e_expect_contains "$out" "fix: change '-p 80' to a port >= 1024"
e2e_expect_contains "$out" "! 80/tcp: port 80 stays exposed: no binding of the image moved off it"
e2e_expect_contains "$(cat "$T/err")" "not fixed: 1 error-level finding remains"
cfg=$("${E2E_SKOPEO[@]}" inspect --config "oci:$T/img:latest")
[ "$(jq -r .config.User <<<"$cfg")" = "1654:1654" ]
[ "$(jq -r '.config.ExposedPorts | keys | join(",")' <<<"$cfg")" = "80/tcp" ]
rc=0; out=$("$NONROOT" audit "oci:$T/img:latest") || rc=$?
[ "$rc" = 1 ]
e2e_expect_contains "$out" "NR012 error   Cmd argument '-p 80'"
out=$("$NONROOT" k8s "oci:$T/img:latest" 2>&1 || true)
if grep -q "containerPort: 8080" <<<"$out"; then echo "k8s claims 8080" >&2; exit 1; fi

if e2e_can_run; then
	e2e_step "runc as the image's User without CAP_NET_BIND_SERVICE: the report is true"
	e2e_bundle "$T/img:latest" "$T/b"
	[ "$(jq -c .process.user "$T/b/config.json")" = '{"uid":1654,"gid":1654}' ]
	rc=0; out=$(e2e_run "$T/b") || rc=$?
	echo "$out"
	[ "$rc" != 0 ]
	e2e_expect_contains "$out" "Permission denied"
fi

e2e_step "JSON: clean false, remaining lists NR012 with its source and fix"
rc=0; out=$(e2e_patch "oci:$T/img2:latest" -o "oci:$T/img3:latest" --format json) || rc=$?
[ "$rc" = 1 ]
[ "$(jq -r .clean <<<"$out")" = false ]
[ "$(jq -r '.remaining | map(.id) | join(",")' <<<"$out")" = NR012 ]
[ "$(jq -r '.remaining[0].location' <<<"$out")" = "config.Cmd[3]" ]
jq -e '.remaining[0].fix | length > 0' <<<"$out" >/dev/null
jq -e '[.findings[] | select(.id == "NR004")] | length == 1' <<<"$out" >/dev/null

e2e_step "a dry run has no result to audit: clean null"
out=$("$NONROOT" patch "oci:$T/img2:latest" --dry-run --format json)
[ "$(jq -r .clean <<<"$out")" = null ]

e2e_step "the same server on 8080 (Cmd -p 8080, EXPOSE 8080): clean, exit 0, runc binds 8080"
build_httpd "$T/ok:latest" 8080
umoci config --image "$T/ok:latest" --clear=config.exposedports --config.exposedports 8080/tcp >/dev/null
out=$(e2e_patch "oci:$T/ok:latest" --format json)
[ "$(jq -r .clean <<<"$out")" = true ]
[ "$(jq -r '.remaining | length' <<<"$out")" = 0 ]
out=$(e2e_patch "oci:$T/ok:latest")
e2e_expect_contains "$out" "audit of the result: clean at error level"
if e2e_can_run; then
	e2e_bundle "$T/ok:latest" "$T/b2"
	e2e_bundle_args "$T/b2" sh -c 'httpd -f -p 8080 -h /tmp & sleep 1; netstat -ltn; id; kill $!'
	out=$(e2e_run "$T/b2")
	echo "$out"
	e2e_expect_contains "$out" ":8080"
	e2e_expect_contains "$out" "uid=1654(app)"
fi

e2e_step "nginx 'listen 80;' in the image: NR013 with file and line; patch exit 1"
build_httpd "$T/ngx:latest" 8080
d=$(mktemp -d "$T/ngx.XXXXXX")
mkdir -p "$d/etc/nginx/conf.d"
printf 'server {\n    listen 80;\n    root /tmp;\n}\n' > "$d/etc/nginx/conf.d/default.conf"
e2e_image_add_dir "$T/ngx:latest" "$d"
rc=0; out=$(e2e_patch "oci:$T/ngx:latest" 2>/dev/null) || rc=$?
[ "$rc" = 1 ]
e2e_expect_contains "$out" "NR013 etc/nginx/conf.d/default.conf:2: /etc/nginx/conf.d/default.conf:2: 'listen 80;' listens on privileged port 80"

e2e_step "--port-map onto a privileged port: exit 2 naming the threshold, nothing written"
before=$(cat "$T/img3/index.json")
for map in 80:80 80:443 81:1023; do
	rc=0; err=$("$NONROOT" patch "oci:$T/img3:latest" --port-map "$map" 2>&1) || rc=$?
	[ "$rc" = 2 ]
	e2e_expect_contains "$err" "--port-map $map: port ${map#*:} is privileged (below the threshold 1024"
done
rc=0; err=$("$NONROOT" patch "oci:$T/img3:latest" --port-map 81:2000 --threshold 3000 2>&1) || rc=$?
[ "$rc" = 2 ]
e2e_expect_contains "$err" "port 2000 is privileged (below the threshold 3000"
[ "$before" = "$(cat "$T/img3/index.json")" ]
echo ok
