#!/usr/bin/env bash
# A consumer project, built and run the way its users would (CTest tests consumer.*):
#   run.sh MODE SRC PREFIX WORK [CMAKE]
# MODE
#   pkgconfig-shared  cc app.c $(pkg-config --cflags --libs libnonroot), no --define-prefix
#   pkgconfig-static  the same with --static against a prefix holding only libnonroot.a
#   package-shared    find_package(libnonroot), libnonroot::nonroot
#   package-static    find_package(libnonroot COMPONENTS static), libnonroot::nonroot_static,
#                     on a machine without pkg-config (PKG_CONFIG_EXECUTABLE=/nonexistent)
#   subdirectory      add_subdirectory(SRC) into a parent with its own docs/urlserve/bench_*
#                     targets, CMAKE_BUILD_TYPE left empty, its own tests
#   fetchcontent      FetchContent from a tarball of SRC (file:// URL), same checks
#   meson             dependency('libnonroot') in a Meson project
# SRC is the libnonroot source tree, PREFIX the install made by the examples_install test.
# Each mode runs the program on a tiny image (umoci, tests/e2e/lib.sh).
set -euo pipefail
mode=$1 src=$2 prefix=$3 work=$4 cmake=${5:-cmake}
here=$(cd "$(dirname "$0")" && pwd)
export NR_SRC=$src
. "$src/tests/e2e/lib.sh"
e2e_init
e2e_build_rootful "$E2E_TMP/img:latest" >/dev/null
image=oci:$E2E_TMP/img:latest
rm -rf "$work"
mkdir -p "$work"
# Nothing from the environment: only what each mode sets up.
unset PKG_CONFIG_PATH CMAKE_PREFIX_PATH

fail() { echo "FAIL ($mode): $*"; exit 1; }

# run_app BINARY [static]: the program runs, on the right library, and reads the image.
run_app() {
	local bin=$1 kind=${2:-shared} out
	if [ "$kind" = static ]; then
		! ldd "$bin" | grep libnonroot >/dev/null || { ldd "$bin"; fail "$bin is linked to libnonroot.so"; }
	elif [ "$kind" = installed ]; then
		ldd "$bin" | grep "$prefix/.*libnonroot.so" >/dev/null ||
			{ ldd "$bin"; fail "$bin does not use $prefix's libnonroot.so"; }
	fi
	out=$("$bin" "$image") || fail "$bin $image: exit $?: $out"
	echo "$out"
	grep -qx "libnonroot [0-9.]* (headers [0-9.]*)" <<<"$out" || fail "no version line"
	grep -qx "$image: [0-9]* passwd entries, root=0" <<<"$out" || fail "image not read"
}

pc_dir() { dirname "$(find "$prefix" -name libnonroot.pc -print -quit)"; }

case $mode in
pkgconfig-shared)
	export PKG_CONFIG_PATH; PKG_CONFIG_PATH=$(pc_dir)
	# The plain command of the README: the .pc must point into PREFIX by itself.
	flags=$(pkg-config --cflags --libs libnonroot)
	echo "pkg-config: $flags"
	case $flags in *"-I$prefix/include"*) ;; *) fail "--cflags do not point into $prefix: $flags";; esac
	libdir=$(pkg-config --variable=libdir libnonroot)
	[ -e "$libdir/libnonroot.so" ] || fail "libdir=$libdir has no libnonroot.so"
	cc -std=c99 -Wall -Wextra -Werror -pedantic "$here/app.c" $flags -Wl,-rpath,"$libdir" \
		-o "$work/app"
	run_app "$work/app" installed
	;;
pkgconfig-static)
	# A prefix with only the static library (as a --disable-shared install would have).
	"$cmake" --install "${NR_BUILD:?}" --prefix "$work/prefix" >/dev/null
	find "$work/prefix" -name 'libnonroot.so*' -delete
	export PKG_CONFIG_PATH; PKG_CONFIG_PATH=$(dirname "$(find "$work/prefix" -name libnonroot.pc -print -quit)")
	flags=$(pkg-config --static --cflags --libs libnonroot)
	echo "pkg-config --static: $flags"
	case $flags in *"$work/prefix/"*) ;; *) fail "pkg-config does not point into the copied prefix: $flags";; esac
	cc -std=c99 -Wall -Wextra -Werror -pedantic "$here/app.c" $flags -o "$work/app"
	run_app "$work/app" static
	;;
package-shared | package-static)
	kind=${mode#package-}
	extra=()
	# static: as on a machine without pkg-config
	[ "$kind" = static ] && extra=(-DPKG_CONFIG_EXECUTABLE=/nonexistent/pkg-config)
	"$cmake" -S "$here/cmake" -B "$work/build" -DNR_MODE="$mode" -DCMAKE_PREFIX_PATH="$prefix" \
		-DCMAKE_C_FLAGS="-Wall -Wextra -Werror" "${extra[@]}" >"$work/configure.log" ||
		{ cat "$work/configure.log"; fail "configure"; }
	grep -q "^libnonroot_DIR:PATH=$prefix/" "$work/build/CMakeCache.txt" ||
		fail "find_package did not take $prefix: $(grep libnonroot_DIR "$work/build/CMakeCache.txt")"
	"$cmake" --build "$work/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build"; }
	[ "$kind" = static ] && run_app "$work/build/app_static" static
	[ "$kind" = shared ] && run_app "$work/build/app_shared" installed
	;;
subdirectory | fetchcontent)
	args=(-DNR_MODE="$mode")
	if [ "$mode" = fetchcontent ]; then
		# The tracked files of SRC as they are now (edits included), as a release tarball.
		(cd "$src" && git ls-files -z | tar --null -T - --transform 's,^,libnonroot-src/,' -czf "$work/libnonroot.tar.gz")
		args+=(-DLIBNONROOT_TARBALL="$work/libnonroot.tar.gz")
	else
		args+=(-DLIBNONROOT_SOURCE_DIR="$src")
	fi
	# CMAKE_BUILD_TYPE empty on purpose: libnonroot must not FORCE it (checked in the project).
	"$cmake" -S "$here/cmake" -B "$work/build" "${args[@]}" -DCMAKE_BUILD_TYPE= \
		>"$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "configure"; }
	grep -q '^CMAKE_BUILD_TYPE:STRING=$' "$work/build/CMakeCache.txt" ||
		fail "the parent's CMAKE_BUILD_TYPE was changed: $(grep ^CMAKE_BUILD_TYPE: "$work/build/CMakeCache.txt")"
	# Only the parent's own test: none of libnonroot's.
	ntests=$(cd "$work/build" && ctest -N | sed -n 's/^Total Tests: //p')
	[ "$ntests" = 1 ] || { (cd "$work/build" && ctest -N); fail "$ntests tests in the parent, expected its 1"; }
	"$cmake" --build "$work/build" -j2 --target app_shared app_static >"$work/build.log" 2>&1 ||
		{ cat "$work/build.log"; fail "build"; }
	run_app "$work/build/app_shared"
	run_app "$work/build/app_static" static
	;;
meson)
	command -v meson >/dev/null || fail "meson is not installed (scripts/install-deps)"
	export PKG_CONFIG_PATH; PKG_CONFIG_PATH=$(pc_dir)
	cp "$here/app.c" "$here/meson/meson.build" "$work/"
	meson setup "$work/build" "$work" >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; fail "meson setup"; }
	grep -q "Run-time dependency libnonroot found: YES" "$work/setup.log" || { cat "$work/setup.log"; fail "dependency"; }
	meson compile -C "$work/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "meson compile"; }
	LD_LIBRARY_PATH=$(pkg-config --variable=libdir libnonroot) run_app "$work/build/app" installed
	;;
*)
	fail "unknown mode"
	;;
esac
echo "ok: $mode"
