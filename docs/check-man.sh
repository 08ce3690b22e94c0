#!/usr/bin/env bash
# check-man.sh NONROOT MANPAGE: the man page renders without a groff/man warning, and names
# every subcommand and every long option that `nonroot --help` / `nonroot CMD --help` print
# (so the page cannot drift from the CLI), and carries the version `nonroot --version` prints.
# Exits 1 with the list of what is missing.
set -euo pipefail
nonroot=$1 page=$2
fail=0
err=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || { echo "man -l failed"; fail=1; }
if [ -n "$err" ]; then echo "man --warnings printed:"; echo "$err"; fail=1; fi
# The rendered text, with hyphenation and adjustment off so options are never split.
text=$( { printf '.nh\n.ad l\n'; cat "$page"; } | MANWIDTH=200 man -l - 2>/dev/null | sed 's/\xe2\x80\x90/-/g')
ver=$("$nonroot" --version | awk '{print $2}')
grep -q "^\.TH NONROOT 1 .* \"libnonroot $ver\"" "$page" || { echo "the .TH line does not say libnonroot $ver"; fail=1; }
cmds=$("$nonroot" --help | awk '/^Commands:/{on=1;next} on&&/^  [a-z]/{print $1} on&&/^$/{on=0}')
[ -n "$cmds" ] || { echo "no commands parsed from nonroot --help"; exit 1; }
n=0
for c in $cmds; do
	grep -qE "nonroot $c( |$)" <<<"$text" || { echo "missing subcommand: $c"; fail=1; }
	opts=$("$nonroot" $c --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
	for o in $opts; do
		n=$((n + 1))
		grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" <<<"$text" || { echo "missing option: nonroot $c $o"; fail=1; }
	done
done
[ "$fail" = 0 ] || exit 1
echo "ok: $(wc -w <<<"$cmds") subcommands, $n long options documented; no man warnings"
