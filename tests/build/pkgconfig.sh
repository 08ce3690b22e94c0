#!/usr/bin/env bash
# libnonroot.pc without a build: (1) Requires.private lists only what the build links (libcurl
# for the registry transport; libisal with ISA-L, not with -DNR_USE_ISAL=OFF); (2) the paths
# written at install time (cmake/install-pc.cmake) for the prefix installed into: relative GNUInstallDirs under
# ${prefix}, absolute ones as they are (no "${prefix}//opt/..."), DESTDIR honoured.
#   pkgconfig.sh SRC WORK [CMAKE]
set -euo pipefail
src=$1 work=$2 cmake=${3:-cmake}
rm -rf "$work"
fail() { echo "FAIL: $*"; exit 1; }
common=(-DNR_BUILD_TESTS=OFF -DNR_BUILD_SWIG=OFF -DNR_BUILD_PYTHON=OFF)

"$cmake" -S "$src" -B "$work/noisal" "${common[@]}" -DNR_USE_ISAL=OFF >/dev/null
grep -qx 'Requires.private: jansson libarchive libcrypto zlib libcurl' "$work/noisal/libnonroot.pc.in" ||
	fail "without ISA-L: $(grep Requires "$work/noisal/libnonroot.pc.in")"
if pkg-config --exists libisal; then
	"$cmake" -S "$src" -B "$work/isal" "${common[@]}" >/dev/null
	grep -qx 'Requires.private: jansson libarchive libcrypto zlib libcurl libisal' "$work/isal/libnonroot.pc.in" ||
		fail "with ISA-L: $(grep Requires "$work/isal/libnonroot.pc.in")"
fi

# The flags the Requires.private packages add themselves (libcurl's Cflags name the multiarch
# include directory): not libnonroot's, so left out of the comparisons below.
deps_flags=" $(pkg-config --cflags jansson libarchive libcrypto zlib libcurl) "
own() {  # own FLAGS...: the flags not in deps_flags
	local f r=()
	for f in "$@"; do
		case $deps_flags in *" $f "*) ;; *) r+=("$f") ;; esac
	done
	echo "${r[*]}"
}

# install(CODE) runs cmake/install-pc.cmake with these; run it the same way.
install_pc() {  # install_pc PREFIX LIBDIR INCLUDEDIR
	"$cmake" -DCMAKE_INSTALL_PREFIX="$1" -DNR_LIBDIR="$2" -DNR_INCLUDEDIR="$3" \
		-DNR_PC_TEMPLATE="$work/noisal/libnonroot.pc.in" -DNR_PC_OUT="$work/pc.out" \
		-P "$src/cmake/install-pc.cmake" >/dev/null
}
DESTDIR=$work/dest install_pc /opt/nr lib include
pc=$work/dest/opt/nr/lib/pkgconfig/libnonroot.pc
[ -f "$pc" ] || fail "not installed under DESTDIR: $(find "$work/dest" -name '*.pc')"
out=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR= pkg-config --cflags --libs libnonroot)
out=$(own $out)
[ "$out" = "-I/opt/nr/include -L/opt/nr/lib -lnonroot" ] || fail "relative dirs: $out"

DESTDIR=$work/dest2 install_pc /usr/local /opt/nrlib /opt/nrinc
pc=$work/dest2/opt/nrlib/pkgconfig/libnonroot.pc
[ -f "$pc" ] || fail "absolute LIBDIR: not in it: $(find "$work/dest2" -name '*.pc')"
grep -q '//' "$pc" && { cat "$pc"; fail "a doubled slash"; }
out=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs libnonroot)
out=$(own $out)
[ "$out" = "-I/opt/nrinc -L/opt/nrlib -lnonroot" ] || fail "absolute dirs: $out"
echo "ok: libnonroot.pc (Requires.private, install-time prefix, absolute dirs, DESTDIR)"
