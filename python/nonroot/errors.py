"""Exceptions: one class per NR_E* code, all subclasses of NonrootError (like pygit2.errors).

A file or directory that does not exist raises FileNotFound, which is a NotFound and also
Python's FileNotFoundError (an OSError, errno ENOENT, filename = the path); IOFailure is an
OSError too."""
import errno as _errno
from typing import Any, Dict, Optional, Type

from ._native import ffi, lib

__all__ = [
    "NonrootError", "InvalidInput", "NotFound", "OutOfRange", "IOFailure", "OutOfMemory",
    "AlreadyExists", "Conflict", "Unsupported", "DigestMismatch", "TooBig", "PathEscape",
    "InvalidArgument", "FileNotFound", "check",
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

    def __repr__(self) -> str:
        return "nonroot.%s(%r, code=%d, line=%d, column=%d, source=%r)" % (
            type(self).__name__, self.message, self.code, self.line, self.column, self.source)


class InvalidInput(NonrootError, ValueError):
    """Malformed input (NR_EINVALID): a file, JSON or value that does not parse; also a ValueError."""

    code = lib.NR_EINVALID


class NotFound(NonrootError, LookupError):
    """Something looked up does not exist (NR_ENOTFOUND); also a LookupError."""

    code = lib.NR_ENOTFOUND


class OutOfRange(NonrootError, ValueError):
    """A number outside its range (NR_ERANGE); also a ValueError."""

    code = lib.NR_ERANGE


class IOFailure(NonrootError, OSError):
    """A system call failed (NR_EIO); also an OSError."""

    code = lib.NR_EIO


class OutOfMemory(NonrootError, MemoryError):
    """An allocation failed (NR_ENOMEM); also a MemoryError."""

    code = lib.NR_ENOMEM


class AlreadyExists(NonrootError):
    """The thing to create exists already (NR_EEXISTS)."""

    code = lib.NR_EEXISTS


class Conflict(NonrootError):
    """The change conflicts with what is there (NR_ECONFLICT), e.g. an id in use."""

    code = lib.NR_ECONFLICT


class Unsupported(NonrootError):
    """A feature or format not supported (NR_EUNSUPPORTED)."""

    code = lib.NR_EUNSUPPORTED


class DigestMismatch(NonrootError):
    """A blob's content does not match its digest (NR_EDIGEST)."""

    code = lib.NR_EDIGEST


class TooBig(NonrootError):
    """An input above its size limit (NR_ETOOBIG)."""

    code = lib.NR_ETOOBIG


class PathEscape(NonrootError):
    """A path that would leave the root filesystem (NR_EESCAPE)."""

    code = lib.NR_EESCAPE


class InvalidArgument(NonrootError, ValueError):
    """A bad argument to a function (NR_EARG); also a ValueError."""

    code = lib.NR_EARG


class FileNotFound(NotFound, FileNotFoundError):
    """A file or directory that does not exist: a NotFound and a FileNotFoundError (errno
    ENOENT, filename: the path)."""

    def __init__(self, message: str, code: Optional[int] = None, line: int = 0,
                 column: int = 0, source: str = "") -> None:
        super().__init__(message, code, line, column, source)
        self.errno = _errno.ENOENT
        self.strerror = message
        self.filename = source or None


for _cls in (NonrootError, FileNotFound, InvalidInput, NotFound, OutOfRange, IOFailure, OutOfMemory,
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
    code = int(err.code) if err.code else rc
    message = ffi.string(err.message).decode("utf-8", "replace")
    if not message:
        message = ffi.string(lib.nr_strerror(code)).decode("utf-8", "replace")
    cls = _BY_CODE.get(code, NonrootError)
    source = ffi.string(err.source).decode("utf-8", "replace")
    return cls(str(message), code=code, line=int(err.line), column=int(err.column),
               source=str(source))


def check(rc: int, err: Any) -> int:
    """Raise the exception for a negative return code; return rc otherwise."""
    if rc < 0:
        raise error_from(rc, err)
    return rc
