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
