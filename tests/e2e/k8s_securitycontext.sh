#!/usr/bin/env bash
# nonroot k8s IMAGE: the exact container fragment for patched-style images, and the errors
# for unpatched (empty User), root and non-numeric users. Images are built with umoci.
. "$(dirname "$0")/lib.sh"
e2e_init
: "${NONROOT:?}"

L="$E2E_TMP/img"
e2e_build_rootful "$L:rootful"

variant() {   # variant TAG [umoci config options...]: the rootful image with a changed config
	local tag=$1; shift
	umoci tag --image "$L:rootful" "$tag"
	umoci config --image "$L:$tag" --no-history "$@"
}
run() {       # run ARGS...: sets rc, out, err
	set +e
	"$NONROOT" k8s "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err"
	rc=$?
	set -e
	out=$(cat "$E2E_TMP/out")
	err=$(cat "$E2E_TMP/err")
}
expect() {    # expect WHAT EXPECTED ACTUAL
	if [ "$2" != "$3" ]; then
		printf 'e2e: %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3" >&2
		exit 1
	fi
}

# The real `nonroot patch`: numeric User "1654:1654", Kestrel moved from 80 to 8080.
umoci tag --image "$L:rootful" patched
e2e_patch "oci:$L:patched" >/dev/null
variant named --config.user app
variant namedgroup --config.user 1654:app
variant huge --config.user 2147483648:1
variant root --config.user 0:0
variant uidonly --config.user 1654 --config.env ASPNETCORE_URLS=http://+:8080
variant lowport --config.user 1654:1654
variant ports --config.user 1000:1000 --clear=config.env --config.env PATH=/bin \
	--config.env ASPNETCORE_HTTP_PORTS=8080 --config.env ASPNETCORE_HTTPS_PORTS=8443
variant nodotnet --config.user 1000:1000 --clear=config.env --config.env PATH=/bin \
	--clear=config.exposedports --config.exposedports 9000/tcp --config.exposedports 5353/udp
variant localhost --config.user 1000:1000 --config.env "ASPNETCORE_URLS=http://localhost:5000;http://*:8080"

e2e_step "patched image: the whole fragment"
run "oci:$L:patched"
expect "patched exit" 0 "$rc"
expect "patched output" "# nonroot k8s: oci:$L:patched (linux/amd64), User \"1654:1654\": passes the restricted Pod Security Standard
# effective bindings: urls: http://+:8080 (ASPNETCORE_URLS)
name: app
securityContext:
  runAsNonRoot: true
  runAsUser: 1654
  runAsGroup: 1654
  allowPrivilegeEscalation: false
  capabilities:
    drop:
    - ALL
  seccompProfile:
    type: RuntimeDefault
ports:
- name: http
  containerPort: 8080
  protocol: TCP" "$out"
expect "patched stderr" "" "$err"

e2e_step "--container NAME"
run "oci:$L:patched" --container web-1
expect "container name" "name: web-1" "$(grep '^name:' <<<"$out")"
run "oci:$L:patched" --container Web_1
expect "bad container name exit" 2 "$rc"
e2e_expect_contains "$err" "--container: 'Web_1' is not a valid container name"

e2e_step "unpatched image (User empty): error suggesting nonroot patch"
run "oci:$L:rootful"
expect "unpatched exit" 1 "$rc"
expect "unpatched stdout" "" "$out"
expect "unpatched message" "nonroot: k8s oci:$L:rootful: the image's User is empty, so it runs as root and cannot pass runAsNonRoot; run 'nonroot patch oci:$L:rootful' to give it a numeric non-root user" "$err"

e2e_step "non-numeric User: error suggesting nonroot patch"
run "oci:$L:named"
expect "named exit" 1 "$rc"
expect "named stdout" "" "$out"
expect "named message" "nonroot: k8s oci:$L:named: the image's User 'app' is not numeric (UID or UID:GID): the kubelet cannot verify runAsNonRoot for a user name; run 'nonroot patch oci:$L:named' to write a numeric User" "$err"

run "oci:$L:namedgroup"
expect "named group exit" 1 "$rc"
e2e_expect_contains "$err" "the image's User '1654:app' is not numeric (UID or UID:GID)"
run "oci:$L:huge"
expect "huge id exit" 1 "$rc"
e2e_expect_contains "$err" "the image's User '2147483648:1' has an id over 2147483647, which Kubernetes refuses"

e2e_step "User 0:0: error"
run "oci:$L:root"
expect "root exit" 1 "$rc"
e2e_expect_contains "$err" "the image's User '0:0' is root (uid 0); run 'nonroot patch"

e2e_step "User with no group: no runAsGroup (the runtime takes the passwd group)"
run "oci:$L:uidonly"
expect "uidonly exit" 0 "$rc"
expect "uidonly ids" "  runAsUser: 1654" "$(grep -E 'runAs(User|Group)' <<<"$out")"

e2e_step "still on port 80: printed with a warning, exit 1"
run "oci:$L:lowport"
expect "lowport exit" 1 "$rc"
expect "lowport port" "  containerPort: 80" "$(grep '^  containerPort' <<<"$out")"
e2e_expect_contains "$out" "# warning: http://+:80 needs port 80 (below 1024), which uid 1654 cannot bind after dropping ALL capabilities; run 'nonroot patch --port-map 80:8080'"
e2e_expect_contains "$err" "listens on a port below 1024"
# the header does not claim the image passes when it cannot start (issue 13)
if grep -q "passes the restricted" <<<"$out"; then echo "FAIL: lowport header says it passes"; exit 1; fi
e2e_expect_contains "$out" "the container cannot start under it: it listens on a port below 1024"
e2e_expect_contains "$out" "# effective bindings: urls: http://+:80 (ASPNETCORE_URLS)"

e2e_step "HTTP_PORTS and HTTPS_PORTS: two named ports"
run "oci:$L:ports"
expect "ports exit" 0 "$rc"
expect "ports list" "ports:
- name: http
  containerPort: 8080
  protocol: TCP
- name: https
  containerPort: 8443
  protocol: TCP" "$(sed -n '/^ports:/,$p' <<<"$out")"

e2e_step "no Kestrel variables: ExposedPorts"
run "oci:$L:nodotnet"
expect "nodotnet exit" 0 "$rc"
expect "nodotnet ports" "ports:
- containerPort: 5353
  protocol: UDP
- containerPort: 9000
  protocol: TCP" "$(sed -n '/^ports:/,$p' <<<"$out")"

e2e_step "localhost binding: not a containerPort, noted"
run "oci:$L:localhost"
expect "localhost exit" 0 "$rc"
expect "localhost ports" "  containerPort: 8080" "$(grep '^  containerPort' <<<"$out")"
e2e_expect_contains "$out" "# note: http://localhost:5000 listens on localhost only"

e2e_step "other transports: oci-archive and docker-archive"
e2e_convert "oci:$L:patched" "oci-archive:$E2E_TMP/patched.tar:patched"
run "oci-archive:$E2E_TMP/patched.tar:patched"
expect "oci-archive exit" 0 "$rc"
expect "oci-archive ids" "  runAsUser: 1654
  runAsGroup: 1654" "$(grep -E 'runAs(User|Group)' <<<"$out")"
e2e_convert "oci:$L:patched" "docker-archive:$E2E_TMP/patched-docker.tar:example/patched:1"
run "docker-archive:$E2E_TMP/patched-docker.tar"
expect "docker-archive exit" 0 "$rc"
expect "docker-archive port" "  containerPort: 8080" "$(grep '^  containerPort' <<<"$out")"

e2e_step "multi-platform: --platform names the platform in errors"
e2e_build_multiplatform "$E2E_TMP/multi" multi
run "oci:$E2E_TMP/multi:multi" --platform linux/arm64
expect "multi exit" 1 "$rc"
expect "multi message" "nonroot: k8s oci:$E2E_TMP/multi:multi (linux/arm64/v8): the image's User is empty, so it runs as root and cannot pass runAsNonRoot; run 'nonroot patch oci:$E2E_TMP/multi:multi' to give it a numeric non-root user" "$err"
run "oci:$E2E_TMP/multi:multi"
expect "multi exit" 1 "$rc"
e2e_expect_contains "$err" "multi:multi (linux/amd64): the image's User is empty"

e2e_step "input errors: exit 2"
run "oci:$E2E_TMP/nonexistent:x"
expect "missing image exit" 2 "$rc"
run
expect "no image exit" 2 "$rc"

echo "k8s_securitycontext: all checks passed"
