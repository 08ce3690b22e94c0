# Type stub for the CFFI extension module that setup.py builds (_native.abi3.so): mypy checks
# the package from a source tree where the extension may not be built yet.
from typing import Any

ffi: Any
lib: Any
