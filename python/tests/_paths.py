"""Where the tests find the repository's headers (for the cdef check) and test data."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_SRC = os.path.dirname(HERE)
REPO = os.path.dirname(PYTHON_SRC)
INCLUDE = os.environ.get("NONROOT_INCLUDE_DIR") or os.path.join(REPO, "include")
DATA = os.environ.get("NR_TEST_DATA") or os.path.join(REPO, "tests", "data")


def cases(kind):
    """(name, directory) of every case under tests/data/<kind>, sorted."""
    base = os.path.join(DATA, kind)
    if not os.path.isdir(base):
        return []
    return [(n, os.path.join(base, n)) for n in sorted(os.listdir(base))
            if os.path.isdir(os.path.join(base, n))]


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()

SRC = os.environ.get("NR_SRC") or REPO


def build_test_image(tmp, archive=True):
    """A rootful busybox image built with umoci by tests/e2e/lib.sh (the e2e helpers):
    oci:TMP/layout:latest and, with archive, oci-archive:TMP/image.tar. Returns the layout
    reference, or None when the tools (umoci, skopeo, busybox-static) are missing."""
    import shutil
    import subprocess
    lib = os.path.join(SRC, "tests", "e2e", "lib.sh")
    if not (os.path.exists(lib) and shutil.which("umoci") and shutil.which("skopeo")):
        return None
    script = ('. "$1"; e2e_init; e2e_build_rootful "$2/layout:latest"; '
              'if [ "$3" = 1 ]; then e2e_convert "oci:$2/layout:latest" '
              '"oci-archive:$2/image.tar:latest"; fi')
    env = dict(os.environ, TMPDIR=tmp, E2E_KEEP="1")
    r = subprocess.run(["bash", "-c", script, "build", lib, tmp, "1" if archive else "0"],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("building the test image failed:\n" + r.stdout + r.stderr)
    return "oci:" + os.path.join(tmp, "layout") + ":latest"


def pending(test, fn, *args, **kw):
    """fn(*args, **kw), but skip the test (never pass it) while the library reports the
    feature as not there yet (NR_EUNSUPPORTED "... not implemented yet/not available yet")."""
    import nonroot
    try:
        return fn(*args, **kw)
    except nonroot.Unsupported as e:
        if "not implemented yet" in str(e) or "not available yet" in str(e):
            test.skipTest("library: " + str(e))
        raise
