# The CFFI extension (nonroot._native) is built by nonroot/_build.py; metadata is in pyproject.toml.
from setuptools import setup

setup(cffi_modules=["nonroot/_build.py:ffibuilder"])
