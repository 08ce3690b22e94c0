#!/usr/bin/env bash
# CTest driver for the Python package.
#   run-tests.sh install SRC_DIR BUILD_DIR WORK_DIR  copy python/ to WORK_DIR, pip-install it
#                                                      (--target) against the CMake build tree
#   run-tests.sh unittest SRC_DIR BUILD_DIR WORK_DIR  run python/tests with that install
#   run-tests.sh wheel SRC_DIR BUILD_DIR WORK_DIR     sdist -> wheel (built from the sdist
#                                                      alone) -> fresh venv in another prefix:
#                                                      metadata, tag, no RUNPATH, import + use
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
	# libnonroot.a is inside the module: no RUNPATH into the build tree, no libnonroot.so
	# (an interpreter built with an rpath to its own lib/, as pyenv's, passes that on)
	readelf -d "$work"/site/nonroot/_native*.so >"$work/dynamic.txt"
	if grep -E "R(UN)?PATH.*($build|$src)|NEEDED.*libnonroot" "$work/dynamic.txt"; then
		echo "FAIL: the module depends on the build tree" >&2; exit 1
	fi
	;;
wheel)
	rm -rf "$work" && mkdir -p "$work/dist"
	tar -C "$src/python" --exclude=build --exclude='*.egg-info' --exclude=__pycache__ \
		-cf - . | tar -C "$work" --one-top-level=src -xf -
	# 1. the sdist (the in-tree backend's build_sdist hook) holds everything a build needs
	sdist=$(cd "$work/src" && "$py" -c 'import sys, _nr_backend; print(_nr_backend.build_sdist(sys.argv[1]))' "$work/dist" | tail -1)
	echo "sdist: $sdist"
	tar -tzf "$work/dist/$sdist" >"$work/sdist.list"
	for f in _nr_backend.py setup.py pyproject.toml nonroot/_build.py nonroot/py.typed \
		nonroot/__init__.py; do
		grep -qxF "${sdist%.tar.gz}/$f" "$work/sdist.list" ||
			{ echo "FAIL: $f is not in the sdist" >&2; exit 1; }
	done
	# 2. the wheel, built from the unpacked sdist only (not from the source tree)
	mkdir -p "$work/unpacked" && tar -C "$work/unpacked" -xzf "$work/dist/$sdist"
	"$py" -m pip wheel --no-build-isolation --no-index --no-deps --disable-pip-version-check \
		-q -w "$work/dist" "$work/unpacked/${sdist%.tar.gz}"
	whl=$(ls "$work"/dist/*.whl)
	echo "wheel: $(basename "$whl")"
	"$py" - "$whl" "$work/so" <<'PY'
import os, re, sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(whl)
names = z.namelist()
meta = z.read([n for n in names if n.endswith(".dist-info/METADATA")][0]).decode()
head = meta.split("\n\n", 1)[0]
assert re.search(r"^Requires-Dist: cffi", head, re.M), "no Requires-Dist: cffi in\n" + head
wheel = z.read([n for n in names if n.endswith(".dist-info/WHEEL")][0]).decode()
tag = re.search(r"^Tag: (\S+)", wheel, re.M).group(1)
(so,) = [n for n in names if re.match(r"nonroot/_native.*\.so$", n)]
abi = tag.split("-")[1]
assert (abi == "abi3") == (".abi3." in so), "wheel tag %s does not match module %s" % (tag, so)
assert os.path.basename(whl).endswith(tag + ".whl"), (whl, tag)
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "_native.so"), "wb") as f:
    f.write(z.read(so))
print("tag", tag, "module", so, "ok")
PY
	readelf -d "$work/so/_native.so" >"$work/dynamic.txt"
	if grep -E "R(UN)?PATH.*($build|$src)|NEEDED.*libnonroot" "$work/dynamic.txt"; then
		echo "FAIL: the wheel's module depends on libnonroot.so or has a RUNPATH" >&2; exit 1
	fi
	# 3. a venv without cffi: pip must refuse the wheel (its Requires-Dist names cffi)
	prefix=$(mktemp -d /tmp/nr-wheel-venv.XXXXXX)
	trap 'rm -rf "$prefix"' EXIT
	"$py" -m venv --without-pip "$prefix/bare"
	if "$py" -m pip --python "$prefix/bare/bin/python" install --no-index --disable-pip-version-check \
		-q "$whl" 2>"$work/bare.err"; then
		echo "FAIL: the wheel installed without cffi" >&2; exit 1
	fi
	grep -i cffi "$work/bare.err"
	# 4. a venv in another prefix (cffi from the system site), no build tree in sight
	"$py" -m venv --system-site-packages "$prefix/venv"
	"$prefix/venv/bin/python" -m pip install --no-index --no-deps --disable-pip-version-check \
		-q "$whl"
	"$prefix/venv/bin/python" -m pip check --disable-pip-version-check
	cd "$prefix"
	env -u NONROOT_BUILD_DIR -u NONROOT_INCLUDE_DIR -u NONROOT_LIB_DIR -u LD_LIBRARY_PATH \
		-u PYTHONPATH "$prefix/venv/bin/python" - "$prefix" "$build" <<'PY'
import sys
prefix, build = sys.argv[1], sys.argv[2]
import nonroot
assert nonroot.__file__.startswith(prefix + "/venv/"), nonroot.__file__
pw = nonroot.Passwd.parse("root:x:0:0:root:/root:/bin/sh\n")
assert pw.find_name("root").uid == 0
pw.add_user("app", 1654)
assert "app:x:1654:1654" in str(pw)
cfg = nonroot.ImageConfig.parse('{"config": {"User": "0"}}')
assert cfg.user == "0"
maps = open("/proc/self/maps").read()
assert "libnonroot.so" not in maps and build not in maps, "loaded from the build tree"
print("nonroot", nonroot.version(), "from", nonroot.__file__, "ok")
PY
	;;
unittest)
	cd "$work"
	PYTHONPATH=$work/site exec "$py" -m unittest discover -s "$src/python/tests" -v
	;;
*) echo "usage: $0 install|unittest|wheel SRC BUILD WORK" >&2; exit 2 ;;
esac
