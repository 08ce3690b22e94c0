#!/usr/bin/env bash
# One source of the version: include/nonroot/common.h. (1) CMake reads it: a copy of the tree
# with the header bumped to 9.8.7 configures as 9.8.7 (project, SOVERSION, libnonroot.pc).
# (2) Every other place that states the version agrees with the header: python/pyproject.toml,
# python/nonroot/__init__.py, the man page's .TH, debian/changelog, and any version literal in
# the bindings (jar manifest, Perl $VERSION).
#   version.sh SRC WORK [CMAKE]
set -euo pipefail
src=$1 work=$2 cmake=${3:-cmake}
fail=0
hdr=$src/include/nonroot/common.h
v=$(sed -n 's/^#define NR_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' "$hdr" | paste -sd.)
s=$(sed -n 's/^#define NR_VERSION "\(.*\)"$/\1/p' "$hdr")
echo "header: $v (NR_VERSION \"$s\")"
[ "$v" = "$s" ] || { echo "NR_VERSION \"$s\" is not MAJOR.MINOR.PATCH $v"; fail=1; }

check() {  # check WHAT FOUND
	if [ "$2" = "$v" ]; then echo "ok: $1 $2"; else echo "FAIL: $1 says '$2', the header $v"; fail=1; fi
}
check python/pyproject.toml "$(sed -n 's/^version = "\(.*\)"$/\1/p' "$src/python/pyproject.toml")"
if grep -q '^__version__ = "' "$src/python/nonroot/__init__.py"; then
	check python/nonroot/__init__.py "$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$src/python/nonroot/__init__.py")"
fi
check docs/nonroot.1 "$(sed -n 's/^\.TH .*"libnonroot \([^"]*\)".*/\1/p' "$src/docs/nonroot.1")"
if [ -f "$src/debian/changelog" ]; then
	check debian/changelog "$(sed -n '1s/^[^ ]* (\([^-)]*\).*/\1/p' "$src/debian/changelog")"
fi
while IFS= read -r hit; do
	check "${hit%%:*}" "$(sed -E 's/.*([0-9]+\.[0-9]+\.[0-9]+).*/\1/' <<<"${hit#*:}")"
done < <(grep -rEo --include=*.pm --include=*.pm.in --include=*.i --include=*.MF --include=*.mf \
	'(VERSION *= *.|Implementation-Version: *)[0-9]+\.[0-9]+\.[0-9]+' "$src/bindings" 2>/dev/null || true)

# CMake takes the header's version (not a copy of its own).
rm -rf "$work"; mkdir -p "$work/src"
(cd "$src" && git ls-files -z | tar --null -T - -cf -) | tar -C "$work/src" -xf -
sed -i 's/^#define NR_VERSION_MAJOR .*/#define NR_VERSION_MAJOR 9/; s/^#define NR_VERSION_MINOR .*/#define NR_VERSION_MINOR 8/; s/^#define NR_VERSION_PATCH .*/#define NR_VERSION_PATCH 7/; s/^#define NR_VERSION ".*"/#define NR_VERSION "9.8.7"/' \
	"$work/src/include/nonroot/common.h"
"$cmake" -S "$work/src" -B "$work/b" -DNR_BUILD_TESTS=OFF -DNR_BUILD_SWIG=OFF -DNR_BUILD_PYTHON=OFF >/dev/null
grep -qx 'CMAKE_PROJECT_VERSION:STATIC=9.8.7' "$work/b/CMakeCache.txt" ||
	{ echo "FAIL: CMake's version is not the header's: $(grep CMAKE_PROJECT_VERSION: "$work/b/CMakeCache.txt")"; fail=1; }
grep -qx 'Version: 9.8.7' "$work/b/libnonroot.pc.in" ||
	{ echo "FAIL: libnonroot.pc's version is not the header's"; fail=1; }
grep -q '9.8.7' "$work/b/libnonrootConfigVersion.cmake" ||
	{ echo "FAIL: the CMake package's version is not the header's"; fail=1; }
[ $fail = 0 ] && echo "ok: CMake reads the version from the header"
exit $fail
