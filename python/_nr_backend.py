"""In-tree PEP 517 build backend: setuptools, plus a wheel writer for machines without `wheel`.

setuptools < 70.1 needs the separate `wheel` package for bdist_wheel. When `wheel` is importable
every hook is setuptools.build_meta's. When it is not (offline machines with only setuptools and
cffi), build_wheel runs `setup.py build` (which compiles the CFFI module) and zips the result
into a wheel itself: a .dist-info with METADATA, WHEEL and RECORD as the wheel spec (PEP 427)
asks. Nothing here is specific to libnonroot.
"""
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile

from setuptools import build_meta as _st

build_sdist = _st.build_sdist
get_requires_for_build_sdist = _st.get_requires_for_build_sdist

try:
    import wheel  # noqa: F401
    _HAVE_WHEEL = True
except ImportError:
    _HAVE_WHEEL = False

if _HAVE_WHEEL:
    build_wheel = _st.build_wheel
    get_requires_for_build_wheel = _st.get_requires_for_build_wheel
    prepare_metadata_for_build_wheel = _st.prepare_metadata_for_build_wheel
else:
    def get_requires_for_build_wheel(config_settings=None):
        return []

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        return _build_wheel(wheel_directory)


def _tag(files):
    """The wheel tag of what was built: cpXY-abi3-PLAT when the extension is a stable-ABI
    module (cffi builds `_native.abi3.so` on CPython), cpXY-cpXY-PLAT otherwise -- the same
    tags setuptools' bdist_wheel gives with py_limited_api=cpXY (setup.py sets it)."""
    impl = "cp" if sys.implementation.name == "cpython" else sys.implementation.name[:2]
    ver = "%d%d" % sys.version_info[:2]
    abi = impl + ver + getattr(sys, "abiflags", "")
    if any(".abi3." in os.path.basename(p) for p, _data in files):
        abi = "abi3"
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "%s%s-%s-%s" % (impl, ver, abi, plat)


def _requires_dist(requires_txt):
    """Requires-Dist lines from egg_info's requires.txt (no extras are used here)."""
    lines = []
    for line in requires_txt.splitlines():
        line = line.strip()
        if line.startswith("["):
            break       # extras / markers sections: none in this project
        if line:
            lines.append("Requires-Dist: " + line)
    return lines


def _record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _pkg_info(tmp):
    """Run egg_info and return (name, version, PKG-INFO text, top_level)."""
    subprocess.check_call([sys.executable, "setup.py", "-q", "egg_info", "--egg-base", tmp])
    (egg,) = [d for d in os.listdir(tmp) if d.endswith(".egg-info")]
    with open(os.path.join(tmp, egg, "PKG-INFO"), encoding="utf-8") as f:
        text = f.read()
    fields = {}
    for line in text.splitlines():
        if not line:
            break  # the headers end at the first blank line; the description follows
        if not line[0].isspace():
            key, _, value = line.partition(": ")
            fields.setdefault(key, value)
    # egg_info's PKG-INFO leaves the dependencies to requires.txt: a wheel's METADATA must
    # carry them as Requires-Dist, or pip installs the wheel without cffi.
    req = os.path.join(tmp, egg, "requires.txt")
    if os.path.exists(req):
        with open(req, encoding="utf-8") as f:
            extra = _requires_dist(f.read())
        head, sep, body = text.partition("\n\n")
        have = set(l for l in head.splitlines() if l.startswith("Requires-Dist:"))
        extra = [l for l in extra if l not in have]
        if extra:
            text = head + "\n" + "\n".join(extra) + (sep or "\n") + body
    top = os.path.join(tmp, egg, "top_level.txt")
    top_level = open(top, encoding="utf-8").read() if os.path.exists(top) else ""
    return fields["Name"], fields["Version"], text, top_level


def _build_wheel(wheel_directory):
    tmp = tempfile.mkdtemp(prefix="nr-wheel-")
    try:
        name, version, pkg_info, top_level = _pkg_info(tmp)
        lib = os.path.join(tmp, "lib")
        subprocess.check_call([sys.executable, "setup.py", "-q", "build",
                               "--build-base", os.path.join(tmp, "build"), "--build-lib", lib])
        dist = "%s-%s" % (name.replace("-", "_"), version)
        files = []
        for root, _dirs, names in os.walk(lib):
            for n in sorted(names):
                full = os.path.join(root, n)
                files.append((os.path.relpath(full, lib).replace(os.sep, "/"),
                              open(full, "rb").read()))
        tag = _tag(files)
        info = dist + ".dist-info/"
        files.append((info + "METADATA", pkg_info.encode("utf-8")))
        files.append((info + "WHEEL", (
            "Wheel-Version: 1.0\nGenerator: _nr_backend\nRoot-Is-Purelib: false\n"
            "Tag: %s\n" % tag).encode("ascii")))
        if top_level:
            files.append((info + "top_level.txt", top_level.encode("utf-8")))
        record = "".join("%s,%s,%d\n" % (p, _record_hash(d), len(d)) for p, d in files)
        record += info + "RECORD,,\n"
        files.append((info + "RECORD", record.encode("utf-8")))
        wheel_name = "%s-%s.whl" % (dist, tag)
        with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w",
                             zipfile.ZIP_DEFLATED) as zf:
            for path, data in files:
                zi = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
                zi.external_attr = (0o755 if path.endswith(".so") else 0o644) << 16
                zi.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(zi, data)
        return wheel_name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
