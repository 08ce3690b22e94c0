#!/usr/bin/env bash
# CTest driver for the Python package.
#   run-tests.sh install SRC_DIR BUILD_DIR WORK_DIR  copy python/ to WORK_DIR, pip-install it
#                                                      (--target) against the CMake build tree
#   run-tests.sh unittest SRC_DIR BUILD_DIR WORK_DIR  run python/tests with that install
set -euo pipefail
mode=$1 src=$2 build=$3 work=$4
py=${PYTHON:-python3}
export NONROOT_BUILD_DIR=$build NONROOT_INCLUDE_DIR=$src/include NONROOT_LIB_DIR=$build
case $mode in
install)
	rm -rf "$work" && mkdir -p "$work"
	# Build from a copy: pip builds in-tree, and the source tree stays clean.
	tar -C "$src/python" --exclude=build --exclude='*.egg-info' --exclude=__pycache__ \
		-cf - . | tar -C "$work" --one-top-level=src -xf -
	"$py" -m pip install --no-build-isolation --no-index --no-deps --root-user-action=ignore \
		--disable-pip-version-check -q --target "$work/site" "$work/src"
	# the installed module finds libnonroot through its rpath, not LD_LIBRARY_PATH
	readelf -d "$work"/site/nonroot/_native*.so | grep -E 'R(UN)?PATH' | grep -F "$build"
	;;
unittest)
	cd "$work"
	PYTHONPATH=$work/site exec "$py" -m unittest discover -s "$src/python/tests" -v
	;;
*) echo "usage: $0 install|unittest SRC BUILD WORK" >&2; exit 2 ;;
esac
