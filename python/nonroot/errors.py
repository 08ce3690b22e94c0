"""Exceptions: one class per NR_E* code, all subclasses of NonrootError (like pygit2.errors)."""
from typing import Any, Dict, Optional, Type

from ._native import ffi, lib

__all__ = [
    "NonrootError", "InvalidInput", "NotFound", "OutOfRange", "IOFailure", "OutOfMemory",
    "AlreadyExists", "Conflict", "Unsupported", "DigestMismatch", "TooBig", "PathEscape",
    "InvalidArgument", "check",
]


class NonrootError(Exception):
    """A libnonroot failure. code is the NR_E* value (negative); line and column are 1-based
    positions in the input (0 when not applicable); source names the file, field or digest."""

    code: int = lib.NR_ERROR

    def __init__(self, message: str, code: Optional[int] = None, line: int = 0,
                 column: int = 0, source: str = "") -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.line = line
        self.column = column
        self.source = source

    def __str__(self) -> str:
        where = self.source
        if self.line:
            where += ":%d" % self.line
            if self.column:
                where += ":%d" % self.column
        return "%s: %s" % (where, self.message) if where else self.message


class InvalidInput(NonrootError, ValueError):
    code = lib.NR_EINVALID


class NotFound(NonrootError, LookupError):
    code = lib.NR_ENOTFOUND


class OutOfRange(NonrootError, ValueError):
    code = lib.NR_ERANGE


class IOFailure(NonrootError):
    code = lib.NR_EIO


class OutOfMemory(NonrootError, MemoryError):
    code = lib.NR_ENOMEM


class AlreadyExists(NonrootError):
    code = lib.NR_EEXISTS


class Conflict(NonrootError):
    code = lib.NR_ECONFLICT


class Unsupported(NonrootError):
    code = lib.NR_EUNSUPPORTED


class DigestMismatch(NonrootError):
    code = lib.NR_EDIGEST


class TooBig(NonrootError):
    code = lib.NR_ETOOBIG


class PathEscape(NonrootError):
    code = lib.NR_EESCAPE


class InvalidArgument(NonrootError, ValueError):
    code = lib.NR_EARG


for _cls in (NonrootError, InvalidInput, NotFound, OutOfRange, IOFailure, OutOfMemory,
             AlreadyExists, Conflict, Unsupported, DigestMismatch, TooBig, PathEscape,
             InvalidArgument):
    _cls.__module__ = "nonroot"  # shown as nonroot.NotFound in tracebacks

_BY_CODE: Dict[int, Type[NonrootError]] = {
    cls.code: cls for cls in (InvalidInput, NotFound, OutOfRange, IOFailure, OutOfMemory,
                              AlreadyExists, Conflict, Unsupported, DigestMismatch, TooBig,
                              PathEscape, InvalidArgument)
}


def new_error() -> Any:
    """A fresh nr_error (NR_ERROR_INIT) to pass to a call."""
    return ffi.new("nr_error *")


def error_from(rc: int, err: Any) -> NonrootError:
    """The exception for return code rc with the details in err (an nr_error *)."""
    code = err.code if err.code else rc
    message = ffi.string(err.message).decode("utf-8", "replace")
    if not message:
        message = ffi.string(lib.nr_strerror(code)).decode("utf-8", "replace")
    cls = _BY_CODE.get(code, NonrootError)
    return cls(message, code=code, line=err.line, column=err.column,
               source=ffi.string(err.source).decode("utf-8", "replace"))


def check(rc: int, err: Any) -> int:
    """Raise the exception for a negative return code; return rc otherwise."""
    if rc < 0:
        raise error_from(rc, err)
    return rc
