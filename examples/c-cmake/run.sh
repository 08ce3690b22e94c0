#!/usr/bin/env bash
# Configure, build and run examples/c-cmake/consumer against the libnonroot installed in PREFIX.
set -euo pipefail
src=$1 prefix=$2 build=$3 cmake=${4:-cmake}
rm -rf "$build"
"$cmake" -S "$src" -B "$build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
	-DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >/dev/null
# find_package must have taken the installed package, not anything else.
grep -q "^libnonroot_DIR:PATH=$prefix/" "$build/CMakeCache.txt" ||
	{ grep libnonroot_DIR "$build/CMakeCache.txt"; echo "libnonroot not found under $prefix"; exit 1; }
"$cmake" --build "$build" >/dev/null
ldd "$build/portcheck" | grep "$prefix.*libnonroot.so" >/dev/null || { ldd "$build/portcheck"; exit 1; }
out=$("$build/portcheck" 'ASPNETCORE_URLS=http://+:80;https://+:443' ASPNETCORE_HTTP_PORTS=80)
echo "$out"
[ "$out" = $'ASPNETCORE_URLS=http://+:8080;https://+:8443\nASPNETCORE_HTTP_PORTS=8080' ] ||
	{ echo "unexpected output"; exit 1; }
# A privileged port without a mapping is an error (exit 2, the message names the variable).
if err=$("$build/portcheck" 'ASPNETCORE_URLS=http://+:81' 2>&1); then
	echo "port 81 without a mapping was accepted: $err"; exit 1
fi
echo "$err"
echo "ok: find_package(libnonroot) from $prefix"
