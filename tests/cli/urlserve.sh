#!/usr/bin/env bash
# examples/urlserve: binds where Kestrel would, answers over loopback, stops on SIGTERM/SIGINT,
# and fails with "Permission denied" on port 80 as a non-root user.
set -euo pipefail
: "${NR_BUILD:?}"
bin=$NR_BUILD/examples/urlserve/urlserve
static=$NR_BUILD/examples/urlserve/urlserve-static
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start() {     # start LOG VAR=VALUE...: start the server with exactly these variables
	local log=$1; shift
	rm -f "$log"   # wait_for must not see a previous run's lines before the child truncates
	: >"$log"
	env -i "$@" "$server" >"$log" 2>&1 &
	pid=$!
	pids+=("$pid")
}
wait_for() {  # wait_for LOG TEXT: until the log has TEXT (10 s)
	local i
	for i in $(seq 100); do
		grep -qsF "$2" "$1" && return 0
		sleep 0.1
	done
	echo "timeout waiting for '$2' in $1:"; cat "$1"
	return 1
}
stop() {      # stop SIGNAL: stop $pid and set rc to its exit status
	kill "-$1" "$pid"
	set +e
	wait "$pid"
	rc=$?
	set -e
}

[ -x "$bin" ] || { echo "urlserve not built: $bin"; exit 1; }
for server in "$bin" $( [ -x "$static" ] && echo "$static" ); do
	name=$(basename "$server")

	# HTTP_PORTS, as in the .NET 8 images: any address, [::] dual-stack (or 0.0.0.0).
	port=$(free_port)
	start "$tmp/$name.a.log" ASPNETCORE_HTTP_PORTS="$port"
	wait_for "$tmp/$name.a.log" "Application started."
	contains "$name listening any" "Now listening on: http://" "$(cat "$tmp/$name.a.log")"
	grep -qE "Now listening on: http://(\[::\]|0\.0\.0\.0):$port\$" "$tmp/$name.a.log" && passes=$((passes + 1)) ||
		{ echo "FAIL: $name any-address line"; cat "$tmp/$name.a.log"; fails=$((fails + 1)); }
	json=$(curl -sS --max-time 5 "http://127.0.0.1:$port/Environment")
	check "$name uid" "$(id -u)" "$(jq -r .uid <<<"$json")"
	check "$name user" "$(id -un)" "$(jq -r .user <<<"$json")"
	check "$name keys" "true" "$(jq -r '(.runtimeVersion|type)=="string" and .processorCount>0 and (.osVersion|length)>0' <<<"$json")"
	check "$name 404" "404" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/nope")"
	check "$name root" "Hello from urlserve, uid $(id -u)" "$(curl -sS --max-time 5 "http://127.0.0.1:$port/")"
	# A second server on the same port fails: address in use.
	port_in_use=$port
	start "$tmp/$name.b.log" ASPNETCORE_URLS="http://127.0.0.1:$port_in_use"
	set +e; wait "$pid"; rc=$?; set -e
	check "$name in use rc" 1 "$rc"
	contains "$name in use" "Address already in use (errno 98)" "$(cat "$tmp/$name.b.log")"
	pid=${pids[-2]}
	stop TERM
	check "$name SIGTERM rc" 0 "$rc"
	contains "$name shutdown" "Application is shutting down..." "$(cat "$tmp/$name.a.log")"

	# localhost: 127.0.0.1 and ::1, one display line; stops on SIGINT.
	port=$(free_port)
	start "$tmp/$name.l.log" ASPNETCORE_URLS="http://localhost:$port"
	wait_for "$tmp/$name.l.log" "Application started."
	contains "$name localhost line" "Now listening on: http://localhost:$port" "$(cat "$tmp/$name.l.log")"
	check "$name localhost v4" "200" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/Environment")"
	stop INT
	check "$name SIGINT rc" 0 "$rc"

	# A dynamic port on an IP literal: the bound port is logged; URLS wins over PORTS (warning).
	start "$tmp/$name.d.log" ASPNETCORE_URLS="http://127.0.0.1:0" ASPNETCORE_HTTP_PORTS=80
	wait_for "$tmp/$name.d.log" "Application started."
	contains "$name override warning" "Overriding HTTP_PORTS '80' and HTTPS_PORTS ''. Binding to values defined by URLS instead 'http://127.0.0.1:0'." "$(cat "$tmp/$name.d.log")"
	dport=$(sed -n 's|.*Now listening on: http://127.0.0.1:\([0-9]*\)$|\1|p' "$tmp/$name.d.log")
	[ -n "$dport" ] && [ "$dport" != 0 ] && passes=$((passes + 1)) || { echo "FAIL: $name dynamic port"; fails=$((fails + 1)); }
	check "$name dynamic get" "200" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$dport/")"
	stop TERM

	# A Unix socket; removed on shutdown.
	start "$tmp/$name.u.log" ASPNETCORE_URLS="http://unix:$tmp/app.sock"
	wait_for "$tmp/$name.u.log" "Application started."
	contains "$name unix line" "Now listening on: http://unix:$tmp/app.sock" "$(cat "$tmp/$name.u.log")"
	check "$name unix get" "200" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$tmp/app.sock" http://x/Environment)"
	stop TERM
	check "$name unix removed" "no" "$([ -e "$tmp/app.sock" ] && echo yes || echo no)"

	# Addresses Kestrel rejects, and https without a certificate.
	set +e
	env -i ASPNETCORE_URLS=http:// "$server" >"$tmp/$name.e.log" 2>&1; rc=$?
	set -e
	check "$name invalid rc" 1 "$rc"
	contains "$name invalid msg" "Invalid url: 'http://'" "$(cat "$tmp/$name.e.log")"
	set +e
	env -i ASPNETCORE_HTTPS_PORTS="$(free_port)" "$server" >"$tmp/$name.e.log" 2>&1; rc=$?
	set -e
	check "$name https rc" 1 "$rc"
	contains "$name https msg" "Unable to configure HTTPS endpoint. No server certificate was specified" "$(cat "$tmp/$name.e.log")"

	# The seed's failure: port 80 as uid 1654 without CAP_NET_BIND_SERVICE.
	start_port=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)
	if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && [ "$start_port" -gt 80 ]; then
		set +e
		setpriv --reuid 1654 --regid 1654 --clear-groups --inh-caps=-all \
			env -i ASPNETCORE_URLS=http://+:80 "$server" >"$tmp/$name.p.log" 2>&1
		rc=$?
		set -e
		check "$name privileged rc" 1 "$rc"
		contains "$name privileged errno" "Permission denied (errno 13)" "$(cat "$tmp/$name.p.log")"
		contains "$name privileged kestrel" "System.Net.Sockets.SocketException (13): Permission denied" "$(cat "$tmp/$name.p.log")"
	else
		echo "SKIP: $name privileged-port check (needs root, setpriv and ip_unprivileged_port_start > 80)"
	fi
done

finish urlserve.sh
