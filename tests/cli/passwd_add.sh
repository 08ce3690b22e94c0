#!/usr/bin/env bash
# nonroot passwd add: edits of passwd/group/shadow/gshadow on temporary root filesystems,
# defaults, conflicts (file:line in errors), the symlink escape, non-regular files, and the
# static binary (nonroot-static) when it was built.
set -euo pipefail
: "${NONROOT:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"


mkroot() {  # mkroot DIR: a Debian-like root with shadow files and /sbin/nologin
	mkdir -p "$1/etc" "$1/sbin"
	printf '# users\nroot:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n+::::::' >"$1/etc/passwd"
	printf 'root:x:0:\ndaemon:x:1:\n' >"$1/etc/group"
	printf 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n' >"$1/etc/shadow"
	printf 'root:*::\ndaemon:*::\n' >"$1/etc/gshadow"
	chmod 0640 "$1/etc/shadow" "$1/etc/gshadow"
	: >"$1/sbin/nologin"
}

run "$NONROOT" passwd add --help
check "help rc" 0 "$rc"
case "$out" in *"Usage: nonroot passwd add --root DIR --user NAME"*"--create-home"*"SOURCE_DATE_EPOCH"*) passes=$((passes + 1)) ;;
	*) echo "FAIL: help text"; fails=$((fails + 1)) ;; esac
run "$NONROOT" passwd --help
check "passwd help rc" 0 "$rc"

r=$tmp/r1
mkroot "$r"
run env SOURCE_DATE_EPOCH=1700000000 "$NONROOT" passwd add --root "$r" --user app --uid 1654 --gid 1654 --create-home
check "add rc" 0 "$rc"
check "add out" "added user app (uid 1654, gid 1654) in $r: etc/passwd, etc/group (new group app), etc/shadow, etc/gshadow; created the home directory" "$out"
check "passwd (before NIS, comment kept)" "$(printf '# users\nroot:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\napp:x:1654:1654::/home/app:/sbin/nologin\n+::::::')" "$(cat "$r/etc/passwd")"
check "passwd keeps no final newline" "$(printf '::::::' | od -c | head -1)" "$(tail -c 6 "$r/etc/passwd" | od -c | head -1)"
check "group" "$(printf 'root:x:0:\ndaemon:x:1:\napp:x:1654:')" "$(cat "$r/etc/group")"
check "shadow" "$(printf 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\napp:!:19675::::::')" "$(cat "$r/etc/shadow")"
check "gshadow" "$(printf 'root:*::\ndaemon:*::\napp:!::')" "$(cat "$r/etc/gshadow")"
check "shadow mode kept" "640" "$(stat -c %a "$r/etc/shadow")"
check "home owner" "1654:1654 755" "$(stat -c '%u:%g %a' "$r/home/app")"
if command -v pwck >/dev/null 2>&1; then
	# pwck's own view: nothing about the new user (the shells of the fixture do not exist)
	run pwck -r -R "$r"
	check "pwck: nothing about app" "" "$(printf '%s\n%s' "$out" "$err" | grep -w app || true)"
fi

# again: the same name is an error naming file and line; --exist-ok accepts it
run "$NONROOT" passwd add --root "$r" --user app --uid 1654
check "exists rc" 2 "$rc"
check "exists err" "nonroot: passwd add: etc/passwd:4: user 'app' exists already (uid 1654, gid 1654)" "$err"
run "$NONROOT" passwd add --root "$r" --user app --uid 1654 --exist-ok
check "exist-ok rc" 0 "$rc"
check "exist-ok out" "user app exists already (uid 1654, gid 1654)" "$out"
run "$NONROOT" passwd add --root "$r" --user other --uid 1654
check "uid taken" "nonroot: passwd add: etc/passwd:4: uid 1654 is already used by user 'app'" "$err"
run "$NONROOT" passwd add --root "$r" --user -bad
check "bad name rc" 2 "$rc"
check "bad name" "nonroot: passwd add: name: invalid name '-bad': must not start with '-'" "$err"
run "$NONROOT" passwd add --root "$r" --user ok --shell $'/bin/sh\nroot::0:0::/:'
check "newline in shell (printed escaped)" "nonroot: passwd add: shell: invalid shell '/bin/sh\\x0aroot::0:0::/:': must not contain ':', a newline or a control character" "$err"
check "nothing added by failures" 3 "$(grep -c . "$r/etc/group")"

# defaults: next free id as uid = gid, shell /bin/false without /sbin/nologin, group reuse
run "$NONROOT" passwd add --root "$r" --user worker
check "auto rc" 0 "$rc"
check "auto line" "worker:x:1000:1000::/home/worker:/sbin/nologin" "$(grep ^worker: "$r/etc/passwd")"
run "$NONROOT" passwd add --root "$r" --user svc --system --gid 1654 --home /srv/svc --shell /bin/false --gecos "Service account"
check "system rc" 0 "$rc"
check "system line" "svc:x:999:1654:Service account:/srv/svc:/bin/false" "$(grep ^svc: "$r/etc/passwd")"
check "no new group for existing gid" "" "$(grep ^svc: "$r/etc/group" || true)"

# a scratch root: no etc, no shadow; files are created
mkdir -p "$tmp/scratch"
run "$NONROOT" passwd add --root "$tmp/scratch" --user app --uid 1654 --create-home
check "scratch rc" 0 "$rc"
check "scratch passwd" "app:x:1654:1654::/home/app:/bin/false" "$(cat "$tmp/scratch/etc/passwd")"
check "scratch group" "app:x:1654:" "$(cat "$tmp/scratch/etc/group")"
check "scratch modes" "644 644" "$(stat -c %a "$tmp/scratch/etc/passwd") $(stat -c %a "$tmp/scratch/etc/group")"
check "scratch no shadow" "no" "$([ -e "$tmp/scratch/etc/shadow" ] && echo yes || echo no)"

# The symlink escape: etc/passwd -> /../../outside must resolve to ROOT/outside.
e=$tmp/esc
mkroot "$e"
printf 'host:x:0:0::/:/bin/sh\n' >"$tmp/outside"
rm "$e/etc/passwd"
ln -s /../../outside "$e/etc/passwd"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$e/outside"
run "$NONROOT" passwd add --root "$e" --user app --uid 1654
check "escape rc" 0 "$rc"
check "host file untouched" 'host:x:0:0::/:/bin/sh' "$(cat "$tmp/outside")"
check "written inside" "$(printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/sbin/nologin')" "$(cat "$e/outside")"
check "symlink kept" "/../../outside" "$(readlink "$e/etc/passwd")"
# relative form, and a symlinked etc directory pointing above the root
e2=$tmp/esc2
mkroot "$e2"
mkdir -p "$tmp/hostetc"
printf 'h:x:0:0::/:/bin/sh\n' >"$tmp/hostetc/passwd"
mv "$e2/etc" "$e2/realetc"
ln -s ../../../hostetc "$e2/etc"
run "$NONROOT" passwd add --root "$e2" --user app --uid 1654
check "etc escape rc (ROOT/hostetc missing)" 2 "$rc"
check "etc escape err" "nonroot: passwd add: etc/group: resolve: No such file or directory" "$err"
mkdir "$e2/hostetc"
run "$NONROOT" passwd add --root "$e2" --user app --uid 1654
check "etc escape rc" 0 "$rc"
check "host etc untouched" 'h:x:0:0::/:/bin/sh' "$(cat "$tmp/hostetc/passwd")"
check "host etc no group" "no" "$([ -e "$tmp/hostetc/group" ] && echo yes || echo no)"
check "inside hostetc" "app:x:1654:1654::/home/app:/sbin/nologin" "$(cat "$e2/hostetc/passwd")"

# non-regular account files are refused before anything is written
f=$tmp/fifo
mkroot "$f"
rm "$f/etc/shadow"
mkfifo "$f/etc/shadow"
run timeout 10 "$NONROOT" passwd add --root "$f" --user app
check "fifo rc" 2 "$rc"
check "fifo err" "nonroot: passwd add: etc/shadow: not a regular file (a FIFO)" "$err"
check "fifo: passwd unchanged" "" "$(grep ^app: "$f/etc/passwd" || true)"
truncate -s 10485761 "$f/etc/group"
rm "$f/etc/shadow"
run "$NONROOT" passwd add --root "$f" --user app
check "big err" "nonroot: passwd add: etc/group: file is 10485761 bytes, over the limit of 10485760" "$err"

# Option parsing and usage errors (--uid/--gid ranges, --root/--user required, a missing root,
# an unknown subcommand) are data: tests/cli/cases/passwd/ (CTest cli.cases.passwd).

# The static binary: what a shell-less image's RUN step calls.
static=${NR_BUILD:-}/nonroot-static
if [ -n "${NR_BUILD:-}" ] && [ -x "$static" ]; then
	check "static is static" "yes" "$(file "$static" | grep -E 'statically linked|static-pie' >/dev/null && echo yes || echo no)"
	s=$tmp/static
	mkroot "$s"
	run env SOURCE_DATE_EPOCH=1700000000 "$static" passwd add --root "$s" --user app --uid 1654 --gid 1654 --create-home
	check "static rc" 0 "$rc"
	check "static passwd" "app:x:1654:1654::/home/app:/sbin/nologin" "$(grep ^app: "$s/etc/passwd")"
	run "$static" user resolve app --root "$s" --json
	check "static resolve" '{"uid":1654,"gid":1654,"additional_gids":[],"home":"/home/app","name":"app"}' "$out"
else
	echo "note: nonroot-static not built (configure with -DNR_STATIC_CLI=ON); static checks skipped"
fi

finish passwd_add
