# shellcheck shell=bash
# tests/e2e/registry.bash: a real registry (Debian's docker-registry, the CNCF distribution
# registry) on 127.0.0.1 for the docker:// tests. Source after lib.sh and e2e_init.
#
#   reg_start NAME [--tls] [--htpasswd USER:PASS] [--port P]
#       start registry NAME (storage $E2E_TMP/reg-NAME/data, log $E2E_TMP/reg-NAME/log) on a
#       free port (or P: a restart keeps the address), wait until it answers; sets
#       REG (HOST:PORT), REG_DIR, REG_LOG, REG_PID. --tls: a CA and a server certificate for
#       127.0.0.1 made with openssl now ($REG_DIR/certs/ca.crt: pass --cert-dir
#       $REG_DIR/certs, skopeo --cert-dir the same). --htpasswd: basic auth (bcrypt by
#       htpasswd -B, apache2-utils).
#   reg_stop            kill the registry (SIGKILL: as a crash would)
#   reg_requests        the access log's "METHOD URI STATUS" lines since the last reg_mark
#   reg_mark            start counting requests from here
#   reg_uploaded_bytes  bytes of every blob PUT since reg_mark (sizes read from the
#                       registry's storage; manifests are not counted)
#   reg_skopeo ARGS...  skopeo --insecure-policy with the registry's TLS / auth flags
#   reg_nonroot_flags   the --tls-verify / --cert-dir flags for nonroot (an array REG_FLAGS)

REG_PIDS=()

reg_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

reg_start() {
	local name=$1 tls=0 auth="" port=""
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--tls) tls=1 ;;
		--htpasswd) auth=$2; shift ;;
		--port) port=$2; shift ;;
		*) echo "reg_start: unknown option $1" >&2; return 2 ;;
		esac
		shift
	done
	command -v docker-registry >/dev/null || { echo "e2e: missing docker-registry (scripts/install-deps)" >&2; exit 1; }
	REG_DIR=$E2E_TMP/reg-$name
	REG_LOG=$REG_DIR/log
	mkdir -p "$REG_DIR/data" "$REG_DIR/certs"
	[ -n "$port" ] || port=$(reg_free_port)
	REG=127.0.0.1:$port
	{
		echo "version: 0.1"
		echo "log: {level: info, accesslog: {disabled: false}}"
		echo "storage: {filesystem: {rootdirectory: $REG_DIR/data}, delete: {enabled: true}}"
		echo "http:"
		echo "  addr: $REG"
		echo "  secret: nonroot-e2e"
		if [ "$tls" = 1 ]; then
			echo "  tls: {certificate: $REG_DIR/certs/server.cert.pem, key: $REG_DIR/certs/server.key}"
		fi
		if [ -n "$auth" ]; then
			echo "auth: {htpasswd: {realm: nonroot-e2e, path: $REG_DIR/htpasswd}}"
		fi
	} >"$REG_DIR/config.yml"
	if [ "$tls" = 1 ] && [ ! -f "$REG_DIR/certs/ca.crt" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=nonroot e2e CA" \
			-keyout "$REG_DIR/ca.key" -out "$REG_DIR/certs/ca.crt" 2>/dev/null
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
			-keyout "$REG_DIR/certs/server.key" -out "$REG_DIR/server.csr" 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$REG_DIR/ext.cnf"
		openssl x509 -req -in "$REG_DIR/server.csr" -CA "$REG_DIR/certs/ca.crt" \
			-CAkey "$REG_DIR/ca.key" -CAcreateserial -days 2 -extfile "$REG_DIR/ext.cnf" \
			-out "$REG_DIR/certs/server.cert.pem" 2>/dev/null
		# the registry's key must not look like a client key pair to --cert-dir readers
		mv "$REG_DIR/certs/server.key" "$REG_DIR/server.key"
		mv "$REG_DIR/certs/server.cert.pem" "$REG_DIR/server.cert.pem"
		sed -i "s#$REG_DIR/certs/server#$REG_DIR/server#g" "$REG_DIR/config.yml"
	elif [ "$tls" = 1 ]; then
		sed -i "s#$REG_DIR/certs/server#$REG_DIR/server#g" "$REG_DIR/config.yml"
	fi
	if [ -n "$auth" ]; then
		htpasswd -Bbn "${auth%%:*}" "${auth#*:}" >"$REG_DIR/htpasswd" 2>/dev/null
	fi
	docker-registry serve "$REG_DIR/config.yml" >>"$REG_LOG" 2>&1 &
	REG_PID=$!
	REG_PIDS+=("$REG_PID")
	local i scheme=http
	[ "$tls" = 1 ] && scheme=https
	for i in $(seq 1 100); do
		if curl -s -k -o /dev/null "$scheme://$REG/v2/"; then
			break
		fi
		kill -0 "$REG_PID" 2>/dev/null || { cat "$REG_LOG" >&2; echo "e2e: registry did not start" >&2; return 1; }
		sleep 0.1
	done
	REG_TLS=$tls
	REG_AUTH=$auth
	if [ "$tls" = 1 ]; then
		REG_FLAGS=(--cert-dir "$REG_DIR/certs")
	else
		REG_FLAGS=(--tls-verify=false)
	fi
	reg_mark
}

reg_stop() {
	if [ -n "${REG_PID:-}" ]; then
		kill -9 "$REG_PID" 2>/dev/null || true
		wait "$REG_PID" 2>/dev/null || true
	fi
}

reg_stop_all() {
	local p
	for p in "${REG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
}
trap 'reg_stop_all; e2e_cleanup' EXIT

reg_mark() {
	REG_MARK=$(wc -l <"$REG_LOG")
}

# "METHOD URI STATUS" for each request since reg_mark (the combined-format access log lines)
reg_requests() {
	tail -n +"$((REG_MARK + 1))" "$REG_LOG" | grep -a '^127\.0\.0\.1 - ' |
		sed -E 's/^[^"]*"([A-Z]+) ([^ ]+) [^"]*" ([0-9]+) .*/\1 \2 \3/'
}

reg_uploaded_bytes() {
	local total=0 d size
	# blobs: PUT .../uploads/...digest=sha256:HEX with status 201
	for d in $(reg_requests | awk '$1 == "PUT" && $3 == 201 && $2 ~ /digest=sha256/ { sub(/.*digest=sha256(:|%3A)/, "", $2); sub(/&.*/, "", $2); print $2 }'); do
		size=$(stat -c %s "$REG_DIR/data/docker/registry/v2/blobs/sha256/${d:0:2}/$d/data")
		total=$((total + size))
	done
	echo "$total"
}

reg_skopeo() {
	local flags=()
	if [ "$REG_TLS" = 1 ]; then
		flags+=(--src-cert-dir "$REG_DIR/certs" --dest-cert-dir "$REG_DIR/certs")
	else
		flags+=(--src-tls-verify=false --dest-tls-verify=false)
	fi
	if [ -n "$REG_AUTH" ]; then
		flags+=(--src-creds "$REG_AUTH" --dest-creds "$REG_AUTH")
	fi
	local cmd=$1
	shift
	skopeo --insecure-policy "$cmd" "${flags[@]}" "$@"
}

# skopeo inspect with the registry's flags (inspect takes no --src-/--dest- prefixes)
reg_inspect() {
	local flags=()
	if [ "$REG_TLS" = 1 ]; then
		flags+=(--cert-dir "$REG_DIR/certs")
	else
		flags+=(--tls-verify=false)
	fi
	[ -z "$REG_AUTH" ] || flags+=(--creds "$REG_AUTH")
	skopeo --insecure-policy inspect "${flags[@]}" "$@"
}

# reg_proxy_start [regproxy.py options]: a misbehaving proxy in front of $REG (regproxy.py);
# sets PROXY (127.0.0.1:PORT), PROXY_LOG, PROXY_PID
reg_proxy_start() {
	PROXY_LOG=$(mktemp "$E2E_TMP/proxy.XXXXXX")
	local fifo=$E2E_TMP/proxy-port.$$
	rm -f "$fifo"
	python3 "$(dirname "${BASH_SOURCE[0]}")/regproxy.py" "$REG" "$PROXY_LOG" "$@" >"$fifo" 2>>"$PROXY_LOG.stderr" &
	PROXY_PID=$!
	REG_PIDS+=("$PROXY_PID")
	local i
	for i in $(seq 1 100); do
		[ -s "$fifo" ] && break
		sleep 0.05
	done
	PROXY=127.0.0.1:$(head -1 "$fifo")
}

reg_proxy_stop() {
	kill "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
}
