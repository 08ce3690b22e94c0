"""Where the tests find the repository's headers (for the cdef check) and test data."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_SRC = os.path.dirname(HERE)
REPO = os.path.dirname(PYTHON_SRC)
INCLUDE = os.environ.get("NONROOT_INCLUDE_DIR") or os.path.join(REPO, "include")
