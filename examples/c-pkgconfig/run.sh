#!/usr/bin/env bash
# Build examples/c-pkgconfig/whoami.c with pkg-config against the libnonroot installed in
# PREFIX (by the examples_install test), run it and check its output.
set -euo pipefail
src=$1 prefix=$2 work=$3
libdir=$(dirname "$(find "$prefix" -name libnonroot.pc -print -quit)")
[ -n "$libdir" ] && [ "$libdir" != . ] || { echo "no libnonroot.pc under $prefix"; exit 1; }
export PKG_CONFIG_PATH=$libdir
# The plain command: `cmake --install --prefix PREFIX` wrote a .pc file for PREFIX.
flags=$(pkg-config --cflags --libs libnonroot)
case $flags in *"$prefix"*) ;; *) echo "pkg-config does not point into $prefix: $flags"; exit 1;; esac
mkdir -p "$work"
cc -std=c99 -Wall -Wextra -Werror -pedantic "$src/whoami.c" $flags \
	-Wl,-rpath,"$(pkg-config --variable=libdir libnonroot)" -o "$work/whoami"
# The program must use the installed library, not the build tree's.
ldd "$work/whoami" | grep "$prefix.*libnonroot.so" >/dev/null || { ldd "$work/whoami"; exit 1; }
out=$("$work/whoami" app ASPNETCORE_URLS='http://+:8080') || { echo "exit $?: $out"; exit 1; }
echo "$out"
grep -qx 'user app: uid=1654 gid=1654 home=/home/app groups=2000' <<<"$out"
grep -qx 'listen http://+:8080' <<<"$out"
set +e
out=$("$work/whoami" 0 ASPNETCORE_URLS='http://+:80'); rc=$?
set -e
echo "$out"
[ "$rc" = 1 ] || { echo "expected exit 1 for a privileged port, got $rc"; exit 1; }
grep -qx 'listen http://+:80 (privileged: needs root)' <<<"$out"
err=$("$work/whoami" nobody 2>&1) && { echo "unknown user accepted"; exit 1; }
grep -q 'unable to find user nobody' <<<"$err" || { echo "$err"; exit 1; }
echo "ok: built with pkg-config against $prefix"
