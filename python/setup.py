# The CFFI extension (nonroot._native) is built by nonroot/_build.py; metadata is in pyproject.toml.
import sys

from setuptools import setup

options = {}
if sys.implementation.name == "cpython" and not hasattr(sys, "gettotalrefcount"):
    # cffi builds a stable-ABI module (_native.abi3.so) here: tag the wheel cpXY-abi3 to match
    # (what _nr_backend.py does when it writes the wheel itself).
    options["bdist_wheel"] = {"py_limited_api": "cp%d%d" % sys.version_info[:2]}

setup(cffi_modules=["nonroot/_build.py:ffibuilder"], options=options)
