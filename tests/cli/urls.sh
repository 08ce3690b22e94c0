#!/usr/bin/env bash
# nonroot urls: text and JSON output, --check, --threshold, --host, --rewrite, exit codes.
set -euo pipefail
: "${NONROOT:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"


# --help documents the command
run "$NONROOT" urls --help
check "help rc" 0 "$rc"
case "$out" in *"Usage: nonroot urls"*"--rewrite"*"Exit status"*) passes=$((passes + 1)) ;;
	*) echo "FAIL: help text"; fails=$((fails + 1)) ;; esac

# The process environment is read when no NAME=VALUE is given; nothing set: localhost:5000.
run env -i "$NONROOT" urls --json
check "default rc" 0 "$rc"
check "default json" '{"effective":"default","variables":{},"warnings":[],"bindings":[{"url":"http://localhost:5000","scheme":"http","host":"localhost","port":5000,"path_base":"","kind":"localhost","privileged":false,"port_defaulted":false,"port_fallback":false,"variable":null}]}' "$out"
run env -i ASPNETCORE_URLS='http://+:80' "$NONROOT" urls --check
check "environ check rc" 1 "$rc"
check "environ text" $'effective: urls (ASPNETCORE_URLS=http://+:80)\nhttp://+:80\tany\tport 80\tprivileged (below 1024: needs root or CAP_NET_BIND_SERVICE)' "$out"

# NAME=VALUE arguments replace the environment.
run env ASPNETCORE_URLS='http://+:80' "$NONROOT" urls --check --json ASPNETCORE_HTTP_PORTS=8080
check "args check rc" 0 "$rc"
check "args effective" "http_ports 8080 false ASPNETCORE_HTTP_PORTS" \
	"$(jq -r '[.effective, .bindings[0].port, .bindings[0].privileged, .variables.http_ports.name] | join(" ")' <<<"$out")"

# URLS wins, with Kestrel's warning; the JSON shape of DESIGN.md.
run "$NONROOT" urls --json ASPNETCORE_HTTP_PORTS=8080 'ASPNETCORE_URLS=http://+:80;https://[::1]:5001;http://unix:/run/a.sock'
check "urls json rc" 0 "$rc"
check "urls warning" "Overriding HTTP_PORTS '8080' and HTTPS_PORTS ''. Binding to values defined by URLS instead 'http://+:80;https://[::1]:5001;http://unix:/run/a.sock'." "$(jq -r '.warnings[0]' <<<"$out")"
check "urls kinds" "any ip unix" "$(jq -r '[.bindings[].kind] | join(" ")' <<<"$out")"
check "urls ports" "80 5001 null" "$(jq -r '[.bindings[].port | tostring] | join(" ")' <<<"$out")"
check "urls privileged" "true false false" "$(jq -r '[.bindings[].privileged | tostring] | join(" ")' <<<"$out")"
check "urls host" "[::1]" "$(jq -r '.bindings[1].host' <<<"$out")"
check "urls keys" "url,scheme,host,port,path_base,kind,privileged,port_defaulted,port_fallback,variable" \
	"$(jq -r '.bindings[0] | keys_unsorted | join(",")' <<<"$out")"

# --threshold (net.ipv4.ip_unprivileged_port_start) and port 0.
run "$NONROOT" urls --check --threshold 80 'ASPNETCORE_URLS=http://+:80;http://127.0.0.1:0'
check "threshold rc" 0 "$rc"
run "$NONROOT" urls --check --threshold 81 'ASPNETCORE_URLS=http://+:80'
check "threshold 81 rc" 1 "$rc"

# Which prefix wins depends on the host model.
run "$NONROOT" urls --json ASPNETCORE_URLS=http://+:80 DOTNET_URLS=http://+:5000
check "webapp" "5000" "$(jq -r '.bindings[0].port' <<<"$out")"
check "webapp note" "DOTNET_URLS overrides ASPNETCORE_URLS ('http://+:80' is ignored) in a WebApplication.CreateBuilder host" "$(jq -r '.warnings[0]' <<<"$out")"
run "$NONROOT" urls --json --host generic ASPNETCORE_URLS=http://+:80 DOTNET_URLS=http://+:5000
check "generic" "80" "$(jq -r '.bindings[0].port' <<<"$out")"

# Kestrel endpoints in the environment win over URLS/PORTS (Kestrel's warning), sorted by name.
run "$NONROOT" urls --json ASPNETCORE_HTTP_PORTS=8080 Kestrel__Endpoints__Web__Url=http://+:80 Kestrel__Endpoints__Api__Url=http://localhost:5001
check "endpoints effective" "kestrel_endpoints" "$(jq -r .effective <<<"$out")"
check "endpoints warning" "Overriding address(es) 'http://*:8080'. Binding to endpoints defined via IConfiguration and/or UseKestrel() instead." "$(jq -r '.warnings[0]' <<<"$out")"
check "endpoints order" "Kestrel__Endpoints__Api__Url Kestrel__Endpoints__Web__Url" "$(jq -r '[.bindings[].variable] | join(" ")' <<<"$out")"
run "$NONROOT" urls --rewrite 80:8080 Kestrel__Endpoints__Web__Url=http://+:80
check "endpoint rewrite" "Kestrel__Endpoints__Web__Url=http://+:8080" "$out"

# A non-numeric port: parsed like .NET 8 (port 80) with a warning; --check fails.
run "$NONROOT" urls --check 'ASPNETCORE_URLS=http://*:{port}'
check "fallback rc" 1 "$rc"
case "$out" in *"warning: ASPNETCORE_URLS: port '{port}' in 'http://*:{port}' is not a number: ASP.NET Core 8 silently binds the default port 80"*) passes=$((passes + 1)) ;;
	*) echo "FAIL: fallback warning: $out"; fails=$((fails + 1)) ;; esac

# Errors Kestrel would raise: exit 2 with its message.
run "$NONROOT" urls ASPNETCORE_URLS=http://
check "invalid rc" 2 "$rc"
check "invalid msg" "nonroot: urls: ASPNETCORE_URLS: Invalid url: 'http://'" "$err"
run "$NONROOT" urls ASPNETCORE_URLS=http://+:80/api
check "pathbase rc" 2 "$rc"
check "pathbase msg" "nonroot: urls: ASPNETCORE_URLS: A path base can only be configured using IApplicationBuilder.UsePathBase()." "$err"
run "$NONROOT" urls "ASPNETCORE_URLS=http://+:80
"
check "newline rc" 2 "$rc"
check "newline msg" "nonroot: urls: ASPNETCORE_URLS: Invalid url: control character 0x0a at byte 12: 'http://+:80\\x0a'" "$err"

# Usage errors.
run "$NONROOT" urls NOT_AN_ASSIGNMENT
check "usage rc" 2 "$rc"
run "$NONROOT" urls --host iis ASPNETCORE_URLS=http://+:80
check "host usage rc" 2 "$rc"
run "$NONROOT" urls --compat ASPNETCORE_URLS=http://+:80
check "compat usage rc" 2 "$rc"
run "$NONROOT" urls --threshold abc
check "threshold usage rc" 2 "$rc"

# --rewrite: only the ports change; privileged ports without a mapping are an error.
run "$NONROOT" urls --rewrite 80:8080,443:8443 'ASPNETCORE_URLS=HTTP://+;https://[::1]/;http://*:80' 'ASPNETCORE_HTTP_PORTS= 80 ;8081'
check "rewrite rc" 0 "$rc"
check "rewrite out" $'ASPNETCORE_URLS=HTTP://+:8080;https://[::1]:8443/;http://*:8080\nASPNETCORE_HTTP_PORTS= 8080 ;8081' "$out"
run "$NONROOT" urls --rewrite 80:8080 --compat ASPNETCORE_URLS=http://+:80 ASPNETCORE_HTTP_PORTS=80
check "rewrite compat" $'ASPNETCORE_URLS=http://+:80;http://+:8080\nASPNETCORE_HTTP_PORTS=80;8080' "$out"
run "$NONROOT" urls --rewrite 80:8080 'ASPNETCORE_URLS=http://+:81;https://+'
check "rewrite unmapped rc" 2 "$rc"
check "rewrite unmapped msg" "nonroot: urls --rewrite: ASPNETCORE_URLS: privileged ports without a mapping (below 1024): 81, 443" "$err"
run "$NONROOT" urls --rewrite 80:8080 PATH=/bin
check "rewrite other var rc" 2 "$rc"
run "$NONROOT" urls --rewrite 80 ASPNETCORE_URLS=http://+:80
check "rewrite bad map rc" 2 "$rc"
check "rewrite bad map msg" "nonroot: urls --rewrite: port map: '80' is not FROM:TO" "$err"
run "$NONROOT" urls --rewrite 80:8080
check "rewrite no args rc" 2 "$rc"

# The rewritten value passes --check.
new=$("$NONROOT" urls --rewrite 80:8080,443:8443 'ASPNETCORE_URLS=http://+;https://+:443')
run "$NONROOT" urls --check "$new"
check "rewritten passes check" 0 "$rc"

finish urls.sh
